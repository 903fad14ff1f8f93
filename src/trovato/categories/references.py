"""How an item's reference to a category tag is resolved (registered with the content
service's reference checks): the tag must exist in the save's stage view; its bundle is its
vocabulary's machine name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, MetaData, Table, Text, Uuid, any_, literal_column, select

from trovato.records import Lookup
from trovato.stages import stage_condition, stage_params

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, Select

    from trovato.stages import StageView
    from trovato.users.accounts import CurrentUser

_metadata = MetaData()
_tag = Table("category_tag", _metadata, Column("id", Uuid), Column("vocabulary_id", Uuid),
             Column("stage_id", Text))
_vocabulary = Table("category_vocabulary", _metadata, Column("id", Uuid),
                    Column("machine_name", Text))


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
