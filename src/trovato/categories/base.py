"""What every part of the categories service shares: its dependencies, access checks, the
vocabulary lock that serialises a vocabulary's writes, reading a tag inside a write, and
dropping cache tags after one."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence

from psycopg import AsyncConnection
from psycopg.rows import DictRow, tuple_row

from trovato.categories.model import (
    ACCESS_CONTENT,
    ADMINISTER_CATEGORIES,
    CategoryError,
    Tag,
    Vocabulary,
    no_such_tag,
    no_such_vocabulary,
)
from trovato.categories.statements import (
    SELECT_VOCABULARY,
    tag_from_row,
    tags_sql,
    vocabulary_from_row,
    vocabulary_sql,
    with_parents,
)
from trovato.categories.taps import TagHooks
from trovato.db.pool import Database
from trovato.stages import Stages, StageView, is_live
from trovato.users.accounts import CurrentUser

Invalidate = Callable[[Iterable[str]], Awaitable[None]]


class CategoriesBase:
    """The shared state and helpers of :class:`~trovato.categories.service.Categories`."""

    def __init__(self, db: Database, stages: Stages | None = None, *,
                 hooks: TagHooks | None = None, invalidate: Invalidate | None = None) -> None:
        self.db = db
        self.stages = stages or Stages(db)
        self.hooks = hooks or TagHooks()
        self.invalidate = invalidate

    # -- access --------------------------------------------------------------------------------

    @staticmethod
    def may_read(user: CurrentUser) -> bool:
        return user.can(ACCESS_CONTENT) or user.can(ADMINISTER_CATEGORIES)

    def _require_read(self, user: CurrentUser) -> None:
        if not self.may_read(user):
            raise CategoryError(403, f"You need the permission {ACCESS_CONTENT!r} to see"
                                " categories.")

    @staticmethod
    def _require_admin(user: CurrentUser) -> None:
        if not user.can(ADMINISTER_CATEGORIES):
            raise CategoryError(403, f"You need the permission {ADMINISTER_CATEGORIES!r} to"
                                " change categories.")

    @staticmethod
    def _require_live(stage: str) -> None:
        if not is_live(stage):
            raise CategoryError(409, f"Categories are edited in live only: tags cannot be"
                                f" created, changed or deleted in the stage {stage!r}.")

    async def _view(self, user: CurrentUser, stage: str) -> StageView:
        return await self.stages.view(stage, user)

    # -- inside a write ------------------------------------------------------------------------

    async def _lock_vocabulary(self, conn: AsyncConnection[DictRow], vocabulary: str, *,
                               field: str | None = None) -> Vocabulary:
        """The vocabulary, its row locked against every other write to it (module
        docstring); 404, or 422 about ``field`` when the vocabulary is named in a body."""
        cur = await conn.execute(SELECT_VOCABULARY + " WHERE machine_name = %s"
                                 " FOR NO KEY UPDATE", (vocabulary,))
        row = await cur.fetchone()
        if row is None:
            if field is not None:
                raise CategoryError(422, f"There is no vocabulary {vocabulary!r}.",
                                    errors={field: "no such vocabulary"})
            raise no_such_vocabulary(vocabulary)
        return vocabulary_from_row(row)

    async def _tags_on(self, conn: AsyncConnection[DictRow], vocabulary: str) -> list[Tag]:
        """The vocabulary's live tags, read on ``conn``."""
        rows_sql, links_sql = vocabulary_sql(True)
        params = {"vocabulary": vocabulary}
        rows = await (await conn.cursor(row_factory=tuple_row).execute(rows_sql, params)
                      ).fetchall()
        links = await (await conn.cursor(row_factory=tuple_row).execute(links_sql, params)
                       ).fetchall()
        return with_parents(rows, links)

    async def _read(self, conn: AsyncConnection[DictRow], key: uuid.UUID) -> Tag:
        cur = await conn.cursor(row_factory=tuple_row).execute(tags_sql(True, "id"),
                                                               {"id": key})
        row = await cur.fetchone()
        if row is None:
            raise no_such_tag()
        return tag_from_row(row)

    async def _locked_tag(self, conn: AsyncConnection[DictRow], key: uuid.UUID) -> Tag:
        """A live tag, its row locked (404 if there is none)."""
        cur = await conn.execute("SELECT 1 FROM category_tag WHERE id = %s FOR UPDATE", (key,))
        if await cur.fetchone() is None:
            raise no_such_tag()
        return await self._read(conn, key)

    async def _invalidate(self, vocabulary: str, tag: uuid.UUID | None = None, *,
                          items: Sequence[tuple[uuid.UUID, str]] = ()) -> None:
        """Drop the cache tags of a write: the vocabulary's, the tag's, and each rewritten
        item's with its type's listings."""
        if self.invalidate is not None:
            await self.invalidate([f"vocabulary:{vocabulary}",
                                   *([f"tag:{tag}"] if tag is not None else []),
                                   *(f"item:{key}" for key, _ in items),
                                   *{f"item_list:{type_}" for _, type_ in items}])
