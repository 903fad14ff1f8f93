"""Fixtures for the plugin system: real components built once per test session.

Building a Python plugin takes 10-16 s and ~400 MB, so the test plugins (hello, tally,
hostile, ledger, reader, gatekeeper, writer, tiler) are built once, two at a time, into a cache
that also survives between runs (``TROVATO_TEST_PLUGIN_CACHE``, default
``$TMPDIR/trovato-test-plugins``); the build key covers sources, SDK, WIT and componentize-py,
so a stale artifact is never reused.
"""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import create_account, running_app, site_settings
from trovato.content.model import ItemHooks
from trovato.content.query import ItemQuery
from trovato.content.reads import PluginItemReads
from trovato.db.pool import Database
from trovato.kernel.services import Kernel
from trovato.observability.metrics import Metrics
from trovato.plugins import tables as plugin_tables
from trovato.plugins.build import BuildResult, build_plugin
from trovato.plugins.host import HostServices, PluginUser, RequestHost
from trovato.plugins.info import parse_info
from trovato.plugins.manager import PluginManager
from trovato.plugins.runtime import LoadedPlugin, PluginRuntime
from trovato.plugins.session import PluginSession
from trovato.plugins.tables import PluginTables
from trovato.stages import Stages
from trovato.store import SharedStore, open_store
from trovato.users.permissions import PermissionRegistry

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PLUGIN_DIRS = [REPO / "plugins", FIXTURES]
FOLDERS = {
    "hello": REPO / "plugins" / "hello",
    "tally": FIXTURES / "tally",
    "hostile": FIXTURES / "hostile",
    "ledger": FIXTURES / "ledger",
    "reader": FIXTURES / "reader",
    "gatekeeper": FIXTURES / "gatekeeper",
    "writer": FIXTURES / "writer",
    "tiler": FIXTURES / "tiler",
}
ANONYMOUS_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="session")
def built(plugin_cache: Path) -> dict[str, BuildResult]:
    """Every test plugin built (or found in the cache), two builds at a time (2 cores)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(build_plugin, folder, cache_dir=plugin_cache / "plugin-builds")
                   for name, folder in FOLDERS.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="session")
def runtime(plugin_cache: Path) -> PluginRuntime:
    return PluginRuntime(plugin_cache / "compiled")


@pytest.fixture(scope="session")
def loaded(runtime: PluginRuntime, built: dict[str, BuildResult]) -> dict[str, LoadedPlugin]:
    return {name: runtime.load(name, result.artifact, parse_info(FOLDERS[name]).limits)
            for name, result in built.items()}


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SharedStore]:
    shared = await open_store(database, redis_url=None)
    try:
        yield shared
    finally:
        await shared.close()


@pytest.fixture
async def tables(database: Database) -> PluginTables:
    """The test plugins' tables, created as install would."""
    specs = {name: parse_info(folder).tables for name, folder in FOLDERS.items()}
    async with database.transaction() as conn:
        for declared in specs.values():
            await plugin_tables.create_tables(conn, declared)
    return PluginTables(database, specs)


@pytest.fixture
def services(database: Database, store: SharedStore, tables: PluginTables) -> HostServices:
    """The host's services, reading items through the content query (no plugin votes: these
    sessions have no plugin manager to dispatch ``item_access``)."""
    reads = PluginItemReads(ItemQuery(database, Stages(database), ItemHooks()))
    return HostServices(database, store.cache, store.queue, tables, reads)


def make_user(*permissions: str, name: str = "ada", admin: bool = False,
              user_id: str = "0190a0b0-0000-7000-8000-00000000000a") -> PluginUser:
    return PluginUser(id=user_id, name=name, roles=("authenticated user",), authenticated=True,
                      is_admin=admin, permissions=frozenset(permissions))


@pytest.fixture
def open_session(runtime: PluginRuntime, loaded: dict[str, LoadedPlugin],
                 services: HostServices):
    """``open_session(user, plugins=[...])`` -> a PluginSession over the real runtime."""
    def factory(user: PluginUser | None = None, plugins: list[str] | None = None,
                request_id: str = "req-1") -> PluginSession:
        chosen = {n: loaded[n] for n in (plugins or list(loaded))}
        host = RequestHost(services, user or make_user(), request_id=request_id)
        return runtime.session(chosen, host)

    return factory


@pytest.fixture
async def manager(database: Database, store: SharedStore, runtime: PluginRuntime,
                  plugin_cache: Path, built: dict[str, BuildResult]) -> PluginManager:
    return PluginManager(
        database, store, plugin_dirs=PLUGIN_DIRS, cache_dir=plugin_cache, runtime=runtime,
        build_cache_dir=plugin_cache / "plugin-builds", metrics=Metrics(),
        permissions=PermissionRegistry(),
    )


async def add_item(database: Database, *, title: str, type: str = "page", status: int = 1,
                   author_id: str = ANONYMOUS_ID, body: str | None = None) -> str:
    """Insert an item (and its type) directly; returns its id."""
    await database.execute(
        "INSERT INTO item_type (type, label) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (type, type.title()))
    fields = '{"field_body": {"value": "%s", "format": "plain_text"}}' % (body or "")
    row = await database.fetchrow(
        "INSERT INTO item (type, title, status, author_id, fields) "
        "VALUES (%s, %s, %s, %s, %s::jsonb) RETURNING id",
        (type, title, status, author_id, fields if body is not None else "{}"))
    assert row is not None
    return str(row["id"])


# A minimal plugin.toml: format with the plugin's name and its dependencies as a TOML list.
INFO_TOML = """
[plugin]
name = "{name}"
version = "1.0.0"
dependencies = {deps}
"""


def plugin_folder(root: Path, name: str, toml: str) -> Path:
    """A source plugin folder ``root/name`` with ``toml`` as its plugin.toml."""
    folder = root / name
    folder.mkdir()
    (folder / "plugin.toml").write_text(toml)
    (folder / "plugin.py").write_text("")
    return folder


def rezip(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of an artifact with members replaced (bytes), removed (None) or added."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for entry in old.infolist():
            if entry.filename in change:
                continue
            new.writestr(entry, old.read(entry.filename))
        for name, data in change.items():
            if data is not None:
                new.writestr(name, data)
    return target


def item_payload(title: str, type: str = "page", **extra: object) -> dict[str, object]:
    return {"id": "0190a0b0-0000-7000-8000-0000000000ff", "type": type, "title": title,
            "status": 1, "author_id": ANONYMOUS_ID, "fields": {}, **extra}


def plugin_site_settings(db_url: str, plugin_cache: Path, backend: str = "postgres") -> Any:
    """Settings for a whole site whose data dir is the plugin test cache, so the session's
    builds and compiled artifacts are reused instead of rebuilt."""
    return site_settings(db_url, backend, plugin_dirs=str(FIXTURES), data_dir=plugin_cache)


def kernel_of(client: httpx.AsyncClient) -> Kernel:
    return client._transport.app.state.kernel  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
async def site(
    db_url: str, plugin_cache: Path, built: dict[str, BuildResult]
) -> AsyncIterator[httpx.AsyncClient]:
    """The running site with an administrator "root" and the hello plugin installed."""
    async with running_app(plugin_site_settings(db_url, plugin_cache)) as client:
        await create_account(client, "root", admin=True)
        await kernel_of(client).plugins.install("hello")
        yield client
