"""Address field types: an e-mail address, and a link (URL with an optional title)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from trovato.content.fields.base import (
    FieldEnv,
    FieldSettings,
    FieldType,
    FieldValueError,
    object_schema,
    string_value,
)

# Deliberately simple (RFC 5322 is not a validation grammar): one @, a dotted domain, no spaces.
_EMAIL = re.compile(r"^[^@\s\"<>(),;:\\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\Z")


class EmailField(FieldType):
    name = "email"
    label = "Email"
    description = "An email address."
    widget = "email"
    formatter = "email_mailto"
    properties = ("value",)
    example = '{"value": "someone@example.com"}'
    filled = {"value": {"pattern": r"\S"}}  # blank once trimmed is empty

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        text = string_value(value.get("value")).strip()
        if text == "":
            return None
        if len(text) > 254 or not _EMAIL.match(text):
            raise FieldValueError("must be a valid email address, e.g. someone@example.com")
        local, _, domain = text.rpartition("@")
        # Domains are case-insensitive; the local part is not (in theory), so keep it.
        return {"value": f"{local}@{domain.lower()}"}

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return object_schema(
            {"value": {"type": "string", "format": "email", "maxLength": 254}}, ["value"]
        )


class LinkSettings(FieldSettings):
    title: Literal["none", "optional", "required"] = "optional"


_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# Whitespace (``\s`` is exactly ``str.isspace``) and the C0 controls and DEL: one character
# class, searched in linear time.
_URI_REFUSED = re.compile(r"[\s\x00-\x1f\x7f]")


class LinkField(FieldType):
    name = "link"
    label = "Link"
    description = "A URL (http, https, mailto or a relative path) with an optional title."
    widget = "link_default"
    formatter = "link"
    properties = ("uri", "title")
    settings_model = LinkSettings
    example = '{"uri": "https://example.com", "title": "Example"}'
    filled = {"uri": {"pattern": r"\S"}}  # blank once trimmed is empty

    def clean_object(
        self, value: Mapping[str, Any], settings: Mapping[str, Any], env: FieldEnv
    ) -> dict[str, Any] | None:
        uri = string_value(value.get("uri"), "uri").strip()
        title = string_value(value.get("title", ""), "title")
        if uri == "":
            if title:
                raise FieldValueError("uri is required when a title is given")
            return None
        if len(uri) > 2048:
            raise FieldValueError("uri must be at most 2048 characters")
        if _URI_REFUSED.search(uri):
            raise FieldValueError("uri must not contain spaces or control characters")
        try:
            parts = urlsplit(uri)
        except ValueError:
            raise FieldValueError("uri is not a valid URL") from None
        scheme = parts.scheme.lower()
        if scheme:
            if scheme not in _LINK_SCHEMES:
                raise FieldValueError(
                    "uri must be an http, https or mailto URL or a relative path"
                )
            if scheme in ("http", "https") and not parts.hostname:
                raise FieldValueError("uri must name a host, e.g. https://example.com/")
            if scheme == "mailto" and "@" not in parts.path:
                raise FieldValueError("uri must be mailto: followed by an email address")
        elif uri.startswith("//"):
            # Protocol-relative: the scheme comes from the page, which is http(s).
            if not parts.hostname:
                raise FieldValueError("uri must name a host")
        elif ":" in uri.split("/", 1)[0]:
            # "javascript:…" with odd spelling that urlsplit did not take as a scheme.
            raise FieldValueError("uri must be an http, https or mailto URL or a relative path")
        mode = settings.get("title", "optional")
        if mode == "none" and title:
            raise FieldValueError("title is not allowed for this link field")
        if mode == "required" and not title.strip():
            raise FieldValueError("title is required")
        if len(title) > 255:
            raise FieldValueError("title must be at most 255 characters")
        out = {"uri": uri}
        if title:
            out["title"] = title
        return out

    def value_schema(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        required = ["uri", "title"] if settings.get("title") == "required" else ["uri"]
        props: dict[str, Any] = {"uri": {"type": "string", "format": "uri-reference",
                                         "maxLength": 2048}}
        if settings.get("title") != "none":
            props["title"] = {"type": "string", "maxLength": 255}
        return object_schema(props, required)
