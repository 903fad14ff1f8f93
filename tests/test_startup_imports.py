"""What a worker imports to start: libraries only some paths use load on first use.

A cold start (DESIGN's goal: ten plugins ready to serve in under a second) is mostly the
interpreter and its imports, so a library that only exports, imports or one text format needs
stays out of ``import trovato.app``. Each is checked in a fresh interpreter, since this test
process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Library -> what first needs it.
LAZY = {
    "markdown_it": "the first Markdown text rendered (trovato.render.filters)",
    "confusable_homoglyphs.confusables": "the first name folded (trovato.names)",
    "yaml": "a Gather definition exported or imported (trovato.gather.exchange)",
}


def _imported_after(statement: str) -> set[str]:
    script = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_starting_the_app_leaves_the_lazy_libraries_unloaded() -> None:
    loaded = _imported_after("import trovato.app")
    assert "trovato.app" in loaded
    assert sorted(loaded & LAZY.keys()) == []


@pytest.mark.parametrize(("statement", "library"), [
    ("from trovato.render.filters import FILTERS; FILTERS['markdown'].function('*a*', {})",
     "markdown_it"),
    ("from trovato.names import name_key; name_key('Alice')",
     "confusable_homoglyphs.confusables"),
    ("from trovato.gather.exchange import load_yaml; load_yaml('name: a')", "yaml"),
])
def test_each_lazy_library_loads_when_its_path_runs(statement: str, library: str) -> None:
    assert library in _imported_after(statement)
