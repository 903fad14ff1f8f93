"""The image styles admin (/admin/config/media/image-styles): the shipped styles listed, a
style added with its effects typed one per line, refusals shown next to their inputs with what
was typed, an edit that changes what the derivatives are, a confirmed deletion; for
``administer site configuration`` only."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import admin_headers, login_as
from tests.conftest import create_account
from tests.plugins.conftest import kernel_of
from tests.web._item_forms import hidden_inputs, post_form
from trovato.files.styles import ImageStyle
from trovato.web.admin.image_styles import effect_line, parse_lines

BASE = "/admin/config/media/image-styles"


def test_effects_are_typed_one_per_line() -> None:
    effects = parse_lines("scale 220x\n\n scale x50 upscale\ncrop 10x20\n"
                          "scale_and_crop 100x100\nconvert WEBP\n")
    assert effects == [{"name": "scale", "width": 220}, {"name": "scale", "height": 50,
                                                         "upscale": True},
                       {"name": "crop", "width": 10, "height": 20},
                       {"name": "scale_and_crop", "width": 100, "height": 100},
                       {"name": "convert", "format": "webp"}]
    assert [effect_line(e) for e in effects] == [
        "scale 220x", "scale x50 upscale", "crop 10x20", "scale_and_crop 100x100",
        "convert webp"]
    for bad in ("scale", "crop 10 by 20", "scale 10x10 sideways"):
        with pytest.raises(Exception, match="Line 1: write each effect"):
            parse_lines(bad)


async def test_adding_editing_and_deleting_a_style(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    token = headers["X-CSRF-Token"]
    listing = await client.get(BASE)
    assert listing.status_code == 200
    for shown in ("Thumbnail (100x100)", "scale_and_crop 100x100", "scale 220x220",
                  "Add a style"):
        assert shown in listing.text
    # The label first, then the machine name, as in the other admin forms.
    assert listing.text.index('name="label"') < listing.text.index('name="name"')
    bad = await client.post(BASE, data={"csrf_token": token, "name": "Wide Banner",
                                        "label": "Wide <b>", "effects": "scale 0x10\n"})
    assert bad.status_code == 422
    assert "Machine name must start with a lower-case letter" in bad.text
    assert "Line 1: width must be a whole number of pixels" in bad.text
    assert "Wide &lt;b&gt;" in bad.text  # what was typed, escaped
    unparsable = await client.post(BASE, data={"csrf_token": token, "name": "banner",
                                               "label": "Banner", "effects": "rotate 90"})
    assert unparsable.status_code == 422 and "Line 1: write each effect" in unparsable.text
    added = await client.post(BASE, data={"csrf_token": token, "name": "banner",
                                          "label": "Banner", "effects": "scale_and_crop 600x200"
                                          "\nconvert jpeg"})
    assert added.status_code == 303 and added.headers["location"] == BASE
    styles = kernel_of(client).files.styles
    assert await styles.get("banner") == ImageStyle("banner", "Banner", (
        {"name": "scale_and_crop", "width": 600, "height": 200},
        {"name": "convert", "format": "jpeg"}))
    again = await client.post(BASE, data={"csrf_token": token, "name": "banner",
                                          "label": "Twice", "effects": "crop 1x1"})
    assert again.status_code == 422 and "already a style of that name" in again.text
    form = await client.get(f"{BASE}/banner")
    assert form.status_code == 200 and "scale_and_crop 600x200\nconvert jpeg" in form.text
    saved = await client.post(f"{BASE}/banner", data={"csrf_token": token, "name": "other",
                                                      "label": "Banner", "effects": "crop 50x50"})
    assert saved.status_code == 303
    assert (await styles.get("banner")) == ImageStyle("banner", "Banner", (
        {"name": "crop", "width": 50, "height": 50},))
    assert await styles.get("other") is None  # the name in the address is the one saved
    confirm = await client.get(f"{BASE}/banner/delete")
    assert confirm.status_code == 200 and "Delete the image style Banner?" in confirm.text
    deleted = await client.post(f"{BASE}/banner/delete", data={"csrf_token": token,
                                                               "op": "confirm"})
    assert deleted.status_code == 303
    assert await styles.get("banner") is None
    assert (await client.get(f"{BASE}/banner")).status_code == 404


async def test_the_styles_admin_needs_its_permission(client: httpx.AsyncClient) -> None:
    await admin_headers(client)
    await create_account(client, "editor")
    headers = await login_as(client, "editor")
    assert (await client.get(BASE)).status_code == 403
    assert (await client.post(BASE, data={"csrf_token": headers["X-CSRF-Token"],
                                          "name": "x", "label": "X", "effects": "crop 1x1"})
            ).status_code == 403
    client.cookies.clear()
    assert (await client.get(BASE)).status_code in (401, 403)


async def test_an_image_fields_display_chooses_a_style(client: httpx.AsyncClient) -> None:
    await admin_headers(client)
    kernel = kernel_of(client)
    await kernel.content.types.create({"type": "photo", "label": "Photo", "fields": [
        {"name": "field_image", "type": "image", "label": "Image",
         "settings": {"alt_required": False}, "display": {"image_style": "medium"}}]})
    path = "/admin/structure/types/photo/fields/field_image"
    page = await client.get(path)
    assert 'name="display[image_style]"' in page.text
    assert '<option value="medium" selected' in page.text and ">Thumbnail (100x100)<" in \
        page.text
    base = {"label": "Image", "cardinality": "1", "op": "save"}
    unknown = await post_form(client, path, hidden_inputs(page.text),
                              {**base, "display[image_style]": "nope"})
    assert unknown.status_code == 400
    saved = await post_form(client, path, hidden_inputs(page.text),
                            {**base, "display[image_style]": "thumbnail"})
    assert saved.status_code == 303, saved.text
    shown = (await client.get("/api/v1/item-types/photo")).json()
    assert shown["fields"][0]["display"] == {"image_style": "thumbnail"}
    page = await client.get(path)
    again = await post_form(client, path, hidden_inputs(page.text),
                            {**base, "display[image_style]": ""})
    assert again.status_code == 303
    assert (await client.get("/api/v1/item-types/photo")).json()["fields"][0].get(
        "display", {}) == {}
