"""Calling into a guest through wasmtime's async API, driven by the event loop's own thread.

wasmtime runs each instantiation and export call on a fiber (a separate native stack) and gives
back a *call future*; polling it runs the guest until it finishes, asks for host I/O, or has
used up a slice of fuel. So a guest call needs no thread of its own:

* :func:`call` polls on the event loop's thread. When a host function needs the database or the
  shared store, its trampoline leaves a coroutine in the caller's :class:`StoreData` and tells
  wasmtime the call is pending; the poll returns, :func:`call` awaits the coroutine in the
  request's own task (so context variables such as the content transaction apply), and the next
  poll resumes the guest with the answer.
* Every :data:`YIELD_FUEL` units of fuel (about a millisecond of guest code) the guest yields,
  and :func:`call` lets the loop serve other tasks before polling again: a slow or stalling
  guest never holds the loop for long, while its epoch deadline still stops it in time.
* If the request is cancelled, or a host function's coroutine fails, the future is dropped:
  wasmtime unwinds the guest's fiber as it would for a trap, and the caller discards the
  instance (a guest is never resumed with a made-up answer).
* :func:`instantiate` and :func:`call_blocking` poll to completion without a loop, for work that
  never needs host I/O (instantiating, ``describe()``).

The host functions themselves live on :class:`trovato.plugins.host.RequestHost`; the trampoline
finds the calling instance through a per-thread stack of :class:`StoreData` (:func:`running`),
because the callback's store context cannot be mapped back to a wasmtime-py ``Store``.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from ctypes import byref, pointer
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wasmtime import Store, WasmtimeError
from wasmtime import _ffi as ffi
from wasmtime.component import Component, Instance, Linker, Variant
from wasmtime.component._types import FuncType, ResultType, String, ValType

from trovato.plugins.contract import CONTRACT_VERSION
from trovato.plugins.epochs import epoch_ticking

if TYPE_CHECKING:
    from wasmtime.component import Func

    from trovato.plugins.session import PluginSession

HOST_INTERFACE = f"trovato:plugin/host@{CONTRACT_VERSION}"
# About a millisecond of guest code between yields (docs/performance.md): a slow guest never
# holds the loop for long, and a small tap never yields at all.
YIELD_FUEL = 10_000_000

# WIT name -> RequestHost method. A method returns its answer, or a coroutine for host I/O.
HOST_FUNCTIONS = {
    "log": "log",
    "variable-get": "variable_get",
    "variable-set": "variable_set",
    "request-context-get": "request_context_get",
    "request-context-set": "request_context_set",
    "current-user": "current_user",
    "user-can": "user_can",
    "item-load": "item_load",
    "item-query": "item_query",
    "item-save": "item_save",  # since 1.1.0
    "item-delete": "item_delete",  # since 1.1.0
    "db": "db",
    "cache-get": "cache_get",
    "cache-set": "cache_set",
    "cache-invalidate-tag": "cache_invalidate_tag",
    "queue-push": "queue_push",
    "invoke-plugin": "invoke_plugin",
    "now": "now",
}
_METHODS = tuple(HOST_FUNCTIONS.values())

_ErrorPtr = ctypes.POINTER(ffi.wasmtime_error_t)


@dataclass(frozen=True, slots=True)
class Signature:
    """A function's parameter and result types, read from wasmtime once and kept."""

    params: tuple[ValType, ...]
    result: ValType | None
    # ``result<string, string>`` (every export but describe) is lifted by reading the C value
    # directly: wasmtime-py's generic lift asks wasmtime for the case types on every call.
    string_result: bool = False

    @classmethod
    def of(cls, fty: FuncType) -> Signature:
        result = fty.result
        strings = (isinstance(result, ResultType) and isinstance(result.ok, String)
                   and isinstance(result.err, String))
        return cls(tuple(ty for _, ty in fty.params), result, strings)


class HostCallFailed(Exception):
    """A host call the runtime refused: from a guest running outside a request, or needing
    I/O with no event loop."""


@dataclass(slots=True)
class _Pending:
    """A host function's I/O, awaited by :func:`call` between two polls."""

    coro: Coroutine[Any, Any, Any]
    result: ValType | None
    results: Any  # the wasmtime_component_val_t the answer is written to
    done: bool = False
    # wasmtime polls this until it says the answer is in place; kept alive here until then.
    ready: Any = None

    def __post_init__(self) -> None:
        self.ready = ffi.wasmtime_func_async_continuation_callback_t(lambda _env: self.done)


@dataclass(slots=True)
class StoreData:
    """What a host function needs to know about the instance calling it."""

    session: PluginSession | None
    plugin: str
    calls: list[str] = field(default_factory=list)  # the export names in flight
    pending: _Pending | None = None
    failure: BaseException | None = None  # what a host function raised, for the caller

    @property
    def tap(self) -> str:
        return self.calls[-1] if self.calls else ""


# The guest calling a host function is always the innermost guest call being polled on this
# thread (a nested invoke-plugin call pushes on top).
_active = threading.local()


