"""``trovato files styles export|import|flush``, run as a user would run them."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.test_cli import run


def test_image_styles_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    env = {"TROVATO_DATABASE_URL": db_url, "COLUMNS": "200",
           "TROVATO_FILES_DIR": str(tmp_path / "files")}
    exported = run("files", "styles", "export", env=env)
    assert exported.returncode == 0, exported.stderr
    styles = yaml.safe_load(exported.stdout)
    assert set(styles) == {"large", "medium", "thumbnail"}
    assert styles["thumbnail"]["effects"] == [
        {"name": "scale_and_crop", "width": 100, "height": 100}]
    styles["banner"] = {"label": "Banner", "effects": [
        {"name": "scale_and_crop", "width": 600, "height": 200},
        {"name": "convert", "format": "webp"}]}
    del styles["large"]
    source = tmp_path / "styles.yaml"
    source.write_text(yaml.safe_dump(styles))
    imported = run("files", "styles", "import", str(source), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "Imported 3 image styles: banner, medium, thumbnail." in imported.stdout
    out = tmp_path / "out.yaml"
    assert run("files", "styles", "export", "-o", str(out), env=env).returncode == 0
    assert yaml.safe_load(out.read_text()) == styles
    source.write_text(yaml.safe_dump({"bad": {"label": "Bad", "effects": [{"name": "blur"}]}}))
    refused = run("files", "styles", "import", str(source), env=env)
    assert refused.returncode == 1 and "bad.effects.0.name" in refused.stderr
    assert yaml.safe_load(out.read_text()) == yaml.safe_load(
        run("files", "styles", "export", env=env).stdout)  # nothing changed
    assert run("files", "styles", "flush", "banner", env=env).returncode == 0
    missing = run("files", "styles", "flush", "nope", env=env)
    assert missing.returncode == 1 and "no such image style" in missing.stderr
