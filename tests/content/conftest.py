"""Fixtures for the content services: the real services on a fresh database, and users with
exactly the permissions a test names (no app, no HTTP)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest

from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.ids import NIL, uuid7
from trovato.names import name_key
from trovato.plugins.taps import Taps
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import PermissionRegistry

MakeUser = Callable[..., Awaitable[CurrentUser]]

ARTICLE: dict[str, Any] = {
    "type": "article",
    "label": "Article",
    "description": "News",
    "fields": [
        {"name": "field_body", "type": "text_long", "label": "Body"},
        {"name": "field_count", "type": "integer", "label": "Count",
         "settings": {"min": 0, "max": 10}},
        {"name": "field_tags", "type": "text", "label": "Tags", "cardinality": -1},
    ],
}


@pytest.fixture
async def content(database: Database) -> ContentServices:
    return await ContentServices.start(database, PermissionRegistry())


@pytest.fixture
def make_user(database: Database) -> MakeUser:
    """Create a user row and return it as a CurrentUser holding ``permissions``."""

    async def make(name: str, permissions: Iterable[str] = (), *, admin: bool = False
                   ) -> CurrentUser:
        user_id = uuid7()
        await database.execute(
            "INSERT INTO users (id, name, name_key, status) VALUES (%s, %s, %s, 1)",
            (user_id, name, name_key(name)))
        return CurrentUser(id=user_id, name=name, is_admin=admin,
                           permissions=frozenset(permissions))

    return make


@pytest.fixture
async def admin(make_user: MakeUser) -> CurrentUser:
    return await make_user("admin", admin=True)


def plugin_taps(taps: Iterable[str]) -> Taps:
    """The tap dispatch of a site whose one enabled plugin implements ``taps`` (what the
    content service asks it: which taps some plugin listens to)."""
    return Taps(lambda: _Plugins(tuple(taps)))  # type: ignore[arg-type,return-value]


class _Dispatcher:
    def __init__(self, taps: tuple[str, ...]) -> None:
        self.taps = taps
        self.listened = frozenset(taps)

    def implementations(self, tap: str) -> tuple[str, ...]:
        return ("listener",) if tap in self.taps else ()


class _Plugins:
    def __init__(self, taps: tuple[str, ...]) -> None:
        self.dispatcher = _Dispatcher(taps)


ANONYMOUS = CurrentUser(id=NIL, name="", permissions=frozenset({"access content"}))
