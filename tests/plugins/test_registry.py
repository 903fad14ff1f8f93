"""Info files, dependency order, and install/enable/disable/uninstall against the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.conftest import FOLDERS, item_payload, make_user
from trovato.db.pool import Database
from trovato.plugins.errors import DependencyError, PluginLoadError
from trovato.plugins.registry import (
    InfoError,
    PluginInfo,
    PluginManager,
    RequirementsError,
    parse_info,
    resolve_order,
)

GOOD = """
[plugin]
name = "{name}"
version = "1.0.0"
dependencies = {deps}
"""


def _plugin(root: Path, name: str, toml: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "plugin.toml").write_text(toml)
    (folder / "plugin.py").write_text("")
    return folder


def test_parses_hello() -> None:
    info = parse_info(FOLDERS["hello"])
    assert info.name == "hello" and info.version == "1.0.0"
    assert info.tables["visit"].physical == "p_hello__visit"
    assert info.weight_for("item_view") == 0


@pytest.mark.parametrize(("toml", "key"), [
    ('[plugin]\nname = "Bad-Name"\nversion = "1.0.0"', "plugin.name"),
    ('[plugin]\nname = "x"\nversion = "1.0"', "plugin.version"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\nauthor = "me"', "plugin.author: unknown key"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[taps.item_veiw]\nweight = 1',
     "taps.item_veiw: unknown tap"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[taps.item_view]\nweight = "high"',
     "taps.item_view.weight"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[tables.t]\ncolumns = { a = "money" }',
     "tables.t.columns.a: unknown type 'money'"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[tables.t]\ncolumns = { a = "text" }\n'
     'primary_key = ["b"]', "tables.t.primary_key"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[limits]\nfuel = 1', "limits.fuel"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[hooks]\n', "hooks: unknown section"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\ndependencies = ["x"]', "depend on itself"),
    ("[plugin\n", "not valid TOML"),
])
def test_info_errors_name_file_and_key(tmp_path: Path, toml: str, key: str) -> None:
    folder = _plugin(tmp_path, "x", toml)
    with pytest.raises(InfoError) as caught:
        parse_info(folder)
    assert str(caught.value).startswith(str(folder / "plugin.toml"))
    assert key in str(caught.value)


def _infos(tmp_path: Path, graph: dict[str, list[str]]) -> dict:
    from trovato.plugins.registry import discover

    for name, deps in graph.items():
        _plugin(tmp_path, name, GOOD.format(name=name, deps=repr(deps).replace("'", '"')))
    return discover([tmp_path])


def test_dependency_order(tmp_path: Path) -> None:
    infos = _infos(tmp_path, {"a": ["c"], "b": [], "c": ["b"], "d": []})
    order = resolve_order(infos)
    assert order.index("b") < order.index("c") < order.index("a")


def test_dependency_cycle_and_missing(tmp_path: Path) -> None:
    infos = _infos(tmp_path, {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["zzz"]})
    with pytest.raises(DependencyError, match="'d' depends on 'zzz', which is not available"):
        resolve_order(infos)
    with pytest.raises(DependencyError, match=r"dependency cycle: a -> b -> c -> a"):
        resolve_order(infos, ["a", "b", "c"])
    with pytest.raises(DependencyError, match="which is not enabled"):
        resolve_order(infos, ["a"])


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


# -- artifacts ---------------------------------------------------------------------------------

def _source(root: Path, name: str = "x", version: str = "1.0.0") -> Path:
    folder = root / f"src-{name}"
    folder.mkdir()
    (folder / "plugin.toml").write_text(GOOD.format(name=name, deps="[]").replace(
        '"1.0.0"', f'"{version}"'))
    (folder / "plugin.py").write_text("")
    return folder


def _rezip(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of an artifact with members replaced (bytes), removed (None) or added."""
    import zipfile

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for entry in old.infolist():
            if entry.filename in change:
                continue
            new.writestr(entry, old.read(entry.filename))
        for name, data in change.items():
            if data is not None:
                new.writestr(name, data)
    return target


