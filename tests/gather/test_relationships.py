"""Relationships (author, references to items, users and tags) and the user and tag bases:
fields, filters and sorts through a join, a joined record the reader may not see read as
NULL (or, required, dropping the row), the max joins guardrail, names that try to reach
other tables, and what a user listing may never show."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.gather.conftest import ANONYMOUS, MakeUser, add_tags
from trovato.content.access import Operation, Vote
from trovato.content.items import Item, ItemHooks
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.gather import Gather, GatherError
from trovato.gather.definition import MAX_JOINS
from trovato.observability.profiler import Profile, current_profile
from trovato.users.accounts import CurrentUser

REVIEW: dict[str, Any] = {
    "type": "review",
    "label": "Review",
    "fields": [
        {"name": "field_rating", "type": "integer", "label": "Rating"},
        {"name": "field_related", "type": "reference", "label": "Related",
         "settings": {"target_type": "item"}},
        {"name": "field_editor", "type": "reference", "label": "Editor",
         "settings": {"target_type": "user"}},
        {"name": "field_links", "type": "reference", "label": "Links", "cardinality": -1,
         "settings": {"target_type": "item"}},
        {"name": "field_topic", "type": "reference", "label": "Topic",
         "settings": {"target_type": "category_tag"}},
    ],
}
# The stored definition, then the map under the statement guardrail (its ``set_config`` and
# the statement), then the page.
FIRST_PAGE_QUERIES = 4
PROFILES = frozenset({"access content", "access user profiles"})


def _ref(target: Any) -> dict[str, str]:
    return {"target_id": str(target)}


@pytest.fixture
async def site(content: ContentServices, admin: CurrentUser, make_user: MakeUser,
               database: Database) -> dict[str, Any]:
    """Reviews of articles: ``r1`` of the published ``A`` (rating 3) by bob, ``r2`` of the
    unpublished ``B`` (rating 5) by carol, ``r3`` of nothing by bob."""
    await content.types.create(REVIEW)
    tags = await add_tags(database, {"science": [], "art": []})
    bob = await make_user("bob")
    carol = await make_user("carol")
    a = await content.items.create(admin, "review", title="A", fields={
        "field_rating": {"value": 3}, "field_topic": _ref(tags["science"])})
    b = await content.items.create(admin, "review", title="B", status=0, fields={
        "field_rating": {"value": 5}})
    await content.items.create(admin, "review", title="r1", author_id=bob.id, fields={
        "field_related": _ref(a.id), "field_editor": _ref(carol.id),
        "field_rating": {"value": 1}})
    await content.items.create(admin, "review", title="r2", author_id=carol.id, fields={
        "field_related": _ref(b.id), "field_editor": _ref(bob.id),
        "field_rating": {"value": 2}})
    await content.items.create(admin, "review", title="r3", author_id=bob.id,
                               fields={"field_rating": {"value": 3}})
    return {"a": a, "b": b, "bob": bob, "carol": carol, "tags": tags}


def _reviews(**changes: Any) -> dict[str, Any]:
    return {"name": "reviews", "label": "Reviews",
            "relationships": [{"name": "related", "field": "field_related"},
                              {"name": "author", "field": "author"},
                              {"name": "editor", "field": "field_editor"}],
            "fields": ["related.title", "related.field_rating", "author.name", "editor.name"],
            "filters": [{"field": "title", "op": "starts_with", "value": "r"}],
            "sorts": [{"field": "title"}], **changes}


def _rows(result: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(item.title, record) for item, record in zip(result.items, result.records,
                                                         strict=True)]


async def test_fields_through_relationships_and_unseen_joins_read_null(
    gather: Gather, admin: CurrentUser, site: dict[str, Any]
) -> None:
    await gather.create(admin, _reviews())
    anonymous = _rows(await gather.run(ANONYMOUS, "reviews"))
    assert anonymous == [
        ("r1", {"related.title": "A", "related.field_rating": {"value": 3},
                "author.name": "bob", "editor.name": "carol"}),
        # B is unpublished: the anonymous reader does not see its title or rating.
        ("r2", {"related.title": None, "related.field_rating": None,
                "author.name": "carol", "editor.name": "bob"}),
        ("r3", {"related.title": None, "related.field_rating": None,
                "author.name": "bob", "editor.name": None}),
    ]
    seen = _rows(await gather.run(admin, "reviews"))
    assert seen[1][1]["related.title"] == "B"
    # The JSON display's shape: each item with its ``related`` fields.
    public = (await gather.run(ANONYMOUS, "reviews")).public()
    assert public[0]["related"]["author.name"] == "bob" and public[0]["title"] == "r1"


async def test_filters_and_sorts_through_relationships(
    gather: Gather, admin: CurrentUser, site: dict[str, Any]
) -> None:
    await gather.create(admin, _reviews(filters=[
        {"field": "related.field_rating", "op": "gte", "value": 1}]))
    # r2's related item is unpublished: the filter cannot see its rating either.
    assert [i.title for i in (await gather.run(ANONYMOUS, "reviews")).items] == ["r1"]
    assert [i.title for i in (await gather.run(admin, "reviews")).items] == ["r1", "r2"]
    await gather.put(admin, "reviews", _reviews(sorts=[
        {"field": "editor.name", "direction": "desc"}, {"field": "title"}]))
    result = await gather.run(ANONYMOUS, "reviews")
    # Empty values last, whatever the direction.
    assert [i.title for i in result.items] == ["r1", "r2", "r3"]
    assert result.total == 3
    await gather.put(admin, "reviews", _reviews(filters=[
        {"field": "author.name", "op": "equals", "exposed": "by"}]))
    by_carol = await gather.run(ANONYMOUS, "reviews", exposed={"by": "carol"})
    assert [i.title for i in by_carol.items] == ["r2"] and by_carol.total == 1


async def test_required_relationship_drops_rows_and_counts(
    gather: Gather, admin: CurrentUser, site: dict[str, Any]
) -> None:
    await gather.create(admin, _reviews(relationships=[
        {"name": "related", "field": "field_related", "required": True}],
        fields=["related.title"]))
    result = await gather.run(ANONYMOUS, "reviews")
    assert [i.title for i in result.items] == ["r1"] and result.total == 1
    result = await gather.run(admin, "reviews")
    assert [i.title for i in result.items] == ["r1", "r2"] and result.total == 2


async def test_tag_relationship(gather: Gather, admin: CurrentUser,
                                site: dict[str, Any]) -> None:
    await gather.create(admin, {
        "name": "topics", "label": "Topics",
        "relationships": [{"name": "topic", "field": "field_topic", "required": True}],
        "fields": ["topic.name", "topic.slug", "topic.vocabulary"],
        "filters": [{"field": "topic.vocabulary", "op": "equals", "value": "topics"}]})
    result = await gather.run(ANONYMOUS, "topics")
    assert _rows(result) == [("A", {"topic.name": "science", "topic.slug": "science",
                                    "topic.vocabulary": "topics"})]


class DenyA(ItemHooks):
    def reads_items(self) -> bool:
        return True

    async def access(self, item: Item, op: Operation, user: CurrentUser) -> Vote:
        return Vote.DENY if item.title == "A" else Vote.NEUTRAL


async def test_plugin_votes_reach_joined_items(
    gather: Gather, content: ContentServices, admin: CurrentUser, site: dict[str, Any]
) -> None:
    await gather.create(admin, _reviews())
    content.items.hooks = DenyA()
    rows = _rows(await gather.run(ANONYMOUS, "reviews"))
    assert rows[0] == ("r1", {"related.title": None, "related.field_rating": None,
                              "author.name": "bob", "editor.name": "carol"})
    await gather.put(admin, "reviews", _reviews(relationships=[
        {"name": "related", "field": "field_related", "required": True}],
        fields=["related.title"]))
    # A reader who sees the unpublished B but whom the vote refuses A.
    editor = CurrentUser(id=uuid.uuid4(), name="e", permissions=frozenset(
        {"access content", "view unpublished content"}))
    result = await gather.run(editor, "reviews")
    assert [i.title for i in result.items] == ["r2"] and result.total == 1


async def test_max_joins_guardrail(gather: Gather, admin: CurrentUser,
                                   site: dict[str, Any]) -> None:
    many = [{"name": f"r{n}", "field": "author"} for n in range(MAX_JOINS + 1)]
    with pytest.raises(GatherError) as caught:
        await gather.create(admin, _reviews(relationships=many, fields=[]))
    assert caught.value.status == 422
    assert "max joins" in caught.value.message and "relationships" in caught.value.errors


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"relationships": [{"name": "x; DROP TABLE users", "field": "author"}]},
     "relationships.0.name"),
    ({"relationships": [{"name": "pw", "field": "author\" FROM users --"}]},
     "relationships.0.field"),
    ({"relationships": [{"name": "pw", "field": "field_rating"}]}, "relationships.0.field"),
    ({"relationships": [{"name": "many", "field": "field_links"}]}, "relationships.0.field"),
    # One name for two different joins (the same join written twice is that one join).
    ({"relationships": [{"name": "a", "field": "author"},
                        {"name": "a", "field": "author", "required": True}]},
     "relationships.1.name"),
    ({"fields": ["author.pass"]}, "fields.0"),
    ({"fields": ["author.mail"]}, "fields.0"),
    ({"fields": ["editor.created"]}, "fields.0"),
    ({"fields": ["sessions.id"]}, "fields.0"),
    ({"fields": ["author.name.x"]}, "fields.0"),
    ({"fields": ["author.name') FROM users --"]}, "fields.0"),
    ({"filters": [{"field": "users.pass", "op": "is_not_null"}]}, "filters.0.field"),
    ({"filters": [{"field": "author.pass", "op": "is_not_null"}]}, "filters.0.field"),
    ({"sorts": [{"field": "author.mail"}]}, "sorts.0.field"),
    ({"sorts": [{"field": "related.field_links"}]}, "sorts.0.field"),
]


async def test_names_that_reach_elsewhere_are_refused(
    gather: Gather, admin: CurrentUser, site: dict[str, Any]
) -> None:
    for changes, part in REFUSED:
        with pytest.raises(GatherError) as caught:
            await gather.create(admin, _reviews(**changes))
        assert caught.value.status == 422
        assert part in caught.value.errors, (changes, caught.value.errors)


# -- bases ---------------------------------------------------------------------------------------


async def test_user_base_lists_active_users_public_columns_only(
    gather: Gather, admin: CurrentUser, make_user: MakeUser, database: Database,
    site: dict[str, Any]
) -> None:
    await database.execute("UPDATE users SET mail = name || '@example.com', pass = 'secret'")
    blocked = await make_user("dave")
    await database.execute("UPDATE users SET status = 0 WHERE id = %s", (blocked.id,))
    await gather.create(admin, {"name": "people", "label": "People", "base": "user",
                                "filters": [{"field": "name", "op": "not_equals",
                                             "value": "admin"}],
                                "fields": ["name", "created"]})
    reader = CurrentUser(id=uuid.uuid4(), name="r", permissions=PROFILES)
    result = await gather.run(reader, "people")
    assert [r["name"] for r in result.records] == ["bob", "carol"]
    assert result.items == [] and result.total == 2
    assert set(result.records[0]) == {"id", "name", "created"}
    assert result.public() == result.records
    # Without the permission to see profiles, no user listing.
    with pytest.raises(GatherError) as caught:
        await gather.run(ANONYMOUS, "people")
    assert caught.value.status == 403
    # An administrator of users also sees the mail address; nobody ever sees ``pass``.
    manager = CurrentUser(id=uuid.uuid4(), name="m",
                          permissions=PROFILES | {"administer users"})
    managed = await gather.run(manager, "people")
    assert managed.records[0]["mail"] == "bob@example.com"
    assert all("pass" not in record for record in managed.records)


async def test_user_base_mail_needs_administer_users(
    gather: Gather, admin: CurrentUser, database: Database, site: dict[str, Any]
) -> None:
    await database.execute("UPDATE users SET mail = name || '@example.com'")
    await gather.create(admin, {"name": "bymail", "label": "By mail", "base": "user",
                                "filters": [{"field": "mail", "op": "starts_with",
                                             "exposed": "mail"}]})
    reader = CurrentUser(id=uuid.uuid4(), name="r", permissions=PROFILES)
    with pytest.raises(GatherError) as caught:
        await gather.run(reader, "bymail", exposed={"mail": "bob"})
    assert caught.value.status == 403 and "administer users" in caught.value.message
    manager = CurrentUser(id=uuid.uuid4(), name="m",
                          permissions=PROFILES | {"administer users"})
    found = await gather.run(manager, "bymail", exposed={"mail": "bob"})
    assert [r["name"] for r in found.records] == ["bob"]


async def test_user_base_names_only_its_whitelist(gather: Gather, admin: CurrentUser) -> None:
    for field in ["pass", "data", "is_admin", "status", "login", "title", "users.pass",
                  "search"]:
        with pytest.raises(GatherError) as caught:
            await gather.create(admin, {"name": "people", "label": "People", "base": "user",
                                        "fields": [field]})
        assert caught.value.status == 422 and "fields.0" in caught.value.errors


async def test_tag_base(gather: Gather, admin: CurrentUser, database: Database) -> None:
    await add_tags(database, {"b": [], "a": [], "c": []})
    await database.execute("UPDATE category_tag SET weight = 1 WHERE name = 'a'")
    await gather.create(admin, {"name": "tags", "label": "Tags", "base": "tag",
                                "filters": [{"field": "vocabulary", "op": "equals",
                                             "value": "topics"}]})
    result = await gather.run(ANONYMOUS, "tags")
    assert [r["name"] for r in result.records] == ["b", "c", "a"]
    assert set(result.records[0]) == {"id", "name", "slug", "vocabulary", "description",
                                      "weight"}
    await gather.put(admin, "tags", {"label": "Tags", "base": "tag",
                                     "sorts": [{"field": "name", "direction": "desc"}],
                                     "pager": {"type": "full", "per_page": 2}})
    second = await gather.run(ANONYMOUS, "tags", page=1)
    assert [r["name"] for r in second.records] == ["a"] and second.total == 3
    with pytest.raises(GatherError) as caught:
        await gather.put(admin, "tags", {"label": "Tags", "base": "tag",
                                         "relationships": [{"name": "x", "field": "author"}]})
    assert "relationships" in caught.value.errors


async def test_joins_stay_in_one_statement(gather: Gather, admin: CurrentUser,
                                           site: dict[str, Any]) -> None:
    """Three relationships: the first page costs the definition, the map (total and anchors)
    and the page; the next page one statement, read from its anchor."""
    await gather.create(admin, _reviews(pager={"type": "full", "per_page": 2}))
    profile = Profile()
    token = current_profile.set(profile)
    try:
        first = await gather.run(ANONYMOUS, "reviews")
        counted = profile.db_count
        second = await gather.run(ANONYMOUS, "reviews", page=1)
    finally:
        current_profile.reset(token)
    assert [i.title for i in first.items + second.items] == ["r1", "r2", "r3"]
    assert second.records[0]["author.name"] == "bob"
    assert (counted, profile.db_count - counted) == (FIRST_PAGE_QUERIES, 1)


async def test_a_joined_item_follows_the_stage(
    gather: Gather, content: ContentServices, admin: CurrentUser, database: Database,
    site: dict[str, Any]
) -> None:
    await database.execute("INSERT INTO stage (id, label) VALUES ('s', 'S')")
    staged = await content.items.create(admin, "review", title="S only", stage="s")
    await content.items.update(admin, site["a"].id, title="A in s", stage="s")
    await content.items.create(admin, "review", title="r4", stage="s", fields={
        "field_related": _ref(staged.id)})
    await gather.create(admin, _reviews(fields=["related.title"]))
    live = {title: record["related.title"]
            for title, record in _rows(await gather.run(admin, "reviews"))}
    in_stage = {title: record["related.title"]
                for title, record in _rows(await gather.run(admin, "reviews", stage="s"))}
    assert live["r1"] == "A" and "r4" not in live
    assert (in_stage["r1"], in_stage["r4"]) == ("A in s", "S only")
