"""Who may view, create, update and delete which item.

The decision for one item and one operation (DESIGN §6.4):

1. the site's superuser (``is_admin``) may do everything;
2. ``item_access`` votes from plugins: any **deny** wins, else any **grant** allows;
3. otherwise the role permissions decide:

   * ``administer content`` allows every operation;
   * view: ``access content``, and for an unpublished item also ``view unpublished content``
     — or being its (authenticated) author, as in Drupal 6, so authors see their drafts;
   * create: ``create <type> content``;
   * update / delete: ``edit|delete any <type> content``, or ``edit|delete own <type>
     content`` for the item's author.

Listings filter by the role rule in SQL (:func:`scope_condition`): unpublished items never
reach Python for a user who may not see them; plugin votes are applied to what SQL returns
(:mod:`trovato.content.query`).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import ColumnElement, Uuid, bindparam, literal_column, or_, true
from sqlalchemy.sql import FromClause

if TYPE_CHECKING:
    from trovato.users.accounts import CurrentUser

ACCESS_CONTENT = "access content"
VIEW_UNPUBLISHED = "view unpublished content"
ADMINISTER_CONTENT = "administer content"
ADMINISTER_TYPES = "administer content types"
VIEW_REVISIONS = "view revisions"
REVERT_REVISIONS = "revert revisions"
USE_FULL_HTML = "use full_html"

Operation = Literal["view", "create", "update", "delete"]


class Vote(enum.StrEnum):
    """A plugin's vote in ``item_access`` (the tap catalogue's ``access`` aggregation)."""

    GRANT = "grant"
    DENY = "deny"
    NEUTRAL = "neutral"


class AccessSubject(Protocol):
    """What access decisions read from an item (an :class:`~trovato.content.items.Item`)."""

    @property
    def type(self) -> str: ...

    @property
    def status(self) -> int: ...

    @property
    def author_id(self) -> Any: ...


class AccessVoter(Protocol):
    """Anything that can vote on an item operation (the items service passes its hooks)."""

    def reads_items(self) -> bool:
        """Whether any vote may be cast (a plugin implements ``item_access``)."""
        ...

    async def access(self, item: Any, op: Operation, user: CurrentUser) -> Vote: ...


def is_author(user: CurrentUser, item: AccessSubject) -> bool:
    # The anonymous user owns nothing, even items imported with the nil author.
    return user.is_authenticated and item.author_id == user.id


def role_access(user: CurrentUser, item: AccessSubject, op: Operation) -> bool:
    """The role-permission rule (step 3 above), without plugins."""
    if user.can(ADMINISTER_CONTENT):
        return True
    if op == "view":
        if not user.can(ACCESS_CONTENT):
            return False
        return item.status == 1 or user.can(VIEW_UNPUBLISHED) or is_author(user, item)
    if op == "create":
        return user.can(f"create {item.type} content")
    verb = "edit" if op == "update" else "delete"
    if user.can(f"{verb} any {item.type} content"):
        return True
    return is_author(user, item) and user.can(f"{verb} own {item.type} content")


async def item_access(
    user: CurrentUser, item: AccessSubject, op: Operation, voter: AccessVoter | None = None
) -> bool:
    """May ``user`` perform ``op`` on ``item``? (Steps 1 to 3 above.)"""
    if user.is_admin:
        return True
    if voter is not None and voter.reads_items():  # else every vote would be neutral
        vote = await voter.access(item, op, user)
        if vote == Vote.DENY:
            return False
        if vote == Vote.GRANT:
            return True
    return role_access(user, item, op)


def may_create(user: CurrentUser, type_name: str) -> bool:
    """The role rule for creating an item of ``type_name`` (used to offer "add" links)."""
    return user.can(ADMINISTER_CONTENT) or user.can(f"create {type_name} content")


VisibilityScope = Literal["all", "published", "published_or_own"]


def visibility_scope(user: CurrentUser) -> VisibilityScope:
    """Which items a listing shows ``user`` by the role rule: all of them, the published ones,
    or the published ones and their own drafts."""
    if user.can(VIEW_UNPUBLISHED) or user.can(ADMINISTER_CONTENT):
        return "all"
    return "published_or_own" if user.is_authenticated else "published"


def scope_condition(scope: VisibilityScope, item: FromClause) -> ColumnElement[bool]:
    """The SQL condition of ``scope`` on ``item`` (the item table or an alias of it);
    ``published_or_own`` binds the viewer's id as the parameter ``viewer``. The caller checks
    ``access content`` first; this only restricts unpublished items."""
    if scope == "all":
        return true()
    published = item.c.status == literal_column("1")  # a literal: see trovato.content.query
    if scope == "published":
        return published
    return or_(published, item.c.author_id == bindparam("viewer", type_=Uuid))
