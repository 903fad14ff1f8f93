"""Info files, dependency order, and install/enable/disable/uninstall against the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.conftest import FOLDERS, item_payload, make_user
from trovato.db.pool import Database
from trovato.plugins.errors import DependencyError
from trovato.plugins.registry import InfoError, PluginManager, parse_info, resolve_order

GOOD = """
[plugin]
name = "{name}"
version = "1.0.0"
dependencies = {deps}
"""


def _plugin(root: Path, name: str, toml: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "plugin.toml").write_text(toml)
    (folder / "plugin.py").write_text("")
    return folder


def test_parses_hello() -> None:
    info = parse_info(FOLDERS["hello"])
    assert info.name == "hello" and info.version == "1.0.0"
    assert info.tables["visit"].physical == "p_hello_visit"
    assert info.weight_for("item_view") == 0


@pytest.mark.parametrize(("toml", "key"), [
    ('[plugin]\nname = "Bad-Name"\nversion = "1.0.0"', "plugin.name"),
    ('[plugin]\nname = "x"\nversion = "1.0"', "plugin.version"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\nauthor = "me"', "plugin.author: unknown key"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[taps.item_veiw]\nweight = 1',
     "taps.item_veiw: unknown tap"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[taps.item_view]\nweight = "high"',
     "taps.item_view.weight"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[tables.t]\ncolumns = { a = "money" }',
     "tables.t.columns.a: unknown type 'money'"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[tables.t]\ncolumns = { a = "text" }\n'
     'primary_key = ["b"]', "tables.t.primary_key"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[limits]\nfuel = 1', "limits.fuel"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[hooks]\n', "hooks: unknown section"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\ndependencies = ["x"]', "depend on itself"),
    ("[plugin\n", "not valid TOML"),
])
def test_info_errors_name_file_and_key(tmp_path: Path, toml: str, key: str) -> None:
    folder = _plugin(tmp_path, "x", toml)
    with pytest.raises(InfoError) as caught:
        parse_info(folder)
    assert str(caught.value).startswith(str(folder / "plugin.toml"))
    assert key in str(caught.value)


def _infos(tmp_path: Path, graph: dict[str, list[str]]) -> dict:
    from trovato.plugins.registry import discover

    for name, deps in graph.items():
        _plugin(tmp_path, name, GOOD.format(name=name, deps=repr(deps).replace("'", '"')))
    return discover([tmp_path])


def test_dependency_order(tmp_path: Path) -> None:
    infos = _infos(tmp_path, {"a": ["c"], "b": [], "c": ["b"], "d": []})
    order = resolve_order(infos)
    assert order.index("b") < order.index("c") < order.index("a")


def test_dependency_cycle_and_missing(tmp_path: Path) -> None:
    infos = _infos(tmp_path, {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["zzz"]})
    with pytest.raises(DependencyError, match="'d' depends on 'zzz', which is not available"):
        resolve_order(infos)
    with pytest.raises(DependencyError, match=r"dependency cycle: a -> b -> c -> a"):
        resolve_order(infos, ["a", "b", "c"])
    with pytest.raises(DependencyError, match="which is not enabled"):
        resolve_order(infos, ["a"])


async def test_lifecycle(manager: PluginManager, database: Database) -> None:
    overview = {p["name"]: p["status"] for p in await manager.overview()}
    # The checkout's standard plugins (page, blog, …) are discovered too.
    assert {k: overview[k] for k in ("hello", "tally", "hostile")} == {
        "hello": "not installed", "tally": "not installed", "hostile": "not installed"}
    assert set(overview.values()) == {"not installed"}
    with pytest.raises(DependencyError, match="install and enable 'hello' first"):
        await manager.install("tally")
    await manager.install("hello")
    await manager.install("tally")
    # install ran: tables exist, the install tap stored its variables.
    assert await database.fetchval("SELECT to_regclass('p_hello_visit')::text") == \
        "p_hello_visit"
    assert await database.fetchval(
        "SELECT value FROM variable WHERE name = 'plugin.hello.greeting'") == "Hello"
    states = await manager.states()
    assert states["hello"].status == 1 and states["tally"].status == 1
    # Permissions from the perm tap are registered with the plugin as provider.
    assert manager.permissions is not None
    perms = {p.name: p for p in manager.permissions.all()}
    assert perms["use hello"].provider == "hello" and perms["see secrets"].restricted
    # Dispatch order follows weight then dependencies.
    assert manager.dispatcher.implementations("item_view") == ["hello", "tally"]
    async with manager.session(make_user()) as session:
        outcome = await manager.invoke(session, "item_view",
                                       {"item": item_payload("Zed"), "view_mode": "full"})
        assert [r.plugin for r in outcome.replies] == ["hello", "tally"]

    with pytest.raises(DependencyError, match="tally depend"):
        await manager.disable("hello")
    await manager.disable("tally")
    assert manager.dispatcher.implementations("item_view") == ["hello"]
    await manager.uninstall("tally")
    await manager.disable("hello")
    assert "use hello" not in manager.permissions
    await manager.uninstall("hello")
    assert await database.fetchval("SELECT to_regclass('p_hello_visit')::text") is None
    assert await database.fetchval(
        "SELECT count(*) FROM variable WHERE name LIKE 'plugin.hello.%'") == 0
    assert await manager.states() == {}


async def test_refresh_picks_up_changes_from_another_process(
        manager: PluginManager, database: Database) -> None:
    await manager.install("hello")
    other = PluginManager(database, manager.store, plugin_dirs=manager.plugin_dirs,
                          cache_dir=manager.build_cache_dir.parent, runtime=manager.runtime,
                          build_cache_dir=manager.build_cache_dir)
    assert await other.refresh() == ["hello"]
    await manager.disable("hello")
    assert await other.refresh() == []
