"""Slugs: transliteration, lowercasing, separators, the fallback and the -N suffix."""

from __future__ import annotations

import pytest

from trovato.categories.slugs import SLUG, SLUG_MAX, next_free, slugify


@pytest.mark.parametrize(("name", "slug"), [
    ("Crème Brûlée", "creme-brulee"),
    ("Straße", "strasse"),
    ("Ærøskøbing", "aeroskobing"),
    ("Łódź", "lodz"),
    ("don't stop", "dont-stop"),
    ("  a__b   c--d  ", "a-b-c-d"),
    ("東京 Tower", "東京-tower"),
    ("<script>alert(1)</script>", "script-alert-1-script"),
    ("!!!", "tag"),
    ("", "tag"),
])
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_long_names_are_cut_without_a_trailing_hyphen() -> None:
    slug = slugify("word " * 100)
    assert len(slug) <= SLUG_MAX and not slug.endswith("-")


def test_next_free() -> None:
    assert next_free("jazz", set()) == "jazz"
    assert next_free("jazz", {"jazz", "jazz-2"}) == "jazz-3"
    long = "x" * SLUG_MAX
    assert next_free(long, {long}) == "x" * (SLUG_MAX - 2) + "-2"


def test_the_client_slug_pattern() -> None:
    assert SLUG.match("a-b-1")
    for bad in ("A", "a--b", "-a", "a-", "a b", "é", "a\n"):
        assert not SLUG.match(bad), bad
