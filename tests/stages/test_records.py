"""Stage records: create, get, list, edit, archive and delete, and who may reach which stage
(a stage one may not reach does not exist for them: 404, never 403)."""

from __future__ import annotations

import pytest

from tests.content.conftest import MakeUser
from trovato.db.pool import Database
from trovato.ids import uuid7
from trovato.stages import (
    ADMINISTER_STAGES,
    LIVE,
    USE_STAGES,
    StageError,
    Stages,
)
from trovato.users.accounts import CurrentUser


async def _refused(status: int, call: object) -> StageError:
    with pytest.raises(StageError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.status == status, caught.value.message
    return caught.value


async def test_create_get_list_edit(database: Database, make_user: MakeUser) -> None:
    stages = Stages(database)
    ann = await make_user("ann", [USE_STAGES])
    created = await stages.create(ann, "spring", "Spring")
    assert (created.id, created.label, created.upstream, created.owner_id, created.status,
            created.visibility) == ("spring", "Spring", LIVE, ann.id, "open", "private")
    assert (await stages.get(ann, "spring")) == created
    child = await stages.create(ann, "spring_fix", "Fix", upstream="spring")
    grandchild = await stages.create(ann, "spring_fix2", "Fix 2", upstream="spring_fix")
    assert grandchild.upstream == "spring_fix" and child.upstream == "spring"
    assert [s.id for s in await stages.list(ann)] == ["spring", "spring_fix", "spring_fix2"]
    view = await stages.view("spring_fix2", ann)
    assert view.visible == ("spring_fix2", "spring_fix", "spring", LIVE)
    edited = await stages.edit(ann, "spring_fix2", label="Fix two", upstream="spring",
                               visibility="public")
    assert (edited.label, edited.upstream, edited.visibility) == ("Fix two", "spring", "public")
    assert edited.changed >= created.changed
    # The record's public shape.
    assert created.public()["id"] == "spring" and created.public()["upstream"] == LIVE


async def test_bad_records_are_refused_naming_the_field(database: Database,
                                                        make_user: MakeUser) -> None:
    stages = Stages(database)
    ann = await make_user("ann", [USE_STAGES])
    for bad_id in ("Spring", "1x", "a-b", "x" * 65, LIVE, ""):
        error = await _refused(422, stages.create(ann, bad_id, "Label"))
        assert "id" in error.errors
    assert "label" in (await _refused(422, stages.create(ann, "s", " "))).errors
    assert "label" in (await _refused(422, stages.create(ann, "s", "a\nb"))).errors
    assert "upstream" in (await _refused(422, stages.create(ann, "s", "S",
                                                             upstream="nope"))).errors
    assert "visibility" in (await _refused(422, stages.create(ann, "s", "S",
                                                               visibility="x"))).errors
    assert "roles" in (await _refused(422, stages.create(ann, "s", "S",
                                                          roles=[str(uuid7())]))).errors
    assert "roles" in (await _refused(422, stages.create(ann, "s", "S",
                                                          roles=["nope"]))).errors
    await stages.create(ann, "s", "S")
    assert "id" in (await _refused(409, stages.create(ann, "s", "S again"))).errors
    # Cycles: a stage cannot build on itself or on one that builds on it.
    await stages.create(ann, "t", "T", upstream="s")
    assert "upstream" in (await _refused(422, stages.edit(ann, "s", upstream="t"))).errors
    assert "upstream" in (await _refused(422, stages.edit(ann, "s", upstream="s"))).errors
    # An archived upstream takes nothing.
    await stages.archive(ann, "t")
    assert "upstream" in (await _refused(422, stages.create(ann, "u", "U",
                                                             upstream="t"))).errors
    assert await database.fetchval("SELECT count(*) FROM stage") == 3  # live, s, t
    # Without the permission nobody creates stages.
    bob = await make_user("bob", ["access content"])
    await _refused(403, stages.create(bob, "b", "B"))


async def test_who_reaches_which_stage(database: Database, make_user: MakeUser) -> None:
    stages = Stages(database)
    role = uuid7()
    await database.execute("INSERT INTO role (id, name) VALUES (%s, 'editors')", (role,))
    ann = await make_user("ann", [USE_STAGES])
    member = CurrentUser(id=uuid7(), name="mia", roles=frozenset({role}),
                         permissions=frozenset({USE_STAGES}))
    outsider = await make_user("otto", [USE_STAGES])
    no_permission = CurrentUser(id=ann.id, name="ann", roles=frozenset({role}))
    boss = await make_user("boss", [ADMINISTER_STAGES])
    await stages.create(ann, "mine", "Mine")
    await stages.create(ann, "shared", "Shared", roles=[str(role)])
    await stages.create(ann, "open_to_all", "Public", visibility="public")

    async def reach(user: CurrentUser) -> list[str]:
        return [s.id for s in await stages.list(user)]

    assert await reach(ann) == ["mine", "open_to_all", "shared"]
    assert await reach(member) == ["open_to_all", "shared"]
    assert await reach(outsider) == ["open_to_all"]
    assert await reach(no_permission) == []
    assert await reach(boss) == ["mine", "open_to_all", "shared"]
    # Unreachable is indistinguishable from missing, on every call.
    for call in (stages.get(outsider, "mine"), stages.view("mine", outsider),
                 stages.edit(outsider, "mine", label="x"), stages.archive(outsider, "mine"),
                 stages.delete(outsider, "mine"), stages.get(outsider, "missing"),
                 stages.get(no_permission, "shared")):
        error = await _refused(404, call)
        assert error.message in ("No such stage 'mine'.", "No such stage 'missing'.",
                                 "No such stage 'shared'.")
    # Reaching a stage is not managing it: only the owner and administrators edit it.
    await _refused(403, stages.edit(member, "shared", label="x"))
    assert (await stages.edit(boss, "shared", label="Boss")).label == "Boss"
    assert (await stages.edit(ann, "shared", roles=[])).roles == ()
    assert await reach(member) == ["open_to_all"]


async def test_archive_and_delete(database: Database, make_user: MakeUser,
                                  admin: CurrentUser) -> None:
    stages = Stages(database)
    ann = await make_user("ann", [USE_STAGES])
    await stages.create(ann, "spring", "Spring")
    await stages.create(ann, "child", "Child", upstream="spring")
    error = await _refused(409, stages.delete(ann, "spring"))
    assert "child" in error.message
    archived = await stages.archive(ann, "child")
    assert archived.status == "archived"
    await _refused(409, stages.archive(ann, "child"))
    await stages.delete(ann, "child")
    await stages.delete(ann, "spring")
    assert await database.fetchval("SELECT count(*) FROM stage") == 1
    await _refused(404, stages.get(admin, "spring"))
