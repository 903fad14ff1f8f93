"""The requirements tap: refusing install and enable, the status report, failing open."""

from __future__ import annotations

import pytest

from trovato.db.pool import Database
from trovato.plugins.manager import PluginManager
from trovato.plugins.requirements import RequirementsError, requirement_rows


async def _mode(database: Database, mode: str) -> None:
    await database.execute(
        "INSERT INTO variable (name, value) VALUES ('plugin.warden.mode', to_jsonb(%s::text))"
        " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value", (mode,))


async def test_requirements_refuse_install_and_enable(
        manager: PluginManager, database: Database) -> None:
    from tests.users._warden import build_warden

    build_warden()
    await _mode(database, "error")
    with pytest.raises(RequirementsError) as refused:
        await manager.install("warden")
    assert str(refused.value) == ("plugin 'warden' cannot be installed: Warden licence: "
                                  "missing — Warden needs a licence key.")
    assert [r.severity for r in refused.value.requirements] == ["ok", "error"]
    assert refused.value.requirements[0].value == "install"  # the phase it was asked for
    # Nothing changed.
    assert await manager.states() == {}
    assert await database.fetchval("SELECT to_regclass('p_warden__deleted')::text") is None

    await _mode(database, "ok")
    await manager.install("warden", enable=False)
    await _mode(database, "error")
    with pytest.raises(RequirementsError, match="cannot be enabled: Warden licence"):
        await manager.enable("warden")
    assert (await manager.states())["warden"].status == 0
    assert manager.dispatcher.implementations("requirements") == ()

    await _mode(database, "warning")
    await manager.enable("warden")
    assert (await manager.states())["warden"].status == 1
    rows = await manager.requirements()
    assert [(r.title, r.severity) for r in rows] == [("Warden phase", "ok"),
                                                      ("Warden disk", "warning")]
    assert rows[0].value == "runtime" and rows[1].description == "Free some space soon."
    await _mode(database, "error")  # at run time an error is reported, nothing is refused
    assert [r.severity for r in await manager.requirements()] == ["ok", "error"]


def test_a_broken_requirements_check_is_reported_not_fatal() -> None:
    from trovato.plugins.dispatch import TapOutcome, TapReply
    from trovato.plugins.errors import PluginTrap

    outcome = TapOutcome("requirements", replies=[TapReply("a", [
        {"title": "Fine", "severity": "ok"}])], failures=[PluginTrap("b", "requirements",
                                                                      "unreachable")])
    rows = requirement_rows(outcome)
    assert [(r.plugin, r.title, r.severity) for r in rows] == [
        ("a", "Fine", "ok"), ("b", "Requirements check failed", "warning")]
