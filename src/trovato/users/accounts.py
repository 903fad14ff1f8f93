"""User accounts: the current user, creating, listing, editing and deleting accounts, logging
in with brute-force protection."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, errors
from psycopg.rows import DictRow

from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.ids import NIL, uuid7
from trovato.names import check_typed_name, name_key
from trovato.observability.audit import audit
from trovato.patterns import contains
from trovato.store import SharedStore
from trovato.users.passwords import (
    PasswordPolicyError,
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from trovato.users.permissions import (
    ANONYMOUS_ROLE,
    AUTHENTICATED_ROLE,
    VERSION_VARIABLE,
    PermissionService,
)
from trovato.users.privileges import PrivilegeError, require_covers
from trovato.users.roles import replace_user_roles

_MAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """Who is making the request, with the permissions of all their roles."""

    id: uuid.UUID
    name: str
    mail: str = ""
    is_admin: bool = False
    roles: frozenset[uuid.UUID] = frozenset({ANONYMOUS_ROLE})
    permissions: frozenset[str] = field(default_factory=frozenset)
    created: datetime | None = None
    timezone: str = "UTC"
    # The one stage a preview link lets this (read-only) request read, whoever it is
    # (trovato.stages.preview; set by the request pipeline).
    preview_stage: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.id.int != NIL.int  # the integers: UUID's == is a Python-level call

    def can(self, permission: str) -> bool:
        return self.is_admin or permission in self.permissions

    def public(self) -> dict[str, Any]:
        """The JSON shape of a user (``/api/v1/users/me``)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "mail": self.mail,
            "is_admin": self.is_admin,
            "authenticated": self.is_authenticated,
            "roles": sorted(str(r) for r in self.roles),
            "permissions": sorted(self.permissions),
            "created": self.created.isoformat() if self.created else None,
            "timezone": self.timezone,
        }


class AccountError(ServiceError, ValueError):
    """Invalid account data (422); ``field`` names what is wrong."""

    field: str

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(422, message, field=field_name)
        self.args = (f"{field_name}: {message}",)


class AccountDeleteError(ServiceError):
    """A deletion was refused; ``status`` is the HTTP status that fits (404, 409, 422, 500)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)


@dataclass(frozen=True, slots=True)
class DeletedUser:
    """What :meth:`Accounts.delete` did."""

    id: uuid.UUID
    name: str
    reassigned_items: tuple[uuid.UUID, ...]
    tokens_revoked: int


ACTIVE, BLOCKED = 1, 0
# At most this many users are kept per process (for_session): a site with more logged-in
# users than this starts over rather than growing without bound.
_MAX_KEPT_USERS = 10_000
# Account creation and mail changes take this lock, so two of them cannot both find a mail
# address free (mail has no unique index: existing sites may hold duplicates).
_MAIL_LOCK = 7301123003


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the people pages show and edit it."""

    id: uuid.UUID
    name: str
    mail: str
    status: int
    is_admin: bool
    created: datetime
    last_login: datetime | None  # None: never logged in
    roles: tuple[uuid.UUID, ...]  # stored roles (the built-in ones are implied)
    role_names: tuple[str, ...]

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True, slots=True)
class AccountPage:
    """One page of a filtered account list and how many accounts match in all."""

    accounts: list[Account]
    total: int


# One statement for the account list and for one account: every filter is a parameter that,
# when None, filters nothing (the text never changes, so nothing is pasted into it).
_ACCOUNTS = (
    "SELECT u.id, u.name, u.mail, u.status, u.is_admin, u.created, u.login,"
    " ARRAY(SELECT r.id FROM users_roles ur JOIN role r ON r.id = ur.role_id"
    "       WHERE ur.user_id = u.id ORDER BY r.weight, r.name) AS roles,"
    " ARRAY(SELECT r.name FROM users_roles ur JOIN role r ON r.id = ur.role_id"
    "       WHERE ur.user_id = u.id ORDER BY r.weight, r.name) AS role_names,"
    " count(*) OVER () AS total"
    " FROM users u WHERE u.id <> %(nil)s"
    " AND (%(id)s::uuid IS NULL OR u.id = %(id)s::uuid)"
    " AND (%(name)s::text IS NULL OR u.name ILIKE %(name)s::text ESCAPE '\\')"
    " AND (%(role)s::uuid IS NULL OR EXISTS (SELECT 1 FROM users_roles f"
    "      WHERE f.user_id = u.id AND f.role_id = %(role)s::uuid))"
    " AND (%(status)s::smallint IS NULL OR u.status = %(status)s::smallint)"
    " ORDER BY u.created DESC, u.id DESC LIMIT %(limit)s OFFSET %(offset)s"
)


