"""A Python exception in plugin code reaches the author as Python reports it: exception type,
message and the traceback in the plugin's own files, in the log line of that call, and on the
error page of a site in development mode (never in production)."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import create_account, running_app, site_settings
from tests.plugins.conftest import FIXTURES, item_payload, kernel_of
from trovato.plugins.build import BuildResult
from trovato.plugins.dispatch import Dispatcher
from trovato.plugins.errors import PluginError


def line_of(plugin: str, text: str) -> int:
    """The line number of ``text`` in a fixture plugin's plugin.py (1-based)."""
    lines = (FIXTURES / plugin / "plugin.py").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


async def test_a_guest_exception_is_logged_with_its_traceback(
        open_session, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="trovato.plugins")
    dispatcher = Dispatcher({})
    async with open_session(request_id="req-trace") as session:
        with pytest.raises(PluginError) as caught:
            await dispatcher.call_function(session, "hostile", "raise_error", {"payload": None})
    error = caught.value
    assert error.reason == "exception"
    assert error.message == "RuntimeError: hostile plugin fails on purpose"
    line = line_of("hostile", 'raise RuntimeError("hostile plugin fails on purpose")')
    assert f'File "plugin.py", line {line}, in raise_error' in error.traceback
    # The log line for that call names plugin, call and request, and carries the traceback.
    [record] = [r for r in caplog.records if "raise_error" in r.getMessage()]
    logged = record.getMessage()
    assert "plugin hostile failed in raise_error (request req-trace)" in logged
    assert "Traceback (most recent call last):" in logged
    assert f'File "plugin.py", line {line}, in raise_error' in logged
    assert 'raise RuntimeError("hostile plugin fails on purpose")' in logged  # the source line
    assert logged.rstrip().endswith("RuntimeError: hostile plugin fails on purpose")
    assert "_runtime.py" not in logged and "/tmp/" not in logged
    assert record.data["request_id"] == "req-trace"  # type: ignore[attr-defined]


async def test_a_failing_tap_follows_its_fail_rule_and_logs_the_traceback(
        open_session, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="trovato.plugins")
    async with open_session() as session:
        view = await Dispatcher({"item_view": ["hostile", "tally"]}).invoke(
            session, "item_view", {"item": item_payload("raise"), "view_mode": "full"})
        vote = await Dispatcher({"item_access": ["hostile"]}).invoke(
            session, "item_access", {"item": item_payload("raise"), "op": "view"})
    assert [r.plugin for r in view.replies] == ["tally"]  # fail open: hostile is skipped
    assert vote.value == "deny"  # fail closed
    raise_line = line_of("hostile", 'raise RuntimeError("hostile plugin fails on purpose")')
    for tap in ("item_view", "item_access"):
        [logged] = [r.getMessage() for r in caplog.records if f"failed in {tap}" in r.getMessage()]
        assert f"in {tap}\n    behaviour()" in logged
        assert f'File "plugin.py", line {raise_line}, in raise_error' in logged
        assert logged.rstrip().endswith("RuntimeError: hostile plugin fails on purpose")


@pytest.fixture
async def broken_site(db_url: str, plugin_cache: Path, built: dict[str, BuildResult],
                      request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """A site in the parametrized environment with tally (whose tally/broken page raises)."""
    settings = site_settings(db_url, "postgres", plugin_dirs=str(FIXTURES),
                             data_dir=plugin_cache, environment=request.param)
    async with running_app(settings) as client:
        await create_account(client, "root", admin=True)
        await kernel_of(client).plugins.install("hello")
        await kernel_of(client).plugins.install("tally")
        yield client


@pytest.mark.parametrize("broken_site", ["development"], indirect=True)
async def test_development_error_page_shows_the_traceback(
        broken_site: httpx.AsyncClient) -> None:
    response = await broken_site.get("/tally/broken")
    assert response.status_code == 500
    page = html.unescape(response.text)
    assert "The page could not be built (plugin tally" in page
    assert "AttributeError: 'NoneType' object has no attribute 'split'" in page
    assert (f'File "plugin.py", line {line_of("tally", "return len(text.split())")}, '
            "in _count_words") in page
    assert f'line {line_of("tally", "_count_words(request.query")}, in broken_page' in page


@pytest.mark.parametrize("broken_site", ["production", "test"], indirect=True)
async def test_other_error_pages_keep_the_traceback_to_the_log(
        broken_site: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="trovato.plugins")
    response = await broken_site.get("/tally/broken")
    assert response.status_code == 500
    assert "The page could not be built (plugin tally" in response.text
    assert "Traceback" not in response.text and "_count_words" not in response.text
    assert "AttributeError" not in response.text
    assert any("_count_words" in r.getMessage() for r in caplog.records)
