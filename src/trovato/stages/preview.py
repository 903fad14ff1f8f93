"""Preview links: signed, expiring, revocable, read-only views of one stage for anyone holding one.

A link is a row of ``stage_preview_link`` (its stage, creator, expiry, revocation) and a token
that names the row and its expiry and carries an HMAC-SHA256 of both under the site's
preview-link key (:func:`trovato.kernel.keys.derive_key`). :meth:`PreviewLinks.check` verifies
the signature (with :func:`hmac.compare_digest`) before it reads the database, so a forged
token costs no query; then the row must still exist, be unrevoked and unexpired, and its stage
open. A link found valid is remembered in process with the stage directory's generation
(:class:`~trovato.stages.Stages`): its signature and expiry are checked on every request, its
stage's status in the directory, and the row is read again only once the process has heard
of a change to stages or links — revoking a link announces one to every process
(:meth:`Stages.changed <trovato.stages.Stages.changed>`), so a revoked link stops working
everywhere at once. The token is only a bearer credential for *reading* one stage: the
request pipeline selects the stage for the request and refuses every unsafe method (see
:mod:`trovato.kernel.pipeline`).

Every refusal is a :class:`~trovato.stages.StageError` with status 403: a token is a credential,
and the page it was used on exists; what it says (forged, expired, revoked, stage closed) tells
nothing to someone who did not hold a genuine link, because a forged token is refused before
the database is read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from trovato.stages.service import DIRECTORY_SECONDS, OPEN, StageError, Stages, is_live

if TYPE_CHECKING:
    from trovato.db.pool import Database

DEFAULT_SECONDS: Final = 7 * 24 * 3600
MAX_SECONDS: Final = 30 * 24 * 3600
MIN_SECONDS: Final = 60
# The query parameter that carries a token, and the value that ends a preview.
QUERY_PARAM: Final = "preview"
END: Final = "end"
_VERSION = b"preview-link:1:"
_ID_BYTES, _EXPIRES_BYTES, _MAC_BYTES = 16, 8, 32
_TOKEN_BYTES = _ID_BYTES + _EXPIRES_BYTES + _MAC_BYTES
_TOKEN_MAX = 120  # characters; a real token is 75
_REMEMBERED_MAX = 4096  # links a process remembers as valid


@dataclass(frozen=True, slots=True)
class PreviewLink:
    id: uuid.UUID
    stage: str
    created_by: uuid.UUID | None
    created: datetime
    expires: datetime
    revoked: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked is None and self.expires > datetime.now(UTC)

    def public(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "stage": self.stage,
            "created_by": None if self.created_by is None else str(self.created_by),
            "created": self.created.isoformat(),
            "expires": self.expires.isoformat(),
            "revoked": None if self.revoked is None else self.revoked.isoformat(),
            "active": self.active,
        }


def preview_url(token: str, path: str = "/") -> str:
    return f"{path}?{QUERY_PARAM}={token}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class PreviewLinks:
    """Creates, lists, revokes and checks the preview links of stages."""

    def __init__(self, db: Database, key: bytes, stages: Stages) -> None:
        self.db = db
        self._key = key
        self.stages = stages
        # link id -> (its stage, the stage directory's generation when it was found valid,
        # when: it is trusted for DIRECTORY_SECONDS, as the directory is, should a message
        # be lost)
        self._valid: dict[uuid.UUID, tuple[str, int, float]] = {}

    def _mac(self, link_id: uuid.UUID, expires: int) -> bytes:
        message = _VERSION + link_id.bytes + expires.to_bytes(_EXPIRES_BYTES, "big")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def sign(self, link_id: uuid.UUID, expires: int) -> str:
        """The token of link ``link_id`` expiring at ``expires`` (Unix seconds)."""
        raw = link_id.bytes + expires.to_bytes(_EXPIRES_BYTES, "big")
        return _b64(raw + self._mac(link_id, expires))

    async def create(
        self, stage: str, created_by: uuid.UUID | None, expires_in: int | None = None
    ) -> tuple[PreviewLink, str]:
        """A new link to ``stage`` (an open stage other than live) valid for ``expires_in``
        seconds (default seven days, at most thirty); returns the link and its token."""
        seconds = DEFAULT_SECONDS if expires_in is None else expires_in
        if not MIN_SECONDS <= seconds <= MAX_SECONDS:
            raise StageError(
                422, f"expires_in must be between {MIN_SECONDS} and {MAX_SECONDS} seconds."
            )
        if is_live(stage):
            raise StageError(422, "Live needs no preview link: it is what everyone sees.")
        expires = int(time.time()) + seconds
        row = await self.db.fetchrow(
            "INSERT INTO stage_preview_link (stage_id, created_by, expires)"
            " SELECT id, %s, to_timestamp(%s) FROM stage WHERE id = %s AND status = 'open'"
            " RETURNING id, stage_id, created_by, created, expires, revoked",
            (created_by, expires, stage),
        )
        if row is None:
            raise StageError(409, f"Stage {stage!r} is not open: it can have no new previews.")
        link = _link(row)
        return link, self.sign(link.id, expires)

    async def list(self, stage: str) -> list[PreviewLink]:
        """The stage's links, newest first (revoked and expired ones too, marked so)."""
        rows = await self.db.fetch(
            "SELECT id, stage_id, created_by, created, expires, revoked FROM stage_preview_link"
            " WHERE stage_id = %s ORDER BY created DESC, id DESC",
            (stage,),
        )
        return [_link(row) for row in rows]

    async def revoke(self, stage: str, link_id: uuid.UUID) -> PreviewLink:
        """Revoke a link of ``stage`` (revoking it again changes nothing); 404 if unknown."""
        row = await self.db.fetchrow(
            "UPDATE stage_preview_link SET revoked = coalesce(revoked, now())"
            " WHERE id = %s AND stage_id = %s"
            " RETURNING id, stage_id, created_by, created, expires, revoked",
            (link_id, stage),
        )
        if row is None:
            raise StageError(404, "No such preview link for this stage.")
        await self.stages.changed()  # every process reads the link's row again
        return _link(row)

    async def check(self, token: str) -> str:
        """The stage a token may read, or :class:`StageError` 403 saying why not."""
        link_id, expires = self._verify(token)
        if expires <= time.time():
            raise StageError(403, "This preview link has expired. Ask for a new one.")
        remembered = self._valid.get(link_id)
        if (remembered is not None and remembered[1] == self.stages.generation
                and time.monotonic() - remembered[2] < DIRECTORY_SECONDS):
            stage = remembered[0]
            status = await self.stages.status(stage)
            if status is None:
                raise StageError(403, "This preview link no longer exists.")
            if status != OPEN:
                raise StageError(403, f"The stage of this preview link has been {status}.")
            return stage
        generation = self.stages.generation
        row = await self.db.fetchrow(
            "SELECT l.stage_id, l.revoked, s.status FROM stage_preview_link l"
            " JOIN stage s ON s.id = l.stage_id"
            " WHERE l.id = %s AND l.expires = to_timestamp(%s)",
            (link_id, expires),
        )
        if row is None:
            raise StageError(403, "This preview link no longer exists.")
        if row["revoked"] is not None:
            raise StageError(403, "This preview link has been revoked.")
        if row["status"] != "open":
            raise StageError(403, f"The stage of this preview link has been {row['status']}.")
        stage = str(row["stage_id"])
        if generation == self.stages.generation:  # nothing changed while the row was read
            if len(self._valid) >= _REMEMBERED_MAX:
                self._valid.clear()
            self._valid[link_id] = (stage, generation, time.monotonic())
        return stage

    def _verify(self, token: str) -> tuple[uuid.UUID, int]:
        if not token or len(token) > _TOKEN_MAX or not token.isascii():
            raise _forged()
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise _forged() from None
        if len(raw) != _TOKEN_BYTES:
            raise _forged()
        link_id = uuid.UUID(bytes=raw[:_ID_BYTES])
        expires = int.from_bytes(raw[_ID_BYTES : _ID_BYTES + _EXPIRES_BYTES], "big")
        if not hmac.compare_digest(raw[_ID_BYTES + _EXPIRES_BYTES :], self._mac(link_id, expires)):
            raise _forged()
        return link_id, expires


def _forged() -> StageError:
    """A token that is not one of ours (made only when refusing: every previewed page checks
    its token)."""
    return StageError(403, "This preview link is not valid (it may be incomplete).")


def _link(row: Any) -> PreviewLink:
    return PreviewLink(
        id=row["id"],
        stage=row["stage_id"],
        created_by=row["created_by"],
        created=row["created"],
        expires=row["expires"],
        revoked=row["revoked"],
    )
