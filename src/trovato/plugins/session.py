"""The plugin instances of one request: :class:`PluginSession`.

A session instantiates a plugin the first time the request needs it, reuses that instance for
the rest of the request and drops every instance at the end, so no plugin state survives
between requests (DESIGN §6.4). Every call gets fresh fuel and an epoch deadline (the store's
memory cap is set when it is made); whatever stops a call leaves its instance mid-call, so the
instance is discarded and the next call starts a clean one. Dropped stores are closed on the
reaper thread while the process has time to spare, and by the request itself while requests
overlap (the work would only compete with them for the GIL and the cores). Nested
``invoke-plugin`` calls run on the same session, awaited on the event loop's own thread.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wasmtime import Store
from wasmtime.component import Instance, Variant

from trovato.observability import load
from trovato.plugins import reaper
from trovato.plugins.errors import PluginError, PluginOutputError, PluginRefused
from trovato.plugins.guest import Signature, StoreData, signature
from trovato.plugins.guest import call as guest_call
from trovato.plugins.limits import Limits
from trovato.plugins.results import classify, decode, decode_error, encode

if TYPE_CHECKING:
    from trovato.plugins.host import RequestHost
    from trovato.plugins.runtime import LoadedPlugin, PluginRuntime

MAX_INVOKE_DEPTH = 8


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


_OPEN_SESSIONS: weakref.WeakSet[PluginSession] = weakref.WeakSet()


def _busy() -> bool:
    """The process is serving requests side by side (HTTP requests, or callers of any kind
    with plugin sessions open at once)."""
    return load.busy() or len(_OPEN_SESSIONS) > 1


def _drop(stores: list[Store]) -> None:
    """Close ``stores``: on the reaper thread while the process has time to spare, else here."""
    if _busy():
        reaper.close(stores)
    else:
        reaper.REAPER.drop(stores)


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
        text = encode(payload)
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
            raise classify(plugin, name, exc, limits) from exc
        if not isinstance(result, Variant):
            self._discard_used(plugin, used)
            raise PluginOutputError(plugin, name, f"unexpected result type {type(result)}")
        if result.tag == "err":
            error = decode_error(plugin, name, str(result.payload))
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
            return decode(text)
        except ValueError as exc:
            self._discard_used(plugin, used)
            raise PluginOutputError(plugin, name, f"result is not JSON: {exc}",
                                    reason="invalid_json") from None
