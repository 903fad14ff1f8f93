"""Python twins of the kernel's form element templates (``elements/textfield.html`` …).

An item's edit form draws a hundred form elements (each field's wrapper, label, input and
group); through Jinja2 each is a template context and several macro calls (``_form.html``'s
``wrapper``, ``label``, ``common``, ``messages``) — nearly all of the form page's time. These
twins follow :mod:`trovato.render.native`'s contract: *exactly* the templates' output for any
element, every value through :func:`~trovato.render.native.escape_html`, attributes through
the shared policy; ``tests/render/test_native.py`` renders a corpus of form elements (the XSS
corpus included) both ways. A theme that provides its own template for an element, or its own
``_form.html`` (the macros the form templates use), still gets them rendered by Jinja.
"""

from __future__ import annotations

from trovato.render.elements import safe_url
from trovato.render.native import (
    Drawer,
    Element,
    Twin,
    attribute_text,
    children_html,
    escape_html,
    value_html,
)

_e = escape_html
try:  # what escape_html runs for a plain str, called directly by the hottest twins
    from markupsafe._speedups import _escape_inner as _escape_text
except ImportError:  # pragma: no cover - markupsafe built without its speedups
    _escape_text = escape_html
FORM_MACROS = "_form.html"
_REQUIRED = ' <span class="form-required" title="This field is required.">*</span>'


def _id(e: Element) -> str:
    return _e(e.get("#id") or "")


def _describedby(e: Element) -> str:
    """``_form.html``'s ``describedby``: the ids of the error and description shown."""
    ident = e.get("#id") or ""
    error, description = e.get("#error"), e.get("#description")
    parts = []
    if error:
        parts.append(f"{ident}--error")
    if description:
        parts.append(f"{ident}--description")
    invalid = ' aria-invalid="true"' if error else ""
    return f'{invalid} aria-describedby="{_e(" ".join(parts))}"' if parts else invalid


def _messages(e: Element) -> str:
    """``_form.html``'s ``messages``: the inline error, then the description."""
    parts = []
    if e.get("#error"):
        parts.append(f'<div class="form-item__error error" id="{_id(e)}--error">'
                     f'{_e(e["#error"])}</div>')
    if e.get("#description"):
        parts.append(f'<div class="form-item__description description" id="{_id(e)}--description">'
                     f'{_e(e["#description"])}</div>')
    return "".join(parts)


def _control(e: Element) -> tuple[str, str, str, str]:
    """What every control's twin draws around its ``<input>``: ``_form.html``'s ``common``
    attributes, its ``label``, its ``messages`` (the inline error, then the description) and
    the wrapper's error class. One function reading each property once: a form draws dozens
    of controls, and the macros' separate twins read the same properties several times."""
    get = e.get
    raw_id, error, description = get("#id"), get("#error"), get("#description")
    ident = raw_id or ""
    # Plain strings (nearly every value) straight to the escaper: _e's own first case.
    eid = _escape_text(ident) if type(ident) is str else _e(ident)
    name = get("#name") or ""
    name = _escape_text(name) if type(name) is str else _e(name)
    required = get("#required")
    common = f' id="{eid}" name="{name}"' if raw_id else f' name="{name}"'
    if required:
        common += " required"
    if get("#disabled"):
        common += " disabled"
    for key in ("#maxlength", "#placeholder", "#autocomplete"):
        value = get(key)
        if value:
            common += f' {key[1:]}="{_e(value)}"'
    messages = ""
    if error:
        messages = f'<div class="form-item__error error" id="{eid}--error">{_e(error)}</div>'
        common += ' aria-invalid="true"'
        if description:
            common += f' aria-describedby="{_e(f"{ident}--error {ident}--description")}"'
        else:
            common += f' aria-describedby="{_e(f"{ident}--error")}"'
    elif description:
        common += f' aria-describedby="{_e(f"{ident}--description")}"'
    if description:
        messages += (f'<div class="form-item__description description" id="{eid}--description">'
                     f'{_e(description)}</div>')
    title = get("#title")
    label = (f'<label for="{eid}">'
             f'{_escape_text(title) if type(title) is str else _e(title)}'
             f'{_REQUIRED if required else ""}</label>' if title else "")
    return common, label, messages, " form-item--error" if error else ""


