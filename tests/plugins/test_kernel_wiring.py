"""The plugin system inside the running kernel: menu routes, permissions, account events,
cron and queue workers, and enable/disable seen by a second process without a restart."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import api_login, create_account, running_app
from tests.plugins.conftest import FIXTURES, kernel_of, plugin_site_settings
from trovato.plugins.build import BuildResult

ANONYMOUS = "00000000-0000-7000-8000-000000000001"


async def _visits(client: httpx.AsyncClient, prefix: str) -> list[dict[str, object]]:
    return await kernel_of(client).db.fetch(
        "SELECT path, visitor, data FROM p_hello__visit WHERE path LIKE %s ORDER BY seen",
        (prefix + "%",),
    )


async def test_menu_route_checks_permission_and_renders_the_tree(
    site: httpx.AsyncClient, caplog: pytest.LogCaptureFixture,
) -> None:
    assert "use hello" in kernel_of(site).registry  # from tap_perm
    assert (await site.get("/hello")).status_code == 403
    csrf = await api_login(site, "root")
    grant = await site.put(f"/api/v1/roles/{ANONYMOUS}/permissions",
                           json={"permissions": ["access content", "use hello"]},
                           headers={"X-CSRF-Token": csrf})
    assert grant.status_code == 200
    site.cookies.clear()
    caplog.set_level(logging.WARNING, logger="trovato.render")
    page = await site.get("/hello/world")
    assert page.status_code == 200, page.text
    # hello's page holds an SDK render.list: the kernel takes it as built, dropping nothing.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("trovato.render")] == []
    assert "<title>Hello someone | " in page.text
    assert "Hello, world!" in page.text and "Visits: 1" in page.text
    assert (await site.get("/hello/<script>")).status_code == 200  # arg text is escaped
    assert "<script>" not in (await site.get("/hello/%3Cscript%3E")).text
    assert (await site.get("/nothing/here")).status_code == 404
    assert (await site.post("/hello", data={})).status_code in (403, 405)


async def test_account_events_reach_plugins(site: httpx.AsyncClient) -> None:
    alice = await create_account(site, "alice")
    csrf = await api_login(site, "alice")
    await site.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    admin_csrf = await api_login(site, "root")
    role = await site.post("/api/v1/roles", json={"name": "editor"},
                           headers={"X-CSRF-Token": admin_csrf})
    await site.put(f"/api/v1/users/{alice}/roles", json={"roles": [role.json()["id"]]},
                   headers={"X-CSRF-Token": admin_csrf})
    events = [(row["path"], row["visitor"]) for row in await _visits(site, "user:")]
    assert ("user:register", alice) in events
    assert ("user:login", alice) in events
    assert ("user:logout", alice) in events
    assert ("user:update", alice) in events


async def test_cron_runs_once_at_a_time_and_workers_drain_the_queue(
    site: httpx.AsyncClient,
) -> None:
    kernel = kernel_of(site)
    async with kernel.store.locks.hold("cron", 30) as token:
        assert token is not None
        assert (await kernel.cron.run()).ran is False  # another run holds the lock
    report = await kernel.cron.run()
    assert report.ran and report.plugins == ["hello"] and not report.failures
    assert await kernel.store.queue.size("plugin.hello.greetings") == 1
    assert await kernel.cron.work_queues(idle_exit=True) == 1
    assert await kernel.store.queue.size("plugin.hello.greetings") == 0
    jobs = await _visits(site, "queue:")
    assert [row["path"] for row in jobs] == ["queue:greetings"]


async def test_enable_and_disable_reach_another_process(
    db_url: str, plugin_cache: Path, built: dict[str, BuildResult], store_backend: str
) -> None:
    settings = plugin_site_settings(db_url, plugin_cache, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        await create_account(a, "root", admin=True)
        csrf = await api_login(a, "root")
        assert (await b.get("/hello")).status_code == 404
        await kernel_of(a).plugins.install("hello")
        for _ in range(300):  # b refreshes when a announces the change on pub/sub
            if (await b.get("/hello")).status_code != 404:
                break
            await asyncio.sleep(0.02)
        assert (await b.get("/hello")).status_code == 403  # the page exists, needs a grant
        grant = await a.put(f"/api/v1/roles/{ANONYMOUS}/permissions",
                            json={"permissions": ["access content", "use hello"]},
                            headers={"X-CSRF-Token": csrf})
        assert grant.status_code == 200, grant.text
        assert (await b.get("/hello")).status_code == 200
        await kernel_of(a).plugins.disable("hello")
        for _ in range(300):
            if (await b.get("/hello")).status_code == 404:
                break
            await asyncio.sleep(0.02)
        assert (await b.get("/hello")).status_code == 404


def test_cli_lists_and_installs_plugins(
    db_url: str, plugin_cache: Path, built: dict[str, BuildResult]
) -> None:
    env = {**os.environ, "TROVATO_DATABASE_URL": db_url, "TROVATO_DATA_DIR": str(plugin_cache),
           "TROVATO_PLUGIN_DIRS": str(FIXTURES), "TROVATO_REDIS_URL": "",
           "PYTHONFAULTHANDLER": "1"}

    def trovato(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "trovato", "plugin", *args]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        try:
            out, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            # A hung command: make it dump every thread's stack (faulthandler) and fail with it.
            proc.send_signal(signal.SIGABRT)
            out, err = proc.communicate()
            raise AssertionError(f"{' '.join(args)} hung; its threads:\n{err}") from None
        return subprocess.CompletedProcess(command, proc.returncode, out, err)

    listed = trovato("list")
    assert listed.returncode == 0, listed.stderr
    assert "hello" in listed.stdout and "not installed" in listed.stdout  # a listing is a result
    early = trovato("install", "tally")
    assert early.returncode == 1
    assert "depends on 'hello': install and enable 'hello' first" in early.stderr
    assert trovato("install", "hello").returncode == 0
    installed = trovato("install", "tally")
    assert installed.returncode == 0, installed.stderr
    listing = trovato("list").stdout
    assert "tally" in listing and "enabled" in listing
    blocked = trovato("disable", "hello")
    assert blocked.returncode == 1 and "tally" in blocked.stderr
    assert trovato("enable", "nope").returncode == 1
    assert trovato("disable", "tally").returncode == 0
    assert trovato("uninstall", "tally").returncode == 0


async def test_enabling_a_plugin_drops_cached_pages_in_every_process(
    db_url: str, plugin_cache: Path, built: dict[str, BuildResult], store_backend: str
) -> None:
    """An anonymous page cached before a plugin was enabled is not served after it: each
    process clears its page cache when its set of plugins changes."""
    settings = plugin_site_settings(db_url, plugin_cache, store_backend)
    async with running_app(settings) as a, running_app(settings) as b:
        await create_account(a, "root", admin=True)
        csrf = await api_login(a, "root")
        await kernel_of(a).plugins.install("hello")  # its item type: greeting
        created = await a.post("/api/v1/items", headers={"X-CSRF-Token": csrf}, json={
            "type": "greeting", "title": "World", "status": 1, "promote": True,
            "fields": {"field_body": {"value": "Hi", "format": "plain_text"}}})
        assert created.status_code == 201, created.text
        await kernel_of(a).plugins.disable("hello")
        a.cookies.clear()
        for _ in range(300):  # b refreshes (and drops its pages) on each message from a
            page = await b.get("/")
            if "Hello, World" not in page.text and page.headers["x-trovato-cache"] == "HIT":
                break
            await asyncio.sleep(0.02)
        assert (await b.get("/")).headers["x-trovato-cache"] == "HIT"
        await kernel_of(a).plugins.enable("hello")
        for _ in range(300):  # b drops its pages on the plugins' and then the types' message
            if "Hello, World" in (await b.get("/")).text:
                break
            await asyncio.sleep(0.02)
        page = await b.get("/")
        assert "Hello, World" in page.text, page.text
        assert (await a.get("/")).headers["x-trovato-cache"] in ("MISS", "HIT")
        assert "Hello, World" in (await a.get("/")).text
