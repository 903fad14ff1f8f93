"""Item writes for plugins: what the host functions ``item-save`` and ``item-delete`` do.

A thin adapter onto the content service (:class:`~trovato.content.items.Items`), so a plugin
writing for a user does exactly what ``POST``/``PATCH``/``DELETE /api/v1/items`` do for that
user: the same validation (errors name the field), access checks (role permissions and
``item_access`` votes), taps, revisions and stage rule (in a stage: a row of the stage, a
revision plus an association, or a deletion marker; live untouched). It is injected into the
plugin host (:class:`trovato.plugins.host.ItemWriter`), so the plugin runtime imports no
content code; refusals pass through as the service's :class:`ItemError`.

The body is the JSON API's: without ``"id"`` the ``POST`` body (``type`` required), with it the
``PATCH`` body (only what is given changes; a field set to null is cleared) plus an optional
``"revision_id"``: the revision the change was made from, refused with a 409 when the item has
moved on since (the edit form's optimistic check).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

from trovato.content.items import Items
from trovato.content.model import ItemError
from trovato.content.reads import acting_user
from trovato.plugins.host import PluginUser

FLAGS: Final = ("title", "status", "promote", "sticky")
CREATE_KEYS: Final = frozenset({"type", *FLAGS, "fields", "log"})
UPDATE_KEYS: Final = frozenset({"id", "revision_id", *FLAGS, "fields", "log"})


def _check_keys(body: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        hint = f"unknown key (allowed: {', '.join(sorted(allowed))})"
        raise ItemError(422, f"The {what} has unknown keys.", dict.fromkeys(unknown, hint))


class PluginItemWrites:
    """The :class:`trovato.plugins.host.ItemWriter` of the kernel."""

    def __init__(self, items: Items) -> None:
        self.items = items

    async def save(self, user: PluginUser, item: Mapping[str, Any], stage: str
                   ) -> dict[str, Any]:
        if "id" in item:
            return await self._update(user, item, stage)
        _check_keys(item, CREATE_KEYS, "new item")
        kind = item.get("type")
        if not isinstance(kind, str):
            raise ItemError(422, "The new item has no type.",
                            {"type": "required: the item type's machine name"})
        fields = item.get("fields", {})
        if not isinstance(fields, Mapping):
            raise ItemError(422, "The item is invalid.",
                            {"fields": "must be an object of field name → value"})
        created = await self.items.create(
            acting_user(user), kind, title=item.get("title", ""), status=item.get("status", 1),
            promote=item.get("promote", False), sticky=item.get("sticky", False),
            fields=fields, log=item.get("log", ""), stage=stage)
        return created.public()

    async def _update(self, user: PluginUser, item: Mapping[str, Any], stage: str
                      ) -> dict[str, Any]:
        _check_keys(item, UPDATE_KEYS, "change")
        item_id = item["id"]
        if not isinstance(item_id, str):
            raise ItemError(422, "The change names no item.", {"id": "must be an item id"})
        expected: uuid.UUID | None = None
        if item.get("revision_id") is not None:
            try:
                expected = uuid.UUID(str(item["revision_id"]))
            except ValueError:
                raise ItemError(422, "The change is invalid.", {
                    "revision_id": "must be the id of the revision the change was made from"
                }) from None
        fields = item.get("fields")
        if fields is not None and not isinstance(fields, Mapping):
            raise ItemError(422, "The item is invalid.",
                            {"fields": "must be an object of field name → value, or null"})
        changes = {name: item[name] for name in FLAGS if name in item}
        updated = await self.items.update(
            acting_user(user), item_id, fields=fields, log=item.get("log", ""), stage=stage,
            expected_revision=expected, **changes)
        return updated.public()

    async def delete(self, user: PluginUser, item_id: str, stage: str) -> None:
        await self.items.delete(acting_user(user), item_id, stage=stage)
