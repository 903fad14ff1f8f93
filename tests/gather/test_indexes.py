"""``trovato gather index create|drop``: the indexes it builds have the compiler's own
expressions, so PostgreSQL uses them for Gather's filters (a JSONB field's B-tree); the
``search`` field uses the site search's GIN index, which every site has."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gather.conftest import ANONYMOUS
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.gather import Gather, GatherError
from trovato.users.accounts import CurrentUser


async def _plan(database: Database, gather: Gather, name: str) -> str:
    plan, params = await gather.statement(ANONYMOUS, name)
    rows = await database.fetch(f"EXPLAIN {plan.page}", params)
    return "\n".join(str(next(iter(row.values()))) for row in rows)


async def _fillers(database: Database, admin: CurrentUser) -> None:
    """Enough other items that the planner would rather use a selective index than walk
    the front-page one (written by SQL: this is setup, not what is tested)."""
    await database.execute(
        "INSERT INTO item (type, title, author_id, status, fields)"
        " SELECT 'article', 'Filler ' || n, %s, 1,"
        " jsonb_build_object('field_count', jsonb_build_object('value', n + 100))"
        " FROM generate_series(1, 5000) AS n", (admin.id,))
    await database.execute("ANALYZE item")


async def _listing(gather: Gather, admin: CurrentUser, name: str,
                   filters: list[dict[str, Any]]) -> None:
    await gather.create(admin, {"name": name, "label": name, "filters": filters,
                                "pager": {"type": "mini", "per_page": 10}})


async def test_created_index_serves_the_filter(
        database: Database, content: ContentServices, gather: Gather, admin: CurrentUser
) -> None:
    field, index = "field_count", "gather_field_count_idx"
    filters = [{"field": "field_count", "op": "between", "value": [2, 5]}]
    await content.items.create(admin, "article", title="The brown fox",
                               fields={"field_count": {"value": 3}})
    await _fillers(database, admin)
    await _listing(gather, admin, "hot", filters)
    assert index not in await _plan(database, gather, "hot")
    assert await gather.create_index(admin, field) == index
    assert index in await _plan(database, gather, "hot")
    result = await gather.run(ANONYMOUS, "hot")
    assert [i.title for i in result.items] == ["The brown fox"]
    assert await gather.drop_index(admin, field) is True
    assert index not in await _plan(database, gather, "hot")
    assert await gather.drop_index(admin, field) is False


async def test_the_search_field_uses_the_search_index(
        database: Database, content: ContentServices, gather: Gather, admin: CurrentUser
) -> None:
    await content.items.create(admin, "article", title="The brown foxes")
    await _fillers(database, admin)
    await _listing(gather, admin, "words",
                   [{"field": "search", "op": "fulltext", "value": "brown fox"}])
    assert "item_search_gin" in await _plan(database, gather, "words")
    result = await gather.run(ANONYMOUS, "words")
    assert [i.title for i in result.items] == ["The brown foxes"]  # stemmed: English
    with pytest.raises(GatherError) as refused:
        await gather.create_index(admin, "search")
    assert "search index" in refused.value.message and refused.value.status == 422


async def test_index_refusals_name_the_field(gather: Gather, admin: CurrentUser,
                                              content: ContentServices) -> None:
    with pytest.raises(GatherError) as refused:
        await gather.create_index(admin, "field_tags")
    assert "field_tags" in refused.value.message and refused.value.status == 422
    with pytest.raises(GatherError) as unknown:
        await gather.create_index(admin, "field_nope")
    assert "field_nope" in unknown.value.message
