"""Deterministic profile of the logged-in pages of ``bench_admin.py``: Python calls and SQL
statements per request, and where the calls go.

Prepares the same site as ``bench_admin.py`` (an administrator, the 20-field type, 10,000
items), then drives the ASGI app in-process with raw ASGI calls (no server, no HTTP client in
the profile) as the logged-in administrator, ``--requests`` times per page:

- ``content-list``: ``GET /admin/content`` (default filters);
- ``item-page``: ``GET /item/{id}``;
- ``edit-form``: ``GET /item/{id}/edit``;
- ``edit-submit``: ``POST /item/{id}/edit`` with the form a browser sends (only the POST is
  profiled; the GET that makes its form build id runs outside the profile).

For each page it prints cProfile's function calls per request, the SQL statements per request
(the ``Server-Timing`` count), the shared store's operations per request and the top
functions by cumulative time. Call counts do not depend on the machine's load, so two trees
can be compared on a busy machine; throughput needs ``bench_admin.py`` on a quiet one.
Run: ``python benchmarks/profile_admin.py [--requests 200] [--top 25] [--redis URL]
[--only content-list,edit-form] [--save DIR] [--sql]``. Uses TROVATO_DATABASE_URL if
set, else an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database
from bench_admin import NAME, PASSWORD, _FormFields, _prepare

from trovato.app import create_app
from trovato.db.pool import ProfiledCursor
from trovato.settings import Settings

QUERIES = re.compile(rb'db;[^,]*desc="(\d+) queries"')
PAGES = ("content-list", "item-page", "edit-form", "edit-submit")


class Reply:
    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k == name), None)

    def queries(self) -> int:
        found = QUERIES.search(self.header(b"server-timing") or b"")
        return int(found.group(1)) if found else -1


async def call(app: Any, method: str, path: str, cookie: str = "",
               body: bytes = b"", content_type: str = "") -> Reply:
    """One request through the ASGI app, as a server would make it."""
    headers = [(b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if body:
        headers += [(b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    sent = False
    reply = Reply()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply.status, reply.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            reply.body += message.get("body", b"")

    await app(scope, receive, send)
    return reply


class StoreCounter:
    """Counts calls of the shared store's methods (sessions, cache, locks, queue, rate limits)."""

    def __init__(self, kernel: Any) -> None:
        self.counts: Counter[str] = Counter()
        store = kernel.store
        for part in ("sessions", "cache", "locks", "queue", "rate_limits"):
            target = getattr(store, part, None)
            if target is None:
                continue
            for name in dir(target):
                method = getattr(target, name)
                if name.startswith("_") or not asyncio.iscoroutinefunction(method):
                    continue
                setattr(target, name, self._wrap(f"{part}.{name}", method))

    def _wrap(self, label: str, method: Callable[..., Awaitable[Any]]
              ) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[label] += 1
            return await method(*args, **kwargs)
        return counted


async def _profile(app: Any, counter: StoreCounter, cookie: str, ids: list[str], page: str,
                   requests: int, top: int, save: str, show_sql: bool) -> None:
    item = ids[0]
    form_body = b""
    if page == "edit-submit":
        form_body = await _form_body(app, cookie, item)

    async def one() -> Reply:
        if page == "content-list":
            return await call(app, "GET", "/admin/content", cookie)
        if page == "item-page":
            return await call(app, "GET", f"/item/{item}", cookie)
        if page == "edit-form":
            return await call(app, "GET", f"/item/{item}/edit", cookie)
        raise AssertionError(page)

    async def submit(profiled: bool = True) -> Reply:
        form = await call(app, "GET", f"/item/{item}/edit", cookie)
        build = re.search(rb'name="form_build_id" value="([^"]+)"', form.body)
        assert build is not None
        body = form_body.replace(b"BUILD", build.group(1))
        counter.counts.clear()  # the GET's operations are not the save's
        if profiled:
            profiler.enable()
        reply = await call(app, "POST", f"/item/{item}/edit", cookie, body,
                           "application/x-www-form-urlencoded")
        profiler.disable()
        return reply

    profiler = cProfile.Profile()
    for _ in range(10):  # warm: caches, compiled statements and templates
        reply = await (submit(False) if page == "edit-submit" else one())
    expected = 303 if page == "edit-submit" else 200
    assert reply.status == expected, (page, reply.status, reply.body[:500])
    # Wall time without the profiler first (median: the machine may be busy).
    walls = []
    for _ in range(requests):
        started = time.perf_counter()
        await (submit(False) if page == "edit-submit" else one())
        walls.append(time.perf_counter() - started)
    profiler = cProfile.Profile()
    store_ops: Counter[str] = Counter()
    sql = 0
    for _ in range(requests):
        counter.counts.clear()
        if page == "edit-submit":
            reply = await submit()
        else:
            profiler.enable()
            reply = await one()
            profiler.disable()
        assert reply.status == expected, (page, reply.status)
        sql += reply.queries()
        store_ops.update(counter.counts)
    if show_sql:
        await _print_statements(submit(False) if page == "edit-submit" else one())
    stats = pstats.Stats(profiler)
    if save:
        stats.dump_stats(str(Path(save) / f"{page}.prof"))
    total_calls = stats.total_calls  # type: ignore[attr-defined]
    wall_note = ", GET + POST" if page == "edit-submit" else ""
    print(f"\n=== {page}: {total_calls / requests:,.0f} calls/request,"
          f" {sql / requests:.1f} SQL/request,"
          f" {statistics.median(walls) * 1000:.2f} ms/request (median, unprofiled{wall_note}),"
          f" {len(reply.body):,} bytes")
    ops = ", ".join(f"{k} {v / requests:g}" for k, v in sorted(store_ops.items()))
    print(f"store operations/request: {ops or 'none'}")
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(top)
    print(_trim(out.getvalue()))
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("ncalls").print_stats(top)
    print(_trim(out.getvalue()))


