"""The stages service: stage records, who may use which stage, and what a read in a stage sees.

* **Records** (:class:`StageRecord`): create, get, list, edit, archive and delete stages. A
  stage builds on an *upstream* (live unless said otherwise; chains of any depth, never a
  cycle) and publishes to it. Only *open* stages take writes; publishing closes a stage
  (``published``), archiving shelves it (``archived``).
* **Access**: ``administer stages`` reaches every stage; otherwise a holder of ``use stages``
  reaches the stages they own, the public ones, and the private ones shared with one of their
  roles (``stage_role``). A stage a user may not reach does not exist for them: 404 on every
  path, never a 403 that would confirm its name.
* :meth:`Stages.active` resolves the stage a request asked for (``X-Trovato-Stage``,
  ``?stage=`` or the session's): live for everyone; any other stage only for users holding
  ``use stages``, and only if it exists (the read path then checks the user may reach it).
* :meth:`Stages.view` says which rows a read in a stage sees, as a :class:`StageView`: the
  stage's chain, nearest first, ending at live. The content query overlays the chain's
  changes (created items, edits, deletions) on live (:mod:`trovato.content.query`).
* **The stage directory**: what a staged *read* needs of a stage — its record, roles and
  upstream chain — is read in one query and kept in process (:meth:`Stages.reach`,
  :meth:`Stages.view`), so a page in a stage costs its item reads and nothing more. Every
  change to a stage (here, a publish, a revoked preview link) calls :meth:`Stages.changed`
  after its commit, which forgets this process's copy and tells every other process on the
  shared pub/sub channel :data:`CHANNEL`; a copy also expires after :data:`DIRECTORY_SECONDS`
  should a message be lost. Writes and the stage pages read the database itself.
* :func:`stage_condition` turns a view's *shape* into the SQL condition every item read puts in
  its ``WHERE`` (SQLAlchemy Core, so composed statements embed it and are compiled once per
  shape); :func:`stage_params` gives its parameters. Live reads compare with a literal, so
  PostgreSQL can match the ``stage_id``-leading indexes with a cached plan.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from sqlalchemy import ARRAY, ColumnElement, Text, any_, bindparam, literal_column

from trovato.errors import ServiceError

if TYPE_CHECKING:
    from trovato.db.pool import Database

class Principal(Protocol):
    """What the stages service needs of whoever acts (the users service's ``CurrentUser``);
    a protocol, so this low layer names no service above it."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def roles(self) -> frozenset[uuid.UUID]: ...

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def preview_stage(self) -> str | None: ...

    def can(self, permission: str) -> bool: ...


LIVE: Final = "live"
# The pub/sub channel on which a process says its stages or preview links changed.
CHANNEL: Final = "stages"
# How long a process trusts its copy of a stage without hearing of a change (a lost message).
DIRECTORY_SECONDS: Final = 5.0
_DIRECTORY_MAX = 1024
USE_STAGES: Final = "use stages"
PUBLISH_STAGES: Final = "publish stages"
ADMINISTER_STAGES: Final = "administer stages"
# The request pipeline's name for ``use stages`` (it predates the rename).
VIEW_STAGES: Final = USE_STAGES
OPEN: Final = "open"
VISIBILITIES: Final = ("private", "public")
STAGE_ID: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_STAGE_ID_MAX = 64
# Names whose overview path (/admin/stages/<id>) is one of the stage admin's own pages.
RESERVED_IDS: Final = frozenset({"add"})
_LABEL_MAX = 255


def is_live(stage: str) -> bool:
    return stage == LIVE


class StageError(ServiceError):
    """A stage operation that cannot be granted: HTTP ``status``, a message, per-field
    ``errors`` and, for a refused publish, the ``conflicts`` that stand in its way (a member
    of the problem document)."""

    def __init__(self, status: int, message: str, errors: Mapping[str, str] | None = None,
                 conflicts: list[dict[str, Any]] | None = None) -> None:
        super().__init__(status, message, errors=errors,
                         extensions={"conflicts": conflicts} if conflicts else None)
        self.conflicts = conflicts


def no_such_stage(stage: str) -> StageError:
    return StageError(404, f"No such stage {stage[:_STAGE_ID_MAX]!r}.")


@dataclass(frozen=True, slots=True)
class StageView:
    """What a read in ``stage`` sees: rows whose stage is one of ``visible`` (the stage and its
    upstream chain, nearest first, ending with live); ``status`` is the stage's own."""

    stage: str
    visible: tuple[str, ...]
    status: str = OPEN
    # Whether this is live's view: set once, since every item read asks it (twice).
    live: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "live", is_live(self.stage))

    @property
    def upstream(self) -> str:
        """Where the stage publishes to (live for live itself)."""
        return self.visible[1] if len(self.visible) > 1 else LIVE


