"""The tap front door: every catalogue tap is fired through it somewhere or declared not yet
available (and a plugin implementing one of those is refused), nothing else dispatches, and the
door picks the session: the request's, a shared one, or one of the call's own."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from tests.plugins.conftest import item_payload, make_user
from trovato.db.pool import Database
from trovato.plugins.catalogue import CATALOGUE, NOT_YET_AVAILABLE
from trovato.plugins.dispatch import Dispatcher
from trovato.plugins.errors import PluginLoadError
from trovato.plugins.manager import PluginManager
from trovato.plugins.session import PluginSession
from trovato.plugins.taps import DISPATCHED, Taps

SRC = Path(__file__).resolve().parents[2] / "src" / "trovato"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
# The calls of the front door that name the tap they fire.
_DOOR = {"fire", "fire_lifecycle", "listens"}
# What only the front door may call: the dispatcher and a session's tap and function calls.
_BEHIND_THE_DOOR = {"invoke", "call_tap", "call_function"}


def _source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return Path(spec.origin).read_text()


def _fired_taps(module: str) -> set[str]:
    """The tap names ``module`` passes as a string literal to a front-door call."""
    fired: set[str] = set()
    for node in ast.walk(ast.parse(_source(module))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _DOOR:
            fired |= {arg.value for arg in node.args
                      if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
        # A helper that forwards to the door (content hooks, account events) is handed the
        # tap name as its first argument.
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and node.args[0].value in CATALOGUE:
            fired.add(str(node.args[0].value))
    return fired


def test_every_tap_is_dispatched_or_not_yet_available() -> None:
    assert not DISPATCHED.keys() & NOT_YET_AVAILABLE.keys()
    assert DISPATCHED.keys() | NOT_YET_AVAILABLE.keys() == CATALOGUE.keys()


@pytest.mark.parametrize("tap", sorted(DISPATCHED))
def test_each_declared_site_fires_its_tap(tap: str) -> None:
    for module in DISPATCHED[tap]:
        source = _source(module)
        # The door itself, or the account service's events (the kernel hands it the door).
        assert "taps." in source or "on_event" in source, f"{module} has no front door"
        assert tap in _fired_taps(module), f"{module} does not fire {tap}"


def test_nothing_dispatches_beside_the_front_door() -> None:
    allowed = {SRC / "plugins" / "taps.py", SRC / "plugins" / "dispatch.py",
               SRC / "plugins" / "session.py"}
    offenders = []
    for path in SRC.rglob("*.py"):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in _BEHIND_THE_DOOR \
                    and isinstance(node.ctx, ast.Load):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: .{node.attr}")
    assert offenders == []


def test_the_docs_mark_every_unavailable_tap() -> None:
    lines = DOCS.read_text().splitlines()
    for tap in NOT_YET_AVAILABLE:
        rows = [line for line in lines if line.startswith(f"| `{tap}` ")]
        assert rows and "not available yet" in rows[0].lower(), tap


async def test_not_yet_available_taps_refuse_install_and_enable(
    manager: PluginManager, database: Database,
) -> None:
    with pytest.raises(PluginLoadError) as refused:
        await manager.install("dreamer")
    message = str(refused.value)
    assert "plugin 'dreamer' implements tap(s) that are not available yet: " \
           "field_access (field access)" in message
    assert "item_insert" not in message
    assert await database.fetchval("SELECT count(*) FROM system WHERE name = 'dreamer'") == 0
    # Installed before the check existed: enabling it is refused the same way.
    await database.execute(
        "INSERT INTO system (name, type, status, weight, version, filename, info) "
        "VALUES ('dreamer', 'plugin', 0, 0, '0.1.0', '', '{}')")
    with pytest.raises(PluginLoadError, match="not available yet: field_access"):
        await manager.enable("dreamer")
    assert (await manager.states())["dreamer"].status == 0


def test_who_listens_comes_from_the_taps_that_have_implementations() -> None:
    class Plugins:
        dispatcher = Dispatcher({"item_view": ["hello"], "item_access": []})

    taps = Taps(lambda: Plugins())  # type: ignore[arg-type,return-value]
    assert taps.listens("item_view")
    assert not taps.listens("item_access") and not taps.listens("cron")
    assert taps.listens_to_any(("preprocess_item", "item_view"))
    assert not taps.listens_to_any(("item_access", "cron"))


async def test_firing_an_unavailable_tap_is_the_kernels_bug(manager: PluginManager) -> None:
    with pytest.raises(KeyError, match="not available yet"):
        await manager.taps.fire("field_access", {"field": "x", "op": "view", "item": {}})


async def test_the_door_uses_the_requests_session_for_its_user_only(
    manager: PluginManager,
) -> None:
    await manager.install("hello")
    ada, bob = make_user(name="ada"), make_user(name="bob", user_id="0190a0b0-0000-7000-8000-"
                                                                     "00000000000b")
    request = manager.session(ada, request_id="the-request")
    taps = Taps(lambda: manager,
                request_session=lambda user_id: request if user_id == ada.id else None)
    payload = {"item": item_payload("Zed"), "view_mode": "full"}
    try:
        await taps.fire("item_view", payload, user=ada)
        assert request.instantiated == 1  # the request's session served
        opened: list[PluginSession] = []
        real = manager.session

        def spy(*args: object, **kwargs: object) -> PluginSession:
            session = real(*args, **kwargs)  # type: ignore[arg-type]
            opened.append(session)
            return session

        manager.session = spy  # type: ignore[method-assign]
        await taps.fire("item_view", payload, user=ada)
        assert opened == []
        await taps.fire("item_view", payload, user=bob)  # another user: a session of its own
        assert len(opened) == 1 and opened[0].host.user is bob
        async with taps.sharing(bob, request_id="votes"):
            await taps.fire("item_view", payload, user=bob)
            await taps.fire("item_view", payload, user=bob)
        assert len(opened) == 2  # one for the whole block
    finally:
        request.close()
