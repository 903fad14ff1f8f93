"""The site's status report (``/admin/reports/status``): database, shared store, plugins,
cron and the plugins' requirements, each as a check with a severity.

It lives in the kernel because it asks several services at once (the database pool, the
shared store, the plugin manager, the cron service, the metrics); the page only shows the
checks. Every probe is bounded in time and a failing one becomes an ``error`` row, so the
report itself answers even when what it reports on does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeVar

from trovato.db import migrate
from trovato.kernel.services import Kernel

Severity = Literal["ok", "warning", "error"]
T = TypeVar("T")

# Drupal's thresholds for "cron has not run recently", which its users know: a warning after
# two days, an error after two weeks.
CRON_WARNING_SECONDS = 2 * 24 * 3600
CRON_ERROR_SECONDS = 14 * 24 * 3600
_PROBE_TIMEOUT = 2.0
_STORE_NAMES = {"redis": "Redis", "postgres": "PostgreSQL (no Redis configured)"}


@dataclass(frozen=True, slots=True)
class StatusCheck:
    """One row of the report: what is checked (in ``group``), what was found, how it is."""

    group: str
    title: str
    value: str
    severity: Severity
    description: str = ""


def _size(size: int) -> str:
    amount = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:,.0f} {unit}" if unit == "bytes" else f"{amount:,.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def ago(seconds: float) -> str:
    """``seconds`` in the past, in words: "3 minutes ago"."""
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            count = int(seconds // length)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "less than a minute ago"


async def _bounded(probe: Awaitable[T]) -> T:
    return await asyncio.wait_for(probe, _PROBE_TIMEOUT)


async def _database(kernel: Kernel) -> list[StatusCheck]:
    group = "Database"
    try:
        version = await _bounded(kernel.db.fetchval("SHOW server_version"))
        size = await _bounded(kernel.db.fetchval("SELECT pg_database_size(current_database())"))
        rows = await _bounded(kernel.db.fetch("SELECT version_num FROM alembic_version"))
    except Exception as exc:  # the report names any failure instead of failing itself
        return [StatusCheck(group, "PostgreSQL", "not reachable", "error",
                            f"{type(exc).__name__}")]
    current = sorted(str(row["version_num"]) for row in rows)
    head = migrate.head_revision()
    schema = (StatusCheck(group, "Schema migrations", f"at {head} (the latest)", "ok")
              if current == [head] else
              StatusCheck(group, "Schema migrations",
                          f"at {', '.join(current) or 'none'}; the latest is {head}", "error",
                          "Run `trovato db migrate`."))
    return [StatusCheck(group, "PostgreSQL", f"version {version}", "ok"),
            StatusCheck(group, "Database size", _size(int(size)), "ok"),
            schema]


async def _store(kernel: Kernel) -> list[StatusCheck]:
    name = _STORE_NAMES.get(kernel.store.backend, kernel.store.backend)
    try:
        await _bounded(kernel.store.ping())
    except Exception as exc:  # as above: a row, not a failed page
        return [StatusCheck("Shared store", name, "not reachable", "error",
                            type(exc).__name__)]
    return [StatusCheck("Shared store", name, "reachable", "ok")]


async def _plugins(kernel: Kernel) -> list[StatusCheck]:
    group = "Plugins"
    overview = await kernel.plugins.overview()
    enabled = [p["name"] for p in overview if p["status"] == "enabled"]
    failed = [p for p in overview if p["status"] == "failed"]
    checks = [StatusCheck(group, "Enabled plugins", f"{len(enabled)}", "ok",
                          ", ".join(enabled))]
    if failed:
        checks.append(StatusCheck(
            group, "Failed plugins", f"{len(failed)}", "error",
            "; ".join(f"{p['name']}: {p['problem']}" for p in failed)))
    else:
        checks.append(StatusCheck(group, "Failed plugins", "none", "ok"))
    traps = kernel.metrics.traps_by_plugin
    if traps:
        checks.append(StatusCheck(
            group, "Plugin calls stopped", f"{sum(traps.values())} since this process started",
            "warning", ", ".join(f"{name}: {count}" for name, count in sorted(traps.items()))))
    return checks


async def _cron(kernel: Kernel, now: datetime) -> list[StatusCheck]:
    last = await kernel.cron.last_run()
    if last is None:
        return [StatusCheck("Cron", "Last run", "never", "warning",
                            "Run \"trovato cron\" from a timer (every hour, say).")]
    age = max(0.0, (now - last.finished).total_seconds())
    severity: Severity = ("error" if age > CRON_ERROR_SECONDS else
                          "warning" if age > CRON_WARNING_SECONDS else "ok")
    value = f"{ago(age)} (took {last.seconds:.2f} s)"
    description = "Cron is overdue: run \"trovato cron\" from a timer." if severity != "ok" else ""
    checks = [StatusCheck("Cron", "Last run", value, severity, description)]
    if last.failures:
        checks.append(StatusCheck("Cron", "Failures in the last run", str(last.failures),
                                  "warning", "See the recent log entries."))
    return checks


async def _requirements(kernel: Kernel) -> list[StatusCheck]:
    rows = await kernel.plugins.requirements()
    return [StatusCheck("Requirements", f"{row.plugin}: {row.title}", row.value,
                        "error" if row.severity == "error" else
                        "warning" if row.severity == "warning" else "ok",
                        row.description)
            for row in rows]


async def site_status(kernel: Kernel, *, now: datetime | None = None) -> list[StatusCheck]:
    """Every check of the report, grouped: database, store, plugins, cron, requirements."""
    moment = now or datetime.now(UTC)
    return [*await _database(kernel), *await _store(kernel), *await _plugins(kernel),
            *await _cron(kernel, moment), *await _requirements(kernel)]
