"""Plugin discovery, info-file validation, dependency order, and install/enable state.

* :func:`parse_info` validates ``plugin.toml`` (DESIGN §6.2); every error names the file and
  the key. Unknown tap names under ``[taps.x]`` are errors, as are unknown sections and keys.
* :func:`discover` finds plugin folders in the configured directories.
* :func:`resolve_order` sorts plugins so dependencies come first, with clear errors for
  missing dependencies and cycles (naming the cycle).
* A plugin folder holds source (``plugin.py``, built on load) or is an unpacked artifact
  (``plugin.wasm`` + ``manifest.json``, see :mod:`~trovato.plugins.artifact`), which
  :meth:`PluginManager.add_artifact` validates and places in the site's plugin folder.
* The ``requirements`` tap is dispatched before install and enable (an ``error`` refuses them)
  and for the status report (:meth:`PluginManager.requirements`); a plugin implementing a tap
  that is not available yet (``catalogue.NOT_YET_AVAILABLE``) is refused at both.
* Every tap, lifecycle ones included, is fired through :attr:`PluginManager.taps`, the front
  door (:mod:`~trovato.plugins.taps`).
* :class:`PluginManager` keeps the state in the ``system`` table (no row: not installed;
  ``status`` 0: installed and disabled; 1: enabled), builds and loads components, creates and
  drops plugin tables, registers permissions from the ``perm`` tap (a name another provider
  already defines is ignored: a plugin cannot redefine, or take away, a kernel or another
  plugin's permission), reads the ``menu`` tap into :attr:`PluginManager.menus` and the guard
  of menu callbacks (:mod:`~trovato.plugins.menus`), and opens per-request sessions with a
  :class:`~trovato.plugins.dispatch.Dispatcher` in the right order.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import re
import shutil
import tomllib
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from psycopg.types.json import Jsonb

from trovato.db.pool import Database
from trovato.plugins import artifact as artifacts
from trovato.plugins import tables as plugin_tables
from trovato.plugins.build import build_plugin
from trovato.plugins.catalogue import CATALOGUE, unavailable
from trovato.plugins.dispatch import Dispatcher, Implementation, TapOutcome, dispatch_order
from trovato.plugins.errors import DependencyError, PluginLoadError
from trovato.plugins.host import HostServices, ItemReader, PluginUser, RequestHost
from trovato.plugins.menus import CallbackGuard, MenuEntry, read_menus
from trovato.plugins.namespaces import (
    MACHINE_NAME_RULE,
    PLUGIN_NAME_MAX,
    is_machine_name,
    variable_prefix,
)
from trovato.plugins.runtime import (
    LIMIT_RANGES,
    Limits,
    LoadedPlugin,
    PluginRuntime,
    PluginSession,
)
from trovato.plugins.tables import PluginTables, TableError, TableSpec
from trovato.plugins.taps import Taps
from trovato.stages import LIVE

if TYPE_CHECKING:
    from trovato.observability.metrics import Metrics
    from trovato.store.base import SharedStore

log = logging.getLogger("trovato.plugins")

SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
CHANNEL = "plugins"
DISABLED, ENABLED = 0, 1
_SECTIONS = {"plugin", "taps", "tables", "capabilities", "limits"}
_PLUGIN_KEYS = {"name", "version", "description", "dependencies", "weight"}


class PermissionSink(Protocol):
    """The site's permission registry as the plugin manager uses it (injected: the plugin
    system imports no user code)."""

    def define(self, name: str, title: str, description: str = "", restricted: bool = False,
               *, provider: str) -> None: ...

    def owners(self) -> dict[str, str]: ...

    def remove_provider(self, provider: str) -> None: ...


class InfoError(PluginLoadError):
    """``plugin.toml`` is invalid; the message starts with ``<file>: <key>:``."""


class RequirementsError(PluginLoadError):
    """The plugin's ``requirements`` tap reported an error: install or enable is refused."""

    def __init__(self, message: str, requirements: list[Requirement]) -> None:
        super().__init__(message)
        self.requirements = requirements


