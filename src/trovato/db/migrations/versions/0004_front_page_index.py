"""The front page's index serves its whole order and its stage filter.

``item_front_idx`` covered ``(promote, sticky DESC, created DESC)``: the listing's tie-breaker
``id DESC`` and its ``stage_id`` filter were not in it, so PostgreSQL read and sorted every
promoted item before taking a page. With both in the index a page is the first LIMIT entries
read in order, and the total is an index-only count.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS item_front_idx")
    op.execute("CREATE INDEX item_front_idx ON item "
               "(stage_id, promote, sticky DESC, created DESC, id DESC) WHERE status = 1")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS item_front_idx")
    op.execute("CREATE INDEX item_front_idx ON item (promote, sticky DESC, created DESC) "
               "WHERE status = 1")
