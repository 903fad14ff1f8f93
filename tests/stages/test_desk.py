"""The stage desk: the stages a user may use, creating one, and what a stage changes and
publishes — through the real stages service and the content service's staging."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from tests.content.conftest import ARTICLE
from trovato.content.services import ContentServices
from trovato.db.pool import Database
from trovato.stages import (
    ADMINISTER_STAGES,
    LIVE,
    PUBLISH_STAGES,
    USE_STAGES,
    StageError,
    Stages,
)
from trovato.stages.desk import StageDesk
from trovato.users.accounts import CurrentUser


class User:
    def __init__(self, *permissions: str, user_id: uuid.UUID | None = None) -> None:
        self.id = user_id or uuid.UUID(int=0)
        self.is_authenticated = user_id is not None
        self.roles: frozenset[uuid.UUID] = frozenset()
        self.preview_stage: str | None = None
        self.permissions = set(permissions)

    def can(self, permission: str) -> bool:
        return permission in self.permissions


# Without an account, like the command line.
ADMIN = User(ADMINISTER_STAGES, PUBLISH_STAGES)


async def _account(database: Database, name: str) -> uuid.UUID:
    found = await database.fetchval(
        "INSERT INTO users (name, name_key, mail) VALUES (%s, %s, %s) RETURNING id",
        (name, name, f"{name}@example.com"),
    )
    assert isinstance(found, uuid.UUID)
    return found


def _desk(database: Database, content: ContentServices) -> StageDesk:
    return StageDesk(Stages(database), content.staging)


async def test_stages_a_user_may_use(database: Database, content: ContentServices) -> None:
    desk = _desk(database, content)
    editor = User(USE_STAGES, user_id=await _account(database, "ed"))
    other = User(USE_STAGES, user_id=await _account(database, "otto"))
    reader = User()
    created = await desk.create(editor, "spring", "Spring")
    assert (created.id, created.label, created.status, created.upstream) == (
        "spring",
        "Spring",
        "open",
        LIVE,
    )
    assert [s.id for s in await desk.usable(editor)] == ["spring"]
    assert await desk.usable(reader) == [] and await desk.usable(other) == []
    assert (await desk.get(editor, "spring")).label == "Spring"
    for user, stage in (
        (reader, "spring"),
        (other, "spring"),
        (editor, "nowhere"),
        (editor, LIVE),
        (ADMIN, "x" * 65),
    ):
        with pytest.raises(StageError) as caught:
            await desk.get(user, stage)
        assert caught.value.status == 404
    # Switching to a stage is the one door plus the stage's own access rule.
    assert await desk.choose(editor, "spring") == "spring"
    assert await desk.choose(reader, LIVE) == LIVE
    for user, status in ((reader, 403), (other, 404)):
        with pytest.raises(StageError) as caught:
            await desk.choose(user, "spring")
        assert caught.value.status == status
    assert await desk.label("spring") == "Spring" and await desk.label(LIVE) == "Live"


async def test_creating_names_what_is_wrong(database: Database, content: ContentServices) -> None:
    desk = _desk(database, content)
    await desk.create(ADMIN, "spring", "Spring")
    for args, status, field in (
        (("Bad-Id", "S"), 422, "id"),
        (("x", " "), 422, "label"),
        (("spring", "S"), 409, "id"),
    ):
        with pytest.raises(StageError) as caught:
            await desk.create(ADMIN, *args)
        assert caught.value.status == status and field in caught.value.errors, args
    with pytest.raises(StageError) as caught:
        await desk.create(ADMIN, "child", "C", upstream="nowhere")
    assert "upstream" in caught.value.errors
    assert (await desk.create(ADMIN, "child", "C", upstream="spring")).upstream == "spring"
    assert await database.fetchval("SELECT count(*) FROM stage WHERE id <> 'live'") == 2


async def test_editing_and_deleting_go_to_the_owner_or_an_administrator(
    database: Database, content: ContentServices,
) -> None:
    desk = _desk(database, content)
    owner = User(USE_STAGES, user_id=await _account(database, "ed"))
    other = User(USE_STAGES, user_id=await _account(database, "otto"))
    stage = await desk.create(owner, "spring", "Spring", visibility="public")
    assert (stage.visibility, stage.owner_id) == ("public", owner.id)
    assert desk.may_manage(owner, stage) and desk.may_manage(ADMIN, stage)
    assert not desk.may_manage(other, stage)
    for attempt in (desk.edit(other, "spring", label="X", upstream=LIVE, visibility="public",
                              roles=()),
                    desk.delete(other, "spring")):
        with pytest.raises(StageError) as caught:
            await attempt
        assert caught.value.status == 403
    role = await database.fetchval("INSERT INTO role (name) VALUES ('editors') RETURNING id")
    edited = await desk.edit(owner, "spring", label="Summer", upstream=LIVE,
                             visibility="private", roles=[str(role)])
    assert (edited.label, edited.visibility, edited.roles) == ("Summer", "private", (role,))
    with pytest.raises(StageError) as caught:
        await desk.edit(owner, "spring", label=" ", upstream=LIVE, visibility="private",
                        roles=())
    assert caught.value.status == 422 and "label" in caught.value.errors
    await desk.create(owner, "child", "Child", upstream="spring")
    with pytest.raises(StageError) as caught:
        await desk.delete(ADMIN, "spring")
    assert caught.value.status == 409
    assert (await desk.delete(ADMIN, "child")).id == "child"
    assert (await desk.delete(owner, "spring")).label == "Summer"
    assert await database.fetchval("SELECT count(*) FROM stage WHERE id <> 'live'") == 0


async def test_what_a_stage_changes(
    database: Database, content: ContentServices, admin: CurrentUser
) -> None:
    desk = _desk(database, content)
    await content.types.create(ARTICLE)
    await desk.create(ADMIN, "spring", "Spring")
    items = content.items
    edited = await items.create(admin, "article", title="Edited")
    gone = await items.create(admin, "article", title="Gone")
    await items.create(admin, "article", title="Same")
    new = await items.create(admin, "article", title="New", stage="spring")
    await items.update(admin, edited.id, title="Edited v2", stage="spring")
    await items.delete(admin, gone.id, stage="spring")
    changes = await desk.changes(ADMIN, "spring")
    assert sorted((c.kind, c.title, c.item) for c in changes) == sorted(
        [
            ("created", "New", new.id),
            ("deleted", "Gone", gone.id),
            ("edited", "Edited v2", edited.id),
        ]
    )
    # When each change was made: the created item's last change, the edit's revision, the
    # deletion — the same the staging service (and so the API) says.
    expected = {
        new.id: await database.fetchval("SELECT changed FROM item WHERE id = %s", (new.id,)),
        edited.id: await database.fetchval(
            "SELECT r.created FROM stage_association a JOIN item_revision r"
            " ON r.id = a.target_revision_id WHERE a.item_id = %s",
            (edited.id,),
        ),
        gone.id: await database.fetchval(
            "SELECT deleted_at FROM stage_deletion WHERE entity_id = %s", (gone.id,)
        ),
    }
    assert {c.item: c.when for c in changes} == expected
    assert [c.public() for c in changes] == [
        {
            "kind": c["change"],
            "item": c["id"],
            "title": c["title"],
            "type": c["type"],
            "when": c["when"],
        }
        for c in await content.staging.changes(admin, "spring")
    ]
    assert all(isinstance(c.when, datetime) and c.type == "article" for c in changes)
    with pytest.raises(StageError):
        await desk.changes(User(), "spring")


async def test_publishing_goes_through_the_publisher(
    database: Database, content: ContentServices, admin: CurrentUser
) -> None:
    desk = _desk(database, content)
    await content.types.create(ARTICLE)
    await desk.create(admin, "spring", "Spring")
    item = await content.items.create(admin, "article", title="New", stage="spring")
    outcome = await desk.publish(admin, "spring", dry_run=True)
    assert outcome.dry_run and not outcome.published and not outcome.conflicts
    assert [(c.kind, c.item, c.title) for c in outcome.changes] == [("created", item.id, "New")]
    assert await desk.conflicts(admin, "spring") == []

    # The same item edited in a stage and live, differently: a conflict stops publishing.
    await content.items.update(admin, item.id, title="Spring title", stage="spring")
    live = await content.items.create(admin, "article", title="Base")
    await desk.create(admin, "summer", "Summer")
    await content.items.update(admin, live.id, title="Summer title", stage="summer")
    await content.items.update(admin, live.id, title="Live title")
    conflicts = await desk.conflicts(admin, "summer")
    assert [(c["item"], c["field"]) for c in conflicts] == [(str(live.id), "title")]
    stopped = await desk.publish(admin, "summer")
    assert stopped.conflicts == tuple(conflicts) and not stopped.published
    assert not stopped.changes
    with pytest.raises(StageError) as caught:
        await desk.publish(User(), "summer")  # the desk's access rule comes first
    assert caught.value.status == 404

    done = await desk.publish(admin, "spring")
    assert done.published and [c.item for c in done.changes] == [item.id]
    status = await database.fetchval("SELECT status FROM stage WHERE id = 'spring'")
    assert status == "published"
