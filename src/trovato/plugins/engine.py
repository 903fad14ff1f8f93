"""The process's wasmtime engines: one per :class:`EngineSettings`, shared by every runtime.

Every engine meters fuel and interrupts on epochs; one process-wide ticker thread advances
every engine's epoch, so a wall-clock deadline costs nothing per call. Instances come from
wasmtime's pooling allocator, which resets a dropped instance's memory in place so the next
instance starts from the component's initial image without faulting its pages back in. Each
engine's linker defines WASI (:func:`~trovato.plugins.guest.define_wasi`) and the host
imports (:func:`~trovato.plugins.guest.define_host`).

Why these choices, and what they cost: ``docs/performance.md``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import wasmtime
from wasmtime import Config, Engine
from wasmtime.component import Linker

from trovato.plugins.epochs import TICK_MS, TICKER
from trovato.plugins.guest import define_host, define_wasi
from trovato.plugins.limits import MAX_MEMORY, MIB

log = logging.getLogger("trovato.plugins")


def installed_version(module: ModuleType, distribution: str) -> str:
    """The version of the installed ``distribution`` that provides ``module``.

    Read from the ``.dist-info`` folder beside the package: ``importlib.metadata`` scans every
    ``sys.path`` entry, which slows every worker's start."""
    if module.__file__:
        site = Path(module.__file__).resolve().parent.parent
        prefix = f"{distribution}-"
        for info in site.glob(f"{prefix}*.dist-info"):
            return info.name[len(prefix):-len(".dist-info")]
    from importlib.metadata import version

    return version(distribution)


WASMTIME_VERSION = installed_version(wasmtime, "wasmtime")


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Everything that changes compiled code; part of the ``.cwasm`` cache key."""

    opt_level: str = "speed"
    max_wasm_stack: int = 1 * MIB
    epoch_tick_ms: int = TICK_MS
    # Instance allocation (does not change compiled code, so not part of the key): the pooling
    # allocator with ``keep_resident_mb`` of each linear memory reset in place (memcpy from the
    # image) when an instance is dropped, instead of decommitted and faulted back in page by
    # page on the next instance's first call. ``warm_slots`` bounds the idle slots kept that
    # way (each holds up to ``keep_resident_mb`` resident). ``pool_instances`` component
    # instances (each reserving ~4 GiB of address space, not memory) can be alive at once;
    # beyond that, instances are allocated on demand by a second engine (see
    # PluginRuntime.overflow).
    pooling: bool = True
    keep_resident_mb: int = 16
    warm_slots: int = 16
    pool_instances: int = 128

    def key(self) -> str:
        # Tick length and allocation strategy do not change compiled code: not in the key.
        raw = f"wasmtime={WASMTIME_VERSION};opt={self.opt_level};stack={self.max_wasm_stack};"
        raw += "fuel=1;epoch=1;component=1"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _configure_pooling(config: Config, settings: EngineSettings) -> None:
    """Switch ``config`` to the pooling allocator (only in wasmtime-py's private bindings).

    A pooled memory is reset in place when its instance is dropped (``keep_resident_mb``), so
    the next instance's first call does not fault the Python heap's pages back in one by one.
    Without the private API (another wasmtime-py version) the default on-demand allocator is
    used.
    """
    try:
        from wasmtime import _ffi as ffi

        pooling = ffi.wasmtime_pooling_allocation_config_new()
    except (ImportError, AttributeError):
        log.warning("wasmtime-py %s has no pooling allocator API; using on-demand "
                    "allocation", WASMTIME_VERSION)
        return
    try:
        total = settings.pool_instances
        ffi.wasmtime_pooling_allocation_config_total_component_instances_set(pooling, total)
        # A componentize-py component holds one memory, two tables and 33-64 core instances.
        ffi.wasmtime_pooling_allocation_config_total_core_instances_set(pooling, total * 64)
        ffi.wasmtime_pooling_allocation_config_total_memories_set(pooling, total)
        ffi.wasmtime_pooling_allocation_config_total_tables_set(pooling, total * 4)
        ffi.wasmtime_pooling_allocation_config_max_memory_size_set(pooling, MAX_MEMORY)
        ffi.wasmtime_pooling_allocation_config_max_unused_warm_slots_set(
            pooling, settings.warm_slots)
        keep = settings.keep_resident_mb * MIB
        ffi.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(pooling, keep)
        ffi.wasmtime_pooling_allocation_config_table_keep_resident_set(pooling, keep // 4)
        ffi.wasmtime_pooling_allocation_strategy_set(config.ptr(), pooling)
    finally:
        ffi.wasmtime_pooling_allocation_config_delete(pooling)


_engines: dict[EngineSettings, tuple[Engine, Linker]] = {}
_engines_lock = threading.Lock()


def engine_for(settings: EngineSettings) -> tuple[Engine, Linker]:
    """The process-wide engine (and its linker with the host imports) for ``settings``."""
    with _engines_lock:
        found = _engines.get(settings)
        if found is None:
            config = Config()
            config.consume_fuel = True
            config.epoch_interruption = True
            config.cranelift_opt_level = settings.opt_level
            config.max_wasm_stack = settings.max_wasm_stack
            config.parallel_compilation = True
            if settings.pooling:
                _configure_pooling(config, settings)
            engine = Engine(config)
            linker = Linker(engine)
            define_wasi(linker)
            define_host(linker)
            found = (engine, linker)
            _engines[settings] = found
            TICKER.add(engine)
        return found
