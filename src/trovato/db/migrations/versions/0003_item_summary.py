"""Items keep their teaser summary: ``item.summary``, written with the item.

A listing of teasers then reads the summary instead of every field's JSON (see
``trovato.content.summary``). Existing items start with NULL, "not known": readers compute
their summary from the fields until the item is next saved.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE item ADD COLUMN summary text")


def downgrade() -> None:
    op.execute("ALTER TABLE item DROP COLUMN summary")
