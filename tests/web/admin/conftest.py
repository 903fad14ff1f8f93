"""Sites for the admin pages' tests: an administrator, accounts holding chosen permissions,
and the test plugins the plugins page manages (built once, from the shared build cache)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import create_account, running_app, site_settings
from tests.plugins.conftest import FIXTURES, REPO, kernel_of
from trovato.plugins.build import BuildResult, build_plugin
from trovato.users.roles import Roles

NEEDY = REPO / "tests" / "cli" / "fixtures"  # "needy" asks for a capability
# hello (no capabilities), tally (depends on hello), needy (asks for outbound_http), warden
# (reports requirements, steered by its "mode" variable).
PLUGINS = {"hello": REPO / "plugins" / "hello", "tally": FIXTURES / "tally",
           "needy": NEEDY / "needy", "warden": FIXTURES / "warden"}


@pytest.fixture(scope="session")
def admin_plugins_built(plugin_cache: Path) -> dict[str, BuildResult]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(build_plugin, folder,
                                     cache_dir=plugin_cache / "plugin-builds")
                   for name, folder in PLUGINS.items()}
        return {name: future.result() for name, future in futures.items()}


async def grant(client: httpx.AsyncClient, name: str, *permissions: str) -> str:
    """Create the account ``name`` with a role of its own holding ``permissions``."""
    kernel = kernel_of(client)
    user_id = uuid.UUID(await create_account(client, name))
    roles = Roles(kernel.db, kernel.permissions)
    role = await roles.create(f"{name} role", actor=user_id)
    await roles.set_permissions(role.id, list(permissions), actor=None)
    await roles.assign(user_id, [role.id], actor=None)
    return str(user_id)


@pytest.fixture
async def plugin_site(
    db_url: str, plugin_cache: Path, admin_plugins_built: dict[str, BuildResult],
) -> AsyncIterator[httpx.AsyncClient]:
    """A site whose plugin folders hold the test plugins and whose data folder is the build
    cache (so nothing is rebuilt); an administrator "root"; nobody logged in."""
    folders = os.pathsep.join(map(str, (FIXTURES, NEEDY)))
    settings = site_settings(db_url, plugin_dirs=folders, data_dir=plugin_cache)
    async with running_app(settings) as client:
        await create_account(client, "root", admin=True)
        yield client


@pytest.fixture
async def site(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A site with an administrator "root"; nobody logged in."""
    async with running_app(site_settings(db_url)) as client:
        await create_account(client, "root", admin=True)
        yield client
