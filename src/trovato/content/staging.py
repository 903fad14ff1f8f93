"""The content of a stage: what it changes, how that differs from upstream, and publishing it.

A stage's changes (written by :class:`~trovato.content.items.Items` in the stage) are of three
kinds: items *created* in it (rows of the stage), items from upstream *edited* in it (a
``stage_association`` to the stage's revision, with the base revision the first edit started
from) and items from upstream *deleted* in it (``stage_deletion``).

:class:`Staging` lists them (:meth:`~Staging.changes`), compares them with upstream per field
(:meth:`~Staging.diff`), finds the conflicts (:meth:`~Staging.conflicts`), discards them
(:meth:`~Staging.discard`) and publishes them to the stage's upstream
(:meth:`~Staging.publish`) in one transaction:

* **Conflicts**: where upstream's revision of an edited item is no longer the edit's base, each
  of title, status, promote, sticky and every field is compared three ways: changed on one
  side only, it merges by itself; changed on both sides to different values, it is a conflict
  ``{"item", "field", "stage", "upstream", "base"}``, and publishing is refused (409) unless a
  resolution ``{"item", "field", "take": "stage"|"upstream"}`` says which side wins.
* **Publish** locks the affected rows (``FOR UPDATE``, in id order, so a concurrent edit either
  lands first and is compared, or waits and applies on top: never lost), asks
  ``stage_publish_before`` (a plugin may refuse, 409 naming why), then applies the edits (the
  upstream row takes the merged values and the stage's revision, or a merge revision, becomes
  current; in a stage upstream, the upstream stage's edit does), promotes the created items,
  applies the deletions, moves the stage's revisions upstream so history keeps them, and
  closes the stage (``published``). Stages that built on it now build on its upstream. Page
  cache tags are invalidated after the commit, then ``stage_publish_after`` is told.
  ``dry_run`` answers the same report and writes nothing.

Permissions are the stages service's: reading and discarding need access to the stage;
publishing needs ``publish stages`` too (or ``administer stages``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from trovato.content.model import HookContext, Item, write_revision
from trovato.content.summary import summarize
from trovato.stages import (
    ADMINISTER_STAGES,
    OPEN,
    PUBLISH_STAGES,
    StageError,
    StageRecord,
    StageView,
    is_live,
)
from trovato.users.accounts import CurrentUser

if TYPE_CHECKING:
    from trovato.content.items import Items

Change = Literal["created", "edited", "deleted"]
# The item properties compared besides the fields, in this order.
PROPERTIES: Final = ("title", "status", "promote", "sticky")
_MISSING: Any = object()


def values_of(item: Item) -> dict[str, Any]:
    """What a diff compares: the properties, then each field by name."""
    return {"title": item.title, "status": item.status, "promote": item.promote,
            "sticky": item.sticky, **item.fields}


def _base_values(row: Mapping[str, Any], upstream: dict[str, Any]) -> dict[str, Any]:
    # A revision written before revisions carried promote and sticky does not know them: take
    # upstream's, so only the stage's side can have changed them.
    values = {"title": row["title"], "status": row["status"], **(row["fields"] or {})}
    for name in ("promote", "sticky"):
        values[name] = upstream.get(name) if row[name] is None else row[name]
    return values


def _jsonable(value: Any) -> Any:
    return None if value is _MISSING else value


@dataclass
class _Edit:
    """One edited item: the stage's and upstream's view of it, and the base revision's."""

    staged: Item
    upstream: Item
    target: uuid.UUID
    base: dict[str, Any] | None  # None: upstream is still at the base
    merged: dict[str, Any] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Plan:
    """Everything a stage would publish, read (and, for a publish, locked) on one connection."""

    record: StageRecord
    view: StageView
    upstream: StageView
    created: list[Item]
    edits: list[_Edit]
    deleted: list[Item]  # as upstream sees them
    gone: list[uuid.UUID]  # edited or deleted in the stage, meanwhile deleted upstream
    # When the stage made each change: a created item's last change, the edit's revision, the
    # deletion.
    when: dict[uuid.UUID, datetime]

    def conflicts(self) -> list[dict[str, Any]]:
        return [c for edit in self.edits for c in edit.conflicts]

    def summary(self) -> list[dict[str, Any]]:
        """Each change as plugins and clients see it: id, change, type, title, when."""
        rows: list[tuple[Change, Item]] = [
            *(("created", i) for i in self.created),
            *(("edited", e.staged) for e in self.edits),
            *(("deleted", i) for i in self.deleted)]
        return [{"id": str(i.id), "change": kind, "type": i.type, "title": i.title,
                 "when": self.when[i.id].isoformat()} for kind, i in rows]


