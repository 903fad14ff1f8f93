"""Publishing a stage with a conflict in a real browser (Debian's chromium driven by
Playwright, no JavaScript) on a real ``trovato serve``: the publish step offers the choice,
"Preview the result" shows what the choice gives without publishing, and "Publish" applies
it. Screenshots of each step go to the test's tmp folder.

Skipped when /usr/bin/chromium or the playwright package is missing.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests._servers import serve
from tests.api.conftest import ARTICLE
from tests.conftest import ADMIN_PASSWORD
from tests.web._browser_site import admin_page, prepared_site


def _conflicting_stage(api: httpx.Client, token: str) -> str:
    """A stage ``spring`` whose edit of a live item's title collides with a live edit;
    returns the item's id."""
    headers = {"X-CSRF-Token": token}
    assert api.post("/api/v1/item-types", json=ARTICLE, headers=headers).status_code == 201
    assert api.post("/api/v1/stages", json={"id": "spring", "label": "Spring"},
                    headers=headers).status_code == 201
    item = api.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": "Opening hours", "status": 1,
        "fields": {"field_body": {"value": "Open daily.", "format": "plain_text"}}}).json()
    staged = api.patch(f"/api/v1/items/{item['id']}", json={"title": "Summer opening hours"},
                       headers={**headers, "X-Trovato-Stage": "spring"})
    assert staged.status_code == 200, staged.text
    live = api.patch(f"/api/v1/items/{item['id']}", json={"title": "Opening hours (new)"},
                     headers=headers)
    assert live.status_code == 200, live.text
    return str(item["id"])


def test_resolve_preview_and_publish(db_url: str, tmp_path: Path) -> None:
    prepared = prepared_site(db_url, tmp_path)
    sync_api, env, shots = prepared.sync_api, prepared.env, prepared.shots
    with serve(env) as base:
        with httpx.Client(base_url=base) as api:
            session = api.post("/api/v1/session", json={"name": "root", "pass": ADMIN_PASSWORD})
            item_id = _conflicting_stage(api, session.json()["csrf_token"])
        with sync_api.sync_playwright() as playwright, \
                admin_page(playwright, base, javascript=False) as page:
            page.goto(base + "/admin/stages/spring/publish")
            main = page.locator("main")
            assert "conflicts with live in 1 field(s)" in main.inner_text()
            choice = main.locator("fieldset.form-item--radios")
            assert "Summer opening hours" in choice.inner_text()
            assert "Opening hours (new)" in choice.inner_text()
            page.screenshot(path=str(shots / "1-conflict.png"), full_page=True)
            # The browser itself asks for a choice before sending (the server refuses
            # a submission without one too: tests/web/test_stages.py).
            main.get_by_role("button", name="Publish stage Spring").click()
            assert main.get_by_label("Take the upstream value").get_attribute(
                "required") is not None
            assert "conflicts with live" in main.inner_text()  # still the step
            main.get_by_label("Take the upstream value").check()
            main.get_by_role("button", name="Preview the result").click()
            result = main.locator("table", has_text="Your choices")
            assert "Opening hours (new)" in result.inner_text()
            assert main.get_by_label("Take the upstream value").is_checked()
            page.screenshot(path=str(shots / "2-preview.png"), full_page=True)
            main.get_by_label("Take this stage's value").check()
            main.get_by_role("button", name="Publish stage Spring").click()
            assert "Stage “Spring” is published." in page.locator(
                ".messages.status").inner_text()
            page.screenshot(path=str(shots / "3-published.png"), full_page=True)
            page.goto(f"{base}/item/{item_id}")
            assert page.locator("h1").inner_text() == "Summer opening hours"
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-conflict.png", "2-preview.png", "3-published.png"]


def test_archiving_a_stage(db_url: str, tmp_path: Path) -> None:
    """Without JavaScript: the overview's "Archive stage" link, the confirmation step, then the
    archived stage said so on its overview and listed apart."""
    prepared = prepared_site(db_url, tmp_path)
    sync_api, env, shots = prepared.sync_api, prepared.env, prepared.shots
    with serve(env) as base:
        with httpx.Client(base_url=base) as api:
            session = api.post("/api/v1/session", json={"name": "root", "pass": ADMIN_PASSWORD})
            assert api.post("/api/v1/stages", json={"id": "autumn", "label": "Autumn"},
                            headers={"X-CSRF-Token": session.json()["csrf_token"]}
                            ).status_code == 201
        with sync_api.sync_playwright() as playwright, \
                admin_page(playwright, base, javascript=False) as page:
            page.goto(base + "/admin/stages/autumn")
            main = page.locator("main")
            main.get_by_role("link", name="Archive stage").click()
            assert "Are you sure you want to archive the stage Autumn?" in main.inner_text()
            page.screenshot(path=str(shots / "1-archive-step.png"), full_page=True)
            main.get_by_role("button", name="Archive stage").click()
            assert "The stage “Autumn” has been archived." in page.locator(
                ".messages.status").inner_text()
            assert "This stage is archived" in main.inner_text()
            assert main.get_by_role("link", name="Work in this stage").count() == 0
            page.goto(base + "/admin/stages")
            archived = main.locator("table", has_text="Archived stages")
            assert "Autumn" in archived.inner_text()
            page.screenshot(path=str(shots / "2-archived.png"), full_page=True)
    assert sorted(p.name for p in shots.iterdir()) == ["1-archive-step.png", "2-archived.png"]
