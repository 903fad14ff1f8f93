"""What changed between two revisions of an item, as a render tree (the revisions diff page).

Each property that differs (title, status, each field) is one row: its label, the older
revision's text and the newer one's, line by line, with removed and added lines marked. Values
become text the way a reader sees them (a formatted text's source and its format, a link's URL
and title …), always rendered escaped: a diff shows what was stored, it never renders it.
Line matching (``difflib``) is not linear, so past :data:`MAX_DIFF_LINES` lines the two sides
are shown whole, every line marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any, Final, Literal

from trovato.content.model import Revision
from trovato.content.types import ItemType, display_order
from trovato.render import elements as el

MAX_DIFF_LINES: Final = 2000
Line = tuple[Literal["context", "deleted", "added"], str]


def value_lines(stored: Any) -> list[str]:
    """A field's stored value (one object, a list of them, or None) as lines of text."""
    values = stored if isinstance(stored, list) else [] if stored is None else [stored]
    lines: list[str] = []
    for value in values:
        if not isinstance(value, dict):
            lines.append(str(value))
        elif set(value) <= {"value", "format"}:
            lines.extend(str(value.get("value", "")).splitlines() or [""])
            if "format" in value:
                lines.append(f"[format: {value['format']}]")
        else:
            lines.append(", ".join(f"{key}: {value[key]}" for key in sorted(value)))
    return lines


def line_diff(old: Sequence[str], new: Sequence[str]) -> tuple[list[Line], list[Line]]:
    """Both sides' lines, each marked as unchanged, removed (older side) or added (newer)."""
    if len(old) + len(new) > MAX_DIFF_LINES:
        return [("deleted", line) for line in old], [("added", line) for line in new]
    left: list[Line] = []
    right: list[Line] = []
    matcher = SequenceMatcher(None, list(old), list(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.extend(("context", line) for line in old[i1:i2])
            right.extend(("context", line) for line in new[j1:j2])
            continue
        left.extend(("deleted", line) for line in old[i1:i2])
        right.extend(("added", line) for line in new[j1:j2])
    return left, right


def _side(lines: list[Line]) -> el.RenderElement:
    children = {
        str(n): el.markup(text or "\u00a0", tag="div",
                          attributes={"class": f"diff__line diff__line--{kind}"})
        for n, (kind, text) in enumerate(lines)
    }
    return el.container(children, attributes={"class": "diff__side"})


def _properties(old: Revision, new: Revision, item_type: ItemType | None
                ) -> list[tuple[str, list[str], list[str]]]:
    rows = [
        ("Title", [old.title], [new.title]),
        ("Status", ["Published" if old.status == 1 else "Unpublished"],
         ["Published" if new.status == 1 else "Unpublished"]),
    ]
    known = display_order(item_type)
    names = [d.name for d in known]
    names += sorted((set(old.fields) | set(new.fields)) - set(names))
    label = {d.name: d.label for d in known}
    for name in names:
        rows.append((label.get(name, name), value_lines(old.fields.get(name)),
                     value_lines(new.fields.get(name))))
    return rows


def revision_diff(old: Revision, new: Revision, item_type: ItemType | None, *,
                  old_label: str, new_label: str) -> el.RenderElement:
    """The table of what differs from ``old`` to ``new`` (or a note that nothing does)."""
    rows: list[list[str | el.RenderElement]] = []
    for label, before, after in _properties(old, new, item_type):
        if before == after:
            continue
        left, right = line_diff(before, after)
        rows.append([label, _side(left), _side(right)])
    return el.table(["Property", old_label, new_label], rows,
                    caption="Changes between the two revisions",
                    empty="The two revisions do not differ.",
                    attributes={"class": "diff"})
