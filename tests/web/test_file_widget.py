"""The file and image widgets of the item forms, without a browser: a multipart form, the
upload kept when the form is shown again after an error, the Remove button, a refused upload
next to its field, and the file link and image on the item page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.security._accounts import kernel_of, login, person, site
from tests.web._item_forms import hidden_inputs, item_id_of, open_form

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"%" * 64
MAX = 4096
FILE = "fields[field_file]"


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with site(db_url, files_dir=tmp_path, file_max_bytes=MAX,
                    write_rate_limit=1000) as c:
        await person(c, "root", admin=True)
        headers = await login(c, "root")
        created = await c.post("/api/v1/item-types", headers=headers, json={
            "type": "doc", "label": "Doc", "fields": [
                {"name": "field_file", "type": "file", "label": "Attachment",
                 "settings": {"file_extensions": ["pdf", "txt"], "description_field": True}},
                {"name": "field_image", "type": "image", "label": "Picture"}]})
        assert created.status_code == 201, created.text
        yield c


async def _status(client: httpx.AsyncClient) -> list[int]:
    rows = await kernel_of(client).db.fetch("SELECT status FROM file_managed ORDER BY created")
    return [row["status"] for row in rows]


async def test_an_upload_survives_a_failed_validation_and_is_saved(
        client: httpx.AsyncClient) -> None:
    page = await client.get("/item/add/doc")
    assert 'enctype="multipart/form-data"' in page.text
    assert re.search(r'<input type="file"[^>]* name="fields\[field_file\]\[upload\]"', page.text)
    assert "Allowed types: pdf, txt. At most 4 KB." in page.text
    hidden = hidden_inputs(page.text)
    # No title: refused, but the file is kept (stored as a temporary upload).
    failed = await client.post("/item/add/doc", data={**hidden, "title": "", "op": "save"},
                               files={f"{FILE}[upload]": ("report.pdf", PDF, "text/plain")})
    assert failed.status_code == 400, failed.text
    assert await _status(client) == [0]
    kept = hidden_inputs(failed.text)
    file_id = kept[f"{FILE}[target_id]"]
    assert file_id
    assert f'<a href="/files/{file_id}">report.pdf</a>' in failed.text
    assert f'value="remove_file:{FILE}"' in failed.text
    saved = await client.post("/item/add/doc", data={
        **kept, "title": "With a report", f"{FILE}[description]": "The <report>",
        "op": "save"})
    item_id = item_id_of(saved)
    assert await _status(client) == [1]
    shown = await client.get(f"/item/{item_id}")
    assert f'<a href="/files/{file_id}">The &lt;report&gt;</a>' in shown.text
    download = await client.get(f"/files/{file_id}")
    assert download.content == PDF and download.headers["content-type"] == "application/pdf"

    # Remove: the form again without the file, nothing saved; then Save drops it.
    hidden = await open_form(client, f"/item/{item_id}/edit")
    assert hidden[f"{FILE}[target_id]"] == file_id
    removed = await client.post(f"/item/{item_id}/edit", data={
        **hidden, "title": "With a report", "op": f"remove_file:{FILE}"})
    assert removed.status_code == 200, removed.text
    assert hidden_inputs(removed.text)[f"{FILE}[target_id]"] == ""
    assert 'name="fields[field_file][upload]"' in removed.text
    assert await _status(client) == [1]
    item_id_of(await client.post(f"/item/{item_id}/edit", data={
        **hidden_inputs(removed.text), "title": "No report", "op": "save"}))
    assert await _status(client) == [0]


async def test_an_upload_survives_a_preview_and_then_a_refused_save(
        client: httpx.AsyncClient) -> None:
    hidden = await open_form(client, "/item/add/doc")
    previewed = await client.post("/item/add/doc", data={**hidden, "title": "T", "op": "preview"},
                                  files={f"{FILE}[upload]": ("report.pdf", PDF, "text/plain")})
    assert previewed.status_code == 200, previewed.text
    file_id = hidden_inputs(previewed.text)[f"{FILE}[target_id]"]
    assert file_id
    # No title: refused, and the form shown again still holds the file.
    failed = await client.post("/item/add/doc", data={
        **hidden_inputs(previewed.text), "title": "", "op": "save"})
    assert failed.status_code == 400, failed.text
    assert hidden_inputs(failed.text)[f"{FILE}[target_id]"] == file_id
    assert f'<a href="/files/{file_id}">report.pdf</a>' in failed.text
    assert 'name="fields[field_file][upload]"' not in failed.text


async def test_an_image_without_alternative_text_is_refused_in_a_sentence(
        client: httpx.AsyncClient) -> None:
    hidden = await open_form(client, "/item/add/doc")
    refused = await client.post("/item/add/doc", data={**hidden, "title": "T", "op": "save"},
                                files={"fields[field_image][upload]": ("a.png", PNG,
                                                                       "image/png")})
    assert refused.status_code == 400, refused.text
    assert "Picture needs alternative text (alt)." in refused.text


async def test_a_refused_upload_is_an_error_next_to_its_field(
        client: httpx.AsyncClient, tmp_path: Path) -> None:
    hidden = await open_form(client, "/item/add/doc")
    too_big = await client.post("/item/add/doc", data={**hidden, "title": "T", "op": "save"},
                                files={f"{FILE}[upload]": ("big.pdf", PDF + b"x" * MAX,
                                                           "application/pdf")})
    assert too_big.status_code == 400
    assert "larger than the upload limit of 4 KB" in too_big.text
    # The add form's build id is used once: the form shown again carries a new one.
    hidden = hidden_inputs(too_big.text)
    wrong = await client.post("/item/add/doc", data={**hidden, "title": "T", "op": "save"},
                              files={f"{FILE}[upload]": ("fake.pdf", b"<html><script>",
                                                         "application/pdf")})
    assert wrong.status_code == 400
    assert "HTML, SVG or XML markup" in wrong.text
    assert await _status(client) == []
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    assert await kernel_of(client).db.fetchval("SELECT count(*) FROM item") == 0


async def test_an_image_is_shown_on_the_item_page(client: httpx.AsyncClient) -> None:
    hidden = await open_form(client, "/item/add/doc")
    saved = await client.post("/item/add/doc", data={
        **hidden, "title": "Pictured", "fields[field_image][alt]": "A <cat>", "op": "save"},
        files={"fields[field_image][upload]": ("cat.png", PNG, "image/png")})
    item_id = item_id_of(saved)
    page = await client.get(f"/item/{item_id}")
    match = re.search(r'<img src="/files/([0-9a-f-]+)" alt="A &lt;cat&gt;"', page.text)
    assert match, page.text
    image = await client.get(f"/files/{match.group(1)}")
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("inline;")


async def test_a_form_with_a_large_upload_passes_the_csrf_check(db_url: str,
                                                                 tmp_path: Path) -> None:
    """The pipeline spools a form body beyond 1 MiB to disk to find its CSRF token and
    replays it: the upload arrives whole."""
    big = PDF + b"%" * (3 * 1024 * 1024)
    async with site(db_url, files_dir=tmp_path, file_max_bytes=4 * 1024 * 1024) as client:
        await person(client, "root", admin=True)
        headers = await login(client, "root")
        assert (await client.post("/api/v1/item-types", headers=headers, json={
            "type": "doc", "label": "Doc", "fields": [
                {"name": "field_file", "type": "file", "label": "Attachment"}]})
                ).status_code == 201
        hidden = await open_form(client, "/item/add/doc")
        saved = await client.post("/item/add/doc", data={**hidden, "title": "Big", "op": "save"},
                                  files={f"{FILE}[upload]": ("big.pdf", big, "application/pdf")})
        item_id_of(saved)
        (path,) = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert path.read_bytes() == big