def _default(e: Element) -> str:
    value = e.get("#default_value") or ""
    return _escape_text(value) if type(value) is str else _e(value)


def _text_input(kind: str, input_type: str) -> Twin:
    """``_form.html``'s ``text_input``: a labelled ``<input>`` in its wrapper."""

    def draw(d: Drawer, e: Element) -> str:
        common, label, messages, error = _control(e)
        return (f'<div class="form-item form-item--{kind}{error}">\n{label}\n'
                f'<input type="{input_type}"{common} value="{_default(e)}"'
                f"{attribute_text(d, e)}>{messages}\n</div>")

    draw.__name__ = kind
    return draw


def textarea(d: Drawer, e: Element) -> str:
    common, label, messages, error = _control(e)
    return (f'<div class="form-item form-item--textarea{error}">\n{label}\n'
            f'<textarea rows="6"{common}{attribute_text(d, e)}>\n{_default(e)}'
            f"</textarea>{messages}\n</div>")


def number(d: Drawer, e: Element) -> str:
    common, label, messages, error = _control(e)
    limits = "".join(f' {key}="{_e(e[f"#{key}"])}"' for key in ("step", "min", "max")
                     if e.get(f"#{key}"))
    return (f'<div class="form-item form-item--number{error}">\n{label}\n'
            f'<input type="number"{common} value="{_default(e)}"{limits}'
            f"{attribute_text(d, e)}>{messages}\n</div>")


def url(d: Drawer, e: Element) -> str:
    common, label, messages, error = _control(e)
    return (f'<div class="form-item form-item--url{error}">\n{label}\n'
            f'<input type="text" inputmode="url"{common} value="{_default(e)}"'
            f"{attribute_text(d, e)}>{messages}\n</div>")


def datetime(d: Drawer, e: Element) -> str:
    common, label, messages, error = _control(e)
    zone = e.get("#timezone")
    after = f'<span class="form-item__zone">{_e(zone)}</span>' if zone else ""
    return (f'<div class="form-item form-item--datetime{error}">\n{label}\n'
            f'<input type="datetime-local"{common} value="{_default(e)}"'
            f"{attribute_text(d, e)}>\n{after}{messages}\n</div>")


def _bare_input(input_type: str) -> Twin:
    """A control that never shows a value again (password, file)."""

    def draw(d: Drawer, e: Element) -> str:
        common, label, messages, error = _control(e)
        return (f'<div class="form-item form-item--{input_type}{error}">\n{label}\n'
                f'<input type="{input_type}"{common}{attribute_text(d, e)}>{messages}\n</div>')

    draw.__name__ = input_type
    return draw


def checkbox(d: Drawer, e: Element) -> str:
    common, label, messages, error = _control(e)
    on = e.get("#return_value") or "1"
    checked = " checked" if e.get("#default_value") == on else ""
    return (f'<div class="form-item form-item--checkbox{error}">\n'
            f'<input type="checkbox"{common} value="{_e(on)}"{checked}'
            f"{attribute_text(d, e)}>\n{label}{messages}\n</div>")


def select(d: Drawer, e: Element) -> str:
    common, label, messages, error = _control(e)
    chosen = e.get("#default_value") or ""
    parts = [f'<div class="form-item form-item--select{error}">\n{label}',
             f"\n<select{common}{attribute_text(d, e)}>\n"]
    if e.get("#empty_option"):
        empty = "- Select -" if e.get("#required") else "- None -"
        parts.append(f'<option value="">{empty}</option>\n')
    for key, text in (e.get("#options") or {}).items():
        selected = " selected" if key == chosen else ""
        parts.append(f'<option value="{_e(key)}"{selected}>{_e(text)}</option>\n')
    parts.append(f"</select>{messages}\n</div>")
    return "".join(parts)


