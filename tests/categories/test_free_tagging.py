"""Free tagging and tagged listings at the service level: names resolved or created inside the
item save's transaction, refused in a stage, and the tag listing through the one item query
path in a stage's overlay."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.content.conftest import MakeUser

from trovato.categories.service import Categories
from trovato.content.items import HookContext, Item, ItemError, ItemHookError
from trovato.content.model import ItemHooks
from trovato.content.services import ContentServices
from trovato.content.statements import TagFilter
from trovato.db.pool import Database
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import PermissionRegistry

POST: dict[str, Any] = {
    "type": "post",
    "label": "Post",
    "fields": [
        {"name": "field_topics", "type": "reference", "label": "Topics", "cardinality": -1,
         "settings": {"target_type": "category_tag", "target_bundles": ["topics"]}},
        {"name": "field_main", "type": "reference", "label": "Main topic",
         "settings": {"target_type": "category_tag", "target_bundles": ["topics"]}},
    ],
}


class RefusingInsert(ItemHooks):
    async def insert(self, item: Item, ctx: HookContext) -> None:
        raise ItemHookError("guard", "no")


@pytest.fixture
async def content(database: Database, categories: Categories) -> ContentServices:
    services = await ContentServices.start(database, PermissionRegistry(), tags=categories)
    await services.types.create(POST)
    return services


@pytest.fixture
async def topics(categories: Categories, admin: CurrentUser) -> None:
    await categories.create_vocabulary(admin, "topics", "Topics")


async def test_names_become_tags_in_the_save(content: ContentServices, categories: Categories,
                                             admin: CurrentUser, topics: None) -> None:
    jazz = await categories.create_tag(admin, "topics", "Jazz")
    item = await content.items.create(admin, "post", title="Mixed", fields={
        "field_topics": [{"name": "JAZZ"}, {"name": "Bossa"}, {"name": "bossa"}],
        "field_main": {"name": "Bossa"}})
    bossa = (await categories.tags(admin, "topics", starting="bossa"))[0]
    assert item.fields["field_topics"] == [
        {"target_id": str(t), "target_type": "category_tag"} for t in (jazz.id, bossa.id,
                                                                       bossa.id)]
    assert item.fields["field_main"] == {"target_id": str(bossa.id),
                                         "target_type": "category_tag"}
    # Listed under each tag, through the one query path (one field holds a single value).
    for tag_id in (jazz.id, bossa.id):
        listing = await content.query.list(
            admin, tagged=TagFilter(tag_id, (("field_main", False), ("field_topics", True))))
        assert [i.id for i in listing.items] == [item.id] and listing.total == 1


async def test_a_refused_save_creates_no_tag(content: ContentServices, categories: Categories,
                                             admin: CurrentUser, topics: None) -> None:
    content.items.hooks = RefusingInsert()
    with pytest.raises(ItemError):
        await content.items.create(admin, "post", title="x",
                                   fields={"field_topics": [{"name": "Ghost"}]})
    assert await categories.tags(admin, "topics") == []


async def test_names_without_permission_or_in_a_stage(
        content: ContentServices, categories: Categories, admin: CurrentUser,
        make_user: MakeUser, database: Database, topics: None) -> None:
    jazz = await categories.create_tag(admin, "topics", "Jazz")
    writer = await make_user("writer", ["access content", "create post content",
                                        "edit any post content"])
    with pytest.raises(ItemError) as refused:
        await content.items.create(writer, "post", title="x",
                                   fields={"field_main": {"name": "Polka"}})
    assert refused.value.errors == {
        "fields.field_main": "there is no tag 'Polka' in 'topics', and you may not create tags"}
    item = await content.items.create(admin, "post", title="Plain")
    await database.execute("INSERT INTO stage (id, label) VALUES ('draft', 'Draft')")
    with pytest.raises(ItemError) as staged:
        await content.items.update(admin, item.id, stage="draft",
                                   fields={"field_main": {"name": "Polka"}})
    assert "only be created in live" in staged.value.errors["fields.field_main"]
    await content.items.update(admin, item.id, stage="draft",
                               fields={"field_main": {"name": "jazz"}})
    tagged = TagFilter(jazz.id, (("field_main", False),))
    in_stage = await content.query.list(admin, tagged=tagged, stage="draft")
    assert [i.id for i in in_stage.items] == [item.id]
    assert (await content.query.list(admin, tagged=tagged)).total == 0  # live is untouched
    assert await categories.tags(admin, "topics") == [jazz]


async def test_no_tag_fields_lists_nothing(content: ContentServices, categories: Categories,
                                           admin: CurrentUser, topics: None) -> None:
    jazz = await categories.create_tag(admin, "topics", "Jazz")
    await content.items.create(admin, "post", title="x",
                               fields={"field_main": {"target_id": str(jazz.id)}})
    listing = await content.query.list(admin, tagged=TagFilter(jazz.id, ()))
    assert (listing.items, listing.total) == ([], 0)


async def test_a_field_without_free_tagging_takes_existing_tags_only(
        content: ContentServices, categories: Categories, admin: CurrentUser,
        topics: None) -> None:
    jazz = await categories.create_tag(admin, "topics", "Jazz")
    closed = {**POST, "type": "closed", "label": "Closed", "fields": [
        {**POST["fields"][0], "settings": {**POST["fields"][0]["settings"],
                                           "free_tagging": False}}]}
    await content.types.create(closed)
    item = await content.items.create(admin, "closed", title="Known",
                                      fields={"field_topics": [{"name": "jazz"}]})
    assert item.fields["field_topics"] == [{"target_id": str(jazz.id),
                                            "target_type": "category_tag"}]
    with pytest.raises(ItemError) as refused:
        await content.items.create(admin, "closed", title="New",
                                   fields={"field_topics": [{"name": "Polka"}]})
    assert refused.value.errors == {"fields.field_topics.0": "there is no tag 'Polka' in"
                                    " topics, and this field takes existing tags only"}
    assert [t.name for t in await categories.tags(admin, "topics")] == ["Jazz"]


async def test_every_tag_of_a_name_is_found(categories: Categories, admin: CurrentUser,
                                            topics: None) -> None:
    """``tags_named`` answers every tag of the names in the vocabularies, so a name two
    share shows as such (the item form refuses to guess between them)."""
    await categories.create_vocabulary(admin, "genres", "Genres")
    jazz = await categories.create_tag(admin, "topics", "Jazz")
    other = await categories.create_tag(admin, "genres", "jazz")
    await categories.create_tag(admin, "genres", "Rock")
    found = await categories.tags_named(admin, ["topics", "genres"], {"JAZZ", "Polka"})
    assert [t.id for t in found] == [jazz.id, other.id]
    assert [t.id for t in await categories.tags_named(admin, ["genres"], {"jazz"})] == [
        other.id]
    assert await categories.tags_named(admin, [], {"jazz"}) == []


async def test_a_name_created_meanwhile_is_used_not_made_again(
        content: ContentServices, categories: Categories, database: Database,
        admin: CurrentUser, topics: None) -> None:
    # Another save creates "Rock" after this save looked for it and before it could lock the
    # vocabulary to create it: it takes that tag once the lock is free.
    created, finish = asyncio.Event(), asyncio.Event()

    async def other() -> None:
        async with database.transaction() as conn, database.joined(conn):
            await categories.create_tag(admin, "topics", "Rock")
            created.set()
            await finish.wait()

    other_save = asyncio.create_task(other())
    await created.wait()
    save = asyncio.create_task(content.items.create(
        admin, "post", title="Tagged", fields={"field_topics": [{"name": "rock"}]}))
    for _ in range(200):  # until the save waits for the vocabulary's lock
        if await database.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the save never waited for the vocabulary")
    finish.set()
    await other_save
    item = await save
    tags = await categories.tags(admin, "topics")
    assert [t.name for t in tags] == ["Rock"]
    assert item.fields["field_topics"] == [{"target_id": str(tags[0].id),
                                            "target_type": "category_tag"}]
