"""The admin shell over HTTP: the toolbar, the dashboard, the content list with its filters,
sorting and pager, and bulk actions through the confirmation step and the batch pages."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.conftest import ARTICLE, login_as
from tests.conftest import create_account, running_app, site_settings
from tests.plugins.conftest import kernel_of
from trovato.users.accounts import CurrentUser

ROOT = CurrentUser(id=uuid.UUID(int=0), name="setup", is_admin=True)
TOOLBAR = 'aria-label="Administration toolbar"'
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Site:
    def __init__(self, client: httpx.AsyncClient, ids: dict[str, str]) -> None:
        self.client = client
        self.ids = ids  # account name -> id

    async def item(self, title: str, *, status: int = 1, author: str = "root") -> str:
        kernel = kernel_of(self.client)
        item = await kernel.content.items.create(
            ROOT, "article", title=title, status=status, author_id=uuid.UUID(self.ids[author]),
            fields={"field_body": {"value": "Body", "format": "plain_text"}})
        return str(item.id)

    async def status(self, item_id: str) -> int | None:
        row = await kernel_of(self.client).db.fetchval(
            "SELECT status FROM item WHERE id = %s", (uuid.UUID(item_id),))
        return None if row is None else int(row)


@pytest.fixture
async def site(db_url: str) -> AsyncIterator[Site]:
    """root (site admin); editor (the admin, may edit own articles, not others' and sees no
    one else's drafts); plain (no admin permission); the article type."""
    async with running_app(site_settings(db_url)) as client:
        ids = {"root": await create_account(client, "root", admin=True),
               "editor": await create_account(client, "editor"),
               "plain": await create_account(client, "plain")}
        headers = await login_as(client, "root")
        assert (await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
                ).status_code == 201
        role = (await client.post("/api/v1/roles", json={"name": "editors"}, headers=headers)
                ).json()["id"]
        granted = await client.put(f"/api/v1/roles/{role}/permissions", headers=headers, json={
            "permissions": ["access administration pages", "edit own article content",
                            "delete own article content", "access content"]})
        assert granted.status_code in (200, 204), granted.text
        assert (await client.put(f"/api/v1/users/{ids['editor']}/roles", json={"roles": [role]},
                                 headers=headers)).status_code == 204
        client.cookies.clear()
        yield Site(client, ids)


def _token(page: httpx.Response) -> str:
    match = _TOKEN.search(page.text)
    assert match, "no csrf_token on the page"
    return match.group(1)


def _titles(page: httpx.Response) -> list[str]:
    """The titles listed in the content table, in order."""
    body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr><td data-label="Select"><input [^>]*></td>'
                      r'<td data-label="Title"><a href="/item/[^"]+">([^<]*)</a>', body)


async def _finish(client: httpx.AsyncClient, location: str) -> httpx.Response:
    """Follow a batch's progress page until it redirects back; the page it lands on."""
    for _ in range(100):
        response = await client.get(location)
        if response.status_code == 303:
            return await client.get(response.headers["location"])
        assert response.status_code == 200, response.text
        assert "<progress" in response.text and 'http-equiv="refresh"' in response.text
    raise AssertionError("the batch never finished")


# -- toolbar -------------------------------------------------------------------------------------


async def test_the_toolbar_shows_on_every_page_for_admins_only(site: Site) -> None:
    client = site.client
    await site.item("Hello")
    anonymous = await client.get("/")
    assert anonymous.status_code == 200 and TOOLBAR not in anonymous.text
    await login_as(client, "plain")
    assert TOOLBAR not in (await client.get("/")).text
    await login_as(client, "editor")
    page = (await client.get("/")).text
    assert TOOLBAR in page
    bar = page.split(TOOLBAR, 1)[1].split("</nav>", 1)[0]
    assert '<a href="/admin">Dashboard</a>' in bar and '<a href="/admin/content">' in bar
    assert "/admin/people" not in bar  # editor may not administer users
    assert f'<a href="/user/{site.ids["editor"]}">editor</a>' in bar and "Log out" in bar
    await login_as(client, "root")
    for path in ("/", "/admin", "/no/such/page"):  # the error page too
        response = await client.get(path)
        assert TOOLBAR in response.text, path
        assert response.text.count("Log out") == 1, path  # the header leaves it to the bar
        assert "/admin/people" in response.text.split(TOOLBAR, 1)[1].split("</nav>", 1)[0]


