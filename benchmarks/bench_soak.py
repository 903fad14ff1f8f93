"""Soak: a real site under a steady mixed load for minutes; errors, latency and memory over time.

Starts ``trovato serve`` (granian, ``--workers`` processes) on 127.0.0.1 on a scratch database,
sets up an article type, ``--items`` published items, ``--users`` logged-in sessions and an API
token, then runs ``--clients`` concurrent clients (each with its own keep-alive connection) that
loop over this mix until ``--seconds`` have passed or ``--max-requests`` were sent:

- 60% anonymous reads: an item page or the front page (the anonymous page cache serves most);
- 25% logged-in reads: an item page with a session cookie (rendered on every request);
- 15% API writes: create an item, or update one (Bearer token, JSON).

Every ``--interval`` seconds it records requests, errors (no answer, or not 2xx), p50 and p99
latency; every few seconds each worker's RSS (``/proc/<pid>/status``); and at the end of each
interval each worker's in-process caches (entries and bytes, scraped from ``/metrics``, which
names the worker that answered). It prints one row per interval, then per interval and worker
the RSS and the caches, each worker's RSS at the end of the warm-up (the first interval) and at
the end with the slope over the last five minutes (or the last half of a shorter soak), and the
machine's load average, and exits 1 if any request failed.

Memory is flat once every cache is full; ``--cache-bytes`` sets the page cache and the text
caches small (``TROVATO_PAGE_CACHE_BYTES``, ``TROVATO_TEXT_CACHE_BYTES``) so they fill during
the warm-up and any growth after it is a leak. ``--tracemalloc`` traces allocations in the
workers (``TROVATO_DEBUG_TRACEMALLOC``), signals each to dump at the end of the warm-up and
has it dump again at shutdown, and prints both dumps' top growth sites (the second: what grew
after the warm-up).

Run: ``trovato bench --only soak --seconds 600`` (``trovato bench`` passes ``--seconds``; alone it
is a short smoke run), or ``python benchmarks/bench_soak.py --seconds 600 --clients 64``.
Uses TROVATO_DATABASE_URL if set (else an embedded PostgreSQL in a temporary folder) and
TROVATO_REDIS_URL if set (else the PostgreSQL shared store). Loopback only; bounded in time
and in requests; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database
from _load import free_port, wait_until_up

PASSWORD = "correct horse battery staple"
ARTICLE = {"type": "article", "label": "Article",
           "fields": [{"name": "field_body", "type": "text_long", "label": "Body"}]}
MIX = (("anonymous", 0.60), ("logged_in", 0.25), ("write", 0.15))
RSS_EVERY_S = 5.0
SLOPE_WINDOW_S = 300.0
SCRAPE_TRIES = 40  # new connections per interval to reach every worker behind the one port


@dataclass
class Interval:
    """What one interval of the soak saw."""

    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def row(self, index: int, seconds: float) -> dict[str, float]:
        ordered = sorted(self.latencies) or [0.0]
        return {
            "interval": index,
            "requests": len(self.latencies),
            "req_per_s": round(len(self.latencies) / seconds, 1),
            "errors": self.errors,
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2),
        }


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "trovato", *args], input=stdin, text=True,
                            capture_output=True, env=env, check=False, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"trovato {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def _workers(master: int) -> list[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _setup(base: str, env: dict[str, str], items: int, users: int) -> dict[str, object]:
    """Admin, token, article type, published items and logged-in sessions."""
    _cli(env, "user", "create", "--admin", "--name", "root", "--mail", "root@example.com",
         "--password-stdin", stdin=PASSWORD + "\n")
    for n in range(users):
        _cli(env, "user", "create", "--name", f"reader{n}", "--mail", f"reader{n}@example.com",
             "--password-stdin", stdin=PASSWORD + "\n")
    with httpx.Client(base_url=base, timeout=60) as client:
        login = client.post("/api/v1/session", json={"name": "root", "pass": PASSWORD})
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        token = client.post("/api/v1/tokens", json={"label": "soak"}, headers=csrf).json()
        bearer = {"Authorization": f"Bearer {token['token']}"}
        client.post("/api/v1/item-types", json=ARTICLE, headers=bearer).raise_for_status()
        ids = []
        for n in range(items):
            made = client.post("/api/v1/items", headers=bearer, json=_item(f"Soak item {n}"))
            made.raise_for_status()
            ids.append(made.json()["id"])
    cookies = []
    for n in range(users):
        with httpx.Client(base_url=base, timeout=60) as client:
            client.post("/api/v1/session", json={"name": f"reader{n}", "pass": PASSWORD}
                        ).raise_for_status()
            cookies.append(client.cookies["trovato_session"])
    return {"bearer": bearer, "items": ids, "cookies": cookies}


def _item(title: str) -> dict[str, object]:
    return {"type": "article", "title": title, "status": 1, "promote": True,
            "fields": {"field_body": {"value": f"<p>{title}: " + "lorem ipsum " * 40 + "</p>",
                                      "format": "filtered_html"}}}


async def _client(base: str, site: dict[str, object], deadline: float, budget: list[int],
                  intervals: list[Interval], started: float, interval_s: float) -> None:
    items: list[str] = site["items"]  # type: ignore[assignment]
    cookies: list[str] = site["cookies"]  # type: ignore[assignment]
    bearer: dict[str, str] = site["bearer"]  # type: ignore[assignment]
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            kind = random.choices(kinds, weights)[0]
            item = random.choice(items)
            t0 = time.monotonic()
            ok = False
            try:
                if kind == "anonymous":
                    path = "/" if random.random() < 0.2 else f"/item/{item}"
                    response = await client.get(path)
                elif kind == "logged_in":
                    response = await client.get(
                        f"/item/{item}",
                        headers={"cookie": f"trovato_session={random.choice(cookies)}"})
                elif random.random() < 0.5:
                    response = await client.post("/api/v1/items", headers=bearer,
                                                 json=_item(f"Soak write {time.time_ns()}"))
                else:
                    response = await client.patch(
                        f"/api/v1/items/{item}", headers=bearer,
                        json={"title": f"Soak update {time.time_ns()}"})
                ok = response.is_success
                client.cookies.clear()
            except httpx.HTTPError:
                ok = False
            t1 = time.monotonic()
            index = min(int((t0 - started) / interval_s), len(intervals) - 1)
            bucket = intervals[index]
            bucket.latencies.append(t1 - t0)
            bucket.by_kind[kind] = bucket.by_kind.get(kind, 0) + 1
            bucket.errors += not ok


def _parse_metrics(text: str) -> tuple[int | None, dict[str, dict[str, float]]]:
    """The answering worker's pid and its caches: name -> {"entries": n, "bytes": n}."""
    pid = None
    caches: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if line.startswith("trovato_process_pid "):
            pid = int(float(line.split()[1]))
        for metric, key in (("trovato_memory_cache_entries", "entries"),
                            ("trovato_memory_cache_bytes", "bytes")):
            if line.startswith(metric + '{cache="'):
                name = line.split('"')[1]
                caches.setdefault(name, {})[key] = float(line.rsplit(" ", 1)[1])
    return pid, caches


