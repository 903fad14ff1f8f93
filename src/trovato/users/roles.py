"""Roles: named sets of permissions, assigned to users, listed by their weight (then name)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.ids import uuid7
from trovato.names import check_typed_name, name_key
from trovato.observability.audit import audit
from trovato.users.permissions import (
    ANONYMOUS_ROLE,
    AUTHENTICATED_ROLE,
    PermissionService,
    bump_version,
    write_role_permissions,
)
from trovato.users.privileges import (
    PrivilegeError,
    require_covers,
    require_holds,
    role_permissions,
)

# A role's weight is a PostgreSQL ``integer``.
WEIGHT_LIMIT: Final = 2**31 - 1


class RoleError(ServiceError, ValueError):
    """A refused role change: ``status`` (422 unless given) and the ``field`` it is about."""

    field: str

    def __init__(self, field_name: str, message: str, *, status: int = 422) -> None:
        super().__init__(status, message, field=field_name)
        self.args = (f"{field_name}: {message}",)


@dataclass(frozen=True, slots=True)
class Role:
    id: uuid.UUID
    name: str
    weight: int
    is_builtin: bool
    permissions: tuple[str, ...]

    def public(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "weight": self.weight,
            "builtin": self.is_builtin,
            "permissions": list(self.permissions),
        }


class Roles:
    def __init__(self, db: Database, permissions: PermissionService) -> None:
        self.db = db
        self.permissions = permissions

    async def all(self) -> list[Role]:
        rows = await self.db.fetch(
            "SELECT r.id, r.name, r.weight, r.is_builtin,"
            " ARRAY(SELECT permission FROM role_permission p WHERE p.role_id = r.id"
            " ORDER BY permission) AS permissions FROM role r ORDER BY r.weight, r.name"
        )
        return [Role(**{**row, "permissions": tuple(row["permissions"])}) for row in rows]

    async def get(self, role_id: uuid.UUID) -> Role | None:
        return next((r for r in await self.all() if r.id == role_id), None)

    async def create(self, name: str, *, actor: uuid.UUID) -> Role:
        """A new role without permissions. Its name is refused when it only looks like an
        existing one (:func:`~trovato.names.name_key`)."""
        problem = check_typed_name(name, max_length=64)
        if problem is not None:
            raise RoleError("name", problem)
        role_id = uuid7()
        async with self.db.transaction() as conn:
            # Roles are few: compare with each, holding off concurrent creations meanwhile.
            await conn.execute("LOCK TABLE role IN SHARE ROW EXCLUSIVE MODE")
            cur = await conn.execute("SELECT name FROM role")
            key = name_key(name)
            for row in await cur.fetchall():
                if name_key(row["name"]) == key:
                    raise RoleError(
                        "name", f"is already taken (or looks like the role {row['name']!r})",
                        status=409)
            await conn.execute(
                "INSERT INTO role (id, name, weight) VALUES"
                " (%s, %s, (SELECT coalesce(max(weight), 0) + 1 FROM role))",
                (role_id, name),
            )
            await audit(conn, "permission", "Role “%(name)s” created.", {"name": name},
                        user_id=actor)
        role = await self.get(role_id)
        assert role is not None
        return role

    async def delete(self, role_id: uuid.UUID, *, actor: uuid.UUID | None) -> bool:
        """Delete a role; the actor must hold every permission it carries."""
        if role_id in (ANONYMOUS_ROLE, AUTHENTICATED_ROLE):
            raise RoleError("id", "built-in roles cannot be deleted", status=409)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT name FROM role WHERE id = %s AND NOT is_builtin FOR UPDATE", (role_id,))
            row = await cur.fetchone()
            if row is None:
                return False
            try:
                await require_holds(conn, actor,
                                    await role_permissions(conn, [role_id], implied=False),
                                    f"delete the role {row['name']}")
            except PrivilegeError as exc:
                raise RoleError("id", exc.message, status=403) from None
            await conn.execute("DELETE FROM role WHERE id = %s", (role_id,))
            await bump_version(conn)
            await audit(conn, "permission", "Role “%(name)s” deleted.", {"name": row["name"]},
                        user_id=actor)
        await self.permissions.announce()
        return True

    async def set_permissions(
        self, role_id: uuid.UUID, permissions: list[str], *, actor: uuid.UUID | None
    ) -> Role:
        """Replace a role's permissions; the actor must hold every permission it adds or
        removes (:mod:`trovato.users.privileges`)."""
        await self.set_all_permissions({role_id: permissions}, actor=actor)
        updated = await self.get(role_id)
        assert updated is not None
        return updated

    async def set_all_permissions(
        self, grants: Mapping[uuid.UUID, Iterable[str]], *, actor: uuid.UUID | None
    ) -> None:
        """Replace the permissions of each role of ``grants``, all in ONE transaction: a
        refusal of any (an unknown role, an unknown permission added, a permission the actor
        does not hold added or removed) changes none."""
        wanted = {role_id: set(permissions) for role_id, permissions in grants.items()}
        async with self.db.transaction() as conn:
            for role_id in sorted(wanted):  # one lock order, whoever saves at the same time
                cur = await conn.execute(
                    "SELECT name FROM role WHERE id = %s FOR UPDATE", (role_id,))
                row = await cur.fetchone()
                if row is None:
                    raise RoleError("id", "no such role", status=404)
                current = await role_permissions(conn, [role_id], implied=False)
                if wanted[role_id] == current:
                    continue
                # A grant whose provider went away (a disabled plugin) may be kept, so saving
                # every role's column does not drop it; it can never be newly given.
                self.permissions.registry.check_known(wanted[role_id] - current)
                try:
                    await require_holds(conn, actor, wanted[role_id] ^ current,
                                        f"change the permissions of the role {row['name']}")
                except PrivilegeError as exc:
                    raise RoleError("permissions", exc.message, status=403) from None
                await write_role_permissions(conn, role_id, wanted[role_id])
                await audit(
                    conn,
                    "permission",
                    "Permissions of role “%(name)s” set to %(permissions)s.",
                    {"name": row["name"], "permissions": sorted(wanted[role_id])},
                    user_id=actor,
                )
        await self.permissions.announce()

    async def assign(
        self, user_id: uuid.UUID, role_ids: list[uuid.UUID], *, actor: uuid.UUID | None
    ) -> None:
        """Replace a user's roles (the two built-in roles are implied and never stored).

        The actor must cover the account and hold every permission of the roles it gives or
        takes away (:mod:`trovato.users.privileges`).
        """
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT name FROM users WHERE id = %s AND id <> %s FOR UPDATE",
                (user_id, uuid.UUID(int=0)),
            )
            user = await cur.fetchone()
            if user is None:
                raise RoleError("id", "no such user", status=404)
            await replace_user_roles(conn, user_id, user["name"], role_ids, actor=actor)
        await self.permissions.users_changed()

    async def set_weight(self, role_id: uuid.UUID, weight: int, *,
                         actor: uuid.UUID | None) -> Role:
        """Place a role among the others (lighter first, a tie by name), the built-in ones
        included: a weight orders the roles' lists and columns and grants nothing."""
        if isinstance(weight, bool) or not isinstance(weight, int) \
                or abs(weight) > WEIGHT_LIMIT:
            raise RoleError("weight",
                            f"must be a whole number between -{WEIGHT_LIMIT} and {WEIGHT_LIMIT}")
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE role SET weight = %s WHERE id = %s RETURNING name", (weight, role_id))
            row = await cur.fetchone()
            if row is None:
                raise RoleError("id", "no such role", status=404)
            await audit(conn, "permission", "Weight of role “%(name)s” set to %(weight)s.",
                        {"name": row["name"], "weight": weight}, user_id=actor)
        role = await self.get(role_id)
        assert role is not None
        return role

    async def rename(self, role_id: uuid.UUID, name: str, *, actor: uuid.UUID | None) -> Role:
        """Give a role another name (refused when it looks like another role's, as on
        creation). The built-in roles keep theirs: code and people know them by it."""
        problem = check_typed_name(name, max_length=64)
        if problem is not None:
            raise RoleError("name", problem)
        if role_id in (ANONYMOUS_ROLE, AUTHENTICATED_ROLE):
            raise RoleError("name", "built-in roles cannot be renamed", status=409)
        async with self.db.transaction() as conn:
            await conn.execute("LOCK TABLE role IN SHARE ROW EXCLUSIVE MODE")
            cur = await conn.execute("SELECT id, name FROM role")
            rows = await cur.fetchall()
            current = next((row["name"] for row in rows if row["id"] == role_id), None)
            if current is None:
                raise RoleError("id", "no such role", status=404)
            key = name_key(name)
            for row in rows:
                if row["id"] != role_id and name_key(row["name"]) == key:
                    raise RoleError(
                        "name", f"is already taken (or looks like the role {row['name']!r})",
                        status=409)
            await conn.execute("UPDATE role SET name = %s WHERE id = %s", (name, role_id))
            await audit(conn, "permission", "Role “%(old)s” renamed to “%(name)s”.",
                        {"old": current, "name": name}, user_id=actor)
        role = await self.get(role_id)
        assert role is not None
        return role