def _frames() -> list[StoreData]:
    frames: list[StoreData] | None = getattr(_active, "frames", None)
    if frames is None:
        frames = []
        _active.frames = frames
    return frames


@contextmanager
def running(data: StoreData) -> Iterator[None]:
    frames = _frames()
    frames.append(data)
    try:
        yield
    finally:
        frames.pop()


# -- the host side: one trampoline for every import ------------------------------------------

_signatures: dict[int, Signature] = {}  # per import: its types never change


def _signature(index: int, raw: Any) -> Signature:
    found = _signatures.get(index)
    if found is None:
        with FuncType._from_ptr(raw, owner=True) as fty:
            found = _signatures[index] = Signature.of(fty)
    return found


def _always(_env: Any) -> bool:
    return True


_READY = ffi.wasmtime_func_async_continuation_callback_t(_always)


@ffi.wasmtime_component_func_async_callback_t  # type: ignore[untyped-decorator]
def _trampoline(index: int | None, _context: Any, ty: Any, args: Any, nargs: int, results: Any,
                _nresults: int, error_ret: Any, continuation: Any) -> None:
    continuation[0].callback = _READY
    frames = _frames()
    if not frames:  # guest code only ever runs inside running(); refuse rather than guess
        error_ret[0] = WasmtimeError("host function called with no guest call running")._consume()
        return
    data = frames[-1]
    try:
        if data.session is None:
            raise HostCallFailed(f"plugin {data.plugin!r} called the host outside a request")
        sig = _signature(index or 0, ty)
        result = sig.result
        values = [sig.params[i].convert_from_c(args[i]) for i in range(nargs)]
        method = getattr(data.session.host, _METHODS[index or 0])
        answer = method(data.plugin, data.tap, *values)
        if isinstance(answer, Coroutine):
            data.pending = _Pending(answer, result, results)
            continuation[0].callback = data.pending.ready
        elif result is not None:
            result.convert_to_c(None, answer, results)  # type: ignore[arg-type]
    except BaseException as exc:  # the guest traps at once; the caller re-raises ``exc``
        data.failure = exc
        error_ret[0] = WasmtimeError("host function failed")._consume()


# WASI as the component imports it (componentize-py 0.25.1; defined under the exact name, it
# wins over wasmtime's own, and tests/plugins/test_guest_wasi.py fails if an upgrade changes
# the version). wasmtime's monotonic clock would block the calling thread in a sleep, where no
# epoch deadline can stop it: see define_wasi.
MONOTONIC_CLOCK = "wasi:clocks/monotonic-clock@0.2.9"
NO_WAITING = ("a plugin cannot sleep or wait for a timer (time.sleep, select, asyncio): "
              "it would hold the request past its deadline")


def _monotonic_now(_store: Any) -> int:
    return time.monotonic_ns()


def _monotonic_resolution(_store: Any) -> int:
    return 1


def _refuse_waiting(_store: Any, *_args: Any) -> None:
    raise WasmtimeError(NO_WAITING)


def define_wasi(linker: Linker) -> None:
    """Define WASI on ``linker``: the host's clocks and CSPRNG, nothing else reachable.

    Stores get an empty :class:`wasmtime.WasiConfig`, so there is no preopened directory, no
    network and no environment. wasmtime's WASI runs host calls to completion on the calling
    thread, and a guest waiting on a timer (``time.sleep``) would block the event loop for as
    long as it asked, out of reach of the epoch deadline. So the monotonic clock is replaced by
    one that reads the time but refuses timers (the guest traps); the wall clock never waits.
    """
    linker.add_wasip2()
    linker.allow_shadowing = True
    try:
        with linker.root() as root, root.add_instance(MONOTONIC_CLOCK) as clock:
            clock.add_func("now", _monotonic_now)
            clock.add_func("resolution", _monotonic_resolution)
            clock.add_func("subscribe-instant", _refuse_waiting)
            clock.add_func("subscribe-duration", _refuse_waiting)
    finally:
        linker.allow_shadowing = False


def define_host(linker: Linker) -> None:
    """Define every ``trovato:plugin/host`` import on ``linker`` as an async host function."""
    with linker.root() as root, root.add_instance(HOST_INTERFACE) as host:
        for index, name in enumerate(HOST_FUNCTIONS):
            encoded = name.encode()
            error = ffi.wasmtime_component_linker_instance_add_func_async(
                host.ptr(), ctypes.create_string_buffer(encoded), len(encoded), _trampoline,
                index, ctypes.CFUNCTYPE(None, ctypes.c_void_p)())
            if error:
                raise WasmtimeError._from_ptr(error)


# -- the guest side ------------------------------------------------------------------------------

def _raise(error: Any, data: StoreData) -> None:
    """Raise what a finished future reported: a host function's own exception first."""
    failure, data.failure = data.failure, None
    if failure is not None:
        if error:
            WasmtimeError._from_ptr(error)  # freed with the object
        raise failure
    if error:
        raise WasmtimeError._from_ptr(error)


