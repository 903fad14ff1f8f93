"""Access rules: role permissions, plugin votes (deny wins, then grant), listing visibility
in SQL, and the 404/403 distinction."""

from __future__ import annotations

import pytest

from tests.content.conftest import ANONYMOUS, ARTICLE, MakeUser
from trovato.content.access import (
    Vote,
    item_access,
    role_access,
    scope_condition,
    visibility_scope,
)
from trovato.content.items import Item, ItemError, ItemHooks
from trovato.content.services import ContentServices
from trovato.db.compiled import sql_text
from trovato.db.tables import ITEM
from trovato.ids import NIL, uuid7
from trovato.users.accounts import CurrentUser


def _item(author: CurrentUser | None = None, status: int = 1) -> Item:
    return Item(id=uuid7(), type="article", title="x",
                author_id=author.id if author else uuid7(), status=status)


def _user(*permissions: str, admin: bool = False) -> CurrentUser:
    return CurrentUser(id=uuid7(), name="u", is_admin=admin, permissions=frozenset(permissions))


def test_role_rules() -> None:
    reader = _user("access content")
    author = _user("access content", "edit own article content", "delete own article content")
    editor = _user("access content", "edit any article content")
    draft_of_author = _item(author, status=0)
    assert role_access(reader, _item(), "view")
    assert not role_access(reader, _item(status=0), "view")
    assert role_access(author, draft_of_author, "view")  # authors see their drafts
    assert role_access(author, draft_of_author, "update")
    assert not role_access(author, _item(), "update")
    assert role_access(editor, _item(), "update")
    assert not role_access(editor, _item(), "delete")
    assert role_access(_user("view unpublished content", "access content"),
                       _item(status=0), "view")
    assert not role_access(_user(), _item(), "view")  # no "access content" at all
    assert role_access(_user("administer content"), _item(status=0), "delete")
    assert not role_access(_user("create page content"), _item(), "create")
    assert role_access(_user("create article content"), _item(), "create")
    # The anonymous user owns nothing, even an item with the nil author.
    anonymous_item = Item(id=uuid7(), type="article", title="x", author_id=NIL, status=0)
    assert not role_access(ANONYMOUS, anonymous_item, "view")


class Voter(ItemHooks):
    def __init__(self, vote: Vote) -> None:
        self.vote = vote
        self.asked: list[str] = []

    def reads_items(self) -> bool:
        return True

    async def access(self, item: Item, op: str, user: CurrentUser) -> Vote:  # type: ignore[override]
        self.asked.append(op)
        return self.vote


async def test_votes() -> None:
    reader = _user("access content", "administer content")
    assert not await item_access(reader, _item(), "view", Voter(Vote.DENY))  # deny wins
    nobody = _user()
    assert await item_access(nobody, _item(status=0), "update", Voter(Vote.GRANT))
    assert await item_access(reader, _item(), "view", Voter(Vote.NEUTRAL))
    superuser = _user(admin=True)
    voter = Voter(Vote.DENY)
    assert await item_access(superuser, _item(), "delete", voter)
    assert voter.asked == []  # the site's superuser is never asked about


async def test_no_vote_is_asked_while_no_plugin_votes() -> None:
    class Quiet(Voter):
        def reads_items(self) -> bool:
            return False

    quiet = Quiet(Vote.DENY)
    reader = _user("access content")
    # The role rule decides, as if every vote were neutral: the denial is never cast.
    assert await item_access(reader, _item(), "view", quiet)
    assert not await item_access(reader, _item(), "update", quiet)
    assert quiet.asked == []


def _scope_sql(user: CurrentUser) -> str:
    return sql_text(scope_condition(visibility_scope(user), ITEM.alias("i")))


def test_listing_visibility_sql() -> None:
    assert _scope_sql(ANONYMOUS) == "i.status = 1"
    assert _scope_sql(_user("access content")) == (
        "i.status = 1 OR i.author_id = %(viewer)s::UUID")
    assert _scope_sql(_user("view unpublished content")) == "true"


async def test_service_uses_votes(content: ContentServices, admin: CurrentUser,
                                  make_user: MakeUser) -> None:
    await content.types.create(ARTICLE)
    item = await content.items.create(admin, "article", title="x")
    draft = await content.items.create(admin, "article", title="d", status=0)
    reader = await make_user("reader", ["access content"])
    content.items.hooks = Voter(Vote.DENY)
    with pytest.raises(ItemError) as caught:
        await content.query.load(reader, item.id)
    assert caught.value.status == 403
    assert await content.query.load_many(reader, [item.id]) == []
    content.items.hooks = Voter(Vote.GRANT)
    assert (await content.query.load(reader, draft.id)).title == "d"
    content.items.hooks = ItemHooks()
    with pytest.raises(ItemError) as caught:
        await content.query.load(reader, draft.id)
    assert caught.value.status == 404
    with pytest.raises(ItemError) as caught:
        await content.items.revisions.history(reader, item.id)
    assert caught.value.status == 403 and "view revisions" in caught.value.message
    with pytest.raises(ItemError) as caught:
        await content.query.list(await make_user("nobody"))
    assert caught.value.status == 403


async def test_permissions_follow_other_processes(content: ContentServices) -> None:
    """A second service (another process) learns about a new type through refresh."""
    from trovato.users.permissions import PermissionRegistry

    other_registry = PermissionRegistry()
    other = await ContentServices.start(content.types.db, other_registry)
    await content.types.create(ARTICLE)
    assert "create article content" not in other_registry
    await other.types.refresh_permissions({"event": "changed"})
    assert "create article content" in other_registry
