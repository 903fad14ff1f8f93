"""axe-core in the browser tests: ``assert_accessible(page)`` fails on any serious or critical
accessibility violation of the page as it is now.

axe-core comes from the npm registry (``frontend/package.json``, a devDependency): run
``npm ci --prefix frontend`` (``.ci/run`` does when npm is installed). Without it the check
skips, saying so. The script is evaluated through the browser's debugging protocol, which
the site's Content-Security-Policy (``script-src 'self'``) does not govern.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = frozenset({"serious", "critical"})


def _describe(violation: dict[str, Any]) -> str:
    targets = [", ".join(map(str, node.get("target", []))) for node in violation["nodes"]][:5]
    return (f"{violation['impact']}: {violation['id']} — {violation['help']}"
            f" ({violation['helpUrl']}) at {targets}")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` (a Playwright page), every impact."""
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed ({AXE} is missing):"
                    " run `npm ci --prefix frontend`")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations']})")
    return list(result["violations"])


def assert_accessible(page: Any) -> None:
    """Fail when axe-core finds a serious or critical violation on ``page``."""
    found = [v for v in violations(page) if v.get("impact") in FAILING_IMPACTS]
    assert not found, f"axe-core on {page.url}:\n" + "\n".join(map(_describe, found))
