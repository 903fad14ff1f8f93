"""Reading the audit log back: messages filled in as plain text, filters and pages."""

from __future__ import annotations

import pytest

from trovato.db.pool import Database
from trovato.observability.audit import ERROR, NOTICE, audit
from trovato.observability.log_reader import (
    MAX_PAGE,
    fill_message,
    log_entry,
    log_types,
    read_log,
)


def test_placeholders_are_filled_with_their_values_as_text() -> None:
    assert fill_message("Created %(type)s %(title)s.", {"type": "page", "title": "<b>Hi</b>"}
                        ) == "Created page <b>Hi</b>."
    assert fill_message("Count %(n)d", {"n": 3}) == "Count 3"


def test_a_missing_variable_or_a_stray_percent_is_left_as_written() -> None:
    assert fill_message("Hello %(name)s, 100%", {}) == "Hello %(name)s, 100%"
    # Format specifications are not interpreted: no width or precision can be asked for.
    assert fill_message("%(a)999999999s", {"a": "x"}) == "%(a)999999999s"
    assert fill_message("%(a)s", {"a": "%(b)s", "b": "no"}) == "%(b)s"  # filled once


async def test_filters_pages_and_one_entry(database: Database) -> None:
    for n in range(5):  # a transaction each: entries of one share its time
        async with database.transaction() as conn:
            await audit(conn, "alpha" if n % 2 else "beta", "Entry %(n)s", {"n": n},
                        severity=ERROR if n < 2 else NOTICE)
    everything = await read_log(database, per_page=2)
    assert everything.total == 5 and everything.pages == 3
    assert [e.message for e in everything.entries] == ["Entry 4", "Entry 3"]
    last = await read_log(database, page=2, per_page=2)
    assert [e.message for e in last.entries] == ["Entry 0"]
    alpha = await read_log(database, type_="alpha")
    assert sorted(e.message for e in alpha.entries) == ["Entry 1", "Entry 3"]
    errors = await read_log(database, severity=ERROR)
    assert sorted(e.message for e in errors.entries) == ["Entry 0", "Entry 1"]
    both = await read_log(database, type_="alpha", severity=ERROR)
    assert [e.message for e in both.entries] == ["Entry 1"]
    assert both.entries[0].severity_name == "error" and both.entries[0].user_name is None
    assert await log_types(database) == ["alpha", "beta"]
    entry = await log_entry(database, both.entries[0].id)
    assert entry is not None and entry.variables == {"n": 1}
    with pytest.raises(ValueError, match="page must be"):
        await read_log(database, page=MAX_PAGE + 1)
