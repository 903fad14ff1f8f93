"""The redirect service: what a source and a destination may be (attack inputs included),
loop and chain refusals, the one lookup, paging, audit entries, and a failed write changing
nothing."""

from __future__ import annotations

import uuid

import pytest

from trovato.db.pool import Database
from trovato.routing import RedirectError, Redirects
from trovato.routing.redirects import (
    DESTINATION_MAX,
    MAX_CHAIN,
    SOURCE_MAX,
    check_destination,
    check_source,
    check_status,
    request_source,
)


@pytest.fixture
def redirects(database: Database) -> Redirects:
    return Redirects(database)


def _refused(check: object, raw: object, field: str) -> str:
    assert callable(check)
    with pytest.raises(RedirectError) as refused:
        check(raw)
    assert refused.value.status == 422 and refused.value.field == field
    assert refused.value.message.endswith(".")
    return refused.value.message


def test_sources_are_paths_of_the_site_stored_decoded() -> None:
    assert check_source("/old-page") == "/old-page"
    assert check_source("  /old/page/ ") == "/old/page"  # one trailing slash dropped
    assert check_source("/caf%C3%A9") == "/café" == check_source("/café")
    assert check_source("/a%20b") == "/a b"
    assert check_source("/administration") == "/administration"  # only whole segments
    assert check_source("/javascript:alert(1)") == "/javascript:alert(1)"  # a mere path


@pytest.mark.parametrize(("raw", "said"), [
    ("", "is required"),
    (None, "is required"),
    ("old-page", "starting with /"),
    ("//evil.com", "not an address with a scheme or host"),
    ("/\\evil.com", "backslash"),
    ("/%5Cevil.com", "backslash"),
    ("https://evil.com/x", "not an address with a scheme or host"),
    ("javascript:alert(1)", "not an address with a scheme or host"),
    ("/a/../admin", ". or .. segments"),
    ("/a/%2e%2e/admin", ". or .. segments"),
    ("/a//b", "empty segments"),
    ("/a?b=1", "query string"),
    ("/a#top", "query string"),
    ("/a\r\nLocation: https://evil.com", "control characters"),
    ("/a%0d%0aSet-Cookie:x=1", "control characters"),
    ("/a%00", "control characters"),
    ("/a%ff", "no UTF-8"),
    ("/" + "a" * SOURCE_MAX, f"at most {SOURCE_MAX}"),
    ("/" + "%41" * SOURCE_MAX, f"at most {SOURCE_MAX}"),
    ("/", "front page"),
    ("/admin", "site's own addresses"),
    ("/admin/config", "site's own addresses"),
    ("/API/v1/items", "site's own addresses"),
    ("/user/login", "site's own addresses"),
    ("/health", "site's own addresses"),
    ("/metrics", "site's own addresses"),
    ("/assets/admin.css", "site's own addresses"),
    ("/files/styles/thumbnail/1", "site's own addresses"),
])
def test_sources_refused(raw: object, said: str) -> None:
    assert said in _refused(check_source, raw, "source")


def test_destinations_are_site_paths_or_http_urls_stored_encoded() -> None:
    assert check_destination("/new") == "/new"
    assert check_destination("/news?page=2#top") == "/news?page=2#top"
    assert check_destination("/café") == "/caf%C3%A9"
    assert check_destination("/caf%C3%A9") == "/caf%C3%A9"  # not encoded twice
    assert check_destination("https://example.com/a?b=c") == "https://example.com/a?b=c"
    assert check_destination("HTTP://Example.com:8080/x") == "http://example.com:8080/x"
    assert check_destination("http://[::1]:8000/x") == "http://[::1]:8000/x"
    assert check_destination("https://bücher.example/ü") == \
        "https://xn--bcher-kva.example/%C3%BC"