def test_artifact_round_trip_and_refusals(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import zipfile

    from trovato.plugins import artifact

    fake = tmp_path / "fake.wasm"
    fake.write_bytes(b"\0asm" + bytes(range(256)) * 64)
    good = artifact.write_artifact(_source(tmp_path), fake, tmp_path / "dist")
    assert good.name == "x-1.0.0.trovato"
    again = artifact.write_artifact(tmp_path / "src-x", fake, tmp_path / "dist2")
    assert again.read_bytes() == good.read_bytes()  # deterministic
    manifest = artifact.extract_artifact(good, tmp_path / "out")
    assert (manifest.name, manifest.version) == ("x", "1.0.0")
    assert (tmp_path / "out" / "plugin.wasm").read_bytes() == fake.read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "manifest.json", "plugin.toml", "plugin.wasm"]

    def refused(path: Path, message: str) -> None:
        dest = tmp_path / f"refused-{path.name}"
        with pytest.raises(artifact.ArtifactError, match=message):
            artifact.extract_artifact(path, dest)

    refused(_rezip(good, tmp_path / "trav.trovato", {"../plugin.py": b"x"}),
            r"refusing member '\.\./plugin\.py': its path leaves the plugin folder")
    refused(_rezip(good, tmp_path / "abs.trovato", {"/etc/cron.d/x": b"x"}),
            "its path leaves the plugin folder")
    refused(_rezip(good, tmp_path / "extra.trovato", {"evil.py": b"x"}),
            "unexpected member 'evil.py'")
    refused(_rezip(good, tmp_path / "gone.trovato", {"plugin.toml": None}),
            "missing plugin.toml")
    refused(_rezip(good, tmp_path / "toml.trovato",
                   {"plugin.toml": (tmp_path / "src-x" / "plugin.toml").read_bytes() + b"#"}),
            "checksum mismatch for plugin.toml")
    refused(_rezip(good, tmp_path / "wasm.trovato", {"plugin.wasm": b"\0asm tampered"}),
            "checksum mismatch for plugin.wasm")
    refused(_rezip(good, tmp_path / "manifest.trovato", {"manifest.json": b"{"}),
            "manifest.json is not valid JSON")
    link = tmp_path / "link.trovato"
    _rezip(good, link, {"plugin.toml": None})
    with zipfile.ZipFile(link, "a") as archive:
        entry = zipfile.ZipInfo("plugin.toml")
        entry.external_attr = 0o120777 << 16  # a symbolic link
        archive.writestr(entry, "/etc/passwd")
    refused(link, "not a regular file")
    not_zip = tmp_path / "plain.trovato"
    not_zip.write_bytes(b"hello")
    refused(not_zip, "not a Trovato plugin artifact")
    damaged = tmp_path / "damaged.trovato"
    data = bytearray(good.read_bytes())
    start = data.index(b"plugin.wasm") + 40  # inside the component's compressed bytes
    data[start:start + 32] = bytes(32)
    damaged.write_bytes(bytes(data))
    refused(damaged, "damaged|checksum mismatch")
    monkeypatch.setitem(artifact.MAX_MEMBER_BYTES, "plugin.wasm", 1000)
    refused(good, "member 'plugin.wasm' is 16388 bytes; the limit is 1000")


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
    renamed = _rezip(warden_artifact, tmp_path / "renamed.trovato", {
        "plugin.toml": toml,
        "manifest.json": json.dumps({**manifest, "sha256": {
            **manifest["sha256"], "plugin.toml": hashlib.sha256(toml).hexdigest()}}).encode()})
    junk = b"\0asm\x0d\0\x01\0 not really a component"
    not_component = _rezip(warden_artifact, tmp_path / "junk.trovato", {
        "plugin.wasm": junk,
        "manifest.json": json.dumps({**manifest, "sha256": {
            **manifest["sha256"], "plugin.wasm": hashlib.sha256(junk).hexdigest()}}).encode()})
    cases = [
        (_rezip(warden_artifact, tmp_path / "trav.trovato", {"../../evil.py": b"x"}),
         "its path leaves the plugin folder"),
        (_rezip(warden_artifact, tmp_path / "tampered.trovato", {"plugin.wasm": b"\0asm"}),
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


# -- requirements ------------------------------------------------------------------------------

async def _mode(database: Database, mode: str) -> None:
    await database.execute(
        "INSERT INTO variable (name, value) VALUES ('plugin.warden.mode', to_jsonb(%s::text))"
        " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value", (mode,))


async def test_requirements_refuse_install_and_enable(
        manager: PluginManager, database: Database) -> None:
    from tests.users._warden import build_warden

    build_warden()
    await _mode(database, "error")
    with pytest.raises(RequirementsError) as refused:
        await manager.install("warden")
    assert str(refused.value) == ("plugin 'warden' cannot be installed: Warden licence: "
                                  "missing — Warden needs a licence key.")
    assert [r.severity for r in refused.value.requirements] == ["ok", "error"]
    assert refused.value.requirements[0].value == "install"  # the phase it was asked for
    # Nothing changed.
    assert await manager.states() == {}
    assert await database.fetchval("SELECT to_regclass('p_warden__deleted')::text") is None

    await _mode(database, "ok")
    await manager.install("warden", enable=False)
    await _mode(database, "error")
    with pytest.raises(RequirementsError, match="cannot be enabled: Warden licence"):
        await manager.enable("warden")
    assert (await manager.states())["warden"].status == 0
    assert manager.dispatcher.implementations("requirements") == ()

    await _mode(database, "warning")
    await manager.enable("warden")
    assert (await manager.states())["warden"].status == 1
    rows = await manager.requirements()
    assert [(r.title, r.severity) for r in rows] == [("Warden phase", "ok"),
                                                      ("Warden disk", "warning")]
    assert rows[0].value == "runtime" and rows[1].description == "Free some space soon."
    await _mode(database, "error")  # at run time an error is reported, nothing is refused
    assert [r.severity for r in await manager.requirements()] == ["ok", "error"]


async def test_a_broken_requirements_check_is_reported_not_fatal(
        manager: PluginManager) -> None:
    from trovato.plugins.dispatch import TapOutcome, TapReply
    from trovato.plugins.errors import PluginTrap

    outcome = TapOutcome("requirements", replies=[TapReply("a", [
        {"title": "Fine", "severity": "ok"}])], failures=[PluginTrap("b", "requirements",
                                                                      "unreachable")])
    rows = manager._requirement_rows(outcome)
    assert [(r.plugin, r.title, r.severity) for r in rows] == [
        ("a", "Fine", "ok"), ("b", "Requirements check failed", "warning")]
