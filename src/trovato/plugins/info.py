"""Plugin info files: :func:`parse_info` validates ``plugin.toml`` (DESIGN §6.2), and
:func:`discover` finds the plugin folders in the configured directories.

Every error names the file and the key. Unknown tap names under ``[taps.x]`` are errors, as are
unknown sections and keys. A plugin folder holds source (``plugin.py``, built on load) or is an
unpacked artifact (``plugin.wasm`` + ``manifest.json``, see :mod:`~trovato.plugins.artifact`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trovato.plugins import artifact as artifacts
from trovato.plugins import tables as plugin_tables
from trovato.plugins.catalogue import CATALOGUE
from trovato.plugins.errors import PluginLoadError
from trovato.plugins.limits import LIMIT_LABELS, LIMIT_RANGES, Limits
from trovato.plugins.namespaces import MACHINE_NAME_RULE, PLUGIN_NAME_MAX, is_machine_name
from trovato.plugins.tables import TableError, TableSpec

SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_SECTIONS = {"plugin", "taps", "tables", "capabilities", "limits"}
_PLUGIN_KEYS = {"name", "version", "description", "dependencies", "weight"}


# Capabilities the kernel enforces at run time, with what the administrator approving them is
# told. Others (``outbound_http``) are shown and approved as declared.
ENFORCED_CAPABILITIES = {
    "items.write": "create, change and delete content as the visitor of each request (with "
                   "that visitor's permissions, in their stage)",
}


class InfoError(PluginLoadError):
    """``plugin.toml`` is invalid; the message starts with ``<file>: <key>:``."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A plugin folder's validated ``plugin.toml``."""

    name: str
    version: str
    description: str
    dependencies: tuple[str, ...]
    weight: int
    tap_weights: dict[str, int]
    tables: dict[str, TableSpec]
    capabilities: dict[str, Any]
    limits: Limits
    path: Path
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    # An unpacked artifact's component; None for a source folder (built on load).
    component: Path | None = None

    def weight_for(self, tap: str) -> int:
        return self.tap_weights.get(tap, self.weight)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "description": self.description,
                "dependencies": list(self.dependencies), "weight": self.weight,
                "path": str(self.path), "info": self.raw}

    def raised_limits(self) -> list[str]:
        """The limits set above their default: with any capability, what needs consent."""
        default = Limits()
        return [key for key in LIMIT_LABELS
                if getattr(self.limits, key) > getattr(default, key)]

    def needs_approval(self) -> bool:
        """Whether installing or enabling the plugin needs the administrator's approval: it
        asks for capabilities or for limits above the defaults. The one rule the CLI's
        question and the admin page's "I approve" box both follow."""
        return bool(self.capabilities or self.raised_limits())

    def enforced_capabilities(self) -> frozenset[str]:
        """The capabilities the kernel enforces (:data:`ENFORCED_CAPABILITIES`) that the
        plugin asks for: ``items.write`` is ``[capabilities] items.write = true``."""
        items = self.capabilities.get("items")
        return frozenset({"items.write"}) if isinstance(items, dict) and items.get("write") \
            else frozenset()

    def capability_lines(self) -> list[str]:
        """Each capability the plugin asks for, as shown to an administrator approving it."""
        enforced = self.enforced_capabilities()
        lines = [f"{key}: {value}" for key, value in self.capabilities.items() if key != "items"]
        lines += [f"{name}: {ENFORCED_CAPABILITIES[name]}" for name in sorted(enforced)]
        return lines

    def limit_lines(self) -> list[str]:
        """Each resource limit of one call, as shown to an administrator approving the
        plugin: the default marked, any other value beside the default and the maximum."""
        default = Limits()
        lines = []
        for key, (label, unit) in LIMIT_LABELS.items():
            value, usual = getattr(self.limits, key), getattr(default, key)
            text = f"{label}: {value:,}{unit}"
            if value == usual:
                text += " (default)"
            else:
                text += f" (default {usual:,}{unit}, maximum {LIMIT_RANGES[key][1]:,}{unit})"
            lines.append(text)
        return lines


def _int(value: Any, where: str, low: int = -10_000, high: int = 10_000) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{where}: an integer from {low} to {high}")
    return value


