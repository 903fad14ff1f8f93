"""The host side of the ``trovato:plugin/host`` interface, bound to one request.

Each method implements one WIT import for the calling ``plugin`` (the runtime passes the plugin
and the tap in flight). Values cross as JSON strings; ``result`` imports return
``Variant("ok"|"err", …)``. Host functions never raise for a plugin's mistakes — a bad table
name or a missing plugin comes back as ``err`` so the plugin can handle it — and every key a
plugin touches is namespaced by its name: variables ``plugin.<name>.<var>``, cache keys and tags
``plugin:<name>:``, queues ``plugin.<name>.<queue>`` (built only by
:mod:`~trovato.plugins.namespaces`, which shows why no two plugins can share a key).

Item writes (``item-save``, ``item-delete``, contract 1.1.0) need the ``items.write``
capability the administrator approved when enabling the plugin (:data:`ITEMS_WRITE`); they go
through the content service as the request's user in the request's stage, and their nesting
(a write's taps writing again) is bounded by :data:`MAX_WRITE_DEPTH`.

Methods that need no I/O answer at once. Those that need the database or the shared store are
coroutines: the guest is suspended while :func:`trovato.plugins.guest.call` awaits them in the
request's own task, so inside a content transaction (``item_presave`` … ``item_delete``) their
database work uses the transaction's connection and commits or rolls back with the item.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Coroutine, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from psycopg.types.json import Jsonb
from wasmtime.component import Variant

from trovato.db.pool import Database, current_transaction
from trovato.errors import ServiceError
from trovato.plugins.errors import PluginError
from trovato.plugins.menus import CallbackGuard, CallbackRefused
from trovato.plugins.namespaces import cache_key, is_key_name, queue_key, variable_name
from trovato.plugins.tables import PluginTables, TableError
from trovato.stages import LIVE
from trovato.store.base import Cache, Queue

if TYPE_CHECKING:
    from trovato.plugins.session import PluginSession

log = logging.getLogger("trovato.plugins")
T = TypeVar("T")

MAX_VALUE_BYTES = 1024 * 1024  # a single variable, cache entry or job payload
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
              "error": logging.ERROR}
MAX_LOG_CHARS = 4000
NONCE_KEY = "trovato.nonce"  # trovato_sdk.context.NONCE_KEY
# The capability (``[capabilities] items.write = true``) that item-save and item-delete need.
ITEMS_WRITE = "items.write"
# How deeply plugin item writes may nest: a write fires taps, whose plugins may write again
# (a tap saving the item it was told about would otherwise loop until the request died).
MAX_WRITE_DEPTH = 4
# The plugin item writes in flight in this task (each nested one runs in a copy of the
# context of the write whose taps called it).
_write_depth: ContextVar[int] = ContextVar("trovato_plugin_write_depth", default=0)


class AccountUser(Protocol):
    """The account service's current user, as far as plugins are told of it (the plugin
    system imports no user code)."""

    @property
    def id(self) -> object: ...
    @property
    def name(self) -> str: ...
    @property
    def roles(self) -> Iterable[object]: ...
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_admin(self) -> bool: ...
    @property
    def permissions(self) -> Iterable[str]: ...
    @property
    def preview_stage(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class PluginUser:
    """The current user as plugins see it. ``read_only``: the request reads a stage through
    a preview link, which never writes (the plugin's item writes are refused too)."""

    id: str
    name: str = ""
    roles: tuple[str, ...] = ()
    authenticated: bool = False
    is_admin: bool = False
    permissions: frozenset[str] = frozenset()
    read_only: bool = False

    def can(self, permission: str) -> bool:
        return self.is_admin or permission in self.permissions

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "roles": list(self.roles),
                "authenticated": self.authenticated}

    @classmethod
    def anonymous(cls, permissions: frozenset[str] = frozenset()) -> PluginUser:
        return cls(id="00000000-0000-0000-0000-000000000000", permissions=permissions)

    @classmethod
    def from_current_user(cls, user: AccountUser) -> PluginUser:
        return cls(id=str(user.id), name=user.name, roles=tuple(sorted(map(str, user.roles))),
                   authenticated=user.is_authenticated, is_admin=user.is_admin,
                   permissions=frozenset(user.permissions),
                   read_only=user.preview_stage is not None)


