"""The declarations and wrappers a plugin author works with.

Declarations (:class:`Permission`, :class:`Menu`, :class:`ItemType`, :class:`Field`) are what
taps such as ``perm``, ``menu`` and ``item_info`` return. Wrappers (:class:`Item`,
:class:`User`, :class:`Request`) give typed access to the JSON the kernel sends; the author
never parses JSON.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Access",
    "Field",
    "FieldValue",
    "Item",
    "ItemType",
    "Menu",
    "Permission",
    "Request",
    "User",
]


class Access(enum.StrEnum):
    """An access vote: any DENY wins, else any GRANT, else the role permissions decide."""

    GRANT = "grant"
    DENY = "deny"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Permission:
    """A permission the plugin defines; administrators assign it to roles."""

    name: str
    title: str = ""
    description: str = ""
    restricted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title or self.name[:1].upper() + self.name[1:],
            "description": self.description,
            "restricted": self.restricted,
        }


@dataclass(frozen=True)
class Menu:
    """A route: ``path`` (may hold ``{wildcards}``) served by the plugin function ``callback``."""

    path: str
    title: str
    callback: str | Callable[..., Any] | None = None
    permission: str | None = "access content"
    description: str = ""
    weight: int = 0
    method: str = "GET"

    def to_json(self) -> dict[str, Any]:
        callback = self.callback
        if callable(callback):
            callback = callback.__name__
        return {
            "path": self.path.strip("/"),
            "title": self.title,
            "callback": callback,
            "permission": self.permission,
            "description": self.description,
            "weight": self.weight,
            "method": self.method.upper(),
        }


@dataclass(frozen=True)
class Field:
    """A field on an item type. Use the constructors: ``Field.text(...)``, ``Field.reference``."""

    name: str
    label: str
    type: str
    required: bool = False
    cardinality: int = 1
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def _make(cls, type_: str, name: str, label: str, required: bool, cardinality: int,
              **settings: Any) -> Field:
        if cardinality != -1 and cardinality < 1:
            raise ValueError("cardinality is -1 (unlimited) or at least 1")
        return cls(name, label, type_, required, cardinality,
                   {k: v for k, v in settings.items() if v is not None})

    @classmethod
    def text(cls, name: str, label: str, *, required: bool = False, cardinality: int = 1,
             max_length: int | None = 255) -> Field:
        return cls._make("text", name, label, required, cardinality, max_length=max_length)

    @classmethod
    def text_long(cls, name: str, label: str, *, required: bool = False,
                  cardinality: int = 1) -> Field:
        return cls._make("text_long", name, label, required, cardinality)

    @classmethod
    def integer(cls, name: str, label: str, *, required: bool = False, cardinality: int = 1,
                min: int | None = None, max: int | None = None) -> Field:
        return cls._make("integer", name, label, required, cardinality, min=min, max=max)

    @classmethod
    def float(cls, name: str, label: str, *, required: bool = False,
              cardinality: int = 1) -> Field:
        return cls._make("float", name, label, required, cardinality)

    @classmethod
    def boolean(cls, name: str, label: str, *, required: bool = False) -> Field:
        return cls._make("boolean", name, label, required, 1)

    @classmethod
    def date(cls, name: str, label: str, *, required: bool = False,
             cardinality: int = 1) -> Field:
        return cls._make("date", name, label, required, cardinality)

    @classmethod
    def email(cls, name: str, label: str, *, required: bool = False,
              cardinality: int = 1) -> Field:
        return cls._make("email", name, label, required, cardinality)

    @classmethod
    def link(cls, name: str, label: str, *, required: bool = False,
             cardinality: int = 1) -> Field:
        return cls._make("link", name, label, required, cardinality)

    @classmethod
    def list(cls, name: str, label: str, allowed: dict[str, str] | list[str], *,
             required: bool = False, cardinality: int = 1) -> Field:
        values = dict(allowed) if isinstance(allowed, dict) else {v: v for v in allowed}
        return cls._make("list", name, label, required, cardinality, allowed_values=values)

    @classmethod
    def reference(cls, name: str, label: str, *, target: str, required: bool = False,
                  cardinality: int = 1, bundles: list[str] | None = None) -> Field:
        # The kernel's field settings are target_type (item, user, category_tag) and
        # target_bundles (allowed item types or vocabularies).
        return cls._make("reference", name, label, required, cardinality, target_type=target,
                         target_bundles=bundles)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "cardinality": self.cardinality,
            "settings": dict(self.settings),
        }


@dataclass(frozen=True)
class ItemType:
    """A content type the plugin provides, with its fields."""

    type: str
    label: str
    description: str = ""
    fields: list[Field] = field(default_factory=list)
    has_title: bool = True
    title_label: str = "Title"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "label": self.label,
            "description": self.description,
            "has_title": self.has_title,
            "title_label": self.title_label,
            "fields": [f.to_json() for f in self.fields],
        }


class _JsonView:
    """A live view of a JSON object: item access and changes write through to it."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def to_json(self) -> dict[str, Any]:
        return self._data


