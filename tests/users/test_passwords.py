"""Argon2id hashing and the password policy."""

from __future__ import annotations

import pytest

from trovato.users.passwords import (
    PasswordPolicyError,
    check_policy,
    hash_password,
    verify_password,
)


async def test_hash_is_argon2id_and_verifies() -> None:
    hashed = await hash_password("a long enough secret")
    assert hashed.startswith("$argon2id$")
    assert await verify_password(hashed, "a long enough secret")
    assert not await verify_password(hashed, "a long enough secreT")


async def test_empty_or_corrupt_hash_never_matches() -> None:
    assert not await verify_password("", "")
    assert not await verify_password("not-a-hash", "anything")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 10"),
        ("password123", "too common"),
        ("aaaaaaaaaaaa", "4 different"),
        ("xx-alice-xx-1", "user name"),
        ("x" * 1025, "at most 1024"),
    ],
)
def test_policy_rejects_weak_passwords(password: str, reason: str) -> None:
    with pytest.raises(PasswordPolicyError, match=reason):
        check_policy(password, name="alice", min_length=10)


def test_policy_accepts_a_passphrase() -> None:
    check_policy("correct horse battery staple", name="alice", min_length=10)
