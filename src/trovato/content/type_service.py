"""The item-type service: reads (with a per-process cache), whole-type changes, the admin's
one-field-at-a-time changes, plugin synchronisation, and the field storage they write.

Every change is validated by :func:`~trovato.content.types.parse_item_type` and written under
the type's lock; the storage of a field name (``field_config``) is shared by every type using
it, each use is a ``field_instance``. After a change, this process reloads its cache and
permission registry and tells the others on :data:`CHANNEL`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from trovato.content.fields import FieldDefinition, FieldRegistry
from trovato.content.types import (
    TYPE_DEFAULTS,
    DeleteResult,
    ItemType,
    ItemTypeError,
    parse_item_type,
    register_content_permissions,
    text_fields,
    type_permissions,
)
from trovato.db.pool import Database
from trovato.observability.audit import audit
from trovato.users.permissions import PermissionRegistry, bump_version

CHANNEL = "item-types"
CACHE_SECONDS = 60.0


def _from_row(row: Mapping[str, Any]) -> ItemType:
    fields = tuple(
        FieldDefinition(
            name=f["name"],
            type=f["type"],
            label=f["label"],
            required=bool(f["required"]),
            cardinality=int(f["cardinality"]),
            settings=f["settings"] or {},
            weight=int(f["weight"]),
            description=str((f["settings_meta"] or {}).get("description", "")),
            widget=str((f["widget"] or {}).get("type", "")),
            display=dict((f["settings_meta"] or {}).get("full") or {}),
        )
        for f in row["fields"]
    )
    return ItemType(
        type=row["type"],
        label=row["label"],
        description=row["description"],
        fields=fields,
        plugin=row["plugin"],
        has_title=row["has_title"],
        title_label=row["title_label"],
        defaults={**TYPE_DEFAULTS, **((row["settings"] or {}).get("defaults") or {})},
        fields_version=row["fields_version"],
        storage_version=row["storage_version"],
    )


# One statement loads types with their fields: settings of the instance, storage of the config.
# (The instance's ``display`` column holds presentation metadata: the help text and, under
# ``full``, how the full view shows the field; its ``widget`` column the chosen widget.)
_SELECT_TYPES = """
SELECT t.type, t.label, t.description, t.has_title, t.title_label, t.plugin, t.settings,
       t.fields_version, (SELECT s.version FROM field_storage_version s) AS storage_version,
       coalesce(json_agg(json_build_object(
           'name', i.field_name, 'type', c.field_type, 'cardinality', c.cardinality,
           'label', i.label, 'required', i.required, 'weight', i.weight,
           'settings', i.settings, 'settings_meta', i.display, 'widget', i.widget)
         ORDER BY i.weight, i.field_name) FILTER (WHERE i.field_name IS NOT NULL),
         '[]'::json) AS fields
  FROM item_type t
  LEFT JOIN field_instance i ON i.bundle = t.type
  LEFT JOIN field_config c ON c.field_name = i.field_name
