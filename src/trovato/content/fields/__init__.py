"""The field types of content (CCK): one self-contained class per type, grouped by family.

``base`` holds what every type shares (the :class:`FieldType` base, settings, errors, field
definitions, references); ``text``, ``numeric``, ``dates``, ``choices``, ``links``,
``references`` and ``files`` hold the types by family; ``registry`` lists the core types and looks
them up by name; ``validation`` applies a bundle's field definitions to the fields of an item.
The names the content service, the API and the tests use are re-exported here.
"""

from trovato.content.fields.base import (
    BIGINT_MAX,
    BIGINT_MIN,
    FIELD_NAME,
    FIELD_NAME_MAX,
    KNOWN_FORMATS,
    MAX_CARDINALITY,
    TEXT_MAX,
    UNLIMITED_MAX_VALUES,
    FieldDefinition,
    FieldEnv,
    FieldSettings,
    FieldSettingsError,
    FieldType,
    FieldValueError,
    Reference,
)
from trovato.content.fields.registry import CORE_FIELD_TYPES, FieldRegistry, UnknownFieldTypeError
from trovato.content.fields.validation import FieldsResult, validate_fields

__all__ = [
    "BIGINT_MAX",
    "BIGINT_MIN",
    "CORE_FIELD_TYPES",
    "FIELD_NAME",
    "FIELD_NAME_MAX",
    "KNOWN_FORMATS",
    "MAX_CARDINALITY",
    "TEXT_MAX",
    "UNLIMITED_MAX_VALUES",
    "FieldDefinition",
    "FieldEnv",
    "FieldRegistry",
    "FieldSettings",
    "FieldSettingsError",
    "FieldType",
    "FieldValueError",
    "FieldsResult",
    "Reference",
    "UnknownFieldTypeError",
    "validate_fields",
]
