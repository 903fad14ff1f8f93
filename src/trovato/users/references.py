"""How an item's reference to a user account is resolved (registered with the content
service's reference checks): blocked accounts only for ``administer users``; the anonymous
user never."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import any_, literal_column, null, select

from trovato.db.tables import USERS
from trovato.ids import NIL
from trovato.records import Lookup

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, Select

    from trovato.stages import StageView
    from trovato.users.accounts import CurrentUser

_users = USERS


def resolve_users(user: CurrentUser, view: StageView) -> Lookup:
    may_see_blocked = user.can("administer users")

    def build(ids: BindParameter[Any]) -> Select[Any]:
        u = _users.alias("u")
        visible = literal_column("TRUE") if may_see_blocked else u.c.status == literal_column("1")
        return select(u.c.id, null().label("bundle"), visible.label("visible"),
                      literal_column("FALSE").label("image")).where(
            u.c.id == any_(ids), u.c.id != literal_column(f"'{NIL}'::uuid"))

    return Lookup(shape=may_see_blocked, build=build)