def yield_slices(store: Store, fuel: int = YIELD_FUEL) -> None:
    """Make guest code in ``store`` yield to its poller after every ``fuel`` units."""
    error = ffi.wasmtime_context_fuel_async_yield_interval(store._context(), fuel)
    if error:
        raise WasmtimeError._from_ptr(error)


def _refuse_io(data: StoreData) -> None:
    """Poll-to-completion callers have no loop to serve host I/O: fail the guest instead of
    polling forever for an answer that cannot come."""
    if data.pending is not None:
        data.pending.coro.close()
        data.pending = None
        raise HostCallFailed(f"plugin {data.plugin!r} needs host I/O, which is only served to "
                             "guest calls on an event loop")


def instantiate(linker: Linker, store: Store, component: Component, data: StoreData) -> Instance:
    """Instantiate ``component`` in ``store``, polling to completion (a component's start
    code gets no host I/O)."""
    instance = ffi.wasmtime_component_instance_t()
    error = _ErrorPtr()
    with epoch_ticking(), running(data):
        future = ffi.wasmtime_component_linker_instantiate_async(
            linker.ptr(), store._context(), component.ptr(), byref(instance), byref(error))
        try:
            while not ffi.wasmtime_call_future_poll(future):
                _refuse_io(data)
        finally:
            ffi.wasmtime_call_future_delete(future)
    _raise(error, data)
    return Instance._from_raw(instance)


def signature(store: Store, func: Func) -> Signature:
    return Signature.of(func.type(store))


def _text(val: Any) -> str:
    """The string in the C value ``val`` (wasmtime frees it with the outer value)."""
    vec = val.of.string
    return ctypes.string_at(vec.data, vec.size).decode()


class _Call:
    """The C-side arguments and result of one export call; freed by :meth:`close`."""

    __slots__ = ("error", "future", "params", "result", "sig", "size")

    def __init__(self, store: Store, func: Func, sig: Signature, args: tuple[Any, ...]) -> None:
        self.sig = sig
        types = sig.params
        if len(args) != len(types):
            raise TypeError(f"{len(args)} arguments for {len(types)} parameters")
        self.params = (ffi.wasmtime_component_val_t * len(args))()
        self.size = 0
        for ty, value in zip(types, args, strict=True):
            ty.convert_to_c(store, value, pointer(self.params[self.size]))
            self.size += 1
        self.result = ffi.wasmtime_component_val_t()
        self.error = _ErrorPtr()
        self.future: Any = ffi.wasmtime_component_func_call_async(
            byref(func._func), store._context(), self.params, self.size, byref(self.result),
            0 if sig.result is None else 1, byref(self.error))

    def poll(self) -> bool:
        return bool(ffi.wasmtime_call_future_poll(self.future))

    def value(self) -> Any:
        if self.sig.result is None:
            return None
        if self.sig.string_result:
            outcome = self.result.of.result
            value: Any = Variant("ok" if outcome.is_ok else "err", _text(outcome.val.contents))
        else:
            value = self.sig.result.convert_from_c(self.result)
        ffi.wasmtime_component_val_delete(byref(self.result))  # frees the nested values too
        return value

    def close(self) -> None:
        """Drop the future (unwinding the guest if it has not finished) and free arguments."""
        if self.future is not None:
            ffi.wasmtime_call_future_delete(self.future)
            self.future = None
        for i in range(self.size):
            ffi.wasmtime_component_val_delete(byref(self.params[i]))
        self.size = 0


async def call(store: Store, func: Func, sig: Signature, args: tuple[Any, ...],
               data: StoreData) -> Any:
    """Call ``func`` on the loop's thread, awaiting its host functions' coroutines.

    The store must already have its fuel, yield interval and epoch deadline set.
    """
    job = _Call(store, func, sig, args)
    finished = False
    with epoch_ticking():  # a deadline counts the host I/O awaited too
        try:
            while True:
                with running(data):
                    finished = job.poll()
                if finished:
                    break
                pending = data.pending
                if pending is None:  # the guest used up its slice of fuel: let other tasks run
                    await asyncio.sleep(0)
                    continue
                try:
                    # If this raises, dropping the future below unwinds the guest and the caller
                    # sees the exception itself.
                    answer = await pending.coro
                finally:
                    data.pending = None
                if pending.result is not None:
                    pending.result.convert_to_c(store, answer, pending.results)
                pending.done = True
        finally:
            job.close()
            data.pending = None
    _raise(job.error, data)
    return job.value()


def call_blocking(store: Store, func: Func, args: tuple[Any, ...], data: StoreData) -> Any:
    """Call ``func`` to completion without an event loop: a host call it makes fails it."""
    job = _Call(store, func, signature(store, func), args)
    try:
        with epoch_ticking(), running(data):
            while not job.poll():
                _refuse_io(data)
    finally:
        job.close()
        data.pending = None
    _raise(job.error, data)
    return job.value()
