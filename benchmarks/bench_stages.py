"""Stages benchmark: what an open stage costs live pages, staged views, and publishing.

Measures, in one run, with the variants interleaved round by round so machine noise hits all
(every server on granian with the same worker count, TROVATO_PAGE_CACHE_SECONDS=0 so every
request renders — staged views never use the page cache):

- ``item-live-0`` / ``front-live-0``: an item page and the front page (25 teasers) of a site
  whose open stage changes nothing (the baseline);
- ``item-live-200`` / ``front-live-200``: the same pages of a site prepared identically but
  whose open stage edits 200 of its items (the measured item and every front-page item among
  them);
- ``item-stage`` / ``front-stage``: those pages of the second site viewed in the stage through
  a preview link (``?preview=<token>``: no session; the stage's titles are checked to show);
- ``publish``: wall-clock time of the content service publishing a stage of 1,000 changes
  (600 edits, 300 creations, 100 deletions) on a third database, after the load runs.

Goals: live pages unaffected by an open stage (``-live-200`` within noise of ``-live-0``),
staged views at least 2/3 of the live page's throughput, a publish of 1,000 changes in < 5 s.
Run: ``python benchmarks/bench_stages.py --seconds N``. Uses TROVATO_DATABASE_URL if set, else
an embedded PostgreSQL in a temporary folder.

``--calls N`` measures instead what a noisy, shared machine cannot spoil: the Python function
calls (cProfile) and SQL statements per request of the ``-live-200`` and ``-stage`` pages,
served in-process (the ASGI app called directly, no client or server in the count) after a
warm-up, over N requests each; the goal is staged calls within :data:`CALLS_GOAL` x live's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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

from trovato.app import create_app
from trovato.kernel.services import Kernel
from trovato.settings import load_settings
from trovato.users.accounts import CurrentUser

HERE = Path(__file__).parent
ITEMS = 250
STAGED = 200
TEASERS_PER_PAGE = 25
STAGE = "bench_stage"
PUBLISH_CHANGES = {"edited": 600, "created": 300, "deleted": 100}
LIVE_GOAL = 0.90  # -live-200 over -live-0: "within noise" on a shared machine
STAGE_GOAL = 2 / 3  # staged view over the live page
PUBLISH_GOAL_S = 5.0
CALLS_GOAL = 1.3  # staged calls per request over live's (--calls)
WARM_UP = 20
QUERIES = re.compile(r'db;[^,]*desc="(\d+) queries"')
TOTAL = re.compile(r"total;dur=([\d.]+)")

ITEM_TYPE: dict[str, object] = {
    "type": "bench_article",
    "label": "Bench article",
    "fields": [{"name": "field_body", "type": "text_long", "label": "Body"}],
}


def _body(n: int) -> dict[str, object]:
    text = " ".join(f"<p>Paragraph {p} of item {n}: the quick brown fox.</p>" for p in range(4))
    return {"field_body": {"value": text, "format": "filtered_html"}}


async def _admin(kernel: Kernel) -> CurrentUser:
    admin_id = await kernel.accounts.create(
        name="bench", mail="bench@example.com", password="quiet lantern orbit 7", is_admin=True
    )
    admin = await kernel.accounts.load(admin_id)
    assert admin is not None
    return admin


async def _prepare_site(url: str, staged: int) -> tuple[str, str]:
    """Admin, ``ITEMS`` promoted items, an open stage editing the ``staged`` newest (the front
    page's among them); returns the newest item's id and a preview-link token."""
    kernel = await Kernel.start(load_settings(database_url=url), url)
    try:
        admin = await _admin(kernel)
        items = kernel.content.items
        await kernel.content.types.create(ITEM_TYPE)
        created = [
            await items.create(
                admin,
                "bench_article",
                title=f"Bench item {n}",
                status=1,
                promote=True,
                fields=_body(n),
            )
            for n in range(ITEMS)
        ]
        await items.stages.create(admin, STAGE, "Bench stage")
        for item in reversed(created[-staged:] if staged else []):
            await items.update(admin, item.id, title=f"Staged {item.title}", stage=STAGE)
        _, token = await kernel.previews.create(STAGE, admin.id)
        return str(created[-1].id), token
    finally:
        await kernel.stop()


async def _publish(url: str) -> float:
    """Seconds the content service takes to publish a stage of ``PUBLISH_CHANGES``."""
    kernel = await Kernel.start(load_settings(database_url=url), url)
    try:
        admin = await _admin(kernel)
        items = kernel.content.items
        await kernel.content.types.create(ITEM_TYPE)
        live = [
            await items.create(admin, "bench_article", title=f"Live {n}", status=1, fields=_body(n))
            for n in range(PUBLISH_CHANGES["edited"] + PUBLISH_CHANGES["deleted"])
        ]
        await items.stages.create(admin, STAGE, "Bench stage")
        edited, doomed = live[: PUBLISH_CHANGES["edited"]], live[PUBLISH_CHANGES["edited"] :]
        for item in edited:
            await items.update(admin, item.id, title=f"Staged {item.title}", stage=STAGE)
        for n in range(PUBLISH_CHANGES["created"]):
            await items.create(
                admin, "bench_article", title=f"New {n}", status=1, fields=_body(n), stage=STAGE
            )
        for item in doomed:
            await items.delete(admin, item.id, stage=STAGE)
        started = time.perf_counter()
        report = await kernel.content.staging.publish(admin, STAGE)
        seconds = time.perf_counter() - started
        assert [len(report[k]) for k in PUBLISH_CHANGES] == list(PUBLISH_CHANGES.values())
        return seconds
    finally:
        await kernel.stop()


async def _asgi_get(app: Any, path: str, query: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    """One GET through the ASGI app itself: status, headers and body."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query, "root_path": "", "headers": [(b"host", b"bench")],
             "client": ("127.0.0.1", 1), "server": ("bench", 80)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return (sent[0]["status"], dict(sent[0]["headers"]),
            b"".join(m.get("body", b"") for m in sent[1:]))


async def _count_calls(url: str, item: str, token: str, requests: int) -> None:
    """Calls and SQL statements per request, live and staged (see ``--calls``)."""
    settings = load_settings(database_url=url, page_cache_seconds=0,
                             front_page_items=TEASERS_PER_PAGE, slow_request_ms=10_000)
    app = create_app(settings)
    preview = f"preview={token}".encode()
    pages = {"item-live-200": (f"/item/{item}", b""), "item-stage": (f"/item/{item}", preview),
             "front-live-200": ("/", b""), "front-stage": ("/", preview)}
    calls: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        for name, (path, query) in pages.items():
            for _ in range(WARM_UP):
                status, headers, body = await _asgi_get(app, path, query)
                assert status == 200, (name, status)
            assert (b"Staged Bench item" in body) == name.endswith("-stage"), name
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(requests):
                await _asgi_get(app, path, query)
            profile.disable()
            calls[name] = _total_calls(profile) / requests
            sql = QUERIES.search(headers.get(b"server-timing", b"").decode())
            print(f"{name:15} {calls[name]:8.0f} calls/request  "
                  f"{int(sql.group(1)) if sql else 0} SQL")
    for page in ("item", "front"):
        ratio = calls[f"{page}-stage"] / calls[f"{page}-live-200"]
        verdict = "met" if ratio <= CALLS_GOAL else "MISSED"
        print(f"{page}-stage / {page}-live-200 calls  {ratio:5.2f}x  goal <= {CALLS_GOAL}x: "
              f"{verdict}")


def _total_calls(profile: cProfile.Profile) -> int:
    return sum(entry.callcount for entry in profile.getstats())


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--calls", type=int, default=0, metavar="N",
                        help="count calls and SQL per request over N requests (no load run)")
    args = parser.parse_args()
    if args.calls:
        with scratch_database("stagescalls") as url:
            item, token = asyncio.run(_prepare_site(url, STAGED))
            asyncio.run(_count_calls(url, item, token, args.calls))
        return
    procs: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        calm = stack.enter_context(scratch_database("stages0"))
        os.environ["TROVATO_DATABASE_URL"] = calm  # the others on the same server
        busy = stack.enter_context(scratch_database("stages200"))
        publish_db = stack.enter_context(scratch_database("stagespub"))
        try:
            _run(calm, busy, publish_db, args, procs)
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(15)


