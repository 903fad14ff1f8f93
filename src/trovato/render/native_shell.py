"""Python twins of the page shell every kernel page is drawn in: the default theme's
``page.html`` and the kernel's ``admin/layout.html``.

A kernel page (``item_page.html``, ``admin/content.html`` …) extends one of them and fills a
block or two. Through Jinja2 every piece of output the page yields passes up through a
generator per template of the chain (the page's block, the admin layout, the theme's page),
and the shell's own variables each cost an attribute lookup and a Markup object: the shell
was a third of an admin page's Python calls. :class:`ShellPlan` says how to draw a page
instead: its blocks rendered by Jinja2 (each one generator, with the page's full context), the
layouts around them by these twins.

A twin returns *exactly* what its template produces for the same variables and blocks, every
value through :func:`~trovato.render.native.escape_html` as autoescaping would put it
(``tests/render/test_native_shell.py`` renders every kernel page template both ways, with
the XSS corpus in every variable). :func:`plan_for` gives a plan only when every layout of the
chain resolves to the file its twin copies and the page fills nothing but the blocks the
twins take (no ``super()``, nothing outside blocks); otherwise Jinja2 draws the whole page,
so a theme that overrides ``page.html`` or ``admin/layout.html`` is drawn by its own template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, nodes

from trovato.render.native import escape_html, escape_many

Blocks = Mapping[str, str]
Shell = Callable[[Mapping[str, Any], Blocks], str]

UNDEFINED: Any = object()
"""What :func:`lookup` gives for a name Jinja2 would find undefined."""

_DICT_ATTRIBUTES = frozenset(dir(dict))


def lookup(obj: Any, name: str) -> Any:
    """``obj.name`` as Jinja2 reads it: the attribute, else the item, else undefined."""
    if type(obj) is dict and name not in _DICT_ATTRIBUTES:  # no attribute to try first
        return obj.get(name, UNDEFINED)
    try:
        return getattr(obj, name)
    except AttributeError:
        pass
    try:
        return obj[name]
    except (TypeError, LookupError):
        return UNDEFINED


def shown(value: Any) -> str:
    """``{{ value }}``: undefined prints nothing, anything else escaped."""
    return "" if value is UNDEFINED else escape_html(value)


def truthy(value: Any) -> bool:
    """``{% if value %}``: undefined is false."""
    return value is not UNDEFINED and bool(value)


def _links(links: Iterable[Any]) -> list[tuple[Any, str, str]]:
    """Each link's (a group's or a section's) path as it is, then its path and label as
    ``{{ }}`` prints them (plain text, as the kernel's are, escaped together by
    :func:`escape_many`)."""
    try:
        raw = [(s.path, s.label) for s in links]
    except AttributeError:
        raw = [(lookup(s, "path"), lookup(s, "label")) for s in links]
    flat = [text for pair in raw for text in pair]
    texts = escape_many(flat) if {type(t) for t in flat} <= {str} else [shown(t) for t in flat]
    return [(path, texts[2 * n], texts[2 * n + 1]) for n, (path, _) in enumerate(raw)]


def _held(groups: list[Any], active: Any) -> list[bool]:
    """``admin_active in group.paths`` for each group: whether the page's section is one of
    its own (the kernel's groups read directly: one call for the whole row)."""
    if active is UNDEFINED:
        return [False] * len(groups)
    try:
        return [active in g.paths for g in groups]
    except AttributeError:
        return [(paths := lookup(g, "paths")) is not UNDEFINED and active in paths
                for g in groups]


def _toolbar(toolbar: Any, active: Any, logout: str) -> str:
    """``page.html``'s toolbar: the groups' row, the user's, the active group's sections."""
    current, marked = ' aria-current="page"', ' aria-current="true"'
    groups = list(lookup(toolbar, "groups"))
    held = _held(groups, active)
    row = "".join([f'<li><a href="{path}"'
                   f'{current if raw == active else marked if holds else ""}>{label}</a></li>'
                   for holds, (raw, path, label) in zip(held, _links(groups), strict=True)])
    out = ['<nav class="toolbar" aria-label="Administration toolbar">\n'
           '  <ul class="toolbar__sections">\n'
           f'    <li><a href="/admin"{current if active == "/admin" else ""}>Dashboard'
           f'</a></li>\n{row}  </ul>\n'
           '  <ul class="toolbar__user">\n'
           f'    <li><a href="/user/{shown(lookup(toolbar, "user_id"))}">'
           f'{shown(lookup(toolbar, "user_name"))}</a></li>\n    {logout}  </ul>\n']
    for group, holds in zip(groups, held, strict=True):
        if holds and (sections := lookup(group, "sections")) is not UNDEFINED \
                and len(sections) > 1:
            links = "".join([f'<li><a href="{path}"{current if raw == active else ""}>{label}'
                             "</a></li>" for raw, path, label in _links(sections)])
            out.append(f'<ul class="toolbar__group" aria-label="{shown(lookup(group, "label"))}">'
                       f"\n{links}  </ul>\n")
    out.append("</nav>\n")
    return "".join(out)


# ``page.html``'s search box, the same on every page.
SEARCH_BOX = (
    '    <form class="site-search" method="get" action="/search" role="search"'
    ' aria-label="Site">\n'
    '      <label class="visually-hidden" for="site-search-q">Search the site</label>\n'
    '      <input type="search" id="site-search-q" name="q">\n'
    '      <button type="submit">Search</button>\n'
    '    </form>\n'
)


def page(variables: Mapping[str, Any], blocks: Blocks) -> str:
    """The default theme's ``page.html``, its ``head`` and ``content`` blocks given."""
    get = variables.get
    title, site_name = get("title", UNDEFINED), shown(get("site_name", UNDEFINED))
    toolbar, slots = get("toolbar", UNDEFINED), get("slots", UNDEFINED)
    out = [
        f'<!doctype html>\n<html lang="{escape_html(get("language", "en"))}">\n<head>\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{f'{shown(title)} | ' if truthy(title) else ''}{site_name}</title>\n"
        '<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">\n'
    ]
    out.extend(f'<link rel="stylesheet" href="{shown(sheet)}">\n'
               for sheet in get("theme_stylesheets") or ())
    out.extend(f'<script src="{shown(script)}" defer></script>\n'
               for script in get("scripts", ()))
    out.append(f'{blocks.get("head", "")}</head>\n'
               f'<body class="theme-{shown(get("theme_name", UNDEFINED))}">\n'
               '<a class="skip" href="#content">Skip to main content</a>\n')
    logout = ('<li><form class="inline" method="post" action="/user/logout"><input type="hidden"'
              f' name="csrf_token" value="{shown(get("csrf_token", UNDEFINED))}">'
              '<button type="submit">Log out</button></form></li>\n')
    if truthy(toolbar):
        out.append(_toolbar(toolbar, get("admin_active", UNDEFINED), logout))
    banner = get("stage_banner", UNDEFINED)
    if truthy(banner):
        out.append(shown(banner))
    user = get("user", UNDEFINED)
    if truthy(toolbar):
        account = ""
    elif truthy(user) and truthy(lookup(user, "is_authenticated")):
        account = (f'        <li><a href="/user/{shown(lookup(user, "id"))}">'
                   f'{shown(lookup(user, "name"))}</a></li>\n        {logout}')
    else:
        account = '        <li><a href="/user/login">Log in</a></li>\n'
    navigation, header = lookup(slots, "navigation"), lookup(slots, "header")
    sidebar, footer = lookup(slots, "sidebar"), lookup(slots, "footer")
    out.append('<header class="site" role="banner">\n  <div class="site__bar">\n'
               f'    <a class="brand" href="/">{site_name}</a>\n'
               '    <nav class="site" aria-label="Main">\n      <ul>\n'
               f'        <li><a href="/">Home</a></li>\n{account}      </ul>\n'
               f'{shown(navigation) if truthy(navigation) else ""}    </nav>\n{SEARCH_BOX}'
               '  </div>\n')
    if truthy(header):
        out.append(f'<div class="slot slot--header">{shown(header)}</div>')
    out.append(f'</header>\n<div class="layout{" with-sidebar" if truthy(sidebar) else ""}">\n'
               '  <main id="content" role="main" tabindex="-1">\n')
    if truthy(title):
        out.append(f"<h1>{shown(title)}</h1>")
    out.extend(f'<div class="messages {shown(kind)}"'
               f' role="{"alert" if kind == "error" else "status"}">{shown(text)}</div>'
               for kind, text in get("messages", ()))
    content = blocks.get("content")
    if content is None:
        slot = lookup(slots, "content")
        content = shown(slot) if truthy(slot) else ""
    out.append(f"{content}  </main>\n")
    if truthy(sidebar):
        out.append('  <aside class="slot slot--sidebar" aria-label="Sidebar">'
                   f"{shown(sidebar)}</aside>\n")
    out.append('</div>\n<footer class="site" role="contentinfo">\n'
               f'{shown(footer) if truthy(footer) else "Powered by Trovato"}</footer>\n'
               "</body>\n</html>")
    return "".join(out)


def admin_layout(variables: Mapping[str, Any], blocks: Blocks) -> str:
    """``admin/layout.html``'s ``content`` block, its ``admin`` block given."""
    admin = blocks.get("admin")
    inner = shown(variables.get("content", UNDEFINED)) if admin is None else admin
    return f'<div class="admin">\n{inner}</div>\n'


@dataclass(frozen=True, slots=True)
class Layout:
    """A shell template: its twin, the blocks a page extending it may fill, whether the file it
    copies is the default theme's (else the kernel's), the block its twin's output fills in
    its own parent (None for the outermost) and that parent."""

    twin: Shell
    fills: frozenset[str]
    in_theme: bool
    into: str | None = None
    parent: str | None = None


LAYOUTS: dict[str, Layout] = {
    "page.html": Layout(page, frozenset({"head", "content"}), in_theme=True),
    "admin/layout.html": Layout(admin_layout, frozenset({"admin", "head"}), in_theme=False,
                                into="content", parent="page.html"),
}
"""Shell template name → its twin (the chain ends at ``page.html``)."""


@dataclass(frozen=True, slots=True)
class ShellPlan:
    """How to draw a page: ``blocks`` rendered by Jinja2 and ``native`` ones by their twins
    (the page's variables in), then the ``layouts`` innermost first, each one's output
    becoming its parent's block."""

    blocks: tuple[str, ...]
    layouts: tuple[str, ...]
    native: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = ()

    def draw(self, variables: Mapping[str, Any], blocks: dict[str, str]) -> str:
        html = ""
        for name in self.layouts:
            layout = LAYOUTS[name]
            html = layout.twin(variables, blocks)
            if layout.into is not None:
                blocks = {**blocks, layout.into: html}
        return html


def _blocks_only(tree: nodes.Template) -> tuple[str | None, tuple[str, ...]] | None:
    """The template ``tree`` extends and the blocks it defines, when it is nothing but an
    ``{% extends "…" %}`` and blocks that do not call ``super()`` or ``self``; else None."""
    parent: str | None = None
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, nodes.Extends):
            if not isinstance(node.template, nodes.Const) or parent is not None:
                return None
            parent = str(node.template.value)
        elif isinstance(node, nodes.Block):
            if node.scoped or node.required or any(
                    n.name in ("super", "self") for n in node.find_all(nodes.Name)):
                return None
            names.append(node.name)
        elif isinstance(node, nodes.Output) and all(
                isinstance(n, nodes.TemplateData) and not n.data.strip() for n in node.nodes):
            continue
        else:
            return None
    return parent, tuple(names)


def plan_for(env: Environment, name: str, is_twin_source: Callable[[str], bool],
             block_twins: Mapping[str, Callable[[Mapping[str, Any]], str]]) -> (
        ShellPlan | None):
    """The plan drawing template ``name`` with the shell twins, or None when Jinja2 must draw
    it. ``is_twin_source(layout)`` tells whether ``layout`` resolves to the file its twin
    copies (not a theme's override); ``block_twins`` draw some of the page's blocks (the
    caller gives them only for the kernel's own page template)."""
    if name in LAYOUTS:
        blocks: tuple[str, ...] = ()
        first = name
    else:
        assert env.loader is not None
        source, _, _ = env.loader.get_source(env, name)
        found = _blocks_only(env.parse(source))
        if found is None or found[0] not in LAYOUTS:
            return None
        first, blocks = str(found[0]), found[1]
        if not set(blocks) <= LAYOUTS[first].fills:
            return None
    chain: list[str] = []
    current: str | None = first
    while current is not None:
        if not is_twin_source(current):
            return None
        chain.append(current)
        current = LAYOUTS[current].parent
    native = tuple((block, block_twins[block]) for block in blocks if block in block_twins)
    return ShellPlan(tuple(b for b in blocks if b not in block_twins), tuple(chain), native)
