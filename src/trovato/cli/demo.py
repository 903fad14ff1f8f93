"""``trovato demo``: load demo content (pages and blog posts) into the site.

Installs and enables the ``page`` and ``blog`` plugins when they are not yet (building them the
first time takes a while), then creates the "Tags" vocabulary (the one the blog's Tags field
names) with a few tags, a few pages and promoted blog posts tagged with them, a "Recent
articles" Gather listing (a page at ``/articles`` with a main menu link, and a tile display)
and that tile in the sidebar — so a newcomer sees categories, Gather, menus and tiles at work.
Running it again changes nothing: items whose type and title already exist, the vocabulary,
the listing and the tile are kept.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from trovato.categories.model import CategoryError
from trovato.cli import _output
from trovato.cli._runtime import database_url, migrate_with_progress
from trovato.content.items import ItemError
from trovato.gather import GatherError
from trovato.kernel.services import Kernel
from trovato.plugins import BuildError, PluginError, PluginLoadError
from trovato.settings import Settings, load_settings
from trovato.tiles import TileError
from trovato.users.accounts import AccountError, CurrentUser

PLUGINS = ("page", "blog")
DEMO_USER = "demo"
ENABLED = 1

PAGES: list[tuple[str, str]] = [
    ("About", "<p>This site runs <strong>Trovato</strong>, a small content management "
              "system whose plugins run in a WebAssembly sandbox.</p>"),
    ("Contact", "<p>Write to <a href=\"mailto:hello@example.com\">hello@example.com</a>; "
                "we answer within a day or two.</p>"),
]

POSTS: list[tuple[str, str]] = [
    ("Hello, world", "<p>The first post of this blog. Welcome!</p>"
                     "<p>Everything here was created by <code>trovato demo</code>.</p>"),
    ("Writing a plugin", "<p>A plugin is a folder with <em>plugin.toml</em> and "
                         "<em>plugin.py</em>; <code>trovato plugin build</code> turns it into "
                         "a component.</p>"),
    ("Render trees", "<p>Plugins never return HTML: they return render trees that the kernel "
                     "sanitizes and renders with the theme.</p>"),
    ("What comes next", "<p>More item types, more taps and a faster front page. "
                        "<strong>Stay tuned.</strong></p>"),
]


VOCABULARY = ("tags", "Tags")  # the vocabulary the blog's Tags field names
TAGS = ("News", "Plugins", "Rendering")
# Each post's topics (by tag name).
POST_TAGS: dict[str, tuple[str, ...]] = {
    "Hello, world": ("News",),
    "Writing a plugin": ("Plugins",),
    "Render trees": ("Plugins", "Rendering"),
    "What comes next": ("News",),
}
LISTING = "recent_articles"
RECENT_ARTICLES: dict[str, Any] = {
    "name": LISTING,
    "label": "Recent articles",
    "filters": [{"field": "type", "op": "equals", "value": "blog"},
                {"field": "status", "op": "equals", "value": 1}],
    "sorts": [{"field": "created", "direction": "desc"}],
    "pager": {"type": "full", "per_page": 10},
    "empty_text": "No articles yet.",
    "displays": {"page": {"path": "/articles", "style": "teasers",
                          "menu": {"title": "Articles", "weight": 0}},
                 "tile": {"per_page": 5}},
}
# The tile of the listing, in the sidebar of every page but the listing's own.
TILE: dict[str, Any] = {"source": f"gather:{LISTING}", "slot": "sidebar",
                        "visibility": {"hidden_paths": ["/articles"]}}


@dataclass
class DemoReport:
    installed: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # items
    configured: list[str] = field(default_factory=list)  # the vocabulary, listing, tile…
    skipped: list[str] = field(default_factory=list)
    author: str = ""
    password: str | None = None


def demo() -> None:
    """Load demo content: pages, tagged posts, a listing and a tile.

    Installs and enables the page and blog plugins first when needed (building them takes a
    minute the first time). The content is authored by the site's first administrator; a site
    without one gets the administrator "demo", whose password is printed once. Running it
    again creates nothing twice.
    """
    settings = load_settings()
    with database_url(settings) as url:
        migrate_with_progress(url)
        try:
            report = asyncio.run(_demo(settings, url))
        except (PluginLoadError, PluginError, BuildError, ItemError, AccountError,
                CategoryError, GatherError, TileError, ValueError) as exc:
            raise _output.fail(str(exc)) from None
    if report.password is not None:
        _output.say("Created the administrator ", (report.author, "bold"), " with the password ",
                    (report.password, "bold"), " (shown only once).")
    for title in [*report.configured, *report.created]:
        _output.say(f"  created {title}")
    _output.say(f"Demo content ready: {len(report.created)} item(s) created, "
                f"{len(report.skipped)} already there, authored by {report.author}.")
    # What a new user does next (serve's defaults).
    _output.say("See it: run `trovato serve` and open http://127.0.0.1:8000/ (log in at"
                f" /user/login as {report.author}).")


async def _demo(settings: Settings, url: str) -> DemoReport:
    kernel = await Kernel.start(settings, url)
    try:
        report = DemoReport()
        await _plugins(kernel, report)
        author_id = await _author(kernel, report)
        user = await kernel.accounts.load(author_id)
        if user is None:
            raise ValueError(f"the account {report.author!r} is blocked")
        tags = await _tags(kernel, user, report)
        items = kernel.content.items
        for type_name, promote, entries in (("page", False, PAGES), ("blog", True, POSTS)):
            for title, body in entries:
                label = f"{type_name} {title!r}"
                exists = await kernel.db.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM item WHERE type = %s AND title = %s)",
                    (type_name, title))
                if exists:
                    report.skipped.append(label)
                    continue
                fields: dict[str, Any] = {
                    "field_body": {"value": body, "format": "filtered_html"}}
                if type_name == "blog":
                    fields["field_tags"] = [{"target_id": str(tags[name]),
                                             "target_type": "category_tag"}
                                            for name in POST_TAGS.get(title, ())]
                await items.create(user, type_name, title=title, status=1, promote=promote,
                                   fields=fields, log="Demo content")
                report.created.append(label)
        await _listing_and_tile(kernel, user, report)
        return report
    finally:
        await kernel.stop()


async def _tags(kernel: Kernel, user: CurrentUser, report: DemoReport) -> dict[str, uuid.UUID]:
    """The demo vocabulary's tags by name (the vocabulary and missing tags created)."""
    categories = kernel.categories
    machine, label = VOCABULARY
    try:
        await categories.vocabulary(user, machine)
    except CategoryError:
        await categories.create_vocabulary(user, machine, label,
                                           description="What the demo articles are about.")
        report.configured.append(f"vocabulary {label!r}")
    found = {t.name: t.id for t in await categories.tags(user, machine)}
    for name in TAGS:
        if name not in found:
            found[name] = (await categories.create_tag(user, machine, name)).id
            report.configured.append(f"tag {name!r}")
    return found


