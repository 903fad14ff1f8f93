"""How an item's reference to a managed file is resolved (registered with the content
service's reference checks): its bundle is its file name (for the extension rule), it is an
image by its MIME type, and the saver may refer to it when it is permanent (already in use)
or their own upload (an administrator: any). Whether a newly added private file may be used
is decided with the usage (:meth:`trovato.files.service.Files.track`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Uuid, any_, bindparam, literal_column, or_, select

from trovato.db.tables import FILE_MANAGED
from trovato.records import Lookup

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, Select

    from trovato.stages import StageView
    from trovato.users.accounts import CurrentUser


def resolve_files(user: CurrentUser, view: StageView) -> Lookup:
    admin = user.is_admin

    def build(ids: BindParameter[Any]) -> Select[Any]:
        f = FILE_MANAGED.alias("f")
        visible = literal_column("TRUE") if admin else or_(
            f.c.status == literal_column("1"), f.c.owner_id == bindparam("viewer", type_=Uuid))
        return select(f.c.id, f.c.filename.label("bundle"), visible.label("visible"),
                      f.c.filemime.like(literal_column("'image/%'")).label("image")
                      ).where(f.c.id == any_(ids))

    return Lookup(shape=("files", admin), build=build,
                  params={} if admin else {"viewer": user.id})
