"""The reference plugins (plugins/page, plugins/blog) in a running site, and ``trovato demo``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import api_login, create_account, running_app
from tests.plugins.conftest import REPO, kernel_of, plugin_site_settings
from trovato.plugins.build import BuildResult, build_plugin
from trovato.users.permissions import AUTHENTICATED_ROLE

REFERENCE = {"page": REPO / "plugins" / "page", "blog": REPO / "plugins" / "blog"}
BLOG_PERMISSIONS = {"create blog content", "edit own blog content"}


@pytest.fixture(scope="session")
def reference_built(plugin_cache: Path) -> dict[str, BuildResult]:
    """page and blog built once per session (or found in the build cache)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(build_plugin, folder,
                                     cache_dir=plugin_cache / "plugin-builds")
                   for name, folder in REFERENCE.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture
async def blog_site(
    db_url: str, plugin_cache: Path, reference_built: dict[str, BuildResult]
) -> AsyncIterator[httpx.AsyncClient]:
    """A running site with "root" (admin), page and blog installed, and authenticated users
    allowed to create blog posts and edit their own."""
    async with running_app(plugin_site_settings(db_url, plugin_cache)) as client:
        kernel = kernel_of(client)
        await create_account(client, "root", admin=True)
        await kernel.plugins.install("page")
        await kernel.plugins.install("blog")
        granted = await kernel.permissions.permissions_for([AUTHENTICATED_ROLE])
        await kernel.permissions.set_role_permissions(AUTHENTICATED_ROLE,
                                                      granted | BLOG_PERMISSIONS)
        yield client


