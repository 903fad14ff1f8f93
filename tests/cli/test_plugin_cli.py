"""`trovato plugin new` scaffolds a plugin that builds and passes its own test; installing a
plugin that asks for capabilities needs approval."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"  # a plugin asking for capabilities

pytestmark = pytest.mark.slow


def _trovato(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trovato", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=600)


def test_scaffold_builds_and_its_test_passes(tmp_path: Path) -> None:
    env = {**os.environ, "TROVATO_DATA_DIR": str(tmp_path / "data")}
    made = _trovato("plugin", "new", "shop_notes", "--dir", str(tmp_path), env=env)
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "shop_notes"
    assert {p.name for p in folder.iterdir()} >= {"plugin.toml", "plugin.py", "tests"}
    assert _trovato("plugin", "new", "shop_notes", "--dir", str(tmp_path), env=env).returncode
    assert _trovato("plugin", "new", "Bad-Name", "--dir", str(tmp_path), env=env).returncode
    built = _trovato("plugin", "build", str(folder), env=env)
    assert built.returncode == 0, built.stderr
    assert ".wasm (" in built.stdout and "MB" in built.stdout
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "tests")],
        capture_output=True, text=True, cwd=folder, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO / "sdk" / "python")},
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout


def test_capabilities_need_approval(db_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "TROVATO_DATABASE_URL": db_url, "TROVATO_REDIS_URL": "",
           "TROVATO_DATA_DIR": str(tmp_path), "TROVATO_PLUGIN_DIRS": str(FIXTURES)}
    refused = _trovato("plugin", "install", "needy", env=env, stdin="n\n")
    assert refused.returncode == 1
    assert "outbound_http" in refused.stderr and "not approved" in refused.stderr
    approved = _trovato("plugin", "install", "needy", "--yes", env=env)
    assert approved.returncode == 0, approved.stderr
    assert "Installed needy and enabled it." in approved.stderr
