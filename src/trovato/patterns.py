"""Typed text inside SQL ``LIKE``/``ILIKE`` patterns: the one escaping every search uses.

A visitor's ``%`` or ``_`` must match a percent sign or an underscore, never act as a wildcard
(a filter for ``%`` would otherwise list everything, and ``_%_%_%…`` patterns cost time).
Every pattern built here uses ``\\`` as its escape character: statements say
``ESCAPE '\\'`` (SQLAlchemy: ``escape="\\\\"``)."""

from __future__ import annotations


def like_literal(text: str) -> str:
    """``text`` as a literal part of a LIKE pattern: ``%``, ``_`` and ``\\`` match only
    themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(text: str) -> str:
    """The pattern of values containing ``text`` anywhere."""
    return f"%{like_literal(text)}%"


def starts_with(text: str) -> str:
    """The pattern of values starting with ``text``."""
    return f"{like_literal(text)}%"
