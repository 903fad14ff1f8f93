"""Typed text in LIKE patterns: wildcards and the escape character match only themselves."""

from __future__ import annotations

from trovato.patterns import contains, like_literal, starts_with


def test_wildcards_and_the_escape_character_are_escaped() -> None:
    assert like_literal(r"50%_off\now") == r"50\%\_off\\now"
    assert contains("a%") == r"%a\%%"
    assert starts_with("_x") == r"\_x%"
    assert like_literal("plain") == "plain"
