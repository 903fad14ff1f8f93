"""The plugin manager against the database: install/enable/disable/uninstall, refresh across
processes, and installing artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.conftest import item_payload, make_user, rezip
from trovato.db.pool import Database
from trovato.plugins.errors import DependencyError, PluginLoadError
from trovato.plugins.info import PluginInfo
from trovato.plugins.manager import PluginManager


async def test_lifecycle(manager: PluginManager, database: Database) -> None:
    overview = {p["name"]: p["status"] for p in await manager.overview()}
    # The checkout's standard plugins (page, blog, …) are discovered too.
    assert {k: overview[k] for k in ("hello", "tally", "hostile")} == {
        "hello": "not installed", "tally": "not installed", "hostile": "not installed"}
    assert set(overview.values()) == {"not installed"}
    with pytest.raises(DependencyError, match="install and enable 'hello' first"):
        await manager.install("tally")
    await manager.install("hello")
    await manager.install("tally")
    # install ran: tables exist, the install tap stored its variables.
    assert await database.fetchval("SELECT to_regclass('p_hello__visit')::text") == \
        "p_hello__visit"
    assert await database.fetchval(
        "SELECT value FROM variable WHERE name = 'plugin.hello.greeting'") == "Hello"
    states = await manager.states()
    assert states["hello"].status == 1 and states["tally"].status == 1
    # Permissions from the perm tap are registered with the plugin as provider.
    assert manager.permissions is not None
    perms = {p.name: p for p in manager.permissions.all()}
    assert perms["use hello"].provider == "hello" and perms["see secrets"].restricted
    # Dispatch order follows weight then dependencies.
    assert manager.dispatcher.implementations("item_view") == ("hello", "tally")
    outcome = await manager.taps.fire("item_view",
                                      {"item": item_payload("Zed"), "view_mode": "full"},
                                      user=make_user())
    assert [r.plugin for r in outcome.replies] == ["hello", "tally"]

    with pytest.raises(DependencyError, match="tally depend"):
        await manager.disable("hello")
    await manager.disable("tally")
    assert manager.dispatcher.implementations("item_view") == ("hello",)
    await manager.uninstall("tally")
    await manager.disable("hello")
    assert "use hello" not in manager.permissions
    await manager.uninstall("hello")
    assert await database.fetchval("SELECT to_regclass('p_hello__visit')::text") is None
    assert await database.fetchval(
        "SELECT count(*) FROM variable WHERE name LIKE 'plugin.hello.%'") == 0
    assert await manager.states() == {}


async def test_refresh_picks_up_changes_from_another_process(
        manager: PluginManager, database: Database) -> None:
    await manager.install("hello")
    other = PluginManager(database, manager.store, plugin_dirs=manager.plugin_dirs,
                          cache_dir=manager.build_cache_dir.parent, runtime=manager.runtime,
                          build_cache_dir=manager.build_cache_dir)
    assert await other.refresh() == ["hello"]
    await manager.disable("hello")
    assert await other.refresh() == []


@pytest.fixture
async def bare_site(database: Database, manager: PluginManager,
                    tmp_path: Path) -> PluginManager:
    """A plugin manager whose only plugin folder is empty: no plugin source is reachable."""
    return PluginManager(database, manager.store, plugin_dirs=[tmp_path / "site-plugins"],
                         cache_dir=tmp_path, runtime=manager.runtime,
                         build_cache_dir=manager.build_cache_dir)


@pytest.fixture(scope="session")
def warden_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.users._warden import WARDEN, build_warden
    from trovato.plugins.artifact import write_artifact

    built = build_warden()
    return write_artifact(WARDEN, built.artifact, tmp_path_factory.mktemp("dist"),
                          build_key=built.key)


async def test_install_an_artifact_without_the_source(
        bare_site: PluginManager, database: Database, warden_artifact: Path,
        tmp_path: Path) -> None:
    site_dir = tmp_path / "site-plugins"
    assert warden_artifact.name == "warden-0.2.0.trovato"
    info = await bare_site.install_artifact(warden_artifact, site_dir)
    assert info.path == (site_dir / "warden").resolve() and info.component is not None
    assert sorted(p.name for p in (site_dir / "warden").iterdir()) == [
        "manifest.json", "plugin.toml", "plugin.wasm"]
    assert (await bare_site.states())["warden"].status == 1
    # Its taps run: the status report, and the user_delete tap is wired.
    rows = await bare_site.requirements()
    assert [(r.plugin, r.title, r.value, r.severity) for r in rows] == [
        ("warden", "Warden phase", "runtime", "ok")]
    assert bare_site.dispatcher.implementations("user_delete") == ("warden",)
    # Another kernel process loads it from the unpacked folder.
    other = PluginManager(database, bare_site.store, plugin_dirs=bare_site.plugin_dirs,
                          cache_dir=tmp_path, runtime=bare_site.runtime)
    assert await other.refresh() == ["warden"]
    # A second copy of an installed plugin is refused.
    with pytest.raises(PluginLoadError, match="already installed"):
        await bare_site.add_artifact(warden_artifact, site_dir)
    # A component changed after install no longer loads.
    with (site_dir / "warden" / "plugin.wasm").open("ab") as wasm:
        wasm.write(b"\0")
    third = PluginManager(database, bare_site.store, plugin_dirs=bare_site.plugin_dirs,
                          cache_dir=tmp_path, runtime=bare_site.runtime)
    with pytest.raises(PluginLoadError, match="does not match its manifest's checksum"):
        await third.refresh()


async def test_a_bad_artifact_installs_nothing(
        bare_site: PluginManager, database: Database, warden_artifact: Path,
        tmp_path: Path) -> None:
    import hashlib
    import json
    import zipfile

    site_dir = tmp_path / "site-plugins"
    toml = b'[plugin]\nname = "other"\nversion = "0.2.0"\n'
    manifest = json.loads(zipfile.ZipFile(warden_artifact).read("manifest.json"))
    renamed = rezip(warden_artifact, tmp_path / "renamed.trovato", {
        "plugin.toml": toml,
        "manifest.json": json.dumps({**manifest, "sha256": {
            **manifest["sha256"], "plugin.toml": hashlib.sha256(toml).hexdigest()}}).encode()})
    junk = b"\0asm\x0d\0\x01\0 not really a component"
    not_component = rezip(warden_artifact, tmp_path / "junk.trovato", {
        "plugin.wasm": junk,
        "manifest.json": json.dumps({**manifest, "sha256": {
            **manifest["sha256"], "plugin.wasm": hashlib.sha256(junk).hexdigest()}}).encode()})
    cases = [
        (rezip(warden_artifact, tmp_path / "trav.trovato", {"../../evil.py": b"x"}),
         "its path leaves the plugin folder"),
        (rezip(warden_artifact, tmp_path / "tampered.trovato", {"plugin.wasm": b"\0asm"}),
         "checksum mismatch for plugin.wasm"),
        (renamed, "the manifest names warden 0.2.0 but plugin.toml says other 0.2.0"),
        (not_component, "cannot load"),
    ]
    for path, message in cases:
        with pytest.raises(PluginLoadError, match=message):
            await bare_site.install_artifact(path, site_dir)
        assert await bare_site.states() == {}
        assert list(site_dir.iterdir()) == []  # no folder, no staging leftovers

    def decline(info: PluginInfo) -> None:
        raise PluginLoadError(f"not approved: {info.name}")

    with pytest.raises(PluginLoadError, match="not approved: warden"):
        await bare_site.install_artifact(warden_artifact, site_dir, approve=decline)
    assert list(site_dir.iterdir()) == [] and await bare_site.states() == {}
