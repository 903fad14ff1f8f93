"""The toolbar's data: only for users who may use the admin, from their permissions alone,
the sections in Drupal's groups."""

from __future__ import annotations

import uuid

from trovato.ids import NIL
from trovato.kernel.toolbar import ADMIN_PERMISSION, GROUPS, SECTIONS, groups_for, toolbar_for
from trovato.users.accounts import CurrentUser


def _user(*permissions: str, admin: bool = False) -> CurrentUser:
    return CurrentUser(id=uuid.uuid4(), name="u", is_admin=admin,
                       permissions=frozenset(permissions))


def test_no_toolbar_for_visitors_and_users_without_the_permission() -> None:
    anonymous = CurrentUser(id=NIL, name="Anonymous", permissions=frozenset({ADMIN_PERMISSION}))
    assert toolbar_for(None) is None
    assert toolbar_for(anonymous) is None  # even if a site granted it to anonymous
    plain = CurrentUser(id=uuid.uuid4(), name="plain", permissions=frozenset({"use stages"}))
    assert toolbar_for(plain) is None


def test_the_toolbar_lists_the_groups_of_the_sections_the_user_may_open() -> None:
    editor = CurrentUser(id=uuid.uuid4(), name="Ed <b>", permissions=frozenset(
        {ADMIN_PERMISSION, "use stages", "administer categories"}))
    bar = toolbar_for(editor)
    assert bar is not None
    assert [(g.label, g.path) for g in bar.groups] == [
        ("Content", "/admin/content"),
        # the group opens the first of its sections the user may open, never a 403
        ("Structure", "/admin/structure/categories")]
    content = bar.groups[0]
    assert [s.path for s in content.sections] == ["/admin/content", "/admin/stages"]
    assert content.paths == {"/admin/content", "/admin/stages"}
    assert (bar.user_id, bar.user_name) == (str(editor.id), "Ed <b>")


def test_the_site_admin_sees_every_group_in_drupals_order() -> None:
    root = toolbar_for(_user(admin=True))
    assert root is not None
    assert [g.label for g in root.groups] == list(GROUPS) == [
        "Content", "Structure", "People", "Plugins", "Configuration", "Reports"]
    assert tuple(s for g in root.groups for s in g.sections) == SECTIONS  # each section once
    assert [g.path for g in root.groups] == [
        "/admin/content", "/admin/structure/types", "/admin/people", "/admin/plugins",
        "/admin/config/media/image-styles", "/admin/reports"]
    structure = root.groups[1]
    assert [s.label for s in structure.sections] == [
        "Item types", "Categories", "Listings", "Tiles", "Menu"]


def test_every_section_is_in_a_group_and_the_fixed_paths_stay() -> None:
    assert {s.group for s in SECTIONS} == set(GROUPS)
    paths = {s.path for s in SECTIONS}
    for path in ("/admin/content", "/admin/structure/types", "/admin/people",
                 "/admin/plugins", "/admin/reports", "/admin/structure/gather",
                 "/admin/structure/categories", "/admin/stages",
                 "/admin/config/media/image-styles", "/admin/config/search/weights",
                 "/admin/config/search/language"):
        assert path in paths, path


def test_remembered_groups_follow_the_permissions() -> None:
    assert groups_for(_user()) == ()
    reports = groups_for(_user(ADMIN_PERMISSION, "access site reports"))
    assert [g.label for g in reports] == ["Content", "Reports"]
    assert groups_for(_user(ADMIN_PERMISSION, "access site reports")) == reports
    assert len(groups_for(_user(admin=True))) == len(GROUPS)
