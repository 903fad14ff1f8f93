"""What the stage surfaces ask of stages: the one adapter between them and the stages service.

The request pipeline (which stage a request is in), the session switcher, the preview-link API,
the stage banner, the stage overview page and ``trovato stage`` read and change stages only
through :class:`StageDesk`, so each question has one answer and one place to point when the
service answering it changes:

* :meth:`StageDesk.choose` — may this user work in the stage they ask for
  (:meth:`Stages.active <trovato.stages.Stages.active>`, the one door);
* :meth:`StageDesk.get` / :meth:`StageDesk.usable` — the stages a user may use, as
  :class:`StageInfo` (a stage they may not use does not exist for them: 404);
* :meth:`StageDesk.label` — a stage's label for the banner;
* :meth:`StageDesk.create`, :meth:`StageDesk.changes` — a new stage; what a stage changes;
* :meth:`StageDesk.conflicts`, :meth:`StageDesk.publish` — through the :class:`Publisher` the
  desk is given (the content service's staging); without one they answer 501.

Users are anything with an ``id``, ``is_authenticated`` and ``can(permission)``
(:class:`StageUser`), so this module needs nothing above the stages package; the command line
acts as an administrator without an account (``trovato.cli.stage.OPERATOR``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

from trovato.stages.service import LIVE, VIEW_STAGES, StageError, Stages, is_live

if TYPE_CHECKING:
    from trovato.db.pool import Database

STAGE_ID: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
PUBLISH_STAGES: Final = "publish stages"
LABEL_MAX: Final = 255


class StageUser(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def is_authenticated(self) -> bool: ...

    def can(self, permission: str) -> bool: ...


class Publisher(Protocol):
    """What finds a stage's conflicts and publishes it (the content service's staging).

    ``publish`` answers a report ``{"stage", "upstream", "dry_run", "created", "edited",
    "deleted", …}`` (item ids), or raises :class:`StageError` 409 carrying ``conflicts`` when
    conflicts stop it."""

    async def conflicts(self, user: Any, stage: str) -> list[dict[str, Any]]: ...

    async def publish(
        self,
        user: Any,
        stage: str,
        resolutions: Iterable[Mapping[str, Any]] = (),
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class StageInfo:
    """What the surfaces show of a stage."""

    id: str
    label: str
    status: str  # open, published or archived
    upstream: str
    created: datetime

    @property
    def open(self) -> bool:
        return self.status == "open"

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "status": self.status,
            "upstream": self.upstream,
            "created": self.created.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Change:
    """One item a stage changes: ``kind`` is ``created``, ``edited`` or ``deleted``."""

    kind: str
    item: uuid.UUID
    title: str
    type: str
    when: datetime

    def public(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "item": str(self.item),
            "title": self.title,
            "type": self.type,
            "when": self.when.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """What publishing a stage did (or, ``dry_run``, would do): the ``changes`` applied to its
    ``upstream``, or the ``conflicts`` that stopped it (then nothing was published)."""

    stage: str
    upstream: str
    changes: tuple[Change, ...]
    conflicts: tuple[dict[str, Any], ...]
    dry_run: bool

    @property
    def published(self) -> bool:
        return not self.dry_run and not self.conflicts


_SELECT = "SELECT id, label, status, coalesce(upstream_id, '') AS upstream, created FROM stage"

# What a stage changes: items created in it, edits of upstream items, deletions.
_CHANGES = """
SELECT 'created' AS kind, i.id AS item, i.title, i.type, i.changed AS at
  FROM item i WHERE i.stage_id = %(stage)s
UNION ALL
SELECT 'edited', a.item_id, r.title, i.type, r.created
  FROM stage_association a JOIN item_revision r ON r.id = a.target_revision_id
  JOIN item i ON i.id = a.item_id WHERE a.stage_id = %(stage)s
UNION ALL
SELECT 'deleted', d.entity_id, i.title, i.type, d.deleted_at
  FROM stage_deletion d JOIN item i ON i.id = d.entity_id
 WHERE d.stage_id = %(stage)s AND d.entity_type = 'item'
