"""One field at a time: adding, changing, removing and reordering a type's fields through the
item-type service (what the admin's field screens call), with errors keyed by the field."""

from __future__ import annotations

import pytest

from tests.content.conftest import ARTICLE
from trovato.content.services import ContentServices
from trovato.content.types import ItemTypeError
from trovato.db.pool import Database
from trovato.users.accounts import CurrentUser

PAGE = {"type": "page", "label": "Page", "fields": []}


def _names(item_type: object) -> list[str]:
    return [f.name for f in item_type.fields]  # type: ignore[attr-defined]


async def test_add_field_appends_and_keeps_shared_storage(content: ContentServices) -> None:
    await content.types.create(ARTICLE)
    await content.types.create(PAGE)
    page = await content.types.add_field("page", {"name": "field_body", "type": "text_long",
                                                  "label": "Text"})
    page = await content.types.add_field("page", {"name": "field_when", "type": "date",
                                                  "label": "When"})
    assert _names(page) == ["field_body", "field_when"]
    assert [f.weight for f in page.fields] == [0, 1]
    with pytest.raises(ItemTypeError) as caught:  # the name keeps its field type
        await content.types.add_field("page", {"name": "field_count", "type": "text",
                                               "label": "Count"})
    assert caught.value.status == 422
    assert "already exists with the field type integer" in caught.value.errors["type"]
    with pytest.raises(ItemTypeError) as caught:
        await content.types.add_field("page", {"name": "field_when", "type": "date",
                                               "label": "Again"})
    assert caught.value.status == 409 and caught.value.errors == {
        "name": "is already a field of this type"}
    with pytest.raises(ItemTypeError) as caught:
        await content.types.add_field("page", {"name": "field_x'; DROP TABLE item;--",
                                               "type": "text", "label": ""})
    assert set(caught.value.errors) == {"name"}
    with pytest.raises(ItemTypeError) as caught:
        await content.types.add_field("page", {"name": "field_x", "type": "text",
                                               "label": " ", "settings": {"max_length": 0}})
    assert set(caught.value.errors) == {"label", "settings.max_length"}
    assert _names(await content.types.get("page")) == ["field_body", "field_when"]


async def test_update_field_changes_only_that_field(content: ContentServices) -> None:
    await content.types.create(ARTICLE)
    updated = await content.types.update_field(
        "article", "field_count", {"label": "Number", "required": True, "description": "Hm",
                                   "settings": {"min": 1, "max": 5}})
    count = updated.field("field_count")
    assert count is not None and count.label == "Number" and count.required
    assert count.description == "Hm" and count.settings == {"min": 1, "max": 5}
    assert _names(updated) == ["field_body", "field_count", "field_tags"]
    with pytest.raises(ItemTypeError) as caught:
        await content.types.update_field("article", "field_count", {"type": "text"})
    assert caught.value.errors == {"type": "cannot be changed"}
    with pytest.raises(ItemTypeError) as caught:
        await content.types.update_field("article", "field_tags", {"cardinality": 1})
    assert "cardinality" in caught.value.errors
    with pytest.raises(ItemTypeError) as caught:
        await content.types.update_field("article", "field_nope", {"label": "x"})
    assert caught.value.status == 404


async def test_reorder_fields(content: ContentServices) -> None:
    await content.types.create(ARTICLE)
    reordered = await content.types.reorder_fields(
        "article", ["field_tags", "field_body", "field_count"])
    assert _names(reordered) == ["field_tags", "field_body", "field_count"]
    assert _names(await content.types.get("article")) == _names(reordered)
    for stale in (["field_tags", "field_body"], ["field_tags", "field_tags", "field_body"],
                  ["field_tags", "field_body", "field_other"]):
        with pytest.raises(ItemTypeError) as caught:
            await content.types.reorder_fields("article", stale)
        assert caught.value.status == 409
    with pytest.raises(ItemTypeError) as caught:
        await content.types.reorder_fields("nope", [])
    assert caught.value.status == 404


async def test_remove_field_deletes_its_values_and_counts_them(
    content: ContentServices, admin: CurrentUser, database: Database,
) -> None:
    await content.types.create(ARTICLE)
    for n in range(3):
        await content.items.create(admin, "article", title=f"A{n}",
                                   fields={"field_count": {"value": n}} if n else {})
    assert await content.types.field_usage("article", "field_count") == 2
    assert await content.types.item_counts() == {"article": 3}
    removed = await content.types.remove_field("article", "field_count")
    assert _names(removed) == ["field_body", "field_tags"]
    assert await content.types.field_usage("article", "field_count") == 0
    assert await database.fetchval(
        "SELECT count(*) FROM field_config WHERE field_name = 'field_count'") == 0
    with pytest.raises(ItemTypeError) as caught:
        await content.types.remove_field("article", "field_count")
    assert caught.value.status == 404


async def test_widget_and_display_are_kept_and_checked(content: ContentServices) -> None:
    await content.types.create({"type": "poll", "label": "Poll", "fields": [
        {"name": "field_answer", "type": "list", "label": "Answer",
         "settings": {"allowed_values": ["yes", "no"]}}]})
    poll = await content.types.update_field("poll", "field_answer", {
        "widget": "options_buttons", "display": {"label": "inline", "hidden": False}})
    answer = poll.field("field_answer")
    assert answer is not None and answer.widget == "options_buttons"
    assert answer.display == {"label": "inline"}
    assert answer.public()["widget"] == "options_buttons"
    # A later change of another property keeps them.
    poll = await content.types.update_field("poll", "field_answer", {"label": "Your answer"})
    answer = poll.field("field_answer")
    assert answer is not None and answer.widget == "options_buttons"
    assert answer.display == {"label": "inline"}
    # The field type's own widget is no choice to remember.
    poll = await content.types.update_field("poll", "field_answer",
                                            {"widget": "options_select", "display": {}})
    answer = poll.field("field_answer")
    assert answer is not None and answer.widget == "" and answer.display == {}
    assert "widget" not in answer.public() and "display" not in answer.public()
    with pytest.raises(ItemTypeError) as caught:
        await content.types.update_field("poll", "field_answer", {
            "widget": "number", "display": {"label": "sideways", "colour": 1, "hidden": "y"}})
    assert set(caught.value.errors) == {"widget", "display.label", "display.colour",
                                        "display.hidden"}


async def test_a_type_keeps_its_defaults_for_new_items(content: ContentServices) -> None:
    created = await content.types.create({**PAGE, "defaults": {"status": False,
                                                              "promote": True}})
    assert dict(created.defaults) == {"status": False, "promote": True, "sticky": False}
    assert created.public()["defaults"] == dict(created.defaults)
    # A partial change keeps them, a field change too; a whole replacement resets them.
    changed = await content.types.update("page", {"label": "Pages"}, partial=True)
    changed = await content.types.add_field("page", {"name": "field_a", "type": "text",
                                                     "label": "A"})
    assert dict(changed.defaults) == dict(created.defaults)
    replaced = await content.types.update("page", {"label": "P", "fields": []})
    assert dict(replaced.defaults) == {"status": True, "promote": False, "sticky": False}
    assert "defaults" not in replaced.public()
    with pytest.raises(ItemTypeError) as caught:
        await content.types.update("page", {"defaults": {"status": "yes", "colour": True}},
                                   partial=True)
    assert caught.value.errors == {"defaults.status": "must be true or false",
                                   "defaults.colour": "unknown field"}
