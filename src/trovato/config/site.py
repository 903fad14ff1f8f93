"""The services a configuration export or import works through, and what an import changes.

Every read and write of a kind of configuration goes through that kind's own service, with
its validation, permissions and audit entries, exactly as the admin screens and the JSON API
do: this package holds no SQL of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from trovato.categories.service import Categories
from trovato.content.type_service import ItemTypes
from trovato.db.pool import Database
from trovato.files.styles import ImageStyles
from trovato.gather import Gather
from trovato.search import Search
from trovato.stages import Stages
from trovato.tiles import Tiles
from trovato.users.accounts import CurrentUser
from trovato.users.roles import Roles

Action = Literal["create", "update", "delete"]
# Deletes an item type's items with it (the content service's, which fires item_delete taps).
PurgeItems = Callable[[AsyncConnection[DictRow], str], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Site:
    """The services of one site that hold its configuration."""

    db: Database
    types: ItemTypes
    purge_items: PurgeItems
    categories: Categories
    roles: Roles
    stages: Stages
    gather: Gather
    tiles: Tiles
    search: Search
    styles: ImageStyles
    # Who the import or export acts as (the command line's operator, an administrator
    # without an account).
    user: CurrentUser


@dataclass(frozen=True, slots=True)
class Change:
    """One object an import creates, updates or deletes: its folder, name and file, and what
    else the change does that a reader of the report should know (empty: nothing)."""

    action: Action
    folder: str
    name: str
    file: str
    note: str = ""
