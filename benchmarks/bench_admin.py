"""Admin benchmark: the content list with 10,000 items and the item edit form (render and
submit), logged in as an administrator, against the bare page in the same run.

Variants, interleaved round by round so machine noise hits all (one Trovato server and the
bare Starlette page, each on granian with the same worker count):

- ``bare``: the bare Starlette page (the baseline, ``bare_app.py``);
- ``content-list``: ``GET /admin/content`` (50 rows of 10,000 items, newest edit first, with
  the count) with the admin's session cookie;
- ``item-page``: ``GET /item/{id}`` of the edited item, logged in: the site's page the admin
  pages are held against (DESIGN §13: "every admin page renders in under the same time budget
  as an item page");
- ``edit-form``: ``GET /item/{id}/edit`` of an item whose type has 20 fields, all filled;
- ``edit-submit``: the edit round trip as a browser makes it — ``GET`` the form, ``POST`` it
  back (a new revision saved, 303) — each wrk connection on its own item, so no save
  conflicts with another's (``edit_submit.lua``; one connection per wrk thread). Its requests
  are half GETs: the share of bare is of the saves per second (round trips).

The 10,000 items are written with one INSERT … SELECT (the list reads their rows; how they
were written does not matter to it), the edited items through the content service. The page
cache is off (it never serves a logged-in user anyway). The goal (DESIGN §13): each ≥ 4% of
the bare page. SQL queries per request are read from the ``Server-Timing`` header.
Run: ``python benchmarks/bench_admin.py --seconds N`` (``--redis URL``: sessions and form
states in Redis, as on a production site, instead of PostgreSQL). Uses TROVATO_DATABASE_URL if
set, else an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database
from _load import (
    LoadResult,
    free_port,
    load_arguments,
    run_wrk,
    start_granian,
    wait_until_up,
)
from bench_content import QUERIES, _field_values, _item_type

from trovato.kernel.services import Kernel
from trovato.settings import load_settings

HERE = Path(__file__).parent
LIST_ITEMS = 10_000
GOAL = 0.04
NAME, PASSWORD = "bench", "quiet lantern orbit 7"
TOTAL = re.compile(r"total;dur=([\d.]+)")


async def _prepare(url: str, editors: int) -> list[str]:
    """The admin, the 20-field type, ``editors`` items to edit and 10,000 to list; returns
    the edited items' ids."""
    kernel = await Kernel.start(load_settings(database_url=url), url)
    try:
        admin_id = await kernel.accounts.create(name=NAME, mail="bench@example.com",
                                                password=PASSWORD, is_admin=True)
        admin = await kernel.accounts.load(admin_id)
        assert admin is not None
        await kernel.content.types.create(_item_type())
        ids = []
        for n in range(editors):
            item = await kernel.content.items.create(
                admin, "bench_page", title=f"Edited item {n}", status=1,
                fields=_field_values(n))
            ids.append(str(item.id))
        # Edited a minute apart, oldest first, as a site's history would have them.
        await kernel.db.execute(
            "INSERT INTO item (type, title, author_id, status, summary, created, changed)"
            " SELECT 'bench_page', 'Listed item ' || g, %s, (g %% 5 <> 0)::int, 'A summary.',"
            " now() - make_interval(mins => %s - g), now() - make_interval(mins => %s - g)"
            " FROM generate_series(1, %s) AS g",
            (admin_id, LIST_ITEMS, LIST_ITEMS, LIST_ITEMS - editors))
        await kernel.db.execute("ANALYZE item")
        return ids
    finally:
        await kernel.stop()


class _FormFields(HTMLParser):
    """The (name, value) pairs a browser submits from the form posting to ``action``."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.pairs = action, False, []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.pairs.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.pairs.append((name, ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.pairs.append((self._select, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, value = self.pairs[-1]
            self.pairs[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _edit_script(client: httpx.Client, base: str, ids: list[str], folder: Path) -> Path:
    """``edit_submit.lua`` with the item ids and the form's body filled in."""
    page = client.get(f"{base}/item/{ids[0]}/edit")
    assert page.status_code == 200, page.status_code
    parser = _FormFields(f"/item/{ids[0]}/edit")
    parser.feed(page.text)
    pairs = [(k, "BUILD" if k == "form_build_id" else v) for k, v in parser.pairs]
    assert any(k == "form_build_id" for k, _ in pairs) and any(k == "csrf_token" for k, _ in pairs)
    body = urlencode([*pairs, ("op", "save")])
    lua = (HERE / "edit_submit.lua").read_text()
    header = (f"ITEMS = {{{', '.join(json.dumps(i) for i in ids)}}}\n"
              f"BODY = {json.dumps(body)}\n")
    script = folder / "edit_submit.lua"
    script.write_text(header + lua)
    return script


def _queries(response: httpx.Response) -> int | None:
    match = QUERIES.search(response.headers.get("server-timing", ""))
    return int(match.group(1)) if match else None


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--editors", type=int, default=8,
                        help="wrk connections (each its own thread and item) for edit-submit")
    parser.add_argument("--redis", metavar="URL", default="",
                        help="keep sessions and form states in this Redis (a key prefix of"
                             " this run's own)")
    args = parser.parse_args()
    os.environ.setdefault("TROVATO_DATA_DIR", str(Path.home() / ".cache" / "trovato-bench"))
    procs: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(scratch_database("admin"))
        os.environ["TROVATO_DATABASE_URL"] = url
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-admin-")))
        ids = asyncio.run(_prepare(url, args.editors))
        try:
            _run(url, ids, folder, args, procs)
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(15)


