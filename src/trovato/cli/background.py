"""``trovato cron`` and ``trovato worker``."""

from __future__ import annotations

import asyncio

import typer

from trovato.cli import _output
from trovato.cli._runtime import database_url, migrate_with_progress
from trovato.cron import CronReport
from trovato.kernel.services import Kernel
from trovato.settings import Settings, load_settings


def cron() -> None:
    """Run the periodic work once.

    That is every plugin's cron tap, the sweep of expired shared state, a batch of unknown
    item summaries and the deletion of old unused uploads. Safe to start from several hosts
    at once: a distributed lock lets one run at a time.
    """
    settings = load_settings()
    with database_url(settings) as url:
        migrate_with_progress(url)
        report = asyncio.run(_cron(settings, url))
    if not report.ran:
        _output.say("Another cron run is in progress; nothing to do.")
        return
    _output.say(cron_summary(report))
    for failure in report.failures:
        _output.warning(str(failure))


def cron_summary(report: CronReport) -> str:
    return (f"Cron ran in {report.seconds:.2f} s: the cron tap of"
            f" {_count(len(report.plugins), 'plugin', 'plugins')},"
            f" {_count(report.swept, 'expired entry', 'expired entries')} swept,"
            f" {_count(report.summaries, 'item summary', 'item summaries')} filled,"
            f" {_count(report.files_removed, 'unused upload', 'unused uploads')} deleted.")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


async def _cron(settings: Settings, url: str) -> CronReport:
    kernel = await Kernel.start(settings, url)
    try:
        return await kernel.cron.run()
    finally:
        await kernel.stop()


def worker(
    max_jobs: int = typer.Option(0, "--max-jobs", min=0, help="Stop after N jobs (0: never)."),
    once: bool = typer.Option(False, "--once", help="Stop when the queues are empty."),
) -> None:
    """Process queued jobs with the plugins' queue_worker taps.

    Each job is delivered at least once.
    """
    settings = load_settings()
    with database_url(settings) as url:
        migrate_with_progress(url)
        done = asyncio.run(_work(settings, url, max_jobs or None, once))
    _output.say(f"Processed {done} job(s).")


async def _work(settings: Settings, url: str, max_jobs: int | None, once: bool) -> int:
    kernel = await Kernel.start(settings, url)
    try:
        return await kernel.cron.work_queues(max_jobs=max_jobs, idle_exit=once)
    finally:
        await kernel.stop()
