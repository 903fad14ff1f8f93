"""What a file is, read from its first bytes (its magic numbers), never from the client's
``Content-Type``.

:func:`sniff` names the type of the bytes; :func:`check_type` decides whether those bytes may
be stored under the name's extension. Markup that a browser would run is refused whatever it
is called: HTML, SVG and XML (SVG may hold scripts), so an upload can never be served as a page
of this site. A known extension must match its bytes (``photo.png`` holding a PDF is refused);
bytes of no known kind are text (valid UTF-8 without NUL) or ``application/octet-stream``.
"""

from __future__ import annotations

import re
from typing import Final

from trovato.errors import ServiceError

HEAD_BYTES: Final = 4096  # what sniffing reads

OCTET_STREAM: Final = "application/octet-stream"
TEXT: Final = "text/plain"
ZIP: Final = "application/zip"
IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

# (offset, magic, MIME type), checked in order.
_MAGIC: Final[tuple[tuple[int, bytes, str], ...]] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", ZIP),
    (0, b"PK\x05\x06", ZIP),  # an empty archive
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"\xff\xf3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (4, b"ftyp", "video/mp4"),
)
# RIFF containers name their kind at offset 8.
_RIFF: Final = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}

# Markup a browser would render or run, looked for at the start of text (after a byte order
# mark, white space and comments). Linear: one bounded head, no backtracking pattern.
_MARKUP: Final = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|svg|\?xml|iframe|object|embed|style|meta"
    rb"|title|a\s|img|div|p[\s>]|table|!--|![a-z])", re.IGNORECASE)

# Extension → the types its bytes may be. Office documents and e-books are ZIP archives.
EXTENSION_TYPES: Final[dict[str, frozenset[str]]] = {
    "png": frozenset({"image/png"}),
    "jpg": frozenset({"image/jpeg"}),
    "jpeg": frozenset({"image/jpeg"}),
    "gif": frozenset({"image/gif"}),
    "webp": frozenset({"image/webp"}),
    "pdf": frozenset({"application/pdf"}),
    "zip": frozenset({ZIP}),
    "docx": frozenset({ZIP}), "xlsx": frozenset({ZIP}), "pptx": frozenset({ZIP}),
    "odt": frozenset({ZIP}), "ods": frozenset({ZIP}), "odp": frozenset({ZIP}),
    "epub": frozenset({ZIP}),
    "gz": frozenset({"application/gzip"}), "tgz": frozenset({"application/gzip"}),
    "ogg": frozenset({"audio/ogg"}), "oga": frozenset({"audio/ogg"}),
    "mp3": frozenset({"audio/mpeg"}), "flac": frozenset({"audio/flac"}),
    "wav": frozenset({"audio/wav"}), "avi": frozenset({"video/x-msvideo"}),
    "webm": frozenset({"video/webm"}), "mp4": frozenset({"video/mp4"}),
    "m4a": frozenset({"video/mp4"}),
    "txt": frozenset({TEXT}), "csv": frozenset({TEXT}), "md": frozenset({TEXT}),
}
# What a stored file is served as, by extension, when its bytes are a generic kind.
_SERVED: Final = {"docx": "application/vnd.openxmlformats-officedocument."
                          "wordprocessingml.document",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "pptx": "application/vnd.openxmlformats-officedocument."
                          "presentationml.presentation",
                  "odt": "application/vnd.oasis.opendocument.text",
                  "ods": "application/vnd.oasis.opendocument.spreadsheet",
                  "odp": "application/vnd.oasis.opendocument.presentation",
                  "epub": "application/epub+zip", "csv": "text/csv", "md": "text/markdown",
                  "m4a": "audio/mp4"}
# Extensions that are markup, refused before a byte is read.
MARKUP_EXTENSIONS: Final = frozenset({"html", "htm", "xhtml", "shtml", "svg", "svgz", "xml",
                                      "xsl", "xslt", "js", "mjs", "php", "phtml"})


class FileTypeError(ServiceError):
    """The bytes are not what the name says, or are markup (422, about ``file``)."""

    def __init__(self, message: str) -> None:
        super().__init__(422, message, field="file")


def _is_text(head: bytes, complete: bool) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the head is still text.
        return not complete and exc.start >= len(head) - 3 and exc.reason.startswith(
            "unexpected end")
    return True


def _is_markup(head: bytes) -> bool:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return _MARKUP.match(text[:1024]) is not None or b"<svg" in head.lower() \
        or b"<script" in head.lower() or b"<html" in head.lower()


def sniff(head: bytes, *, complete: bool) -> str:
    """The MIME type of bytes starting with ``head`` (``complete``: the head is all of it)."""
    for offset, magic, mime in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return mime
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if _is_text(head, complete):
        return "text/html" if _is_markup(head) else TEXT
    return OCTET_STREAM


def check_type(head: bytes, extension: str, *, complete: bool) -> str:
    """The type the file is stored and served as; :class:`FileTypeError` if its bytes are
    markup, or not what its extension says."""
    if extension in MARKUP_EXTENSIONS:
        raise FileTypeError(f"Files of type .{extension} are not accepted: a browser could run"
                            " them as part of this site.")
    mime = sniff(head, complete=complete)
    if mime == "text/html":
        raise FileTypeError("The file holds HTML, SVG or XML markup, which is not accepted:"
                            " a browser could run it as part of this site.")
    expected = EXTENSION_TYPES.get(extension)
    if expected is not None and mime not in expected:
        shown = "text" if mime == TEXT else mime
        raise FileTypeError(f"The file's content is {shown}, not what its extension"
                            f" .{extension} says.")
    return _SERVED.get(extension, mime) if mime in (ZIP, TEXT) else mime


def is_image(mime: str) -> bool:
    return mime in IMAGE_TYPES
