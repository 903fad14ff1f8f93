"""Who may act on whom: nobody gains or removes rights they do not hold themselves.

A permission such as ``administer users`` or ``administer permissions`` lets its holder manage
accounts and roles, but only within their own rights:

- an account that is an administrator, or that holds a permission the actor lacks, can be
  deleted, blocked, edited or have its roles changed only by an actor who covers it (an
  administrator, or someone holding every permission it holds);
- roles given or taken away, and permissions granted to or revoked from a role, may carry only
  permissions the actor holds; a role with permissions the actor lacks cannot be deleted by them.

The services check this inside the transaction that makes the change, against the database's
current roles (never a cached copy), so every caller (API, pages, plugins) gets the same answer.
A change made without an actor (the ``trovato`` command line, run by the site's operator) is
trusted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from trovato.errors import ServiceError
from trovato.users.permissions import AUTHENTICATED_ROLE


class PrivilegeError(ServiceError, PermissionError):
    """The actor lacks rights that the change touches (403); ``message`` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(403, message)


@dataclass(frozen=True, slots=True)
class Rights:
    """What an account may do: administrator, or the union of its roles' permissions."""

    is_admin: bool
    permissions: frozenset[str]

    def lacks(self, permissions: Iterable[str]) -> list[str]:
        """The ``permissions`` this account does not hold (none for an administrator)."""
        return [] if self.is_admin else sorted(set(permissions) - self.permissions)

    def lacks_to_cover(self, other: Rights) -> list[str]:
        """What this account lacks to manage ``other``: "administrator" and/or permissions."""
        if self.is_admin:
            return []
        return (["administrator"] if other.is_admin else []) + self.lacks(other.permissions)


async def role_permissions(
    conn: AsyncConnection[DictRow], role_ids: Iterable[uuid.UUID], *, implied: bool = True
) -> frozenset[str]:
    """The union of the permissions of ``role_ids`` (and of the authenticated role every
    account holds, unless ``implied`` is false)."""
    roles = [AUTHENTICATED_ROLE, *role_ids] if implied else list(role_ids)
    cur = await conn.execute(
        "SELECT DISTINCT permission FROM role_permission WHERE role_id = ANY(%s)", (roles,))
    return frozenset(row["permission"] for row in await cur.fetchall())


async def rights_of(conn: AsyncConnection[DictRow], user_id: uuid.UUID) -> Rights | None:
    """The rights an account holds now (None when there is no such account)."""
    cur = await conn.execute(
        "SELECT is_admin, ARRAY(SELECT role_id FROM users_roles WHERE user_id = u.id) AS roles"
        " FROM users u WHERE id = %s",
        (user_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return Rights(row["is_admin"], await role_permissions(conn, row["roles"]))


async def actor_rights(conn: AsyncConnection[DictRow], actor: uuid.UUID) -> Rights:
    """The acting account's rights; an actor whose account is gone may do nothing."""
    rights = await rights_of(conn, actor)
    if rights is None:
        raise PrivilegeError("Your account no longer exists.")
    return rights


async def require_covers(
    conn: AsyncConnection[DictRow], actor: uuid.UUID | None, target: uuid.UUID, action: str,
    target_name: str,
) -> None:
    """Refuse ``action`` on the account ``target`` unless ``actor`` covers its rights."""
    if actor is None:
        return
    target_rights = await rights_of(conn, target)
    if target_rights is None:
        return  # the caller reports the missing account
    missing = (await actor_rights(conn, actor)).lacks_to_cover(target_rights)
    if missing:
        raise PrivilegeError(
            f"You may not {action} {target_name}: the account holds rights you do not have"
            f" ({', '.join(missing)}).")


async def require_holds(
    conn: AsyncConnection[DictRow], actor: uuid.UUID | None, permissions: Iterable[str],
    action: str,
) -> None:
    """Refuse ``action`` unless ``actor`` holds every one of ``permissions``."""
    if actor is None:
        return
    missing = (await actor_rights(conn, actor)).lacks(permissions)
    if missing:
        raise PrivilegeError(
            f"You may not {action}: it involves permissions you do not have"
            f" ({', '.join(missing)}).")
