"""Which plugins are installed and enabled: their rows in the ``system`` table.

No row: not installed; ``status`` :data:`DISABLED`: installed and disabled; :data:`ENABLED`:
enabled. A row also keeps the weight an administrator set (0: the file's), as written at
install, the plugin's info and what its ``describe()`` returned, and the enforced capabilities
(``items.write``) approved when it was last enabled: a capability added to ``plugin.toml``
afterwards is not granted until the plugin is enabled (and so approved) again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from trovato.db.pool import Database
from trovato.plugins.info import PluginInfo
from trovato.plugins.runtime import LoadedPlugin

DISABLED, ENABLED = 0, 1


@dataclass(slots=True)
class PluginState:
    name: str
    status: int
    weight: int
    version: str
    approved: frozenset[str] = frozenset()


async def read_states(db: Database) -> dict[str, PluginState]:
    """Every installed plugin's state, by name."""
    rows = await db.fetch(
        "SELECT name, status, weight, version, info -> 'approved_capabilities' AS approved"
        " FROM system WHERE type = 'plugin'")
    return {r["name"]: PluginState(r["name"], r["status"], r["weight"], r["version"],
                                   frozenset(r["approved"] or ()))
            for r in rows}


async def add_state(conn: AsyncConnection[Any], info: PluginInfo, loaded: LoadedPlugin) -> None:
    """Record ``info``'s plugin as installed and disabled (in the caller's transaction)."""
    await conn.execute(
        "INSERT INTO system (name, type, status, weight, version, filename, info) "
        "VALUES (%s, 'plugin', %s, %s, %s, %s, %s)",
        (info.name, DISABLED, info.weight, info.version, str(info.path),
         Jsonb({**info.as_json(), "describe": loaded.description,
                "wasm_sha256": loaded.wasm_sha256})))


async def set_status(conn: AsyncConnection[Any], name: str, status: int) -> None:
    """Enable or disable ``name`` (in the caller's transaction)."""
    await conn.execute("UPDATE system SET status = %s WHERE name = %s", (status, name))


async def record_approval(conn: AsyncConnection[Any], name: str,
                          capabilities: frozenset[str]) -> None:
    """Record the enforced capabilities approved for ``name`` as it is enabled (in the
    caller's transaction)."""
    await conn.execute(
        "UPDATE system SET info = jsonb_set(coalesce(info, '{}'), '{approved_capabilities}',"
        " %s) WHERE name = %s", (Jsonb(sorted(capabilities)), name))


async def remove_state(conn: AsyncConnection[Any], name: str) -> None:
    """Forget ``name``'s state (in the caller's transaction): it is no longer installed."""
    await conn.execute("DELETE FROM system WHERE name = %s", (name,))
