"""What the OpenAPI document cannot say, taught to schemathesis (loaded by
``test_schemathesis.py`` through ``SCHEMATHESIS_HOOKS``).

An item type names each field once, and a Gather definition's exposed filters and arguments
each take a parameter of their own. JSON Schema has no uniqueness by one property (the
document says ``uniqueItems`` or the rule in words), so a body naming one twice is not offered
as valid data: the service refuses it, rightly.

A tag's parents must be tags that exist (of its vocabulary). The document can only say "a
UUID", so a generated body naming parents is not offered as valid data either: the service
refuses made-up ones (422), rightly.
"""

from __future__ import annotations

from typing import Any

import schemathesis


def _exposed(filters: Any) -> list[str]:
    """The parameters (exposed filters' and arguments') of a definition's filters, at every
    depth."""
    names: list[str] = []
    for part in filters if isinstance(filters, list) else []:
        if isinstance(part, dict):
            names.extend(part[key] for key in ("exposed", "argument")
                         if isinstance(part.get(key), str))
            names.extend(_exposed(part.get("filters")))
    return names


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    body = case.body
    if not isinstance(body, dict):
        return True
    if "/categories/tags" in case.path:
        positive = case.meta is None or case.meta.generation.mode.is_positive
        return not (positive and body.get("parents"))
    if "/gather-definitions" in case.path:
        exposed = _exposed(body.get("filters"))
        return len(exposed) == len(set(exposed))
    if "/item-types" not in case.path:
        return True
    fields = body.get("fields")
    if not isinstance(fields, list):
        return True
    names = [f.get("name") for f in fields if isinstance(f, dict)]
    return len(names) == len(set(map(str, names)))
