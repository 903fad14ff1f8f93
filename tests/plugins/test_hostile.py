"""A hostile plugin is stopped within its limits and never takes the request down."""

from __future__ import annotations

import time

import pytest

from tests.plugins.conftest import item_payload, make_user
from trovato.plugins.dispatch import Dispatcher
from trovato.plugins.errors import (
    PluginError,
    PluginMemoryError,
    PluginOutputError,
    PluginSchemaError,
    PluginTimeout,
    PluginTrap,
)
from trovato.plugins.limits import Limits
from trovato.plugins.runtime import LoadedPlugin, PluginRuntime

HOSTILE_FUNCTIONS = [
    ("loop", PluginTimeout, {"fuel"}),
    ("memory_bomb", PluginMemoryError, {"memory"}),
    # CPython 3.14 keeps Python frames off the C stack: unbounded recursion ends on fuel or
    # memory before the wasm stack overflows, whichever comes first.
    ("deep_recursion", PluginError, {"stack", "fuel", "memory"}),
    ("python_recursion", PluginTrap, {"stack"}),
    ("abort", PluginTrap, {"trap"}),
    ("raise_error", PluginError, {"exception"}),
    ("wasi_escape", PluginError, {"exception"}),  # no preopened directory: an OSError
    ("huge_output", PluginOutputError, {"output"}),
]


@pytest.mark.parametrize(("function", "error", "reason"), HOSTILE_FUNCTIONS)
async def test_misbehaviour_is_stopped_and_others_still_run(
        open_session, function: str, error: type[PluginError], reason: set[str]) -> None:
    async with open_session(make_user()) as session:
        started = time.perf_counter()
        with pytest.raises(error) as caught:
            await session.call_function("hostile", function, {"payload": None})
        elapsed = time.perf_counter() - started
        assert caught.value.reason in reason
        assert caught.value.plugin == "hostile" and caught.value.tap == function
        assert elapsed < 5, elapsed  # stopped by its limits (fuel, 1.5 s, 64 MB)
        # The same session keeps serving: other plugins, and hostile itself (fresh instance).
        tree = await session.call_tap("hello", "item_view", {"item": item_payload("Bo")})
        assert tree["greeting"]["#value"] == "Hello, Bo!"
        again = await session.call_tap("hostile", "item_view", {"item": item_payload("ok")})
        assert again["#value"] == "hostile was well-behaved"


async def test_wall_clock_deadline_stops_host_spinning(runtime: PluginRuntime,
                                                       loaded: dict[str, LoadedPlugin],
                                                       open_session) -> None:
    # Plenty of fuel, so only the epoch deadline can stop it.
    patient = LoadedPlugin(**{**{f: getattr(loaded["hostile"], f)
                                 for f in LoadedPlugin.__dataclass_fields__},
                              "limits": Limits(fuel=50_000_000_000, timeout_ms=300)})
    session = open_session(plugins=["hello"])
    session.plugins["hostile"] = patient
    async with session:
        started = time.perf_counter()
        with pytest.raises(PluginTimeout) as caught:
            await session.call_function("hostile", "loop", {"payload": None})
        assert caught.value.reason == "timeout"
        assert 0.25 < time.perf_counter() - started < 2


async def test_invalid_json_and_schema_results(open_session) -> None:
    async with open_session() as session:
        with pytest.raises(PluginOutputError) as bad_json:
            await session.call_tap("hostile", "item_view", {"item": item_payload("invalid_json")})
        assert bad_json.value.reason == "invalid_json"
        view = Dispatcher({"item_view": ["hostile", "tally"]})
        outcome = await view.invoke(session, "item_view",
                                    {"item": item_payload("bad_schema"), "view_mode": "full"})
        assert isinstance(outcome.failures[0], PluginSchemaError)
        assert [r.plugin for r in outcome.replies] == ["tally"]
        menu = await Dispatcher({"menu": ["hostile", "hello"]}).invoke(session, "menu")
        assert isinstance(menu.failures[0], PluginSchemaError)
        assert [r.plugin for r in menu.replies] == ["hello"]
        vote = await Dispatcher({"item_access": ["hostile"]}).invoke(
            session, "item_access", {"item": item_payload("bad_schema"), "op": "view"})
        assert vote.value == "deny"


async def test_tables_are_isolated(open_session) -> None:
    async with open_session() as session:
        undeclared = await session.call_function("hostile", "undeclared_table", {"payload": {}})
        assert "unknown table 'nope'" in undeclared["error"]
        assert "this plugin's tables: own" in undeclared["error"]
        others = await session.call_function("hostile", "other_plugins_table", {"payload": {}})
        assert all(e and "unknown" in e for e in others["errors"]), others
        own = await session.call_function("hostile", "own_table", {"payload": {}})
        assert own == [{"id": 1, "note": "mine"}]


async def test_invoke_guards(open_session) -> None:
    async with open_session() as session:
        missing = await session.call_function("hostile", "missing_plugin", {"payload": {}})
        assert missing == {"error": "plugin 'does_not_exist' is not enabled"}
        deep = await session.call_function("hostile", "invoke_self", {"payload": {"depth": 0}})
        # Each level re-enters hostile with a throwaway instance until the depth guard.
        assert deep["stopped_at"] == 7 and "depth" in deep["error"]


async def test_a_failed_reentry_keeps_the_callers_instance(open_session) -> None:
    """hostile invokes hostile, and the nested call fails: only the nested throwaway instance
    is dropped; the caller's instance, suspended mid-call meanwhile, finishes and is reused."""
    async with open_session() as session:
        await session.call_function("hostile", "missing_plugin", {"payload": {}})
        first = session._live["hostile"]
        result = await session.call_function("hostile", "invoke_failing_self", {"payload": {}})
        assert "hostile plugin fails on purpose" in result["error"]
        assert result["carried_on"] == 499500
        assert session._live["hostile"] is first
        again = await session.call_function("hostile", "missing_plugin", {"payload": {}})
        assert again == {"error": "plugin 'does_not_exist' is not enabled"}
        assert session._live["hostile"] is first
