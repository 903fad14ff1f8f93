"""The stages service, read side: the active stage of a request and the rows a stage sees.

* :meth:`Stages.active` resolves the stage a request asked for (``X-Trovato-Stage``,
  ``?stage=`` or the session's): live for everyone; any other stage only for users holding
  ``view stages``, and only if it exists.
* :meth:`Stages.view` says which rows a read in a stage sees, as a :class:`StageView`: the
  stage's own rows and those of its upstream chain, ending at live. Today the chain is the
  stage itself and live; when stages gain real upstreams, overrides (``stage_association``) and
  deletions (``stage_deletion``), they are resolved here and every reader follows.
* :func:`stage_condition` turns a view's *shape* into the SQL condition every item read puts in
  its ``WHERE`` (SQLAlchemy Core, so composed statements embed it and are compiled once per
  shape); :func:`stage_params` gives its parameters. Live reads compare with a literal, so
  PostgreSQL can match the ``stage_id``-leading indexes with a cached plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import ARRAY, ColumnElement, Text, any_, bindparam, literal_column

if TYPE_CHECKING:
    from trovato.db.pool import Database

LIVE: Final = "live"
VIEW_STAGES: Final = "view stages"
_STAGE_ID_MAX = 64


def is_live(stage: str) -> bool:
    return stage == LIVE


class StageError(Exception):
    """A request for a stage that cannot be granted: HTTP ``status`` and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class StageView:
    """What a read in ``stage`` sees: rows whose stage is one of ``visible`` (the stage and its
    upstream chain, nearest first, ending with live)."""

    stage: str
    visible: tuple[str, ...]

    @property
    def live(self) -> bool:
        return is_live(self.stage)


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


class Stages:
    """Which stage is active, and what it shows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def view(self, stage: str) -> StageView:
        """The rows a read in ``stage`` sees (see the module docstring)."""
        if is_live(stage):
            return _LIVE_VIEW
        return StageView(stage, (stage, LIVE))

    async def others(self) -> list[str]:
        """The ids of every stage but live, in order (what a client may ask to read in)."""
        rows = await self.db.fetch("SELECT id FROM stage WHERE id <> %s ORDER BY id", (LIVE,))
        return [row["id"] for row in rows]

    async def active(self, requested: str | None, *, may_view_stages: bool) -> str:
        """The stage a request reads and writes in: live unless ``requested`` names another,
        which needs ``view stages`` (``may_view_stages``) and must exist."""
        if not requested or is_live(requested):
            return LIVE
        if not may_view_stages:
            raise StageError(403, "You may not view content in other stages.")
        if len(requested) > _STAGE_ID_MAX or "\x00" in requested or not await self.db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM stage WHERE id = %s)", (requested,)
        ):
            raise StageError(400, f"Unknown stage {requested[:_STAGE_ID_MAX]!r}.")
        return requested
