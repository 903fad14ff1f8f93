"""Property: for random definitions over a seeded dataset, Gather returns what a plain Python
evaluation of the same definition returns — the same items in the same order, the same total,
the same refusal of a page past the end, the same fields read through relationships — as the
administrator, an author with drafts, the anonymous visitor, and in a stage (whose edits and
new items only it sees).

The oracle starts from what the item query path lets the reader see (``ItemQuery.list``, the
established read path) and applies the filters, sorts and pager in Python with SQL's rules
written out: an empty value matches no comparison except ``not_equals``/``not_in``/``is_null``;
a multi-valued field matches when any value does (``not_*``: when none does); text matching is
case-insensitive; empty values sort last; the id breaks ties in the last sort's direction.
Every definition joins the author (``writer``) and a page's parent item (``parent``, sometimes
required): a parent the reader cannot see in the item query path's list reads as empty (and a
required one drops the page).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import open_database
from tests.gather.conftest import ARTICLE, NoTaps
from trovato.content.items import Item
from trovato.content.services import ContentServices
from trovato.gather import Gather, GatherError
from trovato.ids import NIL
from trovato.names import name_key
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import PermissionRegistry

LETTERS = "abcd"
KINDS = ["red", "green", "blue"]
_names = itertools.count()


@dataclass
class Site:
    admin: CurrentUser
    author: CurrentUser


_seeded: dict[str, Site] = {}


async def _seed(db_url: str) -> Site:
    async with open_database(db_url) as db:
        content = await ContentServices.start(db, PermissionRegistry())
        await content.types.create(ARTICLE)
        await content.types.create({"type": "page", "label": "Page", "fields": [
            {"name": "field_parent", "type": "reference", "label": "Parent",
             "settings": {"target_type": "item"}}]})
        people = []
        for name in ("admin", "author"):
            user_id = uuid.uuid4()
            await db.execute("INSERT INTO users (id, name, name_key, status) "
                             "VALUES (%s, %s, %s, 1)", (user_id, name, name_key(name)))
            people.append(user_id)
        site = Site(CurrentUser(id=people[0], name="admin", is_admin=True),
                    CurrentUser(id=people[1], name="author",
                                permissions=frozenset({"access content",
                                                       "create article content",
                                                       "create page content"})))
        rng = random.Random(7)
        await db.execute("INSERT INTO stage (id, label) VALUES ('s', 'S')")
        created: list[Item] = []
        for n in range(26):
            fields: dict[str, Any] = {}
            if rng.random() < 0.8:
                fields["field_count"] = {"value": rng.randint(-3, 6)}
            if rng.random() < 0.6:
                fields["field_kind"] = {"value": rng.choice(KINDS)}
            words = rng.sample(LETTERS, rng.randint(0, 3))
            if words:
                fields["field_words"] = [{"value": w} for w in words]
            if n % 7 == 3:  # a page, under an earlier item (some unpublished)
                fields = {"field_parent": {"target_id": str(rng.choice(created).id)}}
            item = await content.items.create(
                site.author if n % 4 == 0 else site.admin, "page" if n % 7 == 3 else "article",
                title="".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 3))),
                status=0 if n % 5 == 0 else 1, promote=rng.random() < 0.5,
                sticky=rng.random() < 0.2, fields=fields)
            created.append(item)
        # The stage's own item and its edit of a live one.
        await content.items.create(site.admin, "article", title="dd", stage="s",
                                   fields={"field_count": {"value": 2}})
        await content.items.update(site.admin, created[1].id, title="abc", stage="s",
                                   fields={"field_count": {"value": 9}})
        return site


# -- the oracle ------------------------------------------------------------------------------------


@dataclass
class Seen:
    """What the reader sees: items by id (for joined parents) and the authors' names."""

    items: dict[uuid.UUID, Item]
    names: dict[uuid.UUID, str]

    def parent(self, item: Item) -> Item | None:
        raw = item.fields.get("field_parent")
        return self.items.get(uuid.UUID(raw["target_id"])) if raw else None


def _values(item: Item, field: str, seen: Seen) -> list[Any]:
    if field == "writer.name":
        return [seen.names[item.author_id]]
    if field == "parent.title":
        parent = seen.parent(item)
        return [parent.title] if parent is not None else []
    if field in ("title", "status", "promote", "sticky", "type"):
        return [getattr(item, field)]
    raw = item.fields.get(field)
    values = raw if isinstance(raw, list) else [raw] if raw else []
    return [v["value"] for v in values if v and v.get("value") is not None]


def _test(x: Any, op: str, value: Any) -> bool:
    if op == "equals":
        return bool(x == value)
    if op == "lt":
        return bool(x < value)
    if op == "lte":
        return bool(x <= value)
    if op == "gt":
        return bool(x > value)
    if op == "gte":
        return bool(x >= value)
    if op == "between":
        return bool(value[0] <= x <= value[1])
    if op == "in":
        return x in value
    if op == "contains":
        return value.lower() in x.lower()
    if op == "starts_with":
        return bool(x.lower().startswith(value.lower()))
    raise AssertionError(op)


def _matches(item: Item, part: dict[str, Any], seen: Seen) -> bool:
    if "group" in part:
        results = [_matches(item, p, seen) for p in part["filters"]]
        return all(results) if part["group"] == "and" else any(results)
    values = _values(item, part["field"], seen)
    op, value = part["op"], part.get("value")
    if op == "is_null":
        return not values
    if op == "is_not_null":
        return bool(values)
    if op == "not_equals":
        return not any(x == value for x in values)
    if op == "not_in":
        return not any(x in value for x in values)
    return any(_test(x, op, value) for x in values)


