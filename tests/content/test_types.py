"""Item types: create/update/delete with field instances, shared field storage, permissions,
forced deletion and plugin synchronisation."""

from __future__ import annotations

import copy

import pytest

from tests.content.conftest import ARTICLE, MakeUser
from trovato.content.services import ContentServices
from trovato.content.types import ItemTypeError
from trovato.db.pool import Database
from trovato.users.accounts import CurrentUser


async def test_create_and_read_back(content: ContentServices) -> None:
    created = await content.types.create(ARTICLE)
    assert created.public() == {
        "type": "article",
        "label": "Article",
        "description": "News",
        "fields": [
            {"name": "field_body", "type": "text_long", "label": "Body", "required": False,
             "cardinality": 1, "settings": {"max_length": None,
                                            "default_format": "filtered_html"}},
            {"name": "field_count", "type": "integer", "label": "Count", "required": False,
             "cardinality": 1, "settings": {"min": 0, "max": 10}},
            {"name": "field_tags", "type": "text", "label": "Tags", "required": False,
             "cardinality": -1, "settings": {"max_length": 255}},
        ],
    }
    assert [t.type for t in await content.types.all()] == ["article"]
    assert await content.types.get("nope") is None


async def test_permissions_are_registered_and_removed(content: ContentServices) -> None:
    registry = content.types.permissions
    assert registry is not None
    assert "administer content" in registry and "view revisions" in registry
    await content.types.create(ARTICLE)
    for name in ("create article content", "edit own article content",
                 "edit any article content", "delete own article content",
                 "delete any article content"):
        assert name in registry
    await content.types.delete("article")
    assert "create article content" not in registry
    assert "access content" in registry  # the kernel's own is never removed


async def test_invalid_definitions_list_every_problem(content: ContentServices) -> None:
    with pytest.raises(ItemTypeError) as caught:
        await content.types.create({
            "type": "Bad-Name", "label": "", "colour": "red",
            "fields": [
                {"name": "field_a", "type": "nope", "label": "A"},
                {"name": "field_b", "type": "text", "label": "B", "cardinality": 0},
                {"name": "field_c", "type": "text", "label": "C",
                 "settings": {"max_length": -1}},
                {"name": "field_c", "type": "text", "label": "C again"},
                {"name": "Field D", "type": "text", "label": "D"},
            ],
        })
    errors = caught.value.errors
    assert caught.value.status == 422
    assert set(errors) == {"type", "label", "colour", "fields.field_a.type",
                           "fields.field_b.cardinality", "fields.field_c.settings.max_length",
                           "fields.field_c", "fields.4.name"}
    assert "text_long" in errors["fields.field_a.type"]


async def test_duplicate_type_is_409(content: ContentServices) -> None:
    await content.types.create(ARTICLE)
    with pytest.raises(ItemTypeError) as caught:
        await content.types.create(ARTICLE)
    assert caught.value.status == 409


async def test_field_storage_is_shared_by_name(content: ContentServices,
                                               database: Database) -> None:
    await content.types.create(ARTICLE)
    page = {"type": "page", "label": "Page", "fields": [
        {"name": "field_body", "type": "text_long", "label": "Page body", "required": True}]}
    await content.types.create(page)
    assert await database.fetchval(
        "SELECT count(*) FROM field_config WHERE field_name = 'field_body'") == 1
    assert await database.fetchval(
        "SELECT count(*) FROM field_instance WHERE field_name = 'field_body'") == 2
    with pytest.raises(ItemTypeError) as caught:
        await content.types.create({"type": "blog", "label": "Blog", "fields": [
            {"name": "field_body", "type": "text", "label": "Body"}]})
    assert caught.value.errors["fields.field_body.type"] == (
        "field_body already exists with the field type text_long; a field name keeps one type"
        " on every item type")
    await content.types.create({"type": "counter", "label": "Counter", "fields": [
        {"name": "field_count", "type": "integer", "label": "Count"}]})
    with pytest.raises(ItemTypeError) as caught:
        await content.types.create({"type": "blog", "label": "Blog", "fields": [
            {"name": "field_count", "type": "text", "label": "Count"}]})
    assert caught.value.errors["fields.field_count.type"].startswith(
        "field_count already exists with the field type integer;")
    with pytest.raises(ItemTypeError) as caught:
        await content.types.create({"type": "blog", "label": "Blog", "fields": [
            {"name": "field_body", "type": "text_long", "label": "Body", "cardinality": 3}]})
    assert "fields.field_body.cardinality" in caught.value.errors
    assert await content.types.get("blog") is None  # the failed create left nothing behind


