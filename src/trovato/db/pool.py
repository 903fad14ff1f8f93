"""The PostgreSQL connection pool every service uses (psycopg 3, async, dict rows, orjson).

One :class:`Database` per process. Queries go through a cursor that records its time into the
request profile, so the ``Server-Timing`` header and the slow-request log count every query.

:meth:`Database.transaction` records its connection in a context variable for the duration of
the block (:func:`current_transaction`); code that must take part in the caller's transaction
without being handed the connection — the plugin host's database calls made from content
taps — wraps its work in :meth:`Database.joined`, under which this object's helpers run on that
connection inside a savepoint. Nothing else changes: outside ``joined`` every helper still
takes its own pooled connection. Work that must wait for the data to be committed (dropping
cache tags) asks :meth:`Database.after_commit`: under ``joined`` it runs once the enclosing
transaction commits (a write joined to another's transaction is not committed when its own
block ends), and not at all if that rolls back.

When the database goes away the pool fails fast and heals by itself: a request waits at most
``pool_timeout`` seconds for a connection (then ``PoolTimeout``, which the kernel answers with a
503), a connection the server closed while it sat idle is noticed at checkout without a round
trip (:meth:`Database._check`), and reconnection attempts never back off further than
:data:`RECONNECT_WINDOW_S`, so the pool serves again within moments of the server's return.
"""

from __future__ import annotations

import select
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import orjson
import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool

from trovato.observability.profiler import record_db

Params = Sequence[Any] | dict[str, Any] | None

# How long psycopg_pool keeps retrying one connection (with exponential backoff from 1 s) before
# giving up; the next request that needs a connection starts a fresh attempt at once. A short
# window keeps the gap between attempts small, so recovery follows the server's return closely.
RECONNECT_WINDOW_S = 2.0
# libpq's limit on establishing one connection (a server that accepts but never answers).
CONNECT_TIMEOUT_S = 5

set_json_loads(orjson.loads)
set_json_dumps(orjson.dumps)

_transaction: ContextVar[AsyncConnection[DictRow] | None] = ContextVar(
    "trovato_db_transaction", default=None)
_joined: ContextVar[AsyncConnection[DictRow] | None] = ContextVar(
    "trovato_db_joined", default=None)
# What runs once the outermost transaction of this task commits (see Database.after_commit).
_after_commit: ContextVar[list[Callable[[], Awaitable[None]]] | None] = ContextVar(
    "trovato_db_after_commit", default=None)


def current_transaction() -> AsyncConnection[DictRow] | None:
    """The connection of the :meth:`Database.transaction` block the caller runs in, if any."""
    return _transaction.get()


class ProfiledCursor(AsyncCursor[DictRow]):
    """An async cursor that adds each statement's time to the current request profile."""

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await super().execute(query, params, **kwargs)
        finally:
            record_db(time.perf_counter() - started)


async def _execute(conn: AsyncConnection[DictRow], sql: str, params: Params,
                   tuples: bool) -> AsyncCursor[Any]:
    if tuples:
        return await conn.cursor(row_factory=tuple_row).execute(sql, params)
    return await conn.execute(sql, params)


def connect_kwargs(*, statement_timeout_ms: int, pgbouncer: bool) -> dict[str, Any]:
    """Connection options shared by the async pool and sync (CLI) connections."""
    kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S}
    if pgbouncer:
        # Transaction pooling cannot keep prepared statements or startup options.
        kwargs["prepare_threshold"] = None
    elif statement_timeout_ms:
        kwargs["options"] = f"-c statement_timeout={statement_timeout_ms}"
    return kwargs


