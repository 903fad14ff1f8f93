"""An item's revisions (:mod:`trovato.content.revisions`): the list, one revision, the two a
comparison shows, and reverting to one — with the revision permissions and the item's access."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from tests.content.conftest import ARTICLE, MakeUser
from trovato.content.model import ItemError
from trovato.content.services import ContentServices
from trovato.ids import uuid7
from trovato.users.accounts import CurrentUser


@pytest.fixture
async def article(content: ContentServices) -> None:
    await content.types.create(ARTICLE)


async def test_revisions_and_revert(content: ContentServices, admin: CurrentUser,
                                    article: None) -> None:
    item = await content.items.create(admin, "article", title="v1",
                                      fields={"field_count": {"value": 1}}, log="one")
    await content.items.update(admin, item.id, title="v2", fields={"field_count": {"value": 2}},
                               log="two")
    revisions = await content.items.revisions.history(admin, item.id)
    assert [r.log for r in revisions] == ["two", "one"]
    assert revisions[0].public().keys() == {"id", "created", "author_id", "title", "log"}
    first = revisions[1]
    loaded = await content.items.revisions.load(admin, item.id, first.id)
    assert loaded.fields == {"field_count": {"value": 1}}
    reverted = await content.items.revisions.revert(admin, item.id, first.id)
    assert reverted.title == "v1" and reverted.fields == {"field_count": {"value": 1}}
    revisions = await content.items.revisions.history(admin, item.id)
    assert len(revisions) == 3
    # A date-time people read, in the reverting user's zone, which it names (others read it
    # in theirs).
    when = first.created.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M")
    assert revisions[0].log == f"Reverted to the revision of {when} UTC."
    berliner = replace(admin, timezone="Europe/Berlin")
    again = await content.items.revisions.revert(berliner, item.id, first.id)
    log = (await content.items.revisions.history(admin, again.id))[0].log
    when = first.created.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M %Z")
    assert log == f"Reverted to the revision of {when}."
    assert reverted.revision_id == revisions[0].id
    with pytest.raises(ItemError) as caught:
        await content.items.revisions.revert(admin, item.id, uuid7())
    assert caught.value.status == 404


async def test_a_comparison_shows_the_older_revision_first_whichever_way_it_is_asked(
    content: ContentServices, admin: CurrentUser, article: None, make_user: MakeUser,
) -> None:
    item = await content.items.create(admin, "article", title="v1", log="one")
    await content.items.update(admin, item.id, title="v2", log="two")
    newer, older = await content.items.revisions.history(admin, item.id)
    for asked in ((older.id, newer.id), (newer.id, older.id)):
        old, new = await content.items.revisions.compare(admin, item.id, *asked)
        assert (old.title, new.title) == ("v1", "v2")
    # Each side is a revision of this item the user may view, or nothing is compared.
    other = await content.items.create(admin, "article", title="other")
    with pytest.raises(ItemError) as caught:
        await content.items.revisions.compare(admin, item.id, older.id, other.revision_id or "")
    assert caught.value.status == 404
    reader = await make_user("reader", ["access content"])
    with pytest.raises(ItemError) as caught:
        await content.items.revisions.compare(reader, item.id, older.id, newer.id)
    assert caught.value.status == 403
