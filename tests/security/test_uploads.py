"""Every attack upload of the corpus (and every XSS vector as a file name) is refused, or
stored inside the files directory under a safe name and served as what its bytes are, with
``nosniff``, a sandboxing policy and, unless an image, as an attachment — never as HTML."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.render.xss_corpus import VECTORS
from tests.security._accounts import login, person, site
from tests.security.upload_corpus import ATTACKS, HOSTILE_IMAGES, PNG


async def test_attack_uploads_are_refused_or_served_harmlessly(db_url: str,
                                                               tmp_path: Path) -> None:
    async with site(db_url, files_dir=tmp_path, write_rate_limit=10_000) as client:
        await person(client, "root", admin=True)
        headers = await login(client, "root")
        assert (await client.post("/api/v1/item-types", headers=headers, json={
            "type": "doc", "label": "Doc", "fields": [
                {"name": "field_file", "type": "file", "label": "File",
                 "settings": {"file_extensions": ["txt", "pdf", "png", "gif"]}}]})
                ).status_code == 201
        failures = []
        for attack in ATTACKS:
            response = await client.post(
                "/api/v1/files", headers=headers, data={"type": "doc", "field": "field_file"},
                files={"file": (attack.name, attack.data, "text/html")})
            if attack.refused:
                if response.status_code not in (400, 422):
                    failures.append(f"{attack.why}: {response.status_code} {response.text}")
                continue
            if response.status_code != 201:
                failures.append(f"{attack.why}: {response.status_code} {response.text}")
                continue
            failures += _served_problems(attack.why, await client.get(response.json()["url"]))
        for vector in VECTORS:
            response = await client.post(
                "/api/v1/files", headers=headers, data={"type": "doc", "field": "field_file"},
                files={"file": (vector + ".png", PNG, "image/png")})
            if response.status_code == 201:
                failures += _served_problems(vector, await client.get(response.json()["url"]))
            elif response.status_code not in (400, 422):
                failures.append(f"{vector!r}: {response.status_code}")
        assert not failures, "\n".join(failures)
        for path in tmp_path.rglob("*"):
            assert path.resolve().is_relative_to(tmp_path.resolve())
            assert "\x00" not in path.name and "\n" not in path.name and "/" not in path.name


def _served_problems(why: str, served: httpx.Response) -> list[str]:
    headers = served.headers
    found = []
    if served.status_code != 200:
        found.append(f"{why}: served {served.status_code}")
    kind = headers.get("content-type", "")
    if "html" in kind or "xml" in kind or "svg" in kind:
        found.append(f"{why}: served as {kind}")
    if headers.get("x-content-type-options") != "nosniff":
        found.append(f"{why}: no nosniff")
    if "sandbox" not in headers.get("content-security-policy", ""):
        found.append(f"{why}: no sandbox policy")
    disposition = headers.get("content-disposition", "")
    if not kind.startswith("image/") and not disposition.startswith("attachment;"):
        found.append(f"{why}: not an attachment ({disposition})")
    if "\r" in disposition or "\n" in disposition or disposition.count('"') != 2:
        found.append(f"{why}: a broken Content-Disposition {disposition!r}")
    if "set-cookie" in headers:
        found.append(f"{why}: a header was injected")
    return found


async def test_hostile_images_get_no_derivative_or_a_clean_one(db_url: str,
                                                                tmp_path: Path) -> None:
    async with site(db_url, files_dir=tmp_path, write_rate_limit=10_000,
                    image_max_pixels=10_000_000) as client:
        await person(client, "root", admin=True)
        headers = await login(client, "root")
        assert (await client.post("/api/v1/item-types", headers=headers, json={
            "type": "photo", "label": "Photo", "fields": [
                {"name": "field_image", "type": "image", "label": "Image",
                 "settings": {"alt_required": False}}]})).status_code == 201
        failures = []
        for image in HOSTILE_IMAGES:
            uploaded = await client.post(
                "/api/v1/files", headers=headers, data={"type": "photo",
                                                        "field": "field_image"},
                files={"file": (image.name, image.data, "image/png")})
            if uploaded.status_code != 201:
                failures.append(f"{image.why}: upload {uploaded.status_code}")
                continue
            styled = await client.get(f"/files/styles/thumbnail/{uploaded.json()['id']}")
            if styled.status_code != image.status:
                failures.append(f"{image.why}: {styled.status_code} {styled.text[:200]}")
            elif image.status == 200 and (
                    styled.headers["content-type"] != "image/png" or b"<script" in styled.content
                    or _served_problems(image.why, styled)):
                failures.append(f"{image.why}: served {styled.headers}")
        assert not failures, "\n".join(failures)
        made = [p for p in tmp_path.rglob("*") if p.is_file() and "styles" in p.parts]
        assert len(made) == 1  # the clean one alone
