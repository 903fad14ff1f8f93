"""The search weights admin (/admin/config/search/weights): every type listed with its weights,
a type's form offering A to D for each searched field, saving through the search service (the
change logged) and leading to the batch that reindexes the type's items, not reindexing them in
the request; refusals naming the field, a missing or stale CSRF
token changing nothing; for ``administer content types`` only, and linked from the dashboard
and from each type's fields."""

from __future__ import annotations

import httpx

from tests.api.conftest import login_as
from tests.plugins.conftest import kernel_of
from tests.web._item_forms import hidden_inputs
from tests.web.admin.conftest import grant
from tests.web.admin.test_content import _finish
from trovato.users.roles import Roles

BASE = "/admin/config/search/weights"
ARTICLE = {"type": "article", "label": "Article", "fields": [
    {"name": "field_body", "type": "text_long", "label": "Body"},
    {"name": "field_subtitle", "type": "text", "label": "Sub <title>"},
    {"name": "field_count", "type": "integer", "label": "Count"}]}


async def _site(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await login_as(client, "root")
    made = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    assert made.status_code == 201, made.text
    return headers


async def _item(client: httpx.AsyncClient, headers: dict[str, str], title: str,
                body: str) -> str:
    made = await client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": title, "status": 1,
        "fields": {"field_body": {"value": body, "format": "plain_text"}}})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def _ranked(client: httpx.AsyncClient, words: str) -> list[str]:
    found = await client.get("/api/v1/search", params={"q": words})
    return [result["id"] for result in found.json()["results"]]


async def test_changing_a_types_weights_reindexes_and_logs(site: httpx.AsyncClient) -> None:
    headers = await _site(site)
    body = await _item(site, headers, "Plain title", "kiwi, kiwi and kiwi")
    title = await _item(site, headers, "kiwi", "nothing")
    assert await _ranked(site, "kiwi") == [title, body]  # the title (A) beats the body (D)

    dashboard = await site.get("/admin")
    assert f'href="{BASE}"' in dashboard.text and "Search weights" in dashboard.text
    listing = await site.get(BASE)
    assert listing.status_code == 200
    assert "Article" in listing.text and "None (every field weighs D)" in listing.text
    assert f'href="{BASE}/article"' in listing.text

    fields = await site.get("/admin/structure/types/article/fields")
    assert f'<a href="{BASE}/article">Search weights of Article</a>' in fields.text
    form = await site.get(f"{BASE}/article")
    assert form.status_code == 200
    assert 'name="weights[field_body]"' in form.text
    assert "Sub &lt;title&gt;" in form.text  # the field's label, escaped
    assert 'name="weights[field_count]"' not in form.text  # an integer holds no words
    assert '<option value="D" selected' in form.text

    saved = await site.post(f"{BASE}/article", data={
        **hidden_inputs(form.text), "weights[field_body]": "A",
        "weights[field_subtitle]": "D", "op": "save"})
    assert saved.status_code == 303 and saved.headers["location"].startswith("/admin/batch/")
    assert (await site.get("/api/v1/item-types/article/search-weights")).json() == {
        "weights": {"field_body": "A"}}  # a field left at D is given no weight
    # The request itself reindexed nothing: the stored words still weigh the body D.
    assert await _ranked(site, "kiwi") == [title, body]
    progress = await site.get(saved.headers["location"] + ".json")
    assert progress.json()["title"] == "Reindexing Article"
    shown = await _finish(site, saved.headers["location"])
    assert str(shown.url).endswith(BASE)
    assert "The search weights of Article have been saved; its items are being reindexed." \
        in shown.text
    assert "The items of Article were reindexed with the new search weights: 2 items." \
        in shown.text
    assert "Body: A" in shown.text
    # Reindexed by the batch: three body words at A now outweigh one title word.
    assert await _ranked(site, "kiwi") == [body, title]
    logged = await kernel_of(site).db.fetchrow(
        "SELECT user_id, variables FROM watchdog WHERE message LIKE 'Changed the search"
        " weights%' ORDER BY id DESC LIMIT 1")
    assert logged is not None
    assert logged["variables"] == {"type": "article", "weights": {"field_body": "A"}}
    assert logged["user_id"] is not None
    form = await site.get(f"{BASE}/article")
    assert '<option value="A" selected' in form.text


