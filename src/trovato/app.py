"""Composition root: builds the ASGI application from the settings.

``create_app()`` is the factory granian and uvicorn call in every worker. Its one middleware
is the request pipeline (``trovato.kernel.pipeline``); routes are thin and call the services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from trovato.api import gather as api_gather
from trovato.api import item_types as api_item_types
from trovato.api import items as api_items
from trovato.api import openapi as api_openapi
from trovato.api import previews as api_previews
from trovato.api import roles as api_roles
from trovato.api import session as api_session
from trovato.api import stages as api_stages
from trovato.api import tokens as api_tokens
from trovato.api import users as api_users
from trovato.db import migrate
from trovato.db.embedded import EmbeddedPostgres
from trovato.kernel.errors import exception_handlers
from trovato.kernel.pipeline import KernelPipeline
from trovato.kernel.services import Kernel
from trovato.observability import logging as json_logging
from trovato.observability.allocations import AllocationTracer
from trovato.settings import Settings, SettingsError, load_settings
from trovato.web import (
    favicon,
    gather,
    install,
    item,
    item_edit,
    revisions,
    site,
    stages,
    system,
    user,
)


def routes() -> list[BaseRoute]:
    return [
        Mount("/assets", StaticFiles(packages=[("trovato.render", "static")]), name="assets"),
        *system.routes,
        *favicon.routes,
        *site.routes,
        # Early: Starlette tries routes in order and item pages are most of a site's traffic
        # (only the editing routes' /item/add/… could also match /item/{id}…: they go first).
        *item_edit.routes,
        *item.routes,
        *revisions.routes,
        *install.routes,
        *user.routes,
        *stages.routes,
        *api_session.routes,
        *api_tokens.routes,
        *api_roles.routes,
        *api_users.routes,
        *api_item_types.routes,
        *api_items.routes,
        *api_stages.routes,
        *api_previews.routes,
        *api_openapi.routes,
        *api_gather.routes,
        # Last: Gather's page and feed displays, then (for paths no listing claims) the
        # plugins' pages, so both only see paths no kernel route matched.
        *gather.routes,
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    json_logging.configure()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tracer = AllocationTracer() if settings.debug_tracemalloc else None
        if tracer is not None:
            tracer.listen()
        embedded: EmbeddedPostgres | None = None
        url = settings.database_url
        if url is None:
            # `trovato serve` starts the server and passes its URL on; a bare ASGI server
            # (e.g. `granian trovato.app:create_app`) gets one started or attached here.
            embedded = EmbeddedPostgres(settings.data_dir)
            url = embedded.start()
            migrate.upgrade(url)
        elif not migrate.is_current(url):
            state = migrate.status(url)
            if not state.up_to_date:
                raise SettingsError(
                    f"the database needs migrations {', '.join(state.pending)}:"
                    " run `trovato db migrate`"
                )
        kernel = await Kernel.start(settings, url)
        app.state.kernel = kernel
        try:
            yield
        finally:
            await kernel.stop()
            if embedded is not None:
                embedded.stop()
            if tracer is not None:
                tracer.stop()

    return Starlette(
        routes=routes(),
        middleware=[Middleware(KernelPipeline)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
