"""A sibling module: plugins may split their code across files next to plugin.py."""

from __future__ import annotations


def greet(name: str, greeting: str = "Hello") -> str:
    return f"{greeting}, {name}!"
