"""Users are found by one canonical name key: ``users.name_key``, unique.

Login, the failed-login lockout and account lookups compared names with PostgreSQL's
``lower()`` in one place and Python's ``str.lower()`` in another; they disagree on characters
such as ``İ``, which let a look-alike spelling of a locked account's name log in. The key is
computed by :func:`trovato.names.name_key` (compatibility, case and look-alike folding)
and its unique index also refuses a new account whose name only looks like an existing one.

Existing accounts whose names share a key cannot both keep them: the upgrade stops and names
them, so an administrator renames one first (``UPDATE users SET name = …``).

Unlike the naming rule of 0005, the folding is imported, not written out: the stored keys must
be the ones login computes, and a change to the folding comes with its own revision that
recomputes them (see :mod:`trovato.names`), so a database migrated later ends the same. It is
imported from the base module every layer may use, never from the accounts service above the
database layer.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from trovato.names import name_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    op.execute("ALTER TABLE users ADD COLUMN name_key text")
    owners: dict[str, str] = {}
    for user_id, name in bind.execute(sa.text("SELECT id, name FROM users ORDER BY created")):
        key = name_key(name)
        if key in owners:
            raise RuntimeError(
                f"the user names {owners[key]!r} and {name!r} look alike; rename one of them"
                " (UPDATE users SET name = ... WHERE name = ...) and run the migration again")
        owners[key] = name
        bind.execute(sa.text("UPDATE users SET name_key = :key WHERE id = :id"),
                     {"key": key, "id": user_id})
    op.execute("ALTER TABLE users ALTER COLUMN name_key SET NOT NULL")
    op.execute("DROP INDEX users_name_key")
    op.execute("CREATE UNIQUE INDEX users_name_key ON users (name_key)")


def downgrade() -> None:
    op.execute("DROP INDEX users_name_key")
    op.execute("ALTER TABLE users DROP COLUMN name_key")
    op.execute("CREATE UNIQUE INDEX users_name_key ON users (lower(name))")
