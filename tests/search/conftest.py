"""The content services' fixtures, for searching real items."""

from tests.content.conftest import admin, content, make_user

__all__ = ["admin", "content", "make_user"]
