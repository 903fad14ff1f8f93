"""Info files: plugin.toml parsed and every error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.conftest import FOLDERS, plugin_folder
from trovato.plugins.info import InfoError, PluginInfo, parse_info


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
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[capabilities]\nitems.delete = true',
     "capabilities.items: only 'items.write = true'"),
    ('[plugin]\nname = "x"\nversion = "1.0.0"\n[capabilities]\nitems.write = "yes"',
     "capabilities.items"),
    ("[plugin\n", "not valid TOML"),
])
def test_info_errors_name_file_and_key(tmp_path: Path, toml: str, key: str) -> None:
    folder = plugin_folder(tmp_path, "x", toml)
    with pytest.raises(InfoError) as caught:
        parse_info(folder)
    assert str(caught.value).startswith(str(folder / "plugin.toml"))
    assert key in str(caught.value)


def test_capabilities_or_raised_limits_need_approval(tmp_path: Path) -> None:
    """The one approval rule the CLI's question and the admin page's box follow."""
    def info(extra: str) -> PluginInfo:
        folder = tmp_path / f"p{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "plugin.py").write_text("")
        (folder / "plugin.toml").write_text(f'[plugin]\nname = "p"\nversion = "1.0.0"\n{extra}')
        return parse_info(folder)

    plain = info("")
    assert not plain.needs_approval() and plain.capability_lines() == []
    asking = info("[capabilities]\noutbound_http = ['api.example.com']\n")
    assert asking.needs_approval()
    assert asking.capability_lines() == ["outbound_http: ['api.example.com']"]
    writing = info("[capabilities]\nitems.write = true\n")
    assert writing.needs_approval() and writing.enforced_capabilities() == {"items.write"}
    assert writing.capability_lines() == [
        "items.write: create, change and delete content as the visitor of each request (with "
        "that visitor's permissions, in their stage)"]
    assert asking.enforced_capabilities() == frozenset()
    assert info("[limits]\nmemory_mb = 512\n").needs_approval()
    assert not info("[limits]\nmemory_mb = 64\n").needs_approval()
