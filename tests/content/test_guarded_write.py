"""The guarded write of an edit (:mod:`trovato.content.guarded_write`): one statement for the
row, its revision and the audit entry; refused (409, nothing written) when the row moved on
or its type's fields changed since; its cache-tag notice sent only when it commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from tests.content.conftest import ARTICLE, plugin_taps
from trovato.content.items import HookContext, Item, ItemError, ItemHookError, ItemHooks
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.observability.profiler import Profile, current_profile
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import PermissionRegistry


@pytest.fixture
async def article(content: ContentServices) -> None:
    await content.types.create(ARTICLE)


class _RefusingUpdates(ItemHooks):
    """A plugin's ``item_update`` tap refusing every update (the save rolls back)."""

    async def update(self, item: Item, original: Item, ctx: HookContext) -> None:
        raise ItemHookError("guard", "update refused")


async def test_an_edit_of_the_item_as_read_writes_in_one_statement_guarded_by_its_revision(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
) -> None:
    item = await content.items.create(
        admin, "article", title="Start", fields={"field_body": {"value": "x"}})
    read = await content.query.load(admin, item.id)
    profile = Profile()
    token = current_profile.set(profile)
    try:
        first = await content.items.update(admin, read, title="First",
                                           expected_revision=item.revision_id)
    finally:
        current_profile.reset(token)
    # One statement: the row, its revision and the audit entry (the type is the process
    # cache's, checked by the write's field guard).
    assert profile.db_count == 1
    assert first.revision_id not in (None, item.revision_id)
    stored = await content.query.load(admin, item.id)
    assert (stored.title, stored.revision_id) == ("First", first.revision_id)
    assert await database.fetchval(
        "SELECT title FROM item_revision WHERE id = %s", (first.revision_id,)) == "First"
    assert await database.fetchval(
        "SELECT count(*) FROM watchdog WHERE type = 'content' AND message LIKE '%% updated.'"
        " AND variables->>'id' = %s", (str(item.id),)) == 1
    # The same read again is stale now: refused, naming where the item is, nothing written.
    with pytest.raises(ItemError) as conflict:
        await content.items.update(admin, read, title="Second")
    assert conflict.value.status == 409
    assert conflict.value.errors == {"current_revision": str(first.revision_id)}
    assert (await content.query.load(admin, item.id)).title == "First"
    assert await database.fetchval("SELECT count(*) FROM item_revision") == 2
    assert await database.fetchval(
        "SELECT count(*) FROM watchdog WHERE message LIKE '%% updated.'") == 1


async def test_an_edit_validated_against_a_type_changed_before_its_write_is_refused(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
) -> None:
    """An edit takes the type from the process cache, which another process's change leaves
    stale until its message arrives: a type change that removed a field (and its data from the
    rows) must not be written over. The refusal makes the cache read the types again, so the
    next try is made against the new type."""
    item = await content.items.create(admin, "article", title="Start",
                                      fields={"field_count": {"value": 3}})
    read = await content.query.load(admin, item.id)
    assert (await content.types.get_cached("article")) is not None  # cached here
    elsewhere = await ContentServices.start(database, PermissionRegistry())  # no pub/sub
    fewer = {**ARTICLE, "fields": [f for f in ARTICLE["fields"] if f["name"] != "field_count"]}
    await elsewhere.types.update("article", fewer)
    stale = await content.types.get_cached("article")
    assert stale is not None and stale.field("field_count") is not None
    with pytest.raises(ItemError) as refused:
        await content.items.update(admin, read, title="Late",
                                   fields={"field_count": {"value": 4}})
    assert refused.value.status == 409 and "changed while this edit" in refused.value.message
    stored = await content.query.load(admin, item.id)
    assert (stored.title, stored.fields) == ("Start", {})
    assert await database.fetchval("SELECT count(*) FROM item_revision") == 1
    fresh = await content.types.get_cached("article")
    assert fresh is not None and fresh.field("field_count") is None
    saved = await content.items.update(admin, stored, title="Again")
    assert saved.title == "Again"


