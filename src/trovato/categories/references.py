"""How an item's reference to a category tag is resolved (registered with the content
service's reference checks): the tag must exist in the save's stage view; its bundle is its
vocabulary's machine name. And how one is shown (:class:`TagLabels`, the item view service's
labeller for tags): the tag's name, linked to its page ``/tags/{vocabulary}/{slug}``."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import any_, literal_column, select

from trovato.db.tables import CATEGORY_TAG, CATEGORY_VOCABULARY
from trovato.records import Label, Lookup
from trovato.stages import LIVE, stage_condition, stage_params

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, Select

    from trovato.db.pool import Database
    from trovato.stages import StageView
    from trovato.users.accounts import CurrentUser

_tag, _vocabulary = CATEGORY_TAG, CATEGORY_VOCABULARY


def resolve_tags(user: CurrentUser, view: StageView) -> Lookup:
    live = view.live

    def build(ids: BindParameter[Any]) -> Select[Any]:
        t, v = _tag.alias("t"), _vocabulary.alias("v")
        return (select(t.c.id, v.c.machine_name.label("bundle"),
                       literal_column("TRUE").label("visible"),
                       literal_column("FALSE").label("image"))
                .select_from(t.join(v, v.c.id == t.c.vocabulary_id))
                .where(t.c.id == any_(ids), stage_condition(live, t.c.stage_id)))

    return Lookup(shape=live, build=build, params=stage_params(view))


# Tags are written in live only (``categories/service.py``), so live holds every tag's name.
_LABELS_SQL: Final = (
    "SELECT t.id, t.name, v.machine_name, t.slug FROM category_tag t"
    " JOIN category_vocabulary v ON v.id = t.vocabulary_id"
    " WHERE t.id = ANY(%s) AND t.stage_id = %s")


class TagLabels:
    """The labeller of tags: one statement for every tag a page refers to."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Label]:
        if not ids:
            return {}
        rows = await self.db.fetch_tuples(_LABELS_SQL, (list(ids), LIVE))
        return {key: Label(name, f"/tags/{vocabulary}/{slug}")
                for key, name, vocabulary, slug in rows}
