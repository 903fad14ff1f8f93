"""Alembic environment: runs the raw-SQL revisions in one transaction under an advisory lock.

The lock keeps two processes that start at once (several hosts, several workers) from applying
the same revision twice.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

_MIGRATION_LOCK = 7_301_123_001  # arbitrary, fixed: pg_advisory_xact_lock key for migrations

config = context.config
url = config.get_main_option("sqlalchemy.url")
if url is None:
    raise RuntimeError("alembic: sqlalchemy.url is not set")

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=False)
        with context.begin_transaction():
            connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
            context.run_migrations()
    engine.dispose()
