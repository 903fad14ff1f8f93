"""Field formatters: how one stored field value is shown, keyed by ``FieldType.formatter``.

A formatter turns one cleaned value object (as :mod:`trovato.content.fields` stores it) into a
string (escaped on output) or a render element. It is a pure function of the value and the
:class:`Display` (the field's definition, the viewer's time zone, and the labels of the
records the page refers to, which the item view service loaded in one batch): no database, no
request, so the item view service, listings and feeds all show a value the same way.

:class:`Formatters` is built once per kernel with the core formatters; a new field type brings
its formatter with :meth:`Formatters.register` under the name its ``formatter`` attribute gives.
:meth:`Formatters.shown_fields` resolves, once per item type and reader's time zone, what the
full view needs of each field instance (its formatter, its :class:`Display`, its label
placement), so showing an item resolves nothing per field.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trovato.content.fields import FieldDefinition, FieldRegistry
from trovato.content.types import ItemType, display_order
from trovato.files.service import file_url, styled_url
from trovato.records import Label
from trovato.render import elements as el
from trovato.render.dates import local_time

Shown = str | el.RenderElement

# Item types x time zones whose shown fields are kept; past it they are all resolved again.
SHOWN_TYPES_MAX = 1024


@dataclass(frozen=True, slots=True)
class Display:
    """What a formatter may depend on besides the value."""

    field: FieldDefinition
    timezone: str = "UTC"
    labels: Mapping[uuid.UUID, Label] = dataclasses.field(default_factory=dict)


Formatter = Callable[[Mapping[str, Any], Display], Shown]


@dataclass(frozen=True, slots=True)
class ShownField:
    """A field instance as an item's full view shows it to readers in one time zone."""

    definition: FieldDefinition
    formatter: Formatter
    display: Display
    label_display: str  # above, inline or hidden
    weight: int  # its place in the type's display order


class UnknownFormatterError(LookupError):
    """No formatter is registered under a field type's ``formatter`` name."""


def _text(value: Mapping[str, Any], display: Display) -> Shown:
    return str(value["value"]) if "value" in value else ""


def _formatted_text(value: Mapping[str, Any], display: Display) -> Shown:
    fmt = value.get("format")
    return el.markup(str(value.get("value", "")),
                     format=fmt if isinstance(fmt, str) and fmt else None)


def _boolean(value: Mapping[str, Any], display: Display) -> Shown:
    return "Yes" if value.get("value") else "No"


def _datetime(value: Mapping[str, Any], display: Display) -> Shown:
    raw = str(value.get("value", ""))
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw  # not as the field type stores it: show it as stored
    if moment.tzinfo is None:
        return raw
    return local_time(moment, display.timezone)


def _email(value: Mapping[str, Any], display: Display) -> Shown:
    address = str(value.get("value", ""))
    return el.link(address, f"mailto:{address}")


def _link(value: Mapping[str, Any], display: Display) -> Shown:
    uri = str(value.get("uri", ""))
    return el.link(str(value.get("title") or uri), uri)


def _list_label(value: Mapping[str, Any], display: Display) -> Shown:
    key = str(value.get("value", ""))
    allowed = display.field.settings.get("allowed_values")
    label = allowed.get(key) if isinstance(allowed, Mapping) else None
    return str(label) if isinstance(label, str) else key


# Where a referenced record without a label is shown; kinds without a page show their id.
_REFERENCE_PATHS = {"item": "/item/{}", "user": "/user/{}"}


def reference_target(value: Mapping[str, Any], definition: FieldDefinition
                     ) -> tuple[str, uuid.UUID | None]:
    """A reference value's record kind (as stored, else the field's target type) and id
    (None if it is not one)."""
    kind = value.get("target_type") or definition.settings.get("target_type") or "item"
    try:
        return str(kind), uuid.UUID(str(value.get("target_id", "")))
    except ValueError:
        return str(kind), None


def _reference(value: Mapping[str, Any], display: Display) -> Shown:
    kind, key = reference_target(value, display.field)
    label = display.labels.get(key) if key is not None else None
    if label is not None:
        return el.link(label.text, label.path)
    target = str(value.get("target_id", ""))
    path = _REFERENCE_PATHS.get(kind)
    return el.link(target, path.format(target)) if path else target


def _file(value: Mapping[str, Any], display: Display) -> Shown:
    """A link to the file (served with its access check), read as its description."""
    target = str(value.get("target_id", ""))
    return el.link(str(value.get("description") or "Download the file"), file_url(target))


def _image(value: Mapping[str, Any], display: Display) -> Shown:
    """The image, in the image style the field's display names (its derivative, served
    under the original's access check), else the original."""
    title = value.get("title")
    target = str(value.get("target_id", ""))
    style = display.field.display.get("image_style")
    return el.image(styled_url(style, target) if style else file_url(target),
                    str(value.get("alt") or ""), title=str(title) if title else None)


CORE_FORMATTERS: Mapping[str, Formatter] = {
    "text_plain": _text,
    "text_default": _formatted_text,
    "number_integer": _text,
    "number_decimal": _text,
    "number_float": _text,
    "boolean": _boolean,
    "date_default": _text,  # a calendar date has no zone: shown as stored (YYYY-MM-DD)
    "datetime_default": _datetime,
    "email_mailto": _email,
    "link": _link,
    "list_default": _list_label,
    "reference_label": _reference,
    "file_default": _file,
    "image": _image,
}


class Formatters:
    """Formatters by name; one per kernel, extended with :meth:`register`."""

    def __init__(self, fields: FieldRegistry,
                 formatters: Mapping[str, Formatter] = CORE_FORMATTERS) -> None:
        self.fields = fields
        self._formatters: dict[str, Formatter] = dict(formatters)
        self._by_field_type: dict[str, Formatter] = {}
        # (id of the item type object, time zone) -> (that object, its shown fields); the
        # object is kept so a reused id is told apart (the cached types are the same objects
        # until a type changes).
        self._shown: dict[tuple[int, str], tuple[ItemType, tuple[ShownField, ...]]] = {}

    def register(self, name: str, formatter: Formatter) -> None:
        self._formatters[name] = formatter
        self._by_field_type.clear()
        self._shown.clear()

    def __contains__(self, name: object) -> bool:
        return name in self._formatters

    def get(self, name: str) -> Formatter:
        try:
            return self._formatters[name]
        except KeyError:
            raise UnknownFormatterError(name) from None

    def for_field(self, definition: FieldDefinition) -> Formatter:
        """The formatter of ``definition``'s field type (remembered per field type name: the
        field registry is filled when the kernel is built, before any item is shown)."""
        found = self._by_field_type.get(definition.type)
        if found is None:
            found = self.get(self.fields.get(definition.type).formatter)
            self._by_field_type[definition.type] = found
        return found

    def shown_fields(self, item_type: ItemType, timezone: str) -> tuple[ShownField, ...]:
        """``item_type``'s fields that its full view shows (not ``hidden``), in display order,
        each resolved for readers in ``timezone``."""
        key = (id(item_type), timezone)
        found = self._shown.get(key)
        if found is None or found[0] is not item_type:
            if len(self._shown) >= SHOWN_TYPES_MAX:
                self._shown.clear()
            found = self._shown[key] = (item_type, tuple(
                ShownField(definition, self.for_field(definition), Display(definition, timezone),
                           definition.display.get("label") or (
                               "hidden" if definition.type == "text_long" else "above"),
                           weight)
                for weight, definition in enumerate(display_order(item_type))
                if not definition.display.get("hidden")))
        return found[1]
