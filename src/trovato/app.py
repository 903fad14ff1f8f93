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

from trovato.api import batches as api_batches
from trovato.api import categories as api_categories
from trovato.api import files as api_files
from trovato.api import gather as api_gather
from trovato.api import item_types as api_item_types
from trovato.api import items as api_items
from trovato.api import openapi as api_openapi
from trovato.api import previews as api_previews
from trovato.api import roles as api_roles
from trovato.api import search as api_search
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
    autocomplete,
    categories,
    favicon,
    files,
    form_ajax,
    gather,
    install,
    item,
    item_edit,
    register,
    revisions,
    search,
    site,
    stage_admin,
    stages,
    system,
    user,
)
from trovato.web.admin import batch as admin_batch
from trovato.web.admin import categories as admin_categories
from trovato.web.admin import content as admin_content
from trovato.web.admin import dashboard as admin_dashboard
from trovato.web.admin import fields as admin_fields
from trovato.web.admin import gather as admin_gather
from trovato.web.admin import image_styles as admin_image_styles
from trovato.web.admin import people as admin_people
from trovato.web.admin import plugins as admin_plugins
from trovato.web.admin import redirects as admin_redirects
from trovato.web.admin import reports as admin_reports
from trovato.web.admin import roles as admin_roles
from trovato.web.admin import search_language as admin_search_language
from trovato.web.admin import search_weights as admin_search_weights
from trovato.web.admin import tiles as admin_tiles
from trovato.web.admin import types as admin_types
from trovato.web.router import IndexedRouter


def routes() -> list[BaseRoute]:
    return [
        Mount("/assets", StaticFiles(packages=[("trovato.render", "static")]), name="assets"),
        *system.routes,
        *site.routes,
        # Early: Starlette tries routes in order and item pages are most of a site's traffic
        # (of the editing routes only /item/add could also match /item/{id}: it goes first).
        *item_edit.chooser_routes,
        *item.routes,
        *favicon.routes,
        *item_edit.routes,
        *revisions.routes,
        *files.routes,
        *install.routes,
        *register.routes,  # before user.routes, whose /user/{user_id} would match it
        *user.routes,
        *admin_people.routes,
        *admin_roles.routes,
        *stage_admin.routes,  # before stages.routes, whose /admin/stages/{id} would match
        *stages.routes,
        *admin_plugins.routes,
        *admin_reports.routes,
        *admin_types.routes,
        *admin_fields.routes,
        *form_ajax.routes,
        *autocomplete.routes,
        *categories.routes,
        *search.routes,
        *admin_categories.routes,
        *admin_tiles.routes,
        *admin_image_styles.routes,
        *admin_search_weights.routes,
        *admin_search_language.routes,
        *admin_redirects.routes,
        *admin_gather.routes,
        *admin_dashboard.routes,
        *admin_content.routes,
        *admin_batch.routes,
        *api_session.routes,
        *api_tokens.routes,
        *api_roles.routes,
        *api_users.routes,
        *api_item_types.routes,
        *api_items.routes,
        *api_stages.routes,
        *api_previews.routes,
        *api_categories.routes,
        *api_openapi.routes,
        *api_gather.routes,
        *api_files.routes,
        *api_search.routes,
        *api_batches.routes,
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

    app = Starlette(
        middleware=[Middleware(KernelPipeline)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    # Starlette's router with an index of the route table (trovato.web.router).
    app.router = IndexedRouter(routes(), lifespan=lifespan)
    return app
