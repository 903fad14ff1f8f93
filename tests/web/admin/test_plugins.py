"""The plugins page: who may open it, the list, and install/enable/disable/uninstall through
their confirmation steps (CSRF, the capability approval, the manager's refusals as form
errors), each changing what the plugin manager sees."""

from __future__ import annotations

import re

import httpx

from tests.api.conftest import login_as
from tests.plugins.conftest import kernel_of
from tests.web._item_forms import hidden_inputs, open_form
from tests.web.admin.conftest import grant
from trovato.plugins.states import DISABLED, ENABLED


async def _status(client: httpx.AsyncClient, name: str) -> int | None:
    state = (await kernel_of(client).plugins.states()).get(name)
    return None if state is None else state.status


async def _do(client: httpx.AsyncClient, name: str, operation: str,
              **data: str) -> httpx.Response:
    """Open the confirmation step and confirm it, as a browser would."""
    path = f"/admin/plugins/{name}/{operation}"
    hidden = await open_form(client, path)
    return await client.post(path, data={**hidden, "op": "confirm", **data})


def _row(page: str, name: str) -> str:
    """The plugin's row of the plugins table."""
    match = re.search(rf'<tr><td data-label="Plugin"><div id="plugin-{name}">.*?</tr>', page, re.S)
    assert match, f"no row for {name}"
    return match.group(0)


async def test_the_plugin_pages_need_administer_plugins(plugin_site: httpx.AsyncClient) -> None:
    assert (await plugin_site.get("/admin/plugins")).status_code == 403
    await grant(plugin_site, "ed", "access administration pages", "access site reports")
    await login_as(plugin_site, "ed")
    for path in ("/admin/plugins", "/admin/plugins/hello/install"):
        refused = await plugin_site.get(path)
        assert refused.status_code == 403
        assert "administer plugins" in refused.text
    await grant(plugin_site, "pat", "access administration pages", "administer plugins")
    await login_as(plugin_site, "pat")
    assert (await plugin_site.get("/admin/plugins")).status_code == 200
    hidden = await open_form(plugin_site, "/admin/plugins/hello/install")
    done = await plugin_site.post("/admin/plugins/hello/install", data=hidden)
    assert done.status_code == 303
    assert await _status(plugin_site, "hello") == ENABLED


async def test_the_list_shows_each_plugin_with_its_state(plugin_site: httpx.AsyncClient) -> None:
    await kernel_of(plugin_site).plugins.install("hello")
    await login_as(plugin_site, "root")
    page = await plugin_site.get("/admin/plugins")
    assert page.status_code == 200
    assert 'aria-current="page">Plugins</a>' in page.text  # the admin layout's section
    hello = _row(page.text, "hello")
    assert "1.0.0" in hello and "Enabled" in hello
    assert 'href="/admin/plugins/hello/disable"' in hello
    assert "/admin/plugins/hello/enable" not in hello
    assert "Required by: tally" in hello
    assert "<li>see secrets</li>" in hello and "<li>use hello</li>" in hello
    tally = _row(page.text, "tally")
    assert "Not installed" in tally and "Requires: hello" in tally
    assert "known once enabled" in tally
    assert 'href="/admin/plugins/tally/install"' in tally
    needy = _row(page.text, "needy")
    assert "outbound_http: [&#39;api.example.com&#39;]" in needy
    assert "Requirements of the enabled plugins" in page.text


async def test_an_operation_the_status_does_not_allow_is_refused(
    plugin_site: httpx.AsyncClient,
) -> None:
    await login_as(plugin_site, "root")
    assert (await plugin_site.get("/admin/plugins/hello/disable")).status_code == 409
    assert (await plugin_site.get("/admin/plugins/hello/explode")).status_code == 404
    assert (await plugin_site.get("/admin/plugins/nosuch/install")).status_code == 404


async def test_install_disable_enable_uninstall_round_trip(
    plugin_site: httpx.AsyncClient,
) -> None:
    await login_as(plugin_site, "root")
    installed = await _do(plugin_site, "hello", "install")
    assert installed.status_code == 303 and installed.headers["location"] == "/admin/plugins"
    assert await _status(plugin_site, "hello") == ENABLED
    assert "hello" in kernel_of(plugin_site).plugins.loaded
    listed = await plugin_site.get("/admin/plugins")
    assert "The plugin “hello” has been installed and enabled." in listed.text
    assert "Enabled" in _row(listed.text, "hello")

    disabled = await _do(plugin_site, "hello", "disable")
    assert disabled.status_code == 303
    assert await _status(plugin_site, "hello") == DISABLED
    assert "hello" not in kernel_of(plugin_site).plugins.loaded
    listed = await plugin_site.get("/admin/plugins")
    assert "The plugin “hello” has been disabled." in listed.text
    assert "Disabled" in _row(listed.text, "hello")

    assert (await _do(plugin_site, "hello", "enable")).status_code == 303
    assert await _status(plugin_site, "hello") == ENABLED
    assert (await _do(plugin_site, "hello", "disable")).status_code == 303
    confirm = await plugin_site.get("/admin/plugins/hello/uninstall")
    assert "This cannot be undone." in confirm.text
    assert (await _do(plugin_site, "hello", "uninstall")).status_code == 303
    assert await _status(plugin_site, "hello") is None
    assert "Not installed" in _row((await plugin_site.get("/admin/plugins")).text, "hello")
    # Each change is in the audit log, with who made it.
    log = (await plugin_site.get("/admin/reports?type=plugin")).text
    for event in ("installed", "enabled", "disabled", "uninstalled"):
        assert f"Plugin “hello” {event}." in log
    assert ">root</a>" in log