def _bar(page: httpx.Response) -> str:
    return page.text.split(TOOLBAR, 1)[1].split("</nav>", 1)[0]


async def test_the_toolbar_groups_the_sections_and_opens_the_current_group(site: Site) -> None:
    client = site.client
    await login_as(client, "root")
    front = _bar(await client.get("/"))
    groups = front.split('<ul class="toolbar__sections">', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r">([^<]+)</a>", groups) == [
        "Dashboard", "Content", "Structure", "People", "Plugins", "Configuration", "Reports"]
    assert "toolbar__group" not in front and "aria-current" not in front  # not an admin page
    # A page of a group of several sections: the group marked, its sections in a second row.
    categories = _bar(await client.get("/admin/structure/categories"))
    assert '<a href="/admin/structure/types" aria-current="true">Structure</a>' in categories
    row = categories.split('<ul class="toolbar__group" aria-label="Structure">', 1)[1]
    assert re.findall(r'href="([^"]+)"', row.split("</ul>", 1)[0]) == [
        "/admin/structure/types", "/admin/structure/categories", "/admin/structure/gather",
        "/admin/structure/tiles", "/admin/structure/menu"]
    assert '<a href="/admin/structure/categories" aria-current="page">Categories</a>' in row
    weights = _bar(await client.get("/admin/config/search/weights"))
    assert ('<a href="/admin/config/media/image-styles" aria-current="true">Configuration</a>'
            in weights)
    assert '<a href="/admin/config/search/weights" aria-current="page">' in weights
    # A group of one section has no second row: its link is the page's.
    plugins = _bar(await client.get("/admin/plugins"))
    assert '<a href="/admin/plugins" aria-current="page">Plugins</a>' in plugins
    assert "toolbar__group" not in plugins
    # The editor's Content group holds the content list alone (no stages): no second row.
    await login_as(client, "editor")
    content = _bar(await client.get("/admin/content"))
    assert "toolbar__group" not in content and "Structure" not in content


async def test_the_dashboard_lists_the_sections_in_the_toolbars_groups(site: Site) -> None:
    client = site.client
    await login_as(client, "root")
    page = (await client.get("/admin")).text
    places = page.split('<div class="admin-places">', 1)[1].split("</section>", 1)[0]
    assert re.findall(r"<h3>([^<]+)</h3>", places) == [
        "Content", "Structure", "People", "Plugins", "Configuration", "Reports"]
    configuration = places.split("<h3>Configuration</h3>", 1)[1].split("</dl>", 1)[0]
    assert re.findall(r'href="([^"]+)"', configuration) == [
        "/admin/config/media/image-styles", "/admin/config/search/weights",
        "/admin/config/search/language", "/admin/config/search/redirect"]
    await login_as(client, "editor")
    editor = (await client.get("/admin")).text
    assert re.findall(r"<h3>([^<]+)</h3>", editor.split('<div class="admin-places">', 1)[1]
                      .split("</section>", 1)[0]) == ["Content"]


async def test_the_toolbar_never_comes_from_the_page_cache(site: Site) -> None:
    client = site.client
    item = await site.item("Cached story")
    first = await client.get(f"/item/{item}")
    again = await client.get(f"/item/{item}")
    assert again.headers.get("x-trovato-cache") == "HIT" and TOOLBAR not in again.text
    assert TOOLBAR not in first.text
    await login_as(client, "root")
    admin = await client.get(f"/item/{item}")
    assert TOOLBAR in admin.text and admin.headers.get("x-trovato-cache") != "HIT"
    admin_again = await client.get(f"/item/{item}")
    assert TOOLBAR in admin_again.text and admin_again.headers.get("x-trovato-cache") != "HIT"
    client.cookies.clear()
    after = await client.get(f"/item/{item}")
    assert after.headers.get("x-trovato-cache") == "HIT" and TOOLBAR not in after.text


# -- access ----------------------------------------------------------------------------------------


