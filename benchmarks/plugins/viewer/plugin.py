"""viewer: the benchmark plugin (benchmarks/bench_plugins.py).

``item_view`` reads the item and returns a small container tree without calling the host, so
the benchmark measures the sandbox and the dispatch path rather than host I/O.
"""

from __future__ import annotations

from trovato_sdk import render, tap


@tap
def item_view(item, ctx):
    body = item.fields.get("field_body")
    size = len(body.value) if body is not None and body.value else 0
    return (
        render.container(cls="viewer")
        .child("title", render.markup(item.title, tag="h3").weight(-5))
        .child("size", render.markup(f"{size} characters", tag="p"))
    )