def _run(
    calm: str,
    busy: str,
    publish_db: str,
    args: argparse.Namespace,
    procs: list[subprocess.Popen[bytes]],
) -> None:
    calm_item, _ = asyncio.run(_prepare_site(calm, 0))
    busy_item, token = asyncio.run(_prepare_site(busy, STAGED))
    common = {
        "TROVATO_SLOW_REQUEST_MS": "10000",
        "TROVATO_PAGE_CACHE_SECONDS": "0",
        "TROVATO_DB_POOL_MAX": "4",
        "TROVATO_FRONT_PAGE_ITEMS": str(TEASERS_PER_PAGE),
    }
    bases = {}
    for name, url in (("calm", calm), ("busy", busy)):
        port = free_port()
        env = {**common, "TROVATO_DATABASE_URL": url}
        procs.append(start_granian("trovato.app:create_app", port, args.workers, env, True))
        bases[name] = f"http://127.0.0.1:{port}"
    urls = {
        "item-live-0": f"{bases['calm']}/item/{calm_item}",
        "item-live-200": f"{bases['busy']}/item/{busy_item}",
        "item-stage": f"{bases['busy']}/item/{busy_item}?preview={token}",
        "front-live-0": f"{bases['calm']}/",
        "front-live-200": f"{bases['busy']}/",
        "front-stage": f"{bases['busy']}/?preview={token}",
    }
    # SQL queries and Server-Timing total of one request to a warm, idle server
    queries: dict[str, int | None] = {}
    single_ms: dict[str, float | None] = {}
    for name, target_url in urls.items():
        wait_until_up(target_url)
        response = httpx.get(target_url, timeout=30)
        assert response.status_code == 200, (name, response.status_code)
        staged_titles = response.text.count("Staged Bench item")
        assert (staged_titles > 0) == name.endswith("-stage"), (name, staged_titles)
        if name.startswith("front"):
            assert response.text.count("Bench item") >= TEASERS_PER_PAGE, name
        for _ in range(5):  # warm up each worker's caches
            httpx.get(target_url, timeout=30)
        with contextlib.suppress(ValueError):  # _load cannot parse a run with no latencies
            run_load(target_url, seconds=2, connections=args.connections)
        time.sleep(1.0)  # the requests the load tool queued still drain
        timing = httpx.get(target_url, timeout=30).headers.get("server-timing", "")
        count, total = QUERIES.search(timing), TOTAL.search(timing)
        queries[name] = int(count.group(1)) if count else None
        single_ms[name] = float(total.group(1)) if total else None
    best = measure_interleaved(
        urls, rounds=args.rounds, seconds=args.seconds, connections=args.connections
    )
    for proc in procs:  # the publish is timed on a quiet machine
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(15)
    procs.clear()
    publish_s = asyncio.run(_publish(publish_db))

    rps = {name: result.requests_per_s for name, result in best.items()}
    ratios = {
        "item-live-200 / item-live-0": rps["item-live-200"] / rps["item-live-0"],
        "front-live-200 / front-live-0": rps["front-live-200"] / rps["front-live-0"],
        "item-stage / item-live-200": rps["item-stage"] / rps["item-live-200"],
        "front-stage / front-live-200": rps["front-stage"] / rps["front-live-200"],
    }
    goals = {
        "item-live-200 / item-live-0": LIVE_GOAL,
        "front-live-200 / front-live-0": LIVE_GOAL,
        "item-stage / item-live-200": STAGE_GOAL,
        "front-stage / front-live-200": STAGE_GOAL,
    }
    print(
        f"load tool: {best['item-live-0'].tool}, {args.connections} connections, "
        f"{args.workers} granian workers each, best of {args.rounds} x {args.seconds}s, "
        f"page cache off; {ITEMS} promoted items, {STAGED} edited in the open stage, front "
        f"page {TEASERS_PER_PAGE} teasers"
    )
    for name, result in best.items():
        q = f"  {queries[name]:3d} SQL" if queries[name] is not None else ""
        one = f"  1 req {single_ms[name]:5.1f} ms" if single_ms[name] is not None else ""
        print(f"{name:15} {result.row()}{q}{one}")
    for name, ratio in ratios.items():
        verdict = "met" if ratio >= goals[name] else "MISSED"
        print(f"{name:30} {ratio:6.1%}  goal >= {goals[name]:.0%}: {verdict}")
    changes = sum(PUBLISH_CHANGES.values())
    verdict = "met" if publish_s < PUBLISH_GOAL_S else "MISSED"
    print(
        f"publish of {changes} changes: {publish_s:.2f} s  goal < {PUBLISH_GOAL_S:.0f} s: {verdict}"
    )
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "stages.json").write_text(
        json.dumps(
            {
                "results": {k: v.__dict__ for k, v in best.items()},
                "ratios": ratios,
                "goals": goals,
                "queries": queries,
                "single_request_ms": single_ms,
                "publish_seconds": publish_s,
                "publish_changes": PUBLISH_CHANGES,
                "publish_goal_seconds": PUBLISH_GOAL_S,
                "items": ITEMS,
                "staged": STAGED,
                "teasers_per_page": TEASERS_PER_PAGE,
                "workers": args.workers,
                "connections": args.connections,
                "seconds": args.seconds,
                "rounds": args.rounds,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
