"""Configuration export and import against real sites: the round trip, the dry run, and
refusals that change nothing and name the file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import yaml

from tests.conftest import RUN_ID, _counter, _scratch_database, site_settings
from trovato.cli.config import site_of
from trovato.config import (
    ConfigError,
    Site,
    collect_config,
    import_config,
    read_config,
    write_config,
)
from trovato.files.styles import STYLES_MAX, parse_style
from trovato.kernel.services import Kernel
from trovato.users.registration import Registration, set_registration

ARTICLE = {
    "type": "article", "label": "Article", "description": "News.",
    "fields": [
        {"name": "field_body", "type": "text_long", "label": "Body"},
        {"name": "field_count", "type": "integer", "label": "Count", "required": True},
        {"name": "field_topics", "type": "reference", "label": "Topics", "cardinality": -1,
         "settings": {"target_type": "category_tag", "target_bundles": ["topics"]}},
    ],
}
LISTING = {
    "name": "articles", "label": "Articles",
    "filters": [{"field": "type", "op": "equals", "value": "article"},
                {"field": "field_count", "op": "gt", "value": 1}],
    "displays": {"page": {"path": "/articles"}, "tile": {}},
}


@asynccontextmanager
async def _kernel(url: str) -> AsyncIterator[Kernel]:
    kernel = await Kernel.start(site_settings(url), url)
    try:
        yield kernel
    finally:
        await kernel.stop()


@pytest.fixture
def second_db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    with _scratch_database(pg_server_url, f"trovato_t_{RUN_ID}_{next(_counter)}",
                           template_db) as url:
        yield url


async def _furnish(kernel: Kernel) -> None:
    """Some of every kind of configuration."""
    site = site_of(kernel)
    await site.categories.create_vocabulary(site.user, "topics", "Topics", hierarchy="single",
                                            description="What it is about.")
    await site.types.create(ARTICLE)
    await site.search.set_weights("article", {"field_body": "B"})
    editor = await site.roles.create("content editor", actor=site.user.id)
    await site.roles.set_permissions(editor.id, ["access content", "create article content"],
                                     actor=None)
    await site.roles.set_weight(editor.id, -3, actor=None)  # listed before the built-in ones
    await site.stages.create(site.user, "spring", "Spring campaign", roles=[editor.id])
    # Named before its upstream: an import creates it after, and deletes it before.
    await site.stages.create(site.user, "april", "April", upstream="spring")
    await site.gather.create(site.user, LISTING)
    await site.tiles.create(site.user, {
        "source": "gather:articles", "slot": site.tiles.slots[0], "weight": 2,
        "title": "Latest", "visibility": {"paths": ["/blog/*"], "roles": [str(editor.id)]}})
    await site.tiles.add_link(site.user, {"title": "About", "path": "/about", "weight": 3})
    await site.styles.save(parse_style("banner", {
        "label": "Banner", "effects": [{"name": "scale", "width": 900, "height": 300}]}))
    await set_registration(site.db, Registration.VISITORS.value, actor=None)
    await site.search.set_language("german")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


async def _export(site: Site, root: Path) -> None:
    write_config(root, await collect_config(site))


async def _audit_count(site: Site) -> int:
    return int(await site.db.fetchval("SELECT count(*) FROM watchdog WHERE type = 'config'"))


async def test_round_trip_into_a_fresh_site(db_url: str, second_db_url: str,
                                            tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    async with _kernel(db_url) as kernel:
        await _furnish(kernel)
        await _export(site_of(kernel), first)
        roles = [role.name for role in await site_of(kernel).roles.all()]
        assert roles[0] == "content editor"
        again = tmp_path / "again"
        await _export(site_of(kernel), again)
    assert _tree(first) == _tree(again)  # an unchanged site exports the same bytes
    files = _tree(first)
    for name in ("item_types/article.yaml", "vocabularies/topics.yaml", "gather/articles.yaml",
                 "roles/content_editor.yaml", "stages/spring.yaml", "menus/main.yaml",
                 "image_styles/banner.yaml", "settings/site.yaml"):
        assert name in files, sorted(files)
    tiles = [name for name in files if name.startswith("tiles/")]
    assert tiles == [f"tiles/{kernel.tiles.slots[0]}.gather_articles.yaml"]
    tile = yaml.safe_load(files[tiles[0]])
    assert tile["visibility"]["roles"] == ["content editor"]  # names, not this site's ids
    article = yaml.safe_load(files["item_types/article.yaml"])
    assert article["search_weights"] == {"field_body": "B"}
    assert yaml.safe_load(files["roles/content_editor.yaml"])["weight"] == -3
    assert yaml.safe_load(files["settings/site.yaml"]) == {"registration": "visitors",
                                                           "search_language": "german"}

    async with _kernel(second_db_url) as kernel:
        site = site_of(kernel)
        planned = await import_config(site, read_config(first), dry_run=True)
        assert ("create", "item_types", "article") in {(c.action, c.folder, c.name)
                                                        for c in planned}
        assert await site.types.get("article") is None  # the dry run changed nothing
        assert await _audit_count(site) == 0
        changes = await import_config(site, read_config(first))
        assert [(c.action, c.folder, c.name) for c in changes] == \
            [(c.action, c.folder, c.name) for c in planned]
        assert await _audit_count(site) == len(changes)
        assert [role.name for role in await site.roles.all()] == roles  # in the same order
        assert await site.search.language() == "german"
        await _export(site, second)
        assert await import_config(site, read_config(second)) == []  # nothing left to do
    assert _tree(second) == files


async def test_import_deletes_what_the_folder_lacks_but_guards_content(
        db_url: str, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _export(site, bare)
        await _furnish(kernel)
        await kernel.content.items.create(site.user, "article", title="One",
                                          fields={"field_count": {"value": 2}})
        # The article has an item, the stage may hold changes: neither goes unasked.
        with pytest.raises(ConfigError) as refused:
            await import_config(site, read_config(bare))
        assert refused.value.file == "stages/april.yaml"
        assert "--delete-content" in str(refused.value)
        assert await site.types.get("article") is not None  # nothing changed
        # Keeping what the folder lacks, only the menu and the settings (always there) change.
        changes = await import_config(site, read_config(bare), delete_absent=False)
        assert [(c.action, c.folder, c.name) for c in changes] == [
            ("update", "menus", "main"), ("update", "settings", "site")]
        assert await site.types.get("article") is not None
        changes = await import_config(site, read_config(bare), delete_content=True)
        deleted = {(c.folder, c.name) for c in changes if c.action == "delete"}
        assert {("item_types", "article"), ("vocabularies", "topics"), ("stages", "spring"),
                ("stages", "april"), ("roles", "content editor"), ("gather", "articles"),
                ("image_styles", "banner")} <= deleted
        assert await site.types.get("article") is None
        assert await site.tiles.links(site.user) == []
        assert [r.name for r in await site.roles.all()] == ["anonymous user",
                                                            "authenticated user"]
        after = tmp_path / "after"
        await _export(site, after)
        assert _tree(after) == _tree(bare)
        # A folder holding some kinds only leaves the others alone.
        await _furnish(kernel)
        partial = tmp_path / "partial"
        (partial / "gather").mkdir(parents=True)
        changes = await import_config(site, read_config(partial))
        assert [(c.action, c.folder, c.name) for c in changes] == [
            ("delete", "gather", "articles")]
        assert await site.types.get("article") is not None
        # The built-in roles and the front page stay when their files are missing.
        (partial / "roles").mkdir()
        changes = await import_config(site, read_config(partial))
        assert [(c.action, c.folder, c.name) for c in changes] == [
            ("delete", "roles", "content editor")]


def _write(root: Path, name: str, text: str | bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)


def _edit(root: Path, name: str, **changes: object) -> None:
    """Change some keys of the exported file ``name``."""
    document = yaml.safe_load((root / name).read_text())
    _write(root, name, yaml.safe_dump({**document, **changes}))


# What is wrong, how the folder gets it, the file refused and the field named (None: the
# field is the service's to name).
BAD: list[tuple[str, Callable[[Path], None], str, str | None]] = [
    ("a field of an unknown type", lambda root: _write(root, "item_types/page.yaml", yaml.safe_dump(
        {"type": "page", "label": "Page", "fields": [
            {"name": "field_x", "type": "hologram", "label": "X"}]})),
     "item_types/page.yaml", None),
    ("a listing naming a missing field", lambda root: _write(
        root, "gather/broken.yaml", yaml.safe_dump({
            "name": "broken", "label": "Broken",
            "filters": [{"field": "field_nowhere", "op": "equals", "value": 1}]})),
     "gather/broken.yaml", None),
    ("a tile naming an unknown role", lambda root: _write(
        root, "tiles/sidebar.gather_frontpage.yaml", yaml.safe_dump({
            "source": "gather:frontpage", "slot": "sidebar",
            "visibility": {"roles": ["nobody"]}})),
     "tiles/sidebar.gather_frontpage.yaml", "visibility.roles"),
    ("a menu link with a bad path", lambda root: _write(root, "menus/main.yaml", yaml.safe_dump(
        {"name": "main", "links": [{"title": "Out", "path": "https://example.com/"}]})),
     "menus/main.yaml", None),
    ("a role weight that is not a number", lambda root: _edit(
        root, "roles/content_editor.yaml", weight="heavy"), "roles/content_editor.yaml", "weight"),
    ("a fractional role weight", lambda root: _edit(
        root, "roles/content_editor.yaml", weight=1.5), "roles/content_editor.yaml", "weight"),
    ("an unknown search language", lambda root: _edit(
        root, "settings/site.yaml", search_language="klingon"), "settings/site.yaml",
     "search_language"),
    ("a search language that is no name", lambda root: _edit(
        root, "settings/site.yaml", search_language=["german"]), "settings/site.yaml",
     "search_language"),
]


@pytest.mark.parametrize("problem,spoil,file,field", BAD, ids=[b[0] for b in BAD])
async def test_an_invalid_object_changes_nothing_and_names_its_file(
        db_url: str, tmp_path: Path, problem: str, spoil: Callable[[Path], None],
        file: str, field: str | None) -> None:
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _furnish(kernel)
        await _export(site, tmp_path)
        before = await collect_config(site)
        # A valid change in the same folder, written before the bad one: rolled back too.
        _write(tmp_path, "vocabularies/places.yaml", yaml.safe_dump(
            {"id": "places", "label": "Places"}))
        spoil(tmp_path)
        with pytest.raises(ConfigError) as refused:
            await import_config(site, read_config(tmp_path))
        assert refused.value.file == file, str(refused.value)
        if field is not None:
            assert field in refused.value.errors, str(refused.value)
        assert await collect_config(site) == before
        assert await _audit_count(site) == 0


async def test_a_plugins_objects_are_the_plugins(db_url: str, tmp_path: Path) -> None:
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _furnish(kernel)
        listing = (await collect_config(site))["gather"]["articles"]
        await site.db.execute("UPDATE gather_query SET plugin = 'blog' WHERE name = 'articles'")
        await site.db.execute("UPDATE item_type SET plugin = 'blog' WHERE type = 'article'")
        await _export(site, tmp_path)
        assert not (tmp_path / "gather" / "articles.yaml").exists()
        assert not (tmp_path / "item_types" / "article.yaml").exists()
        assert await import_config(site, read_config(tmp_path)) == []  # nor deleted
        _write(tmp_path, "gather/articles.yaml", listing)
        with pytest.raises(ConfigError, match="plugin 'blog'") as refused:
            await import_config(site, read_config(tmp_path))
        assert refused.value.file == "gather/articles.yaml"


async def _matches(site: Site, item: object, language: str, word: str) -> bool:
    """Whether the stored search words of ``item`` (an id) hold ``word`` as ``language``
    reads it."""
    return bool(await site.db.fetchval(
        "SELECT search_vector @@ to_tsquery(%s::regconfig, %s) FROM item WHERE id = %s",
        (language, word, item)))


async def test_a_new_search_language_reindexes_every_item(db_url: str,
                                                         tmp_path: Path) -> None:
    folder, again = tmp_path / "config", tmp_path / "again"
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _furnish(kernel)  # german: "Häuser" is stored as haus
        item = await kernel.content.items.create(site.user, "article", title="Häuser laufen",
                                                 fields={"field_count": {"value": 2}})
        assert await _matches(site, item.id, "simple", "haus")
        await _export(site, folder)
        _edit(folder, "settings/site.yaml", search_language="simple")

        planned = await import_config(site, read_config(folder), dry_run=True)
        assert [(c.action, c.file, c.note) for c in planned] == [
            ("update", "settings/site.yaml",
             "the search language becomes simple: every item (1) is reindexed")]
        assert await site.search.language() == "german"  # the dry run changed nothing
        assert await _matches(site, item.id, "simple", "haus")
        assert await _audit_count(site) == 0

        changes = await import_config(site, read_config(folder))
        assert [(c.action, c.file, c.note) for c in changes] == \
            [(c.action, c.file, c.note) for c in planned]
        assert await site.search.language() == "simple"
        # Reindexed in the import: the words are stored as written now.
        assert await _matches(site, item.id, "simple", "häuser")
        assert not await _matches(site, item.id, "simple", "haus")
        await _export(site, again)
        assert _tree(again) == _tree(folder)
        assert await import_config(site, read_config(folder)) == []


async def test_a_refused_import_keeps_the_language_and_the_role_weights(
        db_url: str, tmp_path: Path) -> None:
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _furnish(kernel)
        item = await kernel.content.items.create(site.user, "article", title="Häuser",
                                                 fields={"field_count": {"value": 2}})
        await _export(site, tmp_path)
        before = await collect_config(site)
        _edit(tmp_path, "settings/site.yaml", search_language="simple")
        _edit(tmp_path, "roles/content_editor.yaml", weight=7)
        # Refused after the settings and roles are written: deleting a stage needs leave.
        (tmp_path / "stages" / "april.yaml").unlink()
        with pytest.raises(ConfigError) as refused:
            await import_config(site, read_config(tmp_path))
        assert refused.value.file == "stages/april.yaml"
        assert await collect_config(site) == before
        assert await site.search.language() == "german"
        assert await _matches(site, item.id, "simple", "haus")
        assert await _audit_count(site) == 0
        # With leave, all three changes are made, the weight among them.
        changes = await import_config(site, read_config(tmp_path), delete_content=True)
        assert {(c.action, c.file) for c in changes} == {
            ("update", "roles/content_editor.yaml"), ("update", "settings/site.yaml"),
            ("delete", "stages/april.yaml")}
        editor = next(r for r in await site.roles.all() if r.name == "content editor")
        assert editor.weight == 7


async def test_a_role_file_without_a_weight_keeps_the_roles(db_url: str,
                                                             tmp_path: Path) -> None:
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _furnish(kernel)
        await _export(site, tmp_path)
        _write(tmp_path, "roles/content_editor.yaml", yaml.safe_dump(
            {"name": "content editor", "permissions": ["access content"]}))
        _write(tmp_path, "roles/reviewer.yaml", yaml.safe_dump({"name": "reviewer"}))
        await import_config(site, read_config(tmp_path))
        weights = {r.name: r.weight for r in await site.roles.all()}
        assert weights["content editor"] == -3  # as it was
        assert weights["reviewer"] == max(weights.values())  # a new role comes last


async def test_a_closed_stage_is_history_not_configuration(db_url: str,
                                                           tmp_path: Path) -> None:
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _furnish(kernel)
        await site.stages.create(site.user, "winter", "Winter sale")
        folder = tmp_path / "config"
        await _export(site, folder)
        winter = (folder / "stages" / "winter.yaml").read_bytes()
        await site.stages.archive(site.user, "winter")
        again = tmp_path / "again"
        await _export(site, again)
        assert not (again / "stages" / "winter.yaml").exists()
        assert sorted(_tree(again)) == sorted(set(_tree(folder)) - {"stages/winter.yaml"})
        # Lacking it, an import leaves it alone (no --delete-content asked for).
        assert await import_config(site, read_config(again)) == []
        assert await site.stages.status("winter") == "archived"
        # A file naming it would reopen or redefine it: refused, naming the file and its id.
        _write(again, "stages/winter.yaml", winter)
        with pytest.raises(ConfigError) as refused:
            await import_config(site, read_config(again), dry_run=True)
        assert refused.value.file == "stages/winter.yaml"
        assert refused.value.errors == {"id": "is archived"}
        assert await site.stages.status("winter") == "archived"


async def test_a_hand_written_folder_is_applied_whole_and_then_has_nothing_to_change(
        db_url: str, tmp_path: Path) -> None:
    # Omitted properties are the defaults (as when creating), lists in any order.
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _furnish(kernel)
        await _export(site, tmp_path)
        _write(tmp_path, "vocabularies/topics.yaml", yaml.safe_dump(
            {"id": "topics", "label": "Topics"}))
        _write(tmp_path, "roles/content_editor.yaml", yaml.safe_dump(
            {"name": "content editor",
             "permissions": ["create article content", "access content"]}))
        _write(tmp_path, "stages/spring.yaml", yaml.safe_dump(
            {"id": "spring", "label": "Spring campaign"}))
        _write(tmp_path, "menus/main.yaml", yaml.safe_dump(
            {"name": "main", "links": [{"title": "Zed", "path": "/zed", "weight": 9},
                                       {"title": "About", "path": "/about", "weight": 3}]}))
        changes = await import_config(site, read_config(tmp_path))
        assert {(c.action, c.folder, c.name) for c in changes} == {
            ("update", "vocabularies", "topics"), ("update", "stages", "spring"),
            ("update", "menus", "main")}
        topics = await site.categories.vocabulary(site.user, "topics")
        assert (topics.description, topics.hierarchy) == ("", "multiple")
        assert await import_config(site, read_config(tmp_path)) == []


async def test_a_dry_run_refuses_what_the_import_would(db_url: str, tmp_path: Path) -> None:
    # Too many image styles: refused by the styles service when saving them all at once,
    # and by the dry run, which checks them without saving.
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _export(site, tmp_path)
        for n in range(STYLES_MAX):
            _write(tmp_path, f"image_styles/style_{n}.yaml", yaml.safe_dump({
                "name": f"style_{n}", "label": f"Style {n}",
                "effects": [{"name": "scale", "width": 100, "height": 100}]}))
        for dry_run in (True, False):
            with pytest.raises(ConfigError, match="at most") as refused:
                await import_config(site, read_config(tmp_path), dry_run=dry_run)
            assert refused.value.file == "image_styles"


async def test_a_tile_file_is_named_by_its_slot_and_source(db_url: str, tmp_path: Path) -> None:
    # A placement's only name is its file's: one named otherwise would be made again (and
    # the exported one deleted) on every import of the folder.
    async with _kernel(db_url) as kernel:
        site = site_of(kernel)
        await _furnish(kernel)
        await _export(site, tmp_path)
        slot = kernel.tiles.slots[0]
        placed = tmp_path / "tiles" / f"{slot}.gather_articles.yaml"
        placed.rename(tmp_path / "tiles" / "latest.yaml")
        with pytest.raises(ConfigError, match=f"{slot}.gather_articles") as refused:
            read_config(tmp_path)
        assert refused.value.file == "tiles/latest.yaml"
        (tmp_path / "tiles" / "latest.yaml").rename(placed)
        assert await import_config(site, read_config(tmp_path)) == []
