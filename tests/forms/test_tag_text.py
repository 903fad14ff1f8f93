"""Tags as one line of text: names separated by commas, quoted when they hold a comma or a
quote, "Name (id)" for a tag named by id; what is shown is read back as the same tokens."""

from __future__ import annotations

import uuid

import pytest

from trovato.forms.tag_text import explode, implode, quoted, split_id, tag_token

ID = "0190a9a4-6a8e-7c3b-9d2e-1f2a3b4c5d6e"


@pytest.mark.parametrize("tokens", [
    ["Jazz"],
    ["Jazz", "Free jazz", "Bossa nova"],
    ["Rock, pop", "Jazz"],
    ['Say "yes" now', "a, \"b\", c"],
    [f"Jazz ({ID})", f"Rock, pop ({ID})"],
    ["Ünïcode — names", "(brackets)", "not an id (abc)"],
])
def test_what_is_shown_is_read_back(tokens: list[str]) -> None:
    assert explode(implode(tokens)) == tokens


def test_names_with_commas_or_quotes_are_quoted_as_drupal_does() -> None:
    assert implode(["Jazz", "Rock, pop", 'Say "yes"']) == 'Jazz, "Rock, pop", "Say ""yes"""'
    assert quoted("plain") == "plain"


def test_a_typed_line_is_read_as_people_type_it() -> None:
    assert explode("  jazz ,Rock,, ,blues  ") == ["jazz", "Rock", "blues"]
    assert explode("Jazz, jazz, JAZZ") == ["Jazz"]  # repeats, ignoring case, once
    assert explode('"Rock, pop') == ["Rock, pop"]  # an unclosed quote runs to the end
    assert explode('"Rock, pop" band, Jazz') == ["Rock, pop band", "Jazz"]
    assert explode("") == [] and explode(" , ") == []


def test_a_token_names_a_tag_by_id_only_with_a_real_id() -> None:
    assert split_id(tag_token("Jazz", ID)) == ("Jazz", ID)
    assert split_id(f"Rock, pop ({ID.upper()})") == ("Rock, pop", ID)
    assert split_id(ID) == ("", ID)
    assert split_id("Jazz (live)") == ("Jazz (live)", None)
    assert split_id("Jazz") == ("Jazz", None)
    assert uuid.UUID(ID)  # the fixture is an id
