"""Date field types: a calendar date, and a moment in time stored in UTC."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from trovato.content.fields.base import (
    FieldEnv,
    FieldType,
    FieldValueError,
    object_schema,
    string_value,
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
# ISO 8601 / RFC 3339 date-time with a mandatory zone (Z or ±HH:MM).
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:?\d{2})\Z"
)


class DateField(FieldType):
    name = "date"
    label = "Date"
    description = "A calendar date (YYYY-MM-DD), without time or zone."
    widget = "date"
    formatter = "date_default"
    properties = ("value",)
    example = '{"value": "2024-05-01"}'
    filled = {"value": {"minLength": 1}}

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = string_value(value.get("value"))
        if text == "":
            return None
        try:
            if not _DATE.match(text):
                raise ValueError(text)
            parsed = date.fromisoformat(text)
        except ValueError:
            raise FieldValueError("must be a date as YYYY-MM-DD, e.g. 2024-05-01") from None
        return {"value": parsed.isoformat()}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema({"value": {"type": "string", "format": "date"}}, ["value"])


class DatetimeField(FieldType):
    name = "datetime"
    label = "Date and time"
    description = "A moment in time: ISO 8601 with a time zone, stored in UTC."
    widget = "datetime"
    formatter = "datetime_default"
    properties = ("value",)
    example = '{"value": "2024-05-01T12:00:00+02:00"}'
    filled = {"value": {"minLength": 1}}

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = string_value(value.get("value"))
        if text == "":
            return None
        message = (
            "must be an ISO 8601 date and time with a time zone,"
            " e.g. 2024-05-01T12:00:00+02:00"
        )
        if not _DATETIME.match(text):
            raise FieldValueError(message)
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
        except ValueError:
            raise FieldValueError(message) from None
        if parsed.tzinfo is None:  # pragma: no cover - the pattern requires a zone
            raise FieldValueError(message)
        utc = parsed.astimezone(UTC)
        # One canonical spelling (UTC, "Z") so equal moments compare and sort equal as text.
        spec = "microseconds" if utc.microsecond else "seconds"
        return {"value": utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema({"value": {"type": "string", "format": "date-time"}}, ["value"])
