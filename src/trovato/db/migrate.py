"""Schema migrations: apply pending Alembic revisions and report status.

The revisions live in ``trovato/db/migrations/versions`` as raw SQL; this module only drives
Alembic programmatically so no ``alembic.ini`` is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

_SCRIPTS = Path(__file__).parent / "migrations"


def sqlalchemy_url(libpq_url: str) -> str:
    """Turn a libpq URL into the SQLAlchemy URL for the psycopg 3 dialect."""
    for scheme in ("postgresql://", "postgres://"):
        if libpq_url.startswith(scheme):
            return "postgresql+psycopg://" + libpq_url[len(scheme) :]
    return libpq_url


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    # ConfigParser treats % as interpolation; URLs may contain percent-escapes.
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


@dataclass(frozen=True)
class MigrationStatus:
    current: str | None
    head: str
    pending: list[str]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def status(url: str) -> MigrationStatus:
    """Which revision the database is at and which revisions are pending (oldest first)."""
    script = ScriptDirectory.from_config(_config(url))
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    head = script.get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    pending = [rev.revision for rev in script.iterate_revisions(head, current)]
    pending.reverse()
    return MigrationStatus(current=current, head=head, pending=pending)


def describe(url: str, revision: str) -> str:
    script = ScriptDirectory.from_config(_config(url))
    rev = script.get_revision(revision)
    return (rev.doc or "").strip().splitlines()[0] if rev is not None and rev.doc else ""


def upgrade(url: str, target: str = "head") -> None:
    """Apply every pending revision up to ``target``, in one transaction."""
    command.upgrade(_config(url), target)


def downgrade(url: str, target: str) -> None:
    command.downgrade(_config(url), target)
