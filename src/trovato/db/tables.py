"""The tables composed statements read, declared once for SQLAlchemy Core (DESIGN §3).

The schema itself is Alembic's (``db/migrations``); these declarations name only the columns
the reads use. They are also a whitelist: a statement built from them can only name a column
declared here, so the ``users`` table has no ``pass`` (and nothing else private but ``mail``,
which only readers with ``administer users`` are given) and no session or token table is
declared at all.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR

metadata: Final = MetaData()

ITEM: Final = Table(
    "item", metadata,
    Column("id", Uuid), Column("type", Text), Column("title", Text), Column("status", Integer),
    Column("promote", Boolean), Column("sticky", Boolean), Column("author_id", Uuid),
    Column("created", DateTime(timezone=True)), Column("changed", DateTime(timezone=True)),
    Column("current_revision_id", Uuid), Column("stage_id", Text), Column("fields", JSONB),
    Column("summary", Text), Column("search_vector", TSVECTOR),
)
ITEM_REVISION: Final = Table(
    "item_revision", metadata,
    Column("id", Uuid), Column("item_id", Uuid), Column("title", Text), Column("status", Integer),
    Column("promote", Boolean), Column("sticky", Boolean), Column("fields", JSONB),
    Column("summary", Text), Column("created", DateTime(timezone=True)),
    Column("search_vector", TSVECTOR),
)
STAGE_ASSOCIATION: Final = Table(
    "stage_association", metadata,
    Column("stage_id", Text), Column("item_id", Uuid), Column("target_revision_id", Uuid),
)
STAGE_DELETION: Final = Table(
    "stage_deletion", metadata,
    Column("stage_id", Text), Column("entity_type", Text), Column("entity_id", Uuid),
)
# Public columns, the status that hides blocked accounts, and the mail address (module
# docstring).
USERS: Final = Table(
    "users", metadata,
    Column("id", Uuid), Column("name", Text), Column("status", Integer),
    Column("created", DateTime(timezone=True)), Column("mail", Text),
)
CATEGORY_VOCABULARY: Final = Table(
    "category_vocabulary", metadata,
    Column("id", Uuid), Column("machine_name", Text), Column("name", Text),
)
CATEGORY_TAG: Final = Table(
    "category_tag", metadata,
    Column("id", Uuid), Column("vocabulary_id", Uuid), Column("name", Text), Column("slug", Text),
    Column("description", Text), Column("weight", Integer), Column("stage_id", Text),
)
CATEGORY_TAG_HIERARCHY: Final = Table(
    "category_tag_hierarchy", metadata, Column("tag_id", Uuid), Column("parent_id", Uuid),
)
FILE_MANAGED: Final = Table(
    "file_managed", metadata,
    Column("id", Uuid), Column("filename", Text), Column("filemime", Text),
    Column("owner_id", Uuid), Column("status", SmallInteger),
)

__all__ = ["CATEGORY_TAG", "CATEGORY_TAG_HIERARCHY", "CATEGORY_VOCABULARY", "FILE_MANAGED",
           "ITEM", "ITEM_REVISION", "STAGE_ASSOCIATION", "STAGE_DELETION", "USERS", "metadata"]
