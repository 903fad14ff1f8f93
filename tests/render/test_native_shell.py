"""The page shell's Python twins draw exactly what ``page.html`` and ``admin/layout.html``
draw, for every kernel page template, and a theme's own shell is still drawn by Jinja2."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from markupsafe import Markup

from tests.render.test_renderer import make_theme
from tests.render.xss_corpus import VECTORS, assert_safe
from trovato.kernel.toolbar import SECTIONS, Group, Section, Toolbar, toolbar_for
from trovato.render.renderer import ThemeEngine, ThemeRegistry
from trovato.users.accounts import CurrentUser

EVIL = VECTORS[0]


class _User:
    def __init__(self, authenticated: bool, name: str) -> None:
        self.is_authenticated = authenticated
        self.id = "0b9c" if authenticated else "00000000"
        self.name = name


def _groups(text: str) -> tuple[Group, ...]:
    """A group holding the page's section (``SECTIONS[1]``) and ``text``'s, and one of one."""
    mine = (*SECTIONS[:2], Section(text, text, text, text, text))
    return (Group(text, text, mine, frozenset(s.path for s in mine)),
            Group("Solo", SECTIONS[2].path, SECTIONS[2:3], frozenset({SECTIONS[2].path})))


def _contexts(text: str) -> list[dict[str, Any]]:
    """Shell variables with and without each one, ``text`` in every user-supplied place."""
    toolbars = [None, Toolbar(_groups(text), text, text)]
    users = [None, _User(False, ""), _User(True, text)]
    slot_sets: list[dict[str, Any]] = [
        {}, {"navigation": Markup("<ul>nav</ul>"), "header": text, "content": text,
             "sidebar": Markup("<p>side</p>"), "footer": text}]
    optional: dict[str, Any] = {
        "title": text, "messages": [("error", text), ("status", "Saved.")],
        "stage_banner": Markup('<div class="stage">Draft</div>'), "scripts": ["/a.js", text],
        "csrf_token": text, "language": "fr", "admin_active": SECTIONS[1].path,
        "content": text, "add_content": True,
        # admin/content.html's own (its block's twin)
        "filters": Markup("<form>f</form>"), "bulk": text, "total": 1, "pager": text,
        "table_rows": Markup("<tr><td>r</td></tr>\n"),
        # item_page.html's (its block's twin, with _tabs.html's)
        "tabs": [{"title": text, "href": text, "current": True},
                 {"title": "Edit", "href": "/e", "current": False},
                 SimpleNamespace(title=Markup("<b>R</b>"), href="/r", current=0)],
        "tabs_label": text,
        # form_page.html's (its block's twin): an item form's Preview
        "preview": text,
        "header": [SimpleNamespace(label=text, href=text, hint=text, arrow=arrow, sort=sort)
                   for arrow, sort in (("", ""), ("▲", "ascending"), (text, text))],
    }
    contexts = []
    for toolbar, user, slots, with_optional in itertools.product(
            toolbars, users, slot_sets, (False, True)):
        context: dict[str, Any] = {"toolbar": toolbar, "user": user, "slots": slots}
        if with_optional:
            context.update(optional)
        contexts.append(context)
    contexts.append({"admin_active": SECTIONS[2].path, "toolbar": Toolbar(_groups(text), "1", "u")})
    contexts.append({"admin_active": "/admin", "title": "",
                     "messages": [], "csrf_token": None, "stage_banner": ""})
    odd = [{"path": "/x", "label": Markup("<b>L</b>")}, SimpleNamespace(path="/y", label=text),
           {"path": "/z", "label": 3}]
    groups = [{"path": "/x", "label": Markup("<b>G</b>"), "paths": {"/x", "/y"}, "sections": odd},
              SimpleNamespace(path="/y", label=text, paths=("/y",), sections=odd[1:2]),
              {"path": 3, "label": 3, "sections": []}]
    for active in ("/x", "/y", text):
        contexts.append({"admin_active": active,
                         "toolbar": SimpleNamespace(groups=groups, user_id=1, user_name=text)})
    contexts.append({"tabs": [{"title": "View"}, {"items": 1}], "content": Markup("<p>")})
    contexts.append({"preview": Markup("<article>p</article>"), "content": Markup("<form>")})
    contexts.append({"preview": "", "tabs": []})
    contexts.append({"admin_active": "/admin", "total": 2, "filters": None, "header": [],
                     "toolbar": toolbar_for(CurrentUser(id=uuid.uuid4(), name="u", is_admin=True)),
                     "add_content": 0})
    return contexts


@pytest.fixture(scope="module")
def engine() -> ThemeEngine:
    return ThemeEngine(site_name="Test <site>")


def _pages(engine: ThemeEngine) -> list[str]:
    return sorted(name for name in engine.available if name.endswith(".html")
                  and engine._shell(name) is not None)


def test_every_kernel_page_is_drawn_by_the_twins(engine: ThemeEngine) -> None:
    pages = _pages(engine)
    for name in ("page.html", "admin/layout.html", "admin/content.html", "admin/batch.html",
                 "item_page.html", "form_page.html", "error.html", "admin/dashboard.html"):
        assert name in pages
    for name in ("admin/content.html", "item_page.html", "form_page.html"):
        assert engine._shell(name).native  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["plain", "a & b < c", *VECTORS[:12]])
def test_twins_equal_the_templates(engine: ThemeEngine, text: str) -> None:
    for name in _pages(engine):
        template = engine.template(name)
        for context in _contexts(text):
            try:
                expected = template.render({"slots": {}, **context})
            except Exception as error:  # the page's own variables are missing: Jinja fails
                with pytest.raises(type(error)):
                    engine.render_template(name, context)
                continue
            assert engine.render_template(name, context) == expected, (name, context)


def test_twins_escape_every_value(engine: ThemeEngine) -> None:
    for vector in VECTORS:
        for context in _contexts(vector)[-6:]:
            context.pop("scripts", None)  # the kernel's script URLs, never user-supplied
            assert_safe(engine.render_template("admin/layout.html", context), vector,
                        allowed_tags=frozenset({"meta", "link", "form"}))


def test_a_theme_shell_is_drawn_by_its_template(tmp_path: Path) -> None:
    make_theme(tmp_path, "mine", {"page.html": "<main>{% block content %}{% endblock %}</main>"})
    engine = ThemeEngine("mine", registry=ThemeRegistry([tmp_path]))
    assert engine._shell("admin/content.html") is None
    html = engine.render_template("admin/layout.html", {"content": "x"})
    assert html.startswith("<main>") and "x" in html


def test_a_page_using_super_is_drawn_by_jinja(tmp_path: Path) -> None:
    make_theme(tmp_path, "mine", {"item_page.html": '{% extends "page.html" %}'
                                  "{% block content %}[{{ super() }}]{% endblock %}"})
    engine = ThemeEngine("mine", registry=ThemeRegistry([tmp_path]))
    assert engine._shell("item_page.html") is None
    assert engine._shell("form_page.html") is not None
    assert "[" in engine.render_template("item_page.html", {"slots": {"content": "c"}})


def test_a_theme_tabs_partial_is_drawn_by_its_template(tmp_path: Path) -> None:
    make_theme(tmp_path, "mine", {"_tabs.html": "<p>themed tabs</p>"})
    engine = ThemeEngine("mine", registry=ThemeRegistry([tmp_path]))
    assert engine._shell("item_page.html").native == ()  # type: ignore[union-attr]
    html = engine.render_template("item_page.html", {"tabs": [{"title": "t"}], "content": "c"})
    assert "<p>themed tabs</p>" in html
