"""The SDK's engine room: the tap/function registry, argument binding and result encoding.

It is pure Python with no sandbox imports, so the guest glue (``_guest``) and the in-process
test harness (``testing``) run exactly the same code path.

Wire format (the kernel side lives in ``trovato.plugins``):

* ``invoke-tap(tap, payload)``: ``payload`` is a JSON object of named arguments plus an optional
  ``"_ctx"`` object (``user``) and ``"_alter"`` (the name of the argument an alter tap edits).
  The result is the JSON-encoded return value; for alter taps it is ``{"patch": <RFC 7396
  merge patch of that argument>}``, so plugins send changes, never a whole replaced tree.
* ``call-function(name, payload)``: ``{"request": {...}}`` for menu callbacks, ``{"payload":
  <value>, "caller": "<plugin>"}`` for ``invoke-plugin``.
* errors: ``err`` carries JSON ``{"kind": "refused"|"exception"|"host", "message": ...}``; an
  exception (and a host refusal the plugin did not catch) adds ``"type"`` (the exception
  class) and ``"traceback"`` (Python's traceback text, with the plugin's files named relative
  to the plugin folder and the SDK's own dispatch frame left out), so the kernel can log the
  author's error as Python reports it.
"""

from __future__ import annotations

import copy
import enum
import inspect
import json
import linecache
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from trovato_sdk.context import Backend, Context, HostError
from trovato_sdk.types import Item, Request

# The contract the SDK is built against, and so the minimum the plugin needs (its component
# imports the host interface at this version): 1.1.0 added ctx.items.save and delete.
CONTRACT = "1.1.0"
F = TypeVar("F", bound=Callable[..., Any])

_taps: dict[str, Callable[..., Any]] = {}
_functions: dict[str, Callable[..., Any]] = {}
_entry_module: str = "plugin"
# Worked out once by prepare() (see there), then read on every call.
_exports: dict[str, Callable[..., Any]] | None = None
_parameters: dict[Callable[..., Any], tuple[inspect.Parameter, ...]] = {}
# The folder holding the entry module (set by prepare()): traceback paths are shown relative
# to it, as the author's own files.
_root: str = ""
MAX_TRACEBACK_FRAMES = 40
MAX_TRACEBACK_CHARS = 8_000


class Refused(Exception):
    """Raise from a tap or function to report a failure the kernel shows to the user
    (a validation message, a refusal) instead of a crash."""


class BindError(TypeError):
    """A tap or function asks for an argument the kernel does not send."""


def tap(fn: F | str | None = None, *, name: str | None = None) -> Any:
    """Register a tap implementation. ``@tap`` uses the function name; ``@tap("item_view")``
    or ``@tap(name="item_view")`` names the tap explicitly."""
    if callable(fn):
        _taps[name or fn.__name__] = fn
        return fn
    explicit = fn if isinstance(fn, str) else name

    def register(func: F) -> F:
        _taps[explicit or func.__name__] = func
        return func

    return register


def function(fn: F | str | None = None, *, name: str | None = None) -> Any:
    """Export a function for menu callbacks and ``ctx.invoke`` from other plugins.

    Public top-level functions of ``plugin.py`` are exported without it; use it for
    functions in sibling modules or to export under another name."""
    if callable(fn):
        _functions[name or fn.__name__] = fn
        return fn
    explicit = fn if isinstance(fn, str) else name

    def register(func: F) -> F:
        _functions[explicit or func.__name__] = func
        return func

    return register


def set_entry_module(module_name: str) -> None:
    """Name the plugin's entry module, whose public functions are exported automatically."""
    global _entry_module
    _entry_module = module_name


def reset() -> None:
    """Forget every registration (for tests that load several plugins in one process)."""
    global _exports
    _taps.clear()
    _functions.clear()
    _exports = None
    _parameters.clear()


def prepare() -> None:
    """Work out the exports and the parameters of every tap and function now.

    The guest's entry module calls this after importing the plugin, at build time, so each
    instance starts with the answers in its memory snapshot instead of introspecting the
    plugin (``inspect.signature``, a scan of the module) on every call."""
    global _exports
    _exports = None
    _exports = functions()
    for fn in (*_taps.values(), *_exports.values()):
        _signature(fn)
    _remember_sources()


