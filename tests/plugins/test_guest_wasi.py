"""What the sandbox gives a guest through WASI: the host's clock and a CSPRNG, so the standard
library's ``uuid``, ``random``, ``secrets``, ``time`` and ``datetime`` work; and what it keeps
out: files and the network."""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid

import pytest

from trovato.plugins.errors import PluginError, PluginTrap

POSTGRES_PORT = 5432  # listening on the host during the tests: a reachable target


async def test_clock_and_entropy_work_in_the_guest(open_session) -> None:
    async with open_session(plugins=["hostile"]) as session:
        before = time.time()
        first = await session.call_function("hostile", "clock_and_entropy", {"payload": None})
        after = time.time()
        again = await session.call_function("hostile", "clock_and_entropy", {"payload": None})
    async with open_session(plugins=["hostile"]) as session:  # a fresh instance
        fresh = await session.call_function("hostile", "clock_and_entropy", {"payload": None})

    assert before - 1 <= first["time"] <= after + 1  # the host's clock, not a frozen one
    utc_now = datetime.datetime.fromisoformat(first["utc_now"]).timestamp()
    assert before - 1 <= utc_now <= after + 1
    assert datetime.datetime.fromisoformat(first["now"])  # local time works too
    assert first["monotonic"][0] <= first["monotonic"][1]
    assert again["time"] >= first["time"]

    uuids = [uuid.UUID(u) for result in (first, again, fresh) for u in result["uuid4"]]
    assert all(u.version == 4 for u in uuids)
    assert len(set(uuids)) == len(uuids) == 9
    tokens = {result["token_hex"] for result in (first, again, fresh)}
    assert len(tokens) == 3 and all(len(t) == 32 for t in tokens)
    int(first["token_hex"], 16)
    randoms = [r for result in (first, again, fresh) for r in result["random"]]
    assert all(0 <= r < 1 for r in randoms) and len(set(randoms)) == 9
    # Each instance starts from the build's snapshot: `random` must be reseeded at run time,
    # or every request would draw the same numbers.
    assert fresh["random"] != first["random"]


async def test_files_stay_out_of_reach(open_session) -> None:
    async with open_session(plugins=["hostile"]) as session:
        with pytest.raises(PluginError) as caught:
            await session.call_function("hostile", "wasi_escape", {"payload": None})
    assert caught.value.reason == "exception"
    assert caught.value.message.startswith(("FileNotFoundError", "PermissionError", "OSError"))
    assert "wasi_escape" in caught.value.traceback


async def test_the_network_stays_out_of_reach(open_session) -> None:
    async with open_session(plugins=["hostile"]) as session:
        errors = await session.call_function("hostile", "network_escape",
                                             {"payload": {"port": POSTGRES_PORT}})
    assert set(errors) == {"connect", "resolve"}, errors  # neither got through


async def test_a_guest_cannot_sleep_past_its_deadline(open_session) -> None:
    """A timer wait would run on the loop's thread, out of reach of the epoch deadline: the
    guest's monotonic clock tells the time but refuses timers, and the loop keeps serving."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    other = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    async with open_session(plugins=["hostile"]) as session:
        started = time.perf_counter()
        with pytest.raises(PluginTrap) as caught:
            await session.call_function("hostile", "nap", {"payload": None})
        elapsed = time.perf_counter() - started
        first = ticks
        again = await session.call_function("hostile", "clock_and_entropy", {"payload": None})
    await asyncio.sleep(0.01)
    other.cancel()
    assert elapsed < 1, elapsed  # hostile sleeps 30 s; its limit is 1.5 s
    assert "cannot sleep" in caught.value.message
    assert again["monotonic"][0] <= again["monotonic"][1]  # the clock itself still works
    assert ticks > first