class FieldValue(_JsonView):
    """One value of a field: a live view of its JSON object (``{"value": …, "format": …}``)."""

    __slots__ = ()

    @property
    def value(self) -> Any:
        return self._data.get("value")

    @value.setter
    def value(self, new: Any) -> None:
        self._data["value"] = new

    @property
    def format(self) -> str | None:
        return self._data.get("format")

    @property
    def target_id(self) -> str | None:
        return self._data.get("target_id")

    def __repr__(self) -> str:
        return f"FieldValue({self._data!r})"


def _field_json(value: Any) -> Any:
    """Normalise what an author assigns to a field into the stored shape."""
    if isinstance(value, FieldValue):
        return value.to_json()
    if isinstance(value, dict):
        return value
    if isinstance(value, (list, tuple)):
        return [_field_json(v) for v in value]
    return {"value": value}


class Fields(MutableMapping[str, Any]):
    """``item.fields``: single-value fields give a :class:`FieldValue`, multi-value a list."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, name: str) -> Any:
        raw = self._data[name]
        if isinstance(raw, list):
            return [FieldValue(v) if isinstance(v, dict) else v for v in raw]
        return FieldValue(raw) if isinstance(raw, dict) else raw

    def __setitem__(self, name: str, value: Any) -> None:
        self._data[name] = _field_json(value)

    def __delitem__(self, name: str) -> None:
        del self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Item(_JsonView):
    """An item (node). Attribute changes write through to the JSON the kernel receives back."""

    __slots__ = ()

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        data.setdefault("fields", {})

    def _get(self, key: str) -> Any:
        return self._data.get(key)

    id = property(lambda self: self._get("id"))
    type = property(lambda self: self._get("type"))
    author_id = property(lambda self: self._get("author_id"))
    created = property(lambda self: self._get("created"))
    changed = property(lambda self: self._get("changed"))
    revision_id = property(lambda self: self._get("revision_id"))
    # The stage the item was read from or written in ("live", or a stage's id).
    stage_id = property(lambda self: self._get("stage"))

    @property
    def title(self) -> str:
        return str(self._data.get("title") or "")

    @title.setter
    def title(self, value: str) -> None:
        self._data["title"] = value

    @property
    def status(self) -> int:
        return int(self._data.get("status") or 0)

    @status.setter
    def status(self, value: int) -> None:
        self._data["status"] = int(value)

    @property
    def published(self) -> bool:
        return self.status == 1

    @property
    def fields(self) -> Fields:
        return Fields(self._data["fields"])

    def __repr__(self) -> str:
        return f"Item(id={self.id!r}, type={self.type!r}, title={self.title!r})"


class User:
    """The current user. ``can`` asks the kernel (and remembers the answer for this call)."""

    __slots__ = ("_asked", "_can", "_data")

    def __init__(self, data: dict[str, Any], can: Callable[[str], bool]) -> None:
        self._data = data
        self._can = can
        self._asked: dict[str, bool] = {}

    id = property(lambda self: self._data.get("id"))
    name = property(lambda self: self._data.get("name", ""))
    roles = property(lambda self: list(self._data.get("roles", [])))

    @property
    def authenticated(self) -> bool:
        return bool(self._data.get("authenticated"))

    def can(self, permission: str) -> bool:
        if permission not in self._asked:
            self._asked[permission] = bool(self._can(permission))
        return self._asked[permission]

    def to_json(self) -> dict[str, Any]:
        return self._data

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r})"


class Request:
    """What a menu callback receives: method, path, wildcard ``args`` and ``query`` parameters."""

    __slots__ = ("args", "method", "path", "query")

    def __init__(self, data: dict[str, Any]) -> None:
        self.method: str = str(data.get("method", "GET"))
        self.path: str = str(data.get("path", ""))
        self.args: dict[str, str] = dict(data.get("args") or {})
        self.query: dict[str, Any] = dict(data.get("query") or {})

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "args": self.args,
                "query": self.query}

    def __repr__(self) -> str:
        return f"Request({self.method} /{self.path})"
