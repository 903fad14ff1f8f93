"""Per-request profile: how many DB queries, tap calls and template renders, and their time.

The profile lives in a context variable so the database cursor, the plugin dispatcher and the
template engine can record into it without being handed the request.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(slots=True)
class Profile:
    """Counters for one request; times are in seconds."""

    started: float = field(default_factory=time.perf_counter)
    db_count: int = 0
    db_time: float = 0.0
    tap_count: int = 0
    tap_time: float = 0.0
    render_count: int = 0
    render_time: float = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def server_timing(self) -> str:
        """The ``Server-Timing`` header value (durations in milliseconds)."""
        return ", ".join(
            (
                f'db;dur={self.db_time * 1000:.2f};desc="{self.db_count} queries"',
                f'tap;dur={self.tap_time * 1000:.2f};desc="{self.tap_count} calls"',
                f'render;dur={self.render_time * 1000:.2f};desc="{self.render_count} templates"',
                f"total;dur={self.elapsed() * 1000:.2f}",
            )
        )

    def as_dict(self) -> dict[str, float | int]:
        return {
            "total_ms": round(self.elapsed() * 1000, 3),
            "db_count": self.db_count,
            "db_ms": round(self.db_time * 1000, 3),
            "tap_count": self.tap_count,
            "tap_ms": round(self.tap_time * 1000, 3),
            "render_count": self.render_count,
            "render_ms": round(self.render_time * 1000, 3),
        }


current_profile: ContextVar[Profile | None] = ContextVar("trovato_profile", default=None)


def record_db(seconds: float) -> None:
    profile = current_profile.get()
    if profile is not None:
        profile.db_count += 1
        profile.db_time += seconds


def record_tap(seconds: float) -> None:
    profile = current_profile.get()
    if profile is not None:
        profile.tap_count += 1
        profile.tap_time += seconds


def record_render(seconds: float) -> None:
    profile = current_profile.get()
    if profile is not None:
        profile.render_count += 1
        profile.render_time += seconds
