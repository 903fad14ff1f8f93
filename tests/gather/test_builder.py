"""The Python definition API builds the documents a site stores, checked the same way."""

from __future__ import annotations

import pytest

from tests.gather.conftest import ANONYMOUS
from trovato.content.services import ContentServices
from trovato.gather import Gather, GatherError
from trovato.gather.builder import Listing, any_of, where
from trovato.gather.definition import parse
from trovato.users.accounts import CurrentUser


def test_the_builder_writes_the_document() -> None:
    built = (Listing("news", "News").relationship("writer", "author")
             .fields("writer.name", "field_count")
             .filter("type", "equals", "article")
             .where(any_of(where("field_count", "gte", 2), where("title", "contains", "x")))
             .filter("title", "contains", exposed="q", label="Title")
             .sort("created", "desc").sort_by("curator.heaviest")
             .page(25, "mini").page_display("/news", style="list").feed("/news.xml")
             .json().empty("Nothing yet.").access("access content").build())
    assert built == parse({
        "name": "news", "label": "News", "base": "item",
        "relationships": [{"name": "writer", "field": "author", "required": False}],
        "fields": ["writer.name", "field_count"],
        "filters": [{"field": "type", "op": "equals", "value": "article"},
                    {"group": "or", "filters": [
                        {"field": "field_count", "op": "gte", "value": 2},
                        {"field": "title", "op": "contains", "value": "x"}]},
                    {"field": "title", "op": "contains", "exposed": "q", "label": "Title"}],
        "sorts": [{"field": "created", "direction": "desc"}, {"use": "curator.heaviest"}],
        "pager": {"type": "mini", "per_page": 25},
        "displays": {"page": {"path": "/news", "style": "list"},
                     "feed": {"path": "/news.xml"}, "json": {}},
        "empty_text": "Nothing yet.", "access": "access content"})
    assert Listing("people", base="user").document()["base"] == "user"


def test_the_builder_refuses_what_a_document_may_not_say() -> None:
    with pytest.raises(GatherError) as caught:
        Listing("news").page(1000).build()
    assert "pager.per_page" in caught.value.errors
    with pytest.raises(GatherError) as caught:
        Listing("Bad Name").build()
    assert "name" in caught.value.errors


async def test_a_built_listing_runs(gather: Gather, content: ContentServices,
                                    admin: CurrentUser) -> None:
    for title in ("b", "a", "c"):
        await content.items.create(admin, "article", title=title)
    listing = Listing("abc").filter("type", "equals", "article").sort("title", "desc").page(2)
    await gather.create(admin, listing.document())
    result = await gather.run(ANONYMOUS, "abc")
    assert [i.title for i in result.items] == ["c", "b"] and result.total == 3
