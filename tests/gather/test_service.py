"""The Gather service beyond operators: versions and the definition cache, plugin votes on
listings (pages stay full, totals count only what passed), ``gather_alter`` and
``gather_result_alter``, the keyset pages of the full pager, and the result cache dropped by
item tags."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.gather.conftest import ANONYMOUS, add_tags
from trovato.content.access import Operation, Vote
from trovato.content.items import Item, ItemHooks
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.gather import Gather, GatherError
from trovato.users.accounts import CurrentUser


def _definition(name: str = "news", **changes: Any) -> dict[str, Any]:
    return {"name": name, "label": "News", "filters": [
        {"field": "type", "op": "equals", "value": "article"}],
        "sorts": [{"field": "title"}], "pager": {"type": "full", "per_page": 3}, **changes}


async def _titles(gather: Gather, user: CurrentUser, name: str = "news", **run: Any
                  ) -> tuple[list[str], int | None]:
    result = await gather.run(user, name, **run)
    return [i.title for i in result.items], result.total


async def _articles(content: ContentServices, admin: CurrentUser, titles: list[str]) -> None:
    for title in titles:
        await content.items.create(admin, "article", title=title)


async def test_keyset_pages_match_offset_pages_and_follow_writes(
    gather: Gather, content: ContentServices, admin: CurrentUser
) -> None:
    await _articles(content, admin, [f"t{n:02}" for n in range(10)])
    await gather.create(admin, _definition())
    pages = [await _titles(gather, ANONYMOUS, page=n) for n in range(4)]
    assert pages == [(["t00", "t01", "t02"], 10), (["t03", "t04", "t05"], 10),
                     (["t06", "t07", "t08"], 10), (["t09"], 10)]
    with pytest.raises(GatherError) as caught:
        await gather.run(ANONYMOUS, "news", page=4)
    assert caught.value.status == 404
    # The cached map and pages are dropped by the item's tags when an item is written.
    gather.invalidate = None
    content.items.invalidate = _dropping(gather)
    await content.items.create(admin, "article", title="t015")
    assert await _titles(gather, ANONYMOUS, page=0) == (["t00", "t01", "t015"], 11)
    assert await _titles(gather, ANONYMOUS, page=3) == (["t08", "t09"], 11)


def _dropping(gather: Gather) -> Any:
    async def invalidate(tags: Any) -> None:
        gather.cache.drop(list(tags))
    return invalidate


async def test_versions_and_the_definition_cache(gather: Gather, admin: CurrentUser,
                                                 content: ContentServices) -> None:
    await _articles(content, admin, ["b", "a"])
    first = await gather.create(admin, _definition())
    assert first.version == 1
    assert await _titles(gather, ANONYMOUS) == (["a", "b"], 2)
    second = await gather.put(admin, "news", _definition(sorts=[
        {"field": "title", "direction": "desc"}]))
    assert second.version == 2
    assert await _titles(gather, ANONYMOUS) == (["b", "a"], 2)
    with pytest.raises(GatherError) as caught:
        await gather.run(CurrentUser(id=admin.id, name="x"), "news")  # no access content
    assert caught.value.status == 403
    await gather.put(admin, "news", _definition(access="administer content"))
    with pytest.raises(GatherError):
        await gather.run(ANONYMOUS, "news")
    with pytest.raises(GatherError) as caught:
        await gather.create(ANONYMOUS, _definition(name="other"))
    assert caught.value.status == 403


class DenyTitled(ItemHooks):
    def reads_items(self) -> bool:
        return True

    async def access(self, item: Item, op: Operation, user: CurrentUser) -> Vote:
        return Vote.DENY if item.title.startswith("deny") else Vote.NEUTRAL


async def test_plugin_votes_keep_pages_full_and_totals_exact(
    gather: Gather, content: ContentServices, admin: CurrentUser
) -> None:
    titles = [f"{'deny' if n % 3 == 0 else 'keep'} {n:02}" for n in range(12)]
    await _articles(content, admin, titles)
    await gather.create(admin, _definition())
    content.items.hooks = DenyTitled()
    kept = sorted(t for t in titles if t.startswith("keep"))
    assert await _titles(gather, ANONYMOUS) == (kept[:3], len(kept))
    assert await _titles(gather, ANONYMOUS, page=2) == (kept[6:], len(kept))


@dataclass
class Outcome:
    value: Any


@dataclass
class AlteringTaps:
    """A tap door whose plugins change definitions and results (recorded)."""

    alter: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    fired: list[str] = field(default_factory=list)

    def listens(self, tap: str) -> bool:
        return (tap == "gather_alter" and self.alter is not None) or (
            tap == "gather_result_alter" and self.result is not None)

    async def fire(self, tap: str, payload: dict[str, Any], **_: Any) -> Outcome:
        self.fired.append(tap)
        if tap == "gather_alter":
            assert self.alter is not None
            return Outcome({**payload["query"], **self.alter})
        assert self.result is not None
        items = payload["result"]["items"]
        return Outcome({**payload["result"], "items": [items[i]["id"] for i in
                                                       self.result["order"]
                                                       if i < len(items)],
                        "total": self.result["total"]})


async def test_gather_alter_and_gather_result_alter(
    database: Database, content: ContentServices, admin: CurrentUser
) -> None:
    taps = AlteringTaps(alter={"sorts": [{"field": "title", "direction": "desc"}]})
    gather = Gather(database, content.query, content.types, taps)  # type: ignore[arg-type]
    await _articles(content, admin, ["a", "b", "c", "d"])
    await gather.create(admin, _definition())
    assert await _titles(gather, ANONYMOUS) == (["d", "c", "b"], 4)
    # An altered definition is checked like any other; a refused change is logged and the
    # stored definition runs (the visitor cannot mend a plugin).
    taps.alter = {"filters": [{"field": "nope", "op": "equals", "value": 1}]}
    assert await _titles(gather, ANONYMOUS) == (["a", "b", "c"], 4)
    # What runs is checked for access again: a plugin turning the listing into one of users
    # does not show them to a reader without ``access user profiles``.
    taps.alter = {"base": "user", "filters": [], "sorts": []}
    with pytest.raises(GatherError) as caught:
        await gather.run(ANONYMOUS, "news")
    assert caught.value.status == 403
    taps.alter = None
    # A plugin may drop and reorder a page's items, and change the total; never add any.
    taps.result = {"order": [2, 0, 7], "total": 99}
    assert await _titles(gather, ANONYMOUS) == (["c", "a"], 99)
    assert taps.fired[-1] == "gather_result_alter"


async def test_exposed_values_are_checked(gather: Gather, admin: CurrentUser,
                                          content: ContentServices) -> None:
    await _articles(content, admin, ["a"])
    await gather.create(admin, _definition(filters=[
        {"field": "field_count", "op": "between", "exposed": "range"},
        {"field": "field_kind", "op": "equals", "exposed": "kind"},
        {"field": "created", "op": "gte", "exposed": "since"}]))
    for params, bad in (({"range": "1"}, "range"), ({"range": "a,b"}, "range"),
                        ({"kind": "purple"}, "kind"), ({"since": "soon"}, "since")):
        with pytest.raises(GatherError) as caught:
            await gather.run(ANONYMOUS, "news", exposed=params)
        assert caught.value.status == 400 and bad in caught.value.errors
    assert await _titles(gather, ANONYMOUS, exposed={"since": "-1 day", "range": ""}) == (
        ["a"], 1)


async def test_contextual_arguments_with_defaults_and_tag_slugs(
    gather: Gather, content: ContentServices, admin: CurrentUser, database: Database,
    make_user: Any,
) -> None:
    tags = await add_tags(database, {"science": [], "physics": ["science"], "art": []})
    writer = await make_user("writer", ["access content"])
    for title, topic, author in (("a", "physics", admin), ("b", "art", writer),
                                 ("c", "science", admin)):
        await content.items.create(admin, "article", title=title, author_id=author.id,
                                   fields={"field_topic": {"target_id": str(tags[topic])}})
    topic = {"field": "field_topic", "op": "has_tag_or_descendants", "argument": "topic",
             "default": "not_found"}
    await gather.create(admin, _definition(filters=[topic]))
    assert await _titles(gather, ANONYMOUS, arguments={"topic": "science"}) == (["a", "c"], 2)
    assert await _titles(gather, ANONYMOUS, arguments={"topic": str(tags["art"])}) == (
        ["b"], 1)
    for given in ({}, {"topic": "nothing"}, {"topic": "12"}):
        with pytest.raises(GatherError) as caught:
            await gather.run(ANONYMOUS, "news", arguments=given)
        assert caught.value.status == 404 and caught.value.field == "topic"
    await gather.put(admin, "news", _definition(filters=[{**topic, "default": "ignore"}]))
    assert await _titles(gather, ANONYMOUS) == (["a", "b", "c"], 3)
    await gather.put(admin, "news", _definition(filters=[
        {**topic, "default": "fixed", "value": str(tags["physics"])}]))
    assert await _titles(gather, ANONYMOUS) == (["a"], 1)
    await gather.put(admin, "news", _definition(filters=[
        {"field": "author", "op": "equals", "argument": "who", "default": "current_user"}]))
    assert await _titles(gather, writer) == (["b"], 1)
    assert await _titles(gather, writer, arguments={"who": str(admin.id)}) == (["a", "c"], 2)


@pytest.mark.parametrize(("change", "part"), [
    ({"exposed": "t"}, "filters.0.argument"),
    ({"argument": None}, "filters.0.default"),
    ({"default": "fixed"}, "filters.0.value"),
    ({"value": "x"}, "filters.0.value"),
    ({"default": "current_user"}, "filters.0.default"),
    ({"op": "in"}, "filters.0.op"),
    ({"argument": "page"}, "filters.0.argument"),
])
async def test_a_bad_argument_is_refused_naming_the_part(
    gather: Gather, admin: CurrentUser, change: dict[str, Any], part: str
) -> None:
    argument = {"field": "title", "op": "equals", "argument": "t", "default": "ignore",
                **change}
    with pytest.raises(GatherError) as caught:
        await gather.create(admin, _definition(filters=[argument]))
    assert caught.value.status == 422 and part in caught.value.errors, caught.value.errors