ORDER BY at DESC, item"""


def _info(row: Any) -> StageInfo:
    return StageInfo(
        row["id"], row["label"], row["status"], row["upstream"] or LIVE, row["created"]
    )


def _no_such_stage(stage: str) -> StageError:
    return StageError(404, f"No such stage {stage[:64]!r}.")


class StageDesk:
    """The stage surfaces' one view of the stages service (see the module docstring)."""

    def __init__(self, db: Database, stages: Stages, publisher: Publisher | None = None) -> None:
        self.db = db
        self.stages = stages
        self.publisher = publisher

    @staticmethod
    def may_use(user: StageUser) -> bool:
        """Whether ``user`` may use stages at all."""
        return user.can(VIEW_STAGES)

    @staticmethod
    def may_publish(user: StageUser) -> bool:
        """Whether ``user`` may publish the stages they may use."""
        return user.can(PUBLISH_STAGES)

    async def choose(self, user: StageUser, requested: str | None) -> str:
        """The stage ``user`` works in when they ask for ``requested`` (None or live: live);
        :class:`StageError` if they may not."""
        return await self.stages.active(requested, may_view_stages=self.may_use(user))

    async def get(self, user: StageUser, stage: str) -> StageInfo:
        """A stage ``user`` may use; 404 otherwise, live included."""
        if not self.may_use(user) or is_live(stage) or not STAGE_ID.match(stage):
            raise _no_such_stage(stage)
        row = await self.db.fetchrow(_SELECT + " WHERE id = %s", (stage,))
        if row is None:
            raise _no_such_stage(stage)
        return _info(row)

    async def label(self, stage: str) -> str:
        """The label of a stage the request is already in (the banner's)."""
        if is_live(stage):
            return "Live"
        found = await self.db.fetchval("SELECT label FROM stage WHERE id = %s", (stage,))
        return str(found) if found is not None else stage

    async def usable(self, user: StageUser) -> list[StageInfo]:
        """The stages ``user`` may use, by id; never live."""
        if not self.may_use(user):
            return []
        rows = await self.db.fetch(_SELECT + " WHERE id <> %s ORDER BY id", (LIVE,))
        return [_info(row) for row in rows]

    async def create(
        self, user: StageUser, stage: str, label: str, upstream: str = LIVE
    ) -> StageInfo:
        """A new open stage owned by ``user``; 422 naming the field if one is invalid."""
        if not self.may_use(user):
            raise StageError(403, f"You need the permission {VIEW_STAGES!r} to create stages.")
        if not STAGE_ID.match(stage) or is_live(stage):
            raise StageError(
                422,
                "id: must be a machine name (^[a-z][a-z0-9_]*$, at most 64"
                " characters) other than live.",
            )
        if not label.strip() or len(label) > LABEL_MAX or "\x00" in label:
            raise StageError(422, f"label: must be 1 to {LABEL_MAX} characters.")
        if not is_live(upstream):
            await self.get(user, upstream)
        owner = user.id if user.is_authenticated else None
        row = await self.db.fetchrow(
            "INSERT INTO stage (id, label, upstream_id, owner_id) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (id) DO NOTHING RETURNING id, label, status,"
            " coalesce(upstream_id, '') AS upstream, created",
            (stage, label.strip(), upstream, owner),
        )
        if row is None:
            raise StageError(409, f"id: a stage {stage!r} exists already.")
        return _info(row)

    async def changes(self, user: StageUser, stage: str) -> list[Change]:
        """What the stage changes, newest first."""
        await self.get(user, stage)
        rows = await self.db.fetch(_CHANGES, {"stage": stage})
        return [Change(r["kind"], r["item"], r["title"], r["type"], r["at"]) for r in rows]

    def _publisher(self) -> Publisher:
        if self.publisher is None:
            raise StageError(
                501,
                "Conflicts and publishing need the content service's staging, which this"
                " site does not have yet.",
            )
        return self.publisher

    async def conflicts(self, user: StageUser, stage: str) -> list[dict[str, Any]]:
        """The stage's conflicts with its upstream: ``{"item", "field", "stage", "upstream",
        "base"}`` each."""
        await self.get(user, stage)
        return await self._publisher().conflicts(user, stage)

    async def publish(
        self, user: StageUser, stage: str, *, dry_run: bool = False
    ) -> PublishOutcome:
        """Publish the stage to its upstream in one transaction (or, ``dry_run``, say what
        would happen); conflicts with the upstream stop it (see :class:`PublishOutcome`)."""
        publisher = self._publisher()
        info = await self.get(user, stage)
        changes = {change.item: change for change in await self.changes(user, stage)}
        try:
            report = await publisher.publish(user, stage, dry_run=dry_run)
        except StageError as exc:
            conflicts = getattr(exc, "conflicts", None)
            if exc.status != 409 or not conflicts:
                raise
            return PublishOutcome(stage, info.upstream, (), tuple(conflicts), dry_run)
        ids = [
            uuid.UUID(str(i))
            for kind in ("created", "edited", "deleted")
            for i in report.get(kind, [])
        ]
        return PublishOutcome(
            stage,
            str(report.get("upstream", info.upstream)),
            tuple(changes[i] for i in ids if i in changes),
            (),
            dry_run,
        )
