"""Tile placements name their source (``gather:<listing>`` or ``plugin:<plugin>:<tile>``).

The core schema's ``tile`` table was shaped after Drupal's blocks (a plugin and a delta per
theme, a stage column) before tiles existed. What the tile service stores instead: one
``source`` naming where the tile's content comes from (a Gather listing's tile display or a
plugin's tile), the slot, weight and enabled flag, a title override, the visibility rules
(path patterns, roles, stages) as JSON and the plugin tile's settings. A placement belongs to
the site, not to a theme (a slot the active theme lacks is simply not shown), and its stage is
a visibility rule, so neither column stays. The table was never written to, so nothing is
carried over.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
DROP INDEX IF EXISTS tile_theme_slot_idx;
ALTER TABLE tile
    DROP COLUMN plugin,
    DROP COLUMN delta,
    DROP COLUMN theme,
    DROP COLUMN stage_id,
    ADD COLUMN source  text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    ADD COLUMN changed timestamptz NOT NULL DEFAULT now();
ALTER TABLE tile ADD CONSTRAINT tile_slot_check CHECK (length(slot) BETWEEN 1 AND 64);
""")


def downgrade() -> None:
    op.execute("""
DELETE FROM tile;
ALTER TABLE tile
    DROP CONSTRAINT tile_slot_check,
    DROP COLUMN source,
    DROP COLUMN changed,
    ADD COLUMN plugin   text NOT NULL,
    ADD COLUMN delta    text NOT NULL,
    ADD COLUMN theme    text NOT NULL,
    ADD COLUMN stage_id text NOT NULL DEFAULT 'live' REFERENCES stage (id);
CREATE INDEX tile_theme_slot_idx ON tile (theme, slot, stage_id);
""")
