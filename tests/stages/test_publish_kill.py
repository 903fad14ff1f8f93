"""A publish killed with ``kill -9`` in the middle of its transaction changes nothing.

A stage holding 300 edits, 100 creations and 50 deletions (made through the items service) is
published by a separate process, which is sent SIGKILL at a different moment of its publish
transaction several times. After every kill the stage and live are exactly as before: the
same items with the same titles and current revisions, no revision moved, the stage still
open with all its associations, deletions and created items. A publish left to finish then
applies everything.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from typing import Any

import psycopg
import pytest

from tests.content.conftest import ARTICLE
from trovato.content.services import ContentServices
from trovato.stages import LIVE
from trovato.users.accounts import CurrentUser

pytestmark = pytest.mark.slow

STAGE = "big_release"
EDITS, CREATIONS, DELETIONS = 300, 100, 50
# Kill points: the publisher is killed as soon as its transaction runs a statement starting
# so: while it locks and reads, in the middle of the edits, and after all edits with the
# deletions under way.
KILL_AT = (
    "SELECT id FROM item WHERE id = ANY",
    "UPDATE item SET title",
    "UPDATE item SET title",
    "DELETE FROM item WHERE id",
    "DELETE FROM item WHERE id",
)

PUBLISHER = """
import asyncio, sys, uuid
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import PermissionRegistry

async def main(url: str, stage: str, user_id: str) -> None:
    db = Database(url, min_size=1, max_size=2)
    await db.open()
    content = await ContentServices.start(db, PermissionRegistry())
    user = CurrentUser(id=uuid.UUID(user_id), name="publisher", is_admin=True)
    print("publishing", flush=True)
    await content.staging.publish(user, stage)
    print("published", flush=True)
    await db.close()

asyncio.run(main(*sys.argv[1:]))
"""

Snapshot = dict[str, list[tuple[Any, ...]]]


def _snapshot(conn: psycopg.Connection[tuple[Any, ...]]) -> Snapshot:
    """Every row a publish writes, in a stable order."""
    queries = {
        "item": "SELECT id, stage_id, title, current_revision_id, changed FROM item ORDER BY id",
        "item_revision": "SELECT id, item_id, stage_id, title FROM item_revision ORDER BY id",
        "stage_association": "SELECT stage_id, item_id, target_revision_id, base_revision_id"
        " FROM stage_association ORDER BY stage_id, item_id",
        "stage_deletion": "SELECT stage_id, entity_type, entity_id FROM stage_deletion"
        " ORDER BY stage_id, entity_id",
        "stage": "SELECT id, status, upstream_id, published, changed FROM stage ORDER BY id",
    }
    return {name: conn.execute(sql).fetchall() for name, sql in queries.items()}


def _backends(conn: psycopg.Connection[tuple[Any, ...]]) -> dict[int, str]:
    """Server processes on this database other than ``conn``'s: the statement each runs (or
    ran last) inside an open transaction, or ``""``."""
    rows = conn.execute(
        "SELECT pid, CASE WHEN xact_start IS NULL THEN '' ELSE query END"
        " FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    ).fetchall()
    return {row[0]: row[1] for row in rows}


def _start_publisher(db_url: str, user: CurrentUser) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, db_url, STAGE, str(user.id)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def _kill_during_transaction(
    conn: psycopg.Connection[tuple[Any, ...]],
    db_url: str,
    user: CurrentUser,
    statement: str,
    delay: float,
) -> None:
    """Start a publisher and SIGKILL it ``delay`` seconds after its publish transaction
    runs ``statement``, asserting it was still publishing then."""
    ours = set(_backends(conn))  # the test's own pool, idle
    process = _start_publisher(db_url, user)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line == "publishing\n", (line, process.stderr.read() if process.stderr else "")
    deadline = time.monotonic() + 30
    while not any(
        query.startswith(statement) for pid, query in _backends(conn).items() if pid not in ours
    ):
        assert process.poll() is None, f"the publish ended before it ran {statement!r}"
        assert time.monotonic() < deadline
    time.sleep(delay)
    assert process.poll() is None, "the publish finished before the kill: lower the delays"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    # The server aborts the transaction once it notices the client is gone.
    deadline = time.monotonic() + 30
    while set(_backends(conn)) - ours:
        assert time.monotonic() < deadline, _backends(conn)
        time.sleep(0.05)


async def test_kill_9_during_publish_leaves_stage_and_live_as_before(
    content: ContentServices, admin: CurrentUser, db_url: str
) -> None:
    site = content
    await site.types.create(ARTICLE)
    await site.items.stages.create(admin, STAGE, "Big release")
    edited = [await site.items.create(admin, "article", title=f"live {n}") for n in range(EDITS)]
    doomed = [
        await site.items.create(admin, "article", title=f"doomed {n}") for n in range(DELETIONS)
    ]
    for item in edited:
        await site.items.update(admin, item.id, title=f"staged {item.title}", stage=STAGE)
    created = [
        await site.items.create(admin, "article", title=f"new {n}", stage=STAGE)
        for n in range(CREATIONS)
    ]
    for item in doomed:
        await site.items.delete(admin, item.id, stage=STAGE)

    with psycopg.connect(db_url, autocommit=True) as conn:
        before = _snapshot(conn)
        assert len(before["stage_association"]) == EDITS
        assert len(before["stage_deletion"]) == DELETIONS
        for n, statement in enumerate(KILL_AT):
            delay = random.uniform(0.0, 0.01) if n % 2 else 0.0
            _kill_during_transaction(conn, db_url, admin, statement, delay)
            assert _snapshot(conn) == before, f"a kill at {statement!r} left traces"

        process = _start_publisher(db_url, admin)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert out == "publishing\npublished\n"
        after = _snapshot(conn)

    assert [row[1] for row in after["stage"] if row[0] == STAGE] == ["published"]
    assert after["stage_association"] == [] and after["stage_deletion"] == []
    live = {row[0]: row for row in after["item"]}
    assert all(row[1] == LIVE for row in after["item"])
    assert {live[i.id][2] for i in edited} == {f"staged live {n}" for n in range(EDITS)}
    assert {live[i.id][2] for i in created} == {f"new {n}" for n in range(CREATIONS)}
    assert not any(i.id in live for i in doomed)
    assert all(row[2] == LIVE for row in after["item_revision"])
    targets = {row[1]: row[2] for row in before["stage_association"]}
    assert all(live[i.id][3] == targets[i.id] for i in edited)
