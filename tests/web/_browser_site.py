"""A real ``trovato serve`` with an administrator and the article type, and a chromium page
logged in as that administrator (JavaScript on), for the browser tests of the forms' scripts.

Skips when /usr/bin/chromium or the playwright package is missing. Never run
``playwright install``: the browser is the system's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._servers import serve
from tests.api.conftest import ARTICLE
from tests.conftest import ADMIN_PASSWORD
from tests.web.test_browser import ARGS, CHROMIUM


@dataclass
class BrowserSite:
    base: str
    page: Any  # playwright.sync_api.Page (an optional test dependency: not imported here)
    api: httpx.Client  # logged in as root through the JSON API
    csrf: str
    shots: Path

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


@dataclass
class Prepared:
    """What a browser test starts from: playwright's sync API, the server's environment
    (whose database already has the administrator "root") and the screenshot folder."""

    sync_api: Any
    env: dict[str, str]
    shots: Path


def prepared_site(db_url: str, tmp_path: Path, **env: str) -> Prepared:
    """Skip without chromium or playwright; otherwise make the administrator "root" through
    the CLI (as a site builder would) in a site on ``db_url`` with ``env`` on top of the
    defaults (no Redis, a data folder of the test's own)."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    full = {"TROVATO_DATABASE_URL": db_url, "TROVATO_REDIS_URL": "",
            "TROVATO_DATA_DIR": str(tmp_path / "data"), **env}
    created = subprocess.run(
        [sys.executable, "-m", "trovato", "user", "create", "--admin", "--name", "root",
         "--mail", "root@example.com", "--password-stdin"],
        input=ADMIN_PASSWORD, env={**os.environ, **full}, capture_output=True,
        text=True, timeout=120)
    assert created.returncode == 0, created.stdout + created.stderr
    shots = tmp_path / "screenshots"
    shots.mkdir()
    return Prepared(sync_api, full, shots)


@contextmanager
def browser_site(db_url: str, tmp_path: Path, *, javascript: bool = True,
                 types: tuple[dict[str, Any], ...] = (ARTICLE,)) -> Iterator[BrowserSite]:
    prepared = prepared_site(db_url, tmp_path)
    sync_api, env, shots = prepared.sync_api, prepared.env, prepared.shots
    with serve(env) as base, httpx.Client(base_url=base) as api:
        csrf = api.post("/api/v1/session",
                        json={"name": "root", "pass": ADMIN_PASSWORD}).json()["csrf_token"]
        for item_type in types:
            made = api.post("/api/v1/item-types", json=item_type,
                            headers={"X-CSRF-Token": csrf})
            assert made.status_code == 201, made.text
        with sync_api.sync_playwright() as playwright, \
                admin_page(playwright, base, javascript=javascript) as page:
            yield BrowserSite(base, page, api, csrf, shots)


@contextmanager
def admin_page(playwright: Any, base: str, *, javascript: bool = True) -> Iterator[Any]:
    """A chromium page (JavaScript on or off) of the site at ``base``, logged in as "root"
    through the login form; the browser is closed afterwards."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                         headless=True)
    try:
        page = browser.new_page(java_script_enabled=javascript)
        page.set_default_timeout(20_000)
        page.goto(base + "/user/login")
        page.get_by_label("User name").fill("root")
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(base + "/")
        yield page
    finally:
        browser.close()
