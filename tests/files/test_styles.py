"""Image styles: their checks, and their derivatives on a site — made on first request under
the original's access check, stored once, flushed when the style changes, deleted with the
file, refused for what is not an image."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.files._images import format_of, image_bytes, size_of
from tests.security._accounts import kernel_of, login, person, site
from trovato.files import service as files_service
from trovato.files.styles import DEFAULT_STYLES, ImageStyle, StyleError, parse_style

PHOTOS: dict[str, Any] = {
    "type": "photo", "label": "Photo",
    "fields": [
        {"name": "field_image", "type": "image", "label": "Image",
         "settings": {"alt_required": False}},
        {"name": "field_private", "type": "image", "label": "Private image",
         "settings": {"alt_required": False, "uri_scheme": "private"}},
        {"name": "field_file", "type": "file", "label": "File",
         "settings": {"file_extensions": ["txt", "png"]}},
    ],
}


def test_a_style_is_checked_setting_by_setting() -> None:
    style = parse_style("square", {"label": " Square ", "effects": [
        {"name": "scale_and_crop", "width": 50, "height": 50},
        {"name": "convert", "format": "webp"}]})
    assert style == ImageStyle("square", "Square", (
        {"name": "scale_and_crop", "width": 50, "height": 50},
        {"name": "convert", "format": "webp"}))
    assert style.mime("image/png") == "image/webp"
    assert parse_style("s", {"label": "S", "effects": [{"name": "scale", "height": 9}]}
                       ).effects == ({"name": "scale", "width": None, "height": 9,
                                      "upscale": False},)
    with pytest.raises(StyleError) as refused:
        parse_style("Bad-Name", {"label": "", "extra": 1, "effects": [
            {"name": "blur"}, {"name": "crop", "width": 0}, {"name": "scale"},
            {"name": "convert", "format": "bmp"}, {"name": "scale", "width": 5,
                                                   "upscale": "yes", "angle": 3}]})
    assert refused.value.errors == {
        "name": "must start with a lower-case letter and hold only lower-case letters,"
                " digits and underscores (at most 32)",
        "label": "must be text of 1 to 200 characters",
        "extra": "unknown setting",
        "effects.0.name": "must be one of scale, crop, scale_and_crop, convert",
        "effects.1.width": "must be a whole number of pixels from 1 to 10000",
        "effects.1.height": "is required",
        "effects.2.width": "a scale needs a width, a height or both",
        "effects.3.format": "must be one of png, jpeg, webp, gif",
        "effects.4.angle": "unknown setting",
        "effects.4.upscale": "must be true or false",
    }
    with pytest.raises(StyleError) as empty:
        parse_style("empty", {"label": "Empty", "effects": []})
    assert "effects" in empty.value.errors


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with site(db_url, files_dir=tmp_path, write_rate_limit=1000,
                    image_max_pixels=1_000_000) as c:
        await person(c, "root", admin=True)
        headers = await login(c, "root")
        assert (await c.post("/api/v1/item-types", json=PHOTOS, headers=headers)
                ).status_code == 201
        await person(c, "editor", "upload files", "access content", "create photo content",
                     "edit own photo content")
        await person(c, "reader", "access content")
        yield c


async def upload(client: httpx.AsyncClient, headers: dict[str, str], data: bytes,
                 field: str = "field_image", name: str = "cat.png") -> dict[str, Any]:
    response = await client.post("/api/v1/files", headers=headers,
                                 data={"type": "photo", "field": field},
                                 files={"file": (name, data, "image/png")})
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def derivatives(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "styles" in p.parts)


async def test_derivatives_are_made_once_and_served_as_images(
        client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = files_service.derive

    def counting(*args: Any, **kwargs: Any) -> bytes:
        made.append("x")
        return real(*args, **kwargs)

    monkeypatch.setattr(files_service, "derive", counting)
    headers = await login(client, "editor")
    record = await upload(client, headers, image_bytes(400, 200))
    for style, size in (("thumbnail", (100, 100)), ("medium", (220, 110)),
                        ("large", (400, 200))):
        served = await client.get(f"/files/styles/{style}/{record['id']}")
        assert served.status_code == 200, served.text
        assert size_of(served.content) == size and format_of(served.content) == "PNG"
        assert served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]
    assert len(made) == 3
    again = await client.get(f"/files/styles/thumbnail/{record['id']}")
    assert again.status_code == 200 and size_of(again.content) == (100, 100)
    assert len(made) == 3  # served from the storage, not made again
    assert [p.relative_to(tmp_path).parts[:3] for p in derivatives(tmp_path)] == [
        ("public", "styles", "large"), ("public", "styles", "medium"),
        ("public", "styles", "thumbnail")]
    assert (await client.get(f"/files/styles/nope/{record['id']}")).status_code == 404
    head = await client.head(f"/files/styles/thumbnail/{record['id']}")
    assert head.status_code == 200 and head.content == b""


async def test_a_private_originals_derivative_stays_private(client: httpx.AsyncClient,
                                                            tmp_path: Path) -> None:
    headers = await login(client, "editor")
    record = await upload(client, headers, image_bytes(300, 300), "field_private")
    item = await client.post("/api/v1/items", headers=headers, json={
        "type": "photo", "title": "Draft", "status": 0,
        "fields": {"field_private": {"target_id": record["id"]}}})
    assert item.status_code == 201, item.text
    url = f"/files/styles/thumbnail/{record['id']}"
    assert (await client.get(url)).status_code == 200  # the author sees their own draft
    assert [p.relative_to(tmp_path).parts[0] for p in derivatives(tmp_path)] == ["private"]
    await login(client, "reader")
    assert (await client.get(url)).status_code == 403
    client.cookies.clear()
    assert (await client.get(url)).status_code == 403
    root = await login(client, "root")
    assert (await client.patch(f"/api/v1/items/{item.json()['id']}", headers=root,
                               json={"status": 1})).status_code == 200
    await login(client, "reader")
    served = await client.get(url)
    assert served.status_code == 200 and "private" in served.headers["cache-control"]


async def test_changing_a_style_flushes_its_derivatives(client: httpx.AsyncClient,
                                                        tmp_path: Path) -> None:
    styles = kernel_of(client).files.styles
    headers = await login(client, "editor")
    record = await upload(client, headers, image_bytes(400, 200))
    url = f"/files/styles/thumbnail/{record['id']}"
    assert size_of((await client.get(url)).content) == (100, 100)
    assert size_of((await client.get(f"/files/styles/medium/{record['id']}")).content) \
        == (220, 110)
    (old,) = [p for p in derivatives(tmp_path) if "thumbnail" in p.parts]
    old_bytes = old.read_bytes()
    await styles.save(parse_style("thumbnail", {"label": "Small", "effects": [
        {"name": "scale_and_crop", "width": 40, "height": 30},
        {"name": "convert", "format": "webp"}]}))
    # Only the changed style's derivatives are gone.
    assert [p.relative_to(tmp_path).parts[2] for p in derivatives(tmp_path)] == ["medium"]
    # One made with the old effects by a request that was under way is not served.
    old.parent.mkdir(parents=True)
    old.write_bytes(old_bytes)
    served = await client.get(url)
    assert size_of(served.content) == (40, 30) and format_of(served.content) == "WEBP"
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["content-disposition"].startswith('inline; filename="cat.png.webp"')
    assert (await styles.get("thumbnail")) == ImageStyle("thumbnail", "Small", (
        {"name": "scale_and_crop", "width": 40, "height": 30},
        {"name": "convert", "format": "webp"}))
    await styles.delete("medium")
    assert (await client.get(f"/files/styles/medium/{record['id']}")).status_code == 404
    assert [p.relative_to(tmp_path).parts[2] for p in derivatives(tmp_path)] == [
        "thumbnail", "thumbnail"]  # the stale one and the new one, in their own folders
    await styles.flush("thumbnail")
    assert (await client.get(url)).status_code == 200
    with pytest.raises(StyleError):
        await styles.delete("medium")
    # Import replaces them all; a style that is the same keeps its derivatives.
    exported = await styles.export()
    assert set(exported) == {"large", "thumbnail"}
    assert await styles.replace({**exported, "tiny": {"label": "Tiny", "effects": [
        {"name": "crop", "width": 5, "height": 5}]}}) == ["large", "thumbnail", "tiny"]
    assert len(derivatives(tmp_path)) == 1
    with pytest.raises(StyleError) as refused:
        await styles.replace({"ok": {"label": "Ok", "effects": [{"name": "crop"}]}})
    assert "ok.effects.0.width" in refused.value.errors
    assert set(await styles.export()) == {"large", "thumbnail", "tiny"}  # unchanged


async def test_an_import_flushes_derivatives_once_it_commits(client: httpx.AsyncClient,
                                                             tmp_path: Path) -> None:
    # Inside a configuration import's transaction: flushed before it commits, a request in
    # between would make them again from the old style; flushed when it rolls back, for
    # nothing.
    kernel = kernel_of(client)
    styles, db = kernel.files.styles, kernel.db
    headers = await login(client, "editor")
    record = await upload(client, headers, image_bytes(400, 200))
    assert (await client.get(f"/files/styles/thumbnail/{record['id']}")).status_code == 200
    changed = {**await styles.export(), "thumbnail": {"label": "Small", "effects": [
        {"name": "crop", "width": 5, "height": 5}]}}

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback):
        async with db.transaction() as conn, db.joined(conn):
            await styles.replace(changed)
            assert len(derivatives(tmp_path)) == 1  # not before the commit
            raise Rollback
    assert len(derivatives(tmp_path)) == 1  # rolled back: the style and its images stay
    async with db.transaction() as conn, db.joined(conn):
        await styles.replace(changed)
        assert len(derivatives(tmp_path)) == 1
    assert derivatives(tmp_path) == []  # committed: gone


async def test_derivatives_are_deleted_with_the_file(client: httpx.AsyncClient,
                                                     tmp_path: Path) -> None:
    headers = await login(client, "editor")
    record = await upload(client, headers, image_bytes(120, 120))
    for style in DEFAULT_STYLES:
        assert (await client.get(f"/files/styles/{style}/{record['id']}")).status_code == 200
    assert len(derivatives(tmp_path)) == 3
    assert (await client.delete(f"/api/v1/files/{record['id']}",
                                headers=headers)).status_code == 204
    assert derivatives(tmp_path) == []
    other = await upload(client, headers, image_bytes(120, 120))
    assert (await client.get(f"/files/styles/thumbnail/{other['id']}")).status_code == 200
    kernel = kernel_of(client)
    await kernel.db.execute("UPDATE file_managed SET changed = now() - interval '1 year'")
    assert (await kernel.cron.run()).files_removed == 1
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


async def test_what_is_no_image_gets_no_derivative(client: httpx.AsyncClient,
                                                   tmp_path: Path) -> None:
    headers = await login(client, "editor")
    text = await upload(client, headers, b"just text", "field_file", "notes.txt")
    assert (await client.get(f"/files/styles/thumbnail/{text['id']}")).status_code == 415
    fake = await upload(client, headers, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    refused = await client.get(f"/files/styles/thumbnail/{fake['id']}")
    assert refused.status_code == 422 and "not a readable image" in refused.text
    big = await upload(client, headers, image_bytes(1001, 1000))  # over the site's 1e6 pixels
    refused = await client.get(f"/files/styles/thumbnail/{big['id']}")
    assert refused.status_code == 422 and "too large" in refused.text
    assert derivatives(tmp_path) == []


async def test_an_image_field_is_shown_in_its_display_style(client: httpx.AsyncClient) -> None:
    headers = await login(client, "root")
    refused = await client.post("/api/v1/item-types", headers=headers, json={
        "type": "gallery", "label": "Gallery", "fields": [
            {"name": "field_image", "type": "image", "label": "Image",
             "settings": {"alt_required": False}, "display": {"image_style": "Not A Name"}},
            {"name": "field_file", "type": "file", "label": "File",
             "display": {"image_style": "thumbnail"}}]})
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"fields.field_image.display.image_style",
                                             "fields.field_file.display.image_style"}
    # null is not a style's name either (the schema says a string): refused, not ignored.
    nulled = await client.post("/api/v1/item-types", headers=headers, json={
        "type": "gallery", "label": "Gallery", "fields": [
            {"name": "field_image", "type": "image", "label": "Image",
             "settings": {"alt_required": False}, "display": {"image_style": None}}]})
    assert nulled.status_code == 422
    assert set(nulled.json()["errors"]) == {"fields.field_image.display.image_style"}
    created = await client.post("/api/v1/item-types", headers=headers, json={
        "type": "gallery", "label": "Gallery", "fields": [
            {"name": "field_image", "type": "image", "label": "Image",
             "settings": {"alt_required": False}, "display": {"image_style": "medium"}}]})
    assert created.status_code == 201, created.text
    assert created.json()["fields"][0]["display"] == {"image_style": "medium"}
    record = (await client.post(
        "/api/v1/files", headers=headers, data={"type": "gallery", "field": "field_image"},
        files={"file": ("cat.png", image_bytes(400, 200), "image/png")})).json()
    item = await client.post("/api/v1/items", headers=headers, json={
        "type": "gallery", "title": "Cats", "status": 1,
        "fields": {"field_image": {"target_id": record["id"], "alt": "A cat"}}})
    assert item.status_code == 201, item.text
    page = await client.get(f"/item/{item.json()['id']}")
    assert f'src="/files/styles/medium/{record["id"]}"' in page.text
    await login(client, "reader")
    shown = await client.get(f"/files/styles/medium/{record['id']}")
    assert shown.status_code == 200 and size_of(shown.content) == (220, 110)
