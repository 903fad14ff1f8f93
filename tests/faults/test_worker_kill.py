"""A worker killed with ``kill -9`` in the middle of item writes leaves nothing half-written.

A real ``trovato serve`` (two granian workers, respawned when they die) runs the ``journal``
plugin, whose ``item_insert``/``item_update`` taps write two rows of its own table per revision.
Clients create items, update them and revert them to earlier revisions while the test kills the
worker at random moments, several times. Afterwards every item has its revisions and a valid
current revision, every revision its item, the plugin's rows match the revisions exactly (both
or neither, also when the tap itself fails half-way), and every write acknowledged with a 2xx
is there.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests._plugin_cache import plugin_cache_dir
from tests.faults._parts import (
    Outcome,
    create_admin,
    create_item,
    prepare_site,
    run_cli,
    scratch_dir,
    serve,
    site_env,
    wait_healthy,
)

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parent / "fixtures"
KILLS = 5
WRITERS = 6
GRANIAN_CRASH_LOOP_S = 5.5


def _workers(master: int) -> list[int]:
    """The pids of ``master``'s child processes (granian's workers)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()]


def _age(pid: int) -> float:
    """Seconds since ``pid`` started."""
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except OSError:
        return 0.0
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - ticks / os.sysconf("SC_CLK_TCK")


def _kill_oldest_worker(master: int) -> None:
    """SIGKILL the worker that has lived longest, once it has lived long enough for granian
    to respawn it (a worker dying within 5.5 s of its start is a crash loop that stops the
    server)."""
    time.sleep(random.uniform(0.0, 1.0))
    while True:
        live = [pid for pid in _workers(master) if _state(pid) not in ("Z", "")]
        oldest = max(live, key=_age)
        wait = GRANIAN_CRASH_LOOP_S + 0.5 - _age(oldest)
        if wait <= 0:
            os.kill(oldest, signal.SIGKILL)
            return
        time.sleep(wait)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


class Writers:
    """Threads creating, updating and reverting items until stopped."""

    def __init__(self, base: str, bearer: dict[str, str], items: list[str]) -> None:
        self.base, self.bearer, self.items = base, bearer, list(items)
        self.outcomes: list[Outcome] = []
        self.updated: list[str] = []  # revision ids acknowledged by updates and reverts
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(WRITERS)]

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _write(self, client: httpx.Client, kind: str) -> httpx.Response:
        item = random.choice(self.items)
        if kind == "create":
            return create_item(client, self.bearer, f"kill {time.time_ns()}")
        if kind == "update":
            return client.patch(f"/api/v1/items/{item}", headers=self.bearer, json={
                "title": f"update {time.time_ns()}",
                "fields": {"field_body": {"value": "<p>again</p>", "format": "filtered_html"}}})
        revisions = client.get(f"/api/v1/items/{item}/revisions", headers=self.bearer)
        if not revisions.is_success:
            return revisions
        oldest = revisions.json()["revisions"][-1]["id"]
        return client.post(f"/api/v1/items/{item}/revisions/{oldest}/revert",
                           headers=self.bearer)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=20) as client:
            while not self._stop.is_set():
                kind = random.choice(("create", "update", "revert"))
                started = time.monotonic()
                try:
                    response = self._write(client, kind)
                except httpx.HTTPError as exc:
                    outcome = Outcome(kind, started, time.monotonic(), 0, "", None, repr(exc),
                                      None)
                    time.sleep(0.05)  # the worker is being respawned
                else:
                    body = response.json() if response.is_success else {}
                    outcome = Outcome(kind, started, time.monotonic(), response.status_code,
                                      response.headers.get("content-type", ""), None,
                                      response.text[:2000], body.get("id"))
                    with self._lock:
                        if kind == "create" and response.is_success:
                            self.items.append(body["id"])
                        elif response.is_success:
                            self.updated.append(body["revision_id"])
                with self._lock:
                    self.outcomes.append(outcome)


def _one(conn: psycopg.Connection[tuple[object, ...]], sql: str) -> list[tuple[object, ...]]:
    return conn.execute(sql).fetchall()


def test_kill_9_in_the_middle_of_item_writes_leaves_everything_whole(db_url: str) -> None:
    scratch = scratch_dir("trovato-faults-kill-")
    env = site_env(TROVATO_DATABASE_URL=db_url, TROVATO_REDIS_URL="",
                   TROVATO_PLUGIN_DIRS=str(FIXTURES),
                   # Builds are cached by source hash, shared with the plugin tests.
                   TROVATO_DATA_DIR=str(plugin_cache_dir()))
    try:
        create_admin(env)
        run_cli(env, "plugin", "install", "journal", "--yes")
        with serve(env, scratch / "site.log", "--workers", "2") as (base, master):
            site = prepare_site(base, seed_items=4)
            with Writers(base, site.bearer, site.items) as writers:
                for _ in range(KILLS):
                    _kill_oldest_worker(master)
                wait_healthy(base, 30)
            with httpx.Client(base_url=base, timeout=30) as client:
                failing = create_item(client, site.bearer, "fail half-way")
            assert failing.status_code == 201, failing.text  # item_insert fails open

        outcomes = writers.outcomes
        cut = [o for o in outcomes if o.status == 0]
        assert cut, "no write was in flight when a worker died"
        assert any(200 <= o.status < 300 for o in outcomes)
        for outcome in outcomes:  # a write that got an answer got a proper one
            assert outcome.status == 0 or outcome.status in (200, 201), outcome

        with psycopg.connect(db_url) as conn:
            # Items and revisions are whole.
            assert _one(conn, "SELECT i.id FROM item i WHERE NOT EXISTS"
                              " (SELECT 1 FROM item_revision r WHERE r.item_id = i.id)") == []
            assert _one(conn, "SELECT r.id FROM item_revision r WHERE NOT EXISTS"
                              " (SELECT 1 FROM item i WHERE i.id = r.item_id)") == []
            assert _one(conn, "SELECT i.id FROM item i LEFT JOIN item_revision r"
                              " ON r.id = i.current_revision_id AND r.item_id = i.id"
                              " WHERE r.id IS NULL OR r.title <> i.title") == []
            # The plugin's tap writes committed with their revision: both rows, or none when
            # the tap failed half-way.
            assert _one(conn, "SELECT r.id FROM item_revision r WHERE"
                              " (SELECT count(*) FROM p_journal__entry e"
                              "  WHERE e.id IN ('a:' || r.id, 'b:' || r.id)"
                              "  AND e.item_id = r.item_id::text)"
                              " <> CASE WHEN r.title LIKE 'fail %' THEN 0 ELSE 2 END") == []
            assert _one(conn, "SELECT e.id FROM p_journal__entry e WHERE NOT EXISTS"
                              " (SELECT 1 FROM item_revision r"
                              "  WHERE e.id IN ('a:' || r.id, 'b:' || r.id))") == []
            # No acknowledged write is lost.
            created = [o.created for o in outcomes if o.kind == "create" and o.created]
            found = _one(conn, "SELECT count(*) FROM item WHERE id = ANY(%s::uuid[])"
                         .replace("%s", "'{" + ",".join(created) + "}'"))
            assert found == [(len(created),)]
            revisions = {str(r[0]) for r in _one(conn, "SELECT id FROM item_revision")}
            assert set(writers.updated) <= revisions
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
