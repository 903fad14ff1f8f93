"""The S3 storage against a real S3-compatible server (moto in server mode): round trips,
streamed multipart uploads within the limit, refusals that leave no object, private ACLs,
prefix flushes, and a whole site keeping its files (and derivatives) in a bucket."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import httpx
import pytest

from tests.files._images import image_bytes, size_of
from tests.files.conftest import S3Server
from tests.security._accounts import login, person, site
from trovato.files import s3 as s3_module
from trovato.files.s3 import S3Storage
from trovato.files.sniff import FileTypeError, check_type
from trovato.files.storage import StorageError, TooLargeError, make_storage, no_check
from trovato.settings import Settings, SettingsError

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def storage_of(s3: S3Server, prefix: str = "site/") -> S3Storage:
    return S3Storage(s3.bucket, endpoint_url=s3.endpoint, region="us-east-1", prefix=prefix)


def keys(s3: S3Server) -> list[str]:
    found = s3.client().list_objects_v2(Bucket=s3.bucket).get("Contents", [])
    return sorted(entry["Key"] for entry in found)


def read(storage: S3Storage, uri: str) -> bytes:
    handle = storage.open(uri)
    try:
        return handle.read()
    finally:
        handle.close()


def test_round_trip_private_objects_and_missing_files(s3: S3Server) -> None:
    storage = storage_of(s3)
    for uri in ("public://2026-12/a-notes.txt", "private://2026-12/b-secret.txt"):
        assert storage.write(uri, io.BytesIO(b"hello"), limit=10, check=no_check) == 5
        assert storage.exists(uri) and read(storage, uri) == b"hello"
    assert keys(s3) == ["site/private/2026-12/b-secret.txt", "site/public/2026-12/a-notes.txt"]
    for key in keys(s3):  # public files too: only the site reads the bucket
        grants = s3.client().get_object_acl(Bucket=s3.bucket, Key=key)["Grants"]
        assert all(g["Grantee"].get("URI") != ALL_USERS for g in grants), grants
    anonymous = httpx.get(f"{s3.endpoint}/{s3.bucket}/site/public/2026-12/a-notes.txt")
    assert anonymous.status_code == 403
    storage.delete("public://2026-12/a-notes.txt")
    storage.delete("public://2026-12/a-notes.txt")  # already gone: no error
    assert not storage.exists("public://2026-12/a-notes.txt")
    with pytest.raises(FileNotFoundError):
        storage.open("public://2026-12/a-notes.txt")
    for bad in ("public://../escape.txt", "private://a//b.txt", "http://x/y"):
        with pytest.raises(StorageError):
            storage.write(bad, io.BytesIO(b"x"), limit=10, check=no_check)


def test_refused_and_oversized_uploads_leave_nothing(s3: S3Server,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    storage = storage_of(s3)

    def refuse(head: bytes, complete: bool) -> None:
        check_type(head, "txt", complete=complete)

    with pytest.raises(FileTypeError):
        storage.write("public://x/a.txt", io.BytesIO(b"%PDF-1.7 not text"), limit=1000,
                      check=refuse)
    with pytest.raises(TooLargeError):
        storage.write("public://x/b.txt", io.BytesIO(b"x" * 2000), limit=1000, check=no_check)
    # Beyond one part: a multipart upload, aborted when the limit is passed.
    monkeypatch.setattr(s3_module, "PART", 5 * 1024 * 1024)
    with pytest.raises(TooLargeError):
        storage.write("public://x/c.txt", io.BytesIO(b"x" * (11 * 1024 * 1024)),
                      limit=10 * 1024 * 1024, check=no_check)
    assert keys(s3) == []
    assert s3.client().list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []


def test_a_large_file_streams_in_parts(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_module, "PART", 5 * 1024 * 1024)
    storage = storage_of(s3, prefix="")
    data = bytes(range(256)) * (12 * 1024 * 1024 // 256)  # three parts: 5 + 5 + 2 MiB
    assert storage.write("private://big/file.bin", io.BytesIO(data), limit=len(data),
                         check=no_check) == len(data)
    assert read(storage, "private://big/file.bin") == data
    head = s3.client().head_object(Bucket=s3.bucket, Key="private/big/file.bin")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart object of three parts


def test_delete_prefix_flushes_only_that_folder(s3: S3Server) -> None:
    storage = storage_of(s3)
    for uri in ("public://styles/thumbnail/a.png", "public://styles/thumbnail/b/c.png",
                "public://styles/thumbnails/d.png", "private://styles/thumbnail/e.png"):
        storage.write(uri, io.BytesIO(b"x"), limit=10, check=no_check)
    storage.delete_prefix("public", "styles/thumbnail/")
    assert keys(s3) == ["site/private/styles/thumbnail/e.png",
                        "site/public/styles/thumbnails/d.png"]


def test_settings_require_a_bucket_for_s3() -> None:
    with pytest.raises(ValueError, match="must name the bucket"):
        Settings(file_storage="s3")


async def test_a_site_keeps_its_files_in_the_bucket(db_url: str, s3: S3Server,
                                                    tmp_path: Path) -> None:
    async with site(db_url, files_dir=tmp_path, file_storage="s3", s3_bucket=s3.bucket,
                    s3_endpoint_url=s3.endpoint, s3_region="us-east-1",
                    s3_prefix="files/") as client:
        await person(client, "root", admin=True)
        headers = await login(client, "root")
        assert (await client.post("/api/v1/item-types", headers=headers, json={
            "type": "photo", "label": "Photo", "fields": [
                {"name": "field_image", "type": "image", "label": "Image",
                 "settings": {"alt_required": False, "uri_scheme": "private"}}]})
                ).status_code == 201
        await person(client, "reader", "access content")
        png = image_bytes(300, 200)
        headers = await login(client, "root")
        uploaded = await client.post(
            "/api/v1/files", headers=headers, data={"type": "photo", "field": "field_image"},
            files={"file": ("cat.png", png, "image/png")})
        assert uploaded.status_code == 201, uploaded.text
        record = uploaded.json()
        assert record["scheme"] == "private"
        served = await client.get(record["url"])
        assert served.status_code == 200 and served.content == png
        assert served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        styled = await client.get(f"/files/styles/thumbnail/{record['id']}")
        assert styled.status_code == 200 and size_of(styled.content) == (100, 100)
        stored = keys(s3)
        assert len(stored) == 2 and all(k.startswith("files/private/") for k in stored)
        assert any(k.startswith("files/private/styles/thumbnail/") for k in stored)
        assert not list(tmp_path.rglob("*.png"))  # nothing on the local disk
        await login(client, "reader")  # the file is temporary: its uploader's alone
        assert (await client.get(record["url"])).status_code == 404
        assert (await client.get(f"/files/styles/thumbnail/{record['id']}")).status_code == 404
        headers = await login(client, "root")
        assert (await client.delete(f"/api/v1/files/{record['id']}",
                                    headers=headers)).status_code == 204
        assert keys(s3) == []  # the original and its derivative


def test_s3_without_boto3_is_a_clear_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trovato.files.s3", None)  # as if boto3 were missing
    with pytest.raises(SettingsError, match="pip install 'trovato\\[s3\\]'"):
        make_storage(Settings(file_storage="s3", s3_bucket="b"))
