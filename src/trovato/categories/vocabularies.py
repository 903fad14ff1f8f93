"""Vocabularies: reading, creating, changing and deleting them (a vocabulary's tags go with
it, ``tag_delete`` firing for each)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation
from psycopg.rows import DictRow

from trovato.categories.base import CategoriesBase
from trovato.categories.checks import (
    UNSET,
    check_description,
    check_hierarchy,
    check_label,
    check_weight,
    refuse,
)
from trovato.categories.model import (
    HIERARCHIES,
    VOCABULARY_ID,
    VOCABULARY_ID_MAX,
    CategoryError,
    Vocabulary,
    no_such_vocabulary,
)
from trovato.categories.statements import SELECT_VOCABULARY, update_statement, vocabulary_from_row
from trovato.categories.usage import remove_references
from trovato.ids import uuid7
from trovato.observability.audit import audit
from trovato.users.accounts import CurrentUser


class Vocabularies(CategoriesBase):
    """The vocabulary part of :class:`~trovato.categories.service.Categories`."""

    async def vocabularies(self, user: CurrentUser) -> list[Vocabulary]:
        self._require_read(user)
        rows = await self.db.fetch(SELECT_VOCABULARY + " ORDER BY weight, machine_name")
        return [vocabulary_from_row(r) for r in rows]

    async def vocabulary(self, user: CurrentUser, vocabulary: str) -> Vocabulary:
        self._require_read(user)
        row = await self.db.fetchrow(SELECT_VOCABULARY + " WHERE machine_name = %s",
                                     (vocabulary,))
        if row is None:
            raise no_such_vocabulary(vocabulary)
        return vocabulary_from_row(row)

    async def vocabulary_names(self) -> list[str]:
        """Every vocabulary's machine name (the API document's list of them)."""
        rows = await self.db.fetch("SELECT machine_name FROM category_vocabulary"
                                   " ORDER BY machine_name")
        return [r["machine_name"] for r in rows]

    async def create_vocabulary(self, user: CurrentUser, vocabulary: str, label: str, *,
                                description: str = "", hierarchy: str = "multiple",
                                weight: int = 0) -> Vocabulary:
        self._require_admin(user)
        async with self.db.transaction() as conn:
            return await self._insert_vocabulary(conn, user, vocabulary, label,
                                                 description=description, hierarchy=hierarchy,
                                                 weight=weight)

    async def _insert_vocabulary(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                                 vocabulary: str, label: str, *, description: str = "",
                                 hierarchy: str = "multiple", weight: int = 0) -> Vocabulary:
        errors: dict[str, str] = {}
        if not isinstance(vocabulary, str) or len(vocabulary) > VOCABULARY_ID_MAX \
                or not VOCABULARY_ID.match(vocabulary):
            errors["id"] = (f"must be a machine name: a lowercase letter, then lowercase"
                            f" letters, digits and underscores, at most {VOCABULARY_ID_MAX}")
        label = check_label(label, errors)
        description = check_description(description, errors)
        mode = check_hierarchy(hierarchy, errors)
        weight = check_weight(weight, errors)
        refuse(errors, "The vocabulary is invalid.")
        try:
            async with conn.transaction():  # a savepoint: a taken name leaves conn usable
                cur = await conn.execute(
                    "INSERT INTO category_vocabulary (id, machine_name, name, description,"
                    " hierarchy, weight) VALUES (%s, %s, %s, %s, %s, %s) RETURNING *",
                    (uuid7(), vocabulary, label, description, HIERARCHIES.index(mode), weight))
        except UniqueViolation:
            raise CategoryError(409, f"A vocabulary {vocabulary!r} exists already.",
                                errors={"id": "is taken"}) from None
        row = await cur.fetchone()
        assert row is not None
        await audit(conn, "categories", "Created vocabulary “%(vocabulary)s”.",
                    {"vocabulary": vocabulary}, user_id=user.id)
        return vocabulary_from_row(row)

    async def update_vocabulary(self, user: CurrentUser, vocabulary: str, *,
                                label: str = UNSET, description: str = UNSET,
                                hierarchy: str = UNSET, weight: int = UNSET) -> Vocabulary:
        """Change what is given; a stricter ``hierarchy`` is refused (409) while a tag has
        more parents than it allows."""
        self._require_admin(user)
        errors: dict[str, str] = {}
        changes: dict[str, Any] = {}
        if label is not UNSET:
            changes["name"] = check_label(label, errors)
        if description is not UNSET:
            changes["description"] = check_description(description, errors)
        if hierarchy is not UNSET:
            changes["hierarchy"] = HIERARCHIES.index(check_hierarchy(hierarchy, errors))
        if weight is not UNSET:
            changes["weight"] = check_weight(weight, errors)
        refuse(errors, "The vocabulary is invalid.")
        async with self.db.transaction() as conn:
            current = await self._lock_vocabulary(conn, vocabulary)
            if "hierarchy" in changes:
                allowed = changes["hierarchy"]  # 0: no parents, 1: one, 2: any
                if allowed < 2:
                    cur = await conn.execute(
                        "SELECT t.name FROM category_tag t JOIN category_tag_hierarchy h"
                        " ON h.tag_id = t.id WHERE t.vocabulary_id = %s GROUP BY t.id, t.name"
                        " HAVING count(*) > %s ORDER BY t.name LIMIT 1",
                        (current.key, allowed))
                    row = await cur.fetchone()
                    if row is not None:
                        raise CategoryError(
                            409, f"The tag {row['name']!r} has more parents than the hierarchy"
                            f" {HIERARCHIES[allowed]!r} allows; change its parents first.",
                            errors={"hierarchy": "existing tags have more parents"})
            if changes:
                await conn.execute(update_statement("category_vocabulary", changes),
                                   {**changes, "id": current.key})
                await audit(conn, "categories", "Updated vocabulary “%(vocabulary)s”.",
                            {"vocabulary": vocabulary}, user_id=user.id)
            cur = await conn.execute(SELECT_VOCABULARY + " WHERE id = %s", (current.key,))
            row = await cur.fetchone()
            assert row is not None
        await self._invalidate(vocabulary)
        return vocabulary_from_row(row)

    async def delete_vocabulary(self, user: CurrentUser, vocabulary: str) -> Vocabulary:
        """Delete the vocabulary and its tags (``tag_delete`` fires for each; items lose
        their references to them as when a tag is deleted)."""
        self._require_admin(user)
        async with self.db.transaction() as conn:
            current = await self._lock_vocabulary(conn, vocabulary)
            tags = await self._tags_on(conn, vocabulary)
            for tag in tags:
                await self.hooks.delete(tag, user)
            items = await remove_references(conn, [t.id for t in tags], user.id,
                                            f"Removed the tags of the deleted vocabulary"
                                            f" {current.label}.")
            await conn.execute("DELETE FROM category_vocabulary WHERE id = %s", (current.key,))
            await audit(conn, "categories", "Deleted vocabulary “%(vocabulary)s”.",
                        {"vocabulary": vocabulary}, user_id=user.id)
        await self._invalidate(vocabulary, items=items)
        return current
