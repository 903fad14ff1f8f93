"""The Python definition API: a listing written as calls instead of a JSON document.

```python
news = (Listing("news", "News").filter("type", "equals", "article")
        .sort("created", "desc").page(25).page_display("/news").build())
```

Each call adds one part of the document and returns the builder, so a definition reads in the
order of its document; :meth:`Listing.build` checks it exactly as a stored one is checked
(:func:`~trovato.gather.definition.parse`: a :class:`GatherError` 422 naming the bad part) and
returns the :class:`Definition`. Nothing here knows the site's fields: resolving them against
the item types stays the service's, when the definition is saved or run. Filter groups are
written with :func:`where`, :func:`all_of` and :func:`any_of`, which build the same filter
objects a document holds.
"""

from __future__ import annotations

from typing import Any, Literal

from trovato.gather.definition import Base, Definition, Style, parse

Filter = dict[str, Any]


def where(field: str, op: str, value: Any = None, *, exposed: str | None = None,
          label: str | None = None, options: list[str] | None = None,
          argument: str | None = None, default: str | None = None) -> Filter:
    """One condition (the object of a definition's ``filters``), unset parts left out."""
    given = {"value": value, "exposed": exposed, "label": label, "options": options,
             "argument": argument, "default": default}
    return {"field": field, "op": op, **{k: v for k, v in given.items() if v is not None}}


def all_of(*parts: Filter) -> Filter:
    """Conditions (or groups) that must all hold."""
    return {"group": "and", "filters": list(parts)}


def any_of(*parts: Filter) -> Filter:
    """Conditions (or groups) of which one must hold."""
    return {"group": "or", "filters": list(parts)}


def use(name: str) -> Filter:
    """A plugin's named filter (``<plugin>.<name>``, declared in ``gather_info``)."""
    return {"use": name}


class Listing:
    """A definition being built (module docstring)."""

    def __init__(self, name: str, label: str | None = None, *, base: Base = "item") -> None:
        self._document: dict[str, Any] = {"name": name, "label": label or name, "base": base}

    def _append(self, key: str, value: Any) -> Listing:
        self._document.setdefault(key, []).append(value)
        return self

    def relationship(self, name: str, field: str, *, required: bool = False) -> Listing:
        """Join what ``field`` (a reference field, or ``author``) names, as ``name``."""
        return self._append("relationships",
                            {"name": name, "field": field, "required": required})

    def fields(self, *names: str) -> Listing:
        """Columns of the list and table styles (``<relationship>.<field>`` for a join's)."""
        self._document.setdefault("fields", []).extend(names)
        return self

    def filter(self, field: str, op: str, value: Any = None, **options: Any) -> Listing:
        """One condition; ``options`` as :func:`where` takes them (``exposed``, …)."""
        return self._append("filters", where(field, op, value, **options))

    def where(self, part: Filter) -> Listing:
        """A condition or group built with :func:`where`, :func:`all_of`, :func:`any_of` or
        :func:`use`."""
        return self._append("filters", part)

    def sort(self, field: str, direction: Literal["asc", "desc"] = "asc") -> Listing:
        return self._append("sorts", {"field": field, "direction": direction})

    def sort_by(self, name: str) -> Listing:
        """A plugin's named sort (``<plugin>.<name>``)."""
        return self._append("sorts", {"use": name})

    def page(self, per_page: int,
             pager: Literal["full", "mini", "none"] = "full") -> Listing:
        self._document["pager"] = {"type": pager, "per_page": per_page}
        return self

    def _display(self, kind: str, settings: dict[str, Any]) -> Listing:
        displays = self._document.setdefault("displays", {})
        displays[kind] = {k: v for k, v in settings.items() if v is not None}
        return self

    def page_display(self, path: str, *, title: str | None = None,
                     style: Style = "teasers") -> Listing:
        return self._display("page", {"path": path, "title": title, "style": style})

    def feed(self, path: str, *, format: Literal["rss", "atom"] = "rss",
             title: str | None = None) -> Listing:
        return self._display("feed", {"path": path, "format": format, "title": title})

    def json(self) -> Listing:
        """The JSON display (``/api/v1/gather/{name}``)."""
        return self._display("json", {})

    def empty(self, text: str) -> Listing:
        self._document["empty_text"] = text
        return self

    def access(self, permission: str) -> Listing:
        self._document["access"] = permission
        return self

    def document(self) -> dict[str, Any]:
        """The JSON document as built so far (a copy)."""
        return parse(self._document).document()

    def build(self) -> Definition:
        """The checked :class:`Definition` (module docstring)."""
        return parse(self._document)


__all__ = ["Listing", "all_of", "any_of", "use", "where"]