@dataclass(frozen=True, slots=True)
class Requirement:
    """One row of the status report (a ``requirements`` tap result, or a failed check)."""

    plugin: str
    title: str
    severity: str
    value: str = ""
    description: str = ""

    def as_json(self) -> dict[str, str]:
        return {"plugin": self.plugin, "title": self.title, "value": self.value,
                "severity": self.severity, "description": self.description}


@dataclass(frozen=True, slots=True)
class PluginInfo:
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
        return [key for key in _LIMIT_LABELS
                if getattr(self.limits, key) > getattr(default, key)]

    def limit_lines(self) -> list[str]:
        """Each resource limit of one call, as shown to an administrator approving the
        plugin: the default marked, any other value beside the default and the maximum."""
        default = Limits()
        lines = []
        for key, (label, unit) in _LIMIT_LABELS.items():
            value, usual = getattr(self.limits, key), getattr(default, key)
            text = f"{label}: {value:,}{unit}"
            if value == usual:
                text += " (default)"
            else:
                text += f" (default {usual:,}{unit}, maximum {LIMIT_RANGES[key][1]:,}{unit})"
            lines.append(text)
        return lines


# [limits] key -> (what it bounds, unit), in the order an administrator reads them.
_LIMIT_LABELS = {"fuel": ("CPU budget (fuel)", ""), "timeout_ms": ("wall-clock time", " ms"),
                 "memory_mb": ("memory", " MB"), "max_output_kb": ("largest result", " KB")}


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


def resolve_order(infos: dict[str, PluginInfo], names: Iterable[str] | None = None) -> list[str]:
    """``names`` (default: all) with their dependencies first; ties by (weight, name).

    Raises :class:`DependencyError` naming the missing plugin or the cycle.
    """
    wanted = set(infos if names is None else names)
    for name in sorted(wanted):
        for dep in infos[name].dependencies:
            if dep not in wanted:
                where = "is not available" if dep not in infos else "is not enabled"
                raise DependencyError(f"plugin {name!r} depends on {dep!r}, which {where}")
    indegree = {n: 0 for n in wanted}
    dependents: dict[str, list[str]] = {n: [] for n in wanted}
    for name in wanted:
        for dep in infos[name].dependencies:
            indegree[name] += 1
            dependents[dep].append(name)
    ready = [(infos[n].weight, n) for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for child in dependents[name]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, (infos[child].weight, child))
    if len(order) != len(wanted):
        raise DependencyError(f"dependency cycle: {_find_cycle(infos, wanted - set(order))}")
    return order


def _find_cycle(infos: dict[str, PluginInfo], stuck: set[str]) -> str:
    start = min(stuck)
    path = [start]
    while True:
        nxt = min(d for d in infos[path[-1]].dependencies if d in stuck)
        if nxt in path:
            cycle = [*path[path.index(nxt):], nxt]
            return " -> ".join(cycle)
        path.append(nxt)


def _unpack_artifact(path: Path, root: Path, staging: Path) -> PluginInfo:
    """Extract and check an artifact into ``staging`` (see :meth:`PluginManager.add_artifact`)."""
    root.mkdir(parents=True, exist_ok=True)
    manifest = artifacts.extract_artifact(path, staging)
    info = parse_info(staging)
    if (info.name, info.version) != (manifest.name, manifest.version):
        raise artifacts.ArtifactError(
            f"{path}: the manifest names {manifest.name} {manifest.version} but plugin.toml "
            f"says {info.name} {info.version}")
    return info


def _replace_folder(staging: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)  # a leftover of an earlier, uninstalled copy
    staging.rename(target)


@dataclass(slots=True)
class PluginState:
    name: str
    status: int
    weight: int
    version: str


