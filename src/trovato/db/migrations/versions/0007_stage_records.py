"""Stage records: a life cycle, per-stage role access, preview links and staged revisions.

* ``stage.status`` is ``open``, ``published`` or ``archived``; only open stages take writes.
  ``changed`` and ``published`` record when. Every stage but live has an upstream (a stage
  created without one publishes to live), and live has none.
* ``stage_role`` lists the roles that may use a private stage besides its owner.
* ``stage_preview_link`` holds the signed, expiring, read-only preview links of a stage; a
  link is revoked by stamping ``revoked``.
* ``item_revision.stage_id`` says which stage a revision was written in, so an item's history
  in live never shows a stage's unpublished revisions; publishing moves them upstream.
  ``promote`` and ``sticky`` are kept on revisions so an edit in a stage can carry them.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
ALTER TABLE stage
    ADD COLUMN status text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'published', 'archived')),
    ADD COLUMN changed timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN published timestamptz,
    ALTER COLUMN upstream_id SET DEFAULT 'live';
UPDATE stage SET upstream_id = 'live' WHERE id <> 'live' AND upstream_id IS NULL;
UPDATE stage SET visibility = 'private' WHERE visibility NOT IN ('public', 'private');
ALTER TABLE stage
    ADD CONSTRAINT stage_upstream_check CHECK ((id = 'live') = (upstream_id IS NULL)),
    ADD CONSTRAINT stage_visibility_check CHECK (visibility IN ('public', 'private'));
CREATE INDEX stage_upstream_idx ON stage (upstream_id);

CREATE TABLE stage_role (
    stage_id text NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
    role_id  uuid NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    PRIMARY KEY (stage_id, role_id)
);

CREATE TABLE stage_preview_link (
    id         uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    stage_id   text NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created    timestamptz NOT NULL DEFAULT now(),
    expires    timestamptz NOT NULL,
    revoked    timestamptz
);
CREATE INDEX stage_preview_link_stage_idx ON stage_preview_link (stage_id);

ALTER TABLE item_revision
    ADD COLUMN stage_id text NOT NULL DEFAULT 'live' REFERENCES stage (id) ON DELETE CASCADE,
    ADD COLUMN promote boolean,
    ADD COLUMN sticky boolean;
CREATE INDEX stage_association_item_idx ON stage_association (item_id);
""")


def downgrade() -> None:
    op.execute("""
DROP INDEX stage_association_item_idx;
ALTER TABLE item_revision DROP COLUMN stage_id, DROP COLUMN promote, DROP COLUMN sticky;
DROP TABLE stage_preview_link;
DROP TABLE stage_role;
DROP INDEX stage_upstream_idx;
ALTER TABLE stage
    DROP CONSTRAINT stage_visibility_check,
    DROP CONSTRAINT stage_upstream_check,
    ALTER COLUMN upstream_id DROP DEFAULT,
    DROP COLUMN published,
    DROP COLUMN changed,
    DROP COLUMN status;
""")
