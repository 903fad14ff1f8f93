"""``Gather.preview``: an unsaved definition's first page for the admin builder — the rows
the reader may see, the number of matches, the compiled statement and its plan — read in a
fixed number of statements, with nothing stored and nothing cached."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gather.conftest import ANONYMOUS
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.gather import Gather, GatherError
from trovato.observability.profiler import Profile, current_profile
from trovato.users.accounts import CurrentUser

DEFINITION: dict[str, Any] = {
    "name": "draft", "label": "Draft", "filters": [
        {"field": "type", "op": "equals", "value": "article"},
        {"field": "field_count", "op": "gte", "value": 2}],
    "sorts": [{"field": "title", "direction": "desc"}],
    "pager": {"type": "mini", "per_page": 2}}


async def test_preview_reads_the_first_page_and_stores_nothing(
    gather: Gather, content: ContentServices, admin: CurrentUser, database: Database
) -> None:
    for n, title in enumerate(["a", "b", "c", "d", "e"]):
        await content.items.create(admin, "article", title=title, status=1 if n else 0,
                                   fields={"field_count": {"value": n + 1}})
    await content.items.create(admin, "page", title="p")
    listings = await database.fetchval("SELECT count(*) FROM gather_query")
    cached = len(gather.cache)
    profile = Profile()
    token = current_profile.set(profile)
    try:
        preview = await gather.preview(admin, DEFINITION)
    finally:
        current_profile.reset(token)
    # The admin sees the unpublished "a" too (count 1 is below 2 anyway): b..e match.
    assert [i.title for i in preview.result.items] == ["e", "d"]
    assert preview.total == 4 and preview.result.has_next
    assert preview.sql.startswith("SELECT") and "LIMIT 2" in preview.sql
    assert "%(f1)s" in preview.sql and "'article'" not in preview.sql  # values are bound
    assert "Scan" in preview.plan and preview.seconds > 0
    # The page, then the count and the plan, each of those two under the listing guardrail
    # (its statement timeout is one statement more): five, whatever the site's size.
    assert profile.db_count == 5, profile.db_count
    assert await database.fetchval("SELECT count(*) FROM gather_query") == listings
    assert len(gather.cache) == cached


async def test_preview_refuses_what_a_save_refuses(gather: Gather, admin: CurrentUser
                                                   ) -> None:
    with pytest.raises(GatherError) as caught:
        await gather.preview(ANONYMOUS, DEFINITION)
    assert caught.value.status == 403
    with pytest.raises(GatherError) as caught:
        await gather.preview(admin, {**DEFINITION, "filters": [
            {"field": "field_count", "op": "contains", "value": "x"}]})
    assert caught.value.status == 422 and "filters.0.op" in caught.value.errors
    with pytest.raises(GatherError) as caught:
        await gather.preview(admin, {**DEFINITION, "filters": [
            {"field": "author", "op": "equals", "argument": "who", "default": "not_found"}]})
    assert caught.value.status == 404 and caught.value.field == "who"
