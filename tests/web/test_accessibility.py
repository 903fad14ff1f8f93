"""axe-core over the item pages an editor works in and the search page, in a real browser
with the forms' scripts on (the editor and the autocomplete are part of the page): no serious
or critical violation.
Skips when chromium, playwright or ``frontend/node_modules`` is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import ARTICLE
from tests.web import _axe
from tests.web._axe import assert_accessible, violations
from tests.web._browser_site import browser_site
from tests.web.test_autocomplete import NOTE


def test_the_item_forms_have_no_serious_violations(db_url: str, tmp_path: Path) -> None:
    with browser_site(db_url, tmp_path, types=(ARTICLE, NOTE)) as site:
        page = site.page
        made = site.api.post("/api/v1/items", headers={"X-CSRF-Token": site.csrf}, json={
            "type": "article", "title": "Checked", "status": 1,
            "fields": {"field_body": {"value": "<p>Body</p>", "format": "filtered_html"},
                       "field_tags": [{"value": "a"}, {"value": "b"}]}})
        assert made.status_code == 201, made.text
        item_id = made.json()["id"]
        # The search page empty, with a result (its snippet's marks) and with none.
        for path in ("/item/add", "/item/add/article", "/item/add/note",
                     f"/item/{item_id}/edit", "/search", "/search?q=Checked",
                     "/search?q=nowhere"):
            page.goto(site.base + path)
            if path == "/search?q=Checked":  # checked with its result on the page
                assert page.get_by_role("link", name="Checked").count() == 1
            assert_accessible(page)
        page.goto(site.base + f"/item/{item_id}/edit")
        page.locator(".editor__surface").wait_for()  # the editor is checked too
        # A failed submission: the error summary and the inline errors.
        page.get_by_label("Count").fill("99")
        page.get_by_role("button", name="Save").click()
        page.locator("#form-errors").wait_for()
        assert_accessible(page)
        site.shot("checked-errors")


def test_the_check_finds_a_violation(db_url: str, tmp_path: Path) -> None:
    with browser_site(db_url, tmp_path) as site:
        page = site.page
        page.goto(site.base + "/item/add/article")
        # A control without a name is a critical violation: the helper must see it.
        page.evaluate("document.querySelector('label[for=edit-title]').remove()")
        found = {v["id"]: v["impact"] for v in violations(page)}
        assert found.get("label") == "critical", found


def test_without_axe_core_the_check_skips_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_axe, "AXE", tmp_path / "axe.min.js")
    with pytest.raises(pytest.skip.Exception, match="npm ci --prefix frontend"):
        assert_accessible(object())  # no page is touched before the check
