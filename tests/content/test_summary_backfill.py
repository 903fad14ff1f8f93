"""Filling in unknown summaries (:mod:`trovato.content.summary_backfill`): in batches, and in
a type change's lock order so the two never deadlock."""

from __future__ import annotations

import asyncio

import pytest

from tests.content.conftest import ARTICLE
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.users.accounts import CurrentUser


@pytest.fixture
async def article(content: ContentServices) -> None:
    await content.types.create(ARTICLE)


async def test_cron_fills_unknown_summaries_in_batches(
    content: ContentServices, admin: CurrentUser, article: None, database: Database
) -> None:
    items = [await content.items.create(admin, "article", title=f"A{n}", fields={
        "field_body": {"value": f"Body {n}", "format": "plain_text"}}) for n in range(5)]
    await database.execute("UPDATE item SET summary = NULL")
    assert await content.summaries.fill(limit=3) == 3
    assert await content.summaries.fill(limit=3) == 2
    assert await content.summaries.fill(limit=3) == 0
    assert [await database.fetchval("SELECT summary FROM item WHERE id = %s", (item.id,))
            for item in items] == [f"Body {n}" for n in range(5)]


async def test_filling_summaries_waits_for_a_type_change_instead_of_deadlocking(
    content: ContentServices, admin: CurrentUser, article: None, database: Database
) -> None:
    """A type change locks its type, then rewrites its items; the fill takes its locks in
    the same order, so it waits for the change and then computes from the new fields."""
    for n in range(3):
        await content.items.create(admin, "article", title=f"A{n}", fields={
            "field_body": {"value": f"Body {n}", "format": "plain_text"},
            "field_tags": [{"value": f"tag {n}"}]})
    await database.execute("UPDATE item SET summary = NULL")
    async with database.transaction() as conn:  # a type change in flight
        await conn.execute("SELECT type FROM item_type WHERE type = 'article' FOR UPDATE")
        fill = asyncio.create_task(content.summaries.fill())
        await asyncio.sleep(0.5)
        assert not fill.done()  # waiting for the type, holding no item
        await conn.execute(
            "UPDATE item SET fields = fields - 'field_body' WHERE type = 'article'")
    assert await asyncio.wait_for(fill, 10) == 3
    rows = await database.fetch("SELECT summary FROM item ORDER BY summary")
    assert [row["summary"] for row in rows] == [f"tag {n}" for n in range(3)]
