"""The plugin system of one kernel process: :class:`PluginManager`, the one object the kernel
holds for it.

It installs, enables, disables and uninstalls plugins (their state: :mod:`~trovato.plugins.states`;
the checks before install and enable: :mod:`~trovato.plugins.loading` and
:mod:`~trovato.plugins.requirements`), creating and dropping their tables, and places
artifacts (:mod:`~trovato.plugins.artifact`) in the site's plugin folder. On every refresh it
loads the enabled plugins and rebuilds the dispatch order, their permissions and their menu.
Every tap, lifecycle ones included, is fired through :attr:`PluginManager.taps`, the front
door (:mod:`~trovato.plugins.taps`). A change made in one process is announced on the shared
pub/sub and every other process refreshes: no restart is needed.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psycopg import AsyncConnection

from trovato.db.pool import Database
from trovato.observability.audit import audit
from trovato.plugins import artifact as artifacts
from trovato.plugins import tables as plugin_tables
from trovato.plugins.dependencies import resolve_order
from trovato.plugins.dispatch import Dispatcher, Implementation, dispatch_order
from trovato.plugins.errors import DependencyError, PluginLoadError
from trovato.plugins.host import HostServices, ItemReader, ItemWriter, PluginUser, RequestHost
from trovato.plugins.info import PluginInfo, discover, parse_info
from trovato.plugins.loading import check_available, check_taps, load_plugin
from trovato.plugins.menus import CallbackGuard, MenuEntry, read_menus
from trovato.plugins.namespaces import variable_prefix
from trovato.plugins.permissions import PermissionSink, register_permissions
from trovato.plugins.requirements import (
    Requirement,
    RequirementsError,
    check_requirements,
    status_report,
)
from trovato.plugins.runtime import LoadedPlugin, PluginRuntime
from trovato.plugins.session import PluginSession
from trovato.plugins.states import (
    DISABLED,
    ENABLED,
    PluginState,
    add_state,
    read_states,
    record_approval,
    remove_state,
    set_status,
)
from trovato.plugins.tables import PluginTables
from trovato.plugins.taps import Taps
from trovato.stages import LIVE

if TYPE_CHECKING:
    from trovato.observability.metrics import Metrics
    from trovato.store.base import SharedStore

log = logging.getLogger("trovato.plugins")

CHANNEL = "plugins"


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


async def _audit(conn: AsyncConnection[Any], name: str, event: str,
                 actor: uuid.UUID | None) -> None:
    """Record a plugin's change of state in the audit log, with the change."""
    await audit(conn, "plugin", f"Plugin “%(name)s” {event}.", {"name": name}, user_id=actor)