def _remember_sources() -> None:
    """Keep the plugin's source lines for tracebacks.

    At build time the sources are on disk; inside the sandbox there are no files, so the lines
    go into ``linecache`` now and are part of the snapshot every instance starts from (an
    entry without a modification time is never checked against the disk again)."""
    global _root
    module = sys.modules.get(_entry_module)
    entry = getattr(module, "__file__", None)
    if not entry:
        return
    _root = os.path.dirname(os.path.abspath(entry))
    if sys.platform != "wasi":  # in-process tests read the files as they change
        return
    for loaded in list(sys.modules.values()):
        filename = getattr(loaded, "__file__", None)
        if not filename or not os.path.abspath(filename).startswith(_root + os.sep):
            continue
        lines = linecache.getlines(filename)
        if lines:
            linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)


def taps() -> dict[str, Callable[..., Any]]:
    return dict(_taps)


def functions() -> dict[str, Callable[..., Any]]:
    """Explicit exports plus the public functions defined in the entry module."""
    if _exports is not None:
        return dict(_exports)
    found: dict[str, Callable[..., Any]] = {}
    module = sys.modules.get(_entry_module)
    tap_functions = set(map(id, _taps.values()))
    if module is not None:
        for attr, value in vars(module).items():
            if (inspect.isfunction(value) and not attr.startswith("_")
                    and value.__module__ == module.__name__
                    and id(value) not in tap_functions):
                found[attr] = value
    found.update(_functions)
    return found


def describe(sdk_version: str) -> str:
    return json.dumps({
        "contract": CONTRACT,
        "sdk": sdk_version,
        "taps": sorted(_taps),
        "functions": sorted(functions()),
    })


def encode(value: Any) -> Any:
    """Turn a return value into JSON-ready data (render elements, declarations, wrappers)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return encode(value.value)
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return encode(to_json())
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    raise TypeError(f"a plugin cannot return a {type(value).__name__}")


def merge_patch(before: Any, after: Any) -> Any:
    """The RFC 7396 merge patch that turns ``before`` into ``after``."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return after
    patch: dict[str, Any] = {}
    for key in before.keys() - after.keys():
        patch[key] = None
    for key, value in after.items():
        if key not in before:
            patch[key] = value
        elif before[key] != value:
            if isinstance(value, dict) and isinstance(before[key], dict):
                patch[key] = merge_patch(before[key], value)
            else:
                patch[key] = value
    return patch


def _wrap(key: str, value: Any) -> Any:
    if key == "item" and isinstance(value, dict):
        return Item(value)
    if key == "items" and isinstance(value, list):
        return [Item(v) if isinstance(v, dict) else v for v in value]
    if key == "request" and isinstance(value, dict):
        return Request(value)
    return value


def _bind(fn: Callable[..., Any], args: dict[str, Any], ctx: Context,
          primary: str | None) -> list[Any]:
    """Positional arguments for ``fn`` by parameter name; ``ctx`` is the context.

    A parameter whose name the kernel did not send takes the ``primary`` value (the request of
    a menu callback, the payload of an invoke), so callbacks may name it as they like."""
    values: list[Any] = []
    primary_used = False
    for param in _signature(fn):
        if param.name == "ctx":
            values.append(ctx)
        elif param.name in args:
            values.append(_wrap(param.name, args[param.name]))
            primary_used = primary_used or param.name == primary
        elif primary is not None and not primary_used and primary in args:
            values.append(_wrap(primary, args[primary]))
            primary_used = True
        elif param.default is not param.empty:
            values.append(param.default)
        else:
            raise BindError(
                f"{fn.__name__}() asks for {param.name!r}; available: "
                f"{', '.join(sorted([*args, 'ctx']))}"
            )
    return values


def _signature(fn: Callable[..., Any]) -> tuple[inspect.Parameter, ...]:
    """``fn``'s named parameters (``*args`` and ``**kwargs`` are never bound)."""
    found = _parameters.get(fn)
    if found is None:
        found = _parameters[fn] = tuple(
            param for param in inspect.signature(fn).parameters.values()
            if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD))
    return found


