"""What crosses the guest boundary on a call: the payload's JSON, the result's JSON, and a
failure as the :class:`~trovato.plugins.errors.PluginError` subclass the dispatcher reports.

A trap, timeout, memory exhaustion, an exception the plugin did not handle or a refusal each
map to their own error and reason; what the plugin sends (its message and traceback) is cut to
a bounded size, since it comes from untrusted code.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from wasmtime import Trap, TrapCode, WasmtimeError

from trovato.plugins.errors import (
    PluginError,
    PluginMemoryError,
    PluginRefused,
    PluginTimeout,
    PluginTrap,
)
from trovato.plugins.limits import Limits

MAX_ERROR_MESSAGE = 2_000  # characters of a plugin's error message kept
MAX_ERROR_TRACEBACK = 16_000  # characters of its traceback kept (the end: the raising frame)

_ORJSON_OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_DATACLASS)


def encode(payload: Any) -> str:
    """Compact JSON, as ``json.dumps(payload, separators=(",", ":"), default=str)`` writes it
    (dates and dataclasses through ``str``) but with orjson; huge integers fall back."""
    try:
        return orjson.dumps(payload, default=str, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(payload, separators=(",", ":"), default=str)


def decode(text: str) -> Any:
    """A result's JSON; raises ``ValueError`` when it is not JSON."""
    try:
        return orjson.loads(text)
    except ValueError:
        return json.loads(text)  # what orjson refuses but json accepts (huge ints, NaN)


def classify(plugin: str, call: str, exc: BaseException, limits: Limits) -> PluginError:
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


def decode_error(plugin: str, call: str, payload: str) -> PluginError:
    """The error an ``err`` result stands for.

    The SDK sends ``{"kind", "message"}``, plus ``"traceback"`` for an exception or a host
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
