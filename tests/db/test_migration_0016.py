"""Migration 0016: every order of the admin content list but the author's (a joined table's
column) is read from an index in order — no sort of the stage's items — and so is the list
filtered by a type or a status; the downgrade removes the indexes."""

from __future__ import annotations

import psycopg
import pytest

from trovato.content.statements import Listing, listing_sql
from trovato.db import migrate
from trovato.web.admin.content import SORTS

INDEXED = sorted(SORTS - {"author", "-author"})


def _plan(conn: psycopg.Connection[tuple[object, ...]], sort: str, *, by_type: bool = False,
          status: int | None = None) -> str:
    listing = Listing(live=True, scope="all", by_type=by_type, status=status, by_author=False,
                      promote=None, sticky=None, sort=sort, limit=50, offset=0, teasers=True,
                      bare=True)
    sql = listing_sql(listing, total=False).replace("%(type)s", "'page'")
    return "\n".join(str(row[0]) for row in conn.execute(f"EXPLAIN {sql}"))


@pytest.mark.parametrize("downgraded", [False, True])
def test_the_lists_orders_come_from_indexes(db_url: str, downgraded: bool) -> None:
    if downgraded:
        migrate.downgrade(db_url, "0015")
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            # However few rows the table has, a plan that can avoid sorting does.
            conn.execute("SET enable_sort = off")
            conn.execute("SET enable_seqscan = off")
            plans = {sort: _plan(conn, sort) for sort in INDEXED}
            plans["type filter"] = _plan(conn, "-changed", by_type=True)
            plans["status filter"] = _plan(conn, "-changed", status=0)
    finally:
        migrate.upgrade(db_url, "head")
    sorted_plans = sorted(name for name, plan in plans.items() if "Sort" in plan)
    if downgraded:
        assert sorted_plans == ["-status", "-title", "-type", "status", "title", "type"]
    else:
        assert sorted_plans == [], plans
