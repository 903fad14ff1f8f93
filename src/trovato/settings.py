"""Site settings: ``TROVATO_*`` environment variables, an optional ``trovato.toml``, validated once.

Every process (web worker, CLI, test) builds one :class:`Settings` at start. A bad value stops the
process with one line naming the variable (:class:`SettingsError`), never a traceback.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "TROVATO_"


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming the variable."""


def _default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/trovato")
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "trovato"


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the ``[trovato]`` table (or the top level) of ``trovato.toml``; env vars win."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is not None and path.is_file():
            try:
                raw = tomllib.loads(path.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
            table = raw.get("trovato", raw)
            self._data = {str(k).lower(): v for k, v in table.items()}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """All site settings. Field ``foo`` is read from ``TROVATO_FOO``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means the embedded server."
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL for shared state; unset means PostgreSQL backs it."
    )
    redis_prefix: str = Field(default="trovato:", description="Prefix of every Redis key.")
    data_dir: Path = Field(default_factory=_default_data_dir)
    secret_key: str | None = Field(
        default=None, description="Signs preview links and cron triggers; generated if unset."
    )
    site_name: str = "Trovato"
    environment: Literal["development", "production", "test"] = "production"

    db_pool_min: int = Field(default=1, ge=0, le=100)
    db_pool_max: int = Field(default=10, ge=1, le=500)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    db_pool_timeout: float = Field(
        default=3.0, gt=0, le=60,
        description="Seconds a request waits for a database connection before a 503.",
    )
    pgbouncer: bool = Field(default=False, description="Disable prepared statements.")

    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    files_dir: Path | None = Field(
        default=None, description="Where uploaded files are stored; unset: <data dir>/files."
    )
    file_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024,
        description="Largest file an upload may hold, in bytes (a multipart request may be this"
        " much larger than TROVATO_MAX_BODY_BYTES).",
    )
    file_temporary_seconds: float = Field(
        default=6 * 3600, ge=0,
        description="How long an unused (temporary) upload is kept before cron deletes it.",
    )
    file_storage: Literal["local", "s3"] = Field(
        default="local", description="Where file bytes live: the local files directory or S3."
    )
    s3_bucket: str | None = Field(
        default=None, validate_default=True,
        description="The S3 bucket of the files (required when TROVATO_FILE_STORAGE is s3).",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="An S3-compatible server's URL; unset: AWS S3."
    )
    s3_region: str | None = Field(default=None, description="The bucket's region.")
    s3_prefix: str = Field(
        default="", pattern=r"^([A-Za-z0-9._-]+/)*$",
        description="A folder of the bucket that holds the files (ending in /); unset: its root.",
    )
    image_max_pixels: int = Field(
        default=40_000_000, ge=1024,
        description="Largest image (width x height) an image style decodes; larger ones are"
        " refused (a decompression bomb is a small file of enormous dimensions).",
    )
    session_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    session_cookie: str = "trovato_session"
    trust_proxy_headers: bool = Field(
        default=False, description="Honour X-Forwarded-Proto/For from a reverse proxy."
    )
    slow_request_ms: float = Field(default=500.0, ge=0)

    login_ip_limit: int = Field(default=50, ge=1, description="Login attempts per IP per hour.")
    login_account_limit: int = Field(
        default=5, ge=1, description="Failed logins per account before a lockout."
    )
    lockout_seconds: int = Field(default=900, ge=1)
    write_rate_limit: int = Field(
        default=600, ge=1, description="Unsafe requests per minute per anonymous client address."
    )
    user_write_rate_limit: int = Field(
        default=600, ge=1, description="Unsafe requests per minute per logged-in user (session)."
    )
    token_write_rate_limit: int = Field(
        default=1200, ge=1, description="Unsafe requests per minute per API token."
    )
    password_min_length: int = Field(default=10, ge=8, le=128)

    plugin_dirs: str = Field(
        default="",
        description="Extra plugin folders (os.pathsep-separated), searched before the defaults.",
    )
    page_cache_seconds: float = Field(
        default=60.0, ge=0, description="Anonymous full-page cache lifetime; 0 disables it."
    )
    page_cache_bytes: int = Field(
        default=32 * 1024 * 1024, ge=64 * 1024,
        description="Memory the anonymous page cache may hold per process, in bytes.",
    )
    page_cache_max_page_bytes: int = Field(
        default=1024 * 1024, ge=1024,
        description="Largest page the page cache stores, in bytes; larger pages are rendered"
        " on every request.",
    )
    text_cache_bytes: int = Field(
        default=16 * 1024 * 1024, ge=64 * 1024,
        description="Memory each in-process text cache (filtered text, summaries) may hold per"
        " process, in bytes.",
    )
    permission_cache_seconds: float = Field(default=30.0, ge=0)
    debug_tracemalloc: bool = Field(
        default=False,
        description="Trace allocations in each worker and log the top growth sites on SIGUSR2"
        " and at shutdown (finds leaks; slows the worker down).",
    )
    theme: str = Field(default="default", description="The active theme's name.")
    theme_dirs: str = Field(
        default="",
        description="Folders holding theme folders (os.pathsep-separated), searched before "
        "<data dir>/themes and the shipped themes.",
    )
    front_page_items: int = Field(
        default=10, ge=1, le=100, description="Teasers per page on the front page."
    )

    def theme_folders(self) -> list[Path]:
        """Where themes are looked for: TROVATO_THEME_DIRS, then ``<data dir>/themes``."""
        folders = [Path(p) for p in self.theme_dirs.split(os.pathsep) if p.strip()]
        default = self.data_dir / "themes"
        return [*folders, default] if default.is_dir() else folders

    @property
    def files_root(self) -> Path:
        """Where uploaded files live: TROVATO_FILES_DIR, else ``<data dir>/files``."""
        return self.files_dir if self.files_dir is not None else self.data_dir / "files"

    @field_validator("s3_bucket")
    @classmethod
    def _bucket_for_s3(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("file_storage") == "s3" and not value:
            raise ValueError("must name the bucket when TROVATO_FILE_STORAGE is s3")
        return value

    @field_validator("database_url", "redis_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("TROVATO_CONFIG", "trovato.toml"))
        return (init_settings, env_settings, _TomlSource(settings_cls, toml_path))

    @property
    def embedded(self) -> bool:
        """True when Trovato runs its own PostgreSQL."""
        return self.database_url is None

    @property
    def uses_redis(self) -> bool:
        return self.redis_url is not None

    @property
    def plugin_paths(self) -> list[Path]:
        """Where plugins are looked for: the configured folders, ``<data dir>/plugins``, and
        the standard plugins of a source checkout."""
        paths = [Path(p) for p in self.plugin_dirs.split(os.pathsep) if p.strip()]
        paths.append(self.data_dir / "plugins")
        checkout = Path(__file__).resolve().parents[2] / "plugins"
        if checkout.is_dir():
            paths.append(checkout)
        # A folder named twice (say the checkout's, also listed in TROVATO_PLUGIN_DIRS) is
        # searched once: otherwise each of its plugins would clash with itself.
        unique: dict[Path, Path] = {}
        for path in paths:
            unique.setdefault(path.resolve(), path)
        return list(unique.values())


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (``DATABASE_URL``/``REDIS_URL`` as fallbacks).

    Raises :class:`SettingsError` with one line naming the first bad variable.
    """
    fallbacks: dict[str, Any] = {}
    for name in ("database_url", "redis_url"):
        plain = os.environ.get(name.upper())
        if plain and not os.environ.get(ENV_PREFIX + name.upper()) and name not in overrides:
            fallbacks[name] = plain
    try:
        return Settings(**{**fallbacks, **overrides})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        raise SettingsError(f"{ENV_PREFIX}{field.upper()}: {err['msg']}{shown}") from None
