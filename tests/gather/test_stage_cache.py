"""Gather's result cache in a stage: a staged reader's page comes from the cache like a live
reader's, and every way the stage's content changes — a write in the stage, discarding a
change, publishing — drops the cached pages that showed the old content."""

from __future__ import annotations

from typing import Any

from trovato.content.services import ContentServices
from trovato.gather import Gather
from trovato.users.accounts import CurrentUser

STAGE = "s"
NEWS: dict[str, Any] = {
    "name": "news", "label": "News",
    "filters": [{"field": "type", "op": "equals", "value": "article"}],
    "sorts": [{"field": "title"}], "pager": {"type": "full", "per_page": 10}}


async def _titles(gather: Gather, user: CurrentUser, stage: str) -> list[str]:
    return [item.title for item in (await gather.run(user, "news", stage=stage)).items]


async def test_staged_pages_are_cached_and_dropped_by_stage_writes_discards_and_publish(
    gather: Gather, content: ContentServices, admin: CurrentUser,
) -> None:
    async def invalidate(tags: Any) -> None:
        gather.cache.drop(list(tags))

    gather.invalidate = None
    content.items.invalidate = invalidate
    items = [await content.items.create(admin, "article", title=f"t{n}") for n in range(3)]
    await content.items.stages.create(admin, STAGE, "Spring")
    await gather.create(admin, NEWS)
    await content.items.update(admin, items[0].id, title="t0 staged", stage=STAGE)

    first = await gather.run(admin, "news", stage=STAGE)
    assert [item.title for item in first.items] == ["t0 staged", "t1", "t2"]
    # The staged reader's second read is the cached page, not a new statement.
    assert (await gather.run(admin, "news", stage=STAGE)).items is first.items
    live = await gather.run(admin, "news")
    assert live.items is not first.items
    assert [item.title for item in live.items] == ["t0", "t1", "t2"]
    assert (await gather.run(admin, "news")).items is live.items

    await content.items.update(admin, items[1].id, title="t1 staged", stage=STAGE)
    assert await _titles(gather, admin, STAGE) == ["t0 staged", "t1 staged", "t2"]
    await content.items.delete(admin, items[2].id, stage=STAGE)
    assert await _titles(gather, admin, STAGE) == ["t0 staged", "t1 staged"]
    assert await _titles(gather, admin, "live") == ["t0", "t1", "t2"]

    await content.staging.discard(admin, STAGE, items[1].id)
    assert await _titles(gather, admin, STAGE) == ["t0 staged", "t1"]
    await content.staging.discard(admin, STAGE, items[2].id)
    assert await _titles(gather, admin, STAGE) == ["t0 staged", "t1", "t2"]

    await content.staging.publish(admin, STAGE)
    assert await _titles(gather, admin, "live") == ["t0 staged", "t1", "t2"]


async def test_a_stage_created_again_under_a_deleted_ones_id_sees_none_of_its_pages(
    gather: Gather, content: ContentServices, admin: CurrentUser,
) -> None:
    stages = content.items.stages
    stages.on_change = gather.cache.clear  # as the kernel wires it
    item = await content.items.create(admin, "article", title="live")
    await gather.create(admin, NEWS)
    await stages.create(admin, STAGE, "Spring")
    await content.items.update(admin, item.id, title="old stage's", stage=STAGE)
    assert await _titles(gather, admin, STAGE) == ["old stage's"]
    await stages.delete(admin, STAGE)
    await stages.create(admin, STAGE, "Spring again")
    assert await _titles(gather, admin, STAGE) == ["live"]
