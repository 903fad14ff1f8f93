"""Dates as people read them: an instant shown in a reader's time zone, to the minute.

Pages show dates in the viewer's own zone and leave the zone out; text that others will read
later in their own zones (a revision's log message) names it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trovato.caches import BytesLRU, text_cache

# A pure function of its arguments, remembered per process: a listing shows the same items'
# dates on every request.
_SHOWN: BytesLRU[tuple[datetime, str, bool], str] = text_cache("local_time", max_entry_bytes=1024,
                                                             recency=False)


def local_time(value: datetime, timezone: str, *, zone: bool = False) -> str:
    """``2026-01-01 13:00`` (``… CET`` with ``zone``) for ``value`` in ``timezone``; an unknown
    zone shows the instant as stored."""
    key = (value, timezone, zone)
    found = _SHOWN.get(key)
    if found is None:
        found = _local_time(value, timezone, zone)
        _SHOWN.put(key, found)
    return found


def _local_time(value: datetime, timezone: str, zone: bool) -> str:
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
        value = value.astimezone(ZoneInfo(timezone))
    return value.strftime("%Y-%m-%d %H:%M %Z" if zone else "%Y-%m-%d %H:%M")