def _account(row: DictRow) -> Account:
    return Account(id=row["id"], name=row["name"], mail=row["mail"], status=row["status"],
                   is_admin=row["is_admin"], created=row["created"], last_login=row["login"],
                   roles=tuple(row["roles"]), role_names=tuple(row["role_names"]))


class LoginError(ServiceError):
    """Login refused (401, or 429 with ``retry_after`` seconds). The message is safe to show:
    it never says whether the name exists."""

    def __init__(self, message: str, *, retry_after: float = 0.0, status: int = 401) -> None:
        # Retry-After is whole seconds: rounded up, so a client waiting it is not refused.
        headers = {"retry-after": str(int(retry_after) + 1)} if retry_after else None
        super().__init__(status, message, headers=headers)
        self.retry_after = retry_after


def _duration(seconds: float) -> str:
    """``seconds`` rounded up for people: "45 seconds", "1 minute", "15 minutes"."""
    whole = max(1, int(seconds + 0.999))
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = (whole + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


async def _require_free_mail(
    conn: AsyncConnection[DictRow], mail: str, owner: uuid.UUID | None
) -> None:
    """Refuse ``mail`` when an account other than ``owner`` uses it (compared without case),
    under the lock that serialises the writers of mail addresses."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MAIL_LOCK,))
    cur = await conn.execute(
        "SELECT 1 FROM users WHERE lower(mail) = lower(%s) AND id <> %s AND id <> %s",
        (mail, owner or NIL, NIL))
    if await cur.fetchone() is not None:
        raise AccountError("mail", "is already used by another account")


def validate_name(name: str) -> str:
    problem = (check_typed_name(name, max_length=60) if isinstance(name, str)
               else "is required")
    if problem is not None:
        raise AccountError("name", problem)
    return name


def validate_mail(mail: str) -> str:
    if (not isinstance(mail, str) or not _MAIL.fullmatch(mail) or len(mail) > 254
            or not mail.isprintable()):
        raise AccountError("mail", "is not a valid e-mail address")
    return mail


class Accounts:
    """Loading, creating and authenticating users."""

    def __init__(
        self,
        db: Database,
        store: SharedStore,
        permissions: PermissionService,
        *,
        password_min_length: int = 10,
        login_ip_limit: int = 50,
        login_account_limit: int = 5,
        lockout_seconds: int = 900,
        on_event: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.permissions = permissions
        self.password_min_length = password_min_length
        self.login_ip_limit = login_ip_limit
        self.login_account_limit = login_account_limit
        self.lockout_seconds = lockout_seconds
        self._admin_seen = False
        self._anonymous: CurrentUser | None = None
        # The users sessions name, by id: (users stamp, when read, user); see for_session.
        self._users: dict[str, tuple[str, float, CurrentUser]] = {}
        self._users_stamp: str | None = None
        # Tells plugins (user_login, user_logout, user_register, user_delete taps) through the
        # kernel's tap front door. A tap that fails closed (user_delete) raises out of it.
        self.on_event = on_event

    async def _emit(self, tap: str, user_id: uuid.UUID, name: str) -> None:
        if self.on_event is not None:
            await self.on_event(tap, {"id": str(user_id), "name": name})

    async def anonymous(self) -> CurrentUser:
        perms = await self.permissions.permissions_for([ANONYMOUS_ROLE])
        if self._anonymous is None or self._anonymous.permissions != perms:
            # Immutable, so one object serves every anonymous request until access changes.
            self._anonymous = CurrentUser(id=NIL, name="Anonymous", permissions=perms)
        return self._anonymous

    async def for_session(self, user_id: str, stamp: str | None) -> CurrentUser | None:
        """The active user a session names (its id as the session holds it: kept by that text,
        so a kept user costs no parsing), or None: this process's copy while ``stamp`` (the
        users stamp read with the session) is the one it was read under, and for at most the
        permission cache's age; else read now (:meth:`load`).

        Every change of an account, its roles or a role's permissions replaces the stamp once
        committed, so the next request of any process reads the user afresh. A copy is kept
        only under the stamp read before its row was: a row read while a change commits is
        never kept under the stamp that follows it.
        """
        kept = self._users.get(user_id)
        now = time.monotonic()
        if (kept is not None and stamp is not None and kept[0] == stamp
                and now - kept[1] < self.permissions.max_age):
            return kept[2]
        user = await self.load(uuid.UUID(user_id))
        if stamp is None:
            return user
        if stamp != self._users_stamp or len(self._users) >= _MAX_KEPT_USERS:
            # Copies read under an older stamp are of no more use.
            self._users.clear()
            self._users_stamp = stamp
        if user is None:
            self._users.pop(user_id, None)
        else:
            self._users[user_id] = (stamp, now, user)
        return user

    def forget_users(self) -> None:
        """Drop this process's copies of users (an item type deleted took permissions)."""
        self._users.clear()

    async def load(self, user_id: uuid.UUID) -> CurrentUser | None:
        """An active user with roles and permissions, or None (unknown or blocked), read now."""
        row = await self.db.fetchrow(
            "SELECT u.id, u.name, u.mail, u.is_admin, u.created, u.timezone,"
            " ARRAY(SELECT role_id FROM users_roles WHERE user_id = u.id) AS roles,"
            " (SELECT (value #>> '{}')::bigint FROM variable WHERE name = %s) AS pv"
            " FROM users u WHERE u.id = %s AND u.status = 1 AND u.id <> %s",
            (VERSION_VARIABLE, user_id, NIL),
        )
        if row is None:
            return None
        return await self._current(row)

    async def _current(self, row: DictRow) -> CurrentUser:
        roles = frozenset([AUTHENTICATED_ROLE, *row["roles"]])
        version = int(row["pv"]) if row.get("pv") is not None else 0
        perms = await self.permissions.permissions_for(roles, version=version)
        return CurrentUser(
            id=row["id"],
            name=row["name"],
            mail=row["mail"],
            is_admin=row["is_admin"],
            roles=roles,
            permissions=perms,
            created=row["created"],
            timezone=row["timezone"],
        )

    async def admin_exists(self) -> bool:
        # Once a site has an administrator it keeps one, so a positive answer is remembered.
        if not self._admin_seen:
            self._admin_seen = bool(
                await self.db.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE is_admin)")
            )
        return self._admin_seen

    async def create(
        self,
        *,
        name: str,
        mail: str,
        password: str,
        is_admin: bool = False,
        only_if_no_admin: bool = False,
        actor: uuid.UUID | None = None,
        status: int = ACTIVE,
        roles: Iterable[uuid.UUID] = (),
    ) -> uuid.UUID:
        """Create an account (active unless ``status`` is :data:`BLOCKED`) with ``roles``, in
        one transaction. The name and the mail address must be free; the ``actor`` must hold
        every permission of the roles given (:mod:`trovato.users.privileges`).
        ``only_if_no_admin`` makes the first-admin race safe."""
        validate_name(name)
        validate_mail(mail)
        if status not in (ACTIVE, BLOCKED):
            raise AccountError("status", "must be active or blocked")
        try:
            check_policy(password, name=name, min_length=self.password_min_length)
        except PasswordPolicyError as exc:
            raise AccountError("pass", str(exc)) from None
        hashed = await hash_password(password)
        user_id = uuid7()
        async with self.db.transaction() as conn:
            if only_if_no_admin:
                # Serialise concurrent installers; the loser sees the admin and stops.
                await conn.execute("SELECT pg_advisory_xact_lock(7301123002)")
                cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM users WHERE is_admin)")
                row = await cur.fetchone()
                if row and next(iter(row.values())):
                    raise AccountError("name", "an administrator already exists")
            try:
                await conn.execute(
                    "INSERT INTO users (id, name, name_key, pass, mail, is_admin, status)"
                    " VALUES (%s,%s,%s,%s,%s,%s,%s)",
                    (user_id, name, name_key(name), hashed, mail, is_admin, status),
                )
            except errors.UniqueViolation:
                raise AccountError(
                    "name", "is already taken (or looks like an existing name)") from None
            # After the name: a name taken is the first thing to tell.
            await _require_free_mail(conn, mail, user_id)
            await replace_user_roles(conn, user_id, name, roles, actor=actor)
            await audit(
                conn,
                "user",
                "Created account “%(name)s”.",
                {"name": name, "admin": is_admin, "status": status},
                user_id=actor or user_id,
            )
        await self._emit("user_register", user_id, name)
        return user_id

    async def get(self, user_id: uuid.UUID) -> Account | None:
        """The account ``user_id``, blocked or not (never the anonymous user)."""
        rows = await self._accounts(id=user_id)
        return _account(rows[0]) if rows else None

    async def listing(
        self,
        *,
        name_contains: str = "",
        role: uuid.UUID | None = None,
        status: int | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> AccountPage:
        """Accounts, newest first, filtered by a part of the name (case-insensitive, taken
        literally), a stored role and a status; ``limit`` of them from ``offset``."""
        pattern = contains(name_contains) if name_contains else None
        rows = await self._accounts(name=pattern, role=role, status=status,
                                    offset=max(0, offset), limit=max(1, limit))
        if not rows and offset > 0:  # past the end: the total is still worth telling
            rows = await self._accounts(name=pattern, role=role, status=status, limit=1)
            return AccountPage([], int(rows[0]["total"]) if rows else 0)
        return AccountPage([_account(row) for row in rows],
                           int(rows[0]["total"]) if rows else 0)

    async def _accounts(self, *, id: uuid.UUID | None = None, name: str | None = None,
                        role: uuid.UUID | None = None, status: int | None = None,
                        offset: int = 0, limit: int = 1) -> list[DictRow]:
        return await self.db.fetch(_ACCOUNTS, {
            "nil": NIL, "id": id, "name": name, "role": role, "status": status,
            "offset": offset, "limit": limit})

    async def update(
        self,
        user_id: uuid.UUID,
        *,
        actor: uuid.UUID | None,
        mail: str | None = None,
        password: str | None = None,
        status: int | None = None,
        roles: Iterable[uuid.UUID] | None = None,
    ) -> Account:
        """Change an account's mail address, password, status (block or unblock) and roles,
        what is given of them, in ONE transaction; then tell the plugins (``user_update``).

        Refused: an unknown account (404); an account with rights the ``actor`` lacks, or
        roles carrying permissions the actor lacks (403, :mod:`trovato.users.privileges`);
        a mail address another account uses, a password the policy refuses (422, naming the
        field); blocking one's own account or the last active administrator (409).
        """
        if mail is not None:
            validate_mail(mail)
        if status is not None and status not in (ACTIVE, BLOCKED):
            raise AccountError("status", "must be active or blocked")
        current = await self.get(user_id)
        if current is None:
            raise ServiceError(404, "No such user.")
        hashed = None
        if password is not None:
            try:
                check_policy(password, name=current.name, min_length=self.password_min_length)
            except PasswordPolicyError as exc:
                raise AccountError("pass", str(exc)) from None
            hashed = await hash_password(password)
        async with self.db.transaction() as conn:
            if status == BLOCKED:
                # As for deletion: lock the administrators first, so two blocks at once cannot
                # leave the site without an active one.
                await conn.execute("SELECT id FROM users WHERE is_admin ORDER BY id FOR UPDATE")
            cur = await conn.execute(
                "SELECT name, mail, status, is_admin FROM users WHERE id = %s FOR UPDATE",
                (user_id,))
            row = await cur.fetchone()
            if row is None:
                raise ServiceError(404, "No such user.")
            await require_covers(conn, actor, user_id, "edit", row["name"])
            if mail is not None and mail.lower() != row["mail"].lower():
                await _require_free_mail(conn, mail, user_id)
            if status == BLOCKED and row["status"] != BLOCKED:
                if actor == user_id:
                    raise ServiceError(409, "You cannot block your own account.",
                                       field="status")
                if row["is_admin"]:
                    cur = await conn.execute(
                        "SELECT count(*) AS n FROM users WHERE is_admin AND status = 1"
                        " AND id <> %s", (user_id,))
                    others = await cur.fetchone()
                    if others is None or others["n"] == 0:
                        raise ServiceError(
                            409, f"{row['name']} is the last active administrator; it cannot"
                            " be blocked.", field="status")
            await conn.execute(
                "UPDATE users SET mail = coalesce(%s, mail), pass = coalesce(%s, pass),"
                " status = coalesce(%s, status) WHERE id = %s",
                (mail, hashed, status, user_id))
            if roles is not None:
                await replace_user_roles(conn, user_id, row["name"], roles, actor=actor)
            changed = [name for name, value in (("mail", mail), ("password", password),
                                                ("status", status)) if value is not None]
            await audit(conn, "user", "Account “%(name)s” edited: %(changed)s.",
                        {"name": row["name"], "changed": changed,
                         "status": status if status is not None else row["status"]},
                        user_id=actor)
        await self.permissions.users_changed()
        await self._emit("user_update", user_id, current.name)
        updated = await self.get(user_id)
        assert updated is not None
        return updated

    async def find(self, ref: str) -> uuid.UUID | None:
        """The id of the account named ``ref`` (compared by :func:`name_key`) or with the id
        ``ref``."""
        try:
            wanted: uuid.UUID | None = uuid.UUID(ref)
        except ValueError:
            wanted = None
        if wanted is not None:
            found = await self.db.fetchval("SELECT id FROM users WHERE id = %s", (wanted,))
        elif check_typed_name(ref, max_length=60):
            return None
        else:
            found = await self.db.fetchval(
                "SELECT id FROM users WHERE name_key = %s AND id <> %s", (name_key(ref), NIL))
        return found if isinstance(found, uuid.UUID) else None

    async def delete(self, user_id: uuid.UUID, *, actor: uuid.UUID | None = None) -> DeletedUser:
        """Delete an account, Drupal's "reassign content to Anonymous" way, in ONE transaction.

        Refuses the anonymous user (422), an unknown id (404), an account with rights the
        ``actor`` lacks (403, see :mod:`trovato.users.privileges`; no actor is the trusted
        command line) and the last active administrator (409). Their items and revisions
        are reassigned to the anonymous user, their API tokens and stored form states
        removed, their role grants cascade, an audit entry is written, and the
        ``user_delete`` tap runs inside the transaction: it fails closed, so a plugin that
        refuses (or breaks) rolls everything back (409 / 500).
        Sessions hold only the id, which is never reused: the next request with one of the
        user's sessions finds no account and destroys that session.
        """
        if user_id == NIL:
            raise AccountDeleteError(422, "The anonymous user cannot be deleted.")
        from trovato.plugins.errors import PluginError, PluginRefused

        try:
            async with self.db.transaction() as conn:
                # Lock every administrator row first: two concurrent deletions cannot remove
                # the last two administrators between them.
                await conn.execute("SELECT id FROM users WHERE is_admin ORDER BY id FOR UPDATE")
                cur = await conn.execute(
                    "SELECT u.id, u.name, u.mail, u.is_admin, u.status, u.created,"
                    " ARRAY(SELECT r.name FROM users_roles ur JOIN role r ON r.id = ur.role_id"
                    "       WHERE ur.user_id = u.id ORDER BY r.name) AS roles"
                    " FROM users u WHERE u.id = %s FOR UPDATE",
                    (user_id,),
                )
                row = await cur.fetchone()
                if row is None:
                    raise AccountDeleteError(404, "No such user.")
                try:
                    await require_covers(conn, actor, user_id, "delete", row["name"])
                except PrivilegeError as exc:
                    raise AccountDeleteError(403, exc.message) from None
                if row["is_admin"]:
                    cur = await conn.execute(
                        "SELECT count(*) AS n FROM users WHERE is_admin AND status = 1"
                        " AND id <> %s", (user_id,))
                    others = await cur.fetchone()
                    if others is None or others["n"] == 0:
                        raise AccountDeleteError(
                            409, f"{row['name']} is the last administrator; make another "
                            "account an administrator first.")
                cur = await conn.execute(
                    "UPDATE item SET author_id = %s WHERE author_id = %s RETURNING id",
                    (NIL, user_id))
                items = tuple(r["id"] for r in await cur.fetchall())
                revisions = await conn.execute(
                    "UPDATE item_revision SET author_id = %s WHERE author_id = %s",
                    (NIL, user_id))
                tokens = await conn.execute("DELETE FROM api_token WHERE user_id = %s",
                                            (user_id,))
                await conn.execute("DELETE FROM form_state WHERE user_id = %s", (user_id,))
                await conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
                await audit(
                    conn, "user",
                    "Deleted account “%(name)s”; %(items)s item(s) reassigned to Anonymous.",
                    {"name": row["name"], "id": str(user_id), "items": len(items),
                     "revisions": revisions.rowcount, "tokens": tokens.rowcount},
                    user_id=actor,
                )
                if self.on_event is not None:
                    await self.on_event("user_delete", {
                        "id": str(user_id), "name": row["name"], "mail": row["mail"],
                        "is_admin": row["is_admin"], "status": row["status"],
                        "roles": list(row["roles"]), "created": row["created"].isoformat(),
                        "reassigned_items": len(items),
                    })
            await self.permissions.users_changed()
        except PluginRefused as exc:
            raise AccountDeleteError(
                409, f"The plugin {exc.plugin} refused: {exc.message}") from None
        except PluginError as exc:
            raise AccountDeleteError(
                500, f"The plugin {exc.plugin} failed ({exc.reason}) in user_delete; "
                "nothing was deleted.") from None
        return DeletedUser(user_id, row["name"], items, tokens.rowcount)

    async def authenticate(self, name: str, password: str, *, ip: str) -> CurrentUser:
        """Check a name and password under per-IP and per-account limits.

        The account is looked up by :func:`name_key`, and failures are counted under the
        account it resolves to (or under that key when none does): every spelling of a name
        shares one lockout. Raises :class:`LoginError` for a wrong password, a blocked account,
        a lockout or too many attempts from one address; every failure is counted in the
        shared store so the limits hold across all processes.
        """
        ip_key = f"login:ip:{ip}"
        ip_hit = await self.store.rate_limits.hit(ip_key, self.login_ip_limit, 3600)
        if not ip_hit.allowed:
            raise LoginError(
                "Too many login attempts from your address. Try again later.",
                retry_after=ip_hit.retry_after,
                status=429,
            )
        key = name_key(name)
        # A name no account can have (control characters, NUL) is looked up nowhere.
        row = None if check_typed_name(name, max_length=60) else await self.db.fetchrow(
            "SELECT u.id, u.name, u.mail, u.pass, u.status, u.is_admin, u.created, u.timezone,"
            " ARRAY(SELECT role_id FROM users_roles WHERE user_id = u.id) AS roles,"
            " (SELECT (value #>> '{}')::bigint FROM variable WHERE name = %s) AS pv"
            " FROM users u WHERE u.name_key = %s AND u.id <> %s",
            (VERSION_VARIABLE, key, NIL),
        )
        # Unknown names count too (a lockout must not tell which names exist), hashed so
        # whatever was typed makes a short, printable store key.
        subject = row["id"] if row else hashlib.sha256(
            key.encode("utf-8", "surrogatepass")).hexdigest()
        account_key = f"login:account:{subject}"
        locked = await self.store.rate_limits.peek(
            account_key, self.login_account_limit, self.lockout_seconds
        )
        if not locked.allowed:
            await self._audit_failure(name, ip, "locked")
            raise LoginError(
                "This account is locked after repeated failed logins; try again in"
                f" {_duration(locked.retry_after)}.",
                retry_after=locked.retry_after,
                status=429,
            )
        ok = await verify_password(row["pass"] if row else "", password)
        if not ok or row is None or row["status"] != 1:
            await self.store.rate_limits.hit(
                account_key, self.login_account_limit, self.lockout_seconds
            )
            await self._audit_failure(name, ip, "bad credentials" if ok is False else "blocked")
            raise LoginError("Unrecognised user name or password.")
        await self.store.rate_limits.reset(account_key)
        async with self.db.transaction() as conn:
            new_hash = await hash_password(password) if needs_rehash(row["pass"]) else None
            await conn.execute(
                "UPDATE users SET login = now(), access = now(),"
                " pass = coalesce(%s, pass) WHERE id = %s",
                (new_hash, row["id"]),
            )
            await audit(conn, "user", "Session opened for “%(name)s”.", {"name": row["name"]},
                        user_id=row["id"], hostname=ip)
        await self._emit("user_login", row["id"], row["name"])
        return await self._current(row)

    async def record_logout(self, user: CurrentUser, *, ip: str) -> None:
        async with self.db.connection() as conn:
            await audit(conn, "user", "Session closed for “%(name)s”.", {"name": user.name},
                        user_id=user.id, hostname=ip)
        await self._emit("user_logout", user.id, user.name)

    async def _audit_failure(self, name: str, ip: str, reason: str) -> None:
        async with self.db.connection() as conn:
            await audit(
                conn,
                "user",
                "Login attempt failed for “%(name)s”: %(reason)s.",
                # JSONB cannot hold NUL: the attempted name is kept printable.
                {"name": name[:60].replace("\x00", "\ufffd"), "reason": reason},
                severity=4,
                hostname=ip,
            )
