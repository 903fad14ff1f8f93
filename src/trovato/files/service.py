"""The files service: uploads, the managed-file records, their usage by items and cleanup.

* **Upload** (:meth:`Files.upload`): the client's name becomes a safe name
  (:mod:`trovato.files.names`); the bytes are copied to the storage in chunks, counted against
  ``TROVATO_FILE_MAX_BYTES`` (413 beyond it) and typed by their magic numbers
  (:mod:`trovato.files.sniff`), never by the client's ``Content-Type``; the field's extension
  allow-list and image rule (:class:`UploadRules`) apply before anything is kept. The record is
  *temporary* (``status`` 0), owned by the uploader. A refused upload stores nothing.
* **Usage** (:meth:`Files.track`, :meth:`Files.release`): the content service calls them inside
  an item save's transaction. A file an item's fields refer to gets a ``file_usage`` row for
  that item and becomes *permanent*; a file the item no longer refers to loses the row, and a
  file left with no usage at all becomes temporary again. A newly added reference to a private
  file must be the saver's own upload (otherwise saving an item would open someone else's
  private file to the item's readers).
* **Cleanup** (:meth:`Files.cleanup`, from the cron run): temporary files older than
  ``TROVATO_FILE_TEMPORARY_SECONDS`` are deleted, record and bytes (and derivatives).
* **Image styles** (:meth:`Files.derivative`): a style's derivative of an image is made on its
  first request, stored beside the original (same scheme) and served from the storage after
  (:mod:`trovato.files.styles`, :mod:`trovato.files.images`).

Serving is the routes' (``web/files.py``): they ask :meth:`Files.get` and, for a private file,
:meth:`Files.users_of` and the one item read path for an item the reader may see.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Final

from psycopg import AsyncConnection
from psycopg.errors import ForeignKeyViolation
from psycopg.rows import DictRow

from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.files.images import derive
from trovato.files.names import extension_of, safe_name
from trovato.files.sniff import HEAD_BYTES, check_type, is_image
from trovato.files.storage import (
    Scheme,
    Storage,
    StorageError,
    TooLargeError,
    make_uri,
    no_check,
    split_uri,
)
from trovato.files.styles import ImageStyle, ImageStyles, derivative_uri
from trovato.ids import uuid7
from trovato.users.accounts import CurrentUser

# ``file_managed.status``; the statements below spell them out (0, 1).
TEMPORARY: Final = 0
PERMANENT: Final = 1
UPLOAD_FILES: Final = "upload files"
ACCESS_CONTENT: Final = "access content"
USAGE_MODULE: Final = "content"
CLEANUP_BATCH: Final = 1000


class FileError(ServiceError):
    """A refused file operation; ``field`` is ``file`` for what is wrong with an upload."""


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A row of ``file_managed``."""

    id: uuid.UUID
    owner_id: uuid.UUID | None
    filename: str
    uri: str
    mime: str
    size: int
    status: int
    created: datetime
    changed: datetime

    @property
    def scheme(self) -> Scheme:
        return split_uri(self.uri)[0]

    @property
    def url(self) -> str:
        """Where it is served (public and private alike: the route checks access)."""
        return file_url(self.id)

    @property
    def image(self) -> bool:
        return is_image(self.mime)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "filename": self.filename, "url": self.url, "mime": self.mime,
                "size": self.size, "scheme": self.scheme,
                "status": "permanent" if self.status == PERMANENT else "temporary",
                "owner_id": self.owner_id, "created": self.created, "changed": self.changed}


def file_url(file_id: uuid.UUID | str) -> str:
    return f"/files/{file_id}"


def styled_url(style: str, file_id: uuid.UUID | str) -> str:
    """Where a style's derivative of the image is served (made on first request)."""
    return f"/files/styles/{style}/{file_id}"


def _record(row: Mapping[str, Any]) -> FileRecord:
    return FileRecord(row["id"], row["owner_id"], row["filename"], row["uri"], row["filemime"],
                      row["filesize"], row["status"], row["created"], row["changed"])


@dataclass(frozen=True, slots=True)
class UploadRules:
    """What a file field accepts: its extension allow-list (empty: any that is not markup),
    whether it must be an image, and where its files are kept."""

    extensions: tuple[str, ...] = ()
    image: bool = False
    scheme: Scheme = "public"

    @classmethod
    def of_field(cls, settings: Mapping[str, Any], *, image: bool) -> UploadRules:
        scheme: Scheme = "private" if settings.get("uri_scheme") == "private" else "public"
        return cls(tuple(str(e).lower() for e in settings.get("file_extensions") or ()),
                   image, scheme)


