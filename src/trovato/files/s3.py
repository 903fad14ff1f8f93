"""Managed files in an S3 bucket (AWS or any S3-compatible server: MinIO, Ceph, moto).

A file URI ``public://2026-12/<id>-photo.png`` is the object ``<prefix>public/2026-12/<id>-…``.
Objects are written with the ``private`` canned ACL whatever their scheme: the bucket is never
read directly by browsers, every file is streamed through ``/files/{id}`` with its access check
and the headers that make an upload harmless (the sniffed type, ``nosniff``, a sandboxing
policy, ``attachment``), which a presigned redirect to the bucket could not add.

Uploads stream: the first part (up to :data:`PART` bytes) is buffered; a file that fits is one
``PutObject``, a larger one a multipart upload of :data:`PART`-sized parts, aborted on any error
(too large, refused by ``check``, a network failure), so a refused upload leaves no object.
Credentials come from boto3's usual chain: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
(and ``AWS_SESSION_TOKEN``) in the environment, a shared credentials file or an instance role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO, Final, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from trovato.files.sniff import HEAD_BYTES
from trovato.files.storage import Scheme, Storage, StorageError, TooLargeError, split_uri

PART: Final = 8 * 1024 * 1024  # S3's multipart minimum is 5 MiB (all parts but the last)
_MISSING: Final = frozenset({"NoSuchKey", "404", "NotFound"})


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Storage(Storage):
    """Files as objects of ``bucket`` under ``prefix``."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None,
                 region: str | None = None, prefix: str = "") -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}))

    def key(self, uri: str) -> str:
        scheme, path = split_uri(uri)
        if any(part in ("", ".", "..") for part in path.split("/")):
            raise StorageError(f"{uri!r} is not a plain path")
        return f"{self.prefix}{scheme}/{path}"

    def write(self, uri: str, source: BinaryIO, *, limit: int,
              check: Callable[[bytes, bool], None]) -> int:
        key = self.key(uri)
        head = source.read(HEAD_BYTES + 1)
        check(head[:HEAD_BYTES], len(head) <= HEAD_BYTES)
        first, size = self._part(source, head, limit)
        if size < PART:  # all of it
            self.client.put_object(Bucket=self.bucket, Key=key, Body=first, ACL="private")
            return size
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                     ACL="private")["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            chunk = first
            while chunk:
                number = len(parts) + 1
                done = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload,
                                               PartNumber=number, Body=chunk)
                parts.append({"PartNumber": number, "ETag": done["ETag"]})
                chunk, read = self._part(source, b"", limit - size)
                size += read
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
            raise
        return size

    @staticmethod
    def _part(source: BinaryIO, start: bytes, room: int) -> tuple[bytes, int]:
        """Up to :data:`PART` bytes (``start`` and what follows it); :class:`TooLargeError`
        when more than ``room`` are read. Returns the bytes and their count."""
        chunks = [start]
        size = len(start)
        while size < PART:
            chunk = source.read(min(1024 * 1024, PART - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > room:
            raise TooLargeError(room)
        return b"".join(chunks), size

    def open(self, uri: str) -> BinaryIO:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.key(uri))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise FileNotFoundError(uri) from None
            raise
        return cast(BinaryIO, found["Body"])

    def delete(self, uri: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(uri))

    def delete_prefix(self, scheme: Scheme, prefix: str) -> None:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}{scheme}/{prefix}")
        for page in pages:
            keys = [{"Key": entry["Key"]} for entry in page.get("Contents", ())]
            if keys:  # a page holds at most 1000 keys, DeleteObjects' limit
                self.client.delete_objects(Bucket=self.bucket,
                                           Delete={"Objects": keys, "Quiet": True})

    def exists(self, uri: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(uri))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise
        return True
