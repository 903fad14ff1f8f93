"""``/api/v1/batches/{id}``: a batch the caller started through the API (the search index's
rebuild after ``PUT /api/v1/search/language``), read and driven.

A batch is the admin's long operation (:mod:`trovato.batch`): nothing runs in the background,
whoever asks drives it. ``GET`` reads the progress; ``POST …/step`` does the next chunk (the
operation checks the caller's permission at every step and reports what it skipped) and
answers the progress. A batch belongs to the user who started it: anyone else is told it does
not exist (404), as is everyone once it expired (a day after it was last touched).
"""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, ResponseModel
from trovato.api.routing import Param, api_routes, operation
from trovato.batch import Batch
from trovato.kernel.access import require_login
from trovato.kernel.batches import batches
from trovato.kernel.context import request_context

BATCH_PATH = "/api/v1/batches/{batch_id}"
BATCH_PARAM = Param("batch_id", "path", {"type": "string", "maxLength": 64},
                    "The batch's id, as the operation that started it answered")


class BatchProgress(ResponseModel):
    id: str
    title: str
    processed: int = Field(description="Keys (chunks of records) handled so far")
    total: int = Field(description="Keys in all")
    done: int = Field(description="Keys done")
    skipped: int = Field(description="Keys skipped (see `skipped_reasons`)")
    skipped_reasons: list[str] = Field(description="Why each skipped key was skipped")
    percent: int
    finished: bool
    url: str = Field(description="This batch's API path: POST to `url`/step to drive it")


def progress(batch: Batch) -> dict[str, object]:
    """The batch as :class:`BatchProgress` shows it."""
    return {**batch.progress(),
            "skipped_reasons": [f"{label}: {reason}" for label, reason in batch.skipped],
            "url": BATCH_PATH.format(batch_id=batch.id)}


@operation("GET", BATCH_PATH, operation_id="getBatch", summary="A batch's progress",
           tag="Batches", responses={200: BatchProgress}, problems=(404,),
           params=(BATCH_PARAM,))
async def get_batch(request: Request) -> Response:
    user = require_login(request)
    batch = await batches(request_context(request).kernel).get(
        request.path_params["batch_id"], str(user.id))
    return JSON(progress(batch))


@operation("POST", BATCH_PATH + "/step", operation_id="stepBatch",
           summary="Do a batch's next chunk", tag="Batches", responses={200: BatchProgress},
           problems=(404,), params=(BATCH_PARAM,))
async def step_batch(request: Request) -> Response:
    user = require_login(request)
    batch = await batches(request_context(request).kernel).step(
        request.path_params["batch_id"], str(user.id), user)
    return JSON(progress(batch))


routes = api_routes(get_batch, step_batch)
