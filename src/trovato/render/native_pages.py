"""Python twins of the kernel's page partials: the parts of a kernel page drawn once per row
of a long list (the admin content list's 50 rows).

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

from trovato.render.native import escape_html as _e

PageTwin = Callable[[Mapping[str, Any]], str]


def content_rows(variables: Mapping[str, Any]) -> str:
    """``admin/content_rows.html``: the content list's rows (``rows``, ``bulk_form``)."""
    rows = variables.get("rows") or ()
    if not rows:
        return '<tr><td colspan="7">No content matches.</td></tr>\n'
    form = _e(variables.get("bulk_form", ""))
    parts = []
    for row in rows:
        ident, title = _e(row.id), _e(row.title)
        edit = f' · <a href="/item/{ident}/edit">Edit</a>' if row.may_edit else ""
        parts.append(
            f'<tr><td><input type="checkbox" name="items" value="{ident}" form="{form}"'
            f' id="edit-items-{ident}" aria-label="Select {title}"></td>'
            f'<td><a href="/item/{ident}">{title}</a></td><td>{_e(row.type)}</td>'
            f"<td>{_e(row.author)}</td><td>{_e(row.status)}</td><td>{_e(row.updated)}</td>"
            f'<td><a href="/item/{ident}">View</a>{edit}</td></tr>\n')
    return "".join(parts)


PAGE_TWINS: dict[str, PageTwin] = {"admin/content_rows.html": content_rows}
"""Kernel partial template name → its Python twin."""
