"""The ``warden`` fixture plugin (requirements and user_delete taps) and a site running it.

Built once into the plugin test cache that ``tests/plugins/conftest.py`` also uses, so a run
that already built it (or an earlier run) reuses the artifact and its compiled form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tests._plugin_cache import plugin_cache_dir
from tests.conftest import running_app, site_settings
from trovato.kernel.services import Kernel
from trovato.plugins.build import BuildResult, build_plugin

FIXTURES = Path(__file__).resolve().parents[1] / "plugins" / "fixtures"
WARDEN = FIXTURES / "warden"




def build_warden() -> BuildResult:
    return build_plugin(WARDEN, cache_dir=plugin_cache_dir() / "plugin-builds")


def kernel_of(client: httpx.AsyncClient) -> Kernel:
    return client._transport.app.state.kernel  # type: ignore[attr-defined,no-any-return]


@asynccontextmanager
async def warden_site(db_url: str, *, install: bool = True,
                      **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The running site (plugin folders: the test fixtures), warden installed and enabled."""
    build_warden()
    settings = site_settings(db_url, plugin_dirs=str(FIXTURES), data_dir=plugin_cache_dir(),
                             **overrides)
    async with running_app(settings) as client:
        if install:
            await kernel_of(client).plugins.install("warden")
        yield client


async def set_mode(kernel: Kernel, mode: str) -> None:
    """Steer warden's requirements: ok, warning or error (its ``mode`` variable)."""
    await kernel.db.execute(
        "INSERT INTO variable (name, value) VALUES ('plugin.warden.mode', to_jsonb(%s::text))"
        " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value", (mode,))
