"""Stage pages: the session's stage switcher (HTML and JSON), the stage banner on every page in
another stage than live, and the stage overview with its publish confirmation step."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import ARTICLE, admin_headers, login_as
from tests.conftest import create_account, running_app, site_settings
from tests.plugins.conftest import kernel_of
from tests.web._forms import form_token
from trovato.cli.stage import OPERATOR
from trovato.content.staging import Staging
from trovato.db.pool import Database
from trovato.ids import uuid7
from trovato.stages import StageError
from trovato.stages.desk import StageDesk

LABEL = "Spring <script>alert(1)</script>"
ESCAPED = "Spring &lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A site with an admin (root), a user without stage access (bob), a stage ``spring``
    with one item created in it, and one live item; logged in as nobody."""
    async with running_app(site_settings(db_url)) as client:
        headers = await admin_headers(client)
        await create_account(client, "bob")
        await kernel_of(client).db.execute(
            "INSERT INTO stage (id, label) VALUES ('spring', %s)", (LABEL,)
        )
        assert (
            await client.post("/api/v1/item-types", json=ARTICLE, headers=headers)
        ).status_code == 201
        for title, stage in (("Live story", {}), ("Staged story", {"X-Trovato-Stage": "spring"})):
            created = await client.post(
                "/api/v1/items",
                headers={**headers, **stage},
                json={
                    "type": "article",
                    "title": title,
                    "status": 1,
                    "promote": True,
                    "fields": {"field_body": {"value": "Body", "format": "plain_text"}},
                },
            )
            assert created.status_code == 201, created.text
        client.cookies.clear()
        yield client


async def _switch(client: httpx.AsyncClient, stage: str) -> httpx.Response:
    token = await form_token(client, "/stage/switch")
    return await client.post(
        "/stage/switch", data={"csrf_token": token, "stage": stage, "destination": "/item/x"}
    )


async def test_the_switcher_moves_the_session_between_stages(
    client: httpx.AsyncClient,
) -> None:
    await login_as(client, "root")
    form = await client.get("/stage/switch?stage=spring")
    assert f'<option value="spring" selected>{ESCAPED}</option>' in form.text
    switched = await _switch(client, "spring")
    assert switched.status_code == 303 and switched.headers["location"] == "/item/x"
    assert (await client.get("/api/v1/session/stage")).json() == {"stage": "spring"}
    front = await client.get("/")
    assert "Staged story" in front.text
    assert f"You are viewing stage {ESCAPED} — not live." in front.text
    assert 'href="/stage/switch?stage=live&amp;destination=%2F"' in front.text
    # The stage's page says the session already works there instead of offering to.
    overview = (await client.get("/admin/stages/spring")).text
    assert "This session works in this stage." in overview and "Work in this stage" not in overview
    back = await _switch(client, "live")
    assert back.status_code == 303
    front = await client.get("/")
    assert "Staged story" not in front.text and "You are viewing" not in front.text
    assert (await client.get("/api/v1/session/stage")).json() == {"stage": "live"}


async def test_the_switcher_refuses_stages_out_of_reach(client: httpx.AsyncClient) -> None:
    assert (await client.get("/stage/switch")).status_code == 403  # anonymous
    await login_as(client, "bob")
    refused = await _switch(client, "spring")
    assert refused.status_code == 403 and "may not view content in other stages" in refused.text
    assert "<option" in refused.text  # the form again, with the reason
    assert (await client.get("/api/v1/session/stage")).json() == {"stage": "live"}
    await login_as(client, "root")
    unknown = await _switch(client, "nowhere")
    assert unknown.status_code == 400 and "Unknown stage" in unknown.text
    no_token = await client.post("/stage/switch", data={"stage": "spring"})
    assert no_token.status_code == 403
    assert (await client.get("/api/v1/session/stage")).json() == {"stage": "live"}


