"""Helpers of the accounts, privileges and rate-limit attacks: a site on the PostgreSQL store,
people with chosen permissions, and look-alike spellings of typed names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.conftest import ADMIN_PASSWORD, api_login, create_account, running_app, site_settings
from trovato.kernel.services import Kernel


@asynccontextmanager
async def site(db_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(site_settings(db_url, **settings)) as client:
        yield client


def kernel_of(client: httpx.AsyncClient) -> Kernel:
    kernel: Kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    return kernel


async def person(client: httpx.AsyncClient, name: str, *permissions: str,
                 admin: bool = False) -> str:
    """An account holding exactly ``permissions`` through a role of its own; returns its id."""
    user_id = await create_account(client, name, admin=admin)
    if permissions:
        kernel = kernel_of(client)
        role = await kernel.db.fetchval(
            "INSERT INTO role (name) VALUES (%s) RETURNING id", (f"role of {name}",))
        await kernel.permissions.set_role_permissions(role, permissions)
        await kernel.db.execute("INSERT INTO users_roles (user_id, role_id) VALUES (%s, %s)",
                                (user_id, role))
    return user_id


async def login(client: httpx.AsyncClient, name: str, password: str = ADMIN_PASSWORD
                ) -> dict[str, str]:
    """Log ``name`` in (dropping any other session); returns the CSRF header."""
    client.cookies.clear()
    return {"X-CSRF-Token": await api_login(client, name, password)}


# Ways to write a name so that it looks like (or folds to) the original: each must either
# reach the same account or be refused, never make a second one.
def look_alikes(name: str) -> dict[str, str]:
    cyrillic = str.maketrans({"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440",
                              "c": "\u0441", "x": "\u0445", "i": "\u0456"})
    greek = str.maketrans({"o": "\u03bf", "i": "\u03b9", "a": "\u03b1", "v": "\u03bd"})
    return {
        "upper case": name.upper(),
        "title case": name.title(),
        "Cyrillic letters": name.translate(cyrillic),
        "Greek letters": name.translate(greek),
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name),
        "l as 1": name.replace("l", "1"),
        "mathematical bold": "".join(
            chr(0x1D41A + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in name),
    }


# Spellings that hide characters: each must be refused outright.
def hidden_characters(name: str) -> dict[str, str]:
    return {
        "trailing newline": name + "\n",
        "NUL": name[:2] + "\x00" + name[2:],
        "zero-width space": name[:2] + "\u200b" + name[2:],
        "right-to-left override": "\u202e" + name,
        "soft hyphen": name[:2] + "\u00ad" + name[2:],
        "trailing space": name + " ",
    }
