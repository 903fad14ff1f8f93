"""What running a Gather listing gives: a page of results, an unsaved definition's preview, and
the rows of a listing's statement read into items and records.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from trovato.content.model import Item
from trovato.content.statements import COLUMN_COUNT, item_from_row
from trovato.gather.compiler import (
    Shape,
    record_names,
)
from trovato.gather.resolution import Relationship, Resolved


@dataclass(frozen=True, slots=True)
class GatherResult:
    """One page of a listing. ``total`` is None for the mini and none pagers. ``items`` are
    an item listing's items and ``records`` one record per row: for items, the ``fields``
    read through relationships (``{"author.name": …}``, None where the reader may not see
    the joined record); for users and tags, the row's public columns."""

    resolved: Resolved
    items: list[Item]
    records: list[dict[str, Any]]
    page: int
    per_page: int
    total: int | None
    has_next: bool
    exposed: dict[str, str]  # the exposed filters' values as given (for the form and links)
    # The cache tags of the records joined through relationships (``item:<id>``,
    # ``tag:<id>``), which a page showing their fields carries too.
    joined_tags: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, math.ceil(self.total / self.per_page))

    def public(self) -> list[dict[str, Any]]:
        """The rows as the JSON display shows them: items in the shape of ``/api/v1/items``
        (with ``related``, the relationships' fields, when the definition has some), users
        and tags as their records."""
        if self.resolved.base != "item":
            return self.records
        if not self.resolved.related_columns():
            return [item.public() for item in self.items]
        return [{**item.public(), "related": record}
                for item, record in zip(self.items, self.records, strict=True)]


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows read into what a result holds, with the cache tags of the joined records."""

    items: list[Item]
    records: list[dict[str, Any]]
    tags: list[str]
    related: list[tuple[uuid.UUID | None, ...]]  # each row's joined record ids


_RECORD_TAGS: Final[Mapping[str, str]] = {"item": "item", "tag": "tag"}


def read_rows(resolved: Resolved, shape: Shape, rows: list[tuple[Any, ...]]) -> Rows:
    """``rows`` of :func:`~trovato.gather.compiler.row_columns` as items and records."""
    names = record_names(resolved, shape)
    joined = len(resolved.relationships)
    related = resolved.related_columns()
    items: list[Item] = []
    records: list[dict[str, Any]] = []
    ids: list[tuple[uuid.UUID | None, ...]] = []
    tags: set[str] = set()
    for row in rows:
        start = COLUMN_COUNT if resolved.base == "item" else len(names)
        if resolved.base == "item":
            items.append(item_from_row(row))
            record: dict[str, Any] = {}
        else:
            record = dict(zip(names, row[:start], strict=True))
        keys = tuple(row[start:start + joined])
        ids.append(keys)
        record.update((spec.name, value) for spec, value
                      in zip(related, row[start + joined:], strict=True))
        records.append(record)
        for relationship, key in zip(resolved.relationships, keys, strict=True):
            kind = _RECORD_TAGS.get(relationship.target)
            if key is not None and kind is not None:
                tags.add(f"{kind}:{key}")
    return Rows(items, records, sorted(tags), ids)


def follow(resolved: Resolved, joined: list[Relationship], record: dict[str, Any],
           ids: tuple[uuid.UUID | None, ...], allowed: set[uuid.UUID]) -> bool:
    """Blank the fields of ``record`` read through an item relationship whose item the
    reader may not view (in place); False when such a relationship is required."""
    for relationship in joined:
        key = ids[relationship.index]
        if key is None or key in allowed:
            continue
        if relationship.required:
            return False
        for spec in resolved.related_columns():
            if spec.relation == relationship.index:
                record[spec.name] = None
    return True


@dataclass(frozen=True, slots=True)
class Preview:
    """An unsaved definition's first page (:meth:`~trovato.gather.service.Gather.preview`):
    ``total`` matches the reader may see, found in ``seconds``; ``sql`` is the compiled page
    statement (its values bound parameters) and ``plan`` PostgreSQL's plan of it."""

    result: GatherResult
    total: int
    seconds: float
    sql: str
    plan: str


__all__ = ["GatherResult", "Preview", "Rows", "follow", "read_rows"]
