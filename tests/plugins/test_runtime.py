"""The runtime with real components: describe, contract check, sessions, the artifact cache."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import os
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.conftest import item_payload, make_user
from trovato.observability import load
from trovato.plugins.build import BuildResult, componentize_py_version
from trovato.plugins.errors import PluginLoadError, PluginTimeout
from trovato.plugins.runtime import (
    CONTRACT,
    EngineSettings,
    Limits,
    LoadedPlugin,
    PluginRuntime,
    check_contract,
)


def test_describe_lists_taps_functions_and_contract(loaded: dict[str, LoadedPlugin]) -> None:
    hello = loaded["hello"].description
    assert hello["contract"] == ".".join(map(str, CONTRACT))
    assert {"install", "enable", "perm", "menu", "item_view", "item_view_alter",
            "item_presave", "item_access", "cron", "item_info"} <= set(hello["taps"])
    # Public functions of plugin.py are exported; taps and imported helpers are not.
    assert {"hello_page", "everything"} <= set(hello["functions"])
    assert "greet" not in hello["functions"] and "item_view" not in hello["functions"]
    assert loaded["tally"].functions == {"double", "broken_page"}


@pytest.mark.parametrize("contract", ["1.0.0", "1.0.7"])
def test_contract_accepts_same_major_up_to_our_minor(contract: str) -> None:
    check_contract("p", contract)


@pytest.mark.parametrize(("contract", "message"), [
    ("2.0.0", "built against trovato:plugin 2.0.0"),
    ("0.9.0", "built against trovato:plugin 0.9.0"),
    ("1.99.0", "upgrade Trovato"),
    ("one", "invalid contract"),
])
def test_contract_refuses_incompatible_versions(contract: str, message: str) -> None:
    with pytest.raises(PluginLoadError, match=message):
        check_contract("p", contract)


def test_limits_from_info_validates() -> None:
    assert Limits.from_info({"fuel": 5_000_000}).fuel == 5_000_000
    with pytest.raises(PluginLoadError, match=r"limits\.memory_mb"):
        Limits.from_info({"memory_mb": 1})
    with pytest.raises(PluginLoadError, match=r"limits\.cpu: unknown"):
        Limits.from_info({"cpu": 1})


def test_second_load_reuses_compiled_artifact(tmp_path: Path,
                                              built: dict[str, BuildResult]) -> None:
    runtime = PluginRuntime(tmp_path / "compiled")
    started = time.perf_counter()
    first = runtime.load("hello", built["hello"].artifact)
    compile_seconds = time.perf_counter() - started
    started = time.perf_counter()
    second = runtime.load("hello", built["hello"].artifact)
    load_seconds = time.perf_counter() - started
    assert not first.from_cache and second.from_cache
    assert second.compiled_path == first.compiled_path and second.compiled_path.exists()
    # Compiling an 18 MB Python component takes seconds; deserializing takes milliseconds.
    assert load_seconds < compile_seconds / 5, (compile_seconds, load_seconds)
    assert load_seconds < 1.0


def test_a_cached_plugin_loads_without_an_instance(tmp_path: Path,
                                                   built: dict[str, BuildResult]) -> None:
    """describe() is remembered beside the .cwasm; a broken or foreign copy is not trusted."""
    runtime = PluginRuntime(tmp_path / "compiled")
    first = runtime.load("hello", built["hello"].artifact)
    described: list[str] = []
    original = runtime._describe

    def counting(name: str, component: Any) -> dict[str, Any]:
        described.append(name)
        return original(name, component)

    runtime._describe = counting  # type: ignore[method-assign]
    second = runtime.load("hello", built["hello"].artifact)
    assert described == [] and second.description == first.description
    cached = first.compiled_path.with_suffix(".describe.json")
    cached.write_text("{not json")
    assert runtime.load("hello", built["hello"].artifact).taps == first.taps
    assert described == ["hello"]  # re-described, and the copy rewritten
    assert json.loads(cached.read_text()) == first.description
    cached.write_text(json.dumps({**first.description, "contract": "2.0.0"}))
    with pytest.raises(PluginLoadError, match=r"trovato:plugin 2\.0\.0"):
        runtime.load("hello", built["hello"].artifact)


def test_wasm_digest_is_remembered_until_the_file_changes(tmp_path: Path) -> None:
    runtime = PluginRuntime(tmp_path / "compiled")
    wasm = tmp_path / "plugin.wasm"
    wasm.write_bytes(b"first version")
    first = runtime.digest(wasm)
    assert first == hashlib.sha256(b"first version").hexdigest()
    memo = next((tmp_path / "compiled" / "digests").glob("*.json"))
    memo.write_text(memo.read_text().replace(first, "0" * 64))
    assert runtime.digest(wasm) == "0" * 64  # the memo answered, the file was not read
    replacement = tmp_path / "new.wasm"
    replacement.write_bytes(b"second version!")
    os.replace(replacement, wasm)  # a rebuild: another size, mtime and inode
    assert runtime.digest(wasm) == hashlib.sha256(b"second version!").hexdigest()
    memo.write_text("{broken")
    assert runtime.digest(wasm) == hashlib.sha256(b"second version!").hexdigest()


def test_compiled_cache_key_covers_engine_settings(tmp_path: Path) -> None:
    default = PluginRuntime(tmp_path)
    other = PluginRuntime(tmp_path, EngineSettings(max_wasm_stack=2 * 1024 * 1024))
    assert default.compiled_path("ab") != other.compiled_path("ab")
    assert default.compiled_path("ab") != default.compiled_path("cd")


def test_corrupt_compiled_artifact_is_rebuilt(tmp_path: Path,
                                              built: dict[str, BuildResult]) -> None:
    runtime = PluginRuntime(tmp_path)
    first = runtime.load("tally", built["tally"].artifact)
    # Replace, never rewrite in place: the live component has the old file mmapped.
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"garbage")
    os.replace(garbage, first.compiled_path)
    again = runtime.load("tally", built["tally"].artifact)
    assert not again.from_cache and again.taps == first.taps


def test_load_rejects_a_non_component(tmp_path: Path, runtime: PluginRuntime) -> None:
    bogus = tmp_path / "bogus.wasm"
    bogus.write_bytes(b"\0asm not really")
    with pytest.raises(PluginLoadError, match="cannot load"):
        runtime.load("bogus", bogus)


async def test_session_instantiates_lazily_and_reuses(open_session) -> None:
    async with open_session(make_user("use hello")) as session:
        assert session.instantiated == 0
        first = await session.call_tap("tally", "item_view", {"item": item_payload("a")})
        second = await session.call_tap("tally", "item_view", {"item": item_payload("b")})
        assert first["#type"] == second["#type"] == "markup"
        assert session.instantiated == 1  # one instance of tally, none of the others
    with pytest.raises(RuntimeError, match="closed"):
        await session.call("tally", "invoke-tap", "item_view", "{}")


async def test_no_state_survives_between_sessions(open_session) -> None:
    for _ in range(2):
        async with open_session() as session:
            await session.call_tap("hello", "item_view", {"item": item_payload("x")})
            assert session.host.context["hello.views"] == "1"


def test_wit_copy_in_package_matches_canonical() -> None:
    repo = Path(__file__).resolve().parents[2]
    canonical = sorted((repo / "wit").glob("*.wit"))
    shipped = repo / "src" / "trovato" / "plugins" / "wit"
    assert canonical
    for path in canonical:
        assert (shipped / path.name).read_text() == path.read_text(), path.name
    assert {p.name for p in shipped.glob("*.wit")} == {p.name for p in canonical}


def test_build_is_cached(tmp_path: Path, built: dict[str, BuildResult], plugin_cache: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.plugins.conftest import FOLDERS
    from trovato.plugins.build import build_key, build_plugin, sdk_dir, wit_dir

    again = build_plugin(FOLDERS["hello"], cache_dir=plugin_cache / "plugin-builds")
    assert again.cached and again.artifact == built["hello"].artifact and again.seconds < 2
    assert again.size > 1_000_000
    # Any source change changes the key (so a stale artifact is never reused).
    copy = tmp_path / "hello"
    shutil.copytree(FOLDERS["hello"], copy)
    before = build_key(copy, sdk=sdk_dir(), wit=wit_dir())
    (copy / "greeting.py").write_text((copy / "greeting.py").read_text() + "\n# changed\n")
    changed = build_key(copy, sdk=sdk_dir(), wit=wit_dir())
    assert changed != before
    # So does a change of the generated entry module that every component starts from.
    import trovato.plugins.build as build

    monkeypatch.setattr(build, "_ENTRY_SOURCE", build._ENTRY_SOURCE + "# changed\n")
    assert build_key(copy, sdk=sdk_dir(), wit=wit_dir()) != changed


async def test_loop_keeps_serving_while_a_guest_stalls(loaded: dict[str, LoadedPlugin],
                                                       open_session) -> None:
    """A stalling guest yields the loop after every slice of fuel, so other tasks keep running
    until its epoch deadline stops it."""
    patient = LoadedPlugin(**{**{f: getattr(loaded["hostile"], f)
                                 for f in LoadedPlugin.__dataclass_fields__},
                              "limits": Limits(fuel=50_000_000_000, timeout_ms=400)})
    session = open_session(plugins=["hello"])
    session.plugins["hostile"] = patient
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    async with session:
        started = time.perf_counter()
        with pytest.raises(PluginTimeout):
            await session.call_function("hostile", "loop", {"payload": None})
        stalled = time.perf_counter() - started
    ticker.cancel()
    assert stalled > 0.35
    assert len(gaps) > 10 and max(gaps) < stalled / 2, (max(gaps), stalled)


async def test_full_instance_pool_falls_back_to_on_demand(
        plugin_cache: Path, built: dict[str, BuildResult], open_session) -> None:
    from tests.plugins.conftest import FOLDERS
    from trovato.plugins.registry import parse_info

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


async def test_overlapping_requests_close_their_own_stores(
    loaded: dict[str, LoadedPlugin], open_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stores are closed on the reaper thread only while one request at a time is served:
    when requests overlap, that work on another thread only competes with them."""
    import trovato.plugins.runtime as runtime_module

    gc.collect()  # sessions other tests never closed would make the process look busy
    reaped: list[int] = []
    drop = runtime_module._REAPER.drop
    monkeypatch.setattr(runtime_module._REAPER, "drop",
                        lambda stores: (reaped.append(len(stores)), drop(stores)))
    async with open_session(plugins=["tally"]) as first:
        async with open_session(plugins=["tally"]) as second:
            await first.call_tap("tally", "item_view", {"item": item_payload("a")})
            await second.call_tap("tally", "item_view", {"item": item_payload("b")})
        assert reaped == []  # busy: second closed its store itself
    assert reaped == [1]  # first was alone when it closed
    # Busy by HTTP requests in flight too, though only one of them uses plugins.
    load.request_started()
    load.request_started()
    try:
        async with open_session(plugins=["tally"]) as served:
            await served.call_tap("tally", "item_view", {"item": item_payload("c")})
    finally:
        load.request_finished()
        load.request_finished()
    assert reaped == [1]
    # Every request gets a brand-new instance: none is made ahead of time and handed on.
    async with open_session(plugins=["tally"]) as alone:
        seen = await alone.call_tap("tally", "item_view", {"item": item_payload("d")})
    assert seen["#value"] == "tally saw 0 view(s)" and reaped == [1, 1]


def test_installed_version_reads_the_dist_info_and_falls_back(tmp_path: Path) -> None:
    import importlib.metadata
    import types

    import wasmtime

    from trovato.plugins.runtime import WASMTIME_VERSION, installed_version

    assert importlib.metadata.version("wasmtime") == WASMTIME_VERSION
    assert installed_version(wasmtime, "wasmtime") == WASMTIME_VERSION
    elsewhere = types.ModuleType("orjson")  # a package with no dist-info beside it
    elsewhere.__file__ = str(tmp_path / "pkg" / "__init__.py")
    assert installed_version(elsewhere, "orjson") == importlib.metadata.version("orjson")


def test_the_plugin_builder_comes_with_a_plain_install() -> None:
    """``pip install trovato`` (the README's first line) must be enough for ``trovato demo``
    and ``trovato plugin build``: componentize-py is a base dependency, pinned to the version
    the build cache and the docs assume, and no extra is needed for it."""
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml")
                            .read_text())["project"]
    pins = [d for d in project["dependencies"] if d.startswith("componentize-py")]
    assert pins == [f"componentize-py=={componentize_py_version()}"]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        assert not any(r.startswith("componentize-py") for r in requirements), extra
