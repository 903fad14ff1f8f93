"""How an item's reference to a managed file is resolved (registered with the content
service's reference checks): its bundle is its file name (for the extension rule) and it is an
image by its MIME type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, MetaData, Table, Text, Uuid, any_, literal_column, select

from trovato.records import Lookup

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, Select

    from trovato.stages import StageView
    from trovato.users.accounts import CurrentUser

_files = Table("file_managed", MetaData(), Column("id", Uuid), Column("filename", Text),
               Column("filemime", Text))


def _build(ids: BindParameter[Any]) -> Select[Any]:
    f = _files.alias("f")
    return select(f.c.id, f.c.filename.label("bundle"), literal_column("TRUE").label("visible"),
                  f.c.filemime.like(literal_column("'image/%'")).label("image")
                  ).where(f.c.id == any_(ids))


def resolve_files(user: CurrentUser, view: StageView) -> Lookup:
    return Lookup(shape=None, build=_build)
