"""An item's revisions: the list of them, one of them, the two a comparison shows, and reverting
to one (which saves that revision's content as a new revision, so none is lost).

Kept apart from the writes in :mod:`trovato.content.items` because these are reads of history
with their own permissions (``view revisions``, ``revert revisions``); the items service
composes them (``Items.revisions``), and a revert is one more save through it. The item behind
a revision is read through the one item query path, so its access, status and stage rules
apply: an item the user may not view has no revisions to them, and a stage sees its own
revisions and its chain's, never a downstream stage's.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Final

from trovato.content.access import ADMINISTER_CONTENT, REVERT_REVISIONS, VIEW_REVISIONS
from trovato.content.model import Item, ItemError, Revision, parse_id, revision_from_row
from trovato.render.dates import local_time
from trovato.stages import LIVE
from trovato.users.accounts import CurrentUser

if TYPE_CHECKING:  # the items service composes this one: imported for its type only
    from trovato.content.items import Items

_SELECT_REVISION: Final = "SELECT id, item_id, author_id, created, title, status, log, fields"
# An item's revisions as a stage sees them: its own and its chain's, never a downstream one's.
_REVISIONS_SEEN: Final = " FROM item_revision WHERE item_id = %s AND stage_id = ANY(%s)"


class Revisions:
    """Read an item's revisions and revert to one, with the revision permissions and the
    item's own access."""

    def __init__(self, items: Items) -> None:
        self.items = items

    async def history(
        self, user: CurrentUser, item_id: uuid.UUID | str, *, stage: str = LIVE
    ) -> list[Revision]:
        """The item's revisions, newest first (needs ``view revisions`` and view access)."""
        query = self.items.query
        item = await query.load(user, item_id, stage=stage)
        _require_permission(user, VIEW_REVISIONS, "view revisions")
        view = await query.view(user, stage)
        rows = await self.items.db.fetch(
            _SELECT_REVISION + _REVISIONS_SEEN + " ORDER BY created DESC, id DESC",
            (item.id, list(view.visible)),
        )
        return [revision_from_row(r) for r in rows]

    async def load(
        self, user: CurrentUser, item_id: uuid.UUID | str, revision_id: uuid.UUID | str,
        *, stage: str = LIVE,
    ) -> Revision:
        """One revision of the item (needs ``view revisions`` and view access; 404 when the
        stage sees no such revision of it)."""
        item = await self.items.query.load(user, item_id, stage=stage)
        _require_permission(user, VIEW_REVISIONS, "view revisions")
        return await self._revision(user, item, revision_id, stage)

    async def compare(
        self, user: CurrentUser, item_id: uuid.UUID | str, old_id: uuid.UUID | str,
        new_id: uuid.UUID | str, *, stage: str = LIVE,
    ) -> tuple[Revision, Revision]:
        """The two revisions a comparison shows, the older one first whichever way round
        they were asked for (each loaded as :meth:`load` does)."""
        old = await self.load(user, item_id, old_id, stage=stage)
        new = await self.load(user, item_id, new_id, stage=stage)
        return (new, old) if old.created > new.created else (old, new)

    async def revert(
        self, user: CurrentUser, item_id: uuid.UUID | str, revision_id: uuid.UUID | str,
        *, stage: str = LIVE, log: str | None = None,
    ) -> Item:
        """Make an earlier revision current again by saving its content as a new revision.

        Needs ``revert revisions`` and update access. Fields the type no longer has are left
        out; the values go through validation like any save."""
        _require_permission(user, REVERT_REVISIONS, "revert revisions")
        items = self.items
        item = await items.query.load(user, item_id, stage=stage)
        revision = await self._revision(user, item, revision_id, stage)
        item_type = await items.types.get(item.type)
        assert item_type is not None
        known = {f.name for f in item_type.fields}
        return await items.update(
            user, item.id,
            title=revision.title,
            status=revision.status,
            fields={k: v for k, v in revision.fields.items() if k in known},
            replace_fields=True,
            log=log if log is not None
            else "Reverted to the revision of"
            f" {local_time(revision.created, user.timezone, zone=True)}.",
            stage=stage,
        )

    async def _revision(self, user: CurrentUser, item: Item, revision_id: uuid.UUID | str,
                        stage: str) -> Revision:
        view = await self.items.query.view(user, stage)
        row = await self.items.db.fetchrow(
            _SELECT_REVISION + _REVISIONS_SEEN + " AND id = %s",
            (item.id, list(view.visible), parse_id(revision_id, "revision")),
        )
        if row is None:
            raise ItemError(404, "No such revision of this item.")
        return revision_from_row(row)


def _require_permission(user: CurrentUser, permission: str, what: str) -> None:
    if not (user.can(permission) or user.can(ADMINISTER_CONTENT)):
        raise ItemError(403, f"You need the permission {permission!r} to {what}.")
