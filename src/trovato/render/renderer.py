"""The theme engine: render sanitized render trees and kernel pages through Jinja2 themes.

A :class:`Theme` is a folder with a ``theme.json`` (name, label, optional base theme, slots,
stylesheets), a ``templates/`` folder and an optional ``assets/`` folder. The
:class:`ThemeEngine` is built once per process: it resolves the theme's base chain, builds one
autoescaping Jinja2 environment whose loader searches the theme, then its base themes, then the
default theme and the kernel templates, indexes every template name once, and keeps compiled
templates in a dict — a request never touches the file system.

Each element ``#type`` has a template ``elements/<type>.html``. Suggestions let themes provide
more specific ones: an item in view mode ``teaser`` of type ``blog`` tries
``elements/item--blog--teaser.html``, then ``elements/item--blog.html``, then
``elements/item.html``; for each name the theme wins over its base and the kernel. Children
render in ``#weight`` order. Preprocess hooks add template variables; whatever they return is
stripped of "safe markup" status, so autoescaping treats it as text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    Template,
    select_autoescape,
)
from markupsafe import Markup, escape

from trovato.observability.profiler import record_render
from trovato.render.elements import (
    ELEMENT_TYPES,
    RenderElement,
    children,
    element_type,
    safe_url,
)
from trovato.render.formats import (
    LOOP_BUDGET,
    OFF_LOOP_LENGTH,
    FilteringTooLong,
    FormatRegistry,
    default_registry,
    render_text,
)
from trovato.render.native import (
    TWINS,
    Twin,
    attribute_values,
    attributes_html,
    pager_variables,
    plain,
)
from trovato.render.native_forms import FORM_MACROS, FORM_TWINS
from trovato.render.native_pages import BLOCK_PARTIALS, BLOCK_TWINS, PAGE_TWINS, PageTwin
from trovato.render.native_shell import LAYOUTS, ShellPlan, plan_for
from trovato.render.sanitize import sanitize

log = logging.getLogger(__name__)

RENDER_DIR = Path(__file__).resolve().parent
KERNEL_TEMPLATES = RENDER_DIR / "templates"
KERNEL_THEMES = RENDER_DIR / "themes"
DEFAULT_THEME = "default"
DEFAULT_SLOTS = ("header", "navigation", "content", "sidebar", "footer")
# Each per-engine lookup table (suggestions, templates, twins) remembers at most this many keys;
# its keys are short validated names (slugs, template names), so the bound is one of bytes too.
_REMEMBERED = 10_000

PreprocessHook = Callable[[str, Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any] | None]
"""``hook(element_type, element, variables) -> extra variables`` (or None)."""


class ThemeError(ValueError):
    """A theme is missing, malformed, or its base chain loops."""


# --- attributes -------------------------------------------------------------------------------


class Attributes:
    """HTML attributes for a template: ``<div{{ attributes }}>`` renders `` name="value"``.

    Names are checked again here (the sanitizer already did) so even a tree that skipped
    sanitizing cannot produce an event handler; values are always escaped. The policy itself
    is :func:`trovato.render.native.attributes_html`, shared with the Python twins.
    """

    __slots__ = ("_allow_style", "_values")

    def __init__(
        self, values: Mapping[str, Any] | None = None, *, allow_style: bool = False
    ) -> None:
        self._values = attribute_values(values)
        self._allow_style = allow_style

    def with_class(self, *names: object) -> Attributes:
        """A copy with extra CSS classes (empty names are skipped)."""
        copy = Attributes(allow_style=self._allow_style)
        copy._values = attribute_values(self._values, names)
        return copy

    def get(self, name: str, default: str | bool | None = None) -> str | bool | None:
        return self._values.get(name, default)

    def __bool__(self) -> bool:
        return bool(self._values)

    def __html__(self) -> str:
        return attributes_html(self._values, allow_style=self._allow_style)

    def __str__(self) -> str:
        return self.__html__()


def _is_kernel(template: Template) -> bool:
    """Whether ``template`` is the kernel's own file (no theme overrides it)."""
    return template.filename is not None and Path(template.filename).is_relative_to(
        KERNEL_TEMPLATES)


