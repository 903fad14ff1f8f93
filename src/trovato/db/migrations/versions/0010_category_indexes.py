"""Categories: the indexes the categories service reads by.

A vocabulary's tags are listed in (weight, name) order and a tag page finds its tag by
(vocabulary, slug) — the existing unique constraint serves that; free tagging looks a typed
name up case-insensitively within a vocabulary. The tag table's columns are unchanged (Gather
reads them as they are).

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE INDEX category_tag_listing_idx ON category_tag (vocabulary_id, stage_id, weight, name);
CREATE INDEX category_tag_name_idx ON category_tag (vocabulary_id, lower(name));
""")


def downgrade() -> None:
    op.execute("""
DROP INDEX category_tag_name_idx;
DROP INDEX category_tag_listing_idx;
""")
