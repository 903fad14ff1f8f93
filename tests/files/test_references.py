"""How an item's reference to a file is resolved: from the one declaration of ``file_managed``
(``db/tables.py``), an administrator seeing every file, anyone else the permanent ones and
their own."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Uuid, bindparam

from trovato.db.tables import FILE_MANAGED
from trovato.files.references import resolve_files
from trovato.users.accounts import CurrentUser


def _statement(user: CurrentUser) -> tuple[Any, str]:
    lookup = resolve_files(user, cast(Any, None))
    statement = lookup.build(bindparam("ids", type_=Uuid))
    return statement, str(statement)


def test_files_are_read_from_the_declared_table() -> None:
    user = CurrentUser(id=uuid.uuid4(), name="u")
    statement, sql = _statement(user)
    (source,) = statement.get_final_froms()
    assert source.element is FILE_MANAGED  # an alias of the one declaration
    assert "f.status = 1 OR f.owner_id = :viewer" in sql
    assert resolve_files(user, cast(Any, None)).params == {"viewer": user.id}
    _admin_statement, admin_sql = _statement(CurrentUser(id=uuid.uuid4(), name="a",
                                                         is_admin=True))
    assert "owner_id" not in admin_sql
