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
* :meth:`StageDesk.create`, :meth:`StageDesk.edit`, :meth:`StageDesk.archive`,
  :meth:`StageDesk.delete` — a new stage, a changed one, one shelved, one deleted with its
  changes (:meth:`StageDesk.may_manage`: who may edit, archive and delete a stage, the
  service's rule);
* :meth:`StageDesk.changes`, :meth:`StageDesk.diff`, :meth:`StageDesk.conflicts`,
  :meth:`StageDesk.publish` — through
  the :class:`Publisher` the desk is given (the content service's staging), so the pages, the
  command line and the API list the same changes publishing applies.

Users are anything with an ``id``, ``is_authenticated`` and ``can(permission)``
(:class:`Principal`), so this module needs nothing above the stages package; the command line
acts as an administrator without an account (``trovato.cli.stage.OPERATOR``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from trovato.stages.service import (
    ADMINISTER_STAGES,
    LIVE,
    PUBLISH_STAGES,
    USE_STAGES,
    Principal,
    StageError,
    StageRecord,
    Stages,
    is_live,
)


class Publisher(Protocol):
    """What lists a stage's changes, finds its conflicts and publishes it (the content
    service's staging).

    ``changes`` answers ``{"id", "change", "type", "title", "when"}`` each (``when`` in
    ISO 8601); ``diff`` per changed item ``{"item", "change", "title", "when", "fields":
    [{"field", "stage", "upstream"}]}`` (the values that differ); ``publish`` answers a
    report ``{"stage", "upstream", "dry_run", "created", "edited", "deleted", …}`` (item
    ids), or raises :class:`StageError` 409 carrying ``conflicts`` when conflicts stop it."""

    async def changes(self, user: Any, stage: str) -> list[dict[str, Any]]: ...

    async def diff(self, user: Any, stage: str) -> list[dict[str, Any]]: ...

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
    visibility: str  # private or public
    owner_id: uuid.UUID | None
    roles: tuple[uuid.UUID, ...]  # the roles a private stage is shared with

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
    # The conflicts the resolutions settled (as ``conflicts`` lists them).
    resolved: tuple[dict[str, Any], ...] = ()

    @property
    def published(self) -> bool:
        return not self.dry_run and not self.conflicts


def _info(record: StageRecord) -> StageInfo:
    return StageInfo(record.id, record.label, record.status, record.upstream, record.created,
                     record.visibility, record.owner_id, record.roles)


class StageDesk:
    """The stage surfaces' one view of the stages service (see the module docstring)."""

    def __init__(self, stages: Stages, publisher: Publisher) -> None:
        self.stages = stages
        self.publisher = publisher

    @staticmethod
    def may_use(user: Principal) -> bool:
        """Whether ``user`` may use stages at all."""
        return user.can(USE_STAGES) or user.can(ADMINISTER_STAGES)

    @staticmethod
    def may_publish(user: Principal) -> bool:
        """Whether ``user`` may publish the stages they may use."""
        return user.can(PUBLISH_STAGES) or user.can(ADMINISTER_STAGES)

    def may_manage(self, user: Principal, stage: StageInfo) -> bool:
        """Whether ``user`` may edit, archive and delete ``stage`` (its owner or an
        administrator of stages: the stages service decides)."""
        return self.stages.may_manage(user, stage.owner_id)

    async def choose(self, user: Principal, requested: str | None) -> str:
        """The stage ``user`` works in when they ask for ``requested`` (None or live: live);
        :class:`StageError` if they may not (404 for a stage they may not reach)."""
        stage = await self.stages.active(requested, may_view_stages=self.may_use(user))
        if not is_live(stage):
            await self.stages.reach(user, stage)
        return stage

    async def get(self, user: Principal, stage: str) -> StageInfo:
        """A stage ``user`` may use; 404 otherwise, live included."""
        return _info(await self.stages.get(user, stage))

    async def label(self, stage: str) -> str:
        """The label of a stage the request is already in (the banner's), from the stage
        directory (the request's reads then find the stage there too)."""
        if is_live(stage):
            return "Live"
        known = await self.stages.label(stage)
        return known if known is not None else stage

    async def usable(self, user: Principal) -> list[StageInfo]:
        """The stages ``user`` may use, by id; never live."""
        return [_info(record) for record in await self.stages.list(user)]

    async def create(
        self, user: Principal, stage: str, label: str, upstream: str = LIVE, *,
        visibility: str = "private", roles: Iterable[str | uuid.UUID] = (),
    ) -> StageInfo:
        """A new open stage owned by ``user`` (shared with ``roles``); 422 naming the fields
        that are invalid."""
        return _info(await self.stages.create(user, stage, label, upstream=upstream,
                                              visibility=visibility, roles=roles))

    async def edit(self, user: Principal, stage: str, *, label: str, upstream: str,
                   visibility: str, roles: Iterable[str | uuid.UUID]) -> StageInfo:
        """Change the stage's label, upstream, visibility and the roles it is shared with (its
        owner or an administrator of stages); 422 naming the fields that are invalid."""
        return _info(await self.stages.edit(user, stage, label=label, upstream=upstream,
                                            visibility=visibility, roles=roles))

    async def archive(self, user: Principal, stage: str) -> StageInfo:
        """Shelve an open stage (its owner or an administrator of stages): it keeps its
        changes but takes no more and is not published; 409 when it is not open."""
        return _info(await self.stages.archive(user, stage))

    async def delete(self, user: Principal, stage: str) -> StageInfo:
        """Delete the stage and discard its changes (its owner or an administrator of
        stages); 409 while another stage builds on it."""
        return _info(await self.stages.delete(user, stage))

    async def changes(self, user: Principal, stage: str) -> list[Change]:
        """What the stage changes, as publishing it would apply."""
        await self.get(user, stage)
        return [
            Change(
                c["change"],
                uuid.UUID(c["id"]),
                c["title"],
                c["type"],
                datetime.fromisoformat(c["when"]),
            )
            for c in await self.publisher.changes(user, stage)
        ]

    async def diff(self, user: Principal, stage: str) -> list[dict[str, Any]]:
        """Per changed item, each field whose value the stage changes compared with its
        upstream (see :class:`Publisher`)."""
        await self.get(user, stage)
        return await self.publisher.diff(user, stage)

    async def conflicts(self, user: Principal, stage: str) -> list[dict[str, Any]]:
        """The stage's conflicts with its upstream: ``{"item", "field", "stage", "upstream",
        "base"}`` each."""
        await self.get(user, stage)
        return await self.publisher.conflicts(user, stage)

    async def publish(
        self, user: Principal, stage: str, *, dry_run: bool = False,
        resolutions: Iterable[Mapping[str, Any]] = (),
    ) -> PublishOutcome:
        """Publish the stage to its upstream in one transaction (or, ``dry_run``, say what
        would happen); conflicts with the upstream stop it unless ``resolutions`` (``{"item",
        "field", "take": "stage"|"upstream"}`` each) settle every one (see
        :class:`PublishOutcome`); a resolution naming no conflict is a 422."""
        info = await self.get(user, stage)
        changes = {change.item: change for change in await self.changes(user, stage)}
        try:
            report = await self.publisher.publish(user, stage, list(resolutions),
                                                  dry_run=dry_run)
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
            tuple(report.get("resolved", ())),
        )
