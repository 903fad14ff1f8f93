"""The admin's section list shows a user only the places they may open."""

from __future__ import annotations

import uuid

from trovato.users.accounts import CurrentUser
from trovato.web.admin import ADMIN_PERMISSION, SECTIONS, sections_for


def _user(*permissions: str, admin: bool = False) -> CurrentUser:
    return CurrentUser(id=uuid.uuid4(), name="u", is_admin=admin,
                       permissions=frozenset(permissions))


def test_without_the_admin_permission_no_section_is_listed() -> None:
    assert sections_for(_user("administer users", "access site reports")) == ()


def test_sections_follow_their_permissions() -> None:
    paths = [s.path for s in sections_for(_user(ADMIN_PERMISSION, "administer users"))]
    assert paths == ["/admin/content", "/admin/people"]


def test_the_site_admin_sees_every_section() -> None:
    assert sections_for(_user(admin=True)) == SECTIONS


def test_remembered_answers_follow_the_permissions_and_the_admin_flag() -> None:
    assert sections_for(_user()) == ()
    assert sections_for(_user(admin=True)) == SECTIONS  # the same (empty) permissions
    editor = sections_for(_user(ADMIN_PERMISSION, "administer users"))
    assert sections_for(_user(ADMIN_PERMISSION, "administer users")) == editor
    assert len(sections_for(_user(ADMIN_PERMISSION, "administer users", "use stages"))) == 3
