"""A real browser (Debian's chromium, driven by Playwright) on a real ``trovato serve`` with
the demo content: front page teasers, a blog post, the /blog index.

Skipped when /usr/bin/chromium or the playwright package is missing. Never run
``playwright install``: the browser is the system's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._servers import serve

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
POSTS = ["Hello, world", "Writing a plugin", "Render trees", "What comes next"]


def site_env(db_url: str, plugin_cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TROVATO_PLUGIN_DIRS"}
    env.update({"TROVATO_DATABASE_URL": db_url, "TROVATO_DATA_DIR": str(plugin_cache),
                "TROVATO_REDIS_URL": ""})
    return env


def test_demo_site_in_a_browser(db_url: str, plugin_cache: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    env = site_env(db_url, plugin_cache)
    loaded = subprocess.run([sys.executable, "-m", "trovato", "demo"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    # serve() merges os.environ back in, so drop the plugin folders override there too.
    saved = os.environ.pop("TROVATO_PLUGIN_DIRS", None)
    try:
        with serve(env) as base, sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                                 headless=True)
            try:
                page = browser.new_page()
                page.set_default_timeout(20_000)
                page.goto(base + "/")
                teasers = page.locator("article.item--blog.item--teaser")
                assert teasers.count() == len(POSTS)
                for title in POSTS:
                    assert page.get_by_role("link", name=title).count() >= 1
                page.get_by_role("link", name="Render trees").first.click()
                page.wait_for_url("**/item/*")
                assert "Render trees" in page.title() or page.locator(
                    "h1", has_text="Render trees").count() == 1
                assert page.get_by_text("Plugins never return HTML").is_visible()
                assert page.locator(".blog-post").count() >= 1
                page.goto(base + "/blog")
                links = page.locator(".blog-index a")
                assert sorted(links.all_inner_texts()) == sorted(POSTS)
                links.first.click()
                page.wait_for_url("**/item/*")
                assert page.locator("article.item--blog").count() == 1
            finally:
                browser.close()
    finally:
        if saved is not None:
            os.environ["TROVATO_PLUGIN_DIRS"] = saved
