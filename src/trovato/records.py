"""Records (DESIGN §1: anything addressable — item, user, tag, file) as a reference sees them.

Each record kind's owner provides a :data:`Resolver`; the content service's reference checks
(:mod:`trovato.content.references`) combine the resolvers of the kinds a save refers to into
one statement. An owner may also provide a :data:`Labeller`, which the item view service asks
once per page for every record of that kind the page's fields refer to, so a reference shows
the record's name linked to its page.

This module sits below every service, the accounts service included, so that owners need not
import the content package to provide one: the saving user's type is the resolver's parameter
(the content service's registry holds ``Resolver[CurrentUser]``), not a name this module
imports.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, Select

    from trovato.stages import StageView

_User = TypeVar("_User")


@dataclass(frozen=True, slots=True)
class Lookup:
    """One record kind's part of a save's reference check.

    ``build(ids)`` returns a SQLAlchemy ``SELECT`` of four columns — the record's id, its
    bundle (item type, vocabulary machine name or file name; NULL if none), whether the saver
    may refer to it, and whether it is an image — for the ids bound as ``ids``. ``shape`` is
    everything that changes the statement's text (its compiled SQL is cached by it); ``params``
    are its other bound values. A parameter name two kinds share must mean the same thing in
    both (``stages``: the stage chain; ``viewer``: the saver's id)."""

    shape: Hashable
    build: Callable[[BindParameter[Any]], Select[Any]]
    params: Mapping[str, Any] = field(default_factory=dict)


# (the saving user, the save's stage view) → that kind's lookup.
Resolver = Callable[[_User, "StageView"], Lookup]


@dataclass(frozen=True, slots=True)
class Label:
    """How a reference to a record is shown: its name, and the path of its page."""

    text: str
    path: str


# Record ids → the labels of those that exist (one statement for all of them).
Labeller = Callable[[Collection[uuid.UUID]], Awaitable[Mapping[uuid.UUID, Label]]]

__all__ = ["Label", "Labeller", "Lookup", "Resolver"]
