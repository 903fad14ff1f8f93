"""Plugin tiles through a real built plugin: ``tile_info`` offers them for placement,
``tile_view`` (sent to the placing plugin only, acting for the reader) fills them, its tree is
sanitized like any plugin tree, and a disabled plugin's tile disappears."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import login_as
from tests.conftest import create_account, running_app
from tests.plugins.conftest import kernel_of, plugin_site_settings
from trovato.plugins.build import BuildResult
from trovato.tiles import TileError
from trovato.users.accounts import CurrentUser


@pytest.fixture
async def tiled_site(
    db_url: str, plugin_cache: Path, built: dict[str, BuildResult]
) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(plugin_site_settings(db_url, plugin_cache)) as client:
        await create_account(client, "root", admin=True)
        await kernel_of(client).plugins.install("tiler")
        yield client


async def _root(client: httpx.AsyncClient) -> CurrentUser:
    kernel = kernel_of(client)
    user_id = await kernel.db.fetchval("SELECT id FROM users WHERE name = 'root'")
    user = await kernel.accounts.load(user_id)
    assert user is not None
    return user


def _slot(text: str, name: str) -> str:
    found = re.search(rf'<(?:aside|footer)[^>]*class="[^"]*(?:slot--{name}|site)"[^>]*>(.*?)'
                      rf'</(?:aside|footer)>', text, re.S)
    return found[1] if found else ""


async def test_plugin_tiles_are_placed_rendered_and_sanitized(
    tiled_site: httpx.AsyncClient,
) -> None:
    client = tiled_site
    kernel = kernel_of(client)
    root = await _root(client)
    sources = {o.source: o.label for o in await kernel.tiles.sources(root)}
    assert sources == {"plugin:tiler:greeting": "tiler: Greeting",
                       "plugin:tiler:hostile": "tiler: Hostile"}
    await kernel.tiles.create(root, {"source": "plugin:tiler:greeting", "slot": "sidebar",
                                     "title": "Hi <there>", "settings": {"who": "<Ada>"}})
    await kernel.tiles.create(root, {"source": "plugin:tiler:hostile", "slot": "footer"})
    client.cookies.clear()
    page = await client.get("/")
    assert page.status_code == 200
    sidebar = _slot(page.text, "sidebar")
    assert "Hi &lt;there&gt;" in sidebar
    # The plugin's text without a format is escaped; it acted for the reader (anonymous).
    assert "Hello, &lt;Ada&gt;! &lt;b&gt;You are 00000000-0000-0000-0000-000000000000" in sidebar
    footer = _slot(page.text, "footer")
    assert "<em>kept</em>" in footer
    for hostile in ("<script", "javascript:", "onclick", "alert(1)"):
        assert hostile not in footer, hostile
    # Logged in, the tile is built for that reader.
    await login_as(client, "root")
    assert f"You are {root.id}" in (await client.get("/")).text
    # A disabled plugin's tiles are gone (and no longer offered).
    await kernel.plugins.disable("tiler")
    client.cookies.clear()
    after = await client.get("/")
    assert "Hello," not in after.text and "kept" not in after.text
    with pytest.raises(TileError) as refused:
        await kernel.tiles.create(root, {"source": "plugin:tiler:greeting", "slot": "sidebar"})
    assert "source" in refused.value.errors
