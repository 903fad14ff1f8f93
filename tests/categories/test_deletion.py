"""Deleting a tag (or its vocabulary) takes it out of every item referring to it, live and
staged, each with a new revision, in the delete's transaction; other values stay as they were."""

from __future__ import annotations

from typing import Any

import pytest
from tests.categories.test_free_tagging import POST

from trovato.categories.service import Categories
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.users.accounts import CurrentUser
from trovato.users.permissions import PermissionRegistry


@pytest.fixture
async def content(database: Database, categories: Categories) -> ContentServices:
    services = await ContentServices.start(database, PermissionRegistry(), tags=categories)
    await services.types.create(POST)
    return services


@pytest.fixture
async def topics(categories: Categories, admin: CurrentUser) -> None:
    await categories.create_vocabulary(admin, "topics", "Topics")


def _ref(tag: Any) -> dict[str, str]:
    return {"target_id": str(tag.id), "target_type": "category_tag"}


async def test_a_deleted_tag_leaves_every_item_with_a_revision(
        content: ContentServices, categories: Categories, admin: CurrentUser,
        database: Database, topics: None) -> None:
    jazz, blues = [await categories.create_tag(admin, "topics", name)
                   for name in ("Jazz", "Blues")]
    both = await content.items.create(admin, "post", title="Both", fields={
        "field_topics": [_ref(jazz), _ref(blues)], "field_main": _ref(jazz)})
    only = await content.items.create(admin, "post", title="Only", fields={
        "field_topics": [_ref(jazz)]})
    other = await content.items.create(admin, "post", title="Other", fields={
        "field_topics": [_ref(blues)]})
    # A staged edit of "Other" adds the tag: the stage's revision loses it too.
    await database.execute("INSERT INTO stage (id, label) VALUES ('draft', 'Draft')")
    await content.items.update(admin, other.id, stage="draft",
                               fields={"field_topics": [_ref(blues), _ref(jazz)]})

    tag, count = await categories.delete_tag(admin, jazz.id)
    assert tag.name == "Jazz" and count == 3

    assert (await content.query.load(admin, both.id)).fields == {
        "field_topics": [_ref(blues)]}  # the single value is gone, the list keeps the rest
    assert (await content.query.load(admin, only.id)).fields == {}
    assert (await content.query.load(admin, other.id)).fields == {
        "field_topics": [_ref(blues)]}  # live never had it: unchanged
    assert (await content.query.load(admin, other.id, stage="draft")).fields == {
        "field_topics": [_ref(blues)]}
    newest = (await content.items.revisions.history(admin, both.id))[0]
    assert newest.log == "Removed the deleted tag Jazz." and newest.author_id == admin.id
    assert newest.fields == {"field_topics": [_ref(blues)]}
    assert len(await content.items.revisions.history(admin, other.id)) == 1  # live untouched
    staged = (await content.items.revisions.history(admin, other.id, stage="draft"))[0]
    assert staged.log == "Removed the deleted tag Jazz."
    # Each item still saves: no reference to a missing tag is left to refuse it.
    await content.items.update(admin, both.id, title="Both, saved")
    await content.items.update(admin, other.id, stage="draft", title="Other, saved")


async def test_deleting_a_vocabulary_removes_its_tags_from_items(
        content: ContentServices, categories: Categories, admin: CurrentUser,
        topics: None) -> None:
    """Twenty tags: more than the GIN index's containment tests take, so every item's
    references are read once instead."""
    tags = [await categories.create_tag(admin, "topics", f"Tag {n}") for n in range(20)]
    item = await content.items.create(admin, "post", title="Tagged", fields={
        "field_topics": [_ref(t) for t in tags[:15]], "field_main": _ref(tags[19])})
    untagged = await content.items.create(admin, "post", title="Untagged")
    await categories.delete_vocabulary(admin, "topics")
    assert (await content.query.load(admin, item.id)).fields == {}
    assert (await content.items.revisions.history(admin, item.id))[0].log == (
        "Removed the tags of the deleted vocabulary Topics.")
    assert len(await content.items.revisions.history(admin, untagged.id)) == 1


async def test_a_refused_delete_changes_no_item(
        content: ContentServices, categories: Categories, admin: CurrentUser,
        make_user: Any, topics: None) -> None:
    jazz = await categories.create_tag(admin, "topics", "Jazz")
    item = await content.items.create(admin, "post", title="Tagged",
                                      fields={"field_main": _ref(jazz)})
    editor = await make_user("editor", ["access content"])
    with pytest.raises(Exception, match="administer categories"):
        await categories.delete_tag(editor, jazz.id)
    assert (await content.query.load(admin, item.id)).fields == {"field_main": _ref(jazz)}
    assert len(await content.items.revisions.history(admin, item.id)) == 1
