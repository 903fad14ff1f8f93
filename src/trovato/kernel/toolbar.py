"""The administration sections and the toolbar that links them on every page.

The sections are data (:data:`SECTIONS`), so the admin navigation, the dashboard and the
toolbar list the same places and never a page the user would get a 403 on. They live in the
kernel, not with the admin pages (``trovato.web.admin`` re-exports them), because the error
page (:mod:`trovato.kernel.errors`) shows the toolbar too and the kernel may not import routes.

Each section belongs to a group (:data:`GROUPS`), as Drupal's admin menu has Content,
Structure, People, Extend, Configuration and Reports: the toolbar's one row lists the groups
(a dozen sections in a row wrapped even on a wide screen), each linking to its first section
the user may open, and on a page of a group with more than one such section a second row lists
that group's sections.

:func:`toolbar_for` decides from the user's permissions alone (in memory, the sections per set
of permissions remembered): an anonymous page view never pays more than one attribute test for
it, and never a query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trovato.users.accounts import CurrentUser

ADMIN_PERMISSION = "access administration pages"


@dataclass(frozen=True, slots=True)
class Section:
    """One place of the admin: its path, its label, what it is for, who may open it, and the
    label of the group (:data:`GROUPS`) the toolbar lists it under."""

    path: str
    label: str
    description: str
    permission: str
    group: str


GROUPS: tuple[str, ...] = ("Content", "Structure", "People", "Plugins", "Configuration",
                           "Reports")
"""The toolbar's groups, in its order (Drupal's admin menu's, its Extend named Plugins)."""

OVERVIEWS: dict[str, str] = {"Structure": "/admin/structure", "Configuration": "/admin/config"}
"""The groups whose sections share a path that is no section itself, and that path: each is
an overview page listing the group's sections (as Drupal's ``/admin/structure`` and
``/admin/config`` are), so a Drupal user typing it lands somewhere."""

SECTIONS: tuple[Section, ...] = (
    Section("/admin/content", "Content", "Find, publish, unpublish and delete items.",
            ADMIN_PERMISSION, "Content"),
    Section("/admin/stages", "Stages", "Prepare changes and publish them at once.",
            "use stages", "Content"),
    Section("/admin/structure/types", "Item types", "Item types and their fields.",
            "administer content types", "Structure"),
    Section("/admin/structure/categories", "Categories", "Vocabularies and their tags.",
            "administer categories", "Structure"),
    Section("/admin/structure/gather", "Listings",
            "Gather listings: pages, feeds and JSON built from filters and sorts.",
            "administer gather", "Structure"),
    Section("/admin/structure/tiles", "Tiles", "Listings and plugin tiles in the page's slots.",
            "administer tiles", "Structure"),
    Section("/admin/structure/menu", "Menu", "The main menu's links.", "administer tiles",
            "Structure"),
    Section("/admin/people", "People", "Accounts, roles and permissions.", "administer users",
            "People"),
    Section("/admin/plugins", "Plugins", "Enable, disable and inspect plugins.",
            "administer plugins", "Plugins"),
    Section("/admin/config/media/image-styles", "Image styles",
            "How images are scaled and cropped where they are shown.",
            "administer site configuration", "Configuration"),
    Section("/admin/config/search/weights", "Search weights",
            "How much each field of each item type counts in search results.",
            "administer content types", "Configuration"),
    Section("/admin/config/search/language", "Search language",
            "How search matches words: the language whose word forms it finds.",
            "administer site configuration", "Configuration"),
    Section("/admin/config/search/redirect", "URL redirects",
            "Old addresses of the site sent on to new ones.",
            "administer redirects", "Configuration"),
    Section("/admin/reports", "Reports", "Recent log entries and the site's status.",
            "access site reports", "Reports"),
)


@dataclass(frozen=True, slots=True)
class Group:
    """A group of the toolbar as one user sees it: its label, the link it opens (its first
    section they may open), those sections (at least one: a group without is not shown) and
    their paths and its overview's (:data:`OVERVIEWS`; for the page to tell whether it is in
    the group)."""

    label: str
    path: str
    sections: tuple[Section, ...]
    paths: frozenset[str]


# The answers by (is_admin, permissions): a pure function of them, asked on every admin page
# (navigation and toolbar); bounded, since the sets come from role data.
_BY_GRANT: dict[tuple[bool, frozenset[str]], tuple[Section, ...]] = {}
_GROUPS_BY_GRANT: dict[tuple[bool, frozenset[str]], tuple[Group, ...]] = {}
_REMEMBERED = 256


def sections_for(user: CurrentUser) -> tuple[Section, ...]:
    """The sections ``user`` may open (none without the admin permission)."""
    key = (user.is_admin, user.permissions)
    found = _BY_GRANT.get(key)
    if found is None:
        found = tuple(s for s in SECTIONS if user.can(s.permission)) if user.can(
            ADMIN_PERMISSION) else ()
        if len(_BY_GRANT) < _REMEMBERED:
            _BY_GRANT[key] = found
    return found


def groups_for(user: CurrentUser) -> tuple[Group, ...]:
    """The toolbar's groups for ``user``: those holding a section they may open, in order."""
    key = (user.is_admin, user.permissions)
    found = _GROUPS_BY_GRANT.get(key)
    if found is None:
        sections = sections_for(user)
        found = tuple(
            Group(label, mine[0].path, mine,
                  frozenset([*(s.path for s in mine), *_overview(label)])) for label in GROUPS
            if (mine := tuple(s for s in sections if s.group == label)))
        if len(_GROUPS_BY_GRANT) < _REMEMBERED:
            _GROUPS_BY_GRANT[key] = found
    return found


def _overview(label: str) -> tuple[str, ...]:
    path = OVERVIEWS.get(label)
    return (path,) if path else ()


@dataclass(frozen=True, slots=True)
class Toolbar:
    """What the page's toolbar shows: the groups of sections, and who is logged in."""

    groups: tuple[Group, ...]
    user_id: str
    user_name: str


def toolbar_for(user: CurrentUser | None) -> Toolbar | None:
    """The toolbar of ``user``'s pages, or None when they may not use the admin (anonymous
    visitors first: the common case costs one test)."""
    if user is None or not user.is_authenticated or not user.can(ADMIN_PERMISSION):
        return None
    return Toolbar(groups_for(user), str(user.id), user.name)
