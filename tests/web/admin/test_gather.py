"""The Gather builder (/admin/structure/gather), driven as a browser without JavaScript drives
it: listing, adding (rows added and removed by rebuilds), editing, previewing an unsaved
definition, duplicating, deleting after a confirmation, exporting and importing YAML; the
validator's errors next to the inputs they name with what was typed kept; stale CSRF tokens;
``administer gather`` only; user text escaped in the builder and the preview."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import yaml

from tests.api.conftest import ARTICLE, admin_headers, login_as
from tests.conftest import create_account
from tests.web._item_forms import hidden_inputs, without_page_scripts
from tests.web.admin.conftest import grant
from trovato.forms.service import EXPIRED
from trovato.gather.definition import OPERATORS

BASE = "/admin/structure/gather"
XSS = "<img src=x onerror=alert(1)>"
XSS_SHOWN = "&lt;img src=x onerror=alert(1)&gt;"
LISTING: dict[str, Any] = {
    "name": "news", "label": "News",
    "filters": [{"field": "type", "op": "equals", "value": "article"},
                {"group": "or", "filters": [
                    {"field": "field_count", "op": "gte", "value": 3},
                    {"field": "title", "op": "contains", "exposed": "q", "label": "Title"}]}],
    "sorts": [{"field": "title", "direction": "asc"}],
    "pager": {"type": "full", "per_page": 10},
    "displays": {"page": {"path": "/news", "style": "table"}, "json": {}},
    "fields": ["field_count"],
}

Pairs = list[tuple[str, str]]


class _Form(HTMLParser):
    """What a browser submits for the page's form ``form_id`` (its buttons aside)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.pairs = form_id, False, []  # type: Pairs
        self.select: str | None = None
        self.options: Pairs = []
        self.chosen: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and "name" in a and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "on")))
            else:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.options, self.chosen = a.get("name"), [], None
        elif tag == "option" and self.select is not None:
            self.options.append((self.select, a.get("value", "")))
            if "selected" in a:
                self.chosen = a.get("value", "")
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            value = self.chosen if self.chosen is not None else (
                self.options[0][1] if self.options else "")
            self.pairs.append((self.select, value))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.pairs.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def form_values(page: str, form_id: str = "edit-admin-gather-editor") -> Pairs:
    parser = _Form(form_id)
    parser.feed(page)
    return parser.pairs


def with_changes(pairs: Pairs, changes: dict[str, str | list[str]]) -> Pairs:
    kept = [(k, v) for k, v in pairs if k not in changes]
    for key, value in changes.items():
        kept.extend((key, v) for v in (value if isinstance(value, list) else [value]))
    return kept


def as_data(pairs: Pairs) -> dict[str, list[str]]:
    """``pairs`` as httpx posts them (a list per name keeps repeated names)."""
    data: dict[str, list[str]] = {}
    for key, value in pairs:
        data.setdefault(key, []).append(value)
    return data


def rows(page: str, kind: str) -> list[int]:
    """The ids of the rows of ``kind`` (filter, sort, group) the form shows, in order."""
    return [int(n) for n in dict.fromkeys(re.findall(rf'name="{kind}\.(\d+)\.', page))]


async def press(client: httpx.AsyncClient, path: str, page: str, button: str,
                changes: dict[str, str | list[str]] | None = None) -> httpx.Response:
    pairs = with_changes(form_values(page), changes or {})
    return await client.post(path, data=as_data([*pairs, ("op", button)]))


def error_next_to(page: str, name: str) -> str:
    """The error message shown in the form item of the input ``name``."""
    start = page.index(f'name="{name}"')
    end = page.find('<div class="form-item ', start)
    found = re.search(r'class="form-item__error error"[^>]*>(.*?)</div>',
                      page[start:end if end != -1 else None], re.S)
    assert found, page[start:start + 600]
    return found.group(1).strip()


