"""An item's summary: the plain text its teaser shows, taken from its first text field.

The content service stores the summary with the item (``item.summary``) whenever it writes
the item, so a listing of teasers reads a few hundred characters per item instead of every
field's JSON. NULL means "not known": an item written before the column existed, or one
whose type's text fields were added, removed or reordered since. Readers then compute it
from the fields (:func:`summarize`), which is always right, only slower.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import escape

from trovato.caches import BytesLRU, text_cache
from trovato.content.types import ItemType, text_fields
from trovato.render.formats import render_text
from trovato.render.html_tokens import text_of

SUMMARY_LENGTH = 300
SUMMARY_CACHE_MAX_ENTRY = 256 * 1024  # bytes of source text and summary kept per entry
# Markdown is rendered before its text is taken; its start is enough for a summary.
MARKDOWN_SUMMARY_SOURCE = 8 * 1024


# A pure function of the text: listings show the same popular items again and again, so each
# process strips a body once (bounded in bytes, like the filtered-text cache), not on every
# listing. The key holds the whole source text, which is what makes a count bound no bound.
SUMMARIES: BytesLRU[tuple[str, str | None, int], str] = text_cache(
    "summary", max_entry_bytes=SUMMARY_CACHE_MAX_ENTRY)


def field_values(raw: Any) -> list[Mapping[str, Any]]:
    """A stored field's values as a list (one value or many), leaving out malformed ones."""
    if isinstance(raw, dict):  # one value, as most fields hold: no walk, no ABC check
        return [raw]
    values = raw if isinstance(raw, list) else [raw]
    return [v for v in values if isinstance(v, Mapping)]


def summarize(
    fields: Mapping[str, Any], item_type: ItemType | None, length: int = SUMMARY_LENGTH
) -> str:
    """Plain text from the first text field that has a value, trimmed at a word to
    ``length`` (tags stripped with block boundaries as spaces, entities decoded, Markdown
    rendered first, plain text taken as written: the result is escaped again on output)."""
    for name in text_fields(item_type):
        values = field_values(fields.get(name))
        if not values:
            continue
        source = str(values[0].get("value", ""))
        text_format = values[0].get("format")
        text_format = text_format if isinstance(text_format, str) else None
        key = (source, text_format, length)
        found = SUMMARIES.get(key)
        if found is None:
            found = _plain_summary(source, text_format, length)
            SUMMARIES.put(key, found)
        return found
    return ""


def _plain_summary(source: str, text_format: str | None, length: int) -> str:
    """The first ``length`` characters of the text a reader sees, paragraphs apart."""
    if text_format == "plain_text":
        source = str(escape(source))  # text as written, "<" included
    elif text_format == "markdown":
        source = str(render_text(source[:MARKDOWN_SUMMARY_SOURCE], "markdown"))
    text = text_of(source, length)
    if len(text) > length:
        text = text[:length].rsplit(" ", 1)[0].rstrip(".,;:") + "…"
    return text

