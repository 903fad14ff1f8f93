"""The forms' scripts in a real browser (Debian's chromium, Playwright, a real ``trovato
serve``): "Add another value" rebuilds its fieldset without a page load and the values typed
are kept and saved. Screenshots go to the test's tmp folder."""

from __future__ import annotations

from pathlib import Path

from tests.web._browser_site import browser_site


def test_add_another_value_without_a_page_load(db_url: str, tmp_path: Path) -> None:
    with browser_site(db_url, tmp_path) as site:
        page = site.page
        page.goto(site.base + "/item/add/article")
        page.evaluate("window.notReloaded = true")
        page.get_by_label("Title").fill("Tagged in a browser")
        page.locator("textarea[name='fields[field_body][value]']").fill("Body")
        page.get_by_label("Tags (value 1)").fill("first")
        page.get_by_role("button", name="Add another Tags").click()
        second = page.get_by_label("Tags (value 2)")
        second.wait_for()
        assert page.evaluate("window.notReloaded") is True  # the fieldset, not the page
        assert page.evaluate("document.activeElement.name") == "fields[field_tags][1]"
        assert page.get_by_label("Tags (value 1)").input_value() == "first"
        second.fill("second")
        site.shot("1-added")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/item/*")
        item_id = page.url.rsplit("/", 1)[1]
        site.shot("2-saved")
        tags = site.api.get(f"/api/v1/items/{item_id}").json()["fields"]["field_tags"]
        assert tags == [{"value": "first"}, {"value": "second"}]
