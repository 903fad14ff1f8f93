"""The structure screens' pure helpers: machine names made from labels, settings inputs made
from a field type's settings model and read back, and service messages as sentences."""

from __future__ import annotations

from trovato.content.fields import FieldRegistry
from trovato.web.admin._structure import sentences
from trovato.web.admin.field_settings import (
    Targets,
    parse_settings,
    settings_fieldset,
    target_errors,
)
from trovato.web.admin.types import machine_name

REGISTRY = FieldRegistry()


def test_machine_names_from_labels() -> None:
    assert machine_name("Blog post") == "blog_post"
    assert machine_name("  Événement d'été!  ") == "evenement_d_ete"
    assert machine_name("2024 report") == "type_2024_report"
    assert machine_name("<script>") == "script"
    assert machine_name("日本") == ""
    assert machine_name("Start date", prefix="field_", limit=64) == "field_start_date"
    assert len(machine_name("x" * 80)) == 32


def test_settings_inputs_follow_the_settings_model_both_ways() -> None:
    for field_type in REGISTRY.all():
        defaults = field_type.validate_settings(
            {"allowed_values": {"a": "A"}} if field_type.name == "list" else {})
        fieldset = settings_fieldset(field_type, defaults, ["plain_text", "filtered_html"],
                                     Targets())
        if not field_type.settings_schema().get("properties"):
            assert fieldset is None
            continue
        assert fieldset is not None
        submitted: dict[str, str | list[str]] = {}
        for key, element in fieldset.items():
            if key.startswith("#"):
                continue
            assert element["#name"] == f"settings[{key}]"
            assert element["#error_key"] == f"settings.{key}"
            if element["#type"] != "checkbox" or element["#default_value"]:
                submitted[element["#name"]] = element["#default_value"]
        # What an untouched form posts is the settings it showed.
        assert field_type.validate_settings(parse_settings(field_type, submitted)) == defaults
    list_type = REGISTRY.get("list")
    assert parse_settings(list_type, {"settings[allowed_values]": "r|Red\n\n g \n"}) == {
        "allowed_values": {"r": "Red", "g": "g"}}
    integer = REGISTRY.get("integer")
    assert parse_settings(integer, {"settings[min]": "", "settings[max]": "7"}) == {
        "min": None, "max": 7}


TARGETS = Targets({"article": "Article (article)", "page": "Page (page)"},
                  {"genres": "genres", "topics": "topics"})


def _targets(settings: dict[str, object]) -> dict[str, dict[str, object]]:
    fieldset = settings_fieldset(REGISTRY.get("reference"), settings, [], TARGETS)
    assert fieldset is not None
    return {key: fieldset[key] for key in ("target_bundles", "target_vocabularies")}


def test_a_references_targets_are_ticked_among_what_exists() -> None:
    reference = REGISTRY.get("reference")
    items = _targets({"target_type": "item", "target_bundles": ["page", "gone"]})
    assert items["target_bundles"]["#type"] == "checkboxes"
    # The targets given first, in their order; one since gone stays a choice, marked.
    assert list(items["target_bundles"]["#options"].items()) == [
        ("page", "Page (page)"), ("gone", "gone (no longer exists)"),
        ("article", "Article (article)")]
    assert items["target_bundles"]["#default_value"] == ["page", "gone"]
    assert list(items["target_vocabularies"]["#options"]) == ["genres", "topics"]
    assert items["target_vocabularies"]["#default_value"] == []
    # A tag is created in the first vocabulary: the order given is kept by the boxes' order.
    tags = _targets({"target_type": "category_tag", "target_bundles": ["topics", "genres"]})
    assert tags["target_bundles"]["#default_value"] == []
    assert list(tags["target_vocabularies"]["#options"]) == ["topics", "genres"]
    assert tags["target_vocabularies"]["#default_value"] == ["topics", "genres"]
    # Read back: the boxes the target type reads; ticks in the other are named errors.
    for pointed, ticked, expected in (("item", "target_bundles", ["page"]),
                                      ("category_tag", "target_vocabularies", ["topics"])):
        values: dict[str, str | list[str]] = {
            "settings[target_type]": pointed, f"settings[{ticked}]": list(expected)}
        assert parse_settings(reference, values)["target_bundles"] == expected
        assert target_errors(reference, values) == {}
    crossed: dict[str, str | list[str]] = {
        "settings[target_type]": "user", "settings[target_bundles]": ["page"],
        "settings[target_vocabularies]": ["topics"]}
    assert set(target_errors(reference, crossed)) == {"settings.target_bundles",
                                                      "settings.target_vocabularies"}
    assert parse_settings(reference, crossed)["target_bundles"] == []
    assert target_errors(REGISTRY.get("text"), crossed) == {}


def test_service_messages_become_sentences() -> None:
    titles = {"label": "Label", "settings.settings": "Integer settings", "type": "Field type"}
    assert sentences({
        "label": "is required",
        "settings.settings": "min must not be greater than max",
        "type": "field_x already exists with the field type integer",
        "form": "the plugin refused it",
        "name": "Machine name is taken.",
    }, titles) == {
        "label": "Label is required.",
        "settings.settings": "Integer settings: min must not be greater than max.",
        "type": "Field type: field_x already exists with the field type integer.",
        "form": "The plugin refused it",
        "name": "Machine name is taken.",
    }