async def test_admin_pages_refuse_users_without_the_permission(site: Site) -> None:
    client = site.client
    for who in (None, "plain"):
        if who is None:
            client.cookies.clear()
        else:
            await login_as(client, who)
        for path in ("/admin", "/admin/content", "/admin/batch/abc", "/admin/batch/abc.json"):
            assert (await client.get(path)).status_code == 403, (who, path)
    token = _token(await client.get("/"))
    refused = await client.post("/admin/content/bulk", data={
        "csrf_token": token, "action": "delete", "items": await site.item("Keep")})
    assert refused.status_code == 403


async def test_the_bulk_post_needs_the_csrf_token(site: Site) -> None:
    client = site.client
    item = await site.item("Protected")
    await login_as(client, "root")
    for data in ({}, {"csrf_token": "forged"}):
        refused = await client.post("/admin/content/bulk", data={
            **data, "action": "unpublish", "items": item, "confirm": "yes"})
        assert refused.status_code == 403
    assert await site.status(item) == 1


# -- dashboard -------------------------------------------------------------------------------------


async def test_the_dashboard_lists_sections_and_facts(site: Site) -> None:
    client = site.client
    await site.item("Published one")
    await site.item("Draft one", status=0)
    await login_as(client, "root")
    page = await client.get("/admin")
    assert page.status_code == 200
    assert '<h2 id="admin-places">Sections</h2>' in page.text
    assert "Find, publish, unpublish and delete items." in page.text
    assert re.search(r"<dt>Published items</dt><dd>1</dd>", page.text)
    assert re.search(r"<dt>Unpublished items</dt><dd>1</dd>", page.text)
    assert "Draft one" in page.text and "Published one" in page.text
    # Dates are <time> cells, which the stylesheet keeps on one line on phones.
    dated = r'<td data-label="Updated"><time>\d{4}-\d\d-\d\d \d\d:\d\d</time></td>'
    assert re.search(dated, page.text)
    listing = (await client.get("/admin/content")).text
    assert re.search(dated, listing)
    await login_as(client, "editor")
    page = await client.get("/admin")
    assert "Unpublished items" not in page.text and "Draft one" not in page.text
    assert "Accounts, roles and permissions." not in page.text


async def test_add_content_is_offered_only_to_who_may_create(site: Site) -> None:
    client = site.client
    link = '<a class="button" href="/item/add">Add content</a>'
    await login_as(client, "root")
    for path in ("/admin", "/admin/content"):
        assert link in (await client.get(path)).text, path
    await login_as(client, "editor")  # may edit own articles, not create any
    for path in ("/admin", "/admin/content"):
        page = await client.get(path)
        assert page.status_code == 200 and "/item/add" not in page.text, path


# -- the content list ----------------------------------------------------------------------------


async def test_filters_sort_and_visibility(site: Site) -> None:
    client = site.client
    await site.item("Alpha news")
    await site.item("Beta draft", status=0)
    await site.item("Gamma by editor", author="editor")
    await site.item("Delta editor draft", status=0, author="editor")
    await site.item("100% real_news")
    await login_as(client, "root")
    everything = await client.get("/admin/content")
    assert everything.status_code == 200
    assert everything.text.count('<option value="" selected>- Any -</option>') == 2
    assert sorted(_titles(everything)) == sorted(
        ["Alpha news", "Beta draft", "Gamma by editor", "Delta editor draft", "100% real_news"])
    assert _titles(await client.get("/admin/content?status=0")) == [
        "Delta editor draft", "Beta draft"]
    assert sorted(_titles(await client.get("/admin/content?author=editor"))) == [
        "Delta editor draft", "Gamma by editor"]
    assert _titles(await client.get("/admin/content?title=ALPHA")) == ["Alpha news"]
    assert _titles(await client.get("/admin/content?sort=title")) == [
        "100% real_news", "Alpha news", "Beta draft", "Delta editor draft", "Gamma by editor"]
    assert _titles(await client.get("/admin/content?sort=-title"))[0] == "Gamma by editor"
    by_author = _titles(await client.get("/admin/content?sort=author"))  # editor < root
    assert set(by_author[:2]) == {"Gamma by editor", "Delta editor draft"}
    # An unknown sort column is ignored: the default order (latest edit first).
    default = _titles(everything)
    for sort in ("password", "id; DROP TABLE item", "-(select 1)"):
        response = await client.get("/admin/content", params={"sort": sort})
        assert response.status_code == 200 and _titles(response) == default
    # The editor sees published items and their own draft, not root's draft.
    await login_as(client, "editor")
    assert sorted(_titles(await client.get("/admin/content"))) == sorted(
        ["Alpha news", "Gamma by editor", "Delta editor draft", "100% real_news"])


