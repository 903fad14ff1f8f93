"""The redirects admin (/admin/config/search/redirect): listed by source with a pager, added
and edited through forms whose refusals are shown next to the input they name with what was
typed (escaped), deleted after a confirmation, each change flashed; listed in the Configuration
overview and the toolbar; for ``administer redirects`` only, with the form's CSRF token."""

from __future__ import annotations

import httpx

from tests.api.conftest import login_as
from tests.plugins.conftest import kernel_of
from tests.web._item_forms import hidden_inputs
from tests.web.admin.conftest import grant
from trovato.routing import Redirects

BASE = "/admin/config/search/redirect"


def _redirects(client: httpx.AsyncClient) -> Redirects:
    redirects: Redirects = kernel_of(client).redirects
    return redirects


async def test_adding_editing_and_deleting_a_redirect(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    overview = await site.get("/admin/config")
    assert f'href="{BASE}"' in overview.text and "URL redirects" in overview.text
    empty = await site.get(BASE)
    assert empty.status_code == 200 and "There are no redirects yet." in empty.text
    assert f'href="{BASE}/add"' in empty.text

    form = await site.get(f"{BASE}/add")
    assert form.status_code == 200
    assert '<option value="301" selected' in form.text
    bad = await site.post(f"{BASE}/add", data={
        **hidden_inputs(form.text), "source": "//evil.com", "op": "save",
        "destination": "javascript:alert('<b>')", "status_code": "301"})
    assert bad.status_code == 422
    assert "The source must be a path of this site" in bad.text
    assert "The destination must be a path of this site or an http:// or https:// address." \
        in bad.text
    assert "javascript:alert(&#39;&lt;b&gt;&#39;)" in bad.text  # what was typed, escaped
    assert bad.text.count('aria-invalid="true"') == 2
    unknown = await site.post(f"{BASE}/add", data={
        **hidden_inputs(form.text), "source": "/a", "destination": "/b", "status_code": "200",
        "op": "save"})
    assert unknown.status_code == 400  # not one of the options: the form's own check

    added = await site.post(f"{BASE}/add", data={
        **hidden_inputs(form.text), "source": "/old", "destination": "/new",
        "status_code": "302", "op": "save"})
    assert added.status_code == 303 and added.headers["location"] == BASE
    listing = await site.get(BASE)
    assert "Saved the redirect from /old to /new." in listing.text
    (made,) = (await _redirects(site).page()).redirects
    assert (made.source, made.destination, made.status_code) == ("/old", "/new", 302)
    assert f'href="{BASE}/{made.id}"' in listing.text

    loop = await site.post(f"{BASE}/add", data={
        **hidden_inputs(form.text), "source": "/new", "destination": "/old",
        "status_code": "301", "op": "save"})
    assert loop.status_code == 422 and "that would be a loop" in loop.text
    twice = await site.post(f"{BASE}/add", data={
        **hidden_inputs(form.text), "source": "/old/", "destination": "/x",
        "status_code": "301", "op": "save"})
    assert twice.status_code == 409 and "The source /old is already redirected." in twice.text

    edit = await site.get(f"{BASE}/{made.id}")
    assert edit.status_code == 200 and 'value="/old"' in edit.text
    assert '<option value="302" selected' in edit.text
    saved = await site.post(f"{BASE}/{made.id}", data={
        **hidden_inputs(edit.text), "source": "/older", "destination": "https://example.com/",
        "status_code": "308", "op": "save"})
    assert saved.status_code == 303
    changed = await _redirects(site).get(made.id)
    assert changed is not None
    assert (changed.source, changed.destination, changed.status_code) == (
        "/older", "https://example.com/", 308)

    confirm = await site.get(f"{BASE}/{made.id}/delete")
    assert confirm.status_code == 200
    assert "Delete the redirect from /older to https://example.com/?" in confirm.text
    deleted = await site.post(f"{BASE}/{made.id}/delete", data={
        **hidden_inputs(confirm.text), "op": "confirm"})
    assert deleted.status_code == 303
    assert "Deleted the redirect from /older." in (await site.get(BASE)).text
    assert await _redirects(site).get(made.id) is None
    for path in (f"{BASE}/{made.id}", f"{BASE}/{made.id}/delete", f"{BASE}/not-an-id"):
        assert (await site.get(path)).status_code == 404


async def test_the_list_pages(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    redirects = _redirects(site)
    for n in range(55):
        await redirects.create(f"/old/{n:02d}", "/new", actor=None)
    first = await site.get(BASE)
    assert "/old/00" in first.text and "/old/50" not in first.text
    assert "55 in all" in first.text and f'href="{BASE}?page=1"' in first.text
    second = await site.get(BASE, params={"page": "1"})
    assert "/old/50" in second.text and "/old/49" not in second.text
    assert (await site.get(BASE, params={"page": "x"})).status_code == 200


async def test_a_stale_or_missing_csrf_token_changes_nothing(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    missing = await site.post(f"{BASE}/add", data={"source": "/old", "destination": "/new",
                                                   "status_code": "301", "op": "save"})
    assert missing.status_code in (400, 403)
    assert "The form has expired, please submit again." in missing.text
    assert 'value="/old"' in missing.text  # what was typed, kept
    assert (await _redirects(site).page()).total == 0


async def test_redirects_need_administer_redirects(site: httpx.AsyncClient) -> None:
    await login_as(site, "root")
    made = await _redirects(site).create("/old", "/new", actor=None)
    await grant(site, "editor", "access administration pages", "administer site configuration")
    headers = await login_as(site, "editor")
    assert BASE not in (await site.get("/admin/config")).text
    assert (await site.get(BASE)).status_code == 403
    for path in (f"{BASE}/add", f"{BASE}/{made.id}", f"{BASE}/{made.id}/delete"):
        assert (await site.get(path)).status_code == 403, path
        refused = await site.post(path, data={"csrf_token": headers["X-CSRF-Token"],
                                              "source": "/x", "destination": "/y",
                                              "status_code": "301", "op": "confirm"})
        assert refused.status_code == 403, path
    assert [r.source for r in (await _redirects(site).page()).redirects] == ["/old"]
    site.cookies.clear()
    assert (await site.get(BASE)).status_code == 403
    await grant(site, "redirector", "access administration pages", "administer redirects")
    await login_as(site, "redirector")
    assert (await site.get(BASE)).status_code == 200
    assert f'href="{BASE}"' in (await site.get("/admin/config")).text
    matrix = await site.get("/admin/people/permissions")
    assert matrix.status_code == 403  # the matrix is not theirs
    await login_as(site, "root")
    assert "Administer redirects" in (await site.get("/admin/people/permissions")).text
