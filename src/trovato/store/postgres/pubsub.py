"""Pub/sub over PostgreSQL ``LISTEN``/``NOTIFY``.

Publishing is ``pg_notify`` through the pool, or in a writer's own statement
(:meth:`PostgresPubSub.notice`: delivered when its transaction commits). Listening needs a
connection of its own that stays open, so each object keeps one dedicated connection, owned by
its listener task and reopened after a loss. psycopg holds the connection's lock while it
waits for notifications, so :meth:`PostgresPubSub.subscribe` does not run ``LISTEN`` itself:
it queues the channel and sends a notification on the object's private wake-up channel; the
listener then runs the ``LISTEN`` between two batches of notifications and confirms the
subscription.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from typing import Any

import orjson
import psycopg
from psycopg import AsyncConnection, sql

from trovato.db.pool import Database
from trovato.store.base import Handler, MessageTooLarge, PubSub

log = logging.getLogger(__name__)

# NOTIFY payloads must be shorter than 8000 bytes (the server's default block size).
MAX_PAYLOAD = 7999
# Channel names are identifiers: longer ones would be truncated by LISTEN but not by pg_notify.
_MAX_CHANNEL = 63
_MAX_BACKOFF = 5.0
APPLICATION_NAME = "trovato-pubsub"


def channel_name(prefix: str, channel: str) -> str:
    """The PostgreSQL channel for ``channel``: prefixed, and hashed if it would be too long."""
    name = prefix + channel
    if len(name.encode()) <= _MAX_CHANNEL:
        return name
    return "h:" + hashlib.sha256(name.encode()).hexdigest()[:60]


class PostgresPubSub(PubSub):
    def __init__(self, database: Database, prefix: str = "trovato:") -> None:
        self.database = database
        self.prefix = prefix
        self._wake = channel_name(prefix, f"wake:{uuid.uuid4().hex}")
        self._handlers: dict[str, list[Handler]] = {}
        self._live: set[str] = set()  # LISTENed on the current connection
        self._pending: set[str] = set()
        self._waiters: dict[str, asyncio.Future[None]] = {}
        self._task: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self.database.execute("SELECT pg_notify(%s, %s)", self.notice(channel, message))

    def notice(self, channel: str, message: dict[str, Any]) -> tuple[str, str]:
        payload = orjson.dumps(message)
        if len(payload) > MAX_PAYLOAD:
            raise MessageTooLarge(
                f"pub/sub message on {channel!r} is {len(payload)} bytes; the PostgreSQL"
                f" backend (NOTIFY) carries at most {MAX_PAYLOAD}. Publish an id and let the"
                " subscribers load the data."
            )
        return channel_name(self.prefix, channel), payload.decode()

    async def subscribe(self, channel: str, handler: Handler) -> None:
        name = channel_name(self.prefix, channel)
        self._handlers.setdefault(name, []).append(handler)
        if name in self._live:
            return
        waiter = self._waiters.get(name)
        if waiter is None:
            waiter = self._waiters[name] = asyncio.get_running_loop().create_future()
        self._pending.add(name)
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="trovato-pg-pubsub")
        else:
            # If the listener is not LISTENing on the wake-up channel yet, this is lost, but
            # then it has not started its initial LISTENs either, which include this channel.
            await self.database.execute("SELECT pg_notify(%s, '')", (self._wake,))
        await asyncio.shield(waiter)

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            try:
                conn = await AsyncConnection.connect(
                    self.database.url,
                    autocommit=True,
                    application_name=APPLICATION_NAME,
                    # Notice a dead peer on TCP even though this connection only ever waits.
                    keepalives=1,
                    keepalives_idle=30,
                    keepalives_interval=10,
                    keepalives_count=3,
                )
                async with conn:
                    await self._execute_listen(conn, self._wake)
                    self._pending.update(self._handlers)
                    backoff = 0.1
                    try:
                        await self._serve(conn)
                    finally:
                        self._live.clear()
            except (psycopg.Error, OSError):
                log.warning(
                    "postgres pub/sub listener lost its connection; reconnecting", exc_info=True
                )
            except Exception:
                # A bug must not end pub/sub for the life of the process: log and start over.
                log.exception("postgres pub/sub listener failed; restarting")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _serve(self, conn: AsyncConnection[Any]) -> None:
        while True:
            while self._pending:
                name = self._pending.pop()
                await self._execute_listen(conn, name)
                self._live.add(name)
                waiter = self._waiters.pop(name, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
            # stop_after=1 ends the generator after one whole batch, never in the middle of it
            # (nothing received is dropped), and frees the connection for pending LISTENs.
            async for note in conn.notifies(stop_after=1):
                if note.channel == self._wake:
                    continue
                try:
                    message = orjson.loads(note.payload)
                except orjson.JSONDecodeError:
                    log.warning("ignoring a pub/sub message that is not JSON on %r", note.channel)
                    continue
                await self._deliver(
                    note.channel, tuple(self._handlers.get(note.channel, ())), message
                )

    @staticmethod
    async def _execute_listen(conn: AsyncConnection[Any], name: str) -> None:
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
