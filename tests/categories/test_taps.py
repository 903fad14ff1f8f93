"""The tag taps through the tap door: each write's tap, with the tag's public shape and the
acting user; nothing built when no plugin listens."""

from __future__ import annotations

from typing import Any

import pytest
from tests.content.conftest import MakeUser

from trovato.categories.service import Categories
from trovato.categories.taps import PluginTagHooks
from trovato.db.pool import Database
from trovato.plugins import PluginUser, TapOutcome
from trovato.users.accounts import CurrentUser


class Door:
    """Stands in for :class:`~trovato.plugins.taps.Taps`: who listens, and what was fired."""

    def __init__(self, listening: set[str]) -> None:
        self.listening = listening
        self.fired: list[tuple[str, dict[str, Any], str]] = []

    def listens(self, tap: str) -> bool:
        return tap in self.listening

    async def fire(self, tap: str, payload: dict[str, Any], *, user: PluginUser) -> TapOutcome:
        self.fired.append((tap, payload, user.name))
        return TapOutcome(tap)


@pytest.fixture
def door() -> Door:
    return Door({"tag_insert", "tag_update", "tag_delete"})


@pytest.fixture
def tapped(database: Database, door: Door) -> Categories:
    return Categories(database, hooks=PluginTagHooks(door))  # type: ignore[arg-type]


async def test_each_write_fires_its_tap(tapped: Categories, door: Door,
                                        make_user: MakeUser) -> None:
    editor: CurrentUser = await make_user("editor", ["administer categories"])
    await tapped.create_vocabulary(editor, "topics", "Topics")
    jazz = await tapped.create_tag(editor, "topics", "Jazz")
    renamed = await tapped.update_tag(editor, jazz.id, name="Free jazz")
    await tapped.delete_tag(editor, jazz.id)
    assert [(tap, payload["tag"]["name"], who) for tap, payload, who in door.fired] == [
        ("tag_insert", "Jazz", "editor"), ("tag_update", "Free jazz", "editor"),
        ("tag_delete", "Free jazz", "editor")]
    assert door.fired[1][1] == {"tag": renamed.public()}


async def test_nothing_is_built_when_no_plugin_listens(database: Database,
                                                       make_user: MakeUser) -> None:
    door = Door(set())
    service = Categories(database, hooks=PluginTagHooks(door))  # type: ignore[arg-type]
    admin = await make_user("root", admin=True)
    await service.create_vocabulary(admin, "topics", "Topics")
    await service.create_tag(admin, "topics", "Jazz")
    assert door.fired == []
