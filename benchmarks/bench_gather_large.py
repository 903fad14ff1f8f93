"""Gather on a large site: the seven queries of the JSONB plan, and listing pages against a bare
page, on 50,000 items.

The site: ``--items`` items (default 50,000) spread evenly over 5 types with 10, 12, 15, 17
and 20 fields (a code of 100 values, an integer rank, a body of ~400 characters, 1 to 5 tags out
of 500, the rest short texts), all published and promoted; and a small site of 500 such
items. Both are seeded by one ``INSERT … SELECT generate_series`` each, so seeding takes
seconds, then analysed.

**Queries.** Each runs ``--samples`` times (default 200; fewer if ``--budget`` seconds,
default 30, run out) with a random value each time, as the statement PostgreSQL receives for a
listing's first page: the Gather definitions below go through the compiler
(``Gather.statement``), with their values as exposed filters; ``load`` goes through the item
read path (``ItemQuery.load``). p50 and p95 in milliseconds:

1. ``load``: one item by id;
2. ``newest``: the 25 newest of a type;
3. ``text-equals``: a text field equal to a value (500 items match), newest first;
4. ``int-range``: an integer field within a range (~100 match), by that field;
5. ``tag``: items carrying a tag (``has_tag``, ~300 match), newest first;
6. ``type-text-int``: a type and a text value (100 match), by the integer field, highest first;
7. ``fulltext``: the ``search`` field's ``fulltext`` (one word, ~250 items) within a type,
   newest first, full pager — its page (``fulltext``) and its total with every page's anchor
   (``fulltext-map``, which Gather caches until an item is written).

First with the migrations' indexes only (the GIN index of all fields, the base columns', the
search vector's, which the ``search`` field uses), then again after ``trovato gather index
create`` of ``field_code`` and ``field_rank`` (``Gather.create_index``). Goal: every
listing's p95 ≤ 10 ms with the right index.

**Pages.** granian servers (``--workers`` each, page cache off, Gather's own caches on as on a
live site), interleaved round by round, with each variant's share of the bare page's
requests/s: ``gather`` (``/bench-listing``, the 25 newest items of one type as a list) and
``front`` (``/``, 25 teasers), each on page 1 and page 100 of the large site, and page 1 of
each on the small site (``-small``; it has no page 100). Goals: on the large site ≥ 5% of the
bare page; the small site no more than 1.25x faster.

Run: ``python benchmarks/bench_gather_large.py [--items 50000] [--samples 200] [--budget 30]
[--seconds 10] [--rounds 2] [--workers 2] [--connections 32]`` (or ``trovato bench --only
gather_large``).
Uses TROVATO_DATABASE_URL if set, else an embedded PostgreSQL in a temporary folder; writes
``benchmarks/results/gather_large.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
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

from trovato.ids import NIL, uuid7
from trovato.kernel.services import Kernel
from trovato.users.accounts import CurrentUser

HERE = Path(__file__).parent
SMALL = 500
TYPES = 5
FIELD_COUNTS = (10, 12, 15, 17, 20)  # per type; four are the queried ones, the rest fillers
TAGS = 500
CODES = 100
RANKS = 100_000
TOPICS = 200  # distinct words the full-text query looks for
PER_PAGE = 25
DEEP_PAGE = 100
BODY = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. " * 5
INDEXED = ("field_code", "field_rank")
VISITOR = CurrentUser(id=NIL, name="", permissions=frozenset({"access content"}))

# Item n: type n % 5; code, tags and rank from other digits of n, so no two are correlated.
SEED = """
INSERT INTO item (type, title, author_id, status, promote, sticky, created, changed, fields,
                  summary)
