"""Gather: the front page becomes the Gather listing ``frontpage`` (as in Drupal).

Promoted, published items, sticky first, then newest, as teasers on ``/`` (the per-page count
is the site's ``TROVATO_FRONT_PAGE_ITEMS``, which the front page passes; 25 is the listing's
own, used by its JSON display). Its order is ``item_front_idx``'s, so a page is read in index
order from its keyset anchor however many items the site has.

Revision ID: 0011
Revises: 0010
"""

import json

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FRONT_PAGE = {
    "base": "item",
    "filters": [
        {"field": "status", "op": "equals", "value": 1},
        {"field": "promote", "op": "equals", "value": True},
    ],
    "sorts": [{"field": "sticky", "direction": "desc"}, {"field": "created", "direction": "desc"}],
    "pager": {"type": "full", "per_page": 25},
    "displays": {"page": {"path": "/", "style": "teasers"}, "feed": {"path": "/rss.xml"},
                 "json": {}},
    "empty_text": "No content has been published yet.",
}


def upgrade() -> None:
    op.get_bind().exec_driver_sql(
        "INSERT INTO gather_query (name, label, definition) VALUES (%s, %s, %s)"
        " ON CONFLICT (name) DO NOTHING",
        ("frontpage", "Front page", json.dumps(FRONT_PAGE)))


def downgrade() -> None:
    op.execute("DELETE FROM gather_query WHERE name = 'frontpage'")