async def _print_statements(request: Awaitable[Reply]) -> None:
    """Run ``request`` printing each SQL statement it sends (the first line of each)."""
    statements: list[str] = []
    original = ProfiledCursor.execute

    async def execute(self: ProfiledCursor, query: Any, params: Any = None, **kw: Any) -> Any:
        statements.append(" ".join(str(query).split())[:160])
        return await original(self, query, params, **kw)

    ProfiledCursor.execute = execute  # type: ignore[method-assign]
    try:
        await request
    finally:
        ProfiledCursor.execute = original  # type: ignore[method-assign]
    print("statements of one request (the POST's only, for edit-submit):")
    for n, statement in enumerate(statements, 1):
        print(f"  {n:2}. {statement}")


def _trim(report: str) -> str:
    """pstats' table without its preamble, the paths shortened to the package."""
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(re.sub(r"/\S*/(site-packages|src)/", "", line)
                     for line in lines[start:] if line.strip())


async def _form_body(app: Any, cookie: str, item: str) -> bytes:
    page = await call(app, "GET", f"/item/{item}/edit", cookie)
    parser = _FormFields(f"/item/{item}/edit")
    parser.feed(page.body.decode())
    pairs = [(k, "BUILD" if k == "form_build_id" else v) for k, v in parser.pairs]
    return urlencode([*pairs, ("op", "save")]).encode()


async def _run(url: str, args: argparse.Namespace) -> None:
    ids = await _prepare(url, 1)
    values: dict[str, Any] = {"database_url": url, "page_cache_seconds": 0,
                              "slow_request_ms": 100_000, "environment": "production"}
    if args.redis:
        values.update(redis_url=args.redis, redis_prefix=f"trovato-profile:{os.getpid()}:")
    app = create_app(Settings(**values))
    async with app.router.lifespan_context(app):
        counter = StoreCounter(app.state.kernel)
        login = await call(app, "POST", "/api/v1/session", body=orjson.dumps(
            {"name": NAME, "pass": PASSWORD}), content_type="application/json")
        assert login.status == 200, login.body
        cookie = "; ".join(v.decode().split(";")[0] for k, v in login.headers
                           if k == b"set-cookie")
        only = args.only.split(",") if args.only else PAGES
        for page in only:
            await _profile(app, counter, cookie, ids, page, args.requests, args.top, args.save,
                           args.sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="profiled requests per page")
    parser.add_argument("--top", type=int, default=25, help="functions shown per table")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {PAGES}")
    parser.add_argument("--redis", metavar="URL", default="",
                        help="sessions and form states in this Redis instead of PostgreSQL")
    parser.add_argument("--save", metavar="DIR", default="",
                        help="also write each page's profile to DIR/<page>.prof (pstats)")
    parser.add_argument("--sql", action="store_true",
                        help="print the statements of one more request of each page")
    args = parser.parse_args()
    with scratch_database("profile") as url:
        asyncio.run(_run(url, args))


if __name__ == "__main__":
    main()
