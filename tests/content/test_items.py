"""The content service: CRUD, hooks inside the transaction, listings, references,
text-format permissions and stage-aware reads (an item's revisions: ``test_revisions.py``; the
guarded statement of an edit: ``test_guarded_write.py``)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from tests.content.conftest import ANONYMOUS, ARTICLE, MakeUser
from trovato.content.items import HookContext, Item, ItemError, ItemHookError, ItemHooks
from trovato.content.services import ContentServices
from trovato.content.statements import Listing, listing_sql
from trovato.db.pool import Database
from trovato.ids import uuid7
from trovato.observability.log_reader import fill_message
from trovato.observability.profiler import Profile, current_profile
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import PermissionRegistry


@pytest.fixture
async def article(content: ContentServices) -> None:
    await content.types.create(ARTICLE)


async def test_create_load_update_delete(content: ContentServices, admin: CurrentUser,
                                         article: None, database: Database) -> None:
    item = await content.items.create(
        admin, "article", title="Hello", status=1,
        fields={"field_body": {"value": "<p>Hi</p>", "format": "filtered_html"},
                "field_count": {"value": 3}, "field_tags": [{"value": "a"}, {"value": "b"}]},
        log="first",
    )
    assert item.created is not None and item.revision_id is not None
    public = item.public()
    assert set(public) == {"id", "type", "title", "status", "promote", "sticky", "author_id",
                           "created", "changed", "revision_id", "stage", "fields"}
    assert public["stage"] == "live" and public["author_id"] == str(admin.id)
    loaded = await content.query.load(admin, str(item.id))
    assert loaded == item

    updated = await content.items.update(admin, item.id, title="Hello again",
                                         fields={"field_count": None,
                                                 "field_tags": [{"value": "c"}]},
                                         log="second")
    assert updated.title == "Hello again"
    assert updated.fields == {"field_body": {"value": "<p>Hi</p>", "format": "filtered_html"},
                              "field_tags": [{"value": "c"}]}
    assert updated.revision_id != item.revision_id
    assert updated.changed is not None and item.changed is not None
    assert updated.changed >= item.changed

    deleted = await content.items.delete(admin, item.id)
    assert deleted.id == item.id
    with pytest.raises(ItemError) as caught:
        await content.query.load(admin, item.id)
    assert caught.value.status == 404
    assert await database.fetchval("SELECT count(*) FROM item_revision") == 0
    audit_rows = await database.fetch(
        "SELECT message, variables FROM watchdog WHERE type = 'content' ORDER BY created")
    # The type's label, the title quoted (not "Created article Hello.").
    assert [fill_message(r["message"], r["variables"]) for r in audit_rows][-3:] == [
        "Article “Hello” created.", "Article “Hello again” updated.",
        "Article “Hello again” deleted."]


async def test_an_update_from_an_old_revision_is_a_conflict(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
) -> None:
    item = await content.items.create(
        admin, "article", title="Start", fields={"field_body": {"value": "x"}})
    first = await content.items.update(admin, item.id, title="First",
                                       expected_revision=item.revision_id)
    with pytest.raises(ItemError) as conflict:
        await content.items.update(admin, item.id, title="Second",
                                   expected_revision=item.revision_id)
    assert conflict.value.status == 409 and "changed by someone else" in conflict.value.message
    assert (await content.query.load(admin, item.id)).title == "First"
    assert await database.fetchval("SELECT count(*) FROM item_revision") == 2
    assert (await content.items.update(admin, item.id, title="Third",
                                       expected_revision=first.revision_id)).title == "Third"


async def test_an_edit_of_the_item_as_read_still_checks_update_access(
    content: ContentServices, admin: CurrentUser, article: None, make_user: MakeUser,
) -> None:
    item = await content.items.create(admin, "article", title="Start")
    reader = await make_user("reader", ["access content"])
    read = await content.query.load(reader, item.id)
    with pytest.raises(ItemError) as refused:
        await content.items.update(reader, read, title="Mine")
    assert refused.value.status == 403
    assert (await content.query.load(admin, item.id)).title == "Start"


async def test_validation_errors(content: ContentServices, admin: CurrentUser,
                                 article: None) -> None:
    with pytest.raises(ItemError) as caught:
        await content.items.create(admin, "article", title="", status=2, fields={
            "field_count": {"value": 11}, "field_nope": {"value": 1}})
    assert caught.value.status == 422
    assert caught.value.errors == {
        "title": "is required",
        "status": "must be 0 (unpublished) or 1 (published)",
        "fields.field_count": "must be at most 10",
        "fields.field_nope": "unknown field",
    }
    with pytest.raises(ItemError) as caught:
        await content.items.create(admin, "missing", title="x")
    assert caught.value.errors == {"type": "unknown item type"}
    with pytest.raises(ItemError) as caught:
        await content.query.load(admin, "not-a-uuid")
    assert caught.value.status == 404


class RecordingHooks(ItemHooks):
    def __init__(self, database: Database, fail: str | None = None) -> None:
        self.calls: list[str] = []
        self.database = database
        self.fail = fail

    async def _seen(self, name: str, item: Item, ctx: HookContext) -> None:
        self.calls.append(name)
        # Inside the transaction, the hook sees the item as written so far …
        cur = await ctx.conn.execute("SELECT count(*) AS n FROM item WHERE id = %s",
                                     (item.id,))
        row = await cur.fetchone()
        self.calls.append(f"{name}:rows={row['n'] if row else '?'}")
        # … while another connection does not (nothing is committed yet).
        outside = await self.database.fetchval("SELECT count(*) FROM item_revision"
                                               " WHERE item_id = %s", (item.id,))
        self.calls.append(f"{name}:outside={outside}")
        if self.fail == name:
            raise ItemHookError("guard", f"{name} refused")

    async def presave(self, item: Item, original: Item | None, ctx: HookContext) -> Item:
        await self._seen("presave", item, ctx)
        return _with_title(item, item.title + "!")

    async def insert(self, item: Item, ctx: HookContext) -> None:
        await self._seen("insert", item, ctx)

    async def update(self, item: Item, original: Item, ctx: HookContext) -> None:
        assert original.title != item.title
        await self._seen("update", item, ctx)

    async def delete(self, item: Item, ctx: HookContext) -> None:
        await self._seen("delete", item, ctx)


def _with_title(item: Item, title: str) -> Item:

    return replace(item, title=title)


async def test_hooks_fire_in_order_inside_the_transaction(
    content: ContentServices, admin: CurrentUser, article: None, database: Database
) -> None:
    hooks = RecordingHooks(database)
    content.items.hooks = hooks
    item = await content.items.create(admin, "article", title="Hi")
    assert item.title == "Hi!"  # presave changed it, and that is what was stored
    await content.items.update(admin, item.id, title="Bye")
    await content.items.delete(admin, item.id)
    assert hooks.calls == [
        "presave", "presave:rows=0", "presave:outside=0",
        "insert", "insert:rows=1", "insert:outside=0",
        "presave", "presave:rows=1", "presave:outside=1",
        "update", "update:rows=1", "update:outside=1",
        "delete", "delete:rows=1", "delete:outside=2",
    ]


@pytest.mark.parametrize("failing", ["presave", "insert"])
async def test_failing_hook_rolls_the_create_back(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
    failing: str,
) -> None:
    content.items.hooks = RecordingHooks(database, fail=failing)
    with pytest.raises(ItemHookError) as caught:
        await content.items.create(admin, "article", title="Hi")
    assert caught.value.status == 422 and "'guard'" in caught.value.message
    assert caught.value.errors == {"plugin": f"guard: {failing} refused"}
    assert await database.fetchval("SELECT count(*) FROM item") == 0
    assert await database.fetchval("SELECT count(*) FROM item_revision") == 0
    assert await database.fetchval("SELECT count(*) FROM watchdog WHERE type = 'content'"
                                   " AND variables->>'title' = 'Hi!'") == 0


async def test_failing_hook_rolls_update_and_delete_back(
    content: ContentServices, admin: CurrentUser, article: None, database: Database
) -> None:
    item = await content.items.create(admin, "article", title="Hi")
    content.items.hooks = RecordingHooks(database, fail="update")
    for target in (item.id, await content.query.load(admin, item.id)):
        with pytest.raises(ItemHookError):
            await content.items.update(admin, target, title="Changed")
        assert (await content.query.load(admin, item.id)).title == "Hi"
        assert await database.fetchval("SELECT count(*) FROM item_revision") == 1
        assert await database.fetchval(
            "SELECT count(*) FROM watchdog WHERE message LIKE '%% updated.'") == 0
    content.items.hooks = RecordingHooks(database, fail="delete")
    with pytest.raises(ItemHookError):
        await content.items.delete(admin, item.id)
    assert await database.fetchval("SELECT count(*) FROM item") == 1


async def test_presave_output_is_validated(content: ContentServices, admin: CurrentUser,
                                           article: None) -> None:
    class Breaking(ItemHooks):
        async def presave(self, item: Item, original: Item | None, ctx: HookContext) -> Item:
            return _with_fields(item, {"field_count": {"value": 99}})

    content.items.hooks = Breaking()
    with pytest.raises(ItemError) as caught:
        await content.items.create(admin, "article", title="x")
    assert caught.value.errors == {"fields.field_count": "must be at most 10"}


async def test_a_plugins_presave_changes_are_validated(
    content: ContentServices, admin: CurrentUser, article: None,
) -> None:
    # The plugin hooks set what item_presave returned on the item; it must be checked again
    # like any other value (it was not, when the hooks changed the draft in place).
    from types import SimpleNamespace

    from trovato.content.taps import PluginItemHooks

    class _Presave:
        def listens(self, tap: str) -> bool:
            return tap == "item_presave"

        async def fire(self, tap: str, payload: Any, *, user: Any, stage: str | None = None) -> Any:
            return SimpleNamespace(value={"fields": {"field_count": {"value": 99}}})

    content.items.hooks = PluginItemHooks(_Presave())  # type: ignore[arg-type]
    with pytest.raises(ItemError) as caught:
        await content.items.create(admin, "article", title="x")
    assert caught.value.errors == {"fields.field_count": "must be at most 10"}


def _with_fields(item: Item, fields: dict[str, Any]) -> Item:

    return replace(item, fields=fields)


async def test_load_many_is_one_query(content: ContentServices, admin: CurrentUser,
                                      article: None) -> None:
    items = [await content.items.create(admin, "article", title=f"T{n}",
                                        fields={"field_count": {"value": n}})
             for n in range(5)]
    wanted = [items[3].id, items[0].id, uuid7(), "junk", items[4].id, items[3].id]
    profile = Profile()
    token = current_profile.set(profile)
    try:
        loaded = await content.query.load_many(admin, wanted)
    finally:
        current_profile.reset(token)
    assert profile.db_count == 1
    assert [i.title for i in loaded] == ["T3", "T0", "T4"]


async def test_list_filters_sort_and_pages(content: ContentServices, admin: CurrentUser,
                                           make_user: MakeUser, article: None) -> None:
    other = await make_user("other", ["access content"])
    await content.types.create({"type": "page", "label": "Page", "fields": []})
    for title in ("b", "a", "c"):
        await content.items.create(admin, "article", title=title)
    await content.items.create(admin, "article", title="hidden", status=0)
    await content.items.create(admin, "page", title="p", author_id=other.id)
    page = await content.query.list(admin, type="article", sort="title")
    assert [i.title for i in page.items] == ["a", "b", "c", "hidden"] and page.total == 4
    page = await content.query.list(admin, type="article", sort="-title", page=1, limit=2)
    assert [i.title for i in page.items] == ["b", "a"] and page.total == 4
    assert (await content.query.list(admin, status=0)).total == 1
    by_author = await content.query.list(admin, author=str(other.id))
    assert [i.title for i in by_author.items] == ["p"]
    assert by_author.items[0].author_name == "other"  # the byline rides in the same query
    newest = await content.query.list(admin, sort="-created", limit=1)
    assert newest.items[0].title == "p"
    assert (await content.query.list(admin, limit=1000)).limit == 100
    past_end = await content.query.list(admin, page=50, limit=2)
    assert past_end.items == [] and past_end.total == 5
    # An ordinary user never gets the unpublished item, not even in the total.
    visible = await content.query.list(other)
    assert visible.total == 4 and "hidden" not in [i.title for i in visible.items]
    # ... but an author sees their own draft: every bound parameter at once (user, type,
    # author), in the page and in the count.
    await content.items.create(admin, "page", title="draft", status=0, author_id=other.id)
    own = await content.query.list(other, type="page", author=other.id, sort="title")
    assert [i.title for i in own.items] == ["draft", "p"] and own.total == 2
    assert (await content.query.list(other, type="page", author=admin.id)).total == 0
    with pytest.raises(ItemError) as caught:
        await content.query.list(admin, sort="colour", page=-1, limit=0, status=3,
                                 author="x")
    assert set(caught.value.errors) == {"sort", "page", "limit", "status", "author"}


async def test_references_checked_in_one_query(
    content: ContentServices, admin: CurrentUser, make_user: MakeUser, database: Database
) -> None:
    await content.types.create({"type": "page", "label": "Page", "fields": []})
    await content.types.create({"type": "story", "label": "Story", "fields": [
        {"name": "field_related", "type": "reference", "label": "Related", "cardinality": -1,
         "settings": {"target_type": "item", "target_bundles": ["page"]}},
        {"name": "field_owner", "type": "reference", "label": "Owner",
         "settings": {"target_type": "user"}},
        {"name": "field_tag", "type": "reference", "label": "Tag",
         "settings": {"target_type": "category_tag", "target_bundles": ["topics"]}},
        {"name": "field_file", "type": "file", "label": "File",
         "settings": {"file_extensions": ["pdf"]}},
        {"name": "field_image", "type": "image", "label": "Image"},
    ]})
    page = await content.items.create(admin, "page", title="p")
    draft = await content.items.create(admin, "page", title="draft", status=0)
    story = await content.items.create(admin, "story", title="s")
    owner = await make_user("owner")
    vocabulary = await database.fetchval(
        "INSERT INTO category_vocabulary (machine_name, name) VALUES ('topics', 'Topics')"
        " RETURNING id")
    tag = await database.fetchval(
        "INSERT INTO category_tag (vocabulary_id, name, slug) VALUES (%s, 'News', 'news')"
        " RETURNING id", (vocabulary,))
    # Permanent (in use already): any saver may refer to them.
    pdf = await database.fetchval(
        "INSERT INTO file_managed (filename, uri, filemime, filesize, status) VALUES"
        " ('a.pdf', 'public://a.pdf', 'application/pdf', 1, 1) RETURNING id")
    png = await database.fetchval(
        "INSERT INTO file_managed (filename, uri, filemime, filesize, status) VALUES"
        " ('a.png', 'public://a.png', 'image/png', 1, 1) RETURNING id")
    good = {
        "field_related": [{"target_id": str(page.id)}],
        "field_owner": {"target_id": str(owner.id), "target_type": "user"},
        "field_tag": {"target_id": str(tag)},
        "field_file": {"target_id": str(pdf)},
        "field_image": {"target_id": str(png), "alt": "alt"},
    }

    async def queries(fields: dict[str, Any]) -> int:
        profile = Profile()
        token = current_profile.set(profile)
        try:
            await content.items.create(admin, "story", title="ok", fields=fields)
        finally:
            current_profile.reset(token)
        return profile.db_count

    # Five references of four kinds cost exactly one query more than none.
    assert await queries(good) == await queries({}) + 1

    author = await make_user("author", ["access content", "create story content"])
    with pytest.raises(ItemError) as caught:
        await content.items.create(author, "story", title="bad", fields={
            "field_related": [{"target_id": str(page.id)}, {"target_id": str(story.id)},
                              {"target_id": str(draft.id)}, {"target_id": str(uuid7())}],
            "field_owner": {"target_id": "00000000-0000-0000-0000-000000000000"},
            "field_tag": {"target_id": str(uuid7())},
            "field_file": {"target_id": str(png)},
            "field_image": {"target_id": str(pdf), "alt": "x"},
        })
    errors = caught.value.errors
    assert "fields.field_related.0" not in errors
    assert "allowed types: page" in errors["fields.field_related.1"]
    assert "cannot see" in errors["fields.field_related.2"]  # unpublished, not theirs
    assert "does not exist" in errors["fields.field_related.3"]
    assert "does not exist" in errors["fields.field_owner"]  # the anonymous user
    assert "does not exist" in errors["fields.field_tag"]
    assert "extension is not one of: pdf" in errors["fields.field_file"]
    assert "not an image" in errors["fields.field_image"]


async def test_full_html_needs_its_permission(content: ContentServices, admin: CurrentUser,
                                              make_user: MakeUser, article: None) -> None:
    editor = await make_user("editor", ["access content", "create article content",
                                        "edit any article content"])
    with pytest.raises(ItemError) as caught:
        await content.items.create(editor, "article", title="x", fields={
            "field_body": {"value": "<script>x</script>", "format": "full_html"}})
    assert caught.value.errors == {
        "fields.field_body": "you may not use the text format 'full_html'"}
    item = await content.items.create(admin, "article", title="x", fields={
        "field_body": {"value": "<iframe></iframe>", "format": "full_html"}})
    # The editor can still view it and change other things: the stored value is unchanged.
    assert (await content.query.load(editor, item.id)).fields["field_body"]["format"] == \
        "full_html"
    updated = await content.items.update(editor, item.id, title="y", fields={
        "field_body": {"value": "<iframe></iframe>", "format": "full_html"}})
    assert updated.title == "y"
    with pytest.raises(ItemError) as caught:
        await content.items.update(editor, item.id, fields={
            "field_body": {"value": "<iframe src=x></iframe>", "format": "full_html"}})
    assert "fields.field_body" in caught.value.errors
    # Moving the text to a format they may use is allowed.
    safer = await content.items.update(editor, item.id, fields={
        "field_body": {"value": "<p>ok</p>", "format": "filtered_html"}})
    assert safer.fields["field_body"]["format"] == "filtered_html"
    full = await make_user("trusted", ["access content", "create article content",
                                       "use full_html"])
    await content.items.create(full, "article", title="z", fields={
        "field_body": {"value": "<b>x</b>", "format": "full_html"}})


async def test_stage_reads(content: ContentServices, admin: CurrentUser, article: None,
                           database: Database) -> None:
    await database.execute("INSERT INTO stage (id, label) VALUES ('spring', 'Spring')")
    live = await content.items.create(admin, "article", title="live")
    staged = await content.items.create(admin, "article", title="staged", stage="spring")
    assert staged.stage == "spring"
    with pytest.raises(ItemError) as caught:
        await content.query.load(admin, staged.id)
    assert caught.value.status == 404  # not visible in live
    assert (await content.query.load(admin, staged.id, stage="spring")).title == "staged"
    assert (await content.query.load(admin, live.id, stage="spring")).title == "live"
    live_list = await content.query.list(admin)
    stage_list = await content.query.list(admin, stage="spring")
    assert [i.title for i in live_list.items] == ["live"]
    assert {i.title for i in stage_list.items} == {"live", "staged"}
    assert [i.title for i in await content.query.load_many(admin, [live.id, staged.id])] == [
        "live"]
    # Stage-created items are edited in their stage; a live item edited in a stage keeps its
    # live row and shows the edit in the stage only.
    edited = await content.items.update(admin, staged.id, title="staged 2", stage="spring")
    assert edited.title == "staged 2"
    overridden = await content.items.update(admin, live.id, title="x", stage="spring")
    assert overridden.title == "x"
    assert (await content.query.load(admin, live.id, stage="spring")).title == "x"
    assert (await content.query.load(admin, live.id)).title == "live"


async def test_anonymous_cannot_create(content: ContentServices, article: None) -> None:
    with pytest.raises(ItemError) as caught:
        await content.items.create(ANONYMOUS, "article", title="x")
    assert caught.value.status == 403


async def test_ids_are_uuid7(content: ContentServices, admin: CurrentUser,
                             article: None) -> None:
    item = await content.items.create(admin, "article", title="x")
    assert isinstance(item.id, uuid.UUID) and item.id.version == 7


async def test_list_promote_sticky_and_front_page_order(
    content: ContentServices, admin: CurrentUser, article: None
) -> None:
    await content.items.create(admin, "article", title="plain")
    await content.items.create(admin, "article", title="promoted", promote=True)
    await content.items.create(admin, "article", title="pinned", promote=True, sticky=True)
    await content.items.create(admin, "article", title="newest", promote=True)
    front = await content.query.list(admin, promote=True, sort="-sticky")
    assert [i.title for i in front.items] == ["pinned", "newest", "promoted"]
    assert front.total == 3
    assert [i.title for i in (await content.query.list(admin, sticky=True)).items] == ["pinned"]
    not_promoted = await content.query.list(admin, promote=False)
    assert [i.title for i in not_promoted.items] == ["plain"]


async def test_the_front_page_listing_keeps_one_cached_plan(
    content: ContentServices, admin: CurrentUser, article: None, database: Database
) -> None:
    """Validated numbers and flags are written into the listing statement, so PostgreSQL
    plans the prepared statement once instead of on every execution (bound, LIMIT and the
    ``status = 1`` partial index forced a fresh custom plan each time)."""
    await content.items.create(admin, "article", title="promoted", promote=True)
    async with database.pool.connection() as conn, database.joined(conn):
        for _ in range(12):  # psycopg prepares a statement on its 5th execution
            page = await content.query.list(ANONYMOUS, status=1, promote=True, sort="-sticky",
                                            limit=25, fields=False)
            assert [i.title for i in page.items] == ["promoted"]
        cur = await conn.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%%(SELECT count(*)%%FROM item AS i%%'")
        plans = await cur.fetchall()
    assert len(plans) == 1 and plans[0]["generic_plans"] >= 6, plans
    assert plans[0]["custom_plans"] == 0, plans


def _plan_nodes(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    found = [(str(plan["Node Type"]), plan.get("Index Name"))]
    for child in plan.get("Plans", []):
        found.extend(_plan_nodes(child))
    return found


async def test_a_front_page_is_read_in_index_order_however_many_items_match(
    content: ContentServices, admin: CurrentUser, article: None, database: Database
) -> None:
    """The page comes off ``item_front_idx`` already in the listing's order and stops after
    LIMIT rows; the total is counted from the same index. The earlier ``count(*) OVER ()``
    had to read and sort every promoted item for each page: 22 ms per front page at 10,000."""
    for n in range(3):
        await content.items.create(admin, "article", title=f"t{n}", promote=True)
    shape = Listing(live=True, scope="published", by_type=False, status=1,
                     by_author=False, promote=True, sticky=None, sort="-sticky", limit=25,
                     offset=0, teasers=True)
    async with database.pool.connection() as conn:
        # Make a sort as costly as the planner allows: only an index that serves the whole
        # order (tie-breaker included) keeps the Sort node out of the plan.
        await conn.execute("SET enable_seqscan = off")
        await conn.execute("SET enable_sort = off")
        cur = await conn.execute("EXPLAIN (FORMAT JSON) " + listing_sql(shape))
        row = await cur.fetchone()
    assert row is not None
    nodes = _plan_nodes(next(iter(row.values()))[0]["Plan"])
    kinds = {kind for kind, _ in nodes}
    assert not kinds & {"Sort", "Incremental Sort", "WindowAgg"}, nodes
    assert nodes[0] == ("Limit", None), nodes
    # The page and the count both come from it (the authors' names from users_pkey).
    assert [index for _, index in nodes if index and index.startswith("item")] == [
        "item_front_idx", "item_front_idx"], nodes


async def test_a_page_past_the_last_still_reports_the_total(
    content: ContentServices, admin: CurrentUser, article: None
) -> None:
    for n in range(3):
        await content.items.create(admin, "article", title=f"t{n}", promote=True)
    beyond = await content.query.list(ANONYMOUS, promote=True, sort="-sticky", page=5, limit=2)
    assert beyond.items == [] and beyond.total == 3
    last = await content.query.list(ANONYMOUS, promote=True, sort="-sticky", page=1, limit=2)
    assert [i.title for i in last.items] == ["t0"] and last.total == 3


async def test_an_edit_in_a_stage_reads_the_type_fresh(
    content: ContentServices, admin: CurrentUser, article: None, database: Database,
) -> None:
    """A stage's edit of a live item has no field guard in its write: it validates against
    the type as stored now, whatever this process's cache holds."""
    item = await content.items.create(admin, "article", title="Start")
    await content.items.stages.create(admin, "draft", "Draft")
    await content.types.get_cached("article")
    elsewhere = await ContentServices.start(database, PermissionRegistry())  # no pub/sub
    fewer = {**ARTICLE, "fields": [f for f in ARTICLE["fields"] if f["name"] != "field_count"]}
    await elsewhere.types.update("article", fewer)
    with pytest.raises(ItemError) as refused:
        await content.items.update(admin, item.id, fields={"field_count": {"value": 4}},
                                   stage="draft")
    assert refused.value.status == 422 and "fields.field_count" in (refused.value.errors or {})
