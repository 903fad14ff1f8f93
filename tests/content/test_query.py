"""The item query path: listings filtered by plugin votes keep full pages and exact totals,
and every reader follows the stages service's view of a stage."""

from __future__ import annotations

import pytest

from tests.content.conftest import ANONYMOUS, ARTICLE
from trovato.content.access import Operation, Vote
from trovato.content.items import Item, ItemError, ItemHooks
from trovato.content.services import ContentServices
from trovato.content.statements import VOTE_BATCH
from trovato.db.pool import Database
from trovato.stages import LIVE
from trovato.users.accounts import CurrentUser


class DenyTitled(ItemHooks):
    """Denies viewing items whose title starts with ``deny``; counts the votes."""

    def __init__(self) -> None:
        self.asked = 0

    def reads_items(self) -> bool:
        return True

    async def access(self, item: Item, op: Operation, user: CurrentUser) -> Vote:
        self.asked += 1
        return Vote.DENY if item.title.startswith("deny") else Vote.NEUTRAL


@pytest.fixture
async def article(content: ContentServices) -> None:
    await content.types.create(ARTICLE)


async def test_voted_listings_fill_pages_and_count_only_what_passes(
    content: ContentServices, admin: CurrentUser, article: None
) -> None:
    # More matches than one vote batch, every third one denied.
    titles = [f"{'deny' if n % 3 == 0 else 'keep'} {n:03}" for n in range(VOTE_BATCH + 20)]
    for title in titles:
        await content.items.create(admin, "article", title=title)
    kept = sorted(t for t in titles if t.startswith("keep"))
    voter = DenyTitled()
    content.items.hooks = voter
    seen: list[str] = []
    page = 0
    while True:
        listing = await content.query.list(ANONYMOUS, sort="title", page=page, limit=30)
        assert listing.total == len(kept)
        if not listing.items:
            break
        assert len(listing.items) == 30 or page == len(kept) // 30
        seen.extend(i.title for i in listing.items)
        page += 1
    assert seen == kept
    assert voter.asked == len(titles) * (page + 1)  # every match voted on, every page
    # The superuser is never refused, and votes are not even asked.
    everything = await content.query.list(admin, sort="title", limit=100)
    assert everything.total == len(titles)


async def test_without_voters_a_listing_is_one_statement_and_asks_nobody(
    content: ContentServices, admin: CurrentUser, article: None
) -> None:
    class Silent(ItemHooks):
        async def access(self, item: Item, op: Operation, user: CurrentUser) -> Vote:
            raise AssertionError("no vote is asked while no plugin votes")

    await content.items.create(admin, "article", title="a")
    content.items.hooks = Silent()
    assert (await content.query.list(ANONYMOUS)).total == 1


async def test_every_read_follows_the_stage_view(database: Database, admin: CurrentUser
                                                 ) -> None:
    from trovato.users.permissions import PermissionRegistry

    await database.execute(
        "INSERT INTO stage (id, label, upstream_id) VALUES ('a', 'A', 'live'), ('b', 'B', 'a')")
    content = await ContentServices.start(database, PermissionRegistry())
    await content.types.create({**ARTICLE, "fields": [
        {"name": "field_related", "type": "reference", "label": "Related",
         "settings": {"target_type": "item"}}]})
    upstream = await content.items.create(admin, "article", title="in a", stage="a")
    other = await content.items.create(admin, "article", title="in c", stage=LIVE)
    await database.execute("INSERT INTO stage (id, label) VALUES ('c', 'C')")
    await database.execute("UPDATE item SET stage_id = 'c' WHERE id = %s", (other.id,))

    assert (await content.query.load(admin, upstream.id, stage="b")).title == "in a"
    assert [i.title for i in (await content.query.list(admin, stage="b")).items] == ["in a"]
    assert await content.query.load_many(admin, [upstream.id, other.id], stage="b") == [
        await content.query.load(admin, upstream.id, stage="b")]
    with pytest.raises(ItemError) as caught:
        await content.query.load(admin, upstream.id, stage=LIVE)
    assert caught.value.status == 404
    # A reference check sees the chain too.
    await content.items.create(admin, "article", title="ref", stage="b",
                               fields={"field_related": {"target_id": str(upstream.id)}})
    with pytest.raises(ItemError) as caught:
        await content.items.create(admin, "article", title="ref", stage="b",
                                   fields={"field_related": {"target_id": str(other.id)}})
    assert caught.value.status == 422 and "fields.field_related" in caught.value.errors


