"""The request pipeline: ids, timing, security headers, error formats, the active stage, rate
limits."""

from __future__ import annotations

import httpx

from tests.conftest import create_account, running_app, site_settings


async def test_request_id_and_server_timing(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")
    assert len(response.headers["x-request-id"]) == 16
    timing = response.headers["server-timing"]
    for part in ("db;dur=", "tap;dur=", "render;dur=", "total;dur="):
        assert part in timing
    echoed = await client.get("/api/v1/users/me", headers={"X-Request-Id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    hostile = await client.get("/api/v1/users/me", headers={"X-Request-Id": "<script>"})
    assert hostile.headers["x-request-id"] != "<script>"


async def test_server_timing_counts_queries_and_templates(client: httpx.AsyncClient) -> None:
    await create_account(client, "root", admin=True)
    response = await client.get("/user/login")
    # The login form's render tree, then the page around it.
    assert 'desc="2 templates"' in response.headers["server-timing"]
    assert "queries" in response.headers["server-timing"]


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for path in ("/user/login", "/api/v1/users/me", "/nowhere"):
        headers = (await client.get(path)).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers


async def test_secure_cookie_and_hsts_behind_tls(db_url: str) -> None:
    settings = site_settings(db_url, trust_proxy_headers=True)
    async with running_app(settings) as client:
        headers = {"X-Forwarded-Proto": "https"}
        response = await client.get("/user/login", headers=headers)
        assert "Secure" in response.headers["set-cookie"]
        assert "strict-transport-security" in response.headers


async def test_html_404_and_problem_json_404(client: httpx.AsyncClient) -> None:
    await create_account(client, "root", admin=True)
    page = await client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text and "<script" not in page.text
    assert page.text.count("Page not found") == 2  # the window's title and the heading
    assert "<p>Nothing exists at this address.</p>" in page.text
    api = await client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["status"] == 404
    assert api.json()["title"] == "Not found"  # a resource, not a page
    assert api.json()["detail"] == "Nothing exists at this address."
    assert "page" not in api.text.lower()


async def test_405_is_reported(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/users/me", json={})
    assert response.status_code == 405


async def test_path_is_escaped_in_error_pages(client: httpx.AsyncClient) -> None:
    response = await client.get("/%3Cscript%3Ealert(1)%3C/script%3E")
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.text


async def test_unknown_stage_and_stage_permission(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/v1/users/me", headers={"X-Trovato-Stage": "draft"})
    assert anonymous.status_code == 403
    live = await client.get("/api/v1/users/me?stage=live")
    assert live.status_code == 200
    await create_account(client, "root", admin=True)
    response = await client.post("/api/v1/session",
                                 json={"name": "root", "pass": "correct horse battery staple"})
    assert response.status_code == 200
    unknown = await client.get("/api/v1/users/me", headers={"X-Trovato-Stage": "nope"})
    assert unknown.status_code == 400 and "Unknown stage" in unknown.json()["detail"]


async def test_write_rate_limit_per_address(db_url: str, store_backend: str) -> None:
    async with running_app(site_settings(db_url, store_backend, write_rate_limit=3)) as client:
        statuses = [
            (await client.post("/api/v1/session", json={"name": "x", "pass": "y"})).status_code
            for _ in range(4)
        ]
        assert statuses[:3] == [401, 401, 401]
        assert statuses[3] == 429
        blocked = await client.post("/api/v1/session", json={"name": "x", "pass": "y"})
        assert int(blocked.headers["retry-after"]) >= 1
        assert (await client.get("/api/v1/users/me")).status_code == 200  # reads still work


async def test_malformed_cookie_header_is_harmless(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/users/me", headers={"Cookie": 'trovato_session="\\x00; =;;; a'}
    )
    assert response.status_code == 200
    unknown = await client.get(
        "/api/v1/users/me", headers={"Cookie": "trovato_session=" + "a" * 500}
    )
    assert unknown.json()["authenticated"] is False


def test_the_session_cookie_is_read_from_any_cookie_header() -> None:
    from trovato.kernel.pipeline import _cookie_value

    def value(header: str | None) -> str | None:
        headers = [] if header is None else [(b"cookie", header.encode())]
        return _cookie_value({"headers": headers}, "trovato_session")

    assert value(None) is None and value("") is None
    assert value("trovato_session=abc") == "abc"
    assert value("a=1; trovato_session=abc; b=2") == "abc"
    assert value("a=1;trovato_session = abc ;b") == "abc"
    assert value("trovato_session_old=x; my_trovato_session=y") is None
    assert value("trovato_session=one; trovato_session=two") == "two"
    assert value("trovato_session; =; ;;") is None
    assert value("trovato_session=a=b") == "a=b"


def test_the_form_token_is_read_as_parse_qs_reads_it() -> None:
    from urllib.parse import parse_qs

    from trovato.kernel.csrf import urlencoded_value

    bodies = ["", "csrf_token=abc", "a=1&csrf_token=a%2Bb+c&b=2", "csrf_token=&csrf_token=x",
              "csrf_token&csrf_token=y", "csrf%5Ftoken=z&csrf_token=w", "xcsrf_token=1",
              "csrf_token=1&csrf_token=2", "a=%ZZ&csrf_token=%E2%82%AC", "csrf+token=q",
              "&&=&csrf_token==", "csrf_token=a=b;c"]
    for body in bodies:
        values = parse_qs(body).get("csrf_token")
        assert urlencoded_value(body, "csrf_token") == (values[0] if values else None), body
