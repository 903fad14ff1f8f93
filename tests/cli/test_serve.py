"""`trovato serve` on the embedded default: no database configured, several workers.

This is the README's first command: it must start PostgreSQL itself, migrate, serve, and leave
nothing running when it is killed, even with SIGKILL.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests._servers import free_port

pytestmark = pytest.mark.slow


def _postmaster_pid(data_dir: Path) -> int | None:
    for pid_file in data_dir.glob("pg*/postmaster.pid"):
        return int(pid_file.read_text().splitlines()[0])
    return None


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_serve_starts_embedded_postgres_and_it_dies_with_the_server() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="trovato-serve-"))
    data_dir.chmod(0o755)
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("TROVATO_DATABASE_URL", "DATABASE_URL", "TROVATO_REDIS_URL", "REDIS_URL")}
    env["TROVATO_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "trovato", "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve never became healthy"
            time.sleep(0.2)
        assert health.json() == {"status": "ok", "database": "ok", "store": "ok"}
        front = httpx.get(f"http://127.0.0.1:{port}/")
        assert front.status_code == 303 and front.headers["location"] == "/install"
        assert "Install Trovato" in httpx.get(f"http://127.0.0.1:{port}/install").text
        postmaster = _postmaster_pid(data_dir)
        assert postmaster is not None and _alive(postmaster)

        os.killpg(process.pid, signal.SIGKILL)  # no chance to clean up
        process.wait(10)
        deadline = time.monotonic() + 15
        while _alive(postmaster):
            assert time.monotonic() < deadline, "embedded PostgreSQL outlived the server"
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout:
            process.stdout.close()
        shutil.rmtree(data_dir, ignore_errors=True)
