"""Plugin tables are named ``p_<plugin>__<table>``, which no two plugins can share.

``p_<plugin>_<table>`` let plugin ``acme``'s table ``shop_orders`` and plugin ``acme_shop``'s
table ``orders`` be the same table (see ``trovato.plugins.namespaces``). This renames every
table the ``system`` table records for an installed plugin (``info -> 'info' -> 'tables'``,
the plugin's declaration), with its primary key's index.

Where two installed plugins already shared a table, each gets its own copy of it: both saw
every row before, both keep seeing them, and nothing is lost; a warning names the table so the
site builder can remove the other plugin's rows.

The naming rule is written out here, not imported: a revision keeps meaning what it meant when
it was written.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
_PG_IDENTIFIER_MAX = 63


def _old(plugin: str, table: str) -> str:
    return f"p_{plugin}_{table}"


def _new(plugin: str, table: str) -> str:
    return f"p_{plugin}__{table}"


def _declared(conn: Connection) -> list[tuple[str, str]]:
    """(plugin, table) for every table an installed plugin declares."""
    rows = conn.execute(text(
        "SELECT name, jsonb_object_keys(info -> 'info' -> 'tables') FROM system "
        "WHERE type = 'plugin' AND jsonb_typeof(info -> 'info' -> 'tables') = 'object' "
        "ORDER BY 1, 2"))
    return [(str(plugin), str(table)) for plugin, table in rows]


def _exists(conn: Connection, name: str) -> bool:
    return conn.execute(text("SELECT to_regclass(quote_ident(:name)) IS NOT NULL"),
                        {"name": name}).scalar_one() is True


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rename(conn: Connection, source: str, target: str) -> None:
    conn.execute(text(f"ALTER TABLE {_quote(source)} RENAME TO {_quote(target)}"))
    # The primary key's index carries the table's name; keep them together.
    index, renamed = f"{source}_pkey", f"{target}_pkey"
    if len(renamed) <= _PG_IDENTIFIER_MAX and _exists(conn, index):
        conn.execute(text(f"ALTER INDEX {_quote(index)} RENAME TO {_quote(renamed)}"))


def _check_lengths(pairs: list[tuple[str, str]], name: Callable[[str, str], str]) -> None:
    too_long = [name(p, t) for p, t in pairs if len(name(p, t)) > _PG_IDENTIFIER_MAX]
    if too_long:
        raise RuntimeError(
            f"plugin table name(s) {', '.join(too_long)} would exceed PostgreSQL's "
            f"{_PG_IDENTIFIER_MAX} characters; uninstall the plugin(s) owning them (or "
            f"shorten their table names) and migrate again")


def upgrade() -> None:
    conn = op.get_bind()
    pairs = [(p, t) for p, t in _declared(conn) if _exists(conn, _old(p, t))]
    _check_lengths(pairs, _new)
    shared = Counter(_old(p, t) for p, t in pairs)
    for plugin, table in pairs:
        old, new = _old(plugin, table), _new(plugin, table)
        if shared[old] > 1:
            log.warning("plugin table %s was shared by %d plugins; %s gets a copy of all its "
                        "rows", old, shared[old], new)
            conn.execute(text(f"CREATE TABLE {_quote(new)} "
                              f"(LIKE {_quote(old)} INCLUDING ALL)"))
            conn.execute(text(f"INSERT INTO {_quote(new)} SELECT * FROM {_quote(old)}"))
            shared[old] -= 1
        else:
            _rename(conn, old, new)


def downgrade() -> None:
    conn = op.get_bind()
    pairs = [(p, t) for p, t in _declared(conn) if _exists(conn, _new(p, t))]
    _check_lengths(pairs, _old)
    taken = sorted({_old(p, t) for p, t in pairs if _exists(conn, _old(p, t))}
                   | {old for old, n in Counter(_old(p, t) for p, t in pairs).items() if n > 1})
    if taken:
        raise RuntimeError(
            f"cannot go back to p_<plugin>_<table> names: {', '.join(taken)} would be "
            f"shared by two plugins' tables; uninstall one of the plugins first")
    for plugin, table in pairs:
        _rename(conn, _new(plugin, table), _old(plugin, table))
