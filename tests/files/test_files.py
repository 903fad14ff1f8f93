"""The files subsystem through the API and the file route: upload, serve, refuse, access,
usage (temporary → permanent → temporary) and cron cleanup, on a real site."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import create_account
from tests.security._accounts import kernel_of, login, person, site
from trovato.files.service import FileError
from trovato.observability.profiler import Profile, current_profile
from trovato.users.accounts import CurrentUser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"%" * 64
MAX = 8192

DOCS: dict[str, Any] = {
    "type": "doc", "label": "Doc",
    "fields": [
        {"name": "field_file", "type": "file", "label": "Attachment",
         "settings": {"file_extensions": ["txt", "pdf"]}},
        {"name": "field_image", "type": "image", "label": "Picture",
         "settings": {"alt_required": False}},
        {"name": "field_secret", "type": "file", "label": "Secret",
         "settings": {"file_extensions": ["txt"], "uri_scheme": "private"}},
    ],
}


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with site(db_url, files_dir=tmp_path, file_max_bytes=MAX,
                    write_rate_limit=1000) as c:
        await person(c, "root", admin=True)
        headers = await login(c, "root")
        created = await c.post("/api/v1/item-types", json=DOCS, headers=headers)
        assert created.status_code == 201, created.text
        await person(c, "editor", "upload files", "access content", "create doc content",
                     "edit own doc content")
        await person(c, "reader", "access content")
        yield c


async def upload(client: httpx.AsyncClient, headers: dict[str, str], name: str, data: bytes,
                 field: str = "field_file", content_type: str = "text/plain"
                 ) -> httpx.Response:
    return await client.post("/api/v1/files", headers=headers,
                             data={"type": "doc", "field": field},
                             files={"file": (name, data, content_type)})


def stored(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_upload_and_serve_round_trip(client: httpx.AsyncClient, tmp_path: Path) -> None:
    headers = await login(client, "editor")
    # The client's type is ignored: the bytes say PNG.
    response = await upload(client, headers, "photo.png", PNG, "field_image", "text/html")
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["mime"] == "image/png" and record["size"] == len(PNG)
    assert record["status"] == "temporary" and record["scheme"] == "public"
    assert response.headers["location"] == f"/api/v1/files/{record['id']}"
    served = await client.get(record["url"])
    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in served.headers["content-security-policy"]
    again = await client.get(f"/api/v1/files/{record['id']}")
    assert again.status_code == 200 and again.json()["id"] == record["id"]

    text = await upload(client, headers, "notes.txt", "héllo\n".encode())
    assert text.status_code == 201, text.text
    served = await client.get(text.json()["url"])
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert "notes.txt" in served.headers["content-disposition"]
    assert len(stored(tmp_path)) == 2


async def test_an_oversized_upload_is_refused_and_nothing_stored(
        client: httpx.AsyncClient, tmp_path: Path) -> None:
    headers = await login(client, "editor")
    response = await upload(client, headers, "big.txt", b"x" * (MAX + 1))
    assert response.status_code == 413, response.text
    assert "upload limit of 8 KB" in response.json()["detail"]
    # Far beyond the request's limit: refused by its declared length, before it is read.
    huge = await client.post("/api/v1/files", headers={
        **headers, "content-type": "multipart/form-data; boundary=x",
        "content-length": str(10**9)}, content=b"--x--")
    assert huge.status_code == 413
    assert stored(tmp_path) == []
    assert await kernel_of(client).db.fetchval("SELECT count(*) FROM file_managed") == 0


@pytest.mark.parametrize(("name", "data", "field", "message"), [
    ("photo.png", PDF, "field_image", "not what its extension .png says"),
    ("notes.txt", b"<html><script>alert(1)</script></html>", "field_file", "markup"),
    ("notes.txt", PDF, "field_file", "not what its extension .txt says"),
    ("drawing.svg", b"<svg onload='alert(1)'/>", "field_image", "not accepted"),
    ("page.html", b"hello", "field_file", "not accepted"),
    ("script.exe", b"MZ\x90\x00", "field_file", "allowed: txt, pdf"),
    ("notes.pdf", b"plain text", "field_file", "not what its extension .pdf says"),
    ("file.txt", b"plain", "field_image", "allowed: png, gif, jpg, jpeg, webp"),
])
async def test_wrong_types_are_refused(client: httpx.AsyncClient, tmp_path: Path, name: str,
                                       data: bytes, field: str, message: str) -> None:
    headers = await login(client, "editor")
    response = await upload(client, headers, name, data, field)
    assert response.status_code == 422, response.text
    assert message in response.json()["errors"]["file"]
    assert stored(tmp_path) == []


async def test_traversal_names_and_paths(client: httpx.AsyncClient, tmp_path: Path) -> None:
    headers = await login(client, "editor")
    response = await upload(client, headers, "../../../etc/passwd.txt", b"root:x:0:0")
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "passwd.txt"
    (path,) = stored(tmp_path)
    assert path.is_relative_to(tmp_path / "public") and path.name.endswith("-passwd.txt")
    for attempt in ("/files/..%2F..%2Fetc%2Fpasswd", "/files/../../etc/passwd",
                    "/files/%2e%2e%2fsettings.py", "/files/not-a-uuid",
                    "/files/00000000-0000-7000-8000-000000000000"):
        assert (await client.get(attempt)).status_code == 404, attempt


async def test_uploads_need_the_permission(client: httpx.AsyncClient) -> None:
    headers = await login(client, "reader")
    assert (await upload(client, headers, "a.txt", b"a")).status_code == 403
    client.cookies.clear()
    assert (await upload(client, {}, "a.txt", b"a")).status_code == 401


async def test_a_temporary_file_is_its_owners_alone(client: httpx.AsyncClient) -> None:
    headers = await login(client, "editor")
    record = (await upload(client, headers, "a.txt", b"mine")).json()
    other = await login(client, "reader")
    assert (await client.get(record["url"])).status_code == 404
    assert (await client.get(f"/api/v1/files/{record['id']}")).status_code == 404
    assert (await client.delete(f"/api/v1/files/{record['id']}",
                                headers=other)).status_code == 404
    # Nor may someone else's item refer to it.
    await person(client, "thief", "access content", "create doc content")
    thief = await login(client, "thief")
    refused = await client.post("/api/v1/items", headers=thief, json={
        "type": "doc", "title": "Mine now", "fields": {"field_file": {"target_id": record["id"]}}})
    assert refused.status_code == 422
    assert "field_file" in str(refused.json()["errors"])
    headers = await login(client, "editor")
    assert (await client.delete(f"/api/v1/files/{record['id']}",
                                headers=headers)).status_code == 204
    assert (await client.get(record["url"])).status_code == 404


async def test_temporary_becomes_permanent_then_cleanup(client: httpx.AsyncClient,
                                                        tmp_path: Path) -> None:
    kernel = kernel_of(client)
    headers = await login(client, "editor")
    record = (await upload(client, headers, "a.pdf", PDF)).json()
    item = await client.post("/api/v1/items", headers=headers, json={
        "type": "doc", "title": "With a file",
        "fields": {"field_file": {"target_id": record["id"]}}})
    assert item.status_code == 201, item.text
    item_id = item.json()["id"]
    status = "SELECT status FROM file_managed WHERE id = %s"
    assert await kernel.db.fetchval(status, (record["id"],)) == 1
    usage = await kernel.db.fetch("SELECT record_id::text AS id, count FROM file_usage")
    assert [dict(r) for r in usage] == [{"id": item_id, "count": 1}]
    # In use: not the owner's to delete, and anyone who may read content reads it.
    assert (await client.delete(f"/api/v1/files/{record['id']}",
                                headers=headers)).status_code == 409
    await login(client, "reader")
    assert (await client.get(record["url"])).status_code == 200
    # Cron leaves a file in use alone, even past the grace period.
    kernel.files.temporary_seconds = 0
    assert (await kernel.cron.run()).files_removed == 0
    headers = await login(client, "editor")
    # A new revision without the file: it is no longer used, so temporary again.
    changed = await client.patch(f"/api/v1/items/{item_id}", headers=headers,
                                 json={"fields": {"field_file": None}})
    assert changed.status_code == 200, changed.text
    assert await kernel.db.fetchval(status, (record["id"],)) == 0
    assert await kernel.db.fetchval("SELECT count(*) FROM file_usage") == 0
    report = await kernel.cron.run()
    assert report.files_removed == 1
    assert stored(tmp_path) == []
    assert await kernel.db.fetchval(status, (record["id"],)) is None


async def test_deleting_the_item_releases_its_files(client: httpx.AsyncClient) -> None:
    kernel = kernel_of(client)
    headers = await login(client, "root")
    record = (await upload(client, headers, "a.txt", b"a")).json()
    item = (await client.post("/api/v1/items", headers=headers, json={
        "type": "doc", "title": "T", "fields": {"field_file": {"target_id": record["id"]}}})
    ).json()
    assert (await client.delete(f"/api/v1/items/{item['id']}",
                                headers=headers)).status_code == 204
    assert await kernel.db.fetchval("SELECT status FROM file_managed WHERE id = %s",
                                    (record["id"],)) == 0


async def test_a_private_file_follows_its_items_access(client: httpx.AsyncClient) -> None:
    headers = await login(client, "editor")
    record = (await upload(client, headers, "secret.txt", b"the plan", "field_secret")).json()
    assert record["scheme"] == "private"
    item = await client.post("/api/v1/items", headers=headers, json={
        "type": "doc", "title": "Draft", "status": 0,
        "fields": {"field_secret": {"target_id": record["id"]}}})
    assert item.status_code == 201, item.text
    item_id = item.json()["id"]
    served = await client.get(record["url"])  # the author sees their own unpublished item
    assert served.status_code == 200 and served.content == b"the plan"
    assert "private" in served.headers["cache-control"]
    await login(client, "reader")  # who cannot see the unpublished item
    assert (await client.get(record["url"])).status_code == 403
    assert (await client.get(f"/api/v1/files/{record['id']}")).status_code == 403
    client.cookies.clear()
    assert (await client.get(record["url"])).status_code == 403
    root = await login(client, "root")
    assert (await client.patch(f"/api/v1/items/{item_id}", headers=root,
                               json={"status": 1})).status_code == 200
    await login(client, "reader")
    assert (await client.get(record["url"])).status_code == 200


async def test_a_private_file_cannot_be_borrowed_by_another_item(
        client: httpx.AsyncClient) -> None:
    headers = await login(client, "editor")
    record = (await upload(client, headers, "secret.txt", b"x", "field_secret")).json()
    assert (await client.post("/api/v1/items", headers=headers, json={
        "type": "doc", "title": "Hidden", "status": 0,
        "fields": {"field_secret": {"target_id": record["id"]}}})).status_code == 201
    await create_account(client, "borrower")
    await person(client, "borrower2", "access content", "create doc content")
    borrower = await login(client, "borrower2")
    refused = await client.post("/api/v1/items", headers=borrower, json={
        "type": "doc", "title": "Public", "fields": {"field_secret": {"target_id": record["id"]}}})
    assert refused.status_code == 422, refused.text
    assert "private file you did not upload" in refused.json()["errors"]["fields.field_secret"]


async def test_the_upload_must_name_a_file_field(client: httpx.AsyncClient) -> None:
    headers = await login(client, "editor")
    response = await client.post("/api/v1/files", headers=headers,
                                 data={"type": "doc", "field": "title"},
                                 files={"file": ("a.txt", b"a", "text/plain")})
    assert response.status_code == 404  # the title is no field
    bad = await client.post("/api/v1/files", headers=headers,
                            data={"type": "Doc!", "field": "field_file"},
                            files={"file": ("a.txt", b"a", "text/plain")})
    assert bad.status_code == 422 and "type" in bad.json()["errors"]
    missing = await client.post("/api/v1/files", headers=headers, data={"type": "doc"},
                                files={"file": ("a.txt", b"a", "text/plain")})
    assert missing.status_code == 422 and "field" in missing.json()["errors"]
    not_multipart = await client.post("/api/v1/files", headers=headers, json={"type": "doc"})
    assert not_multipart.status_code == 415


async def test_stage_changes_track_and_release_usage(client: httpx.AsyncClient) -> None:
    kernel = kernel_of(client)
    headers = await login(client, "root")
    assert (await client.post("/api/v1/stages", headers=headers,
                              json={"id": "spring", "label": "Spring"})).status_code == 201
    staged = {**headers, "X-Trovato-Stage": "spring"}
    record = (await upload(client, headers, "a.txt", b"a")).json()
    item = await client.post("/api/v1/items", headers=staged, json={
        "type": "doc", "title": "Staged", "fields": {"field_file": {"target_id": record["id"]}}})
    assert item.status_code == 201, item.text
    status = "SELECT status FROM file_managed WHERE id = %s"
    assert await kernel.db.fetchval(status, (record["id"],)) == 1
    discarded = await client.delete(f"/api/v1/stages/spring/changes/{item.json()['id']}",
                                    headers=headers)
    assert discarded.status_code in (200, 204), discarded.text
    assert await kernel.db.fetchval(status, (record["id"],)) == 0


async def test_file_usage_costs_one_statement_per_change(client: httpx.AsyncClient) -> None:
    """Saving an item whose files changed costs one statement for their usage (rows and
    status together); one whose files stayed the same, none."""
    kernel = kernel_of(client)
    headers = await login(client, "root")
    first = (await upload(client, headers, "a.txt", b"a")).json()["id"]
    second = (await upload(client, headers, "b.txt", b"b")).json()["id"]
    admin = CurrentUser(id=uuid.UUID(await person(client, "boss", admin=True)), name="boss",
                        is_admin=True)
    items = kernel.content.items

    async def statements(**fields: Any) -> int:
        profile = Profile()
        token = current_profile.set(profile)
        try:
            await items.create(admin, "doc", title="t", fields=fields)
        finally:
            current_profile.reset(token)
        return profile.db_count

    none = await statements()
    # One more for the reference check, one for the usage.
    assert await statements(field_file={"target_id": first}) == none + 2
    created = await items.create(admin, "doc", title="t",
                                 fields={"field_file": {"target_id": second}})

    async def update(**fields: Any) -> int:
        profile = Profile()
        token = current_profile.set(profile)
        try:
            await items.update(admin, created.id, fields=fields)
        finally:
            current_profile.reset(token)
        return profile.db_count

    same = await update(field_file={"target_id": second})
    changed = await update(field_file={"target_id": first})
    assert changed == same + 2  # the dropped file's usage, the new one's


async def test_publishing_a_stage_deletion_releases_the_files(client: httpx.AsyncClient) -> None:
    kernel = kernel_of(client)
    headers = await login(client, "root")
    record = (await upload(client, headers, "a.txt", b"a")).json()
    item = (await client.post("/api/v1/items", headers=headers, json={
        "type": "doc", "title": "Live", "fields": {"field_file": {"target_id": record["id"]}}})
    ).json()
    assert (await client.post("/api/v1/stages", headers=headers,
                              json={"id": "cleanup", "label": "Cleanup"})).status_code == 201
    staged = {**headers, "X-Trovato-Stage": "cleanup"}
    assert (await client.delete(f"/api/v1/items/{item['id']}", headers=staged)).status_code == 204
    status = "SELECT status FROM file_managed WHERE id = %s"
    assert await kernel.db.fetchval(status, (record["id"],)) == 1  # live still uses it
    published = await client.post("/api/v1/stages/cleanup/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert await kernel.db.fetchval(status, (record["id"],)) == 0


async def test_a_file_deleted_during_the_save_is_a_clear_refusal(
        client: httpx.AsyncClient) -> None:
    """Cron may delete an old temporary file after a save's reference check passed: the
    usage statement's foreign key catches it, and the save is refused (422), not a 500."""
    kernel = kernel_of(client)
    admin = CurrentUser(id=uuid.UUID(await person(client, "boss", admin=True)), name="boss",
                        is_admin=True)
    with pytest.raises(FileError) as caught:
        async with kernel.db.transaction() as conn:
            await kernel.files.track(conn, admin, uuid.uuid4(), [],
                                     [("fields.field_file", uuid.uuid4())], replace=True)
    assert caught.value.status == 422
    assert "deleted meanwhile" in caught.value.message