class Database:
    """An async connection pool with small query helpers.

    Connections are in autocommit mode; use :meth:`transaction` for anything that writes more
    than one statement, so a failure leaves the database as it was.
    """

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        statement_timeout_ms: int = 30_000,
        pgbouncer: bool = False,
        pool_timeout: float = 3.0,
    ) -> None:
        self.url = url
        kwargs = connect_kwargs(statement_timeout_ms=statement_timeout_ms, pgbouncer=pgbouncer)
        kwargs["row_factory"] = dict_row
        kwargs["cursor_factory"] = ProfiledCursor
        self.pool: AsyncConnectionPool[AsyncConnection[DictRow]] = AsyncConnectionPool(
            url,
            min_size=min(min_size, max_size),
            max_size=max_size,
            kwargs=kwargs,
            open=False,
            name="trovato",
            timeout=pool_timeout,
            check=self._check,
            reconnect_timeout=RECONNECT_WINDOW_S,
        )

    async def _check(self, conn: AsyncConnection[DictRow]) -> None:
        """Refuse a pooled connection the server closed while it sat idle.

        An idle connection has nothing to read, so a zero-timeout ``select`` (no round trip)
        passes every healthy one. Something to read means the server said goodbye (a restart,
        a terminated backend) or sent a notice: one empty query tells which. A dead one means
        the server most likely dropped every idle connection, so all are replaced at once
        rather than each costing a request its wait.
        """
        if conn.closed:
            raise psycopg.OperationalError("the pooled connection is closed")
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
        if not readable:
            return
        try:
            await conn.execute("")
        except psycopg.Error:
            await self.pool.drain()
            raise

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[DictRow]]:
        joined = _joined.get()
        if joined is not None:
            yield joined
            return
        async with self.pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncConnection[DictRow]]:
        """A connection for a write that is one statement, which then is its own transaction
        (autocommit): the same all-or-nothing as :meth:`transaction` without its ``BEGIN``
        and ``COMMIT`` round trips. Under :meth:`joined` it is :meth:`transaction`'s savepoint
        in the enclosing transaction, so an error rolls back only this write."""
        if _joined.get() is not None:
            async with self.transaction() as conn:
                yield conn
            return
        async with self.pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection[DictRow]]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        joined = _joined.get()
        if joined is not None:
            async with joined.transaction():  # a savepoint in the joined transaction
                yield joined
            return
        committed: list[Callable[[], Awaitable[None]]] = []
        waiting = _after_commit.set(committed)
        try:
            async with self.pool.connection() as conn, conn.transaction():
                token = _transaction.set(conn)
                try:
                    yield conn
                finally:
                    _transaction.reset(token)
        finally:
            _after_commit.reset(waiting)
        for action in committed:
            await action()

    @staticmethod
    def after_commit(action: Callable[[], Awaitable[None]]) -> bool:
        """Under :meth:`joined` (the caller's writes belong to an enclosing transaction), run
        ``action`` once that transaction commits, and never if it rolls back; otherwise
        False, running nothing: the caller's own transaction has committed already."""
        waiting = _after_commit.get()
        if waiting is None or _joined.get() is None:
            return False
        waiting.append(action)
        return True

    @asynccontextmanager
    async def joined(self, conn: AsyncConnection[DictRow]) -> AsyncIterator[None]:
        """Run this object's helpers on ``conn`` (a connection in a transaction), inside a
        savepoint: an error in the block rolls back only the block's own statements."""
        async with conn.transaction():
            token = _joined.set(conn)
            try:
                yield
            finally:
                _joined.reset(token)

    async def _cursor(
        self, sql: str, params: Params, *, tuples: bool = False
    ) -> tuple[AsyncCursor[Any], AsyncConnection[DictRow] | None]:
        """Run one statement; returns its cursor and the pooled connection to give back
        (None when joined). The one-statement helpers take and return the connection
        themselves: two nested context managers per statement (ours and the pool's) cost
        ~8% of an item page, and an autocommit read has no transaction to end."""
        joined = _joined.get()
        if joined is not None:
            return await _execute(joined, sql, params, tuples), None
        conn = await self.pool.getconn()
        try:
            return await _execute(conn, sql, params, tuples), conn
        except BaseException:
            await self.pool.putconn(conn)  # checks the connection's state, as on exit
            raise

    async def fetch(self, sql: str, params: Params = None) -> list[DictRow]:
        cur, conn = await self._cursor(sql, params)
        try:
            return await cur.fetchall()
        finally:
            if conn is not None:
                await self.pool.putconn(conn)

    async def fetchrow(self, sql: str, params: Params = None) -> DictRow | None:
        cur, conn = await self._cursor(sql, params)
        try:
            return await cur.fetchone()
        finally:
            if conn is not None:
                await self.pool.putconn(conn)

    async def fetch_tuples(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """:meth:`fetch` with each row a tuple in the statement's column order, for hot reads
        that know their columns: psycopg then builds no dict per row and reads no column
        names per statement (~5% of an item page)."""
        cur, conn = await self._cursor(sql, params, tuples=True)
        try:
            return list(await cur.fetchall())
        finally:
            if conn is not None:
                await self.pool.putconn(conn)

    async def fetchrow_tuple(self, sql: str, params: Params = None) -> tuple[Any, ...] | None:
        """:meth:`fetchrow` as a tuple (see :meth:`fetch_tuples`)."""
        cur, conn = await self._cursor(sql, params, tuples=True)
        try:
            row: tuple[Any, ...] | None = await cur.fetchone()
            return row
        finally:
            if conn is not None:
                await self.pool.putconn(conn)

    async def fetchval(self, sql: str, params: Params = None) -> Any:
        row = await self.fetchrow(sql, params)
        return None if row is None else next(iter(row.values()))

    async def execute(self, sql: str, params: Params = None) -> int:
        """Run one statement; returns the affected row count."""
        async with self.connection() as conn:
            cur = await conn.execute(sql, params)
            return cur.rowcount

    async def ping(self) -> None:
        """Raise if the database does not answer."""
        async with self.pool.connection(timeout=1.0) as conn:
            await conn.execute("SELECT 1")


def connect_sync(url: str, *, statement_timeout_ms: int = 0) -> psycopg.Connection[DictRow]:
    """A plain synchronous connection for the CLI and tests."""
    kwargs = connect_kwargs(statement_timeout_ms=statement_timeout_ms, pgbouncer=False)
    return psycopg.connect(url, row_factory=dict_row, **kwargs)