async def _listing_and_tile(kernel: Kernel, user: CurrentUser, report: DemoReport) -> None:
    """The "Recent articles" listing, and its tile in the sidebar, unless there already."""
    try:
        await kernel.gather.stored(LISTING)
    except GatherError:
        await kernel.gather.create(user, RECENT_ARTICLES)
        report.configured.append(f"listing {RECENT_ARTICLES['label']!r} at /articles")
    if not any(p.source == TILE["source"] for p in await kernel.tiles.all(user)):
        await kernel.tiles.create(user, TILE)
        report.configured.append(f"tile {RECENT_ARTICLES['label']!r} in the sidebar")


async def _plugins(kernel: Kernel, report: DemoReport) -> None:
    states = await kernel.plugins.states()
    for name in PLUGINS:
        state = states.get(name)
        if state is None:
            with _output.working(f"Installing the {name} plugin (building it the first time "
                                 f"takes a while)…"):
                await kernel.plugins.install(name)
            _output.say("  installed and enabled the ", (name, "bold"), " plugin")
            report.installed.append(name)
        elif state.status != ENABLED:
            with _output.working(f"Enabling the {name} plugin…"):
                await kernel.plugins.enable(name)
            _output.say("  enabled the ", (name, "bold"), " plugin")


async def _author(kernel: Kernel, report: DemoReport) -> uuid.UUID:
    """An active administrator (the oldest), else the demo user (created when missing)."""
    row = await kernel.db.fetchrow(
        "SELECT id, name FROM users WHERE is_admin AND status = 1 AND id <> %s"
        " ORDER BY created, name LIMIT 1", (uuid.UUID(int=0),))
    if row is None:
        row = await kernel.db.fetchrow(
            "SELECT id, name FROM users WHERE name = %s AND status = 1", (DEMO_USER,))
    if row is not None:
        report.author = str(row["name"])
        return uuid.UUID(str(row["id"]))
    password = secrets.token_urlsafe(12)
    user_id = await kernel.accounts.create(
        name=DEMO_USER, mail="demo@example.com", password=password, is_admin=True)
    report.author, report.password = DEMO_USER, password
    return user_id
