"""Search through the item read path: ranking, web search syntax, access, stages, snippets
escaped, hostile queries, per-type weights and reindexing."""

from __future__ import annotations

import pytest

from tests.content.conftest import ANONYMOUS, ARTICLE, MakeUser
from tests.render.xss_corpus import VECTORS, assert_safe
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.search import MAX_QUERY, Search, SearchError
from trovato.stages import LIVE
from trovato.users.accounts import CurrentUser


def body(text: str) -> dict[str, object]:
    return {"field_body": {"value": text, "format": "plain_text"}}


@pytest.fixture
async def search(content: ContentServices, database: Database) -> Search:
    await content.types.create(ARTICLE)
    return Search(database, content.query, content.types)


async def titles(search: Search, user: CurrentUser, words: str, stage: str = LIVE
                 ) -> list[str]:
    return [r.item.title for r in (await search.search(user, words, stage=stage)).results]


async def test_a_title_match_ranks_above_a_body_match(
        search: Search, content: ContentServices, admin: CurrentUser) -> None:
    await content.items.create(admin, "article", title="Gardening notes",
                               fields=body("all about tomatoes and beans"))
    await content.items.create(admin, "article", title="Tomatoes", fields=body("red fruit"))
    await content.items.create(admin, "article", title="Unrelated", fields=body("nothing"))
    found = await search.search(ANONYMOUS, "tomatoes")
    assert [r.item.title for r in found.results] == ["Tomatoes", "Gardening notes"]
    assert found.total == 2


async def test_web_search_syntax(search: Search, content: ContentServices,
                                 admin: CurrentUser) -> None:
    await content.items.create(admin, "article", title="one", fields=body("apple banana"))
    await content.items.create(admin, "article", title="two", fields=body("apple cherry"))
    await content.items.create(admin, "article", title="three", fields=body("banana apple"))
    assert sorted(await titles(search, ANONYMOUS, "apple -banana")) == ["two"]
    assert sorted(await titles(search, ANONYMOUS, '"apple banana"')) == ["one"]
    assert sorted(await titles(search, ANONYMOUS, "cherry or banana")) == [
        "one", "three", "two"]


async def test_only_text_is_indexed_not_formats_or_numbers(
        search: Search, content: ContentServices, admin: CurrentUser) -> None:
    await content.items.create(admin, "article", title="x",
                               fields={**body("<p>words</p>"), "field_count": {"value": 7}})
    assert await titles(search, ANONYMOUS, "plain_text") == []
    assert await titles(search, ANONYMOUS, "p") == []
    assert await titles(search, ANONYMOUS, "words") == ["x"]


async def test_unpublished_items_are_found_only_by_those_who_may_see_them(
        search: Search, content: ContentServices, admin: CurrentUser,
        make_user: MakeUser) -> None:
    author = await make_user("author", ["access content", "create article content"])
    other = await make_user("other", ["access content"])
    await content.items.create(admin, "article", title="secret plan", status=0,
                               author_id=author.id)
    assert await titles(search, ANONYMOUS, "secret") == []
    assert await titles(search, other, "secret") == []
    assert await titles(search, author, "secret") == ["secret plan"]
    assert await titles(search, admin, "secret") == ["secret plan"]
    without = CurrentUser(id=other.id, name="x", permissions=frozenset())
    for words in ("secret", ""):
        with pytest.raises(SearchError) as refused:
            await search.search(without, words)
        assert refused.value.status == 403


async def test_an_item_changed_in_a_stage_is_found_by_its_staged_text_there_only(
        search: Search, content: ContentServices, admin: CurrentUser,
        database: Database) -> None:
    await database.execute("INSERT INTO stage (id, label) VALUES ('draft', 'Draft')")
    item = await content.items.create(admin, "article", title="Report",
                                      fields=body("live wording"))
    await content.items.update(admin, item.id, fields=body("staged wording"), stage="draft")
    await content.items.create(admin, "article", title="Fresh", fields=body("staged only"),
                               stage="draft")
    assert await titles(search, admin, "staged") == []
    assert await titles(search, admin, "live") == ["Report"]
    assert sorted(await titles(search, admin, "staged", stage="draft")) == ["Fresh", "Report"]
    assert await titles(search, admin, "live", stage="draft") == []
    found = await search.search(admin, "wording", stage="draft")
    assert "<mark>wording</mark>" in found.results[0].snippet
    assert "staged" in found.results[0].snippet
    # Publishing writes the staged text to the live rows: live finds it now.
    await content.staging.publish(admin, "draft")
    assert sorted(await titles(search, admin, "staged")) == ["Fresh", "Report"]
    assert await titles(search, admin, "live") == []