class Files:
    """Managed files of one site."""

    def __init__(self, db: Database, storage: Storage, *, max_bytes: int,
                 temporary_seconds: float, image_max_pixels: int) -> None:
        self.db = db
        self.storage = storage
        self.max_bytes = max_bytes
        self.temporary_seconds = temporary_seconds
        self.image_max_pixels = image_max_pixels
        self.styles = ImageStyles(db, storage)

    # -- uploads ----------------------------------------------------------------------------

    def too_large(self) -> FileError:
        return FileError(413, f"The file is larger than the upload limit of"
                              f" {self.limit_text}. Nothing was stored.", field="file")

    async def upload(self, owner: CurrentUser, source: BinaryIO, filename: str,
                     rules: UploadRules) -> FileRecord:
        """Store ``source`` as a temporary file of ``owner``; :class:`FileError` (or a
        :class:`ServiceError` about ``file``) when refused, with nothing stored."""
        name = safe_name(filename)
        extension = extension_of(name)
        if rules.extensions and extension not in rules.extensions:
            raise FileError(422, f"Files of type .{extension or '(none)'} are not accepted"
                                 f" here; allowed: {', '.join(rules.extensions)}.", field="file")
        found: list[str] = []

        def check(head: bytes, complete: bool) -> None:
            mime = check_type(head[:HEAD_BYTES], extension, complete=complete)
            if rules.image and not is_image(mime):
                raise FileError(422, "The file is not an image (PNG, JPEG, GIF or WebP).",
                                field="file")
            found.append(mime)

        file_id = uuid7()
        uri = make_uri(rules.scheme, file_id, name)
        try:
            size = await asyncio.to_thread(self.storage.write, uri, source,
                                           limit=self.max_bytes, check=check)
        except TooLargeError:
            raise self.too_large() from None
        try:
            row = await self.db.fetchrow(
                "INSERT INTO file_managed (id, owner_id, filename, uri, filemime, filesize,"
                " status) VALUES (%s, %s, %s, %s, %s, %s, 0) RETURNING id, owner_id, filename,"
                " uri, filemime, filesize, status, created, changed",
                (file_id, owner.id if owner.is_authenticated else None, name, uri, found[0], size))
        except BaseException:
            await asyncio.to_thread(self.storage.delete, uri)
            raise
        assert row is not None
        return _record(row)

    # -- records ----------------------------------------------------------------------------

    async def get(self, file_id: uuid.UUID | str) -> FileRecord | None:
        key = _parse(file_id)
        if key is None:
            return None
        row = await self.db.fetchrow(
            "SELECT id, owner_id, filename, uri, filemime, filesize, status, created, changed"
            " FROM file_managed WHERE id = %s", (key,))
        return None if row is None else _record(row)

    async def require(self, file_id: uuid.UUID | str) -> FileRecord:
        record = await self.get(file_id)
        if record is None:
            raise FileError(404, "There is no such file.")
        return record

    async def open(self, uri: str) -> BinaryIO:
        """The stored bytes at ``uri``, to read and close (:class:`FileError` 404 when they
        are gone)."""
        try:
            return await asyncio.to_thread(self.storage.open, uri)
        except StorageError:
            raise FileError(404, "There is no such file.") from None
        except FileNotFoundError:
            raise FileError(404, "The file's content is missing.") from None

    async def derivative(self, record: FileRecord, style: ImageStyle) -> tuple[str, str]:
        """Where ``style``'s derivative of the image ``record`` is stored, and its type; made
        and stored on first use. Call after the access check on ``record``: the derivative
        is served under the original's."""
        if not record.image:
            raise FileError(415, "The file is not an image; image styles apply to images.")
        mime = style.mime(record.mime)
        uri = derivative_uri(record.uri, style, record.mime)
        if await asyncio.to_thread(self.storage.exists, uri):
            return uri, mime
        source = await self.open(record.uri)
        try:
            data = await asyncio.to_thread(source.read)  # at most the upload limit of its day
        finally:
            await asyncio.to_thread(source.close)
        # ImageError (422) when the bytes are no decodable image of a sane size.
        made = await asyncio.to_thread(derive, data, style.effects, source_mime=record.mime,
                                       max_pixels=self.image_max_pixels)
        # FileExistsError: a concurrent request stored it first (the same bytes).
        with contextlib.suppress(FileExistsError):
            await asyncio.to_thread(self.storage.write, uri, io.BytesIO(made),
                                    limit=len(made), check=no_check)
        return uri, mime

    async def _remove(self, stored: Sequence[tuple[str, str]]) -> None:
        """Delete the stored files (URI, type) and their derivatives in every style."""
        styles = await self.styles.all() if stored else {}
        for uri, mime in stored:
            try:
                await asyncio.to_thread(self.storage.delete, uri)
                if is_image(mime):
                    for style in styles.values():
                        await asyncio.to_thread(self.storage.delete,
                                                derivative_uri(uri, style, mime))
            except StorageError:
                continue  # a URI outside the storage was never written by it

    async def names(self, user: CurrentUser, file_ids: Sequence[str]) -> dict[str, str]:
        """The names of the files (by id) that ``user`` may refer to: in use, or their own."""
        keys = [key for key in map(_parse, file_ids) if key is not None]
        if not keys:
            return {}
        rows = await self.db.fetch(
            "SELECT id, filename FROM file_managed WHERE id = ANY(%s)"
            " AND (status = 1 OR owner_id = %s)", (keys, user.id))
        return {str(row["id"]): row["filename"] for row in rows}

    @property
    def limit_text(self) -> str:
        """The upload limit as people read it (``10 MB``)."""
        return _size(self.max_bytes)

    async def check_read(self, user: CurrentUser, record: FileRecord, *,
                         sees_any: Callable[[Sequence[uuid.UUID]], Awaitable[bool]]) -> None:
        """Whether ``user`` may read the file, else :class:`FileError`: a temporary file is
        its owner's alone (404 to anyone else, as if it did not exist); a public file needs
        ``access content``; a private one an item that uses it which the user may see
        (``sees_any``: the one item read path, in the request's stage)."""
        if record.status == TEMPORARY:
            if (record.owner_id is not None and record.owner_id == user.id) or user.is_admin:
                return
            raise FileError(404, "There is no such file.")
        if record.scheme == "public":
            if not user.can(ACCESS_CONTENT):
                raise FileError(403, "You may not view this file.")
            return
        if user.is_admin or await sees_any(await self.users_of(record.id)):
            return
        raise FileError(403, "You may not view this file: it belongs to content you cannot"
                             " see.")

    async def users_of(self, file_id: uuid.UUID) -> list[uuid.UUID]:
        """The items that use the file (from ``file_usage``)."""
        rows = await self.db.fetch(
            "SELECT record_id FROM file_usage WHERE file_id = %s AND record_type = 'item'"
            " ORDER BY record_id LIMIT 100", (file_id,))
        return [row["record_id"] for row in rows]

    async def delete_temporary(self, user: CurrentUser, file_id: uuid.UUID | str) -> None:
        """Delete a temporary file: its owner's (or any, for an administrator). A file in use
        (permanent) is deleted by removing it from the items that use it."""
        record = await self.require(file_id)
        if record.owner_id != user.id and not user.is_admin:
            raise FileError(403, "You may only delete files you uploaded.")
        if record.status != TEMPORARY:
            raise FileError(409, "The file is used by content; remove it from the content"
                                 " instead.")
        deleted = await self.db.fetchrow(
            "DELETE FROM file_managed WHERE id = %s AND status = %s RETURNING uri",
            (record.id, TEMPORARY))
        if deleted is None:  # made permanent meanwhile
            raise FileError(409, "The file is used by content; remove it from the content"
                                 " instead.")
        await self._remove([(record.uri, record.mime)])

    # -- usage (inside an item save's transaction) ---------------------------------------------

    async def track(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                    item_id: uuid.UUID, before: Sequence[uuid.UUID],
                    after: Sequence[tuple[str, uuid.UUID]], *, replace: bool) -> None:
        """Record that the item now refers to the files ``after`` (error key, file id) and
        before referred to ``before``. ``replace``: the item's own row was written, so files
        no longer referred to lose their usage; otherwise (an edit in a stage of an item from
        upstream) usage is only added. A save that keeps its files costs no statement, one
        that changes them one or two (and one more to check a newly added private file)."""
        previous = set(before)
        added = [(key, fid) for key, fid in after if fid not in previous]
        if added and not user.is_admin:
            cur = await conn.execute(
                "SELECT id FROM file_managed WHERE id = ANY(%s) AND uri LIKE 'private://%%'"
                " AND owner_id IS DISTINCT FROM %s", ([fid for _, fid in added], user.id))
            foreign = {row["id"] for row in await cur.fetchall()}
            if foreign:
                raise FileError(422, "The item refers to private files you did not upload.",
                                errors={key: "refers to a private file you did not upload"
                                        for key, fid in added if fid in foreign})
        counts = Counter(fid for _key, fid in after)
        if replace:
            dropped = [fid for fid in previous if fid not in counts]
            if dropped:
                # A data-modifying CTE: the UPDATE still sees the deleted rows, so it skips
                # this item's own.
                await conn.execute(
                    "WITH gone AS (DELETE FROM file_usage WHERE record_type = 'item'"
                    " AND record_id = %(item)s AND file_id = ANY(%(dropped)s) RETURNING file_id)"
                    " UPDATE file_managed f SET status = 0, changed = now()"
                    " WHERE f.id IN (SELECT file_id FROM gone) AND f.status = 1"
                    " AND NOT EXISTS (SELECT 1 FROM file_usage u WHERE u.file_id = f.id"
                    " AND NOT (u.record_type = 'item' AND u.record_id = %(item)s))",
                    {"item": item_id, "dropped": dropped})
        if counts and counts != Counter(before):
            # Replacing: the saved fields' counts; adding (a stage's edit): never fewer. The
            # newly used files become permanent in the same statement.
            try:
                await self._use(conn, item_id, counts, added, replace=replace)
            except ForeignKeyViolation:
                # Cron deleted an old temporary file between the reference check and now.
                raise FileError(422, "The item refers to a file that was deleted meanwhile;"
                                     " upload it again.") from None

    @staticmethod
    async def _use(conn: AsyncConnection[DictRow], item_id: uuid.UUID,
                   counts: Counter[uuid.UUID], added: Sequence[tuple[str, uuid.UUID]], *,
                   replace: bool) -> None:
        """The item's usage rows as ``counts`` say, and the ``added`` files permanent."""
        await conn.execute(
            "WITH used AS (INSERT INTO file_usage (file_id, module, record_type,"
            " record_id, count) SELECT f, %(module)s, 'item', %(item)s, c"
            " FROM unnest(%(ids)s::uuid[], %(counts)s::int[]) AS u(f, c)"
            " ON CONFLICT (file_id, module, record_type, record_id) DO UPDATE SET count ="
            " CASE WHEN %(replace)s THEN EXCLUDED.count"
            " ELSE greatest(file_usage.count, EXCLUDED.count) END RETURNING file_id)"
            " UPDATE file_managed SET status = 1, changed = now()"
            " WHERE id = ANY(%(added)s) AND status <> 1",
            {"module": USAGE_MODULE, "item": item_id, "ids": list(counts),
             "counts": list(counts.values()), "replace": replace,
             "added": list({fid for _, fid in added})})

    async def release(self, conn: AsyncConnection[DictRow], item_ids: Sequence[uuid.UUID]
                      ) -> None:
        """The items are deleted: their usage goes, and files nothing else uses become
        temporary (cleaned up by cron after the grace period)."""
        await conn.execute(
            "WITH gone AS (DELETE FROM file_usage WHERE record_type = 'item'"
            " AND record_id = ANY(%(items)s) RETURNING file_id)"
            " UPDATE file_managed f SET status = 0, changed = now()"
            " WHERE f.id IN (SELECT file_id FROM gone) AND f.status = 1"
            " AND NOT EXISTS (SELECT 1 FROM file_usage u WHERE u.file_id = f.id"
            " AND NOT (u.record_type = 'item' AND u.record_id = ANY(%(items)s)))",
            {"items": list(item_ids)})

    # -- cron ---------------------------------------------------------------------------------

    async def cleanup(self) -> int:
        """Delete temporary files older than the grace period (a batch); how many."""
        rows = await self.db.fetch(
            "DELETE FROM file_managed WHERE id IN (SELECT id FROM file_managed"
            " WHERE status = 0 AND changed < now() - make_interval(secs => %s)"
            " ORDER BY changed LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING uri, filemime",
            (self.temporary_seconds, CLEANUP_BATCH))
        await self._remove([(row["uri"], row["filemime"]) for row in rows])
        return len(rows)


def _parse(value: uuid.UUID | str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            shown = count / scale
            return f"{shown:.0f} {unit}" if shown == int(shown) else f"{shown:.1f} {unit}"
    return f"{count} bytes"
