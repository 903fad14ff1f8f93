"""Guest calls polled on the event loop: host I/O suspends the guest, failures and cancellation
unwind it, and nothing runs on another thread."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from tests.plugins.conftest import item_payload
from trovato.plugins.errors import PluginError
from trovato.plugins.guest import HostCallFailed, StoreData, call_blocking
from trovato.plugins.host import HostServices, RequestHost
from trovato.plugins.runtime import LoadedPlugin


async def test_host_io_is_awaited_on_the_loop_thread(open_session, services: HostServices,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real = services.db.fetchval
    real_set = RequestHost.request_context_set

    def context_set(self: RequestHost, *args: Any) -> None:  # a host function without I/O:
        threads.append(threading.get_ident())  # it runs on the thread running the guest
        real_set(self, *args)

    monkeypatch.setattr(RequestHost, "request_context_set", context_set)

    async def fetchval(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        await asyncio.sleep(0.01)  # a real suspension: the guest waits, the loop does not
        return await real(*args, **kwargs)

    monkeypatch.setattr(services.db, "fetchval", fetchval)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    other = asyncio.create_task(ticker())
    async with open_session(plugins=["hello"]) as session:
        tree = await session.call_tap("hello", "item_view", {"item": item_payload("a")})
    other.cancel()
    assert tree["greeting"]["#value"] == "Hello, a!"
    # hello set a request-context key, then asked for one variable: both on this thread.
    assert threads == [threading.get_ident()] * 2
    assert ticks >= 3  # the loop served the ticker while the guest waited


async def test_a_failing_host_function_stops_the_guest(open_session, services: HostServices,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("database went away")

    monkeypatch.setattr(services.db, "fetchval", broken)
    async with open_session(plugins=["hello"]) as session:
        with pytest.raises(PluginError) as caught:
            await session.call_tap("hello", "item_view", {"item": item_payload("a")})
        assert caught.value.reason == "host_error"
        assert "ConnectionError: database went away" in caught.value.message
        assert "hello" not in session._live  # the instance stopped mid-call is gone
        monkeypatch.undo()
        again = await session.call_tap("hello", "item_view", {"item": item_payload("b")})
        assert again["greeting"]["#value"] == "Hello, b!"
        assert session.instantiated == 2


async def test_a_cancelled_request_unwinds_the_guest(open_session, services: HostServices,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    entered = asyncio.Event()

    async def stuck(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        await asyncio.sleep(30)

    monkeypatch.setattr(services.db, "fetchval", stuck)
    async with open_session(plugins=["hello"]) as session:
        call = asyncio.create_task(
            session.call_tap("hello", "item_view", {"item": item_payload("a")}))
        await asyncio.wait_for(entered.wait(), 5)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, 5)  # at once, not after the 30 s of host I/O
        assert "hello" not in session._live and not session.busy
        monkeypatch.undo()
        again = await session.call_tap("hello", "item_view", {"item": item_payload("b")})
        assert again["greeting"]["#value"] == "Hello, b!"


async def test_polling_without_a_loop_refuses_host_io(open_session,
                                                      loaded: dict[str, LoadedPlugin]) -> None:
    """call_blocking (and instantiate) have no loop to await host I/O on: the guest fails at
    its first I/O call instead of being polled forever."""
    session = open_session(plugins=["hello"])
    data = StoreData(session, "hello")
    store, instance = session.runtime.new_instance(loaded["hello"], data)
    func = instance.get_func(store, "call-function")
    payload = json.dumps({"payload": {}, "_ctx": {"user": session.host.user.public(),
                                                   "plugin": "hello"}})
    with pytest.raises(HostCallFailed, match="needs host I/O"):
        call_blocking(store, func, ("everything", payload), data)
    assert data.pending is None and data.failure is None
    store.close()


async def test_concurrent_requests_interleave_on_one_loop(
        open_session, services: HostServices, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guests of many requests suspend on host I/O in turn on the same thread; each gets
    its own answers (the caller is found by the call being polled, not by thread)."""
    real = services.db.fetchval
    waiting = peak = 0

    async def fetchval(*args: Any, **kwargs: Any) -> Any:
        nonlocal waiting, peak
        waiting += 1
        peak = max(peak, waiting)
        try:
            await asyncio.sleep(0.005)
            return await real(*args, **kwargs)
        finally:
            waiting -= 1

    monkeypatch.setattr(services.db, "fetchval", fetchval)

    async def request(n: int) -> tuple[int, Any]:
        async with open_session(plugins=["hello"], request_id=f"req-{n}") as session:
            tree = await session.call_tap("hello", "item_view",
                                          {"item": item_payload(f"visitor {n}")})
            return n, tree

    results = await asyncio.gather(*(request(n) for n in range(12)))
    for n, tree in results:
        assert tree["greeting"]["#value"] == f"Hello, visitor {n}!"
        assert tree["#attributes"]["data-views"] == "1"
    assert peak > 1  # several guests were suspended on host I/O at once
