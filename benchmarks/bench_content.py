"""Content benchmark: item pages and the front page, rendered or page-cached, vs a bare page.

Measures, in one run, with the variants interleaved round by round so machine noise hits all
(every server on granian with the same worker count, TROVATO_PAGE_CACHE_SECONDS=0 but for the
``-cached`` variants):

- ``bare``: the bare Starlette page (the baseline, ``bare_app.py``);
- ``item-0``: ``/item/{id}`` of one item whose type has 20 fields, all filled (text, integer,
  boolean, link, text_long), on a site with no plugin implementing ``item_view``;
- ``item-1`` / ``item-3``: the same with 1 and 3 Python plugins implementing ``item_view``
  (``benchmarks/plugins/viewer`` copied under three names), each on its own database since
  plugins are site-wide;
- ``front-0`` / ``front-1``: the front page listing 25 teasers of that type
  (``TROVATO_FRONT_PAGE_ITEMS=25``, 25 promoted items) with 0 and 1 ``item_view`` plugins;
- ``item-cached`` / ``front-cached``: ``item-0`` and ``front-0`` served to anonymous visitors
  from the page cache (the site's fastest path), every request a hit.

Nothing is cached per page or per render tree; the content service's in-process caches (item
types, filtered text — Drupal's filter cache) are warm, as on any live site.

SQL queries per request are read from the ``Server-Timing`` header (``db;…;desc="N queries"``).
Plugin builds are cached under TROVATO_DATA_DIR (default ``~/.cache/trovato-bench``).
Run: ``python benchmarks/bench_content.py --seconds N``. ``--only item-0,item-cached`` runs a
subset (``bare`` always runs: it is the baseline). ``--baseline REF`` also runs ``item-0``,
``item-1`` and ``front-0`` of the git revision REF (checked out in a temporary worktree, its
servers on its own databases prepared by its own code) in the same run, interleaved with this
tree's, and prints each ratio against REF's: the regression check of a change.
Uses TROVATO_DATABASE_URL if set, else an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database
from _load import (
    free_port,
    load_arguments,
    measure_interleaved,
    run_load,
    start_granian,
    wait_until_up,
)

from trovato.db import migrate
from trovato.kernel.services import Kernel
from trovato.settings import load_settings

HERE = Path(__file__).parent
PLUGIN_DIR = HERE / "plugins"
VIEWERS = ("viewer", "viewer2", "viewer3")
ITEMS = 25
TEASERS_PER_PAGE = 25
GOALS = {"item-0": 0.10, "item-1": 0.025, "front-0": 0.04,
         "item-cached": 0.85, "front-cached": 0.85}
QUERIES = re.compile(r'db;[^,]*desc="(\d+) queries"')

FIELD_KINDS = ("text", "integer", "boolean", "link", "text_long")


def _item_type() -> dict[str, object]:
    fields = [{"name": f"field_{kind}_{i}", "type": kind, "label": f"{kind} {i}"}
              for i in range(4) for kind in FIELD_KINDS]
    return {"type": "bench_page", "label": "Bench page", "fields": fields}


def _field_values(n: int) -> dict[str, object]:
    values: dict[str, object] = {}
    for i in range(4):
        values[f"field_text_{i}"] = {"value": f"Short text {i} of item {n}"}
        values[f"field_integer_{i}"] = {"value": n * 10 + i}
        values[f"field_boolean_{i}"] = {"value": (n + i) % 2 == 0}
        values[f"field_link_{i}"] = {"uri": f"https://example.com/{n}/{i}",
                                     "title": f"Link {i}"}
        body = " ".join(f"<p>Paragraph {p} of field {i}, item {n}: the quick brown fox "
                        f"jumps over the lazy dog.</p>" for p in range(4))
        values[f"field_text_long_{i}"] = {"value": body, "format": "filtered_html"}
    return values


async def _prepare(url: str, plugins: tuple[str, ...]) -> str:
    """Admin, the 20-field type, 25 promoted items, the plugins; returns the first item's id."""
    kernel = await Kernel.start(load_settings(database_url=url), url)
    try:
        admin_id = await kernel.accounts.create(name="bench", mail="bench@example.com",
                                                password="quiet lantern orbit 7", is_admin=True)
        admin = await kernel.accounts.load(admin_id)
        assert admin is not None
        await kernel.content.types.create(_item_type())
        first = ""
        for n in range(ITEMS):
            item = await kernel.content.items.create(
                admin, "bench_page", title=f"Bench item {n}", status=1, promote=True,
                fields=_field_values(n))
            first = first or str(item.id)
        for name in plugins:
            await kernel.plugins.install(name)
        return first
    finally:
        await kernel.stop()


def _queries(response: httpx.Response) -> int | None:
    match = QUERIES.search(response.headers.get("server-timing", ""))
    return int(match.group(1)) if match else None


