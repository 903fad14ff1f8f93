"""Gather's cached results are dropped in every process: an item written through one kernel
process and a definition changed through it reach the listing served by another at once (by
the page cache's invalidation messages over the shared store)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests._servers import serve
from tests.test_multiprocess import PASSWORD, _create_user, _env

pytestmark = pytest.mark.slow


def _eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 3.0
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_listing_caches_are_dropped_in_every_process(db_url: str, store_backend: str) -> None:
    env = _env(db_url, store_backend)
    _create_user(env, "root", "--admin")
    with serve(env) as a, serve(env) as b:
        admin = httpx.Client(base_url=a)
        csrf = admin.post("/api/v1/session",
                          json={"name": "root", "pass": PASSWORD}).json()["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        on_b = httpx.Client(base_url=b, cookies=admin.cookies)
        assert admin.post("/api/v1/item-types", headers=headers, json={
            "type": "article", "label": "Article"}).status_code == 201

        def write(title: str) -> None:
            response = admin.post("/api/v1/items", headers=headers, json={
                "type": "article", "title": title, "promote": True})
            assert response.status_code == 201, response.text

        def titles() -> list[str]:
            response = on_b.get("/api/v1/gather/frontpage")
            assert response.status_code == 200, response.text
            return [i["title"] for i in response.json()["items"]]

        write("first")
        assert titles() == ["first"]
        assert titles() == ["first"]  # now cached in B
        write("second")
        _eventually(lambda: titles() == ["second", "first"], "B never saw the new item")
        changed = admin.get("/api/v1/gather-definitions/frontpage").json()
        document = {k: v for k, v in changed.items() if k not in ("version", "plugin",
                                                                   "changed")}
        document["sorts"] = [{"field": "title", "direction": "asc"}]
        assert admin.put("/api/v1/gather-definitions/frontpage", headers=headers,
                         json=document).status_code == 200
        _eventually(lambda: titles() == ["first", "second"], "B never saw the new definition")
