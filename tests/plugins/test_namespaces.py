"""Every namespaced kind maps (plugin, name) to a key no other pair can produce."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trovato.plugins import namespaces
from trovato.plugins.namespaces import (
    cache_key,
    is_key_name,
    is_machine_name,
    queue_key,
    table_name,
    table_name_problem,
    variable_name,
    variable_prefix,
)

# Plugin names built from short words over a small alphabet, so prefixes and shared
# underscores (acme / acme_shop / acme_shop_x) come up constantly.
_word = st.text(alphabet="ab1", min_size=1, max_size=3).filter(lambda w: w[0] != "1")
machine_names = st.lists(_word, min_size=1, max_size=4).map("_".join)
key_names = st.text(alphabet="ab_.:-1", min_size=1, max_size=8)
KEYS: dict[str, Callable[[str, str], str]] = {
    "table": table_name, "variable": variable_name, "queue": queue_key, "cache": cache_key}


@pytest.mark.parametrize("kind", ["variable", "queue", "cache"])
@given(first=st.tuples(machine_names, key_names), second=st.tuples(machine_names, key_names))
def test_keys_are_injective(kind: str, first: tuple[str, str], second: tuple[str, str]) -> None:
    build = KEYS[kind]
    if first != second:
        assert build(*first) != build(*second)


@given(first=st.tuples(machine_names, machine_names),
       second=st.tuples(machine_names, machine_names))
def test_table_names_are_injective(first: tuple[str, str], second: tuple[str, str]) -> None:
    if first != second:
        assert table_name(*first) != table_name(*second)


def test_the_reported_collision_is_gone() -> None:
    assert table_name("acme", "shop_orders") != table_name("acme_shop", "orders")
    assert table_name("acme", "shop_orders") == "p_acme__shop_orders"
    assert table_name("acme_shop", "orders") == "p_acme_shop__orders"


@given(plugin=machine_names, other=machine_names, name=key_names)
def test_a_variable_prefix_covers_only_its_plugin(plugin: str, other: str, name: str) -> None:
    assert variable_name(plugin, name).startswith(variable_prefix(plugin))
    if other != plugin:
        assert not variable_name(other, name).startswith(variable_prefix(plugin))


@pytest.mark.parametrize("name", ["acme", "acme_shop", "a1_b2_c3", "x"])
def test_machine_names(name: str) -> None:
    assert is_machine_name(name)


@pytest.mark.parametrize("name", ["acme\n", "acme__shop", "acme_", "_acme", "1acme", "Acme",
                                  "acme-shop", "acme.shop", "acme:shop", "", None, 5])
def test_names_that_could_collide_or_smuggle_are_refused(name: object) -> None:
    assert not is_machine_name(name)


@pytest.mark.parametrize("name", ["counter\n", "", "a" * 129, "a b", "ü"])
def test_key_names_refuse_newlines_and_oversize(name: str) -> None:
    assert not is_key_name(name)
    assert is_key_name("page:bob.v-1")


def test_a_table_name_past_postgresqls_limit_is_refused_with_the_room_left() -> None:
    plugin = "p" * namespaces.PLUGIN_NAME_MAX
    room = namespaces.PG_IDENTIFIER_MAX - len(f"p_{plugin}__")
    assert table_name_problem(plugin, "t" * room) is None
    problem = table_name_problem(plugin, "t" * (room + 1))
    assert problem is not None
    assert "PostgreSQL allows 63" in problem and f"at most {room} characters" in problem
    assert "words joined by single underscores" in (table_name_problem("acme", "a__b") or "")


def test_install_refuses_a_table_past_the_limit_naming_the_key() -> None:
    from trovato.plugins.tables import TableError, parse_tables

    plugin = "p" * namespaces.PLUGIN_NAME_MAX
    with pytest.raises(TableError, match=r"^tables\.t{20}: its database name p_p{40}__t{20} "
                                         r"is 64 characters; PostgreSQL allows 63"):
        parse_tables(plugin, {"t" * 20: {"columns": {"id": "text"}}})
    assert parse_tables(plugin, {"t" * 19: {"columns": {"id": "text"}}})