async def test_the_filter_form_offers_every_order_by_name(site: Site) -> None:
    """The column headers sort, but a phone hides the table's head: the filter form's "Sort
    by" names every order, shows the current one, and filtering keeps it."""
    from trovato.web.admin.content import SORT_LABELS, SORTS

    assert set(SORT_LABELS) == SORTS
    client = site.client
    await site.item("Alpha news")
    await site.item("Beta draft", status=0)
    await login_as(client, "root")
    page = await client.get("/admin/content?sort=-title")
    sort_by = re.search(r'<select[^>]*name="sort"[^>]*>(.*?)</select>', page.text, re.S)
    assert sort_by is not None and 'id="edit-sort"' in page.text
    assert '<label for="edit-sort">Sort by</label>' in page.text
    assert re.findall(r'<option value="([^"]*)"', sort_by.group(1)) == list(SORT_LABELS)
    assert '<option value="-title" selected>Title, Z to A</option>' in sort_by.group(1)
    assert 'type="hidden" name="sort"' not in page.text
    # The form is a GET to the list: what it sends is the sorted, filtered list.
    sent = await client.get("/admin/content", params={"status": "", "title": "",
                                                      "sort": "status"})
    assert _titles(sent) == ["Beta draft", "Alpha news"]
    assert '<option value="status" selected>Not published first</option>' in sent.text


async def test_filter_values_are_data_never_sql_or_wildcards(site: Site) -> None:
    client = site.client
    await site.item("Alpha news")
    await site.item("100% real_news")
    await login_as(client, "root")
    for title, expected in (("%", ["100% real_news"]), ("_", ["100% real_news"]),
                            ("0% r", ["100% real_news"]), ("\\", []),
                            ("' OR '1'='1", []), ("%' OR 1=1 --", [])):
        response = await client.get("/admin/content", params={"title": title})
        assert response.status_code == 200, title
        assert _titles(response) == expected, title
    for name, value in (("author", "x' OR '1'='1"), ("type", "article' --"),
                        ("status", "1 OR 1=1")):
        response = await client.get("/admin/content", params={name: value})
        assert response.status_code == 200 and _titles(response) == [], name
        assert "form-item--error" in response.text, name
    shown = await client.get("/admin/content", params={"title": "<script>x</script>"})
    assert "<script>x</script>" not in shown.text and "&lt;script&gt;x" in shown.text


async def test_the_pager_shows_fifty_rows_a_page(site: Site) -> None:
    client = site.client
    for n in range(55):
        await site.item(f"Story {n:02}")
    await login_as(client, "root")
    first = await client.get("/admin/content?sort=title")
    assert len(_titles(first)) == 50 and "Content (55 items)" in first.text
    assert 'href="/admin/content?sort=title&amp;page=1"' in first.text
    second = await client.get("/admin/content?sort=title&page=1")
    assert _titles(second) == [f"Story {n}" for n in range(50, 55)]
    assert _titles(await client.get("/admin/content?page=x")) == _titles(
        await client.get("/admin/content"))
    # Each pager is its own page's and filters' (they are remembered by both).
    def pager(page: httpx.Response) -> str:
        return page.text.split('<nav class="pager"', 1)[1].split("</nav>", 1)[0]

    for _ in range(2):
        plain = pager(await client.get("/admin/content"))
        assert 'href="/admin/content?page=1"' in plain and "sort=title" not in plain
        assert '<span aria-current="page">1</span>' in plain
        titled = pager(await client.get("/admin/content?sort=title"))
        assert 'href="/admin/content?sort=title&amp;page=1"' in titled
        second = pager(await client.get("/admin/content?sort=title&page=1"))
        assert '<span aria-current="page">2</span>' in second
        assert 'href="/admin/content?sort=title"' in second


