"""Dependency order: dependencies first, then weight and name; missing plugins and cycles
named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.conftest import INFO_TOML, plugin_folder
from trovato.plugins.dependencies import resolve_order
from trovato.plugins.errors import DependencyError
from trovato.plugins.info import PluginInfo, discover


def _infos(tmp_path: Path, graph: dict[str, list[str]]) -> dict[str, PluginInfo]:
    for name, deps in graph.items():
        toml = INFO_TOML.format(name=name, deps=repr(deps).replace("'", '"'))
        plugin_folder(tmp_path, name, toml)
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
