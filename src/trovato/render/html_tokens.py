"""A linear-time HTML tokenizer and the balancing pass that runs before the sanitizer.

User text is split into text, tags and comments by one left-to-right scan that never looks at a
character twice (``str.find`` and anchored patterns without nested repetition), so no input can
make it slower than its length. The text filters use it to find the text between tags; the
sanitizer uses :func:`balance` to hand nh3 markup it can parse in linear time.

Why the balancing pass: html5ever (the parser inside nh3) walks its stack of open elements for
many start tags and rebuilds formatting elements a block closed implicitly, so deeply nested or
misnested input (``<ul>`` ten thousand times, ``<p><b title=1>x</p>`` repeated) costs time — and
output — that grows with the square of the input. :func:`balance` keeps only allowed tags and
attributes, closes what the HTML parser would close implicitly, caps the nesting depth and closes
every element explicitly, so what reaches nh3 is small, flat enough and unambiguous. Safety still
rests on nh3, which runs afterwards on whatever this pass produces.

The tokenizer follows the HTML tokenizer's data state closely enough for both uses: ``<`` starts
a tag only before an ASCII letter (``</`` before a letter ends one), quoted attribute values may
hold ``>``, ``<!--`` runs to ``-->`` (or the end), ``<!…>``/``<?…>``/``</…>`` are bogus comments,
and the content of ``script``, ``style``, ``textarea`` and similar elements is text up to their
end tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Generator, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    TEXT = "text"  # character data; entities not yet decoded
    RAW = "raw"  # content of script/style/… : literal text
    RCDATA = "rcdata"  # content of textarea/title: text in which entities are decoded
    START = "start"
    END = "end"
    COMMENT = "comment"  # comments, doctypes, processing instructions, bogus markup


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    raw: str  # the exact source text of the token
    name: str = ""  # lowercased tag name (START/END)
    attributes: tuple[tuple[str, str], ...] = ()  # (name, raw value) in source order


RAW_TEXT_ELEMENTS = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes",
                               "noscript"})
RCDATA_ELEMENTS = frozenset({"textarea", "title"})
VOID_ELEMENTS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                           "meta", "param", "source", "track", "wbr"})

_SPACE = "\t\n\f\r /"
_TAG_NAME = re.compile(r"[^\t\n\f\r />]*")
_SKIP = re.compile(r"[\t\n\f\r /]*")
_ATTRIBUTE_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r />=]*")
_WHITESPACE = re.compile(r"[\t\n\f\r ]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")


def tokenize(text: str) -> Iterator[Token]:
    """The tokens of ``text`` in order; their ``raw`` parts join back to ``text``."""
    position, length = 0, len(text)
    text_start = 0  # where the text not yet given out begins ("<" alone is text too)
    last_gt = text.rfind(">")  # past it no tag can close: the rest is text or one comment
    while position < length:
        lt = text.find("<", position)
        if lt < 0:
            break
        following = text[lt + 1: lt + 2]
        starts_tag = following.isascii() and following.isalpha()
        after = text[lt + 2: lt + 3]
        ends_tag = following == "/" and after.isascii() and after.isalpha()
        if not (starts_tag or following in ("!", "?", "/")):
            position = lt + 1  # "<" before anything else is just a character
            continue
        if lt > text_start:
            yield Token(Kind.TEXT, text[text_start:lt])
        if lt > last_gt:
            yield Token(Kind.COMMENT, text[lt:])  # a tag or comment cut off by the end
            return
        if starts_tag:
            token, position = _start_tag(text, lt)
            yield token
            if token.kind is Kind.START and token.name in RAW_TEXT_ELEMENTS | RCDATA_ELEMENTS:
                position = yield from _raw_content(text, position, token.name)
        elif ends_tag:
            token, position = _end_tag(text, lt)
            yield token
        elif text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            if end < 0:  # a comment never closed runs to the end
                yield Token(Kind.COMMENT, text[lt:])
                return
            position = end + 3
            yield Token(Kind.COMMENT, text[lt:position])
        else:
            position = text.find(">", lt + 2) + 1
            yield Token(Kind.COMMENT, text[lt:position])
        text_start = position
    if text_start < length:
        yield Token(Kind.TEXT, text[text_start:])


def _attributes(text: str, position: int) -> tuple[list[tuple[str, str]], int, bool]:
    """Attributes from ``position`` to the tag's ``>``: (attributes, end, closed)."""
    found: list[tuple[str, str]] = []
    length = len(text)
    while True:
        skipped = _SKIP.match(text, position)
        position = skipped.end() if skipped else position
        if position >= length:
            return found, length, False
        if text[position] == ">":
            return found, position + 1, True
        name_match = _ATTRIBUTE_NAME.match(text, position)
        if name_match is None:  # a lone "=" before the name: part of the name, like HTML
            name_match = re.compile(r"=[^\t\n\f\r />=]*").match(text, position)
            assert name_match is not None
        name = name_match.group(0).lower()
        position = name_match.end()
        space = _WHITESPACE.match(text, position)
        after_space = space.end() if space else position
        value = ""
        if text.startswith("=", after_space):
            space = _WHITESPACE.match(text, after_space + 1)
            position = space.end() if space else after_space + 1
            quote = text[position: position + 1]
            if quote in ('"', "'"):
                end = text.find(quote, position + 1)
                if end < 0:
                    return found, length, False
                value = text[position + 1: end]
                position = end + 1
            else:
                unquoted = _UNQUOTED.match(text, position)
                assert unquoted is not None
                value = unquoted.group(0)
                position = unquoted.end()
        found.append((name, value))