def _choices(input_type: str) -> Twin:
    """``radios`` / ``checkboxes``: a fieldset of options, the title as its legend."""

    def draw(d: Drawer, e: Element) -> str:
        ident = _id(e)
        name = _e(e.get("#name") or "")
        multiple = input_type == "checkbox"
        chosen = e.get("#default_value") or ([] if multiple else "")
        required = " required" if not multiple and e.get("#required") else ""
        kind = "checkboxes" if multiple else "radios"
        error = " form-item--error" if e.get("#error") else ""
        parts = [f'<fieldset class="form-item form-item--{kind}{error}" id="{ident}"'
                 f"{_describedby(e)}>\n"]
        if e.get("#title"):
            legend_required = _REQUIRED if e.get("#required") else ""
            parts.append(f"<legend>{_e(e['#title'])}{legend_required}</legend>\n")
        for index, (key, text) in enumerate((e.get("#options") or {}).items(), 1):
            checked = " checked" if (key in chosen if multiple else key == chosen) else ""
            parts.append(f'<div class="form-option"><input type="{input_type}"'
                         f' id="{ident}-{index}" name="{name}" value="{_e(key)}"{checked}'
                         f'{required}> <label for="{ident}-{index}">{_e(text)}</label></div>\n')
        parts.append(f"{_messages(e)}\n</fieldset>")
        return "".join(parts)

    draw.__name__ = "checkboxes" if input_type == "checkbox" else "radios"
    return draw


def hidden(d: Drawer, e: Element) -> str:
    return f'<input type="hidden" name="{_e(e.get("#name") or "")}" value="{_default(e)}">'


def submit(d: Drawer, e: Element) -> str:
    ident = f' id="{_e(e["#id"])}"' if e.get("#id") else ""
    value = value_html(d, e)
    name = f' name="{_e(e["#name"])}" value="{value}"' if e.get("#name") else ""
    title = e.get("#title")
    text = _e(title) if title else value
    return f'<button type="submit"{attribute_text(d, e, "button")}{ident}{name}>{text}</button>'


def actions(d: Drawer, e: Element) -> str:
    return f'<div{attribute_text(d, e, "form-actions")}>\n{children_html(d, e)}\n</div>'


def action_attribute(e: Element) -> str:
    """A form's `` action="…"`` (nothing without a safe ``#action``)."""
    action = safe_url(e["#action"]) if "#action" in e else None
    return f' action="{_e(action)}"' if action is not None else ""


def form(d: Drawer, e: Element) -> str:
    method = "get" if e.get("#method") == "get" else "post"
    target = action_attribute(e)
    multipart = ' enctype="multipart/form-data"' if e.get("#multipart") else ""
    return (f'<form{attribute_text(d, e, "form")} method="{method}"{target}{multipart}>\n'
            f"{children_html(d, e)}\n</form>")


def fieldset(d: Drawer, e: Element) -> str:
    error = "form-item--error" if e.get("#error") else ""
    ident = f' id="{_e(e["#id"])}"' if e.get("#id") else ""
    title = e.get("#title")
    legend = ""
    if title:
        required = _REQUIRED if e.get("#required") else ""
        legend = f"<legend>{_e(title)}{required}</legend>\n"
    return (f'<fieldset{attribute_text(d, e, "form-fieldset", error)}{ident}'
            f"{_describedby(e)}>\n{legend}{_messages(e)}\n{children_html(d, e)}\n</fieldset>")


def details(d: Drawer, e: Element) -> str:
    ident = f' id="{_e(e["#id"])}"' if e.get("#id") else ""
    opened = " open" if e.get("#open") else ""
    return (f'<details{attribute_text(d, e, "form-details")}{ident}{opened}>\n'
            f'<summary>{_e(e.get("#title") or "")}</summary>\n{_messages(e)}\n'
            f"{children_html(d, e)}\n</details>")


FORM_TWINS: dict[str, Twin] = {
    "elements/textfield.html": _text_input("textfield", "text"),
    "elements/email.html": _text_input("email", "email"),
    "elements/date.html": _text_input("date", "date"),
    "elements/datetime.html": datetime,
    "elements/textarea.html": textarea,
    "elements/number.html": number,
    "elements/url.html": url,
    "elements/password.html": _bare_input("password"),
    "elements/file.html": _bare_input("file"),
    "elements/checkbox.html": checkbox,
    "elements/select.html": select,
    "elements/radios.html": _choices("radio"),
    "elements/checkboxes.html": _choices("checkbox"),
    "elements/hidden.html": hidden,
    "elements/submit.html": submit,
    "elements/actions.html": actions,
    "elements/form.html": form,
    "elements/fieldset.html": fieldset,
    "elements/details.html": details,
}
"""Kernel form element template name → its Python twin."""