async def _scrape(base: str, bearer: dict[str, str], workers: list[int]
                  ) -> dict[int, dict[str, dict[str, float]]]:
    """Each worker's caches, from ``/metrics`` over new connections until every worker answered."""
    found: dict[int, dict[str, dict[str, float]]] = {}
    for _ in range(SCRAPE_TRIES):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            try:
                response = await client.get("/metrics", headers=bearer)
            except httpx.HTTPError:
                continue
        if response.is_success:
            pid, caches = _parse_metrics(response.text)
            if pid is not None:
                found[pid] = caches
        if set(workers) <= set(found):
            break
    return found


async def _sample_memory(base: str, master: int, site: dict[str, object], deadline: float,
                         started: float, interval_s: float, tracemalloc: bool,
                         memory: list[dict[str, Any]]) -> None:
    """At the end of each interval: each worker's RSS and caches; with ``tracemalloc``, the
    first interval's end asks each worker for its baseline dump."""
    bearer: dict[str, str] = site["bearer"]  # type: ignore[assignment]
    index = 1
    while True:
        wake = started + index * interval_s
        if wake > deadline:
            return
        await asyncio.sleep(max(0.0, wake - time.monotonic()))
        workers = _workers(master)
        caches = await _scrape(base, bearer, workers)
        memory.append({"interval": index, "workers": {
            str(pid): {"rss_mb": _rss_mb(pid), "caches": caches.get(pid, {})}
            for pid in workers}})
        if tracemalloc and index == 1:
            for pid in workers:
                os.kill(pid, signal.SIGUSR2)
        index += 1


