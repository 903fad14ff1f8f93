"""Allocation tracing for hunting a memory leak in a worker (``TROVATO_DEBUG_TRACEMALLOC=1``).

Off by default: tracing every allocation slows a worker down severalfold. When on, the worker
traces from its start, and on each ``SIGUSR2`` (and once at shutdown) logs the source lines
whose allocations grew most since the previous dump, or since the start for the first one.
Send the first signal after warm-up and the next one minutes later: what keeps growing between
them is the leak. Each dump is one ``trovato.memory`` log record naming the process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tracemalloc

log = logging.getLogger("trovato.memory")

TOP = 25  # growth sites per dump
FRAMES = 1  # a line is enough to find a cache; more frames multiply tracing's cost
# Allocations of the tracer itself would show up as growth in every dump.
_IGNORED = (tracemalloc.Filter(False, tracemalloc.__file__),)


class AllocationTracer:
    """Traces this process's allocations and logs where they grew, on demand."""

    def __init__(self) -> None:
        tracemalloc.start(FRAMES)
        self._previous = self._snapshot()
        self._dumps = 0

    @staticmethod
    def _snapshot() -> tracemalloc.Snapshot:
        return tracemalloc.take_snapshot().filter_traces(_IGNORED)

    def listen(self) -> None:
        """Dump on ``SIGUSR2`` (the worker's event loop must be running in this thread)."""
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, self.dump)
        except (RuntimeError, ValueError, NotImplementedError) as exc:
            log.warning("tracemalloc: no SIGUSR2 handler (%s); it dumps at shutdown only", exc)

    def dump(self) -> None:
        """Log the top growth sites since the previous dump and start counting anew."""
        current = self._snapshot()
        growth = [s for s in current.compare_to(self._previous, "lineno") if s.size_diff][:TOP]
        self._previous = current
        self._dumps += 1
        traced, peak = tracemalloc.get_traced_memory()
        log.warning(
            "tracemalloc dump %d: top growth sites since the %s",
            self._dumps,
            "start" if self._dumps == 1 else "previous dump",
            extra={
                "data": {
                    "pid": os.getpid(),
                    "dump": self._dumps,
                    "traced_bytes": traced,
                    "peak_bytes": peak,
                    "growth": [
                        {
                            "site": str(stat.traceback[0]),
                            "size_diff": stat.size_diff,
                            "count_diff": stat.count_diff,
                            "size": stat.size,
                        }
                        for stat in growth
                    ],
                }
            },
        )

    def stop(self) -> None:
        """Dump once more and stop tracing (at shutdown)."""
        self.dump()
        tracemalloc.stop()