async def test_an_edit_validated_against_field_settings_changed_before_its_write_is_refused(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
) -> None:
    """A change that keeps every field but changes one's settings (here a lower maximum)
    made in another process before the write: the value checked against the old settings is
    not written; the next try is checked against the new ones."""
    item = await content.items.create(admin, "article", title="Start")
    read = await content.query.load(admin, item.id)
    assert (await content.types.get_cached("article")) is not None  # cached here
    elsewhere = await ContentServices.start(database, PermissionRegistry())  # no pub/sub
    lower = {**ARTICLE, "fields": [
        {**f, "settings": {"min": 0, "max": 2}} if f["name"] == "field_count" else f
        for f in ARTICLE["fields"]]}
    await elsewhere.types.update("article", lower)
    with pytest.raises(ItemError) as refused:
        await content.items.update(admin, read, title="Late",
                                   fields={"field_count": {"value": 7}})
    assert refused.value.status == 409 and "changed while this edit" in refused.value.message
    assert (await content.query.load(admin, item.id)).title == "Start"
    with pytest.raises(ItemError) as invalid:  # checked against the new maximum now
        await content.items.update(admin, read, title="Again",
                                   fields={"field_count": {"value": 7}})
    assert invalid.value.status == 422 and "fields.field_count" in (invalid.value.errors or {})
    saved = await content.items.update(admin, read, title="Again",
                                       fields={"field_count": {"value": 2}})
    assert saved.fields["field_count"] == {"value": 2}


async def test_an_edit_validated_against_field_storage_changed_before_its_write_is_refused(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
) -> None:
    """A field's storage (shared by every type using its name) given fewer values in another
    process: three values checked against the old limit are not written."""
    item = await content.items.create(admin, "article", title="Start")
    read = await content.query.load(admin, item.id)
    assert (await content.types.get_cached("article")) is not None  # cached here
    elsewhere = await ContentServices.start(database, PermissionRegistry())  # no pub/sub
    fewer = {**ARTICLE, "fields": [
        {**f, "cardinality": 2} if f["name"] == "field_tags" else f for f in ARTICLE["fields"]]}
    await elsewhere.types.update("article", fewer)
    tags = [{"value": name} for name in ("a", "b", "c")]
    with pytest.raises(ItemError) as refused:
        await content.items.update(admin, read, fields={"field_tags": tags})
    assert refused.value.status == 409 and "changed while this edit" in refused.value.message
    with pytest.raises(ItemError) as invalid:  # checked against the new limit now
        await content.items.update(admin, read, fields={"field_tags": tags})
    assert invalid.value.status == 422
    assert (await content.query.load(admin, item.id)).fields == {}


async def test_a_type_saved_again_unchanged_leaves_the_edits_open_on_it(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
) -> None:
    item = await content.items.create(admin, "article", title="Start")
    read = await content.query.load(admin, item.id)
    before = await content.types.get("article")
    elsewhere = await ContentServices.start(database, PermissionRegistry())
    await elsewhere.types.update("article", ARTICLE)  # every field written as it was
    after = await content.types.get("article")
    assert before is not None and after is not None
    assert (after.fields_version, after.storage_version) == (before.fields_version,
                                                              before.storage_version)
    assert (await content.items.update(admin, read, title="Saved")).title == "Saved"


