"""``POST /form/ajax``: a form's rebuild (e.g. "Add another value") with JavaScript.

The small script of the forms (``frontend/src/forms.js``, served as ``/assets/js/forms.js``)
sends the whole form here, with the rebuild button pressed (or, for a dependent region, the
region's update button when its choosing input changed: :mod:`trovato.forms.dependent`),
instead of submitting it; the
answer is the HTML of the rebuilt part only, which the script puts in place of the old one.
Without JavaScript the same button submits the form to its own route, which rebuilds the whole
form the same way (the form's owner does both: :data:`REBUILDS`).

Nothing the browser sends is trusted: the form's build id (its hidden input, in the body: a
sealed state can be longer than a URL should be) must hold a form state of this session (else
403; an expired one is a 400 and the script falls back to submitting the form, which shows it
again with the values kept), the form must be one that has rebuilds, and its owner checks
access and the button as for a submission. The answer ends with the hidden input of the
rebuilt state's new build id, which the script puts in the form in place of the old one
(:meth:`~trovato.forms.service.Forms.render_region`). The request carries the session's CSRF
token in the form body like any form post (checked by the pipeline).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from trovato.errors import ServiceError
from trovato.forms.item_form import ITEM_FORM
from trovato.forms.service import BUILD_ID_FIELD, EXPIRED
from trovato.forms.state import FormState, FormStateError
from trovato.kernel.context import request_context
from trovato.web import item_edit
from trovato.web.admin import field_add
from trovato.web.admin import gather as admin_gather
from trovato.web.admin.gather_form import EDITOR_FORM
from trovato.web.item_edit import TAMPERED, session_token

Rebuild = Callable[[Request, FormState, FormData], Awaitable[Markup]]

# The forms that have rebuild buttons, by form id: each owner's handler of the AJAX rebuild.
REBUILDS: Mapping[str, Rebuild] = {ITEM_FORM: item_edit.ajax_rebuild,
                                    EDITOR_FORM: admin_gather.ajax_rebuild,
                                    field_add.ADD_FORM: field_add.ajax_rebuild}


async def rebuild(request: Request) -> Response:
    ctx = request_context(request)
    submitted = await request.form()
    try:
        state = ctx.kernel.forms.states.find(submitted.get(BUILD_ID_FIELD),
                                             session_token(ctx))
    except FormStateError as exc:
        if exc.reason == "expired":
            raise ServiceError(400, EXPIRED) from None
        raise ServiceError(403, TAMPERED) from None
    handler = REBUILDS.get(state.form_id)
    if handler is None:
        raise ServiceError(400, "This form has no part that can be rebuilt.")
    html = await handler(request, state, submitted)
    return HTMLResponse(html, headers={"cache-control": "private, no-store"})


routes = [Route("/form/ajax", rebuild, methods=["POST"])]
