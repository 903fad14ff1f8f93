"""Python twins of the kernel's page partials and page blocks: the parts of a kernel page drawn
once per row of a long list (the admin content list's 50 rows), and that list's own block.

Through Jinja2, each value of each row is an attribute lookup, a Markup object and a ``yield``
passed up through every template the page extends (the row's page, the admin layout, the
theme's page): the 50 rows of the content list were most of the page's time. A partial's twin
returns *exactly* the template's output for the same variables, every value through
:func:`~trovato.render.native.escape_html` (``tests/render/test_native.py`` renders rows with
the XSS corpus both ways). :meth:`~trovato.render.renderer.ThemeEngine.render_partial` uses a
twin only when the partial resolves to the kernel's template, so a theme that overrides the
partial still gets its own rendered by Jinja.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trovato.caches import BytesLRU, text_cache
from trovato.render.native import escape_html as _e
from trovato.render.native_shell import UNDEFINED, lookup, shown, truthy

PageTwin = Callable[[Mapping[str, Any]], str]


# One row's HTML by the values it shows (and the bulk form's escaped id): the list shows the
# same items on every request, and a row is a dozen escapes and joins to draw. Only plain
# ``str`` values are keys: a Markup equal to a str escapes differently.
_ROWS: BytesLRU[tuple[object, ...], str] = text_cache("content_rows", max_entry_bytes=4096,
                                                      recency=False)


def content_rows(variables: Mapping[str, Any]) -> str:
    """``admin/content_rows.html``: the content list's rows (``rows``: id, title, type,
    author, status, updated — text — and may_edit), ``bulk_form``; each row's HTML is
    remembered per process by its values."""
    rows = variables.get("rows") or ()
    if not rows:
        return '<tr><td colspan="7">No content matches.</td></tr>\n'
    form = _e(variables.get("bulk_form", ""))
    get, html = _ROWS.get, []
    for row in rows:
        key = (form, row.id, row.title, row.type, row.author, row.status, row.updated,
               bool(row.may_edit))
        _, ident, title, type_, author, status, updated, _ = key
        if type(ident) is str and type(title) is str and type(type_) is str \
                and type(author) is str and type(status) is str and type(updated) is str:
            found = get(key)
            if found is None:
                found = _row(*key)
                _ROWS.put(key, found)
            html.append(found)
        else:
            html.append(_row(*key))
    return "".join(html)


def _row(form: str, *values: Any) -> str:
    """One row of :func:`content_rows` (``values``: id, title, type, author, status, updated,
    may_edit), every value but may_edit escaped (``form`` already is)."""
    ident, title, type_, author, status, updated = map(_e, values[:6])
    return (f'<tr><td data-label="Select"><input type="checkbox" name="items" value="{ident}"'
            f' form="{form}" id="edit-items-{ident}" aria-label="Select {title}"></td>'
            f'<td data-label="Title"><a href="/item/{ident}">{title}</a></td>'
            f'<td data-label="Type">{type_}</td><td data-label="Author">{author}</td>'
            f'<td data-label="Status">{status}</td>'
            f'<td data-label="Updated"><time>{updated}</time></td>'
            f'<td data-label="Operations"><a href="/item/{ident}">View</a>'
            + (' · <a href="/item/' + ident + '/edit">Edit</a>' if values[6] else "")
            + "</td></tr>\n")


def content_list(variables: Mapping[str, Any]) -> str:
    """``admin/content.html``'s ``admin`` block: the "Add content" link (``add_content``), the
    filters, the bulk form, the table with its sortable column headers (``header``: label,
    href, hint, arrow, sort) and rows (drawn by :func:`content_rows`), the pager."""
    get = variables.get
    total = get("total", "")
    columns = []
    for column in get("header", ()):
        sort = f' aria-sort="{_e(column.sort)}"' if column.sort else ""
        arrow = f" {_e(column.arrow)}" if column.arrow else ""
        columns.append(f'<th scope="col"{sort}><a href="{_e(column.href)}"'
                       f' title="{_e(column.hint)}">{_e(column.label)}{arrow}</a></th>')
    add = ('<ul class="admin-actions"><li><a class="button" href="/item/add">Add content</a>'
           "</li></ul>\n") if truthy(get("add_content", UNDEFINED)) else ""
    return (f'{add}<section class="admin-filters" aria-label="Filter content">'
            f'{_e(get("filters", ""))}</section>\n{_e(get("bulk", ""))}\n'
            '<div class="table-wrap table-wrap--stack">\n<table class="admin-content">\n'
            f'<caption>Content ({_e(total)} item{"" if total == 1 else "s"})</caption>\n'
            '<thead><tr>\n<th scope="col"><span class="visually-hidden">Select</span></th>\n'
            f'{"".join(columns)}<th scope="col">Operations</th>\n</tr></thead>\n<tbody>\n'
            f'{_e(get("table_rows", ""))}</tbody>\n</table>\n</div>\n'
            f'{_e(get("pager", ""))}\n')


def tabs(variables: Mapping[str, Any]) -> str:
    """``_tabs.html``: the local tasks (``tabs``: title, href, current; ``tabs_label``)."""
    found = variables.get("tabs", UNDEFINED)
    if found is UNDEFINED or not found:
        return ""
    current = ' aria-current="page"'
    links = "".join([
        f'    <li><a href="{shown(lookup(tab, "href"))}"'
        f'{current if truthy(lookup(tab, "current")) else ""}>{shown(lookup(tab, "title"))}'
        "</a></li>\n" for tab in found])
    label = _e(variables.get("tabs_label", "Item tabs"))
    return f'<nav class="tabs" aria-label="{label}">\n  <ul>\n{links}  </ul>\n</nav>\n'


def item_page(variables: Mapping[str, Any]) -> str:
    """``item_page.html``'s ``content`` block: the tabs (:func:`tabs`), the rendered item."""
    return f'{tabs(variables)}{shown(variables.get("content", UNDEFINED))}\n'


def form_page(variables: Mapping[str, Any]) -> str:
    """``form_page.html``'s ``content`` block: the tabs (:func:`tabs`), the ``preview`` of an
    item form's Preview, the rendered form (``content``)."""
    preview = variables.get("preview", UNDEFINED)
    shown_preview = ('<section class="preview" aria-labelledby="preview-title">\n'
                     f'<h2 id="preview-title">Preview</h2>\n{shown(preview)}\n</section>\n'
                     if truthy(preview) else "")
    return f'{tabs(variables)}{shown_preview}{shown(variables.get("content", UNDEFINED))}\n'


PAGE_TWINS: dict[str, PageTwin] = {"admin/content_rows.html": content_rows}
"""Kernel partial template name → its Python twin."""

BLOCK_TWINS: dict[str, dict[str, PageTwin]] = {
    "admin/content.html": {"admin": content_list},
    "item_page.html": {"content": item_page},
    "form_page.html": {"content": form_page},
}
"""Kernel page template name → its blocks' Python twins (used when the page is drawn in the
shell's twins, :mod:`trovato.render.native_shell`)."""

BLOCK_PARTIALS: dict[str, tuple[str, ...]] = {"item_page.html": ("_tabs.html",),
                                               "form_page.html": ("_tabs.html",)}
"""The partials a page's block twins draw as well: the twins are used only while these are
the kernel's own too."""
