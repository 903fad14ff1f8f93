"""Search snippets as safe HTML: PostgreSQL's ``ts_headline`` marks the matched words with two
private-use characters (which the document never holds: they are removed from it first), and
only here are those marks turned into ``<mark>`` — after the text between them is escaped. No
HTML that ``ts_headline`` writes ever reaches a page."""

from __future__ import annotations

import html
import re
from typing import Final

from markupsafe import Markup, escape

START: Final = "\ue000"
STOP: Final = "\ue001"
# The options of ``ts_headline``: the marks, and fragments of a teaser's length.
HEADLINE_OPTIONS: Final = (
    f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, ShortWord=2, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)
# A character class without repetition of groups: one linear pass.
_MARKS: Final = re.compile(f"[{START}{STOP}]")
_SPACES: Final = re.compile(r"\s+")  # where tags were cut out, and line breaks


def mark(headline: str) -> Markup:
    """``headline`` (text with marks around matches; its entities, if any, as the stored
    HTML had them) as HTML: each piece decoded and escaped, each marked piece in ``<mark>``,
    runs of white space made one space."""
    out: list[str] = []
    inside = False
    position = 0
    for found in _MARKS.finditer(headline):
        out.append(_piece(headline[position:found.start()], inside))
        inside = found.group() == START
        position = found.end()
    out.append(_piece(headline[position:], inside))
    text = _SPACES.sub(" ", "".join(out)).strip()
    return Markup(text)  # noqa: S704 - every piece escaped by _piece


def _piece(text: str, marked: bool) -> str:
    if not text:
        return ""
    safe = str(escape(html.unescape(text)))
    return f"<mark>{safe}</mark>" if marked else safe


__all__ = ["HEADLINE_OPTIONS", "START", "STOP", "mark"]
