"""The unprivileged system user the server runs as when Trovato runs as root.

PostgreSQL refuses to run as root, so a root-run Trovato creates (once) a no-login system user
that owns PGDATA and runs the server. The mode-bit checks here tell whether that user can reach
a directory or run a file; nothing here changes the mode or owner of anything.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from trovato.db.embedded.errors import EmbeddedPostgresError

log = logging.getLogger(__name__)

DEFAULT_SYSTEM_USER = "trovato-postgres"


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account that owns PGDATA and runs the server (root only)."""

    name: str
    uid: int
    gid: int


def ensure_system_user(name: str, timings: dict[str, float]) -> RunAs:
    """Return the system user, creating it with ``useradd`` if it does not exist."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = _create_system_user(name, timings)
    if entry.pw_uid == 0:
        raise EmbeddedPostgresError(
            f"system user {name!r} has uid 0; PostgreSQL refuses to run as root"
        )
    return RunAs(name, entry.pw_uid, entry.pw_gid)


def _create_system_user(name: str, timings: dict[str, float]) -> pwd.struct_passwd:
    advice = (
        "Run Trovato as a non-root user, create the user yourself, or point "
        "TROVATO_DATABASE_URL at an existing PostgreSQL server."
    )
    # PATH of a root shell in a container may lack the sbin directories.
    useradd = shutil.which("useradd") or next(
        (p for p in ("/usr/sbin/useradd", "/sbin/useradd") if os.access(p, os.X_OK)), None
    )
    if useradd is None:
        raise EmbeddedPostgresError(
            "running as root, the embedded PostgreSQL needs an unprivileged system user "
            f"({name!r}), but 'useradd' is not available. {advice}"
        )
    started = time.perf_counter()
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", name],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        # Look up even after a failure: a concurrent Trovato process may have won the race.
        entry = pwd.getpwnam(name)
    except KeyError:
        raise EmbeddedPostgresError(
            f"could not create system user {name!r} for the embedded "
            f"PostgreSQL (useradd exit {result.returncode}: {result.stderr.strip()}). {advice}"
        ) from None
    timings["create_user"] = time.perf_counter() - started
    log.info("created system user %s (uid %d)", name, entry.pw_uid)
    return entry


def can(st: os.stat_result, run_as: RunAs, bits: int) -> bool:
    """Mode-bit check for ``run_as`` (its only group is its primary one; ACLs are ignored)."""
    if st.st_uid == run_as.uid:
        return st.st_mode & (bits << 6) == bits << 6
    if st.st_gid == run_as.gid:
        return st.st_mode & (bits << 3) == bits << 3
    return st.st_mode & bits == bits


def first_untraversable(path: Path, run_as: RunAs) -> Path | None:
    """The first directory from ``/`` down to ``path`` that ``run_as`` cannot enter."""
    path = path.resolve()
    for directory in [*reversed(path.parents), path]:
        if not can(directory.stat(), run_as, 0o1):
            return directory
    return None
