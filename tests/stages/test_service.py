"""The stages service, read side: the active stage of a request, what a stage sees, and that
the live stage is named in one place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trovato.db.compiled import sql_text
from trovato.db.pool import Database
from trovato.stages import LIVE, StageError, Stages, StageView, stage_condition, stage_params

SRC = Path(__file__).resolve().parents[2] / "src" / "trovato"


async def test_the_active_stage(database: Database) -> None:
    stages = Stages(database)
    await database.execute("INSERT INTO stage (id, label) VALUES ('spring', 'Spring')")
    assert await stages.active(None, may_view_stages=False) == LIVE
    assert await stages.active(LIVE, may_view_stages=False) == LIVE
    assert await stages.active("spring", may_view_stages=True) == "spring"
    with pytest.raises(StageError) as caught:
        await stages.active("spring", may_view_stages=False)
    assert caught.value.status == 403
    for unknown in ("autumn", "a\x00b", "x" * 1000):
        with pytest.raises(StageError) as caught:
            await stages.active(unknown, may_view_stages=True)
        assert caught.value.status == 400 and "Unknown stage" in caught.value.message


async def test_the_other_stages(database: Database) -> None:
    stages = Stages(database)
    assert await stages.others() == []
    await database.execute("INSERT INTO stage (id, label) VALUES ('spring', 'S'), ('autumn', 'A')")
    assert await stages.others() == ["autumn", "spring"]


async def test_what_a_stage_sees(database: Database) -> None:
    stages = Stages(database)
    await database.execute("INSERT INTO stage (id, label) VALUES ('spring', 'S')")
    await database.execute("INSERT INTO stage (id, label, upstream_id, status) VALUES"
                           " ('summer', 'S', 'spring', 'archived')")
    assert await stages.view(LIVE) == StageView(LIVE, (LIVE,))
    assert (await stages.view(LIVE)).live
    assert await stages.view("spring") == StageView("spring", ("spring", LIVE))
    summer = await stages.view("summer")
    assert summer == StageView("summer", ("summer", "spring", LIVE), "archived")
    assert not summer.live and summer.upstream == "spring"
    with pytest.raises(StageError) as caught:
        await stages.view("autumn")
    assert caught.value.status == 404


def test_the_stage_condition() -> None:
    from sqlalchemy import Column, MetaData, Table, Text, select

    item = Table("item", MetaData(), Column("stage_id", Text))
    live = sql_text(select(item.c.stage_id).where(stage_condition(True, item.c.stage_id)))
    assert live.endswith("WHERE item.stage_id = 'live'")
    other = sql_text(select(item.c.stage_id).where(stage_condition(False, item.c.stage_id)))
    assert other.endswith("WHERE item.stage_id = ANY (%(stages)s::TEXT[])")
    assert stage_params(StageView(LIVE, (LIVE,))) == {}
    assert stage_params(StageView("b", ("b", "a", LIVE))) == {"stages": ["b", "a", LIVE]}


def test_live_is_named_only_by_the_stages_service() -> None:
    """No module outside ``trovato/stages`` spells the live stage or its condition (the
    migrations write the schema's defaults and seed row, which are SQL)."""
    literal = re.compile(r"""["']live["']""")
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if not path.is_relative_to(SRC / "stages")
        and not path.is_relative_to(SRC / "db" / "migrations")
        and literal.search(path.read_text())
    ]
    assert offenders == []
