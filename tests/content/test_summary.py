"""Stored summaries: written with the item, forgotten when the type's text fields change,
and teaser listings that read them instead of the fields (filling in unknown ones:
``test_summary_backfill.py``)."""

from __future__ import annotations

import copy

import pytest

from tests.content.conftest import ARTICLE, plugin_taps
from trovato.content.access import Operation, Vote
from trovato.content.fields import FieldRegistry
from trovato.content.items import Item, ItemHooks
from trovato.content.services import ContentServices
from trovato.content.summary import SUMMARY_LENGTH, summarize
from trovato.content.types import parse_item_type
from trovato.db.pool import Database
from trovato.users.accounts import CurrentUser

BODY = {"value": "<p>First &amp; <b>best</b></p><script>x()</script>", "format": "filtered_html"}
BODY_ONLY = parse_item_type(
    {"type": "t", "label": "T", "fields": [{"name": "body", "type": "text_long", "label": "B"}]},
    FieldRegistry(),
)


@pytest.fixture
async def article(content: ContentServices) -> None:
    await content.types.create(ARTICLE)


async def _stored(database: Database, item: Item) -> str | None:
    value = await database.fetchval("SELECT summary FROM item WHERE id = %s", (item.id,))
    assert value is None or isinstance(value, str)
    return value


def test_summarize_takes_the_first_text_field_with_a_value(content: ContentServices) -> None:
    item_type = parse_item_type({"type": "t", "label": "T", "fields": [
        {"name": "field_n", "type": "integer", "label": "N"},
        {"name": "field_a", "type": "text", "label": "A", "cardinality": -1},
        {"name": "field_b", "type": "text_long", "label": "B"},
    ]}, content.types.fields)
    assert summarize({"field_a": [{"value": "<i>a</i> &lt;x&gt;"}], "field_b": BODY},
                     item_type) == "a <x>"
    # An empty first field falls through to the next text field; integers never count.
    assert summarize({"field_a": [], "field_b": BODY, "field_n": {"value": 3}},
                     item_type) == "First & best"
    assert summarize({"field_n": {"value": 3}}, item_type) == ""
    long = summarize({"field_b": {"value": "word " * 200}}, item_type)
    assert long.endswith("…") and len(long) <= SUMMARY_LENGTH + 1


async def test_the_summary_is_written_with_the_item(
    content: ContentServices, admin: CurrentUser, article: None, database: Database
) -> None:
    item = await content.items.create(admin, "article", title="A", fields={"field_body": BODY})
    assert item.summary == "First & best" == await _stored(database, item)
    updated = await content.items.update(admin, item.id, fields={
        "field_body": {"value": "Second", "format": "plain_text"}})
    assert updated.summary == "Second" == await _stored(database, item)
    cleared = await content.items.update(admin, item.id, fields={"field_body": None})
    assert cleared.summary == "" == await _stored(database, item)


async def test_changing_the_types_text_fields_forgets_stored_summaries(
    content: ContentServices, admin: CurrentUser, article: None, database: Database
) -> None:
    item = await content.items.create(admin, "article", title="A", fields={
        "field_body": BODY, "field_tags": [{"value": "tag"}]})
    assert await _stored(database, item) == "First & best"
    await content.types.update("article", {"label": "News"}, partial=True)
    assert await _stored(database, item) == "First & best"  # no text field moved
    doc = copy.deepcopy(ARTICLE)
    doc["fields"].insert(0, doc["fields"].pop(2))  # field_tags now comes before field_body
    await content.types.update("article", doc)
    assert await _stored(database, item) is None
    # The reader computes it from the fields, from the new order.
    listed = (await content.query.list(admin, fields=False)).items
    assert [(i.summary, i.partial, i.fields["field_tags"]) for i in listed] == [
        (None, False, [{"value": "tag"}])]
    assert summarize(listed[0].fields, await content.types.get("article")) == "tag"
    resaved = await content.items.update(admin, item.id, title="B")
    assert resaved.summary == "tag" == await _stored(database, item)


