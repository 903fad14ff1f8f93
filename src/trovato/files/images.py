"""Image derivatives: an image style's effects applied to an original with Pillow.

The original's bytes are untrusted. Only the decoders of the types uploads accept (PNG, JPEG,
GIF, WebP) are tried, so a file of another kind is refused rather than parsed by a rarely used
decoder; the dimensions are read from the header and an image of more than
``TROVATO_IMAGE_MAX_PIXELS`` pixels is refused before its pixels are decoded (a decompression
bomb: a small file of enormous dimensions); a truncated or corrupt image is refused, never
partly shown. Each refusal is an :class:`ImageError` (422).

Effects (their settings are checked by :mod:`trovato.files.styles`):

* ``scale`` ``{width, height, upscale}``: fit inside the box, keeping the aspect ratio (either
  side may be left out); larger only with ``upscale``.
* ``crop`` ``{width, height}``: the centred part of that size (or less, if smaller).
* ``scale_and_crop`` ``{width, height}``: cover the box, keeping the aspect ratio, then crop to
  it from the centre (a thumbnail of exactly that size).
* ``convert`` ``{format}``: save as ``png``, ``jpeg``, ``webp`` or ``gif``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any, Final

from PIL import Image, ImageOps, UnidentifiedImageError

from trovato.errors import ServiceError

DECODERS: Final = ("PNG", "JPEG", "GIF", "WEBP")
# Output format name → (Pillow's name, MIME type).
FORMATS: Final = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"),
                  "webp": ("WEBP", "image/webp"), "gif": ("GIF", "image/gif")}
_BY_MIME: Final = {mime: name for name, (_pil, mime) in FORMATS.items()}
QUALITY: Final = 85


class ImageError(ServiceError):
    """The original cannot be made into a derivative: not an image, too large, corrupt."""

    def __init__(self, message: str) -> None:
        super().__init__(422, message, field="file")


def output_format(effects: Sequence[Mapping[str, Any]], source_mime: str) -> str:
    """The format (a key of :data:`FORMATS`) a derivative is saved in: the last ``convert``,
    else the original's."""
    for effect in reversed(effects):
        if effect["name"] == "convert":
            return str(effect["format"])
    return _BY_MIME.get(source_mime, "png")


def derive(data: bytes, effects: Sequence[Mapping[str, Any]], *, source_mime: str,
           max_pixels: int) -> bytes:
    """The derivative of the image ``data`` (:class:`ImageError` when it is refused)."""
    image = _decode(data, max_pixels)
    for effect in effects:
        image = _apply(image, effect)
    pil_format = FORMATS[output_format(effects, source_mime)][0]
    if pil_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, pil_format, quality=QUALITY) if pil_format in ("JPEG", "WEBP") \
        else image.save(out, pil_format)
    return out.getvalue()


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    image: Image.Image
    try:
        image = Image.open(io.BytesIO(data), formats=DECODERS)
        width, height = image.size
        if width * height > max_pixels:
            raise ImageError(f"The image is too large to process ({width}x{height} pixels;"
                             f" at most {max_pixels} pixels).")
        image.seek(0)  # an animation's first frame
        image.load()
        image = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError:
        raise ImageError("The image is too large to process.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageError("The file is not a readable image (PNG, JPEG, GIF or WebP).") from None
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA")
    return image


def _apply(image: Image.Image, effect: Mapping[str, Any]) -> Image.Image:
    name = effect["name"]
    # Checked by the style: both set, except that a scale may leave one out (0 here).
    width, height = int(effect.get("width") or 0), int(effect.get("height") or 0)
    if name == "scale":
        box_w = width or image.width * height // image.height
        box_h = height or image.height * width // image.width
        ratio = min(box_w / image.width, box_h / image.height)
        if ratio >= 1 and not effect.get("upscale"):
            return image
        size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
        return image.resize(size, Image.Resampling.LANCZOS)
    if name == "crop":
        w, h = min(width, image.width), min(height, image.height)
        left, top = (image.width - w) // 2, (image.height - h) // 2
        return image.crop((left, top, left + w, top + h))
    if name == "scale_and_crop":
        return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
    return image  # convert: applied when saving
