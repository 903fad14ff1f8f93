"""Gather benchmark: the front page (a Gather listing) on a large site, against a bare page.

The site is seeded like the Wagtail baseline: 5,600 promoted, published articles with ~2 KB
bodies (one multi-row ``INSERT … SELECT generate_series``, so seeding takes seconds), plus a
small site of 500 such articles to show that a page's cost does not grow with the site. Every
server runs on granian with the same worker count and ``TROVATO_PAGE_CACHE_SECONDS=0`` (no
anonymous page cache: every request renders), variants interleaved round by round:

- ``bare``: the bare Starlette page (the baseline, ``bare_app.py``);
- ``front``: ``/`` — 25 teasers, sticky first then newest, with the full pager;
- ``front-p10`` / ``front-p150``: pages 10 and 150 (``?page=9``, ``?page=149``);
- ``front-small``: ``/`` on the 500-item site.

Gather's own caches are on, as on a live site: the total and every page's keyset anchor come
from one cached pass, a result page is cached until an item is written.

It also times the listing's SQL on the large site, each statement alone (median of 20 runs,
milliseconds): the map (total + anchors, once per write), page 1, page 150 read from its keyset
anchor, and page 150 by ``OFFSET`` for comparison.

Run: ``python benchmarks/bench_gather.py --seconds N``. Uses TROVATO_DATABASE_URL if set, else
an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _database import bench_admin, running_kernel, scratch_database
from _load import (
    bare,
    load_arguments,
    measure_interleaved,
    print_ratios,
    serving,
    showing,
    site,
    warm_up,
)

from trovato.gather.compiler import anchor_parameters
from trovato.ids import NIL
from trovato.users.accounts import CurrentUser

HERE = Path(__file__).parent
LARGE, SMALL = 5600, 500
PER_PAGE = 25
BODY = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod. " * 27
SEED = """
INSERT INTO item (type, title, author_id, status, promote, sticky, created, changed, fields,
                  summary)
SELECT 'article', 'Bench item ' || n, %(author)s, 1, true, n %% 200 = 0,
       now() - n * interval '1 minute', now() - n * interval '1 minute',
       jsonb_build_object('field_body', jsonb_build_object('value', %(body)s || n,
                                                           'format', 'plain_text')),
       left(%(body)s, 180)
FROM generate_series(1, %(count)s) AS n
"""
VISITOR = CurrentUser(id=NIL, name="", permissions=frozenset({"access content"}))


async def _prepare(url: str, count: int) -> None:
    async with running_kernel(url) as kernel:
        admin = await bench_admin(kernel)
        await kernel.content.types.create({"type": "article", "label": "Article", "fields": [
            {"name": "field_body", "type": "text_long", "label": "Body"}]})
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(SEED, {"author": admin.id, "body": BODY, "count": count})
        conn.execute("ANALYZE item")
        print(f"seeded {count} items in {time.perf_counter() - started:.1f} s")


async def _sql_timings(url: str) -> dict[str, float]:
    """Each of the front page's statements alone, median of 20 runs (ms)."""
    async with running_kernel(url) as kernel:
        plan, params = await kernel.gather.statement(VISITOR, "frontpage", teasers=True)
        assert plan.map is not None and plan.after is not None
        mapped = await kernel.db.fetch_tuples(plan.map, params)
        anchors = [row[:plan.keys] for row in mapped if row[plan.keys] % PER_PAGE == 0]
        statements: dict[str, tuple[str, dict[str, Any]]] = {
            "map (total + anchors)": (plan.map, params),
            "page 1": (plan.page, {**params, "offset": 0}),
            "page 150 (keyset)": (plan.after, {**params, **anchor_parameters(anchors[148])}),
            "page 150 (OFFSET)": (plan.page, {**params, "offset": 149 * PER_PAGE}),
        }
        timings: dict[str, float] = {}
        for name, (sql, values) in statements.items():
            runs = []
            for _ in range(20):
                started = time.perf_counter()
                await kernel.db.fetch_tuples(sql, values)
                runs.append((time.perf_counter() - started) * 1000)
            timings[name] = statistics.median(runs)
        return timings


def main() -> None:
    args = load_arguments(__doc__).parse_args()
    os.environ["TROVATO_PAGE_CACHE_SECONDS"] = "0"
    with contextlib.ExitStack() as stack:
        large = stack.enter_context(scratch_database("gather_large"))
        os.environ["TROVATO_DATABASE_URL"] = large  # the small one on the same server
        small = stack.enter_context(scratch_database("gather_small"))
        asyncio.run(_prepare(large, LARGE))
        asyncio.run(_prepare(small, SMALL))
        _run(large, small, args)


def _run(large: str, small: str, args: Any) -> None:
    env = {"TROVATO_SLOW_REQUEST_MS": "10000", "TROVATO_PAGE_CACHE_SECONDS": "0",
           "TROVATO_DB_POOL_MAX": "4", "TROVATO_FRONT_PAGE_ITEMS": str(PER_PAGE)}
    variants = {"bare": bare(), "front": site(large), "front-p10": site(large, "/?page=9"),
                "front-p150": site(large, "/?page=149"), "front-small": site(small)}
    with serving(variants, workers=args.workers, env=env) as urls:
        warm_up(urls, connections=args.connections, check=showing(r"Bench item (\d+)", PER_PAGE))
        best = measure_interleaved(urls, rounds=args.rounds, seconds=args.seconds,
                                   connections=args.connections)
    print(f"load tool: {best['bare'].tool}, {args.connections} connections, {args.workers} "
          f"granian workers each, best of {args.rounds} x {args.seconds}s, page cache off; "
          f"{LARGE} promoted items (front-small: {SMALL}), {PER_PAGE} teasers per page")
    ratios = print_ratios(best)
    timings = asyncio.run(_sql_timings(large))
    print(f"SQL on {LARGE} items, each statement alone (median of 20):")
    for name, ms in timings.items():
        print(f"  {name:24} {ms:7.2f} ms")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "gather.json").write_text(json.dumps({
        "results": {k: v.__dict__ for k, v in best.items()}, "ratios": ratios,
        "sql_ms": timings, "items": LARGE, "small_items": SMALL, "per_page": PER_PAGE,
        "workers": args.workers, "connections": args.connections, "seconds": args.seconds,
        "rounds": args.rounds,
    }, indent=2))


if __name__ == "__main__":
    main()
