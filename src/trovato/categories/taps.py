"""The categories service's extension points: ``tag_insert``, ``tag_update`` and ``tag_delete``,
fired through the one tap door (:class:`~trovato.plugins.taps.Taps`) inside the write's
transaction, after the write, with the tag's public shape.

They are notifications (the catalogue's fail mode ``open``): a plugin that fails is logged and
the write goes on. :class:`TagHooks` is the service's interface, which does nothing, for a
service built without plugins (tests, tools); the kernel gives it :class:`PluginTagHooks`.
"""

from __future__ import annotations

import logging

from trovato.categories.model import Tag
from trovato.plugins import PluginUser
from trovato.plugins.taps import Taps
from trovato.users.accounts import CurrentUser

log = logging.getLogger("trovato.categories")


class TagHooks:
    """What the categories service tells extensions; the base tells no one."""

    async def insert(self, tag: Tag, user: CurrentUser) -> None:
        return None

    async def update(self, tag: Tag, original: Tag, user: CurrentUser) -> None:
        return None

    async def delete(self, tag: Tag, user: CurrentUser) -> None:
        return None


class PluginTagHooks(TagHooks):
    def __init__(self, taps: Taps) -> None:
        self.taps = taps

    async def _notify(self, tap: str, tag: Tag, user: CurrentUser) -> None:
        if not self.taps.listens(tap):
            return  # no plugin listens: no payload, no instance
        outcome = await self.taps.fire(tap, {"tag": tag.public()},
                                       user=PluginUser.from_current_user(user))
        for failure in outcome.failures:
            log.warning("%s: plugin failed", tap, extra={"data": {"error": str(failure)}})

    async def insert(self, tag: Tag, user: CurrentUser) -> None:
        await self._notify("tag_insert", tag, user)

    async def update(self, tag: Tag, original: Tag, user: CurrentUser) -> None:
        await self._notify("tag_update", tag, user)

    async def delete(self, tag: Tag, user: CurrentUser) -> None:
        await self._notify("tag_delete", tag, user)
