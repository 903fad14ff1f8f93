"""The tag hierarchy as the service reads and writes it: children, ancestors, descendants and
breadcrumbs by recursive CTE, and parents set after the loop and depth checks of
:class:`~trovato.categories.hierarchy.Graph` over the change's neighbourhood."""

from __future__ import annotations

import uuid
from typing import Literal

from psycopg import AsyncConnection
from psycopg.rows import DictRow, tuple_row

from trovato.categories.base import CategoriesBase
from trovato.categories.checks import refuse
from trovato.categories.hierarchy import MAX_DEPTH, Graph
from trovato.categories.model import (
    HIERARCHIES,
    CategoryError,
    Tag,
    Vocabulary,
)
from trovato.categories.statements import (
    graph_sql,
    neighbourhood_sql,
    relatives_sql,
    tag_from_row,
    tags_sql,
)
from trovato.stages import LIVE, stage_params
from trovato.users.accounts import CurrentUser

Direction = Literal["up", "down"]


class TagTree(CategoriesBase):
    """The hierarchy part of :class:`~trovato.categories.service.Categories`."""

    async def children(self, user: CurrentUser, tag: Tag, *, stage: str = LIVE) -> list[Tag]:
        self._require_read(user)
        view = await self._view(user, stage)
        rows = await self.db.fetch_tuples(tags_sql(view.live, "children"),
                                          {**stage_params(view), "parent": tag.id})
        return [tag_from_row(r) for r in rows]

    async def ancestors(self, user: CurrentUser, tag: Tag, *, stage: str = LIVE) -> list[Tag]:
        """Every ancestor once, nearest first (then by weight and name)."""
        return await self.relatives(user, tag, "up", stage=stage)

    async def descendants(self, user: CurrentUser, tag: Tag, *, stage: str = LIVE
                          ) -> list[Tag]:
        """Every descendant once, nearest first (then by weight and name)."""
        return await self.relatives(user, tag, "down", stage=stage)

    async def relatives(self, user: CurrentUser, tag: Tag, direction: Direction, *,
                        stage: str = LIVE) -> list[Tag]:
        """The tag's ancestors (``up``) or descendants (``down``), each once, nearest first
        (then by weight and name)."""
        self._require_read(user)
        view = await self._view(user, stage)
        rows = await self.db.fetch_tuples(relatives_sql(view.live, direction),
                                          {**stage_params(view), "id": tag.id})
        return [tag_from_row(r[:8]) for r in rows]

    async def breadcrumb(self, user: CurrentUser, tag: Tag, *, stage: str = LIVE) -> list[Tag]:
        """The tag's ancestors along first parents, from the root down (the tag excluded)."""
        if not tag.parents:
            return []
        found = {a.id: a for a in await self.ancestors(user, tag, stage=stage)}
        trail: list[Tag] = []
        current = tag
        while len(trail) < MAX_DEPTH:
            parent = next((found[p] for p in current.parents if p in found), None)
            if parent is None:
                break
            trail.append(parent)
            current = parent
        return trail[::-1]

    async def _neighbourhood(self, conn: AsyncConnection[DictRow], vocabulary: Vocabulary,
                             tag: uuid.UUID | None, parents: list[uuid.UUID]) -> Graph:
        """The part of the vocabulary's live hierarchy a change of ``tag``'s parents to
        ``parents`` is checked against: the new parents (those of the vocabulary) with all
        their ancestors, and the tag with all its descendants — in time of those relatives,
        not of the vocabulary (recursive CTEs; links never leave a vocabulary)."""
        params = {"vocabulary": vocabulary.key, "parents": parents, "tag": tag}
        cur = await conn.cursor(row_factory=tuple_row).execute(neighbourhood_sql(), params)
        graph = Graph()
        links: dict[uuid.UUID, list[uuid.UUID]] = {}
        for key, name, parent in await cur.fetchall():
            graph.names[key] = name
            if parent is not None:
                links.setdefault(key, []).append(parent)
        for key, found in links.items():
            graph.set_parents(key, found)
        return graph

    async def _graph(self, conn: AsyncConnection[DictRow], vocabulary: Vocabulary) -> Graph:
        """The vocabulary's live hierarchy, read on ``conn`` (two plain scans: a write to a
        vocabulary of 10,000 tags reads it in a few milliseconds)."""
        names_sql, links_sql = graph_sql()
        graph = Graph()
        cur = await conn.cursor(row_factory=tuple_row).execute(names_sql,
                                                               {"vocabulary": vocabulary.key})
        for key, name in await cur.fetchall():
            graph.add(key, name)
        cur = await conn.cursor(row_factory=tuple_row).execute(links_sql,
                                                               {"vocabulary": vocabulary.key})
        parents: dict[uuid.UUID, list[uuid.UUID]] = {}
        for key, parent in await cur.fetchall():
            parents.setdefault(key, []).append(parent)
        for key, found in parents.items():
            graph.set_parents(key, found)
        return graph

    async def _set_parents(self, conn: AsyncConnection[DictRow], vocabulary: Vocabulary,
                           graph: Graph, key: uuid.UUID, parents: list[uuid.UUID]) -> None:
        """Replace the tag's parents, after checking them against the vocabulary's hierarchy
        (module docstring); ``graph`` follows."""
        errors: dict[str, str] = {}
        limit = HIERARCHIES.index(vocabulary.hierarchy)
        if limit == 0 and parents:
            errors["parents"] = (f"the vocabulary {vocabulary.id!r} is a flat list: its tags"
                                 " have no parents")
        elif limit == 1 and len(parents) > 1:
            errors["parents"] = f"tags of {vocabulary.id!r} have at most one parent"
        for n, parent in enumerate(parents):
            if parent not in graph.names:
                errors[f"parents.{n}"] = f"is not a tag of the vocabulary {vocabulary.id!r}"
        refuse(errors, "The tag's parents are invalid.")
        for parent in parents:
            loop = graph.loop(key, parent)
            if loop is not None:
                described = graph.describe(loop)
                raise CategoryError(
                    422, f"Making {graph.names[parent]!r} a parent of {graph.names[key]!r}"
                    f" would create a loop: {described}.",
                    errors={"parents": f"would create a loop: {described}"},
                    extensions={"loop": [str(node) for node in loop]})
        deepest = max((graph.depth_above(p) for p in parents), default=0) \
            + graph.depth_below(key)
        if deepest > MAX_DEPTH:
            raise CategoryError(422, f"The hierarchy would be {deepest} levels deep; at most"
                                f" {MAX_DEPTH} are allowed.",
                                errors={"parents": f"would make a chain deeper than {MAX_DEPTH}"})
        graph.set_parents(key, parents)
        await conn.execute("DELETE FROM category_tag_hierarchy WHERE tag_id = %s", (key,))
        if parents:
            await conn.execute(
                "INSERT INTO category_tag_hierarchy (tag_id, parent_id)"
                " SELECT %s, unnest(%s::uuid[])", (key, parents))
