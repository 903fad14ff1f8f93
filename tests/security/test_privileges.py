"""Every privilege-changing request tried by someone who lacks the privilege (finding 8 and
the category behind it).

The list of unsafe routes is read from the application's router, so a new route fails
:func:`test_every_unsafe_route_is_classified` until it is added here: either to ``ATTEMPTS``
(tried by a user without the privilege, and by an anonymous visitor) or to
``NOT_PRIVILEGE_CHANGING`` with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.routing import Route

from tests.conftest import create_account
from tests.security._accounts import kernel_of, login, person, site
from trovato.api.routing import ApiRoute
from trovato.app import routes
from trovato.ids import parse_uuid

SAFE = {"GET", "HEAD", "OPTIONS"}

NOT_PRIVILEGE_CHANGING = {
    ("POST", "/api/v1/session"): "logs in: tests/security/test_accounts.py",
    ("DELETE", "/api/v1/session"): "logs the caller's own session out",
    ("POST", "/user/login"): "logs in: tests/security/test_accounts.py",
    ("POST", "/user/logout"): "logs the caller's own session out",
    ("POST", "/stage/switch"): "switches the caller's own session to a stage they may use:"
                               " tests/web/test_stages.py",
    ("PUT", "/api/v1/session/stage"): "switches the caller's own session to a stage they may"
                                      " use: tests/web/test_stages.py",
    ("POST", "/form/ajax"): "rebuilds a form from the caller's own sealed form state (bound"
                            " to their session); saves nothing",
    ("POST", "/user/register"): "creates an account without roles, only when the site lets"
                                " visitors register: tests/web/admin/test_people.py",
    ("POST", "/api/v1/batches/{batch_id}/step"): "continues a batch the caller started (404"
                                                  " for anyone else), whose operation checks"
                                                  " the caller's permission at every step:"
                                                  " tests/api/test_search_language.py",
    ("POST", "/{path:path}"): "plugin pages: each menu entry's permission is checked at the"
                              " callback (plugin security suite)",
}


@dataclass
class Fixture:
    """What the attempts act on, made by the administrator beforehand."""

    root: str
    victim: str
    role: str
    item: str
    revision: str
    token: str
    stage: str
    preview_link: str  # of the stage
    file: str  # root's temporary upload
    redirect: str


# (method, route path) → how to try it: the concrete path and JSON body.
Attempt = Callable[[Fixture], tuple[str, dict[str, Any] | None]]

ATTEMPTS: dict[tuple[str, str], Attempt] = {
    ("POST", "/api/v1/roles"): lambda f: ("/api/v1/roles", {"name": "mine"}),
    ("DELETE", "/api/v1/roles/{role_id}"): lambda f: (f"/api/v1/roles/{f.role}", None),
    ("PUT", "/api/v1/roles/{role_id}/permissions"): lambda f: (
        f"/api/v1/roles/{f.role}/permissions", {"permissions": ["administer users"]}),
    ("PUT", "/api/v1/users/{user_id}/roles"): lambda f: (
        f"/api/v1/users/{f.victim}/roles", {"roles": [f.role]}),
    ("DELETE", "/api/v1/users/{user_id}"): lambda f: (f"/api/v1/users/{f.victim}", None),
    ("POST", "/api/v1/tokens"): lambda f: ("/api/v1/tokens", {"label": "mine"}),
    ("DELETE", "/api/v1/tokens/{token_id}"): lambda f: (f"/api/v1/tokens/{f.token}", None),
    ("POST", "/api/v1/item-types"): lambda f: (
        "/api/v1/item-types", {"type": "mine", "label": "Mine"}),
    ("PATCH", "/api/v1/item-types/{type}"): lambda f: (
        "/api/v1/item-types/page", {"label": "Mine"}),
    ("PUT", "/api/v1/item-types/{type}"): lambda f: (
        "/api/v1/item-types/page", {"label": "Mine", "fields": []}),
    ("DELETE", "/api/v1/item-types/{type}"): lambda f: ("/api/v1/item-types/page", None),
    ("PUT", "/api/v1/item-types/{type}/search-weights"): lambda f: (
        "/api/v1/item-types/page/search-weights", {"weights": {}}),
    ("PUT", "/api/v1/search/language"): lambda f: (
        "/api/v1/search/language", {"language": "simple"}),
    ("POST", "/api/v1/items"): lambda f: ("/api/v1/items", {"type": "page", "title": "x"}),
    # Uploading needs `upload files` (refused before the body is read); a temporary file is
    # its owner's alone (404 to anyone else).
    ("POST", "/api/v1/files"): lambda f: ("/api/v1/files", None),
    ("DELETE", "/api/v1/files/{id}"): lambda f: (f"/api/v1/files/{f.file}", None),
    ("PATCH", "/api/v1/items/{id}"): lambda f: (f"/api/v1/items/{f.item}", {"title": "x"}),
    ("DELETE", "/api/v1/items/{id}"): lambda f: (f"/api/v1/items/{f.item}", None),
    ("POST", "/api/v1/items/{id}/revisions/{rev}/revert"): lambda f: (
        f"/api/v1/items/{f.item}/revisions/{f.revision}/revert", None),
    ("POST", "/install"): lambda f: ("/install", None),
    ("POST", "/api/v1/stages"): lambda f: ("/api/v1/stages", {"id": "mine", "label": "Mine"}),
    ("PATCH", "/api/v1/stages/{id}"): lambda f: (f"/api/v1/stages/{f.stage}", {"label": "x"}),
    ("DELETE", "/api/v1/stages/{id}"): lambda f: (f"/api/v1/stages/{f.stage}", None),
    ("POST", "/api/v1/stages/{id}/archive"): lambda f: (f"/api/v1/stages/{f.stage}/archive",
                                                        None),
    ("POST", "/api/v1/stages/{id}/publish"): lambda f: (f"/api/v1/stages/{f.stage}/publish",
                                                        None),
    ("DELETE", "/api/v1/stages/{id}/changes/{item}"): lambda f: (
        f"/api/v1/stages/{f.stage}/changes/{f.item}", None),
    # The HTML item forms: refused before the form is even read.
    ("POST", "/item/add/{type}"): lambda f: ("/item/add/page", None),
    ("POST", "/item/{id}/edit"): lambda f: (f"/item/{f.item}/edit", None),
    ("POST", "/item/{id}/delete"): lambda f: (f"/item/{f.item}/delete", None),
    ("POST", "/item/{id}/revisions/{rev}/revert"): lambda f: (
        f"/item/{f.item}/revisions/{f.revision}/revert", None),
    ("POST", "/api/v1/stages/{id}/preview-links"): lambda f: (
        f"/api/v1/stages/{f.stage}/preview-links", {}),
    ("DELETE", "/api/v1/stages/{id}/preview-links/{link}"): lambda f: (
        f"/api/v1/stages/{f.stage}/preview-links/{f.preview_link}", None),
    ("POST", "/admin/stages/{id}/publish"): lambda f: (f"/admin/stages/{f.stage}/publish", None),
    # Managing stages in the browser: use stages to add, the owner or administer stages to
    # edit and delete, refused before the form is read.
    ("POST", "/admin/stages/add"): lambda f: ("/admin/stages/add", None),
    ("POST", "/admin/stages/{id}/edit"): lambda f: (f"/admin/stages/{f.stage}/edit", None),
    ("POST", "/admin/stages/{id}/delete"): lambda f: (f"/admin/stages/{f.stage}/delete", None),
    ("POST", "/admin/stages/{id}/archive"): lambda f: (f"/admin/stages/{f.stage}/archive",
                                                       None),
    # The people pages: refused before the form is even read.
    ("POST", "/admin/people/create"): lambda f: ("/admin/people/create", None),
    ("POST", "/admin/people/{id}/edit"): lambda f: (f"/admin/people/{f.victim}/edit", None),
    ("POST", "/admin/people/{id}/delete"): lambda f: (f"/admin/people/{f.victim}/delete", None),
    ("POST", "/admin/people/settings"): lambda f: ("/admin/people/settings", None),
    ("POST", "/admin/people/roles"): lambda f: ("/admin/people/roles", None),
    ("POST", "/admin/people/roles/{id}/edit"): lambda f: (f"/admin/people/roles/{f.role}/edit",
                                                          None),
    ("POST", "/admin/people/roles/{id}/delete"): lambda f: (
        f"/admin/people/roles/{f.role}/delete", None),
    ("POST", "/admin/people/permissions"): lambda f: ("/admin/people/permissions", None),
    ("POST", "/admin/people/permissions/{role}"): lambda f: (
        f"/admin/people/permissions/{f.role}", None),
    ("POST", "/admin/plugins/{name}/{operation}"): lambda f: ("/admin/plugins/hello/install",
                                                              None),
    ("POST", "/admin/content/bulk"): lambda f: ("/admin/content/bulk", None),
    # Categories, Gather listings and the structure screens: each needs its administer
    # permission, refused before the body is read.
    ("POST", "/api/v1/categories/vocabularies"): lambda f: (
        "/api/v1/categories/vocabularies", {"id": "mine", "label": "Mine"}),
    ("PATCH", "/api/v1/categories/vocabularies/{id}"): lambda f: (
        "/api/v1/categories/vocabularies/topics", {"label": "Mine"}),
    ("DELETE", "/api/v1/categories/vocabularies/{id}"): lambda f: (
        "/api/v1/categories/vocabularies/topics", None),
    ("POST", "/api/v1/categories/tags"): lambda f: (
        "/api/v1/categories/tags", {"vocabulary": "topics", "name": "Mine"}),
    ("PATCH", "/api/v1/categories/tags/{id}"): lambda f: (
        "/api/v1/categories/tags/00000000-0000-7000-8000-0000000000aa", {"name": "Mine"}),
    ("DELETE", "/api/v1/categories/tags/{id}"): lambda f: (
        "/api/v1/categories/tags/00000000-0000-7000-8000-0000000000aa", None),
    ("POST", "/api/v1/categories/tags/{id}/move"): lambda f: (
        "/api/v1/categories/tags/00000000-0000-7000-8000-0000000000aa/move", {"parents": []}),
    ("POST", "/api/v1/gather-definitions"): lambda f: (
        "/api/v1/gather-definitions", {"name": "mine", "label": "Mine", "base": "item"}),
    ("PUT", "/api/v1/gather-definitions/{name}"): lambda f: (
        "/api/v1/gather-definitions/frontpage", {"name": "frontpage", "label": "Mine"}),
    ("DELETE", "/api/v1/gather-definitions/{name}"): lambda f: (
        "/api/v1/gather-definitions/frontpage", None),
    ("POST", "/admin/structure/categories"): lambda f: ("/admin/structure/categories", None),
    ("POST", "/admin/structure/categories/{vocabulary}"): lambda f: (
        "/admin/structure/categories/topics", None),
    ("POST", "/admin/structure/categories/{vocabulary}/tags/{id}"): lambda f: (
        "/admin/structure/categories/topics/tags/00000000-0000-7000-8000-0000000000aa", None),
    ("POST", "/admin/structure/categories/{vocabulary}/tags/{id}/delete"): lambda f: (
        "/admin/structure/categories/topics/tags/00000000-0000-7000-8000-0000000000aa/delete",
        None),
    ("POST", "/admin/structure/tiles"): lambda f: ("/admin/structure/tiles", None),
    ("POST", "/admin/config/media/image-styles"): lambda f: (
        "/admin/config/media/image-styles", None),
    ("POST", "/admin/config/media/image-styles/{name}"): lambda f: (
        "/admin/config/media/image-styles/thumbnail", None),
    ("POST", "/admin/config/media/image-styles/{name}/delete"): lambda f: (
        "/admin/config/media/image-styles/thumbnail/delete", None),
    ("POST", "/admin/config/search/redirect/add"): lambda f: (
        "/admin/config/search/redirect/add", {"source": "/x", "destination": "/y"}),
    ("POST", "/admin/config/search/redirect/{id}"): lambda f: (
        f"/admin/config/search/redirect/{f.redirect}", {"source": "/x", "destination": "/y"}),
    ("POST", "/admin/config/search/redirect/{id}/delete"): lambda f: (
        f"/admin/config/search/redirect/{f.redirect}/delete", None),
    ("POST", "/admin/config/search/weights/{type}"): lambda f: (
        "/admin/config/search/weights/page", None),
    ("POST", "/admin/config/search/language"): lambda f: (
        "/admin/config/search/language", {"language": "simple"}),
    ("POST", "/admin/structure/menu"): lambda f: ("/admin/structure/menu", None),
    ("POST", "/admin/structure/menu/{id}/delete"): lambda f: (
        "/admin/structure/menu/00000000-0000-7000-8000-0000000000aa/delete", None),
    ("POST", "/admin/structure/tiles/{id}"): lambda f: (
        "/admin/structure/tiles/00000000-0000-7000-8000-0000000000aa", None),
    ("POST", "/admin/structure/tiles/{id}/delete"): lambda f: (
        "/admin/structure/tiles/00000000-0000-7000-8000-0000000000aa/delete", None),
    ("POST", "/admin/structure/gather/add"): lambda f: ("/admin/structure/gather/add", None),
    ("POST", "/admin/structure/gather/import"): lambda f: ("/admin/structure/gather/import",
                                                           None),
    ("POST", "/admin/structure/gather/{name}/edit"): lambda f: (
        "/admin/structure/gather/frontpage/edit", None),
    ("POST", "/admin/structure/gather/{name}/delete"): lambda f: (
        "/admin/structure/gather/frontpage/delete", None),
    ("POST", "/admin/structure/types/add"): lambda f: ("/admin/structure/types/add", None),
    ("POST", "/admin/structure/types/{type}"): lambda f: ("/admin/structure/types/page", None),
    ("POST", "/admin/structure/types/{type}/delete"): lambda f: (
        "/admin/structure/types/page/delete", None),
    ("POST", "/admin/structure/types/{type}/fields"): lambda f: (
        "/admin/structure/types/page/fields", None),
    ("POST", "/admin/structure/types/{type}/fields/add"): lambda f: (
        "/admin/structure/types/page/fields/add", None),
    ("POST", "/admin/structure/types/{type}/fields/{field}"): lambda f: (
        "/admin/structure/types/page/fields/field_body", None),
    ("POST", "/admin/structure/types/{type}/fields/{field}/delete"): lambda f: (
        "/admin/structure/types/page/fields/field_body/delete", None),
}


def unsafe_routes() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in routes():
        # An API route dispatches every method itself: its methods are its operations.
        methods = route.operations if isinstance(route, ApiRoute) else getattr(
            route, "methods", None)
        if isinstance(route, Route):
            found |= {(m, route.path) for m in methods or () if m not in SAFE}
    return found


def test_every_unsafe_route_is_classified() -> None:
    unclassified = unsafe_routes() - ATTEMPTS.keys() - NOT_PRIVILEGE_CHANGING.keys()
    assert not unclassified, f"add these routes to ATTEMPTS or NOT_PRIVILEGE_CHANGING: " \
                             f"{sorted(unclassified)}"
    stale = (ATTEMPTS.keys() | NOT_PRIVILEGE_CHANGING.keys()) - unsafe_routes()
    assert not stale, f"routes that no longer exist: {sorted(stale)}"


async def _fixture(client: httpx.AsyncClient) -> Fixture:
    kernel = kernel_of(client)
    root = await person(client, "root", admin=True)
    victim = await person(client, "victim")
    headers = await login(client, "root")
    page = await client.post("/api/v1/item-types", json={"type": "page", "label": "Page"},
                             headers=headers)
    assert page.status_code == 201, page.text
    item = await client.post("/api/v1/items", json={"type": "page", "title": "Root's"},
                             headers=headers)
    assert item.status_code == 201, item.text
    item_id = item.json()["id"]
    await client.patch(f"/api/v1/items/{item_id}", json={"title": "Root's, again"},
                       headers=headers)
    revisions = (await client.get(f"/api/v1/items/{item_id}/revisions")).json()["revisions"]
    role = await client.post("/api/v1/roles", json={"name": "powerful"}, headers=headers)
    role_id = role.json()["id"]
    await client.put(f"/api/v1/roles/{role_id}/permissions",
                     json={"permissions": ["administer site configuration"]}, headers=headers)
    stage = await client.post("/api/v1/stages", json={"id": "roots", "label": "Root's"},
                              headers=headers)
    assert stage.status_code == 201, stage.text
    staged = await client.patch(f"/api/v1/items/{item_id}", json={"title": "Staged"},
                                headers={**headers, "X-Trovato-Stage": "roots"})
    assert staged.status_code == 200, staged.text
    info, _ = await kernel.tokens.create(uuid.UUID(victim), "victim's")
    link, _ = await kernel.previews.create("roots", uuid.UUID(root))
    await kernel.permissions.set_role_permissions(
        uuid.UUID("00000000-0000-7000-8000-000000000002"), ["access content"])
    file_id = await kernel.db.fetchval(
        "INSERT INTO file_managed (owner_id, filename, uri, filemime, filesize) VALUES"
        " (%s, 'a.txt', 'public://2026-01/roots-a.txt', 'text/plain', 1) RETURNING id", (root,))
    redirect = await kernel.redirects.create("/old", "/new", actor=None)
    return Fixture(root, victim, role_id, item_id, revisions[-1]["id"], str(info.id), "roots",
                   str(link.id), str(file_id), str(redirect.id))


async def _snapshot(client: httpx.AsyncClient) -> dict[str, Any]:
    """Everything the attempts could change."""
    db = kernel_of(client).db
    return {
        table: await db.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")
        for table in ("users_roles", "role_permission", "api_token", "field_instance",
                      "stage_preview_link")
    } | {
        "users": await db.fetch("SELECT id, name, status, is_admin FROM users ORDER BY id"),
        "roles": await db.fetch("SELECT id, name FROM role ORDER BY id"),
        "types": await db.fetch("SELECT type, label FROM item_type ORDER BY type"),
        "items": await db.fetch("SELECT id, title, status, current_revision_id FROM item"
                                " ORDER BY id"),
        "stages": await db.fetch("SELECT id, label, status FROM stage ORDER BY id"),
        "vocabularies": await db.fetch("SELECT * FROM category_vocabulary ORDER BY id"),
        "tags": await db.fetch("SELECT * FROM category_tag ORDER BY id"),
        "listings": await db.fetch("SELECT name, label, version FROM gather_query ORDER BY 1"),
        "tiles": await db.fetch("SELECT id, source, slot, status FROM tile ORDER BY id"),
        "menu_links": await db.fetch("SELECT id, title, path FROM menu_link ORDER BY id"),
        "plugins": await db.fetch("SELECT name, status FROM system WHERE type = 'plugin'"
                                  " ORDER BY name"),
        "stage_changes": await db.fetch("SELECT stage_id, item_id, target_revision_id"
                                        " FROM stage_association ORDER BY 1, 2"),
        "files": await db.fetch("SELECT id, owner_id, status FROM file_managed ORDER BY id"),
        "search_weights": await db.fetch("SELECT * FROM search_field_config ORDER BY 1, 2"),
        "search_language": await db.fetch("SELECT language::text FROM search_setting"),
        "redirects": await db.fetch("SELECT * FROM redirect ORDER BY source"),
    }


async def _try_all(client: httpx.AsyncClient, fixture: Fixture, headers: dict[str, str],
                   allowed: set[int]) -> list[str]:
    failures = []
    for (method, template), attempt in sorted(ATTEMPTS.items()):
        path, body = attempt(fixture)
        if template == "/install":
            response = await client.post(path, data={"name": "evil", "mail": "e@example.com",
                                                     "pass": "x" * 12, "pass_confirm": "x" * 12,
                                                     "csrf_token": "?"}, headers=headers)
        else:
            response = await client.request(method, path, json=body, headers=headers)
        if response.status_code not in allowed:
            failures.append(f"{method} {template}: {response.status_code} {response.text[:200]}")
    return failures


async def test_a_user_without_the_privileges_is_refused_everywhere(db_url: str) -> None:
    async with site(db_url, write_rate_limit=1000) as client:
        fixture = await _fixture(client)
        await create_account(client, "nobody")
        headers = await login(client, "nobody")
        before = await _snapshot(client)
        # 403, or 404 where the thing is not even visible to them (another user's token).
        failures = await _try_all(client, fixture, headers, {403, 404})
        assert not failures, "\n".join(failures)
        assert await _snapshot(client) == before


async def test_an_anonymous_visitor_is_refused_everywhere(db_url: str) -> None:
    async with site(db_url, write_rate_limit=1000) as client:
        fixture = await _fixture(client)
        client.cookies.clear()
        before = await _snapshot(client)
        failures = await _try_all(client, fixture, {}, {401, 403, 404})
        assert not failures, "\n".join(failures)
        assert await _snapshot(client) == before


# -- finding 8: rights over accounts and roles stop at the actor's own ---------------------

async def _managers(client: httpx.AsyncClient) -> dict[str, str]:
    return {
        "root": await person(client, "root", admin=True),
        "boss": await person(client, "boss", admin=True),
        "manager": await person(client, "manager", "administer users",
                                "administer permissions", "access content"),
        "configurer": await person(client, "configurer", "administer site configuration"),
        "plain": await person(client, "plain"),
    }


async def test_a_user_administrator_cannot_delete_an_administrator(db_url: str) -> None:
    async with site(db_url) as client:
        ids = await _managers(client)
        headers = await login(client, "manager")
        response = await client.delete(f"/api/v1/users/{ids['boss']}", headers=headers)
        assert response.status_code == 403, response.text
        assert "administrator" in response.json()["detail"]
        assert await kernel_of(client).accounts.find("boss") is not None


async def test_nobody_deletes_an_account_holding_rights_they_lack(db_url: str) -> None:
    async with site(db_url) as client:
        ids = await _managers(client)
        headers = await login(client, "manager")
        response = await client.delete(f"/api/v1/users/{ids['configurer']}", headers=headers)
        assert response.status_code == 403
        assert "administer site configuration" in response.json()["detail"]
        plain = await client.delete(f"/api/v1/users/{ids['plain']}", headers=headers)
        assert plain.status_code == 204  # within the manager's own rights


async def test_nobody_grants_permissions_they_lack(db_url: str) -> None:
    async with site(db_url) as client:
        await _managers(client)
        kernel = kernel_of(client)
        headers = await login(client, "manager")
        own_role = str(await kernel.db.fetchval("SELECT id FROM role WHERE name = %s",
                                                ("role of manager",)))
        grown = await client.put(
            f"/api/v1/roles/{own_role}/permissions", headers=headers,
            json={"permissions": ["administer users", "administer permissions",
                                  "access content", "administer site configuration"]})
        assert grown.status_code == 403
        assert "administer site configuration" in grown.json()["detail"]
        new = (await client.post("/api/v1/roles", json={"name": "helpers"},
                                 headers=headers)).json()["id"]
        allowed = await client.put(f"/api/v1/roles/{new}/permissions", headers=headers,
                                   json={"permissions": ["access content"]})
        assert allowed.status_code == 200


async def test_nobody_takes_away_permissions_they_lack(db_url: str) -> None:
    async with site(db_url) as client:
        await _managers(client)
        kernel = kernel_of(client)
        headers = await login(client, "manager")
        theirs = str(await kernel.db.fetchval("SELECT id FROM role WHERE name = %s",
                                              ("role of configurer",)))
        emptied = await client.put(f"/api/v1/roles/{theirs}/permissions", headers=headers,
                                   json={"permissions": []})
        assert emptied.status_code == 403
        deleted = await client.delete(f"/api/v1/roles/{theirs}", headers=headers)
        assert deleted.status_code == 403
        assert await kernel.db.fetchval(
            "SELECT count(*) FROM role_permission WHERE role_id = %s", (theirs,)) == 1


async def test_nobody_gives_themselves_or_others_roles_beyond_their_rights(db_url: str
                                                                          ) -> None:
    async with site(db_url) as client:
        ids = await _managers(client)
        kernel = kernel_of(client)
        headers = await login(client, "manager")
        roles = {r["name"]: str(r["id"]) for r in await kernel.db.fetch(
            "SELECT id, name FROM role")}
        mine = roles["role of manager"]
        powerful = roles["role of configurer"]
        myself = await client.put(f"/api/v1/users/{ids['manager']}/roles", headers=headers,
                                  json={"roles": [mine, powerful]})
        assert myself.status_code == 403
        other = await client.put(f"/api/v1/users/{ids['plain']}/roles", headers=headers,
                                 json={"roles": [powerful]})
        assert other.status_code == 403
        admin = await client.put(f"/api/v1/users/{ids['boss']}/roles", headers=headers,
                                 json={"roles": [mine]})
        assert admin.status_code == 403
        fine = await client.put(f"/api/v1/users/{ids['plain']}/roles", headers=headers,
                                json={"roles": [mine]})
        assert fine.status_code == 204
        assert await kernel.db.fetchval(
            "SELECT role_id FROM users_roles WHERE user_id = %s", (ids["plain"],)
        ) == parse_uuid(mine)
        me = (await client.get("/api/v1/users/me")).json()
        assert "administer site configuration" not in me["permissions"]


async def test_an_administrator_may_do_all_of_it(db_url: str) -> None:
    async with site(db_url) as client:
        ids = await _managers(client)
        headers = await login(client, "root")
        assert (await client.delete(f"/api/v1/users/{ids['configurer']}",
                                    headers=headers)).status_code == 204
        assert (await client.delete(f"/api/v1/users/{ids['boss']}",
                                    headers=headers)).status_code == 204

