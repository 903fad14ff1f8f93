"""The resource limits of one guest call: ``[limits]`` in ``plugin.toml``.

A plugin may raise its limits only within :data:`LIMIT_RANGES` (an administrator approves any
raise, see :meth:`~trovato.plugins.info.PluginInfo.limit_lines`); the session applies them to
every call, and the engine's instance pool is sized for the largest memory allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trovato.plugins.errors import PluginLoadError

MIB = 1024 * 1024
# The range each ``[limits]`` key accepts (docs/plugins.md, "Limits"): up to ten times the
# default CPU budget, a wall clock well below a proxy's request timeout, 1 GiB of memory.
LIMIT_RANGES: dict[str, tuple[int, int]] = {
    "fuel": (1_000_000, 20_000_000_000), "timeout_ms": (10, 30_000),
    "memory_mb": (32, 1024), "max_output_kb": (1, 32 * 1024)}
MAX_MEMORY = LIMIT_RANGES["memory_mb"][1] * MIB  # the largest memory a plugin may ask for
# [limits] key -> (what it bounds, unit), in the order an administrator reads them.
LIMIT_LABELS = {"fuel": ("CPU budget (fuel)", ""), "timeout_ms": ("wall-clock time", " ms"),
                "memory_mb": ("memory", " MB"), "max_output_kb": ("largest result", " KB")}


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-plugin resource limits (``[limits]`` in plugin.toml); defaults are safe for a page.

    ``fuel`` is the CPU budget of one call (a Python tap on a 4 KB item uses about 1 M);
    ``timeout_ms`` the wall-clock backstop, which also covers time spent in host functions;
    ``memory_mb`` the cap on the instance's linear memory (a Python guest starts at ~20 MB);
    ``max_output_kb`` the largest result accepted.
    """

    fuel: int = 2_000_000_000
    timeout_ms: int = 2_000
    memory_mb: int = 96
    max_output_kb: int = 4 * 1024

    @classmethod
    def from_info(cls, raw: dict[str, Any] | None, *, where: str = "limits") -> Limits:
        if not raw:
            return cls()
        bounds = LIMIT_RANGES
        values: dict[str, int] = {}
        for key, value in raw.items():
            if key not in bounds:
                raise PluginLoadError(f"{where}.{key}: unknown limit; use {', '.join(bounds)}")
            low, high = bounds[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise PluginLoadError(f"{where}.{key}: an integer from {low} to {high}")
            values[key] = value
        return cls(**values)
