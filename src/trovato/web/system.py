"""Operational endpoints: ``/health`` and ``/metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context

# A load balancer's probe typically gives up after a second or two: answer a failure before.
_PROBE_TIMEOUT = 1.0


async def _probe(check: Coroutine[Any, Any, None]) -> str:
    try:
        await asyncio.wait_for(check, _PROBE_TIMEOUT)
        return "ok"
    except Exception as exc:  # any failure means "not healthy", with its reason
        # The probe is public: name the failure, never the connection details.
        return f"error: {type(exc).__name__}"


async def health(request: Request) -> Response:
    """200 only when both the database and the shared store answer; 503 naming what failed.

    Both are probed at once, so a part that is down costs the probe one timeout, not two."""
    kernel = request_context(request).kernel
    database, store = await asyncio.gather(_probe(kernel.db.ping()), _probe(kernel.store.ping()))
    report = {"database": database, "store": store}
    healthy = all(v == "ok" for v in report.values())
    return JSONResponse(
        {"status": "ok" if healthy else "error", **report},
        status_code=200 if healthy else 503,
        headers={"cache-control": "no-store"},
    )


async def metrics(request: Request) -> Response:
    """Prometheus text; scrapers authenticate with an API token of a user who may see reports."""
    require_permission(request, "access site reports")
    kernel = request_context(request).kernel
    return Response(kernel.metrics.render(), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/health", health, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
