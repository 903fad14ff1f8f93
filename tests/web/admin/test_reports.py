"""The reports pages: the recent log entries (escaped, filtered, paged, one in full) and the
status report (database, store, plugins, cron, requirements)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.api.conftest import login_as
from tests.conftest import create_account, running_app, site_settings
from tests.plugins.conftest import kernel_of
from tests.web.admin.conftest import grant
from trovato.db import migrate
from trovato.ids import NIL
from trovato.kernel.status import StatusCheck, site_status
from trovato.observability.audit import ERROR, WARNING, audit, from_system
from trovato.observability.log_reader import COMMAND_LINE, QUEUE_WORKER

SCRIPT = "<script>alert('x')</script>"


async def _log(client: httpx.AsyncClient, type_: str, message: str,
               variables: dict[str, object] | None = None, *, severity: int = 5) -> None:
    async with kernel_of(client).db.transaction() as conn:
        await audit(conn, type_, message, variables, severity=severity,
                    location="/somewhere?<b>", hostname="203.0.113.9")


def _entry_links(page: str) -> list[str]:
    return re.findall(r'href="/admin/reports/log/([0-9a-f-]{36})"', page)


async def test_the_reports_need_access_site_reports(site: httpx.AsyncClient) -> None:
    await _log(site, "test", "An entry")
    entry = (await kernel_of(site).db.fetchval("SELECT id FROM watchdog LIMIT 1"))
    paths = ("/admin/reports", f"/admin/reports/log/{entry}", "/admin/reports/status")
    for path in paths:
        assert (await site.get(path)).status_code == 403
    await grant(site, "pat", "access administration pages", "administer plugins")
    await login_as(site, "pat")
    for path in paths:
        assert (await site.get(path)).status_code == 403
    await grant(site, "rita", "access administration pages", "access site reports")
    await login_as(site, "rita")
    for path in paths:
        assert (await site.get(path)).status_code == 200, path


async def test_log_messages_are_escaped(site: httpx.AsyncClient) -> None:
    await _log(site, "content", "Created page %(title)s.", {"title": SCRIPT}, severity=WARNING)
    await login_as(site, "root")
    listing = await site.get("/admin/reports")
    assert listing.status_code == 200
    assert SCRIPT not in listing.text
    assert "Created page &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;." in listing.text
    [entry] = [e for e in _entry_links(listing.text)
               if e == str(await kernel_of(site).db.fetchval(
                   "SELECT id FROM watchdog WHERE type = 'content'"))]
    detail = await site.get(f"/admin/reports/log/{entry}")
    assert detail.status_code == 200
    assert SCRIPT not in detail.text and "<b>" not in detail.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in detail.text
    assert "/somewhere?&lt;b&gt;" in detail.text and "warning" in detail.text


async def test_the_log_shows_who_did_it(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")  # logging in writes a "user" entry by root
    listing = await site.get("/admin/reports?type=user")
    root = await kernel_of(site).db.fetchval("SELECT id FROM users WHERE name = 'root'")
    assert f'<a href="/user/{root}">root</a>' in listing.text
    assert "Session opened for “root”." in listing.text


async def test_a_commands_entries_are_the_systems_not_an_anonymous_visitors(
        site: httpx.AsyncClient) -> None:
    """A ``trovato`` command acts with the nil id, as an anonymous visitor does: its entries
    say "System (command line)" (their location says so), the queue worker's "System (queue
    worker)", a visitor's still "Anonymous"."""
    async with kernel_of(site).db.transaction() as conn:
        await audit(conn, "visitor", "A visitor's entry", user_id=NIL)
        end = from_system(COMMAND_LINE)
        try:
            await audit(conn, "command", "A command's entry", user_id=NIL)
            await audit(conn, "command", "A command's entry without an id")
        finally:
            end()
        end = from_system(QUEUE_WORKER)
        try:
            await audit(conn, "job", "A queued job's entry", user_id=NIL)
        finally:
            end()
        await audit(conn, "visitor", "After the command", user_id=NIL)
    await login_as(site, "root")
    commands = (await site.get("/admin/reports?type=command")).text
    assert commands.count('<td data-label="User">System (command line)</td>') == 2
    assert ">Anonymous</td>" not in commands
    visitors = (await site.get("/admin/reports?type=visitor")).text
    assert visitors.count('<td data-label="User">Anonymous</td>') == 2
    assert "System" not in visitors
    entry = await kernel_of(site).db.fetchval("SELECT id FROM watchdog WHERE type = 'command'"
                                              " LIMIT 1")
    detail = (await site.get(f"/admin/reports/log/{entry}")).text
    assert "System (command line)" in detail and ">command line</td>" in detail
    jobs = (await site.get("/admin/reports?type=job")).text
    assert jobs.count('<td data-label="User">System (queue worker)</td>') == 1
    assert "command line" not in jobs and ">Anonymous</td>" not in jobs


