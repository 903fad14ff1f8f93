"""Tags: reads (by id, slug, vocabulary, as a tree), writes (create, edit, move, delete), free
tagging inside a content save, and imports of many rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Final

from psycopg import AsyncConnection
from psycopg.rows import DictRow, tuple_row

from trovato.categories.checks import (
    UNSET,
    check_description,
    check_name,
    check_parents,
    check_slug,
    check_weight,
    parse_tag_id,
    refuse,
)
from trovato.categories.hierarchy import Graph
from trovato.categories.model import (
    ADMINISTER_CATEGORIES,
    CREATE_TAGS,
    CategoryError,
    Tag,
    TreeNode,
    Vocabulary,
    no_such_tag,
)
from trovato.categories.slugs import SLUG_MAX, SUFFIX_ROOM, next_free, slugify
from trovato.categories.statements import (
    SELECT_VOCABULARY,
    tag_from_row,
    tags_sql,
    update_statement,
    vocabulary_sql,
    with_parents,
)
from trovato.categories.tree import TagTree
from trovato.categories.usage import remove_references
from trovato.categories.vocabularies import Vocabularies
from trovato.ids import uuid7
from trovato.observability.audit import audit
from trovato.patterns import starts_with
from trovato.stages import LIVE, stage_params
from trovato.users.accounts import CurrentUser

AUTOCOMPLETE_MAX: Final = 50


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One tag of an import: its line in the file, name, parents' names, description and
    weight (None: keep an existing tag's, else empty and 0). A parent is a tag of the
    vocabulary or a row above."""

    line: int
    name: str
    parents: tuple[str, ...] = ()
    description: str | None = None
    weight: int | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    vocabulary: Vocabulary
    created: int
    updated: int



