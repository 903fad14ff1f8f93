"""Fixtures for the content API tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import api_login, create_account


async def login_as(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    """Log ``name`` in (after dropping any previous session); returns the CSRF header."""
    client.cookies.clear()
    return {"X-CSRF-Token": await api_login(client, name)}


async def admin_headers(client: httpx.AsyncClient, name: str = "root") -> dict[str, str]:
    await create_account(client, name, admin=True)
    return await login_as(client, name)


ARTICLE: dict[str, Any] = {
    "type": "article",
    "label": "Article",
    "description": "News articles",
    "fields": [
        {"name": "field_body", "type": "text_long", "label": "Body", "required": True},
        {"name": "field_count", "type": "integer", "label": "Count",
         "settings": {"min": 0, "max": 10}},
        {"name": "field_tags", "type": "text", "label": "Tags", "cardinality": -1},
    ],
}
