"""Filter values as Gather binds them: one value of a field's kind, read from JSON or from a
query parameter's text (relative dates such as ``-7 days`` included), and an operator's value
(none, one, or a list).

Errors are :class:`ValueError` with a message naming what was expected; the caller names the
part (``filters.1.value``) or the query parameter.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

from trovato.gather.definition import LIST_OPS, MAX_LIST_VALUES, MAX_TEXT, NO_VALUE, TEXT_OPS, Kind
from trovato.gather.fields import FieldSpec

_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 (what JSON Schema's ``date-time`` is): seconds required, any fraction, a zone.
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                       r"([Zz]|[+-]\d{2}:\d{2})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")
RELATIVE_PATTERN: Final = (r"^(?:now|today|[+-]?\d{1,6} ?(?:minute|hour|day|week|month|year)s?"
                           r"(?: ago)?)$")
_RELATIVE = re.compile(
    r"^(?:now|today)$|^([+-]?\d{1,6}) ?(minute|hour|day|week|month|year)s?(?: ago)?$")
_UNIT_DAYS: Final = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30,
                     "year": 365}


@dataclass(frozen=True, slots=True)
class Relative:
    """A date relative to the moment a listing runs (``now``, ``-7 days``): resolved to the
    minute, so a listing's cached results serve a minute."""

    days: float
    text: str

    def resolve(self, now: datetime, kind: Kind) -> date | datetime:
        moment = now.replace(second=0, microsecond=0) + timedelta(days=self.days)
        return moment.date() if kind == "date" else moment


def _relative(text: str) -> Relative | None:
    match = _RELATIVE.match(text)
    if match is None:
        return None
    if match.group(1) is None:
        return Relative(0, text)
    amount = int(match.group(1))
    if text.endswith(" ago"):
        amount = -abs(amount)
    return Relative(amount * _UNIT_DAYS[match.group(2)], text)


def convert(spec: FieldSpec, raw: Any, *, from_text: bool = False) -> Any:
    """One value of ``spec``'s kind, from JSON (or from a query parameter's text when
    ``from_text``); :class:`ValueError` with a message naming what was expected."""
    kind = spec.kind
    if raw is None:
        raise ValueError("a value is required")
    if kind == "text":
        if not isinstance(raw, str) or "\x00" in raw or len(raw) > MAX_TEXT:
            raise ValueError(f"must be a text of at most {MAX_TEXT} characters")
        if spec.options and raw not in spec.options:
            raise ValueError(f"must be one of: {', '.join(spec.options[:20])}")
        return raw
    if kind == "int":
        if from_text and isinstance(raw, str) and re.fullmatch(r"-?\d{1,19}", raw.strip()):
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int) or not -(2**63) <= raw < 2**63:
            raise ValueError("must be an integer")
        return raw
    if kind in ("decimal", "float"):
        if isinstance(raw, bool) or not isinstance(raw, int | float | str) or \
                (isinstance(raw, str) and not _DECIMAL.match(raw)):
            raise ValueError("must be a number")
        number = Decimal(str(raw))
        return number if kind == "decimal" else float(number)
    if kind == "bool":
        if from_text and isinstance(raw, str) and raw.lower() in ("1", "0", "true", "false"):
            return raw.lower() in ("1", "true")
        if not isinstance(raw, bool):
            raise ValueError("must be true or false")
        return raw
    if kind in ("date", "datetime"):
        expected = ("must be a date (YYYY-MM-DD)" if kind == "date" else
                    "must be a date and time (RFC 3339)") + \
            ", 'now', 'today' or a relative date like '-7 days'"
        if not isinstance(raw, str):
            raise ValueError(expected)
        relative = _relative(raw)
        if relative is not None:
            return relative
        try:
            if kind == "date":
                if not _DATE.match(raw):
                    raise ValueError(raw)
                return date.fromisoformat(raw)
            return _moment(raw)
        except ValueError:
            raise ValueError(expected) from None
    # uuid, tag
    if isinstance(raw, str) and _UUID.match(raw):
        return uuid.UUID(raw)
    raise ValueError("must be a UUID")


def _moment(text: str) -> datetime:
    """An RFC 3339 date-time (a leap second counts as the second before it)."""
    match = _DATETIME.match(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(match.group(n)) for n in range(1, 7))
    fraction = int((match.group(7) or ".0")[1:7].ljust(6, "0"))
    zone = match.group(8).upper()
    offset = timedelta(0) if zone == "Z" else (1 if zone[0] == "+" else -1) * timedelta(
        hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return datetime(year, month, day, hour, minute, min(second, 59), fraction,
                    tzinfo=timezone(offset))


def convert_value(spec: FieldSpec, op: str, raw: Any, *, from_text: bool = False) -> Any:
    """The value of a filter ``spec`` ``op`` as the compiler binds it: None for operators
    without one, a tuple for ``in``/``not_in``/``between``, else one value."""
    if op in NO_VALUE:
        if raw is not None:
            raise ValueError(f"the operator {op!r} takes no value")
        return None
    if op in LIST_OPS or op == "between":
        if from_text and isinstance(raw, str):
            raw = [part for part in raw.split(",") if part.strip()]
        if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST_VALUES:
            raise ValueError(f"must be a list of 1 to {MAX_LIST_VALUES} values")
        if op == "between" and len(raw) != 2:
            raise ValueError("must be a list of two values: [low, high]")
        return tuple(convert(spec, one, from_text=from_text) for one in raw)
    if op in TEXT_OPS:
        if not isinstance(raw, str) or "\x00" in raw or not raw or len(raw) > MAX_TEXT:
            raise ValueError(f"must be a non-empty text of at most {MAX_TEXT} characters")
        return raw
    return convert(spec, raw, from_text=from_text)
