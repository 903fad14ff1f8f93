"""Fixtures for the categories service: the real service on a fresh database, with hooks that
record what they were told, and users as the content tests make them."""

from __future__ import annotations

from typing import Any

import pytest
from tests.content.conftest import MakeUser, admin, make_user  # noqa: F401 (fixtures)

from trovato.categories.model import Tag
from trovato.categories.service import Categories
from trovato.categories.taps import TagHooks
from trovato.db.pool import Database
from trovato.users.accounts import CurrentUser


class RecordingHooks(TagHooks):
    """Remembers each notification as (tap, tag name), and whether it ran inside the write's
    transaction (the tag is visible to a query on the service's own connection only then)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def insert(self, tag: Tag, user: CurrentUser) -> None:
        self.seen.append(("tag_insert", tag.name))

    async def update(self, tag: Tag, original: Tag, user: CurrentUser) -> None:
        self.seen.append(("tag_update", tag.name))

    async def delete(self, tag: Tag, user: CurrentUser) -> None:
        self.seen.append(("tag_delete", tag.name))


@pytest.fixture
def hooks() -> RecordingHooks:
    return RecordingHooks()


@pytest.fixture
def categories(database: Database, hooks: RecordingHooks) -> Categories:
    return Categories(database, hooks=hooks)


async def tags_named(categories: Categories, user: CurrentUser, vocabulary: str,
                     *names: str, **parents: Any) -> dict[str, Tag]:
    """Create ``names`` as root tags of ``vocabulary``; returns them by name."""
    return {name: await categories.create_tag(user, vocabulary, name) for name in names}


__all__ = ["MakeUser", "RecordingHooks", "tags_named"]
