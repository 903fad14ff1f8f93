"""The search language (``/admin/config/search/language``; permission ``administer site
configuration``): the PostgreSQL text search configuration every search vector and query uses,
which decides how words are stemmed ("plugin" finds "Plugins" in ``english``; ``simple`` reads
words as written).

The form offers the configurations the database has. Saving goes through the search service's
one way to change the language (:meth:`~trovato.search.Search.set_language`), which checks the
name and logs the change; the index is then rebuilt as a batch (:mod:`trovato.search.
reindexing`) whose progress page the save leads to, so a site of any size is reindexed in steps
with a progress bar rather than within the request (``trovato search language`` shows a
progress bar on the command line).
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trovato.forms import form as forms
from trovato.kernel.batches import batches
from trovato.kernel.context import request_context
from trovato.kernel.csrf import form_post
from trovato.render import elements as el
from trovato.render.elements import RenderElement
from trovato.search import Search
from trovato.search.reindexing import ADMINISTER_LANGUAGE, change_language
from trovato.web.admin import render_admin, require_admin
from trovato.web.admin._confirm import Done, act
from trovato.web.admin.people import csrf_token, refusal
from trovato.web.admin.search_weights import BASE as WEIGHTS

BASE: Final = "/admin/config/search/language"
FORM_ID: Final = "search_language"
PERMISSION: Final = ADMINISTER_LANGUAGE
LABELS: Final = {"language": "Search language"}


def _search(request: Request) -> Search:
    search: Search = request_context(request).kernel.search
    return search


def _form(languages: list[str], current: str) -> RenderElement:
    return forms.form(FORM_ID, BASE, {
        "about": el.markup("How words are matched: in a language's configuration a search"
                           " finds the words' other forms (english: \u201cplugin\u201d finds"
                           " \u201cPlugins\u201d); simple matches words as written. Saving"
                           " recomputes the search words of every item, with a progress bar;"
                           " until it ends, searches may miss items.",
                           tag="p", weight=-1),
        "language": {"#type": "select", "#name": "language", "#title": LABELS["language"],
                     "#required": True, "#options": {name: name for name in languages},
                     "#default_value": current,
                     "#description": "A text search configuration of the database."},
        "actions": {"#type": "actions", "#weight": 1000,
                    "save": forms.submit("save", title="Save search language"),
                    "weights": el.link("Search weights", WEIGHTS, weight=1)},
    })


async def _built(request: Request) -> RenderElement:
    search = _search(request)
    ctx = request_context(request)
    return await ctx.kernel.forms.build(_form(await search.languages(), await search.language()),
                                        user=ctx.current_user)


def _page(request: Request, tree: RenderElement, *, values: forms.FormValues | None = None,
          errors: forms.FormErrors | None = None, status: int = 200) -> Response:
    form = request_context(request).kernel.forms.render(
        tree, csrf_token=csrf_token(request), values=values, errors=errors, labels=LABELS)
    return render_admin(request, "admin/layout.html",
                        {"title": "Search language", "content": form},
                        status_code=status, form=True)


async def edit_language(request: Request) -> Response:
    require_admin(request, PERMISSION)
    return _page(request, await _built(request))


@form_post
async def save_language(request: Request) -> Response:
    user = require_admin(request, PERMISSION)
    tree = await _built(request)

    async def save(values: forms.FormValues) -> Done:
        language = forms.text_values(values).get("language", "")
        changed, batch = await change_language(
            batches(request_context(request).kernel), _search(request), language,
            actor=user.id, return_to=BASE)
        if not changed:
            return Done(f"The search language already was {language}.", BASE,
                        {"language": language})
        if batch is None:  # no item to reindex
            return Done(f"The search language is now {language}.", BASE, {"language": language})
        return Done(f"The search language is now {language}; the search index is being"
                    " rebuilt.", f"/admin/batch/{batch.id}", {"language": language})

    async def show(values: forms.FormValues, errors: forms.FormErrors,
                   status: int) -> Response:
        return _page(request, tree, values=values, errors=errors, status=status)

    return await act(request, tree, save, show, refused=lambda exc: refusal(exc, LABELS))


routes = [
    Route(BASE, edit_language, methods=["GET"]),
    Route(BASE, save_language, methods=["POST"]),
]