class Tags(TagTree, Vocabularies):
    """The tag part of :class:`~trovato.categories.service.Categories`."""

    async def tag(self, user: CurrentUser, tag_id: uuid.UUID | str, *, stage: str = LIVE
                  ) -> Tag:
        """One tag; 404 when it does not exist in the stage's view (or the id is malformed)."""
        self._require_read(user)
        key = parse_tag_id(tag_id)
        view = await self._view(user, stage)
        row = await self.db.fetchrow_tuple(tags_sql(view.live, "id"),
                                           {**stage_params(view), "id": key})
        if row is None:
            raise no_such_tag()
        return tag_from_row(row)

    async def tag_by_slug(self, user: CurrentUser, vocabulary: str, slug: str, *,
                          stage: str = LIVE) -> Tag:
        self._require_read(user)
        view = await self._view(user, stage)
        row = await self.db.fetchrow_tuple(
            tags_sql(view.live, "slug"),
            {**stage_params(view), "vocabulary": vocabulary, "slug": slug})
        if row is None:
            raise no_such_tag()
        return tag_from_row(row)

    async def tags(self, user: CurrentUser, vocabulary: str, *, stage: str = LIVE,
                   starting: str | None = None, limit: int = AUTOCOMPLETE_MAX) -> list[Tag]:
        """A vocabulary's tags in (weight, name) order; with ``starting``, at most ``limit``
        whose name starts so (case-insensitive: autocomplete)."""
        await self.vocabulary(user, vocabulary)
        view = await self._view(user, stage)
        params: dict[str, Any] = {**stage_params(view), "vocabulary": vocabulary}
        if starting is None:
            rows_sql, links_sql = vocabulary_sql(view.live)
            return with_parents(await self.db.fetch_tuples(rows_sql, params),
                                 await self.db.fetch_tuples(links_sql, params))
        params["prefix"] = starts_with(starting.strip().lower())
        params["limit"] = max(1, min(limit, AUTOCOMPLETE_MAX))
        rows = await self.db.fetch_tuples(tags_sql(view.live, "prefix"), params)
        return [tag_from_row(r) for r in rows]

    async def tags_named(self, user: CurrentUser, vocabularies: Sequence[str],
                         names: Collection[str], *, stage: str = LIVE) -> list[Tag]:
        """Every tag of ``vocabularies`` whose name is one of ``names`` (ignoring case), in
        the order of the vocabularies: all of them, so that a name two tags share shows as
        such (the item form's tag fields ask no one to guess which was meant)."""
        self._require_read(user)
        if not vocabularies or not names:
            return []
        view = await self._view(user, stage)
        rows = await self.db.fetch_tuples(tags_sql(view.live, "names"), {
            **stage_params(view), "vocabularies": list(vocabularies),
            "names": sorted({n.lower() for n in names})})
        return [tag_from_row(r) for r in rows]

    async def tree(self, user: CurrentUser, vocabulary: str, *, stage: str = LIVE
                   ) -> list[TreeNode]:
        """The vocabulary's tags as a forest: roots in (weight, name) order, each with its
        children (see :class:`~trovato.categories.model.TreeNode` for tags with several
        parents)."""
        tags = await self.tags(user, vocabulary, stage=stage)
        known = {t.id for t in tags}
        children: dict[uuid.UUID, list[Tag]] = {}
        for tag in tags:  # in (weight, name) order, so each child list is too
            for parent in tag.parents:
                children.setdefault(parent, []).append(tag)
        expanded: set[uuid.UUID] = set()

        def node(tag: Tag) -> TreeNode:
            if tag.id in expanded:
                return TreeNode(tag, (), repeated=True)
            expanded.add(tag.id)
            return TreeNode(tag, tuple(node(c) for c in children.get(tag.id, ())))

        return [node(t) for t in tags if not any(p in known for p in t.parents)]

    # -- tag writes ----------------------------------------------------------------------------

    async def create_tag(self, user: CurrentUser, vocabulary: str, name: str, *,
                         parents: Sequence[uuid.UUID | str] = (), description: str = "",
                         weight: int = 0, slug: str | None = None, stage: str = LIVE) -> Tag:
        """A new tag; its slug comes from its name unless given (a taken one gets ``-2``…)."""
        self._require_admin(user)
        self._require_live(stage)
        errors: dict[str, str] = {}
        name = check_name(name, errors)
        description = check_description(description, errors)
        weight = check_weight(weight, errors)
        wanted = check_parents(list(parents), errors)
        chosen = check_slug(slug, errors) if slug is not None else None
        refuse(errors, "The tag is invalid.")
        async with self.db.transaction() as conn:
            current = await self._lock_vocabulary(conn, vocabulary, field="vocabulary")
            # A new tag without parents can close no loop: no need to read the hierarchy.
            graph = await self._neighbourhood(conn, current, None, wanted) if wanted else None
            tag = await self._insert(conn, user, current, graph, name, wanted,
                                     description=description, weight=weight, slug=chosen)
        await self._invalidate(vocabulary, tag.id)
        return tag

    async def update_tag(self, user: CurrentUser, tag_id: uuid.UUID | str, *,
                         name: str = UNSET, description: str = UNSET, weight: int = UNSET,
                         slug: str = UNSET, parents: Sequence[uuid.UUID | str] = UNSET,
                         stage: str = LIVE) -> Tag:
        """Change what is given. The slug stays when the name changes (links keep working)
        unless a new one is given; ``parents`` replaces the parents (a move)."""
        self._require_admin(user)
        self._require_live(stage)
        key = parse_tag_id(tag_id)
        errors: dict[str, str] = {}
        changes: dict[str, Any] = {}
        if name is not UNSET:
            changes["name"] = check_name(name, errors)
        if description is not UNSET:
            changes["description"] = check_description(description, errors)
        if weight is not UNSET:
            changes["weight"] = check_weight(weight, errors)
        if slug is not UNSET:
            changes["slug"] = check_slug(slug, errors)
        wanted = None if parents is UNSET else check_parents(list(parents), errors)
        refuse(errors, "The tag is invalid.")
        async with self.db.transaction() as conn:
            original = await self._locked_tag(conn, key)
            current = await self._lock_vocabulary(conn, original.vocabulary)
            if changes.get("slug", original.slug) != original.slug:
                taken = await conn.execute(
                    "SELECT 1 FROM category_tag WHERE vocabulary_id = %s AND slug = %s"
                    " AND id <> %s", (current.key, changes["slug"], key))
                if await taken.fetchone() is not None:
                    raise CategoryError(409, f"The slug {changes['slug']!r} is taken in this"
                                        " vocabulary.", errors={"slug": "is taken"})
            if changes:
                await conn.execute(update_statement("category_tag", changes),
                                   {**changes, "id": key})
            if wanted is not None:
                graph = await self._neighbourhood(conn, current, key, wanted)
                graph.names[key] = changes.get("name", original.name)
                await self._set_parents(conn, current, graph, key, wanted)
            tag = await self._read(conn, key)
            await self.hooks.update(tag, original, user)
            await audit(conn, "categories", "Updated tag “%(name)s”.",
                        {"name": tag.name, "id": str(tag.id)}, user_id=user.id)
        await self._invalidate(tag.vocabulary, tag.id)
        return tag

    async def move(self, user: CurrentUser, tag_id: uuid.UUID | str,
                   parents: Sequence[uuid.UUID | str], *, weight: int | None = None,
                   stage: str = LIVE) -> Tag:
        """Give the tag new parents (none: a root), and a new weight among its siblings."""
        if weight is None:
            return await self.update_tag(user, tag_id, parents=parents, stage=stage)
        return await self.update_tag(user, tag_id, parents=parents, weight=weight, stage=stage)

    async def delete_tag(self, user: CurrentUser, tag_id: uuid.UUID | str, *,
                         stage: str = LIVE) -> tuple[Tag, int]:
        """Delete the tag; its children lose it as a parent (those with no other parent
        become roots), and the items referring to it lose the reference, each with a new
        revision (:mod:`trovato.categories.usage`). Returns the tag and how many items it
        was taken out of."""
        self._require_admin(user)
        self._require_live(stage)
        key = parse_tag_id(tag_id)
        async with self.db.transaction() as conn:
            tag = await self._locked_tag(conn, key)
            await self._lock_vocabulary(conn, tag.vocabulary)
            await self.hooks.delete(tag, user)
            items = await remove_references(conn, [key], user.id,
                                            f"Removed the deleted tag {tag.name}.")
            await conn.execute("DELETE FROM category_tag WHERE id = %s", (key,))
            await audit(conn, "categories", "Deleted tag “%(name)s” (from %(items)s items).",
                        {"name": tag.name, "id": str(tag.id), "items": len(items)},
                        user_id=user.id)
        await self._invalidate(tag.vocabulary, tag.id, items=items)
        return tag, len(items)

    async def _insert(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                      vocabulary: Vocabulary, graph: Graph | None, name: str,
                      parents: list[uuid.UUID], *, description: str = "", weight: int = 0,
                      slug: str | None = None) -> Tag:
        """Insert a live tag (the vocabulary is locked), link its parents (checked against
        ``graph``, the vocabulary's hierarchy, which follows; needed when there are parents),
        fire tag_insert."""
        base = slug or slugify(name)
        # Every slug a suffixed form of ``base`` could collide with: a long base is cut to
        # make room for its suffix, so compare on a stem short enough for any suffix.
        stem = base[:SLUG_MAX - SUFFIX_ROOM]
        cur = await conn.execute(
            "SELECT slug FROM category_tag WHERE vocabulary_id = %s AND left(slug, %s) = %s",
            (vocabulary.key, len(stem), stem))
        taken = {r["slug"] for r in await cur.fetchall()}
        if slug is not None and slug in taken:
            raise CategoryError(409, f"The slug {slug!r} is taken in this vocabulary.",
                                errors={"slug": "is taken"})
        key = uuid7()
        await conn.execute(
            "INSERT INTO category_tag (id, vocabulary_id, name, slug, description, weight)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (key, vocabulary.key, name, next_free(base, taken), description, weight))
        if graph is not None:
            graph.add(key, name)
        if parents:
            assert graph is not None, "parents are checked against the vocabulary's hierarchy"
            await self._set_parents(conn, vocabulary, graph, key, parents)
        tag = await self._read(conn, key)
        await self.hooks.insert(tag, user)
        await audit(conn, "categories", "Created tag “%(name)s” in “%(vocabulary)s”.",
                    {"name": name, "vocabulary": vocabulary.id, "id": str(key)},
                    user_id=user.id)
        return tag

    # -- free tagging --------------------------------------------------------------------------

    async def resolve_names(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                            stage: str, vocabularies: Sequence[str],
                            wanted: Sequence[tuple[str, str]], *,
                            create: bool = True) -> list[uuid.UUID]:
        """Free tagging, inside a content save's transaction (``conn``): the id of the tag
        each ``(error key, name)`` names, found case-insensitively in ``vocabularies`` (the
        first that has it), else created in the first of them — which needs ``create``
        (the field allows free tagging), ``create tags`` (or ``administer categories``) and
        live. Refusals are one 422 naming each value."""
        errors: dict[str, str] = {}
        names: list[str] = []
        for key, raw in wanted:
            name = check_name(raw, errors, key)
            names.append(name)
            if name and not vocabularies:
                errors[key] = ("this field names no vocabulary, so a tag must be given by id"
                               " (target_id)")
        refuse(errors, "Some tags could not be used.")
        view = await self.stages.view(stage, conn=conn)
        found: dict[str, uuid.UUID] = {}

        async def find(looked_for: Sequence[str]) -> None:
            cur = await conn.cursor(row_factory=tuple_row).execute(
                tags_sql(view.live, "names"),
                {**stage_params(view), "vocabularies": list(vocabularies),
                 "names": sorted({n.lower() for n in looked_for})})
            for row in await cur.fetchall():
                found.setdefault(row[2].lower(), row[0])

        await find(names)
        missing = [(key, name) for (key, _raw), name in zip(wanted, names, strict=True)
                   if name.lower() not in found]
        if missing:
            home = vocabularies[0]
            may_create = user.can(CREATE_TAGS) or user.can(ADMINISTER_CATEGORIES)
            for key, name in missing:
                if not create:
                    errors[key] = (f"there is no tag {name!r} in {', '.join(vocabularies)},"
                                   " and this field takes existing tags only")
                elif not view.live:
                    errors[key] = (f"there is no tag {name!r} in {home!r}, and new tags can"
                                   " only be created in live")
                elif not may_create:
                    errors[key] = (f"there is no tag {name!r} in {home!r}, and you may not"
                                   " create tags")
            refuse(errors, "Some tags could not be used.")
            current = await self._lock_vocabulary(conn, home)
            # Another save may have created some of them between the read above and the
            # lock: read again now that no other can, or they would be made twice.
            await find([name for _key, name in missing])
            for _key, name in missing:
                if name.lower() not in found:
                    tag = await self._insert(conn, user, current, None, name, [])
                    found[name.lower()] = tag.id
        return [found[name.lower()] for name in names]

    # -- import --------------------------------------------------------------------------------

    async def import_tags(self, user: CurrentUser, vocabulary: str, rows: Sequence[ImportRow],
                          *, label: str | None = None,
                          progress: Callable[[], None] | None = None) -> ImportResult:
        """Import ``rows`` into ``vocabulary`` (created, labelled ``label``, if it does not
        exist) in ONE transaction: a bad row is a 422 naming its line, and nothing is kept.
        A row naming an existing tag updates its description and weight and adds its
        parents; parents are named, and must be tags of the vocabulary or rows above."""
        self._require_admin(user)
        created = updated = 0
        async with self.db.transaction() as conn:
            cur = await conn.execute(SELECT_VOCABULARY + " WHERE machine_name = %s",
                                     (vocabulary,))
            if await cur.fetchone() is None:
                await self._insert_vocabulary(conn, user, vocabulary, label or vocabulary)
            current = await self._lock_vocabulary(conn, vocabulary)
            graph = await self._graph(conn, current)
            by_name: dict[str, uuid.UUID] = {}
            for tag_id, name in graph.names.items():
                by_name.setdefault(name.lower(), tag_id)
            for row in rows:
                if await self._import_row(conn, user, current, graph, by_name, row):
                    created += 1
                else:
                    updated += 1
                if progress is not None:
                    progress()
            await audit(conn, "categories", "Imported %(count)s tags into “%(vocabulary)s”.",
                        {"count": len(rows), "vocabulary": vocabulary}, user_id=user.id)
        await self._invalidate(vocabulary)
        return ImportResult(current, created, updated)

    async def _import_row(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                          vocabulary: Vocabulary, graph: Graph, by_name: dict[str, uuid.UUID],
                          row: ImportRow) -> bool:
        """Import one row; True when it created a tag (else it updated one). A refusal names
        the row's line."""
        errors: dict[str, str] = {}
        name = check_name(row.name, errors)
        description = None if row.description is None \
            else check_description(row.description, errors)
        weight = None if row.weight is None else check_weight(row.weight, errors)
        parents: list[uuid.UUID] = []
        for parent in row.parents:
            found = by_name.get(parent.strip().lower())
            if found is None:
                errors["parents"] = (f"{parent!r} is neither a tag of {vocabulary.id!r} nor a"
                                     " row above")
            elif found not in parents:
                parents.append(found)
        try:
            refuse(errors, "The row is invalid.")
            existing = by_name.get(name.lower())
            if existing is None:
                tag = await self._insert(conn, user, vocabulary, graph, name, parents,
                                         description=description or "", weight=weight or 0)
                by_name[name.lower()] = tag.id
                return True
            original = await self._read(conn, existing)
            await conn.execute(
                "UPDATE category_tag SET description = coalesce(%s, description),"
                " weight = coalesce(%s, weight) WHERE id = %s", (description, weight, existing))
            kept = graph.parents.get(existing, [])
            await self._set_parents(conn, vocabulary, graph, existing,
                                    [*kept, *(p for p in parents if p not in kept)])
            await self.hooks.update(await self._read(conn, existing), original, user)
            return False
        except CategoryError as exc:
            what = "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) or exc.message
            raise CategoryError(422, f"Line {row.line}: {what}. Nothing was imported.",
                                errors={f"line {row.line}.{k}": v
                                        for k, v in exc.errors.items()}) from None