def other_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A second client (its own cookies) on the same running app."""
    return httpx.AsyncClient(transport=client._transport, base_url="http://testserver")


async def new_post(client: httpx.AsyncClient, csrf: str, title: str, *, status: int = 1,
                   body: str = "<p>Some <em>words</em>.</p>") -> dict[str, object]:
    response = await client.post("/api/v1/items", headers={"X-CSRF-Token": csrf}, json={
        "type": "blog", "title": title, "status": status, "promote": True,
        "fields": {"field_body": {"value": body, "format": "filtered_html"}},
    })
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_item_types_are_synced(blog_site: httpx.AsyncClient) -> None:
    types = {t.type: t for t in await kernel_of(blog_site).content.types.all()}
    assert types["blog"].label == "Blog post"
    assert types["page"].label == "Basic page"
    blog_fields = {f.name: f for f in types["blog"].fields}
    assert blog_fields["field_body"].required
    assert blog_fields["field_tags"].cardinality == -1
    # Its vocabulary is named, so a new tag typed by name has somewhere to go.
    assert blog_fields["field_tags"].settings["target_bundles"] == ["tags"]
    assert [f.name for f in types["page"].fields] == ["field_body"]
    registry = kernel_of(blog_site).permissions.registry
    assert {"create blog content", "edit own blog content", "create page content"} <= {
        p.name for p in registry.all()}


async def test_blog_post_by_a_user_with_create_permission(
    blog_site: httpx.AsyncClient,
) -> None:
    await create_account(blog_site, "ann")
    csrf = await api_login(blog_site, "ann")
    post = await new_post(blog_site, csrf, "Ann's first post", body="<p>Hello <b>blog</b></p>")
    assert post["type"] == "blog"
    page = await blog_site.get(f"/item/{post['id']}")
    assert page.status_code == 200
    assert "Ann&#39;s first post" in page.text or "Ann's first post" in page.text
    assert "blog-post" in page.text and "More posts" in page.text
    assert page.text.count("Hello <b>blog</b>") == 1  # the body is rendered once
    # No permission to create pages.
    refused = await blog_site.post("/api/v1/items", headers={"X-CSRF-Token": csrf}, json={
        "type": "page", "title": "Nope",
        "fields": {"field_body": {"value": "x", "format": "plain_text"}}})
    assert refused.status_code == 403


async def test_blog_index_lists_published_posts_only(blog_site: httpx.AsyncClient) -> None:
    csrf = await api_login(blog_site, "root")
    published = await new_post(blog_site, csrf, "Published post")
    hidden = await new_post(blog_site, csrf, "Draft post", status=0)
    async with other_client(blog_site) as anonymous:
        response = await anonymous.get("/blog")
    assert response.status_code == 200
    assert "Published post" in response.text
    assert f"/item/{published['id']}" in response.text
    assert "Draft post" not in response.text
    assert f"/item/{hidden['id']}" not in response.text
    # Each teaser (the front page's) links back to the index, not a bare "Blog post" line.
    front = await blog_site.get("/")
    assert "Published post" in front.text
    bylines = re.findall(r'<a [^>]*class="blog-byline"[^>]*>From the blog</a>', front.text)
    assert len(bylines) == 1 and 'href="/blog"' in bylines[0]
    assert ">Blog post</p>" not in front.text


async def test_author_edits_own_post_and_others_may_not(blog_site: httpx.AsyncClient) -> None:
    await create_account(blog_site, "ann")
    await create_account(blog_site, "bob")
    csrf = await api_login(blog_site, "ann")
    post = await new_post(blog_site, csrf, "Ann's post")
    edited = await blog_site.patch(f"/api/v1/items/{post['id']}",
                                   headers={"X-CSRF-Token": csrf}, json={"title": "Ann's edit"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Ann's edit"
    async with other_client(blog_site) as bob:
        bob_csrf = await api_login(bob, "bob")
        refused = await bob.patch(f"/api/v1/items/{post['id']}",
                                  headers={"X-CSRF-Token": bob_csrf}, json={"title": "Bob's"})
        assert refused.status_code in (403, 404), refused.text


def demo_env(db_url: str, plugin_cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TROVATO_PLUGIN_DIRS"}
    env.update({"TROVATO_DATABASE_URL": db_url, "TROVATO_DATA_DIR": str(plugin_cache),
                "TROVATO_REDIS_URL": ""})
    return env


def run_demo(db_url: str, plugin_cache: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "trovato", "demo"], cwd=cwd,
                            env=demo_env(db_url, plugin_cache), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_demo_command_is_idempotent(db_url: str, plugin_cache: Path, tmp_path: Path,
                                    reference_built: dict[str, BuildResult]) -> None:
    first = run_demo(db_url, plugin_cache, tmp_path)
    assert "password" in first.stderr  # the demo administrator was created
    assert first.stderr.rstrip().endswith("See it: run `trovato serve` and open"
                                          " http://127.0.0.1:8000/ (log in at /user/login as"
                                          " demo).")
    second = run_demo(db_url, plugin_cache, tmp_path)
    assert "password" not in second.stderr
    assert "0 item(s) created" in second.stderr
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT type, title, count(*), bool_and(status = 1)"
                            " FROM item GROUP BY type, title ORDER BY type, title").fetchall()
        plugins = conn.execute("SELECT name, status FROM system WHERE type = 'plugin'"
                               " ORDER BY name").fetchall()
    assert all(count == 1 and published for _, _, count, published in rows)
    assert sum(1 for row in rows if row[0] == "blog") == 4
    assert {row[1] for row in rows if row[0] == "page"} == {"About", "Contact"}
    assert plugins == [("blog", 1), ("page", 1)]
    # The demo shows categories, Gather, the main menu and tiles: its posts are tagged, and
    # "Recent articles" has a page with a menu link and a tile in the sidebar (made once).
    assert "created tile 'Recent articles' in the sidebar" in first.stderr
    with psycopg.connect(db_url) as conn:
        tagged = conn.execute(
            "SELECT i.title, array_agg(t.name ORDER BY t.name) FROM item i"
            " CROSS JOIN jsonb_array_elements(i.fields->'field_tags') ref"
            " JOIN category_tag t ON t.id = (ref->>'target_id')::uuid"
            " JOIN category_vocabulary v ON v.id = t.vocabulary_id AND v.machine_name = 'tags'"
            " WHERE i.type = 'blog' GROUP BY i.title ORDER BY i.title").fetchall()
        listing = conn.execute("SELECT definition->'displays' FROM gather_query"
                               " WHERE name = 'recent_articles'").fetchone()
        tiles = conn.execute("SELECT source, slot FROM tile").fetchall()
    assert dict(tagged) == {"Hello, world": ["News"], "Render trees": ["Plugins", "Rendering"],
                            "What comes next": ["News"], "Writing a plugin": ["Plugins"]}
    assert listing is not None
    assert listing[0]["page"]["menu"] == {"title": "Articles", "weight": 0}
    assert "tile" in listing[0]
    assert tiles == [("gather:recent_articles", "sidebar")]
