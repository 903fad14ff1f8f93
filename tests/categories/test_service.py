"""The categories service: vocabularies, tags, slugs, the DAG and its refusals, taps."""

from __future__ import annotations

import pytest
from tests.categories.conftest import RecordingHooks, tags_named
from tests.content.conftest import ANONYMOUS, MakeUser

from trovato.categories.model import CategoryError
from trovato.categories.service import Categories
from trovato.db.pool import Database
from trovato.users.accounts import CurrentUser


@pytest.fixture
async def topics(categories: Categories, admin: CurrentUser) -> None:
    await categories.create_vocabulary(admin, "topics", "Topics")


async def test_vocabulary_crud(categories: Categories, admin: CurrentUser) -> None:
    made = await categories.create_vocabulary(admin, "topics", "Topics", description="What",
                                              weight=3)
    assert made.public() == {"id": "topics", "label": "Topics", "description": "What",
                             "hierarchy": "multiple", "weight": 3}
    with pytest.raises(CategoryError) as taken:
        await categories.create_vocabulary(admin, "topics", "Again")
    assert taken.value.status == 409
    with pytest.raises(CategoryError) as bad:
        await categories.create_vocabulary(admin, "Bad Name", " ", hierarchy="tree")
    assert set(bad.value.errors) == {"id", "label", "hierarchy"}
    changed = await categories.update_vocabulary(admin, "topics", label="Subjects",
                                                 hierarchy="single")
    assert (changed.label, changed.hierarchy) == ("Subjects", "single")
    assert [v.id for v in await categories.vocabularies(admin)] == ["topics"]
    await categories.delete_vocabulary(admin, "topics")
    with pytest.raises(CategoryError) as gone:
        await categories.vocabulary(admin, "topics")
    assert gone.value.status == 404


async def test_writes_need_administer_categories(categories: Categories, admin: CurrentUser,
                                                 make_user: MakeUser, topics: None) -> None:
    editor = await make_user("editor", ["access content", "create tags"])
    for attempt in (categories.create_vocabulary(editor, "other", "Other"),
                    categories.create_tag(editor, "topics", "Jazz")):
        with pytest.raises(CategoryError) as refused:
            await attempt
        assert refused.value.status == 403
    assert await categories.tags(editor, "topics") == []
    nobody = CurrentUser(id=ANONYMOUS.id, name="", permissions=frozenset())
    with pytest.raises(CategoryError) as hidden:
        await categories.vocabularies(nobody)
    assert hidden.value.status == 403


async def test_slugs_are_made_from_names_and_unique(categories: Categories, admin: CurrentUser,
                                                    topics: None) -> None:
    first = await categories.create_tag(admin, "topics", "Crème Brûlée")
    second = await categories.create_tag(admin, "topics", "creme brulee!")
    third = await categories.create_tag(admin, "topics", "Crème — brûlée")
    assert [first.slug, second.slug, third.slug] == ["creme-brulee", "creme-brulee-2",
                                                     "creme-brulee-3"]
    assert (await categories.create_tag(admin, "topics", "東京")).slug == "東京"
    assert (await categories.create_tag(admin, "topics", "!!!")).slug == "tag"
    # Another vocabulary has slugs of its own.
    await categories.create_vocabulary(admin, "places", "Places")
    assert (await categories.create_tag(admin, "places", "Crème brûlée")).slug == "creme-brulee"
    # A chosen slug must be free and well formed; renaming keeps the slug.
    with pytest.raises(CategoryError) as taken:
        await categories.update_tag(admin, second.id, slug="creme-brulee")
    assert taken.value.status == 409
    with pytest.raises(CategoryError) as malformed:
        await categories.update_tag(admin, second.id, slug="Not A Slug")
    assert "slug" in malformed.value.errors
    renamed = await categories.update_tag(admin, second.id, name="Custard")
    assert renamed.slug == "creme-brulee-2"
    assert (await categories.update_tag(admin, second.id, slug="custard")).slug == "custard"
    assert (await categories.tag_by_slug(admin, "topics", "custard")).name == "Custard"


