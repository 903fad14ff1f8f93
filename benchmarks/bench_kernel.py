"""Kernel benchmark: the front page through the full middleware stack vs a bare Starlette page.

Both apps run on granian with the same worker count, in the same run, measured alternately so
machine noise hits both. Run: ``trovato bench`` or ``python benchmarks/bench_kernel.py``.
Uses TROVATO_DATABASE_URL if set, else an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
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

from trovato.kernel.services import Kernel
from trovato.settings import load_settings

HERE = Path(__file__).parent


async def _prepare_site(url: str) -> None:
    kernel = await Kernel.start(load_settings(database_url=url), url)
    try:
        if not await kernel.accounts.admin_exists():
            await kernel.accounts.create(name="bench", mail="bench@example.com",
                                         password="quiet lantern orbit 7", is_admin=True)
    finally:
        await kernel.stop()


def main() -> None:
    parser = load_arguments(__doc__)
    args = parser.parse_args()

    procs: list[subprocess.Popen[bytes]] = []
    with scratch_database("kernel") as url:
        try:
            _run(url, args, procs)
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(15)


def _run(url: str, args: argparse.Namespace, procs: list[subprocess.Popen[bytes]]) -> None:
    asyncio.run(_prepare_site(url))
    env = {"TROVATO_DATABASE_URL": url, "TROVATO_SLOW_REQUEST_MS": "10000"}
    # Three servers, all serving "/": the baseline, and Trovato's front page through the
    # whole pipeline rendered on every request and with the anonymous page cache.
    variants = {
        "bare": ("bare_app:app", False, {}),
        "rendered": ("trovato.app:create_app", True, {"TROVATO_PAGE_CACHE_SECONDS": "0"}),
        "page-cached": ("trovato.app:create_app", True, {}),
    }
    urls: dict[str, str] = {}
    for name, (target, factory, extra) in variants.items():
        port = free_port()
        procs.append(start_granian(target, port, args.workers, {**env, **extra}, factory))
        urls[name] = f"http://127.0.0.1:{port}/"
    for target_url in urls.values():
        wait_until_up(target_url)
        run_load(target_url, seconds=2, connections=args.connections)  # warm up
    assert "Powered by Trovato" in httpx.get(urls["rendered"]).text
    assert httpx.get(urls["page-cached"]).headers["x-trovato-cache"] == "HIT"
    best = measure_interleaved(urls, rounds=args.rounds, seconds=args.seconds,
                               connections=args.connections)
    base = best["bare"].requests_per_s
    print(f"load tool: {best['bare'].tool}, {args.connections} connections, "
          f"{args.workers} granian workers each, best of {args.rounds} x {args.seconds}s")
    for name, result in best.items():
        print(f"{name:12} {result.row()}  {result.requests_per_s / base:6.1%} of bare")
    print("goal: the full stack keeps >= 60% of the bare app's throughput")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "kernel.json").write_text(json.dumps({
        "results": {k: v.__dict__ for k, v in best.items()},
        "ratios": {k: v.requests_per_s / base for k, v in best.items()},
        "workers": args.workers, "connections": args.connections,
    }, indent=2))


if __name__ == "__main__":
    main()
