"""``ctx``: everything a plugin may do to the outside world, as plain Python calls.

Each facade forwards to a :class:`Backend`. Inside the sandbox the backend is the WIT host
interface (``trovato_sdk._guest``); in unit tests it is ``trovato_sdk.testing.FakeBackend``.
Values cross as Python objects here; the guest backend does the JSON encoding.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import itertools
import json
from typing import Any, Protocol

from trovato_sdk.types import Item, User

__all__ = ["Backend", "Context", "HostError", "ItemWriteError"]

# The kernel caps ``limit`` too; this keeps an accidental unbounded query cheap to notice.
_MAX_LIMIT = 1000
# Set by the kernel in every request context: ``new_id`` derives its random part from it.
NONCE_KEY = "trovato.nonce"
_id_counter = itertools.count()


class HostError(Exception):
    """The kernel refused a request (unknown table, bad query, missing plugin …)."""


class ItemWriteError(HostError):
    """The kernel refused ``ctx.items.save`` or ``ctx.items.delete``, as the JSON API would
    have: ``status`` is the HTTP status the API would answer (403 no access or no
    ``items.write`` capability, 404 no such item, 409 changed meanwhile or a closed stage, 422
    invalid), ``errors`` a message per invalid input keyed by its path (``title``,
    ``fields.field_body``)."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors or {})

    @classmethod
    def from_json(cls, text: str) -> ItemWriteError:
        """The error from the kernel's JSON ``{"status", "message", "errors"}``."""
        try:
            data = json.loads(text)
        except ValueError:
            return cls(500, text)
        if not isinstance(data, dict):
            return cls(500, text)
        errors = data.get("errors")
        return cls(int(data.get("status") or 500), str(data.get("message") or ""),
                   {str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict)
                   else None)

    def __str__(self) -> str:
        details = "; ".join(f"{key}: {text}" for key, text in self.errors.items())
        return f"{self.message} ({details})" if details else self.message


class Backend(Protocol):
    """The host functions, with decoded values (one method per WIT import)."""

    def log(self, level: str, message: str) -> None: ...
    def variable_get(self, name: str) -> Any | None: ...
    def variable_set(self, name: str, value: Any) -> None: ...
    def request_context_get(self, key: str) -> Any | None: ...
    def request_context_set(self, key: str, value: Any) -> None: ...
    def current_user(self) -> dict[str, Any]: ...
    def user_can(self, permission: str) -> bool: ...
    def item_load(self, id: str) -> dict[str, Any] | None: ...
    def item_query(self, query: dict[str, Any]) -> list[dict[str, Any]]: ...
    def item_save(self, item: dict[str, Any]) -> dict[str, Any]: ...
    def item_delete(self, id: str) -> None: ...
    def db(self, request: dict[str, Any]) -> Any: ...
    def cache_get(self, key: str) -> Any | None: ...
    def cache_set(self, key: str, value: Any, ttl: int, tags: list[str]) -> None: ...
    def cache_invalidate_tag(self, tag: str) -> None: ...
    def queue_push(self, queue: str, payload: Any) -> str: ...
    def invoke(self, plugin: str, function: str, payload: Any) -> Any: ...
    def now(self) -> str: ...


class Log:
    def __init__(self, backend: Backend) -> None:
        self._b = backend

    def debug(self, message: str) -> None:
        self._b.log("debug", str(message))

    def info(self, message: str) -> None:
        self._b.log("info", str(message))

    def warning(self, message: str) -> None:
        self._b.log("warning", str(message))

    def error(self, message: str) -> None:
        self._b.log("error", str(message))


class Variables:
    """Plugin-scoped settings, stored by the kernel as ``plugin.<name>.<var>``."""

    def __init__(self, backend: Backend) -> None:
        self._b = backend

    def get(self, name: str, default: Any = None) -> Any:
        value = self._b.variable_get(name)
        return default if value is None else value

    def set(self, name: str, value: Any) -> None:
        self._b.variable_set(name, value)


class RequestContext:
    """Scratch values shared by all plugins during one request."""

    def __init__(self, backend: Backend) -> None:
        self._b = backend

    def get(self, key: str, default: Any = None) -> Any:
        value = self._b.request_context_get(key)
        return default if value is None else value

    def set(self, key: str, value: Any) -> None:
        self._b.request_context_set(key, value)


# What ``save`` sends: the JSON API's POST body (no id) or PATCH body plus id and revision.
_CREATE_KEYS = ("type", "title", "status", "promote", "sticky", "fields")
_UPDATE_KEYS = ("id", "revision_id", "title", "status", "promote", "sticky", "fields")