def _start_tag(text: str, lt: int) -> tuple[Token, int]:
    name_match = _TAG_NAME.match(text, lt + 1)
    assert name_match is not None
    attributes, end, closed = _attributes(text, name_match.end())
    if not closed:
        # A tag cut off by the end of the text is dropped, as HTML parsers do.
        return Token(Kind.COMMENT, text[lt:]), end
    return Token(Kind.START, text[lt:end], name_match.group(0).lower(), tuple(attributes)), end


def _end_tag(text: str, lt: int) -> tuple[Token, int]:
    name_match = _TAG_NAME.match(text, lt + 2)
    assert name_match is not None
    _, end, closed = _attributes(text, name_match.end())
    if not closed:
        return Token(Kind.COMMENT, text[lt:]), end
    return Token(Kind.END, text[lt:end], name_match.group(0).lower()), end


def _raw_content(text: str, position: int, name: str) -> Generator[Token, None, int]:
    """The literal content of a raw-text element, then its end tag; returns the new position."""
    kind = Kind.RCDATA if name in RCDATA_ELEMENTS else Kind.RAW
    pattern = re.compile(r"</" + name + r"(?=[\t\n\f\r />])", re.IGNORECASE)
    found = pattern.search(text, position)
    if found is None:
        if position < len(text):
            yield Token(kind, text[position:])
        return len(text)
    if found.start() > position:
        yield Token(kind, text[position: found.start()])
    token, end = _end_tag(text, found.start())
    yield token
    return end


# -- balancing --------------------------------------------------------------------------------

MAX_DEPTH = 64
"""Elements nested deeper than this lose their tags (their text stays)."""

# Start tags that close an open <p> (HTML's "close a p element"), and what stops the search.
_CLOSES_P = frozenset({
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "hr", "li", "dd", "dt", "main", "menu", "nav", "ol", "p", "pre",
    "section", "summary", "table", "ul", "listing", "plaintext", "xmp",
})
_SCOPE = frozenset({"applet", "caption", "html", "table", "td", "th", "marquee", "object",
                    "template", "button"})
_LIST_SCOPE = _SCOPE | {"ul", "ol"}
_DEFINITION_SCOPE = _SCOPE | {"dl"}
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_ATTRIBUTE_CHARREF = re.compile(r"&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]{0,31};)")


def _open_in_scope(stack: list[str], names: Collection[str], scope: Collection[str]) -> int:
    """Index of the innermost open element named in ``names`` above any scope boundary, or -1."""
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] in names:
            return index
        if stack[index] in scope:
            return -1
    return -1


def _attribute_value(raw: str) -> str:
    # In attribute values only terminated named references are decoded, so "?a=1&copy=2" in a
    # URL stays what its author typed.
    if "&" in raw:
        raw = _ATTRIBUTE_CHARREF.sub(lambda m: html.unescape(m.group(0)), raw)
    return html.escape(raw)


def _text(raw: str) -> str:
    return html.escape(html.unescape(raw) if "&" in raw else raw, quote=False)