# -- bulk actions -------------------------------------------------------------------------------


async def _bulk(client: httpx.AsyncClient, action: str, items: list[str]) -> httpx.Response:
    token = _token(await client.get("/admin/content"))
    return await client.post("/admin/content/bulk", data={
        "csrf_token": token, "action": action, "items": items,
        "destination": "/admin/content?status=1"})


async def test_bulk_unpublish_through_confirmation_and_batch(site: Site) -> None:
    client = site.client
    chosen = [await site.item(f"Bulk {n}") for n in range(3)]
    other = await site.item("Untouched")
    await login_as(client, "root")
    confirm = await _bulk(client, "unpublish", chosen)
    assert confirm.status_code == 200
    assert all(f"Bulk {n}" in confirm.text for n in range(3)) and "Untouched" not in confirm.text
    assert "Unpublish 3 items" in confirm.text
    assert [await site.status(i) for i in chosen] == [1, 1, 1]  # nothing done yet
    started = await client.post("/admin/content/bulk", data={
        "csrf_token": _token(confirm), "action": "unpublish", "items": chosen,
        "confirm": "yes", "destination": "/admin/content?status=1"})
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith("/admin/batch/")
    progress = await client.get(f"{location}.json")
    assert progress.json()["total"] == 3
    landed = await _finish(client, location)
    assert "Unpublished 3 items." in landed.text
    assert str(landed.url).endswith("/admin/content?status=1")
    assert [await site.status(i) for i in chosen] == [0, 0, 0]
    assert await site.status(other) == 1
    assert (await client.get(location)).status_code == 404  # reported and forgotten


async def test_the_confirmation_counts_the_items_and_names_those_already_done(
        site: Site) -> None:
    """One item is "this item"; several are counted; items already in the state asked for
    are said to be (the batch leaves them alone) instead of silently offered."""
    client = site.client
    live = [await site.item(f"Live {n}") for n in range(2)]
    hidden = await site.item("Hidden", status=0)
    await login_as(client, "root")
    one = (await _bulk(client, "unpublish", [hidden])).text
    assert "<h1>Unpublish this item?</h1>" in one and "applies to this item:" in one
    assert "It is already unpublished: nothing will change." in one
    three = (await _bulk(client, "publish", [*live, hidden])).text
    assert "<h1>Publish 3 items?</h1>" in three and "applies to these 3 items:" in three
    assert "2 of them are already published and are left as they are." in three
    some = (await _bulk(client, "unpublish", [*live, hidden])).text
    assert "1 of them is already unpublished and is left as it is." in some
    every = (await _bulk(client, "publish", live)).text
    assert "All 2 are already published: nothing will change." in every
    fresh = (await _bulk(client, "unpublish", live)).text
    assert "already" not in fresh.split("<main", 1)[1]
    gone = (await _bulk(client, "delete", [hidden])).text
    assert "<h1>Delete this item?</h1>" in gone and "already" not in gone.split("<main", 1)[1]


async def test_bulk_skips_items_the_user_may_not_change(site: Site) -> None:
    client = site.client
    own = await site.item("Mine", author="editor")
    others = await site.item("Not mine")
    await login_as(client, "editor")
    started = await client.post("/admin/content/bulk", data={
        "csrf_token": _token(await client.get("/admin/content")), "action": "delete",
        "items": [own, others], "confirm": "yes"})
    assert started.status_code == 303
    landed = await _finish(client, started.headers["location"])
    assert landed.status_code == 200
    assert "Deleted 1 item." in landed.text
    assert "Skipped 1 item: Not mine: You may not delete this item." in landed.text
    assert await site.status(own) is None and await site.status(others) == 1


async def test_a_batch_belongs_to_its_starter(site: Site) -> None:
    client = site.client
    item = await site.item("Private batch", author="editor")
    await login_as(client, "editor")
    started = await client.post("/admin/content/bulk", data={
        "csrf_token": _token(await client.get("/admin/content")), "action": "unpublish",
        "items": [item], "confirm": "yes"})
    location = started.headers["location"]
    await login_as(client, "root")
    assert (await client.get(location)).status_code == 404
    assert (await client.get(f"{location}.json")).status_code == 404
    assert await site.status(item) == 1


