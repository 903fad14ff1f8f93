"""``/api/v1/categories``: vocabularies, tags, a vocabulary's tree, a tag's relatives, moves.

Thin on purpose: access, validation, slugs and the hierarchy's rules are the categories
service's (:class:`~trovato.categories.service.Categories`). A vocabulary's ``id`` is its
machine name; a tag's is its UUID. Reading needs ``access content``; writing ``administer
categories``, in live (a write asked in another stage is a 409). A change of parents that
would close a loop is a 422 naming it (``a → b → c → a``) with the loop's ids in ``loop``.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trovato.api._http import JSON, PatchModel, ResponseModel, StrictModel
from trovato.api.routing import DOCUMENTED_BY, Param, api_routes, operation, read_body
from trovato.categories.model import (
    DESCRIPTION_MAX,
    LABEL_MAX,
    MAX_PARENTS,
    NAME_MAX,
    VOCABULARY_ID_MAX,
    VOCABULARY_ID_PATTERN,
    WEIGHT_LIMIT,
    CategoryError,
)
from trovato.categories.service import Categories
from trovato.categories.slugs import SLUG_MAX, SLUG_PATTERN
from trovato.categories.tags import AUTOCOMPLETE_MAX
from trovato.categories.tree import Direction
from trovato.kernel.context import request_context

TAG = "Categories"
VOCABULARY_PATH = "/api/v1/categories/vocabularies/{id}"
TAG_PATH = "/api/v1/categories/tags/{id}"
# One line, not blank (what the service accepts; it strips the ends).
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
VOCABULARY_ID = Param("id", "path", {"type": "string", "pattern": VOCABULARY_ID_PATTERN,
                                     "maxLength": VOCABULARY_ID_MAX},
                      "A vocabulary's machine name")
TAG_ID = Param("id", "path", {"type": "string", "format": "uuid"}, "A tag id")
STARTING = Param("starting", "query", {"type": "string", "maxLength": NAME_MAX},
                 f"Only tags whose name starts so, case-insensitively (at most"
                 f" {AUTOCOMPLETE_MAX}: autocomplete)")

Weight = Field(default=0, ge=-WEIGHT_LIMIT, le=WEIGHT_LIMIT)
HierarchyMode = Literal["none", "single", "multiple"]
ParentIds = list[str]


def _parents_field(default: Any) -> Any:
    return Field(default=default, max_length=MAX_PARENTS,
                 json_schema_extra={"items": {"type": "string", "format": "uuid"}},
                 description="Parent tag ids (of the same vocabulary); none: a top-level tag")


class VocabularyCreateBody(StrictModel):
    id: str = Field(min_length=1, max_length=VOCABULARY_ID_MAX, pattern=VOCABULARY_ID_PATTERN,
                    description="The machine name")
    label: str = Field(min_length=1, max_length=LABEL_MAX, pattern=LINE_PATTERN)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    hierarchy: HierarchyMode = Field(
        default="multiple",
        description="Parents a tag may have: none (a flat list), single (a tree), multiple")
    weight: int = Weight


class VocabularyPatchBody(PatchModel):
    label: str | None = Field(default=None, min_length=1, max_length=LABEL_MAX,
                              pattern=LINE_PATTERN)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    hierarchy: HierarchyMode | None = None
    weight: int | None = Field(default=None, ge=-WEIGHT_LIMIT, le=WEIGHT_LIMIT)


class Vocabulary(ResponseModel):
    id: str
    label: str
    description: str
    hierarchy: HierarchyMode
    weight: int


class VocabularyList(ResponseModel):
    vocabularies: list[Vocabulary]


class TagCreateBody(StrictModel):
    vocabulary: str = Field(max_length=VOCABULARY_ID_MAX,
                            json_schema_extra={DOCUMENTED_BY: "VocabularyName"})
    name: str = Field(min_length=1, max_length=NAME_MAX, pattern=LINE_PATTERN)
    parents: ParentIds = _parents_field([])
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    weight: int = Weight
    slug: str | None = Field(default=None, min_length=1, max_length=SLUG_MAX,
                             pattern=SLUG_PATTERN,
                             description="Left out: made from the name (unique in the"
                                         " vocabulary)")


class TagPatchBody(PatchModel):
    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX,
                             pattern=LINE_PATTERN)
    parents: ParentIds | None = _parents_field(None)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    weight: int | None = Field(default=None, ge=-WEIGHT_LIMIT, le=WEIGHT_LIMIT)
    slug: str | None = Field(default=None, min_length=1, max_length=SLUG_MAX,
                             pattern=SLUG_PATTERN)


class TagMoveBody(StrictModel):
    parents: ParentIds = _parents_field(...)
    weight: int | None = Field(default=None, ge=-WEIGHT_LIMIT, le=WEIGHT_LIMIT,
                               description="Its place among its siblings (left out: kept)")


class Tag(ResponseModel):
    id: uuid.UUID
    vocabulary: str
    name: str
    slug: str
    description: str
    weight: int
    parents: list[uuid.UUID]
    path: str = Field(description="The tag's page")


class TagList(ResponseModel):
    tags: list[Tag]


class TreeNode(ResponseModel):
    """A tag with its children. A tag with several parents appears under each; its children
    are listed under its first appearance, and its other appearances are ``repeated``."""

    id: uuid.UUID
    vocabulary: str
    name: str
    slug: str
    description: str
    weight: int
    parents: list[uuid.UUID]
    path: str
    repeated: bool
    children: list[TreeNode]


class VocabularyTree(ResponseModel):
    vocabulary: str
    tree: list[TreeNode]


def _service(request: Request) -> Categories:
    return request_context(request).kernel.categories


def _tag_path(tag_id: uuid.UUID | str) -> str:
    return f"/api/v1/categories/tags/{tag_id}"


# -- vocabularies ------------------------------------------------------------------------------


@operation("GET", "/api/v1/categories/vocabularies", operation_id="listVocabularies",
           summary="List vocabularies", tag=TAG, responses={200: VocabularyList})
async def list_vocabularies(request: Request) -> Response:
    found = await _service(request).vocabularies(request_context(request).current_user)
    return JSON({"vocabularies": [v.public() for v in found]})


@operation("POST", "/api/v1/categories/vocabularies", operation_id="createVocabulary",
           summary="Create a vocabulary", tag=TAG, responses={201: Vocabulary},
           body=VocabularyCreateBody, problems=(409,))
async def create_vocabulary(request: Request) -> Response:
    body = await read_body(request, VocabularyCreateBody)
    made = await _service(request).create_vocabulary(
        request_context(request).current_user, body.id, body.label,
        description=body.description, hierarchy=body.hierarchy, weight=body.weight)
    return JSON(made.public(), status_code=201,
                headers={"location": f"/api/v1/categories/vocabularies/{made.id}"})


@operation("GET", VOCABULARY_PATH, operation_id="getVocabulary", summary="Get a vocabulary",
           tag=TAG, responses={200: Vocabulary}, problems=(404,), params=(VOCABULARY_ID,))
async def get_vocabulary(request: Request) -> Response:
    found = await _service(request).vocabulary(request_context(request).current_user,
                                               request.path_params["id"])
    return JSON(found.public())


@operation("PATCH", VOCABULARY_PATH, operation_id="patchVocabulary",
           summary="Change a vocabulary", tag=TAG, responses={200: Vocabulary},
           body=VocabularyPatchBody, problems=(404, 409), params=(VOCABULARY_ID,),
           description="A stricter `hierarchy` is refused (409) while a tag has more parents"
                       " than it allows.")
async def patch_vocabulary(request: Request) -> Response:
    body = await read_body(request, VocabularyPatchBody)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    changed = await _service(request).update_vocabulary(
        request_context(request).current_user, request.path_params["id"], **changes)
    return JSON(changed.public())


@operation("DELETE", VOCABULARY_PATH, operation_id="deleteVocabulary",
           summary="Delete a vocabulary and its tags", tag=TAG, responses={204: None},
           problems=(404,), params=(VOCABULARY_ID,))
async def delete_vocabulary(request: Request) -> Response:
    await _service(request).delete_vocabulary(request_context(request).current_user,
                                              request.path_params["id"])
    return Response(status_code=204)


@operation("GET", f"{VOCABULARY_PATH}/tree", operation_id="getVocabularyTree",
           summary="A vocabulary's tags as a tree", tag=TAG, responses={200: VocabularyTree},
           problems=(404,), params=(VOCABULARY_ID,), stage=True)
async def vocabulary_tree(request: Request) -> Response:
    ctx = request_context(request)
    vocabulary = request.path_params["id"]
    tree = await _service(request).tree(ctx.current_user, vocabulary, stage=ctx.stage)
    return JSON({"vocabulary": vocabulary, "tree": [node.public() for node in tree]})


@operation("GET", f"{VOCABULARY_PATH}/tags", operation_id="listVocabularyTags",
           summary="A vocabulary's tags, by weight and name", tag=TAG,
           responses={200: TagList}, problems=(404,), params=(VOCABULARY_ID, STARTING),
           stage=True)
async def list_tags(request: Request) -> Response:
    ctx = request_context(request)
    starting = request.query_params.get("starting")
    if starting is not None and len(starting) > NAME_MAX:
        raise CategoryError(422, "Invalid listing parameters.",
                            errors={"starting": f"must be at most {NAME_MAX} characters"})
    tags = await _service(request).tags(ctx.current_user, request.path_params["id"],
                                        stage=ctx.stage, starting=starting)
    return JSON({"tags": [t.public() for t in tags]})


# -- tags --------------------------------------------------------------------------------------


@operation("POST", "/api/v1/categories/tags", operation_id="createTag", summary="Create a tag",
           tag=TAG, responses={201: Tag}, body=TagCreateBody, problems=(409,), stage=True)
async def create_tag(request: Request) -> Response:
    ctx = request_context(request)
    body = await read_body(request, TagCreateBody)
    tag = await _service(request).create_tag(
        ctx.current_user, body.vocabulary, body.name, parents=body.parents,
        description=body.description, weight=body.weight, slug=body.slug, stage=ctx.stage)
    return JSON(tag.public(), status_code=201, headers={"location": _tag_path(tag.id)})


@operation("GET", TAG_PATH, operation_id="getTag", summary="Get a tag", tag=TAG,
           responses={200: Tag}, problems=(404,), params=(TAG_ID,), stage=True)
async def get_tag(request: Request) -> Response:
    ctx = request_context(request)
    tag = await _service(request).tag(ctx.current_user, request.path_params["id"],
                                      stage=ctx.stage)
    return JSON(tag.public())


@operation("PATCH", TAG_PATH, operation_id="patchTag", summary="Change a tag", tag=TAG,
           responses={200: Tag}, body=TagPatchBody, problems=(404, 409), params=(TAG_ID,),
           stage=True,
           description="`parents` replaces the parents; a loop is refused (422) naming it."
                       " Renaming keeps the slug unless a new one is given.")
async def patch_tag(request: Request) -> Response:
    ctx = request_context(request)
    body = await read_body(request, TagPatchBody)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    tag = await _service(request).update_tag(ctx.current_user, request.path_params["id"],
                                             stage=ctx.stage, **changes)
    return JSON(tag.public())


@operation("DELETE", TAG_PATH, operation_id="deleteTag", summary="Delete a tag", tag=TAG,
           responses={204: None}, problems=(404, 409), params=(TAG_ID,), stage=True,
           description="Its children lose it as a parent; those with no other become"
                       " top-level tags. Items referring to it lose the reference, each with"
                       " a new revision.")
async def delete_tag(request: Request) -> Response:
    ctx = request_context(request)
    await _service(request).delete_tag(ctx.current_user, request.path_params["id"],
                                       stage=ctx.stage)
    return Response(status_code=204)


@operation("POST", f"{TAG_PATH}/move", operation_id="moveTag",
           summary="Move a tag: new parents, and optionally a new weight", tag=TAG,
           responses={200: Tag}, body=TagMoveBody, problems=(404, 409), params=(TAG_ID,),
           stage=True)
async def move_tag(request: Request) -> Response:
    ctx = request_context(request)
    body = await read_body(request, TagMoveBody)
    tag = await _service(request).move(ctx.current_user, request.path_params["id"],
                                       body.parents, weight=body.weight, stage=ctx.stage)
    return JSON(tag.public())


async def _relatives(request: Request, direction: Direction) -> Response:
    """A tag's ancestors or descendants: the two routes below differ only in ``direction``."""
    ctx = request_context(request)
    service = _service(request)
    tag = await service.tag(ctx.current_user, request.path_params["id"], stage=ctx.stage)
    found = await service.relatives(ctx.current_user, tag, direction, stage=ctx.stage)
    return JSON({"tags": [t.public() for t in found]})


@operation("GET", f"{TAG_PATH}/ancestors", operation_id="listTagAncestors",
           summary="A tag's ancestors, nearest first", tag=TAG, responses={200: TagList},
           problems=(404,), params=(TAG_ID,), stage=True)
async def tag_ancestors(request: Request) -> Response:
    return await _relatives(request, "up")


@operation("GET", f"{TAG_PATH}/descendants", operation_id="listTagDescendants",
           summary="A tag's descendants, nearest first", tag=TAG, responses={200: TagList},
           problems=(404,), params=(TAG_ID,), stage=True)
async def tag_descendants(request: Request) -> Response:
    return await _relatives(request, "down")


routes = api_routes(list_vocabularies, create_vocabulary, get_vocabulary, patch_vocabulary,
                    delete_vocabulary, vocabulary_tree, list_tags, create_tag, get_tag,
                    patch_tag, delete_tag, move_tag, tag_ancestors, tag_descendants)
