"""Rebuilding the search index as a batch: the keys cover every item in ranges (wider on a
site too large for the batch's key limit), each step reindexes its own ranges through the
search service, and a step skips an actor without the permission and a key that is no range."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from tests.content.conftest import ANONYMOUS, ARTICLE
from trovato.batch import Batches
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.search import Search
from trovato.search.reindexing import (
    REINDEX,
    REINDEX_TYPE,
    ReindexOperation,
    change_language,
    reindex_keys,
    reindex_operations,
)
from trovato.store import open_store
from trovato.users.accounts import CurrentUser

PERMISSION = "administer site configuration"


def _user(*permissions: str) -> CurrentUser:
    return CurrentUser(id=uuid.uuid4(), name="u", permissions=frozenset(permissions))


@pytest.fixture
async def search(content: ContentServices, database: Database) -> Search:
    await content.types.create(ARTICLE)
    return Search(database, content.query, content.types)


async def _titles(search: Search, words: str) -> list[str]:
    return sorted(r.item.title for r in (await search.search(ANONYMOUS, words)).results)


async def test_each_step_reindexes_its_own_ranges(
        search: Search, content: ContentServices, admin: CurrentUser) -> None:
    for n in range(5):
        await content.items.create(admin, "article", title=f"Plugins {n}", status=1)
    ranges = await search.reindex_ranges(2)
    assert [count for _, _, count in ranges] == [2, 2, 1]
    assert all(first <= last for first, last, _ in ranges)
    keys, items = await reindex_keys(search)
    assert (len(keys), items) == (1, 5)  # up to 25 items a key

    # The language changed without a reindex: the stored words are English, the query's not.
    assert await search.set_language("simple", reindex=False) is True
    assert await _titles(search, "plugins") == []
    step = ReindexOperation(search, PERMISSION)
    keys = [f"{first}..{last}" for first, last, _ in ranges]
    assert [o.done for o in await step(_user(PERMISSION), keys[:1], {})] == [True]
    assert await _titles(search, "plugins") == ["Plugins 0", "Plugins 1"]  # the first range
    await step(_user(PERMISSION), keys[1:], {})
    assert len(await _titles(search, "plugins")) == 5


async def test_a_step_skips_a_refused_actor_and_keys_that_are_no_ranges(
        search: Search, content: ContentServices, admin: CurrentUser) -> None:
    await content.items.create(admin, "article", title="Plugins", status=1)
    keys, _ = await reindex_keys(search)
    await search.set_language("simple", reindex=False)
    step = ReindexOperation(search, PERMISSION)
    refused = await step(_user("administer content types"), keys, {})
    assert [(o.done, o.reason) for o in refused] == [
        (False, "you may no longer rebuild the search index")]
    assert await _titles(search, "plugins") == []  # nothing was reindexed
    odd = await step(_user(PERMISSION), ["x..y", "nothing", str(uuid.uuid4())], {})
    assert [o.reason for o in odd] == ["it is not a range of items"] * 3


async def test_a_large_site_gets_wider_ranges_within_the_key_limit(
        search: Search, content: ContentServices, admin: CurrentUser,
        database: Database) -> None:
    await database.execute(
        "INSERT INTO item (type, title, author_id) SELECT 'article', 'Item ' || g, %s"
        " FROM generate_series(1, 61) AS g", (admin.id,))
    keys, items = await reindex_keys(search, limit=2)
    assert items == 61 and len(keys) == 2  # 31 a key, ceil(61 / 2): within the limit
    keys, _ = await reindex_keys(search)
    assert len(keys) == 3  # 25 a key


async def test_a_types_batch_reindexes_only_its_items(
        search: Search, content: ContentServices, admin: CurrentUser) -> None:
    await content.types.create({**ARTICLE, "type": "note", "label": "Note"})
    for n in range(3):
        await content.items.create(admin, "article", title=f"Plugins {n}", status=1)
        await content.items.create(admin, "note", title=f"Plugins note {n}", status=1)
    keys, items = await reindex_keys(search, type_name="note")
    assert (len(keys), items) == (1, 3)
    assert await search.item_count(type_name="note") == 3 and await search.item_count() == 6
    assert [c for _, _, c in await search.reindex_ranges(2, type_name="article")] == [2, 1]

    await search.set_language("simple", reindex=False)
    operations = reindex_operations(search)
    # The weights' permission, not the language's, and the other way round.
    refused = await operations[REINDEX_TYPE](_user(PERMISSION), keys, {"type": "note"})
    assert [o.done for o in refused] == [False]
    assert [o.done for o in await operations[REINDEX](
        _user("administer content types"), keys, {})] == [False]
    done = await operations[REINDEX_TYPE](_user("administer content types"), keys,
                                          {"type": "note"})
    assert [o.done for o in done] == [True]
    # Only the notes' words were rebuilt (in simple, "plugins" as written).
    assert await _titles(search, "plugins") == [f"Plugins note {n}" for n in range(3)]
    everything, _ = await reindex_keys(search)
    await operations[REINDEX](_user(PERMISSION), everything, {})
    assert len(await _titles(search, "plugins")) == 6


class _StoreDown(Exception):
    pass


class _Unstartable(Batches):
    """Batches whose store went away: nothing can start."""

    async def start(self, owner: str, operation: str, keys: Sequence[str], *, title: str,
                    return_to: str, params: Any = None) -> Any:
        raise _StoreDown


async def test_changing_the_language_starts_its_batch_or_changes_nothing(
        search: Search, content: ContentServices, admin: CurrentUser,
        database: Database) -> None:
    await content.items.create(admin, "article", title="Plugins")
    store = await open_store(database, redis_url=None)
    try:
        batches = Batches(store, reindex_operations(search))
        assert await change_language(batches, search, "english", actor=admin.id,
                                     return_to="/") == (False, None)  # already so
        changed, batch = await change_language(batches, search, "simple", actor=admin.id,
                                               return_to="/")
        assert changed and batch is not None and batch.operation == REINDEX
        assert batch.total == 1 and await search.language() == "simple"
        # A batch that cannot start leaves the language as it was: no change without its
        # rebuild.
        with pytest.raises(_StoreDown):
            await change_language(_Unstartable(store, reindex_operations(search)), search,
                                  "english", actor=admin.id, return_to="/")
        assert await search.language() == "simple"
    finally:
        await store.close()
