"""Where file bytes live: the :class:`Storage` interface and its local implementation.

A stored file is named by a URI: ``public://2026-12/<id>-photo.png`` or ``private://…``. The
scheme says how it is served (:mod:`trovato.files.service`); the path is made by the storage
from the record's unique id and its safe name, so two uploads never share a path and no client
text chooses a folder. :class:`LocalStorage` keeps files under the site's files directory
(``TROVATO_FILES_DIR``, default ``<data dir>/files``) in ``public/`` and ``private/``. S3 is
not implemented; a second storage would implement the same four methods.

Writes go to a temporary file in the target folder and are renamed into place, so a reader never
sees half a file and a failed upload leaves nothing behind. The methods are synchronous: the
service calls them in a worker thread (file I/O blocks).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Final, Literal

Scheme = Literal["public", "private"]
SCHEMES: Final[tuple[Scheme, ...]] = ("public", "private")
CHUNK: Final = 64 * 1024


class StorageError(Exception):
    """A URI that names no file of this storage (or one outside it)."""


def make_uri(scheme: Scheme, file_id: uuid.UUID, name: str, now: datetime | None = None) -> str:
    month = (now or datetime.now(UTC)).strftime("%Y-%m")
    return f"{scheme}://{month}/{file_id}-{name}"


def split_uri(uri: str) -> tuple[Scheme, str]:
    scheme, sep, path = uri.partition("://")
    if not sep or scheme not in SCHEMES or not path:
        raise StorageError(f"not a file URI: {uri!r}")
    return ("public" if scheme == "public" else "private"), path


class Storage(ABC):
    """The bytes of managed files, by URI."""

    @abstractmethod
    def write(self, uri: str, source: BinaryIO, *, limit: int,
              check: Callable[[bytes, bool], None]) -> int:
        """Copy ``source`` to ``uri``; returns its size. ``check(head, complete)`` sees the
        first bytes before anything is kept; more than ``limit`` bytes raise
        :class:`TooLargeError`. On any error nothing is stored."""

    @abstractmethod
    def path(self, uri: str) -> Path:
        """The local file a response streams (:class:`StorageError` if it is not inside the
        storage)."""

    @abstractmethod
    def delete(self, uri: str) -> None:
        """Remove the file; a missing file is no error."""

    @abstractmethod
    def exists(self, uri: str) -> bool: ...


class TooLargeError(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


class LocalStorage(Storage):
    """Files under ``root``: ``root/public/…`` and ``root/private/…``."""

    def __init__(self, root: Path, head_bytes: int = 4096) -> None:
        self.root = root.resolve()
        self.head_bytes = head_bytes

    def path(self, uri: str) -> Path:
        scheme, relative = split_uri(uri)
        base = self.root / scheme
        target = (base / relative).resolve()
        if not target.is_relative_to(base) or target == base:
            raise StorageError(f"{uri!r} is outside the files directory")
        return target

    def write(self, uri: str, source: BinaryIO, *, limit: int,
              check: Callable[[bytes, bool], None]) -> int:
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        head = source.read(self.head_bytes + 1)
        check(head[:self.head_bytes], len(head) <= self.head_bytes)
        partial = target.with_name(f".{target.name}.part")
        size = 0
        try:
            # O_EXCL: a unique name is never written over.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            with os.fdopen(fd, "wb") as out:
                chunk = head
                while chunk:
                    size += len(chunk)
                    if size > limit:
                        raise TooLargeError(limit)
                    out.write(chunk)
                    chunk = source.read(CHUNK)
            os.link(partial, target)  # fails if the target exists: never replaced
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        return size

    def delete(self, uri: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(uri).unlink()

    def exists(self, uri: str) -> bool:
        return self.path(uri).is_file()
