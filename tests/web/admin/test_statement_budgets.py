"""The logged-in pages' database and store budgets: how many SQL statements each sends (the
``Server-Timing`` count), that a page that changes nothing in the session writes nothing, and
which shared-cache operations the item forms make (their states are sealed in the page).

These are the deterministic half of the admin benchmark (``benchmarks/bench_admin.py``,
``benchmarks/profile_admin.py``): a new statement on one of these paths runs on every request
of every editor, so adding one should be a decision, made here.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import running_app, site_settings
from tests.plugins.conftest import kernel_of
from tests.web._item_forms import article_values, item_id_of, open_form, post_form
from tests.web.test_item import _item, _site

# The session with the users stamp (the user it names is kept per process under the stamp),
# then the page's own.
PIPELINE = 1


def _statements(response: httpx.Response) -> int:
    match = re.search(r'db;[^,]*desc="(\d+) queries"', response.headers["server-timing"])
    assert match, response.headers["server-timing"]
    return int(match.group(1))


class _Writes:
    """Counts the session store's writes and deletes."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.count = 0
        sessions = kernel_of(client).store.sessions
        for name in ("set", "delete"):
            setattr(sessions, name, self._counted(getattr(sessions, name)))

    def _counted(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await method(*args, **kwargs)
        return counted


class _CacheOps:
    """Counts the shared cache's operations by name (as ``benchmarks/profile_admin.py``)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.counts: Counter[str] = Counter()
        cache = kernel_of(client).store.cache
        for name in dir(cache):
            method = getattr(cache, name)
            if not name.startswith("_") and asyncio.iscoroutinefunction(method):
                setattr(cache, name, self._counted(name, method))

    def _counted(self, name: str, method: Callable[..., Awaitable[Any]]
                 ) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return await method(*args, **kwargs)
        return counted


async def test_the_item_forms_store_operations(db_url: str) -> None:
    """Showing a form stores nothing; the edit submission makes no store operation (its
    revision guards a repeated save); the add submission one insert-if-absent marker (a
    repeated one would create a second item)."""
    async with running_app(site_settings(db_url, page_cache_seconds=0)) as client:
        headers = await _site(client)
        item_id = await _item(client, headers)
        await client.get(f"/item/{item_id}/edit")  # warm the process caches
        ops = _CacheOps(client)
        hidden = await open_form(client, f"/item/{item_id}/edit")
        assert ops.counts == {}
        saved = await post_form(client, f"/item/{item_id}/edit", hidden,
                                article_values("Edited"))
        assert item_id_of(saved) == item_id
        assert ops.counts == {}
        # A second identical submission is the revision conflict, not a second save.
        again = await post_form(client, f"/item/{item_id}/edit", hidden,
                                article_values("Edited"))
        assert again.status_code == 409 and ops.counts == {}
        hidden = await open_form(client, "/item/add/article")
        assert ops.counts == {}
        created = await post_form(client, "/item/add/article", hidden, article_values("New"))
        item_id_of(created)
        assert ops.counts == {"add": 1}


async def test_the_admin_pages_statement_budgets(db_url: str) -> None:
    async with running_app(site_settings(db_url, page_cache_seconds=0)) as client:
        headers = await _site(client)  # logged in as the administrator "root"
        item_id = await _item(client, headers)
        # The site pages' furniture (tiles, main menu) is read once and cached; item writes
        # must not drop it (it does not depend on items).
        assert (await client.get(f"/item/{item_id}")).status_code == 200
        for n in range(30):
            await _item(client, headers, title=f"Listed {n}")

        listing = await client.get("/admin/content")
        assert listing.status_code == 200 and "Content (31 items)" in listing.text
        # The rows with their authors and the count: one statement, whatever the page size.
        assert _statements(listing) <= PIPELINE + 1

        page = await client.get(f"/item/{item_id}")
        assert page.status_code == 200
        assert _statements(page) <= PIPELINE + 1

        form = await client.get(f"/item/{item_id}/edit")
        assert form.status_code == 200
        # The item; the item type comes from the process cache, the form's state is sealed
        # in the page.
        assert _statements(form) <= PIPELINE + 1

        hidden = await open_form(client, f"/item/{item_id}/edit")
        saved = await post_form(client, f"/item/{item_id}/edit", hidden,
                                article_values("Edited"))
        assert item_id_of(saved) == item_id
        # The item read (the route's access check) and one statement writing the item row
        # (guarded by the revision the edit started from and by its type's fields: the type is
        # the process cache's), its revision, the audit entry and the other processes' cache
        # invalidation (a notification delivered at commit); the form's state comes sealed in
        # the submission and the "saved" message rides in the flash cookie.
        assert _statements(saved) <= PIPELINE + 2


async def test_a_page_that_changes_nothing_writes_no_session(db_url: str) -> None:
    async with running_app(site_settings(db_url, page_cache_seconds=0)) as client:
        headers = await _site(client)
        item_id = await _item(client, headers)
        await client.get("/admin/content")  # the CSRF token exists from the login on
        writes = _Writes(client)
        for path in ("/admin/content", f"/item/{item_id}", f"/item/{item_id}/edit", "/admin"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "set-cookie" not in response.headers, path
        assert writes.count == 0


async def test_a_save_and_the_page_saying_so_write_no_session(db_url: str) -> None:
    """ "Saved." rides to the next page in a signed cookie: neither the POST nor the page that
    shows the message writes the session."""
    async with running_app(site_settings(db_url, page_cache_seconds=0)) as client:
        headers = await _site(client)
        item_id = await _item(client, headers)
        hidden = await open_form(client, f"/item/{item_id}/edit")
        writes = _Writes(client)
        saved = await post_form(client, f"/item/{item_id}/edit", hidden,
                                article_values("Edited"))
        assert item_id_of(saved) == item_id
        assert not any(c.startswith("trovato_session=")
                       for c in saved.headers.get_list("set-cookie"))
        shown = await client.get(saved.headers["location"])
        assert "has been updated" in shown.text, shown.text
        assert writes.count == 0
        assert "has been updated" not in (await client.get(f"/item/{item_id}")).text