async def test_bulk_without_action_or_items_says_so(site: Site) -> None:
    client = site.client
    item = await site.item("Lonely")
    await login_as(client, "root")
    for action, items, message in (("", [item], "Choose an action"),
                                   ("explode", [item], "Choose an action"),
                                   ("publish", [], "Select at least one item."),
                                   ("publish", ["not-an-id"], "Select at least one item.")):
        response = await _bulk(client, action, items)
        assert response.status_code == 303
        assert message in (await client.get(response.headers["location"])).text


async def test_stage_pages_use_the_admin_layout(site: Site) -> None:
    client = site.client
    await kernel_of(client).db.execute("INSERT INTO stage (id, label) VALUES ('spring', 'Spring')")
    await login_as(client, "root")
    page = await client.get("/admin/stages")
    assert page.status_code == 200
    assert '<div class="admin">' in page.text
    # The toolbar marks the section; the admin layout does not list the sections again.
    bar = page.text.split(TOOLBAR, 1)[1].split("</nav>", 1)[0]
    assert '<a href="/admin/stages" aria-current="page">Stages</a>' in bar
    assert page.text.count('href="/admin/people"') == 1
    overview = await client.get("/admin/stages/spring")
    assert '<a href="/admin/stages" aria-current="page">Stages</a>' in overview.text




async def test_titles_are_escaped_on_every_admin_page(site: Site) -> None:
    client = site.client
    item = await site.item("<script>alert(1)</script>")
    await login_as(client, "root")
    confirm = await _bulk(client, "publish", [item])
    for page in (await client.get("/admin"), await client.get("/admin/content"), confirm):
        assert page.status_code == 200
        assert "<script>alert(1)" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


@pytest.mark.parametrize("filters", [
    {}, {"sort": "title"}, {"type": "article", "title": "a&b =?é", "sort": "-author"},
    {"author": "x y", "status": "0"}])
def test_the_column_links_are_the_lists_urls_with_their_sort(filters: dict[str, str]) -> None:
    from trovato.web.admin.content import COLUMNS, _header, _url

    for sort in ("-changed", *filters.values()):
        for column, (key, _) in zip(_header(filters, sort), COLUMNS, strict=True):
            assert column.href == _url(filters, sort=f"-{key}" if sort == key else key)


# -- the list's forms and rows, drawn once per process -------------------------------------------


def _form(page: httpx.Response, form_id: str) -> str:
    match = re.search(rf'<form [^>]*id="{form_id}".*?</form>', page.text, re.S)
    assert match, form_id
    return match.group(0)


async def test_the_bulk_form_from_its_plan_is_the_form_drawn_in_full(site: Site) -> None:
    from trovato.forms.form import element_id
    from trovato.web.admin.content import _MEMOS, BULK_FORM, _bulk_form

    client = site.client
    await site.item("Alpha news")
    await login_as(client, "root")
    kernel = kernel_of(client)
    for params in ({}, {"title": "<b>\"x\" & 'y'</b>", "sort": "-title"}, {"page": "1"}):
        for _ in range(2):  # the plan is drawn by the first request, filled by the second
            page = await client.get("/admin/content", params=params)
            assert page.status_code == 200
        destination = re.search(r'name="destination" value="([^"]*)"',
                                _form(page, element_id(BULK_FORM)))
        assert destination
        token = _token(page)
        drawn = kernel.forms.render(_bulk_form(html.unescape(destination.group(1))),
                                    csrf_token=token)
        assert _form(page, element_id(BULK_FORM)) == str(drawn)
    assert _MEMOS[kernel.forms].bulk is not None  # the pages came from the plan


