"""The :class:`EmbeddedPostgres` lifecycle: start a private server, or attach to a running one.

``start()`` sets up the system user (as root), the data directory and the cluster, then either
attaches to a server another Trovato process already runs on the same data directory or spawns
one and waits until it is ready; ``stop()`` fast-shuts down a server this object spawned.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import NoReturn
from urllib.parse import quote

from trovato.db.embedded.binaries import binary_version, find_bindir, usable_bindir
from trovato.db.embedded.cluster import (
    SUPERUSER,
    check_major_version,
    initdb,
    prepare_data_dir,
)
from trovato.db.embedded.errors import EmbeddedPostgresError
from trovato.db.embedded.process import (
    PORT,
    PidFile,
    process_alive,
    read_pidfile,
    socket_accepts,
    socket_dir_for,
    spawn,
    tail,
)
from trovato.db.embedded.system_user import DEFAULT_SYSTEM_USER, RunAs, ensure_system_user

log = logging.getLogger(__name__)

_READY_POLL_S = 0.005
_STOP_ESCALATION_S = 10.0


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
        self.version, self.major = binary_version(self._source_bindir)
        self.pgdata = self.data_dir / f"pg{self.major}"
        self.log_path = self.data_dir / f"pg{self.major}.log"
        #: Seconds spent in each phase (initdb, start, attach, stop, create_user, copy_binaries).
        self.timings: dict[str, float] = {}
        self._run_as: RunAs | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._attached_pid: int | None = None
        self._socket_dir: Path | None = None
        self._port = PORT

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
            f"postgresql://{SUPERUSER}@/{quote(database, safe='')}?host={host}&port={self._port}"
        )

    def start(self, timeout: float = 30.0) -> str:
        """Initialise the cluster if needed, start it or attach to it; return ``url()``.

        Raises :class:`EmbeddedPostgresError` if that fails or takes longer than ``timeout``.
        """
        if self.owns_server or (
            self._attached_pid is not None and process_alive(self._attached_pid)
        ):
            return self.url()
        self._attached_pid = None
        deadline = time.monotonic() + timeout
        try:
            if os.geteuid() == 0:
                self._run_as = ensure_system_user(self.system_user, self.timings)
            prepare_data_dir(self.data_dir, self._run_as)
            if self._run_as is not None:
                self.bindir = usable_bindir(
                    self._source_bindir, self._run_as, self.data_dir, self.version, self.timings
                )
            if (self.pgdata / "PG_VERSION").is_file():
                check_major_version(self.pgdata, self.major, self.bindir, self.version)
            else:
                initdb(
                    self.data_dir, self.pgdata, self.bindir, self.major, self._run_as,
                    self.timings,
                )  # fmt: skip
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

    # -- process --------------------------------------------------------------------------------

    def _start_or_attach(self, deadline: float) -> None:
        """Attach to a live server on this PGDATA, or spawn one and wait until it is ready."""
        # A live postmaster.pid means another Trovato process runs the server (maybe still
        # starting). A stale one (dead pid) is not our business: postgres replaces it itself.
        waiting_since = time.perf_counter()
        while (found := read_pidfile(self.pgdata)) is not None and process_alive(found.pid):
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

        uid = self._run_as.uid if self._run_as else os.getuid()
        self._socket_dir = socket_dir_for(self.pgdata, self._port, uid, self._run_as)
        started = time.perf_counter()
        proc = self._proc = spawn(
            self.bindir, self.pgdata, self._port, self._socket_dir, self.log_path, self._run_as
        )
        while True:
            found = read_pidfile(self.pgdata)
            if found is not None and found.pid == proc.pid and found.status == "ready":
                self.timings["start"] = time.perf_counter() - started
                log.info(
                    "embedded PostgreSQL %s ready in %.3fs (pid %d)",
                    self.version, self.timings["start"], proc.pid,
                )  # fmt: skip
                return
            if proc.poll() is not None:
                self._proc = None
                if found is not None and found.pid != proc.pid and process_alive(found.pid):
                    # Lost a start race with another launcher (ours found its lock file):
                    # attach to the winner once it is ready.
                    self._start_or_attach(deadline)
                    return
                self._startup_failed(f"postgres exited with code {proc.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                self._startup_failed("postgres did not become ready in time")
            time.sleep(_READY_POLL_S)

    def _try_attach(self, found: PidFile) -> bool:
        """Attach if the live server is ready and answers on its socket."""
        if found.status != "ready" or found.socket_dir is None:
            return False
        if not socket_accepts(found.socket_dir / f".s.PGSQL.{found.port}"):
            return False
        self._socket_dir = found.socket_dir
        self._port = found.port
        self._attached_pid = found.pid
        return True

    def _startup_failed(self, reason: str) -> NoReturn:
        self._proc = None
        raise EmbeddedPostgresError(
            f"{reason} (data directory {self.pgdata}); last lines of {self.log_path}:\n"
            + tail(self.log_path)
        )