async def test_diamond_ancestors_and_descendants(categories: Categories, admin: CurrentUser,
                                                 topics: None) -> None:
    """music → {jazz, blues} → fusion (two parents) → nu-fusion: each relative once, nearest
    first."""
    t = await tags_named(categories, admin, "topics", "Music")
    jazz = await categories.create_tag(admin, "topics", "Jazz", parents=[t["Music"].id])
    blues = await categories.create_tag(admin, "topics", "Blues", parents=[t["Music"].id],
                                        weight=-1)
    fusion = await categories.create_tag(admin, "topics", "Fusion",
                                         parents=[jazz.id, blues.id])
    nu = await categories.create_tag(admin, "topics", "Nu fusion", parents=[fusion.id])
    assert fusion.parents == (blues.id, jazz.id)  # by weight: blues first
    ancestors = await categories.ancestors(admin, nu)
    assert [a.name for a in ancestors] == ["Fusion", "Blues", "Jazz", "Music"]
    descendants = await categories.descendants(admin, t["Music"])
    assert [d.name for d in descendants] == ["Blues", "Jazz", "Fusion", "Nu fusion"]
    assert await categories.descendants(admin, nu) == []
    # Breadcrumbs follow first parents from the root down.
    assert [b.name for b in await categories.breadcrumb(admin, nu)] == ["Music", "Blues",
                                                                        "Fusion"]
    # The tree shows fusion under both parents, its children under the first only.
    tree = await categories.tree(admin, "topics")
    assert [n.tag.name for n in tree] == ["Music"]
    blues_node, jazz_node = tree[0].children
    assert [c.tag.name for c in blues_node.children] == ["Fusion"]
    assert [c.tag.name for c in blues_node.children[0].children] == ["Nu fusion"]
    assert jazz_node.children[0].repeated and jazz_node.children[0].children == ()


async def test_cycles_are_refused_naming_the_loop(categories: Categories, admin: CurrentUser,
                                                  database: Database, topics: None) -> None:
    a = await categories.create_tag(admin, "topics", "a")
    b = await categories.create_tag(admin, "topics", "b", parents=[a.id])
    c = await categories.create_tag(admin, "topics", "c", parents=[b.id])
    with pytest.raises(CategoryError) as direct:
        await categories.update_tag(admin, a.id, parents=[a.id])
    assert direct.value.status == 422 and "a → a" in direct.value.message
    with pytest.raises(CategoryError) as indirect:
        await categories.move(admin, a.id, [c.id])
    assert "would create a loop: a → c → b → a" in indirect.value.message
    assert indirect.value.extensions["loop"] == [str(a.id), str(c.id), str(b.id), str(a.id)]
    # Nothing changed.
    assert (await categories.tag(admin, a.id)).parents == ()
    assert await database.fetchval("SELECT count(*) FROM category_tag_hierarchy") == 2


async def test_hierarchy_modes_and_parents_from_elsewhere(
        categories: Categories, admin: CurrentUser, topics: None) -> None:
    await categories.create_vocabulary(admin, "flat", "Flat", hierarchy="none")
    await categories.create_vocabulary(admin, "tree", "Tree", hierarchy="single")
    root = await categories.create_tag(admin, "flat", "Root")
    with pytest.raises(CategoryError) as flat:
        await categories.create_tag(admin, "flat", "Child", parents=[root.id])
    assert "flat list" in flat.value.errors["parents"]
    x = await categories.create_tag(admin, "tree", "x")
    y = await categories.create_tag(admin, "tree", "y")
    with pytest.raises(CategoryError) as single:
        await categories.create_tag(admin, "tree", "z", parents=[x.id, y.id])
    assert "at most one parent" in single.value.errors["parents"]
    with pytest.raises(CategoryError) as foreign:
        await categories.create_tag(admin, "topics", "t", parents=[x.id])
    assert "parents.0" in foreign.value.errors
    # A stricter hierarchy is refused while tags have more parents.
    m1 = await categories.create_tag(admin, "topics", "m1")
    m2 = await categories.create_tag(admin, "topics", "m2")
    await categories.create_tag(admin, "topics", "both", parents=[m1.id, m2.id])
    with pytest.raises(CategoryError) as stricter:
        await categories.update_vocabulary(admin, "topics", hierarchy="single")
    assert stricter.value.status == 409 and "'both'" in stricter.value.message


async def test_deleting_a_tag_keeps_its_children_as_roots(
        categories: Categories, admin: CurrentUser, topics: None) -> None:
    parent = await categories.create_tag(admin, "topics", "Parent")
    child = await categories.create_tag(admin, "topics", "Child", parents=[parent.id])
    await categories.delete_tag(admin, parent.id)
    assert (await categories.tag(admin, child.id)).parents == ()
    with pytest.raises(CategoryError) as gone:
        await categories.tag(admin, parent.id)
    assert gone.value.status == 404


