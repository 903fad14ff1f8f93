"""The admin's section list shows a user only the places they may open, and so do the
groups' overview pages."""

from __future__ import annotations

import uuid

import httpx

from tests.api.conftest import login_as
from tests.web.admin.conftest import grant
from trovato.kernel.toolbar import OVERVIEWS
from trovato.users.accounts import CurrentUser
from trovato.web.admin import ADMIN_PERMISSION, SECTIONS, groups_for, sections_for


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


def test_a_group_with_an_overview_page_holds_its_path() -> None:
    structure = next(g for g in groups_for(_user(admin=True)) if g.label == "Structure")
    assert OVERVIEWS["Structure"] in structure.paths
    assert structure.path == "/admin/structure/types"  # the toolbar still opens a section
    people = next(g for g in groups_for(_user(admin=True)) if g.label == "People")
    assert people.paths == frozenset({"/admin/people"})


async def test_the_overview_pages_list_the_sections_the_user_may_open(
    site: httpx.AsyncClient,
) -> None:
    for path in OVERVIEWS.values():  # nobody logged in
        assert (await site.get(path)).status_code == 403
    await grant(site, "cat", "access administration pages", "administer categories")
    await login_as(site, "cat")
    page = await site.get("/admin/structure")
    assert page.status_code == 200
    assert "<h1>Structure</h1>" in page.text
    overview = page.text[page.text.index('<dl class="admin-overview">'):]
    overview = overview[:overview.index("</dl>")]
    assert '<dt><a href="/admin/structure/categories">Categories</a></dt>' in overview
    assert "/admin/structure/types" not in overview  # not theirs to open
    # The toolbar marks the group (its link opens its first section, not this page).
    assert '<a href="/admin/structure/categories" aria-current="true">Structure</a>' in page.text
    # No section of the Configuration group is theirs.
    assert (await site.get("/admin/config")).status_code == 403
    await login_as(site, "root")
    page = await site.get("/admin/config")
    assert page.status_code == 200 and "<h1>Configuration</h1>" in page.text
    for section in SECTIONS:
        if section.group == "Configuration":
            assert f'<a href="{section.path}">{section.label}</a>' in page.text