def test_only_the_systems_locations_mark_entries_as_the_systems() -> None:
    with pytest.raises(ValueError, match="not a system location"):
        from_system("/admin/reports")


async def test_filters_by_type_and_severity(site: httpx.AsyncClient) -> None:
    await _log(site, "alpha", "First alpha", severity=ERROR)
    await _log(site, "alpha", "Second alpha", severity=WARNING)
    await _log(site, "beta", "Only beta", severity=ERROR)
    await login_as(site, "root")
    page = (await site.get("/admin/reports?type=alpha")).text
    assert "First alpha" in page and "Second alpha" in page and "Only beta" not in page
    assert '<option value="alpha" selected>alpha</option>' in page
    page = (await site.get(f"/admin/reports?severity={ERROR}")).text
    assert "First alpha" in page and "Only beta" in page and "Second alpha" not in page
    page = (await site.get(f"/admin/reports?type=alpha&severity={ERROR}")).text
    assert "First alpha" in page and "Second alpha" not in page and "Only beta" not in page
    assert "No log entries match." in (await site.get("/admin/reports?type=alpha&severity=7")
                                       ).text


async def test_injection_strings_in_the_filters_are_harmless(site: httpx.AsyncClient) -> None:
    await _log(site, "alpha", "Still here")
    await login_as(site, "root")
    for query in ({"type": "alpha' OR '1'='1"}, {"severity": "1; DROP TABLE watchdog"},
                  {"type": "<script>alert(1)</script>"}, {"severity": "99"}):
        refused = await site.get("/admin/reports", params=query)
        assert refused.status_code == 400, query
        assert "is not one of the options" in refused.text
        assert "<script>alert(1)</script>" not in refused.text
        # Nothing was filtered by it: the log is listed whole.
        assert "Still here" in refused.text
    for page in ("abc", "-1", "99999999999"):
        assert (await site.get("/admin/reports", params={"page": page})).status_code == 200
    assert await kernel_of(site).db.fetchval("SELECT count(*) FROM watchdog") >= 1


async def test_the_log_is_paged(site: httpx.AsyncClient) -> None:
    for n in range(55):
        await _log(site, "bulk", f"Entry number {n:02d}")
    await login_as(site, "root")
    first = (await site.get("/admin/reports?type=bulk")).text
    assert len(_entry_links(first)) == 50
    assert "Entry number 54" in first and "Entry number 04" not in first
    assert 'href="/admin/reports?type=bulk&amp;page=1"' in first
    second = (await site.get("/admin/reports?type=bulk&page=1")).text
    assert len(_entry_links(second)) == 5 and "Entry number 00" in second


async def test_an_unknown_entry_is_not_found(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    assert (await site.get(f"/admin/reports/log/{uuid.uuid4()}")).status_code == 404
    assert (await site.get("/admin/reports/log/not-an-id")).status_code == 404


async def test_the_status_report(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    page = await site.get("/admin/reports/status")
    assert page.status_code == 200
    text = page.text
    version = await kernel_of(site).db.fetchval("SHOW server_version")
    assert f"version {version}" in text
    assert f"at {migrate.head_revision()} (the latest)" in text
    assert "Database size" in text
    backend = "Redis" if kernel_of(site).store.backend == "redis" else "PostgreSQL"
    assert backend in text and "reachable" in text
    assert "Enabled plugins" in text
    # Cron never ran on this site: a warning, until it runs.
    assert re.search(r"Last run</td><td data-label=\"Found\">never</td>"
                     r"<td data-label=\"State\"><span class=\"status-state "
                     r"status-state--warning\">", text), text
    assert "Run &#34;trovato cron&#34; from a timer" in text  # no Markdown in HTML
    report = await kernel_of(site).cron.run()
    assert report.ran
    text = (await site.get("/admin/reports/status")).text
    assert "less than a minute ago" in text
    assert "Everything checked is in order." in text


async def test_cron_is_overdue_after_two_days_and_an_error_after_two_weeks(
    site: httpx.AsyncClient,
) -> None:
    kernel = kernel_of(site)
    await kernel.cron.run()
    now = datetime.now(UTC)

    def cron_state(checks: list[StatusCheck]) -> str:
        [check] = [c for c in checks if c.group == "Cron"]
        return str(check.severity)

    assert cron_state(await site_status(kernel, now=now + timedelta(days=1))) == "ok"
    assert cron_state(await site_status(kernel, now=now + timedelta(days=3))) == "warning"
    assert cron_state(await site_status(kernel, now=now + timedelta(days=15))) == "error"


async def test_the_status_report_names_redis_when_it_is_the_store(
    db_url: str, redis_url: str,
) -> None:
    async with running_app(site_settings(db_url, "redis")) as client:
        await create_account(client, "root", admin=True)
        await login_as(client, "root")
        text = (await client.get("/admin/reports/status")).text
        assert re.search(r"Shared store</td><td data-label=\"Check\">Redis</td>"
                         r"<td data-label=\"Found\">reachable</td>", text), text
