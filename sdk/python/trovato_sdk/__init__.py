"""The Trovato plugin SDK: write plugins as plain Python, run them in a WebAssembly sandbox.

```python
from trovato_sdk import tap, render, Access

@tap
def item_view(item, ctx):
    return render.markup(item.title)
```

See ``docs/plugins.md`` for the guide. The SDK has no dependencies beyond the standard library
because it is compiled into the plugin's component.
"""

from __future__ import annotations

from trovato_sdk import render
from trovato_sdk._runtime import CONTRACT, Refused, function, tap
from trovato_sdk.context import Context, HostError, ItemWriteError
from trovato_sdk.types import (
    Access,
    Field,
    FieldValue,
    Item,
    ItemType,
    Menu,
    Permission,
    Request,
    User,
)

__version__ = "1.1.0"

__all__ = [
    "CONTRACT",
    "Access",
    "Context",
    "Field",
    "FieldValue",
    "HostError",
    "Item",
    "ItemType",
    "ItemWriteError",
    "Menu",
    "Permission",
    "Refused",
    "Request",
    "User",
    "function",
    "render",
    "tap",
]