_LIVE_VIEW = StageView(LIVE, (LIVE,))


def stage_condition(live: bool, column: ColumnElement[Any]) -> ColumnElement[bool]:
    """THE stage rule of every read: ``column`` (a ``stage_id``) is in the view's chain.

    ``live`` is the view's shape (:attr:`StageView.live`), so a statement's text depends only
    on it; :func:`stage_params` supplies the values."""
    if live:
        return column == literal_column(f"'{LIVE}'")
    return column == any_(bindparam("stages", type_=ARRAY(Text)))


def stage_params(view: StageView) -> dict[str, Any]:
    """The parameters of :func:`stage_condition` for ``view``."""
    return {} if view.live else {"stages": list(view.visible)}


@dataclass(frozen=True, slots=True)
class StageRecord:
    """One stage (never live, which is not a record one manages)."""

    id: str
    label: str
    upstream: str
    owner_id: uuid.UUID | None
    visibility: str
    status: str
    created: datetime
    changed: datetime
    published: datetime | None
    roles: tuple[uuid.UUID, ...]

    def public(self) -> dict[str, Any]:
        """The JSON shape of a stage (``/api/v1/stages``)."""
        return {
            "id": self.id, "label": self.label, "upstream": self.upstream,
            "owner_id": str(self.owner_id) if self.owner_id else None,
            "visibility": self.visibility, "status": self.status,
            "created": self.created.isoformat(), "changed": self.changed.isoformat(),
            "published": self.published.isoformat() if self.published else None,
            "roles": [str(r) for r in self.roles],
        }


_SELECT_RECORD = (
    "SELECT s.id, s.label, s.upstream_id, s.owner_id, s.visibility, s.status, s.created,"
    " s.changed, s.published, ARRAY(SELECT r.role_id FROM stage_role r WHERE r.stage_id = s.id"
    " ORDER BY r.role_id) AS roles FROM stage s")

# The chain of a stage, nearest first (64 deep at most: a bound should a cycle slip in).
_CHAIN = """
WITH RECURSIVE chain (id, upstream_id, status, depth) AS (
    SELECT id, upstream_id, status, 0 FROM stage WHERE id = %(id)s
    UNION ALL
    SELECT s.id, s.upstream_id, s.status, c.depth + 1 FROM stage s
    JOIN chain c ON s.id = c.upstream_id WHERE c.depth < 64
) SELECT id, status FROM chain ORDER BY depth"""


# A stage's record, roles and chain in one statement (the stage directory's).
_DIRECTORY = """
WITH RECURSIVE chain (id, upstream_id, depth) AS (
    SELECT id, upstream_id, 0 FROM stage WHERE id = %(id)s
    UNION ALL
    SELECT s.id, s.upstream_id, c.depth + 1 FROM stage s
    JOIN chain c ON s.id = c.upstream_id WHERE c.depth < 64
) SELECT s.id, s.label, s.upstream_id, s.owner_id, s.visibility, s.status, s.created,
    s.changed, s.published,
    ARRAY(SELECT r.role_id FROM stage_role r WHERE r.stage_id = s.id ORDER BY r.role_id)
        AS roles,
    ARRAY(SELECT c.id FROM chain c ORDER BY c.depth) AS chain
FROM stage s WHERE s.id = %(id)s"""


@dataclass(frozen=True, slots=True)
class _Known:
    """The stage directory's copy of one stage."""

    record: StageRecord
    view: StageView
    generation: int
    loaded: float


