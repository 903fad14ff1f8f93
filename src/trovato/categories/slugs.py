"""Tag slugs: the URL segment of a tag page (``/tags/{vocabulary}/{slug}``), made from its name.

A slug is the name transliterated to plain Latin letters where Unicode can decompose them
(``Crème brûlée`` → ``creme-brulee``, ``Straße`` → ``strasse``), lowercased, with every run of
anything but letters and digits turned into one hyphen. Letters of scripts that do not
decompose to Latin (``東京``, ``Москва``) are kept as they are, lowercased: a page address may
hold them (browsers show them, links percent-encode them), and dropping them would leave most
names of those scripts with no slug at all. A name with no letter or digit gets ``tag``. Slugs
are unique per vocabulary: :func:`next_free` appends ``-2``, ``-3``… to a taken one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Final

SLUG_MAX: Final = 128
# A slug a client chooses: ASCII lowercase letters and digits, single hyphens inside (what the
# API document's pattern can say exactly; generated slugs may also hold other scripts' letters).
SLUG_PATTERN: Final = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SLUG: Final = re.compile(SLUG_PATTERN.replace("$", r"\Z"))
FALLBACK: Final = "tag"
# Characters a ``-N`` suffix may take from a slug at the maximum length (``-`` and 10 digits).
SUFFIX_ROOM: Final = 11

# Letters NFKD does not decompose into a Latin base letter and a mark.
_LETTERS: Final = str.maketrans({
    "ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o", "Ø": "o",
    "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "Ł": "l", "þ": "th", "Þ": "th",
    "\u0131": "i", "ħ": "h", "Ħ": "h",
})
# ' and its typographic look-alikes (right quote, modifier apostrophe, acute, grave).
_APOSTROPHES: Final = re.compile("['\u2019\u02bc\u00b4`]")
_SEPARATORS: Final = re.compile(r"[\W_]+")


def slugify(name: str) -> str:
    """The slug of ``name`` (module docstring); never empty, at most :data:`SLUG_MAX` long."""
    text = unicodedata.normalize("NFKD", name.translate(_LETTERS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _APOSTROPHES.sub("", text).lower()
    text = _SEPARATORS.sub("-", text).strip("-")
    # Cut at a length a URL segment and the index stay comfortable with, never mid-hyphen.
    text = text[:SLUG_MAX].rstrip("-")
    return text or FALLBACK


def next_free(base: str, taken: Collection[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… — the first not in ``taken``."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[:SLUG_MAX - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


__all__ = ["FALLBACK", "SLUG", "SLUG_MAX", "SLUG_PATTERN", "SUFFIX_ROOM", "next_free", "slugify"]
