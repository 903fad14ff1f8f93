"""``/health`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool

from tests._servers import free_port
from tests.conftest import api_login, create_account, running_app, site_settings
from trovato.kernel.services import StoreUnavailableError


async def test_health_ok_names_both_backends(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "store": "ok"}


async def test_health_503_names_the_failing_store(db_url: str) -> None:
    settings = site_settings(db_url, "postgres")
    async with running_app(settings) as client:
        kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
        working = kernel.db.pool
        # The database goes away under the running app: a pool that cannot connect.
        kernel.db.pool = AsyncConnectionPool("postgresql://nobody@127.0.0.1:1/x", open=False)
        response = await client.get("/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "error"
        assert body["database"].startswith("error")
        assert body["store"].startswith("error")  # the PostgreSQL-backed store shares it
        kernel.db.pool = working


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
async def test_health_503_when_redis_goes_away(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            await asyncio.sleep(0.05)
        settings = site_settings(db_url, "postgres", redis_url=f"redis://127.0.0.1:{port}/0")
        async with running_app(settings) as client:
            assert (await client.get("/health")).status_code == 200
            redis.terminate()
            redis.wait(10)
            response = await client.get("/health")
            assert response.status_code == 503
            body = response.json()
            assert body["database"] == "ok"
            assert body["store"].startswith("error: ")
            assert str(port) not in body["store"]  # public probe: no connection details
    finally:
        if redis.poll() is None:
            redis.kill()
            redis.wait()


async def test_start_fails_clearly_when_redis_is_unreachable(db_url: str) -> None:
    settings = site_settings(db_url, "postgres", redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(StoreUnavailableError, match="TROVATO_REDIS_URL"):
        async with running_app(settings):
            pass


async def test_metrics_has_latency_histograms_by_route(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 403
    await create_account(client, "root", admin=True)
    await api_login(client, "root")
    await client.get("/api/v1/users/me")
    await client.get("/no/such/page")
    text = (await client.get("/metrics")).text
    assert "trovato_http_request_duration_seconds_bucket" in text
    assert 'route="/api/v1/users/me"' in text
    assert 'route="/{path:path}"' in text  # unknown paths: the plugin-menu fallback


async def test_metrics_report_this_process_and_its_caches(client: httpx.AsyncClient) -> None:
    await create_account(client, "root", admin=True)
    client.cookies.clear()
    assert (await client.get("/")).headers["x-trovato-cache"] == "MISS"  # stored for the next
    await api_login(client, "root")
    text = (await client.get("/metrics")).text
    assert f"trovato_process_pid {float(os.getpid())}" in text
    assert "process_resident_memory_bytes " in text
    for cache in ("page", "filtered_text", "summary", "attribute_text", "url_policy",
                  "local_time"):
        assert f'trovato_memory_cache_bytes{{cache="{cache}"}} ' in text
        assert f'trovato_memory_cache_entries{{cache="{cache}"}} ' in text
    # The anonymous front page was stored: the page cache's bytes are what it counts.
    kernel = client._transport.app.state.kernel  # type: ignore[attr-defined]
    assert kernel.page_cache.bytes > 0
    assert f'trovato_memory_cache_bytes{{cache="page"}} {float(kernel.page_cache.bytes)}' in text
