"""Reference checks: the records a saved item points at must exist and be usable by the saver.

Each record kind (``item``, ``user``, ``category_tag``, ``file``) is resolved by a
:data:`~trovato.records.Resolver` that the kind's owner provides — the content query for
items, ``users`` for accounts, ``categories`` for tags, ``files`` for files — registered once
when the content services start (:func:`standard_resolvers`). A save's check combines the
lookups of the kinds it refers to into ONE statement (``UNION ALL``), compiled once per shape,
run on the save's connection; what comes back becomes per-field errors.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Final

from psycopg import AsyncConnection
from psycopg.rows import DictRow, tuple_row
from sqlalchemy import ARRAY, Uuid, bindparam, literal_column, select, union_all

from trovato.content.fields import Reference
from trovato.content.model import ItemError
from trovato.db.compiled import sql_text
from trovato.records import Lookup, Resolver
from trovato.stages import StageView
from trovato.users.accounts import CurrentUser

_KIND: Final = re.compile(r"^[a-z][a-z_]{0,31}$")
_MAX_SHAPES: Final = 256
_NOUNS: Final[Mapping[str, str]] = {"item": "an item", "user": "a user",
                                    "category_tag": "a category tag", "file": "a file"}
# A resolved record: (bundle, visible, image).
_Found = tuple[str | None, bool, bool]


class ReferenceResolvers:
    """The registry: record kind → its owner's resolver."""

    def __init__(self, resolvers: Mapping[str, Resolver[CurrentUser]]) -> None:
        for kind in resolvers:
            if not _KIND.match(kind):
                raise ValueError(f"invalid record kind {kind!r}")
        self.resolvers = dict(resolvers)
        self._compiled: dict[tuple[tuple[str, Hashable], ...], str] = {}

    async def check(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                    refs: Sequence[Reference], view: StageView) -> None:
        """Raise :class:`ItemError` 422 naming every reference that cannot be used."""
        wanted: dict[str, list[uuid.UUID]] = {}
        for ref in refs:
            wanted.setdefault(ref.kind, []).append(ref.id)
        kinds = sorted(wanted)
        lookups: dict[str, Lookup] = {}
        for kind in kinds:
            resolver = self.resolvers.get(kind)
            if resolver is None:
                raise LookupError(f"no reference resolver is registered for {kind!r}")
            lookups[kind] = resolver(user, view)
        params: dict[str, Any] = {}
        for n, kind in enumerate(kinds):
            params.update(lookups[kind].params)
            params[f"ids_{n}"] = wanted[kind]
        cur = await conn.cursor(row_factory=tuple_row).execute(
            self._statement(lookups), params)
        found: dict[tuple[str, uuid.UUID], _Found] = {
            (kind, key): (bundle, bool(visible), bool(image))
            for kind, key, bundle, visible, image in await cur.fetchall()}
        errors: dict[str, str] = {}
        for ref in refs:
            problem = _problem(ref, found.get((ref.kind, ref.id)))
            if problem:
                errors[ref.key] = problem
        if errors:
            raise ItemError(422, "The item refers to records that cannot be used.", errors)

    def _statement(self, lookups: Mapping[str, Lookup]) -> str:
        """The combined statement's text (``lookups`` in kind order), compiled once per shape."""
        key = tuple((kind, lookup.shape) for kind, lookup in lookups.items())
        text = self._compiled.get(key)
        if text is None:
            parts = []
            for n, (kind, lookup) in enumerate(lookups.items()):
                found = lookup.build(bindparam(f"ids_{n}", type_=ARRAY(Uuid))).subquery()
                parts.append(select(literal_column(f"'{kind}'").label("kind"), *found.c))
            text = sql_text(union_all(*parts))
            if len(self._compiled) >= _MAX_SHAPES:
                self._compiled.clear()
            self._compiled[key] = text
        return text


def _problem(ref: Reference, target: _Found | None) -> str | None:
    noun = _NOUNS.get(ref.kind, "a record")
    if target is None or not target[1]:
        return f"refers to {noun} that does not exist or that you cannot see"
    bundle, _, image = target
    if ref.kind == "file":
        extension = str(bundle).rsplit(".", 1)[-1].lower()
        if ref.image and not image:
            return "refers to a file that is not an image"
        if ref.bundles and extension not in {b.lower() for b in ref.bundles}:
            return f"refers to a file whose extension is not one of: {', '.join(ref.bundles)}"
        return None
    if ref.bundles and bundle not in ref.bundles:
        what = "vocabularies" if ref.kind == "category_tag" else "types"
        return f"refers to {noun} of {bundle!r}; allowed {what}: {', '.join(ref.bundles)}"
    return None


def standard_resolvers(items: Resolver[CurrentUser]) -> ReferenceResolvers:
    """The registry of the kernel's record kinds; ``items`` is the content query's."""
    from trovato.categories.references import resolve_tags
    from trovato.files.references import resolve_files
    from trovato.users.references import resolve_users

    return ReferenceResolvers({"item": items, "user": resolve_users,
                               "category_tag": resolve_tags, "file": resolve_files})
