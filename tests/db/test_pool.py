"""The pool's one-statement helpers give every connection back: after a result, an error or
a cancellation, and they run on a joined transaction's connection when there is one; work
queued after a joined transaction's commit runs after it, and not after a rollback; a write of one
statement is its own transaction, or a savepoint in the transaction it joins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from tests.conftest import open_database
from trovato.db.pool import Database


@pytest.fixture
async def small(db_url: str) -> AsyncIterator[Database]:
    async with open_database(db_url, max_size=2) as db:
        yield db


async def test_helpers_return_results_and_connections(small: Database) -> None:
    for n in range(10):  # five times the pool: a connection kept would deplete it
        assert await small.fetch("SELECT %s::int AS n", (n,)) == [{"n": n}]
        assert await small.fetchrow("SELECT %s::int AS n", (n,)) == {"n": n}
        assert await small.fetchval("SELECT 1 WHERE false") is None
        # The tuple helpers: column order, no names.
        assert await small.fetch_tuples("SELECT %s::int AS n, 'x' AS s", (n,)) == [(n, "x")]
        assert await small.fetchrow_tuple("SELECT %s::int, 2", (n,)) == (n, 2)
        assert await small.fetchrow_tuple("SELECT 1 WHERE false") is None
    assert small.pool.get_stats()["pool_available"] >= 1


async def test_a_failing_statement_gives_its_connection_back(small: Database) -> None:
    for _ in range(6):
        with pytest.raises(psycopg.errors.UndefinedTable):
            await small.fetch("SELECT * FROM no_such_table")
        with pytest.raises(psycopg.errors.DivisionByZero):
            await small.fetchrow("SELECT 1 / 0")
        with pytest.raises(psycopg.errors.DivisionByZero):
            await small.fetchrow_tuple("SELECT 1 / 0")
    async with asyncio.timeout(5):
        assert await small.fetchval("SELECT 42") == 42


async def test_a_cancelled_statement_gives_its_connection_back(small: Database) -> None:
    for _ in range(4):
        task = asyncio.create_task(small.fetch("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    async with asyncio.timeout(10):  # the busy connections were discarded, not kept
        assert await small.fetchval("SELECT 7") == 7


async def test_helpers_join_the_callers_transaction(small: Database) -> None:
    await small.execute("CREATE TABLE joined_probe (n int)")
    async with small.transaction() as conn, small.joined(conn):
        await conn.execute("INSERT INTO joined_probe VALUES (1)")
        # Uncommitted: only visible on the same connection.
        assert await small.fetchval("SELECT count(*) FROM joined_probe") == 1
        assert await small.fetch("SELECT n FROM joined_probe") == [{"n": 1}]
        assert await small.fetch_tuples("SELECT n FROM joined_probe") == [(1,)]
    assert await small.fetchval("SELECT count(*) FROM joined_probe") == 1


async def test_after_commit_waits_for_the_joined_transaction(small: Database) -> None:
    ran: list[str] = []

    def note(what: str) -> Any:
        async def action() -> None:
            ran.append(what)
        return action

    assert not small.after_commit(note("alone"))  # no transaction: the caller runs it
    async with small.transaction() as conn:
        assert not small.after_commit(note("own"))  # not joined: its own work is committed
        async with small.joined(conn):
            assert small.after_commit(note("joined"))
            async with small.transaction():  # a savepoint
                assert small.after_commit(note("nested"))
        assert ran == []
    assert ran == ["joined", "nested"]
    with pytest.raises(ZeroDivisionError):
        async with small.transaction() as conn, small.joined(conn):
            small.after_commit(note("rolled back"))
            raise ZeroDivisionError
    assert ran == ["joined", "nested"]


async def test_a_one_statement_write_is_its_own_transaction_or_a_savepoint_when_joined(
    small: Database,
) -> None:
    await small.execute("CREATE TABLE alone_probe (n int)")
    async with small.one_statement() as conn:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        await conn.execute("INSERT INTO alone_probe VALUES (1)")
    assert await small.fetchval("SELECT count(*) FROM alone_probe") == 1  # committed
    # Joined to another's transaction: a savepoint there, so a failure undoes only itself.
    async with small.transaction() as outer, small.joined(outer):
        with pytest.raises(psycopg.errors.DivisionByZero):
            async with small.one_statement() as conn:
                assert conn is outer
                await conn.execute("INSERT INTO alone_probe VALUES (2)")
                await conn.execute("SELECT 1 / 0")
        await outer.execute("INSERT INTO alone_probe VALUES (3)")
    assert await small.fetch_tuples("SELECT n FROM alone_probe ORDER BY n") == [(1,), (3,)]
