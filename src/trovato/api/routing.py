"""API operations declared next to their handlers, and the routes built from them.

Each handler carries an :class:`Operation` (``@operation(...)``): method, path, request body
model, response model per status, parameters and the problems it can answer. :func:`api_routes`
groups the operations of one path into one :class:`ApiRoute`, which dispatches by method and
answers any other method with 405 and an ``Allow`` header naming exactly the documented
methods. ``trovato.api.openapi`` builds the document from the app's ``ApiRoute`` s, and
:func:`read_body` validates a request with the same model the document shows, so the two
cannot disagree. :class:`Problem` is the document every error answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.api._http import read_json
from trovato.errors import ServiceError

Handler = Callable[[Request], Awaitable[Response]]
Schema = dict[str, Any]
M = TypeVar("M", bound=BaseModel)
# A schema (a model's, or a field's) carrying ``{DOCUMENTED_BY: "Name"}`` is documented by the
# component ``Name`` instead: one of the schemas that follow the site's configuration (see
# ``trovato.api.configured``), which pydantic cannot refer to from its own definitions.
DOCUMENTED_BY = "x-documented-by"


def documented_by(component: str) -> Callable[[Schema], None]:
    """A model's ``json_schema_extra``: the document shows the model as the configured
    ``component``. The model's own schema stays as the generic shape the component is
    built from."""

    def mark(schema: Schema) -> None:
        schema[DOCUMENTED_BY] = component

    return mark


class Problem(BaseModel):
    """RFC 9457 problem details."""

    # Problem documents may be extended (RFC 9457 §3.2).
    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: dict[str, str] = Field(
        default_factory=dict,
        description="A message per invalid field, keyed by its path (e.g. `fields.field_count`).")
    # The stages API declares the conflict's shape (``StageConflict``).
    conflicts: list[dict[str, Any]] = Field(
        default_factory=list, description="A refused publish's unresolved conflicts.",
        json_schema_extra={"items": {DOCUMENTED_BY: "StageConflict"}})


@dataclass(frozen=True)
class Param:
    """A path or query parameter (the stage header is declared per operation with ``stage``)."""

    name: str
    where: Literal["path", "query"]
    schema: Schema
    description: str


@dataclass(frozen=True)
class Operation:
    """What the document says about one handler.

    ``responses`` maps a success status to the pydantic model of its body (``None``: no
    content). ``body`` is the pydantic model the request body is validated with. A model
    whose exact shape follows configuration (the per-item-type schemas) says so with
    :func:`documented_by`. ``problems`` are the operation's own error statuses; the common
    ones (auth, stage, rate limit, outage, and the body's) are added to every operation.
    """

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    responses: dict[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    body_required: bool = True
    problems: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    stage: bool = False
    description: str | None = None
    handler: Handler | None = field(default=None, compare=False)
    # The body's media type; ``multipart/form-data`` bodies (uploads) are read by the handler.
    body_media: str = "application/json"


def operation(method: str, path: str, *, operation_id: str, summary: str, tag: str,
              responses: dict[int, type[BaseModel] | None],
              body: type[BaseModel] | None = None, body_required: bool = True,
              problems: tuple[int, ...] = (), params: tuple[Param, ...] = (),
              stage: bool = False, description: str | None = None,
              body_media: str = "application/json") -> Callable[[Handler], Handler]:
    """Declare the handler's operation (see :class:`Operation`)."""

    def declare(handler: Handler) -> Handler:
        declared = [*operations_of(handler), Operation(
            method.upper(), path, operation_id, summary, tag, responses, body, body_required,
            problems, params, stage, description, handler, body_media)]
        handler.__api_operations__ = declared  # type: ignore[attr-defined]
        return handler

    return declare


def operations_of(handler: Handler) -> list[Operation]:
    """The operations declared on ``handler`` (one per ``@operation``, e.g. PATCH and PUT)."""
    return list(getattr(handler, "__api_operations__", []))


_SCOPE_KEY = "trovato.api_operation"


async def read_body(request: Request, model: type[M]) -> M:
    """The request body as ``model``, which must be the running operation's declared body
    model: what the document shows is what is validated."""
    running = request.scope.get(_SCOPE_KEY)
    if not isinstance(running, Operation) or running.body is not model:
        raise RuntimeError(f"{model.__name__} is not the declared body of this operation")
    return await read_json(request, model)


class ApiRoute(Route):
    """All operations on one path; other methods get 405 with the documented ``Allow``."""

    def __init__(self, path: str, operations: list[Operation]) -> None:
        self.operations = {op.method: op for op in operations}
        allow = ", ".join(self.operations)

        async def dispatch(request: Request) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            found = self.operations.get(method)
            if found is None or found.handler is None:
                raise ServiceError(405, f"{request.method} is not allowed here.",
                                   headers={"allow": allow})
            request.scope[_SCOPE_KEY] = found
            return await found.handler(request)

        super().__init__(path, dispatch)
        self.methods = None  # every method reaches ``dispatch``, which owns the 405


def api_routes(*handlers: Handler) -> list[Route]:
    """One :class:`ApiRoute` per path of the handlers' operations, in declaration order."""
    by_path: dict[str, list[Operation]] = {}
    for handler in handlers:
        ops = operations_of(handler)
        if not ops:
            raise TypeError(f"{handler.__qualname__} has no @operation")
        for op in ops:
            by_path.setdefault(op.path, []).append(op)
    return [ApiRoute(path, ops) for path, ops in by_path.items()]
