"""Fixtures for Gather: the real content services and Gather on a fresh database, a type with
a field of every kind Gather compares, and tags inserted by SQL (the categories service is
another part's)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.content.conftest import ANONYMOUS, MakeUser, admin, make_user  # noqa: F401
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.gather import Gather
from trovato.users.permissions import PermissionRegistry

__all__ = ["ANONYMOUS", "MakeUser", "NoTaps", "add_tags"]

ARTICLE: dict[str, Any] = {
    "type": "article",
    "label": "Article",
    "fields": [
        {"name": "field_body", "type": "text_long", "label": "Body"},
        {"name": "field_count", "type": "integer", "label": "Count"},
        {"name": "field_price", "type": "decimal", "label": "Price",
         "settings": {"precision": 10, "scale": 2}},
        {"name": "field_score", "type": "float", "label": "Score"},
        {"name": "field_flag", "type": "boolean", "label": "Flag"},
        {"name": "field_day", "type": "date", "label": "Day"},
        {"name": "field_when", "type": "datetime", "label": "When"},
        {"name": "field_kind", "type": "list", "label": "Kind",
         "settings": {"allowed_values": ["red", "green", "blue"]}},
        {"name": "field_words", "type": "text", "label": "Words", "cardinality": -1},
        {"name": "field_tags", "type": "reference", "label": "Tags", "cardinality": -1,
         "settings": {"target_type": "category_tag"}},
        {"name": "field_topic", "type": "reference", "label": "Topic",
         "settings": {"target_type": "category_tag"}},
    ],
}
PAGE: dict[str, Any] = {"type": "page", "label": "Page", "fields": [
    {"name": "field_body", "type": "text_long", "label": "Body"}]}


class NoTaps:
    """The tap door of a site without plugins (Gather only asks who listens)."""

    def listens(self, tap: str) -> bool:
        return False


@pytest.fixture
async def content(database: Database) -> ContentServices:
    services = await ContentServices.start(database, PermissionRegistry())
    await services.types.create(ARTICLE)
    await services.types.create(PAGE)
    return services


@pytest.fixture
def gather(database: Database, content: ContentServices) -> Gather:
    return Gather(database, content.query, content.types, NoTaps())  # type: ignore[arg-type]


async def add_tags(database: Database, parents: dict[str, list[str]]) -> dict[str, uuid.UUID]:
    """Tags named by ``parents``' keys in one vocabulary, each under the named parents (a
    DAG); returns their ids by name."""
    vocabulary = uuid.uuid4()
    await database.execute(
        "INSERT INTO category_vocabulary (id, machine_name, name) VALUES (%s, 'topics', 'T')",
        (vocabulary,))
    ids = {name: uuid.uuid4() for name in parents}
    for name, tag in ids.items():
        await database.execute(
            "INSERT INTO category_tag (id, vocabulary_id, name, slug) VALUES (%s, %s, %s, %s)",
            (tag, vocabulary, name, name))
    for name, above in parents.items():
        for parent in above:
            await database.execute(
                "INSERT INTO category_tag_hierarchy (tag_id, parent_id) VALUES (%s, %s)",
                (ids[name], ids[parent]))
    return ids
