"""The ``requirements`` tap: a plugin's own checks before install and enable, and the status
report at run time.

Before install and enable the tap reaches the one plugin (``phase`` ``install`` or ``enable``)
and any ``error`` row refuses the operation before anything changes; at run time every enabled
plugin reports (``phase`` ``runtime``) and nothing is refused. A check that fails is reported
as a warning row, never as a refusal: the tap fails open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trovato.plugins.errors import PluginLoadError

if TYPE_CHECKING:
    from trovato.plugins.dispatch import TapOutcome
    from trovato.plugins.taps import Taps


@dataclass(frozen=True, slots=True)
class Requirement:
    """One row of the status report (a ``requirements`` tap result, or a failed check)."""

    plugin: str
    title: str
    severity: str
    value: str = ""
    description: str = ""

    def as_json(self) -> dict[str, str]:
        return {"plugin": self.plugin, "title": self.title, "value": self.value,
                "severity": self.severity, "description": self.description}


class RequirementsError(PluginLoadError):
    """The plugin's ``requirements`` tap reported an error: install or enable is refused."""

    def __init__(self, message: str, requirements: list[Requirement]) -> None:
        super().__init__(message)
        self.requirements = requirements


def requirement_rows(outcome: TapOutcome | None) -> list[Requirement]:
    """The rows of a ``requirements`` dispatch: each reply's, and one per failed check."""
    rows: list[Requirement] = []
    if outcome is None:
        return rows
    for reply in outcome.replies:
        for row in reply.value or []:
            rows.append(Requirement(reply.plugin, row["title"], row["severity"],
                                    row.get("value", ""), row.get("description", "")))
    for failure in outcome.failures:
        # The tap fails open: a broken check is reported, it does not block anything.
        rows.append(Requirement(failure.plugin, "Requirements check failed", "warning",
                                failure.reason, failure.message))
    return rows


async def check_requirements(taps: Taps, name: str, phase: str) -> None:
    """Run ``name``'s requirements tap for ``phase``; any ``error`` row refuses."""
    rows = requirement_rows(
        await taps.fire_lifecycle("requirements", name, {"phase": phase}))
    errors = [r for r in rows if r.severity == "error"]
    if errors:
        reasons = "; ".join(f"{r.title}{': ' + r.value if r.value else ''}"
                            f"{' — ' + r.description if r.description else ''}"
                            for r in errors)
        done = {"install": "installed", "enable": "enabled"}.get(phase, phase)
        raise RequirementsError(f"plugin {name!r} cannot be {done}: {reasons}", rows)


async def status_report(taps: Taps) -> list[Requirement]:
    """Every enabled plugin's ``requirements`` at run time."""
    return requirement_rows(await taps.fire("requirements", {"phase": "runtime"}))
