"""Tile placements as documents: the path globs (linear, no regular expression), visibility
by path, role and stage, and the refusals naming the part."""

from __future__ import annotations

import time
import uuid

import pytest

from trovato.tiles.model import Placement, Source, TileError, Visibility, parse, path_matches

EDITOR = uuid.UUID("0190a0b0-0000-7000-8000-0000000000e1")


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("/", "/", True),
    ("/blog", "/blog", True),
    ("/blog/", "/blog", True),
    ("/blog", "/blog/1", False),
    ("/blog/*", "/blog/1", True),
    ("/blog/*", "/blog/1/2", True),
    ("/blog/*", "/blog", False),
    ("/blog*", "/blog", True),
    ("/blog*", "/blogroll", True),
    ("*", "/anything/at/all", True),
    ("/item/*/edit", "/item/42/edit", True),
    ("/item/*/edit", "/item/42/revisions", False),
    ("/a*b*c", "/aXbYc", True),
    ("/a*b*c", "/aXcYb", False),
    ("/a*a", "/a", False),  # the pieces may not overlap
    ("/a*a", "/aa", True),
    ("*.xml", "/rss.xml", True),
])
def test_path_globs(pattern: str, path: str, expected: bool) -> None:
    assert path_matches(pattern, path) is expected


def test_a_hostile_pattern_takes_linear_time() -> None:
    # A backtracking matcher takes exponential time on this shape; this one finds each piece
    # once, left to right.
    pattern = "/" + "a*" * 120 + "b"
    path = "/" + "a" * 100_000
    started = time.perf_counter()
    assert not path_matches(pattern, path)
    assert time.perf_counter() - started < 0.5


def test_visibility_by_path_role_and_stage() -> None:
    anyone = frozenset({uuid.uuid4()})
    editor = frozenset({EDITOR})
    everywhere = Visibility()
    assert everywhere.shows("/anything", anyone, "live")
    only_blog = Visibility(paths=("/blog", "/blog/*"), hidden_paths=("/blog/secret",))
    assert only_blog.shows("/blog/", anyone, "live")
    assert only_blog.shows("/blog/post", anyone, "live")
    assert not only_blog.shows("/blog/secret", anyone, "live")
    assert not only_blog.shows("/about", anyone, "live")
    editors = Visibility(roles=(EDITOR,))
    assert editors.shows("/", editor, "live") and not editors.shows("/", anyone, "live")
    draft = Visibility(stages=("draft",))
    assert draft.shows("/", anyone, "draft") and not draft.shows("/", anyone, "live")


def test_bad_placements_are_refused_naming_the_part() -> None:
    with pytest.raises(TileError) as refused:
        parse({"source": "gather:recent", "slot": "sidebar",
               "visibility": {"paths": ["/ok", "no slash", "/has space"]}})
    assert refused.value.status == 422
    assert set(refused.value.errors) == {"visibility.paths.1", "visibility.paths.2"}
    for document, part in [
        ({"source": "gather:Bad", "slot": "sidebar"}, "source"),
        ({"source": "plugin:x", "slot": "sidebar"}, "source"),
        ({"source": "gather:x", "slot": "side bar"}, "slot"),
        ({"source": "gather:x", "slot": "sidebar", "weight": 10**6}, "weight"),
        ({"source": "gather:x", "slot": "sidebar", "colour": "red"}, "colour"),
        ({"source": "gather:x", "slot": "sidebar", "visibility": {"roles": ["nope"]}},
         "visibility.roles.0"),
    ]:
        with pytest.raises(TileError) as refused:
            parse(document)
        assert part in refused.value.errors, (document, refused.value.errors)


def test_sources_and_documents() -> None:
    assert Source.of("gather:recent") == Source("gather", "recent")
    assert Source.of("plugin:blog:latest") == Source("plugin", "latest", "blog")
    placed = parse({"source": "plugin:blog:latest", "slot": "footer", "title": "T",
                    "visibility": {"roles": [str(EDITOR)]}, "settings": {"n": 3}})
    placement = Placement(uuid.uuid4(), placed.source, placed.slot, placed.weight,
                          placed.enabled, placed.title, placed.visibility, placed.settings)
    document = placement.document()
    assert document["visibility"]["roles"] == [str(EDITOR)]
    assert parse({k: v for k, v in document.items() if k != "id"}) == placed


def test_a_listings_tile_display_and_menu_link() -> None:
    from trovato.gather.definition import GatherError
    from trovato.gather.definition import parse as parse_definition

    base = {"name": "recent", "label": "Recent"}
    parsed = parse_definition({**base, "displays": {
        "page": {"path": "/recent", "menu": {"title": "Recent"}}, "tile": {}}})
    assert parsed.displays.tile is not None and parsed.displays.tile.per_page == 5
    assert parsed.displays.tile.style == "list"
    assert parsed.displays.page is not None and parsed.displays.page.menu is not None
    assert parsed.document()["displays"]["page"]["menu"] == {"title": "Recent", "weight": 0}
    for displays, part in [
        ({"page": {"path": "/t/{slug}", "menu": {"title": "T"}}}, "displays.page"),
        ({"page": {"path": "/t", "menu": {"title": ""}}}, "displays.page.menu.title"),
        ({"tile": {"per_page": 1000}}, "displays.tile.per_page"),
        ({"tile": {"style": "table"}}, "displays.tile.style"),
    ]:
        with pytest.raises(GatherError) as refused:
            parse_definition({**base, "displays": displays})
        assert part in refused.value.errors, refused.value.errors
