"""Revisions keep their teaser summary too: ``item_revision.summary``, written with each.

A read in a stage shows a staged edit's revision in place of the item row (the stage overlay,
``trovato.content.query.item_source``); with the summary stored on the revision, a listing of
teasers in a stage reads it as live reads ``item.summary``, instead of loading every field and
computing it on each request. Existing revisions start with NULL, "not known": readers compute
their summary from the fields, as before.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE item_revision ADD COLUMN summary text")


def downgrade() -> None:
    op.execute("ALTER TABLE item_revision DROP COLUMN summary")
