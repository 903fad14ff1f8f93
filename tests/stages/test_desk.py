"""The stage desk: the stages a user may use, creating one, and what a stage changes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

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


async def test_stages_a_user_may_use(database: Database) -> None:
    desk = StageDesk(database, Stages(database))
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


async def test_creating_names_what_is_wrong(database: Database) -> None:
    desk = StageDesk(database, Stages(database))
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


async def test_what_a_stage_changes(database: Database) -> None:
    desk = StageDesk(database, Stages(database))
    await desk.create(ADMIN, "spring", "Spring")
    author = await database.fetchval(
        "INSERT INTO users (name, name_key, mail) VALUES ('a', 'a', 'a@x') RETURNING id"
    )
    await database.execute("INSERT INTO item_type (type, label) VALUES ('page', 'Page')")
    ids = {}
    for title, stage in (("New", "spring"), ("Edited", LIVE), ("Gone", LIVE), ("Same", LIVE)):
        ids[title] = await database.fetchval(
            "INSERT INTO item (type, title, author_id, stage_id) VALUES ('page', %s, %s, %s)"
            " RETURNING id",
            (title, author, stage),
        )
    revision = await database.fetchval(
        "INSERT INTO item_revision (item_id, author_id, title) VALUES (%s, %s, 'Edited v2')"
        " RETURNING id",
        (ids["Edited"], author),
    )
    await database.execute(
        "INSERT INTO stage_association (stage_id, item_id, target_revision_id)"
        " VALUES ('spring', %s, %s)",
        (ids["Edited"], revision),
    )
    await database.execute(
        "INSERT INTO stage_deletion (stage_id, entity_type, entity_id)"
        " VALUES ('spring', 'item', %s)",
        (ids["Gone"],),
    )
    changes = await desk.changes(ADMIN, "spring")
    assert sorted((c.kind, c.title) for c in changes) == [
        ("created", "New"),
        ("deleted", "Gone"),
        ("edited", "Edited v2"),
    ]
    assert {c.item for c in changes} == {ids["New"], ids["Edited"], ids["Gone"]}
    with pytest.raises(StageError):
        await desk.changes(User(), "spring")


class Reporter:
    """A publisher shaped like the content service's staging: a report of item ids, or a
    409 carrying conflicts."""

    def __init__(self, report: dict[str, Any] | None, conflicts: list[dict[str, Any]]) -> None:
        self.report, self.conflicting = report, conflicts

    async def conflicts(self, user: Any, stage: str) -> list[dict[str, Any]]:
        return self.conflicting

    async def publish(
        self, user: Any, stage: str, resolutions: Any = (), *, dry_run: bool = False
    ) -> dict[str, Any]:
        if self.report is None:
            refused = StageError(409, "Conflicts.")
            refused.conflicts = self.conflicting  # type: ignore[attr-defined]
            raise refused
        return {**self.report, "dry_run": dry_run}


async def test_publishing_goes_through_the_publisher(database: Database) -> None:
    stages = Stages(database)
    without = StageDesk(database, stages)
    await without.create(ADMIN, "spring", "Spring")
    for call in (without.conflicts(ADMIN, "spring"), without.publish(ADMIN, "spring")):
        with pytest.raises(StageError) as caught:
            await call
        assert caught.value.status == 501
    await database.execute("INSERT INTO item_type (type, label) VALUES ('page', 'Page')")
    item = await database.fetchval(
        "INSERT INTO item (type, title, author_id, stage_id) VALUES ('page', 'New', %s,"
        " 'spring') RETURNING id",
        (uuid.UUID(int=0),),
    )
    report = {
        "stage": "spring",
        "upstream": LIVE,
        "created": [str(item)],
        "edited": [],
        "deleted": [],
    }
    outcome = await StageDesk(database, stages, Reporter(report, [])).publish(
        ADMIN, "spring", dry_run=True
    )
    assert outcome.dry_run and not outcome.published and not outcome.conflicts
    assert [(c.kind, c.item, c.title) for c in outcome.changes] == [("created", item, "New")]
    conflict = {"item": str(item), "field": "title", "stage": "a", "upstream": "b", "base": "c"}
    stopped = StageDesk(database, stages, Reporter(None, [conflict]))
    assert await stopped.conflicts(ADMIN, "spring") == [conflict]
    outcome = await stopped.publish(ADMIN, "spring")
    assert outcome.conflicts == (conflict,) and not outcome.published and not outcome.changes
    with pytest.raises(StageError) as caught:
        await stopped.publish(User(), "spring")  # the desk's access rule comes first
    assert caught.value.status == 404
