"""Permissions: the registry of known permissions and the role → permission assignments.

Role permissions are cached in process (L1) under a version number stored in the ``variable``
table. Every change bumps the version in the same transaction and announces it on the shared
pub/sub channel, so other processes drop their copy at once; a user read from the database
comes with the version, so it never gets a stale copy even if a message is late, and every
change replaces the users stamp, so no process keeps a user resolved before it
(:meth:`PermissionService.users_changed`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.render.formats import FormatRegistry
from trovato.store import SharedStore

ANONYMOUS_ROLE = uuid.UUID("00000000-0000-7000-8000-000000000001")
AUTHENTICATED_ROLE = uuid.UUID("00000000-0000-7000-8000-000000000002")
VERSION_VARIABLE = "system.permission_version"
CHANNEL = "permissions"


@dataclass(frozen=True, slots=True)
class Permission:
    name: str
    title: str
    description: str = ""
    restricted: bool = False  # grants power over the site: shown with a warning
    provider: str = "system"


KERNEL_PERMISSIONS: tuple[Permission, ...] = (
    Permission("access content", "View published content"),
    Permission("access user profiles", "View user profiles"),
    Permission("use api tokens", "Create and revoke own API tokens"),
    Permission("access administration pages", "See the toolbar and open the admin pages",
               restricted=True),
    Permission("administer plugins", "Enable and disable plugins and approve their"
               " capabilities", restricted=True),
    Permission("access site reports", "View logs and status reports", restricted=True),
    Permission("administer users", "Create, edit and block user accounts", restricted=True),
    Permission(
        "administer permissions", "Create roles and assign permissions", restricted=True
    ),
    Permission("administer site configuration", "Change site settings", restricted=True),
    Permission("use stages", "Switch to, read and write in the stages one may access, and create"
               " stages", restricted=True),
    Permission("publish stages", "Publish the stages one may access", restricted=True),
    Permission("administer stages", "Access, edit, archive and delete every stage",
               restricted=True),
    Permission("administer categories", "Create, edit and delete vocabularies and tags",
               restricted=True),
    Permission("create tags", "Create tags by typing new names into tag fields"),
    Permission("administer gather", "Create, change and delete Gather listings, and see"
               " their SQL plans", restricted=True),
    Permission("administer tiles", "Place, change and remove tiles in the page's slots",
               restricted=True),
    Permission(
        "bypass rate limits",
        "Make state-changing requests without the per-minute write limit (trusted automation)",
        restricted=True,
    ),
)



def text_format_permissions(
    formats: FormatRegistry, provider: str = "system"
) -> list[Permission]:
    """``use <format>`` for each text format that needs a permission to save text in it."""
    return [
        Permission(
            f.permission,
            f"Use the {f.label} text format",
            "Text in this format is shown without any HTML filtering." if f.restricted else "",
            restricted=f.restricted,
            provider=provider,
        )
        for f in formats.all()
        if f.needs_permission
    ]


class UnknownPermissionError(ServiceError, ValueError):
    """Permissions named that the site does not know (422, about ``permissions``)."""

    def __init__(self, message: str) -> None:
        super().__init__(422, message, field="permissions")


class PermissionRegistry:
    """Every permission the site knows: the kernel's and those that plugins declare."""

    def __init__(self, permissions: Iterable[Permission] = KERNEL_PERMISSIONS) -> None:
        self._by_name: dict[str, Permission] = {}
        for permission in permissions:
            self.add(permission)

    def add(self, permission: Permission) -> None:
        self._by_name[permission.name] = permission

    def define(self, name: str, title: str, description: str = "", restricted: bool = False,
               *, provider: str) -> None:
        """Add a permission a plugin declares (the plugin system knows no Permission type)."""
        self.add(Permission(name, title, description, restricted, provider))

    def owners(self) -> dict[str, str]:
        """Each permission's provider, by name."""
        return {name: p.provider for name, p in self._by_name.items()}

    def remove_provider(self, provider: str) -> None:
        self._by_name = {k: p for k, p in self._by_name.items() if p.provider != provider}

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def all(self) -> list[Permission]:
        return sorted(self._by_name.values(), key=lambda p: (p.provider != "system", p.name))

    def check_known(self, names: Iterable[str]) -> None:
        unknown = sorted(set(names) - self._by_name.keys())
        if unknown:
            raise UnknownPermissionError(f"unknown permission(s): {', '.join(unknown)}")


