"""Messages shown once (``trovato.kernel.flash``): the signed cookie, its limits, and how the
pages and the anonymous page cache treat it."""

from __future__ import annotations

import time

from tests.conftest import create_account, running_app, site_settings
from tests.plugins.conftest import kernel_of
from trovato.kernel import flash
from trovato.kernel.context import RequestContext
from trovato.kernel.flash import COOKIE, MAX_AGE, MAX_COOKIE, MAX_MESSAGES, FlashSigner
from trovato.observability.profiler import Profile

KEY = b"k" * 32


def test_messages_round_trip_in_order() -> None:
    signer = FlashSigner(KEY)
    value = signer.encode([("status", "Saved."), ("warning", "Täglich <b>")])
    assert value is not None
    assert signer.decode(value) == [("status", "Saved."), ("warning", "Täglich <b>")]


def test_a_forged_or_foreign_cookie_shows_nothing() -> None:
    signer = FlashSigner(KEY)
    value = signer.encode([("status", "Saved.")])
    assert value is not None
    payload, _, signature = value.partition(".")
    other = FlashSigner(b"x" * 32).encode([("status", "Saved.")])
    assert other is not None
    forged_payload = FlashSigner(b"x" * 32).encode([("error", "Call us")])
    assert forged_payload is not None
    for bad in (
        other,  # another site's key
        f"{forged_payload.partition('.')[0]}.{signature}",  # a payload under another signature
        payload,  # no signature
        f"{payload}.{signature[:-2]}",
        f"{payload}.é",  # not ASCII
        "",
        ".",
        "not-base64!.x",
    ):
        assert signer.decode(bad) == [], bad


def test_an_old_cookie_shows_nothing() -> None:
    signer = FlashSigner(KEY)
    now = time.time()
    old = signer.encode([("status", "Saved.")], now=now - MAX_AGE - 1)
    assert old is not None and signer.decode(old, now=now) == []
    recent = signer.encode([("status", "Saved.")], now=now - MAX_AGE + 5)
    assert recent is not None and signer.decode(recent, now=now) == [("status", "Saved.")]


def test_the_cookie_is_bounded() -> None:
    signer = FlashSigner(KEY)
    many = [("status", f"Message {n}") for n in range(30)]
    value = signer.encode(many)
    assert value is not None
    assert signer.decode(value) == many[-MAX_MESSAGES:]  # the newest kept
    long = [("status", "\U0001f600" * 2000) for _ in range(5)]
    value = signer.encode(long)
    assert value is not None and len(COOKIE) + 1 + len(value) <= MAX_COOKIE
    shown = signer.decode(value)
    assert 1 <= len(shown) < 5 and all(len(text) <= 500 for _, text in shown)
    assert signer.encode([]) is None


async def test_a_page_shows_the_messages_once_and_clears_them(db_url: str) -> None:
    async with running_app(site_settings(db_url)) as client:
        await create_account(client, "root", admin=True)
        kernel = kernel_of(client)
        value = kernel.flashes.encode([("status", "Saved <script>x</script>.")])
        assert value is not None
        shown = await client.get("/", headers={"cookie": f"{COOKIE}={value}"})
        assert shown.status_code == 200
        assert "Saved &lt;script&gt;x&lt;/script&gt;." in shown.text
        cleared = shown.headers["set-cookie"]
        assert cleared.startswith(f"{COOKIE}=;") and "Max-Age=0" in cleared
        assert "HttpOnly" in cleared and "SameSite=Lax" in cleared
        assert shown.headers["cache-control"] == "private, no-store"
        assert "x-trovato-cache" not in shown.headers or shown.headers["x-trovato-cache"] != "HIT"
        again = await client.get("/")
        assert "Saved" not in again.text
        # Nothing of it was cached: the next anonymous visitors get the page without it.
        assert again.headers["x-trovato-cache"] == "MISS"
        assert (await client.get("/")).headers["x-trovato-cache"] == "HIT"


async def test_a_cached_page_is_not_served_to_a_browser_with_messages(db_url: str) -> None:
    async with running_app(site_settings(db_url)) as client:
        await create_account(client, "root", admin=True)
        await client.get("/")
        assert (await client.get("/")).headers["x-trovato-cache"] == "HIT"
        value = kernel_of(client).flashes.encode([("status", "Logged out.")])
        assert value is not None
        shown = await client.get("/", headers={"cookie": f"{COOKIE}={value}"})
        assert "Logged out." in shown.text and shown.headers.get("x-trovato-cache") != "HIT"


async def test_a_forged_cookie_is_cleared_and_shows_nothing(db_url: str) -> None:
    async with running_app(site_settings(db_url)) as client:
        await create_account(client, "root", admin=True)
        forged = FlashSigner(b"not the site's key" * 2).encode([("error", "Call 555-0100")])
        assert forged is not None
        page = await client.get("/", headers={"cookie": f"{COOKIE}={forged}"})
        assert page.status_code == 200 and "555-0100" not in page.text
        assert page.headers["set-cookie"].startswith(f"{COOKIE}=;")


async def test_a_request_that_shows_no_page_keeps_the_messages(db_url: str) -> None:
    """A redirect or an API call in between does not eat them: only a page shows them."""
    async with running_app(site_settings(db_url)) as client:
        await create_account(client, "root", admin=True)
        value = kernel_of(client).flashes.encode([("status", "Saved.")])
        assert value is not None
        cookie = {"cookie": f"{COOKIE}={value}"}
        api = await client.get("/api/v1/users/me", headers=cookie)
        assert api.status_code == 200 and "set-cookie" not in api.headers
        assert "Saved." in (await client.get("/", headers=cookie)).text


async def test_flashing_keeps_the_messages_not_yet_shown(db_url: str) -> None:
    async with running_app(site_settings(db_url)) as client:
        kernel = kernel_of(client)
        came_with = kernel.flashes.encode([("status", "First.")])

        def context() -> RequestContext:
            return RequestContext(kernel=kernel, request_id="r", profile=Profile(),
                                  client_ip="203.0.113.7", secure=True, flash_cookie=came_with)

        redirect = context()  # flashes without showing a page: both go on
        flash.add(redirect, "warning", "Second.")
        header = flash.set_cookie(redirect)
        assert header is not None and b"Secure" in header
        value = header.decode().split(";")[0].partition("=")[2]
        assert kernel.flashes.decode(value) == [("status", "First."), ("warning", "Second.")]

        page = context()  # shows them, then flashes for the next page: only the new one
        assert flash.take(page) == [("status", "First.")]
        flash.add(page, "status", "Third.")
        header = flash.set_cookie(page)
        assert header is not None
        value = header.decode().split(";")[0].partition("=")[2]
        assert kernel.flashes.decode(value) == [("status", "Third.")]

        assert flash.set_cookie(context()) is None  # neither shown nor flashed: left alone
        try:
            flash.add(context(), "shout", "Nope")
        except ValueError as exc:
            assert "shout" in str(exc)
        else:
            raise AssertionError("an unknown kind of message was accepted")
