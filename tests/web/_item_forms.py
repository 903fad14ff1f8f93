"""Driving the HTML item forms as a browser would: open a form, keep its hidden inputs, post."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.plugins.conftest import kernel_of
from trovato.forms.state import STATE_TTL

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_PAGE_SCRIPT = re.compile(r'<script src="/assets/[a-z/]+\.js" defer></script>\n')


def without_page_scripts(text: str) -> str:
    """``text`` without the kernel's own script tags (its static files), so that a check for
    ``<script>`` finds only what user input could have put there."""
    return _PAGE_SCRIPT.sub("", text)


def hidden_inputs(text: str) -> dict[str, str]:
    """The hidden inputs of a page's forms (CSRF token, form build id), by name."""
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(text)}


async def open_form(client: httpx.AsyncClient, path: str) -> dict[str, str]:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = hidden_inputs(page.text)
    assert "csrf_token" in found and "form_build_id" in found, page.text
    return found


@contextmanager
def states_expired(client: httpx.AsyncClient) -> Iterator[None]:
    """Within the block, the app's form states see a clock past their life: every build id
    issued before it is expired (no sleeping)."""
    states = kernel_of(client).forms.states
    states.clock = lambda: time.time() + STATE_TTL + 60
    try:
        yield
    finally:
        states.clock = time.time


async def post_form(client: httpx.AsyncClient, path: str, hidden: dict[str, str],
                    data: dict[str, Any]) -> httpx.Response:
    return await client.post(path, data={**hidden, **data})


def article_values(title: str = "Hello", body: str = "Body text", **more: Any) -> dict[str, Any]:
    """What a user types into the article form (and the Save button)."""
    return {"title": title, "fields[field_body][value]": body,
            "fields[field_body][format]": "plain_text", "status": "1", "op": "save", **more}


def item_id_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/item/"), location
    return location.removeprefix("/item/")