def parse_info(folder: str | Path) -> PluginInfo:
    """Read and validate ``folder/plugin.toml``."""
    folder = Path(folder)
    file = folder / "plugin.toml"
    try:
        raw = tomllib.loads(file.read_text())
    except FileNotFoundError:
        raise InfoError(f"{file}: not found (every plugin folder needs plugin.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise InfoError(f"{file}: not valid TOML: {exc}") from None
    try:
        return _parse(raw, folder)
    except (ValueError, TableError, PluginLoadError) as exc:
        raise InfoError(f"{file}: {exc}") from None


def _parse(raw: dict[str, Any], folder: Path) -> PluginInfo:
    unknown = sorted(set(raw) - _SECTIONS)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown section (allowed: {', '.join(sorted(_SECTIONS))})")
    plugin = raw.get("plugin")
    if not isinstance(plugin, dict):
        raise ValueError("plugin: the [plugin] section is required")
    extra = sorted(set(plugin) - _PLUGIN_KEYS)
    if extra:
        raise ValueError(f"plugin.{extra[0]}: unknown key")
    name = plugin.get("name")
    if not is_machine_name(name) or len(name) > PLUGIN_NAME_MAX:
        raise ValueError(f"plugin.name: {name!r} must be {MACHINE_NAME_RULE} "
                         f"(at most {PLUGIN_NAME_MAX} characters)")
    version = plugin.get("version")
    if not isinstance(version, str) or not SEMVER.fullmatch(version):
        raise ValueError(f"plugin.version: {version!r} is not a semantic version like 1.0.0")
    description = plugin.get("description", "")
    if not isinstance(description, str):
        raise ValueError("plugin.description: must be a string")
    deps = plugin.get("dependencies", [])
    if not isinstance(deps, list) or not all(is_machine_name(d) for d in deps):
        raise ValueError("plugin.dependencies: a list of plugin names")
    if name in deps:
        raise ValueError(f"plugin.dependencies: {name!r} cannot depend on itself")
    weight = _int(plugin.get("weight", 0), "plugin.weight")

    taps = raw.get("taps", {})
    if not isinstance(taps, dict):
        raise ValueError("taps: must be [taps.<tap>] sections")
    tap_weights: dict[str, int] = {}
    for tap, settings in taps.items():
        if tap not in CATALOGUE:
            raise ValueError(f"taps.{tap}: unknown tap (see the tap catalogue)")
        if not isinstance(settings, dict) or set(settings) - {"weight"}:
            raise ValueError(f"taps.{tap}: only 'weight' may be set")
        if "weight" in settings:
            tap_weights[tap] = _int(settings["weight"], f"taps.{tap}.weight")

    tables = plugin_tables.parse_tables(name, raw.get("tables"))
    capabilities = raw.get("capabilities", {})
    if not isinstance(capabilities, dict):
        raise ValueError("capabilities: must be a table")
    items = capabilities.get("items")
    if items is not None and (not isinstance(items, dict) or set(items) - {"write"}
                              or not isinstance(items.get("write", False), bool)):
        raise ValueError("capabilities.items: only 'items.write = true' may be asked for")
    limits_raw = raw.get("limits")
    if limits_raw is not None and not isinstance(limits_raw, dict):
        raise ValueError("limits: must be a table")
    limits = Limits.from_info(limits_raw)
    component: Path | None = None
    if folder.name and not (folder / "plugin.py").exists():
        # No source: an unpacked artifact (its component next to plugin.toml) or an error.
        if not (folder / artifacts.COMPONENT).is_file():
            raise ValueError("plugin.py: the entry module is missing next to plugin.toml "
                             f"(or, for a built plugin, {artifacts.COMPONENT})")
        component = (folder / artifacts.COMPONENT).resolve()
    return PluginInfo(name, version, description, tuple(deps), weight, tap_weights, tables,
                      dict(capabilities), limits, folder.resolve(), raw, component)


def discover(directories: Iterable[str | Path]) -> dict[str, PluginInfo]:
    """Every plugin folder (a folder with plugin.toml) directly inside ``directories``."""
    found: dict[str, PluginInfo] = {}
    for directory in directories:
        root = Path(directory)
        if not root.is_dir():
            continue
        for child in sorted(root.iterdir()):
            # Hidden folders are skipped: artifacts are staged in ".incoming-*" while checked.
            if child.name.startswith(".") or not (child / "plugin.toml").is_file():
                continue
            info = parse_info(child)
            if info.name in found:
                raise InfoError(f"{child / 'plugin.toml'}: plugin.name: {info.name!r} is "
                                f"already provided by {found[info.name].path}")
            found[info.name] = info
    return found
