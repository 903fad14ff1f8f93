"""The Gather builder in a real browser with JavaScript (Debian's chromium driven by
Playwright, on a real ``trovato serve``): "Add a filter" and "Add a sort" rebuild their part
of the form in place through ``/form/ajax``, the preview shows the unsaved listing's first
page and its SQL, and saving stores it. Screenshots go to the test's tmp folder. Skipped when
chromium or playwright is missing."""

from __future__ import annotations

from pathlib import Path

from tests.web._browser_site import browser_site

BASE = "/admin/structure/gather"


def test_a_site_builder_builds_a_listing_with_javascript(db_url: str, tmp_path: Path) -> None:
    with browser_site(db_url, tmp_path) as site:
        for title in ("Lisbon", "Lima", "Oslo"):
            made = site.api.post("/api/v1/items", headers={"X-CSRF-Token": site.csrf}, json={
                "type": "article", "title": title, "status": 1,
                "fields": {"field_body": {"value": "b", "format": "plain_text"}}})
            assert made.status_code == 201, made.text
        page = site.page
        page.goto(site.base + f"{BASE}/add")
        page.locator("#edit-name").fill("cities")
        page.locator("#edit-label").fill("Cities")
        page.evaluate("window.stayed = true")
        page.get_by_role("button", name="Add a filter", exact=True).click()
        field = page.locator('select[name="filter.0.field"]')
        field.wait_for()
        page.get_by_role("button", name="Add a sort").click()
        page.locator('select[name="sort.1.field"]').wait_for()
        # Both rebuilt in place: no page load, what was typed is still there.
        assert page.evaluate("window.stayed") is True
        assert page.locator("#edit-label").input_value() == "Cities"
        field.select_option("title")
        page.locator('select[name="filter.0.op"]').select_option("starts_with")
        page.locator('input[name="filter.0.value"]').fill("Li")
        page.locator('select[name="sort.1.field"]').select_option("title")
        page.locator('input[name="displays.page"]').check()
        page.locator('input[name="displays.page.path"]').fill("/cities")
        page.locator('select[name="displays.page.style"]').select_option("list")
        site.shot("gather-01-built")
        page.get_by_role("button", name="Preview", exact=True).click()
        preview = page.locator("#gather-preview")
        preview.wait_for()
        assert "2 matches" in preview.inner_text()
        assert preview.get_by_role("link").all_inner_texts() == ["Lima", "Lisbon"]
        site.shot("gather-02-preview")
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url(f"**{BASE}/cities/edit")
        assert "The listing “Cities” has been added" in page.locator("main").inner_text()
        page.goto(site.base + "/cities")
        assert page.locator("main").get_by_role("link").all_inner_texts()[:2] == [
            "Lima", "Lisbon"]
        site.shot("gather-03-page")
