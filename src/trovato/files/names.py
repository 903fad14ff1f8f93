"""Safe file names: what a client calls an upload becomes a name that is safe to store, show
and send back in a ``Content-Disposition`` header.

The client's name is untrusted text: it may hold path separators (``../../etc/passwd``,
``C:\\evil``), NUL and control characters, a leading dot (a hidden file), several extensions or
thousands of characters. :func:`safe_name` keeps the last path segment, normalises Unicode
(NFC, so one name has one spelling), drops control and formatting characters (a right-to-left
override can make ``exe.png`` read as ``gnp.exe``), replaces characters file systems or headers
treat specially and bounds the length while keeping the extension. The stored name is never
the client's alone: the storage prefixes the record's unique id (:mod:`trovato.files.storage`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from trovato.errors import ServiceError

NAME_MAX: Final = 200  # characters of the kept name (the stored one adds the id)
EXTENSION_MAX: Final = 16
_RAW_MAX: Final = 4096  # of a client's name, only the end is read (the last segment)
# Reserved on some file system or special in a header's quoted string.
_SPECIAL: Final = re.compile(r'[<>:"/\\|?*;%\x00-\x1f\x7f]')
_SPACES: Final = re.compile(r"\s+")


class FileNameError(ServiceError):
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(422, message, field="file")


def safe_name(raw: str) -> str:
    """``raw`` as a safe name; :class:`FileNameError` when nothing usable is left."""
    raw = raw[-_RAW_MAX:]  # bound the work before any pass over the text
    # The last segment of either kind of path: a name never names a folder.
    name = re.split(r"[/\\]", raw)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _SPECIAL.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    if not name or set(name) <= {"_", " ", "."}:
        raise FileNameError("The file has no usable name; give it a name like report.pdf.")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    extension = extension[:EXTENSION_MAX].lower()
    room = NAME_MAX - (len(extension) + 1 if extension else 0)
    stem = stem[:room].rstrip(" .") or "file"
    return f"{stem}.{extension}" if extension else stem


def extension_of(name: str) -> str:
    """The lower-case extension of a (safe) name, or ``""``."""
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""
