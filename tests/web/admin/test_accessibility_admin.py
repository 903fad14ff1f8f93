"""axe-core over the main admin pages in a real browser (the issue's list: the dashboard, the
content list, the type editor and the permission matrix, and the other admin sections): no
serious or critical violation. Skips when chromium, playwright or ``frontend/node_modules`` is
missing."""

from __future__ import annotations

from pathlib import Path

from tests.web._axe import assert_accessible
from tests.web._browser_site import browser_site

PAGES = (
    "/admin",
    "/admin/content",
    "/admin/structure",
    "/admin/structure/types",
    "/admin/structure/types/article",
    "/admin/structure/types/article/fields",
    "/admin/structure/types/article/fields/add",
    "/admin/structure/categories",
    "/admin/structure/tiles",
    "/admin/structure/menu",
    "/admin/structure/gather",
    "/admin/structure/gather/add",
    "/admin/structure/gather/frontpage/edit",
    "/admin/structure/gather/import",
    "/admin/config",
    "/admin/config/media/image-styles",
    "/admin/config/media/image-styles/thumbnail",
    "/admin/config/search/weights",
    "/admin/config/search/weights/article",
    "/admin/config/search/language",
    "/admin/config/search/redirect",  # listing the redirect added below
    "/admin/config/search/redirect/add",
    "/admin/people",
    "/admin/people/create",
    "/admin/people/roles",
    "/admin/people/permissions",
    "/admin/stages",
    "/admin/stages/add",
    "/admin/stages/spring",
    "/admin/stages/spring/archive",
    "/admin/stages/autumn",  # archived
    "/admin/plugins",
    "/admin/reports",
    "/admin/reports/status",
)


def test_the_admin_pages_have_no_serious_violations(db_url: str, tmp_path: Path) -> None:
    with browser_site(db_url, tmp_path) as site:
        made = site.api.post("/api/v1/items", headers={"X-CSRF-Token": site.csrf}, json={
            "type": "article", "title": "Listed", "status": 1,
            "fields": {"field_body": {"value": "<p>Body</p>", "format": "filtered_html"}}})
        assert made.status_code == 201, made.text
        for stage in ("spring", "autumn"):
            added = site.api.post("/api/v1/stages", headers={"X-CSRF-Token": site.csrf},
                                  json={"id": stage, "label": stage.title()})
            assert added.status_code == 201, added.text
        archived = site.api.post("/api/v1/stages/autumn/archive",
                                 headers={"X-CSRF-Token": site.csrf})
        assert archived.status_code == 200, archived.text
        redirected = site.api.post("/admin/config/search/redirect/add", data={
            "csrf_token": site.csrf, "source": "/old-page", "destination": "/new-page",
            "status_code": "301", "op": "save"})
        assert redirected.status_code == 303, redirected.text
        for path in PAGES:
            response = site.page.goto(site.base + path)
            assert response is not None and response.status == 200, path
            assert_accessible(site.page)
            site.shot(path.strip("/").replace("/", "-"))
