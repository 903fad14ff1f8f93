"""What the OpenAPI document cannot say, taught to schemathesis (loaded by
``test_schemathesis.py`` through ``SCHEMATHESIS_HOOKS``).

An item type names each field once. JSON Schema has no uniqueness by one property (the
document says ``uniqueItems`` and the rule in words), so a body listing a name twice is not
offered as valid data: the service refuses it, rightly.

A tag's parents must be tags that exist (of its vocabulary). The document can only say "a
UUID", so a generated body naming parents is not offered as valid data either: the service
refuses made-up ones (422), rightly.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    body = case.body
    if not isinstance(body, dict):
        return True
    if "/categories/tags" in case.path:
        positive = case.meta is None or case.meta.generation.mode.is_positive
        return not (positive and body.get("parents"))
    if "/item-types" not in case.path:
        return True
    fields = body.get("fields")
    if not isinstance(fields, list):
        return True
    names = [f.get("name") for f in fields if isinstance(f, dict)]
    return len(names) == len(set(map(str, names)))