async def _site(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await admin_headers(client)
    made = await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
    assert made.status_code == 201, made.text
    for n, title in enumerate(["alpha", "beta", "gamma", "delta"]):
        item = await client.post("/api/v1/items", headers=headers, json={
            "type": "article", "title": title, "status": 1,
            "fields": {"field_body": {"value": "b", "format": "plain_text"},
                       "field_count": {"value": n + 1}}})
        assert item.status_code == 201, item.text
    return headers


async def _listing(client: httpx.AsyncClient, headers: dict[str, str],
                   document: dict[str, Any] | None = None) -> None:
    made = await client.post("/api/v1/gather-definitions", json=document or LISTING,
                             headers=headers)
    assert made.status_code == 201, made.text


async def _document(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    got = await client.get(f"/api/v1/gather-definitions/{name}")
    assert got.status_code == 200, got.text
    document: dict[str, Any] = got.json()
    return document


# -- access ----------------------------------------------------------------------------------------

PAGES = [BASE, f"{BASE}/add", f"{BASE}/import", f"{BASE}/news/edit", f"{BASE}/news/duplicate",
         f"{BASE}/news/delete", f"{BASE}/news/export"]


async def test_only_gather_administrators_get_in(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    await create_account(client, "plain")
    await grant(client, "builder", "access administration pages", "administer gather")
    await grant(client, "typer", "access administration pages", "administer content types")
    for name in ("plain", "typer"):
        await login_as(client, name)
        for path in PAGES:
            assert (await client.get(path)).status_code == 403, (name, path)
        assert BASE not in (await client.get("/admin/structure/types")).text or name == "plain"
    await login_as(client, "builder")
    for path in PAGES:
        assert (await client.get(path)).status_code == 200, path
    assert f'href="{BASE}"' in (await client.get("/admin")).text
    # A listing that does not exist is a 404, as an unknown type or role is.
    assert (await client.get(f"{BASE}/nothing/edit")).status_code == 404
    client.cookies.clear()
    for path in PAGES:
        assert (await client.get(path)).status_code == 403, path


# -- the list, adding and editing ------------------------------------------------------------------


async def test_the_list_shows_each_listing_with_its_displays(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    page = (await client.get(BASE)).text
    assert '<a href="/admin/structure/gather/news/edit">News</a>' in page
    assert '<a href="/news" class="gather-display">Page: /news</a>' in page
    assert 'href="/api/v1/gather/news"' in page
    assert f'href="{BASE}/news/delete"' in page
    # The front page listing can be changed, not deleted.
    assert f'href="{BASE}/frontpage/edit"' in page
    assert f'href="{BASE}/frontpage/delete"' not in page


async def test_building_a_listing_without_javascript(client: httpx.AsyncClient) -> None:
    await _site(client)
    path = f"{BASE}/add"
    page = (await client.get(path)).text
    assert rows(page, "filter") == [] and rows(page, "sort") == []
    # A property without a default shows empty; the columns are the registry's fields.
    assert re.search(r'name="displays\.feed\.path"[^>]*value=""', page)
    assert ">Count (field_count)</label>" in page and ">Type</label>" in page
    assert ">Show the listing as a page</label>" in page
    assert ">Show the listing as JSON</label>" in page
    # The label first, then the machine name, as in the other admin forms.
    assert page.index('name="label"') < page.index('name="name"') < page.index('name="base"')
    # "Add a filter" twice, "Add a sort", then remove the first filter: the form is rebuilt
    # from its server-side state, what was typed stays.
    typed = {"name": "recent", "label": "Recent articles"}
    page = (await press(client, path, page, "add_filter", typed)).text
    page = (await press(client, path, page, "add_filter")).text
    first, second = rows(page, "filter")
    page = (await press(client, path, page, "add_sort", {
        f"filter.{first}.field": "title", f"filter.{first}.op": "contains",
        f"filter.{first}.value": "zzz"})).text
    assert 'value="zzz"' in page and 'value="Recent articles"' in page
    page = (await press(client, path, page, f"remove_filter_{first}")).text
    assert rows(page, "filter") == [second] and 'value="zzz"' not in page
    assert 'value="Recent articles"' in page
    # The field chosen decides the operators offered and the value widget.
    page = (await press(client, path, page, "add_sort", {
        f"filter.{second}.field": "field_count", f"filter.{second}.op": "gte"})).text
    ops = re.search(rf'<select[^>]*name="filter\.{second}\.op".*?</select>', page, re.S)
    assert ops is not None
    assert set(re.findall(r'<option value="([a-z_]+)"', ops.group(0))) == OPERATORS["int"]
    assert re.search(rf'<input type="number"[^>]*name="filter\.{second}\.value"', page)
    sort_rows = rows(page, "sort")
    assert len(sort_rows) == 2
    page = (await press(client, path, page, f"remove_sort_{sort_rows[1]}")).text
    saved = await press(client, path, page, "save", {
        f"filter.{second}.value": "2", f"sort.{sort_rows[0]}.field": "created",
        f"sort.{sort_rows[0]}.direction": "desc", "fields": ["field_count", "created"],
        "pager.type": "mini", "pager.per_page": "5", "displays.page": "1",
        "displays.page.path": "/recent", "displays.page.style": "list",
        "empty_text": "Nothing yet."})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{BASE}/recent/edit"
    document = await _document(client, "recent")
    assert document["filters"] == [{"field": "field_count", "op": "gte", "value": 2}]
    assert document["sorts"] == [{"field": "created", "direction": "desc"}]
    assert document["pager"] == {"type": "mini", "per_page": 5}
    assert document["displays"] == {"page": {"path": "/recent", "style": "list"}}
    assert document["fields"] == ["field_count", "created"]
    assert document["empty_text"] == "Nothing yet." and document["version"] == 1
    assert "The listing “Recent articles” has been added (version 1)." in (
        await client.get(BASE)).text
    shown = await client.get("/recent")
    assert shown.status_code == 200 and "beta" in shown.text and "alpha" not in shown.text


async def test_editing_keeps_groups_and_everything_it_does_not_change(
        client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    path = f"{BASE}/news/edit"
    page = (await client.get(path)).text
    assert len(rows(page, "filter")) == 3 and len(rows(page, "group")) == 1
    saved = await press(client, path, page, "save", {"label": "All the news"})
    assert saved.status_code == 303, saved.text
    document = await _document(client, "news")
    assert document["version"] == 2 and document["label"] == "All the news"
    assert "The listing “All the news” has been saved (version 2)." in (await client.get(
        saved.headers["location"])).text
    for key in ("filters", "sorts", "pager", "displays", "fields"):
        assert document[key] == LISTING[key], key


async def test_a_filter_joins_a_group(client: httpx.AsyncClient) -> None:
    await _site(client)
    path = f"{BASE}/add"
    page = (await client.get(path)).text
    page = (await press(client, path, page, "add_filter")).text
    page = (await press(client, path, page, "add_filter")).text
    page = (await press(client, path, page, "add_group")).text
    one, two = rows(page, "filter")
    [group] = rows(page, "group")
    saved = await press(client, path, page, "save", {
        "name": "either", "label": "Either",
        f"filter.{one}.field": "title", f"filter.{one}.op": "equals",
        f"filter.{one}.value": "alpha", f"filter.{one}.in_group": str(group),
        f"filter.{two}.field": "title", f"filter.{two}.op": "equals",
        f"filter.{two}.value": "gamma", f"filter.{two}.in_group": str(group),
        f"group.{group}.group": "or", "displays.json": "1"})
    assert saved.status_code == 303, saved.text
    document = await _document(client, "either")
    assert document["filters"] == [{"group": "or", "filters": [
        {"field": "title", "op": "equals", "value": "alpha"},
        {"field": "title", "op": "equals", "value": "gamma"}]}]
    listed = (await client.get("/api/v1/gather/either")).json()
    assert sorted(i["title"] for i in listed["items"]) == ["alpha", "gamma"]


# -- errors ----------------------------------------------------------------------------------------


async def test_the_validator_s_errors_show_next_to_their_inputs(
        client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    path = f"{BASE}/news/edit"
    page = (await client.get(path)).text
    first, second, third = rows(page, "filter")
    refused = await press(client, path, page, "save", {
        f"filter.{second}.value": "many", "displays.page.path": "no slash",
        "label": "Kept <typed>"})
    # The input's own check and the validator's errors, all at once.
    assert refused.status_code == 400, refused.text
    text = refused.text.replace("&#39;", "'")
    assert error_next_to(text, f"filter.{second}.value") == "Value must be a number."
    assert error_next_to(text, "displays.page.path").startswith(
        "Path is not in the form it must have (starts with /")
    assert 'value="many"' in text and 'value="no slash"' in text
    assert "Kept &lt;typed&gt;" in text
    assert (await _document(client, "news"))["version"] == 1
    # An operator the field's kind does not take, a reserved query parameter: each named
    # next to its input.
    refused = await press(client, path, page, "save", {f"filter.{first}.op": "has_tag",
                                                      f"filter.{third}.exposed": "page"})
    assert refused.status_code == 422
    text = refused.text.replace("&#39;", "'")
    assert "does not apply to the field 'type'" in error_next_to(text, f"filter.{first}.op")
    assert "'page' is taken" in error_next_to(text, f"filter.{third}.exposed")
    # Another listing's path: the service's refusal, next to the path.
    await _listing(client, headers, {"name": "other", "label": "Other",
                                     "displays": {"page": {"path": "/other"}}})
    refused = await press(client, path, page, "save", {"displays.page.path": "/other"})
    assert refused.status_code == 409
    assert "is the listing 'other'" in error_next_to(refused.text.replace("&#39;", "'"),
                                                      "displays.page.path")


async def test_a_stale_csrf_token_keeps_what_was_typed(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    path = f"{BASE}/news/edit"
    page = (await client.get(path)).text
    pairs = with_changes(form_values(page), {"label": "Kept <typed>"})
    stale = hidden_inputs(page)["csrf_token"]
    missing = await client.post(path, data=as_data(
        [*((k, v) for k, v in pairs if k != "csrf_token"), ("op", "save")]))
    await login_as(client, "root")
    expired = await client.post(path, data=as_data(
        [*with_changes(pairs, {"csrf_token": stale}), ("op", "save")]))
    for response in (missing, expired):
        assert response.status_code in (400, 403), response.text
        assert EXPIRED in response.text and "Kept &lt;typed&gt;" in response.text
    assert hidden_inputs(expired.text)["csrf_token"] != stale
    assert (await _document(client, "news"))["label"] == "News"
    again = await press(client, path, expired.text, "save")
    assert again.status_code == 303, again.text
    assert (await _document(client, "news"))["label"] == "Kept <typed>"


# -- preview ---------------------------------------------------------------------------------------


async def test_preview_shows_the_unsaved_definition_and_saves_nothing(
        client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    path = f"{BASE}/news/edit"
    page = (await client.get(path)).text
    second = rows(page, "filter")[1]
    shown = await press(client, path, page, "preview", {
        f"filter.{second}.value": "2", "displays.page.style": "list"})
    assert shown.status_code == 200, shown.text
    preview = shown.text[shown.text.index('id="gather-preview"'):]
    preview = preview[:preview.index("</section>")]
    assert "3 matches (the first page shows 3)" in preview and " ms." in preview
    assert re.findall(r'<a href="/item/[^"]+">(\w+)</a>', preview) == ["beta", "delta",
                                                                        "gamma"]
    assert "Compiled SQL" in preview and "SELECT" in preview and "LIMIT" in preview
    assert "PostgreSQL" in preview and "Scan" in preview
    # Nothing was saved, and the form still shows what was typed.
    assert (await _document(client, "news"))["version"] == 1
    assert re.search(rf'name="filter\.{second}\.value"[^>]*value="2"', shown.text)
    # The exposed filters' and arguments' values a preview runs with: without "q" its
    # filter is left out (two match the group), with it three do; a bad one is named.
    page = (await client.get(path)).text
    assert "2 matches" in (await press(client, path, page, "preview")).text
    shown = await press(client, path, page, "preview", {"preview_with": "q=alp"})
    assert "3 matches" in shown.text and 'value="q=alp"' in shown.text
    await _listing(client, headers, {"name": "by_author", "label": "By author", "filters": [
        {"field": "author", "op": "equals", "argument": "who", "default": "not_found"}]})
    page = (await client.get(f"{BASE}/by_author/edit")).text
    refused = await press(client, f"{BASE}/by_author/edit", page, "preview")
    assert refused.status_code == 400
    assert "needs its argument 'who'" in error_next_to(refused.text.replace("&#39;", "'"),
                                                       "preview_with")
    # A new, unsaved listing previews too: the empty text when nothing matches.
    page = (await client.get(f"{BASE}/add")).text
    page = (await press(client, f"{BASE}/add", page, "add_filter")).text
    [row] = rows(page, "filter")
    shown = await press(client, f"{BASE}/add", page, "preview", {
        "name": "nothing", "label": "Nothing", "empty_text": "Nothing here.",
        f"filter.{row}.field": "title", f"filter.{row}.op": "equals",
        f"filter.{row}.value": "none such"})
    assert shown.status_code == 200, shown.text
    assert "0 matches" in shown.text and "Nothing here." in shown.text
    assert (await client.get("/api/v1/gather-definitions/nothing")).status_code == 404


async def test_user_text_is_escaped_in_the_builder_and_the_preview(
        client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers, {
        **LISTING, "label": XSS, "empty_text": XSS,
        "filters": [{"field": "title", "op": "equals", "value": XSS, "exposed": "q",
                     "label": XSS}]})
    for path in (BASE, f"{BASE}/news/edit", f"{BASE}/news/delete"):
        page = without_page_scripts((await client.get(path)).text)
        assert XSS_SHOWN in page and XSS not in page and "<script" not in page, path
    page = (await client.get(f"{BASE}/news/edit")).text
    shown = without_page_scripts((await press(client, f"{BASE}/news/edit", page,
                                              "preview")).text)
    assert "0 matches" in shown and shown.count(XSS_SHOWN) >= 3 and XSS not in shown


# -- duplicate, delete, export, import -------------------------------------------------------------


async def test_duplicating_a_listing(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    path = f"{BASE}/news/duplicate"
    page = (await client.get(path)).text
    assert 'value="news_copy"' in page and 'value="Copy of News"' in page
    assert 'value="/news/copy"' in page
    saved = await press(client, f"{BASE}/add", page, "save")
    assert saved.status_code == 303, saved.text
    copy = await _document(client, "news_copy")
    assert copy["filters"] == LISTING["filters"]
    assert copy["displays"]["page"]["path"] == "/news/copy"


async def test_deleting_asks_first_and_says_what_goes(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    path = f"{BASE}/news/delete"
    confirm = await client.get(path)
    assert "Are you sure you want to delete the listing “News”?" in confirm.text
    assert "its page at /news" in confirm.text and "/api/v1/gather/news" in confirm.text
    token = hidden_inputs(confirm.text)["csrf_token"]
    refused = await client.post(path, data={"op": "confirm"})
    assert refused.status_code == 400 and EXPIRED in refused.text
    assert (await client.get("/news")).status_code == 200
    deleted = await client.post(path, data={"csrf_token": token, "op": "confirm"})
    assert deleted.status_code == 303 and deleted.headers["location"] == BASE
    assert "The listing “News” has been deleted." in (await client.get(BASE)).text
    assert (await client.get("/news")).status_code == 404
    assert (await client.get(path)).status_code == 404
    front = await client.post(f"{BASE}/frontpage/delete",
                              data={"csrf_token": token, "op": "confirm"})
    assert front.status_code == 409 and "can be changed but not deleted" in front.text


async def test_export_and_import(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    exported = await client.get(f"{BASE}/news/export")
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == 'attachment; filename="news.yaml"'
    document = yaml.safe_load(exported.text)
    assert document == {**LISTING, "base": "item", "access": "access content",
                        "empty_text": ""}
    token = hidden_inputs((await client.get(f"{BASE}/import")).text)["csrf_token"]

    async def post(text: str, replace: bool = False) -> httpx.Response:
        return await client.post(f"{BASE}/import", data={
            "csrf_token": token, "yaml": text, **({"replace": "1"} if replace else {})})

    taken = await post(exported.text)
    assert taken.status_code == 409 and "exists" in taken.text
    assert "news:" in taken.text or "name: news" in taken.text  # the YAML is kept
    renamed = exported.text.replace("name: news", "name: news_two").replace(
        "path: /news", "path: /news-two")
    made = await post(renamed)
    assert made.status_code == 303, made.text
    assert "The listing “News” has been imported (version 1)." in (await client.get(
        made.headers["location"])).text
    assert (await _document(client, "news_two"))["filters"] == LISTING["filters"]
    replaced = await post(exported.text.replace("label: News", "label: Replaced"),
                          replace=True)
    assert replaced.status_code == 303, replaced.text
    assert (await _document(client, "news"))["version"] == 2
    broken = await post("name: [unclosed")
    assert broken.status_code == 422 and "not valid YAML (line 1" in broken.text
    bad = await post(renamed.replace("op: gte", "op: sideways").replace("news_two", "bad"))
    assert bad.status_code == 422
    assert "Part filters.1.filters.0.op" in bad.text.replace("&#39;", "'")
    assert (await client.get("/api/v1/gather-definitions/bad")).status_code == 404


@pytest.mark.parametrize("button", ["add_filter", "add_sort"])
async def test_rebuilds_through_form_ajax(client: httpx.AsyncClient, button: str) -> None:
    headers = await _site(client)
    await _listing(client, headers)
    page = (await client.get(f"{BASE}/news/edit")).text
    build_id = hidden_inputs(page)["form_build_id"]
    pairs = form_values(page)
    answer = await client.post("/form/ajax", data=as_data([*pairs, ("op", button)]))
    assert answer.status_code == 200, answer.text
    kind = "filter" if button == "add_filter" else "sort"
    assert answer.text.lstrip().startswith("<fieldset")
    assert len(rows(answer.text, kind)) == (4 if kind == "filter" else 2)
    # The answer's build id carries the changed state: a submission without JavaScript with
    # it (as the script puts it in the form) shows the row too.
    rebuilt = hidden_inputs(answer.text)["form_build_id"]
    assert rebuilt != build_id
    page = (await press(client, f"{BASE}/news/edit", page, "add_group",
                        {"form_build_id": rebuilt})).text
    assert len(rows(page, kind)) == (4 if kind == "filter" else 2)
    # Another user cannot use the build id.
    await grant(client, "typer", "access administration pages", "administer content types")
    await login_as(client, "typer")
    stolen = await client.post("/form/ajax", data=as_data([*pairs, ("op", button)]))
    assert stolen.status_code in (400, 403)


async def test_groups_nested_in_groups_are_edited_as_yaml(client: httpx.AsyncClient) -> None:
    headers = await _site(client)
    await _listing(client, headers, {"name": "deep", "label": "Deep", "filters": [
        {"group": "or", "filters": [
            {"field": "title", "op": "equals", "value": "alpha"},
            {"group": "and", "filters": [{"field": "field_count", "op": "gte", "value": 2},
                                         {"field": "title", "op": "contains", "value": "a"}]}]}]})
    page = await client.get(f"{BASE}/deep/edit")
    assert page.status_code == 200
    assert "export it, change the YAML and import it again" in page.text
    assert 'name="form_build_id"' not in page.text  # no builder form
    token = hidden_inputs((await client.get(f"{BASE}/import")).text)["csrf_token"]
    posted = await client.post(f"{BASE}/deep/edit", data={"csrf_token": token, "op": "save"})
    assert posted.status_code == 409
    assert (await _document(client, "deep"))["version"] == 1
