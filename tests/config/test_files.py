"""The configuration folder on disk: stable writing, bounded and plain reading, and refusal
of whatever could read outside the folder or build objects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trovato.config.files import (
    MAX_FILE,
    ConfigError,
    dump,
    file_stem,
    parse,
    read_folder,
    unique_stems,
    write_folder,
)


def test_dump_is_stable_and_sorted() -> None:
    document = {"b": [2, 1], "a": {"z": "x" * 300, "y": "ü"}}
    text = dump(document)
    assert text == dump(dict(reversed(list(document.items()))))
    assert text.index("a:") < text.index("b:")
    assert "ü" in text and len(text.splitlines()) == 6  # not wrapped, not escaped
    assert parse("f.yaml", text.encode()) == document


def test_file_stems_are_safe_and_distinct() -> None:
    assert file_stem("Content Editor") == "content_editor"
    assert file_stem("../../etc/passwd") == "etc_passwd"
    assert file_stem("///") == "unnamed"
    assert unique_stems(["a b", "a-b ", "a_b"]) == {"a b": "a_b", "a-b ": "a-b",
                                                      "a_b": "a_b_2"}


@pytest.mark.parametrize("data,problem", [
    (b"!!python/object/apply:os.system ['echo hacked']\n", "not valid YAML"),
    (b"name: !!python/name:os.system\n", "not valid YAML"),
    (b"a: [1, 2\n", "not valid YAML (line"),
    (b"- a\n- b\n", "one mapping"),
    (b"when: 2020-01-01\n", "a date is not allowed"),
    (b"1: one\n", "not a string"),
    (b"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     b"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
     b"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "more than"),
    (b"a: " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "nested more than"),  # parser's stack
    (b"a: " + b"[" * 100 + b"]" * 100 + b"\n", "nested more than"),  # comparing, JSON
    (b"\xff\xfe", "not UTF-8"),
    (b"a: " + b"x" * MAX_FILE + b"\n", "longer than"),
])
def test_parse_refuses(data: bytes, problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse("roles/x.yaml", data)
    assert refused.value.file == "roles/x.yaml"
    assert problem in str(refused.value)


def test_read_folder_refuses_links_and_odd_names(tmp_path: Path) -> None:
    root = tmp_path / "config"
    (root / "roles").mkdir(parents=True)
    (root / "roles" / "editor.yaml").write_text("name: editor\n")
    assert [loaded.file for loaded in read_folder(root, "roles")] == ["roles/editor.yaml"]
    assert read_folder(root, "tiles") is None  # absent, which is not empty
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: secret\n")
    (root / "roles" / "leak.yaml").symlink_to(Path("..") / ".." / "secret.yaml")
    with pytest.raises(ConfigError, match="regular file") as refused:
        read_folder(root, "roles")
    assert refused.value.file == "roles/leak.yaml"
    os.unlink(root / "roles" / "leak.yaml")
    for odd in ("..yaml", "Editor.yaml", "notes.txt"):
        (root / "roles" / odd).write_text("name: x\n")
        with pytest.raises(ConfigError, match="not a configuration file"):
            read_folder(root, "roles")
        (root / "roles" / odd).unlink()
    (root / "tiles").mkdir()
    assert read_folder(root, "tiles") == []
    (root / "gather").symlink_to(tmp_path)  # a whole folder elsewhere
    with pytest.raises(ConfigError, match="must be a folder") as refused:
        read_folder(root, "gather")
    assert refused.value.file == "gather"


def test_oversized_file_is_not_read_whole(tmp_path: Path) -> None:
    (tmp_path / "roles").mkdir()
    (tmp_path / "roles" / "big.yaml").write_bytes(b"#" * (MAX_FILE * 4))
    with pytest.raises(ConfigError, match="longer than"):
        read_folder(tmp_path, "roles")


def test_write_folder_keeps_unchanged_files_and_removes_only_its_own(tmp_path: Path) -> None:
    first = write_folder(tmp_path, "roles", {"editor": "name: editor\n",
                                             "writer": "name: writer\n"})
    assert first.written == ("roles/editor.yaml", "roles/writer.yaml")
    (tmp_path / "roles" / "README.md").write_text("mine")
    (tmp_path / "notes.yaml").write_text("mine")
    mtime = (tmp_path / "roles" / "editor.yaml").stat().st_mtime_ns
    second = write_folder(tmp_path, "roles", {"editor": "name: editor\n"})
    assert second.unchanged == ("roles/editor.yaml",)
    assert second.removed == ("roles/writer.yaml",)
    assert (tmp_path / "roles" / "editor.yaml").stat().st_mtime_ns == mtime
    assert (tmp_path / "roles" / "README.md").read_text() == "mine"
    assert (tmp_path / "notes.yaml").read_text() == "mine"
    with pytest.raises(ConfigError, match="safe file name"):
        write_folder(tmp_path, "roles", {"../escape": "x: 1\n"})
    assert not (tmp_path / "escape.yaml").exists()


def test_write_folder_refuses_a_folder_where_a_file_goes(tmp_path: Path) -> None:
    (tmp_path / "roles" / "editor.yaml").mkdir(parents=True)
    with pytest.raises(ConfigError, match="regular file") as refused:
        write_folder(tmp_path, "roles", {"editor": "name: editor\n"})
    assert refused.value.file == "roles/editor.yaml"


def test_a_file_swapped_for_a_link_after_its_check_is_not_followed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check and the read are one open: a link put in place of a checked file between the
    # two (another process racing the import) is refused, not read.
    (tmp_path / "roles").mkdir()
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: secret\n")
    (tmp_path / "roles" / "leak.yaml").symlink_to(secret)
    regular = secret.lstat()
    real_lstat = Path.lstat
    monkeypatch.setattr(Path, "lstat", lambda self: regular if self.name == "leak.yaml"
                        else real_lstat(self))
    with pytest.raises(ConfigError, match="regular file") as refused:
        read_folder(tmp_path, "roles")
    assert refused.value.file == "roles/leak.yaml"


def test_write_folder_never_writes_through_a_link(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("mine")
    (tmp_path / "roles").mkdir()
    (tmp_path / "roles" / "editor.yaml").symlink_to(outside)
    with pytest.raises(ConfigError, match="link") as refused:
        write_folder(tmp_path, "roles", {"editor": "name: editor\n"})
    assert refused.value.file == "roles/editor.yaml"
    # Nor when the link is put in place after the folder was looked at.
    monkeypatch.setattr(Path, "is_symlink", lambda self: False)
    with pytest.raises(ConfigError, match="link"):
        write_folder(tmp_path, "roles", {"editor": "name: editor\n"})
    assert outside.read_text() == "mine"


def test_a_refusal_reads_each_problem_once() -> None:
    quoted = ConfigError("roles/x.yaml", "unknown permission(s): fly",
                         errors={"permissions": "unknown permission(s): fly"})
    assert str(quoted) == "roles/x.yaml: unknown permission(s): fly"
    other = ConfigError("roles/x.yaml", "has invalid values",
                        errors={"weight": "must be a whole number"})
    assert str(other) == "roles/x.yaml: has invalid values (weight: must be a whole number)"