def _merge(edit: _Edit) -> None:
    """Fill ``edit.merged`` and ``edit.conflicts`` (module docstring)."""
    stage, upstream = values_of(edit.staged), values_of(edit.upstream)
    if edit.base is None:
        edit.merged = stage
        return
    base = edit.base
    names = [*PROPERTIES, *sorted({*stage, *upstream, *base} - set(PROPERTIES))]
    for name in names:
        s, u, b = (v.get(name, _MISSING) for v in (stage, upstream, base))
        if s == u or u == b:
            chosen = s
        elif s == b:
            chosen = u
        else:
            edit.conflicts.append({"item": str(edit.staged.id), "field": name,
                                   "stage": _jsonable(s), "upstream": _jsonable(u),
                                   "base": _jsonable(b)})
            continue
        if chosen is not _MISSING:
            edit.merged[name] = chosen


class Staging:
    """A stage's changes: list, diff, conflicts, discard and publish (module docstring)."""

    def __init__(self, items: Items) -> None:
        self.items = items
        self.db = items.db
        self.stages = items.stages

    # -- reads ---------------------------------------------------------------------------------

    async def changes(self, user: CurrentUser, stage: str) -> list[dict[str, Any]]:
        """The stage's changes: ``{"id", "change", "type", "title", "when"}`` each (``when``:
        ISO 8601, the time the stage made the change)."""
        async with self.db.transaction() as conn:
            return (await self._plan(conn, user, stage)).summary()

    async def diff(self, user: CurrentUser, stage: str) -> list[dict[str, Any]]:
        """Per changed item, the fields whose values differ between the stage and upstream:
        ``{"item", "change", "title", "when", "fields": [{"field", "stage", "upstream"}]}``."""
        async with self.db.transaction() as conn:
            plan = await self._plan(conn, user, stage)
        result = []
        pairs: list[tuple[Change, Item, dict[str, Any], dict[str, Any]]] = [
            *(("created", i, values_of(i), {}) for i in plan.created),
            *(("edited", e.staged, values_of(e.staged), values_of(e.upstream))
              for e in plan.edits),
            *(("deleted", i, {}, values_of(i)) for i in plan.deleted)]
        for kind, item, ours, theirs in pairs:
            names = [*PROPERTIES, *sorted({*ours, *theirs} - set(PROPERTIES))]
            fields = [{"field": n, "stage": ours.get(n), "upstream": theirs.get(n)}
                      for n in names if ours.get(n, _MISSING) != theirs.get(n, _MISSING)]
            result.append({"item": str(item.id), "change": kind, "title": item.title,
                           "when": plan.when[item.id].isoformat(), "fields": fields})
        return result

    async def conflicts(self, user: CurrentUser, stage: str) -> list[dict[str, Any]]:
        """What publishing now would have to be told how to resolve."""
        async with self.db.transaction() as conn:
            return (await self._plan(conn, user, stage)).conflicts()

    # -- writes --------------------------------------------------------------------------------

    async def discard(self, user: CurrentUser, stage: str,
                      item_id: uuid.UUID | str | None = None) -> int:
        """Undo the stage's change to one item, or (no ``item_id``) all its changes; returns
        how many items it touched. 404 when the stage did not change that item.

        The content taps hear of it as the change undone, in the stage and inside the
        transaction: a discarded creation is an ``item_delete`` (before its rows go), a
        discarded edit an ``item_update`` to the item as upstream has it (the stage's version
        as the original), a discarded deletion an ``item_insert`` of the item as it is back.
        The touched items' cache tags are invalidated after the commit, as for any write."""
        key: uuid.UUID | None = None
        if item_id is not None:
            try:
                key = item_id if isinstance(item_id, uuid.UUID) else uuid.UUID(str(item_id))
            except ValueError:
                raise StageError(404, "The stage has no change to that item.") from None
        async with self.db.transaction() as conn:
            await self._open(conn, user, stage, "discard changes in")
            params = {"stage": stage, "item": key}
            view = await self.stages.view(stage, conn=conn)
            ctx = HookContext(conn, user, stage)
            cur = await conn.execute(
                "SELECT id FROM item WHERE stage_id = %(stage)s"
                " AND (%(item)s::uuid IS NULL OR id = %(item)s) ORDER BY id", params)
            created = [row["id"] for row in await cur.fetchall()]
            cur = await conn.execute(
                "SELECT item_id FROM stage_association WHERE stage_id = %(stage)s"
                " AND (%(item)s::uuid IS NULL OR item_id = %(item)s) ORDER BY item_id", params)
            edited = [row["item_id"] for row in await cur.fetchall()]
            cur = await conn.execute(
                "SELECT entity_id FROM stage_deletion WHERE stage_id = %(stage)s"
                " AND entity_type = 'item' AND (%(item)s::uuid IS NULL OR entity_id = %(item)s)"
                " ORDER BY entity_id", params)
            deleted = [row["entity_id"] for row in await cur.fetchall()]
            before = await self.items.query.seen_in(conn, [*created, *edited], view)
            for key_created in created:  # told before the rows go, as for any delete
                if key_created in before:
                    await self.items.hooks.delete(before[key_created], ctx)
            touched: set[uuid.UUID] = set()
            for sql in (
                "DELETE FROM stage_association WHERE stage_id = %(stage)s"
                " AND (%(item)s::uuid IS NULL OR item_id = %(item)s) RETURNING item_id",
                "DELETE FROM stage_deletion WHERE stage_id = %(stage)s AND entity_type = 'item'"
                " AND (%(item)s::uuid IS NULL OR entity_id = %(item)s)"
                " RETURNING entity_id AS item_id",
                "DELETE FROM item WHERE stage_id = %(stage)s"
                " AND (%(item)s::uuid IS NULL OR id = %(item)s) RETURNING id AS item_id",
                "DELETE FROM item_revision WHERE stage_id = %(stage)s"
                " AND (%(item)s::uuid IS NULL OR item_id = %(item)s) RETURNING item_id",
            ):
                cur = await conn.execute(sql, params)
                touched.update(row["item_id"] for row in await cur.fetchall())
            if self.items.files is not None and created:  # their files lose that use
                await self.items.files.release(conn, created)
            if key is not None and not touched:
                raise StageError(404, "The stage has no change to that item.")
            # What the stage sees now that upstream shows through again: a discarded edit is
            # an update back to upstream's values, a discarded deletion brings the item back.
            after = await self.items.query.seen_in(conn, [*edited, *deleted], view)
            for key_edited in edited:
                if key_edited in after and key_edited in before:
                    await self.items.hooks.update(after[key_edited], before[key_edited], ctx)
            for key_deleted in deleted:
                if key_deleted in after:
                    await self.items.hooks.insert(after[key_deleted], ctx)
            await conn.execute("UPDATE stage SET changed = now() WHERE id = %s", (stage,))
        if self.items.invalidate is not None:
            # Cached pages of the stage showed its version: drop them once it is gone.
            seen = [*before.values(), *after.values()]
            await self.items.invalidate(sorted({f"item:{key}" for key in touched}
                                               | {f"item_list:{item.type}" for item in seen}))
        return len(touched)

    async def publish(self, user: CurrentUser, stage: str,
                      resolutions: Iterable[Mapping[str, Any]] = (), *,
                      dry_run: bool = False) -> dict[str, Any]:
        """Publish the stage to its upstream (module docstring); returns what was (or, for a
        ``dry_run``, would be) published. :class:`StageError` 409 with ``conflicts`` when a
        conflict has no resolution, 409 when a plugin refuses, 422 for bad resolutions."""
        given = list(resolutions)
        async with self.db.transaction() as conn:
            plan = await self._plan(conn, user, stage, publish=True)
            self._resolve(plan, given)
            report = self._report(plan, dry_run)
            if dry_run:
                return report
            changes = plan.summary()
            reasons = await self.items.hooks.publish_before(
                stage, changes, HookContext(conn, user, stage))
            if reasons:
                raise StageError(409, "Publishing was refused: " + "; ".join(reasons),
                                 {"plugin": "; ".join(reasons)})
            touched = await self._apply(conn, user, plan)
        await self.stages.changed()  # closed, and the stages built on it moved upstream
        if self.items.invalidate is not None:
            tags = {f"item:{i.id}" for i in touched} | {f"item_list:{i.type}" for i in touched}
            await self.items.invalidate(sorted(tags))
        await self.items.hooks.publish_after(stage, changes, user)
        return report

    # -- internals -----------------------------------------------------------------------------

    async def _open(self, conn: AsyncConnection[DictRow], user: CurrentUser, stage: str,
                    verb: str) -> StageRecord:
        """The stage, locked, open, and reachable by ``user``."""
        record = await self.stages.get(user, stage, conn=conn, lock=True)
        if record.status != OPEN:
            raise StageError(409, f"The stage {stage!r} is {record.status}: one can only "
                             f"{verb} an open stage.")
        return record

    async def _plan(self, conn: AsyncConnection[DictRow], user: CurrentUser, stage: str, *,
                    publish: bool = False) -> _Plan:
        if publish:
            record = await self._open(conn, user, stage, "publish")
            if not (user.can(PUBLISH_STAGES) or user.can(ADMINISTER_STAGES)):
                raise StageError(403, f"You need the permission {PUBLISH_STAGES!r} to "
                                 "publish a stage.")
        else:
            record = await self.stages.get(user, stage, conn=conn)
        view = await self.stages.view(stage, conn=conn)
        upstream = await self.stages.view(view.upstream, conn=conn)
        if publish and not upstream.live:
            # Writes into the upstream stage wait for the publish, and it must take them.
            await self.stages.hold_open(conn, upstream.stage)
        cur = await conn.execute(
            "SELECT a.item_id, a.target_revision_id, a.base_revision_id, r.created"
            " FROM stage_association a JOIN item_revision r ON r.id = a.target_revision_id"
            " WHERE a.stage_id = %s ORDER BY a.item_id", (stage,))
        associations = await cur.fetchall()
        cur = await conn.execute(
            "SELECT entity_id, deleted_at FROM stage_deletion WHERE stage_id = %s"
            " AND entity_type = 'item' ORDER BY entity_id", (stage,))
        deletion_rows = await cur.fetchall()
        deletions = [row["entity_id"] for row in deletion_rows]
        cur = await conn.execute(
            "SELECT id, changed FROM item WHERE stage_id = %s ORDER BY id", (stage,))
        created_rows = await cur.fetchall()
        created_ids = [row["id"] for row in created_rows]
        edited_ids = [row["item_id"] for row in associations]
        if publish:
            # Every row the publish writes, locked in one order, before any is read.
            await conn.execute(
                "SELECT id FROM item WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                (sorted({*edited_ids, *deletions, *created_ids}),))
        staged = await self.items.query.seen_in(conn, [*edited_ids, *created_ids], view)
        theirs = await self.items.query.seen_in(conn, [*edited_ids, *deletions], upstream)
        base_ids = [row["base_revision_id"] for row in associations if row["base_revision_id"]]
        cur = await conn.execute(
            "SELECT id, title, status, promote, sticky, fields FROM item_revision"
            " WHERE id = ANY(%s)", (base_ids,))
        bases = {row["id"]: row for row in await cur.fetchall()}
        edits: list[_Edit] = []
        gone: list[uuid.UUID] = []
        for row in associations:
            mine, current = staged.get(row["item_id"]), theirs.get(row["item_id"])
            if mine is None:
                continue  # deleted in the stage too: the deletion wins
            if current is None:
                gone.append(row["item_id"])
                continue
            base_row = bases.get(row["base_revision_id"])
            base = None
            if current.revision_id != row["base_revision_id"]:
                upstream_values = values_of(current)
                base = (_base_values(base_row, upstream_values) if base_row is not None
                        else upstream_values)
            edit = _Edit(mine, current, row["target_revision_id"], base)
            _merge(edit)
            edits.append(edit)
        deleted = [theirs[key] for key in deletions if key in theirs]
        gone.extend(key for key in deletions if key not in theirs)
        created = [staged[key] for key in created_ids if key in staged]
        when = {row["item_id"]: row["created"] for row in associations}
        when.update((row["entity_id"], row["deleted_at"]) for row in deletion_rows)
        when.update((row["id"], row["changed"]) for row in created_rows)
        return _Plan(record, view, upstream, created, edits, deleted, gone, when)

    @staticmethod
    def _resolve(plan: _Plan, resolutions: list[Mapping[str, Any]]) -> None:
        """Apply ``resolutions`` to the plan's conflicts: 422 naming any that match no
        conflict or say nothing usable; 409 with the conflicts left unresolved."""
        by_key = {(c["item"], c["field"]): (edit, c)
                  for edit in plan.edits for c in edit.conflicts}
        errors: dict[str, str] = {}
        chosen: dict[tuple[str, str], str] = {}
        for n, resolution in enumerate(resolutions):
            where = f"resolutions.{n}"
            if not isinstance(resolution, Mapping) or set(resolution) != {"item", "field",
                                                                          "take"}:
                errors[where] = 'must be an object {"item", "field", "take"}'
                continue
            item, name, take = resolution["item"], resolution["field"], resolution["take"]
            if take not in ("stage", "upstream"):
                errors[f"{where}.take"] = 'must be "stage" or "upstream"'
            elif not any(c_item == item for c_item, _ in by_key):
                errors[f"{where}.item"] = f"{str(item)[:64]!r} is no item in conflict"
            elif (item, name) not in by_key:
                errors[f"{where}.field"] = f"{str(name)[:64]!r} is not in conflict in {item}"
            else:
                chosen[(item, name)] = take
        if errors:
            raise StageError(422, "Invalid resolutions.", errors)
        unresolved = [c for key, (_, c) in by_key.items() if key not in chosen]
        if unresolved:
            raise StageError(409, f"The stage {plan.record.id!r} conflicts with its upstream "
                             f"in {len(unresolved)} field(s); resolve each to publish.",
                             conflicts=unresolved)
        for key, take in chosen.items():
            edit, conflict = by_key[key]
            value = conflict[take]
            if value is None and key[1] not in PROPERTIES:
                edit.merged.pop(key[1], None)
            else:
                edit.merged[key[1]] = value

    @staticmethod
    def _report(plan: _Plan, dry_run: bool) -> dict[str, Any]:
        return {
            "stage": plan.record.id, "upstream": plan.upstream.stage, "dry_run": dry_run,
            "created": [str(i.id) for i in plan.created],
            "edited": [str(e.staged.id) for e in plan.edits],
            "deleted": [str(i.id) for i in plan.deleted],
            "skipped": [str(key) for key in plan.gone],
            "resolved": [c for e in plan.edits for c in e.conflicts],
        }

    async def _apply(self, conn: AsyncConnection[DictRow], user: CurrentUser, plan: _Plan
                     ) -> list[Item]:
        """Write the plan; returns the items whose pages change."""
        stage, upstream = plan.record.id, plan.upstream.stage
        for edit in plan.edits:
            await self._apply_edit(conn, user, plan, edit)
        for item in plan.deleted:
            if item.stage == upstream:
                await conn.execute("DELETE FROM item WHERE id = %s", (item.id,))
                if self.items.files is not None:
                    await self.items.files.release(conn, [item.id])
            else:
                await conn.execute(
                    "INSERT INTO stage_deletion (stage_id, entity_type, entity_id)"
                    " VALUES (%s, 'item', %s) ON CONFLICT DO NOTHING", (upstream, item.id))
        await conn.execute("UPDATE item SET stage_id = %s WHERE stage_id = %s",
                           (upstream, stage))
        await conn.execute("UPDATE item_revision SET stage_id = %s WHERE stage_id = %s",
                           (upstream, stage))
        await conn.execute("DELETE FROM stage_association WHERE stage_id = %s", (stage,))
        await conn.execute("DELETE FROM stage_deletion WHERE stage_id = %s", (stage,))
        await conn.execute(
            "UPDATE stage SET status = 'published', published = now(), changed = now()"
            " WHERE id = %s", (stage,))
        await conn.execute("UPDATE stage SET upstream_id = %s, changed = now()"
                           " WHERE upstream_id = %s", (upstream, stage))
        if not is_live(upstream):
            await conn.execute("UPDATE stage SET changed = now() WHERE id = %s", (upstream,))
        return [*plan.created, *(e.staged for e in plan.edits), *plan.deleted]

    async def _apply_edit(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                          plan: _Plan, edit: _Edit) -> None:
        upstream = plan.upstream.stage
        merged = edit.merged
        item = replace(
            edit.staged, title=merged["title"], status=merged["status"],
            promote=merged["promote"], sticky=merged["sticky"],
            fields={k: v for k, v in merged.items() if k not in PROPERTIES})
        item_type = await self.items.types.get(item.type)
        assert item_type is not None  # item.type references item_type
        item = replace(item, summary=summarize(item.fields, item_type))
        revision = edit.target
        if values_of(item) != values_of(edit.staged):
            revision = await write_revision(
                conn, item, user.id, f"Merged on publishing the stage {plan.record.id!r}.",
                plan.view.stage)  # moved upstream with the stage's other revisions
        if edit.upstream.stage == upstream:
            await conn.execute(
                "UPDATE item SET title = %s, status = %s, promote = %s, sticky = %s,"
                " fields = %s, summary = %s, current_revision_id = %s,"
                " changed = greatest(now(), changed) WHERE id = %s",
                (item.title, item.status, item.promote, item.sticky, Jsonb(item.fields),
                 item.summary, revision, item.id))
        else:
            # The item lives further up: the upstream stage's own edit now holds the change.
            await conn.execute(
                "INSERT INTO stage_association (stage_id, item_id, target_revision_id,"
                " base_revision_id) VALUES (%s, %s, %s, %s) ON CONFLICT (stage_id, item_id)"
                " DO UPDATE SET target_revision_id = EXCLUDED.target_revision_id",
                (upstream, item.id, revision, edit.upstream.revision_id))
