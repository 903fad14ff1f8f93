"""The administration sections and the toolbar that links them on every page.

The sections are data (:data:`SECTIONS`), so the admin navigation, the dashboard and the
toolbar list the same places and never a page the user would get a 403 on. They live in the
kernel, not with the admin pages (``trovato.web.admin`` re-exports them), because the error
page (:mod:`trovato.kernel.errors`) shows the toolbar too and the kernel may not import routes.

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
    """One place of the admin: its path, its label, what it is for, who may open it."""

    path: str
    label: str
    description: str
    permission: str


SECTIONS: tuple[Section, ...] = (
    Section("/admin/content", "Content", "Find, publish, unpublish and delete items.",
            ADMIN_PERMISSION),
    Section("/admin/structure/types", "Structure", "Item types and their fields.",
            "administer content types"),
    Section("/admin/structure/categories", "Categories", "Vocabularies and their tags.",
            "administer categories"),
    Section("/admin/structure/tiles", "Tiles", "Listings and plugin tiles in the page's slots.",
            "administer tiles"),
    Section("/admin/structure/menu", "Menu", "The main menu's links.", "administer tiles"),
    Section("/admin/structure/gather", "Listings",
            "Gather listings: pages, feeds and JSON built from filters and sorts.",
            "administer gather"),
    Section("/admin/config/media/image-styles", "Image styles",
            "How images are scaled and cropped where they are shown.",
            "administer site configuration"),
    Section("/admin/config/search/weights", "Search weights",
            "How much each field of each item type counts in search results.",
            "administer content types"),
    Section("/admin/people", "People", "Accounts, roles and permissions.", "administer users"),
    Section("/admin/stages", "Stages", "Prepare changes and publish them at once.",
            "use stages"),
    Section("/admin/plugins", "Plugins", "Enable, disable and inspect plugins.",
            "administer plugins"),
    Section("/admin/reports", "Reports", "Recent log entries and the site's status.",
            "access site reports"),
)


# sections_for's answers by (is_admin, permissions): a pure function of them, asked twice on
# every admin page (navigation and toolbar); bounded, since the sets come from role data.
_BY_GRANT: dict[tuple[bool, frozenset[str]], tuple[Section, ...]] = {}
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


@dataclass(frozen=True, slots=True)
class Toolbar:
    """What the page's toolbar shows: the sections, and who is logged in."""

    sections: tuple[Section, ...]
    user_id: str
    user_name: str


def toolbar_for(user: CurrentUser | None) -> Toolbar | None:
    """The toolbar of ``user``'s pages, or None when they may not use the admin (anonymous
    visitors first: the common case costs one test)."""
    if user is None or not user.is_authenticated or not user.can(ADMIN_PERMISSION):
        return None
    return Toolbar(sections_for(user), str(user.id), user.name)
