"""The plugins page in a real browser (Debian's chromium driven by Playwright, JavaScript off)
on a real ``trovato serve``: the administrator installs a plugin that asks for a capability
(refused until approved), sees it enabled, disables it, then finds both in the log and
opens the status report. Screenshots of each step go to
the test's tmp folder.

Skipped when /usr/bin/chromium or the playwright package is missing. Never run
``playwright install``: the browser is the system's.
"""

from __future__ import annotations

from pathlib import Path

from tests._servers import serve
from tests.conftest import ADMIN_PASSWORD
from tests.web._browser_site import prepared_site
from tests.web.admin.conftest import NEEDY
from tests.web.test_browser import ARGS, CHROMIUM
from trovato.plugins.build import BuildResult


def test_enable_a_plugin_approving_its_capabilities_then_disable_it(
    db_url: str, tmp_path: Path, plugin_cache: Path,
    admin_plugins_built: dict[str, BuildResult],
) -> None:
    # The data folder is the build cache, so the server finds the plugin built and compiled.
    prepared = prepared_site(db_url, tmp_path, TROVATO_DATA_DIR=str(plugin_cache),
                             TROVATO_PLUGIN_DIRS=str(NEEDY))
    sync_api, env, shots = prepared.sync_api, prepared.env, prepared.shots
    with serve(env) as base, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                             headless=True)
        try:
            page = browser.new_page(java_script_enabled=False)  # the pages work without it
            page.set_default_timeout(60_000)  # installing loads the plugin's component
            page.goto(base + "/user/login")
            page.get_by_label("User name").fill("root")
            page.get_by_label("Password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.goto(base + "/admin/plugins")
            main = page.locator("main")
            row = main.locator("tr", has=page.locator("#plugin-needy"))
            assert "Not installed" in row.inner_text()
            page.screenshot(path=str(shots / "1-plugins.png"), full_page=True)
            row.get_by_role("link", name="Install and enable needy").click()
            page.wait_for_url("**/admin/plugins/needy/install")
            assert "outbound_http" in main.inner_text()
            page.screenshot(path=str(shots / "2-approval.png"), full_page=True)
            main.get_by_role("button", name="Install and enable").click()
            summary = main.locator("#form-errors")
            assert "Approve the capabilities of needy" in summary.inner_text()
            approve = main.get_by_label("I approve these capabilities")
            assert approve.get_attribute("aria-invalid") == "true"
            page.screenshot(path=str(shots / "3-not-approved.png"), full_page=True)
            approve.check()
            main.get_by_role("button", name="Install and enable").click()
            page.wait_for_url("**/admin/plugins")
            assert "has been installed and enabled" in main.locator(
                ".messages.status").inner_text()
            assert "Enabled" in row.inner_text()
            page.screenshot(path=str(shots / "4-enabled.png"), full_page=True)
            row.get_by_role("link", name="Disable needy").click()
            page.wait_for_url("**/admin/plugins/needy/disable")
            main.get_by_role("button", name="Disable").click()
            page.wait_for_url("**/admin/plugins")
            assert "has been disabled" in main.locator(".messages.status").inner_text()
            assert "Disabled" in row.inner_text()
            page.screenshot(path=str(shots / "5-disabled.png"), full_page=True)
            page.goto(base + "/admin/reports?type=plugin")
            log = main.locator("table.log-entries").inner_text()
            assert "Plugin “needy” enabled." in log and "Plugin “needy” disabled." in log
            page.screenshot(path=str(shots / "6-log.png"), full_page=True)
            main.get_by_role("link", name="Status report").click()
            page.wait_for_url("**/admin/reports/status")
            assert "Schema migrations" in main.locator("table.status-report").inner_text()
            page.screenshot(path=str(shots / "7-status.png"), full_page=True)
        finally:
            browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-plugins.png", "2-approval.png", "3-not-approved.png", "4-enabled.png",
        "5-disabled.png", "6-log.png", "7-status.png"]
