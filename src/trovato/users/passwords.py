"""Password hashing (Argon2id, off the event loop) and the password policy."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2-cffi's defaults follow RFC 9106's second recommendation


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown names, so a login for an unknown name costs as much as one
    for a known name and response time does not reveal which accounts exist. Hashed on first
    use (in the verifying thread), not at import: every process and CLI call would pay it."""
    return _hasher.hash("trovato-timing-equaliser")


_COMMON = frozenset(
    {
        "password", "password1", "password123", "1234567890", "123456789", "12345678",
        "qwertyuiop", "qwerty123", "letmein123", "iloveyou12", "administrator", "admin12345",
        "welcome123", "trovato123", "changeme123", "passw0rd12",
    }
)


class PasswordPolicyError(ValueError):
    """The password does not meet the policy; the message says why, for the user."""


def check_policy(password: str, *, name: str = "", min_length: int = 10) -> None:
    """Raise :class:`PasswordPolicyError` if ``password`` is too weak."""
    if len(password) < min_length:
        raise PasswordPolicyError(f"must be at least {min_length} characters long")
    if len(password) > 1024:
        raise PasswordPolicyError("must be at most 1024 characters long")
    if password.lower() in _COMMON:
        raise PasswordPolicyError("is too common; choose another")
    if len(set(password)) < 4:
        raise PasswordPolicyError("must contain at least 4 different characters")
    if name and len(name) >= 3 and name.lower() in password.lower():
        raise PasswordPolicyError("must not contain the user name")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def verify_password(stored_hash: str, password: str) -> bool:
    """True if ``password`` matches; an empty or corrupt hash never matches."""
    def _verify() -> bool:
        try:
            return _hasher.verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
