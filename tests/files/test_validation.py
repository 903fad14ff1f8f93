"""Upload validation without a site: safe names, sniffing by magic numbers, local storage."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from trovato.files.names import NAME_MAX, FileNameError, safe_name
from trovato.files.sniff import FileTypeError, check_type, sniff
from trovato.files.storage import LocalStorage, StorageError, TooLargeError, make_uri

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


@pytest.mark.parametrize(("raw", "expected"), [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
    ("C:\\Users\\me\\photo.JPG", "photo.jpg"),
    ("evil\x00.png", "evil.png"),
    ("a\nb\rc\td.txt", "abcd.txt"),
    ("\u202egnp.exe", "gnp.exe"),  # a right-to-left override dropped
    ("cafe\u0301.txt", "caf\u00e9.txt"),  # NFC
    ("  .hidden  ", "hidden"),
    ('what?<>:"|*.txt', "what_______.txt"),
    ("100%.txt", "100_.txt"),
])
def test_safe_names(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "..", "../..", "/", "\x00", "   ", "\u200b", "___"])
def test_a_name_with_nothing_usable_is_refused(raw: str) -> None:
    with pytest.raises(FileNameError) as caught:
        safe_name(raw)
    assert caught.value.status == 422
    assert caught.value.field == "file"


def test_long_names_are_bounded_and_keep_their_extension() -> None:
    name = safe_name("x" * 100_000 + ".pdf")
    assert len(name) <= NAME_MAX
    assert name.endswith(".pdf")


@pytest.mark.parametrize(("head", "mime"), [
    (PNG, "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 8, "image/jpeg"),
    (b"GIF89a" + b"\x00" * 8, "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (PDF, "application/pdf"),
    (b"PK\x03\x04" + b"\x00" * 8, "application/zip"),
    (b"plain words\n", "text/plain"),
    (b"<!DOCTYPE html><p>hi", "text/html"),
    (b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'>", "text/html"),
    (b"<?xml version='1.0'?><svg/>", "text/html"),
    (b"\x00\x01\x02\x03", "application/octet-stream"),
])
def test_types_come_from_magic_numbers(head: bytes, mime: str) -> None:
    assert sniff(head, complete=True) == mime


@pytest.mark.parametrize(("head", "extension"), [
    (PDF, "png"),  # a PDF called a PNG
    (b"just text", "jpg"),
    (PNG, "pdf"),
    (b"<html><script>alert(1)</script>", "txt"),  # markup whatever its name
    (b"<svg onload=alert(1)>", "png"),
    (PNG, "svg"),  # a markup extension whatever its bytes
    (PNG, "html"),
])
def test_bytes_that_are_not_what_the_name_says_are_refused(head: bytes, extension: str) -> None:
    with pytest.raises(FileTypeError) as caught:
        check_type(head, extension, complete=True)
    assert caught.value.status == 422


def test_a_known_type_is_served_as_its_kind() -> None:
    assert check_type(PNG, "png", complete=True) == "image/png"
    assert check_type(b"PK\x03\x04rest", "docx", complete=True).endswith("document")
    assert check_type(b"a,b\n1,2\n", "csv", complete=True) == "text/csv"
    assert check_type(b"\x00\x01", "bin", complete=True) == "application/octet-stream"


def test_local_storage_writes_bounded_and_never_outside(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    uri = make_uri("public", uuid.uuid4(), "a.txt")
    size = storage.write(uri, io.BytesIO(b"hello"), limit=10,
                         check=lambda head, complete: None)
    assert size == 5
    assert storage.path(uri).read_bytes() == b"hello"
    assert storage.path(uri).is_relative_to(tmp_path / "public")
    big = make_uri("public", uuid.uuid4(), "b.txt")
    with pytest.raises(TooLargeError):
        storage.write(big, io.BytesIO(b"x" * 200_000), limit=100_000,
                      check=lambda head, complete: None)
    assert not storage.exists(big)
    assert [p.name for p in (tmp_path / "public").rglob("*")
            if p.is_file()] == [storage.path(uri).name]  # no partial file left
    for bad in ("public://../../etc/passwd", "private://../public/x", "file:///etc/passwd",
                "public://"):
        with pytest.raises(StorageError):
            storage.path(bad)


def test_a_refused_check_stores_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    uri = make_uri("private", uuid.uuid4(), "a.png")

    def refuse(head: bytes, complete: bool) -> None:
        raise FileTypeError("no")

    with pytest.raises(FileTypeError):
        storage.write(uri, io.BytesIO(PDF), limit=1000, check=refuse)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