def _strip_markup(value: Any) -> Any:
    """Deep copy of preprocess output with every "safe HTML" object turned into plain text."""
    if isinstance(value, str):
        return plain(value)
    if hasattr(value, "__html__"):
        return plain(value)
    if isinstance(value, Mapping):
        return {str(k): _strip_markup(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_strip_markup(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Arbitrary objects could expose attributes returning Markup; give templates text only.
    return plain(value)


# --- themes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    path: Path
    label: str
    base: str | None
    slots: tuple[str, ...]
    stylesheets: tuple[str, ...]

    @property
    def templates_dir(self) -> Path:
        return self.path / "templates"

    @property
    def assets_dir(self) -> Path:
        return self.path / "assets"

    @classmethod
    def load(cls, path: Path) -> Theme:
        info_file = path / "theme.json"
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ThemeError(f"cannot read {info_file}: {exc}") from exc
        if not isinstance(info, dict):
            raise ThemeError(f"{info_file} must hold an object")
        name = str(info.get("name") or path.name)
        base = info.get("base")
        return cls(
            name=name,
            path=path,
            label=str(info.get("label", name)),
            base=str(base) if base else None,
            slots=tuple(str(s) for s in info.get("slots", DEFAULT_SLOTS)),
            stylesheets=tuple(str(s) for s in info.get("stylesheets", ())),
        )

    def asset_url(self, asset: str) -> str:
        """URL of a stylesheet/script: absolute paths and URLs as written, else under the
        theme's asset route (see :meth:`ThemeEngine.asset_mount`)."""
        if asset.startswith(("/", "http://", "https://")):
            return asset
        return f"/themes/{self.name}/{asset}"


class ThemeRegistry:
    """The themes found in the kernel's ``themes/`` folder and in extra folders.

    A later folder may override an earlier theme of the same name (a site's copy of a theme
    beats the shipped one).
    """

    def __init__(self, folders: Iterable[Path | str] = ()) -> None:
        self._themes: dict[str, Theme] = {}
        for folder in (KERNEL_THEMES, *(Path(f) for f in folders)):
            if not folder.is_dir():
                raise ThemeError(f"theme folder {folder} does not exist")
            for path in sorted(p for p in folder.iterdir() if (p / "theme.json").is_file()):
                theme = Theme.load(path)
                self._themes[theme.name] = theme

    def names(self) -> list[str]:
        return sorted(self._themes)

    def get(self, name: str) -> Theme:
        try:
            return self._themes[name]
        except KeyError:
            raise ThemeError(f"unknown theme {name!r}") from None

    def chain(self, name: str) -> list[Theme]:
        """The theme, its base, the base's base …, and finally the default theme."""
        chain: list[Theme] = []
        current: str | None = name
        while current is not None:
            if any(t.name == current for t in chain):
                raise ThemeError(f"theme {name!r}: base themes form a loop at {current!r}")
            theme = self.get(current)
            chain.append(theme)
            current = theme.base
        # The default theme holds the page layout kernel pages extend; ending every chain with
        # it means a theme that overrides only a few templates is still complete.
        if DEFAULT_THEME in self._themes and all(t.name != DEFAULT_THEME for t in chain):
            chain.append(self._themes[DEFAULT_THEME])
        return chain


# --- the engine -------------------------------------------------------------------------------

# Properties that become template variables unchanged (``#label`` → ``label``).
KERNEL_TWINS: dict[str, Twin] = {**TWINS, **FORM_TWINS}
"""Every kernel element template that has a Python twin (:mod:`trovato.render.native`,
:mod:`trovato.render.native_forms`), by template name."""

_PASSED_AS_IS = {
    f"#{name}": name
    for name in ("text", "alt", "width", "height", "ordered", "caption", "empty", "label",
                 "label_display", "field_name", "field_type", "item_type", "view_mode",
                 "messages")
}

# Variables the renderer sets; preprocess hooks may not replace them, because templates rely
# on their types (Markup children, Attributes) and meaning.
RESERVED_VARIABLES = frozenset(
    {
        "element", "type", "attributes", "tag", "children", "content", "value", "items",
        "header", "rows", "href", "src", "action", "text", "suggestions",
    }
)


class ThemeEngine:
    """Renders render trees and page templates with one theme. Build once per process."""

    def __init__(
        self,
        theme: str = DEFAULT_THEME,
        *,
        registry: ThemeRegistry | None = None,
        site_name: str = "Trovato",
        preprocess: Sequence[PreprocessHook] = (),
        formats: FormatRegistry | None = None,
        allow_style: bool = False,
    ) -> None:
        self.registry = registry or ThemeRegistry()
        self.chain = self.registry.chain(theme)
        self.theme = self.chain[0]
        self.formats = formats or default_registry()
        self.allow_style = allow_style
        self.preprocess: list[PreprocessHook] = list(preprocess)
        folders = [str(t.templates_dir) for t in self.chain if t.templates_dir.is_dir()]
        self.env = Environment(
            loader=ChoiceLoader(
                [FileSystemLoader(folders), FileSystemLoader(str(KERNEL_TEMPLATES))]
            ),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
            cache_size=400,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            site_name=site_name,
            theme_name=self.theme.name,
            theme_stylesheets=self._stylesheets(),
        )
        # Every template name, read once: resolving suggestions is then a set lookup instead
        # of a file-system probe per element per request.
        self.available: frozenset[str] = frozenset(self.env.list_templates())
        self._compiled: dict[str, Template] = {}
        self._resolved: dict[tuple[str, ...], Template] = {}
        self._twins: dict[tuple[str, ...], Twin | None] = {}
        self._page_twins: dict[str, PageTwin | None] = {}
        self._shells: dict[str, ShellPlan | None] = {}
        self._suggestions: dict[tuple[object, ...], tuple[str, ...]] = {}
        self._drawers: dict[tuple[object, ...], Twin | None] = {}  # html()'s twin per key

    def _stylesheets(self) -> list[str]:
        # Base themes' stylesheets first, so a sub-theme's rules win by source order.
        seen: list[str] = []
        for theme in reversed(self.chain):
            for sheet in theme.stylesheets:
                url = theme.asset_url(sheet)
                if url not in seen:
                    seen.append(url)
        return seen

    # -- templates ---------------------------------------------------------------------------

    def template(self, name: str) -> Template:
        """A compiled template by name (compiled once per process)."""
        template = self._compiled.get(name)
        if template is None:
            template = self._compiled[name] = self.env.get_template(name)
        return template

    def resolve(self, suggestions: Sequence[str]) -> Template:
        """The first suggestion any theme in the chain (or the kernel) provides."""
        key = tuple(suggestions)
        template = self._resolved.get(key)
        if template is None:
            for name in key:
                if name in self.available:
                    template = self.template(name)
                    break
            else:
                raise ThemeError(f"no template for any of {list(key)}")
            if len(self._resolved) < _REMEMBERED:  # bounded: keys come from (sanitized) data
                self._resolved[key] = template
        return template

    def twin(self, suggestions: Sequence[str]) -> Twin | None:
        """The Python twin (:mod:`trovato.render.native`) drawing elements with these
        suggestions, or None when the template they resolve to is a theme's (Jinja draws it)."""
        key = tuple(suggestions)
        if key in self._twins:
            return self._twins[key]
        template = self.resolve(key)
        name = template.name or ""
        found = KERNEL_TWINS.get(name) if _is_kernel(template) else None
        if name in FORM_TWINS and not _is_kernel(self.template(FORM_MACROS)):
            found = None  # the kernel's form templates draw through a theme's macros
        if len(self._twins) < _REMEMBERED:
            self._twins[key] = found
        return found

    def warm(self) -> None:
        """Compile every template and plan every page's shell now (startup), so the first
        requests pay nothing."""
        for name in sorted(self.available):
            if name.endswith(".html"):
                self.template(name)
                self._shell(name)

    def render_template(self, name: str, context: Mapping[str, Any]) -> str:
        """Render a named page template (kernel pages: ``form_page.html``, ``page.html`` …)."""
        started = time.perf_counter()
        try:
            plan = self._shell(name)
            template = self.template(name)
            if plan is None:
                return template.render({"slots": {}, **context})
            # The page's own blocks by Jinja2, the layouts around them by their twins.
            blocks: dict[str, str] = {}
            if plan.blocks:
                page = template.new_context({"slots": {}, **context})
                variables = page.get_all()
                try:
                    blocks = {block: "".join(template.blocks[block](page))
                              for block in plan.blocks}
                except Exception:
                    self.env.handle_exception()
            else:  # every block has a twin: the variables a Jinja2 context would hold
                variables = {**template.globals, "slots": {}, **context}
            for block, twin in plan.native:
                blocks[block] = twin(variables)
            return plan.draw(variables, blocks)
        finally:
            record_render(time.perf_counter() - started)

    def _shell(self, name: str) -> ShellPlan | None:
        """How the page ``name`` is drawn with the shell twins (None: by Jinja2 alone)."""
        if name not in self._shells:
            template = self.template(name)
            own = _is_kernel(template) and all(
                _is_kernel(self.template(partial)) for partial in BLOCK_PARTIALS.get(name, ()))
            twins = BLOCK_TWINS.get(name, {}) if own else {}
            self._shells[name] = plan_for(self.env, name, self._twin_source, twins)
        return self._shells[name]

    def _twin_source(self, layout: str) -> bool:
        """Whether ``layout`` resolves to the file its shell twin copies (no theme overrides
        it): the default theme's for ``page.html``, the kernel's for the others."""
        home = KERNEL_THEMES / DEFAULT_THEME / "templates" if LAYOUTS[layout].in_theme else (
            KERNEL_TEMPLATES)
        filename = self.template(layout).filename
        return filename is not None and Path(filename) == home / layout

    def render_partial(self, name: str, variables: Mapping[str, Any]) -> Markup:
        """A part of a kernel page (``admin/content_rows.html``) as HTML for its page to
        place: drawn by its Python twin (:mod:`trovato.render.native_pages`) when the
        template is the kernel's own, by the theme's template when a theme overrides it."""
        started = time.perf_counter()
        try:
            if name not in self._page_twins:
                template = self.template(name)
                self._page_twins[name] = PAGE_TWINS.get(name) if _is_kernel(template) else None
            twin = self._page_twins[name]
            html = twin(variables) if twin is not None else self.template(name).render(variables)
            return Markup(html)  # noqa: S704 - escaped by the twin or by autoescaping
        finally:
            record_render(time.perf_counter() - started)

    # -- render trees ------------------------------------------------------------------------

    def render(self, tree: object, *, source: str = "kernel", trusted: bool = True) -> Markup:
        """Render a render tree to HTML; untrusted trees are sanitized first.

        Kernel-built trees keep the default ``trusted=True``: restricted formats such as
        ``full_html`` render as stored, and the tree goes straight to the renderer, whose own
        checks are the security boundary for every tree (values escaped, ``#href``/``#src``
        through :func:`safe_url`, attribute names allow-listed on output, tags checked against
        the element type, text through its format's filters) — kernel code builds trees with
        :mod:`trovato.render.elements` and any plugin part in them was sanitized when it
        arrived. Trees a plugin built or altered pass ``trusted=False`` and a ``source`` like
        ``"plugin:blog"``: they are sanitized (schema, sizes, downgraded formats) first.
        """
        started = time.perf_counter()
        try:
            if trusted and isinstance(tree, dict):
                return self.render_element(tree)
            clean = sanitize(
                tree, source=source, trusted=trusted, allow_style=self.allow_style,
                formats=self.formats,
            )
            return self.render_element(clean)
        finally:
            record_render(time.perf_counter() - started)

    async def render_async(
        self, tree: object, *, source: str = "kernel", trusted: bool = True
    ) -> Markup:
        """:meth:`render` for a request: a tree that would filter more than
        :data:`~trovato.render.formats.OFF_LOOP_LENGTH` characters of uncached text starts
        again in a worker thread, so the event loop keeps serving other requests (what it
        filtered before stopping is in the filtered-text cache, not filtered twice)."""
        token = LOOP_BUDGET.set([OFF_LOOP_LENGTH])
        try:
            return self.render(tree, source=source, trusted=trusted)
        except FilteringTooLong:
            pass
        finally:
            LOOP_BUDGET.reset(token)
        return await asyncio.to_thread(self._render_unbounded, tree, source, trusted)

    def _render_unbounded(self, tree: object, source: str, trusted: bool) -> Markup:
        # The thread runs in a copy of the caller's context: lift the loop's budget there.
        LOOP_BUDGET.set(None)
        return self.render(tree, source=source, trusted=trusted)

    def render_slots(
        self, slots: Mapping[str, object], *, source: str = "kernel", trusted: bool = True
    ) -> dict[str, Markup]:
        """Render one tree per page slot; unknown slot names are rejected."""
        unknown = set(slots) - set(self.theme.slots)
        if unknown:
            raise ThemeError(
                f"theme {self.theme.name!r} has no slot(s) {sorted(unknown)}; "
                f"its slots are {list(self.theme.slots)}"
            )
        return {
            name: self.render(tree, source=source, trusted=trusted)
            for name, tree in slots.items()
        }

    def render_page(
        self,
        slots: Mapping[str, object],
        context: Mapping[str, Any] | None = None,
        *,
        template: str = "page.html",
    ) -> str:
        """A whole page: render each slot's tree and place it in the page template."""
        rendered = self.render_slots(slots)
        return self.render_template(template, {**(context or {}), "slots": rendered})

    def suggestions(self, element: Mapping[str, Any]) -> list[str]:
        """Template names for an element, most specific first."""
        return list(self._suggestion_names(element))

    def _suggestion_names(self, element: Mapping[str, Any]) -> tuple[str, ...]:
        """:meth:`suggestions` as the shared tuple the engine keys its renderers by."""
        # What suggestions depend on besides the type (spelled out: this runs per element).
        get = element.get
        key = (element_type(element), get("#template"), get("#item_type"), get("#view_mode"),
               get("#field_name"), get("#field_type"))
        try:
            found = self._suggestions.get(key)
        except TypeError:  # an unhashable property: nothing to remember it by
            return self._suggest(element)
        if found is None:
            found = self._suggest(element)
            if len(self._suggestions) < _REMEMBERED:  # bounded: keys come from (sanitized) data
                self._suggestions[key] = found
        return found

    def _suggest(self, element: Mapping[str, Any]) -> tuple[str, ...]:
        type_name = element_type(element)
        names: list[str] = []
        explicit = element.get("#template")
        if isinstance(explicit, str):
            names.append(explicit)
        if type_name == "item":
            item_type, view_mode = element.get("#item_type"), element.get("#view_mode")
            if item_type and view_mode:
                names.append(f"item--{item_type}--{view_mode}")
            if item_type:
                names.append(f"item--{item_type}")
            if view_mode:
                names.append(f"item--{view_mode}")
        elif type_name == "field":
            field_name, field_type = element.get("#field_name"), element.get("#field_type")
            if field_name:
                names.append(f"field--{field_name}")
            if field_type:
                names.append(f"field--{field_type}")
        names.append(type_name)
        return tuple(f"elements/{n}.html" for n in dict.fromkeys(names))

    def render_element(self, element: RenderElement) -> Markup:
        """Render an already sanitized element (see :meth:`render` for untrusted input)."""
        return Markup(self.html(element))  # noqa: S704 - escaped by the twins and templates

    def html(self, element: Mapping[str, Any]) -> str:
        """:meth:`render_element` as a plain ``str`` (how twins draw their children)."""
        # Preprocess variables (hooks, or #variables from preprocess taps) may change what a
        # template sees, so only elements without them take the twin. This runs for every
        # element of every page: one lookup by what the suggestions depend on finds it.
        if not self.preprocess and "#variables" not in element:
            get = element.get
            key = (get("#type", "container"), get("#template"), get("#item_type"),
                   get("#view_mode"), get("#field_name"), get("#field_type"))
            try:
                twin = self._drawers[key]
            except KeyError:
                twin = self._learn_twin(element, key)
            except TypeError:  # an unhashable property: the general path below draws it
                twin = None
            if twin is not None:
                return twin(self, element)
        type_name = element_type(element)
        if type_name not in ELEMENT_TYPES:
            return ""
        suggestions = self._suggestion_names(element)
        variables = self._variables(type_name, element)
        for hook in self.preprocess:
            extra = hook(type_name, element, variables)
            if not extra:
                continue
            for name, value in extra.items():
                if name in RESERVED_VARIABLES:
                    log.warning("preprocess hook %r may not replace %r", hook, name)
                    continue
                variables[name] = _strip_markup(value)
        return self.resolve(suggestions).render(variables)

    def twin_for(self, element: Mapping[str, Any]) -> Twin | None:
        """The twin :meth:`html` draws ``element`` with, or None when a template draws it
        (the lookup :meth:`html` makes inline, for callers that draw a tree in parts)."""
        if self.preprocess or "#variables" in element:
            return None
        get = element.get
        key = (get("#type", "container"), get("#template"), get("#item_type"),
               get("#view_mode"), get("#field_name"), get("#field_type"))
        try:
            return self._drawers[key]
        except KeyError:
            return self._learn_twin(element, key)
        except TypeError:  # an unhashable property: html() takes the general path
            return None

    def _learn_twin(self, element: Mapping[str, Any], key: tuple[object, ...]) -> Twin | None:
        found = (self.twin(self._suggestion_names(element))
                 if element_type(element) in ELEMENT_TYPES else None)
        if len(self._drawers) < _REMEMBERED:  # bounded: keys come from (sanitized) data
            self._drawers[key] = found
        return found

    def _cell(self, cell: object) -> Markup:
        if isinstance(cell, dict):
            return self.render_element(cell)
        return escape(plain(cell))

    def _variables(self, type_name: str, element: Mapping[str, Any]) -> dict[str, Any]:
        rendered = [(name, self.render_element(child)) for name, child in children(element)]
        attributes = Attributes(element.get("#attributes"), allow_style=self.allow_style)
        spec = ELEMENT_TYPES[type_name]
        # Re-checked here so a tree that skipped sanitize() still cannot pick a tag.
        tag = element.get("#tag")
        if tag not in spec.tags:
            tag = spec.default_tag
        variables: dict[str, Any] = {
            "element": element,
            "type": type_name,
            "attributes": attributes,
            "tag": tag,
            "title": element.get("#title"),
            "content": dict(rendered),
            "children": Markup("").join(html for _, html in rendered),
            "suggestions": self._suggestion_names(element),
        }
        if "#value" in element:
            # The one way text becomes HTML is its format's filter chain; without a format it
            # is text, escaped as written (no paragraphs added).
            if element.get("#format") is None:
                variables["value"] = escape(plain(element["#value"]))
            else:
                variables["value"] = render_text(
                    element["#value"], element["#format"], registry=self.formats
                )
        # None (not undefined) when missing or unsafe, so templates can test for it.
        variables["href"] = safe_url(element["#href"]) if "#href" in element else None
        variables["src"] = safe_url(element["#src"]) if "#src" in element else None
        variables["action"] = safe_url(element["#action"]) if "#action" in element else None
        for key, value in element.items():
            name = _PASSED_AS_IS.get(key)
            if name is not None:
                variables[name] = value
        if "#items" in element:
            variables["items"] = [self._cell(c) for c in element["#items"]]
        if "#header" in element:
            variables["header"] = [self._cell(c) for c in element["#header"]]
        if "#rows" in element:
            variables["rows"] = [[self._cell(c) for c in row] for row in element["#rows"]]
        if type_name == "pager":
            variables.update(pager_variables(element))
        for name, value in element.get("#variables", {}).items():
            # From preprocess taps, already sanitized to plain data; as text, never markup.
            if name not in RESERVED_VARIABLES:
                variables[name] = _strip_markup(value)
        return variables

    # -- assets ------------------------------------------------------------------------------

    def asset_folders(self) -> dict[str, Path]:
        """Theme name → assets folder, for every theme in the chain that has one."""
        return {t.name: t.assets_dir for t in self.chain if t.assets_dir.is_dir()}

    def asset_mount(self) -> Any:
        """A Starlette ``Mount`` serving ``/themes/<theme>/<file>`` from the themes' assets."""
        from starlette.routing import Mount, Router
        from starlette.staticfiles import StaticFiles

        routes = [
            Mount(f"/{name}", StaticFiles(directory=str(path)), name=f"theme-{name}")
            for name, path in self.asset_folders().items()
        ]
        return Mount("/themes", app=Router(routes=routes), name="themes")
