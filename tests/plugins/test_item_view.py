"""Item pages with real plugins: item_view adds sanitized parts, item_view_alter changes the
tree, and a plugin that traps in a view tap leaves the page rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conftest import api_login, create_account, running_app
from tests.plugins.conftest import kernel_of, plugin_site_settings
from tests.render.test_renderer import make_theme
from trovato.content.view import Viewer
from trovato.plugins.build import BuildResult


async def _greeting(client: httpx.AsyncClient, title: str, body: dict[str, str]) -> str:
    headers = {"X-CSRF-Token": await api_login(client, "root")}
    response = await client.post("/api/v1/items", json={
        "type": "greeting", "title": title, "status": 1, "promote": True,
        "fields": {"field_body": body}}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_item_view_output_is_sanitized_and_altered(site: httpx.AsyncClient) -> None:
    item_id = await _greeting(site, "World <b>", {
        "value": "<p>Body <em>text</em></p><script>alert(1)</script>", "format": "full_html"})
    site.cookies.clear()
    page = await site.get(f"/item/{item_id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert 'class="hello"' in text and "Hello, World &lt;b&gt;!" in text  # item_view
    assert "hello-altered" in text  # item_view_alter's class on the item element
    # Plugin output (and, once altered, the whole tree) never renders full_html as stored.
    assert "<script" not in text and "<em>text</em>" in text
    # The teaser on the front page runs the same taps in view mode "teaser".
    front = await site.get("/")
    assert "item--teaser" in front.text and "hello-altered" in front.text


async def test_the_view_service_shows_items_without_a_request(site: httpx.AsyncClient) -> None:
    """Outside any request (as Gather, feeds or a worker will call it): the same taps run, in a
    session the front door opens once for the call, and the HTML is the page's."""
    item_id = await _greeting(site, "Quiet", {"value": "words", "format": "plain_text"})
    site.cookies.clear()
    kernel = kernel_of(site)
    anonymous = await kernel.accounts.anonymous()
    item = await kernel.content.query.load(anonymous, item_id, stage="live")
    full = await kernel.views.view(item, "full", Viewer(anonymous, "live"))
    assert 'class="hello"' in full and "Hello, Quiet!" in full and "hello-altered" in full
    page = await site.get(f"/item/{item_id}")
    assert str(full) in page.text  # the item page shows exactly what the service renders
    tree, trusted = await kernel.views.tree(item, "full", Viewer(anonymous, "live"))
    assert "hello" in tree and not trusted  # hello's alter tap changed it: render untrusted

    opened: list[object] = []
    open_session = kernel.plugins.session

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        return open_session(*args, **kwargs)

    kernel.plugins.session = counting  # type: ignore[method-assign]
    try:
        teasers = await kernel.views.view_many([item, item], "teaser", Viewer(anonymous, "live"))
    finally:
        del kernel.plugins.session
    assert len(teasers) == 2 and len(opened) == 1  # one session, shared by both items
    assert all("item--teaser" in t and "Hello, Quiet!" in t for t in teasers)
    # A plugin's part comes before the teaser's closing "Read more" link.
    assert all(t.index("Hello, Quiet!") < t.index("Read more") for t in teasers)


async def test_a_trapping_view_tap_leaves_the_page_rendering(
    site: httpx.AsyncClient,
) -> None:
    # Created before hostile is installed: its presave and access taps misbehave on these.
    raising = await _greeting(site, "raise", {"value": "x", "format": "plain_text"})
    bad = await _greeting(site, "bad_schema", {"value": "y", "format": "plain_text"})
    calm = await _greeting(site, "calm", {"value": "z", "format": "plain_text"})
    await kernel_of(site).plugins.install("hostile")
    # root (a superuser) is not asked about access, so only the view tap misbehaves.
    await api_login(site, "root")
    page = await site.get(f"/item/{raising}")
    assert page.status_code == 200, page.text
    assert "Hello, raise!" in page.text and "hostile" not in page.text
    page = await site.get(f"/item/{bad}")
    assert page.status_code == 200, page.text
    assert "Hello, bad_schema!" in page.text and "<script>" not in page.text
    page = await site.get(f"/item/{calm}")
    assert "hostile was well-behaved" in page.text and "Hello, calm!" in page.text


async def test_preprocess_item_adds_escaped_template_variables(
    db_url: str, plugin_cache: Path, built: dict[str, BuildResult], tmp_path: Path
) -> None:
    """tally's ``preprocess_item`` variables reach a theme's item template, as text only."""
    make_theme(tmp_path, "plain", {"elements/item--greeting.html": (
        "<article class=themed>{{ title }}|{{ tally_words }}|{{ tally_note }}|"
        "{{ view_mode }}|{{ children }}</article>")})
    settings = plugin_site_settings(db_url, plugin_cache).model_copy(
        update={"theme": "plain", "theme_dirs": str(tmp_path)})
    async with running_app(settings) as client:
        await create_account(client, "root", admin=True)
        await kernel_of(client).plugins.install("hello")
        item_id = await _greeting(client, "Three word title", {"value": "b",
                                                              "format": "plain_text"})
        await kernel_of(client).plugins.install("tally")
        client.cookies.clear()
        page = await client.get(f"/item/{item_id}")
        assert page.status_code == 200, page.text
        assert "<article class=themed>Three word title|3|" in page.text
        assert "&lt;b&gt;full&lt;/b&gt; by root|full|" in page.text
        assert "<b>full</b>" not in page.text
        # The teaser on the front page gets its own view mode.
        assert "&lt;b&gt;teaser&lt;/b&gt; by root|teaser|" in (await client.get("/")).text
