"""``/admin/batch/{id}``: a batch's progress page, which also drives the batch.

Each request for the page (or for its JSON, ``/admin/batch/{id}.json``) does the next chunk of
the batch (:meth:`trovato.batch.Batches.step`) and answers with the progress. Without
JavaScript the page refreshes itself (a ``<meta http-equiv="refresh">``, in ``<noscript>``);
with it, ``batch.js`` asks for the JSON again and again and moves the ``<progress>`` bar. When
the batch is finished, the page flashes what was done (and what was skipped, and why) and
redirects to where the batch was started from; the batch is then forgotten.

The pages change state on GET because they only continue what the user confirmed with a
CSRF-checked POST: the id is random (128 bits), and the batch belongs to its starter — any
other user is told it does not exist.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from trovato.batch import Batch
from trovato.content.bulk import summary
from trovato.kernel.batches import batches
from trovato.kernel.context import request_context
from trovato.web._page import flash
from trovato.web.admin import render_admin, require_admin

# Skipped records named in the final message; the rest are counted.
NAMED_SKIPS: Final = 10


def _report(request: Request, batch: Batch) -> None:
    """Flash what the finished batch did."""
    action = str(batch.params.get("action") or "")
    if batch.operation.startswith("content."):
        flash(request, "status", summary(action, batch.done))
    elif isinstance(finished := batch.params.get("finished"), str):  # the starter's words
        flash(request, "status", finished)
    else:
        flash(request, "status", f"{batch.title}: {batch.done} done.")
    if batch.skipped:
        named = "; ".join(f"{label}: {reason}" for label, reason in batch.skipped[:NAMED_SKIPS])
        more = len(batch.skipped) - NAMED_SKIPS
        tail = f" (and {more} more)" if more > 0 else ""
        count = len(batch.skipped)
        flash(request, "warning", f"Skipped {count} item{'' if count == 1 else 's'}: "
                                  f"{named}{tail}.")


async def progress_page(request: Request) -> Response:
    user = require_admin(request)
    kernel = request_context(request).kernel
    service = batches(kernel)
    batch = await service.step(request.path_params["id"], str(user.id), user)
    if batch.finished:
        _report(request, batch)
        await service.forget(batch.id)
        return RedirectResponse(batch.return_to, status_code=303)
    return render_admin(request, "admin/batch.html", {"title": batch.title, "batch": batch})


async def progress_json(request: Request) -> Response:
    user = require_admin(request)
    kernel = request_context(request).kernel
    batch = await batches(kernel).step(request.path_params["id"], str(user.id), user)
    # The page itself reports the end and forgets the batch: the script goes there.
    return JSONResponse({**batch.progress(), "url": f"/admin/batch/{batch.id}"})


routes = [
    # First: "{id}" would also match "x.json".
    Route("/admin/batch/{id}.json", progress_json, methods=["GET"]),
    Route("/admin/batch/{id}", progress_page, methods=["GET"]),
]
