"""The .trovato artifact: deterministic, and every malformed or tampered archive refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.plugins.conftest import INFO_TOML, plugin_folder, rezip
from trovato.plugins import artifact


def _source(root: Path, name: str = "x", version: str = "1.0.0") -> Path:
    return plugin_folder(root, f"src-{name}", INFO_TOML.format(name=name, deps="[]").replace(
        '"1.0.0"', f'"{version}"'))


def test_artifact_round_trip_and_refusals(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "fake.wasm"
    fake.write_bytes(b"\0asm" + bytes(range(256)) * 64)
    good = artifact.write_artifact(_source(tmp_path), fake, tmp_path / "dist")
    assert good.name == "x-1.0.0.trovato"
    again = artifact.write_artifact(tmp_path / "src-x", fake, tmp_path / "dist2")
    assert again.read_bytes() == good.read_bytes()  # deterministic
    manifest = artifact.extract_artifact(good, tmp_path / "out")
    assert (manifest.name, manifest.version) == ("x", "1.0.0")
    assert (tmp_path / "out" / "plugin.wasm").read_bytes() == fake.read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "manifest.json", "plugin.toml", "plugin.wasm"]

    def refused(path: Path, message: str) -> None:
        dest = tmp_path / f"refused-{path.name}"
        with pytest.raises(artifact.ArtifactError, match=message):
            artifact.extract_artifact(path, dest)

    refused(rezip(good, tmp_path / "trav.trovato", {"../plugin.py": b"x"}),
            r"refusing member '\.\./plugin\.py': its path leaves the plugin folder")
    refused(rezip(good, tmp_path / "abs.trovato", {"/etc/cron.d/x": b"x"}),
            "its path leaves the plugin folder")
    refused(rezip(good, tmp_path / "extra.trovato", {"evil.py": b"x"}),
            "unexpected member 'evil.py'")
    refused(rezip(good, tmp_path / "gone.trovato", {"plugin.toml": None}),
            "missing plugin.toml")
    refused(rezip(good, tmp_path / "toml.trovato",
                   {"plugin.toml": (tmp_path / "src-x" / "plugin.toml").read_bytes() + b"#"}),
            "checksum mismatch for plugin.toml")
    refused(rezip(good, tmp_path / "wasm.trovato", {"plugin.wasm": b"\0asm tampered"}),
            "checksum mismatch for plugin.wasm")
    refused(rezip(good, tmp_path / "manifest.trovato", {"manifest.json": b"{"}),
            "manifest.json is not valid JSON")
    link = tmp_path / "link.trovato"
    rezip(good, link, {"plugin.toml": None})
    with zipfile.ZipFile(link, "a") as archive:
        entry = zipfile.ZipInfo("plugin.toml")
        entry.external_attr = 0o120777 << 16  # a symbolic link
        archive.writestr(entry, "/etc/passwd")
    refused(link, "not a regular file")
    not_zip = tmp_path / "plain.trovato"
    not_zip.write_bytes(b"hello")
    refused(not_zip, "not a Trovato plugin artifact")
    damaged = tmp_path / "damaged.trovato"
    data = bytearray(good.read_bytes())
    start = data.index(b"plugin.wasm") + 40  # inside the component's compressed bytes
    data[start:start + 32] = bytes(32)
    damaged.write_bytes(bytes(data))
    refused(damaged, "damaged|checksum mismatch")
    monkeypatch.setitem(artifact.MAX_MEMBER_BYTES, "plugin.wasm", 1000)
    refused(good, "member 'plugin.wasm' is 16388 bytes; the limit is 1000")
