"""Where file bytes live: the :class:`Storage` interface and its local implementation.

A stored file is named by a URI: ``public://2026-12/<id>-photo.png`` or ``private://…``. The
scheme says how it is served (:mod:`trovato.files.service`); the path is made by the storage
from the record's unique id and its safe name, so two uploads never share a path and no client
text chooses a folder. :class:`LocalStorage` keeps files under the site's files directory
(``TROVATO_FILES_DIR``, default ``<data dir>/files``) in ``public/`` and ``private/``;
:class:`trovato.files.s3.S3Storage` keeps them in an S3 bucket. :func:`make_storage` picks one
from the settings (``TROVATO_FILE_STORAGE``).

Local writes go to a temporary file in the target folder and are renamed into place, so a
reader never sees half a file and a failed upload leaves nothing behind. The methods are
synchronous: the service calls them in a worker thread (file and network I/O block).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, Literal

if TYPE_CHECKING:
    from trovato.settings import Settings

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


def no_check(head: bytes, complete: bool) -> None:
    """The ``check`` of a write whose bytes the site made itself (an image derivative)."""


class Storage(ABC):
    """The bytes of managed files, by URI."""

    @abstractmethod
    def write(self, uri: str, source: BinaryIO, *, limit: int,
              check: Callable[[bytes, bool], None]) -> int:
        """Copy ``source`` to ``uri``; returns its size. ``check(head, complete)`` sees the
        first bytes before anything is kept; more than ``limit`` bytes raise
        :class:`TooLargeError`. On any error nothing is stored."""

    @abstractmethod
    def open(self, uri: str) -> BinaryIO:
        """The file's bytes, to read and close (:class:`FileNotFoundError` when it is
        missing, :class:`StorageError` when the URI is not inside the storage)."""

    @abstractmethod
    def delete(self, uri: str) -> None:
        """Remove the file; a missing file is no error."""

    @abstractmethod
    def delete_prefix(self, scheme: Scheme, prefix: str) -> None:
        """Remove every file of ``scheme`` whose path starts with ``prefix`` (a folder,
        ending in ``/``): how a style's derivatives are flushed."""

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
        """The local file of ``uri`` (:class:`StorageError` if it is not inside the root)."""
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
        partial = target.with_name(f".{uuid.uuid4().hex}.part")  # the name may be near 255
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

    def open(self, uri: str) -> BinaryIO:
        return self.path(uri).open("rb")

    def delete(self, uri: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(uri).unlink()

    def delete_prefix(self, scheme: Scheme, prefix: str) -> None:
        folder = self.path(f"{scheme}://{prefix}")
        shutil.rmtree(folder, ignore_errors=True)

    def exists(self, uri: str) -> bool:
        return self.path(uri).is_file()


def make_storage(settings: Settings) -> Storage:
    """The storage the settings choose: local files, or the S3 bucket."""
    if settings.file_storage == "s3":
        try:
            from trovato.files.s3 import S3Storage  # boto3 is loaded only by sites that use S3
        except ImportError as exc:
            from trovato.settings import SettingsError

            raise SettingsError("TROVATO_FILE_STORAGE: s3 needs boto3; install it with"
                                " pip install 'trovato[s3]'") from exc

        assert settings.s3_bucket is not None  # the settings refuse s3 without a bucket
        return S3Storage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                         region=settings.s3_region, prefix=settings.s3_prefix)
    return LocalStorage(settings.files_root)