def _record(row: Mapping[str, Any]) -> StageRecord:
    return StageRecord(
        id=row["id"], label=row["label"], upstream=row["upstream_id"], owner_id=row["owner_id"],
        visibility=row["visibility"], status=row["status"], created=row["created"],
        changed=row["changed"], published=row["published"], roles=tuple(row["roles"]))


_UNSET: Any = object()
# ``Stages.list`` shadows the builtin inside the class body, so annotations there use these.
_Records = list[StageRecord]
_RoleIds = list[uuid.UUID]


class Stages:
    """Stage records, access to them, and what a read in one sees."""

    def __init__(self, db: Database, *, on_change: Callable[[], None] | None = None) -> None:
        self.db = db
        # Told of every change (here and in other processes) after the copies are dropped:
        # what was computed from a stage's rows (Gather's cached pages) must go too, or a stage
        # deleted and created again under its id would show the old one's pages.
        self.on_change = on_change
        self._known: dict[str, _Known] = {}
        # Bumped whenever this process hears of a change: a copy read before is never kept,
        # and the preview links' cache (:mod:`trovato.stages.preview`) follows it too.
        self.generation = 0
        self._publish: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None

    # -- the stage directory -------------------------------------------------------------------

    async def start(self, subscribe: Callable[..., Awaitable[None]],
                    publish: Callable[[str, dict[str, Any]], Awaitable[None]]) -> None:
        """Hear of other processes' stage changes and tell them of this one's."""
        self._publish = publish
        await subscribe(CHANNEL, self.forget)

    def forget(self, message: Mapping[str, Any] | None = None) -> None:
        """Drop this process's copy of every stage (and of every preview link), and tell
        ``on_change``."""
        self._known.clear()
        self.generation += 1
        if self.on_change is not None:
            self.on_change()

    async def changed(self) -> None:
        """A stage or preview link changed (call after the commit): every process forgets."""
        self.forget()
        if self._publish is not None:
            await self._publish(CHANNEL, {"event": "changed"})

    async def _lookup(self, stage: str) -> _Known | None:
        """The directory's copy of ``stage`` (one query when it has none), None if unknown."""
        known = self._known.get(stage)
        if (known is not None and known.generation == self.generation
                and time.monotonic() - known.loaded < DIRECTORY_SECONDS):
            return known
        if is_live(stage) or len(stage) > _STAGE_ID_MAX or not STAGE_ID.match(stage):
            return None
        generation = self.generation
        row = await self.db.fetchrow(_DIRECTORY, {"id": stage})
        if row is None:
            self._known.pop(stage, None)
            return None
        record = _record(row)
        known = _Known(record, StageView(stage, tuple(row["chain"]), record.status),
                       generation, time.monotonic())
        if generation == self.generation:  # no change was heard while the row was read
            if len(self._known) >= _DIRECTORY_MAX:
                self._known.clear()
            self._known[stage] = known
        return known

    async def status(self, stage: str) -> str | None:
        """The status of ``stage`` from the stage directory (None: no such stage)."""
        known = await self._lookup(stage)
        return None if known is None else known.record.status

    async def label(self, stage: str) -> str | None:
        """The label of ``stage`` from the stage directory (None: no such stage)."""
        known = await self._lookup(stage)
        return None if known is None else known.record.label

    async def reach(self, user: Principal, stage: str) -> tuple[StageRecord, StageView]:
        """The record and view of a stage ``user`` may reach, from the stage directory; 404
        otherwise (live included)."""
        known = await self._lookup(stage) if isinstance(stage, str) else None
        if known is None or not self.may_access(user, known.record):
            raise no_such_stage(str(stage))
        return known.record, known.view

    # -- access --------------------------------------------------------------------------------

    @staticmethod
    def may_access(user: Principal, record: StageRecord) -> bool:
        """Whether ``user`` may switch to, read and write in the stage (module docstring), or
        is reading it through one of its preview links (the pipeline lets such a request do
        nothing but read: :mod:`trovato.stages.preview`)."""
        if user.preview_stage == record.id or user.can(ADMINISTER_STAGES):
            return True
        if not user.can(USE_STAGES):
            return False
        return (record.owner_id == user.id or record.visibility == "public"
                or not user.roles.isdisjoint(record.roles))

    @staticmethod
    def may_manage(user: Principal, owner_id: uuid.UUID | None) -> bool:
        """Whether ``user`` may edit, archive or delete a stage owned by ``owner_id``: its
        owner, or an administrator of stages."""
        return user.can(ADMINISTER_STAGES) or (user.can(USE_STAGES) and owner_id == user.id)

    # -- reads ---------------------------------------------------------------------------------

    async def view(self, stage: str, user: Principal | None = None, *,
                   conn: AsyncConnection[DictRow] | None = None) -> StageView:
        """The rows a read in ``stage`` sees (see the module docstring); 404 when the stage
        does not exist or, if ``user`` is given, they may not reach it. Live costs nothing;
        without ``conn`` (a read outside a write's transaction) the stage directory answers."""
        if is_live(stage):
            return _LIVE_VIEW
        if conn is None:
            if user is not None:
                return (await self.reach(user, stage))[1]
            known = await self._lookup(stage)
            if known is None:
                raise no_such_stage(stage)
            return known.view
        if user is not None:
            await self.get(user, stage, conn=conn)
        rows = await (await conn.execute(_CHAIN, {"id": stage})).fetchall()
        if not rows:
            raise no_such_stage(stage)
        return StageView(stage, tuple(row["id"] for row in rows), rows[0]["status"])

    async def others(self) -> list[str]:
        """The ids of every stage but live, in order (what a client may ask to read in)."""
        rows = await self.db.fetch("SELECT id FROM stage WHERE id <> %s ORDER BY id", (LIVE,))
        return [row["id"] for row in rows]

    async def active(self, requested: str | None, *, may_view_stages: bool) -> str:
        """The stage a request reads and writes in: live unless ``requested`` names another,
        which needs ``use stages`` (``may_view_stages``) and must exist."""
        if not requested or is_live(requested):
            return LIVE
        if not may_view_stages:
            raise StageError(403, "You may not view content in other stages.")
        if await self._lookup(requested) is None:
            raise StageError(400, f"Unknown stage {requested[:_STAGE_ID_MAX]!r}.")
        return requested

    async def get(self, user: Principal, stage: str, *,
                  conn: AsyncConnection[DictRow] | None = None, lock: bool = False
                  ) -> StageRecord:
        """The stage ``user`` may reach; 404 otherwise (also for live and malformed ids).
        ``lock`` locks its row ``FOR UPDATE`` on ``conn``."""
        if is_live(stage) or not isinstance(stage, str) or len(stage) > _STAGE_ID_MAX \
                or not STAGE_ID.match(stage):
            raise no_such_stage(str(stage))
        sql = _SELECT_RECORD + " WHERE s.id = %s" + (" FOR UPDATE OF s" if lock else "")
        if conn is None:
            row = await self.db.fetchrow(sql, (stage,))
        else:
            row = await (await conn.execute(sql, (stage,))).fetchone()
        record = None if row is None else _record(row)
        if record is None or not self.may_access(user, record):
            raise no_such_stage(stage)
        return record

    async def list(self, user: Principal) -> _Records:
        """Every stage ``user`` may reach, by id."""
        if not (user.can(USE_STAGES) or user.can(ADMINISTER_STAGES)):
            return []
        rows = await self.db.fetch(_SELECT_RECORD + " WHERE s.id <> %s ORDER BY s.id", (LIVE,))
        return [r for r in map(_record, rows) if self.may_access(user, r)]

    # -- writes --------------------------------------------------------------------------------

    async def create(self, user: Principal, stage: str, label: str, *,
                     upstream: str = LIVE, visibility: str = "private",
                     roles: Iterable[str | uuid.UUID] = ()) -> StageRecord:
        """A new open stage owned by ``user`` (who needs ``use stages``)."""
        if not (user.can(USE_STAGES) or user.can(ADMINISTER_STAGES)):
            raise StageError(403, f"You need the permission {USE_STAGES!r} to create stages.")
        errors: dict[str, str] = {}
        if not isinstance(stage, str) or len(stage) > _STAGE_ID_MAX \
                or not STAGE_ID.match(stage):
            errors["id"] = (f"must be a machine name (^[a-z][a-z0-9_]*$) of at most "
                            f"{_STAGE_ID_MAX} characters")
        elif is_live(stage):
            errors["id"] = f"{LIVE!r} is the live site, not a stage one creates"
        elif stage in RESERVED_IDS:
            errors["id"] = f"{stage!r} is reserved: /admin/stages/{stage} is another page"
        self._check_label(label, errors)
        self._check_visibility(visibility, errors)
        role_ids = self._role_ids(roles, errors)
        async with self.db.transaction() as conn:
            await self._check_upstream(conn, user, stage, upstream, errors)
            await self._check_roles(conn, role_ids, errors)
            if errors:
                raise StageError(422, "The stage is invalid.", errors)
            cur = await conn.execute(
                "INSERT INTO stage (id, label, upstream_id, owner_id, visibility)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
                (stage, label, upstream, user.id if user.is_authenticated else None,
                 visibility))
            if await cur.fetchone() is None:
                raise StageError(409, f"A stage {stage!r} exists already.",
                                 {"id": "is taken"})
            await self._write_roles(conn, stage, role_ids)
            return await self.get(user, stage, conn=conn)

    async def edit(self, user: Principal, stage: str, *, label: str = _UNSET,
                   upstream: str = _UNSET, visibility: str = _UNSET,
                   roles: Iterable[str | uuid.UUID] = _UNSET) -> StageRecord:
        """Change what is given of the stage's label, upstream, visibility and roles."""
        errors: dict[str, str] = {}
        async with self.db.transaction() as conn:
            record = await self._managed(conn, user, stage, "edit")
            if label is not _UNSET:
                self._check_label(label, errors)
            if visibility is not _UNSET:
                self._check_visibility(visibility, errors)
            if upstream is not _UNSET and upstream != record.upstream:
                await self._check_upstream(conn, user, stage, upstream, errors)
            role_ids: _RoleIds | None = None
            if roles is not _UNSET:
                role_ids = self._role_ids(roles, errors)
                await self._check_roles(conn, role_ids, errors)
            if errors:
                raise StageError(422, "The stage is invalid.", errors)
            await conn.execute(
                "UPDATE stage SET label = %s, upstream_id = %s, visibility = %s,"
                " changed = now() WHERE id = %s",
                (record.label if label is _UNSET else label,
                 record.upstream if upstream is _UNSET else upstream,
                 record.visibility if visibility is _UNSET else visibility, stage))
            if role_ids is not None:
                await conn.execute("DELETE FROM stage_role WHERE stage_id = %s", (stage,))
                await self._write_roles(conn, stage, role_ids)
            edited = await self._refetch(conn, stage)
        await self.changed()
        return edited

    async def archive(self, user: Principal, stage: str) -> StageRecord:
        """Shelve an open stage: it keeps its changes but takes no writes and is not
        published."""
        async with self.db.transaction() as conn:
            record = await self._managed(conn, user, stage, "archive")
            if record.status != OPEN:
                raise StageError(409, f"The stage {stage!r} is {record.status}, not open.")
            await conn.execute("UPDATE stage SET status = 'archived', changed = now()"
                               " WHERE id = %s", (stage,))
            archived = await self._refetch(conn, stage)
        await self.changed()
        return archived

    async def delete(self, user: Principal, stage: str) -> StageRecord:
        """Delete the stage and discard its changes (the items created in it, its revisions,
        edits and deletions). Refused while another stage builds on it."""
        async with self.db.transaction() as conn:
            record = await self._managed(conn, user, stage, "delete")
            cur = await conn.execute(
                "SELECT id FROM stage WHERE upstream_id = %s ORDER BY id", (stage,))
            downstream = [row["id"] for row in await cur.fetchall()]
            if downstream:
                raise StageError(409, f"The stage {stage!r} cannot be deleted: the stage(s) "
                                 f"{', '.join(downstream)} build on it.")
            # Revisions, edits and deletion markers go with the stage (ON DELETE CASCADE);
            # the items created in it have no other home.
            await conn.execute("DELETE FROM item WHERE stage_id = %s", (stage,))
            await conn.execute("DELETE FROM stage WHERE id = %s", (stage,))
        await self.changed()
        return record

    async def hold_open(self, conn: AsyncConnection[DictRow], stage: str) -> None:
        """Inside a write's transaction: the stage must be open (409), and stays so until the
        write commits (a share lock, which a publish of the stage waits for)."""
        if is_live(stage):
            return
        cur = await conn.execute("SELECT status FROM stage WHERE id = %s FOR SHARE", (stage,))
        row = await cur.fetchone()
        if row is None:
            raise no_such_stage(stage)
        if row["status"] != OPEN:
            raise StageError(409, f"The stage {stage!r} is {row['status']}: only open stages"
                             " take changes.")

    # -- internals -----------------------------------------------------------------------------

    async def _managed(self, conn: AsyncConnection[DictRow], user: Principal, stage: str,
                       verb: str) -> StageRecord:
        record = await self.get(user, stage, conn=conn, lock=True)
        if not self.may_manage(user, record.owner_id):
            raise StageError(403, f"Only the stage's owner or an administrator of stages may "
                             f"{verb} it.")
        return record

    async def _refetch(self, conn: AsyncConnection[DictRow], stage: str) -> StageRecord:
        cur = await conn.execute(_SELECT_RECORD + " WHERE s.id = %s", (stage,))
        row = await cur.fetchone()
        assert row is not None
        return _record(row)

    @staticmethod
    def _check_label(label: Any, errors: dict[str, str]) -> None:
        if not isinstance(label, str) or not label.strip() or len(label) > _LABEL_MAX \
                or any(c in label for c in "\x00\r\n"):
            errors["label"] = f"must be a single line of 1 to {_LABEL_MAX} characters"

    @staticmethod
    def _check_visibility(visibility: Any, errors: dict[str, str]) -> None:
        if visibility not in VISIBILITIES:
            errors["visibility"] = f"must be one of: {', '.join(VISIBILITIES)}"

    @staticmethod
    def _role_ids(roles: Iterable[str | uuid.UUID], errors: dict[str, str]) -> _RoleIds:
        ids: _RoleIds = []
        for role in roles:
            try:
                ids.append(role if isinstance(role, uuid.UUID) else uuid.UUID(str(role)))
            except ValueError:
                errors["roles"] = f"{str(role)[:64]!r} is not a role id"
        return sorted(set(ids))

    @staticmethod
    async def _check_roles(conn: AsyncConnection[DictRow], ids: _RoleIds,
                           errors: dict[str, str]) -> None:
        if not ids or "roles" in errors:
            return
        cur = await conn.execute("SELECT id FROM role WHERE id = ANY(%s)", (ids,))
        known = {row["id"] for row in await cur.fetchall()}
        missing = [str(i) for i in ids if i not in known]
        if missing:
            errors["roles"] = f"no such role(s): {', '.join(missing)}"

    @staticmethod
    async def _write_roles(conn: AsyncConnection[DictRow], stage: str,
                           ids: _RoleIds) -> None:
        if ids:
            await conn.execute(
                "INSERT INTO stage_role (stage_id, role_id) SELECT %s, unnest(%s::uuid[])",
                (stage, ids))

    async def _check_upstream(self, conn: AsyncConnection[DictRow], user: Principal,
                              stage: str, upstream: Any, errors: dict[str, str]) -> None:
        """The upstream must be live or an open stage ``user`` may reach, and must not have
        ``stage`` in its own chain (a cycle)."""
        if not isinstance(upstream, str):
            errors["upstream"] = "must be a stage id"
            return
        if is_live(upstream):
            return
        try:
            record = await self.get(user, upstream, conn=conn)
        except StageError:
            errors["upstream"] = f"no such stage {upstream[:_STAGE_ID_MAX]!r}"
            return
        if record.status != OPEN:
            errors["upstream"] = f"the stage {upstream!r} is {record.status}, not open"
            return
        chain = await (await conn.execute(_CHAIN, {"id": upstream})).fetchall()
        if any(row["id"] == stage for row in chain):
            errors["upstream"] = f"the stage {upstream!r} builds on {stage!r}: a cycle"
