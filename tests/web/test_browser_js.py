"""The forms' scripts in a real browser (Debian's chromium, Playwright, a real ``trovato
serve``): "Add another value" rebuilds its fieldset without a page load and the values typed
are kept and saved (each rebuild's new build id carried by the next request); the reference
autocomplete is a keyboard-usable combobox, in a tag field completing the name being typed.
Screenshots go to the test's tmp folder."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import ARTICLE
from tests.web._browser_site import browser_site
from tests.web.test_autocomplete import NOTE
from tests.web.test_categories import POST, TAGS


def test_add_another_value_without_a_page_load(db_url: str, tmp_path: Path) -> None:
    with browser_site(db_url, tmp_path) as site:
        page = site.page
        page.goto(site.base + "/item/add/article")
        page.evaluate("window.notReloaded = true")
        page.get_by_label("Title").fill("Tagged in a browser")
        page.get_by_label("Text format").select_option("plain_text")  # the plain textarea
        page.locator("textarea[name='fields[field_body][value]']").fill("Body")
        page.get_by_label("Tags, value 1").fill("first")
        build_id = page.locator("input[name='form_build_id']")
        shown = build_id.input_value()
        page.get_by_role("button", name="Add another value to Tags").click()
        second = page.get_by_label("Tags, value 2")
        second.wait_for()
        assert page.evaluate("window.notReloaded") is True  # the fieldset, not the page
        assert page.evaluate("document.activeElement.name") == "fields[field_tags][1]"
        assert page.get_by_label("Tags, value 1").input_value() == "first"
        # The form carries the rebuilt state's build id: the next rebuild starts from two.
        assert build_id.count() == 1 and build_id.input_value() != shown
        second.fill("second")
        page.get_by_role("button", name="Add another value to Tags").click()
        third = page.get_by_label("Tags, value 3")
        third.wait_for()
        third.fill("third")
        site.shot("1-added")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/item/*")
        item_id = page.url.rsplit("/", 1)[1]
        site.shot("2-saved")
        tags = site.api.get(f"/api/v1/items/{item_id}").json()["fields"]["field_tags"]
        assert tags == [{"value": "first"}, {"value": "second"}, {"value": "third"}]


def test_the_reference_autocomplete_with_the_keyboard(db_url: str, tmp_path: Path) -> None:
    with browser_site(db_url, tmp_path, types=(ARTICLE, NOTE)) as site:
        target = site.api.post("/api/v1/items", headers={"X-CSRF-Token": site.csrf}, json={
            "type": "article", "title": "Alpha target", "status": 1,
            "fields": {"field_body": {"value": "b", "format": "plain_text"}}}).json()["id"]
        page = site.page
        page.goto(site.base + "/item/add/note")
        page.get_by_label("Title").fill("A note")
        combo = page.get_by_role("combobox", name="See also")
        combo.press_sequentially("alph", delay=30)
        option = page.get_by_role("option", name=f"Alpha target ({target})")
        option.wait_for()
        assert combo.get_attribute("aria-expanded") == "true"
        combo.press("ArrowDown")
        assert option.get_attribute("aria-selected") == "true"
        assert combo.get_attribute("aria-activedescendant") == option.get_attribute("id")
        site.shot("1-listbox")
        combo.press("Enter")  # picks; does not submit
        assert combo.input_value() == f"Alpha target ({target})"
        assert combo.get_attribute("aria-expanded") == "false"
        assert page.url.endswith("/item/add/note")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/item/*")
        note = page.url.rsplit("/", 1)[1]
        site.shot("2-saved")
        fields = site.api.get(f"/api/v1/items/{note}").json()["fields"]
        assert fields["field_see"] == {"target_id": target, "target_type": "item"}


def test_the_rich_text_editor_writes_what_the_format_keeps(db_url: str, tmp_path: Path) -> None:
    with browser_site(db_url, tmp_path) as site:
        page = site.page
        page.goto(site.base + "/item/add/article")
        page.get_by_label("Title").fill("Edited richly")
        page.get_by_label("Text format").select_option("filtered_html")
        textarea = page.locator("textarea[name='fields[field_body][value]']")
        editor = page.get_by_role("textbox", name="Body Text")  # the legend and the label
        assert textarea.is_hidden() and editor.is_visible()
        assert editor.get_attribute("aria-required") == "true"
        # Left empty, the (hidden) textarea does not block the form: the server says what
        # is missing, next to the editor's field.
        page.get_by_role("button", name="Save").click()
        assert "Body is required." in page.locator("#form-errors").inner_text()
        assert editor.is_visible()
        toolbar = page.get_by_role("toolbar")
        assert toolbar.get_by_role("button", name="Heading 2").is_visible()
        editor.click()
        editor.press_sequentially("Plain and ")
        bold = toolbar.get_by_role("button", name="Bold")
        bold.click()
        assert bold.get_attribute("aria-pressed") == "true"
        editor.press_sequentially("strong words")
        # The textarea, which is what the form submits, follows the editor.
        assert textarea.input_value() == "<p>Plain and <strong>strong words</strong></p>"
        site.shot("1-editor")
        # A format that is not HTML gives the plain textarea back.
        page.get_by_label("Text format").select_option("plain_text")
        assert textarea.is_visible() and page.locator(".editor").count() == 0
        # What the format would strip does not survive the editor: Filtered HTML keeps no h1,
        # table or script, so the editor's schema has none.
        textarea.fill("<h1>Big</h1><table><tr><td>cell</td></tr></table><script>x</script>"
                      "<p>Plain and <strong>strong words</strong></p>")
        page.get_by_label("Text format").select_option("filtered_html")
        assert editor.is_visible()
        kept = textarea.input_value()
        assert kept.startswith("<p>Big</p><p>cell</p>"), kept
        assert "<h1" not in kept and "<table" not in kept and "<script" not in kept
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/item/*")
        site.shot("2-saved")
        assert page.locator("main strong", has_text="strong words").is_visible()
        body = page.locator("main").inner_html()
        assert "<strong>strong words</strong>" in body


MEMO = {"type": "memo", "label": "Memo", "fields": [
    {"name": "field_notes", "type": "text_long", "label": "Notes", "cardinality": -1}]}


def test_a_rebuilt_value_of_formatted_text_gets_its_editor(db_url: str, tmp_path: Path) -> None:
    with browser_site(db_url, tmp_path, types=(MEMO,)) as site:
        page = site.page
        page.goto(site.base + "/item/add/memo")
        page.get_by_label("Title").fill("Two notes")
        surfaces = page.locator(".editor__surface")
        assert surfaces.count() == 1
        surfaces.first.click()
        surfaces.first.press_sequentially("first note")
        page.get_by_role("button", name="Add another value to Notes").click()
        surfaces.nth(1).wait_for()
        assert surfaces.count() == 2 and "first note" in surfaces.first.inner_text()
        surfaces.nth(1).click()
        surfaces.nth(1).press_sequentially("second note")
        site.shot("1-two-editors")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/item/*")
        memo = page.url.rsplit("/", 1)[1]
        notes = site.api.get(f"/api/v1/items/{memo}").json()["fields"]["field_notes"]
        assert [n["value"] for n in notes] == ["<p>first note</p>", "<p>second note</p>"]


def test_the_tag_autocomplete_completes_the_name_being_typed(db_url: str,
                                                            tmp_path: Path) -> None:
    """In a tag field's line of names the autocomplete asks about the name after the last
    comma and a pick replaces just it with what the form takes without JavaScript: the
    name, quoted when it holds a comma; saved, the tags are the ones picked and typed."""
    with browser_site(db_url, tmp_path, types=(POST,)) as site:
        headers = {"X-CSRF-Token": site.csrf}
        site.api.post("/api/v1/categories/vocabularies", headers=headers,
                      json={"id": "topics", "label": "Topics"})
        made = {name: site.api.post(TAGS, headers=headers, json={
            "vocabulary": "topics", "name": name}).json()["id"]
            for name in ("Jazz", "Rock, pop")}
        page = site.page
        page.goto(site.base + "/item/add/post")
        page.get_by_label("Title").fill("Tagged")
        combo = page.get_by_role("combobox", name="Topics")
        combo.press_sequentially("jazz, ro", delay=30)
        option = page.get_by_role("option", name='"Rock, pop"')
        option.wait_for()
        combo.press("ArrowDown")
        combo.press("Enter")
        assert combo.input_value() == 'jazz, "Rock, pop", '
        combo.press_sequentially("Polka", delay=10)
        site.shot("1-picked")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/item/*")
        post = page.url.rsplit("/", 1)[1]
        topics = site.api.get(f"/api/v1/items/{post}").json()["fields"]["field_topics"]
        assert [t["target_id"] for t in topics][:2] == [made["Jazz"], made["Rock, pop"]]
        assert len(topics) == 3
