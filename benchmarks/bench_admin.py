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
- ``edit-submit``: ``POST /item/{id}/edit`` alone, as a browser sends the form (a new revision
  saved, 303). Before each run the benchmark renders (``GET``) one edit form per POST it may
  make, each on its own item (``--posts`` forms; each POST needs a fresh build id, and the
  revision the form started from must still be current), and gives each wrk thread (one
  connection each, ``--editors`` of them) its own list (``edit_submit.lua``). After the run it
  checks that the revision count grew by exactly the number of 303s; a run that used up its
  forms is flagged (its rate is then a floor: raise ``--posts``);
- ``edit-round-trip``: the edit round trip as a browser makes it — ``GET`` the form, ``POST``
  it back — each wrk connection on its own item (``edit_round_trip.lua``), for reference: its
  requests are half GETs, so its share of bare is of the saves per second (round trips).

The 10,000 items are all of the 20-field type with every field filled: the first ``--editors``
written through the content service, the rest copied from the first by one INSERT … SELECT,
each with its revision (the list reads their rows; how they were written does not matter to
it, and each can be edited). The page
cache is off (it never serves a logged-in user anyway). The goal (DESIGN §13): each ≥ 4% of
the bare page. SQL queries per request are read from the ``Server-Timing`` header.
Run: ``python benchmarks/bench_admin.py --seconds N [--posts N]`` (``--redis URL``: sessions
and form states in Redis, as on a production site, instead of PostgreSQL). Uses
TROVATO_DATABASE_URL if set, else an embedded PostgreSQL in a temporary folder.
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
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psycopg

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
# The pages measured against the bare one, in the order each round measures them.
PAGES = ("item-page", "content-list", "edit-form", "edit-round-trip", "edit-submit")
NAME, PASSWORD = "bench", "quiet lantern orbit 7"
TOTAL = re.compile(r"total;dur=([\d.]+)")


async def _prepare(url: str, editors: int) -> list[str]:
    """The admin, the 20-field type and 10,000 items of it; returns their ids, the
    ``editors`` written through the content service first."""
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
        # Copies of the first (its stored fields and summary), edited a minute apart, oldest
        # first, as a site's history would have them; then a revision each.
        await kernel.db.execute(
            "INSERT INTO item (type, title, author_id, status, fields, summary, created,"
            " changed) SELECT 'bench_page', 'Listed item ' || g, %s, (g %% 5 <> 0)::int,"
            " first.fields, first.summary, now() - make_interval(mins => %s - g),"
            " now() - make_interval(mins => %s - g)"
            " FROM generate_series(1, %s) AS g, (SELECT fields, summary FROM item"
            " WHERE id = %s) AS first",
            (admin_id, LIST_ITEMS, LIST_ITEMS, LIST_ITEMS - editors, ids[0]))
        await kernel.db.execute(
            "INSERT INTO item_revision (id, item_id, author_id, title, status, promote,"
            " sticky, fields, summary, log, stage_id) SELECT trovato_uuid7(), id, author_id,"
            " title, status, promote, sticky, fields, summary, '', stage_id FROM item"
            " WHERE current_revision_id IS NULL")
        await kernel.db.execute(
            "UPDATE item AS i SET current_revision_id = r.id FROM item_revision AS r"
            " WHERE r.item_id = i.id AND i.current_revision_id IS NULL")
        # At rest, as autovacuum leaves a site's tables: the bulk update above left a dead
        # version of every row, which index scans would visit until a vacuum.
        await kernel.db.execute("VACUUM ANALYZE item")
        await kernel.db.execute("VACUUM ANALYZE item_revision")
        rows = await kernel.db.fetch("SELECT id FROM item WHERE NOT id = ANY(%s::uuid[])"
                                     " ORDER BY id", (ids,))
        return ids + [str(row["id"]) for row in rows]
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


def _form_body(client: httpx.Client, base: str, item_id: str) -> str:
    """The url-encoded body a browser posts from the edit form of ``item_id`` (Save), with
    BUILD where each form's build id goes (the other values suit every item of the type)."""
    page = client.get(f"{base}/item/{item_id}/edit")
    assert page.status_code == 200, page.status_code
    parser = _FormFields(f"/item/{item_id}/edit")
    parser.feed(page.text)
    pairs = [(k, "BUILD" if k == "form_build_id" else v) for k, v in parser.pairs]
    assert any(k == "form_build_id" for k, _ in pairs) and any(k == "csrf_token" for k, _ in pairs)
    return urlencode([*pairs, ("op", "save")])


