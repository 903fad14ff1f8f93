"""The cluster on disk: the data directory, ``initdb``, and the settings written at initdb.

Layout under ``data_dir``: ``pg18/`` (PGDATA, tied to the major version so upgrades are
explicit), ``pg18.log`` (server log) and, only when needed as root, ``pg-18.6/`` (binary copy).
A directory Trovato did not create never has its mode or owner changed.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from trovato.db.embedded.binaries import BINDIR_ENV, child_env
from trovato.db.embedded.errors import EmbeddedPostgresError
from trovato.db.embedded.process import LOG_TAIL_LINES
from trovato.db.embedded.system_user import RunAs, first_untraversable

log = logging.getLogger(__name__)

SUPERUSER = "postgres"

# Written once into postgresql.conf after initdb. postgresql.auto.conf is left to ALTER SYSTEM,
# so an operator can still override these. fsync keeps its default (on): this is real data.
_EMBEDDED_SETTINGS: tuple[tuple[str, str], ...] = (
    ("listen_addresses", "''"),  # trust auth: never reachable over TCP
    ("max_connections", "60"),
    ("shared_buffers", "'128MB'"),
    ("max_wal_size", "'256MB'"),  # the 1GB default let pg_wal grow to 400MB in the spike
    ("min_wal_size", "'64MB'"),
    ("logging_collector", "off"),  # stderr goes to <data_dir>/pgNN.log
)


def prepare_data_dir(data_dir: Path, run_as: RunAs | None) -> None:
    """Create ``data_dir`` if missing; as root, check the server user can get through it."""
    if not data_dir.is_dir():
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            data_dir.mkdir()
        except FileExistsError:
            pass  # created concurrently by another Trovato process: not ours to chmod
        else:
            # Ours, so we may set its mode; the umask must not make it untraversable for
            # the server user. PGDATA inside stays 0700.
            data_dir.chmod(0o755)
    if run_as is not None:
        blocked = first_untraversable(data_dir, run_as)
        if blocked is not None:
            mode = stat.S_IMODE(blocked.stat().st_mode)
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL runs as system user {run_as.name!r}, which "
                f"cannot enter {blocked} (mode {mode:04o}). Trovato does not change the "
                "permissions of existing directories: choose a data directory that user can "
                f"reach (for example /var/lib/trovato), grant access yourself (chmod o+x "
                f"{blocked}), run as a non-root user, or set TROVATO_DATABASE_URL."
            )


def check_major_version(pgdata: Path, major: int, bindir: Path, version: str) -> None:
    """Refuse a PGDATA initialised by another major version than the binaries'."""
    found = (pgdata / "PG_VERSION").read_text().strip()
    if found != str(major):
        raise EmbeddedPostgresError(
            f"{pgdata} was initialised by PostgreSQL {found}, but the binaries in "
            f"{bindir} are PostgreSQL {version}. Use PostgreSQL {found} binaries "
            f"({BINDIR_ENV}), or upgrade the cluster (pg_upgrade, or dump and reload)."
        )


def initdb(
    data_dir: Path,
    pgdata: Path,
    bindir: Path,
    major: int,
    run_as: RunAs | None,
    timings: dict[str, float],
) -> None:
    """Create the cluster in a scratch directory, then rename it to PGDATA.

    The rename makes initialisation atomic: an interrupted initdb never leaves a PGDATA
    that looks usable, and of two launchers racing here exactly one cluster wins.
    """
    _warn_about_other_majors(data_dir, pgdata, major)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{pgdata.name}.initdb-", dir=data_dir))
    try:
        if run_as is not None:
            os.chown(tmp, run_as.uid, run_as.gid)
        if major >= 17:
            # The builtin provider needs no OS locales (minimal images lack C.UTF-8) and
            # still gives Unicode-aware upper()/lower(). Sorting is by code point.
            locale = ["--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--locale=C"]
        else:
            locale = ["--locale=C.UTF-8"]
        args = [str(bindir / "initdb"), "-D", str(tmp), "-U", SUPERUSER,
                "--auth=trust", "-E", "UTF8", *locale]  # fmt: skip
        result = subprocess.run(
            args, capture_output=True, text=True, check=False, env=child_env(),
            cwd=data_dir,
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            extra_groups=[] if run_as else None,
        )  # fmt: skip
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip().splitlines()
            raise EmbeddedPostgresError(
                f"initdb for {pgdata} failed (exit {result.returncode}):\n"
                + "\n".join(output[-LOG_TAIL_LINES:])
            )
        _write_settings(tmp)
        try:
            tmp.rename(pgdata)
        except OSError as exc:
            if not (pgdata / "PG_VERSION").is_file():
                raise EmbeddedPostgresError(
                    f"{pgdata} exists but is not a PostgreSQL data directory: {exc}"
                ) from exc
            # a concurrent Trovato process initialised it first; use theirs
        _fsync_dir(data_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    timings["initdb"] = time.perf_counter() - started
    log.info("initialised %s in %.3fs", pgdata, timings["initdb"])


def _write_settings(pgdata: Path) -> None:
    # Appending keeps the file's owner (the server user, when running as root).
    lines = ["", "# Trovato embedded defaults (written at initdb; ALTER SYSTEM overrides)"]
    lines += [f"{name} = {value}" for name, value in _EMBEDDED_SETTINGS]
    with (pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n".join(lines) + "\n")


def _warn_about_other_majors(data_dir: Path, pgdata: Path, major: int) -> None:
    others = sorted(
        p.name for p in data_dir.glob("pg[0-9]*")
        if p != pgdata and (p / "PG_VERSION").is_file()
    )  # fmt: skip
    if others:
        log.warning(
            "creating a new PostgreSQL %d cluster in %s; existing cluster(s) %s are not "
            "migrated automatically", major, pgdata, ", ".join(others),
        )  # fmt: skip


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
