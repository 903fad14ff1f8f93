"""Test infrastructure: a real PostgreSQL (and Redis when configured), a fresh database per test.

``TROVATO_TEST_DATABASE_URL`` names a server to create per-run databases on; without it the
suite starts the embedded PostgreSQL in a temporary folder, so ``pytest`` needs no server.
``TROVATO_TEST_REDIS_URL`` enables the Redis backends' tests; keys are prefixed per run.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from tests._plugin_cache import plugin_cache_dir
from trovato.app import create_app
from trovato.db import migrate
from trovato.db.pool import Database
from trovato.db.urls import with_database
from trovato.settings import Settings

RUN_ID = uuid.uuid4().hex[:8]
# Where the test sites keep uploads (never the machine's data directory); removed at the end.
TEST_FILES_DIR = Path(tempfile.gettempdir()) / f"trovato-test-files-{RUN_ID}"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A URL of a PostgreSQL server (its maintenance database) for this test run."""
    explicit = os.environ.get("TROVATO_TEST_DATABASE_URL")
    if explicit:
        yield explicit
        return
    from trovato.db.embedded import EmbeddedPostgres

    base = Path(tempfile.mkdtemp(prefix="trovato-test-pg-"))
    base.chmod(0o755)  # as root the server runs as its own user, which must reach this folder
    server = EmbeddedPostgres(base / "data")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url, autocommit=True)


@contextmanager
def _scratch_database(server_url: str, name: str, template: str | None = None) -> Iterator[str]:
    """Create database ``name`` (empty, or a copy of ``template``), yield its URL, drop it."""
    copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    with _admin(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield with_database(server_url, name)
    finally:
        with _admin(server_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> Iterator[str]:
    """A migrated database that each test's database is copied from."""
    name = f"trovato_t_{RUN_ID}_tpl"
    with _scratch_database(pg_server_url, name) as url:
        migrate.upgrade(url)
        yield name


@pytest.fixture
def db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A URL of a fresh, migrated database of its own for one test."""
    name = f"trovato_t_{RUN_ID}_{next(_counter)}"
    with _scratch_database(pg_server_url, name, template_db) as url:
        yield url


@pytest.fixture
def empty_db_url(pg_server_url: str) -> Iterator[str]:
    """A URL of a fresh database with no schema at all (migration tests)."""
    with _scratch_database(pg_server_url, f"trovato_t_{RUN_ID}_{next(_counter)}") as url:
        yield url


@asynccontextmanager
async def open_database(db_url: str, max_size: int = 5) -> AsyncIterator[Database]:
    """An open pool on ``db_url``, closed on exit."""
    db = Database(db_url, min_size=1, max_size=max_size)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    async with open_database(db_url) as db:
        yield db


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TROVATO_TEST_REDIS_URL")
    if not url:
        pytest.skip("TROVATO_TEST_REDIS_URL is not set")
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of one test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"trovato-test:{RUN_ID}:{next(_counter)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["postgres", "redis"])
def store_backend(request: pytest.FixtureRequest) -> str:
    """Runs a test once per shared-state backend (Redis only when configured)."""
    if request.param == "redis" and not os.environ.get("TROVATO_TEST_REDIS_URL"):
        pytest.skip("TROVATO_TEST_REDIS_URL is not set")
    return str(request.param)


def site_settings(db_url: str, backend: str = "postgres", **overrides: object) -> Settings:
    """Settings for an app under test on its own database (and Redis key prefix)."""
    values: dict[str, object] = {
        "database_url": db_url,
        "redis_url": os.environ.get("TROVATO_TEST_REDIS_URL") if backend == "redis" else None,
        "redis_prefix": f"trovato-test:{RUN_ID}:{next(_counter)}:",
        "environment": "test",
        "password_min_length": 10,
        "db_pool_max": 5,
        # Uploads of a test never land in the machine's data directory.
        "files_dir": TEST_FILES_DIR,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan, behind an in-process HTTP client."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture(scope="session", autouse=True)
def _test_files_dir() -> Iterator[None]:
    yield
    shutil.rmtree(TEST_FILES_DIR, ignore_errors=True)


@pytest.fixture
async def client(db_url: str, store_backend: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(site_settings(db_url, store_backend)) as c:
        yield c


ADMIN_PASSWORD = "correct horse battery staple"


async def create_account(
    client: httpx.AsyncClient, name: str, *, admin: bool = False,
    password: str = ADMIN_PASSWORD,
) -> str:
    """Create an account through the kernel of the running app; returns its id."""
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    user_id = await kernel.accounts.create(
        name=name, mail=f"{name.lower().replace(' ', '.')}@example.com", password=password,
        is_admin=admin,
    )
    return str(user_id)


async def api_login(
    client: httpx.AsyncClient, name: str, password: str = ADMIN_PASSWORD
) -> str:
    """Log in through the JSON API; returns the CSRF token (the cookie stays in the client)."""
    response = await client.post("/api/v1/session", json={"name": name, "pass": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


@pytest.fixture(scope="session")
def plugin_cache() -> Path:
    """The shared folder of built plugin components (see tests/_plugin_cache.py)."""
    return plugin_cache_dir()