def _round_trip_script(ids: list[str], body: str, folder: Path) -> Path:
    """``edit_round_trip.lua`` with the item ids (one per thread) and the form's body."""
    header = (f"ITEMS = {{{', '.join(json.dumps(i) for i in ids)}}}\n"
              f"BODY = {json.dumps(body)}\n")
    script = folder / "edit_round_trip.lua"
    script.write_text(header + (HERE / "edit_round_trip.lua").read_text())
    return script


def _submit_script(body: str, folder: Path) -> Path:
    """``edit_submit.lua`` reading its forms from ``folder`` (see :func:`_render_forms`)."""
    header = (f"FORMS = {json.dumps(str(folder / 'forms-'))}\n"
              f"BODY = {json.dumps(body)}\n")
    script = folder / "edit_submit.lua"
    script.write_text(header + (HERE / "edit_submit.lua").read_text())
    return script


BUILD_ID = re.compile(r'name="form_build_id" value="([^"]+)"')


async def _render_forms(base: str, headers: dict[str, str], ids: list[str], threads: int,
                        folder: Path, parallel: int) -> int:
    """GET the edit form of each of ``ids`` (``parallel`` at a time) and write its path and
    build id to the list of one of ``threads`` (``forms-<n>.txt``, n from 1, dealt round
    robin). Returns how many forms were written."""
    lines: list[list[str]] = [[] for _ in range(threads)]
    gate = asyncio.Semaphore(parallel)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:

        async def render(n: int, item_id: str) -> None:
            path = f"/item/{item_id}/edit"
            async with gate:
                page = await client.get(path)
            assert page.status_code == 200, (path, page.status_code)
            found = BUILD_ID.search(page.text)
            assert found is not None, path
            lines[n % threads].append(f"{path} {found.group(1)}")

        await asyncio.gather(*(render(n, item_id) for n, item_id in enumerate(ids)))
    for n, chunk in enumerate(lines, start=1):
        (folder / f"forms-{n}.txt").write_text("\n".join(chunk) + "\n")
    return sum(len(chunk) for chunk in lines)


