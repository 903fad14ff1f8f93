"""The tag fields of the item form: what each shows for its tags, and the names typed into it
resolved to tags before the content service saves.

A tag field is one input of comma-separated names (:mod:`trovato.forms.tag_text`). A name is
looked up in the vocabularies the field allows (its ``target_bundles``; none named: every
vocabulary) through the categories service, in the stage edited:

* one tag there has it: that tag;
* none has it: a new tag, made by the content service on save, when the field allows free
  tagging (``free_tagging``) and names a vocabulary to put it in; otherwise an error next to
  the field naming the tag;
* two or more have it: an error listing them as "Name (id)", which the field takes as typed,
  since picking one would be a guess. The field shows such a tag as "Name (id)" too.

The JSON API is not this: it takes ids, or names resolved by the content service alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trovato.categories.model import Tag
from trovato.content.fields import FieldDefinition
from trovato.content.items import Item
from trovato.content.types import ItemType
from trovato.errors import ServiceError
from trovato.forms.tag_text import tag_token
from trovato.kernel.context import RequestContext


def tag_fields(item_type: ItemType) -> list[FieldDefinition]:
    """The tag reference fields of ``item_type``."""
    return [d for d in item_type.fields
            if d.type == "reference" and d.settings.get("target_type") == "category_tag"]


def _values(fields: Mapping[str, Any], definition: FieldDefinition) -> list[Mapping[str, Any]]:
    value = fields.get(definition.name)
    values = value if isinstance(value, list) else [value] if value else []
    return [v for v in values if isinstance(v, Mapping)]


async def _vocabularies(ctx: RequestContext, definition: FieldDefinition) -> list[str]:
    named = [str(b) for b in definition.settings.get("target_bundles") or ()]
    return named or await ctx.kernel.categories.vocabulary_names()


async def _by_name(ctx: RequestContext, definition: FieldDefinition, names: set[str]
                   ) -> dict[str, list[Tag]]:
    """The tags of the field's vocabularies named as in ``names``, by lowercased name."""
    found: dict[str, list[Tag]] = {}
    tags = await ctx.kernel.categories.tags_named(
        ctx.current_user, await _vocabularies(ctx, definition), names, stage=ctx.stage)
    for tag in tags:
        found.setdefault(tag.name.lower(), []).append(tag)
    return found


async def tag_tokens(ctx: RequestContext, item_type: ItemType, item: Item | None,
                     labels: Mapping[str, str]) -> dict[str, str]:
    """What the form shows for each tag ``item``'s tag fields hold (``labels``: the tags'
    names by id): its name, or "Name (id)" when another tag of the field's vocabularies has
    the same name. One read per tag field holding tags."""
    tokens: dict[str, str] = {}
    if item is None:
        return tokens
    for definition in tag_fields(item_type):
        held = [str(v["target_id"]) for v in _values(item.fields, definition)
                if v.get("target_id") and str(v["target_id"]) in labels]
        if not held:
            continue
        by_name = await _by_name(ctx, definition, {labels[t] for t in held})
        for target in held:
            name = labels[target]
            shared = len(by_name.get(name.lower(), ())) > 1
            # A tag shared in one field's vocabularies shows with its id in every field.
            if shared or target not in tokens:
                tokens[target] = tag_token(name, target if shared else None)
    return tokens


async def resolve(ctx: RequestContext, item_type: ItemType, fields: dict[str, Any]
                  ) -> dict[str, str]:
    """Replace, in ``fields`` (a parsed submission), each name typed into a tag field by the
    tag it names (module docstring); the fields whose names cannot be used, with why, by
    error key. Names left as names are new tags for the content service to make."""
    errors: dict[str, str] = {}
    for definition in tag_fields(item_type):
        values = _values(fields, definition)
        names = {str(v["name"]) for v in values if "name" in v}
        if not names:
            continue
        by_name = await _by_name(ctx, definition, names)
        may_create = definition.settings.get("free_tagging", True) is not False \
            and bool(definition.settings.get("target_bundles"))
        resolved: list[Mapping[str, Any]] = []
        problems: list[str] = []
        unknown: list[str] = []
        for value in values:
            if "name" not in value:
                resolved.append(value)
                continue
            name = str(value["name"])
            tags = by_name.get(name.lower(), [])
            if len(tags) == 1:
                resolved.append({"target_id": str(tags[0].id), "target_type": "category_tag"})
            elif tags:
                problems.append(f"“{name}” is the name of {len(tags)} tags; write the one you"
                                f" mean with its id: {_choices(tags)}.")
            elif may_create:
                resolved.append(value)  # free tagging: the content service makes it
            else:
                unknown.append(name)
        if unknown:
            where = await _vocabulary_labels(ctx, definition)
            problems.append(f"There is no tag {_names(unknown)} in {where}; this field takes"
                            " existing tags only.")
        if problems:
            errors[f"fields.{definition.name}"] = " ".join(problems)
        elif definition.multiple:
            fields[definition.name] = list(resolved) or None
        else:
            fields[definition.name] = resolved[0] if resolved else None
    return errors


def field_errors(item_type: ItemType, errors: Mapping[str, str]) -> dict[str, str]:
    """``errors`` of a save with those about one value of a tag field (``fields.tags.1``, as
    the content service names them) put on the field, whose one input holds every value."""
    fields = {f"fields.{d.name}" for d in tag_fields(item_type) if d.multiple}
    moved: dict[str, str] = {}
    for key, message in errors.items():
        base = key.rpartition(".")[0]
        if base in fields:
            moved[base] = f"{moved[base]} {message}" if base in moved else message
        else:
            moved[key] = message
    return moved


def _choices(tags: Sequence[Tag]) -> str:
    return " or ".join(f"“{tag_token(t.name, str(t.id))}” (in {t.vocabulary})" for t in tags)


def _names(names: Sequence[str]) -> str:
    """``names`` quoted and joined: “a”, “b” or “c”."""
    quoted = [f"“{name}”" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


async def _vocabulary_labels(ctx: RequestContext, definition: FieldDefinition) -> str:
    """The field's vocabularies as the error names them: by label."""
    named = [str(b) for b in definition.settings.get("target_bundles") or ()]
    if not named:
        return "any vocabulary"
    labels = []
    for name in named:
        try:
            vocabulary = await ctx.kernel.categories.vocabulary(ctx.current_user, name)
        except ServiceError:  # deleted since the field was set up: named by machine name
            labels.append(name)
        else:
            labels.append(vocabulary.label)
    return _names(labels)