def _run(url: str, ids: list[str], folder: Path, args: argparse.Namespace,
         procs: list[subprocess.Popen[bytes]]) -> None:
    seconds, rounds = int(args.seconds), int(args.rounds)
    connections, workers, editors = int(args.connections), int(args.workers), int(args.editors)
    bare_port, site_port = free_port(), free_port()
    procs.append(start_granian("bare_app:app", bare_port, workers, {}, False))
    env = {"TROVATO_PAGE_CACHE_SECONDS": "0", "TROVATO_SLOW_REQUEST_MS": "10000",
           "TROVATO_DB_POOL_MAX": "8"}
    if args.redis:
        env.update({"TROVATO_REDIS_URL": args.redis,
                    "TROVATO_REDIS_PREFIX": f"trovato-bench-admin:{os.getpid()}:"})
    procs.append(start_granian("trovato.app:create_app", site_port, workers,
                               {**env, "TROVATO_DATABASE_URL": url}, True))
    bare, site = f"http://127.0.0.1:{bare_port}/", f"http://127.0.0.1:{site_port}"
    wait_until_up(bare)
    wait_until_up(f"{site}/")
    client = httpx.Client(timeout=30)
    login = client.post(f"{site}/api/v1/session", json={"name": NAME, "pass": PASSWORD})
    assert login.status_code == 200, login.text
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    headers = {"Cookie": cookie}
    pages = {"content-list": f"{site}/admin/content",
             "item-page": f"{site}/item/{ids[0]}", "edit-form": f"{site}/item/{ids[0]}/edit"}
    queries: dict[str, int | None] = {}
    # Server-Timing total of one request to a warm, idle server (median of 5)
    single_ms: dict[str, float] = {}
    for name, page_url in pages.items():
        for _ in range(5):  # warm: caches, compiled statements
            response = client.get(page_url)
        assert response.status_code == 200, (name, response.status_code)
        queries[name] = _queries(response)
        totals = []
        for _ in range(5):
            timing = client.get(page_url).headers.get("server-timing", "")
            if found := TOTAL.search(timing):
                totals.append(float(found.group(1)))
        if totals:
            single_ms[name] = statistics.median(totals)
    listed = client.get(pages["content-list"]).text
    assert f"Content ({LIST_ITEMS} items)" in listed, "not 10,000 items"
    assert listed.count('name="items"') == 50
    script = _edit_script(client, site, ids, folder)
    check = client.get(f"{site}/item/{ids[0]}/edit")
    queries["edit-form"] = _queries(check)

    def measure(name: str) -> LoadResult:
        if name == "bare":
            return run_wrk(bare, seconds=seconds, connections=connections)
        if name == "edit-submit":
            return run_wrk(f"{site}/", seconds=seconds, connections=editors, threads=editors,
                           headers=headers, script=script)
        return run_wrk(pages[name], seconds=seconds, connections=connections, headers=headers)

    names = ("bare", "item-page", "content-list", "edit-form", "edit-submit")
    runs: dict[str, list[LoadResult]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            runs[name].append(measure(name))
    best = {k: max(v, key=lambda r: r.requests_per_s) for k, v in runs.items()}
    revisions = client.get(f"{site}/item/{ids[0]}/revisions")
    saved = revisions.text.count("<tr>") if revisions.status_code == 200 else 0
    base = best["bare"].requests_per_s
    print(f"load tool: wrk, {connections} connections ({editors} for edit-submit), {workers}"
          f" granian workers each, best of {rounds} x {seconds}s; {LIST_ITEMS} items listed;"
          f" store: {'Redis' if args.redis else 'PostgreSQL'}")
    ratios: dict[str, float] = {}
    for name, result in best.items():
        rate = result.requests_per_s / (2 if name == "edit-submit" else 1)
        ratios[name] = rate / base
        verdict = "" if name in ("bare", "item-page") else \
            f"  goal >= {GOAL:.0%}: {'met' if ratios[name] >= GOAL else 'MISSED'}"
        q = f"  {queries[name]:3d} SQL" if queries.get(name) is not None else " " * 9
        q += f"  1 req {single_ms[name]:5.1f} ms" if name in single_ms else " " * 16
        errors = f"  {result.errors} errors" if result.errors else ""
        unit = " (saves/s: half the requests)" if name == "edit-submit" else ""
        print(f"{name:20} {result.row()}  {ratios[name]:6.1%} of bare{q}{verdict}{unit}"
              f"{errors}")
    print(f"revisions of the first edited item after the run: {saved} table rows")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "admin.json").write_text(json.dumps({
        "results": {k: v.__dict__ for k, v in best.items()}, "ratios": ratios, "goal": GOAL,
        "queries": queries, "single_request_ms": single_ms, "listed_items": LIST_ITEMS,
        "workers": workers,
        "connections": connections, "editors": editors, "seconds": seconds, "rounds": rounds,
        "redis": bool(args.redis),
    }, indent=2))


if __name__ == "__main__":
    main()
