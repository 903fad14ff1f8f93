"""Content taps through real plugins: item_info syncs types, item_presave changes or refuses
a save inside its transaction, item_access votes are enforced, notifications reach plugins."""

from __future__ import annotations

import httpx

from tests.conftest import api_login
from tests.plugins.conftest import kernel_of

ANONYMOUS = "00000000-0000-7000-8000-000000000001"


async def test_item_info_types_are_synced_on_enable(site: httpx.AsyncClient) -> None:
    response = await site.get("/api/v1/item-types/greeting")
    assert response.status_code == 200, response.text
    fields = {f["name"]: f for f in response.json()["fields"]}
    assert fields["field_body"]["type"] == "text_long" and fields["field_body"]["required"]
    assert fields["field_tags"]["cardinality"] == -1


async def test_presave_changes_and_refuses_inside_the_transaction(
    site: httpx.AsyncClient,
) -> None:
    headers = {"X-CSRF-Token": await api_login(site, "root")}
    await site.post("/api/v1/item-types", json={"type": "page", "label": "Page", "fields": []},
                    headers=headers)
    created = await site.post("/api/v1/items", json={"type": "page", "title": "  Hi there  ",
                                                     "status": 1}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "Hi there"  # hello's presave stripped it
    refused = await site.post("/api/v1/items", json={"type": "page", "title": "Buy spam",
                                                     "status": 1}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"] == "The plugin 'hello' refused the change: No spam, please."
    count = await kernel_of(site).db.fetchval("SELECT count(*) FROM item")
    assert count == 1  # the refused save left nothing behind


async def test_access_votes_deny_and_grant(site: httpx.AsyncClient) -> None:
    headers = {"X-CSRF-Token": await api_login(site, "root")}
    await site.post("/api/v1/item-types", json={"type": "secret", "label": "Secret",
                                                "fields": []}, headers=headers)
    item = await site.post("/api/v1/items", json={"type": "secret", "title": "Plans",
                                                  "status": 1}, headers=headers)
    item_id = item.json()["id"]
    site.cookies.clear()
    # Anonymous has "access content", but hello denies viewing secrets without "see secrets"
    # (an anonymous API caller is asked to authenticate).
    assert (await site.get(f"/api/v1/items/{item_id}")).status_code == 401
    headers = {"X-CSRF-Token": await api_login(site, "root")}
    await site.put(f"/api/v1/roles/{ANONYMOUS}/permissions",
                   json={"permissions": ["access content", "see secrets"]}, headers=headers)
    site.cookies.clear()
    assert (await site.get(f"/api/v1/items/{item_id}")).status_code == 200


async def test_plugin_writes_commit_and_roll_back_with_the_item(
    site: httpx.AsyncClient,
) -> None:
    """Host db and item calls made from content taps run on the content transaction's
    connection: they see the uncommitted item, survive a refused statement (savepoint), and
    are rolled back when a later tap refuses the save."""
    kernel = kernel_of(site)
    await kernel.plugins.install("ledger")
    await kernel.plugins.install("tally")
    headers = {"X-CSRF-Token": await api_login(site, "root")}
    await site.post("/api/v1/item-types", json={"type": "page", "label": "Page", "fields": []},
                    headers=headers)

    kept = await site.post("/api/v1/items", json={"type": "page", "title": "Kept",
                                                  "status": 1}, headers=headers)
    assert kept.status_code == 201, kept.text
    item_id = kept.json()["id"]
    rows = await kernel.db.fetch("SELECT id, kind, title, seen_item FROM p_ledger__entry "
                                 "ORDER BY id")
    assert [(r["id"], r["kind"], r["title"], r["seen_item"]) for r in rows] == [
        (f"insert:{item_id}", "insert", "Kept [tally]", True),  # saw the uncommitted item
        ("presave:Kept", "presave", "Kept", None),
        ("refused:Kept", "refused", "Kept", None),  # the duplicate key did not abort the save
    ]

    # ledger writes in item_presave, then tally (weight 5) refuses: everything rolls back.
    refused = await site.post("/api/v1/items", json={"type": "page", "title": "forbidden",
                                                     "status": 1}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert "tally refuses this title" in refused.json()["detail"]
    assert await kernel.db.fetchval(
        "SELECT count(*) FROM p_ledger__entry WHERE title LIKE 'forbidden%'") == 0
    assert await kernel.db.fetchval("SELECT count(*) FROM item") == 1


async def test_a_listing_reuses_the_requests_plugin_instances(site: httpx.AsyncClient) -> None:
    """hello votes on every item of the front page; all those votes, the view taps and the
    teasers share ONE plugin session (one hello instance), not one per item."""
    headers = {"X-CSRF-Token": await api_login(site, "root")}
    for n in range(4):
        created = await site.post("/api/v1/items", json={
            "type": "greeting", "title": f"Item {n}", "status": 1, "promote": True,
            "fields": {"field_body": {"value": "b", "format": "plain_text"}}}, headers=headers)
        assert created.status_code == 201, created.text
    plugins = kernel_of(site).plugins
    opened: list[object] = []
    original = plugins.session

    def counting_session(*args: object, **kwargs: object) -> object:
        session = original(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(session)
        return session

    plugins.session = counting_session  # type: ignore[method-assign]
    try:
        site.cookies.clear()
        page = await site.get("/")
    finally:
        plugins.session = original  # type: ignore[method-assign]
    assert page.status_code == 200 and page.text.count("Hello, Item") == 4
    assert len(opened) == 1, opened
    assert opened[0].instantiated == 1  # type: ignore[attr-defined]
