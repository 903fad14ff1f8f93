"""Schema migrations: apply pending Alembic revisions and report status.

The revisions live in ``trovato/db/migrations/versions`` as raw SQL; this module only drives
Alembic programmatically so no ``alembic.ini`` is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from alembic.config import Config

_SCRIPTS = Path(__file__).parent / "migrations"
_DECLARATION = re.compile(
    r"""^(revision|down_revision)(?:\s*:[^=]+)?\s*=\s*(None|"[^"]*"|'[^']*')\s*$""", re.M)
_RST_LITERAL = re.compile(r"``([^`]+)``")


def sqlalchemy_url(libpq_url: str) -> str:
    """Turn a libpq URL into the SQLAlchemy URL for the psycopg 3 dialect."""
    for scheme in ("postgresql://", "postgres://"):
        if libpq_url.startswith(scheme):
            return "postgresql+psycopg://" + libpq_url[len(scheme) :]
    return libpq_url


def _config(url: str) -> Config:
    from alembic.config import Config

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


def _head_from_files() -> str | None:
    """The head revision read from the revision files' declarations, or None when the
    chain is not a single line (Alembic then decides)."""
    parents: dict[str, str | None] = {}
    for path in (_SCRIPTS / "versions").glob("[!_]*.py"):
        found = dict(_DECLARATION.findall(path.read_text()))
        if "revision" not in found:
            return None
        down = found.get("down_revision", "None")
        parents[found["revision"].strip("\"'")] = None if down == "None" else down.strip("\"'")
    heads = set(parents) - {p for p in parents.values() if p is not None}
    return heads.pop() if len(heads) == 1 else None


def head_revision() -> str:
    """The revision a database at head is at: read from the revision files when the chain
    is one line (no Alembic import), else Alembic's answer."""
    head = _head_from_files()
    if head is not None:
        return head
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(_config("")).get_current_head()
    if found is None:
        raise RuntimeError("no migrations found")
    return found


def is_current(url: str) -> bool:
    """True when the database is at the head revision — checked with one query and the
    revision files, without importing Alembic and SQLAlchemy (a web worker's start-up checks
    this; the import alone cost a third of a second)."""
    head = _head_from_files()
    if head is None:
        return status(url).up_to_date
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except psycopg.errors.UndefinedTable:
        return False
    return row is not None and row[0] == head


def status(url: str) -> MigrationStatus:
    """Which revision the database is at and which revisions are pending (oldest first)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

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
    """The revision's summary for people: its docstring's first paragraph on one line, its
    reStructuredText literals in single backticks like the rest of the CLI's text."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config(url))
    rev = script.get_revision(revision)
    if rev is None or not rev.doc:
        return ""
    summary = " ".join(rev.doc.strip().split("\n\n")[0].split())
    return _RST_LITERAL.sub(r"`\1`", summary)


def upgrade(url: str, target: str = "head") -> None:
    """Apply every pending revision up to ``target``, in one transaction."""
    from alembic import command

    command.upgrade(_config(url), target)


def downgrade(url: str, target: str) -> None:
    from alembic import command

    command.downgrade(_config(url), target)