async def test_snippets_mark_matches_and_escape_everything_else(
        search: Search, content: ContentServices, admin: CurrentUser) -> None:
    stored = [v.replace("\x00", "") for v in VECTORS]  # no text field may hold a NUL
    for vector in stored:
        await content.items.create(admin, "article", title="xss",
                                   fields=body(f"needle {vector} needle \ue000 \ue001 &amp;"))
    results = []
    for page in range(2):
        found = await search.search(admin, "needle", limit=50, page=page)
        results += found.results
    assert found.total == len(results) == len(VECTORS)
    # Equal ranks: newest first.
    for result, vector in zip(results, reversed(stored), strict=True):
        assert "<mark>needle</mark>" in result.snippet
        assert_safe(str(result.snippet), vector, allowed_tags=frozenset({"mark"}))


async def test_snippets_read_as_the_text_reads_without_its_tags(
        search: Search, content: ContentServices, admin: CurrentUser) -> None:
    # ts_headline turns every tag into a space: "<code>a.py</code>;" read "a.py ;". An inline
    # tag now leaves nothing, a block's tag a space, and "a < b" in text is not a tag.
    await content.items.create(admin, "article", title="t", fields=body(
        "<p>Run <code>plugin.py</code>; see <strong>Trovato</strong>, a <em>CMS</em>."
        "</p><p>Next</p><ul><li>one</li><li>two plugin</li></ul>a < b and c > d<br/>end"))
    [result] = (await search.search(admin, "plugin")).results
    text = str(result.snippet)
    assert "Run plugin.py; see" in text
    assert "Trovato, a CMS." in text
    assert "CMS. Next" in text
    assert "one two <mark>plugin</mark>" in text
    assert "a &lt; b and c &gt; d end" in text


async def test_hostile_and_overlong_queries(search: Search, content: ContentServices,
                                            admin: CurrentUser) -> None:
    await content.items.create(admin, "article", title="plain", fields=body("text"))
    for words in ("'; DROP TABLE item; --", "a & | ! :* <-> (", "\\", "))((",
                  '"unbalanced', "-", "or", "*:"):
        found = await search.search(admin, words)
        assert found.total == 0
    assert (await search.search(admin, "   ")).results == []
    with pytest.raises(SearchError) as too_long:
        await search.search(admin, "x" * (MAX_QUERY + 1))
    assert too_long.value.status == 422 and "q" in too_long.value.errors
    with pytest.raises(SearchError) as nul:
        await search.search(admin, "a\x00b")
    assert nul.value.status == 422 and "NUL" in nul.value.errors["q"]
    assert await titles(search, admin, "plain") == ["plain"]


async def test_field_weights_and_reindex(search: Search, content: ContentServices,
                                         admin: CurrentUser, database: Database) -> None:
    await content.items.create(admin, "article", title="first", fields={
        "field_tags": [{"value": "zebra"}]})
    await content.items.create(admin, "article", title="second", fields=body("zebra"))
    # Unconfigured fields weigh D alike: equal ranks, the newest first.
    assert await titles(search, admin, "zebra") == ["second", "first"]
    # A stored vector keeps the weights it was computed with until a reindex.
    await database.execute("INSERT INTO search_field_config VALUES ('article', 'field_tags', 'A')")
    assert await titles(search, admin, "zebra") == ["second", "first"]
    progress: list[tuple[int, int]] = []
    assert await search.reindex(lambda done, total: progress.append((done, total))) == 2
    assert progress == [(2, 2)]
    assert await titles(search, admin, "zebra") == ["first", "second"]
    # A write changing the searched text computes its words with the weights of the moment;
    # one leaving the text as it was keeps them (weights change through set_weights, which
    # reindexes).
    await database.execute("UPDATE search_field_config SET weight = 'D'")
    first = (await search.search(admin, "zebra")).results[0].item
    first = await content.items.update(admin, first.id, title="first again")
    assert await titles(search, admin, "zebra") == ["first again", "second"]
    await content.items.update(admin, first.id, fields={"field_tags": [{"value": "zebras"}]})
    assert await titles(search, admin, "zebra") == ["second", "first again"]


