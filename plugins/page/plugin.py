"""page: a basic page item type.

The kernel adds the type's permissions ("create page content", "edit own page content", …)
and renders the body, so declaring the type is all this plugin does.
"""

from __future__ import annotations

from trovato_sdk import Field, ItemType, tap


@tap
def item_info():
    return [ItemType("page", "Basic page", fields=[
        Field.text_long("field_body", "Body", required=True),
    ])]
