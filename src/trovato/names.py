"""Names people type (user names, role names): one canonical key per look-alike family.

``name_key`` is the only comparison of such names anywhere: login looks the account up by it,
the lockout counts failures under the account it resolves to, and a unique index on
``users.name_key`` refuses a second account whose name merely looks like an existing one. It
folds, in order:

1. compatibility forms (NFKC: fullwidth letters (U+FF41) → ASCII, ligatures, superscripts),
2. case, the full Unicode way (``casefold``: ``ß`` → ``ss``, ``İ`` → ``i̇``),
3. look-alike characters (Unicode's confusables data, as shipped by ``confusable-homoglyphs``):
   every character of a family of look-alikes (Latin a, Cyrillic a U+0430, Greek alpha …;
   ``l``, ``1``, ``I``, ``|`` …) maps to one member of that family.

The stored keys depend on the folding: a change to it (or to the pinned confusables data)
needs a migration that recomputes ``users.name_key``.

A pure function of the text, it sits at the base of the package (it imports nothing of
Trovato), so that the accounts and roles services and the migration that stores the keys
(revision 0006) compute them with the one folding.
"""

from __future__ import annotations

import unicodedata
from functools import cache


@cache
def _families() -> dict[str, str]:
    """Character → the smallest code point of its look-alike family (a union of the data's
    symmetric pairs, so every member of a family maps to the same character)."""
    parent: dict[str, str] = {}

    def root(char: str) -> str:
        while (up := parent.get(char, char)) != char:
            parent[char] = parent.get(up, up)
            char = up
        return char

    # Loaded here, once: the data is a large dict that a process folding no name never needs.
    from confusable_homoglyphs.confusables import confusables_data

    for char, glyphs in confusables_data.items():
        if len(char) != 1:
            continue
        for glyph in glyphs:
            other = glyph["c"]
            if len(other) == 1:
                a, b = root(char), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {char: root(char) for char in parent}


def fold(name: str) -> str:
    """Compatibility- and case-folded ``name`` (NFKC, casefold, NFKC again)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def name_key(name: str) -> str:
    """The canonical key of ``name``: equal for names a reader cannot tell apart."""
    families = _families()
    return "".join(families.get(char, char) for char in fold(name))


def check_typed_name(name: str, *, max_length: int) -> str | None:
    """What is wrong with a typed name (None when it is acceptable).

    Refuses what no one types on purpose and what hides a name's real characters: control,
    format (zero-width, bidi) and unassigned characters, a leading or trailing space, two
    spaces in a row.
    """
    if not name:
        return "is required"
    if len(name) > max_length:
        return f"must be at most {max_length} characters"
    if name != name.strip():
        return "must not begin or end with a space"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "must not contain control, format or unassigned characters"
    if "  " in name:
        return "must not contain two spaces in a row"
    return None
