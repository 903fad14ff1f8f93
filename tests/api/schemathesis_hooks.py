"""What the OpenAPI document cannot say, taught to schemathesis (loaded by
``test_schemathesis.py`` through ``SCHEMATHESIS_HOOKS``).

An item type names each field once. JSON Schema has no uniqueness by one property (the
document says ``uniqueItems`` and the rule in words), so a body listing a name twice is not
offered as valid data: the service refuses it, rightly.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    body = case.body
    if "/item-types" not in case.path or not isinstance(body, dict):
        return True
    fields = body.get("fields")
    if not isinstance(fields, list):
        return True
    names = [f.get("name") for f in fields if isinstance(f, dict)]
    return len(names) == len(set(map(str, names)))