SELECT 'bench_' || n %% 5, 'Bench item ' || n, %(author)s, 1, true, false,
       now() - n * interval '1 minute', now() - n * interval '1 minute',
       jsonb_build_object(
           'field_code', jsonb_build_object('value', 'code-' || (n / 5) %% %(codes)s),
           'field_rank', jsonb_build_object('value', (n * 7919) %% %(ranks)s),
           'field_body', jsonb_build_object(
               'value', %(body)s || ' topic' || (n / 5 * 13) %% %(topics)s, 'format', 'plain_text'),
           'field_tags', (SELECT jsonb_agg(jsonb_build_object('target_id', (%(tags)s::uuid[])[
                              1 + (n * 31 + k * 97) %% %(tag_count)s]))
                          FROM generate_series(1, 1 + (n / 5) %% 5) AS k))
       || (SELECT jsonb_object_agg('field_extra_' || k, jsonb_build_object('value', 'extra ' || k))
           FROM generate_series(1, (%(fillers)s::int[])[1 + n %% 5]) AS k),
       left(%(body)s, 180)
FROM generate_series(1, %(count)s) AS n
"""


def _definition(name: str, filters: list[dict[str, Any]], sorts: list[dict[str, Any]],
                pager: str = "mini", **more: Any) -> dict[str, Any]:
    return {"name": name, "label": name, "base": "item", "filters": filters, "sorts": sorts,
            "pager": {"type": pager, "per_page": PER_PAGE}, **more}


NEWEST = [{"field": "created", "direction": "desc"}]
LISTINGS: dict[str, dict[str, Any]] = {
    "newest": _definition("bench_newest", [
        {"field": "type", "op": "equals", "value": "bench_0", "exposed": "type"}], NEWEST),
    "text-equals": _definition("bench_text", [
        {"field": "field_code", "op": "equals", "exposed": "code"}], NEWEST),
    "int-range": _definition("bench_range", [
        {"field": "field_rank", "op": "gte", "exposed": "low"},
        {"field": "field_rank", "op": "lte", "exposed": "high"}],
        [{"field": "field_rank", "direction": "asc"}]),
    "tag": _definition("bench_tag", [
        {"field": "field_tags", "op": "has_tag", "exposed": "tag"}], NEWEST),
    "type-text-int": _definition("bench_type_text", [
        {"field": "type", "op": "equals", "value": "bench_0", "exposed": "type"},
        {"field": "field_code", "op": "equals", "exposed": "code"}],
        [{"field": "field_rank", "direction": "desc"}]),
    "fulltext": _definition("bench_fulltext", [
        {"field": "search", "op": "fulltext", "exposed": "q"},
        {"field": "type", "op": "equals", "value": "bench_0", "exposed": "type"}],
        NEWEST, pager="full"),
}
PAGE_LISTING = _definition("bench_listing", [
    {"field": "type", "op": "equals", "value": "bench_0"}], NEWEST, pager="full",
    displays={"page": {"path": "/bench-listing"}})


def _type_fields(t: int) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = [
        {"name": "field_code", "type": "text", "label": "Code"},
        {"name": "field_rank", "type": "integer", "label": "Rank"},
        {"name": "field_body", "type": "text_long", "label": "Body"},
        {"name": "field_tags", "type": "reference", "label": "Tags", "cardinality": -1,
         "settings": {"target_type": "category_tag"}},
    ]
    fields += [{"name": f"field_extra_{k}", "type": "text", "label": f"Extra {k}"}
               for k in range(1, FIELD_COUNTS[t] - 3)]
    return fields


async def _prepare(url: str, count: int) -> list[uuid.UUID]:
    """The site: types, tags, listings and ``count`` items; returns the tags' ids."""
    async with running_kernel(url) as kernel:
        admin = await bench_admin(kernel)
        for t in range(TYPES):
            await kernel.content.types.create(
                {"type": f"bench_{t}", "label": f"Bench {t}", "fields": _type_fields(t)})
        for document in (*LISTINGS.values(), PAGE_LISTING):
            await kernel.gather.create(admin, document)
    tags = [uuid7() for _ in range(TAGS)]
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        vocabulary = uuid7()
        conn.execute("INSERT INTO category_vocabulary (id, machine_name, name) VALUES"
                     " (%s, 'bench', 'Bench')", (vocabulary,))
        conn.execute("INSERT INTO category_tag (id, vocabulary_id, name, slug)"
                     " SELECT id, %s, 'Tag ' || n, 'tag-' || n"
                     " FROM unnest(%s::uuid[]) WITH ORDINALITY AS u(id, n)", (vocabulary, tags))
        conn.execute(SEED, {"author": admin.id, "body": BODY, "count": count, "codes": CODES,
                            "ranks": RANKS, "topics": TOPICS, "tags": tags, "tag_count": TAGS,
                            "fillers": [n - 4 for n in FIELD_COUNTS]})
        conn.execute("VACUUM ANALYZE item")
        print(f"seeded {count} items in {time.perf_counter() - started:.1f} s")
    return tags


