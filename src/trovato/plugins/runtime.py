"""Plugin components loaded and instantiated: :class:`PluginRuntime` and :class:`LoadedPlugin`.

Loading compiles a component (or maps it in from the :mod:`~trovato.plugins.compiled` cache),
checks the contract it was built against (:mod:`~trovato.plugins.contract`) and learns what
its ``describe()`` says it implements. Each instance gets a store with the plugin's memory cap
and WASI with an empty configuration (:func:`~trovato.plugins.guest.define_wasi`): the host's
clocks and CSPRNG, so the guest's ``time``, ``datetime``, ``random``, ``secrets`` and ``uuid``
work, but no timers, no preopened directory, no network, no environment, and output to
stdout/stderr discarded.
Instances come from the engine's instance pool, or from an on-demand engine when the pool is
full. The instances of one request live in a :class:`~trovato.plugins.session.PluginSession`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wasmtime import Engine, Store, Trap, WasiConfig, WasmtimeError
from wasmtime.component import Component, Instance, Linker

from trovato.plugins.compiled import CompiledCache, read_description, write_description
from trovato.plugins.contract import check_contract, check_imports
from trovato.plugins.engine import EngineSettings, engine_for
from trovato.plugins.errors import PluginLoadError
from trovato.plugins.guest import (
    HostCallFailed,
    Signature,
    StoreData,
    call_blocking,
    instantiate,
    yield_slices,
)
from trovato.plugins.limits import MIB, Limits
from trovato.plugins.session import PluginSession

if TYPE_CHECKING:
    from trovato.plugins.host import RequestHost

log = logging.getLogger("trovato.plugins")

@dataclass(slots=True)
class LoadedPlugin:
    """A compiled component ready to instantiate, with what it says about itself."""

    name: str
    component: Component
    wasm_sha256: str
    description: dict[str, Any]
    limits: Limits
    compiled_path: Path
    from_cache: bool
    load_seconds: float
    overflow: Component | None = None  # for the on-demand engine, loaded when first needed
    signatures: dict[str, Signature] = field(default_factory=dict, repr=False, compare=False)

    @property
    def taps(self) -> frozenset[str]:
        return frozenset(self.description.get("taps", []))

    @property
    def functions(self) -> frozenset[str]:
        return frozenset(self.description.get("functions", []))


class PluginRuntime:
    """Compiles/deserializes plugin components and opens per-request sessions."""

    def __init__(self, cache_dir: str | Path, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        self.engine, self.linker = engine_for(self.settings)
        self.cache = CompiledCache(Path(cache_dir), self.engine, self.settings)
        self._overflow_lock = threading.Lock()

    def ticks(self, limits: Limits) -> int:
        """``limits.timeout_ms`` in epoch ticks."""
        return max(1, -(-limits.timeout_ms // self.settings.epoch_tick_ms))

    def new_instance(self, loaded: LoadedPlugin, data: StoreData) -> tuple[Store, Instance]:
        """A fresh store and instance of ``loaded`` (from the overflow engine if the pool of
        instance slots is full)."""
        try:
            return self._new(self.engine, self.linker, loaded.component, loaded, data)
        except WasmtimeError as exc:
            if "maximum concurrent" not in str(exc):
                raise
            return self._new(*self.overflow(loaded), loaded, data)

    def _new(self, engine: Engine, linker: Linker, component: Component, loaded: LoadedPlugin,
             data: StoreData) -> tuple[Store, Instance]:
        store = Store(engine)
        store.set_wasi(WasiConfig())
        store.set_limits(memory_size=loaded.limits.memory_mb * MIB)
        # Instantiation runs the component's start code: give it its own budget.
        store.set_fuel(loaded.limits.fuel)
        store.set_epoch_deadline(self.ticks(loaded.limits))
        yield_slices(store)
        return store, instantiate(linker, store, component, data)

    def overflow(self, loaded: LoadedPlugin) -> tuple[Engine, Linker, Component]:
        """An on-demand engine and ``loaded``'s component for it, used when the pooling
        allocator has no free slot (more instances alive than ``pool_instances``)."""
        engine, linker = engine_for(replace(self.settings, pooling=False))
        with self._overflow_lock:
            if loaded.overflow is None:
                log.warning("plugin instance pool full (%d): allocating %s on demand",
                            self.settings.pool_instances, loaded.name)
                # Pooling does not change compiled code: the same .cwasm loads in both.
                loaded.overflow = Component.deserialize_file(engine, str(loaded.compiled_path))
            return engine, linker, loaded.overflow

    def load(self, name: str, wasm: str | Path, limits: Limits | None = None) -> LoadedPlugin:
        """Compile (or deserialize) ``wasm``, learn its ``describe()`` and check the contract.

        What ``describe()`` returned is kept beside the ``.cwasm`` (same key, so the same
        component): a worker loading a cached plugin then needs no instance at all, which made
        up most of its start-up cost per plugin."""
        started = time.perf_counter()
        path = Path(wasm)
        try:
            component, sha, compiled, cached = self.cache.compile(path)
        except (WasmtimeError, OSError) as exc:
            raise PluginLoadError(f"plugin {name!r}: cannot load {path}: {exc}") from exc
        check_imports(name, self._imports(component))
        description = read_description(compiled) if cached else None
        if description is None:
            description = self._describe(name, component)
            write_description(compiled, description)
        check_contract(name, description.get("contract"))
        return LoadedPlugin(name, component, sha, description, limits or Limits(), compiled,
                            cached, time.perf_counter() - started)

    def _imports(self, component: Component) -> list[str]:
        """The names of the instances ``component`` imports."""
        component_type = component.type
        try:
            return list(component_type.imports(self.engine))
        finally:
            component_type.close()

    def _describe(self, name: str, component: Component) -> dict[str, Any]:
        store = Store(self.engine)
        store.set_wasi(WasiConfig())
        store.set_fuel(Limits().fuel)
        store.set_epoch_deadline(1000)
        data = StoreData(None, name)
        try:
            instance = instantiate(self.linker, store, component, data)
            raw = instance.get_func(store, "describe")
            if raw is None:
                raise PluginLoadError(f"plugin {name!r} exports no describe()")
            description = json.loads(call_blocking(store, raw, (), data))
        except (WasmtimeError, Trap, ValueError, HostCallFailed) as exc:
            raise PluginLoadError(f"plugin {name!r}: describe() failed: {exc}") from exc
        if not isinstance(description, dict):
            raise PluginLoadError(f"plugin {name!r}: describe() must return a JSON object")
        return description

    def session(self, plugins: dict[str, LoadedPlugin], host: RequestHost) -> PluginSession:
        return PluginSession(self, plugins, host)

