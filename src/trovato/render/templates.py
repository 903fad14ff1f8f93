"""Jinja2 templates for kernel pages, with autoescaping and compiled templates cached in memory.

Kernel pages (``form_page.html``, ``error.html`` …) live in ``render/templates`` and extend
``page.html``, which comes from the active theme (the default theme ships it). Both are served
by one :class:`~trovato.render.renderer.ThemeEngine`, so the theme's templates come first on
the loader path and a theme can restyle every kernel page. Templates are loaded and compiled
once per process, so a request never reads a template file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from trovato.render.renderer import DEFAULT_THEME, ThemeEngine, ThemeRegistry


class Templates:
    """The kernel's page renderer: named page templates plus render trees, in one theme."""

    def __init__(
        self,
        *,
        site_name: str,
        theme: str = DEFAULT_THEME,
        theme_folders: Iterable[Path | str] = (),
    ) -> None:
        self.engine = ThemeEngine(
            theme, registry=ThemeRegistry(theme_folders), site_name=site_name
        )

    @property
    def env(self) -> Environment:
        return self.engine.env

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render a page template by name (profiled as render time)."""
        return self.engine.render_template(name, context)

    def render_partial(self, name: str, variables: dict[str, Any]) -> Markup:
        """Render a part of a kernel page (see :meth:`ThemeEngine.render_partial`)."""
        return self.engine.render_partial(name, variables)

    def render_tree(
        self, tree: object, *, source: str = "kernel", trusted: bool = True
    ) -> Markup:
        """Sanitize and render one render tree (see :meth:`ThemeEngine.render`)."""
        return self.engine.render(tree, source=source, trusted=trusted)

    async def render_tree_async(
        self, tree: object, *, source: str = "kernel", trusted: bool = True
    ) -> Markup:
        """:meth:`render_tree` off the event loop when the tree holds long text to format
        (see :meth:`ThemeEngine.render_async`)."""
        return await self.engine.render_async(tree, source=source, trusted=trusted)

    def render_slots(
        self, slots: Mapping[str, object], *, source: str = "kernel", trusted: bool = True
    ) -> dict[str, Markup]:
        """Render one tree per slot, for ``page.html``'s ``slots`` variable."""
        return self.engine.render_slots(slots, source=source, trusted=trusted)