def balance(
    text: str,
    *,
    tags: Collection[str],
    attributes: Mapping[str, Collection[str]],
    drop_content: Collection[str] = ("script", "style"),
    max_depth: int = MAX_DEPTH,
) -> str:
    """``text`` with only ``tags`` (and their ``attributes``, plus those listed for ``"*"``),
    every element closed explicitly and nested at most ``max_depth`` deep; comments dropped,
    entities re-encoded in one canonical form. The result still needs a sanitizer (URLs,
    ``rel``): this pass is about shape and size, not safety."""
    out: list[str] = []
    stack: list[str] = []
    open_count: dict[str, int] = {}  # how many of each name are on the stack
    dropped: dict[str, int] = {}  # start tags dropped for depth, by name: their end tags go too
    everywhere = frozenset(attributes.get("*", ()))
    skip_raw = False

    def close_through(index: int) -> None:
        while len(stack) > index:
            name = stack.pop()
            open_count[name] -= 1
            out.append(f"</{name}>")

    def close_open(names: tuple[str, ...], scope: Collection[str]) -> None:
        # Only walks the stack when one of the names is open at all.
        if any(open_count.get(name) for name in names):
            found = _open_in_scope(stack, names, scope)
            if found >= 0:
                close_through(found)

    for token in tokenize(text):
        kind = token.kind
        if kind is Kind.TEXT:
            out.append(_text(token.raw))
        elif kind is Kind.RCDATA or kind is Kind.RAW:
            if not skip_raw:
                raw = token.raw
                out.append(_text(raw) if kind is Kind.RCDATA else html.escape(raw, quote=False))
            skip_raw = False
        elif kind is Kind.START:
            name = token.name
            if name not in tags:
                skip_raw = name in drop_content
                continue
            if name in _CLOSES_P:
                close_open(("p",), _SCOPE)
            if name == "li":
                close_open(("li",), _LIST_SCOPE)
            elif name in ("dt", "dd"):
                close_open(("dt", "dd"), _DEFINITION_SCOPE)
            elif name in _HEADINGS and stack and stack[-1] in _HEADINGS:
                close_through(len(stack) - 1)
            elif name == "a":
                close_open(("a",), _SCOPE)
            void = name in VOID_ELEMENTS
            if not void and len(stack) >= max_depth:
                dropped[name] = dropped.get(name, 0) + 1
                continue
            allowed = everywhere | frozenset(attributes.get(name, ()))
            kept: dict[str, str] = {}
            for attribute, value in token.attributes:
                if attribute in allowed and attribute not in kept:
                    kept[attribute] = value
            rendered = "".join(f' {a}="{_attribute_value(v)}"' for a, v in kept.items())
            out.append(f"<{name}{rendered}>")
            if not void:
                stack.append(name)
                open_count[name] = open_count.get(name, 0) + 1
            skip_raw = False
        elif kind is Kind.END:
            name = token.name
            if dropped.get(name):
                dropped[name] -= 1
                continue
            if open_count.get(name):
                for index in range(len(stack) - 1, -1, -1):
                    if stack[index] == name:
                        close_through(index)
                        break
    close_through(0)
    return "".join(out)


# -- text -------------------------------------------------------------------------------------

# Elements that start a new line of text where they open and close: as plain text, a space.
BLOCK_ELEMENTS = frozenset({
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
_SPACES = re.compile(r"\s+")


def text_of(markup: str, limit: int) -> str:
    """The text of HTML ``markup``: tags dropped (block boundaries become spaces), entities
    decoded, script and style content left out, whitespace collapsed and trimmed; the scan
    stops once more than ``limit`` characters of text are known."""
    parts: list[str] = []
    size = 0
    space_before = True  # at the start, and after a space: a further space adds nothing
    for token in tokenize(markup):
        if token.kind is Kind.TEXT or token.kind is Kind.RCDATA:
            piece = _SPACES.sub(" ", html.unescape(token.raw))
        elif token.name in BLOCK_ELEMENTS and token.kind in (Kind.START, Kind.END):
            piece = " "
        else:
            continue
        if space_before and piece.startswith(" "):
            piece = piece[1:]
        if not piece:
            continue
        parts.append(piece)
        size += len(piece)
        space_before = piece.endswith(" ")
        if size > limit + 1:
            break
    return "".join(parts).strip()
