"""Unit-test plugins in plain CPython, without building a component.

```python
from trovato_sdk.testing import FakeContext, load_plugin

plugin = load_plugin("plugins/hello")          # imports plugin.py, registers its taps
ctx = FakeContext(permissions={"access content"})
tree = ctx.call_tap("item_view", item={"id": "1", "type": "page", "title": "Hi"})
assert tree["#type"] == "container"
assert ctx.logs == [("info", "viewed 1")]
```

``FakeContext`` is a real :class:`~trovato_sdk.Context` over an in-memory backend: tables
(declared in ``plugin.toml`` when loaded from a folder), variables, request context, cache,
queue, items (``ctx.items.save``/``delete`` write to them with no access rule: a fake site
whose visitor may do anything) and log capture. ``call_tap``/``call_function`` go through the
same JSON encoding as the sandbox, so what passes here returns the same data in the kernel.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import sys
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from trovato_sdk import _runtime
from trovato_sdk.context import Context, HostError, ItemWriteError

__all__ = ["FakeBackend", "FakeContext", "PluginFailed", "load_plugin"]

_MAX_LIMIT = 1000


class PluginFailed(Exception):
    """A tap or function returned an error; ``kind`` is refused, exception or host.

    For an exception, ``traceback`` is the traceback the kernel would log."""

    def __init__(self, kind: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{kind}: {message}" + (f"\n{traceback}" if traceback else ""))
        self.kind = kind
        self.message = message
        self.traceback = traceback

    @classmethod
    def from_error(cls, error_json: str) -> PluginFailed:
        error = json.loads(error_json)
        return cls(error["kind"], error["message"], error.get("traceback", ""))


def load_plugin(folder: str | Path) -> ModuleType:
    """Import ``folder/plugin.py`` as module ``plugin`` (siblings importable), fresh each time."""
    folder = Path(folder).resolve()
    _runtime.reset()
    for name in list(sys.modules):
        module_file = getattr(sys.modules[name], "__file__", None) or ""
        if name == "plugin" or module_file.startswith(str(folder)):
            del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location("plugin", folder / "plugin.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"no plugin.py in {folder}")
        module = importlib.util.module_from_spec(spec)
        sys.modules["plugin"] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    _runtime.set_entry_module("plugin")
    _runtime.prepare()  # as the guest's entry does before its snapshot
    module.__dict__.setdefault("__trovato_folder__", str(folder))
    return module


def _declared_tables(folder: Path) -> dict[str, dict[str, Any]]:
    info_file = folder / "plugin.toml"
    if not info_file.exists():
        return {}
    info = tomllib.loads(info_file.read_text())
    return dict(info.get("tables", {}))


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts last (as PostgreSQL does for ascending order).
    return (1, "") if value is None else (0, value)


class FakeBackend:
    """An in-memory stand-in for the kernel's host functions."""

    def __init__(
        self,
        *,
        user: dict[str, Any] | None = None,
        permissions: set[str] | None = None,
        tables: dict[str, dict[str, Any]] | None = None,
        items: list[dict[str, Any]] | None = None,
        now: str = "2026-01-01T00:00:00Z",
    ) -> None:
        self.user = user or {"id": "00000000-0000-0000-0000-000000000000", "name": "",
                             "roles": [], "authenticated": False}
        self.permissions = set(permissions or ())
        # None means "any table": handy before plugin.toml declares them.
        self.declared = tables
        self.tables: dict[str, list[dict[str, Any]]] = {name: [] for name in (tables or {})}
        self.variables: dict[str, Any] = {}
        self.request_context: dict[str, Any] = {}
        self.cache: dict[str, tuple[Any, int, list[str]]] = {}
        self.queues: dict[str, list[Any]] = {}
        self.logs: list[tuple[str, str]] = []
        self.items: dict[str, dict[str, Any]] = {str(i["id"]): i for i in items or []}
        self.functions: dict[tuple[str, str], Callable[[Any], Any]] = {}
        self.fixed_now = now

    # host functions ---------------------------------------------------------------------
    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))

    def variable_get(self, name: str) -> Any | None:
        return copy.deepcopy(self.variables.get(name))

    def variable_set(self, name: str, value: Any) -> None:
        self.variables[name] = json.loads(json.dumps(value))

    def request_context_get(self, key: str) -> Any | None:
        return copy.deepcopy(self.request_context.get(key))

    def request_context_set(self, key: str, value: Any) -> None:
        self.request_context[key] = json.loads(json.dumps(value))

    def current_user(self) -> dict[str, Any]:
        return dict(self.user)

    def user_can(self, permission: str) -> bool:
        return permission in self.permissions

    def item_load(self, id: str) -> dict[str, Any] | None:
        item = self.items.get(id)
        if item is None or (item.get("status") != 1
                            and "view unpublished content" not in self.permissions):
            return None
        return copy.deepcopy(item)

    def item_query(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        found = [i for i in self.items.values()
                 if ("type" not in query or i.get("type") == query["type"])
                 and ("status" not in query or i.get("status") == query["status"])
                 and (i.get("status") == 1 or "view unpublished content" in self.permissions)]
        sort = str(query.get("sort") or "-created")
        found.sort(key=lambda i: _sort_key(i.get(sort.lstrip("-"))),
                   reverse=sort.startswith("-"))
        return copy.deepcopy(found[: min(int(query.get("limit", 10)), _MAX_LIMIT)])

    def item_save(self, item: dict[str, Any]) -> dict[str, Any]:
        item = json.loads(json.dumps(item))
        item.pop("log", None)
        if item.get("id") is None:
            if not isinstance(item.get("type"), str):
                raise ItemWriteError(422, "The new item has no type.",
                                     {"type": "required: the item type's machine name"})
            saved = {"id": str(uuid.uuid4()), "title": "", "status": 1, "promote": False,
                     "sticky": False, "fields": {}, "author_id": self.user["id"],
                     "created": self.fixed_now, "stage": "live", **item}
        else:
            stored = self.items.get(str(item["id"]))
            if stored is None:
                raise ItemWriteError(404, "No such item.")
            expected = item.pop("revision_id", None)
            if expected is not None and expected != stored.get("revision_id"):
                raise ItemWriteError(409, "This item was changed by someone else.")
            fields = {**stored.get("fields", {}), **(item.pop("fields", None) or {})}
            saved = {**stored, **item,
                     "fields": {k: v for k, v in fields.items() if v is not None}}
        saved["changed"] = self.fixed_now
        saved["revision_id"] = str(uuid.uuid4())
        self.items[saved["id"]] = saved
        return copy.deepcopy(saved)

    def item_delete(self, id: str) -> None:
        if self.items.pop(id, None) is None:
            raise ItemWriteError(404, "No such item.")

    def _table(self, name: str) -> list[dict[str, Any]]:
        if self.declared is not None and name not in self.declared:
            raise HostError(f"unknown table {name!r}: declare it in plugin.toml [tables]")
        return self.tables.setdefault(name, [])

    def _columns(self, table: str, names: Any) -> None:
        if self.declared is None:
            return
        columns = self.declared[table].get("columns", {})
        unknown = sorted(set(names) - set(columns))
        if unknown:
            raise HostError(f"unknown column(s) of {table!r}: {', '.join(unknown)}")

    def db(self, request: dict[str, Any]) -> Any:
        op, table = request.get("op"), str(request.get("table"))
        rows = self._table(table)
        where = dict(request.get("where") or {})
        values = dict(request.get("values") or {})
        self._columns(table, [*where, *values])

        def matches(row: dict[str, Any]) -> bool:
            return all(row.get(k) == v for k, v in where.items())

        if op == "select":
            found = [dict(r) for r in rows if matches(r)]
            for spec in reversed(list(request.get("order") or [])):
                column = spec.lstrip("-")
                self._columns(table, [column])
                found.sort(key=lambda r, c=column: _sort_key(r.get(c)),
                           reverse=spec.startswith("-"))
            limit = min(int(request.get("limit") or _MAX_LIMIT), _MAX_LIMIT)
            columns = request.get("columns")
            if columns:
                found = [{c: r.get(c) for c in columns} for r in found]
            return found[:limit]
        if op == "insert":
            rows.append(json.loads(json.dumps(values)))
            return 1
        if op == "update":
            if not where:
                raise HostError("update needs a where clause")
            hit = [r for r in rows if matches(r)]
            for row in hit:
                row.update(values)
            return len(hit)
        if op == "delete":
            if not where:
                raise HostError("delete needs a where clause")
            keep = [r for r in rows if not matches(r)]
            count = len(rows) - len(keep)
            rows[:] = keep
            return count
        raise HostError(f"unknown db op {op!r}")

    def cache_get(self, key: str) -> Any | None:
        hit = self.cache.get(key)
        return None if hit is None else copy.deepcopy(hit[0])

    def cache_set(self, key: str, value: Any, ttl: int, tags: list[str]) -> None:
        self.cache[key] = (json.loads(json.dumps(value)), ttl, list(tags))

    def cache_invalidate_tag(self, tag: str) -> None:
        self.cache = {k: v for k, v in self.cache.items() if tag not in v[2]}

    def queue_push(self, queue: str, payload: Any) -> str:
        self.queues.setdefault(queue, []).append(json.loads(json.dumps(payload)))
        return str(uuid.uuid4())

    def invoke(self, plugin: str, function: str, payload: Any) -> Any:
        handler = self.functions.get((plugin, function))
        if handler is None:
            raise HostError(f"plugin {plugin!r} is not enabled or has no function {function!r}")
        return handler(payload)

    def now(self) -> str:
        return self.fixed_now


class FakeContext(Context):
    """A ``ctx`` for unit tests, with the fake backend's state exposed as attributes."""

    def __init__(
        self,
        *,
        plugin: str | ModuleType | None = None,
        user: dict[str, Any] | None = None,
        permissions: set[str] | None = None,
        tables: dict[str, dict[str, Any]] | None = None,
        items: list[dict[str, Any]] | None = None,
        now: str | None = None,
    ) -> None:
        name = ""
        if isinstance(plugin, ModuleType):
            folder = Path(getattr(plugin, "__trovato_folder__", ""))
            if tables is None and folder.name:
                tables = _declared_tables(folder)
            name = folder.name
        elif plugin:
            name = plugin
        now = now or dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        self.backend = FakeBackend(user=user, permissions=permissions, tables=tables,
                                   items=items, now=now)
        super().__init__(self.backend, plugin=name)

    # state shortcuts -------------------------------------------------------------------
    @property
    def logs(self) -> list[tuple[str, str]]:
        return self.backend.logs

    @property
    def tables(self) -> dict[str, list[dict[str, Any]]]:
        return self.backend.tables

    @property
    def stored_variables(self) -> dict[str, Any]:
        return self.backend.variables

    @property
    def cached(self) -> dict[str, tuple[Any, int, list[str]]]:
        return self.backend.cache

    @property
    def queues(self) -> dict[str, list[Any]]:
        return self.backend.queues

    def on_invoke(self, plugin: str, function: str, handler: Callable[[Any], Any]) -> None:
        """Answer ``ctx.invoke(plugin, function, payload)`` with ``handler(payload)``."""
        self.backend.functions[(plugin, function)] = handler

    # calling through the wire format ---------------------------------------------------
    def call_tap(self, tap: str, **args: Any) -> Any:
        """Run ``tap`` as the kernel would (JSON in, JSON out); returns the decoded result.

        Pass ``_alter="build"`` for alter taps to get the merge patch back."""
        args.setdefault("_ctx", {"user": self.backend.user, "plugin": self.plugin})
        try:
            out = _runtime.run_tap(tap, json.dumps(_runtime.encode(args)), self.backend,
                                   self.plugin)
        except _runtime.Failure as exc:
            raise PluginFailed.from_error(str(exc)) from None
        return json.loads(out)

    def call_function(self, name: str, payload: Any = None, *,
                      request: dict[str, Any] | None = None) -> Any:
        """Run an exported function as a menu callback (``request=``) or an invoke target."""
        envelope: dict[str, Any] = (
            {"request": request} if request is not None
            else {"payload": payload, "caller": "test"}
        )
        try:
            out = _runtime.run_function(name, json.dumps(_runtime.encode(envelope)),
                                        self.backend, self.plugin)
        except _runtime.Failure as exc:
            raise PluginFailed.from_error(str(exc)) from None
        return json.loads(out)
