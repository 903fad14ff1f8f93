"""Attack suite: plugins whose names share a prefix and underscores (``acme``, ``acme_shop``)
must never reach each other's tables, variables, cache entries or queues, nor run another
plugin's protected page for a user who lacks its permission.

The fixtures ``acme`` (table ``shop_orders``, a public ``/relay`` page that invokes acme_shop's
orders page) and ``acme_shop`` (table ``orders``, ``/shop/orders`` needing "view shop orders")
are real components, built once and cached with the other test plugins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import running_app, site_settings
from tests.plugins.conftest import kernel_of, make_user
from trovato.db.pool import Database
from trovato.observability.metrics import Metrics
from trovato.plugins.build import BuildResult, build_plugin
from trovato.plugins.host import HostServices, PluginUser, RequestHost
from trovato.plugins.info import InfoError, parse_info
from trovato.plugins.manager import PluginManager
from trovato.plugins.runtime import PluginRuntime
from trovato.plugins.tables import PluginTables
from trovato.store import SharedStore, open_store
from trovato.users.permissions import PermissionRegistry

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ORDERS = {"method": "GET", "path": "/relay", "args": {}, "query": {}}


@pytest.fixture(scope="session")
def acme_built(plugin_cache: Path) -> dict[str, BuildResult]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(build_plugin, FIXTURES / name,
                                     cache_dir=plugin_cache / "plugin-builds")
                   for name in ("acme", "acme_shop")}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SharedStore]:
    shared = await open_store(database, redis_url=None)
    try:
        yield shared
    finally:
        await shared.close()


@pytest.fixture
async def manager(database: Database, store: SharedStore, plugin_cache: Path,
                  acme_built: dict[str, BuildResult]) -> PluginManager:
    manager = PluginManager(
        database, store, plugin_dirs=[FIXTURES], cache_dir=plugin_cache,
        runtime=PluginRuntime(plugin_cache / "compiled"),
        build_cache_dir=plugin_cache / "plugin-builds", metrics=Metrics(),
        permissions=PermissionRegistry())
    await manager.install("acme_shop")
    await manager.install("acme")
    return manager


async def _call(manager: PluginManager, plugin: str, function: str, payload: Any,
                user: PluginUser | None = None) -> Any:
    async with manager.session(user or make_user()) as session:
        return await manager.dispatcher.call_function(session, plugin, function,
                                                      {"payload": payload})


# -- finding 4: table names -------------------------------------------------------------------

async def test_prefix_sharing_plugins_have_separate_tables(manager: PluginManager,
                                                           database: Database) -> None:
    await _call(manager, "acme", "put", {"id": "1", "note": "acme's own"})
    await _call(manager, "acme_shop", "put", {"id": "2", "note": "acme_shop's own"})
    assert await _call(manager, "acme", "rows", {}) == [{"id": "1", "note": "acme's own"}]
    assert await _call(manager, "acme_shop", "rows", {}) == [
        {"id": "2", "note": "acme_shop's own"}]

    # Uninstalling one drops its table only.
    await manager.disable("acme")
    await manager.uninstall("acme")
    assert await database.fetchval("SELECT to_regclass('p_acme__shop_orders')") is None
    assert await _call(manager, "acme_shop", "rows", {}) == [
        {"id": "2", "note": "acme_shop's own"}]


# -- finding 9: variables ---------------------------------------------------------------------

async def test_uninstall_removes_only_the_plugins_own_variables(manager: PluginManager,
                                                                database: Database) -> None:
    await _call(manager, "acme_shop", "set_variable", {"name": "mode", "value": "shop"})
    # "plugin.acme.shop.x" and "plugin.acmexshop.mode" both match LIKE 'plugin.acme_shop.%'.
    await _call(manager, "acme", "set_variable", {"name": "shop.x", "value": "acme"})
    await database.execute("INSERT INTO variable (name, value) VALUES "
                           "('plugin.acmexshop.mode', '\"other\"')")
    await manager.disable("acme_shop")
    await manager.uninstall("acme_shop")
    names = await database.fetch("SELECT name FROM variable WHERE name LIKE 'plugin.%' "
                                 "ORDER BY name")
    assert [row["name"] for row in names] == ["plugin.acme.shop.x", "plugin.acmexshop.mode"]


# -- finding 5: invoke-plugin of a protected menu callback ------------------------------------

@pytest.fixture
async def acme_site(db_url: str, plugin_cache: Path, acme_built: dict[str, BuildResult]
                    ) -> AsyncIterator[httpx.AsyncClient]:
    settings = site_settings(db_url, "postgres", plugin_dirs=str(FIXTURES),
                             data_dir=plugin_cache)
    async with running_app(settings) as client:
        plugins = kernel_of(client).plugins
        await plugins.install("acme_shop")
        await plugins.install("acme")
        await _call(plugins, "acme_shop", "put", {"id": "1", "note": "secret order 4711"})
        yield client


async def test_a_protected_callback_is_refused_through_invoke_plugin(
    acme_site: httpx.AsyncClient,
) -> None:
    direct = await acme_site.get("/shop/orders")
    assert direct.status_code == 403
    relayed = await acme_site.get("/relay")
    assert relayed.status_code == 200
    assert "secret order 4711" not in relayed.text
    assert "relay refused" in relayed.text and "view shop orders" in relayed.text


async def test_a_user_with_the_permission_may_use_the_callback_through_a_plugin(
    acme_site: httpx.AsyncClient,
) -> None:
    plugins = kernel_of(acme_site).plugins
    async with plugins.session(make_user("view shop orders", "access content")) as session:
        tree = await plugins.dispatcher.call_function(session, "acme", "relay_page",
                                                      {"request": ORDERS})
    assert "secret order 4711" in str(tree)


# -- permissions are one namespace shared with the kernel --------------------------------------

async def test_a_plugin_cannot_take_over_a_kernel_permission(manager: PluginManager) -> None:
    registry = manager.permissions
    assert registry is not None
    owned = {p.name: p for p in registry.all()}
    assert owned["administer site configuration"].provider == "system"
    assert owned["administer site configuration"].restricted
    assert owned["view shop orders"].provider == "acme_shop"
    await manager.disable("acme")
    assert "administer site configuration" in registry


# -- every namespaced kind, through the host functions ------------------------------------------

@pytest.fixture(params=["postgres", "redis"])
async def any_store(request: pytest.FixtureRequest, database: Database
                    ) -> AsyncIterator[SharedStore]:
    if request.param == "redis":
        shared = await open_store(database, redis_url=request.getfixturevalue("redis_url"),
                                  prefix=request.getfixturevalue("redis_prefix"))
    else:
        shared = await open_store(database, redis_url=None)
    try:
        yield shared
    finally:
        await shared.close()


def _host(database: Database, store: SharedStore) -> RequestHost:
    services = HostServices(database, store.cache, store.queue, PluginTables(database, {}))
    return RequestHost(services, PluginUser.anonymous())


async def test_variables_cache_and_queues_do_not_collide(database: Database,
                                                         any_store: SharedStore) -> None:
    host = _host(database, any_store)
    # The pairs that produce the same text under a naive "<plugin><sep><name>" scheme.
    assert await host.variable_set("acme", "t", "shop.x", '"acme"') is None
    assert await host.variable_get("acme_shop", "t", "x") is None
    assert await host.variable_get("acme", "t", "shop.x") == '"acme"'

    await host.cache_set("acme", "t", "shop:k", '"acme"', 60, ["shop:tag"])
    await host.cache_set("acme_shop", "t", "k", '"acme_shop"', 60, ["tag"])
    assert await host.cache_get("acme", "t", "shop:k") == '"acme"'
    assert await host.cache_get("acme_shop", "t", "k") == '"acme_shop"'
    await host.cache_invalidate_tag("acme", "t", "shop:tag")
    assert await host.cache_get("acme", "t", "shop:k") is None
    assert await host.cache_get("acme_shop", "t", "k") == '"acme_shop"'

    assert (await host.queue_push("acme", "t", "shop.jobs", '{"from": "acme"}')).tag == "ok"
    assert await any_store.queue.size("plugin.acme_shop.jobs") == 0
    assert await any_store.queue.size("plugin.acme.shop.jobs") == 1


async def test_names_with_a_trailing_newline_are_refused(database: Database,
                                                         store: SharedStore,
                                                         tmp_path: Path) -> None:
    host = _host(database, store)
    assert await host.variable_set("acme", "t", "mode\n", '"x"') == "invalid variable name " \
                                                                  "'mode\\n'"
    assert await host.variable_get("acme", "t", "mode\n") is None
    assert (await host.queue_push("acme", "t", "jobs\n", "{}")).tag == "err"

    (tmp_path / "plugin.py").write_text("")
    info = tmp_path / "plugin.toml"
    info.write_text('[plugin]\nname = "acme\\n"\nversion = "0.1.0"\n')
    with pytest.raises(InfoError, match=r"plugin\.name"):
        parse_info(tmp_path)
    info.write_text('[plugin]\nname = "acme"\nversion = "0.1.0\\n"\n')
    with pytest.raises(InfoError, match=r"plugin\.version"):
        parse_info(tmp_path)
    info.write_text('[plugin]\nname = "acme"\nversion = "0.1.0"\n'
                    '[tables."orders\\n"]\ncolumns = { id = "text" }\n')
    with pytest.raises(InfoError, match=r"tables\.orders\n: table names are"):
        parse_info(tmp_path)
    info.write_text('[plugin]\nname = "acme"\nversion = "0.1.0"\n'
                    '[tables.orders]\ncolumns = { "id\\n" = "text" }\n')
    with pytest.raises(InfoError, match="column names"):
        parse_info(tmp_path)


@pytest.mark.parametrize("name", ["acme__shop", "acme_"])
def test_plugin_names_that_could_merge_table_names_are_refused(name: str,
                                                              tmp_path: Path) -> None:
    (tmp_path / "plugin.py").write_text("")
    (tmp_path / "plugin.toml").write_text(f'[plugin]\nname = "{name}"\nversion = "0.1.0"\n')
    with pytest.raises(InfoError, match="words joined by single underscores"):
        parse_info(tmp_path)


def test_menu_entries_with_a_trailing_newline_fail_the_catalogue_schema() -> None:
    from trovato.plugins.catalogue import MENU
    from trovato.plugins.schema import SchemaError, validate

    validate({"path": "shop/orders", "title": "T", "callback": "orders_page"}, MENU)
    for entry in ({"path": "shop/orders\n", "title": "T", "callback": "orders_page"},
                  {"path": "shop/orders", "title": "T", "callback": "orders_page\n"}):
        with pytest.raises(SchemaError, match="does not match"):
            validate(entry, MENU)


def test_name_patterns_outside_plugins_refuse_a_trailing_newline() -> None:
    """The same one-character fix in the other modules' name checks (each a full match)."""
    from trovato.content import fields, types
    from trovato.content.fields import dates, links
    from trovato.plugins import artifact
    from trovato.render import elements, sanitize

    checks = [(fields.FIELD_NAME, "field_body"), (dates._DATE, "2026-01-02"),
              (dates._DATETIME, "2026-01-02T03:04:05Z"), (links._EMAIL, "a@example.com"),
              (types.TYPE_NAME, "blog"), (sanitize._SLUG, "teaser"),
              (sanitize._CHILD_NAME, "body"), (sanitize._VARIABLE, "reading_time"),
              (sanitize._TEMPLATE, "item--blog"), (elements.ATTRIBUTE_NAME, "class"),
              (artifact._NAME, "acme_shop"), (artifact._HEX, "0" * 64)]
    for pattern, good in checks:
        assert pattern.match(good), pattern.pattern
        assert pattern.match(good + "\n") is None, pattern.pattern
