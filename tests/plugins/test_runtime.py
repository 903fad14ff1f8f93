"""The runtime with real components: describe, the contract check, loading, the instance pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.conftest import item_payload
from trovato.plugins.build import BuildResult
from trovato.plugins.contract import CONTRACT, check_contract
from trovato.plugins.engine import EngineSettings
from trovato.plugins.errors import PluginLoadError
from trovato.plugins.runtime import LoadedPlugin, PluginRuntime


def test_describe_lists_taps_functions_and_contract(loaded: dict[str, LoadedPlugin]) -> None:
    hello = loaded["hello"].description
    assert hello["contract"] == ".".join(map(str, CONTRACT))
    assert {"install", "enable", "perm", "menu", "item_view", "item_view_alter",
            "item_presave", "item_access", "cron", "item_info"} <= set(hello["taps"])
    # Public functions of plugin.py are exported; taps and imported helpers are not.
    assert {"hello_page", "everything"} <= set(hello["functions"])
    assert "greet" not in hello["functions"] and "item_view" not in hello["functions"]
    assert loaded["tally"].functions == {"double", "broken_page"}


@pytest.mark.parametrize("contract", ["1.0.0", "1.0.7", "1.1.0"])
def test_contract_accepts_same_major_up_to_our_minor(contract: str) -> None:
    check_contract("p", contract)


@pytest.mark.parametrize(("contract", "message"), [
    ("2.0.0", "built against trovato:plugin 2.0.0"),
    ("0.9.0", "built against trovato:plugin 0.9.0"),
    ("1.99.0", "upgrade Trovato"),
    ("1.2.0", "needs trovato:plugin 1.2.0, newer than this kernel.s 1.1.0"),
    ("one", "invalid contract"),
])
def test_contract_refuses_incompatible_versions(contract: str, message: str) -> None:
    with pytest.raises(PluginLoadError, match=message):
        check_contract("p", contract)


def test_load_rejects_a_non_component(tmp_path: Path, runtime: PluginRuntime) -> None:
    bogus = tmp_path / "bogus.wasm"
    bogus.write_bytes(b"\0asm not really")
    with pytest.raises(PluginLoadError, match="cannot load"):
        runtime.load("bogus", bogus)


async def test_full_instance_pool_falls_back_to_on_demand(
        plugin_cache: Path, built: dict[str, BuildResult], open_session) -> None:
    from tests.plugins.conftest import FOLDERS
    from trovato.plugins.info import parse_info

    tiny = PluginRuntime(plugin_cache / "compiled", EngineSettings(pool_instances=1))
    plugins = {name: tiny.load(name, built[name].artifact, parse_info(FOLDERS[name]).limits)
               for name in ("hello", "tally")}
    host = open_session(plugins=["hello"]).host
    async with tiny.session(plugins, host) as session:
        hello = await session.call_tap("hello", "item_view", {"item": item_payload("a")})
        tally = await session.call_tap("tally", "item_view", {"item": item_payload("b")})
        assert session.instantiated == 2  # both alive at once: one came from the overflow
    assert hello["greeting"]["#value"] == "Hello, a!" and tally["#type"] == "markup"
    assert any(p.overflow is not None for p in plugins.values())