class Items:
    """Content reads and writes, as the request's user and in the request's stage.

    Writes (``save``, ``delete``) need contract 1.1.0 and the ``items.write`` capability
    (``[capabilities] items.write = true`` in ``plugin.toml``, approved by the administrator
    when the plugin is enabled). A refusal raises :class:`ItemWriteError`.
    """

    def __init__(self, backend: Backend) -> None:
        self._b = backend

    def load(self, id: str) -> Item | None:
        data = self._b.item_load(str(id))
        return None if data is None else Item(data)

    def query(self, type: str | None = None, status: int | None = None,
              sort: str | None = None, limit: int = 10) -> list[Item]:
        query: dict[str, Any] = {"limit": min(int(limit), _MAX_LIMIT)}
        if type is not None:
            query["type"] = type
        if status is not None:
            query["status"] = int(status)
        if sort is not None:
            query["sort"] = sort
        return [Item(row) for row in self._b.item_query(query)]

    def save(self, item: Item | dict[str, Any], log: str = "") -> Item:
        """Create ``item`` (no ``id``: ``type`` is required) or update it (only the keys
        given change; a field set to None is cleared) and return it as saved.

        An item that was loaded carries its ``revision_id``: if someone changed the item
        since, the save is refused (``ItemWriteError`` with status 409) rather than written
        over. In a stage the change goes into the stage; live is untouched until publish.
        The item's taps (``item_presave``, ``item_insert``, ``item_update``) run for it, this
        plugin's too: a tap that saves the item it is told about would loop, and the kernel
        refuses writes nested more than a few deep (status 508).
        """
        data = item.to_json() if isinstance(item, Item) else dict(item)
        keys = _UPDATE_KEYS if data.get("id") is not None else _CREATE_KEYS
        body = {key: data[key] for key in keys if key in data}
        if log:
            body["log"] = str(log)
        return Item(self._b.item_save(body))

    def delete(self, item: Item | str) -> None:
        """Delete the item (in a stage: mark it deleted there, until publish or discard)."""
        self._b.item_delete(str(item.id if isinstance(item, Item) else item))


class Db:
    """The plugin's own tables (declared in ``plugin.toml``), named without prefix."""

    def __init__(self, backend: Backend) -> None:
        self._b = backend

    def select(self, table: str, where: dict[str, Any] | None = None,
               order: list[str] | None = None, limit: int | None = None,
               columns: list[str] | None = None) -> list[dict[str, Any]]:
        request: dict[str, Any] = {"op": "select", "table": table, "where": where or {}}
        if order:
            request["order"] = list(order)
        if limit is not None:
            request["limit"] = int(limit)
        if columns:
            request["columns"] = list(columns)
        rows = self._b.db(request)
        return list(rows)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        return int(self._b.db({"op": "insert", "table": table, "values": row}))

    def update(self, table: str, values: dict[str, Any], where: dict[str, Any]) -> int:
        return int(self._b.db({"op": "update", "table": table, "values": values,
                               "where": where}))

    def delete(self, table: str, where: dict[str, Any]) -> int:
        return int(self._b.db({"op": "delete", "table": table, "where": where}))


class Cache:
    """The shared cache; keys are namespaced per plugin by the kernel."""

    def __init__(self, backend: Backend) -> None:
        self._b = backend

    def get(self, key: str, default: Any = None) -> Any:
        value = self._b.cache_get(key)
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: int = 0, tags: list[str] | None = None) -> None:
        """Store ``value``; ``ttl`` 0 keeps it until invalidated."""
        self._b.cache_set(key, value, int(ttl), list(tags or []))

    def invalidate_tag(self, tag: str) -> None:
        self._b.cache_invalidate_tag(tag)


class Queue:
    def __init__(self, backend: Backend) -> None:
        self._b = backend

    def push(self, queue: str, payload: Any) -> str:
        """Add a job to this plugin's ``queue``; its ``queue_worker`` tap will receive it."""
        return self._b.queue_push(queue, payload)


class Context:
    """The ``ctx`` argument of taps and functions."""

    def __init__(self, backend: Backend, *, plugin: str = "", tap: str = "",
                 user: dict[str, Any] | None = None) -> None:
        self.plugin = plugin
        self.tap = tap
        self._backend = backend
        self._user_data = user
        self._user: User | None = None

    # Made on first use: most taps touch one facade or none, and each call builds a context.
    @functools.cached_property
    def log(self) -> Log:
        return Log(self._backend)

    @functools.cached_property
    def variables(self) -> Variables:
        return Variables(self._backend)

    @functools.cached_property
    def request_context(self) -> RequestContext:
        return RequestContext(self._backend)

    @functools.cached_property
    def items(self) -> Items:
        return Items(self._backend)

    @functools.cached_property
    def db(self) -> Db:
        return Db(self._backend)

    @functools.cached_property
    def cache(self) -> Cache:
        return Cache(self._backend)

    @functools.cached_property
    def queue(self) -> Queue:
        return Queue(self._backend)

    @property
    def user(self) -> User:
        """The current user; read once per call (the kernel may also send it with the tap)."""
        if self._user is None:
            data = self._user_data if self._user_data is not None else (
                self._backend.current_user())
            self._user = User(data, self._backend.user_can)
        return self._user

    def invoke(self, plugin: str, function: str, payload: Any = None) -> Any:
        """Call ``function`` of another enabled plugin within this request."""
        return self._backend.invoke(plugin, function, payload)

    def now(self) -> str:
        """The current time from the kernel, RFC 3339 UTC: use it for timestamps you store."""
        return self._backend.now()

    def new_id(self) -> str:
        """A new UUIDv7 string, unique across requests and processes: the recommended id for
        rows a plugin stores (time-ordered, so indexes stay compact; ``uuid.uuid4()`` works
        too). The time comes from the kernel, the random part from its per-request nonce and
        a counter."""
        nonce = self.request_context.get(NONCE_KEY)
        if nonce is None:
            import os  # outside the sandbox (tests): real entropy is available

            nonce = os.urandom(16).hex()
        stamp = _dt.datetime.fromisoformat(self.now().replace("Z", "+00:00"))
        millis = int(stamp.timestamp() * 1000) & ((1 << 48) - 1)
        digest = hashlib.sha256(f"{nonce}:{next(_id_counter)}".encode()).digest()
        rand = int.from_bytes(digest[:10], "big")
        value = (millis << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64
        value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
        hex_ = f"{value:032x}"
        return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"
