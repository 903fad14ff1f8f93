"""The process's engines: the wasmtime version they are keyed by."""

from __future__ import annotations

import importlib.metadata
import types
from pathlib import Path

import wasmtime

from trovato.plugins.engine import WASMTIME_VERSION, installed_version


def test_installed_version_reads_the_dist_info_and_falls_back(tmp_path: Path) -> None:
    assert importlib.metadata.version("wasmtime") == WASMTIME_VERSION
    assert installed_version(wasmtime, "wasmtime") == WASMTIME_VERSION
    elsewhere = types.ModuleType("orjson")  # a package with no dist-info beside it
    elsewhere.__file__ = str(tmp_path / "pkg" / "__init__.py")
    assert installed_version(elsewhere, "orjson") == importlib.metadata.version("orjson")