async def _vectors(database: Database, item_id: object) -> dict[str, bool]:
    """Each revision of the item by stage: whether it has a search vector of its own."""
    rows = await database.fetch(
        "SELECT stage_id, bool_or(search_vector IS NOT NULL) AS has FROM item_revision"
        " WHERE item_id = %s GROUP BY stage_id", (item_id,))
    return {row["stage_id"]: row["has"] for row in rows}


async def test_only_a_stages_edits_keep_a_vector_of_their_own(
        search: Search, content: ContentServices, admin: CurrentUser,
        database: Database) -> None:
    """Site search reads the item row's vector; a revision's own is read only by the stage
    overlay, for a stage's edit: a live save leaves its revision's vector NULL, and so does a
    save of an item created in the stage (its row is the stage's); a reindex keeps the rule."""
    await database.execute("INSERT INTO stage (id, label) VALUES ('draft', 'Draft')")
    item = await content.items.create(admin, "article", title="Report",
                                      fields=body("live wording"))
    await content.items.update(admin, item.id, fields=body("newer live wording"))
    assert await _vectors(database, item.id) == {"live": False}
    await content.items.update(admin, item.id, fields=body("staged wording"), stage="draft")
    assert await _vectors(database, item.id) == {"live": False, "draft": True}
    fresh = await content.items.create(admin, "article", title="Fresh",
                                       fields=body("staged only"), stage="draft")
    await content.items.update(admin, fresh.id, title="Fresher", stage="draft")
    assert await _vectors(database, fresh.id) == {"draft": False}
    assert sorted(await titles(search, admin, "staged", stage="draft")) == ["Fresher",
                                                                           "Report"]
    await database.execute("UPDATE item_revision SET search_vector = NULL")
    await database.execute("UPDATE item_revision SET search_vector = 'stale'::tsvector"
                           " WHERE stage_id = 'live'")
    await search.reindex()
    assert await _vectors(database, item.id) == {"live": False, "draft": True}
    assert await _vectors(database, fresh.id) == {"draft": False}


async def test_a_stage_finds_an_edit_without_a_vector_of_its_own(
        search: Search, content: ContentServices, admin: CurrentUser,
        database: Database) -> None:
    """The overlay computes the vector of an edit that has none (a revision written some
    other way than as a stage's edit), so every stage edit is found by its words."""
    await database.execute("INSERT INTO stage (id, label) VALUES ('draft', 'Draft')")
    item = await content.items.create(admin, "article", title="Report",
                                      fields=body("live wording"))
    await content.items.update(admin, item.id, fields=body("staged wording"), stage="draft")
    await database.execute("UPDATE item_revision SET search_vector = NULL")
    await database.execute("INSERT INTO stage (id, label, upstream_id)"
                           " VALUES ('deeper', 'Deeper', 'draft')")
    # A stage right on live joins its edits flat; one further down looks each one up.
    for stage in ("draft", "deeper"):
        assert await titles(search, admin, "staged", stage=stage) == ["Report"]
        assert await titles(search, admin, "live", stage=stage) == []


