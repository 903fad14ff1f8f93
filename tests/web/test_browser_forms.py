"""The item form in a real browser (Debian's chromium driven by Playwright, no JavaScript of
ours) on a real ``trovato serve``: create an article, correct a validation error, preview,
save, then edit it. Screenshots of each step go to the test's tmp folder.

Skipped when /usr/bin/chromium or the playwright package is missing. Never run
``playwright install``: the browser is the system's.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests._servers import serve
from tests.api.conftest import ARTICLE
from tests.conftest import ADMIN_PASSWORD
from tests.web._browser_site import admin_page, prepared_site


def test_create_correct_preview_save_and_edit(db_url: str, tmp_path: Path) -> None:
    prepared = prepared_site(db_url, tmp_path)
    sync_api, env, shots = prepared.sync_api, prepared.env, prepared.shots
    with serve(env) as base:
        with httpx.Client(base_url=base) as api:
            session = api.post("/api/v1/session", json={"name": "root", "pass": ADMIN_PASSWORD})
            token = session.json()["csrf_token"]
            made = api.post("/api/v1/item-types", json=ARTICLE,
                            headers={"X-CSRF-Token": token})
            assert made.status_code == 201, made.text
        with sync_api.sync_playwright() as playwright, \
                admin_page(playwright, base, javascript=False) as page:  # forms work without it
            page.goto(base + "/item/add")
            page.get_by_role("link", name="Article").click()
            page.wait_for_url("**/item/add/article")
            page.get_by_label("Title").fill("Browser <made> article")
            page.locator("textarea[name='fields[field_body][value]']").fill("Typed body")
            page.get_by_label("Count").fill("99")
            page.screenshot(path=str(shots / "1-filled.png"), full_page=True)
            page.get_by_role("button", name="Save").click()
            summary = page.locator("#form-errors")
            assert summary.is_visible()
            assert "Count must be at most 10." in summary.inner_text()
            assert page.get_by_label("Count").get_attribute("aria-invalid") == "true"
            assert page.get_by_label("Title").input_value() == "Browser <made> article"
            page.screenshot(path=str(shots / "2-error.png"), full_page=True)
            page.get_by_label("Count").fill("5")
            page.get_by_role("button", name="Preview").click()
            preview = page.locator("section.preview")
            assert preview.is_visible() and "Typed body" in preview.inner_text()
            page.screenshot(path=str(shots / "3-preview.png"), full_page=True)
            page.get_by_role("button", name="Save").click()
            page.wait_for_url("**/item/*")
            assert page.locator("h1").inner_text() == "Browser <made> article"
            assert "has been created" in page.locator(".messages.status").inner_text()
            page.screenshot(path=str(shots / "4-saved.png"), full_page=True)
            page.get_by_role("link", name="Edit").click()
            page.wait_for_url("**/edit")
            page.get_by_label("Title").fill("Browser article, edited")
            page.get_by_role("button", name="Save").click()
            page.wait_for_url("**/item/*")
            assert page.locator("h1").inner_text() == "Browser article, edited"
            page.screenshot(path=str(shots / "5-edited.png"), full_page=True)
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-filled.png", "2-error.png", "3-preview.png", "4-saved.png", "5-edited.png"]
