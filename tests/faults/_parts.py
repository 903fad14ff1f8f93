"""Private servers the fault tests break, a site set up on them, and a load driver.

Every server here is started by the test on a temporary directory or a free port, so stopping
or killing it never touches the machine's shared PostgreSQL (5432) or Redis (6379).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests._servers import free_port
from trovato.db.embedded import EmbeddedPostgres

PASSWORD = "correct horse battery staple"
ARTICLE: dict[str, Any] = {
    "type": "article",
    "label": "Article",
    "fields": [{"name": "field_body", "type": "text_long", "label": "Body"}],
}


def scratch_dir(prefix: str) -> Path:
    """A temporary directory the embedded server's system user can traverse (as root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@contextmanager
def serve(env: dict[str, str], log_path: Path, *args: str) -> Iterator[tuple[str, int]]:
    """Run ``trovato serve`` on a free port until the block ends; yields its base URL and the
    pid of its main process (granian's workers are its children).

    Its output goes to ``log_path``: an outage makes the site log a warning per refused
    request, and a pipe nobody reads would fill up and block the workers on their next log
    line.
    """
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "trovato", "serve", "--port", str(port), *args],
            env={**clean, **env}, stdout=log, stderr=log, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()[-4000:]
            try:
                if httpx.get(base + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()[-4000:]
            time.sleep(0.1)
        yield base, process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class Postgres:
    """A private PostgreSQL the test can stop and start again on the same address."""

    url: str

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop()


class EmbeddedServer(Postgres):
    """The embedded launcher on a data directory; ``trovato serve`` given the same
    ``TROVATO_DATA_DIR`` attaches to it, so the site runs in embedded mode (unix socket)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server = EmbeddedPostgres(data_dir)
        self.url = self._server.start()

    def start(self) -> None:
        self._server = EmbeddedPostgres(self.data_dir)
        self._server.start()

    def stop(self) -> None:
        self._server.stop()


class ExternalServer(Postgres):
    """A cluster initialised by the embedded launcher, then run as an ordinary server on a
    free TCP port of 127.0.0.1, reached through ``TROVATO_DATABASE_URL``."""

    def __init__(self, data_dir: Path) -> None:
        initialiser = EmbeddedPostgres(data_dir)
        initialiser.start()
        initialiser.stop()
        self._bindir = initialiser.bindir
        self._pgdata = initialiser.pgdata
        self._log = data_dir / "external.log"
        self._port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self.url = f"postgresql://postgres@127.0.0.1:{self._port}/postgres"
        self.start()

    def start(self) -> None:
        owner = self._pgdata.stat()
        as_root = os.geteuid() == 0
        with open(self._log, "ab") as log:
            self._proc = subprocess.Popen(
                [str(self._bindir / "postgres"), "-D", str(self._pgdata), "-p", str(self._port),
                 "-k", str(self._pgdata), "-c", "listen_addresses=127.0.0.1"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                user=owner.st_uid if as_root else None, group=owner.st_gid if as_root else None,
                extra_groups=[] if as_root else None,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self._log.read_text()[-2000:]) from None
                time.sleep(0.05)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # fast shutdown, as an operator's restart does
            proc.wait(30)


class RedisServer:
    """A private ``redis-server`` on a free port, persisting to its own directory, so a stop
    and start keeps its sessions as a production Redis with snapshots would."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self._proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self._dir), "--save", "3600 1", "--appendonly", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                             text=True, check=False).stdout.strip() != "PONG":
            assert time.monotonic() < deadline, "private redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()  # SIGTERM: Redis saves its snapshot and exits
            proc.wait(30)


@contextmanager
def private_postgres(kind: str) -> Iterator[tuple[Postgres, dict[str, str], Path]]:
    """A private server of ``kind`` ("embedded" or "external"), the site environment that
    reaches it and a scratch directory for logs."""
    data_dir = scratch_dir(f"trovato-faults-{kind}-")
    server: Postgres | None = None
    try:
        if kind == "embedded":
            server = EmbeddedServer(data_dir)
            env = {"TROVATO_DATA_DIR": str(data_dir), "TROVATO_DATABASE_URL": ""}
        else:
            server = ExternalServer(data_dir)
            env = {"TROVATO_DATABASE_URL": server.url}
            run_cli(env, "db", "migrate")
        yield server, {**env, "TROVATO_REDIS_URL": ""}, data_dir
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def site_env(**extra: str) -> dict[str, str]:
    """Settings every fault-test site shares: no write rate limit in the way of the load."""
    return {"TROVATO_WRITE_RATE_LIMIT": "1000000", "TROVATO_LOGIN_IP_LIMIT": "100000", **extra}


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "trovato", *args], input=stdin, capture_output=True, text=True,
        env={**clean, **env}, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def create_admin(env: dict[str, str], name: str = "root") -> None:
    run_cli(env, "user", "create", "--admin", "--name", name, "--mail", f"{name}@example.com",
            "--password-stdin", stdin=PASSWORD + "\n")