def _viewer_copies(base: Path) -> Path:
    """``viewer`` under the three names, so three distinct plugins share one source."""
    folder = base / "bench-plugins"
    for name in VIEWERS:
        target = folder / name
        if not target.exists():
            shutil.copytree(PLUGIN_DIR / "viewer", target,
                            ignore=shutil.ignore_patterns("__pycache__"))
            info = target / "plugin.toml"
            info.write_text(info.read_text().replace('name = "viewer"', f'name = "{name}"', 1))
    return folder


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--only", default="",
                        help="comma-separated variants to run (bare always runs)")
    parser.add_argument("--baseline", metavar="REF",
                        help="also run item-0, item-1 and front-0 of this git revision")
    parser.add_argument("--prepare", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--plugins", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:  # run by --baseline under the baseline's code: prepare one database
        plugins = tuple(name for name in args.plugins.split(",") if name)
        migrate.upgrade(args.prepare)
        print(asyncio.run(_prepare(args.prepare, plugins)))
        return
    os.environ.setdefault("TROVATO_DATA_DIR", str(Path.home() / ".cache" / "trovato-bench"))
    os.environ["TROVATO_PLUGIN_DIRS"] = str(_viewer_copies(Path(os.environ["TROVATO_DATA_DIR"])))
    os.environ["TROVATO_PAGE_CACHE_SECONDS"] = "0"

    procs: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(scratch_database("content0"))
        # The other databases live on the same server as the first.
        os.environ["TROVATO_DATABASE_URL"] = first
        urls = {0: first, 1: stack.enter_context(scratch_database("content1")),
                3: stack.enter_context(scratch_database("content3"))}
        baseline: Baseline | None = None
        if args.baseline:
            baseline = stack.enter_context(_baseline_tree(args.baseline))
            for n in BASELINE_DBS:
                url = stack.enter_context(scratch_database(f"baseline{n}", migrated=False))
                baseline.item_ids[n] = _prepare_with(baseline.src, url, VIEWERS[:n])
                baseline.db_urls[n] = url
        try:
            _run(urls, args, procs, baseline)
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(15)


@dataclass
class Baseline:
    """Another git revision measured beside this tree: its sources and prepared databases."""

    ref: str
    src: Path
    db_urls: dict[int, str] = field(default_factory=dict)
    item_ids: dict[int, str] = field(default_factory=dict)


# The baseline variants: name -> (plugins, path kind); their databases by plugin count.
BASELINE_VARIANTS = {"item-0": (0, "item"), "item-1": (1, "item"), "front-0": (0, "front")}
BASELINE_DBS = (0, 1)


@contextlib.contextmanager
def _baseline_tree(ref: str) -> Iterator[Baseline]:
    """``ref`` checked out in a temporary git worktree, removed afterwards."""
    repo = HERE.parent
    with tempfile.TemporaryDirectory(prefix="trovato-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", "--quiet",
                        str(tree), ref], check=True)
        try:
            yield Baseline(ref, tree / "src")
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)],
                           check=False)


