"""The admin content list's default order has an index: newest edit first, per stage.

``/admin/content`` lists 50 items of a site ordered by ``changed DESC, id DESC`` in the
request's stage; without an index in that order PostgreSQL sorts every item of the stage for
each page (17 to 37 ms at 10,000 items on a loaded machine, 7 ms with it).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX item_changed_idx ON item (stage_id, changed DESC, id DESC)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS item_changed_idx")
