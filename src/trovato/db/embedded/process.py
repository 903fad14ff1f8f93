"""The server process: spawning ``postgres``, reading ``postmaster.pid``, liveness checks.

``postgres`` runs as a direct child process (no ``pg_ctl`` daemonising), in its own session so a
terminal Ctrl-C reaches only Trovato, with ``PR_SET_PDEATHSIG`` = SIGINT so that the server does
a fast shutdown whenever the launching process dies, even by SIGKILL. It listens on a unix socket
only. Readiness is read from the status line of ``postmaster.pid``.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trovato.db.embedded.binaries import child_env
from trovato.db.embedded.errors import EmbeddedPostgresError
from trovato.db.embedded.system_user import RunAs

# The socket directory is private to one cluster, so the default port number cannot clash; it is
# passed explicitly to the server and put in the URL so a PGPORT in the environment cannot
# redirect either side.
PORT = 5432
LOG_TAIL_LINES = 25
# sun_path holds 108 bytes including the NUL; keep a margin below that.
_MAX_SOCKET_PATH = 100
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class PidFile:
    """What ``postmaster.pid`` says about a (possibly stale) server."""

    pid: int
    port: int
    socket_dir: Path | None
    status: str  # "starting", "ready", "stopping", "standby"; "" while still being written


def read_pidfile(pgdata: Path) -> PidFile | None:
    """The server's ``postmaster.pid``, or None when absent or caught half-written."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None  # absent, or caught half-written
    # Lines: pid, datadir, start time, port, socket dir, listen addr, shmem key, status.
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else PORT
    sockdir = Path(lines[4].split(",")[0].strip()) if len(lines) > 4 and lines[4] else None
    status = lines[7].strip() if len(lines) > 7 else ""
    return PidFile(pid, port, sockdir, status)


def socket_dir_for(pgdata: Path, port: int, uid: int, run_as: RunAs | None) -> Path:
    """PGDATA if the socket path fits in sun_path, else a private directory in /tmp."""
    if len(os.fsencode(pgdata / f".s.PGSQL.{port}")) < _MAX_SOCKET_PATH:
        return pgdata
    # Stable across processes (unlike hash()), so every launcher finds the same socket.
    digest = hashlib.sha256(os.fsencode(pgdata)).hexdigest()[:16]
    path = Path("/tmp") / f".trovato-pg-{uid}-{digest}"  # noqa: S108 - must be short
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    else:
        if run_as is not None:
            os.chown(path, run_as.uid, run_as.gid)
    # /tmp is shared: refuse a directory someone else prepared for us.
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
        raise EmbeddedPostgresError(
            f"refusing to use socket directory {path}: it must be a directory owned by "
            f"uid {uid} with mode 0700"
        )
    return path


def spawn(
    bindir: Path,
    pgdata: Path,
    port: int,
    socket_dir: Path,
    log_path: Path,
    run_as: RunAs | None,
) -> subprocess.Popen[bytes]:
    """Start ``postgres`` on ``pgdata`` as a child tied to this process's life."""
    args = [
        str(bindir / "postgres"), "-D", str(pgdata), "-p", str(port),
        "-k", str(socket_dir),
        # Also on the command line, where ALTER SYSTEM cannot re-enable TCP: trust auth.
        "-c", "listen_addresses=",
    ]  # fmt: skip
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            cwd=pgdata.parent,  # the data directory
            env=child_env(),
            start_new_session=True,  # a terminal's Ctrl-C goes to Trovato, which stops us
            preexec_fn=_make_child_setup(),  # prctl() has no other hook
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            extra_groups=[] if run_as else None,  # drop root's supplementary groups
        )
    finally:
        os.close(log_fd)


def _make_child_setup() -> Callable[[], None]:
    """The ``preexec_fn`` that ties the server's life to this process (Linux only)."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    parent = os.getpid()
    # Resolved before fork: the child should do as little as possible before exec.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    sigint = int(signal.SIGINT)

    def setup() -> None:
        # subprocess runs this after switching uid/gid, which matters: a credential change
        # clears the parent-death signal. SIGINT asks postgres for a fast shutdown.
        prctl(_PR_SET_PDEATHSIG, sigint, 0, 0, 0)
        if os.getppid() != parent:
            # The parent died between fork and prctl, so no signal will ever come.
            os.kill(os.getpid(), signal.SIGKILL)

    return setup


def process_alive(pid: int) -> bool:
    """True if ``pid`` is a live process (not a zombie), whoever owns it."""
    if pid <= 0:
        return False  # kill(0 or -n) would signal process groups
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    try:
        # A zombie (exited, never reaped, e.g. under a PID 1 that does not reap) answers kill(0).
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no procfs: trust kill()
    return state not in ("Z", "X")


def socket_accepts(path: Path) -> bool:
    """True if a server accepts connections on the unix socket ``path``.

    Guards against a postmaster.pid whose pid was reused by an unrelated process. Closing
    without a startup packet is not logged by postgres.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(os.fsencode(path))
        except OSError:
            return False
    return True


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of the server log (for error messages)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(cannot read log: {exc})"
    return "\n".join(text.splitlines()[-lines:])