async def test_stage_edits_published_into_an_upstream_stage_or_reverted_are_found(
        search: Search, content: ContentServices, admin: CurrentUser,
        database: Database) -> None:
    """Every way a stage's association comes to point at a revision: an edit, a revert in the
    stage, publishing a stage into the stage it builds on (the upstream's edit then points at
    the downstream's revision, or at a merge revision) and archiving the stage."""
    await database.execute("INSERT INTO stage (id, label) VALUES ('spring', 'Spring')")
    await database.execute("INSERT INTO stage (id, label, upstream_id)"
                           " VALUES ('week', 'Week', 'spring')")
    item = await content.items.create(admin, "article", title="Report",
                                      fields=body("live wording"))
    await content.items.update(admin, item.id, fields=body("spring wording"), stage="spring")
    await content.items.update(admin, item.id, fields=body("weekly wording"), stage="week")
    assert await titles(search, admin, "weekly", stage="week") == ["Report"]
    assert await titles(search, admin, "weekly", stage="spring") == []
    await content.staging.publish(admin, "week")
    assert await titles(search, admin, "weekly", stage="spring") == ["Report"]
    assert await titles(search, admin, "spring", stage="spring") == []
    revisions = await content.items.revisions.history(admin, item.id, stage="spring")
    spring = next(r for r in revisions
                  if r.fields["field_body"]["value"] == "spring wording")
    await content.items.revisions.revert(admin, item.id, spring.id, stage="spring")
    assert await titles(search, admin, "spring", stage="spring") == ["Report"]
    assert await titles(search, admin, "weekly", stage="spring") == []
    await content.items.stages.archive(admin, "spring")
    assert await titles(search, admin, "spring", stage="spring") == ["Report"]
    assert await titles(search, admin, "spring") == []


async def test_words_are_stemmed_in_the_search_language(
        search: Search, content: ContentServices, admin: CurrentUser) -> None:
    await content.items.create(admin, "article", title="Plugins", fields=body("running fast"))
    assert await search.language() == "english"
    assert await titles(search, ANONYMOUS, "plugin") == ["Plugins"]
    assert await titles(search, ANONYMOUS, "run") == ["Plugins"]
    found = await search.search(ANONYMOUS, "runs")
    assert "<mark>running</mark>" in found.results[0].snippet


async def test_changing_the_language_reindexes_every_item(
        search: Search, content: ContentServices, admin: CurrentUser,
        database: Database) -> None:
    item = await content.items.create(admin, "article", title="Plugins",
                                      fields=body("running"))
    progress: list[tuple[int, int]] = []
    assert await search.set_language("simple", actor=admin.id,
                                     progress=lambda d, t: progress.append((d, t))) is True
    assert progress == [(1, 1)]
    assert await search.language() == "simple"
    assert await titles(search, ANONYMOUS, "plugin") == []
    assert await titles(search, ANONYMOUS, "plugins") == ["Plugins"]
    assert await database.fetchval("SELECT search_vector::text FROM item WHERE id = %s",
                                   (item.id,)) == "'plugins':1A 'running':2"
    assert await database.fetchval(
        "SELECT variables->>'language' FROM watchdog ORDER BY id DESC LIMIT 1") == "simple"
    # The same language again changes nothing.
    assert await search.set_language("simple") is False
    assert await search.set_language("english") is True
    assert await titles(search, ANONYMOUS, "plugin") == ["Plugins"]


@pytest.mark.parametrize("language", ["klingon", "english'; DROP TABLE item; --", ""])
async def test_an_unknown_language_is_refused(search: Search, language: str) -> None:
    with pytest.raises(SearchError) as refused:
        await search.set_language(language)
    assert refused.value.status == 422 and "language" in refused.value.errors
    assert await search.language() == "english"
    assert "english" in await search.languages() and "simple" in await search.languages()


async def test_a_save_keeps_or_recomputes_the_fields_words(
        search: Search, content: ContentServices, admin: CurrentUser,
        database: Database) -> None:
    item = await content.items.create(admin, "article", title="Walrus",
                                      fields=body("tusks and whiskers"))
    item = await content.items.update(admin, item.id, title="Narwhal")
    # Only the title changed: the new title is found, and still the fields' text.
    assert await titles(search, ANONYMOUS, "narwhal") == ["Narwhal"]
    assert await titles(search, ANONYMOUS, "walrus") == []
    assert await titles(search, ANONYMOUS, "whisker") == ["Narwhal"]
    await content.items.update(admin, item.id, fields=body("a single long tooth"))
    assert await titles(search, ANONYMOUS, "whisker") == []
    assert await titles(search, ANONYMOUS, "tooth") == ["Narwhal"]
    # The vector is the one a full computation gives.
    assert await database.fetchval(
        "SELECT search_vector = trovato_search_vector(type, title, fields) FROM item"
        " WHERE id = %s", (item.id,)) is True
