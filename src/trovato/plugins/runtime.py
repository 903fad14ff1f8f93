"""The WebAssembly runtime: engines, compiled-artifact cache and per-request sessions.

* One :class:`wasmtime.Engine` per :class:`EngineSettings` (fuel metering and epoch interruption
  always on) and one process-wide epoch ticker thread that advances every engine's epoch, so a
  wall-clock deadline costs nothing per call.
* Compiled components are cached on disk as ``.cwasm`` under a key of (wasmtime version, engine
  settings, wasm sha256) — serialized code is only valid for exactly that combination — and are
  loaded with ``Component.deserialize_file`` (mmap, a few ms) instead of a multi-second compile.
* A :class:`PluginSession` belongs to one request. It instantiates a plugin the first time the
  request needs it, reuses that instance for every later call in the request, and drops all
  instances at the end, so no plugin state survives between requests (DESIGN §6.4).
* Every call gets fresh fuel, an epoch deadline and the store's memory cap. A trap, timeout,
  memory exhaustion, oversized or non-JSON result raises a :class:`PluginError` subclass and the
  instance is discarded; the next call instantiates a clean one.

Host imports are synchronous (wasm calls them in the middle of guest code) while the kernel's
services are async. Calls therefore run in a worker thread (wasmtime releases the GIL while
guest code runs) and host functions hand their I/O back to the request's event loop; see
``trovato.plugins.host``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wasmtime import Config, Engine, Store, Trap, TrapCode, WasmtimeError
from wasmtime.component import Component, Linker, Variant

from trovato.plugins.errors import (
    PluginError,
    PluginLoadError,
    PluginMemoryError,
    PluginOutputError,
    PluginRefused,
    PluginTimeout,
    PluginTrap,
)

if TYPE_CHECKING:
    from trovato.plugins.host import RequestHost

log = logging.getLogger("trovato.plugins")

CONTRACT = (1, 0, 0)
HOST_INTERFACE = "trovato:plugin/host@1.0.0"
MAX_INVOKE_DEPTH = 8
WASMTIME_VERSION = package_version("wasmtime")
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Everything that changes compiled code; part of the ``.cwasm`` cache key."""

    opt_level: str = "speed"
    max_wasm_stack: int = 1 * _MIB
    epoch_tick_ms: int = 10

    def key(self) -> str:
        # The tick length does not change compiled code; leave it out of the artifact key.
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
        bounds = {"fuel": (1_000_000, 100_000_000_000), "timeout_ms": (10, 60_000),
                  "memory_mb": (32, 4096), "max_output_kb": (1, 256 * 1024)}
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


_TICKER = _EpochTicker(EngineSettings().epoch_tick_ms)
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
            engine = Engine(config)
            linker = Linker(engine)
            _define_host(linker)
            found = (engine, linker)
            _engines[settings] = found
            _TICKER.add(engine)
        return found


# -- host imports ---------------------------------------------------------------------------

@dataclass(slots=True)
class _StoreData:
    """What a host function needs to know about the instance calling it."""

    session: PluginSession | None
    plugin: str
    calls: list[str] = field(default_factory=list)  # the export names in flight

    @property
    def tap(self) -> str:
        return self.calls[-1] if self.calls else ""


# The guest calling a host function is always the innermost guest call running on this thread
# (nested invoke-plugin calls push on top), so a thread-local stack identifies it without
# relying on wasmtime-py internals to map the host function's store context back to its Store.
_active = threading.local()


def _frames() -> list[_StoreData]:
    frames: list[_StoreData] | None = getattr(_active, "frames", None)
    if frames is None:
        frames = []
        _active.frames = frames
    return frames


@contextmanager
def _running(data: _StoreData) -> Iterator[None]:
    frames = _frames()
    frames.append(data)
    try:
        yield
    finally:
        frames.pop()


