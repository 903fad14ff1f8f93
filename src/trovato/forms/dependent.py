"""Dependent parts of a form: an input whose choice decides what another part of the form holds
(a field's type decides which settings and widgets it offers), declared as data.

The part is a *region* (``data-ajax-region``) holding the choosing input (the *trigger*) and
its *update button*, a rebuild button. Without JavaScript the button submits the form, whose
owner stores the new choice in the form's state and shows the whole form again,
rebuilt; with it, the forms' script (``frontend/src/ajax.js``) hides the button and presses
it whenever the trigger changes, so the region alone is rebuilt through
``POST /form/ajax`` from that same state. Either way the server reads the choice
from the rebuilt tree, where it must be one of the input's options.
"""

from __future__ import annotations

from trovato.forms import form as forms
from trovato.render.elements import RenderElement


def region(element: RenderElement) -> RenderElement:
    """``element`` (a fieldset or container with an ``#error_key``, which names it to
    :meth:`~trovato.forms.service.Forms.render_region`) marked as a rebuildable part."""
    return {**element, "#attributes": {**element.get("#attributes", {}),
                                       "data-ajax-region": True}}


def trigger(element: RenderElement, button: str) -> RenderElement:
    """``element`` (an input of a region) marked to press the region's update button whose
    value is ``button`` when its value changes."""
    return {**element, "#attributes": {**element.get("#attributes", {}),
                                       "data-ajax-trigger": button}}


def update_button(value: str, title: str, *, weight: float | None = None,
                  label: str | None = None) -> RenderElement:
    """The update button of a region: a rebuild button (``value`` under ``op``, reading
    ``title``; ``label`` its accessible name when the title alone is vague) that the script
    hides, since it presses the button itself."""
    button = forms.submit(value, title=title, weight=weight)
    attributes: dict[str, object] = {"class": "button--small", "data-ajax": "rebuild",
                                     "data-ajax-update": True}
    if label is not None:
        attributes["aria-label"] = label
    button["#attributes"] = attributes
    return button
