"""The site's icon: ``/favicon.ico`` for browsers that ask, the SVG that pages link to."""

from __future__ import annotations

import httpx


async def test_favicon_is_served_and_cacheable(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content.startswith(b"\x00\x00\x01\x00")  # an ICO directory
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert "set-cookie" not in response.headers


async def test_pages_link_the_svg_icon(client: httpx.AsyncClient) -> None:
    page = await client.get("/user/login")
    assert '<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">' in page.text
    icon = await client.get("/assets/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