async def test_update_patch_and_put(content: ContentServices, admin: CurrentUser,
                                    database: Database) -> None:
    await content.types.create(ARTICLE)
    item = await content.items.create(admin, "article", title="A", fields={
        "field_count": {"value": 3}, "field_tags": [{"value": "x"}]})
    patched = await content.types.update("article", {"label": "News article"}, partial=True)
    assert patched.label == "News article" and len(patched.fields) == 3
    # PUT: the whole definition; field_count is dropped from the type and from its items.
    doc = copy.deepcopy(ARTICLE)
    doc["fields"] = [f for f in doc["fields"] if f["name"] != "field_count"]
    doc["fields"].append({"name": "field_rating", "type": "integer", "label": "Rating"})
    put = await content.types.update("article", doc)
    assert [f.name for f in put.fields] == ["field_body", "field_tags", "field_rating"]
    assert put.label == "Article"
    reloaded = await content.query.load(admin, item.id)
    assert reloaded.fields == {"field_tags": [{"value": "x"}]}
    assert await database.fetchval(
        "SELECT count(*) FROM field_config WHERE field_name = 'field_count'") == 0
    with pytest.raises(ItemTypeError) as caught:
        await content.types.update("article", {"type": "other"}, partial=True)
    assert caught.value.errors == {"type": "cannot be changed"}
    with pytest.raises(ItemTypeError) as caught:
        await content.types.update("missing", {"label": "x"}, partial=True)
    assert caught.value.status == 404
    # Multi-valued cardinalities may change (same stored shape); one ↔ many may not.
    doc["fields"][1]["cardinality"] = 5
    assert (await content.types.update("article", doc)).field("field_tags").cardinality == 5
    doc["fields"][1]["cardinality"] = 1
    with pytest.raises(ItemTypeError):
        await content.types.update("article", doc)


async def test_delete_refused_while_items_exist_unless_forced(
    content: ContentServices, admin: CurrentUser, database: Database
) -> None:
    await content.types.create(ARTICLE)
    for n in range(3):
        await content.items.create(admin, "article", title=f"A{n}")
    with pytest.raises(ItemTypeError) as caught:
        await content.types.delete("article")
    assert caught.value.status == 409 and "3 items" in caught.value.message
    result = await content.types.delete("article", force=True, purge=content.items.purge_type)
    assert result.deleted_items == 3
    assert "its 3 items" in result.message
    assert await database.fetchval("SELECT count(*) FROM item") == 0
    assert await database.fetchval("SELECT count(*) FROM item_revision") == 0
    assert await database.fetchval("SELECT count(*) FROM field_config") == 0
    assert await content.types.get("article") is None


async def test_delete_removes_grants_of_the_type(content: ContentServices,
                                                 database: Database) -> None:
    await content.types.create(ARTICLE)
    await database.execute(
        "INSERT INTO role_permission (role_id, permission) VALUES"
        " ('00000000-0000-7000-8000-000000000002', 'create article content')")
    await content.types.delete("article")
    assert await database.fetchval(
        "SELECT count(*) FROM role_permission WHERE permission LIKE '%%article%%'") == 0


async def test_sync_from_plugin(content: ContentServices, make_user: MakeUser) -> None:
    blog = {"type": "blog", "label": "Blog post", "fields": [
        {"name": "field_body", "type": "text_long", "label": "Body", "required": True}]}
    [created] = await content.types.sync_from_plugin("blog", [blog])
    assert created.plugin == "blog" and created.field("field_body") is not None
    blog["fields"].append({"name": "field_topics", "type": "reference", "label": "Tags",
                           "cardinality": -1, "settings": {"target_type": "category_tag"}})
    [updated] = await content.types.sync_from_plugin("blog", [blog])
    assert [f.name for f in updated.fields] == ["field_body", "field_topics"]
    await content.types.create(ARTICLE)
    with pytest.raises(ItemTypeError) as caught:
        await content.types.sync_from_plugin("other", [{**ARTICLE}])
    assert caught.value.status == 409 and "the site" in caught.value.message
