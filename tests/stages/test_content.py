"""The content of stages: writing in a stage through the items service, reading through the
overlay, discarding, and publishing with conflicts — against the real services and database."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from tests.content.conftest import ARTICLE, MakeUser
from trovato.content.items import Item, ItemError
from trovato.content.model import HookContext, ItemHooks
from trovato.content.services import ContentServices
from trovato.content.statements import (
    COLUMN_COUNT,
    SORTS,
    Listing,
    _where,
    count_sql,
    flat,
    item_source,
    listing_sql,
    many_sql,
    sort_column,
)
from trovato.db.compiled import sql_text
from trovato.db.pool import Database
from trovato.stages import LIVE, PUBLISH_STAGES, USE_STAGES, StageError, Stages
from trovato.users.accounts import CurrentUser


@pytest.fixture
async def site(content: ContentServices, database: Database, admin: CurrentUser
               ) -> ContentServices:
    await content.types.create(ARTICLE)
    return content


async def _article(site: ContentServices, user: CurrentUser, title: str, *,
                   stage: str = LIVE, count: int = 1) -> Item:
    return await site.items.create(user, "article", title=title, stage=stage,
                                   fields={"field_count": {"value": count}})


async def _titles(site: ContentServices, user: CurrentUser, stage: str = LIVE) -> list[str]:
    page = await site.query.list(user, stage=stage, sort="title")
    assert page.total == len(page.items)
    return [i.title for i in page.items]


async def _refused(status: int, call: Any) -> Any:
    with pytest.raises((StageError, ItemError)) as caught:
        await call
    assert caught.value.status == status, caught.value.message
    return caught.value


def _count(item: Item) -> int:
    return int(item.fields["field_count"]["value"])


async def test_create_edit_delete_then_publish(site: ContentServices, admin: CurrentUser,
                                               database: Database) -> None:
    stages = site.items.stages
    await stages.create(admin, "spring", "Spring")
    edited = await _article(site, admin, "Edited")
    doomed = await _article(site, admin, "Doomed")
    await _article(site, admin, "Kept")
    created = await _article(site, admin, "Created", stage="spring")
    changed = await site.items.update(admin, edited.id, title="Edited in spring",
                                      fields={"field_count": {"value": 5}}, stage="spring")
    assert changed.revision_id != edited.revision_id
    await site.items.delete(admin, doomed.id, stage="spring")

    # Live is untouched; the stage sees its overlay; totals count what each sees.
    assert await _titles(site, admin) == ["Doomed", "Edited", "Kept"]
    assert await _titles(site, admin, "spring") == ["Created", "Edited in spring", "Kept"]
    in_stage = await site.query.load(admin, edited.id, stage="spring")
    assert (in_stage.title, _count(in_stage), in_stage.revision_id) == (
        "Edited in spring", 5, changed.revision_id)
    assert (await site.query.load(admin, edited.id)).title == "Edited"
    await _refused(404, site.query.load(admin, doomed.id, stage="spring"))
    many = await site.query.load_many(admin, [edited.id, doomed.id, created.id],
                                      stage="spring")
    assert [i.title for i in many] == ["Edited in spring", "Created"]
    # Live history never shows the stage's revision; the stage's does.
    assert [r.title for r in await site.items.revisions.history(admin, edited.id)] == ["Edited"]
    assert [r.title for r in await site.items.revisions.history(
        admin, edited.id, stage="spring")] == ["Edited in spring", "Edited"]
    await _refused(404, site.items.revisions.load(admin, edited.id, changed.revision_id or ""))

    diff = await site.staging.diff(admin, "spring")
    by_item = {d["item"]: d for d in diff}
    assert by_item[str(created.id)]["change"] == "created"
    assert by_item[str(doomed.id)]["change"] == "deleted"
    assert {f["field"]: (f["stage"], f["upstream"]) for f in
            by_item[str(edited.id)]["fields"]} == {
        "title": ("Edited in spring", "Edited"),
        "field_count": ({"value": 5}, {"value": 1})}

    report = await site.staging.publish(admin, "spring")
    assert report["created"] == [str(created.id)] and report["edited"] == [str(edited.id)]
    assert report["deleted"] == [str(doomed.id)]
    assert await _titles(site, admin) == ["Created", "Edited in spring", "Kept"]
    live = await site.query.load(admin, edited.id)
    assert live.revision_id == changed.revision_id and _count(live) == 5
    assert (await site.query.load(admin, created.id)).stage == LIVE
    assert [r.title for r in await site.items.revisions.history(admin, edited.id)] == [
        "Edited in spring", "Edited"]
    record = await stages.get(admin, "spring")
    assert record.status == "published" and record.published is not None
    assert await database.fetchval(
        "SELECT count(*) FROM stage_association WHERE stage_id = 'spring'") == 0
    # A published stage takes no more writes and is not published twice.
    await _refused(409, _article(site, admin, "Late", stage="spring"))
    await _refused(409, site.items.update(admin, edited.id, title="x", stage="spring"))
    await _refused(409, site.staging.publish(admin, "spring"))


class _TapRecorder(ItemHooks):
    """Records each content tap as (tap, title, the original's title, the stage, whether the
    item's row is still there), inside the write's transaction."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None, str, bool]] = []

    async def _record(self, tap: str, item: Item, original: Item | None,
                      ctx: HookContext) -> None:
        cur = await ctx.conn.execute("SELECT count(*) AS n FROM item WHERE id = %s", (item.id,))
        row = await cur.fetchone()
        self.calls.append((tap, item.title, original.title if original else None, ctx.stage,
                           bool(row and row["n"])))

    async def insert(self, item: Item, ctx: HookContext) -> None:
        await self._record("item_insert", item, None, ctx)

    async def update(self, item: Item, original: Item, ctx: HookContext) -> None:
        await self._record("item_update", item, original, ctx)

    async def delete(self, item: Item, ctx: HookContext) -> None:
        await self._record("item_delete", item, None, ctx)


async def test_discarding_tells_the_taps_what_was_undone(site: ContentServices,
                                                          admin: CurrentUser) -> None:
    await site.items.stages.create(admin, "spring", "Spring")
    edited = await _article(site, admin, "Edited")
    doomed = await _article(site, admin, "Doomed")
    created = await _article(site, admin, "Created", stage="spring")
    await site.items.update(admin, edited.id, title="Changed", stage="spring")
    await site.items.delete(admin, doomed.id, stage="spring")
    recorder = _TapRecorder()
    site.items.hooks = recorder
    # A staged creation discarded is a delete, told while its row is still there.
    assert await site.staging.discard(admin, "spring", created.id) == 1
    assert recorder.calls == [("item_delete", "Created", None, "spring", True)]
    recorder.calls.clear()
    # An edit discarded: an update back to upstream's values; a deletion discarded: the item
    # is back, an insert.
    assert await site.staging.discard(admin, "spring") == 2
    assert recorder.calls == [("item_update", "Edited", "Changed", "spring", True),
                              ("item_insert", "Doomed", None, "spring", True)]


async def test_discard_one_change_or_all(site: ContentServices, admin: CurrentUser) -> None:
    await site.items.stages.create(admin, "spring", "Spring")
    edited = await _article(site, admin, "Edited")
    doomed = await _article(site, admin, "Doomed")
    created = await _article(site, admin, "Created", stage="spring")
    await site.items.update(admin, edited.id, title="Changed", stage="spring")
    await site.items.delete(admin, doomed.id, stage="spring")
    assert await site.staging.discard(admin, "spring", edited.id) == 1
    assert await _titles(site, admin, "spring") == ["Created", "Edited"]
    await _refused(404, site.staging.discard(admin, "spring", edited.id))
    await _refused(404, site.staging.discard(admin, "spring", "not-an-id"))
    assert await site.staging.discard(admin, "spring") == 2
    assert await _titles(site, admin, "spring") == ["Doomed", "Edited"]
    await _refused(404, site.query.load(admin, created.id, stage="spring"))
    assert await site.staging.changes(admin, "spring") == []
    # Deleting an item created in the stage removes it; publishing an empty stage is fine.
    again = await _article(site, admin, "Again", stage="spring")
    await site.items.delete(admin, again.id, stage="spring")
    assert (await site.staging.publish(admin, "spring"))["created"] == []
    assert await _titles(site, admin) == ["Doomed", "Edited"]


async def test_a_chain_of_three_stages(site: ContentServices, admin: CurrentUser) -> None:
    stages = site.items.stages
    await stages.create(admin, "a", "A")
    await stages.create(admin, "b", "B", upstream="a")
    await stages.create(admin, "c", "C", upstream="b")
    item = await _article(site, admin, "Live")
    made_in_a = await _article(site, admin, "Made in a", stage="a")
    await site.items.update(admin, item.id, title="Title from a", stage="a")
    await site.items.update(admin, item.id, fields={"field_count": {"value": 7}}, stage="b")
    await site.items.update(admin, item.id, status=0, stage="c")
    await site.items.update(admin, made_in_a.id, title="Made in a, fixed in c", stage="c")
    seen = await site.query.load(admin, item.id, stage="c")
    assert (seen.title, _count(seen), seen.status) == ("Title from a", 7, 0)
    assert await _titles(site, admin, "c") == ["Made in a, fixed in c", "Title from a"]
    assert await _titles(site, admin, "b") == ["Made in a", "Title from a"]
    # Nearest wins: b's view shows its own edit over a's.
    in_b = await site.query.load(admin, item.id, stage="b")
    assert (in_b.title, _count(in_b), in_b.status) == ("Title from a", 7, 1)

    await site.staging.publish(admin, "c")
    in_b = await site.query.load(admin, item.id, stage="b")
    assert (in_b.title, _count(in_b), in_b.status) == ("Title from a", 7, 0)
    assert await _titles(site, admin, "b") == ["Made in a, fixed in c", "Title from a"]
    assert await _titles(site, admin, "a") == ["Made in a", "Title from a"]
    await site.staging.publish(admin, "b")
    await site.staging.publish(admin, "a")
    live = await site.query.load(admin, item.id)
    assert (live.title, _count(live), live.status) == ("Title from a", 7, 0)
    assert (await site.query.load(admin, made_in_a.id)).title == "Made in a, fixed in c"
    assert [s.status for s in await stages.list(admin)] == ["published"] * 3


async def test_two_stages_editing_other_fields_merge(site: ContentServices,
                                                     admin: CurrentUser) -> None:
    for name in ("one", "two"):
        await site.items.stages.create(admin, name, name.title())
    item = await _article(site, admin, "Original")
    await site.items.update(admin, item.id, title="Retitled", stage="one")
    await site.items.update(admin, item.id, fields={"field_count": {"value": 9}}, stage="two")
    await site.staging.publish(admin, "one")
    assert await site.staging.conflicts(admin, "two") == []
    await site.staging.publish(admin, "two")
    live = await site.query.load(admin, item.id)
    assert (live.title, _count(live)) == ("Retitled", 9)
    # The merge is a revision of its own; history keeps every step.
    assert [r.title for r in await site.items.revisions.history(admin, item.id)] == [
        "Retitled", "Original", "Retitled", "Original"]


async def test_overlapping_edits_conflict_until_resolved(
    site: ContentServices, admin: CurrentUser, database: Database
) -> None:
    for name in ("one", "two"):
        await site.items.stages.create(admin, name, name.title())
    item = await _article(site, admin, "Original")
    other = await _article(site, admin, "Other")
    await site.items.update(admin, item.id, title="One's title", stage="one")
    await site.items.update(admin, item.id, title="Two's title",
                            fields={"field_count": {"value": 3}}, stage="two")
    await site.items.update(admin, other.id, title="Other in two", stage="two")
    await site.staging.publish(admin, "one")
    expected = [{"item": str(item.id), "field": "title", "stage": "Two's title",
                 "upstream": "One's title", "base": "Original"}]
    assert await site.staging.conflicts(admin, "two") == expected
    refused = await _refused(409, site.staging.publish(admin, "two"))
    assert refused.conflicts == expected

    async def unchanged() -> None:
        assert (await site.query.load(admin, item.id)).title == "One's title"
        assert (await site.query.load(admin, other.id)).title == "Other"
        assert (await site.items.stages.get(admin, "two")).status == "open"

    for resolutions, key in (
        ([{"item": "nope", "field": "title", "take": "stage"}], "resolutions.0.item"),
        ([{"item": str(other.id), "field": "title", "take": "stage"}], "resolutions.0.item"),
        ([{"item": str(item.id), "field": "field_body", "take": "stage"}],
         "resolutions.0.field"),
        ([{"item": str(item.id), "field": "title", "take": "both"}], "resolutions.0.take"),
        ([{"item": str(item.id), "field": "title"}], "resolutions.0"),
    ):
        error = await _refused(422, site.staging.publish(admin, "two", resolutions))
        assert key in error.errors, error.errors
        await unchanged()
    take_stage = [{"item": str(item.id), "field": "title", "take": "stage"}]
    dry = await site.staging.publish(admin, "two", take_stage, dry_run=True)
    assert dry["dry_run"] and dry["edited"] == sorted([str(item.id), str(other.id)])
    await unchanged()
    await site.staging.publish(admin, "two", take_stage)
    live = await site.query.load(admin, item.id)
    assert (live.title, _count(live)) == ("Two's title", 3)
    assert (await site.query.load(admin, other.id)).title == "Other in two"


async def test_taking_upstream_keeps_the_live_value(site: ContentServices,
                                                    admin: CurrentUser) -> None:
    await site.items.stages.create(admin, "two", "Two")
    item = await _article(site, admin, "Original")
    await site.items.update(admin, item.id, title="Staged", fields={"field_count": {"value": 4}},
                            stage="two")
    await site.items.update(admin, item.id, title="Live edit")
    await site.staging.publish(admin, "two", [{"item": str(item.id), "field": "title",
                                               "take": "upstream"}])
    live = await site.query.load(admin, item.id)
    assert (live.title, _count(live)) == ("Live edit", 4)


async def test_publish_refusals_leave_everything(site: ContentServices, admin: CurrentUser,
                                                 make_user: MakeUser) -> None:
    stages = site.items.stages
    ann = await make_user("ann", [USE_STAGES, "access content", "create article content",
                                  "edit any article content"])
    await stages.create(ann, "anns", "Ann's")
    await _article(site, ann, "Ann's draft", stage="anns")
    # Reaching the stage is not enough to publish it.
    await _refused(403, site.staging.publish(ann, "anns"))
    otto = await make_user("otto", [USE_STAGES, PUBLISH_STAGES, "access content"])
    for call in (site.staging.publish(otto, "anns"), site.staging.changes(otto, "anns"),
                 site.staging.conflicts(otto, "anns"), site.staging.discard(otto, "anns"),
                 site.staging.publish(admin, "missing"),
                 site.query.list(otto, stage="anns"),
                 _article(site, otto, "Sneaky", stage="anns")):
        await _refused(404, call)
    await stages.archive(ann, "anns")
    await _refused(409, site.staging.publish(admin, "anns"))
    await _refused(409, site.staging.discard(admin, "anns"))
    assert await _titles(site, admin) == []
    assert await _titles(site, admin, "anns") == ["Ann's draft"]


async def test_a_concurrent_live_edit_is_never_lost(site: ContentServices, admin: CurrentUser,
                                                    database: Database) -> None:
    await site.items.stages.create(admin, "spring", "Spring")
    item = await _article(site, admin, "Original")
    await site.items.update(admin, item.id, fields={"field_count": {"value": 8}},
                            stage="spring")
    async with database.transaction() as conn:
        await conn.execute("SELECT 1 FROM item WHERE id = %s FOR UPDATE", (item.id,))
        edit = asyncio.create_task(site.items.update(admin, item.id, title="Live edit"))
        publish = asyncio.create_task(site.staging.publish(admin, "spring"))
        for _ in range(100):  # both wait for the row
            waiting = await database.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()")
            if waiting == 2:
                break
            await asyncio.sleep(0.05)
        assert waiting == 2
    await asyncio.gather(edit, publish)
    live = await site.query.load(admin, item.id)
    assert (live.title, _count(live)) == ("Live edit", 8)


def test_live_reads_pay_nothing() -> None:
    """The live statements read the item table alone; only other stages read the overlay."""
    shape = Listing(live=True, scope="published", by_type=False, status=None, by_author=False,
                    promote=True, sticky=None, sort="-sticky", limit=10, offset=0,
                    teasers=True)
    live_sql = listing_sql(shape)
    assert "stage_association" not in live_sql and "stage_deletion" not in live_sql
    assert "FROM item AS i " in live_sql and "stage_id = 'live'" in live_sql
    staged_sql = listing_sql(dataclasses.replace(shape, live=False))
    assert "stage_association" in staged_sql and "stage_deletion" in staged_sql
    assert sql_text(select(item_source(True, "i").c.id)) == "SELECT i.id \nFROM item AS i"


async def test_stage_writes_need_an_open_reachable_stage(
    site: ContentServices, admin: CurrentUser, make_user: MakeUser, database: Database
) -> None:
    stages: Stages = site.items.stages
    await stages.create(admin, "spring", "Spring")
    item = await _article(site, admin, "Live")
    writer = await make_user("wendy", ["access content", "create article content",
                                       "edit any article content", "delete any article content"])
    # Without use stages the stage does not exist for the writer.
    for call in (_article(site, writer, "x", stage="spring"),
                 site.items.update(writer, item.id, title="x", stage="spring"),
                 site.items.delete(writer, item.id, stage="spring"),
                 site.query.load(writer, item.id, stage="spring")):
        await _refused(404, call)
    assert await database.fetchval("SELECT count(*) FROM item_revision") == 1
    assert await database.fetchval("SELECT count(*) FROM stage_association") == 0


async def test_plugin_reads_follow_the_stage_and_its_access(
    site: ContentServices, admin: CurrentUser, make_user: MakeUser
) -> None:
    """``ctx.items`` (the plugin host's item reader) sees the overlay, and nothing of a stage
    its user may not reach."""
    from trovato.content.reads import PluginItemReads
    from trovato.plugins import PluginUser

    await site.items.stages.create(admin, "spring", "Spring")
    item = await _article(site, admin, "Live")
    await site.items.update(admin, item.id, title="Staged", stage="spring")
    reads = PluginItemReads(site.items.query)
    root = PluginUser.from_current_user(admin)
    loaded = await reads.load(root, str(item.id), "spring")
    assert loaded is not None and loaded["title"] == "Staged"
    listed = await reads.query_items(root, {"type": "article"}, "spring")
    assert [i["title"] for i in listed] == ["Staged"]
    outsider = PluginUser.from_current_user(
        await make_user("otto", [USE_STAGES, "access content"]))
    assert await reads.load(outsider, str(item.id), "spring") is None
    assert await reads.query_items(outsider, {"type": "article"}, "spring") == []
    assert (await reads.load(outsider, str(item.id), LIVE) or {}).get("title") == "Live"


async def test_teasers_in_a_stage_read_the_edits_stored_summary(
    site: ContentServices, admin: CurrentUser, database: Database
) -> None:
    """A staged edit's revision keeps its summary, so a teaser listing in the stage reads it
    instead of the fields (as live reads the item's); a revision without one (written before
    revisions kept summaries) still brings its fields, from which the summary is computed."""
    await site.items.stages.create(admin, "spring", "Spring")
    story = await site.items.create(admin, "article", title="Story", status=1,
                                    fields={"field_body": {"value": "Live words."}})
    await site.items.update(admin, story.id, stage="spring",
                            fields={"field_body": {"value": "<p>Spring <b>words</b>.</p>",
                                                   "format": "filtered_html"}})
    page = await site.query.list(admin, stage="spring", fields=False)
    (teaser,) = page.items
    assert teaser.partial and teaser.fields == {} and teaser.summary == "Spring words."
    await database.execute("UPDATE item_revision SET summary = NULL WHERE stage_id = 'spring'")
    (whole,) = (await site.query.list(admin, stage="spring", fields=False)).items
    assert not whole.partial and whole.summary is None
    assert whole.fields["field_body"]["value"] == "<p>Spring <b>words</b>.</p>"
    live = (await site.query.list(admin, fields=False)).items
    assert [i.summary for i in live] == ["Live words."]


async def test_a_staged_listing_is_the_overlay_in_order(
    site: ContentServices, admin: CurrentUser, database: Database
) -> None:
    """Every page, sort, filter and total of a listing in a stage (``listing_sql``; for a
    stage right on live, its edits joined flat) is the slice of the overlay read in full and
    in order by the per-item lookup (``item_source``), for a stage and a stage built on it:
    edits that move items in the order, deletions, creations in both."""
    stages = site.items.stages
    await stages.create(admin, "spring", "Spring")
    await stages.create(admin, "late", "Late", upstream="spring")
    live = [await site.items.create(admin, "article", title=f"Live {n:02}", status=int(n % 4 != 0),
                                    promote=n % 3 != 0, sticky=n % 5 == 0)
            for n in range(14)]
    for n, changes in ((1, {"title": "A first now"}), (2, {"sticky": True}),
                       (3, {"status": 0}), (4, {"promote": False}), (6, {"title": "Zed"})):
        await site.items.update(admin, live[n].id, stage="spring", **changes)
    for n in (7, 8):
        await site.items.delete(admin, live[n].id, stage="spring")
    made = [await site.items.create(admin, "article", title=f"Spring {n}", stage="spring",
                                    status=1, promote=True, sticky=n == 0) for n in range(3)]
    await site.items.update(admin, made[1].id, stage="late", title="Late edit", sticky=True)
    await site.items.update(admin, live[9].id, stage="late", status=0)
    await site.items.update(admin, live[1].id, stage="late", title="B second")
    await site.items.delete(admin, live[10].id, stage="late")
    await site.items.create(admin, "article", title="Late new", stage="late", status=1,
                            promote=True)

    def reference(shape: Listing) -> str:
        i = item_source(False, "i")
        order = [sort_column(i, name).desc() if descending else sort_column(i, name).asc()
                 for name, descending in SORTS[shape.sort]]
        return sql_text(select(i.c.id).where(_where(shape, i)).order_by(*order))

    compared = 0
    for chain in (["spring", "live"], ["late", "spring", "live"]):
        for sort in SORTS:
            for status, promote, scope in ((None, None, "all"), (1, True, "published"),
                                           (None, None, "published_or_own")):
                for page in range(4):
                    shape = Listing(live=False, scope=scope, by_type=False, status=status,
                                    by_author=False, promote=promote, sticky=None, sort=sort,
                                    limit=4, offset=page * 4, teasers=page % 2 == 0,
                                    flat=len(chain) == 2)
                    params: dict[str, Any] = {"stages": chain}
                    if scope == "published_or_own":
                        params["viewer"] = admin.id
                    expected = [row[0] for row in await database.fetch_tuples(
                        reference(shape), params)]
                    rows = await database.fetch_tuples(listing_sql(shape), params)
                    assert [row[0] for row in rows] == expected[page * 4:page * 4 + 4], (
                        chain, sort, status, scope, page)
                    if rows:
                        assert rows[0][COLUMN_COUNT] == len(expected), (chain, sort, scope)
                    else:
                        total = await database.fetchval(count_sql(shape), params)
                        assert total == len(expected), (chain, sort, status, scope)
                    compared += 1
    assert compared == 2 * len(SORTS) * 3 * 4


async def test_one_item_reads_the_same_joined_flat(
    site: ContentServices, admin: CurrentUser, database: Database
) -> None:
    """For a stage right on live the overlay joins edits flat; one item, several items and
    a locked read see exactly what the per-item lookup sees."""
    await site.items.stages.create(admin, "spring", "Spring")
    items = [await _article(site, admin, f"Item {n}") for n in range(3)]
    await site.items.update(admin, items[0].id, title="Edited", stage="spring")
    await site.items.delete(admin, items[1].id, stage="spring")
    created = await _article(site, admin, "Created", stage="spring")
    keys = [i.id for i in [*items, created]]
    params = {"stages": ["spring", "live"], "ids": keys}
    rows = {}
    for joined in (True, False):
        sql = many_sql("all", False, joined)
        rows[joined] = sorted(await database.fetch_tuples(sql, params))
        assert ("JOIN LATERAL" in sql) is not joined
    assert rows[True] == rows[False] and len(rows[True]) == 3
    view = await site.items.stages.view("spring")
    assert flat(view) and not flat(await site.items.stages.view(LIVE))
    loaded = await site.query.load(admin, items[0].id, stage="spring")
    assert loaded.title == "Edited"
