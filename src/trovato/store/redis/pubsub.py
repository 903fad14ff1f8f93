"""Pub/sub over Redis channels: one listener task and one subscribed connection per object.

The listener owns the subscription. It confirms each channel from the server's ``subscribe``
reply, so :meth:`RedisPubSub.subscribe` returns only once messages on it will arrive, and after
a lost connection it subscribes every channel again on a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub as RedisClientPubSub
from redis.exceptions import RedisError

from trovato.store.base import Handler, PubSub

log = logging.getLogger(__name__)

_MAX_BACKOFF = 5.0


class RedisPubSub(PubSub):
    def __init__(self, client: Redis, prefix: str = "trovato:") -> None:
        self.client = client
        self.prefix = prefix + "ps:"
        self._handlers: dict[str, list[Handler]] = {}
        self._live: set[str] = set()  # confirmed on the current connection
        self._waiters: dict[str, asyncio.Future[None]] = {}
        self._conn: RedisClientPubSub | None = None
        self._task: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self.client.publish(self.prefix + channel, orjson.dumps(message))

    async def subscribe(self, channel: str, handler: Handler) -> None:
        name = self.prefix + channel
        self._handlers.setdefault(name, []).append(handler)
        if name in self._live:
            return
        waiter = self._waiters.get(name)
        if waiter is None:
            waiter = self._waiters[name] = asyncio.get_running_loop().create_future()
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="trovato-redis-pubsub")
        elif self._conn is not None:
            # On failure the listener is reconnecting, and it subscribes every channel then.
            with contextlib.suppress(RedisError, OSError):
                await self._conn.subscribe(name)
        await asyncio.shield(waiter)

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            conn = self.client.pubsub()
            self._conn = conn
            try:
                await conn.subscribe(*self._handlers)
                backoff = 0.1
                while True:
                    message = await conn.get_message(timeout=None)
                    if message is not None:
                        await self._handle(message)
            except Exception:
                # Anything but cancellation: log it and start over on a fresh connection.
                log.warning("redis pub/sub listener failed; reconnecting", exc_info=True)
            finally:
                self._conn = None
                self._live.clear()
                await conn.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _handle(self, message: dict[str, Any]) -> None:
        name = message["channel"].decode()
        if message["type"] == "subscribe":
            self._live.add(name)
            waiter = self._waiters.pop(name, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        elif message["type"] == "message":
            try:
                data = orjson.loads(message["data"])
            except orjson.JSONDecodeError:
                log.warning("ignoring a pub/sub message that is not JSON on %r", name)
                return
            await self._deliver(name, tuple(self._handlers.get(name, ())), data)
