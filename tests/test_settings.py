"""Settings come from TROVATO_* variables and trovato.toml; bad values give one clear line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trovato.settings import SettingsError, load_settings


def test_defaults_mean_embedded_database_and_no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TROVATO_DATABASE_URL", "DATABASE_URL", "TROVATO_REDIS_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.embedded and not settings.uses_redis


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TROVATO_DATABASE_URL", "postgresql://u@db/site")
    monkeypatch.setenv("TROVATO_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("TROVATO_MAX_BODY_BYTES", "4096")
    settings = load_settings()
    assert settings.database_url == "postgresql://u@db/site"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.max_body_bytes == 4096


def test_plain_database_url_is_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TROVATO_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://fallback@db/x")
    assert load_settings().database_url == "postgresql://fallback@db/x"
    monkeypatch.setenv("TROVATO_DATABASE_URL", "postgresql://primary@db/x")
    assert load_settings().database_url == "postgresql://primary@db/x"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TROVATO_DB_POOL_MAX", "lots", "TROVATO_DB_POOL_MAX"),
        ("TROVATO_DATABASE_URL", "mysql://x", "TROVATO_DATABASE_URL: Value error, must start"),
        ("TROVATO_REDIS_URL", "http://x", "TROVATO_REDIS_URL"),
        ("TROVATO_MAX_BODY_BYTES", "12", "TROVATO_MAX_BODY_BYTES"),
        ("TROVATO_ENVIRONMENT", "staging", "TROVATO_ENVIRONMENT"),
    ],
)
def test_bad_value_names_the_variable_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_toml_file_is_read_and_env_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "trovato.toml"
    config.write_text('[trovato]\nsite_name = "From TOML"\nslow_request_ms = 42\n')
    monkeypatch.setenv("TROVATO_CONFIG", str(config))
    assert load_settings().site_name == "From TOML"
    monkeypatch.setenv("TROVATO_SITE_NAME", "From env")
    settings = load_settings()
    assert settings.site_name == "From env" and settings.slow_request_ms == 42


def test_broken_toml_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "trovato.toml"
    config.write_text("site_name = \n")
    monkeypatch.setenv("TROVATO_CONFIG", str(config))
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings()


async def test_an_unknown_theme_stops_the_start_with_the_variable_named(tmp_path: Path) -> None:
    from trovato.kernel.services import Kernel

    settings = load_settings(theme="nope", theme_dirs=str(tmp_path), data_dir=tmp_path)
    with pytest.raises(SettingsError, match=r"TROVATO_THEME.*unknown theme 'nope'"):
        await Kernel.start(settings, "postgresql://nobody@127.0.0.1:1/none")


def test_a_plugin_folder_named_twice_is_searched_once(tmp_path: Path) -> None:
    from trovato.settings import Settings

    checkout = Path(__file__).resolve().parents[1] / "plugins"
    extra = tmp_path / "more"
    settings = Settings(data_dir=tmp_path / "data",
                        plugin_dirs=os.pathsep.join([str(extra), str(checkout), str(extra)]))
    resolved = [p.resolve() for p in settings.plugin_paths]
    assert resolved == [extra.resolve(), checkout.resolve(), (tmp_path / "data" / "plugins")
                        .resolve()]