def _exposed(name: str, rng: random.Random, tags: list[uuid.UUID]) -> dict[str, str]:
    """Random values for one run of the listing ``name``."""
    low = rng.randrange(RANKS - 200)
    values = {"type": f"bench_{rng.randrange(TYPES)}", "code": f"code-{rng.randrange(CODES)}",
              "low": str(low), "high": str(low + 200), "tag": str(rng.choice(tags)),
              "q": f"topic{rng.randrange(TOPICS)}"}
    wanted = {f.get("exposed") for f in LISTINGS[name]["filters"]}
    return {k: v for k, v in values.items() if k in wanted}


def _percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def _time(samples: int, budget: float, call: Callable[[], Awaitable[int]]
                ) -> tuple[float, float, int, int]:
    """p50 and p95 (ms) of ``samples`` calls after one to warm up, or of as many as fit in
    ``budget`` seconds (an unindexed full-text scan takes seconds); the rows of the last call
    and how many were timed."""
    await call()
    times: list[float] = []
    rows = 0
    deadline = time.perf_counter() + budget
    while len(times) < samples and (len(times) < 5 or time.perf_counter() < deadline):
        started = time.perf_counter()
        rows = await call()
        times.append((time.perf_counter() - started) * 1000)
    return (*_percentiles(times), rows, len(times))


Timing = tuple[float, float, int, int]  # p50 ms, p95 ms, rows, samples


async def _queries(kernel: Kernel, args: Any, tags: list[uuid.UUID], ids: list[uuid.UUID],
                   rng: random.Random) -> dict[str, Timing]:
    gather = kernel.gather

    async def load() -> int:
        await kernel.content.query.load(VISITOR, rng.choice(ids))
        return 1

    def listing(name: str, statement: str = "page") -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            plan, params = await gather.statement(
                VISITOR, LISTINGS[name]["name"], exposed=_exposed(name, rng, tags))
            sql = plan.page if statement == "page" else plan.map
            assert sql is not None
            return len(await kernel.db.fetch_tuples(sql, params))
        return run

    cases: dict[str, Callable[[], Awaitable[int]]] = {"load": load}
    cases |= {name: listing(name) for name in LISTINGS}
    cases["fulltext-map"] = listing("fulltext", "map")
    return {name: await _time(args.samples, args.budget, call) for name, call in cases.items()}


async def _query_phases(url: str, args: Any, tags: list[uuid.UUID]
                        ) -> dict[str, dict[str, Timing]]:
    """The queries with the migrations' indexes, then with Gather's expression indexes."""
    async with running_kernel(url) as kernel:
        admin = CurrentUser(id=NIL, name="bench", is_admin=True)
        ids = [row[0] for row in await kernel.db.fetch_tuples(
            "SELECT id FROM item ORDER BY random() LIMIT 1000")]
        phases = {"GIN only": await _queries(kernel, args, tags, ids, random.Random(7))}
        started = time.perf_counter()
        for field in INDEXED:
            await kernel.gather.create_index(admin, field)
        await kernel.db.execute("ANALYZE item")
        print(f"expression indexes built in {time.perf_counter() - started:.1f} s")
        phases["expression indexes"] = await _queries(kernel, args, tags, ids,
                                                      random.Random(7))
        return phases


