"""Approving a plugin shows its resource limits (defaults marked); raised limits need consent
and limits beyond the documented maxima are refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import typer

from trovato.cli import plugin as cli
from trovato.plugins.info import InfoError, PluginInfo, parse_info


def _plugin(tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "plugin.py").write_text("")
    (folder / "plugin.toml").write_text(
        f'[plugin]\nname = "big"\nversion = "0.1.0"\n{extra}')
    return folder


def _shown(info: PluginInfo, capsys: pytest.CaptureFixture[str], *, yes: bool) -> str:
    cli._confirm(info, yes)
    return capsys.readouterr().err


def test_approval_shows_every_limit_with_the_defaults_marked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    info = parse_info(_plugin(tmp_path, "[limits]\nmemory_mb = 512\ntimeout_ms = 500\n"
                                        "[capabilities]\noutbound_http = ['api.example.com']\n"))
    shown = _shown(info, capsys, yes=True)
    assert "outbound_http: ['api.example.com']" in shown
    assert "CPU budget (fuel): 2,000,000,000 (default)" in shown
    assert "wall-clock time: 500 ms (default 2,000 ms, maximum 30,000 ms)" in shown
    assert "memory: 512 MB (default 96 MB, maximum 1,024 MB)" in shown
    assert "largest result: 4,096 KB (default)" in shown
    assert info.raised_limits() == ["memory_mb"]


def test_raised_limits_need_approval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    info = parse_info(_plugin(tmp_path, "[limits]\nmemory_mb = 512\n"))
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    with pytest.raises(typer.Exit):
        _shown(info, capsys, yes=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert "memory: 512 MB" in _shown(info, capsys, yes=False)


def test_default_limits_and_no_capabilities_are_shown_without_a_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # a question would abort
    shown = _shown(parse_info(_plugin(tmp_path)), capsys, yes=False)
    assert "memory: 96 MB (default)" in shown


@pytest.mark.parametrize(("key", "value", "bounds"), [
    ("memory_mb", 4096, "32 to 1024"), ("timeout_ms", 60_000, "10 to 30000"),
    ("fuel", 100_000_000_000, "1000000 to 20000000000"), ("max_output_kb", 262_144, "1 to 32768"),
])
def test_limits_beyond_the_maxima_are_refused(tmp_path: Path, key: str, value: int,
                                              bounds: str) -> None:
    with pytest.raises(InfoError, match=rf"limits\.{key}: an integer from {bounds}"):
        parse_info(_plugin(tmp_path, f"[limits]\n{key} = {value}\n"))
