"""The names plugins own, and the one place each is turned into a key in a shared space.

Every namespaced kind maps ``(plugin, name)`` to a key *injectively*: two different pairs
never give the same key, whatever the names, so plugins whose names share a prefix or
underscores (``acme`` and ``acme_shop``) can never reach each other's state.

Why each mapping is injective:

* Plugin machine names are lower-case words joined by single underscores
  (:data:`MACHINE_NAME`: no ``.``, no ``:``, no ``__``, no leading or trailing ``_``).
* **Tables** ``p_<plugin>__<table>`` (:func:`table_name`): table names follow the same rule, so
  the only ``__`` in the name is the separator; splitting there gives the pair back.
  A single ``_`` separator was ambiguous: ``acme`` + ``shop_orders`` and ``acme_shop`` +
  ``orders`` were the same table. PostgreSQL silently truncates identifiers to 63 bytes, which
  would merge names again, so a longer name is refused (:func:`table_name_problem`).
* **Variables** ``plugin.<plugin>.<name>`` and **queues** ``plugin.<plugin>.<queue>``: a plugin
  name has no ``.``, so the first ``.`` after ``plugin.`` ends it. Removing a plugin's
  variables compares this exact prefix (:func:`variable_prefix`); never ``LIKE``, whose ``_``
  matches any character.
* **Cache keys and tags** ``plugin:<plugin>:<key>``: a plugin name has no ``:``; the kernel's
  own keys and tags never start with ``plugin:``.

Locks are not given to plugins, and request-context keys are deliberately shared by all the
plugins of one request (the request's scratch space), so neither has a namespace here.

Every name check uses :func:`re.fullmatch` (``$`` would accept a trailing newline).
"""

from __future__ import annotations

import re
from typing import TypeGuard

PLUGIN_NAME_MAX = 40
"""Leaves room for ``p_<plugin>__<table>`` within PostgreSQL's 63-byte identifiers."""

PG_IDENTIFIER_MAX = 63

MACHINE_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
"""Plugin and table names: lower-case words joined by single underscores."""

MACHINE_NAME_RULE = "lower-case letters and digits in words joined by single underscores " \
                    "(like acme_shop), starting with a letter"

COLUMN_NAME = re.compile(r"[a-z][a-z0-9_]*")
"""Column names: they never become part of a shared key, so any identifier is fine."""

KEY_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
"""Variable and queue names a plugin chooses inside its own namespace."""


def is_machine_name(name: object) -> TypeGuard[str]:
    return isinstance(name, str) and MACHINE_NAME.fullmatch(name) is not None


def is_key_name(name: object) -> TypeGuard[str]:
    return isinstance(name, str) and KEY_NAME.fullmatch(name) is not None


def table_name(plugin: str, table: str) -> str:
    """The database table of ``plugin``'s declared ``table``."""
    return f"p_{plugin}__{table}"


def table_name_problem(plugin: str, table: str) -> str | None:
    """Why ``table`` cannot be a table of ``plugin`` (None: it can)."""
    if not is_machine_name(table):
        return f"table names are {MACHINE_NAME_RULE}"
    physical = table_name(plugin, table)
    if len(physical.encode()) > PG_IDENTIFIER_MAX:
        room = PG_IDENTIFIER_MAX - len(table_name(plugin, ""))
        return (f"its database name {physical} is {len(physical)} characters; PostgreSQL "
                f"allows {PG_IDENTIFIER_MAX}, so plugin {plugin!r} may use table names of "
                f"at most {room} characters")
    return None


def variable_name(plugin: str, name: str) -> str:
    return f"{variable_prefix(plugin)}{name}"


def variable_prefix(plugin: str) -> str:
    """What every variable of ``plugin`` (and of no other plugin) starts with."""
    return f"plugin.{plugin}."


def queue_key(plugin: str, queue: str) -> str:
    return f"plugin.{plugin}.{queue}"


def cache_key(plugin: str, key: str) -> str:
    """A cache key or tag of ``plugin``."""
    return f"plugin:{plugin}:{key}"