async def test_taps_fire_for_each_write(categories: Categories, admin: CurrentUser,
                                        hooks: RecordingHooks, topics: None) -> None:
    tag = await categories.create_tag(admin, "topics", "Jazz")
    await categories.update_tag(admin, tag.id, name="Free jazz")
    await categories.create_tag(admin, "topics", "Blues")
    await categories.delete_tag(admin, tag.id)
    await categories.delete_vocabulary(admin, "topics")
    assert hooks.seen == [("tag_insert", "Jazz"), ("tag_update", "Free jazz"),
                          ("tag_insert", "Blues"), ("tag_delete", "Free jazz"),
                          ("tag_delete", "Blues")]


async def test_a_failing_write_fires_nothing_durable(categories: Categories, admin: CurrentUser,
                                                     hooks: RecordingHooks, database: Database,
                                                     topics: None) -> None:
    """A hook that raises rolls the write back: it runs inside the transaction."""

    async def explode(*args: object) -> None:
        raise RuntimeError("refused")

    hooks.insert = explode  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await categories.create_tag(admin, "topics", "Jazz")
    assert await database.fetchval("SELECT count(*) FROM category_tag") == 0


async def test_names_are_stored_literally(categories: Categories, admin: CurrentUser,
                                          topics: None) -> None:
    nasty = "Robert'); DROP TABLE category_tag;--"
    tag = await categories.create_tag(admin, "topics", nasty, description="<script>x</script>")
    again = await categories.tag(admin, tag.id)
    assert (again.name, again.description) == (nasty, "<script>x</script>")
    assert again.slug == "robert-drop-table-category-tag"
    with pytest.raises(CategoryError) as multiline:
        await categories.create_tag(admin, "topics", "two\nlines")
    assert "name" in multiline.value.errors
    found = await categories.tags(admin, "topics", starting="robert'); drop")
    assert [t.id for t in found] == [tag.id]
    assert await categories.tags(admin, "topics", starting="%") == []


async def test_writes_in_a_stage_are_refused(categories: Categories, admin: CurrentUser,
                                             database: Database, topics: None) -> None:
    await database.execute("INSERT INTO stage (id, label) VALUES ('draft', 'Draft')")
    with pytest.raises(CategoryError) as refused:
        await categories.create_tag(admin, "topics", "Jazz", stage="draft")
    assert refused.value.status == 409
    live_tag = await categories.create_tag(admin, "topics", "Blues")
    for write in (categories.update_tag(admin, live_tag.id, name="Soul", stage="draft"),
                  categories.move(admin, live_tag.id, [], stage="draft"),
                  categories.delete_tag(admin, live_tag.id, stage="draft")):
        with pytest.raises(CategoryError) as staged:
            await write
        assert staged.value.status == 409 and "'draft'" in staged.value.message
    # Reads in the stage see live's tags (the stage's chain ends at live).
    assert (await categories.tag(admin, live_tag.id, stage="draft")).name == "Blues"


async def test_long_slugs_stay_unique(categories: Categories, admin: CurrentUser,
                                      topics: None) -> None:
    """A name past the slug's length: the suffix takes room from the cut slug, and a second
    and third such tag still get slugs of their own."""
    slugs = [(await categories.create_tag(admin, "topics", "0" * 200 + str(n))).slug
             for n in range(3)]
    assert len(set(slugs)) == 3
    assert all(len(slug) <= 128 for slug in slugs)
    assert slugs[1] == "0" * 126 + "-2"


async def test_a_deep_chain_is_refused(categories: Categories, admin: CurrentUser,
                                       topics: None) -> None:
    """The hierarchy stays within 64 levels: a chain of 64 takes no 65th, at either end."""
    chain = [await categories.create_tag(admin, "topics", "t0")]
    for n in range(1, 64):
        chain.append(await categories.create_tag(admin, "topics", f"t{n}",
                                                 parents=[chain[-1].id]))
    with pytest.raises(CategoryError) as below:
        await categories.create_tag(admin, "topics", "too deep", parents=[chain[-1].id])
    assert "65 levels deep" in below.value.message
    top = await categories.create_tag(admin, "topics", "top")
    with pytest.raises(CategoryError) as above:
        await categories.move(admin, chain[0].id, [top.id])
    assert "65 levels deep" in above.value.message
    assert [t.name for t in await categories.breadcrumb(admin, chain[-1])][:2] == ["t0", "t1"]
