"""The structure screens' pure helpers: machine names made from labels, settings inputs made
from a field type's settings model and read back, and service messages as sentences."""

from __future__ import annotations

from trovato.content.fields import FieldRegistry
from trovato.web.admin._structure import sentences
from trovato.web.admin.field_settings import parse_settings, settings_fieldset
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
        fieldset = settings_fieldset(field_type, defaults, ["plain_text", "filtered_html"])
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
