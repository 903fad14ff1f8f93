"""The WebAssembly runtime: engines, the compiled-artifact cache and per-request sessions.

* One :class:`wasmtime.Engine` per :class:`EngineSettings`, with fuel metering and epoch
  interruption always on; one process-wide ticker thread advances every engine's epoch, so a
  wall-clock deadline costs nothing per call.
* Compiled components are cached on disk as ``.cwasm`` under a key of (wasmtime version, engine
  settings, wasm sha256), the only combination serialized code is valid for, and mapped back
  in with ``Component.deserialize_file`` instead of being compiled again.
* A :class:`PluginSession` belongs to one request: it instantiates a plugin the first time the
  request needs it, reuses that instance for the rest of the request and drops every instance
  at the end, so no plugin state survives between requests (DESIGN §6.4).
* Every call gets fresh fuel, an epoch deadline and the store's memory cap. A trap, timeout,
  memory exhaustion, an exception the plugin did not handle, an oversized or non-JSON result
  raises a :class:`PluginError` subclass and the instance is discarded.
* Each store gets WASI with an empty configuration (:func:`~trovato.plugins.guest.define_wasi`):
  the host's clocks and CSPRNG, so the guest's ``time``, ``datetime``, ``random``, ``secrets``
  and ``uuid`` work, but no timers, no preopened directory, no network, no environment, and
  output to stdout/stderr discarded.
* Instances come from wasmtime's pooling allocator, which resets a dropped instance's memory
  in place so the next instance starts from the component's initial image without faulting
  its pages back in. Finished stores are closed on a reaper thread while the process has time
  to spare, and by the request itself while requests overlap (the work would only compete
  with them for the GIL and the cores).
* Guest calls run on the event loop's own thread (:mod:`trovato.plugins.guest`); nested
  ``invoke-plugin`` calls are awaited the same way.

Why these choices, and what they cost: ``docs/performance.md``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import orjson
import wasmtime
from wasmtime import Config, Engine, Store, Trap, TrapCode, WasiConfig, WasmtimeError
from wasmtime.component import Component, Instance, Linker, Variant

from trovato.observability import load
from trovato.plugins.errors import (
    PluginError,
    PluginLoadError,
    PluginMemoryError,
    PluginOutputError,
    PluginRefused,
    PluginTimeout,
    PluginTrap,
)
from trovato.plugins.guest import (
    HostCallFailed,
    Signature,
    StoreData,
    call_blocking,
    define_host,
    define_wasi,
    instantiate,
    signature,
    yield_slices,
)
from trovato.plugins.guest import call as guest_call

if TYPE_CHECKING:
    from trovato.plugins.host import RequestHost

log = logging.getLogger("trovato.plugins")

CONTRACT = (1, 0, 0)
MAX_INVOKE_DEPTH = 8


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
_MIB = 1024 * 1024
# The range each ``[limits]`` key accepts (docs/plugins.md, "Limits"): up to ten times the
# default CPU budget, a wall clock well below a proxy's request timeout, 1 GiB of memory.
LIMIT_RANGES: dict[str, tuple[int, int]] = {
    "fuel": (1_000_000, 20_000_000_000), "timeout_ms": (10, 30_000),
    "memory_mb": (32, 1024), "max_output_kb": (1, 32 * 1024)}
_MAX_MEMORY = LIMIT_RANGES["memory_mb"][1] * _MIB  # the largest memory a plugin may ask for


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Everything that changes compiled code; part of the ``.cwasm`` cache key."""

    opt_level: str = "speed"
    max_wasm_stack: int = 1 * _MIB
    epoch_tick_ms: int = 10
    # Instance allocation (does not change compiled code, so not part of the key): the pooling
    # allocator with ``keep_resident_mb`` of each linear memory reset in place (memcpy from the
    # image) when an instance is dropped, instead of decommitted and faulted back in page by
    # page on the next instance's first call. ``warm_slots`` bounds the idle slots kept that
    # way (each holds up to ``keep_resident_mb`` resident). ``pool_instances`` component
    # instances (each reserving ~4 GiB of address space, not memory) can be alive at once;
    # beyond that, instances are allocated on demand by a second engine (see _instantiate).
    pooling: bool = True
    keep_resident_mb: int = 16
    warm_slots: int = 16
    pool_instances: int = 128

    def key(self) -> str:
        # Tick length and allocation strategy do not change compiled code: not in the key.
        raw = f"wasmtime={WASMTIME_VERSION};opt={self.opt_level};stack={self.max_wasm_stack};"
        raw += "fuel=1;epoch=1;component=1"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-plugin resource limits (``[limits]`` in plugin.toml); defaults are safe for a page.

    ``fuel`` is the CPU budget of one call (a Python tap on a 4 KB item uses about 1 M);
    ``timeout_ms`` the wall-clock backstop, which also covers time spent in host functions;
    ``memory_mb`` the cap on the instance's linear memory (a Python guest starts at ~20 MB);
    ``max_output_kb`` the largest result accepted.
    """

    fuel: int = 2_000_000_000
    timeout_ms: int = 2_000
    memory_mb: int = 96
    max_output_kb: int = 4 * 1024

    @classmethod
    def from_info(cls, raw: dict[str, Any] | None, *, where: str = "limits") -> Limits:
        if not raw:
            return cls()
        bounds = LIMIT_RANGES
        values: dict[str, int] = {}
        for key, value in raw.items():
            if key not in bounds:
                raise PluginLoadError(f"{where}.{key}: unknown limit; use {', '.join(bounds)}")
            low, high = bounds[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise PluginLoadError(f"{where}.{key}: an integer from {low} to {high}")
            values[key] = value
        return cls(**values)


# -- engines and the epoch ticker -----------------------------------------------------------

class _EpochTicker:
    """One daemon thread that advances the epoch of every live engine."""

    def __init__(self, tick_ms: int) -> None:
        self.tick = tick_ms / 1000
        self.engines: weakref.WeakSet[Engine] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, engine: Engine) -> None:
        with self._lock:
            self.engines.add(engine)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="trovato-epoch",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.tick)
            for engine in list(self.engines):
                engine.increment_epoch()


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
        ffi.wasmtime_pooling_allocation_config_max_memory_size_set(pooling, _MAX_MEMORY)
        ffi.wasmtime_pooling_allocation_config_max_unused_warm_slots_set(
            pooling, settings.warm_slots)
        keep = settings.keep_resident_mb * _MIB
        ffi.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(pooling, keep)
        ffi.wasmtime_pooling_allocation_config_table_keep_resident_set(pooling, keep // 4)
        ffi.wasmtime_pooling_allocation_strategy_set(config.ptr(), pooling)
    finally:
        ffi.wasmtime_pooling_allocation_config_delete(pooling)


class _Reaper:
    """Drops finished instances on a daemon thread: freeing a store unmaps or resets its
    memory, which a request should not wait for. wasmtime-py's ctypes calls release
    the GIL, so this runs alongside the event loop. When it falls behind (more than
    ``MAX_BACKLOG`` stores waiting, whose pool slots stay taken until then), callers close
    their stores themselves: the reaper only helps while a core has time to spare.

    Stores are closed explicitly: wasmtime-py objects end up in reference cycles, so leaving
    them to reference counting frees them only at the next cyclic collection, holding their
    pool slots (and memory) until then."""

    MAX_BACKLOG = 8

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[list[Store]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0  # stores queued, not yet closed
        self._thread: threading.Thread | None = None

    def drop(self, stores: list[Store]) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="trovato-reaper",
                                                    daemon=True)
                    self._thread.start()
        with self._lock:
            queued = self._pending + len(stores) <= self.MAX_BACKLOG
            if queued:
                self._pending += len(stores)
        if not queued:
            _close(stores)  # back-pressure: free them here and now
            return
        self._queue.put(stores)

    def _run(self) -> None:
        while True:
            stores = self._queue.get()
            _close(stores)
            with self._lock:
                self._pending -= len(stores)


def _close(stores: list[Store]) -> None:
    for store in stores:
        try:
            store.close()
        except Exception:
            log.exception("closing a plugin store failed")


_TICKER = _EpochTicker(EngineSettings().epoch_tick_ms)
_REAPER = _Reaper()
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
            _TICKER.add(engine)
        return found


# -- host imports ---------------------------------------------------------------------------

# -- loading --------------------------------------------------------------------------------

def parse_contract(value: Any) -> tuple[int, int, int]:
    try:
        major, minor, patch = (int(part) for part in str(value).split("."))
    except ValueError:
        raise PluginLoadError(f"describe() reports an invalid contract {value!r}") from None
    return major, minor, patch


def check_contract(name: str, value: Any) -> None:
    """Accept components built against ``trovato:plugin`` 1.x up to the kernel's minor."""
    major, minor, _ = parse_contract(value)
    if major != CONTRACT[0]:
        raise PluginLoadError(
            f"plugin {name!r} was built against trovato:plugin {value}, but this kernel "
            f"implements {'.'.join(map(str, CONTRACT))}: rebuild it with a "
            f"{CONTRACT[0]}.x SDK")
    if minor > CONTRACT[1]:
        raise PluginLoadError(
            f"plugin {name!r} needs trovato:plugin {value}, newer than this kernel's "
            f"{'.'.join(map(str, CONTRACT))}: upgrade Trovato")


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


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _description_path(compiled: Path) -> Path:
    return compiled.with_suffix(".describe.json")