async def test_posts_without_the_csrf_token_change_nothing(
    plugin_site: httpx.AsyncClient,
) -> None:
    await login_as(plugin_site, "root")
    hidden = await open_form(plugin_site, "/admin/plugins/hello/install")
    for token in ({}, {"csrf_token": "forged"}):
        data = {**{k: v for k, v in hidden.items() if k != "csrf_token"}, **token}
        refused = await plugin_site.post("/admin/plugins/hello/install", data=data)
        assert refused.status_code == 403
    assert await _status(plugin_site, "hello") is None


async def test_enabling_a_plugin_asking_for_capabilities_needs_the_approval(
    plugin_site: httpx.AsyncClient,
) -> None:
    await login_as(plugin_site, "root")
    step = await plugin_site.get("/admin/plugins/needy/install")
    assert "Capabilities it asks for" in step.text
    assert "outbound_http: [&#39;api.example.com&#39;]" in step.text
    assert "I approve these capabilities" in step.text
    refused = await _do(plugin_site, "needy", "install")
    assert refused.status_code == 400
    assert "Approve the capabilities of needy to install it." in refused.text
    assert re.search(r'<input type="checkbox"[^>]*name="approve"[^>]*aria-invalid="true"',
                     refused.text), refused.text
    assert await _status(plugin_site, "needy") is None
    # The refused form comes back usable: approving it now installs.
    approved = await plugin_site.post("/admin/plugins/needy/install", data={
        **hidden_inputs(refused.text), "op": "confirm", "approve": "1"})
    assert approved.status_code == 303, approved.text
    assert await _status(plugin_site, "needy") == ENABLED
    # Enabling again after a disable asks again.
    assert (await _do(plugin_site, "needy", "disable")).status_code == 303
    assert (await _do(plugin_site, "needy", "enable")).status_code == 400
    assert (await _do(plugin_site, "needy", "enable", approve="1")).status_code == 303
    assert await _status(plugin_site, "needy") == ENABLED


async def test_a_plugin_without_capabilities_asks_no_approval(
    plugin_site: httpx.AsyncClient,
) -> None:
    await login_as(plugin_site, "root")
    step = await plugin_site.get("/admin/plugins/hello/install")
    assert "No capabilities." in step.text
    assert 'name="approve"' not in step.text


async def test_the_managers_refusals_are_form_errors(plugin_site: httpx.AsyncClient) -> None:
    await login_as(plugin_site, "root")
    missing = await _do(plugin_site, "tally", "install")
    assert missing.status_code == 409
    assert "depends on &#39;hello&#39;" in missing.text
    assert 'class="form-errors' in missing.text
    assert await _status(plugin_site, "tally") is None
    await kernel_of(plugin_site).plugins.install("hello")
    assert (await _do(plugin_site, "tally", "install")).status_code == 303
    refused = await _do(plugin_site, "hello", "disable")
    assert refused.status_code == 409
    assert "cannot disable &#39;hello&#39;: tally depend(s) on it" in refused.text
    assert await _status(plugin_site, "hello") == ENABLED


async def _warden_mode(client: httpx.AsyncClient, mode: str) -> None:
    await kernel_of(client).db.execute(
        "INSERT INTO variable (name, value) VALUES ('plugin.warden.mode', to_jsonb(%s::text))"
        " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value", (mode,))


async def test_requirements_are_reported_and_an_error_refuses_enabling(
    plugin_site: httpx.AsyncClient,
) -> None:
    await login_as(plugin_site, "root")
    assert (await _do(plugin_site, "warden", "install")).status_code == 303
    await _warden_mode(plugin_site, "warning")
    listed = (await plugin_site.get("/admin/plugins")).text
    assert "Warden disk" in listed and "91% full" in listed and "Free some space soon." in listed
    status = (await plugin_site.get("/admin/reports/status")).text
    assert re.search(r"warden: Warden disk</td><td data-label=\"Found\">91% full</td>"
                     r"<td data-label=\"State\"><span class=\"status-state"
                     r" status-state--warning\">Warning</span>", status), status
    assert (await _do(plugin_site, "warden", "disable")).status_code == 303
    await _warden_mode(plugin_site, "error")
    refused = await _do(plugin_site, "warden", "enable")
    assert refused.status_code == 409
    assert "Warden licence: missing — Warden needs a licence key." in refused.text
    assert await _status(plugin_site, "warden") == DISABLED


async def test_an_enabled_plugin_whose_folder_is_gone_is_failed(
    plugin_site: httpx.AsyncClient,
) -> None:
    await kernel_of(plugin_site).db.execute(
        "INSERT INTO system (name, type, status, version) VALUES ('ghost', 'plugin', 1, '2.0.0')")
    await login_as(plugin_site, "root")
    ghost = _row((await plugin_site.get("/admin/plugins")).text, "ghost")
    assert "Failed" in ghost and "its folder is missing" in ghost and "2.0.0" in ghost
    assert 'href="/admin/plugins/ghost/disable"' in ghost
    assert "/admin/plugins/ghost/uninstall" not in ghost
    status = (await plugin_site.get("/admin/reports/status")).text
    assert "Some checks failed (below)." in status
    assert "ghost: its folder is missing from the plugin directories" in status
    disabled = await _do(plugin_site, "ghost", "disable")
    assert disabled.status_code == 303, disabled.text
    assert await _status(plugin_site, "ghost") == DISABLED
    ghost = _row((await plugin_site.get("/admin/plugins")).text, "ghost")
    assert "Disabled" in ghost and "its folder is missing" in ghost
    assert "/admin/plugins/ghost/" not in ghost  # nothing more to do without its folder
