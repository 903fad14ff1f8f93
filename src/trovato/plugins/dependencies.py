"""The order plugins load and dispatch in: dependencies first, then by weight and name.

A missing dependency and a dependency cycle are refused with an error naming the plugin or
the cycle.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from trovato.plugins.errors import DependencyError
from trovato.plugins.info import PluginInfo


def resolve_order(infos: dict[str, PluginInfo], names: Iterable[str] | None = None) -> list[str]:
    """``names`` (default: all) with their dependencies first; ties by (weight, name).

    Raises :class:`DependencyError` naming the missing plugin or the cycle.
    """
    wanted = set(infos if names is None else names)
    for name in sorted(wanted):
        for dep in infos[name].dependencies:
            if dep not in wanted:
                where = "is not available" if dep not in infos else "is not enabled"
                raise DependencyError(f"plugin {name!r} depends on {dep!r}, which {where}")
    indegree = {n: 0 for n in wanted}
    dependents: dict[str, list[str]] = {n: [] for n in wanted}
    for name in wanted:
        for dep in infos[name].dependencies:
            indegree[name] += 1
            dependents[dep].append(name)
    ready = [(infos[n].weight, n) for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for child in dependents[name]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, (infos[child].weight, child))
    if len(order) != len(wanted):
        raise DependencyError(f"dependency cycle: {_find_cycle(infos, wanted - set(order))}")
    return order


def _find_cycle(infos: dict[str, PluginInfo], stuck: set[str]) -> str:
    start = min(stuck)
    path = [start]
    while True:
        nxt = min(d for d in infos[path[-1]].dependencies if d in stuck)
        if nxt in path:
            cycle = [*path[path.index(nxt):], nxt]
            return " -> ".join(cycle)
        path.append(nxt)
