"""How many HTTP requests this process is serving at this moment.

The kernel pipeline counts each request in and out. Work that only pays off while the process
has time to spare asks :func:`busy` first: the plugin runtime closes finished instances on a
background thread only then, because under load the same work on another thread just competes
with the requests for the GIL and the cores.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_in_flight = 0


def request_started() -> None:
    global _in_flight
    with _lock:
        _in_flight += 1


def request_finished() -> None:
    global _in_flight
    with _lock:
        _in_flight -= 1


def in_flight() -> int:
    """Requests started and not yet finished in this process."""
    return _in_flight


def busy() -> bool:
    """Another request is being served alongside the caller's."""
    return _in_flight > 1