async def test_a_refused_weight_names_its_field(site: httpx.AsyncClient) -> None:
    await _site(site)
    form = await site.get(f"{BASE}/article")
    bad = await site.post(f"{BASE}/article", data={
        **hidden_inputs(form.text), "weights[field_body]": "E",
        "weights[field_subtitle]": "B", "op": "save"})
    assert bad.status_code == 400
    assert "Body: the chosen value is not one of the options." in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert '<option value="B" selected' in bad.text  # what was chosen, kept
    assert (await site.get("/api/v1/item-types/article/search-weights")).json() == {
        "weights": {}}
    assert (await site.get(f"{BASE}/nothing")).status_code == 404


async def test_a_missing_or_stale_token_changes_nothing(site: httpx.AsyncClient) -> None:
    await _site(site)
    form = await site.get(f"{BASE}/article")
    data = {"weights[field_body]": "B", "op": "save"}
    missing = await site.post(f"{BASE}/article", data=data)
    stale = hidden_inputs(form.text)["csrf_token"]
    site.cookies.clear()
    await login_as(site, "root")
    expired = await site.post(f"{BASE}/article", data={**data, "csrf_token": stale})
    for response in (missing, expired):
        assert response.status_code in (400, 403), response.text
        assert "The form has expired, please submit again." in response.text
        assert '<option value="B" selected' in response.text
    assert (await site.get("/api/v1/item-types/article/search-weights")).json() == {
        "weights": {}}


async def test_the_weights_need_administer_content_types(site: httpx.AsyncClient) -> None:
    await _site(site)
    await grant(site, "editor", "access administration pages", "administer site configuration")
    headers = await login_as(site, "editor")
    assert BASE not in (await site.get("/admin")).text  # not listed for them
    for path in (BASE, f"{BASE}/article"):
        assert (await site.get(path)).status_code == 403
    refused = await site.post(f"{BASE}/article", data={
        "csrf_token": headers["X-CSRF-Token"], "weights[field_body]": "A", "op": "save"})
    assert refused.status_code == 403
    assert await kernel_of(site).db.fetchval("SELECT count(*) FROM search_field_config") == 0


async def test_a_type_without_items_needs_no_batch(site: httpx.AsyncClient) -> None:
    await _site(site)
    form = await site.get(f"{BASE}/article")
    saved = await site.post(f"{BASE}/article", data={
        **hidden_inputs(form.text), "weights[field_body]": "B",
        "weights[field_subtitle]": "D", "op": "save"})
    assert saved.status_code == 303 and saved.headers["location"] == BASE
    assert "The search weights of Article have been saved." in (await site.get(BASE)).text


async def test_the_batch_stops_for_a_lost_permission(site: httpx.AsyncClient) -> None:
    headers = await _site(site)
    body = await _item(site, headers, "Plain title", "kiwi, kiwi and kiwi")
    title = await _item(site, headers, "kiwi", "nothing")
    editor = await grant(site, "editor", "access administration pages",
                         "administer content types")
    await login_as(site, "editor")
    form = await site.get(f"{BASE}/article")
    saved = await site.post(f"{BASE}/article", data={
        **hidden_inputs(form.text), "weights[field_body]": "A",
        "weights[field_subtitle]": "D", "op": "save"})
    assert saved.status_code == 303 and saved.headers["location"].startswith("/admin/batch/")
    kernel = kernel_of(site)
    # The editor loses the permission before the first step: the step reindexes nothing.
    role = await kernel.db.fetchval(
        "SELECT role_id FROM users_roles WHERE user_id = %s", (editor,))
    await Roles(kernel.db, kernel.permissions).set_permissions(
        role, ["access administration pages"], actor=None)
    progress = (await site.get(saved.headers["location"] + ".json")).json()
    assert progress["finished"] and (progress["done"], progress["skipped"]) == (0, 1)
    await login_as(site, "root")
    assert await _ranked(site, "kiwi") == [title, body]  # still the former weights
