"""A vocabulary's parent links as a graph in memory, for the checks a change of parents needs.

Reads of ancestors and descendants are recursive CTEs (:mod:`trovato.categories.service`);
a *write* of parents loads the links it can affect — the new parents' ancestors and the tag's
descendants (the vocabulary row is locked, so no other write changes them meanwhile) — and
checks here, before anything is written, that:

* no tag becomes its own ancestor — a refusal names the loop, ``a → b → c → a``, each arrow
  reading "has the parent";
* no chain of parents grows deeper than :data:`MAX_DEPTH` — a guardrail that keeps every
  breadcrumb, tree and recursive read bounded (Drupal sites rarely pass ten levels).

An import loads the whole vocabulary once and checks thousands of rows against it, updating
it as it goes.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

MAX_DEPTH: Final = 64  # tags in the longest chain from a root to a leaf


@dataclass
class Graph:
    """Tag → its parents (in order) and its children, and each tag's name (for messages)."""

    names: dict[uuid.UUID, str] = field(default_factory=dict)
    parents: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    children: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)

    def add(self, tag: uuid.UUID, name: str, parents: Iterable[uuid.UUID] = ()) -> None:
        self.names[tag] = name
        self.set_parents(tag, list(parents))

    def set_parents(self, tag: uuid.UUID, parents: list[uuid.UUID]) -> None:
        for old in self.parents.get(tag, ()):
            self.children[old].remove(tag)
        self.parents[tag] = list(parents)
        for parent in parents:
            self.children.setdefault(parent, []).append(tag)

    def loop(self, tag: uuid.UUID, parent: uuid.UUID) -> list[uuid.UUID] | None:
        """The loop that making ``parent`` a parent of ``tag`` would close — ``[tag, parent,
        …, tag]`` along parent links, the shortest such — or None."""
        if parent == tag:
            return [tag, tag]
        # Breadth-first up from the parent: does the chain reach the tag?
        came_from: dict[uuid.UUID, uuid.UUID] = {}
        queue = deque([parent])
        seen = {parent}
        while queue:
            current = queue.popleft()
            for up in self.parents.get(current, ()):
                if up in seen:
                    continue
                came_from[up] = current
                if up == tag:
                    path = [tag]
                    while path[-1] != parent:
                        path.append(came_from[path[-1]])
                    return [tag, *reversed(path)]
                seen.add(up)
                queue.append(up)
        return None

    def depth_above(self, tag: uuid.UUID) -> int:
        """Tags in the longest chain from ``tag`` up to a root, ``tag`` included."""
        memo: dict[uuid.UUID, int] = {}

        def up(node: uuid.UUID) -> int:
            if node not in memo:
                memo[node] = 1 + max((up(p) for p in self.parents.get(node, ())), default=0)
            return memo[node]

        return up(tag)

    def depth_below(self, tag: uuid.UUID) -> int:
        """Tags in the longest chain from ``tag`` down to a leaf, ``tag`` included."""
        memo: dict[uuid.UUID, int] = {}

        def down(node: uuid.UUID) -> int:
            if node not in memo:
                memo[node] = 1 + max((down(c) for c in self.children.get(node, ())),
                                     default=0)
            return memo[node]

        return down(tag)

    def describe(self, loop: Sequence[uuid.UUID]) -> str:
        return " → ".join(self.names.get(node, str(node)) for node in loop)


__all__ = ["MAX_DEPTH", "Graph"]
