"""Fixtures for the stage tests: the content services' (real services on a fresh database,
users holding exactly the permissions a test names)."""

from tests.content.conftest import admin, content, make_user

__all__ = ["admin", "content", "make_user"]
