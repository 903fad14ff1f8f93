"""The process's engines: the wasmtime version they are keyed by, and the epoch ticker that
advances them only while guest code may be running."""

from __future__ import annotations

import importlib.metadata
import time
import types
from collections.abc import Callable
from pathlib import Path

import wasmtime

from trovato.plugins.engine import WASMTIME_VERSION, installed_version
from trovato.plugins.epochs import _EpochTicker


def test_installed_version_reads_the_dist_info_and_falls_back(tmp_path: Path) -> None:
    assert importlib.metadata.version("wasmtime") == WASMTIME_VERSION
    assert installed_version(wasmtime, "wasmtime") == WASMTIME_VERSION
    elsewhere = types.ModuleType("orjson")  # a package with no dist-info beside it
    elsewhere.__file__ = str(tmp_path / "pkg" / "__init__.py")
    assert installed_version(elsewhere, "orjson") == importlib.metadata.version("orjson")


class _Counting:
    """An engine stand-in counting the epochs it was advanced by."""

    def __init__(self) -> None:
        self.ticks = 0

    def increment_epoch(self) -> None:
        self.ticks += 1


def _wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_the_epochs_advance_only_while_a_guest_call_is_in_flight() -> None:
    ticker = _EpochTicker(tick_ms=1)
    engine = _Counting()
    ticker.add(engine)  # type: ignore[arg-type]  # (only increment_epoch is called)
    time.sleep(0.05)  # fifty ticks' time, no call in flight: the thread waits
    assert engine.ticks == 0
    with ticker.ticking(), ticker.ticking():  # nested or concurrent calls
        assert _wait_for(lambda: engine.ticks >= 3)
    with ticker.ticking():
        pass
    after = engine.ticks
    time.sleep(0.05)
    assert engine.ticks <= after + 1  # at most the tick already under way