def _host_call(method: str) -> Callable[..., Any]:
    def call(_context: Any, *args: Any) -> Any:
        data = _frames()[-1]
        if data.session is None:
            # Only describe() runs without a session, and it must not call the host.
            raise PluginLoadError(f"plugin {data.plugin!r} called the host during describe()")
        return getattr(data.session.host, method)(data.plugin, data.tap, *args)

    return call


_HOST_FUNCTIONS = {
    "log": "log",
    "variable-get": "variable_get",
    "variable-set": "variable_set",
    "request-context-get": "request_context_get",
    "request-context-set": "request_context_set",
    "current-user": "current_user",
    "user-can": "user_can",
    "item-load": "item_load",
    "item-query": "item_query",
    "db": "db",
    "cache-get": "cache_get",
    "cache-set": "cache_set",
    "cache-invalidate-tag": "cache_invalidate_tag",
    "queue-push": "queue_push",
    "invoke-plugin": "invoke_plugin",
    "now": "now",
}


def _define_host(linker: Linker) -> None:
    with linker.root() as root, root.add_instance(HOST_INTERFACE) as host:
        for wit_name, method in _HOST_FUNCTIONS.items():
            host.add_func(wit_name, _host_call(method))


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


class PluginRuntime:
    """Compiles/deserializes plugin components and opens per-request sessions."""

    def __init__(self, cache_dir: str | Path, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        self.engine, self.linker = engine_for(self.settings)
        self.cache_dir = Path(cache_dir)

    def compiled_path(self, wasm_sha256: str) -> Path:
        key = hashlib.sha256(f"{WASMTIME_VERSION}|{self.settings.key()}|{wasm_sha256}"
                             .encode()).hexdigest()[:32]
        return self.cache_dir / f"{key}.cwasm"

    def compile(self, wasm: Path) -> tuple[Component, str, Path, bool]:
        """The component for ``wasm``, from the ``.cwasm`` cache when possible."""
        sha = _sha256_file(wasm)
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
        """Compile (or deserialize) ``wasm``, call its ``describe`` and check the contract."""
        started = time.perf_counter()
        path = Path(wasm)
        try:
            component, sha, compiled, cached = self.compile(path)
        except (WasmtimeError, OSError) as exc:
            raise PluginLoadError(f"plugin {name!r}: cannot load {path}: {exc}") from exc
        store = Store(self.engine)
        store.set_fuel(Limits().fuel)
        store.set_epoch_deadline(1000)
        try:
            with _running(_StoreData(None, name)):
                instance = self.linker.instantiate(store, component)
                raw = instance.get_func(store, "describe")
                if raw is None:
                    raise PluginLoadError(f"plugin {name!r} exports no describe()")
                description = json.loads(raw(store))
        except (WasmtimeError, Trap, ValueError) as exc:
            raise PluginLoadError(f"plugin {name!r}: describe() failed: {exc}") from exc
        if not isinstance(description, dict):
            raise PluginLoadError(f"plugin {name!r}: describe() must return a JSON object")
        check_contract(name, description.get("contract"))
        return LoadedPlugin(name, component, sha, description, limits or Limits(), compiled,
                            cached, time.perf_counter() - started)

    def session(self, plugins: dict[str, LoadedPlugin], host: RequestHost) -> PluginSession:
        return PluginSession(self, plugins, host)


# -- sessions -------------------------------------------------------------------------------

@dataclass(slots=True)
class _Live:
    store: Store
    funcs: dict[str, Any]
    data: _StoreData


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


def _decode_err(plugin: str, call: str, payload: str) -> PluginError:
    """The SDK sends ``{"kind", "message"}``; anything else is a plain message."""
    try:
        parsed = json.loads(payload)
        kind, message = str(parsed["kind"]), str(parsed["message"])
    except (ValueError, KeyError, TypeError):
        kind, message = "refused", payload
    if kind == "refused":
        return PluginRefused(plugin, call, message)
    if message.startswith("MemoryError"):
        return PluginMemoryError(plugin, call, message)
    if message.startswith("RecursionError"):
        return PluginTrap(plugin, call, message, reason="stack")
    return PluginError(plugin, call, message, reason="exception" if kind == "exception"
                       else "host")


class PluginSession:
    """The plugin instances of one request. Use as ``async with runtime.session(...)``."""

    def __init__(self, runtime: PluginRuntime, plugins: dict[str, LoadedPlugin],
                 host: RequestHost) -> None:
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
        self._live.clear()

    def discard(self, plugin: str) -> None:
        """Forget ``plugin``'s instance (after a failure); the next call starts a clean one."""
        self._live.pop(plugin, None)

    # -- async API used by the dispatcher --------------------------------------------------

    async def call_tap(self, plugin: str, tap: str, payload: dict[str, Any]) -> Any:
        return await self._call_async(plugin, "invoke-tap", tap, payload)

    async def call_function(self, plugin: str, function: str, payload: dict[str, Any]) -> Any:
        return await self._call_async(plugin, "call-function", function, payload)

    async def _call_async(self, plugin: str, export: str, name: str,
                          payload: dict[str, Any]) -> Any:
        text = json.dumps(payload, separators=(",", ":"), default=str)
        async with self._lock:
            self.host.attach_loop(asyncio.get_running_loop())
            return await asyncio.to_thread(self.call_sync, plugin, export, name, text)

    # -- sync core (worker thread; also nested invokes from host functions) ----------------

    def _instantiate(self, loaded: LoadedPlugin) -> _Live:
        data = _StoreData(self, loaded.name)
        store = Store(self.runtime.engine)
        store.set_limits(memory_size=loaded.limits.memory_mb * _MIB)
        # Instantiation runs the component's start code: give it its own budget.
        store.set_fuel(loaded.limits.fuel)
        store.set_epoch_deadline(self._ticks(loaded.limits))
        with _running(data):
            instance = self.runtime.linker.instantiate(store, loaded.component)
        funcs = {name: instance.get_func(store, name)
                 for name in ("invoke-tap", "call-function")}
        self.instantiated += 1
        return _Live(store, funcs, data)

    def _ticks(self, limits: Limits) -> int:
        return max(1, -(-limits.timeout_ms // self.runtime.settings.epoch_tick_ms))

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

    def call_sync(self, plugin: str, export: str, name: str, payload: str) -> Any:
        """Call ``export(name, payload)`` on ``plugin``; the decoded JSON result."""
        if self._closed:
            raise RuntimeError("the plugin session is closed")
        loaded = self.plugins.get(plugin)
        if loaded is None:
            raise PluginError(plugin, name, "plugin is not enabled", reason="missing")
        if len(self._stack) >= MAX_INVOKE_DEPTH:
            raise PluginError(plugin, name, f"invoke depth exceeds {MAX_INVOKE_DEPTH}",
                              reason="depth")
        limits = loaded.limits
        try:
            with self._instance(plugin, loaded) as live:
                live.store.set_fuel(limits.fuel)
                live.store.set_epoch_deadline(self._ticks(limits))
                live.data.calls.append(name)
                try:
                    with _running(live.data):
                        result = live.funcs[export](live.store, name, payload)
                finally:
                    live.data.calls.pop()
        except PluginRefused:
            raise
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            self.discard(plugin)
            raise _classify(plugin, name, exc, limits) from exc
        if not isinstance(result, Variant):
            self.discard(plugin)
            raise PluginOutputError(plugin, name, f"unexpected result type {type(result)}")
        if result.tag == "err":
            error = _decode_err(plugin, name, str(result.payload))
            if not isinstance(error, PluginRefused):
                self.discard(plugin)
            raise error
        text = str(result.payload)
        if len(text) > limits.max_output_kb * 1024:
            self.discard(plugin)
            raise PluginOutputError(
                plugin, name, f"result of {len(text):,} bytes exceeds "
                f"{limits.max_output_kb} KB")
        try:
            return json.loads(text)
        except ValueError as exc:
            self.discard(plugin)
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
