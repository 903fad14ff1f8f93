"""Item reads for plugins: what the host functions ``item-load`` and ``item-query`` answer.

A thin adapter onto the one item query path (:class:`~trovato.content.query.ItemQuery`), so a
plugin reading items for a user gets exactly what ``/api/v1/items`` gives that user: the same
status and ``access content`` rules, the author's-own-draft rule, ``item_access`` votes and the
stage. It is injected into the plugin host (:class:`trovato.plugins.host.ItemReader`), so the
plugin runtime imports no content code.

Refusals become what a plugin can handle: an item the user may not view (or that does not
exist, or is in no stage the request sees) is ``None``; a listing the user may not read at all
(no ``access content``, or a stage the user may not reach) is empty. A malformed query is a
:class:`ValueError` naming the problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

from trovato.content.model import ItemError
from trovato.content.query import ItemQuery
from trovato.plugins.host import PluginUser
from trovato.users.accounts import CurrentUser

QUERY_KEYS: Final = frozenset({"type", "status", "sort", "limit"})
DEFAULT_QUERY_LIMIT: Final = 10


def acting_user(user: PluginUser) -> CurrentUser:
    """The request's user as the content service knows it (roles travel as their ids)."""
    roles: set[uuid.UUID] = set()
    for role in user.roles:
        try:
            roles.add(uuid.UUID(role))
        except ValueError:
            continue
    return CurrentUser(id=uuid.UUID(user.id), name=user.name, is_admin=user.is_admin,
                       roles=frozenset(roles), permissions=user.permissions)


class PluginItemReads:
    """The :class:`trovato.plugins.host.ItemReader` of the kernel."""

    def __init__(self, query: ItemQuery) -> None:
        self.query = query

    async def load(self, user: PluginUser, item_id: str, stage: str) -> dict[str, Any] | None:
        try:
            item = await self.query.load(acting_user(user), item_id, stage=stage)
        except ItemError:
            return None
        return item.public()

    async def query_items(self, user: PluginUser, spec: Mapping[str, Any], stage: str
                          ) -> list[dict[str, Any]]:
        unknown = set(spec) - QUERY_KEYS
        if unknown:
            raise ValueError(f"unknown query key(s): {', '.join(sorted(unknown))}")
        kind, status = spec.get("type"), spec.get("status")
        sort, limit = spec.get("sort", "-created"), spec.get("limit", DEFAULT_QUERY_LIMIT)
        if kind is not None and not isinstance(kind, str):
            raise ValueError("type must be a string")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise ValueError("status must be 0 or 1")
        if not isinstance(sort, str):
            raise ValueError("sort must be a string")
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ValueError("limit must be an integer")
        acting = acting_user(user)
        try:
            page = await self.query.list(acting, type=kind, status=status, sort=sort,
                                         limit=limit, stage=stage)
        except ItemError as exc:
            if exc.status in (403, 404):  # may not list, or no such stage for this user
                return []
            problems = "; ".join(f"{name} {text}" for name, text in exc.errors.items())
            raise ValueError(problems or exc.message) from None
        return [item.public() for item in page.items]
