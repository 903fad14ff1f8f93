"""The content service's extension points, answered by plugin taps.

``item_presave`` (may change or refuse the item), ``item_insert``, ``item_update``,
``item_delete`` and ``item_access`` are dispatched here, inside the content service's
transaction; ``item_info`` is synced into item types when a plugin is enabled;
``stage_publish_before`` (may refuse a publish) runs inside the publish's transaction and
``stage_publish_after`` after its commit.

Fail modes follow the tap catalogue: a broken ``item_presave`` or ``item_access`` refuses (the
write rolls back; the access vote is deny), a broken notification tap is logged and ignored.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from trovato.content.access import Operation, Vote
from trovato.content.items import HookContext, Item, ItemHookError, ItemHooks
from trovato.content.type_service import ItemTypes
from trovato.plugins import PluginError, PluginRefused, PluginUser, TapOutcome
from trovato.plugins.taps import Taps
from trovato.users.accounts import CurrentUser

log = logging.getLogger("trovato.content")

# What item_presave may change; identity, type and authorship stay the kernel's.
_MUTABLE = ("title", "status", "promote", "sticky", "fields")


class PluginItemHooks(ItemHooks):
    def __init__(self, taps: Taps) -> None:
        self.taps = taps
        # The acting user as plugins see it, for the last user asked about (a listing asks
        # once per item for the same user).
        self._acting: tuple[CurrentUser, PluginUser] | None = None

    def _plugin_user(self, user: CurrentUser) -> PluginUser:
        if self._acting is None or self._acting[0] is not user:
            self._acting = (user, PluginUser.from_current_user(user))
        return self._acting[1]

    async def _dispatch(
        self, tap: str, payload: Callable[[], dict[str, Any]], user: CurrentUser,
        stage: str | None = None,
    ) -> TapOutcome | None:
        """Fire ``tap`` with ``payload()``; built only when some plugin listens (a listing
        asks item_access once per item, and most sites have no plugin answering it).
        ``stage``: the write's, so its taps read and write (``ctx.items``) in it."""
        if not self.taps.listens(tap):
            return None  # no plugin listens: no payload, no instance
        return await self.taps.fire(tap, payload(), user=self._plugin_user(user), stage=stage)

    async def presave(self, item: Item, original: Item | None, ctx: HookContext) -> Item:
        try:
            outcome = await self._dispatch("item_presave", lambda: {"item": item.public()},
                                          ctx.user, ctx.stage)
        except PluginRefused as exc:
            raise ItemHookError(exc.plugin, exc.message) from None
        except PluginError as exc:
            raise ItemHookError(exc.plugin, f"failed ({exc.reason})") from None
        if outcome is None or not isinstance(outcome.value, dict):
            return item
        changed = outcome.value
        # A new item, never the draft changed in place: the content service tells a changed
        # item from the draft it validated by comparing the two, and validates it again.
        return replace(item, **{key: changed[key] for key in _MUTABLE if key in changed})

    async def _notify(self, tap: str, item: Item, ctx: HookContext) -> None:
        outcome = await self._dispatch(tap, lambda: {"item": item.public()}, ctx.user,
                                       ctx.stage)
        for failure in outcome.failures if outcome else ():
            log.warning("%s: plugin failed", tap, extra={"data": {"error": str(failure)}})

    async def insert(self, item: Item, ctx: HookContext) -> None:
        await self._notify("item_insert", item, ctx)

    async def update(self, item: Item, original: Item, ctx: HookContext) -> None:
        await self._notify("item_update", item, ctx)

    async def delete(self, item: Item, ctx: HookContext) -> None:
        await self._notify("item_delete", item, ctx)

    async def publish_before(self, stage: str, changes: list[dict[str, Any]],
                             ctx: HookContext) -> list[str]:
        payload = {"stage": stage, "items": changes}
        try:
            outcome = await self._dispatch("stage_publish_before", lambda: payload, ctx.user)
        except PluginRefused as exc:
            return [f"{exc.plugin}: {exc.message}"]
        except PluginError as exc:
            return [f"{exc.plugin}: failed ({exc.reason})"]
        reasons: list[str] = []
        for reply in outcome.replies if outcome else ():
            reasons.extend(f"{reply.plugin}: {error['message']}" for error in reply.value or ())
        return reasons

    async def publish_after(self, stage: str, changes: list[dict[str, Any]],
                            user: CurrentUser) -> None:
        outcome = await self._dispatch("stage_publish_after",
                                       lambda: {"stage": stage, "items": changes}, user)
        for failure in outcome.failures if outcome else ():
            log.warning("stage_publish_after: plugin failed",
                        extra={"data": {"error": str(failure)}})

    def acts_on_update(self) -> bool:
        return self.taps.listens("item_presave") or self.taps.listens("item_update")

    def reads_items(self) -> bool:
        return self.taps.listens("item_access")

    @contextlib.asynccontextmanager
    async def voting(self, user: CurrentUser) -> AsyncIterator[None]:
        """One plugin session for all the votes of a read (see :meth:`Taps.sharing`)."""
        if not self.reads_items():
            yield
            return
        async with self.taps.sharing(self._plugin_user(user), request_id="item_access"):
            yield

    async def access(self, item: Item, op: Operation, user: CurrentUser) -> Vote:
        if item.partial and self.reads_items():
            # Listed without its fields before a voter was enabled (reads_items() was
            # False then): a vote needs the whole item, and access fails closed, so the
            # item stays hidden from this one listing.
            return Vote.DENY
        outcome = await self._dispatch(
            "item_access", lambda: {"item": item.public(), "op": str(op)}, user
        )
        if outcome is None:
            return Vote.NEUTRAL
        return Vote(str(outcome.value))


async def sync_item_types(taps: Taps, types: ItemTypes, plugin: str) -> None:
    """Create or update the item types ``plugin`` declares in ``tap_item_info``."""
    outcome = await taps.fire("item_info", plugins=[plugin])
    for reply in outcome.replies:
        await types.sync_from_plugin(reply.plugin, reply.value or [])