async def _sample_rss(master: int, deadline: float, started: float,
                      samples: dict[int, list[tuple[float, float]]]) -> None:
    while time.monotonic() < deadline:
        for pid in _workers(master):
            rss = _rss_mb(pid)
            if rss is not None:
                samples.setdefault(pid, []).append((time.monotonic() - started, rss))
        await asyncio.sleep(RSS_EVERY_S)


async def _soak(base: str, master: int, site: dict[str, object], args: argparse.Namespace,
                memory: list[dict[str, Any]]
                ) -> tuple[list[Interval], dict[int, list[tuple[float, float]]], float]:
    started = time.monotonic()
    cpu_started = time.process_time()
    deadline = started + args.seconds
    count = max(1, -(-args.seconds // args.interval))
    intervals = [Interval() for _ in range(count)]
    budget = [args.max_requests]
    samples: dict[int, list[tuple[float, float]]] = {}
    sampler = asyncio.create_task(_sample_rss(master, deadline, started, samples))
    scraper = asyncio.create_task(_sample_memory(base, master, site, deadline + 1, started,
                                                 args.interval, args.tracemalloc, memory))
    await asyncio.gather(*(
        _client(base, site, deadline, budget, intervals, started, args.interval)
        for _ in range(args.clients)))
    sampler.cancel()
    await scraper
    elapsed = time.monotonic() - started
    # The load generator shares the machine with the server: say how much of it it took.
    print(f"load generator CPU: {(time.process_time() - cpu_started) / elapsed:.0%} of one core")
    return intervals, samples, elapsed


def _slope(series: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per second."""
    if len(series) < 2:
        return 0.0
    mean_t = statistics.fmean(t for t, _ in series)
    mean_mb = statistics.fmean(mb for _, mb in series)
    spread = sum((t - mean_t) ** 2 for t, _ in series)
    return sum((t - mean_t) * (mb - mean_mb) for t, mb in series) / spread if spread else 0.0


def _print_memory(memory: list[dict[str, Any]]) -> None:
    """Per interval and worker: RSS and each cache's MB."""
    names = sorted({name for row in memory for w in row["workers"].values()
                    for name in w["caches"]})
    if not memory:
        return
    print("memory at the end of each interval (RSS and each cache, MB):")
    print(" interval  worker   RSS  " + " ".join(f"{n:>14}" for n in names))
    for row in memory:
        for pid, w in sorted(row["workers"].items()):
            rss = w["rss_mb"] if w["rss_mb"] is not None else float("nan")
            cells = [f"{w['caches'].get(name, {}).get('bytes', float('nan')) / 2**20:14.2f}"
                     for name in names]
            print(f" {row['interval']:8d}  {pid:>6}  {rss:5.1f} " + " ".join(cells))


def _tracemalloc_dumps(log_path: Path) -> list[dict[str, Any]]:
    """The workers' tracemalloc dumps from the server's JSON log."""
    dumps = []
    for line in log_path.read_text(errors="replace").splitlines():
        if '"trovato.memory"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "growth" in entry:
            dumps.append(entry)
    return dumps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=600, help="Soak duration (default 600).")
    parser.add_argument("--clients", type=int, default=64, help="Concurrent clients (64).")
    parser.add_argument("--workers", type=int, default=2, help="granian workers (2).")
    parser.add_argument("--interval", type=int, default=60, help="Seconds per report row (60).")
    parser.add_argument("--items", type=int, default=200, help="Seed items (200).")
    parser.add_argument("--users", type=int, default=8, help="Logged-in sessions (8).")
    parser.add_argument("--max-requests", type=int, default=5_000_000,
                        help="Stop after this many requests (5,000,000).")
    parser.add_argument("--cache-bytes", type=int,
                        help="Bound the page cache and each text cache of every worker at this"
                        " many bytes (default: the site's defaults).")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="Trace allocations in the workers and print where they grew"
                        " between the end of the warm-up and the end.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    args.interval = min(args.interval, args.seconds)

    load_before = os.getloadavg()
    with scratch_database("soak") as url, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TROVATO_DATABASE_URL": url,
               # Every client is 127.0.0.1: the per-address write limit would throttle the mix.
               "TROVATO_WRITE_RATE_LIMIT": "100000000", "TROVATO_LOGIN_IP_LIMIT": "100000",
               "TROVATO_SLOW_REQUEST_MS": "5000"}
        if args.cache_bytes is not None:
            env["TROVATO_PAGE_CACHE_BYTES"] = env["TROVATO_TEXT_CACHE_BYTES"] = str(
                args.cache_bytes)
        if args.tracemalloc:
            env["TROVATO_DEBUG_TRACEMALLOC"] = "1"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "serve.log"
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "trovato", "serve", "--host", "127.0.0.1", "--port",
                 str(port), "--workers", str(args.workers)],
                env=env, stdout=log, stderr=log, start_new_session=True)
        try:
            wait_until_up(base + "/health")
            site = _setup(base, env, args.items, args.users)
            pids_before = sorted(_workers(server.pid))
            memory: list[dict[str, Any]] = []
            intervals, samples, elapsed = asyncio.run(
                _soak(base, server.pid, site, args, memory))
            pids_after = sorted(_workers(server.pid))
        finally:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        dumps = _tracemalloc_dumps(log_path) if args.tracemalloc else []
    load_after = os.getloadavg()

    rows = [iv.row(n + 1, min(args.interval, elapsed - n * args.interval))
            for n, iv in enumerate(intervals) if iv.latencies]
    total = sum(r["requests"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    print(f"soak: {elapsed:.0f} s, {args.clients} clients, {args.workers} workers,"
          f" {total} requests ({total / elapsed:.0f}/s), {errors} errors")
    print(" interval  requests    req/s  errors   p50 ms   p99 ms")
    for r in rows:
        print(f" {r['interval']:8d}  {r['requests']:8d}  {r['req_per_s']:7.1f}  {r['errors']:6d}"
              f"  {r['p50_ms']:7.2f}  {r['p99_ms']:7.2f}")
    steady = [r["p99_ms"] for r in rows[1:]] or [r["p99_ms"] for r in rows]
    print(f"p99 after warm-up: min {min(steady):.2f} ms, max {max(steady):.2f} ms,"
          f" max/min {max(steady) / max(min(steady), 1e-9):.2f}")
    _print_memory(memory)
    rss: dict[str, dict[str, float]] = {}
    window = min(SLOPE_WINDOW_S, elapsed / 2)
    for pid, series in sorted(samples.items()):
        warm = [mb for t, mb in series if t <= args.interval] or [series[0][1]]
        tail = [(t, mb) for t, mb in series if t >= elapsed - window]
        rss[str(pid)] = {"warm_mb": round(warm[-1], 1), "end_mb": round(series[-1][1], 1),
                         "max_mb": round(max(mb for _, mb in series), 1),
                         "slope_mb_per_min": round(_slope(tail) * 60, 3)}
        r = rss[str(pid)]
        growth = r["end_mb"] - r["warm_mb"]
        print(f"worker {pid}: RSS after warm-up {r['warm_mb']:.1f} MB, at the end"
              f" {r['end_mb']:.1f} MB ({growth:+.1f} MB), max {r['max_mb']:.1f};"
              f" slope over the last {window / 60:.1f} min {r['slope_mb_per_min']:+.3f} MB/min")
    for dump in dumps:
        print(f"tracemalloc, worker {dump['pid']}, dump {dump['dump']} ({dump['msg']}):")
        for site_row in dump["growth"][:15]:
            print(f"  {site_row['size_diff'] / 1024:+9.1f} KiB {site_row['count_diff']:+7d}"
                  f"  {site_row['site']}")
    if pids_before != pids_after:
        print(f"WARNING: workers changed during the soak: {pids_before} -> {pids_after}")
    before = "/".join(f"{x:.2f}" for x in load_before)
    after = "/".join(f"{x:.2f}" for x in load_after)
    print(f"load average (1/5/15 min): before {before}, after {after}")
    if args.json:
        args.json.write_text(json.dumps({
            "seconds": elapsed, "clients": args.clients, "workers": args.workers,
            "requests": total, "errors": errors, "intervals": rows, "rss": rss,
            "cache_bytes": args.cache_bytes, "memory": memory, "tracemalloc": dumps,
            "rss_series": {str(p): s for p, s in samples.items()},
            "load_before": load_before, "load_after": load_after}, indent=1))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
