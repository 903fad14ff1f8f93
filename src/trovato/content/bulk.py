"""Bulk operations on items: publish, unpublish or delete many items, one at a time.

Each item goes through the content service (:meth:`Items.update <trovato.content.items.Items.
update>`, :meth:`Items.delete <trovato.content.items.Items.delete>`), so access checks, taps,
revisions, the audit log and cache invalidation apply to every one exactly as for a single
edit. An item the user may not change, or that is gone, is skipped with the reason; one
refused item never stops the others. An item already in the asked state is left alone (a
revision saying nothing changed would only bury the real ones).

:class:`BulkOperation` is a batch operation (:class:`trovato.batch.Operation`):
the admin's content list and ``trovato content bulk`` run it in chunks as a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from trovato.batch import Outcome
from trovato.content.items import Items
from trovato.content.model import ItemError
from trovato.stages import LIVE
from trovato.users.accounts import CurrentUser

# The actions with the words the pages and messages use: (verb, past tense).
BULK_ACTIONS: Final[Mapping[str, tuple[str, str]]] = {
    "publish": ("Publish", "Published"),
    "unpublish": ("Unpublish", "Unpublished"),
    "delete": ("Delete", "Deleted"),
}


class BulkOperation:
    """One bulk action over chunks of item ids, for the acting user; ``params["stage"]`` is
    the stage the batch was started in."""

    def __init__(self, items: Items, action: str) -> None:
        if action not in BULK_ACTIONS:
            raise ValueError(f"unknown bulk action {action!r}")
        self.items = items
        self.action = action

    async def __call__(self, actor: CurrentUser, keys: Sequence[str],
                       params: Mapping[str, Any]) -> list[Outcome]:
        stage = str(params.get("stage") or LIVE)
        found = {str(item.id): item
                 for item in await self.items.query.load_many(actor, keys, stage=stage)}
        outcomes: list[Outcome] = []
        for key in keys:
            item = found.get(key)
            if item is None:
                outcomes.append(Outcome(key, False, key, "it does not exist or you may not "
                                            "view it"))
                continue
            try:
                if self.action == "delete":
                    await self.items.delete(actor, item.id, stage=stage)
                else:
                    wanted = 1 if self.action == "publish" else 0
                    if item.status != wanted:
                        verb = BULK_ACTIONS[self.action][1].lower()
                        await self.items.update(actor, item.id, status=wanted, stage=stage,
                                                log=f"Bulk {verb}.")
            except ItemError as exc:
                outcomes.append(Outcome(key, False, item.title, exc.message))
                continue
            outcomes.append(Outcome(key, True, item.title))
        return outcomes


def bulk_operations(items: Items) -> dict[str, BulkOperation]:
    """Every bulk action as a batch operation, by the name a batch records
    (``content.publish`` …)."""
    return {f"content.{action}": BulkOperation(items, action) for action in BULK_ACTIONS}


def summary(action: str, done: int) -> str:
    """The message after a bulk action: "Unpublished 3 items."."""
    past = BULK_ACTIONS[action][1]
    return f"{past} {done} item{'' if done == 1 else 's'}."
