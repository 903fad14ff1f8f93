"""Categories benchmark: is a recursive CTE fast enough for a tag's relatives, or does the
hierarchy need a materialized closure table (DESIGN §11)?

Builds one vocabulary of ``--tags`` tags (default 10,000) as a DAG: 10 roots, each further tag
under one random earlier tag, one in five under a second one too, so chains reach a depth of
about 12 and diamonds abound. Then times, through the categories service (its statements as
the pages and the API run them), ``--rounds`` calls each of:

- ``ancestors``: every ancestor of a random deepest tag;
- ``descendants-root``: every descendant of a root (about a tenth of the vocabulary);
- ``descendants-mid``: every descendant of a random tag at depth 3;
- ``breadcrumb``: a deepest tag's trail along first parents;
- ``children``: one root's direct children;
- ``tree``: the whole vocabulary as a tree (the API's ``/tree``);
- ``create-under``: creating a tag under a random tag (the write reads the hierarchy to refuse
  loops), then deleting it.

Prints p50 and p95 per operation in milliseconds, and how many tags each returned.

Measured 2026-12-07 (the shared 2-core machine under a load average of ~13, so several times
slower than a quiet one), ``--rounds 100``, p50 / p95 ms: ancestors 12.5 / 65.6 (60 tags),
descendants-root 210 / 674 (2,571), descendants-mid 10.9 / 58.4 (160), breadcrumb
5.3 / 14.3, children 1.2 / 8.0, tree 1,048 / 1,684 (all 10,000 tags), create-under
48 / 101 (557 / 838 before the write checked only its neighbourhood). What pages read — a
tag, its breadcrumb, its children — stays in milliseconds: no closure table. A subtree of
thousands (``descendants`` of a root, ``has_tag_or_descendants`` over it) is the case that
would call for one; measure again on a quiet machine before deciding.
Run: ``python benchmarks/bench_categories.py [--tags N] [--rounds N]``. Uses
TROVATO_DATABASE_URL if set, else an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database

from trovato.categories.service import Categories
from trovato.db.pool import Database
from trovato.ids import NIL, uuid7
from trovato.users.accounts import CurrentUser

ADMIN = CurrentUser(id=NIL, name="bench", is_admin=True)


async def _seed(db: Database, count: int, rng: random.Random) -> tuple[list[uuid.UUID],
                                                                       dict[uuid.UUID, int]]:
    """The vocabulary, written directly (an import would check each row; this is setup)."""
    vocabulary = uuid7()
    await db.execute("INSERT INTO category_vocabulary (id, machine_name, name, hierarchy) VALUES"
                     " (%s, 'bench', 'Bench', 2)", (vocabulary,))
    ids = [uuid7() for _ in range(count)]
    depth: dict[uuid.UUID, int] = {}
    links: list[tuple[uuid.UUID, uuid.UUID]] = []
    for n, key in enumerate(ids):
        if n < 10:
            depth[key] = 1
            continue
        first = ids[rng.randrange(n)]
        parents = {first}
        if rng.random() < 0.2:
            parents.add(ids[rng.randrange(n)])
        depth[key] = 1 + max(depth[p] for p in parents)
        links.extend((key, p) for p in parents)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO category_tag (id, vocabulary_id, name, slug, weight)"
            " SELECT id, %s, 'Tag ' || n, 'tag-' || n, n %% 7 FROM"
            " unnest(%s::uuid[]) WITH ORDINALITY AS u(id, n)", (vocabulary, ids))
        await conn.execute(
            "INSERT INTO category_tag_hierarchy (tag_id, parent_id)"
            " SELECT * FROM unnest(%s::uuid[], %s::uuid[])",
            ([c for c, _ in links], [p for _, p in links]))
    await db.execute("ANALYZE category_tag; ANALYZE category_tag_hierarchy")
    return ids, depth


async def _time(rounds: int, call: Callable[[], Awaitable[Any]]) -> tuple[list[float], int]:
    times: list[float] = []
    size = 0
    for _ in range(rounds):
        start = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - start) * 1000)
        size = len(result) if isinstance(result, list) else 1
    return times, size


def _row(name: str, times: list[float], size: int) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"{name:<18} {statistics.median(ordered):>8.2f} {p95:>8.2f} {size:>8}"


async def main(tags: int, rounds: int) -> None:
    rng = random.Random(20261207)
    with scratch_database("categories") as url:
        db = Database(url, min_size=1, max_size=2)
        await db.open()
        try:
            ids, depth = await _seed(db, tags, rng)
            service = Categories(db)
            deepest = max(depth.values())
            deep = [k for k, d in depth.items() if d == deepest]
            mid = [k for k, d in depth.items() if d == 3]
            loaded = {k: await service.tag(ADMIN, k) for k in {*deep, *mid[:50], *ids[:10]}}

            async def create_under() -> Any:
                tag = await service.create_tag(ADMIN, "bench", f"new {uuid7()}",
                                               parents=[rng.choice(ids)])
                await service.delete_tag(ADMIN, tag.id)
                return tag

            cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
                ("ancestors", lambda: service.ancestors(ADMIN, loaded[rng.choice(deep)])),
                ("descendants-root", lambda: service.descendants(ADMIN, loaded[ids[0]])),
                ("descendants-mid",
                 lambda: service.descendants(ADMIN, loaded[rng.choice(mid[:50])])),
                ("breadcrumb", lambda: service.breadcrumb(ADMIN, loaded[rng.choice(deep)])),
                ("children", lambda: service.children(ADMIN, loaded[ids[1]])),
                ("tree", lambda: service.tree(ADMIN, "bench")),
                ("create-under", create_under),
            ]
            print(f"{tags} tags, deepest chain {deepest}, {rounds} rounds per operation")
            print(f"{'operation':<18} {'p50 ms':>8} {'p95 ms':>8} {'tags':>8}")
            for name, call in cases:
                count = max(3, rounds // 10) if name in ("tree", "create-under") else rounds
                await call()  # warm the statement
                print(_row(name, *await _time(count, call)))
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.tags, arguments.rounds))
