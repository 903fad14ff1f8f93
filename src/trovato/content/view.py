"""The item view service: items in a view mode (``full``, ``teaser``) as render trees and HTML.

No request is involved: the caller says who views (:class:`Viewer`: the user, the stage, and
the plugin session to use if it has one), so the item page, the front page and later listings,
search results, tiles and feeds all show items through :meth:`ItemViews.view` and
:meth:`ItemViews.view_many`.

The pipeline of one item (DESIGN §7):

1. **build** — the kernel builds the item's tree: meta, then (full) each field through its
   field type's formatter (:mod:`trovato.content.formatters`) or (teaser) the stored summary;
   references show their record's label (a tag's name linked to its page), loaded for all
   the call's items at once from the record kind's :data:`~trovato.records.Labeller`;
2. ``item_view`` — each plugin's reply becomes a child named after the plugin;
3. ``item_view_alter`` — plugins patch the whole tree (they return changes, never a new tree);
   then ``preprocess_item`` — plugins add template variables (``#variables`` on the item
   element: plain data, escaped by the template, never markup);
4. **sanitize + render** through the theme, with the suggestions ``item--<type>--<mode>`` →
   ``item--<type>`` → ``item--<mode>`` → ``item``.

Trust: the kernel's own tree renders *trusted* (``full_html`` stored by someone allowed to
use it renders as stored) and goes straight to the renderer. Plugin output never does: each
``item_view`` reply is sanitized as untrusted (restricted formats downgraded to
``filtered_html``) before it joins the tree, and once any ``item_view_alter`` implementation
changed the tree, the WHOLE tree is rendered untrusted — a plugin that could edit kernel parts
could otherwise smuggle ``full_html`` in. Taps are only dispatched when some plugin implements
them, so a site without plugins never opens a plugin instance to show an item.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from trovato.content.formatters import Display, Formatters, reference_target
from trovato.content.items import Item
from trovato.content.summary import field_values, summarize
from trovato.content.type_service import ItemTypes
from trovato.content.types import ItemType
from trovato.plugins import PluginUser
from trovato.plugins.taps import Taps
from trovato.records import Label, Labeller
from trovato.render import elements as el
from trovato.render.dates import local_time
from trovato.render.renderer import ThemeEngine
from trovato.render.sanitize import RenderTreeError, sanitize
from trovato.users.accounts import CurrentUser

log = logging.getLogger("trovato.content.view")

VIEW_MODES = ("full", "teaser")
VIEW_TAPS = ("item_view", "item_view_alter", "preprocess_item")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who views items: the user (access was checked when the items were read; here it picks
    the time zone and the plugins' acting user) and the stage. The tap front door picks the
    plugin session: the request's when the viewer is the request's user, else one shared by
    the items of one call."""

    user: CurrentUser
    stage: str

    @property
    def timezone(self) -> str:
        return self.user.timezone or "UTC"


def summary(item: Item, item_type: ItemType | None) -> str:
    """The teaser text: as stored with the item, or computed from its fields if not known."""
    if item.summary is not None:
        return item.summary
    return summarize(item.fields, item_type)


def format_date(value: datetime | None, viewer: Viewer) -> str:
    """An instant as the viewer reads it (their zone, to the minute); ``""`` for none."""
    if value is None:
        return ""
    return local_time(value, viewer.timezone)


def _base_variables(item: Item, view_mode: str) -> dict[str, Any]:
    """What ``preprocess_item`` starts from: facts a theme template may want to show."""
    return {"title": item.title, "view_mode": view_mode, "author_name": item.author_name,
            "created": item.created.isoformat() if item.created else None}