def error_json(kind: str, message: str) -> str:
    return json.dumps({"kind": kind, "message": message})


def _shown_path(filename: str) -> str:
    if _root and filename.startswith(_root + os.sep):
        return filename[len(_root) + 1:]
    return filename


def _relative(summary: traceback.TracebackException) -> None:
    """Show the plugin's files relative to its folder, in ``summary`` and its chained causes."""
    seen: set[int] = set()
    pending = [summary]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for frame in current.stack:
            frame.filename = _shown_path(frame.filename)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(current.exceptions or ())


def format_traceback(exc: BaseException) -> str:
    """Python's traceback of ``exc`` without the SDK's dispatch frame, bounded in size."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is _run.__code__:
        tb = tb.tb_next  # _run caught it: the author's code starts one frame down
    summary = traceback.TracebackException(type(exc), exc, tb, limit=-MAX_TRACEBACK_FRAMES)
    _relative(summary)
    text = "".join(summary.format())
    if len(text) > MAX_TRACEBACK_CHARS:
        text = "…" + text[-MAX_TRACEBACK_CHARS:]
    return text


def exception_json(exc: BaseException, kind: str = "exception") -> str:
    """The error JSON for an exception the plugin did not handle (``kind="host"``: a host
    refusal it did not catch, whose message is the kernel's own)."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not hide the original error
        text = ""
    message = text if kind == "host" else f"{name}: {text}" if text else name
    try:
        formatted = format_traceback(exc)
    except Exception:  # MemoryError and the like: the type and message still go out
        formatted = ""
    return json.dumps({"kind": kind, "type": name, "message": message,
                       "traceback": formatted})


def _run(fn: Callable[..., Any], args: dict[str, Any], ctx: Context,
         primary: str | None, alter: str | None) -> str:
    """Call ``fn`` and encode its result; raises ``Failure`` with an error JSON string."""
    try:
        before = copy.deepcopy(args.get(alter)) if alter else None
        result = fn(*_bind(fn, args, ctx, primary))
        if alter:
            subject = args.get(alter)
            if result is not None:
                subject = encode(result)
            return json.dumps({"patch": merge_patch(before, encode(subject))})
        return json.dumps(encode(result))
    except Refused as exc:
        raise Failure(error_json("refused", str(exc))) from None
    except HostError as exc:
        raise Failure(exception_json(exc, "host")) from None
    except MemoryError:
        raise Failure(error_json("exception", "MemoryError")) from None
    except BaseException as exc:  # SystemExit too: a plugin cannot end the kernel's process
        raise Failure(exception_json(exc)) from None


class Failure(Exception):
    """Carries the error JSON the glue returns as the WIT ``err`` arm."""


def run_tap(name: str, payload: str, backend: Backend, plugin: str = "") -> str:
    fn = _taps.get(name)
    if fn is None:
        raise Failure(error_json("exception", f"this plugin does not implement tap {name!r}"))
    args = json.loads(payload) if payload else {}
    if not isinstance(args, dict):
        raise Failure(error_json("exception", "tap payload must be a JSON object"))
    meta = args.pop("_ctx", None) or {}
    alter = args.pop("_alter", None)
    ctx = Context(backend, plugin=plugin or meta.get("plugin", ""), tap=name,
                  user=meta.get("user"))
    return _run(fn, args, ctx, None, alter)


def run_function(name: str, payload: str, backend: Backend, plugin: str = "") -> str:
    fn = functions().get(name)
    if fn is None:
        raise Failure(error_json("exception", f"this plugin has no function {name!r}"))
    envelope = json.loads(payload) if payload else {}
    if not isinstance(envelope, dict):
        envelope = {"payload": envelope}
    meta = envelope.pop("_ctx", None) or {}
    primary = "request" if "request" in envelope else "payload"
    ctx = Context(backend, plugin=plugin or meta.get("plugin", ""), tap=name,
                  user=meta.get("user"))
    return _run(fn, envelope, ctx, primary, None)
