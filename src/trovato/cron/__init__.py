"""Background work: the cron run (one at a time across all hosts) and queue workers.

:meth:`Cron.run` holds a distributed lock with a heartbeat for its whole run, so ``trovato
cron`` fired from several hosts' timers at once does the work exactly once.
:meth:`Cron.work_queues` claims jobs of the queues plugins declare in ``tap_queue_info`` and
hands each to its plugin's ``tap_queue_worker``: acked on success, released for a retry (with
back-off) on failure.

The kernel builds the one :class:`Cron` of a process (``kernel.cron``) and hands it what it
touches — the database, the shared store, the taps' front door, the content service's
summary filler and the files service's cleanup of old temporary uploads — so this service
imports nothing above it (DESIGN §14).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from trovato.db.pool import Database
from trovato.plugins import PluginError
from trovato.plugins.namespaces import queue_key
from trovato.plugins.taps import Taps
from trovato.store import SharedStore

log = logging.getLogger("trovato.cron")

CRON_LOCK = "cron"
_LOCK_TTL = 300.0
_RETRY_DELAY = 30.0
LAST_RUN_VARIABLE = "system.cron_last"


@dataclass
class CronReport:
    ran: bool
    plugins: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    swept: int = 0
    summaries: int = 0
    files_removed: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class LastRun:
    """When the last cron run finished, how long it took and how many plugins failed in it."""

    finished: datetime
    seconds: float
    failures: int


@dataclass(frozen=True)
class QueueSpec:
    plugin: str
    queue: str  # as the plugin names it
    lease: float

    @property
    def key(self) -> str:
        return queue_key(self.plugin, self.queue)


class Cron:
    """The cron run and the queue workers of one process."""

    def __init__(
        self,
        db: Database,
        store: SharedStore,
        taps: Taps,
        *,
        fill_summaries: Callable[[], Awaitable[int]],
        clean_files: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.taps = taps
        # The content services' SummaryBackfill.fill: stores a batch, returns how many.
        self.fill_summaries = fill_summaries
        # The files service's Files.cleanup: deletes a batch of old temporary uploads.
        self.clean_files = clean_files

    async def run(self) -> CronReport:
        """Run every plugin's ``cron`` tap, sweep expired shared state, fill a batch of
        unknown item summaries and delete old temporary uploads, unless a run is on."""
        started = time.perf_counter()
        async with self.store.locks.hold(CRON_LOCK, _LOCK_TTL) as token:
            if token is None:
                return CronReport(ran=False)
            report = CronReport(ran=True)
            report.swept = await self.store.sweep()
            await self.db.execute("DELETE FROM form_state WHERE expires < now()")
            report.summaries = await self.fill_summaries()
            if self.clean_files is not None:
                report.files_removed = await self.clean_files()
            outcome = await self.taps.fire("cron")
            report.plugins = [reply.plugin for reply in outcome.replies]
            report.failures = [str(failure) for failure in outcome.failures]
            report.seconds = time.perf_counter() - started
            await self._record(report)
            return report

    async def _record(self, report: CronReport) -> None:
        """Remember when this run finished, for the status report (and whether cron is
        overdue); a ``variable`` row, since any host may have run it."""
        await self.db.execute(
            "INSERT INTO variable (name, value) VALUES (%s, jsonb_build_object("
            "'finished', now(), 'seconds', %s::float8, 'failures', %s::int))"
            " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            (LAST_RUN_VARIABLE, report.seconds, len(report.failures)))

    async def last_run(self) -> LastRun | None:
        """The last finished cron run on any host, or None when cron never ran."""
        row = await self.db.fetchrow(
            "SELECT (value ->> 'finished')::timestamptz AS finished,"
            " (value ->> 'seconds')::float8 AS seconds, (value ->> 'failures')::int AS failures"
            " FROM variable WHERE name = %s", (LAST_RUN_VARIABLE,))
        if row is None or row["finished"] is None:
            return None
        return LastRun(row["finished"], row["seconds"] or 0.0, row["failures"] or 0)

    async def declared_queues(self) -> list[QueueSpec]:
        outcome = await self.taps.fire("queue_info")
        return [
            QueueSpec(reply.plugin, str(entry["queue"]), float(entry.get("lease") or 60))
            for reply in outcome.replies
            for entry in reply.value or []
        ]

    async def work_queues(
        self, *, max_jobs: int | None = None, idle_exit: bool = False, poll: float = 1.0
    ) -> int:
        """Process jobs until ``max_jobs`` are done (or, with ``idle_exit``, the queues are
        empty).

        Returns the number of jobs completed successfully.
        """
        done = handled = 0
        while max_jobs is None or handled < max_jobs:
            specs = await self.declared_queues()
            claimed_any = False
            for spec in specs:
                job = await self.store.queue.claim(spec.key, lease=spec.lease)
                if job is None:
                    continue
                claimed_any = True
                handled += 1
                try:
                    await self.taps.fire(
                        "queue_worker",
                        {"queue": spec.queue, "job": job.payload},
                        plugins=[spec.plugin],
                    )
                except PluginError as exc:
                    log.warning(
                        "queue job failed; will retry",
                        extra={
                            "data": {
                                "queue": spec.key,
                                "job": job.id,
                                "attempts": job.attempts,
                                "error": str(exc),
                            }
                        },
                    )
                    await self.store.queue.release(job, delay=_RETRY_DELAY * job.attempts)
                else:
                    await self.store.queue.ack(job)
                    done += 1
                if max_jobs is not None and handled >= max_jobs:
                    break
            if not claimed_any:
                if idle_exit:
                    break
                await asyncio.sleep(poll)
        return done
