"""Declaring a dependent region: the marks the forms' script and the rebuild endpoint rely on,
added without changing what the elements already carry."""

from __future__ import annotations

from trovato.forms import dependent
from trovato.render.elements import RenderElement


def test_a_region_its_trigger_and_its_update_button_carry_their_marks() -> None:
    part: RenderElement = {"#type": "fieldset", "#error_key": "type",
                           "#attributes": {"class": "kept"}}
    region = dependent.region(part)
    assert region["#attributes"] == {"class": "kept", "data-ajax-region": True}
    assert part["#attributes"] == {"class": "kept"}  # the original is left as it was
    select: RenderElement = {"#type": "select", "#name": "field_type", "#options": {}}
    assert dependent.trigger(select, "update")["#attributes"] == {
        "data-ajax-trigger": "update"}
    assert "#attributes" not in select
    button = dependent.update_button("update", "Update", weight=1, label="Update the type")
    assert button["#type"] == "submit" and button["#name"] == "op"
    assert button["#value"] == "update" and button["#title"] == "Update"
    assert button["#weight"] == 1
    assert button["#attributes"] == {"class": "button--small", "data-ajax": "rebuild",
                                     "data-ajax-update": True, "aria-label": "Update the type"}
    assert "aria-label" not in dependent.update_button("update", "Update")["#attributes"]