def _pages(large: str, small: str, args: Any) -> tuple[dict[str, Any], dict[str, float]]:
    env = {"TROVATO_SLOW_REQUEST_MS": "10000", "TROVATO_PAGE_CACHE_SECONDS": "0",
           "TROVATO_DB_POOL_MAX": "4", "TROVATO_FRONT_PAGE_ITEMS": str(PER_PAGE)}
    deep = f"?page={DEEP_PAGE - 1}"  # pages count from 0 in the query
    variants = {"bare": bare(),
                "gather": site(large, "/bench-listing"),
                "gather-p100": site(large, f"/bench-listing{deep}"),
                "front": site(large, "/"), "front-p100": site(large, f"/{deep}"),
                "gather-small": site(small, "/bench-listing"), "front-small": site(small, "/")}
    with serving(variants, workers=args.workers, env=env) as urls:
        warm_up(urls, connections=args.connections, check=showing(r"Bench item (\d+)", PER_PAGE))
        best = measure_interleaved(urls, rounds=args.rounds, seconds=args.seconds,
                                   connections=args.connections)
    print(f"load tool: {best['bare'].tool}, {args.connections} connections, {args.workers} "
          f"granian workers each, best of {args.rounds} x {args.seconds}s, page cache off; "
          f"{args.items} items (-small: {SMALL}), {PER_PAGE} per page")
    ratios = print_ratios(best)
    for name in ("gather", "front"):
        print(f"{name}: the small site is {ratios[f'{name}-small'] / ratios[name]:.2f}x"
              " the large one (goal: at most 1.25x)")
    return {k: v.__dict__ for k, v in best.items()}, ratios


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds per query at most (at least 5 samples)")
    args = parser.parse_args()
    if args.items < DEEP_PAGE * PER_PAGE * TYPES:
        parser.error(f"--items must be at least {DEEP_PAGE * PER_PAGE * TYPES} (page "
                     f"{DEEP_PAGE} of one type)")
    os.environ["TROVATO_PAGE_CACHE_SECONDS"] = "0"
    with contextlib.ExitStack() as stack:
        large = stack.enter_context(scratch_database("gather_large"))
        os.environ["TROVATO_DATABASE_URL"] = large  # the small one on the same server
        small = stack.enter_context(scratch_database("gather_small"))
        tags = asyncio.run(_prepare(large, args.items))
        asyncio.run(_prepare(small, SMALL))
        phases = asyncio.run(_query_phases(large, args, tags))
        print(f"queries on {args.items} items, up to {args.samples} samples each, ms:")
        print(f"{'query':16} " + "".join(f"{phase:>36}" for phase in phases))
        print(f"{'':16} " + f"{'p50':>10} {'p95':>8} {'rows':>8} {'n':>8}" * len(phases))
        for name in next(iter(phases.values())):
            print(f"{name:16} " + "".join(f"{p[name][0]:10.2f} {p[name][1]:8.2f} {p[name][2]:8}"
                                          f" {p[name][3]:8}" for p in phases.values()))
        results, ratios = _pages(large, small, args)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "gather_large.json").write_text(json.dumps({
        "queries_ms": {phase: {k: {"p50": v[0], "p95": v[1], "rows": v[2], "samples": v[3]}
                               for k, v in rows.items()} for phase, rows in phases.items()},
        "results": results, "ratios": ratios, "items": args.items, "small_items": SMALL,
        "per_page": PER_PAGE, "samples": args.samples, "workers": args.workers,
        "connections": args.connections, "seconds": args.seconds, "rounds": args.rounds,
    }, indent=2))


if __name__ == "__main__":
    main()