async def test_teaser_listings_leave_the_fields_out(
    content: ContentServices, admin: CurrentUser, article: None
) -> None:
    item = await content.items.create(admin, "article", title="A", promote=True,
                                      fields={"field_body": BODY, "field_count": {"value": 2}})
    whole = (await content.query.list(admin)).items
    assert whole == [item] and whole[0].fields and not whole[0].partial
    (teaser,) = (await content.query.list(admin, fields=False)).items
    assert teaser.partial and teaser.fields == {} and teaser.summary == "First & best"
    assert (teaser.id, teaser.title, teaser.author_name) == (item.id, "A", admin.name)
    with pytest.raises(ValueError, match="without its fields"):
        teaser.public()  # never handed to a plugin or an API client


class _Voter(ItemHooks):
    def __init__(self) -> None:
        self.seen: list[dict[str, object]] = []

    def reads_items(self) -> bool:
        return True

    async def access(self, item: Item, op: Operation, user: CurrentUser) -> Vote:
        self.seen.append(item.public())
        return Vote.NEUTRAL


async def test_an_access_voter_gets_whole_items_even_in_teaser_listings(
    content: ContentServices, admin: CurrentUser, article: None
) -> None:
    await content.items.create(admin, "article", title="A", fields={"field_body": BODY})
    voter = _Voter()
    content.items.hooks = voter
    reader = CurrentUser(id=admin.id, name="reader", permissions=frozenset({"access content"}))
    (listed,) = (await content.query.list(reader, fields=False)).items
    assert not listed.partial and listed.fields["field_body"] == BODY
    assert voter.seen and voter.seen[0]["fields"] == {"field_body": BODY}


async def test_a_voter_enabled_mid_listing_hides_partial_items() -> None:
    """A plugin voting on access enabled between a teaser listing's query and its access
    checks cannot see the partial items: they are denied (fail closed), not a crash."""
    from trovato.content.taps import PluginItemHooks
    from trovato.ids import uuid7

    partial = Item(id=uuid7(), type="article", title="A", author_id=uuid7(), partial=True)
    reader = CurrentUser(id=uuid7(), name="reader", permissions=frozenset({"access content"}))
    voting = PluginItemHooks(plugin_taps(("item_access",)))
    assert voting.reads_items()
    assert await voting.access(partial, "view", reader) == Vote.DENY
    quiet = PluginItemHooks(plugin_taps(()))
    assert not quiet.reads_items()
    assert await quiet.access(partial, "view", reader) == Vote.NEUTRAL


@pytest.mark.parametrize(("source", "text_format", "expected"), [
    ("<p>Welcome!</p><p>Everything here…</p>", "filtered_html", "Welcome! Everything here…"),
    ("<h2>Title</h2>Text<br>next<ul><li>one</li><li>two</li></ul>", "full_html",
     "Title Text next one two"),
    ("<div>a</div><div>b</div>  <p> c </p>", "filtered_html", "a b c"),
    ("<b>bold</b><i>italic</i>", "filtered_html", "bolditalic"),  # inline stays joined
    ("# Welcome!\n\nEverything *here*.\n\n- one\n- two", "markdown",
     "Welcome! Everything here. one two"),
    ("if a<b and c>d\n\nnext", "plain_text", "if a<b and c>d next"),
])
def test_block_boundaries_become_spaces(source: str, text_format: str, expected: str) -> None:
    assert summarize({"body": {"value": source, "format": text_format}}, BODY_ONLY) == expected


def test_a_summary_reads_only_the_start_of_a_long_text() -> None:
    body = "<p></p>" * 10_000 + "<p>" + "word " * 100_000 + "</p>"
    text = summarize({"body": {"value": body, "format": "filtered_html"}}, BODY_ONLY)
    assert text.startswith("word word") and text.endswith("…")
    assert len(text) <= SUMMARY_LENGTH + 1