@pytest.mark.parametrize(("raw", "said"), [
    ("", "is required"),
    (7, "is required"),
    ("new", "must be a path of this site"),
    ("//evil.com", "single /"),
    ("/\\evil.com", "backslash"),
    ("\\\\evil.com", "backslash"),
    ("javascript:alert(1)", "http:// or https://"),
    ("JaVaScRiPt:alert(1)", "http:// or https://"),
    ("data:text/html,<script>alert(1)</script>", "http:// or https://"),
    ("ftp://example.com/", "http:// or https://"),
    ("http:/evil.com", "must name a host"),
    ("https://user:secret@example.com/", "user name or password"),
    ("https://example.com@evil.com/", "user name or password"),
    ("https://example.com:99999/", "not a valid address"),
    ("https://" + "a" * 64 + ".example/", "not a valid domain name"),
    ("?x=1", "must be a path of this site"),
    ("/a\r\nSet-Cookie: x=1", "control characters"),
    ("java\tscript:alert(1)", "control characters"),  # browsers drop the tab
    ("\x01javascript:alert(1)", "control characters"),
    ("/a b", "spaces"),
    ("/a/../b", ". or .. segments"),
    ("/" + "a" * DESTINATION_MAX, f"at most {DESTINATION_MAX}"),
    ("/" + "é" * (DESTINATION_MAX // 2), "once encoded"),
])
def test_destinations_refused(raw: object, said: str) -> None:
    assert said in _refused(check_destination, raw, "destination")


def test_status_codes() -> None:
    assert [check_status(c) for c in (301, "302", 303, "307", 308)] == [301, 302, 303, 307, 308]
    for bad in (200, "404", True, "abc", None, 3010):
        _refused(check_status, bad, "status_code")


def test_request_paths_that_no_redirect_can_have_cost_no_query() -> None:
    assert request_source("/old/") == "/old"
    assert request_source("/old") == "/old"
    for path in ("/", "/admin/x", "/api/v1/items", "//evil.com", "/" + "a" * (SOURCE_MAX + 1),
                 "/a\x00", "/a\r\n"):
        assert request_source(path) is None


async def test_create_edit_delete_and_audit(redirects: Redirects, database: Database) -> None:
    actor = uuid.UUID("00000000-0000-7000-8000-000000000042")
    made = await redirects.create(" /old ", "/new?x=1", "302", actor=actor)
    assert (made.source, made.destination, made.status_code) == ("/old", "/new?x=1", 302)
    assert await redirects.find("/old/") == made
    assert await redirects.find("/other") is None
    with pytest.raises(RedirectError) as taken:
        await redirects.create("/old/", "/elsewhere", actor=actor)
    assert taken.value.status == 409 and taken.value.field == "source"
    changed = await redirects.update(made.id, "/older", "https://example.com/", 308,
                                     actor=actor)
    assert (changed.id, changed.source, changed.status_code) == (made.id, "/older", 308)
    assert await redirects.find("/old") is None
    removed = await redirects.delete(made.id, actor=actor)
    assert removed.source == "/older" and await redirects.get(made.id) is None
    for gone in (redirects.delete(made.id, actor=actor),
                 redirects.update(made.id, "/a", "/b", 301, actor=actor)):
        with pytest.raises(RedirectError) as missing:
            await gone
        assert missing.value.status == 404
    rows = await database.fetch("SELECT user_id, message, variables FROM watchdog"
                                " WHERE type = 'redirect' ORDER BY created, id")
    assert [row["message"] for row in rows] == [
        "Redirect from “%(source)s” to “%(destination)s” (%(status)s) created.",
        "Redirect from “%(before)s” changed: from “%(source)s” to “%(destination)s”"
        " (%(status)s).",
        "Redirect from “%(source)s” deleted."]
    assert {row["user_id"] for row in rows} == {actor}
    assert rows[1]["variables"] == {"before": "/old", "source": "/older",
                                    "destination": "https://example.com/", "status": 308}


async def test_every_bad_field_is_named_and_nothing_is_written(redirects: Redirects,
                                                               database: Database) -> None:
    with pytest.raises(RedirectError) as bad:
        await redirects.create("//evil.com", "javascript:alert(1)", 200, actor=None)
    assert set(bad.value.errors) == {"source", "destination", "status_code"}
    assert bad.value.field == "source"
    assert await database.fetchval("SELECT count(*) FROM redirect") == 0
    assert await database.fetchval("SELECT count(*) FROM watchdog WHERE type = 'redirect'") == 0


async def test_loops_are_refused(redirects: Redirects, database: Database) -> None:
    # A -> A, also through the trailing slash, the encoding and the query.
    for destination in ("/a", "/a/", "/%61", "/a?x=1"):
        with pytest.raises(RedirectError, match="not be the source itself") as itself:
            await redirects.create("/a", destination, actor=None)
        assert itself.value.field == "destination"
    # A -> B -> A
    await redirects.create("/a", "/b", actor=None)
    with pytest.raises(RedirectError, match="would be a loop") as loop:
        await redirects.create("/b", "/a", actor=None)
    assert loop.value.field == "destination"
    # A -> B -> C -> A, and an edit that would close the loop
    await redirects.create("/b", "/c", actor=None)
    with pytest.raises(RedirectError, match="would be a loop"):
        await redirects.create("/c", "/a/", actor=None)
    last = await redirects.create("/c", "/d", actor=None)
    with pytest.raises(RedirectError, match="would be a loop"):
        await redirects.update(last.id, "/c", "/b", 301, actor=None)
    # An edit keeping its own source is no loop with its old self.
    await redirects.update(last.id, "/c", "https://example.com/c", 301, actor=None)
    assert await database.fetchval("SELECT count(*) FROM redirect") == 3
    # Turning /x -> /y into /y -> /x is no loop: the old /x -> /y is replaced, not followed.
    turned = await redirects.create("/x", "/y", actor=None)
    await redirects.update(turned.id, "/y", "/x", 301, actor=None)
    assert await redirects.find("/y") is not None and await redirects.find("/x") is None


async def test_long_chains_are_refused(redirects: Redirects) -> None:
    # /s1 -> /s2 -> ... -> /s{MAX_CHAIN}: a chain of MAX_CHAIN - 1 redirects
    for n in range(1, MAX_CHAIN):
        await redirects.create(f"/s{n}", f"/s{n + 1}", actor=None)
    # One more in front makes MAX_CHAIN: still allowed; one more refused.
    await redirects.create("/s0", "/s1", actor=None)
    with pytest.raises(RedirectError, match=f"more than {MAX_CHAIN}") as chain:
        await redirects.create("/start", "/s0", actor=None)
    assert chain.value.field == "destination"
    # An external destination ends a chain.
    await redirects.create("/out", "https://example.com/s1", actor=None)


async def test_paging(redirects: Redirects) -> None:
    for n in range(5):
        await redirects.create(f"/p{n}", "/target", actor=None)
    first = await redirects.page(0, per_page=2)
    assert ([r.source for r in first.redirects], first.pages, first.total) == (
        ["/p0", "/p1"], 3, 5)
    last = await redirects.page(99, per_page=2)
    assert last.page == 2 and [r.source for r in last.redirects] == ["/p4"]
    assert (await Redirects(redirects.db).page()).pages == 1
