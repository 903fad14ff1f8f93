"""Per-request sessions: lazy instances, no state between requests, a loop that keeps serving,
and who closes the stores."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from tests.plugins.conftest import item_payload, make_user
from trovato.observability import load
from trovato.plugins import reaper
from trovato.plugins.errors import PluginTimeout
from trovato.plugins.limits import Limits
from trovato.plugins.runtime import LoadedPlugin


async def test_session_instantiates_lazily_and_reuses(open_session) -> None:
    async with open_session(make_user("use hello")) as session:
        assert session.instantiated == 0
        first = await session.call_tap("tally", "item_view", {"item": item_payload("a")})
        second = await session.call_tap("tally", "item_view", {"item": item_payload("b")})
        assert first["#type"] == second["#type"] == "markup"
        assert session.instantiated == 1  # one instance of tally, none of the others
    with pytest.raises(RuntimeError, match="closed"):
        await session.call("tally", "invoke-tap", "item_view", "{}")


async def test_no_state_survives_between_sessions(open_session) -> None:
    for _ in range(2):
        async with open_session() as session:
            await session.call_tap("hello", "item_view", {"item": item_payload("x")})
            assert session.host.context["hello.views"] == "1"


async def test_loop_keeps_serving_while_a_guest_stalls(loaded: dict[str, LoadedPlugin],
                                                       open_session) -> None:
    """A stalling guest yields the loop after every slice of fuel, so other tasks keep running
    until its epoch deadline stops it."""
    patient = LoadedPlugin(**{**{f: getattr(loaded["hostile"], f)
                                 for f in LoadedPlugin.__dataclass_fields__},
                              "limits": Limits(fuel=50_000_000_000, timeout_ms=400)})
    session = open_session(plugins=["hello"])
    session.plugins["hostile"] = patient
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    async with session:
        started = time.perf_counter()
        with pytest.raises(PluginTimeout):
            await session.call_function("hostile", "loop", {"payload": None})
        stalled = time.perf_counter() - started
    ticker.cancel()
    assert stalled > 0.35
    assert len(gaps) > 10 and max(gaps) < stalled / 2, (max(gaps), stalled)


async def test_overlapping_requests_close_their_own_stores(
    loaded: dict[str, LoadedPlugin], open_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stores are closed on the reaper thread only while one request at a time is served:
    when requests overlap, that work on another thread only competes with them."""
    gc.collect()  # sessions other tests never closed would make the process look busy
    reaped: list[int] = []
    drop = reaper.REAPER.drop
    monkeypatch.setattr(reaper.REAPER, "drop",
                        lambda stores: (reaped.append(len(stores)), drop(stores)))
    async with open_session(plugins=["tally"]) as first:
        async with open_session(plugins=["tally"]) as second:
            await first.call_tap("tally", "item_view", {"item": item_payload("a")})
            await second.call_tap("tally", "item_view", {"item": item_payload("b")})
        assert reaped == []  # busy: second closed its store itself
    assert reaped == [1]  # first was alone when it closed
    # Busy by HTTP requests in flight too, though only one of them uses plugins.
    load.request_started()
    load.request_started()
    try:
        async with open_session(plugins=["tally"]) as served:
            await served.call_tap("tally", "item_view", {"item": item_payload("c")})
    finally:
        load.request_finished()
        load.request_finished()
    assert reaped == [1]
    # Every request gets a brand-new instance: none is made ahead of time and handed on.
    async with open_session(plugins=["tally"]) as alone:
        seen = await alone.call_tap("tally", "item_view", {"item": item_payload("d")})
    assert seen["#value"] == "tally saw 0 view(s)" and reaped == [1, 1]
