"""Stage permissions: ``view stages`` becomes ``use stages``.

Stages are now written in and created, not only previewed, so the permission that lets a user
into the stages they may access is named for that; roles that held the old name keep the
grant under the new one. (``publish stages`` and ``administer stages`` are new and granted to
no role.)

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
UPDATE role_permission SET permission = 'use stages' WHERE permission = 'view stages';
CREATE INDEX item_revision_stage_idx ON item_revision (stage_id) WHERE stage_id <> 'live';
""")


def downgrade() -> None:
    op.execute("""
DROP INDEX item_revision_stage_idx;
DELETE FROM role_permission WHERE permission IN ('publish stages', 'administer stages');
UPDATE role_permission SET permission = 'view stages' WHERE permission = 'use stages';
""")