class ItemReader(Protocol):
    """The kernel's item reads as plugins get them (``item-load``/``item-query``), injected so
    the plugin runtime imports no content code. They answer for ``user`` in ``stage`` exactly
    what the JSON API answers that user: an item not visible is None; a bad query raises
    ValueError naming the problem."""

    async def load(self, user: PluginUser, item_id: str, stage: str
                   ) -> dict[str, Any] | None: ...

    async def query_items(self, user: PluginUser, spec: Mapping[str, Any], stage: str
                          ) -> list[dict[str, Any]]: ...


class ItemWriter(Protocol):
    """The kernel's item writes as plugins get them (``item-save``/``item-delete``), injected
    like :class:`ItemReader`. They do for ``user`` in ``stage`` exactly what
    ``POST``/``PATCH``/``DELETE /api/v1/items`` do for that user; a refusal raises the content
    service's :class:`~trovato.errors.ServiceError` (status, message, per-field errors)."""

    async def save(self, user: PluginUser, item: Mapping[str, Any], stage: str
                   ) -> dict[str, Any]: ...

    async def delete(self, user: PluginUser, item_id: str, stage: str) -> None: ...


@dataclass(slots=True)
class HostServices:
    """The process-wide services the host functions use (``items``/``writes``: None where no
    content service runs, and then the item imports answer with an error)."""

    db: Database
    cache: Cache
    queue: Queue
    tables: PluginTables
    items: ItemReader | None = None
    writes: ItemWriter | None = None
    io_timeout: float = 10.0
    # Swapped by the plugin manager on every refresh (see trovato.plugins.menus).
    callbacks: CallbackGuard = field(default_factory=CallbackGuard)
    # Plugin -> the capabilities an administrator approved (recorded when it was enabled);
    # swapped by the plugin manager on every refresh.
    grants: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _ok(value: str | None) -> Variant:
    return Variant("ok", value)


def _err(message: str) -> Variant:
    return Variant("err", message)


def _write_refusal(status: int, message: str, errors: Mapping[str, str] | None = None) -> str:
    """The ``err`` of an item write: JSON a plugin reads (the SDK raises it as
    ``ItemWriteError``), shaped like the JSON API's problem document."""
    return json.dumps({"status": status, "message": message, "errors": dict(errors or {})})


def _json_value(raw: str) -> Any:
    """Decode a plugin-supplied JSON value, refusing oversized input."""
    if len(raw) > MAX_VALUE_BYTES:
        raise ValueError(f"value of {len(raw):,} bytes exceeds {MAX_VALUE_BYTES:,}")
    return json.loads(raw)