"""

# Called with the transaction's connection and the type name when a type is force-deleted;
# returns how many items it deleted. The content service passes one that runs item_delete taps.
PurgeItems = Callable[[AsyncConnection[DictRow], str], Awaitable[int]]


async def _purge_plainly(conn: AsyncConnection[DictRow], type_name: str) -> int:
    cur = await conn.execute("DELETE FROM item WHERE type = %s", (type_name,))
    return cur.rowcount


class ItemTypes:
    """The item-type service: reads, admin changes and plugin synchronisation."""

    def __init__(
        self,
        db: Database,
        fields: FieldRegistry,
        permissions: PermissionRegistry | None = None,
        *,
        publish: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.fields = fields
        self.permissions = permissions
        # Tells other processes to refresh their permission registry (the store's pub/sub).
        self.publish = publish
        # Every type by name, for the read paths that render (item pages, listings): types
        # change rarely and every change reloads it here and, through pub/sub, in every other
        # process; the TTL bounds how long a lost message could leave it stale.
        self._cache: dict[str, ItemType] = {}
        self._cached_at: float | None = None
        # Run in this process after each of its changes (other processes hear of them on
        # CHANNEL), e.g. dropping cached pages that show the old type or its deleted items.
        self.on_change = on_change

    # -- reads --------------------------------------------------------------------------------

    async def all(self) -> list[ItemType]:
        """Every type, read from the database now (and refreshing the cache)."""
        rows = await self.db.fetch(_SELECT_TYPES + " GROUP BY t.type ORDER BY t.type")
        types = [_from_row(r) for r in rows]
        self._cache = {t.type: t for t in types}
        self._cached_at = time.monotonic()
        if self.permissions is not None:
            # Cheap and in memory: keeps this process's registry right even if a pub/sub
            # message about another process's change was lost.
            register_content_permissions(self.permissions, types)
        return types

    async def get(self, type_name: str) -> ItemType | None:
        """One type, read from the database now (writes and validation use this)."""
        row = await self.db.fetchrow(
            _SELECT_TYPES + " WHERE t.type = %s GROUP BY t.type", (type_name,)
        )
        return _from_row(row) if row else None

    async def cached(self) -> dict[str, ItemType]:
        """Every type by name from this process's cache (no query while it is fresh)."""
        if self._cached_at is None or time.monotonic() - self._cached_at > CACHE_SECONDS:
            await self.all()
        return self._cache

    def forget(self) -> None:
        """Read the types again on the next use of the cache (a write found it stale)."""
        self._cached_at = None

    async def get_cached(self, type_name: str) -> ItemType | None:
        """One type from this process's cache, for building pages and forms and for the edits
        whose write is guarded by the type's fields; read now when the cache lacks it (a type
        another process created a moment ago)."""
        found = (await self.cached()).get(type_name)
        return found if found is not None else await self.get(type_name)

    async def refresh_permissions(self, message: dict[str, Any] | None = None) -> None:
        """Re-register the content permissions from the database (start, and on pub/sub)."""
        await self.all()

    async def start(self, subscribe: Callable[..., Awaitable[None]] | None = None) -> None:
        """Register the permissions now and whenever another process changes a type."""
        await self.refresh_permissions()
        if subscribe is not None:
            await subscribe(CHANNEL, self.refresh_permissions)

    async def _changed(self) -> None:
        await self.refresh_permissions()
        if self.on_change is not None:
            self.on_change()
        if self.publish is not None:
            await self.publish(CHANNEL, {"event": "changed"})

    # -- writes -------------------------------------------------------------------------------

    async def create(
        self, data: Mapping[str, Any], *, actor: uuid.UUID | None = None,
        plugin: str | None = None,
    ) -> ItemType:
        item_type = parse_item_type(data, self.fields, plugin=plugin)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO item_type (type, label, description, has_title, title_label,"
                " plugin, settings) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (type) DO NOTHING",
                (item_type.type, item_type.label, item_type.description, item_type.has_title,
                 item_type.title_label, plugin, Jsonb({"defaults": dict(item_type.defaults)})),
            )
            if cur.rowcount == 0:
                raise ItemTypeError(409, f"The item type {item_type.type!r} already exists.",
                                    {"type": "already exists"})
            await self._write_fields(conn, item_type, previous=None)
            await audit(conn, "content", "Created item type “%(type)s”.",
                        {"type": item_type.type, "plugin": plugin}, user_id=actor)
        await self._changed()
        return await self._reload(item_type.type)

    async def update(
        self, type_name: str, data: Mapping[str, Any], *, actor: uuid.UUID | None = None,
        partial: bool = False, plugin: str | None = None,
    ) -> ItemType:
        """Change a type. ``partial`` (PATCH) keeps what ``data`` leaves out; otherwise (PUT)
        ``data`` is the whole new definition. ``fields``, when given, is the complete list:
        fields left out are removed from the type and from its items."""
        if "type" in data and data["type"] != type_name:
            raise ItemTypeError(422, "The type name cannot be changed.",
                                {"type": "cannot be changed"})
        async with self.db.transaction() as conn:
            current = await self.lock(conn, type_name)
            base: dict[str, Any] = (
                {
                    "label": current.label,
                    "description": current.description,
                    "has_title": current.has_title,
                    "title_label": current.title_label,
                    "defaults": dict(current.defaults),
                    "fields": [_field_doc(f) for f in current.fields],
                }
                if partial
                else {}
            )
            merged = {**base, **data, "type": type_name}
            item_type = parse_item_type(merged, self.fields,
                                        plugin=plugin if plugin else current.plugin)
            await conn.execute(
                "UPDATE item_type SET label = %s, description = %s, has_title = %s,"
                " title_label = %s, plugin = %s, settings = settings || %s WHERE type = %s",
                (item_type.label, item_type.description, item_type.has_title,
                 item_type.title_label, item_type.plugin,
                 Jsonb({"defaults": dict(item_type.defaults)}), type_name),
            )
            await self._write_fields(conn, item_type, previous=current)
            await audit(conn, "content", "Changed item type “%(type)s”.", {"type": type_name},
                        user_id=actor)
        await self._changed()
        return await self._reload(type_name)

    async def delete(
        self, type_name: str, *, actor: uuid.UUID | None = None, force: bool = False,
        purge: PurgeItems | None = None,
    ) -> DeleteResult:
        """Delete a type. Refused (409) while items of the type exist, unless ``force``: then
        the items are deleted too, in the same transaction, and the result says how many."""
        async with self.db.transaction() as conn:
            current = await self.lock(conn, type_name)
            cur = await conn.execute("SELECT count(*) AS n FROM item WHERE type = %s",
                                     (type_name,))
            row = await cur.fetchone()
            count = int(row["n"]) if row else 0
            if count and not force:
                raise ItemTypeError(
                    409,
                    f"The item type {type_name!r} still has {count}"
                    f" item{'s' if count != 1 else ''}; delete them first or pass"
                    " force=true to delete them with the type.",
                    {"type": f"has {count} item{'s' if count != 1 else ''}"},
                )
            deleted = await (purge or _purge_plainly)(conn, type_name) if count else 0
            await conn.execute("DELETE FROM item_type WHERE type = %s", (type_name,))
            await self._drop_orphan_configs(conn, [f.name for f in current.fields])
            # Grants of the type's permissions would otherwise linger as unknown permissions.
            await conn.execute(
                "DELETE FROM role_permission WHERE permission = ANY(%s)",
                ([p.name for p in type_permissions(type_name)],),
            )
            await bump_version(conn)
            await audit(conn, "content", "Deleted item type “%(type)s” and %(count)s items.",
                        {"type": type_name, "count": deleted}, user_id=actor)
        await self._changed()
        return DeleteResult(type_name, deleted)

    # -- one field at a time (the admin's field screens) ----------------------------------------
    #
    # Each is a whole-type change made under the type's lock, so two administrators editing
    # fields at once cannot lose each other's changes, and validated by the same
    # :func:`parse_item_type` as every other change. Their errors are keyed relative to the
    # field (``label``, ``settings.max_length``, ``name``), as the field's own form shows them.

    async def add_field(self, type_name: str, field: Mapping[str, Any], *,
                        actor: uuid.UUID | None = None) -> ItemType:
        """Add ``field`` (the API's field shape) after the type's other fields. A name the
        type has is refused; a name other types use keeps its field type and cardinality."""
        name = field.get("name")

        def add(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if any(doc["name"] == name for doc in docs):
                raise ItemTypeError(409, f"The item type {type_name!r} already has a field"
                                    f" {name!r}.", {"name": "is already a field of this type"})
            return [*docs, dict(field)]

        return await self._change_fields(type_name, add, name, actor=actor,
                                         message="Added field “%(field)s” to item type “%(type)s”.")

    async def update_field(self, type_name: str, field_name: str, changes: Mapping[str, Any],
                           *, actor: uuid.UUID | None = None) -> ItemType:
        """Change one field: ``changes`` holds the properties to change (``label``,
        ``description``, ``required``, ``cardinality``, ``settings``); its name and field
        type stay."""
        for key in ("name", "type"):
            if key in changes:
                raise ItemTypeError(422, f"A field's {key} cannot be changed.",
                                    {key: "cannot be changed"})

        def update(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            _require_field(type_name, field_name, docs)
            return [{**doc, **changes} if doc["name"] == field_name else doc for doc in docs]

        return await self._change_fields(type_name, update, field_name, actor=actor,
                                         message="Changed field “%(field)s” of item type"
                                                 " “%(type)s”.")

    async def remove_field(self, type_name: str, field_name: str, *,
                           actor: uuid.UUID | None = None) -> ItemType:
        """Remove one field from the type, and its values from the type's items
        (:meth:`field_usage` says how many items hold one)."""

        def remove(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            _require_field(type_name, field_name, docs)
            return [doc for doc in docs if doc["name"] != field_name]

        return await self._change_fields(type_name, remove, field_name, actor=actor,
                                         message="Removed field “%(field)s” from item type"
                                                 " “%(type)s”.")

    async def reorder_fields(self, type_name: str, names: Sequence[str], *,
                             actor: uuid.UUID | None = None) -> ItemType:
        """Put the type's fields in the order of ``names``, which must name each of them
        once (a list made from a stale page is refused rather than guessed at)."""

        def reorder(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            by_name = {doc["name"]: doc for doc in docs}
            if len(names) != len(set(names)) or set(names) != set(by_name):
                raise ItemTypeError(409, "The order must name each field of the type once;"
                                    " the fields have changed meanwhile, reload the page.",
                                    {"order": "must name each field of the type once"})
            return [by_name[name] for name in names]

        return await self._change_fields(type_name, reorder, None, actor=actor,
                                         message="Reordered the fields of item type %(type)s.")

    async def item_counts(self) -> dict[str, int]:
        """How many items each type has (in every stage): what deleting a type deletes."""
        rows = await self.db.fetch("SELECT type, count(*) AS n FROM item GROUP BY type")
        return {str(r["type"]): int(r["n"]) for r in rows}

    async def field_usage(self, type_name: str, field_name: str) -> int:
        """How many items of the type hold a value of the field: what removing it deletes
        (revisions keep their history)."""
        return int(await self.db.fetchval(
            "SELECT count(*) FROM item WHERE type = %s AND fields ? %s",
            (type_name, field_name)))

    async def _change_fields(
        self, type_name: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
        field_name: str | None, *, actor: uuid.UUID | None, message: str,
    ) -> ItemType:
        async with self.db.transaction() as conn:
            current = await self.lock(conn, type_name)
            docs = change([_field_doc(f) for f in current.fields])
            document = {
                "type": type_name, "label": current.label, "description": current.description,
                "has_title": current.has_title, "title_label": current.title_label,
                "defaults": dict(current.defaults), "fields": docs,
            }
            try:
                item_type = parse_item_type(document, self.fields, plugin=current.plugin)
                await self._write_fields(conn, item_type, previous=current)
            except ItemTypeError as exc:
                if field_name is None:
                    raise
                position = next((str(i) for i, doc in enumerate(docs)
                                 if doc.get("name") == field_name), None)
                raise ItemTypeError(exc.status, exc.message,
                                    _field_errors(exc.errors or {}, field_name, position)
                                    ) from None
            await audit(conn, "content", message, {"type": type_name, "field": field_name},
                        user_id=actor)
        await self._changed()
        return await self._reload(type_name)

    async def sync_from_plugin(
        self, plugin: str, types: Sequence[Mapping[str, Any]]
    ) -> list[ItemType]:
        """Create or update the item types a plugin declares (``tap_item_info``).

        Plugin types are updated in place (fields the plugin no longer declares are removed,
        as in a PUT); types the plugin declared before but no longer does are left alone, since
        deleting content because a plugin changed its declaration would be a surprise. A name
        already taken by a type of another owner is an error.
        """
        synced: list[ItemType] = []
        for data in types:
            name = data.get("type")
            existing = await self.get(name) if isinstance(name, str) else None
            if existing is None:
                synced.append(await self.create(data, plugin=plugin))
                continue
            if existing.plugin != plugin:
                owner = f"plugin {existing.plugin!r}" if existing.plugin else "the site"
                raise ItemTypeError(
                    409, f"The item type {name!r} already belongs to {owner}.",
                    {"type": "already exists"},
                )
            synced.append(await self.update(existing.type, data, plugin=plugin))
        return synced

    # -- internals ------------------------------------------------------------------------------

    async def _reload(self, type_name: str) -> ItemType:
        item_type = await self.get(type_name)
        if item_type is None:  # pragma: no cover - just written in a committed transaction
            raise ItemTypeError(404, f"No item type {type_name!r}.")
        return item_type

    async def lock(
        self, conn: AsyncConnection[DictRow], type_name: str, *, share: bool = False
    ) -> ItemType:
        """The type as stored, locked until ``conn``'s transaction ends: against everything
        but reads (to change it), or with ``share`` only against changes (items of the type
        can still be written meanwhile)."""
        cur = await conn.execute(
            "SELECT type FROM item_type WHERE type = %s FOR SHARE" if share
            else "SELECT type FROM item_type WHERE type = %s FOR UPDATE", (type_name,))
        if await cur.fetchone() is None:
            raise ItemTypeError(404, f"No item type {type_name!r}.")
        cur = await conn.execute(_SELECT_TYPES + " WHERE t.type = %s GROUP BY t.type",
                                 (type_name,))
        row = await cur.fetchone()
        assert row is not None
        return _from_row(row)

    async def _write_fields(
        self, conn: AsyncConnection[DictRow], item_type: ItemType, previous: ItemType | None
    ) -> None:
        errors: dict[str, str] = {}
        old = {f.name: f for f in previous.fields} if previous else {}
        for definition in item_type.fields:
            # Storage is shared by name: create it, or check this use matches it.
            await conn.execute(
                "INSERT INTO field_config (field_name, field_type, cardinality)"
                " VALUES (%s, %s, %s) ON CONFLICT (field_name) DO NOTHING",
                (definition.name, definition.type, definition.cardinality),
            )
            cur = await conn.execute(
                "SELECT field_type, cardinality FROM field_config WHERE field_name = %s"
                " FOR UPDATE",
                (definition.name,),
            )
            config = await cur.fetchone()
            assert config is not None
            key = f"fields.{definition.name}"
            if config["field_type"] != definition.type:
                errors[key + ".type"] = (
                    # The type's name stands alone: no article to get wrong ("a integer").
                    f"{definition.name} already exists with the field type"
                    f" {config['field_type']}; a field name keeps one type on every item type"
                )
                continue
            if config["cardinality"] != definition.cardinality:
                was_multiple = config["cardinality"] != 1
                if was_multiple != definition.multiple:
                    errors[key + ".cardinality"] = (
                        f"{definition.name} already exists with cardinality"
                        f" {config['cardinality']}; a field cannot change between one and"
                        " several values (its stored shape would change)"
                    )
                    continue
                # Between two multi-valued cardinalities the stored shape is the same; the
                # limit is storage, shared by every type using the name.
                await conn.execute(
                    "UPDATE field_config SET cardinality = %s WHERE field_name = %s",
                    (definition.cardinality, definition.name),
                )
            meta: dict[str, Any] = {"description": definition.description}
            if definition.display:
                meta["full"] = dict(definition.display)
            widget = {"type": definition.widget} if definition.widget else {}
            await conn.execute(
                "INSERT INTO field_instance (field_name, bundle, label, required, weight,"
                " settings, display, widget) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (field_name, bundle) DO UPDATE SET label = EXCLUDED.label,"
                " required = EXCLUDED.required, weight = EXCLUDED.weight,"
                " settings = EXCLUDED.settings, display = EXCLUDED.display,"
                " widget = EXCLUDED.widget",
                (definition.name, item_type.type, definition.label, definition.required,
                 definition.weight, Jsonb(dict(definition.settings)), Jsonb(meta),
                 Jsonb(widget)),
            )
        if errors:
            raise ItemTypeError(422, "The item type's fields conflict with existing fields.",
                                errors)
        removed = [name for name in old if item_type.field(name) is None]
        if removed:
            await conn.execute(
                "DELETE FROM field_instance WHERE bundle = %s AND field_name = ANY(%s)",
                (item_type.type, removed),
            )
            # The data of a removed field goes with it (revisions keep their history).
            await conn.execute(
                "UPDATE item SET fields = fields - %s::text[] WHERE type = %s"
                " AND fields ?| %s::text[]",
                (removed, item_type.type, removed),
            )
            await self._drop_orphan_configs(conn, removed)
        if previous is not None and text_fields(previous) != text_fields(item_type):
            # The stored summaries came from text fields that moved, went or were joined by
            # others: forget them, and readers compute them from the fields again.
            await conn.execute(
                "UPDATE item SET summary = NULL WHERE type = %s AND summary IS NOT NULL",
                (item_type.type,),
            )

    @staticmethod
    async def _drop_orphan_configs(conn: AsyncConnection[DictRow], names: list[str]) -> None:
        if names:
            await conn.execute(
                "DELETE FROM field_config c WHERE c.field_name = ANY(%s) AND NOT EXISTS"
                " (SELECT 1 FROM field_instance i WHERE i.field_name = c.field_name)",
                (names,),
            )


def _require_field(type_name: str, field_name: str, docs: list[dict[str, Any]]) -> None:
    if not any(doc["name"] == field_name for doc in docs):
        raise ItemTypeError(404, f"The item type {type_name!r} has no field {field_name!r}.")


def _field_errors(errors: Mapping[str, str], name: str, position: str | None
                  ) -> dict[str, str]:
    """``errors`` of a whole type document as errors of its field ``name`` (at ``position``
    in the list): ``fields.field_x.label`` is ``label``, ``fields.3.name`` is ``name``."""
    own: dict[str, str] = {}
    for key, message in errors.items():
        for prefix in (f"fields.{name}", f"fields.{position}"):
            if key == prefix:
                own["name"] = message
                break
            if key.startswith(prefix + "."):
                own[key.removeprefix(prefix + ".")] = message
                break
        else:
            own[key] = message
    return own


def _field_doc(definition: FieldDefinition) -> dict[str, Any]:
    doc = definition.public()
    if definition.description:
        doc["description"] = definition.description
    return doc