async def test_forms_a_plugin_may_alter_are_drawn_on_every_request(
    site: Site, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trovato.web.admin.content import _MEMOS

    client = site.client
    await login_as(client, "root")
    kernel = kernel_of(client)
    listens = kernel.forms.taps.listens
    monkeypatch.setattr(kernel.forms.taps, "listens", lambda tap: tap == "form_alter"
                        or listens(tap))
    seen: list[str] = []
    build = kernel.forms.build

    async def altered(tree: dict[str, object], *, user: CurrentUser) -> dict[str, object]:
        seen.append(str(tree["#form_id"]))
        return await build(tree, user=user)

    monkeypatch.setattr(kernel.forms, "build", altered)
    for _ in range(2):
        page = await client.get("/admin/content")
        assert page.status_code == 200 and _token(page) and 'name="title"' in page.text
    assert seen == ["admin_content_filter", "admin_content_bulk"] * 2
    assert kernel.forms not in _MEMOS


async def test_the_filter_form_shows_what_was_typed_and_the_types_of_now(site: Site) -> None:
    client = site.client
    await login_as(client, "root")
    typed = await client.get("/admin/content", params={"title": "<i>news</i>", "status": "x"})
    assert 'value="&lt;i&gt;news&lt;/i&gt;"' in typed.text
    assert "Choose published or not published." in typed.text
    plain = await client.get("/admin/content")
    assert "&lt;i&gt;news" not in plain.text and "Choose published" not in plain.text
    assert '<option value="page"' not in plain.text
    headers = await login_as(client, "root")
    page_type = {**ARTICLE, "type": "page", "label": "Basic page"}
    assert (await client.post("/api/v1/item-types", json=page_type, headers=headers)
            ).status_code == 201
    assert '<option value="page">Basic page</option>' in (
        await client.get("/admin/content")).text


async def test_editors_get_edit_links_for_what_they_may_edit_only(site: Site) -> None:
    client = site.client
    mine = await site.item("Gamma by editor", author="editor")
    theirs = await site.item("Alpha news")
    await login_as(client, "editor")
    for _ in range(2):  # the rows drawn, then remembered
        page = await client.get("/admin/content")
        assert f'href="/item/{mine}/edit"' in page.text
        assert f'href="/item/{theirs}">View</a>' in page.text
        assert f'href="/item/{theirs}/edit"' not in page.text
    await login_as(client, "root")
    assert f'href="/item/{theirs}/edit"' in (await client.get("/admin/content")).text


def test_a_plan_needs_each_stand_in_once_and_escapes_what_fills_it() -> None:
    from trovato.web.admin.content import Plan

    marks = {"a": "markA", "b": "markB"}
    plan = Plan.cut('<i title="markB">markA</i>', marks)
    assert plan is not None
    assert plan.fill({"a": "<x>", "b": '"&'}) == '<i title="&#34;&amp;">&lt;x&gt;</i>'
    assert Plan.cut("markA markA markB", marks) is None
    assert Plan.cut("markA", marks) is None


async def test_remembered_rows_follow_the_items_and_their_types(site: Site) -> None:
    client = site.client
    item_id = await site.item("Before", status=1)
    await login_as(client, "root")
    for _ in range(2):
        page = (await client.get("/admin/content")).text
        assert ">Before</a>" in page
        assert ('<td data-label="Type">Article</td><td data-label="Author">root</td>'
                '<td data-label="Status">Published</td>') in page
    kernel = kernel_of(client)
    await kernel.content.items.update(ROOT, uuid.UUID(item_id), title="After", status=0)
    page = (await client.get("/admin/content")).text
    assert ">After</a>" in page and ">Before</a>" not in page
    assert ('<td data-label="Type">Article</td><td data-label="Author">root</td>'
            '<td data-label="Status">Not published</td>') in page


async def test_a_new_or_deleted_item_shows_at_once_in_the_list_and_its_total(
    site: Site,
) -> None:
    client = site.client
    first = await site.item("First")
    await login_as(client, "root")
    for _ in range(2):  # the total counted, then kept
        page = await client.get("/admin/content")
        assert "Content (1 item)" in page.text and _titles(page) == ["First"]
    second = await site.item("Second")
    page = await client.get("/admin/content")
    assert "Content (2 items)" in page.text and _titles(page) == ["Second", "First"]
    await kernel_of(client).content.items.delete(ROOT, uuid.UUID(first))
    page = await client.get("/admin/content")
    assert "Content (1 item)" in page.text and _titles(page) == ["Second"]
    assert second in page.text
