"""Building plugins: the cache key, the WIT the package ships, the builder a plain install has."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from trovato.plugins.build import BuildResult, componentize_py_version


def test_wit_copy_in_package_matches_canonical() -> None:
    repo = Path(__file__).resolve().parents[2]
    canonical = sorted((repo / "wit").glob("*.wit"))
    shipped = repo / "src" / "trovato" / "plugins" / "wit"
    assert canonical
    for path in canonical:
        assert (shipped / path.name).read_text() == path.read_text(), path.name
    assert {p.name for p in shipped.glob("*.wit")} == {p.name for p in canonical}


def test_build_is_cached(tmp_path: Path, built: dict[str, BuildResult], plugin_cache: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.plugins.conftest import FOLDERS
    from trovato.plugins.build import build_key, build_plugin, sdk_dir, wit_dir

    again = build_plugin(FOLDERS["hello"], cache_dir=plugin_cache / "plugin-builds")
    assert again.cached and again.artifact == built["hello"].artifact and again.seconds < 2
    assert again.size > 1_000_000
    # Any source change changes the key (so a stale artifact is never reused).
    copy = tmp_path / "hello"
    shutil.copytree(FOLDERS["hello"], copy)
    before = build_key(copy, sdk=sdk_dir(), wit=wit_dir())
    (copy / "greeting.py").write_text((copy / "greeting.py").read_text() + "\n# changed\n")
    changed = build_key(copy, sdk=sdk_dir(), wit=wit_dir())
    assert changed != before
    # So does a change of the generated entry module that every component starts from.
    import trovato.plugins.build as build

    monkeypatch.setattr(build, "_ENTRY_SOURCE", build._ENTRY_SOURCE + "# changed\n")
    assert build_key(copy, sdk=sdk_dir(), wit=wit_dir()) != changed


def test_the_plugin_builder_comes_with_a_plain_install() -> None:
    """``pip install trovato`` (the README's first line) must be enough for ``trovato demo``
    and ``trovato plugin build``: componentize-py is a base dependency, pinned to the version
    the build cache and the docs assume, and no extra is needed for it."""
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml")
                            .read_text())["project"]
    pins = [d for d in project["dependencies"] if d.startswith("componentize-py")]
    assert pins == [f"componentize-py=={componentize_py_version()}"]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        assert not any(r.startswith("componentize-py") for r in requirements), extra
