"""Dates as people read them: an instant shown in a reader's time zone, to the minute.

Pages show dates in the viewer's own zone and leave the zone out; text that others will read
later in their own zones (a revision's log message) names it.
"""

from __future__ import annotations

import contextlib
import functools
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trovato.caches import register


@functools.lru_cache(maxsize=4096)
def local_time(value: datetime, timezone: str, *, zone: bool = False) -> str:
    """``2026-01-01 13:00`` (``… CET`` with ``zone``) for ``value`` in ``timezone``; an unknown
    zone shows the instant as stored.

    A pure function of its arguments, remembered per process: a listing shows the same items'
    dates on every request."""
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
        value = value.astimezone(ZoneInfo(timezone))
    return value.strftime("%Y-%m-%d %H:%M %Z" if zone else "%Y-%m-%d %H:%M")


# Bounded in count; each entry is an instant, a zone name (a validated setting) and 20-odd
# characters.
register("local_time", lambda: local_time.cache_info().currsize)
