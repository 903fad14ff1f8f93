"""Shared state without Redis: sessions, cache, locks and rate-limit counters.

UNLOGGED tables skip the write-ahead log: writes cost about as much as a Redis round trip, and
a crash empties them, which is acceptable for state that expires anyway (sessions may then be
lost). Expiry is a column compared with the server's ``now()`` on read; ``sweep()`` deletes the
expired rows. The durable job ``queue`` from 0001 gets an index matching its claim order and
loses ``claim_token``: a claim is identified by the job's delivery count (``attempts``).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE UNLOGGED TABLE sessions (
    sid        text PRIMARY KEY,
    data       jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- expires_at NULL: kept until deleted or invalidated.
CREATE UNLOGGED TABLE cache (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    tags       text[] NOT NULL DEFAULT '{}',
    expires_at timestamptz
);
CREATE INDEX cache_tags_gin ON cache USING gin (tags);
CREATE INDEX cache_expires_idx ON cache (expires_at) WHERE expires_at IS NOT NULL;

CREATE UNLOGGED TABLE lock (
    name       text PRIMARY KEY,
    token      text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- One fixed window per key: count hits until expires_at, then start over.
CREATE UNLOGGED TABLE rate_limit (
    key        text PRIMARY KEY,
    count      integer NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX rate_limit_expires_idx ON rate_limit (expires_at);

-- Claims scan one queue in (available_at, id) order; id breaks ties FIFO (UUIDv7).
DROP INDEX queue_claim_idx;
CREATE INDEX queue_claim_idx ON queue (name, available_at, id);
ALTER TABLE queue DROP COLUMN claim_token;
"""

DOWNGRADE = """
ALTER TABLE queue ADD COLUMN claim_token uuid;
DROP INDEX queue_claim_idx;
CREATE INDEX queue_claim_idx ON queue (name, available_at);
DROP TABLE IF EXISTS rate_limit, lock, cache, sessions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