def _read_description(compiled: Path) -> dict[str, Any] | None:
    try:
        description = json.loads(_description_path(compiled).read_text())
    except (OSError, ValueError):
        return None
    return description if isinstance(description, dict) else None


def _write_description(compiled: Path, description: dict[str, Any]) -> None:
    target = _description_path(compiled)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    try:
        partial.write_text(json.dumps(description))
        os.replace(partial, target)  # atomic, like the .cwasm beside it
    except OSError as exc:  # a read-only cache only costs the next start an instance
        log.warning("cannot cache the description of %s: %s", compiled, exc)


class PluginRuntime:
    """Compiles/deserializes plugin components and opens per-request sessions."""

    def __init__(self, cache_dir: str | Path, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        self.engine, self.linker = engine_for(self.settings)
        self.cache_dir = Path(cache_dir)
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
        store.set_limits(memory_size=loaded.limits.memory_mb * _MIB)
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

    def compiled_path(self, wasm_sha256: str) -> Path:
        key = hashlib.sha256(f"{WASMTIME_VERSION}|{self.settings.key()}|{wasm_sha256}"
                             .encode()).hexdigest()[:32]
        return self.cache_dir / f"{key}.cwasm"

    def digest(self, wasm: Path) -> str:
        """The sha256 of ``wasm``, remembered per (path, size, mtime, inode): hashing a whole
        component costs a starting worker more than loading it."""
        stat = wasm.stat()
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        name = hashlib.sha256(str(wasm.resolve()).encode()).hexdigest()[:32]
        memo = self.cache_dir / "digests" / f"{name}.json"
        try:
            saved = json.loads(memo.read_text())
            if saved["stamp"] == stamp and isinstance(saved["sha256"], str):
                return str(saved["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        sha = _sha256_file(wasm)
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            partial = memo.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(json.dumps({"stamp": stamp, "sha256": sha}))
            os.replace(partial, memo)
        except OSError as exc:  # a read-only cache only costs the next start a hash
            log.warning("cannot remember the digest of %s: %s", wasm, exc)
        return sha

    def compile(self, wasm: Path) -> tuple[Component, str, Path, bool]:
        """The component for ``wasm``, from the ``.cwasm`` cache when possible."""
        sha = self.digest(wasm)
        target = self.compiled_path(sha)
        if target.exists():
            try:
                return Component.deserialize_file(self.engine, str(target)), sha, target, True
            except WasmtimeError as exc:
                # Corrupt or foreign artifact: recompile and overwrite it.
                log.warning("discarding unusable compiled artifact %s: %s", target, exc)
        component = Component.from_file(self.engine, str(wasm))
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(component.serialize())
        os.replace(partial, target)  # atomic: other processes never see a half-written file
        # Serve from the mmapped file like every later load, so memory use is the same.
        return Component.deserialize_file(self.engine, str(target)), sha, target, False

    def load(self, name: str, wasm: str | Path, limits: Limits | None = None) -> LoadedPlugin:
        """Compile (or deserialize) ``wasm``, learn its ``describe()`` and check the contract.

        What ``describe()`` returned is kept beside the ``.cwasm`` (same key, so the same
        component): a worker loading a cached plugin then needs no instance at all, which made
        up most of its start-up cost per plugin."""
        started = time.perf_counter()
        path = Path(wasm)
        try:
            component, sha, compiled, cached = self.compile(path)
        except (WasmtimeError, OSError) as exc:
            raise PluginLoadError(f"plugin {name!r}: cannot load {path}: {exc}") from exc
        description = _read_description(compiled) if cached else None
        if description is None:
            description = self._describe(name, component)
            _write_description(compiled, description)
        check_contract(name, description.get("contract"))
        return LoadedPlugin(name, component, sha, description, limits or Limits(), compiled,
                            cached, time.perf_counter() - started)

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


# -- sessions -------------------------------------------------------------------------------

@dataclass(slots=True)
class _Live:
    store: Store
    instance: Instance
    funcs: dict[str, tuple[Any, Signature]]
    data: StoreData

    def func(self, export: str, signatures: dict[str, Signature]) -> tuple[Any, Signature]:
        """The export and its types; the types are the component's, so ``signatures`` (the
        plugin's) keeps them across instances instead of reading them from every instance."""
        found = self.funcs.get(export)
        if found is None:
            func = self.instance.get_func(self.store, export)
            if func is None:
                raise PluginOutputError(self.data.plugin, export, f"exports no {export}()")
            sig = signatures.get(export)
            if sig is None:
                sig = signatures[export] = signature(self.store, func)
            found = self.funcs[export] = (func, sig)
        return found


_ORJSON_OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_DATACLASS)


def _dumps(payload: Any) -> str:
    """Compact JSON, as ``json.dumps(payload, separators=(",", ":"), default=str)`` writes it
    (dates and dataclasses through ``str``) but with orjson; huge integers fall back."""
    try:
        return orjson.dumps(payload, default=str, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(payload, separators=(",", ":"), default=str)


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except ValueError:
        return json.loads(text)  # what orjson refuses but json accepts (huge ints, NaN)


def _classify(plugin: str, call: str, exc: BaseException, limits: Limits) -> PluginError:
    """Map whatever the call raised to the PluginError subclass the dispatcher reports."""
    if isinstance(exc, PluginError):
        return exc
    if isinstance(exc, Trap):
        code = exc.trap_code
        if code == TrapCode.OUT_OF_FUEL:
            return PluginTimeout(plugin, call, f"used up its fuel ({limits.fuel:,})",
                                 reason="fuel")
        if code == TrapCode.INTERRUPT:
            return PluginTimeout(plugin, call, f"ran longer than {limits.timeout_ms} ms",
                                 reason="timeout")
        if code == TrapCode.STACK_OVERFLOW:
            return PluginTrap(plugin, call, "stack overflow", reason="stack")
        if code == TrapCode.UNREACHABLE:
            return PluginTrap(plugin, call, "aborted (unreachable)")
        return PluginTrap(plugin, call, str(exc).splitlines()[0] if str(exc) else "trap")
    if isinstance(exc, WasmtimeError):
        # Guest traps surface as WasmtimeError whose "Caused by" line names the trap.
        text = str(exc)
        cause = text.rsplit("Caused by:", 1)[-1].strip().splitlines()[0] if text else ""
        if "all fuel consumed" in cause:
            return PluginTimeout(plugin, call, f"used up its fuel ({limits.fuel:,})",
                                 reason="fuel")
        if "interrupt" in cause:
            return PluginTimeout(plugin, call, f"ran longer than {limits.timeout_ms} ms",
                                 reason="timeout")
        if "stack" in cause and ("exhausted" in cause or "overflow" in cause):
            return PluginTrap(plugin, call, "stack overflow", reason="stack")
        if "memory" in cause and ("grow" in cause or "limit" in cause):
            return PluginMemoryError(plugin, call, cause)
        return PluginTrap(plugin, call, cause or "trap")
    # A Python exception raised by a host function propagates out of the guest unchanged.
    return PluginError(plugin, call, f"{type(exc).__name__}: {exc}", reason="host_error")


MAX_ERROR_MESSAGE = 2_000  # characters of a plugin's error message kept
MAX_ERROR_TRACEBACK = 16_000  # characters of its traceback kept (the end: the raising frame)


def _decode_err(plugin: str, call: str, payload: str) -> PluginError:
    """The SDK sends ``{"kind", "message"}``, plus ``"traceback"`` for an exception or a host
    refusal the plugin did not catch; anything else is a plain message. Message and
    traceback are cut to a bounded size: they come from the plugin."""
    traceback = ""
    try:
        parsed = json.loads(payload)
        kind, message = str(parsed["kind"]), str(parsed["message"])
        if kind in ("exception", "host") and isinstance(parsed.get("traceback"), str):
            traceback = parsed["traceback"][-MAX_ERROR_TRACEBACK:]
    except (ValueError, KeyError, TypeError):
        kind, message = "refused", payload
    message = message[:MAX_ERROR_MESSAGE]
    if kind == "refused":
        return PluginRefused(plugin, call, message)
    if message.startswith("MemoryError"):
        return PluginMemoryError(plugin, call, message, traceback=traceback)
    if message.startswith("RecursionError"):
        return PluginTrap(plugin, call, message, reason="stack", traceback=traceback)
    return PluginError(plugin, call, message, reason="exception" if kind == "exception"
                       else "host", traceback=traceback)


_OPEN_SESSIONS: weakref.WeakSet[PluginSession] = weakref.WeakSet()


def _busy() -> bool:
    """The process is serving requests side by side (HTTP requests, or callers of any kind
    with plugin sessions open at once)."""
    return load.busy() or len(_OPEN_SESSIONS) > 1


def _drop(stores: list[Store]) -> None:
    """Close ``stores``: on the reaper thread while the process has time to spare, else here."""
    if _busy():
        _close(stores)
    else:
        _REAPER.drop(stores)


class PluginSession:
    """The plugin instances of one request. Use as ``async with runtime.session(...)``."""

    def __init__(self, runtime: PluginRuntime, plugins: dict[str, LoadedPlugin],
                 host: RequestHost) -> None:
        _OPEN_SESSIONS.add(self)
        self.runtime = runtime
        self.plugins = plugins
        self.host = host
        self.instantiated = 0  # how many instances this request created (tests, profiling)
        self._live: dict[str, _Live] = {}
        self._stack: list[str] = []  # plugins currently executing (nested invokes)
        self._lock = asyncio.Lock()
        self._closed = False
        host.bind(self)

    async def __aenter__(self) -> PluginSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop every instance; the session cannot be used afterwards."""
        self._closed = True
        if self._live:
            _drop([live.store for live in self._live.values()])
            self._live.clear()
        _OPEN_SESSIONS.discard(self)

    @property
    def busy(self) -> bool:
        """A guest call is in flight (a tap dispatched from inside it needs its own session:
        this one cannot be entered again until the call returns)."""
        return self._lock.locked()

    def discard(self, plugin: str) -> None:
        """Forget ``plugin``'s instance (after a failure); the next call starts a clean one."""
        live = self._live.pop(plugin, None)
        if live is not None:
            _drop([live.store])

    def _discard_used(self, plugin: str, used: _Live | None) -> None:
        """Forget the instance a failed call ran on, if it is the request's instance.

        A nested re-entry (plugin A invoking A) runs on a throwaway instance that
        :meth:`_instance` drops by itself; its failure must not take the request's instance
        with it, since that one is suspended mid-call in the caller and will be resumed."""
        if used is not None and self._live.get(plugin) is used:
            self.discard(plugin)

    # -- async API used by the dispatcher --------------------------------------------------

    async def call_tap(self, plugin: str, tap: str, payload: dict[str, Any]) -> Any:
        return await self._call_async(plugin, "invoke-tap", tap, payload)

    async def call_function(self, plugin: str, function: str, payload: dict[str, Any]) -> Any:
        return await self._call_async(plugin, "call-function", function, payload)

    async def _call_async(self, plugin: str, export: str, name: str,
                          payload: dict[str, Any]) -> Any:
        text = _dumps(payload)
        async with self._lock:
            return await self.call(plugin, export, name, text)

    # -- the core, also used by nested invokes from host functions -------------------------

    def _instantiate(self, loaded: LoadedPlugin) -> _Live:
        self.instantiated += 1
        data = StoreData(self, loaded.name)
        store, instance = self.runtime.new_instance(loaded, data)
        return _Live(store, instance, {}, data)

    def _ticks(self, limits: Limits) -> int:
        return self.runtime.ticks(limits)

    @contextmanager
    def _instance(self, plugin: str, loaded: LoadedPlugin) -> Iterator[_Live]:
        """The request's instance of ``plugin``; a nested re-entry gets a throwaway one,
        because a component instance cannot be entered while it is already running."""
        reentrant = plugin in self._stack
        live = None if reentrant else self._live.get(plugin)
        if live is None:
            live = self._instantiate(loaded)
            if not reentrant:
                self._live[plugin] = live
        self._stack.append(plugin)
        try:
            yield live
        finally:
            self._stack.pop()
            if reentrant:
                _drop([live.store])

    async def call(self, plugin: str, export: str, name: str, payload: str) -> Any:
        """Call ``export(name, payload)`` on ``plugin``; the decoded JSON result.

        Takes no lock: the dispatcher's calls go through :meth:`call_tap` and
        :meth:`call_function`, which hold the session's; a nested ``invoke-plugin`` runs while
        its caller holds it."""
        if self._closed:
            raise RuntimeError("the plugin session is closed")
        loaded = self.plugins.get(plugin)
        if loaded is None:
            raise PluginError(plugin, name, "plugin is not enabled", reason="missing")
        if len(self._stack) >= MAX_INVOKE_DEPTH:
            raise PluginError(plugin, name, f"invoke depth exceeds {MAX_INVOKE_DEPTH}",
                              reason="depth")
        limits = loaded.limits
        used: _Live | None = None
        try:
            with self._instance(plugin, loaded) as live:
                used = live
                live.store.set_fuel(limits.fuel)
                live.store.set_epoch_deadline(self._ticks(limits))
                func, sig = live.func(export, loaded.signatures)
                live.data.calls.append(name)
                try:
                    result = await guest_call(live.store, func, sig, (name, payload), live.data)
                finally:
                    live.data.calls.pop()
        except PluginRefused:
            raise
        except BaseException as exc:
            # Whatever stopped the call (a trap, a failed host function, a cancelled request)
            # left the instance mid-call: it is never entered again.
            self._discard_used(plugin, used)
            if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                raise
            raise _classify(plugin, name, exc, limits) from exc
        if not isinstance(result, Variant):
            self._discard_used(plugin, used)
            raise PluginOutputError(plugin, name, f"unexpected result type {type(result)}")
        if result.tag == "err":
            error = _decode_err(plugin, name, str(result.payload))
            if not isinstance(error, PluginRefused):
                self._discard_used(plugin, used)
            raise error
        text = str(result.payload)
        if len(text) > limits.max_output_kb * 1024:
            self._discard_used(plugin, used)
            raise PluginOutputError(
                plugin, name, f"result of {len(text):,} bytes exceeds "
                f"{limits.max_output_kb} KB")
        try:
            return _loads(text)
        except ValueError as exc:
            self._discard_used(plugin, used)
            raise PluginOutputError(plugin, name, f"result is not JSON: {exc}",
                                    reason="invalid_json") from None


__all__ = [
    "CONTRACT",
    "EngineSettings",
    "Limits",
    "LoadedPlugin",
    "PluginRuntime",
    "PluginSession",
    "check_contract",
    "engine_for",
]
