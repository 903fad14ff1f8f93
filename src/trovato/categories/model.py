"""The records of categories (DESIGN §11): vocabularies, tags, their permissions and their one
error type.

A vocabulary is addressed by its machine name (``topics``; the API calls it ``id``), a tag by
its UUIDv7 id, and on the site by ``/tags/{vocabulary}/{slug}``. A vocabulary's ``hierarchy``
says what parents its tags may have: ``none`` (a flat list), ``single`` (a tree) or
``multiple`` (a DAG: several parents, never a cycle).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

from trovato.errors import ServiceError

ADMINISTER_CATEGORIES: Final = "administer categories"
CREATE_TAGS: Final = "create tags"
# Reading tags is reading the site's content: the content permission (the content package is
# beside this one, not below it, so the name is repeated here).
ACCESS_CONTENT: Final = "access content"

Hierarchy = Literal["none", "single", "multiple"]
# Stored as category_vocabulary.hierarchy (Drupal 6's 0, 1, 2).
HIERARCHIES: Final[tuple[Hierarchy, ...]] = ("none", "single", "multiple")

VOCABULARY_ID: Final = re.compile(r"^[a-z][a-z0-9_]*\Z")
VOCABULARY_ID_PATTERN: Final = "^[a-z][a-z0-9_]*$"
VOCABULARY_ID_MAX: Final = 64
LABEL_MAX: Final = 255
NAME_MAX: Final = 255
DESCRIPTION_MAX: Final = 10_000
MAX_PARENTS: Final = 100
WEIGHT_LIMIT: Final = 2**31 - 1


class CategoryError(ServiceError):
    """A refused categories operation (422 unless told): a message, and per input what is
    wrong with it."""

    status = 422

    def __init__(self, status: int | None, message: str, *,
                 errors: Mapping[str, str] | None = None,
                 extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(status, message, errors=errors, extensions=extensions)


def no_such_vocabulary(vocabulary: str) -> CategoryError:
    return CategoryError(404, f"No such vocabulary {vocabulary[:VOCABULARY_ID_MAX]!r}.")


def no_such_tag() -> CategoryError:
    return CategoryError(404, "No such tag.")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    key: uuid.UUID  # the row's id; tags refer to it
    id: str  # the machine name
    label: str
    description: str
    hierarchy: Hierarchy
    weight: int

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "description": self.description,
                "hierarchy": self.hierarchy, "weight": self.weight}


@dataclass(frozen=True, slots=True)
class Tag:
    id: uuid.UUID
    vocabulary: str  # its vocabulary's machine name
    name: str
    slug: str
    description: str
    weight: int
    # Parent ids in (weight, name) order: the first is the one breadcrumbs follow.
    parents: tuple[uuid.UUID, ...]
    stage: str

    @property
    def path(self) -> str:
        """The tag page's address."""
        return f"/tags/{self.vocabulary}/{quote(self.slug, safe='')}"

    def public(self) -> dict[str, Any]:
        return {"id": str(self.id), "vocabulary": self.vocabulary, "name": self.name,
                "slug": self.slug, "description": self.description, "weight": self.weight,
                "parents": [str(p) for p in self.parents], "path": self.path}


@dataclass(frozen=True, slots=True)
class TreeNode:
    """A tag in a vocabulary's tree. A tag with several parents appears under each of them;
    its own children are listed under its first appearance only (``repeated`` marks the
    others), so a tree is never larger than its tags and their parent links."""

    tag: Tag
    children: tuple[TreeNode, ...]
    repeated: bool = False

    def public(self) -> dict[str, Any]:
        return {**self.tag.public(), "repeated": self.repeated,
                "children": [child.public() for child in self.children]}


__all__ = [
    "ACCESS_CONTENT",
    "ADMINISTER_CATEGORIES",
    "CREATE_TAGS",
    "HIERARCHIES",
    "CategoryError",
    "Hierarchy",
    "Tag",
    "TreeNode",
    "Vocabulary",
]