async def replace_user_roles(
    conn: AsyncConnection[DictRow], user_id: uuid.UUID, user_name: str,
    role_ids: Iterable[uuid.UUID], *, actor: uuid.UUID | None,
) -> list[uuid.UUID]:
    """Replace the stored roles of the account ``user_id`` inside the caller's transaction
    (which has locked its row); returns the roles now stored.

    Unknown roles are refused (422); the actor must cover the account and hold every
    permission of the roles given or taken away (403, :mod:`trovato.users.privileges`).
    """
    wanted = [r for r in dict.fromkeys(role_ids) if r not in (ANONYMOUS_ROLE,
                                                              AUTHENTICATED_ROLE)]
    cur = await conn.execute("SELECT id FROM role WHERE id = ANY(%s)", (wanted,))
    found = {row["id"] for row in await cur.fetchall()}
    missing = [str(r) for r in wanted if r not in found]
    if missing:
        raise RoleError("roles", f"unknown role(s): {', '.join(missing)}")
    cur = await conn.execute("SELECT role_id FROM users_roles WHERE user_id = %s", (user_id,))
    changed = set(wanted) ^ {row["role_id"] for row in await cur.fetchall()}
    try:
        await require_covers(conn, actor, user_id, "change the roles of", user_name)
        await require_holds(conn, actor, await role_permissions(conn, changed, implied=False),
                            f"change the roles of {user_name}")
    except PrivilegeError as exc:
        raise RoleError("roles", exc.message, status=403) from None
    if not changed:
        return wanted
    await conn.execute("DELETE FROM users_roles WHERE user_id = %s", (user_id,))
    for role in wanted:
        await conn.execute(
            "INSERT INTO users_roles (user_id, role_id) VALUES (%s, %s)", (user_id, role))
    await audit(conn, "permission", "Roles of “%(name)s” set to %(roles)s.",
                {"name": user_name, "roles": [str(r) for r in wanted]}, user_id=actor)
    return wanted