async def test_a_live_listing_total_is_kept_until_an_item_of_its_types_is_written(
    database: Database, admin: CurrentUser,
) -> None:
    from collections.abc import Iterable

    from trovato.gather.cache import TagCache
    from trovato.users.permissions import PermissionRegistry

    totals = TagCache()

    class Invalidate:
        async def __call__(self, tags: Iterable[str]) -> None:
            totals.drop(list(tags))

        def notice(self, tags: Iterable[str]) -> None:
            return None

        async def here(self, tags: Iterable[str]) -> None:
            raise AssertionError("no notice was given")

    content = await ContentServices.start(database, PermissionRegistry(),
                                          invalidate=Invalidate(), totals=totals)
    for name in ("page", "note"):
        await content.types.create({"type": name, "label": name.title(), "fields": []})
    for n in range(3):
        await content.items.create(admin, "page", title=f"Page {n}", status=1)
    assert (await content.query.list(admin, limit=2)).total == 3
    assert (await content.query.list(admin, type="page", limit=2)).total == 3
    # A row written behind the service's back is listed, but the totals are the kept ones:
    # they are not counted again until a write through the service drops them.
    await database.execute(
        "INSERT INTO item (type, title, author_id, status) VALUES ('page', 'Sneaked', %s, 1)",
        (admin.id,))
    listing = await content.query.list(admin, limit=10, sort="title")
    assert len(listing.items) == 4 and listing.total == 3
    assert (await content.query.list(admin, limit=2, page=1)).total == 3
    await content.items.create(admin, "note", title="A note", status=1)
    assert (await content.query.list(admin, limit=2)).total == 5  # every type's tag
    assert (await content.query.list(admin, type="page", limit=2)).total == 3  # not a page
    page = await content.items.create(admin, "page", title="One more", status=0)
    assert (await content.query.list(admin, type="page", limit=2)).total == 5
    assert (await content.query.list(admin, type="page", status=1, limit=2)).total == 4
    await content.items.delete(admin, page.id)
    assert (await content.query.list(admin, type="page", limit=2)).total == 4
    # Filters and viewers are part of what a total is kept under.
    assert (await content.query.list(ANONYMOUS, limit=2)).total == 5
    assert (await content.query.list(admin, title="Page", limit=2)).total == 3


async def test_a_bare_listing_reads_neither_fields_nor_summary_unless_plugins_vote(
    content: ContentServices, admin: CurrentUser, article: None
) -> None:
    for title in ("b", "a"):
        await content.items.create(admin, "article", title=title,
                                   fields={"field_body": {"value": "Body text"}})
    for stage, titles in ((LIVE, ["a", "b"]), ("draft", ["a", "c"])):
        if stage != LIVE:  # the overlay: b edited in the stage
            await content.items.stages.create(admin, stage, "Draft")
            await content.items.update(admin, (await content.query.list(admin, sort="title")
                                               ).items[1].id, title="c", stage=stage)
        bare = await content.query.list(admin, sort="title", fields=False, summary=False,
                                        stage=stage)
        assert [i.title for i in bare.items] == titles and bare.total == 2
        assert all(i.partial and i.fields == {} and i.summary is None and i.created is None
                   and i.revision_id is None and i.changed for i in bare.items)
        assert [i.author_name for i in bare.items] == [admin.name] * 2
    teasers = await content.query.list(admin, fields=False)
    assert all(i.summary for i in teasers.items)
    content.items.hooks = DenyTitled()  # a voter is given whole items
    voted = await content.query.list(admin, sort="-author", fields=False, summary=False)
    assert all(not i.partial and i.fields and i.revision_id and i.created
               for i in voted.items)
    assert [i.author_name for i in voted.items] == [admin.name] * 2
