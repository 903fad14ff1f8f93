"""``/admin/structure/categories``: vocabularies and their tags, for ``administer categories``.

* ``/admin/structure/categories`` — the vocabularies (label, machine name, hierarchy) and a
  form adding one;
* ``/admin/structure/categories/{vocabulary}`` — its tags as a tree (each linking to its edit
  form and its page) and a form adding a tag;
* ``/admin/structure/categories/{vocabulary}/tags/{id}`` — a tag's edit form (name, slug,
  parents, description, weight) and a link to deleting it;
* ``/admin/structure/categories/{vocabulary}/tags/{id}/delete`` — the confirmation saying what
  deleting the tag keeps and removes, and the deletion.

Thin: every decision (validation, slugs, loops, hierarchy modes) is the categories service's;
its refusals are shown on the form, next to the input they name, with what was typed kept.
Forms are built with the form API and drawn by the theme; every POST carries the CSRF token.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trovato.categories.model import ADMINISTER_CATEGORIES, CategoryError, Tag, TreeNode
from trovato.forms import form as forms
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.web._page import flash
from trovato.web.admin import render_admin, require_admin
from trovato.web.admin._confirm import Done, act, confirm_tree

BASE = "/admin/structure/categories"
_HIERARCHY_OPTIONS = {"multiple": "Several parents per tag", "single": "One parent per tag",
                      "none": "No hierarchy (a flat list)"}


def _vocabulary_path(vocabulary: str) -> str:
    return f"{BASE}/{vocabulary}"


def _tag_path(tag: Tag) -> str:
    return f"{BASE}/{tag.vocabulary}/tags/{tag.id}"


async def _page(request: Request, title: str, parts: list[Markup], *, status: int = 200,
                form: bool = True) -> Response:
    return render_admin(request, "admin/layout.html",
                        {"title": title, "content": Markup("").join(parts)},
                        status_code=status, form=form)


def _heading(request: Request, text: str) -> Markup:
    return request_context(request).kernel.templates.render_tree(el.markup(text, tag="h2"))


def _render_form(request: Request, tree: RenderElement, values: forms.FormValues | None,
                 errors: dict[str, str] | None) -> Markup:
    ctx = request_context(request)
    assert ctx.session is not None  # the pipeline's session step ran
    return ctx.kernel.forms.render(tree, csrf_token=ctx.session.csrf_token(), values=values,
                                   errors=errors)


def _field_errors(exc: CategoryError, known: set[str]) -> dict[str, str]:
    """The refusal's messages keyed by the form's inputs (``parents.0`` → ``parents``); what
    names no input goes to the form as a whole."""
    errors: dict[str, str] = {}
    problems = exc.problem_errors()
    for key, message in problems.items():
        name = key.split(".", 1)[0]
        # One problem: the refusal's own sentence says it best ("A vocabulary 'x' exists
        # already."); several: each input's message.
        errors.setdefault(name if name in known else "",
                          exc.message if len(problems) == 1 else message)
    if not errors or "" in errors:
        errors.pop("", None)
        errors.setdefault("name" if "name" in known else next(iter(known)), exc.message)
    return errors


async def _validated(request: Request, tree: RenderElement
                     ) -> tuple[forms.FormValues, dict[str, str]]:
    ctx = request_context(request)
    values = forms.read(tree, await request.form())
    errors = forms.check(tree, values)
    for key, message in (await ctx.kernel.forms.validate(tree, values,
                                                        user=ctx.current_user)).items():
        errors.setdefault(key, message)
    return values, errors


def _weight(text: Any) -> int:
    try:
        return int(str(text or "0"))
    except ValueError:
        return 0  # the number check has refused it already


# -- vocabularies ------------------------------------------------------------------------------


def _vocabulary_form() -> RenderElement:
    return forms.form("category_vocabulary_add", BASE, {
        "label": {"#type": "textfield", "#name": "label", "#title": "Name", "#required": True,
                  "#maxlength": 255},
        "id": {"#type": "textfield", "#name": "id", "#title": "Machine name",
               "#required": True, "#maxlength": 64,
               "#description": "Lowercase letters, digits and underscores, starting with a"
                               " letter; used in tag page addresses. It cannot be changed."},
        "hierarchy": {"#type": "select", "#name": "hierarchy", "#title": "Hierarchy",
                      "#options": _HIERARCHY_OPTIONS, "#default_value": "multiple"},
        "description": {"#type": "textarea", "#name": "description", "#title": "Description"},
        "actions": {"#type": "actions", "submit": forms.submit("add", title="Add vocabulary")},
    })


async def _vocabularies_page(request: Request, values: forms.FormValues | None = None,
                             errors: dict[str, str] | None = None,
                             status: int = 200) -> Response:
    ctx = request_context(request)
    found = await ctx.kernel.categories.vocabularies(ctx.current_user)
    rows: list[list[str | RenderElement]] = [
        [el.link(v.label, _vocabulary_path(v.id)), v.id, _HIERARCHY_OPTIONS[v.hierarchy]]
        for v in found]
    listing = (el.table(["Name", "Machine name", "Hierarchy"], rows) if rows
               else el.markup("There are no vocabularies yet.", tag="p"))
    tree = await ctx.kernel.forms.build(_vocabulary_form(), user=ctx.current_user)
    return await _page(request, "Categories", [
        ctx.kernel.templates.render_tree(listing),
        _heading(request, "Add a vocabulary"),
        _render_form(request, tree, values, errors),
    ], status=status)


async def vocabularies(request: Request) -> Response:
    require_admin(request, ADMINISTER_CATEGORIES)
    return await _vocabularies_page(request)


async def add_vocabulary(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_CATEGORIES)
    ctx = request_context(request)
    tree = await ctx.kernel.forms.build(_vocabulary_form(), user=user)
    values, errors = await _validated(request, tree)
    if not errors:
        try:
            made = await ctx.kernel.categories.create_vocabulary(
                user, str(values["id"]).strip(), str(values["label"]),
                description=str(values["description"]), hierarchy=str(values["hierarchy"]))
        except CategoryError as exc:
            errors = _field_errors(exc, {"id", "label", "hierarchy", "description"})
        else:
            flash(request, "status", f"Created the vocabulary “{made.label}”.")
            return RedirectResponse(_vocabulary_path(made.id), status_code=303)
    return await _vocabularies_page(request, values, errors, status=400)


# -- tags --------------------------------------------------------------------------------------


def _tag_form(action: str, form_id: str, options: dict[str, str], *, title: str,
              tag: Tag | None = None) -> RenderElement:
    elements: dict[str, RenderElement] = {
        "name": {"#type": "textfield", "#name": "name", "#title": "Name", "#required": True,
                 "#maxlength": 255, "#default_value": tag.name if tag else ""},
        "parents": {"#type": "checkboxes", "#name": "parents", "#title": "Parents",
                    "#options": options,
                    "#default_value": [str(p) for p in tag.parents] if tag else [],
                    "#description": "None: a top-level tag."},
        "description": {"#type": "textarea", "#name": "description", "#title": "Description",
                        "#default_value": tag.description if tag else ""},
        "weight": {"#type": "number", "#name": "weight", "#title": "Weight",
                   "#default_value": str(tag.weight if tag else 0), "#step": "1",
                   "#description": "Lighter tags come first among their siblings."},
        "actions": {"#type": "actions", "submit": forms.submit("save", title=title)},
    }
    if tag is not None:
        elements["slug"] = {"#type": "textfield", "#name": "slug", "#title": "Slug",
                            "#required": True, "#maxlength": 128, "#default_value": tag.slug,
                            "#weight": 1, "#description": "The tag page's address:"
                            f" /tags/{tag.vocabulary}/…"}
        elements["actions"]["#weight"] = 10
    if not options:
        del elements["parents"]
    return forms.form(form_id, action, elements)


def _tree_list(nodes: tuple[TreeNode, ...] | list[TreeNode]) -> RenderElement:
    """The tree as nested lists: each tag links to its edit form, then to its page."""
    entries: list[str | RenderElement] = []
    for node in nodes:
        tag = node.tag
        entry = el.container({
            "edit": el.link(tag.name + (" (again)" if node.repeated else ""), _tag_path(tag)),
            "view": el.link("view", tag.path, attributes={"class": ["tag-view"]}, weight=1),
        })
        if node.children:
            entry["children"] = {**_tree_list(node.children), "#weight": 2}
        entries.append(entry)
    return el.item_list(entries, attributes={"class": ["tag-tree"]})


async def _parent_options(request: Request, vocabulary: str, exclude: Tag | None = None
                          ) -> dict[str, str]:
    ctx = request_context(request)
    tags = await ctx.kernel.categories.tags(ctx.current_user, vocabulary)
    return {str(t.id): t.name for t in tags if exclude is None or t.id != exclude.id}


async def _vocabulary_page(request: Request, values: forms.FormValues | None = None,
                           errors: dict[str, str] | None = None,
                           status: int = 200) -> Response:
    ctx = request_context(request)
    service = ctx.kernel.categories
    vocabulary = await service.vocabulary(ctx.current_user, request.path_params["vocabulary"])
    nodes = await service.tree(ctx.current_user, vocabulary.id)
    options = {} if vocabulary.hierarchy == "none" else \
        await _parent_options(request, vocabulary.id)
    tree = await ctx.kernel.forms.build(
        _tag_form(_vocabulary_path(vocabulary.id), "category_tag_add", options,
                  title="Add tag"), user=ctx.current_user)
    listing = _tree_list(nodes) if nodes else el.markup("No tags yet.", tag="p")
    return await _page(request, vocabulary.label, [
        ctx.kernel.templates.render_tree(listing),
        _heading(request, "Add a tag"),
        _render_form(request, tree, values, errors),
    ], status=status)


async def vocabulary_page(request: Request) -> Response:
    require_admin(request, ADMINISTER_CATEGORIES)
    return await _vocabulary_page(request)


async def add_tag(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_CATEGORIES)
    ctx = request_context(request)
    service = ctx.kernel.categories
    vocabulary = await service.vocabulary(user, request.path_params["vocabulary"])
    options = await _parent_options(request, vocabulary.id)
    tree = await ctx.kernel.forms.build(
        _tag_form(_vocabulary_path(vocabulary.id), "category_tag_add", options,
                  title="Add tag"), user=user)
    values, errors = await _validated(request, tree)
    if not errors:
        try:
            tag = await service.create_tag(
                user, vocabulary.id, str(values["name"]),
                parents=list(values.get("parents") or []),
                description=str(values["description"]), weight=_weight(values["weight"]),
                stage=ctx.stage)
        except CategoryError as exc:
            errors = _field_errors(exc, {"name", "parents", "description", "weight"})
        else:
            flash(request, "status", f"Added the tag “{tag.name}”.")
            return RedirectResponse(_vocabulary_path(vocabulary.id), status_code=303)
    return await _vocabulary_page(request, values, errors, status=400)


async def _tag_page(request: Request, tag: Tag, values: forms.FormValues | None = None,
                    errors: dict[str, str] | None = None, status: int = 200) -> Response:
    ctx = request_context(request)
    options = await _parent_options(request, tag.vocabulary, exclude=tag)
    tree = await ctx.kernel.forms.build(
        _tag_form(_tag_path(tag), "category_tag_edit", options, title="Save", tag=tag),
        user=ctx.current_user)
    delete = el.link("Delete tag", f"{_tag_path(tag)}/delete",
                     attributes={"class": "button button--danger"})
    return await _page(request, f"Edit tag {tag.name}", [
        _render_form(request, tree, values, errors),
        ctx.kernel.templates.render_tree(el.container({"delete": delete}, tag="p")),
    ], status=status)


async def _tag(request: Request) -> Tag:
    ctx = request_context(request)
    tag = await ctx.kernel.categories.tag(ctx.current_user, request.path_params["id"])
    if tag.vocabulary != request.path_params["vocabulary"]:
        raise CategoryError(404, "No such tag.")
    return tag


async def tag_page(request: Request) -> Response:
    require_admin(request, ADMINISTER_CATEGORIES)
    return await _tag_page(request, await _tag(request))


async def save_tag(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_CATEGORIES)
    ctx = request_context(request)
    tag = await _tag(request)
    options = await _parent_options(request, tag.vocabulary, exclude=tag)
    tree = await ctx.kernel.forms.build(
        _tag_form(_tag_path(tag), "category_tag_edit", options, title="Save", tag=tag),
        user=user)
    values, errors = await _validated(request, tree)
    if not errors:
        changes: dict[str, Any] = {
            "name": str(values["name"]), "slug": str(values["slug"]).strip(),
            "description": str(values["description"]), "weight": _weight(values["weight"])}
        if options:
            changes["parents"] = list(values.get("parents") or [])
        try:
            saved = await ctx.kernel.categories.update_tag(user, tag.id, stage=ctx.stage,
                                                           **changes)
        except CategoryError as exc:
            errors = _field_errors(exc, {"name", "slug", "parents", "description", "weight"})
        else:
            flash(request, "status", f"Saved the tag “{saved.name}”.")
            return RedirectResponse(_vocabulary_path(saved.vocabulary), status_code=303)
    return await _tag_page(request, tag, values, errors, status=400)


async def _delete_tree(request: Request, tag: Tag) -> RenderElement:
    ctx = request_context(request)
    return await ctx.kernel.forms.build(confirm_tree(
        "category_tag_delete", f"{_tag_path(tag)}/delete",
        f"Are you sure you want to delete the tag “{tag.name}”?", "Delete tag", _tag_path(tag),
        consequence="Its children stay (they lose it as a parent); the items tagged with it"
                    " lose the tag, each with a new revision. This cannot be undone."),
        user=ctx.current_user)


async def _delete_page(request: Request, tag: Tag, tree: RenderElement,
                       errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return await _page(request, f"Delete tag {tag.name}",
                       [_render_form(request, tree, None, errors)], status=status)


async def delete_tag_form(request: Request) -> Response:
    require_admin(request, ADMINISTER_CATEGORIES)
    tag = await _tag(request)
    return await _delete_page(request, tag, await _delete_tree(request, tag))


@form_post
async def delete_tag(request: Request) -> Response:
    user = require_admin(request, ADMINISTER_CATEGORIES)
    ctx = request_context(request)
    tag = await _tag(request)
    tree = await _delete_tree(request, tag)

    async def delete(values: forms.FormValues) -> Done:
        _, items = await ctx.kernel.categories.delete_tag(user, tag.id, stage=ctx.stage)
        used = f" It was removed from {items} item{'s' if items != 1 else ''}." if items else ""
        return Done(f"Deleted the tag “{tag.name}”.{used}", _vocabulary_path(tag.vocabulary),
                    {"tag_id": str(tag.id)})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return await _delete_page(request, tag, tree, errors, status)

    return await act(request, tree, delete, show)


routes = [
    Route(BASE, vocabularies, methods=["GET"]),
    Route(BASE, add_vocabulary, methods=["POST"]),
    Route(BASE + "/{vocabulary}", vocabulary_page, methods=["GET"]),
    Route(BASE + "/{vocabulary}", add_tag, methods=["POST"]),
    Route(BASE + "/{vocabulary}/tags/{id}", tag_page, methods=["GET"]),
    Route(BASE + "/{vocabulary}/tags/{id}", save_tag, methods=["POST"]),
    Route(BASE + "/{vocabulary}/tags/{id}/delete", delete_tag_form, methods=["GET"]),
    Route(BASE + "/{vocabulary}/tags/{id}/delete", delete_tag, methods=["POST"]),
]
