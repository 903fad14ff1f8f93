"""Image styles: named recipes of effects (:mod:`trovato.files.images`) whose derivatives are
served at ``/files/styles/{style}/{id}``.

The styles are site configuration, kept as one JSON object in the ``variable`` table
(``image_styles``: name → ``{label, effects}``) and exported and imported as YAML like the
other configuration (``trovato files styles export/import``, ``/admin/config/media/image-styles``).
A site that never changed them has :data:`DEFAULT_STYLES`. Every style given to
:meth:`ImageStyles.save` is checked here (:func:`parse_style`), with a message per bad setting.

A derivative is stored next to its original, under ``styles/<style>/<digest of its effects>/``
of the same scheme (:func:`derivative_uri`), so a private original's derivatives stay private
and one made with a style's old effects is never taken for one of its new effects. Saving or
deleting a style flushes its folder, so the next request makes each derivative again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from psycopg.types.json import Jsonb

from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.files.images import FORMATS, output_format
from trovato.files.storage import SCHEMES, Storage, split_uri

VARIABLE: Final = "image_styles"
NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
SIZE_MAX: Final = 10_000
EFFECTS: Final = ("scale", "crop", "scale_and_crop", "convert")
STYLES_MAX: Final = 100
EFFECTS_MAX: Final = 10


@dataclass(frozen=True, slots=True)
class ImageStyle:
    """A named list of effects, each a checked mapping with its ``name``."""

    name: str
    label: str
    effects: tuple[Mapping[str, Any], ...]

    def public(self) -> dict[str, Any]:
        return {"label": self.label, "effects": [dict(effect) for effect in self.effects]}

    @property
    def digest(self) -> str:
        """A short digest of the effects: a folder of the derivatives, so a derivative made
        with the old effects while the style was being changed is never served with the
        new ones."""
        text = json.dumps(list(self.effects), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def mime(self, source_mime: str) -> str:
        """The type of this style's derivative of an original of type ``source_mime``."""
        return FORMATS[output_format(self.effects, source_mime)][1]


DEFAULT_STYLES: Final = {
    "thumbnail": ImageStyle("thumbnail", "Thumbnail (100x100)", (
        {"name": "scale_and_crop", "width": 100, "height": 100},)),
    "medium": ImageStyle("medium", "Medium (220x220)", (
        {"name": "scale", "width": 220, "height": 220, "upscale": False},)),
    "large": ImageStyle("large", "Large (480x480)", (
        {"name": "scale", "width": 480, "height": 480, "upscale": False},)),
}


class StyleError(ServiceError):
    """A refused style (422, with a message per setting) or a missing one (404)."""


def _size(raw: Mapping[str, Any], key: str, where: str, errors: dict[str, str], *,
          required: bool) -> int | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            errors[f"{where}.{key}"] = "is required"
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= SIZE_MAX:
        errors[f"{where}.{key}"] = f"must be a whole number of pixels from 1 to {SIZE_MAX}"
        return None
    return value


def _effect(raw: Any, where: str, errors: dict[str, str]) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        errors[where] = "must be an object"
        return None
    name = raw.get("name")
    if name not in EFFECTS:
        errors[f"{where}.name"] = f"must be one of {', '.join(EFFECTS)}"
        return None
    allowed = {"name", "format"} if name == "convert" else \
        {"name", "width", "height", "upscale"} if name == "scale" else {"name", "width", "height"}
    for key in sorted(set(raw) - allowed):
        errors[f"{where}.{key}"] = "unknown setting"
    if name == "convert":
        if raw.get("format") not in FORMATS:
            errors[f"{where}.format"] = f"must be one of {', '.join(FORMATS)}"
            return None
        return {"name": name, "format": raw["format"]}
    scale = name == "scale"
    width = _size(raw, "width", where, errors, required=not scale)
    height = _size(raw, "height", where, errors, required=not scale)
    if scale and width is None and height is None and f"{where}.width" not in errors \
            and f"{where}.height" not in errors:
        errors[f"{where}.width"] = "a scale needs a width, a height or both"
    effect: dict[str, Any] = {"name": name, "width": width, "height": height}
    if scale:
        upscale = raw.get("upscale", False)
        if not isinstance(upscale, bool):
            errors[f"{where}.upscale"] = "must be true or false"
        effect["upscale"] = upscale is True
    return effect


def parse_style(name: Any, raw: Any) -> ImageStyle:
    """A checked :class:`ImageStyle`; :class:`StyleError` (422) naming each bad setting."""
    errors: dict[str, str] = {}
    if not isinstance(name, str) or not NAME.match(name):
        errors["name"] = ("must start with a lower-case letter and hold only lower-case"
                          " letters, digits and underscores (at most 32)")
    if not isinstance(raw, Mapping):
        raise StyleError(422, "An image style must be an object with a label and effects.",
                         errors={**errors, "style": "must be an object"})
    for key in sorted(set(raw) - {"label", "effects"}):
        errors[key] = "unknown setting"
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > 200:
        errors["label"] = "must be text of 1 to 200 characters"
    effects_raw = raw.get("effects")
    effects: list[dict[str, Any]] = []
    if not isinstance(effects_raw, Sequence) or isinstance(effects_raw, str) \
            or not 1 <= len(effects_raw) <= EFFECTS_MAX:
        errors["effects"] = f"must be a list of 1 to {EFFECTS_MAX} effects"
    else:
        for index, item in enumerate(effects_raw):
            effect = _effect(item, f"effects.{index}", errors)
            if effect is not None:
                effects.append(effect)
    if errors:
        raise StyleError(422, "The image style is not valid.", errors=errors)
    return ImageStyle(str(name), str(label).strip(), tuple(effects))


