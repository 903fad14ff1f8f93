"""Load generation for the benchmarks: granian servers under test (:func:`serving`, one per
app and database), wrk when installed (else a small asyncio client), warm-up with a check of
each page, and interleaved measurement so machine noise hits every variant.

Results are requests/s and latency percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).parent


@dataclass
class LoadResult:
    tool: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def row(self) -> str:
        return (f"{self.requests_per_s:10.0f} req/s  p50 {self.p50_ms:7.2f} ms"
                f"  p99 {self.p99_ms:7.2f} ms")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"cannot parse wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, *, seconds: int, connections: int, threads: int = 1,
            headers: Mapping[str, str] | None = None, script: Path | None = None) -> LoadResult:
    """wrk against ``url``, with extra request ``headers`` (a session cookie) and a Lua
    ``script`` (requests other than one GET) when given."""
    extra = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    if script is not None:
        extra += ["-s", str(script)]
    out = subprocess.run(
        ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", *extra, url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # Anchored: the thread-stats table also has numbers ending in "50%" (e.g. "73.50%").
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    return LoadResult("wrk", rps, p50, p99, total, errors)


async def _client(host: str, port: int, path: str, stop: float, latencies: list[float],
                  errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    try:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status_line.split()[1].startswith((b"2", b"3")):
                errors.append(1)
    finally:
        writer.close()


def run_python(url: str, *, seconds: int, connections: int) -> LoadResult:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    latencies: list[float] = []
    errors: list[int] = []

    async def main() -> float:
        stop = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(
            _client(parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/", stop,
                    latencies, errors)
            for _ in range(connections)
        ))
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    ordered = sorted(latencies)
    return LoadResult(
        "python",
        len(ordered) / elapsed,
        statistics.median(ordered) * 1000,
        ordered[int(len(ordered) * 0.99) - 1] * 1000,
        len(ordered),
        len(errors),
    )


def run_load(url: str, *, seconds: int, connections: int) -> LoadResult:
    if shutil.which("wrk"):
        return run_wrk(url, seconds=seconds, connections=connections)
    return run_python(url, seconds=seconds, connections=connections)


def load_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options every load benchmark takes: how long, how many clients, workers, rounds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    return parser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_granian(target: str, port: int, workers: int, env: Mapping[str, str],
                  factory: bool) -> subprocess.Popen[bytes]:
    """An ASGI app on granian in its own process group (stop it with os.killpg)."""
    args = [sys.executable, "-m", "granian", "--interface", "asgi", "--port", str(port),
            "--workers", str(workers), "--no-ws", "--log-level", "warning"]
    if factory:
        args.append("--factory")
    merged = {**os.environ, **env}
    if merged.get("PYTHONPATH"):
        # The server runs in this folder: a relative entry (``PYTHONPATH=src``) would name
        # nothing there, and the server would quietly import another checkout's trovato.
        merged["PYTHONPATH"] = os.pathsep.join(
            str(Path(entry).resolve()) for entry in merged["PYTHONPATH"].split(os.pathsep))
    return subprocess.Popen([*args, target], env=merged, cwd=HERE, start_new_session=True)


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


def measure_interleaved(urls: Mapping[str, str], *, rounds: int, seconds: int,
                        connections: int) -> dict[str, LoadResult]:
    """Each variant measured once per round, round by round; the best run of each."""
    results: dict[str, list[LoadResult]] = {name: [] for name in urls}
    for _ in range(rounds):
        for name, target_url in urls.items():
            results[name].append(run_load(target_url, seconds=seconds, connections=connections))
    if any(r.errors for runs in results.values() for r in runs):
        print("WARNING: some responses were errors")
    return {k: max(v, key=lambda r: r.requests_per_s) for k, v in results.items()}


@dataclass(frozen=True)
class Variant:
    """One measured URL: an app (``bare_app:app``, or the site factory on ``database``) and
    the path asked of it."""

    target: str
    path: str = "/"
    database: str | None = None

    @property
    def factory(self) -> bool:
        return self.database is not None


def bare(path: str = "/") -> Variant:
    return Variant("bare_app:app", path)


def site(database: str, path: str = "/") -> Variant:
    return Variant("trovato.app:create_app", path, database)


@contextmanager
def serving(variants: Mapping[str, Variant], *, workers: int,
            env: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """One granian server per app and database (a site's pages share its caches), each with
    ``workers`` workers and ``env``; yields every variant's URL once all answer, and stops
    the servers afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    servers: dict[tuple[str, str | None], str] = {}
    urls: dict[str, str] = {}
    try:
        for name, variant in variants.items():
            key = (variant.target, variant.database)
            if key not in servers:
                port = free_port()
                server_env = dict(env)
                if variant.database is not None:
                    server_env["TROVATO_DATABASE_URL"] = variant.database
                procs.append(start_granian(variant.target, port, workers, server_env,
                                           variant.factory))
                servers[key] = f"http://127.0.0.1:{port}"
            urls[name] = servers[key] + variant.path
        for target_url in urls.values():
            wait_until_up(target_url)
        yield urls
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(15)


def warm_up(urls: Mapping[str, str], *, connections: int,
            check: Callable[[str, httpx.Response], None]) -> None:
    """Each URL checked once by ``check(name, response)``, then asked a few times and loaded
    for two seconds, so caches and pools are warm before anything is measured."""
    for name, target_url in urls.items():
        check(name, httpx.get(target_url, timeout=60))
        for _ in range(5):
            httpx.get(target_url, timeout=60)
        with contextlib.suppress(ValueError):
            run_load(target_url, seconds=2, connections=connections)


def showing(pattern: str, count: int, baseline: str = "bare"
            ) -> Callable[[str, httpx.Response], None]:
    """A :func:`warm_up` check: every page answers 200, and each but the baseline shows
    ``count`` different matches of ``pattern`` (say, the 25 items of a listing's page)."""

    def check(name: str, response: httpx.Response) -> None:
        assert response.status_code == 200, (name, response.status_code)
        if name != baseline:
            shown = len(set(re.findall(pattern, response.text)))
            assert shown == count, (name, shown)

    return check


def print_ratios(best: Mapping[str, LoadResult], baseline: str = "bare") -> dict[str, float]:
    """A line per variant with its share of the baseline's requests/s; returns the shares."""
    base = best[baseline].requests_per_s
    ratios = {name: result.requests_per_s / base for name, result in best.items()}
    for name, result in best.items():
        print(f"{name:14} {result.row()}  {ratios[name]:6.1%} of {baseline}")
    return ratios
