"""The content service's extension points, answered by plugin taps.

``item_presave`` (may change or refuse the item), ``item_insert``, ``item_update``,
``item_delete`` and ``item_access`` are dispatched here, inside the content service's
transaction; ``item_info`` is synced into item types when a plugin is enabled.

Fail modes follow the tap catalogue: a broken ``item_presave`` or ``item_access`` refuses (the
write rolls back; the access vote is deny), a broken notification tap is logged and ignored.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any

from trovato.content.access import Operation, Vote
from trovato.content.items import HookContext, Item, ItemHookError, ItemHooks
from trovato.content.types import ItemTypes
from trovato.kernel.context import shared_plugin_session
from trovato.plugins import (
    PluginError,
    PluginManager,
    PluginRefused,
    PluginSession,
    PluginUser,
    TapOutcome,
)
from trovato.users.accounts import CurrentUser

log = logging.getLogger("trovato.content")
# The session of the read in progress in this task (``PluginItemHooks.voting``), by user id.
_voting: ContextVar[tuple[uuid.UUID, PluginSession] | None] = ContextVar(
    "trovato_voting", default=None)

# What item_presave may change; identity, type and authorship stay the kernel's.
_MUTABLE = ("title", "status", "promote", "sticky", "fields")


def _voting_session(user: CurrentUser) -> PluginSession | None:
    """The session of the read in progress for ``user``, unless it is inside a guest call
    (a vote that reads items itself gets a session of its own)."""
    current = _voting.get()
    if current is None or current[0] != user.id or current[1].busy:
        return None
    return current[1]


class PluginItemHooks(ItemHooks):
    def __init__(self, plugins: PluginManager) -> None:
        self.plugins = plugins

    async def _dispatch(
        self, tap: str, payload: Callable[[], dict[str, Any]], user: CurrentUser
    ) -> TapOutcome | None:
        """Dispatch ``tap`` with ``payload()``; built only when some plugin listens (a listing
        asks item_access once per item, and most sites have no plugin answering it)."""
        if not self.plugins.dispatcher.implementations(tap):
            return None  # no plugin listens: no payload, no instance
        return await self._invoke(tap, payload(), user)

    async def _invoke(self, tap: str, payload: dict[str, Any], user: CurrentUser) -> TapOutcome:
        shared = shared_plugin_session(user.id) or _voting_session(user)
        if shared is not None:  # the request's instances, reused for every item
            return await self.plugins.invoke(shared, tap, payload)
        async with self.plugins.session(PluginUser.from_current_user(user),
                                        request_id=tap) as session:
            return await self.plugins.invoke(session, tap, payload)

    async def presave(self, item: Item, original: Item | None, ctx: HookContext) -> Item:
        try:
            outcome = await self._dispatch("item_presave", lambda: {"item": item.public()},
                                          ctx.user)
        except PluginRefused as exc:
            raise ItemHookError(exc.plugin, exc.message) from None
        except PluginError as exc:
            raise ItemHookError(exc.plugin, f"failed ({exc.reason})") from None
        if outcome is None or not isinstance(outcome.value, dict):
            return item
        changed = outcome.value
        for key in _MUTABLE:
            if key in changed:
                setattr(item, key, changed[key])
        return item

    async def _notify(self, tap: str, item: Item, user: CurrentUser) -> None:
        outcome = await self._dispatch(tap, lambda: {"item": item.public()}, user)
        for failure in outcome.failures if outcome else ():
            log.warning("%s: plugin failed", tap, extra={"data": {"error": str(failure)}})

    async def insert(self, item: Item, ctx: HookContext) -> None:
        await self._notify("item_insert", item, ctx.user)

    async def update(self, item: Item, original: Item, ctx: HookContext) -> None:
        await self._notify("item_update", item, ctx.user)

    async def delete(self, item: Item, ctx: HookContext) -> None:
        await self._notify("item_delete", item, ctx.user)

    def reads_items(self) -> bool:
        return bool(self.plugins.dispatcher.implementations("item_access"))

    @contextlib.asynccontextmanager
    async def voting(self, user: CurrentUser) -> AsyncIterator[None]:
        """One plugin session for all the votes of a read made where the request's own
        session cannot serve (a host function reading items runs inside a guest call):
        without it every vote would instantiate the voting plugins anew."""
        if not self.reads_items() or shared_plugin_session(user.id) is not None:
            yield
            return
        async with self.plugins.session(PluginUser.from_current_user(user),
                                        request_id="item_access") as session:
            token = _voting.set((user.id, session))
            try:
                yield
            finally:
                _voting.reset(token)

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


async def sync_item_types(plugins: PluginManager, types: ItemTypes, plugin: str) -> None:
    """Create or update the item types ``plugin`` declares in ``tap_item_info``."""
    if plugin not in plugins.dispatcher.implementations("item_info"):
        return
    async with plugins.session(PluginUser.anonymous(), request_id="item_info") as session:
        outcome = await plugins.dispatcher.invoke(session, "item_info", plugins=[plugin])
    for reply in outcome.replies:
        await types.sync_from_plugin(reply.plugin, reply.value or [])
