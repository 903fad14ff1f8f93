"""The compiled-component cache: .cwasm reuse, the describe() and digest memos, its key."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from trovato.plugins.build import BuildResult
from trovato.plugins.engine import EngineSettings
from trovato.plugins.errors import PluginLoadError
from trovato.plugins.runtime import PluginRuntime


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
    first = runtime.cache.digest(wasm)
    assert first == hashlib.sha256(b"first version").hexdigest()
    memo = next((tmp_path / "compiled" / "digests").glob("*.json"))
    memo.write_text(memo.read_text().replace(first, "0" * 64))
    assert runtime.cache.digest(wasm) == "0" * 64  # the memo answered, the file was not read
    replacement = tmp_path / "new.wasm"
    replacement.write_bytes(b"second version!")
    os.replace(replacement, wasm)  # a rebuild: another size, mtime and inode
    assert runtime.cache.digest(wasm) == hashlib.sha256(b"second version!").hexdigest()
    memo.write_text("{broken")
    assert runtime.cache.digest(wasm) == hashlib.sha256(b"second version!").hexdigest()


def test_compiled_cache_key_covers_engine_settings(tmp_path: Path) -> None:
    default = PluginRuntime(tmp_path)
    other = PluginRuntime(tmp_path, EngineSettings(max_wasm_stack=2 * 1024 * 1024))
    assert default.cache.path("ab") != other.cache.path("ab")
    assert default.cache.path("ab") != default.cache.path("cd")


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