class PluginManager:
    """The plugin system of one kernel process."""

    def __init__(
        self,
        db: Database,
        store: SharedStore,
        *,
        plugin_dirs: Iterable[str | Path],
        cache_dir: str | Path,
        metrics: Metrics | None = None,
        permissions: PermissionSink | None = None,
        runtime: PluginRuntime | None = None,
        build_cache_dir: str | Path | None = None,
        items: ItemReader | None = None,
        taps: Taps | None = None,
        on_enable: Callable[[str], Awaitable[None]] | None = None,
        on_refresh: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.plugin_dirs = [Path(d) for d in plugin_dirs]
        self.runtime = runtime or PluginRuntime(Path(cache_dir) / "compiled")
        self.build_cache_dir = Path(build_cache_dir) if build_cache_dir else (
            Path(cache_dir) / "plugin-builds")
        self.metrics = metrics
        self.permissions = permissions
        self.infos: dict[str, PluginInfo] = {}
        self.loaded: dict[str, LoadedPlugin] = {}
        self.dispatcher = Dispatcher({}, metrics)
        self.tables = PluginTables(db, {})
        # No plugin's menu is read yet: every function call is refused until refresh().
        self.services = HostServices(db, store.cache, store.queue, self.tables, items,
                                     callbacks=CallbackGuard(plugins=frozenset()))
        self.menus: tuple[MenuEntry, ...] = ()
        self._lock = asyncio.Lock()
        self._origin = uuid.uuid4().hex  # tells this process's own announcements apart
        # The front door every tap goes through (the kernel's knows the request's session).
        self.taps = taps or Taps(lambda: self)
        # Run in the process that enables a plugin, once (e.g. syncing its item types).
        self.on_enable = on_enable
        # Run in every process after each refresh: the enabled plugins, and so what pages
        # render, may have changed (e.g. dropping this process's cached pages).
        self.on_refresh = on_refresh

    # -- discovery and state ---------------------------------------------------------------

    def discover(self) -> dict[str, PluginInfo]:
        self.infos = discover(self.plugin_dirs)
        return self.infos

    def info(self, name: str) -> PluginInfo:
        if not self.infos:
            self.discover()
        try:
            return self.infos[name]
        except KeyError:
            raise PluginLoadError(f"no plugin {name!r} in {', '.join(map(str, self.plugin_dirs))}"
                                  ) from None

    async def states(self) -> dict[str, PluginState]:
        rows = await self.db.fetch(
            "SELECT name, status, weight, version FROM system WHERE type = 'plugin'")
        return {r["name"]: PluginState(r["name"], r["status"], r["weight"], r["version"])
                for r in rows}

    async def overview(self) -> list[dict[str, Any]]:
        """Every discovered plugin with its state, for ``trovato plugin list`` and admin UI."""
        infos = self.discover()
        states = await self.states()
        out = []
        for name in sorted(set(infos) | set(states)):
            info, state = infos.get(name), states.get(name)
            out.append({
                "name": name,
                "version": info.version if info else (state.version if state else ""),
                "description": info.description if info else "",
                "status": "enabled" if state and state.status == ENABLED else
                          "disabled" if state else "not installed",
                "available": info is not None,
                "dependencies": list(info.dependencies) if info else [],
            })
        return out

    # -- loading ---------------------------------------------------------------------------

    def _load(self, info: PluginInfo) -> LoadedPlugin:
        """Build (cached) and load one plugin; checks its taps against the catalogue."""
        if info.component is not None:
            try:
                manifest = artifacts.read_manifest(info.path)
                if manifest is not None and manifest.sha256[artifacts.COMPONENT] != \
                        artifacts.sha256_file(info.component):
                    raise PluginLoadError(f"plugin {info.name!r}: {info.component} does not "
                                          f"match its manifest's checksum (modified after "
                                          f"install?)")
            except (artifacts.ArtifactError, OSError) as exc:
                raise PluginLoadError(f"plugin {info.name!r}: {exc}") from None
            loaded = self.runtime.load(info.name, info.component, info.limits)
        else:
            built = build_plugin(info.path, cache_dir=self.build_cache_dir)
            loaded = self.runtime.load(info.name, built.artifact, info.limits)
        return self._check_taps(info.name, loaded)

    @staticmethod
    def _check_taps(name: str, loaded: LoadedPlugin) -> LoadedPlugin:
        unknown = sorted(loaded.taps - CATALOGUE.keys())
        if unknown:
            raise PluginLoadError(f"plugin {name!r} implements unknown tap(s): "
                                  f"{', '.join(unknown)}")
        return loaded

    async def load(self, name: str) -> LoadedPlugin:
        info = self.info(name)
        cached = self.loaded.get(name)
        if cached is not None:
            return cached
        # Compiling or building blocks for seconds: keep the event loop serving.
        loaded = await asyncio.to_thread(self._load, info)
        self.loaded[name] = loaded
        return loaded

    async def refresh(self) -> list[str]:
        """Load every enabled plugin and rebuild dispatch order, tables and permissions.

        Call at start and whenever another process announces a change (see :meth:`listen`).
        Returns the enabled plugins in dependency order.
        """
        async with self._lock:
            self.discover()
            states = await self.states()
            enabled = [n for n, s in states.items() if s.status == ENABLED]
            missing = [n for n in enabled if n not in self.infos]
            if missing:
                log.error("enabled plugin(s) missing from the plugin directories: %s",
                          ", ".join(missing))
                enabled = [n for n in enabled if n in self.infos]
            order = resolve_order(self.infos, enabled)
            for name in order:
                await self.load(name)
            for name in list(self.loaded):
                if name not in order:
                    del self.loaded[name]
            self._rebuild(order, states)
            async with self.taps.sharing(PluginUser.anonymous(), request_id="refresh"):
                permissions = await self.taps.fire("perm")
                menus = await self.taps.fire("menu")
            self._register_permissions(permissions)
            entries, guard = read_menus(menus, order)
            self.menus, self.services.callbacks = tuple(entries), guard
            if self.on_refresh is not None:
                self.on_refresh()
            return order

    def _rebuild(self, order: list[str], states: dict[str, PluginState]) -> None:
        position = {name: i for i, name in enumerate(order)}
        by_tap: dict[str, list[Implementation]] = {}
        for name in order:
            info = self.infos[name]
            # A weight stored in the system table (set by an administrator) overrides the file.
            state = states.get(name)
            base = state.weight if state is not None and state.weight != 0 else info.weight
            for tap in self.loaded[name].taps:
                weight = info.tap_weights.get(tap, base)
                by_tap.setdefault(tap, []).append(Implementation(name, weight, position[name]))
        self.dispatcher = Dispatcher({tap: dispatch_order(impls)
                                      for tap, impls in by_tap.items()}, self.metrics)
        self.tables.specs = {name: self.infos[name].tables for name in order}

    def _register_permissions(self, outcome: TapOutcome) -> None:
        """Swap the plugins' permissions (no await in between, so a concurrent request never
        sees a registry missing them). Permission names are one space shared with the kernel:
        a name another provider defines stays theirs, and the plugin's entry is skipped."""
        if self.permissions is None:
            return
        for name in self.infos:
            self.permissions.remove_provider(name)
        owners = self.permissions.owners()
        for reply in outcome.replies:
            for perm in reply.value or []:
                owner = owners.setdefault(perm["name"], reply.plugin)
                if owner != reply.plugin:
                    log.warning("plugin %s defines the permission %r, which %s already "
                                "provides; ignored", reply.plugin, perm["name"],
                                "the kernel" if owner == "system" else f"plugin {owner}")
                    continue
                self.permissions.define(
                    perm["name"], perm.get("title") or perm["name"],
                    perm.get("description", ""), bool(perm.get("restricted", False)),
                    provider=reply.plugin)

    # -- sessions --------------------------------------------------------------------------

    def session(self, user: PluginUser, *, request_id: str = "",
                stage: str = LIVE) -> PluginSession:
        """A session for one request: lazily instantiates only the plugins that are called."""
        if not request_id:
            request_id = uuid.uuid4().hex
        host = RequestHost(self.services, user, request_id=request_id, stage=stage)
        return self.runtime.session(dict(self.loaded), host)

    # -- operations ------------------------------------------------------------------------

    async def install(self, name: str, *, enable: bool = True) -> None:
        """Create the plugin's tables, run its ``install`` tap, and enable it."""
        info = self.info(name)
        states = await self.states()
        if name in states:
            raise PluginLoadError(f"plugin {name!r} is already installed")
        for dep in info.dependencies:
            if dep not in states or states[dep].status != ENABLED:
                raise DependencyError(f"plugin {name!r} depends on {dep!r}: install and "
                                      f"enable {dep!r} first")
        loaded = await self.load(name)
        self._check_available(name, loaded)
        await self._check_requirements(name, "install")  # before anything changes
        async with self.db.transaction() as conn:
            await plugin_tables.create_tables(conn, info.tables)
            await conn.execute(
                "INSERT INTO system (name, type, status, weight, version, filename, info) "
                "VALUES (%s, 'plugin', %s, %s, %s, %s, %s)",
                (name, DISABLED, info.weight, info.version, str(info.path),
                 Jsonb({**info.as_json(), "describe": loaded.description,
                        "wasm_sha256": loaded.wasm_sha256})))
        try:
            await self.taps.fire_lifecycle("install", name)
        except Exception:
            # A failed install leaves nothing behind.
            async with self.db.transaction() as conn:
                await plugin_tables.drop_tables(conn, info.tables)
                await conn.execute("DELETE FROM system WHERE name = %s", (name,))
            raise
        if enable:
            try:
                await self.enable(name)
            except RequirementsError as exc:
                await self.refresh()
                await self.announce()
                raise RequirementsError(f"{exc} (it is installed, but stays disabled)",
                                        exc.requirements) from None
        else:
            await self.refresh()
            await self.announce()

    async def enable(self, name: str) -> None:
        info = self.info(name)
        states = await self.states()
        if name not in states:
            raise PluginLoadError(f"plugin {name!r} is not installed")
        for dep in info.dependencies:
            if dep not in states or states[dep].status != ENABLED:
                raise DependencyError(f"plugin {name!r} depends on {dep!r}, which is not "
                                      f"enabled")
        self._check_available(name, await self.load(name))
        await self._check_requirements(name, "enable")
        await self.taps.fire_lifecycle("enable", name)
        await self.db.execute("UPDATE system SET status = %s WHERE name = %s", (ENABLED, name))
        await self.refresh()
        if self.on_enable is not None:
            await self.on_enable(name)
        await self.announce()

    async def disable(self, name: str) -> None:
        states = await self.states()
        if name not in states:
            raise PluginLoadError(f"plugin {name!r} is not installed")
        dependents = sorted(n for n, s in states.items() if s.status == ENABLED and n in
                            self.infos and name in self.infos[n].dependencies)
        if dependents:
            raise DependencyError(f"cannot disable {name!r}: {', '.join(dependents)} "
                                  f"depend(s) on it")
        if states[name].status == ENABLED:
            await self.taps.fire_lifecycle("disable", name)
        await self.db.execute("UPDATE system SET status = %s WHERE name = %s",
                              (DISABLED, name))
        if self.permissions is not None:
            self.permissions.remove_provider(name)
        await self.refresh()
        await self.announce()

    async def uninstall(self, name: str) -> None:
        """Run ``uninstall``, drop the plugin's tables and variables, forget its state."""
        states = await self.states()
        if name not in states:
            raise PluginLoadError(f"plugin {name!r} is not installed")
        if states[name].status == ENABLED:
            raise PluginLoadError(f"disable plugin {name!r} before uninstalling it")
        info = self.info(name)
        await self.taps.fire_lifecycle("uninstall", name)
        async with self.db.transaction() as conn:
            await plugin_tables.drop_tables(conn, info.tables)
            # An exact prefix comparison: LIKE's "_" would match other plugins' names too.
            await conn.execute("DELETE FROM variable WHERE starts_with(name, %s)",
                               (variable_prefix(name),))
            await conn.execute("DELETE FROM system WHERE name = %s", (name,))
        self.loaded.pop(name, None)
        await self.refresh()
        await self.announce()

    @staticmethod
    def _check_available(name: str, loaded: LoadedPlugin) -> None:
        """Refuse a plugin implementing a tap nothing fires yet (catalogue.NOT_YET_AVAILABLE)."""
        problem = unavailable(loaded.taps)
        if problem is not None:
            raise PluginLoadError(f"plugin {name!r} {problem}")

    # -- requirements (status report) --------------------------------------------------------

    @staticmethod
    def _requirement_rows(outcome: TapOutcome | None) -> list[Requirement]:
        rows: list[Requirement] = []
        if outcome is None:
            return rows
        for reply in outcome.replies:
            for row in reply.value or []:
                rows.append(Requirement(reply.plugin, row["title"], row["severity"],
                                        row.get("value", ""), row.get("description", "")))
        for failure in outcome.failures:
            # The tap fails open: a broken check is reported, it does not block anything.
            rows.append(Requirement(failure.plugin, "Requirements check failed", "warning",
                                    failure.reason, failure.message))
        return rows

    async def _check_requirements(self, name: str, phase: str) -> None:
        """Run ``name``'s requirements tap for ``phase``; any ``error`` row refuses."""
        rows = self._requirement_rows(
            await self.taps.fire_lifecycle("requirements", name, {"phase": phase}))
        errors = [r for r in rows if r.severity == "error"]
        if errors:
            reasons = "; ".join(f"{r.title}{': ' + r.value if r.value else ''}"
                                f"{' — ' + r.description if r.description else ''}"
                                for r in errors)
            done = {"install": "installed", "enable": "enabled"}.get(phase, phase)
            raise RequirementsError(f"plugin {name!r} cannot be {done}: {reasons}", rows)

    async def requirements(self) -> list[Requirement]:
        """The status report: every enabled plugin's ``requirements`` at run time."""
        return self._requirement_rows(
            await self.taps.fire("requirements", {"phase": "runtime"}))

    # -- artifacts -----------------------------------------------------------------------------

    async def add_artifact(
        self, path: str | Path, plugins_dir: str | Path,
        approve: Callable[[PluginInfo], None] | None = None,
    ) -> PluginInfo:
        """Validate a ``.trovato`` artifact and unpack it as ``plugins_dir/<name>``.

        Checks the archive (members, paths, sizes, checksums), ``plugin.toml``, that the
        manifest's name and version match it, that the component loads, speaks our contract
        and implements only catalogue taps, that no other folder provides the same plugin and
        that it is not installed. ``approve`` sees the info before anything is placed and may
        raise to stop. Nothing is left behind on any refusal.
        """
        root = Path(plugins_dir)
        staging = root / f".incoming-{uuid.uuid4().hex}"
        try:
            info = await asyncio.to_thread(_unpack_artifact, Path(path), root, staging)
            target = root / info.name
            if info.name in await self.states():
                raise PluginLoadError(f"plugin {info.name!r} is already installed; uninstall "
                                      f"it before installing another build")
            other = discover(self.plugin_dirs).get(info.name)
            if other is not None and other.path != target.resolve():
                raise PluginLoadError(f"plugin {info.name!r} is already provided by "
                                      f"{other.path}; remove that folder first")
            assert info.component is not None  # an artifact holds no source
            loaded = await asyncio.to_thread(self.runtime.load, info.name, info.component,
                                             info.limits)
            self._check_taps(info.name, loaded)
            if approve is not None:
                approve(info)
            await asyncio.to_thread(_replace_folder, staging, target)
        except artifacts.ArtifactError as exc:
            raise PluginLoadError(str(exc)) from None
        finally:
            await asyncio.to_thread(shutil.rmtree, staging, True)
        self.loaded.pop(info.name, None)
        self.discover()
        return self.info(info.name)

    async def install_artifact(
        self, path: str | Path, plugins_dir: str | Path, *, enable: bool = True,
        approve: Callable[[PluginInfo], None] | None = None,
    ) -> PluginInfo:
        """:meth:`add_artifact` then :meth:`install`; a refused install removes the files."""
        info = await self.add_artifact(path, plugins_dir, approve)
        try:
            await self.install(info.name, enable=enable)
        except BaseException:
            if info.name not in await self.states():
                await asyncio.to_thread(shutil.rmtree, info.path, True)
                self.loaded.pop(info.name, None)
                self.discover()
            raise
        return info

    # -- cross-process -----------------------------------------------------------------------

    async def announce(self) -> None:
        """Tell every kernel process to :meth:`refresh` (DESIGN: no restart needed)."""
        await self.store.pubsub.publish(CHANNEL, {"event": "changed", "origin": self._origin})

    async def listen(self) -> None:
        """Subscribe to changes announced by other processes."""
        async def on_message(message: dict[str, Any]) -> None:
            if message.get("origin") == self._origin:
                return  # this process made the change and has refreshed already
            try:
                await self.refresh()
            except Exception:
                log.exception("reloading plugins after a change failed")

        await self.store.pubsub.subscribe(CHANNEL, on_message)