def _ordered(items: list[Item], sorts: list[dict[str, Any]], seen: Seen) -> list[Item]:
    keys = [(s["field"], s["direction"] == "desc") for s in sorts] or [("created", True)]
    result = sorted(items, key=lambda i: i.id, reverse=keys[-1][1])
    for field, descending in reversed(keys):
        def key(item: Item, field: str = field) -> Any:
            values = [item.created] if field == "created" else _values(item, field, seen)
            return values[0] if values else None
        present = [i for i in result if key(i) is not None]
        missing = [i for i in result if key(i) is None]
        result = sorted(present, key=key, reverse=descending) + missing
    return result


# -- random definitions ---------------------------------------------------------------------------

_text = st.text(LETTERS, min_size=1, max_size=2)
_count = st.integers(-4, 10)


def _leaf() -> st.SearchStrategy[dict[str, Any]]:
    def one(field: str, op: str, value: st.SearchStrategy[Any] | None
            ) -> st.SearchStrategy[dict[str, Any]]:
        if value is None:
            return st.just({"field": field, "op": op})
        return value.map(lambda v: {"field": field, "op": op, "value": v})

    return st.one_of(
        *(one("title", op, _text) for op in ("equals", "contains", "starts_with", "gte")),
        one("title", "in", st.lists(_text, min_size=1, max_size=3)),
        one("status", "equals", st.integers(0, 1)),
        one("promote", "equals", st.booleans()), one("sticky", "not_equals", st.booleans()),
        one("type", "equals", st.sampled_from(["article", "page"])),
        *(one("field_count", op, _count) for op in
          ("equals", "not_equals", "lt", "lte", "gt", "gte")),
        one("field_count", "between", st.tuples(_count, _count).map(sorted)),
        one("field_count", "not_in", st.lists(_count, min_size=1, max_size=3)),
        one("field_count", "is_null", None), one("field_count", "is_not_null", None),
        one("field_kind", "in", st.lists(st.sampled_from(KINDS), min_size=1, max_size=2)),
        *(one("field_words", op, st.sampled_from(list(LETTERS)))
          for op in ("equals", "not_equals")),
        one("field_words", "is_null", None),
        one("writer.name", "equals", st.sampled_from(["admin", "author"])),
        *(one("parent.title", op, _text) for op in ("equals", "contains", "not_equals")),
        one("parent.title", "is_null", None),
    )


_filters = st.recursive(
    _leaf(), lambda inner: st.builds(lambda g, f: {"group": g, "filters": f},
                                     st.sampled_from(["and", "or"]),
                                     st.lists(inner, min_size=1, max_size=3)),
    max_leaves=5)
_sorts = st.lists(st.builds(lambda f, d: {"field": f, "direction": d},
                            st.sampled_from(["title", "field_count", "created", "sticky",
                                             "status", "field_kind", "writer.name",
                                             "parent.title"]),
                            st.sampled_from(["asc", "desc"])),
                  max_size=2, unique_by=lambda s: s["field"])
_definitions = st.builds(
    lambda filters, sorts, pager, per_page, required: {
        "relationships": [{"name": "writer", "field": "author"},
                          {"name": "parent", "field": "field_parent", "required": required}],
        "fields": ["parent.title", "writer.name"],
        "filters": filters, "sorts": sorts, "pager": {"type": pager, "per_page": per_page}},
    st.lists(_filters, max_size=3), _sorts, st.sampled_from(["full", "mini", "none"]),
    st.integers(1, 7), st.booleans())


async def _check(db_url: str, document: dict[str, Any], reader: str, page: int) -> None:
    site = _seeded[db_url]
    users = {"admin": site.admin, "author": site.author, "staged": site.admin,
             "anonymous": CurrentUser(id=NIL, name="", permissions=frozenset(
                 {"access content"}))}
    user, stage = users[reader], "s" if reader == "staged" else "live"
    async with open_database(db_url) as db:
        content = await ContentServices.start(db, PermissionRegistry())
        gather = Gather(db, content.query, content.types, NoTaps())  # type: ignore[arg-type]
        name = f"p{next(_names)}"
        await gather.put(site.admin, name, {**document, "name": name, "label": name})
        listed = (await content.query.list(user, stage=stage, limit=100)).items
        seen = Seen({i.id: i for i in listed}, {site.admin.id: "admin", site.author.id: "author"})
        required = document["relationships"][1]["required"]
        matches = _ordered([i for i in listed
                            if all(_matches(i, f, seen) for f in document["filters"])
                            and (not required or seen.parent(i) is not None)],
                           document["sorts"], seen)
        pager, size = document["pager"]["type"], document["pager"]["per_page"]
        shown = matches[page * size:(page + 1) * size]
        past_end = page > 0 and (not shown or pager == "none")
        try:
            result = await gather.run(user, name, page=page, stage=stage)
        except GatherError as exc:
            assert past_end and exc.status == 404, (document, exc)
            return
        assert not past_end, document
        assert [i.id for i in result.items] == [i.id for i in shown], document
        assert result.total == (len(matches) if pager == "full" else None), document
        assert result.records == [
            {"parent.title": (_values(i, "parent.title", seen) or [None])[0],
             "writer.name": seen.names[i.author_id]} for i in shown], document
        # The same page again comes from the cache, identical.
        again = await gather.run(user, name, page=page, stage=stage)
        assert [i.id for i in again.items] == [i.id for i in result.items]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(document=_definitions, reader=st.sampled_from(["admin", "author", "anonymous",
                                                      "staged"]),
       page=st.integers(0, 3))
def test_gather_agrees_with_a_python_evaluation(db_url: str, document: dict[str, Any],
                                                reader: str, page: int) -> None:
    if db_url not in _seeded:
        _seeded[db_url] = asyncio.run(_seed(db_url))
    asyncio.run(_check(db_url, document, reader, page))
