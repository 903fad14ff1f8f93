"""Attacks on accounts: the lockout under every spelling of a name (finding 6), look-alike
and hidden-character names at registration, NUL in what a login form sends."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD, create_account
from tests.security._accounts import hidden_characters, kernel_of, look_alikes, site
from trovato.names import name_key
from trovato.users.accounts import AccountError

SPELLINGS = {
    "dotted capital I (U+0130)": "al\u0130ce",
    **look_alikes("alice"),
}


async def test_lockout_holds_for_every_spelling_of_the_name(db_url: str) -> None:
    async with site(db_url) as client:
        await create_account(client, "alice")
        for _ in range(5):
            bad = await client.post("/api/v1/session", json={"name": "alice", "pass": "wrong"})
            assert bad.status_code == 401
        for how, spelling in SPELLINGS.items():
            response = await client.post("/api/v1/session",
                                         json={"name": spelling, "pass": ADMIN_PASSWORD})
            # Either the locked account (429) or no account (401): never a session.
            assert response.status_code in (401, 429), (how, response.text)
            assert "csrf_token" not in response.text, how
        locked = await client.post("/api/v1/session",
                                   json={"name": "alice", "pass": ADMIN_PASSWORD})
        assert locked.status_code == 429
        assert "try again in 15 minutes" in locked.json()["detail"]


async def test_failures_under_other_spellings_count_against_the_account(db_url: str) -> None:
    async with site(db_url) as client:
        await create_account(client, "alice")
        for spelling in ("ALICE", "Alice", "\uff41lice", "\u0430lice", "a1ice"):
            bad = await client.post("/api/v1/session", json={"name": spelling, "pass": "no"})
            assert bad.status_code == 401
        locked = await client.post("/api/v1/session",
                                   json={"name": "alice", "pass": ADMIN_PASSWORD})
        assert locked.status_code == 429


@pytest.mark.parametrize("how", sorted(look_alikes("alice")))
async def test_look_alike_user_names_are_refused(db_url: str, how: str) -> None:
    async with site(db_url) as client:
        await create_account(client, "alice")
        with pytest.raises(AccountError) as refused:
            await create_account(client, look_alikes("alice")[how])
        assert refused.value.field == "name" and "looks like" in refused.value.message


@pytest.mark.parametrize("how", sorted(hidden_characters("alice")))
async def test_names_with_hidden_characters_are_refused(db_url: str, how: str) -> None:
    async with site(db_url) as client:
        with pytest.raises(AccountError) as refused:
            await create_account(client, hidden_characters("alice")[how])
        assert refused.value.field == "name"
        assert await kernel_of(client).db.fetchval("SELECT count(*) FROM users") == 1


async def test_composed_and_decomposed_accents_are_one_name(db_url: str) -> None:
    assert name_key("jos\u00e9") == name_key("jose\u0301") == name_key("JOS\u00c9")
    async with site(db_url) as client:
        await create_account(client, "jos\u00e9")
        with pytest.raises(AccountError):
            await create_account(client, "jose\u0301")
        login = await client.post("/api/v1/session",
                                  json={"name": "JOSE\u0301", "pass": ADMIN_PASSWORD})
        assert login.status_code == 200 and login.json()["user"]["name"] == "jos\u00e9"


@pytest.mark.parametrize("how", sorted(hidden_characters("alice")))
async def test_login_with_hidden_characters_is_a_clean_refusal(db_url: str, how: str) -> None:
    async with site(db_url) as client:
        await create_account(client, "alice")
        name = hidden_characters("alice")[how]
        api = await client.post("/api/v1/session", json={"name": name, "pass": ADMIN_PASSWORD})
        assert api.status_code in (401, 422), api.text
        form = await client.get("/user/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        page = await client.post("/user/login", data={"csrf_token": token, "name": name,
                                                      "pass": ADMIN_PASSWORD})
        assert page.status_code in (400, 401), page.text[:300]


async def test_mail_with_nul_or_newline_is_refused(db_url: str) -> None:
    async with site(db_url) as client:
        kernel = kernel_of(client)
        for mail in ("al\x00ice@example.com", "alice@example.com\n"):
            with pytest.raises(AccountError) as refused:
                await kernel.accounts.create(name="alice", mail=mail, password=ADMIN_PASSWORD)
            assert refused.value.field == "mail"
