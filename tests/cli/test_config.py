"""``trovato config export|import``, run as a user would run them."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.test_cli import run


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_export_dry_run_and_import(db_url: str, tmp_path: Path) -> None:
    env = {"TROVATO_DATABASE_URL": db_url, "COLUMNS": "200"}
    folder = tmp_path / "config"
    (folder).mkdir()
    (folder / "NOTES.md").write_text("kept")
    exported = run("config", "export", str(folder), env=env)
    assert exported.returncode == 0, exported.stderr
    assert "wrote gather/frontpage.yaml" in exported.stderr
    assert "written" in exported.stdout
    before = _tree(folder)
    assert "roles/authenticated_user.yaml" in before and before["NOTES.md"] == b"kept"
    again = run("config", "export", str(folder), env=env)
    assert "0 written" in again.stdout and _tree(folder) == before

    nothing = run("config", "import", str(folder), env=env)
    assert nothing.returncode == 0 and nothing.stdout == ""
    assert "Nothing to change" in nothing.stderr

    (folder / "vocabularies" / "topics.yaml").write_text(yaml.safe_dump(
        {"id": "topics", "label": "Topics", "hierarchy": "single"}))
    (folder / "settings" / "site.yaml").write_text("registration: visitors\n")
    edited = _tree(folder)
    dry = run("config", "import", "--dry-run", str(folder), env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == ["create vocabularies/topics", "update settings/site"]
    assert "dry run: nothing was changed" in dry.stderr
    run("config", "export", str(tmp_path / "unchanged"), env=env)
    assert _tree(tmp_path / "unchanged") == {k: v for k, v in before.items()
                                             if k != "NOTES.md"}

    done = run("config", "import", str(folder), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["create vocabularies/topics", "update settings/site"]
    run("config", "export", str(folder), env=env)
    after = _tree(folder)
    assert set(after) == set(edited)
    # The file left the search language out: it stays as it was.
    assert after["settings/site.yaml"] == b"registration: visitors\nsearch_language: english\n"
    assert yaml.safe_load(after["vocabularies/topics.yaml"]) == {
        "id": "topics", "label": "Topics", "hierarchy": "single", "description": "",
        "weight": 0}
    assert "Nothing to change" in run("config", "import", str(folder), env=env).stderr


def test_import_refuses_hostile_and_invalid_files(db_url: str, tmp_path: Path) -> None:
    env = {"TROVATO_DATABASE_URL": db_url, "COLUMNS": "200"}
    folder = tmp_path / "config"
    assert run("config", "export", str(folder), env=env).returncode == 0
    before = _tree(folder)
    # A valid new vocabulary, written before the bad item type below: rolled back with it.
    (folder / "vocabularies" / "places.yaml").write_text("id: places\nlabel: Places\n")
    hostile = folder / "roles" / "evil.yaml"
    hostile.write_text("!!python/object/apply:os.system ['touch /tmp/pwned']\n")
    refused = run("config", "import", str(folder), env=env)
    assert refused.returncode == 1
    assert "roles/evil.yaml" in refused.stderr and "not valid YAML" in refused.stderr
    hostile.unlink()
    (folder / "roles" / "leak.yaml").symlink_to("/etc/hostname")
    refused = run("config", "import", str(folder), env=env)
    assert refused.returncode == 1 and "roles/leak.yaml" in refused.stderr
    (folder / "roles" / "leak.yaml").unlink()
    (folder / "item_types" / "page.yaml").write_text(yaml.safe_dump(
        {"type": "page", "label": "Page",
         "fields": [{"name": "field_x", "type": "hologram", "label": "X"}]}))
    refused = run("config", "import", str(folder), env=env)
    assert refused.returncode == 1
    assert "item_types/page.yaml" in refused.stderr and "fields" in refused.stderr
    (folder / "item_types" / "page.yaml").unlink()
    (folder / "settings" / "site.yaml").write_text(
        "registration: admins_only\nsearch_language: klingon\n")
    refused = run("config", "import", str(folder), env=env)
    assert refused.returncode == 1
    assert "settings/site.yaml" in refused.stderr and "search_language" in refused.stderr
    (folder / "settings" / "site.yaml").write_text(
        "registration: admins_only\nsearch_language: simple\n")
    dry = run("config", "import", "--dry-run", str(folder), env=env)
    assert dry.returncode == 0, dry.stderr
    assert "update settings/site (the search language becomes simple: every item (0) is" \
        " reindexed)" in dry.stdout.splitlines()
    run("config", "export", str(tmp_path / "after"), env=env)
    assert _tree(tmp_path / "after") == before


def test_help_says_what_is_deleted() -> None:
    shown = run("config", "import", "--help", env={"COLUMNS": "80"})
    assert shown.returncode == 0
    assert "--dry-run" in shown.stdout and "--delete-content" in shown.stdout
    assert "--keep-absent" in shown.stdout


def test_a_folder_that_cannot_be_written_is_an_error_not_a_traceback(
        db_url: str, tmp_path: Path) -> None:
    env = {"TROVATO_DATABASE_URL": db_url, "COLUMNS": "200"}
    (tmp_path / "file").write_text("not a folder")
    refused = run("config", "export", str(tmp_path / "file" / "config"), env=env)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert "file/config" in refused.stderr