class PermissionService:
    """Answers "may these roles do X?" from a cached role → permissions map."""

    def __init__(
        self,
        db: Database,
        store: SharedStore,
        registry: PermissionRegistry,
        *,
        max_age: float = 30.0,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.registry = registry
        self.max_age = max_age
        self._map: dict[uuid.UUID, frozenset[str]] = {}
        self._version: int | None = None
        self._loaded_at = 0.0
        # Run in this process on each of its changes (other processes hear of them on CHANNEL),
        # e.g. dropping cached pages rendered under the old permissions.
        self.on_change = on_change

    async def start(self) -> None:
        await self.store.pubsub.subscribe(CHANNEL, self._on_message)

    def _on_message(self, message: dict[str, object]) -> None:
        self._version = None  # next check reloads

    def _fresh(self, version: int | None) -> bool:
        if self._version is None:
            return False
        if version is not None:
            return version == self._version
        return time.monotonic() - self._loaded_at < self.max_age

    async def _load(self) -> None:
        async with self.db.connection() as conn:
            cur = await conn.execute(
                "SELECT coalesce((SELECT (value #>> '{}')::bigint FROM variable"
                " WHERE name = %s), 0) AS v",
                (VERSION_VARIABLE,),
            )
            row = await cur.fetchone()
            version = int(row["v"]) if row else 0
            cur = await conn.execute("SELECT role_id, permission FROM role_permission")
            grouped: dict[uuid.UUID, set[str]] = {}
            for perm_row in await cur.fetchall():
                grouped.setdefault(perm_row["role_id"], set()).add(perm_row["permission"])
        self._map = {role: frozenset(perms) for role, perms in grouped.items()}
        self._version = version
        self._loaded_at = time.monotonic()

    async def permissions_for(
        self, roles: Iterable[uuid.UUID], *, version: int | None = None
    ) -> frozenset[str]:
        """The union of the roles' permissions. ``version`` is the one read with the user."""
        if not self._fresh(version):
            await self._load()
        result: set[str] = set()
        for role in roles:
            result |= self._map.get(role, frozenset())
        return frozenset(result)

    async def set_role_permissions(
        self, role_id: uuid.UUID, permissions: Iterable[str]
    ) -> None:
        """Replace a role's permissions, in one transaction, and tell every process."""
        wanted = set(permissions)
        self.registry.check_known(wanted)
        async with self.db.transaction() as conn:
            await write_role_permissions(conn, role_id, wanted)
        await self.announce()

    async def announce(self) -> None:
        """After a committed change of permissions: every process drops its copy, and the
        users it resolved (the users stamp)."""
        self._version = None
        if self.on_change is not None:
            self.on_change()
        await self.users_changed()
        await self.store.pubsub.publish(CHANNEL, {"event": "changed"})

    async def users_changed(self) -> None:
        """After a committed change of what a user is made of (an account, its status, its
        roles, a role's permissions): every process reads its users afresh from its next
        request on (:class:`~trovato.store.base.SessionStore`, the users stamp)."""
        await self.store.sessions.restamp()


async def write_role_permissions(
    conn: AsyncConnection[DictRow], role_id: uuid.UUID, permissions: set[str]
) -> None:
    """Replace a role's permissions inside the caller's transaction (then :meth:`announce`)."""
    await conn.execute("DELETE FROM role_permission WHERE role_id = %s", (role_id,))
    if permissions:
        cur = conn.cursor()
        await cur.executemany(
            "INSERT INTO role_permission (role_id, permission) VALUES (%s, %s)",
            [(role_id, p) for p in sorted(permissions)],
        )
    await bump_version(conn)


async def bump_version(conn: AsyncConnection[DictRow]) -> None:
    """Increase the permission version; call inside the transaction that changes access."""
    await conn.execute(
        "INSERT INTO variable (name, value) VALUES (%s, '1'::jsonb) ON CONFLICT (name) DO"
        " UPDATE SET value = to_jsonb((variable.value #>> '{}')::bigint + 1)",
        (VERSION_VARIABLE,),
    )