class ItemViews:
    """Builds, runs the view taps on and renders items; one per kernel."""

    def __init__(self, types: ItemTypes, formatters: Formatters, taps: Taps,
                 theme: ThemeEngine, labellers: Mapping[str, Labeller] | None = None) -> None:
        self.types = types
        self.formatters = formatters
        self.taps = taps
        self.theme = theme
        self.labellers = dict(labellers or {})

    def plugins_take_part(self) -> bool:
        """Whether a plugin takes part in building items (so must be given them whole: a
        teaser listing may otherwise leave the fields out)."""
        return self.taps.listens_to_any(VIEW_TAPS)

    # -- the API --------------------------------------------------------------------------------

    async def view(self, item: Item, view_mode: str, viewer: Viewer) -> Markup:
        """``item`` in ``view_mode`` as HTML."""
        (html,) = await self.view_many([item], view_mode, viewer)
        return html

    async def view_many(self, items: list[Item], view_mode: str, viewer: Viewer) -> list[Markup]:
        """Each of ``items`` in ``view_mode`` as HTML, in order (one plugin session for all)."""
        types = await self.types.cached()
        labels = await self.labels(items, types, view_mode)
        if not self.plugins_take_part():  # no tap to fire, no session to share
            return await self._view_each(items, types, view_mode, viewer, labels, plugins=False)
        async with self._sharing(viewer):
            return await self._view_each(items, types, view_mode, viewer, labels, plugins=True)

    async def tree(self, item: Item, view_mode: str, viewer: Viewer) -> tuple[el.RenderElement,
                                                                              bool]:
        """``item``'s render tree after the view taps, and whether it may render trusted."""
        types = await self.types.cached()
        item_type = types.get(item.type)
        labels = await self.labels([item], types, view_mode)
        if not self.plugins_take_part():
            return await self._tree(item, item_type, view_mode, viewer, labels, plugins=False)
        async with self._sharing(viewer):
            return await self._tree(item, item_type, view_mode, viewer, labels, plugins=True)

    async def labels(self, items: list[Item], types: Mapping[str, ItemType], view_mode: str
                     ) -> dict[uuid.UUID, Label]:
        """The labels of every record the fields of ``items`` refer to, one call per record
        kind that has a labeller (only a full view shows fields)."""
        if view_mode != "full" or not self.labellers:
            return {}
        wanted: dict[str, set[uuid.UUID]] = {}
        for item in items:
            item_type = types.get(item.type)
            for definition in item_type.fields if item_type else ():
                if definition.type != "reference":
                    continue
                for value in field_values(item.fields.get(definition.name)):
                    kind, key = reference_target(value, definition)
                    if key is not None and kind in self.labellers:
                        wanted.setdefault(kind, set()).add(key)
        labels: dict[uuid.UUID, Label] = {}
        for kind, keys in wanted.items():
            labels.update(await self.labellers[kind](keys))
        return labels

    # -- the steps ------------------------------------------------------------------------------

    async def _view_each(self, items: list[Item], types: Mapping[str, ItemType], view_mode: str,
                         viewer: Viewer, labels: Mapping[uuid.UUID, Label], *,
                         plugins: bool) -> list[Markup]:
        rendered: list[Markup] = []
        for item in items:
            item_type = types.get(item.type)
            tree, trusted = await self._tree(item, item_type, view_mode, viewer, labels,
                                             plugins=plugins)
            try:
                rendered.append(await self.theme.render_async(
                    tree, source="kernel" if trusted else "plugin:item_view_alter",
                    trusted=trusted))
            except RenderTreeError as exc:
                # An alter tap made the tree too big or deep: show the kernel's own build.
                log.warning("item %s: altered tree refused: %s", item.id, exc)
                plain = self.build(item, item_type, view_mode, viewer, labels)
                rendered.append(await self.theme.render_async(plain))
        return rendered

    def build(self, item: Item, item_type: ItemType | None, view_mode: str,
              viewer: Viewer, labels: Mapping[uuid.UUID, Label] | None = None
              ) -> el.RenderElement:
        """The kernel's render tree of ``item`` in ``view_mode`` (before any plugin), its
        references shown by ``labels`` (see :meth:`labels`)."""
        href = f"/item/{item.id}"
        author = item.author_name or "Anonymous"
        meta = el.container(
            {
                "author": el.markup(f"By {author}", tag="span",
                                    attributes={"class": "item__author"}),
                "date": el.markup(f" on {format_date(item.created, viewer)}", tag="span",
                                  attributes={"class": "item__date"}),
            },
            tag="footer" if view_mode == "full" else "p",
            weight=-10,
            attributes={"class": "item__meta"},
        )
        children: dict[str, el.RenderElement] = {"meta": meta}
        if not item.published:
            children["status"] = el.markup("Unpublished", tag="p", weight=-20,
                                           attributes={"class": "item__status"})
        if view_mode == "teaser":
            text = summary(item, item_type)
            if text:
                children["summary"] = el.markup(text, tag="p",
                                                attributes={"class": "item__summary"})
            # Last, after the plugins' parts (weight 50): a teaser ends with its link.
            children["more"] = el.link("Read more", href, weight=100,
                                       attributes={"class": "item__more", "aria-label":
                                                   f"Read more about {item.title}"})
        elif item_type is not None:
            fields = item.fields
            for shown in self.formatters.shown_fields(item_type, viewer.timezone):
                definition = shown.definition
                values = field_values(fields.get(definition.name))
                if not values:
                    continue
                formatter, display = shown.formatter, shown.display
                if labels and definition.type == "reference":
                    display = Display(definition, viewer.timezone, labels)
                children[definition.name] = el.field_element(
                    definition.name,
                    [formatter(value, display) for value in values],
                    label=definition.label,
                    label_display=shown.label_display,
                    field_type=definition.type,
                    weight=shown.weight,
                )
        return el.item_element(item.type, view_mode, children, title=item.title, href=href,
                               attributes=None if item.published
                               else {"class": "item--unpublished"})

    async def _tree(self, item: Item, item_type: ItemType | None, view_mode: str,
                    viewer: Viewer, labels: Mapping[uuid.UUID, Label], *, plugins: bool
                    ) -> tuple[el.RenderElement, bool]:
        """The tree after the view taps; ``plugins``: whether any took part when the call
        began (one enabled meanwhile joins in from the next call)."""
        tree = self.build(item, item_type, view_mode, viewer, labels)
        if not plugins or item.partial:
            # Partial: listed without its fields because no plugin viewed items when the
            # listing was read; one enabled since then joins in from the next listing.
            return tree, True
        taps = self.taps
        viewers = taps.listens("item_view")
        alterers = taps.listens("item_view_alter")
        preprocessors = taps.listens("preprocess_item")
        acting = PluginUser.from_current_user(viewer.user)
        public = item.public()
        if viewers:
            outcome = await taps.fire("item_view", {"item": public, "view_mode": view_mode},
                                      user=acting)
            for reply in outcome.replies:
                if not isinstance(reply.value, dict):
                    continue
                try:
                    part = sanitize(reply.value, source=f"plugin:{reply.plugin}", trusted=False)
                except (RenderTreeError, ValueError, TypeError) as exc:
                    log.warning("plugin %s: item_view tree dropped: %s", reply.plugin, exc)
                    continue
                name = reply.plugin if reply.plugin not in tree else f"plugin_{reply.plugin}"
                part.setdefault("#weight", 50)
                tree[name] = part
        trusted = True
        if alterers:
            outcome = await taps.fire("item_view_alter",
                                      {"build": tree, "item": public, "view_mode": view_mode},
                                      user=acting)
            if any(reply.value for reply in outcome.replies) and isinstance(outcome.value, dict):
                tree, trusted = outcome.value, False
        if preprocessors:
            outcome = await taps.fire("preprocess_item", {
                "variables": _base_variables(item, view_mode), "item": public,
                "view_mode": view_mode,
            }, user=acting)
            if isinstance(outcome.value, dict):
                # Plain data only, checked now like every plugin part (a trusted tree is not
                # sanitized again), then given to the item's template as text.
                checked = sanitize({"#type": "item", "#variables": outcome.value},
                                   source="plugin:preprocess_item", trusted=False)
                tree["#variables"] = checked.get("#variables", {})
        return tree, trusted

    @contextlib.asynccontextmanager
    async def _sharing(self, viewer: Viewer) -> AsyncIterator[None]:
        """One plugin session for the items of one call, opened only if the request's own
        session cannot serve (the front door decides); entered only when plugins take part."""
        async with self.taps.sharing(PluginUser.from_current_user(viewer.user),
                                     request_id="item_view"):
            yield