def _prepare_with(src: Path, url: str, plugins: tuple[str, ...]) -> str:
    """:func:`_prepare` run by the code in ``src`` (a baseline prepares its own database)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, __file__, "--prepare", url, "--plugins", ",".join(plugins)]
    out = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout.strip().splitlines()[-1]


def _run(db_urls: dict[int, str], args: argparse.Namespace,
         procs: list[subprocess.Popen[bytes]], baseline: Baseline | None) -> None:
    item_ids = {n: asyncio.run(_prepare(url, VIEWERS[:n])) for n, url in db_urls.items()}
    # Seven Trovato servers x workers share one PostgreSQL (embedded: max_connections 60, and
    # each worker also holds a LISTEN connection), so a rendering worker's pool is capped at 4
    # connections (it is CPU-bound long before that) and a page-cached one's at 1.
    common = {"TROVATO_SLOW_REQUEST_MS": "10000", "TROVATO_PAGE_CACHE_SECONDS": "0",
              "TROVATO_DB_POOL_MAX": "4", "TROVATO_FRONT_PAGE_ITEMS": str(TEASERS_PER_PAGE)}
    variants: dict[str, tuple[str, bool, int | None, str]] = {
        "bare": ("bare_app:app", False, None, "/"),
        "item-0": ("trovato.app:create_app", True, 0, f"/item/{item_ids[0]}"),
        "item-1": ("trovato.app:create_app", True, 1, f"/item/{item_ids[1]}"),
        "item-3": ("trovato.app:create_app", True, 3, f"/item/{item_ids[3]}"),
        "front-0": ("trovato.app:create_app", True, 0, "/"),
        "front-1": ("trovato.app:create_app", True, 1, "/"),
        "item-cached": ("trovato.app:create_app", True, 0, f"/item/{item_ids[0]}"),
        "front-cached": ("trovato.app:create_app", True, 0, "/"),
    }
    only = {name for name in args.only.split(",") if name}
    if unknown := only - set(variants):
        raise SystemExit(f"unknown variants: {', '.join(sorted(unknown))}")
    if only:
        variants = {name: v for name, v in variants.items() if name == "bare" or name in only}
    urls: dict[str, str] = {}
    for name, (target, factory, db, path) in variants.items():
        port = free_port()
        env = dict(common)
        if name.endswith("-cached"):
            env["TROVATO_PAGE_CACHE_SECONDS"] = "3600"
            env["TROVATO_DB_POOL_MAX"] = "1"
        if db is not None:
            env["TROVATO_DATABASE_URL"] = db_urls[db]
        procs.append(start_granian(target, port, args.workers, env, factory))
        urls[name] = f"http://127.0.0.1:{port}{path}"
    if baseline is not None:
        for name, (plugins, kind) in BASELINE_VARIANTS.items():
            if only and name not in only:
                continue
            port = free_port()
            env = {**common, "TROVATO_DATABASE_URL": baseline.db_urls[plugins],
                   "PYTHONPATH": str(baseline.src)}
            procs.append(start_granian("trovato.app:create_app", port, args.workers, env, True))
            path = f"/item/{baseline.item_ids[plugins]}" if kind == "item" else "/"
            urls[f"{name}@base"] = f"http://127.0.0.1:{port}{path}"
    queries: dict[str, int | None] = {}
    # Server-Timing total of one request to a warm, idle server (median of 5)
    single_ms: dict[str, float | None] = {}
    for name, target_url in urls.items():
        wait_until_up(target_url)
        response = httpx.get(target_url)
        assert response.status_code == 200, (name, response.status_code)
        if name != "bare" and not name.endswith("-cached"):
            assert response.headers.get("x-trovato-cache") != "HIT", name
        if name.startswith("item"):
            assert "field_text_long_3" in response.text or "Paragraph 3" in response.text, name
            plugins = 0 if name.endswith("-cached") else int(name.removesuffix("@base")[-1])
            assert response.text.count("viewer") >= min(plugins, 1), name
        if name.startswith("front"):
            shown = len(set(re.findall(r"Bench item (\d+)", response.text)))
            assert shown == TEASERS_PER_PAGE, (name, shown)
        for _ in range(5):  # warm up: each worker's first requests load caches and plugins
            httpx.get(target_url, timeout=30)
        with contextlib.suppress(ValueError):  # _load cannot parse a run with no latencies
            run_load(target_url, seconds=2, connections=args.connections)
        if name != "bare":  # counted on a warm, idle worker, not the first request
            time.sleep(1.0)  # the load tool stops; the requests it queued still drain
            totals: list[float] = []
            for _ in range(5):
                warm = httpx.get(target_url)
                queries[name] = _queries(warm)
                total = re.search(r"total;dur=([\d.]+)", warm.headers.get("server-timing", ""))
                if total:
                    totals.append(float(total.group(1)))
            single_ms[name] = statistics.median(totals) if totals else None
            if name.endswith("-cached"):
                assert warm.headers.get("x-trovato-cache") == "HIT", name
    best = measure_interleaved(urls, rounds=args.rounds, seconds=args.seconds,
                               connections=args.connections)
    base = best["bare"].requests_per_s
    print(f"load tool: {best['bare'].tool}, {args.connections} connections, "
          f"{args.workers} granian workers each, best of {args.rounds} x {args.seconds}s, "
          f"page cache off but for -cached; front page: {TEASERS_PER_PAGE} teasers of {ITEMS}"
          " promoted items")
    if baseline is not None:
        print(f"@base: git revision {baseline.ref}; 'vs base' is this tree's req/s over its")
    for name, result in best.items():
        goal = GOALS.get(name)
        verdict = ""
        if goal is not None:
            ok = result.requests_per_s / base >= goal
            verdict = f"  goal >= {goal:.1%}: {'met' if ok else 'MISSED'}"
        q = f"  {queries[name]:3d} SQL" if queries.get(name) is not None else " " * 9
        one = f"  1 req {single_ms[name]:5.1f} ms" if single_ms.get(name) else " " * 16
        versus = ""
        if (old := best.get(f"{name}@base")) is not None:
            versus = f"  {result.requests_per_s / old.requests_per_s:6.1%} vs base"
        print(f"{name:12} {result.row()}  {result.requests_per_s / base:6.1%} of bare{q}"
              f"{one}{verdict}{versus}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "content.json").write_text(json.dumps({
        "results": {k: v.__dict__ for k, v in best.items()},
        "ratios": {k: v.requests_per_s / base for k, v in best.items()},
        "goals": GOALS,
        "queries": queries, "single_request_ms": single_ms,
        "item_fields": 20, "promoted_items": ITEMS, "teasers_per_page": TEASERS_PER_PAGE,
        "workers": args.workers, "connections": args.connections,
        "seconds": args.seconds, "rounds": args.rounds,
        "baseline": baseline.ref if baseline is not None else None,
    }, indent=2))


if __name__ == "__main__":
    main()
