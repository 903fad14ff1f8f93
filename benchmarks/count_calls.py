"""Function calls per request: a page served in-process under cProfile, counted, not timed.

Throughput on a shared machine moves by ±10% between runs; the number of Python function calls
a request makes does not, so it finds a regression of a few percent that timing cannot. The
ASGI app (of whatever tree ``PYTHONPATH`` points at) is called directly, with no server and no
HTTP client, as an anonymous visitor with the page cache off, on a database prepared by
``bench_content.py --prepare URL --plugins ""`` (the item page's 20-field type, 25 items).

Run: ``python benchmarks/count_calls.py URL PATH`` (``PATH``: ``/item/<id>`` printed by the
prepare step, or ``/``). Prints the calls per request (every call, as cProfile records them),
and with ``--top N`` the N functions called most often per request.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
App = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Message]],
                Callable[[Message], Awaitable[None]]], Awaitable[None]]


async def _started(app: App) -> tuple[asyncio.Queue[Message], asyncio.Task[None]]:
    """Run the app's lifespan startup; the queue ends it."""
    events: asyncio.Queue[Message] = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})
    ready = asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"].endswith(".failed"):
            raise SystemExit(f"the app did not start: {message}")
        if message["type"] == "lifespan.startup.complete":
            ready.set()

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"},
                                    "state": {}}, events.get, send))
    await ready.wait()
    return events, task


async def count(path: str, requests: int, warm_up: int = 20) -> cProfile.Profile:
    """``requests`` GETs of ``path`` under a profiler, after ``warm_up`` unprofiled ones."""
    from trovato.app import create_app

    app: App = create_app()
    events, lifespan = await _started(app)
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    def scope() -> MutableMapping[str, Any]:
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
                "root_path": "", "query_string": b"", "headers": [(b"host", b"localhost")],
                "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}

    for _ in range(warm_up):  # caches filled, as on a live site
        await app(scope(), receive, send)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        await app(scope(), receive, send)
    profile.disable()
    await events.put({"type": "lifespan.shutdown"})
    await lifespan
    if set(statuses) != {200}:
        raise SystemExit(f"{path} answered {sorted(set(statuses))}, not only 200")
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the prepared database")
    parser.add_argument("path", help="the page, e.g. /item/<id> or /")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--top", type=int, default=0, help="also list the N most called")
    args = parser.parse_args()
    os.environ.update({"TROVATO_DATABASE_URL": args.url, "TROVATO_PAGE_CACHE_SECONDS": "0",
                       "TROVATO_SLOW_REQUEST_MS": "10000", "TROVATO_DB_POOL_MAX": "4",
                       "TROVATO_FRONT_PAGE_ITEMS": "25"})
    os.environ.pop("TROVATO_REDIS_URL", None)  # bench_content's servers run without Redis
    profile = asyncio.run(count(args.path, args.requests))
    # From the raw entries: pstats merges functions that share a file, line and name (every
    # dataclass's generated __init__ is "<string>:2"), which would undercount.
    entries = [e for e in profile.getstats() if e.callcount]
    total = sum(e.callcount for e in entries)
    print(f"{args.path}: {total / args.requests:,.1f} calls per request "
          f"({args.requests} requests)")
    for entry in sorted(entries, key=lambda e: -e.callcount)[:args.top]:
        code = entry.code
        where = code if isinstance(code, str) else \
            f"{code.co_filename}:{code.co_firstlineno}:{code.co_qualname}"
        print(f"{entry.callcount / args.requests:9.1f}  {where}")


if __name__ == "__main__":
    main()