def _revisions(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM item_revision").fetchone()
    assert row is not None
    return int(row[0])


def _settled_revisions(url: str) -> int:
    """The revision count once the saves still running after a wrk run have finished."""
    count = _revisions(url)
    while True:
        time.sleep(0.5)
        now = _revisions(url)
        if now == count:
            return count
        count = now


def _queries(response: httpx.Response) -> int | None:
    match = QUERIES.search(response.headers.get("server-timing", ""))
    return int(match.group(1)) if match else None


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--editors", type=int, default=8,
                        help="wrk connections (each its own thread) of edit-submit and"
                             " edit-round-trip")
    parser.add_argument("--posts", type=int, default=LIST_ITEMS - 8,
                        help="edit forms rendered before each edit-submit run, each on its"
                             " own item: the most POSTs a run can make (at most the items"
                             " not used by edit-round-trip)")
    parser.add_argument("--redis", metavar="URL", default="",
                        help="keep sessions and form states in this Redis (a key prefix of"
                             " this run's own)")
    parser.add_argument("--only", default="",
                        help="comma-separated subset of the pages to measure (the bare page"
                             f" is always measured): {', '.join(PAGES)}")
    args = parser.parse_args()
    unknown = set(filter(None, args.only.split(","))) - set(PAGES)
    if unknown:
        parser.error(f"--only: no such page: {', '.join(sorted(unknown))}")
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
    body = _form_body(client, site, ids[0])
    round_trip = _round_trip_script(ids[:editors], body, folder)
    submit = _submit_script(body, folder)
    posts = max(editors, min(int(args.posts), len(ids) - editors))
    check = client.get(f"{site}/item/{ids[0]}/edit")
    queries["edit-form"] = _queries(check)
    # One save outside the runs, for its statement count (on an item the runs edit too, each
    # from a form rendered later).
    sample = f"/item/{ids[1 % len(ids)]}/edit"
    build = BUILD_ID.search(client.get(f"{site}{sample}").text)
    assert build is not None
    saved = client.post(f"{site}{sample}", content=body.replace("BUILD", build.group(1)),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert saved.status_code == 303, saved.status_code
    queries["edit-submit"] = _queries(saved)
    # Per edit-submit run: forms rendered, 303s, other statuses, revisions written.
    submits: list[dict[str, int]] = []

    def measure(name: str) -> LoadResult:
        if name == "bare":
            return run_wrk(bare, seconds=seconds, connections=connections)
        if name == "edit-round-trip":
            return run_wrk(f"{site}/", seconds=seconds, connections=editors, threads=editors,
                           headers=headers, script=round_trip)
        if name == "edit-submit":
            forms = asyncio.run(_render_forms(site, headers, ids[editors:editors + posts],
                                              editors, folder, 2 * workers))
            before = _revisions(url)
            result = run_wrk(f"{site}/", seconds=seconds, connections=editors,
                             threads=editors, headers=headers, script=submit)
            saved, other, sent = map(int, (folder / "forms-counts.txt").read_text().split())
            written = _settled_revisions(url) - before
            submits.append({"forms": forms, "saved": saved, "other": other, "sent": sent,
                            "revisions": written})
            # Every 303 wrote its revision; POSTs still unanswered when wrk stopped may too.
            assert saved <= written <= sent - other, (
                f"{saved} POSTs answered 303 ({sent - saved - other} unanswered) but"
                f" {written} revisions written")
            return result
        return run_wrk(pages[name], seconds=seconds, connections=connections, headers=headers)

    only = set(filter(None, args.only.split(",")))
    names = ("bare", *(name for name in PAGES if not only or name in only))
    runs: dict[str, list[LoadResult]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            runs[name].append(measure(name))
    best = {k: max(v, key=lambda r: r.requests_per_s) for k, v in runs.items()}
    base = best["bare"].requests_per_s
    print(f"load tool: wrk, {connections} connections ({editors} for the edits), {workers}"
          f" granian workers each, best of {rounds} x {seconds}s; {LIST_ITEMS} items listed;"
          f" {posts} forms per edit-submit run; store:"
          f" {'Redis' if args.redis else 'PostgreSQL'}")
    ratios: dict[str, float] = {}
    for name, result in best.items():
        rate = result.requests_per_s / (2 if name == "edit-round-trip" else 1)
        ratios[name] = rate / base
        verdict = "" if name in ("bare", "item-page", "edit-round-trip") else \
            f"  goal >= {GOAL:.0%}: {'met' if ratios[name] >= GOAL else 'MISSED'}"
        q = f"  {queries[name]:3d} SQL" if queries.get(name) is not None else " " * 9
        q += f"  1 req {single_ms[name]:5.1f} ms" if name in single_ms else " " * 16
        errors = f"  {result.errors} errors" if result.errors else ""
        unit = " (saves/s: half the requests)" if name == "edit-round-trip" else ""
        print(f"{name:20} {result.row()}  {ratios[name]:6.1%} of bare{q}{verdict}{unit}"
              f"{errors}")
    for n, run in enumerate(submits, start=1):
        used = run["saved"] + run["other"]
        supply = "  USED UP: a floor, raise --posts" if used >= run["forms"] else ""
        print(f"edit-submit run {n}: {run['forms']} forms, {run['saved']} saved (303),"
              f" {run['other']} other statuses, {run['sent'] - used} unanswered at the end,"
              f" {run['revisions']} revisions written{supply}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "admin.json").write_text(json.dumps({
        "results": {k: v.__dict__ for k, v in best.items()}, "ratios": ratios, "goal": GOAL,
        "queries": queries, "single_request_ms": single_ms, "listed_items": LIST_ITEMS,
        "workers": workers,
        "connections": connections, "editors": editors, "seconds": seconds, "rounds": rounds,
        "posts": posts, "edit_submit_runs": submits,
        "redis": bool(args.redis),
    }, indent=2))


if __name__ == "__main__":
    main()
