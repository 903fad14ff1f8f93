"""A new site builder in a real browser (Debian's chromium driven by Playwright, JavaScript
off: the screens work without it) on a real ``trovato serve``: create an item type, give it
five fields of different types, reorder them (by weight, then with the "Move up" script),
then create an item of the type through its generated form. Screenshots of each step go to
the test's tmp folder (``screenshots``).

Skipped when /usr/bin/chromium or the playwright package is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests._servers import serve
from tests.web._axe import assert_accessible
from tests.web._browser_site import admin_page, browser_site, prepared_site

TYPES = "/admin/structure/types"
# (label, field type, settings to type on the second step)
FIELDS: list[tuple[str, str, dict[str, str]]] = [
    ("Summary", "text", {"settings[max_length]": "120"}),
    ("Details", "text_long", {}),
    ("Seats", "integer", {"settings[min]": "1", "settings[max]": "500"}),
    ("Free entry", "boolean", {}),
    ("Starts", "date", {}),
]


def _shot(page: Any, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_a_site_builder_makes_a_type_with_five_fields(db_url: str, tmp_path: Path) -> None:
    prepared = prepared_site(db_url, tmp_path)
    sync_api, env, shots = prepared.sync_api, prepared.env, prepared.shots
    with serve(env) as base, sync_api.sync_playwright() as playwright, \
            admin_page(playwright, base, javascript=False) as page:
        main = page.locator("main")

        # The type: its machine name is made from the label.
        page.goto(base + TYPES)
        _shot(page, shots, "01-types")
        main.get_by_role("link", name="Add item type").click()
        page.wait_for_url(f"**{TYPES}/add")
        page.locator("#edit-label").fill("Event")
        page.locator("#edit-description").fill("Things <happening> somewhere")
        _shot(page, shots, "02-add-type")
        main.get_by_role("button", name="Save and manage fields").click()
        page.wait_for_url(f"**{TYPES}/event/fields")
        assert "The item type “Event” has been created" in main.inner_text()

        # Five fields: name and field type, then the type's settings.
        for index, (label, field_type, settings) in enumerate(FIELDS):
            main.get_by_role("link", name="Add field").click()
            page.wait_for_url(f"**{TYPES}/event/fields/add")
            page.locator("#edit-label").fill(label)
            page.locator("#edit-field-type").select_option(field_type)
            main.get_by_role("button", name="Continue").click()
            for name, value in settings.items():
                main.locator(f"[name='{name}']").fill(value)
            if index == 0:
                main.get_by_label("Required").check()
                _shot(page, shots, "03-field-settings")
            main.get_by_role("button", name="Save field").click()
            page.wait_for_url(f"**{TYPES}/event/fields")
            assert f"The field “{label}” has been added to “Event”." in main.inner_text()
        # A mistake is shown next to its input, and corrected.
        main.get_by_role("link", name="Seats").click()
        main.locator("[name='settings[min]']").fill("900")
        main.get_by_role("button", name="Save field").click()
        assert "min must not be greater than max" in main.locator(
            "#form-errors").inner_text()
        _shot(page, shots, "04-field-error")
        main.locator("[name='settings[min]']").fill("2")
        main.get_by_role("button", name="Save field").click()
        page.wait_for_url(f"**{TYPES}/event/fields")
        _shot(page, shots, "05-five-fields")

        # Reorder two: Starts first, Summary after Details.
        main.get_by_label("Weight of Starts (field_starts)").fill("-1")
        main.get_by_label("Weight of Summary (field_summary)").fill("2")
        main.get_by_role("button", name="Save order").click()
        page.wait_for_url(f"**{TYPES}/event/fields")
        rows = main.locator("table tbody tr td:nth-child(2)").all_inner_texts()
        assert rows == ["field_starts", "field_details", "field_summary", "field_seats",
                        "field_free_entry"], rows
        _shot(page, shots, "06-reordered")

        # With JavaScript, "Move up" sets the weights (the same form is posted).
        enhanced = page.context.browser.new_page()
        enhanced.set_default_timeout(20_000)
        enhanced.context.add_cookies(page.context.cookies())
        enhanced.goto(base + f"{TYPES}/event/fields")
        moves = enhanced.locator("main")
        # The first field cannot move up, nor the last down: no such buttons.
        assert moves.get_by_role("button", name="Move up: Starts").count() == 0
        assert moves.get_by_role("button", name="Move down: Free entry").count() == 0
        assert moves.get_by_role("button", name="Move down: Starts").count() == 1
        assert moves.get_by_role("button", name="Move up: Free entry").count() == 1
        enhanced.locator("main").get_by_role("button", name="Move up: Seats").click()
        assert enhanced.get_by_label("Weight of Seats (field_seats)").input_value() == "2"
        assert "Seats is now at position 3." in enhanced.locator(
            "main [role=status]").inner_text()
        moves.get_by_role("button", name="Move up: Details").click()  # now first
        assert moves.get_by_role("button", name="Move up: Details").count() == 0
        assert moves.get_by_role("button", name="Move up: Starts").count() == 1
        moves.get_by_role("button", name="Move down: Details").click()  # back
        _shot(enhanced, shots, "06b-moved-with-script")
        enhanced.locator("main").get_by_role("button", name="Save order").click()
        enhanced.wait_for_url(f"**{TYPES}/event/fields")
        rows = enhanced.locator("main table tbody tr td:nth-child(2)").all_inner_texts()
        assert rows == ["field_starts", "field_details", "field_seats", "field_summary",
                        "field_free_entry"], rows
        enhanced.close()

        # An item of the new type, through its generated form.
        page.goto(base + "/item/add/event")
        labels = main.locator("label, legend").all_inner_texts()
        order = [next(i for i, text in enumerate(labels) if text.startswith(label))
                 for label in ("Starts", "Details", "Seats", "Summary", "Free entry")]
        assert order == sorted(order), labels
        main.get_by_label("Title").fill("Launch party")
        main.get_by_label("Starts").fill("2027-01-15")
        main.locator("textarea[name='fields[field_details][value]']").fill("Cake.")
        main.get_by_label("Summary").fill("The <launch>")
        main.get_by_label("Seats").fill("40")
        main.get_by_label("Free entry").check()
        _shot(page, shots, "07-item-form")
        main.get_by_role("button", name="Save").click()
        page.wait_for_url("**/item/*")
        text = main.inner_text()
        assert "Launch party" in text and "The <launch>" in text and "Cake." in text
        assert "40" in text and "2027-01-15" in text
        _shot(page, shots, "08-item")
    assert sorted(p.name for p in shots.iterdir()) == [
        "01-types.png", "02-add-type.png", "03-field-settings.png", "04-field-error.png",
        "05-five-fields.png", "06-reordered.png", "06b-moved-with-script.png",
        "07-item-form.png", "08-item.png"]


def test_changing_the_field_type_rebuilds_its_settings_in_place(db_url: str,
                                                                 tmp_path: Path) -> None:
    """With JavaScript: on the second step of adding a field, choosing another field type
    rebuilds its settings and widgets through the form's AJAX endpoint, without a page load
    (the "Update" button it replaces is hidden, focus stays on the select, a status says so, a
    change made during a rebuild is applied after it; Enter saves); axe finds no serious
    violation before or after; the field saved is of the type chosen last."""
    with browser_site(db_url, tmp_path) as site:
        page, main = site.page, site.page.locator("main")
        page.goto(site.base + f"{TYPES}/article/fields/add")
        page.locator("#edit-label").fill("Colour")
        page.locator("#edit-field-type").select_option("text")
        main.get_by_role("button", name="Continue").click()
        page.wait_for_selector("[name='settings[max_length]']")
        assert main.locator("button[value=update]").is_hidden()
        assert_accessible(page)
        site.shot("field-step-2-text")
        page.evaluate("() => { window.notReloaded = true; }")
        page.locator("#edit-field-type").select_option("list")
        page.wait_for_selector("[name='settings[allowed_values]']")
        assert page.evaluate("() => window.notReloaded === true")  # no page load
        assert main.locator("[name='settings[max_length]']").count() == 0
        assert page.evaluate("() => document.activeElement.id") == "edit-field-type"
        assert main.locator("#edit-widget option").all_inner_texts() == [
            "Select list", "Check boxes or radio buttons"]
        assert main.locator("button[value=update]").is_hidden()
        assert main.get_by_label("Label").input_value() == "Colour"
        assert main.locator("[data-ajax-status]").text_content() == \
            "Field type and settings: updated."
        assert_accessible(page)
        site.shot("field-step-2-list")
        # Two changes in a row: the region ends up for the last type chosen.
        page.locator("#edit-field-type").select_option("boolean")
        page.locator("#edit-field-type").select_option("list")
        settled = ("() => document.querySelector('#edit-field-type').value === 'list'"
                   " && !document.querySelector('[data-ajax-region][aria-busy]')"
                   " && !document.querySelector(\"[name='settings[on_label]']\")"
                   " && document.querySelector(\"[name='settings[allowed_values]']\")")
        page.wait_for_function(settled)
        # The first change's rebuild may still be queued when the list's region first shows
        # (on a loaded machine): it must not leave the boolean's settings behind.
        page.wait_for_timeout(500)
        page.wait_for_function(settled)
        assert main.locator("[name='settings[on_label]']").count() == 0
        main.locator("[name='settings[allowed_values]']").fill("red|Red\ngreen|Green")
        main.locator("#edit-widget").select_option("options_buttons")
        # Enter in a text input saves (the hidden Update button comes first in the form).
        main.get_by_label("Label").press("Enter")
        page.wait_for_url(f"**{TYPES}/article/fields")
        assert "The field “Colour” has been added to “Article”." in main.inner_text()
        fields = site.api.get("/api/v1/item-types/article").json()["fields"]
        colour = next(f for f in fields if f["name"] == "field_colour")
        assert colour["type"] == "list" and colour["widget"] == "options_buttons"
        assert colour["settings"] == {"allowed_values": {"red": "Red", "green": "Green"}}


def test_a_references_targets_are_ticked_in_the_rebuilt_region(db_url: str,
                                                                tmp_path: Path) -> None:
    """With JavaScript: choosing the reference type on the second step shows the existing item
    types as check boxes (no box to type names into); axe finds no serious violation; the
    types ticked are the field's targets."""
    with browser_site(db_url, tmp_path) as site:
        page, main = site.page, site.page.locator("main")
        page.goto(site.base + f"{TYPES}/article/fields/add")
        page.locator("#edit-label").fill("Related")
        page.locator("#edit-field-type").select_option("text")
        main.get_by_role("button", name="Continue").click()
        page.wait_for_selector("[name='settings[max_length]']")
        page.locator("#edit-field-type").select_option("reference")
        page.wait_for_selector("[name='settings[target_bundles]']")
        targets = main.locator("fieldset", has_text="Item types").last
        assert targets.locator("textarea").count() == 0
        assert_accessible(page)
        site.shot("field-reference-targets")
        main.get_by_label("Article (article)").check()
        main.get_by_role("button", name="Save field").click()
        page.wait_for_url(f"**{TYPES}/article/fields")
        fields = site.api.get("/api/v1/item-types/article").json()["fields"]
        related = next(f for f in fields if f["name"] == "field_related")
        assert related["settings"] == {"target_type": "item", "target_bundles": ["article"]}
