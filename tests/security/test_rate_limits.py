"""Write limits belong to the principal: an anonymous client address, a logged-in user, an API
token, each with its own rate; ``bypass rate limits`` (administrators hold every permission)
lifts them for trusted automation.

Before, every unsafe request counted against the client address alone: an administrator's API
token bulk-importing from one machine got 429 after ``TROVATO_WRITE_RATE_LIMIT`` writes.
"""

from __future__ import annotations

import uuid

import httpx

from tests.security._accounts import kernel_of, login, person, site

LIMITS = {"write_rate_limit": 2, "user_write_rate_limit": 3, "token_write_rate_limit": 4}


async def test_an_administrators_token_is_not_capped(db_url: str) -> None:
    async with site(db_url, **LIMITS) as client:
        root = await person(client, "root", admin=True)
        _, secret = await kernel_of(client).tokens.create(uuid.UUID(root), "import")
        bearer = {"Authorization": f"Bearer {secret}"}
        statuses = [(await client.post("/api/v1/roles", json={"name": f"r{i}"},
                                       headers=bearer)).status_code for i in range(10)]
        assert statuses == [201] * 10


async def test_each_principal_has_its_own_budget(db_url: str) -> None:
    async with site(db_url, **LIMITS) as client:
        writer = await person(client, "writer", "use api tokens")
        _, secret = await kernel_of(client).tokens.create(uuid.UUID(writer), "script")
        bearer = {"Authorization": f"Bearer {secret}"}
        # The same client address for everyone (the test client's). Logging in is an
        # anonymous write: one of the address's two.
        headers = await login(client, "writer")
        cookies = httpx.Cookies(client.cookies)
        client.cookies.clear()
        anonymous = [(await client.post("/api/v1/session", json={"name": "x", "pass": "y"})
                      ).status_code for _ in range(2)]
        assert anonymous == [401, 429]

        client.cookies = cookies
        session = [(await client.post("/api/v1/tokens", json={"label": f"s{i}"},
                                      headers=headers)).status_code for i in range(4)]
        assert session == [201, 201, 201, 429]
        limited = await client.post("/api/v1/tokens", json={"label": "x"}, headers=headers)
        assert "3 state-changing requests a minute" in limited.json()["detail"]

        client.cookies.clear()
        token = [(await client.post("/api/v1/tokens", json={"label": f"t{i}"},
                                    headers=bearer)).status_code for i in range(5)]
        assert token == [201, 201, 201, 201, 429]


async def test_a_second_token_of_the_same_user_has_its_own_budget(db_url: str) -> None:
    async with site(db_url, **LIMITS) as client:
        writer = uuid.UUID(await person(client, "writer", "use api tokens"))
        tokens = [(await kernel_of(client).tokens.create(writer, n))[1] for n in ("a", "b")]
        for secret in tokens:
            statuses = [(await client.post(
                "/api/v1/tokens", json={"label": "x"},
                headers={"Authorization": f"Bearer {secret}"})).status_code for _ in range(5)]
            assert statuses == [201, 201, 201, 201, 429]


async def test_bypass_rate_limits_is_a_permission_for_automation(db_url: str) -> None:
    async with site(db_url, **LIMITS) as client:
        bot = uuid.UUID(await person(client, "bot", "use api tokens", "bypass rate limits"))
        _, secret = await kernel_of(client).tokens.create(bot, "bot")
        statuses = [(await client.post(
            "/api/v1/tokens", json={"label": f"b{i}"},
            headers={"Authorization": f"Bearer {secret}"})).status_code for i in range(8)]
        assert statuses == [201] * 8
