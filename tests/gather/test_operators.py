"""Every filter operator of DESIGN §9 on base columns and on JSONB fields of every kind,
compared by the field's type; definitions refused with errors naming the bad part."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.gather.conftest import ANONYMOUS, MakeUser, add_tags
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.gather import Gather, GatherError
from trovato.users.accounts import CurrentUser

_names = itertools.count()


async def titles(gather: Gather, user: CurrentUser, filters: list[dict[str, Any]], *,
                 sorts: list[dict[str, Any]] | None = None, **run: Any) -> list[str]:
    admin = CurrentUser(id=user.id, name="admin", is_admin=True)
    name = f"t{next(_names)}"
    await gather.create(admin, {"name": name, "label": name, "filters": filters,
                                "sorts": sorts or [{"field": "title"}],
                                "pager": {"type": "full", "per_page": 100}})
    return [i.title for i in (await gather.run(user, name, **run)).items]


@pytest.fixture
async def items(content: ContentServices, admin: CurrentUser, database: Database
                ) -> dict[str, Any]:
    tags = await add_tags(database, {"science": [], "physics": ["science"],
                                     "quantum": ["physics"], "art": []})
    rows = [
        ("a", {"field_count": 1, "field_price": "1.50", "field_score": 0.5, "field_flag": True,
               "field_day": "2024-01-01", "field_when": "2024-01-01T10:00:00Z",
               "field_kind": "red", "field_words": ["x", "y"],
               "field_tags": [tags["quantum"]], "field_topic": tags["art"],
               "field_body": "The quick brown fox"}),
        ("b", {"field_count": 10, "field_price": "10.00", "field_score": 2.25,
               "field_flag": False, "field_day": "2024-06-30",
               "field_when": "2024-06-30T23:00:00+02:00", "field_kind": "green",
               "field_words": ["y"], "field_tags": [tags["art"], tags["science"]],
               "field_body": "Lazy dogs 100% sleep_in"}),
        ("c", {"field_count": 2, "field_kind": "blue", "field_tags": [tags["physics"]],
               "field_topic": tags["science"]}),
        ("d", {}),
    ]
    for title, values in rows:
        fields: dict[str, Any] = {}
        for key, value in values.items():
            if key in ("field_tags",):
                fields[key] = [{"target_id": str(t)} for t in value]
            elif key == "field_topic":
                fields[key] = {"target_id": str(value)}
            elif key == "field_words":
                fields[key] = [{"value": v} for v in value]
            elif key == "field_body":
                fields[key] = {"value": value, "format": "plain_text"}
            else:
                fields[key] = {"value": value}
        await content.items.create(admin, "article", title=title, fields=fields,
                                   promote=title in "ab", sticky=title == "c")
    await content.items.create(admin, "page", title="p")
    await content.items.create(admin, "article", title="draft", status=0)
    return tags


@pytest.mark.parametrize(("filters", "expected"), [
    ([{"field": "type", "op": "equals", "value": "page"}], ["p"]),
    ([{"field": "type", "op": "not_equals", "value": "page"}], ["a", "b", "c", "d"]),
    ([{"field": "type", "op": "in", "value": ["page", "article"]}], ["a", "b", "c", "d", "p"]),
    ([{"field": "title", "op": "not_in", "value": ["a", "p"]}], ["b", "c", "d"]),
    ([{"field": "promote", "op": "equals", "value": True}], ["a", "b"]),
    ([{"field": "sticky", "op": "equals", "value": True}], ["c"]),
    ([{"field": "field_count", "op": "gt", "value": 1}], ["b", "c"]),
    ([{"field": "field_count", "op": "gte", "value": 2}], ["b", "c"]),
    # Compared as numbers, not as text ("10" < "2" as text).
    ([{"field": "field_count", "op": "lt", "value": 3}], ["a", "c"]),
    ([{"field": "field_count", "op": "lte", "value": 1}], ["a"]),
    ([{"field": "field_count", "op": "between", "value": [2, 10]}], ["b", "c"]),
    ([{"field": "field_count", "op": "not_equals", "value": 1}], ["b", "c", "d", "p"]),
    ([{"field": "field_price", "op": "gte", "value": "2"}], ["b"]),
    ([{"field": "field_score", "op": "lt", "value": 1}], ["a"]),
    ([{"field": "field_flag", "op": "equals", "value": False}], ["b"]),
    ([{"field": "field_day", "op": "gt", "value": "2024-02-01"}], ["b"]),
    # 23:00 at +02:00 is 21:00 UTC.
    ([{"field": "field_when", "op": "lt", "value": "2024-06-30T22:00:00Z"}], ["a", "b"]),
    ([{"field": "field_kind", "op": "in", "value": ["red", "blue"]}], ["a", "c"]),
    ([{"field": "field_words", "op": "equals", "value": "y"}], ["a", "b"]),
    ([{"field": "field_words", "op": "not_equals", "value": "x"}], ["b", "c", "d", "p"]),
    ([{"field": "field_words", "op": "is_null"}], ["c", "d", "p"]),
    ([{"field": "field_count", "op": "is_not_null"}], ["a", "b", "c"]),
    ([{"field": "field_count", "op": "is_null"}], ["d", "p"]),
    ([{"field": "field_body", "op": "contains", "value": "QUICK"}], ["a"]),
    # LIKE wildcards in a value match themselves only.
    ([{"field": "field_body", "op": "contains", "value": "100%"}], ["b"]),
    ([{"field": "field_body", "op": "contains", "value": "p_i"}], ["b"]),
    ([{"field": "field_body", "op": "contains", "value": "%"}], ["b"]),
    ([{"field": "title", "op": "starts_with", "value": "_"}], []),
    ([{"field": "field_body", "op": "ends_with", "value": "FOX"}], ["a"]),
    ([{"field": "field_body", "op": "fulltext", "value": "brown fox cat"}], []),
    ([{"field": "field_body", "op": "fulltext", "value": "brown fox"}], ["a"]),
    # Words stemmed in the site's search language (English): "foxes" finds "fox".
    ([{"field": "field_body", "op": "fulltext", "value": "foxes"}], ["a"]),
    ([{"field": "search", "op": "fulltext", "value": "dogs"}], ["b"]),
    ([{"field": "search", "op": "fulltext", "value": "dog sleeping"}], ["b"]),
    ([{"field": "search", "op": "fulltext", "value": "c"}], ["c"]),
    ([{"group": "or", "filters": [{"field": "title", "op": "equals", "value": "a"},
                                  {"field": "field_count", "op": "equals", "value": 2}]}],
     ["a", "c"]),
    ([{"field": "type", "op": "equals", "value": "article"},
      {"group": "or", "filters": [
          {"field": "field_flag", "op": "equals", "value": True},
          {"group": "and", "filters": [{"field": "field_count", "op": "gt", "value": 1},
                                       {"field": "field_kind", "op": "equals",
                                        "value": "blue"}]}]}],
     ["a", "c"]),
])
async def test_operator(gather: Gather, items: dict[str, Any], filters: list[dict[str, Any]],
                        expected: list[str]) -> None:
    assert await titles(gather, ANONYMOUS, filters) == expected


async def test_tags_and_their_descendants(gather: Gather, items: dict[str, Any]) -> None:
    tags = items
    has = [{"field": "field_tags", "op": "has_tag", "value": str(tags["science"])}]
    assert await titles(gather, ANONYMOUS, has) == ["b"]
    below = [{"field": "field_tags", "op": "has_tag_or_descendants",
              "value": str(tags["science"])}]
    assert await titles(gather, ANONYMOUS, below) == ["a", "b", "c"]
    assert await titles(gather, ANONYMOUS, [{**below[0], "value": str(tags["physics"])}]) == [
        "a", "c"]
    single = [{"field": "field_topic", "op": "has_tag_or_descendants",
               "value": str(tags["science"])}]
    assert await titles(gather, ANONYMOUS, single) == ["c"]
    assert await titles(gather, ANONYMOUS, [{**single[0], "op": "has_tag"}]) == ["c"]


async def test_relative_dates_and_current_user(
    gather: Gather, content: ContentServices, make_user: MakeUser, admin: CurrentUser
) -> None:
    writer = await make_user("writer", ["access content"])
    soon = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    await content.items.create(admin, "article", title="soon",
                               fields={"field_when": {"value": soon}})
    await content.items.create(admin, "article", title="old",
                               fields={"field_when": {"value": old}})
    await content.items.create(admin, "article", title="mine", author_id=writer.id)
    assert await titles(gather, ANONYMOUS, [
        {"field": "field_when", "op": "gt", "value": "-7 days"}]) == ["soon"]
    assert await titles(gather, ANONYMOUS, [
        {"field": "field_when", "op": "lt", "value": "now"}]) == ["old"]
    assert await titles(gather, ANONYMOUS, [
        {"field": "created", "op": "gte", "value": "-1 hour"}]) == ["mine", "old", "soon"]
    assert await titles(gather, ANONYMOUS, [
        {"field": "created", "op": "lt", "value": "1 day ago"}]) == []
    mine = [{"field": "author", "op": "current_user"}]
    assert await titles(gather, writer, mine) == ["mine"]
    assert await titles(gather, ANONYMOUS, mine) == []


@pytest.mark.parametrize(("definition", "part"), [
    ({"filters": [{"field": "field_nope", "op": "equals", "value": 1}]}, "filters.0.field"),
    ({"filters": [{"field": "title", "op": "frobnicate", "value": 1}]}, "filters.0.op"),
    ({"filters": [{"field": "field_count", "op": "contains", "value": "1"}]}, "filters.0.op"),
    ({"filters": [{"field": "field_count", "op": "equals", "value": "ten"}]},
     "filters.0.value"),
    ({"filters": [{"field": "field_count", "op": "between", "value": [1]}]},
     "filters.0.value"),
    ({"filters": [{"field": "field_kind", "op": "equals", "value": "purple"}]},
     "filters.0.value"),
    ({"filters": [{"field": "title", "op": "=", "value": "x"}]}, "filters.0.op"),
    ({"filters": [{"field": "field_count", "op": "gt", "value": 1, "options": ["1"],
                   "exposed": "n"}]}, "filters.0.options"),
    ({"filters": [{"field": "field_price", "op": "gt", "value": "1_000"}]},
     "filters.0.value"),
    ({"filters": [{"field": "field_when", "op": "gt", "value": "2024-01-01"}]},
     "filters.0.value"),
    ({"filters": [{"field": "field_topic", "op": "has_tag",
                   "value": "{12345678-1234-1234-1234-123456789012}"}]}, "filters.0.value"),
    ({"filters": [{"field": "field_day", "op": "gt", "value": "yesterday-ish"}]},
     "filters.0.value"),
    ({"filters": [{"field": "field_flag", "op": "gt", "value": True}]}, "filters.0.op"),
    ({"filters": [{"field": "field_tags", "op": "has_tag", "value": "not-a-uuid"}]},
     "filters.0.value"),
    ({"filters": [{"field": "title", "op": "is_null", "value": "x"}]}, "filters.0.value"),
    ({"filters": [{"field": "title", "op": "has_tag", "value": "x"}]}, "filters.0.op"),
    ({"filters": [{"group": "or", "filters": [{"field": "x", "op": "equals"}]}]},
     "filters.0.filters.0.field"),
    ({"filters": [{"field": "title", "op": "equals", "exposed": "page"}]},
     "filters.0.exposed"),
    ({"sorts": [{"field": "field_words"}]}, "sorts.0.field"),
    ({"sorts": [{"field": "title", "direction": "sideways"}]}, "sorts.0.direction"),
    ({"pager": {"type": "full", "per_page": 1000}}, "pager.per_page"),
    ({"surprise": True}, "surprise"),
    ({"base": "users"}, "base"),
])
async def test_a_bad_definition_is_refused_naming_the_part(
    gather: Gather, admin: CurrentUser, definition: dict[str, Any], part: str
) -> None:
    with pytest.raises(GatherError) as caught:
        await gather.create(admin, {"name": "bad", "label": "Bad", **definition})
    assert caught.value.status == 422
    assert part in caught.value.errors, caught.value.errors
