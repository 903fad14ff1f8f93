"""Gather definitions as YAML, the form they travel in (``trovato gather export|import`` and the
admin's export download and import form).

Reading is bounded: the text's size is capped before the parser sees it, and only plain YAML
(``safe_load``: no tags building objects) is read, so a pasted document cannot make the
parser run away. What the YAML holds is then checked like any definition, by the service.
"""

from __future__ import annotations

from typing import Any, Final

from trovato.gather.definition import Definition, GatherError

MAX_YAML: Final = 256 * 1024  # characters of one definition's YAML


def dump_yaml(definition: Definition) -> str:
    """``definition``'s document as YAML, keys in the model's order."""
    import yaml  # only exports and imports need it, not serving pages

    text: str = yaml.safe_dump(definition.document(), sort_keys=False, allow_unicode=True)
    return text


def load_yaml(text: str, *, part: str = "yaml") -> dict[str, Any]:
    """The definition document in ``text`` (YAML, or JSON, which is YAML);
    :class:`GatherError` 422 naming ``part`` when it is too long, not YAML, or not one
    mapping with a ``name``."""
    import yaml  # only exports and imports need it, not serving pages

    if len(text) > MAX_YAML:
        raise GatherError(422, f"The definition is longer than {MAX_YAML} characters.",
                          field=part, errors={part: f"must be at most {MAX_YAML} characters"})
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        raise GatherError(422, f"The definition is not valid YAML{at}.", field=part,
                          errors={part: f"is not valid YAML{at}"}) from None
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise GatherError(422, "The definition must be one mapping with a 'name'.", field=part,
                          errors={part: "must be one mapping with a 'name'"})
    return document
