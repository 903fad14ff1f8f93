"""The admin content list's other orders have indexes too: by title, by type and by status
(each way), the newest edit first within a type or a status, per stage.

``/admin/content`` sorted by one of these columns read every item of the stage and kept the
first 50 (a sequential scan and a top-N sort: 4,000 buffers, 15 to 50 ms at 10,000 items); in
index order a page is its 50 entries (about 70 buffers, under a millisecond). The type and
status indexes also serve the list filtered by a type or a status in its default order
(newest edit first), which read ``item_changed_idx`` past every item of the other types or
status. A title sort descending reads the title index backwards; ``-type`` and ``-status``
keep the newest edit first within each type or status, so each needs its own index.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = {
    "item_title_idx": "(stage_id, title, id)",
    "item_type_changed_idx": "(stage_id, type, changed DESC, id DESC)",
    "item_type_desc_changed_idx": "(stage_id, type DESC, changed DESC, id DESC)",
    "item_status_changed_idx": "(stage_id, status, changed DESC, id DESC)",
    "item_status_desc_changed_idx": "(stage_id, status DESC, changed DESC, id DESC)",
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON item {columns}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
