"""The epoch ticker: the one thread that advances every engine's epoch, which is how a guest
call's wall-clock deadline (``Store.set_epoch_deadline``, in ticks) is enforced.

It ticks only while some guest call is in flight (:func:`epoch_ticking`): a process whose
plugins are not running has no thread waking up every tick to take the GIL from its requests.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Final

from wasmtime import Engine

TICK_MS: Final = 10  # EngineSettings.epoch_tick_ms: a deadline of N ticks is N x 10 ms


class _EpochTicker:
    """One daemon thread that advances the epoch of every live engine while some guest call
    is in flight (:meth:`ticking`), and waits otherwise: a process whose plugins are not
    running has no thread waking up to take the GIL from its requests."""

    def __init__(self, tick_ms: int) -> None:
        self.tick = tick_ms / 1000
        self.engines: weakref.WeakSet[Engine] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._calls = 0
        self._busy = threading.Event()

    def add(self, engine: Engine) -> None:
        with self._lock:
            self.engines.add(engine)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="trovato-epoch",
                                                daemon=True)
                self._thread.start()

    def ticking(self) -> _Ticking:
        """A context in which the epochs advance: a guest call, from its start to its end
        (host I/O it waits for included, so a deadline is wall-clock time, as its limit)."""
        return _Ticking(self)

    def _enter(self) -> None:
        with self._lock:
            self._calls += 1
            self._busy.set()

    def _leave(self) -> None:
        with self._lock:
            self._calls -= 1
            if not self._calls:
                self._busy.clear()

    def _run(self) -> None:
        while True:
            self._busy.wait()
            time.sleep(self.tick)
            for engine in list(self.engines):
                engine.increment_epoch()


class _Ticking:
    """:meth:`_EpochTicker.ticking`'s context (a class: it wraps every guest call)."""

    __slots__ = ("ticker",)

    def __init__(self, ticker: _EpochTicker) -> None:
        self.ticker = ticker

    def __enter__(self) -> None:
        self.ticker._enter()

    def __exit__(self, *exc: object) -> None:
        self.ticker._leave()


TICKER: Final = _EpochTicker(TICK_MS)


def epoch_ticking() -> _Ticking:
    """The epochs advance inside this context: every guest call runs in one."""
    return TICKER.ticking()
