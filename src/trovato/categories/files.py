"""Vocabulary files: the CSV and YAML a vocabulary is imported from (``trovato categories
import``) and exported to, read into :class:`~trovato.categories.service.ImportRow` s.

**CSV**: a header row naming the columns ``name`` (required), ``parents`` (or ``parent``:
parent names separated by ``|``), ``description`` and ``weight``; one tag per line, parents
above their children. **YAML**: ``{vocabulary?, label?, tags: [...]}`` (or just the list),
each tag ``{name, description?, weight?, children?: [...]}`` or a bare name; a tag listed
under a second parent (by name again) gains that parent. An empty cell or a left-out key
keeps what an existing tag has.

Every problem names its line (of the file); reading is linear in the file's size.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import yaml

from trovato.categories.model import CategoryError, Tag, TreeNode, Vocabulary
from trovato.categories.tags import ImportRow

PARENT_SEPARATOR: Final = "|"
_COLUMNS: Final = {"name", "parent", "parents", "description", "weight"}


@dataclass(frozen=True, slots=True)
class VocabularyFile:
    """What a file holds: the rows, and the vocabulary it names (YAML may)."""

    rows: list[ImportRow]
    vocabulary: str | None = None
    label: str | None = None


def _bad(line: int, message: str) -> CategoryError:
    return CategoryError(422, f"Line {line}: {message}. Nothing was imported.",
                         errors={f"line {line}": message})


def _weight(text: str, line: int) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise _bad(line, f"weight {text!r} is not a whole number") from None


def read_csv(text: str) -> VocabularyFile:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise _bad(1, "the file is empty: it needs a header row naming its columns") from None
    except csv.Error as exc:
        raise _bad(1, str(exc)) from None
    unknown = [column for column in header if column not in _COLUMNS]
    if unknown or "name" not in header:
        raise _bad(1, f"the header must name the columns name, parents, description, weight"
                      f" (unknown: {', '.join(unknown) or 'none'})")
    rows: list[ImportRow] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                raise _bad(line, f"{len(cells)} cells for {len(header)} columns")
            values = dict(zip(header, cells, strict=False))
            parents = values.get("parents", values.get("parent", ""))
            rows.append(ImportRow(
                line=line,
                name=values.get("name", ""),
                parents=tuple(p.strip() for p in parents.split(PARENT_SEPARATOR) if p.strip()),
                description=values.get("description") or None,
                weight=_weight(values.get("weight", ""), line),
            ))
    except csv.Error as exc:
        raise _bad(reader.line_num, str(exc)) from None
    return VocabularyFile(rows)


def _scalar(node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise _bad(node.start_mark.line + 1, f"{what} must be a single value")
    return str(node.value)


def _tags(node: yaml.Node, parent: str | None, rows: list[ImportRow]) -> None:
    """The rows of a YAML list of tags under ``parent``, depth first (parents first)."""
    if not isinstance(node, yaml.SequenceNode):
        raise _bad(node.start_mark.line + 1, "tags must be a list")
    for entry in node.value:
        line = entry.start_mark.line + 1
        parents = (parent,) if parent else ()
        if isinstance(entry, yaml.ScalarNode):
            rows.append(ImportRow(line=line, name=str(entry.value), parents=parents))
            continue
        if not isinstance(entry, yaml.MappingNode):
            raise _bad(line, "a tag must be a name or a mapping with a name")
        values: dict[str, yaml.Node] = {}
        for key, value in entry.value:
            name = _scalar(key, "a key")
            if name not in ("name", "description", "weight", "children"):
                raise _bad(key.start_mark.line + 1, f"unknown key {name!r} (allowed: name,"
                                                    " description, weight, children)")
            values[name] = value
        if "name" not in values:
            raise _bad(line, "a tag needs a name")
        name = _scalar(values["name"], "name")
        weight = None
        if "weight" in values:
            weight = _weight(_scalar(values["weight"], "weight"), line)
        description = None
        if "description" in values:
            description = _scalar(values["description"], "description")
        rows.append(ImportRow(line=line, name=name, parents=parents, description=description,
                              weight=weight))
        if "children" in values:
            _tags(values["children"], name, rows)


def read_yaml(text: str) -> VocabularyFile:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise _bad(line, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise _bad(1, f"not valid YAML: {exc}") from None
    if root is None:
        raise _bad(1, "the file is empty")
    rows: list[ImportRow] = []
    if isinstance(root, yaml.SequenceNode):
        _tags(root, None, rows)
        return VocabularyFile(rows)
    if not isinstance(root, yaml.MappingNode):
        raise _bad(root.start_mark.line + 1, "expected a list of tags or a mapping with tags")
    found: dict[str, yaml.Node] = {}
    for key, value in root.value:
        name = _scalar(key, "a key")
        if name not in ("vocabulary", "label", "tags"):
            raise _bad(key.start_mark.line + 1,
                       f"unknown key {name!r} (allowed: vocabulary, label, tags)")
        found[name] = value
    if "tags" in found:
        _tags(found["tags"], None, rows)
    return VocabularyFile(
        rows,
        vocabulary=_scalar(found["vocabulary"], "vocabulary") if "vocabulary" in found else None,
        label=_scalar(found["label"], "label") if "label" in found else None,
    )


def read_file(name: str, text: str) -> VocabularyFile:
    """A ``.csv`` file as CSV, anything else as YAML."""
    return read_csv(text) if name.lower().endswith(".csv") else read_yaml(text)


# -- export --------------------------------------------------------------------------------------


def _node_yaml(node: TreeNode) -> dict[str, Any]:
    tag = node.tag
    out: dict[str, Any] = {"name": tag.name}
    if not node.repeated:  # details once; a repeat only adds the parent
        if tag.description:
            out["description"] = tag.description
        if tag.weight:
            out["weight"] = tag.weight
    if node.children:
        out["children"] = [_node_yaml(child) for child in node.children]
    return out


def write_yaml(vocabulary: Vocabulary, tree: Sequence[TreeNode]) -> str:
    """The vocabulary as YAML that :func:`read_yaml` reads back to the same tags."""
    document = {"vocabulary": vocabulary.id, "label": vocabulary.label,
                "tags": [_node_yaml(node) for node in tree]}
    return str(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


def write_csv(tags: Sequence[Tag]) -> str:
    """The vocabulary's tags (in weight, name order) as CSV, each after all its parents."""
    by_id = {tag.id: tag for tag in tags}
    waiting = {tag.id: sum(1 for p in tag.parents if p in by_id) for tag in tags}
    children: dict[uuid.UUID, list[Tag]] = {}
    for tag in tags:
        for parent in tag.parents:
            children.setdefault(parent, []).append(tag)
    ready = deque(tag for tag in tags if waiting[tag.id] == 0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "parents", "description", "weight"])
    while ready:
        tag = ready.popleft()
        parents = PARENT_SEPARATOR.join(by_id[p].name for p in tag.parents if p in by_id)
        writer.writerow([tag.name, parents, tag.description, tag.weight])
        for child in children.get(tag.id, ()):
            waiting[child.id] -= 1
            if waiting[child.id] == 0:
                ready.append(child)
    return out.getvalue()


__all__ = ["VocabularyFile", "read_csv", "read_file", "read_yaml", "write_csv", "write_yaml"]
