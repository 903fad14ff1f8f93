"""The admin shell in a real browser (Debian's chromium driven by Playwright) on a real
``trovato serve``: log in, open the dashboard from the toolbar, filter the content list, and
bulk-unpublish three items through the confirmation step and the batch's progress page — with
JavaScript (batch.js drives the batch) and without it (the page refreshes itself); the
toolbar comes first by keyboard and wraps on a phone. Screenshots of each step go to the
test's tmp folder.

Skipped when /usr/bin/chromium or the playwright package is missing. Never run
``playwright install``: the browser is the system's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests._servers import serve
from tests.api.conftest import ARTICLE
from tests.conftest import ADMIN_PASSWORD
from tests.web._axe import assert_accessible
from tests.web._browser_site import browser_site, prepared_site
from tests.web.test_browser import ARGS, CHROMIUM

TITLES = ("Bulk story 1", "Bulk story 2", "Bulk story 3", "Other story 1", "Other story 2")


def _bulk(p: Any, base: str, action: str, verb: str, shots: Path, step: str) -> None:
    """Filter for the bulk stories on page ``p`` (a playwright Page: the package is optional),
    check the three, run ``action`` to its end."""
    p.goto(base + "/admin/content")
    p.get_by_label("Title contains").fill("Bulk")
    p.get_by_role("button", name="Filter").click()
    p.wait_for_url("**/admin/content?*title=Bulk*")
    rows = p.locator("main tbody tr")
    assert rows.count() == 3
    p.screenshot(path=str(shots / f"{step}-1-filtered.png"), full_page=True)
    for n in (1, 2, 3):
        p.get_by_label(f"Select Bulk story {n}").check()
    p.get_by_label("Action").select_option(action)
    p.get_by_role("button", name="Apply to selected items").click()
    p.wait_for_url("**/admin/content/bulk")
    main = p.locator("main")
    for n in (1, 2, 3):
        assert f"Bulk story {n}" in main.inner_text()
    assert "Other story" not in main.inner_text()
    p.screenshot(path=str(shots / f"{step}-2-confirm.png"), full_page=True)
    main.get_by_role("button", name=f"{verb} 3 items").click()
    p.wait_for_url("**/admin/content?*", timeout=60_000)
    message = p.locator("main .messages.status").inner_text()
    assert message == f"{verb}ed 3 items."  # Unpublished, Published
    p.screenshot(path=str(shots / f"{step}-3-done.png"), full_page=True)


def test_dashboard_filter_and_bulk_unpublish(db_url: str, tmp_path: Path) -> None:
    prepared = prepared_site(db_url, tmp_path)
    sync_api, env, shots = prepared.sync_api, prepared.env, prepared.shots
    with serve(env) as base, httpx.Client(base_url=base) as api:
        token = api.post("/api/v1/session", json={"name": "root", "pass": ADMIN_PASSWORD}
                         ).json()["csrf_token"]
        headers = {"X-CSRF-Token": token}
        assert api.post("/api/v1/item-types", json=ARTICLE, headers=headers
                        ).status_code == 201
        ids = {}
        for title in TITLES:
            made = api.post("/api/v1/items", headers=headers, json={
                "type": "article", "title": title, "status": 1,
                "fields": {"field_body": {"value": "Body", "format": "plain_text"}}})
            assert made.status_code == 201, made.text
            ids[title] = made.json()["id"]

        def statuses() -> dict[str, int]:
            return {t: api.get(f"/api/v1/items/{i}").json()["status"]
                    for t, i in ids.items()}

        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                                 headless=True)
            try:
                page = browser.new_page()
                page.set_default_timeout(20_000)
                page.goto(base + "/user/login")
                page.get_by_label("User name").fill("root")
                page.get_by_label("Password").fill(ADMIN_PASSWORD)
                page.get_by_role("button", name="Log in").click()
                toolbar = page.get_by_role("navigation", name="Administration toolbar")
                toolbar.get_by_role("link", name="Dashboard").click()
                page.wait_for_url("**/admin")
                assert page.locator("h1").inner_text() == "Administration"
                assert "Find, publish, unpublish and delete items." in page.locator(
                    "main").inner_text()
                page.screenshot(path=str(shots / "0-dashboard.png"), full_page=True)
                # Keyboard: after the skip link, the toolbar comes first.
                page.keyboard.press("Tab")
                page.keyboard.press("Tab")
                assert page.evaluate("document.activeElement.closest('nav.toolbar') !== null"
                                     " && document.activeElement.textContent") == "Dashboard"
                # A desktop: the groups and the user's links share one row.
                assert page.evaluate("(() => { const [groups, mine] = document"
                                     ".querySelectorAll('nav.toolbar > ul'); return"
                                     " groups.offsetTop === mine.offsetTop"
                                     " && groups.offsetHeight < 40; })()")
                # A group opens its first section and lists the others in a second row.
                toolbar.get_by_role("link", name="Structure").click()
                page.wait_for_url("**/admin/structure/types")
                toolbar.get_by_role("list", name="Structure").get_by_role(
                    "link", name="Categories").click()
                page.wait_for_url("**/admin/structure/categories")
                assert toolbar.locator("[aria-current=page]").inner_text() == "Categories"
                # A phone: the toolbar wraps instead of overflowing.
                phone = browser.new_page(viewport={"width": 360, "height": 740})
                phone.context.add_cookies(page.context.cookies())
                phone.goto(base + "/admin")
                assert phone.evaluate("(() => { const bar = document.querySelector("
                                      "'nav.toolbar'); return bar.scrollWidth <= 360"
                                      " && bar.getBoundingClientRect().height > 40; })()")
                phone.screenshot(path=str(shots / "0-phone.png"), full_page=True)
                _bulk(page, base, "unpublish", "Unpublish", shots, "js")
                assert statuses() == {t: 0 if t.startswith("Bulk") else 1 for t in TITLES}
                # Without JavaScript the progress page refreshes itself to the end.
                plain = browser.new_page(java_script_enabled=False)
                plain.set_default_timeout(20_000)
                plain.context.add_cookies(page.context.cookies())
                _bulk(plain, base, "publish", "Publish", shots, "nojs")
                assert set(statuses().values()) == {1}
            finally:
                browser.close()
    assert len(list(shots.iterdir())) == 8


def _roles(page: Any) -> set[str]:
    """The roles in chromium's own accessibility tree of ``page`` (not playwright's guess)."""
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    return {node["role"]["value"] for node in nodes if "role" in node}


def test_admin_tables_fit_a_phone_as_labelled_blocks(db_url: str, tmp_path: Path) -> None:
    """At 390px the content list's rows are blocks of cells led by their column's heading:
    the page does not scroll sideways, every row's Edit link is on the screen, and chromium
    still reads a table of column headers and cells, which axe-core finds no fault in.
    Another admin table (the item types, drawn by the table element) does the same."""
    with browser_site(db_url, tmp_path) as site:
        for title in ("A story with a rather long title to wrap", "Another story"):
            made = site.api.post("/api/v1/items", headers={"X-CSRF-Token": site.csrf}, json={
                "type": "article", "title": title, "status": 1,
                "fields": {"field_body": {"value": "Body", "format": "plain_text"}}})
            assert made.status_code == 201, made.text
        page = site.page
        page.set_viewport_size({"width": 390, "height": 800})
        for path in ("/admin/content", "/admin/structure/types"):
            page.goto(site.base + path)
            site.shot(path.strip("/").replace("/", "-"))
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            edits = page.locator("main tbody").get_by_role("link", name="Edit")
            assert edits.count() >= 1, path
            for n in range(edits.count()):
                box = edits.nth(n).bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
            label = page.eval_on_selector(
                "main tbody td:last-child",
                "e => getComputedStyle(e, '::before').content")
            assert "Operations" in label, (path, label)
            assert {"table", "columnheader", "row", "cell"} <= _roles(page), path
            assert_accessible(page)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(site.base + "/admin/content")  # a desktop: columns, no labels drawn
        assert page.eval_on_selector("main tbody tr", "e => getComputedStyle(e).display"
                                     ) == "table-row"
