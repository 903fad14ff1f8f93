"""Checks of what a client sends the categories service (names, labels, slugs, weights,
parents): each problem goes into ``errors`` under its key, and :func:`refuse` raises them all
at once as one 422."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from trovato.categories.model import (
    DESCRIPTION_MAX,
    HIERARCHIES,
    LABEL_MAX,
    MAX_PARENTS,
    NAME_MAX,
    WEIGHT_LIMIT,
    CategoryError,
    Hierarchy,
    no_such_tag,
)
from trovato.categories.slugs import SLUG, SLUG_MAX

UNSET: Any = object()  # an argument not given (None may be a value)


def _line(value: Any, limit: int) -> str | None:
    """``value`` stripped when it is one line of 1 to ``limit`` characters, else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > limit or any(ord(c) < 32 or c == "\x7f" for c in text):
        return None
    return text


def check_name(value: Any, errors: dict[str, str], key: str = "name") -> str:
    name = _line(value, NAME_MAX)
    if name is None:
        errors[key] = f"must be a single line of 1 to {NAME_MAX} characters"
        return ""
    return name


def check_label(value: Any, errors: dict[str, str]) -> str:
    label = _line(value, LABEL_MAX)
    if label is None:
        errors["label"] = f"must be a single line of 1 to {LABEL_MAX} characters"
        return ""
    return label


def check_description(value: Any, errors: dict[str, str]) -> str:
    if not isinstance(value, str) or len(value) > DESCRIPTION_MAX or "\x00" in value:
        errors["description"] = f"must be text of at most {DESCRIPTION_MAX} characters"
        return ""
    return value


def check_weight(value: Any, errors: dict[str, str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > WEIGHT_LIMIT:
        errors["weight"] = f"must be a whole number between -{WEIGHT_LIMIT} and {WEIGHT_LIMIT}"
        return 0
    return value


def check_hierarchy(value: Any, errors: dict[str, str]) -> Hierarchy:
    if value not in HIERARCHIES:
        errors["hierarchy"] = f"must be one of: {', '.join(HIERARCHIES)}"
        return "multiple"
    return value  # type: ignore[no-any-return]


def check_slug(value: Any, errors: dict[str, str]) -> str:
    if not isinstance(value, str) or len(value) > SLUG_MAX or not SLUG.match(value):
        errors["slug"] = (f"must be lowercase letters a-z and digits in words joined by single"
                          f" hyphens, at most {SLUG_MAX} characters")
        return ""
    return value


def check_parents(value: Any, errors: dict[str, str]) -> list[uuid.UUID]:
    if not isinstance(value, list | tuple) or len(value) > MAX_PARENTS:
        errors["parents"] = f"must be a list of at most {MAX_PARENTS} tag ids"
        return []
    parents: list[uuid.UUID] = []
    for n, raw in enumerate(value):
        try:
            key = raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
        except ValueError:
            errors[f"parents.{n}"] = "must be a tag id (UUID)"
            continue
        if key not in parents:
            parents.append(key)
    return parents


def refuse(errors: Mapping[str, str], message: str) -> None:
    if errors:
        raise CategoryError(422, message, errors=errors)


def parse_tag_id(raw: uuid.UUID | str) -> uuid.UUID:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise no_such_tag() from None