@dataclass
class Site:
    """A running site with an article type, an admin's API token and some published items."""

    base: str
    token: str
    items: list[str]
    cookie: str  # an admin session, for logged-in page reads

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def prepare_site(base: str, seed_items: int = 5) -> Site:
    with httpx.Client(base_url=base, timeout=30) as client:
        login = client.post("/api/v1/session", json={"name": "root", "pass": PASSWORD})
        assert login.status_code == 200, login.text
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        token = client.post("/api/v1/tokens", json={"label": "faults"}, headers=csrf)
        assert token.status_code == 201, token.text
        bearer = {"Authorization": f"Bearer {token.json()['token']}"}
        made = client.post("/api/v1/item-types", json=ARTICLE, headers=bearer)
        assert made.status_code == 201, made.text
        items = [create_item(client, bearer, f"seed {n}").json()["id"] for n in range(seed_items)]
        return Site(base, token.json()["token"], items, client.cookies["trovato_session"])


def create_item(client: httpx.Client, headers: dict[str, str], title: str) -> httpx.Response:
    return client.post("/api/v1/items", headers=headers, json={
        "type": "article", "title": title, "status": 1,
        "fields": {"field_body": {"value": f"<p>{title}</p>", "format": "filtered_html"}}})


@dataclass(frozen=True)
class Outcome:
    """One request of the load: what was asked, when, and what came back."""

    kind: str
    started: float
    finished: float
    status: int  # 0: no HTTP answer at all (connection error or client timeout)
    content_type: str
    retry_after: str | None
    body: str
    created: str | None  # the item id a 2xx create acknowledged


@dataclass
class Load:
    """Clients hammering a site from threads until stopped; every outcome is kept."""

    site: Site
    clients: int = 6
    timeout: float = 15.0
    kinds: tuple[str, ...] = ("html", "api", "create")
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Load:
        for n in range(self.clients):
            thread = threading.Thread(target=self._run, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def _request(self, client: httpx.Client, kind: str, n: int) -> Callable[[], httpx.Response]:
        item = random.choice(self.site.items)
        if kind == "html":
            return lambda: client.get(f"/item/{item}")
        if kind == "api":
            return lambda: client.get(f"/api/v1/items/{item}")
        if kind == "session":
            def logged_in_read() -> httpx.Response:
                client.cookies.set("trovato_session", self.site.cookie)
                return client.get("/api/v1/users/me")
            return logged_in_read
        if kind == "login":
            return lambda: client.post("/api/v1/session",
                                       json={"name": "root", "pass": PASSWORD})
        assert kind == "create"
        return lambda: create_item(client, self.site.bearer, f"load {n} {time.time_ns()}")

    def _run(self, n: int) -> None:
        with httpx.Client(base_url=self.site.base, timeout=self.timeout) as client:
            while not self._stop.is_set():
                kind = self.kinds[random.randrange(len(self.kinds))]
                send = self._request(client, kind, n)
                client.cookies.clear()
                started = time.monotonic()
                try:
                    response = send()
                except httpx.HTTPError as exc:
                    outcome = Outcome(kind, started, time.monotonic(), 0, "", None, repr(exc),
                                      None)
                else:
                    created = None
                    if kind == "create" and response.is_success:
                        created = response.json()["id"]
                    outcome = Outcome(kind, started, time.monotonic(), response.status_code,
                                      response.headers.get("content-type", ""),
                                      response.headers.get("retry-after"), response.text[:4000],
                                      created)
                with self._lock:
                    self.outcomes.append(outcome)
                time.sleep(0.005)

    def after(self, moment: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.started >= moment]


def assert_clear_503(outcome: Outcome, part_text: str) -> None:
    """A refusal that names what is down, in the route's format, with no traceback."""
    assert outcome.status == 503, outcome
    assert outcome.retry_after is not None and int(outcome.retry_after) > 0, outcome
    assert "Traceback" not in outcome.body and "File \"" not in outcome.body, outcome
    if outcome.kind in ("html",):
        assert outcome.content_type.startswith("text/html"), outcome
        assert part_text in outcome.body, outcome
    else:
        assert outcome.content_type.startswith("application/problem+json"), outcome
        assert part_text in outcome.body and '"status":503' in outcome.body, outcome


def wait_healthy(base: str, within: float) -> float:
    """Seconds until ``/health`` answers 200 (fails after ``within``)."""
    started = time.monotonic()
    while True:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        assert time.monotonic() - started < within, f"not healthy within {within}s"
        time.sleep(0.05)
