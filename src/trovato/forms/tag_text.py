"""Tags as one line of text, as a tag field of the item form shows and takes them.

Drupal's free-tagging field (``drupal_implode_tags``, ``drupal_explode_tags``): the names
separated by commas; a name holding a comma or a double quote is written in double quotes, a
quote in it doubled (``"Rock, pop"``, ``"Say ""yes"" now"``). A name two tags of the field's
vocabularies share is written with the id of the one meant, ``Name (id)``, which the field
takes as typed input too (as Drupal's "Name (tid)").
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

# "Name (id)": a token ending in a parenthesised UUID names the tag by id.
_WITH_ID = re.compile(r"(.*?)\s*\(\s*([0-9A-Fa-f-]{32,36})\s*\)\s*\Z", re.S)


def quoted(token: str) -> str:
    """``token`` as the line writes it: in double quotes (its quotes doubled) when it holds a
    comma or a double quote."""
    if "," in token or '"' in token:
        return '"' + token.replace('"', '""') + '"'
    return token


def tag_token(name: str, tag_id: str | None = None) -> str:
    """What the line says for one tag: its name, or ``Name (id)`` given the id (a name two
    tags share)."""
    return f"{name} ({tag_id})" if tag_id else name


def implode(tokens: Iterable[str]) -> str:
    """The line showing ``tokens`` (:func:`tag_token`'s), comma-separated."""
    return ", ".join(quoted(token) for token in tokens)


def explode(text: str) -> list[str]:
    """The tokens of a typed line, trimmed, empty ones and repeats (ignoring case) left out.

    A token starting with a double quote runs to the quote closing it (``""`` inside is one
    quote); text after that closing quote up to the next comma is kept with it, so a stray
    quote never swallows what follows silently. An unclosed quote runs to the end."""
    tokens: list[str] = []
    seen: set[str] = set()
    at, end = 0, len(text)
    while at <= end:
        while at < end and text[at].isspace():
            at += 1
        token = []
        if at < end and text[at] == '"':
            at += 1
            while at < end:
                if text[at] == '"':
                    if at + 1 < end and text[at + 1] == '"':
                        token.append('"')
                        at += 2
                        continue
                    at += 1
                    break
                token.append(text[at])
                at += 1
        comma = text.find(",", at)
        stop = end if comma < 0 else comma
        token.append(text[at:stop])
        found = "".join(token).strip()
        if found and found.casefold() not in seen:
            seen.add(found.casefold())
            tokens.append(found)
        at = stop + 1
    return tokens


def split_id(token: str) -> tuple[str, str | None]:
    """``(name, id)`` of a token: ``Name (id)`` gives both (the id normalised), a bare id
    gives ``("", id)``, anything else is a name alone."""
    matched = _WITH_ID.fullmatch(token)
    candidate, name = (matched[2], matched[1].strip()) if matched else (token, "")
    try:
        return name, str(uuid.UUID(candidate))
    except ValueError:
        return token, None