class NoticingInvalidation:
    """An invalidation whose message rides in the write's statement as a notification on
    ``channel``; records what it was asked to do after each commit."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.done: list[tuple[str, list[str]]] = []

    async def __call__(self, tags: Iterable[str]) -> None:
        self.done.append(("everywhere", list(tags)))

    def notice(self, tags: Iterable[str]) -> tuple[str, str]:
        return self.channel, " ".join(tags)

    async def here(self, tags: Iterable[str]) -> None:
        self.done.append(("here", list(tags)))


async def test_an_edit_tells_the_other_processes_in_its_own_statement_once_committed(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
    db_url: str,
) -> None:
    """The cache-tag message of an edit is a notification sent by the write's statement:
    delivered when the save commits, never when it rolls back (a hook refusing it); this
    process drops the tags itself after the commit, and sends no statement of its own."""
    item = await content.items.create(admin, "article", title="Hi")
    invalidation = NoticingInvalidation("trovato_test_notice")
    content.items.invalidate = invalidation
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as listener:
        await listener.execute("LISTEN trovato_test_notice")
        content.items.hooks = _RefusingUpdates()
        with pytest.raises(ItemHookError):
            await content.items.update(admin, item.id, title="Refused")
        content.items.hooks = ItemHooks()
        profile = Profile()
        token = current_profile.set(profile)
        try:
            await content.items.update(admin, item.id, title="Saved")
        finally:
            current_profile.reset(token)
        tags = [f"item:{item.id}", "item_list:article"]
        assert invalidation.done == [("here", tags)]
        got = [n.payload async for n in listener.notifies(timeout=2.0, stop_after=2)]
    assert got == [" ".join(tags)]  # the refused save's never came
    # The item locked and read, the write (the row, its revision, the audit entry and the
    # notification): nothing else.
    assert profile.db_count == 2


class _Counting:
    """Which of the pool's two ways to write an edit took it (wrapping the real ones)."""

    def __init__(self, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.used: list[str] = []
        for name in ("transaction", "one_statement"):
            monkeypatch.setattr(database, name, self._wrap(name, getattr(database, name)))

    def _wrap(self, name: str, real: Callable[[], Any]) -> Callable[[], Any]:
        def counted() -> Any:
            self.used.append(name)
            return real()
        return counted


class _WatchingUpdates(ItemHooks):
    """A plugin's ``item_update`` tap, noting whether it runs inside the save's transaction."""

    def __init__(self) -> None:
        self.statuses: list[TransactionStatus] = []

    async def update(self, item: Item, original: Item, ctx: HookContext) -> None:
        self.statuses.append(ctx.conn.info.transaction_status)


async def test_an_edit_that_is_its_statement_alone_opens_no_transaction(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing but the guarded statement writes (no extension acts on the save, no field
    writes beside it): the statement is its own transaction, without BEGIN and COMMIT."""
    item = await content.items.create(admin, "article", title="Start")
    counting = _Counting(database, monkeypatch)
    saved = await content.items.update(admin, await content.query.load(admin, item.id),
                                       title="Alone")
    assert counting.used == ["one_statement"]
    assert await database.fetchval(
        "SELECT title FROM item_revision WHERE id = %s", (saved.revision_id,)) == "Alone"
    # An item given by id is read locked, in a transaction.
    counting.used.clear()
    await content.items.update(admin, item.id, title="By id")
    assert counting.used == ["transaction"]
    # An extension acting on the save runs inside its transaction, where it may write.
    watching = _WatchingUpdates()
    content.items.hooks = watching
    counting.used.clear()
    await content.items.update(admin, await content.query.load(admin, item.id),
                               title="Watched")
    assert counting.used == ["transaction"]
    assert watching.statuses == [TransactionStatus.INTRANS]


@pytest.mark.parametrize("field", [
    {"name": "field_picture", "type": "image", "label": "Picture"},
    {"name": "field_topics", "type": "reference", "label": "Topics", "cardinality": -1,
     "settings": {"target_type": "category_tag"}},
])
async def test_an_edit_of_a_type_whose_fields_write_beside_it_keeps_its_transaction(
    content: ContentServices, admin: CurrentUser, database: Database,
    monkeypatch: pytest.MonkeyPatch, field: dict[str, Any],
) -> None:
    """File usage and tags created by name are written beside the item: in its transaction."""
    await content.types.create({**ARTICLE, "fields": [*ARTICLE["fields"], field]})
    item = await content.items.create(admin, "article", title="Start")
    counting = _Counting(database, monkeypatch)
    await content.items.update(admin, await content.query.load(admin, item.id), title="Next")
    assert counting.used == ["transaction"]


def test_hooks_act_on_updates_when_they_implement_them() -> None:
    from trovato.content.taps import PluginItemHooks

    class Presaving(ItemHooks):
        async def presave(self, item: Item, original: Item | None, ctx: HookContext) -> Item:
            return item

    assert not ItemHooks().acts_on_update()
    assert Presaving().acts_on_update() and _WatchingUpdates().acts_on_update()
    # A plugin dispatcher acts only while some plugin implements one of the two taps.
    for taps, acts in ((("item_presave",), True), (("item_update",), True),
                       (("item_insert", "item_access"), False), ((), False)):
        hooks = PluginItemHooks(plugin_taps(taps))
        assert hooks.acts_on_update() is acts, taps

