"""Operational endpoints: ``/health`` and ``/metrics``."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trovato.kernel.access import require_permission
from trovato.kernel.context import request_context

_PROBE_TIMEOUT = 2.0


async def health(request: Request) -> Response:
    """200 only when both the database and the shared store answer; 503 naming what failed."""
    kernel = request_context(request).kernel
    checks = {"database": kernel.db.ping(), "store": kernel.store.ping()}
    report: dict[str, str] = {}
    for name, probe in checks.items():
        try:
            await asyncio.wait_for(probe, _PROBE_TIMEOUT)
            report[name] = "ok"
        except Exception as exc:  # any failure means "not healthy", with its reason
            # The probe is public: name the failure, never the connection details.
            report[name] = f"error: {type(exc).__name__}"
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
