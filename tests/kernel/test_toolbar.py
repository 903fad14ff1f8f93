"""The toolbar's data: only for users who may use the admin, from their permissions alone."""

from __future__ import annotations

import uuid

from trovato.ids import NIL
from trovato.kernel.toolbar import ADMIN_PERMISSION, SECTIONS, toolbar_for
from trovato.users.accounts import CurrentUser


def test_no_toolbar_for_visitors_and_users_without_the_permission() -> None:
    anonymous = CurrentUser(id=NIL, name="Anonymous", permissions=frozenset({ADMIN_PERMISSION}))
    assert toolbar_for(None) is None
    assert toolbar_for(anonymous) is None  # even if a site granted it to anonymous
    plain = CurrentUser(id=uuid.uuid4(), name="plain", permissions=frozenset({"use stages"}))
    assert toolbar_for(plain) is None


def test_the_toolbar_lists_the_sections_the_user_may_open() -> None:
    editor = CurrentUser(id=uuid.uuid4(), name="Ed <b>", permissions=frozenset(
        {ADMIN_PERMISSION, "use stages"}))
    bar = toolbar_for(editor)
    assert bar is not None
    assert [s.path for s in bar.sections] == ["/admin/content", "/admin/stages"]
    assert (bar.user_id, bar.user_name) == (str(editor.id), "Ed <b>")
    root = toolbar_for(CurrentUser(id=uuid.uuid4(), name="root", is_admin=True))
    assert root is not None and root.sections == SECTIONS
