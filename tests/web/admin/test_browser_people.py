"""The people pages in a real browser (Debian's chromium driven by Playwright, JavaScript off:
the pages need none) on a real ``trovato serve``: the administrator creates a role "Editor",
grants it two permissions in the matrix, creates a user with that role, logs out; the user
logs in and reaches only what the role allows. Screenshots of each step go to the test's
output folder (its tmp folder, ``screenshots/``).

Skipped when /usr/bin/chromium or the playwright package is missing. Never run
``playwright install``: the browser is the system's.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests._servers import serve
from tests.conftest import ADMIN_PASSWORD
from tests.web._browser_site import prepared_site
from tests.web.test_browser import ARGS, CHROMIUM

EDNA_PASSWORD = "a long and private passphrase"


def test_role_permissions_account_and_what_the_account_may_reach(
        db_url: str, tmp_path: Path) -> None:
    prepared = prepared_site(db_url, tmp_path)
    sync_api, env, shots = prepared.sync_api, prepared.env, prepared.shots
    with serve(env) as base, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                             headless=True)
        try:
            page = browser.new_page(java_script_enabled=False)
            page.set_default_timeout(20_000)
            main = page.locator("main")

            def shot(name: str) -> None:
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

            def log_in(name: str, password: str) -> None:
                page.goto(base + "/user/login")
                page.get_by_label("User name").fill(name)
                page.get_by_label("Password").fill(password)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(base + "/")

            log_in("root", ADMIN_PASSWORD)
            # 1. A role "Editor".
            page.goto(base + "/admin/people/roles")
            main.get_by_label("Role name").fill("Editor")
            main.get_by_role("button", name="Add role").click()
            page.wait_for_url("**/admin/people/roles")
            assert "The role “Editor” has been added." in main.inner_text()
            assert main.get_by_role("cell", name="Editor", exact=True).is_visible()
            shot("1-role-added")
            # 2. Two permissions for it, in the matrix (each box has its own label).
            page.goto(base + "/admin/people/permissions")
            main.get_by_label("Grant See the toolbar and open the admin pages to Editor"
                              ).check()
            main.get_by_label("Grant View user profiles to Editor").check()
            shot("2-matrix-checked")
            main.get_by_role("button", name="Save permissions").click()
            page.wait_for_url("**/admin/people/permissions")
            assert "The permissions have been saved." in main.inner_text()
            assert main.get_by_label("Grant View user profiles to Editor").is_checked()
            assert not main.get_by_label("Grant Create, edit and block user accounts to Editor"
                                         ).is_checked()
            shot("3-matrix-saved")
            # 3. An account with the role; a mistake first, corrected.
            page.goto(base + "/admin/people/create")
            main.get_by_label("User name").fill("edna")
            main.get_by_label("E-mail address").fill("edna@example.com")
            main.get_by_label(re.compile(r"^Password")).fill(EDNA_PASSWORD)
            main.get_by_label("Confirm password").fill("not the same")
            main.get_by_label("Editor", exact=True).check()
            main.get_by_role("button", name="Create account").click()
            assert "The two passwords do not match." in main.locator("#form-errors").inner_text()
            assert main.get_by_label("User name").input_value() == "edna"
            assert main.get_by_label("Editor", exact=True).is_checked()
            shot("4-account-error")
            main.get_by_label(re.compile(r"^Password")).fill(EDNA_PASSWORD)
            main.get_by_label("Confirm password").fill(EDNA_PASSWORD)
            main.get_by_role("button", name="Create account").click()
            page.wait_for_url("**/admin/people")
            assert "The account “edna” has been created." in main.inner_text()
            row = main.get_by_role("row").filter(has_text="edna")
            assert "Editor" in row.inner_text() and "Active" in row.inner_text()
            root_link = main.get_by_role("link", name="root", exact=True).get_attribute("href")
            assert root_link is not None
            root_profile = "/user/" + root_link.split("/")[3]
            shot("5-account-created")
            # 4. Log out; log in as edna.
            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(base + "/")
            log_in("edna", EDNA_PASSWORD)
            shot("6-edna-logged-in")
            # 5. What the role allows: profiles; not the people pages.
            profile = page.goto(base + root_profile)
            assert profile is not None and profile.status == 200
            assert page.locator("h1").inner_text() == "root"
            shot("7-edna-profile-allowed")
            for path in ("/admin/people", "/admin/people/permissions", "/admin/people/create"):
                refused = page.goto(base + path)
                assert refused is not None and refused.status == 403, path
            shot("8-edna-people-refused")
        finally:
            browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-role-added.png", "2-matrix-checked.png", "3-matrix-saved.png",
        "4-account-error.png", "5-account-created.png", "6-edna-logged-in.png",
        "7-edna-profile-allowed.png", "8-edna-people-refused.png"]