async def test_the_session_stage_api(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/session/stage")).status_code == 401
    bob = await login_as(client, "bob")
    refused = await client.put("/api/v1/session/stage", json={"stage": "spring"}, headers=bob)
    assert refused.status_code == 403 and "stage" in refused.json()["errors"]
    root = await login_as(client, "root")
    assert (
        await client.put("/api/v1/session/stage", json={"stage": "spring"})
    ).status_code == 403  # no CSRF token
    for body, status in (
        ({"stage": "nowhere"}, 400),
        ({"stage": ""}, 422),
        ({}, 422),
        ({"stage": "spring", "x": 1}, 422),
    ):
        response = await client.put("/api/v1/session/stage", json=body, headers=root)
        assert response.status_code == status, body
    switched = await client.put("/api/v1/session/stage", json={"stage": "spring"}, headers=root)
    assert switched.status_code == 200 and switched.json() == {"stage": "spring"}
    titles = [i["title"] for i in (await client.get("/api/v1/items")).json()["items"]]
    assert "Staged story" in titles  # the session's stage applies to the API too
    token = (await client.post("/api/v1/tokens", json={"label": "t"}, headers=root)).json()
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert (
        await client.put("/api/v1/session/stage", json={"stage": "spring"}, headers=bearer)
    ).status_code == 403


async def test_a_session_stage_that_went_away_falls_back_to_live(
    client: httpx.AsyncClient,
) -> None:
    await login_as(client, "root")
    await _switch(client, "spring")
    await kernel_of(client).stages.delete(OPERATOR, "spring")
    front = await client.get("/")
    assert front.status_code == 200 and "You are viewing" not in front.text
    assert (await client.get("/api/v1/session/stage")).json() == {"stage": "live"}


async def test_the_banner_is_on_every_page_of_another_stage(client: httpx.AsyncClient) -> None:
    await login_as(client, "root")
    ids = {
        i["title"]: i["id"]
        for i in (await client.get("/api/v1/items?stage=spring")).json()["items"]
    }
    for path, status in (
        ("/?stage=spring", 200),
        (f"/item/{ids['Staged story']}?stage=spring", 200),
        ("/nothing/here?stage=spring", 404),
    ):
        page = await client.get(path)
        assert page.status_code == status, path
        assert f"You are viewing stage {ESCAPED} — not live." in page.text, path
        assert "<script>alert(1)" not in page.text
        assert f'href="{path.split("?")[0]}"' in page.text  # the same page in live
    assert "You are viewing" not in (await client.get("/")).text
    assert "You are viewing" not in (await client.get("/api/v1/items?stage=spring")).text


class FakePublisher:
    """A publisher that records what it is asked to publish (publishing itself belongs to the
    content service's staging and is tested there): it lists the changes through the real
    staging, reports the stage's created items, or refuses with the conflicts it is given."""

    def __init__(self, db: Database, staging: Staging) -> None:
        self.db = db
        self.staging = staging
        self.conflicting: list[dict[str, Any]] = []
        self.calls: list[tuple[str, bool]] = []

    async def changes(self, user: Any, stage: str) -> list[dict[str, Any]]:
        return await self.staging.changes(user, stage)

    async def diff(self, user: Any, stage: str) -> list[dict[str, Any]]:
        return await self.staging.diff(user, stage)

    async def conflicts(self, user: Any, stage: str) -> list[dict[str, Any]]:
        return self.conflicting

    async def publish(
        self, user: Any, stage: str, resolutions: Any = (), *, dry_run: bool = False
    ) -> dict[str, Any]:
        self.calls.append((stage, dry_run))
        if self.conflicting:
            refused = StageError(409, "Conflicts.")
            refused.conflicts = self.conflicting  # type: ignore[attr-defined]
            raise refused
        created = await self.db.fetch("SELECT id FROM item WHERE stage_id = %s", (stage,))
        return {
            "stage": stage,
            "upstream": "live",
            "dry_run": dry_run,
            "created": [str(row["id"]) for row in created],
            "edited": [],
            "deleted": [],
        }


async def test_the_overview_and_its_publish_step(client: httpx.AsyncClient) -> None:
    kernel = kernel_of(client)
    desk = FakePublisher(kernel.db, kernel.content.staging)
    kernel.stage_desk = StageDesk(kernel.stages, desk)
    assert (await client.get("/admin/stages/spring")).status_code == 403  # anonymous
    await login_as(client, "bob")
    assert (await client.get("/admin/stages/spring")).status_code == 404
    assert (await client.get("/admin/stages/spring/publish")).status_code == 404
    empty = (await client.get("/admin/stages")).text
    # bob may not create stages: no link to a form that would refuse him.
    assert "no stages you may use" in empty and "/admin/stages/add" not in empty

    await login_as(client, "root")
    listing = await client.get("/admin/stages")
    assert f'<a href="/admin/stages/spring">{ESCAPED}</a>' in listing.text
    overview = await client.get("/admin/stages/spring")
    assert overview.status_code == 200
    assert "Staged story" in overview.text and "created" in overview.text
    assert "Live story" not in overview.text
    assert "No conflicts with the upstream stage." in overview.text
    assert 'href="/admin/stages/spring/publish"' in overview.text
    assert ">Work in this stage</a>" in overview.text  # the session works in live
    assert (await client.get("/admin/stages/live")).status_code == 404

    confirm = await client.get("/admin/stages/spring/publish")
    assert confirm.status_code == 200 and "Staged story" in confirm.text
    assert 'name="confirm" value="yes"' in confirm.text
    assert desk.calls == [("spring", True)]
    token = await form_token(client, "/admin/stages/spring/publish")
    again = await client.post("/admin/stages/spring/publish", data={"csrf_token": token})
    assert again.status_code == 200 and 'name="confirm" value="yes"' in again.text
    assert desk.calls[-1] == ("spring", True)  # not confirmed: only the step again
    done = await client.post(
        "/admin/stages/spring/publish", data={"csrf_token": token, "confirm": "yes"}
    )
    assert done.status_code == 200 and f"Stage “{ESCAPED}” is published." in done.text
    assert desk.calls[-1] == ("spring", False)
    assert 'name="confirm"' not in done.text

    desk.conflicting = [
        {"item": "i1", "field": "title", "stage": "<b>A</b>", "upstream": "B", "base": "C"}
    ]
    overview = await client.get("/admin/stages/spring")
    assert "&lt;b&gt;A&lt;/b&gt;" in overview.text
    step = await client.get("/admin/stages/spring/publish")
    assert step.status_code == 200 and "conflicts with live in 1 field(s)" in step.text
    assert 'name="resolve:i1:title"' in step.text and "&lt;b&gt;A&lt;/b&gt;" in step.text
    assert "<b>A</b>" not in step.text
    # Publishing without choosing is refused next to the choice, and nothing is published.
    calls = len(desk.calls)
    unchosen = await client.post(
        "/admin/stages/spring/publish",
        data={"csrf_token": token, "confirm": "yes", "op": "publish"},
    )
    assert unchosen.status_code == 400 and "title is required." in unchosen.text
    assert len(desk.calls) == calls


async def test_publishing_from_the_page_puts_the_stage_live(client: httpx.AsyncClient) -> None:
    await login_as(client, "root")
    confirm = await client.get("/admin/stages/spring/publish")
    assert confirm.status_code == 200 and "Staged story" in confirm.text
    assert "Staged story" not in (await client.get("/")).text  # a dry run wrote nothing
    token = await form_token(client, "/admin/stages/spring/publish")
    done = await client.post(
        "/admin/stages/spring/publish", data={"csrf_token": token, "confirm": "yes"}
    )
    assert done.status_code == 200 and f"Stage “{ESCAPED}” is published." in done.text
    assert "Staged story" in (await client.get("/")).text
    status = await kernel_of(client).db.fetchval("SELECT status FROM stage WHERE id = 'spring'")
    assert status == "published"
    again = await client.get("/admin/stages/spring/publish")
    assert again.status_code == 409  # a published stage is closed


async def test_publishing_with_a_choice_per_conflicting_field(
    client: httpx.AsyncClient,
) -> None:
    """The real publish step: a field both sides changed is offered as a choice (with the
    stage's, upstream's and the base value), the choices can be previewed (a dry run: nothing
    written), a choice naming no conflict is refused, and publishing applies the choices."""
    headers = await login_as(client, "root")
    live_story = (await client.get("/api/v1/items?sort=title", headers=headers)).json()
    story = next(i for i in live_story["items"] if i["title"] == "Live story")
    path = f"/api/v1/items/{story['id']}"
    staged = await client.patch(
        path, headers={**headers, "X-Trovato-Stage": "spring"},
        json={"title": "Spring <i>story</i>", "fields": {"field_count": {"value": 3}}})
    assert staged.status_code == 200, staged.text
    live = await client.patch(path, headers=headers, json={"title": "Live story, revised"})
    assert live.status_code == 200, live.text
    name = f"resolve:{story['id']}:title"

    overview = await client.get("/admin/stages/spring")
    diff = overview.text.split("Field by field")[1].split("</table>")[0]
    for cell in ("field_count", '<td data-label="In this stage">3</td>',
                 "Spring &lt;i&gt;story&lt;/i&gt;", "Live story"):
        assert cell in diff, cell

    step = await client.get("/admin/stages/spring/publish")
    assert step.status_code == 200, step.text
    assert f'name="{name}"' in step.text and 'value="upstream"' in step.text
    for shown in ("Spring &lt;i&gt;story&lt;/i&gt;", "Live story, revised", "Live story"):
        assert shown in step.text
    assert "<i>story</i>" not in step.text
    assert f'name="resolve:{story["id"]}:field_count"' not in step.text  # one side only
    token = await form_token(client, "/admin/stages/spring/publish")

    preview = await client.post("/admin/stages/spring/publish", data={
        "csrf_token": token, "confirm": "yes", "op": "preview", name: "upstream"})
    assert preview.status_code == 200, preview.text
    assert "Your choices" in preview.text and "Live story, revised" in preview.text
    assert 'value="upstream" checked' in preview.text  # the choice is kept for publishing
    stage = await client.get("/api/v1/stages/spring", headers=headers)
    assert stage.json()["status"] == "open"  # a preview publishes nothing

    stranger = f"resolve:{uuid7()}:title"
    refused = await client.post("/admin/stages/spring/publish", data={
        "csrf_token": token, "confirm": "yes", "op": "publish", name: "stage",
        stranger: "stage"})
    assert refused.status_code == 422 and "is no item in conflict" in refused.text
    assert (await client.get("/api/v1/stages/spring", headers=headers)).json()["status"] \
        == "open"

    done = await client.post("/admin/stages/spring/publish", data={
        "csrf_token": token, "confirm": "yes", "op": "publish", name: "stage"})
    assert done.status_code == 200 and f"Stage “{ESCAPED}” is published." in done.text
    published = (await client.get(path, headers=headers)).json()
    assert published["title"] == "Spring <i>story</i>"  # the stage's side, as chosen
    assert published["fields"]["field_count"] == {"value": 3}  # merged by itself


def _queries(response: httpx.Response) -> int:
    match = re.search(r'db;[^,]*desc="(\d+) queries"', response.headers["server-timing"])
    assert match, response.headers["server-timing"]
    return int(match.group(1))


async def test_a_page_in_a_stage_reads_no_stage_rows_once_warm(
    client: httpx.AsyncClient,
) -> None:
    """Through a preview link, the item page and the front page in the stage are one query
    each, as in live: the link, the stage's record, roles and chain and the banner's label
    come from the process's stage directory."""
    headers = await login_as(client, "root")
    link = await client.post("/api/v1/stages/spring/preview-links", headers=headers, json={})
    assert link.status_code == 201, link.text
    staged = (await client.get("/api/v1/items", headers={**headers, "X-Trovato-Stage": "spring"}
                               )).json()["items"]
    item = next(i for i in staged if i["title"] == "Staged story")
    client.cookies.clear()
    for path in (f"/item/{item['id']}", "/"):
        url = f"{path}?{link.json()['url'].split('?')[1]}"
        first = await client.get(url)
        assert first.status_code == 200 and "Staged story" in first.text
        again = await client.get(url)
        # The front page is a Gather listing, whose result is cached per stage: none at all.
        assert "a preview of stage" in again.text and _queries(again) <= 1, path