async def _in_transaction(db: Database, coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` on the connection of the transaction the current task is in, if any.

    Runs on the loop, in the task that dispatched the tap, so it sees that task's
    :func:`~trovato.db.pool.current_transaction`: a plugin's ``db``, variable and item calls
    made from ``item_presave``/``insert``/``update``/``delete`` then commit or roll back with the
    item. Each call gets a savepoint, so a statement the database refuses (reported to the
    plugin as ``err``) does not abort the content transaction.
    """
    conn = current_transaction()
    if conn is None:
        return await coro
    async with db.joined(conn):
        return await coro


@dataclass
class RequestHost:
    """Host functions for one request (one :class:`PluginSession`)."""

    services: HostServices
    user: PluginUser
    request_id: str = ""
    stage: str = LIVE
    context: dict[str, str] = field(default_factory=dict)
    session: PluginSession | None = None

    def __post_init__(self) -> None:
        # The sandbox has no entropy: the SDK derives ids (ctx.new_id) from this nonce.
        self.context.setdefault(NONCE_KEY, json.dumps(secrets.token_hex(16)))

    def bind(self, session: PluginSession) -> None:
        self.session = session

    async def _io(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` inside the database transaction the tap was dispatched in, if any
        (see :func:`_in_transaction`), for at most the services' I/O timeout."""
        return await asyncio.wait_for(_in_transaction(self.services.db, coro),
                                      self.services.io_timeout)

    def _extra(self, plugin: str, tap: str) -> dict[str, Any]:
        return {"data": {"plugin": plugin, "tap": tap, "request_id": self.request_id}}

    # -- log, time, user ----------------------------------------------------------------

    def log(self, plugin: str, tap: str, level: str, message: str) -> None:
        log.log(LOG_LEVELS.get(level, logging.INFO), "[%s] %s", plugin,
                message[:MAX_LOG_CHARS], extra=self._extra(plugin, tap))

    def now(self, plugin: str, tap: str) -> str:
        return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")

    def current_user(self, plugin: str, tap: str) -> str:
        return json.dumps(self.user.public())

    def user_can(self, plugin: str, tap: str, permission: str) -> bool:
        return self.user.can(permission)

    # -- variables ----------------------------------------------------------------------

    async def variable_get(self, plugin: str, tap: str, name: str) -> str | None:
        if not is_key_name(name):
            return None
        value = await self._io(self.services.db.fetchval(
            "SELECT value FROM variable WHERE name = %s", (variable_name(plugin, name),)))
        return None if value is None else json.dumps(value)

    async def variable_set(self, plugin: str, tap: str, name: str, value: str) -> str | None:
        # wasmtime-py lowers ``result<_, string>`` untagged: None is ok, a str is the error.
        if not is_key_name(name):
            return f"invalid variable name {name!r}"
        try:
            decoded = _json_value(value)
        except ValueError as exc:
            return f"variable {name!r}: {exc}"
        await self._io(self.services.db.execute(
            "INSERT INTO variable (name, value) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            (variable_name(plugin, name), Jsonb(decoded))))
        return None

    # -- request context ----------------------------------------------------------------

    def request_context_get(self, plugin: str, tap: str, key: str) -> str | None:
        return self.context.get(key)

    def request_context_set(self, plugin: str, tap: str, key: str, value: str) -> None:
        try:
            _json_value(value)
        except ValueError:
            log.warning("[%s] request-context-set %r: not JSON; ignored", plugin, key,
                        extra=self._extra(plugin, tap))
            return
        self.context[key] = value

    # -- content ------------------------------------------------------------------------

    async def item_load(self, plugin: str, tap: str, item_id: str) -> Variant:
        reader = self.services.items
        if reader is None:
            return _err("item reads are not available here")
        item = await self._io(reader.load(self.user, item_id, self.stage))
        return _ok(None if item is None else json.dumps(item))

    async def item_query(self, plugin: str, tap: str, query: str) -> Variant:
        reader = self.services.items
        if reader is None:
            return _err("item reads are not available here")
        try:
            spec = _json_value(query)
            if not isinstance(spec, dict):
                raise ValueError("an item query is a JSON object")
            items = await self._io(reader.query_items(self.user, spec, self.stage))
        except ValueError as exc:  # a malformed query, or JSON errors
            return _err(str(exc))
        return _ok(json.dumps(items))

    def _may_write(self, plugin: str, tap: str) -> str | None:
        """Why ``plugin`` may not write items now (an ``err`` for it), or None."""
        if self.services.writes is None:
            return _write_refusal(503, "item writes are not available here")
        if ITEMS_WRITE not in self.services.grants.get(plugin, frozenset()):
            return _write_refusal(
                403, f"plugin {plugin!r} may not write items: it needs the {ITEMS_WRITE!r} "
                "capability, declared in its plugin.toml and approved by an administrator "
                "when it is enabled")
        if self.user.read_only:
            return _write_refusal(403, "this request reads a stage through a preview link, "
                                  "which is read-only")
        depth = _write_depth.get()
        if depth >= MAX_WRITE_DEPTH:
            log.warning("[%s] item write from %s refused: writes nest %d deep", plugin, tap,
                        depth + 1, extra=self._extra(plugin, tap))
            return _write_refusal(
                508, f"item writes from plugins nest more than {MAX_WRITE_DEPTH} deep (the "
                f"write from {plugin}'s {tap} was made by the taps of a write that the taps "
                "of another write made …): does a tap save the item it is told about?")
        return None

    async def _write(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a write one level deeper (see :data:`MAX_WRITE_DEPTH`)."""
        token = _write_depth.set(_write_depth.get() + 1)
        try:
            return await self._io(coro)
        finally:
            _write_depth.reset(token)

    async def item_save(self, plugin: str, tap: str, item: str) -> Variant:
        refusal = self._may_write(plugin, tap)
        if refusal is not None:
            return _err(refusal)
        writes = self.services.writes
        assert writes is not None  # _may_write said so
        try:
            body = _json_value(item)
        except ValueError as exc:
            return _err(_write_refusal(422, f"the item is not JSON: {exc}"))
        if not isinstance(body, dict):
            return _err(_write_refusal(422, "the item is a JSON object"))
        try:
            saved = await self._write(writes.save(self.user, body, self.stage))
        except ServiceError as exc:
            return _err(_write_refusal(exc.status, exc.detail, exc.problem_errors()))
        return _ok(json.dumps(saved))

    async def item_delete(self, plugin: str, tap: str, item_id: str) -> str | None:
        # ``result<_, string>``, lowered untagged: None is ok, a str is the error.
        refusal = self._may_write(plugin, tap)
        if refusal is not None:
            return refusal
        writes = self.services.writes
        assert writes is not None
        try:
            await self._write(writes.delete(self.user, item_id, self.stage))
        except ServiceError as exc:
            return _write_refusal(exc.status, exc.detail, exc.problem_errors())
        return None

    # -- plugin tables --------------------------------------------------------------------

    async def db(self, plugin: str, tap: str, request: str) -> Variant:
        try:
            result = await self._io(self.services.tables.execute(plugin, _json_value(request)))
        except (TableError, ValueError) as exc:
            return _err(str(exc))
        return _ok(json.dumps(result))

    # -- cache and queue -------------------------------------------------------------------

    async def cache_get(self, plugin: str, tap: str, key: str) -> str | None:
        try:
            value = await self._io(self.services.cache.get(cache_key(plugin, key)))
        except Exception:
            # The cache is an optimisation: an outage must look like a miss, not a crash.
            log.warning("[%s] cache-get failed", plugin, exc_info=True,
                        extra=self._extra(plugin, tap))
            return None
        return None if value is None else json.dumps(value)

    async def cache_set(self, plugin: str, tap: str, key: str, value: str, ttl: int,
                  tags: list[str]) -> None:
        try:
            decoded = _json_value(value)
            await self._io(self.services.cache.set(
                cache_key(plugin, key), decoded, ttl=ttl or None,
                tags=[cache_key(plugin, t) for t in tags]))
        except Exception:
            log.warning("[%s] cache-set %r failed", plugin, key, exc_info=True,
                        extra=self._extra(plugin, tap))

    async def cache_invalidate_tag(self, plugin: str, tap: str, tag: str) -> None:
        try:
            await self._io(self.services.cache.invalidate_tags([cache_key(plugin, tag)]))
        except Exception:
            log.warning("[%s] cache-invalidate-tag %r failed", plugin, tag, exc_info=True,
                        extra=self._extra(plugin, tap))

    async def queue_push(self, plugin: str, tap: str, queue: str, payload: str) -> Variant:
        if not is_key_name(queue):
            return _err(f"invalid queue name {queue!r}")
        try:
            decoded = _json_value(payload)
        except ValueError as exc:
            return _err(f"queue payload: {exc}")
        job_id = await self._io(self.services.queue.push(queue_key(plugin, queue), decoded))
        return _ok(str(job_id))

    # -- plugin to plugin -----------------------------------------------------------------

    async def invoke_plugin(self, plugin: str, tap: str, target: str, function: str,
                      payload: str) -> Variant:
        session = self.session
        if session is None:
            return _err("no plugin session")
        loaded = session.plugins.get(target)
        if loaded is None:
            return _err(f"plugin {target!r} is not enabled")
        if function not in loaded.functions:
            return _err(f"plugin {target!r} has no function {function!r}")
        try:
            self.services.callbacks.check(self.user, target, function)
        except CallbackRefused as exc:
            return _err(f"{target}.{function}: {exc.message}")
        try:
            envelope = {"payload": _json_value(payload), "caller": plugin,
                        "_ctx": {"user": self.user.public(), "plugin": target}}
            result = await session.call(target, "call-function", function,
                                        json.dumps(envelope))
        except ValueError as exc:
            return _err(f"payload: {exc}")
        except PluginError as exc:
            log.warning("[%s] invoke of %s.%s failed: %s", plugin, target, function, exc,
                        extra=self._extra(plugin, tap))
            return _err(f"{target}.{function}: {exc.reason}: {exc.message}")
        return _ok(json.dumps(result))