def _replace_folder(staging: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)  # a leftover of an earlier, uninstalled copy
    staging.rename(target)


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
        writes: ItemWriter | None = None,
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
                                     writes, callbacks=CallbackGuard(plugins=frozenset()))
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
        return await read_states(self.db)

    async def overview(self) -> list[dict[str, Any]]:
        """Every discovered or installed plugin with its state, for ``trovato plugin list`` and
        the admin's plugin page.

        ``status`` is ``enabled``, ``disabled``, ``not installed`` or ``failed``: enabled in
        the database but not running in this process (its folder is gone or it did not
        load), with the reason in ``problem``. ``dependents`` are the discovered plugins that
        depend on it; ``permissions`` those it defines (known while it is enabled)."""
        infos = self.discover()
        states = await self.states()
        owners = self.permissions.owners() if self.permissions is not None else {}
        out = []
        for name in sorted(set(infos) | set(states)):
            info, state = infos.get(name), states.get(name)
            status = "enabled" if state and state.status == ENABLED else \
                     "disabled" if state else "not installed"
            problem = "its folder is missing from the plugin directories" if info is None else ""
            if status == "enabled" and info is None:
                status = "failed"
            elif status == "enabled" and name not in self.loaded:
                status, problem = "failed", "it is enabled but did not load (see the log)"
            out.append({
                "name": name,
                "version": info.version if info else (state.version if state else ""),
                "description": info.description if info else "",
                "status": status,
                "problem": problem,
                "available": info is not None,
                "dependencies": list(info.dependencies) if info else [],
                "dependents": sorted(n for n, other in infos.items()
                                     if name in other.dependencies),
                "capabilities": info.capability_lines() if info else [],
                "limits": info.limit_lines() if info else [],
                "needs_approval": info.needs_approval() if info else False,
                "permissions": sorted(p for p, owner in owners.items() if owner == name),
            })
        return out

    # -- loading ---------------------------------------------------------------------------

    async def load(self, name: str) -> LoadedPlugin:
        info = self.info(name)
        cached = self.loaded.get(name)
        if cached is not None:
            return cached
        # Compiling or building blocks for seconds: keep the event loop serving.
        loaded = await asyncio.to_thread(load_plugin, self.runtime, info,
                                         self.build_cache_dir)
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
            if self.permissions is not None:
                register_permissions(self.permissions, self.infos, permissions)
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
        # Granted: what the plugin asks for now and an administrator approved at its enable.
        self.services.grants = {
            name: self.infos[name].enforced_capabilities() & states[name].approved
            for name in order if name in states}

    # -- sessions --------------------------------------------------------------------------

    def session(self, user: PluginUser, *, request_id: str = "",
                stage: str = LIVE) -> PluginSession:
        """A session for one request: lazily instantiates only the plugins that are called."""
        if not request_id:
            request_id = uuid.uuid4().hex
        host = RequestHost(self.services, user, request_id=request_id, stage=stage)
        return self.runtime.session(dict(self.loaded), host)

    # -- operations ------------------------------------------------------------------------

    async def install(self, name: str, *, enable: bool = True,
                      actor: uuid.UUID | None = None) -> None:
        """Create the plugin's tables, run its ``install`` tap, and enable it.

        ``actor`` (here and in the other operations) is the account doing it, for the audit
        log; None for the command line."""
        info = self.info(name)
        states = await self.states()
        if name in states:
            raise PluginLoadError(f"plugin {name!r} is already installed")
        for dep in info.dependencies:
            if dep not in states or states[dep].status != ENABLED:
                raise DependencyError(f"plugin {name!r} depends on {dep!r}: install and "
                                      f"enable {dep!r} first")
        loaded = await self.load(name)
        check_available(name, loaded)
        await check_requirements(self.taps, name, "install")  # before anything changes
        async with self.db.transaction() as conn:
            await plugin_tables.create_tables(conn, info.tables)
            await add_state(conn, info, loaded)
            await _audit(conn, name, "installed", actor)
        try:
            await self.taps.fire_lifecycle("install", name)
        except Exception:
            # A failed install leaves nothing behind.
            async with self.db.transaction() as conn:
                await plugin_tables.drop_tables(conn, info.tables)
                await remove_state(conn, name)
            raise
        if enable:
            try:
                await self.enable(name, actor=actor)
            except RequirementsError as exc:
                await self.refresh()
                await self.announce()
                raise RequirementsError(f"{exc} (it is installed, but stays disabled)",
                                        exc.requirements) from None
        else:
            await self.refresh()
            await self.announce()

    async def enable(self, name: str, *, actor: uuid.UUID | None = None) -> None:
        info = self.info(name)
        states = await self.states()
        if name not in states:
            raise PluginLoadError(f"plugin {name!r} is not installed")
        for dep in info.dependencies:
            if dep not in states or states[dep].status != ENABLED:
                raise DependencyError(f"plugin {name!r} depends on {dep!r}, which is not "
                                      f"enabled")
        check_available(name, await self.load(name))
        await check_requirements(self.taps, name, "enable")
        await self.taps.fire_lifecycle("enable", name)
        async with self.db.transaction() as conn:
            await set_status(conn, name, ENABLED)
            # The caller (the admin page, the CLI) had the administrator approve them.
            await record_approval(conn, name, info.enforced_capabilities())
            await _audit(conn, name, "enabled", actor)
        await self.refresh()
        if self.on_enable is not None:
            await self.on_enable(name)
        await self.announce()

    async def disable(self, name: str, *, actor: uuid.UUID | None = None) -> None:
        states = await self.states()
        if name not in states:
            raise PluginLoadError(f"plugin {name!r} is not installed")
        dependents = sorted(n for n, s in states.items() if s.status == ENABLED and n in
                            self.infos and name in self.infos[n].dependencies)
        if dependents:
            raise DependencyError(f"cannot disable {name!r}: {', '.join(dependents)} "
                                  f"depend(s) on it")
        # A failed plugin (enabled, but its folder is gone or it did not load) cannot run its
        # tap; it can still be switched off, which is what an administrator needs then.
        if states[name].status == ENABLED and name in self.loaded:
            await self.taps.fire_lifecycle("disable", name)
        async with self.db.transaction() as conn:
            await set_status(conn, name, DISABLED)
            await _audit(conn, name, "disabled", actor)
        if self.permissions is not None:
            self.permissions.remove_provider(name)
        await self.refresh()
        await self.announce()

    async def uninstall(self, name: str, *, actor: uuid.UUID | None = None) -> None:
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
            await remove_state(conn, name)
            await _audit(conn, name, "uninstalled", actor)
        self.loaded.pop(name, None)
        await self.refresh()
        await self.announce()

    async def requirements(self) -> list[Requirement]:
        """The status report: every enabled plugin's ``requirements`` at run time."""
        return await status_report(self.taps)

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
            check_taps(info.name, loaded)
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