def parse_styles(raw: Any) -> dict[str, ImageStyle]:
    """Every style of ``raw`` (name → style), as :meth:`ImageStyles.replace` takes them:
    :class:`StyleError` 422 when it is not a mapping of at most :data:`STYLES_MAX`, or naming
    each part of the first style that is not valid."""
    if not isinstance(raw, Mapping) or len(raw) > STYLES_MAX:
        raise StyleError(422, f"Image styles must be a mapping of at most {STYLES_MAX}"
                              " names to styles.", field="styles")
    parsed = {}
    for name, style in raw.items():
        try:
            parsed[name] = parse_style(name, style)
        except StyleError as exc:
            raise StyleError(422, f"The image style {name!r} is not valid.", errors={
                f"{name}.{key}": message for key, message in exc.errors.items()}) from None
    return parsed


def derivative_uri(uri: str, style: ImageStyle, source_mime: str) -> str:
    """Where ``style``'s derivative of the file at ``uri`` is stored (same scheme), with the
    derivative's extension when the style converts the format."""
    scheme, path = split_uri(uri)
    extension = output_format(style.effects, source_mime)
    suffix = "" if path.lower().endswith(("." + extension, ".jpg") if extension == "jpeg"
                                         else ("." + extension,)) else f".{extension}"
    return f"{scheme}://{style_folder(style.name)}{style.digest}/{path}{suffix}"


def style_folder(name: str) -> str:
    return f"styles/{name}/"


class ImageStyles:
    """The site's image styles (read per request: one statement) and their flushing."""

    def __init__(self, db: Database, storage: Storage) -> None:
        self.db = db
        self.storage = storage

    async def all(self) -> dict[str, ImageStyle]:
        stored = await self.db.fetchval("SELECT value FROM variable WHERE name = %s",
                                        (VARIABLE,))
        if stored is None:
            return dict(DEFAULT_STYLES)
        # Written only through parse_style; read back without checking again.
        return {name: ImageStyle(name, raw["label"], tuple(raw["effects"]))
                for name, raw in sorted(stored.items())}

    async def get(self, name: str) -> ImageStyle | None:
        return (await self.all()).get(name)

    async def require(self, name: str) -> ImageStyle:
        style = await self.get(name)
        if style is None:
            raise StyleError(404, "There is no such image style.")
        return style

    async def save(self, style: ImageStyle) -> None:
        """Add or replace ``style`` and flush its derivatives."""
        async with self.db.transaction() as conn:
            styles = await self._locked(conn)
            if style.name not in styles and len(styles) >= STYLES_MAX:
                raise StyleError(422, f"A site has at most {STYLES_MAX} image styles.",
                                 field="name")
            styles[style.name] = style
            await self._write(conn, styles)
        await self.flush(style.name)

    async def delete(self, name: str) -> None:
        """Remove the style and its derivatives (404 when there is none)."""
        async with self.db.transaction() as conn:
            styles = await self._locked(conn)
            if styles.pop(name, None) is None:
                raise StyleError(404, "There is no such image style.")
            await self._write(conn, styles)
        await self.flush(name)

    async def replace(self, raw: Any) -> list[str]:
        """Import: the styles become exactly ``raw`` (name → style; all checked first);
        every changed or removed style is flushed. The names, sorted."""
        parsed = parse_styles(raw)
        async with self.db.transaction() as conn:
            before = await self._locked(conn)
            await self._write(conn, parsed)
        changed = [name for name in sorted(set(before) | set(parsed))
                   if before.get(name) != parsed.get(name)]

        async def flush_changed() -> None:
            for name in changed:
                await self.flush(name)

        # Inside an enclosing transaction (a configuration import) the derivatives go once it
        # commits: deleted before, a request in between would make them again from the old
        # style, and they would stay; deleted at all if it rolls back, for nothing.
        if not self.db.after_commit(flush_changed):
            await flush_changed()
        return sorted(parsed)

    async def export(self) -> dict[str, Any]:
        return {name: style.public() for name, style in (await self.all()).items()}

    async def flush(self, name: str) -> None:
        """Delete every derivative of the style (public and private)."""
        for scheme in SCHEMES:
            await asyncio.to_thread(self.storage.delete_prefix, scheme, style_folder(name))

    async def _locked(self, conn: Any) -> dict[str, ImageStyle]:
        # The row is created first, so concurrent edits queue on its lock.
        await conn.execute(
            "INSERT INTO variable (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
            (VARIABLE, Jsonb({n: s.public() for n, s in DEFAULT_STYLES.items()})))
        cur = await conn.execute("SELECT value FROM variable WHERE name = %s FOR UPDATE",
                                 (VARIABLE,))
        row = await cur.fetchone()
        return {name: ImageStyle(name, raw["label"], tuple(raw["effects"]))
                for name, raw in row["value"].items()}

    @staticmethod
    async def _write(conn: Any, styles: Mapping[str, ImageStyle]) -> None:
        await conn.execute("UPDATE variable SET value = %s WHERE name = %s",
                           (Jsonb({n: s.public() for n, s in styles.items()}), VARIABLE))
