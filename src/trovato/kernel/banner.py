"""The stage banner: every HTML page rendered in a stage other than live says so at its top.

The request pipeline notes the stage's label and how the request came to be in it
(``stage_label`` and ``stage_via`` in the context's ``extra``, see step 7 of
:mod:`trovato.kernel.pipeline`); :func:`stage_banner` turns them into a render tree (the label
is text, so it is escaped like any other) and renders it for ``page.html``'s ``stage_banner``
variable. The way back to live depends on the way in: a preview link is left with
``?preview=end``, a session's stage is switched on the switcher page, and a stage asked for
in the URL is left by dropping it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from markupsafe import Markup

from trovato.kernel.context import RequestContext
from trovato.render import elements as el
from trovato.stages import LIVE
from trovato.stages.preview import END, QUERY_PARAM

SWITCH_PATH = "/stage/switch"


def _way_back(via: str, path: str) -> tuple[str, str]:
    if via == "preview":
        return "Leave the preview", f"{path}?{QUERY_PARAM}={END}"
    if via == "session":
        query = urlencode({"stage": LIVE, "destination": path})
        return "Switch back to live", f"{SWITCH_PATH}?{query}"
    return "View this page in live", path


_NO_BANNER = Markup("")


def stage_banner(ctx: RequestContext, path: str) -> Markup:
    """The banner of a page at ``path`` (empty in live, and for requests with no page)."""
    label = ctx.extra.get("stage_label")
    if label is None:
        return _NO_BANNER
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        path = "/"  # the links stay on this site whatever the request's path looked like
    via = str(ctx.extra.get("stage_via", "request"))
    what = "a preview of stage" if via == "preview" else "stage"
    text, href = _way_back(via, path)
    tree = el.container(
        {
            "notice": el.markup(f"You are viewing {what} {label} — not live.", tag="strong"),
            "back": el.link(text, href, attributes={"class": "stage-banner__back"}),
        },
        tag="aside",
        attributes={"class": "stage-banner", "role": "status", "aria-label": "Stage"},
    )
    return ctx.kernel.templates.render_tree(tree)
