"""Number field types: 64-bit integers, exact decimals and binary floats, with optional ranges."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from trovato.content.fields.base import (
    BIGINT_MAX,
    BIGINT_MIN,
    FieldEnv,
    FieldSettings,
    FieldType,
    FieldValueError,
    object_schema,
)


class IntegerSettings(FieldSettings):
    min: int | None = Field(default=None, ge=BIGINT_MIN, le=BIGINT_MAX)
    max: int | None = Field(default=None, ge=BIGINT_MIN, le=BIGINT_MAX)

    @model_validator(mode="after")
    def _ordered(self) -> IntegerSettings:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self


def _check_range(number: float | int | Decimal, settings: Mapping[str, Any]) -> None:
    low, high = settings.get("min"), settings.get("max")
    if low is not None and number < low:
        raise FieldValueError(f"must be at least {low}")
    if high is not None and number > high:
        raise FieldValueError(f"must be at most {high}")


def _range_schema(schema: dict[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    if settings.get("min") is not None:
        schema["minimum"] = settings["min"]
    if settings.get("max") is not None:
        schema["maximum"] = settings["max"]
    return schema


class IntegerField(FieldType):
    name = "integer"
    label = "Integer"
    description = "A whole number (64-bit)."
    widget = "number"
    formatter = "number_integer"
    properties = ("value",)
    settings_model = IntegerSettings
    example = '{"value": 42}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        number = value.get("value")
        # bool is an int subclass in Python, but true is not a number to a user.
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool):
            raise FieldValueError("must be an integer")
        if not BIGINT_MIN <= number <= BIGINT_MAX:
            raise FieldValueError("must fit in a 64-bit integer")
        _check_range(number, settings)
        return {"value": number}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema({"value": _range_schema({"type": "integer"}, settings)}, ["value"])


# A decimal number as text, as the settings take it and the document shows it (values also
# take a JSON number).
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?\Z")
MAX_PRECISION = 38
DEFAULT_PRECISION = 10
DEFAULT_SCALE = 2


def _scale_within_precision(schema: dict[str, Any]) -> None:
    # JSON Schema cannot compare two values, so it says it per scale: a scale of at least q
    # needs a precision of at least q (a setting left out has its default).
    schema["allOf"] = [
        {"if": {"properties": {"scale": {"minimum": q}},
                "required": ["scale"] if q > DEFAULT_SCALE else []},
         "then": {"properties": {"precision": {"minimum": q}},
                  "required": ["precision"] if q > DEFAULT_PRECISION else []}}
        for q in range(2, MAX_PRECISION + 1)
    ]


class DecimalSettings(FieldSettings):
    model_config = ConfigDict(json_schema_extra=_scale_within_precision)

    precision: int = Field(default=DEFAULT_PRECISION, ge=1, le=MAX_PRECISION)
    scale: int = Field(default=DEFAULT_SCALE, ge=0, le=MAX_PRECISION)
    min: str | None = Field(default=None, json_schema_extra={"pattern": DECIMAL_PATTERN})
    max: str | None = Field(default=None, json_schema_extra={"pattern": DECIMAL_PATTERN})

    @field_validator("min", "max")
    @classmethod
    def _decimal(cls, value: str | None) -> str | None:
        if value is not None and not _DECIMAL_TEXT.match(value):
            raise ValueError('must be a decimal number as a string, e.g. "12.50"')
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DecimalSettings:
        if self.scale > self.precision:
            raise ValueError("scale must not be greater than precision")
        if self.min is not None and self.max is not None and Decimal(self.min) > Decimal(
            self.max
        ):
            raise ValueError("min must not be greater than max")
        return self


class DecimalField(FieldType):
    name = "decimal"
    label = "Decimal"
    description = (
        "An exact decimal number with a fixed precision and scale, stored as a string so no"
        " digit is lost to binary floating point."
    )
    widget = "number"
    formatter = "number_decimal"
    properties = ("value",)
    settings_model = DecimalSettings
    example = '{"value": "12.50"}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        raw = value.get("value")
        # A JSON number is accepted for convenience; its shortest repr is what the client wrote.
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise FieldValueError('must be a decimal number as a string, e.g. "12.50"')
        text = raw.strip() if isinstance(raw, str) else repr(raw)
        if text == "":
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise FieldValueError('must be a decimal number, e.g. "12.50"') from None
        if not number.is_finite():
            raise FieldValueError("must be a finite number")
        precision, scale = int(settings["precision"]), int(settings["scale"])
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)  # finite numbers have an int exponent
        if -exponent > scale and number != number.quantize(Decimal(1).scaleb(-scale)):
            raise FieldValueError(f"must have at most {scale} decimal places")
        quantized = number.quantize(Decimal(1).scaleb(-scale))
        integer_digits = len(str(abs(int(quantized)))) if abs(quantized) >= 1 else 0
        if integer_digits > precision - scale:
            raise FieldValueError(
                f"must have at most {precision - scale} digits before the decimal point"
            )
        _check_range(
            quantized,
            {
                k: Decimal(v) if v is not None else None
                for k, v in (("min", settings.get("min")), ("max", settings.get("max")))
            },
        )
        return {"value": f"{quantized:f}"}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema(
            {
                "value": {
                    "type": "string",
                    "pattern": DECIMAL_PATTERN,
                    "description": (
                        f"Exact decimal, precision {settings.get('precision', 10)},"
                        f" scale {settings.get('scale', 2)}"
                    ),
                }
            },
            ["value"],
        )


class FloatSettings(FieldSettings):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> FloatSettings:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self


class FloatField(FieldType):
    name = "float"
    label = "Float"
    description = "A binary floating-point number (use decimal for money)."
    widget = "number"
    formatter = "number_float"
    properties = ("value",)
    settings_model = FloatSettings
    example = '{"value": 3.14}'

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        number = value.get("value")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise FieldValueError("must be a number")
        number = float(number)
        if not math.isfinite(number):
            raise FieldValueError("must be a finite number")
        _check_range(number, settings)
        return {"value": number}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema({"value": _range_schema({"type": "number"}, settings)}, ["value"])
