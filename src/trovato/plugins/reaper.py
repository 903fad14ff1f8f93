"""Closing finished plugin stores, on a background thread while the process has time to spare.

Freeing a store unmaps or resets its memory, which a request should not wait for; the session
decides, per drop, whether the reaper or the caller does it (see
:mod:`~trovato.plugins.session`). Stores are closed explicitly: wasmtime-py objects end up in
reference cycles, so leaving them to reference counting frees them only at the next cyclic
collection, holding their pool slots (and memory) until then.
"""

from __future__ import annotations

import logging
import queue
import threading

from wasmtime import Store

log = logging.getLogger("trovato.plugins")


def close(stores: list[Store]) -> None:
    """Close ``stores`` here and now."""
    for store in stores:
        try:
            store.close()
        except Exception:
            log.exception("closing a plugin store failed")


class Reaper:
    """Drops finished instances on a daemon thread. wasmtime-py's ctypes calls release the GIL,
    so this runs alongside the event loop. When it falls behind (more than ``MAX_BACKLOG``
    stores waiting, whose pool slots stay taken until then), callers close their stores
    themselves: the reaper only helps while a core has time to spare."""

    MAX_BACKLOG = 8

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[list[Store]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0  # stores queued, not yet closed
        self._thread: threading.Thread | None = None

    def drop(self, stores: list[Store]) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="trovato-reaper",
                                                    daemon=True)
                    self._thread.start()
        with self._lock:
            queued = self._pending + len(stores) <= self.MAX_BACKLOG
            if queued:
                self._pending += len(stores)
        if not queued:
            close(stores)  # back-pressure: free them here and now
            return
        self._queue.put(stores)

    def _run(self) -> None:
        while True:
            stores = self._queue.get()
            close(stores)
            with self._lock:
                self._pending -= len(stores)


REAPER = Reaper()  # the process's one reaper thread
