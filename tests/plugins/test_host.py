"""Every host import, exercised from the real hello component against a real database."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugins.conftest import add_item, make_user
from trovato.db.pool import Database
from trovato.plugins.host import HostServices, PluginUser, RequestHost
from trovato.store import SharedStore


async def _everything(open_session, user: PluginUser, **payload: Any) -> dict[str, Any]:
    async with open_session(user, plugins=["hello", "tally"]) as session:
        result: dict[str, Any] = await session.call_function(
            "hello", "everything", {"payload": payload})
        return result


async def test_every_host_import(open_session, database: Database, store: SharedStore,
                                 caplog: pytest.LogCaptureFixture) -> None:
    published = await add_item(database, title="Alpha")
    await add_item(database, title="Beta")
    await add_item(database, title="Hidden", status=0)
    user = make_user("use hello", "access content")
    caplog.set_level("INFO", logger="trovato.plugins")
    report = await _everything(open_session, user, item_id=published, invoke=True)

    assert report["counter"] == 1
    assert report["missing_variable"] == "default"
    assert report["request_context"] == {"from": "hello"}
    assert report["user"] == {"id": user.id, "name": "ada", "authenticated": True,
                              "roles": ["authenticated user"]}
    assert report["can_use_hello"] is True and report["can_admin"] is False
    assert report["item"] == {"id": published, "title": "Alpha"}
    assert report["items"] == ["Alpha", "Beta"]  # the unpublished item is not visible
    assert report["inserted"] == 1 and report["updated"] == 1 and report["deleted"] == 1
    assert report["selected"] == [{"visitor": "v", "count": 5, "data": {"a": [1, 2]}}]
    assert report["cache_hit"] == {"v": 1} and report["cache_after_invalidate"] is None
    assert report["job"] and report["invoked"] == {"n": 42, "caller_user": user.id}
    assert report["now"].endswith("Z")

    # Variables are plugin-scoped rows of the variable table.
    assert await database.fetchval(
        "SELECT value FROM variable WHERE name = 'plugin.hello.counter'") == 1
    # Queues are namespaced per plugin.
    assert await store.queue.size("plugin.hello.jobs") == 1
    # The log carries plugin, tap and request id.
    records = [r for r in caplog.records if "everything:" in r.getMessage()]
    assert [r.levelname for r in records] == ["INFO", "WARNING", "ERROR"]
    assert records[0].data == {"plugin": "hello", "tap": "everything",  # type: ignore[attr-defined]
                               "request_id": "req-1"}


async def test_unpublished_items_need_permission(open_session, database: Database) -> None:
    hidden = await add_item(database, title="Hidden", status=0)
    report = await _everything(open_session, make_user("access content"), item_id=hidden)
    assert report["item"] is None and report["items"] == []
    report = await _everything(open_session,
                               make_user("access content", "view unpublished content"),
                               item_id=hidden)
    assert report["item"] == {"id": hidden, "title": "Hidden"}
    assert report["items"] == ["Hidden"]


async def test_item_reads_need_access_content(open_session, database: Database) -> None:
    """The host reads through the content query, which refuses a user without ``access
    content`` as ``/api/v1/items`` does: nothing loads and nothing is listed."""
    published = await add_item(database, title="Alpha")
    report = await _everything(open_session, make_user("view unpublished content"),
                               item_id=published)
    assert report["item"] is None and report["items"] == []


async def test_cache_is_namespaced_per_plugin(open_session, store: SharedStore) -> None:
    async with open_session(make_user("use hello"), plugins=["hello"]) as session:
        request = {"method": "GET", "path": "hello/bob", "args": {"name": "bob"}, "query": {}}
        first = await session.call_function("hello", "hello_page", {"request": request})
    assert first["greeting"]["#value"] == "Hello, bob!"
    assert await store.cache.get("plugin:hello:page:bob") == first
    assert await store.cache.get("page:bob") is None
    # cron invalidates the page tag, namespaced the same way.
    async with open_session(plugins=["hello"]) as session:
        result = await session.call_tap("hello", "cron", {})
    assert result["job"]
    assert await store.cache.get("plugin:hello:page:bob") is None


async def test_menu_callback_records_visits(open_session, database: Database) -> None:
    await add_item(database, title="Post")
    request = {"method": "GET", "path": "hello", "args": {}, "query": {"a": "1"}}
    async with open_session(make_user("use hello", "access content", name="eve")) as session:
        tree = await session.call_function("hello", "hello_page", {"request": request})
    assert tree["visits"]["#value"] == "Visits: 1"
    assert tree["recent"]["#items"][0]["#text"] == "Post"
    row = await database.fetchrow("SELECT visitor, count, data FROM p_hello__visit")
    assert row is not None and row["visitor"] == "eve" and row["data"] == {"query": {"a": "1"}}


async def test_item_imports_answer_errors_a_plugin_can_handle(
    services: HostServices, database: Database
) -> None:
    published = await add_item(database, title="Alpha")
    host = RequestHost(services, make_user("access content"))
    loaded = await host.item_load("p", "t", published)
    assert loaded.tag == "ok" and json.loads(loaded.payload)["title"] == "Alpha"
    assert (await host.item_load("p", "t", "not-an-id")).payload is None
    for query, problem in (('{"sort": "colour"}', "sort must be one of"),
                           ('{"limit": 0}', "limit must be at least 1"),
                           ('{"limit": "5"}', "limit must be an integer"),
                           ('{"colour": "red"}', "unknown query key(s): colour"),
                           ("[1]", "an item query is a JSON object")):
        answer = await host.item_query("p", "t", query)
        assert answer.tag == "err" and problem in answer.payload, (query, answer.payload)
    # A host without the content service (no reader injected) says so.
    bare = RequestHost(HostServices(services.db, services.cache, services.queue,
                                    services.tables), make_user("access content"))
    for answer in (await bare.item_load("p", "t", published),
                   await bare.item_query("p", "t", "{}")):
        assert answer.tag == "err" and answer.payload == "item reads are not available here"
