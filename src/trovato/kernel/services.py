"""The kernel: every service one process needs, built once at start from the settings.

Routes reach it through the request context; nothing here keeps site state between requests
(that lives in PostgreSQL and the shared store).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from trovato.caches import configure as configure_caches
from trovato.caches import process_caches
from trovato.categories.references import TagLabels
from trovato.categories.service import Categories
from trovato.categories.taps import PluginTagHooks
from trovato.content.formatters import Formatters
from trovato.content.reads import PluginItemReads
from trovato.content.services import ContentServices
from trovato.content.taps import PluginItemHooks, sync_item_types
from trovato.content.type_service import CHANNEL as ITEM_TYPES_CHANNEL
from trovato.content.view import ItemViews
from trovato.content.writes import PluginItemWrites
from trovato.cron import Cron
from trovato.db.pool import Database
from trovato.files.service import UPLOAD_FILES, Files
from trovato.files.storage import make_storage
from trovato.forms.service import Forms
from trovato.forms.state import FormStates
from trovato.forms.widgets import Widgets
from trovato.gather import Gather
from trovato.gather.cache import TagCache
from trovato.kernel.context import request_plugin_session
from trovato.kernel.flash import FlashSigner
from trovato.kernel.invalidation import Invalidation
from trovato.kernel.keys import derive_key, site_secret
from trovato.kernel.menu import MenuRouter
from trovato.kernel.page_cache import CHANNEL as PAGE_CACHE_CHANNEL
from trovato.kernel.page_cache import PageCache
from trovato.observability.metrics import Metrics
from trovato.plugins import PluginManager
from trovato.plugins.taps import Taps
from trovato.render.formats import default_registry as default_format_registry
from trovato.render.renderer import ThemeEngine, ThemeError
from trovato.render.templates import Templates
from trovato.routing import Redirects
from trovato.routing.redirects import ADMINISTER_REDIRECTS
from trovato.search import Search
from trovato.settings import Settings, SettingsError
from trovato.stages import Stages
from trovato.stages.desk import StageDesk
from trovato.stages.preview import PreviewLinks
from trovato.store import SharedStore, open_store
from trovato.tiles import Tiles
from trovato.users.accounts import Accounts
from trovato.users.permissions import CHANNEL as PERMISSIONS_CHANNEL
from trovato.users.permissions import (
    Permission,
    PermissionRegistry,
    PermissionService,
    text_format_permissions,
)
from trovato.users.sessions import SessionManager
from trovato.users.tokens import Tokens

log = logging.getLogger("trovato.kernel")

_STORE_TIMEOUT = 5.0


class StoreUnavailableError(RuntimeError):
    """The shared store could not be reached at start."""


@dataclass
class Kernel:
    settings: Settings
    db: Database
    store: SharedStore
    metrics: Metrics
    templates: Templates
    registry: PermissionRegistry
    permissions: PermissionService
    accounts: Accounts
    tokens: Tokens
    sessions: SessionManager
    flashes: FlashSigner  # signs the messages a page shows once (kernel/flash.py)
    page_cache: PageCache
    plugins: PluginManager
    menus: MenuRouter
    theme: ThemeEngine
    content: ContentServices
    stages: Stages
    previews: PreviewLinks
    stage_desk: StageDesk  # what the stage surfaces ask of stages
    taps: Taps
    views: ItemViews
    widgets: Widgets  # what the form API edits field values with
    cron: Cron  # the cron run and queue workers (`trovato cron`, `trovato worker`)
    forms: Forms  # the form API: alter/validate/submit taps, sealed form state, rendering
    categories: Categories  # vocabularies and tags (free tagging goes through it too)
    gather: Gather  # declarative listings (the front page is one)
    tiles: Tiles  # what fills the page's slots: placed tiles and the main menu
    files: Files  # managed uploads: validation, storage, usage by items, cleanup
    search: Search  # full-text search over the item read path
    redirects: Redirects  # old addresses answered with a redirect instead of a 404

    @classmethod
    async def start(cls, settings: Settings, database_url: str) -> Kernel:
        try:  # first: a theme error needs no database to report
            templates = Templates(site_name=settings.site_name, theme=settings.theme,
                                  theme_folders=settings.theme_folders())
        except ThemeError as exc:
            raise SettingsError(f"TROVATO_THEME / TROVATO_THEME_DIRS: {exc}") from None
        db = Database(
            database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            pgbouncer=settings.pgbouncer,
            pool_timeout=settings.db_pool_timeout,
        )
        await db.open()
        try:
            store = await open_store(
                db, redis_url=settings.redis_url, prefix=settings.redis_prefix
            )
            try:
                await asyncio.wait_for(store.ping(), _STORE_TIMEOUT)
            except Exception as exc:
                await store.close()
                where = "Redis (TROVATO_REDIS_URL)" if settings.uses_redis else "PostgreSQL"
                raise StoreUnavailableError(
                    f"the shared store does not answer: {where}: {type(exc).__name__}: {exc}"
                ) from None
        except Exception:
            await db.close()
            raise
        # Sessions' users are kept per process under the users stamp: there must be one.
        await store.sessions.restamp(only_if_missing=True)
        page_cache = PageCache(
            store,
            ttl=settings.page_cache_seconds,
            max_bytes=settings.page_cache_bytes,
            max_page_bytes=settings.page_cache_max_page_bytes,
        )
        # Anonymous pages show what the anonymous role may see, laid out by item type: drop
        # them all when either changes, here at once and elsewhere on the change's message
        # (subscribed below, after the services' own handlers, so those have reloaded by then).
        registry = PermissionRegistry()
        permissions = PermissionService(
            db, store, registry, max_age=settings.permission_cache_seconds,
            on_change=page_cache.clear,
        )
        await permissions.start()
        # The front door reaches the plugin manager built below: the manager's host functions
        # read items through the content service, whose hooks fire taps through this door.
        taps = Taps(lambda: plugins, request_session=request_plugin_session)
        accounts = Accounts(
            db,
            store,
            permissions,
            password_min_length=settings.password_min_length,
            login_ip_limit=settings.login_ip_limit,
            login_account_limit=settings.login_account_limit,
            lockout_seconds=settings.lockout_seconds,
            on_event=_user_events(taps),
        )
        await page_cache.start()
        configure_caches(settings.text_cache_bytes)
        formats = default_format_registry()
        for permission in text_format_permissions(formats):
            registry.add(permission)
        # Gather's results are dropped by the same tags as cached pages, here at once and in
        # other processes on the page cache's message (which this one also hears), and all of
        # them when a stage changes (a deleted stage's id may be used again).
        listings = TagCache()
        stages = Stages(db, on_change=listings.clear)
        await stages.start(store.pubsub.subscribe, store.pubsub.publish)
        secret = await site_secret(settings, db)

        invalidate = Invalidation(listings, page_cache)

        def types_changed(message: object = None) -> None:
            listings.clear()
            page_cache.clear()
            accounts.forget_users()  # a deleted type's permissions go with it

        categories = Categories(db, stages, hooks=PluginTagHooks(taps), invalidate=invalidate)
        registry.add(Permission(UPLOAD_FILES, "Upload files through the API",
                                "Item forms take uploads from whoever may edit the item."))
        registry.add(Permission(ADMINISTER_REDIRECTS, "Administer redirects",
                                "Create, change and delete redirects from old addresses of"
                                " the site to new ones.", restricted=True))
        files = Files(db, make_storage(settings), max_bytes=settings.file_max_bytes,
                      temporary_seconds=settings.file_temporary_seconds,
                      image_max_pixels=settings.image_max_pixels)
        content = await ContentServices.start(
            db,
            registry,
            subscribe=store.pubsub.subscribe,
            publish=store.pubsub.publish,
            invalidate=invalidate,
            formats=formats.names(),
            stages=stages,
            hooks=PluginItemHooks(taps),
            on_types_change=types_changed,
            tags=categories,
            files=files,
            # Listings' totals live with Gather's results: dropped by the same item writes.
            totals=listings,
        )
        await store.pubsub.subscribe(PERMISSIONS_CHANNEL, page_cache.clear)
        await store.pubsub.subscribe(ITEM_TYPES_CHANNEL, types_changed)
        await store.pubsub.subscribe(PAGE_CACHE_CHANNEL, listings.on_message)
        metrics = Metrics(caches={"page": page_cache, **process_caches()})

        async def sync_types(plugin: str) -> None:
            await sync_item_types(taps, content.types, plugin)

        plugins = PluginManager(
            db,
            store,
            plugin_dirs=settings.plugin_paths,
            cache_dir=settings.data_dir,
            metrics=metrics,
            permissions=registry,
            items=PluginItemReads(content.query),
            writes=PluginItemWrites(content.items),
            taps=taps,
            on_enable=sync_types,
            on_refresh=page_cache.clear,
        )
        await plugins.refresh()
        await plugins.listen()
        gather = Gather(db, content.query, content.types, taps, cache=listings,
                        invalidate=invalidate)
        log.info("kernel started", extra={"data": {"store": store.backend}})
        kernel = cls(
            settings=settings,
            db=db,
            store=store,
            metrics=metrics,
            templates=templates,
            registry=registry,
            permissions=permissions,
            accounts=accounts,
            tokens=Tokens(db),
            sessions=SessionManager(store.sessions, ttl=settings.session_ttl_seconds),
            flashes=FlashSigner(derive_key(secret, "flash")),
            page_cache=page_cache,
            plugins=plugins,
            menus=MenuRouter(plugins),
            theme=templates.engine,
            content=content,
            stages=stages,
            previews=PreviewLinks(db, derive_key(secret, "preview-link"), stages),
            stage_desk=StageDesk(stages, content.staging),
            taps=taps,
            views=ItemViews(content.types, Formatters(content.fields), taps, templates.engine,
                            labellers={"category_tag": TagLabels(db)}),
            widgets=Widgets(content.fields),
            cron=Cron(db, store, taps, fill_summaries=content.summaries.fill,
                      clean_files=files.cleanup),
            forms=Forms(taps, FormStates(store.cache, derive_key(secret, "form-state")),
                        templates.engine),
            categories=categories,
            gather=gather,
            tiles=Tiles(gather, taps, templates.engine.theme.slots, invalidate=invalidate),
            files=files,
            search=Search(db, content.query, content.types, invalidate=invalidate),
            redirects=Redirects(db),
        )
        return kernel

    async def stop(self) -> None:
        self.page_cache.close()
        await self.store.close()
        await self.db.close()


def _user_events(taps: Taps) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """The account service's events, fired as the user taps of the same name."""
    async def fire(tap: str, user: dict[str, Any]) -> None:
        outcome = await taps.fire(tap, {"user": user})
        for failure in outcome.failures:
            log.warning("%s: plugin failed", tap, extra={"data": {"error": str(failure)}})

    return fire
