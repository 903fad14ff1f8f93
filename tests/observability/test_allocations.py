"""Allocation tracing: a dump names the line whose allocations grew, on demand and by signal."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tracemalloc

import pytest

from trovato.observability.allocations import AllocationTracer

KEPT: list[bytes] = []


def _grow() -> None:
    KEPT.extend(bytes(1000) + bytes([n % 256]) for n in range(2000))  # the growth site


def _grew_here(record: logging.LogRecord) -> bool:
    """Whether the dump names this file as a site that grew by more than 1 MB."""
    growth = record.data["growth"]  # type: ignore[attr-defined]
    return any(g["site"].startswith(f"{__file__}:") and g["size_diff"] > 1_000_000 for g in growth)


def test_a_dump_names_where_memory_grew_since_the_previous_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "trovato.memory")
    tracer = AllocationTracer()
    try:
        _grow()
        tracer.dump()
        tracer.dump()  # nothing grew since the first
    finally:
        tracer.stop()
        KEPT.clear()
    first, second, last = caplog.records
    assert first.data["pid"] == os.getpid()  # type: ignore[attr-defined]
    assert _grew_here(first)
    assert not _grew_here(second)
    assert last.data["dump"] == 3  # type: ignore[attr-defined]
    assert not tracemalloc.is_tracing()


async def test_sigusr2_asks_for_a_dump(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "trovato.memory")
    tracer = AllocationTracer()
    try:
        tracer.listen()
        _grow()
        os.kill(os.getpid(), signal.SIGUSR2)
        for _ in range(100):
            if caplog.records:
                break
            await asyncio.sleep(0.01)
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR2)
        tracer.stop()
        KEPT.clear()
    assert _grew_here(caplog.records[0])
