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
        # As an author runs them: no PYTHONPATH; the scaffold's conftest finds the SDK.
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
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


def test_build_writes_an_artifact_that_installs_elsewhere(db_url: str, tmp_path: Path) -> None:
    """Build the warden fixture, install only its artifact into a site that cannot see its
    source, run its requirements tap from the status report; tampered copies are refused."""
    from tests._plugin_cache import plugin_cache_dir
    from tests.users._warden import WARDEN, build_warden

    build_warden()  # cached: the CLI build below finds it
    dist = tmp_path / "dist"
    built = _trovato("plugin", "build", str(WARDEN), "--out", str(dist),
                     env={**os.environ, "TROVATO_DATA_DIR": str(plugin_cache_dir())})
    assert built.returncode == 0, built.stderr
    artifact = dist / "warden-0.2.0.trovato"
    assert f"{artifact} (" in built.stdout and "trovato plugin install" in built.stdout

    env = {**os.environ, "TROVATO_DATABASE_URL": db_url, "TROVATO_REDIS_URL": "",
           "TROVATO_DATA_DIR": str(tmp_path / "site"),
           "TROVATO_PLUGIN_DIRS": str(tmp_path / "empty")}
    data = bytearray(artifact.read_bytes())
    middle = data.index(b"plugin.wasm") + 4096
    data[middle:middle + 64] = bytes(64)
    tampered = tmp_path / "warden-0.2.0-tampered.trovato"
    tampered.write_bytes(bytes(data))
    refused = _trovato("plugin", "install", str(tampered), "--yes", env=env)
    assert refused.returncode == 1
    assert "damaged" in refused.stderr or "checksum mismatch" in refused.stderr
    assert not (tmp_path / "site" / "plugins" / "warden").exists()
    wasm_only = _trovato("plugin", "install", str(plugin_cache_dir() / "plugin-builds" /
                                                  build_warden().artifact.name), env=env)
    assert wasm_only.returncode == 1 and "lacks its plugin.toml" in wasm_only.stderr

    installed = _trovato("plugin", "install", str(artifact), "--yes", env=env)
    assert installed.returncode == 0, installed.stderr
    assert "Installed warden and enabled it from" in installed.stderr
    assert (tmp_path / "site" / "plugins" / "warden" / "plugin.wasm").is_file()
    report = _trovato("plugin", "requirements", env=env)
    assert report.returncode == 0, report.stderr
    assert "Warden phase" in report.stdout and "runtime" in report.stdout

    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO variable (name, value) VALUES ('plugin.warden.mode',"
                     " '\"error\"')")
    failing = _trovato("plugin", "requirements", env=env)
    assert failing.returncode == 1
    assert "Warden licence" in failing.stdout and "1 requirement(s) not met" in failing.stderr
    assert _trovato("plugin", "disable", "warden", env=env).returncode == 0
    blocked = _trovato("plugin", "enable", "warden", env=env)
    assert blocked.returncode == 1
    assert "cannot be enabled: Warden licence: missing" in blocked.stderr


def test_a_clashing_plugin_folder_is_one_clear_error(db_url: str, tmp_path: Path) -> None:
    """Two folders providing one plugin name: the CLI names the file, no traceback."""
    clash = tmp_path / "copies" / "hello"
    clash.mkdir(parents=True)
    (clash / "plugin.toml").write_text((REPO / "plugins" / "hello" / "plugin.toml").read_text())
    (clash / "plugin.py").write_text("")
    env = {**os.environ, "TROVATO_DATABASE_URL": db_url, "TROVATO_DATA_DIR": str(tmp_path),
           "TROVATO_PLUGIN_DIRS": str(tmp_path / "copies"), "TROVATO_REDIS_URL": ""}
    listed = _trovato("plugin", "list", env=env)
    assert listed.returncode == 2
    assert "Traceback" not in listed.stderr
    assert "plugin.name: 'hello' is already provided by" in listed.stderr
