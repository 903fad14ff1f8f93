"""The plugin system: untrusted WebAssembly components that extend the kernel through taps.

Public service API (see ``docs/plugins.md``):

* :class:`~trovato.plugins.manager.PluginManager` — discovery, install/enable/disable/
  uninstall, loading and per-request sessions.
* :class:`~trovato.plugins.taps.Taps` — the front door every tap is fired through.
* :class:`~trovato.plugins.host.PluginUser` — the current user as plugins see it.
* :mod:`~trovato.plugins.catalogue` — the tap catalogue (the contract).
* :func:`~trovato.plugins.build.build_plugin` — plugin folder → component.
"""

from __future__ import annotations

from trovato.plugins.build import BuildError, BuildResult, build_plugin
from trovato.plugins.catalogue import CATALOGUE, TapSpec
from trovato.plugins.dispatch import DENY, GRANT, NEUTRAL, Dispatcher, TapOutcome
from trovato.plugins.errors import (
    DependencyError,
    PluginError,
    PluginLoadError,
    PluginMemoryError,
    PluginOutputError,
    PluginRefused,
    PluginSchemaError,
    PluginTimeout,
    PluginTrap,
)
from trovato.plugins.host import HostServices, PluginUser, RequestHost
from trovato.plugins.info import InfoError, PluginInfo, parse_info
from trovato.plugins.limits import Limits
from trovato.plugins.manager import PluginManager
from trovato.plugins.runtime import LoadedPlugin, PluginRuntime
from trovato.plugins.session import PluginSession

__all__ = [
    "CATALOGUE",
    "DENY",
    "GRANT",
    "NEUTRAL",
    "BuildError",
    "BuildResult",
    "DependencyError",
    "Dispatcher",
    "HostServices",
    "InfoError",
    "Limits",
    "LoadedPlugin",
    "PluginError",
    "PluginInfo",
    "PluginLoadError",
    "PluginManager",
    "PluginMemoryError",
    "PluginOutputError",
    "PluginRefused",
    "PluginRuntime",
    "PluginSchemaError",
    "PluginSession",
    "PluginTimeout",
    "PluginTrap",
    "PluginUser",
    "RequestHost",
    "TapOutcome",
    "TapSpec",
    "build_plugin",
    "parse_info",
]
