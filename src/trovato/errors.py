"""The one error type for a refused operation: :class:`ServiceError` carries its HTTP meaning.

Services raise it (through their own subclasses: ``ItemError``, ``RoleError``, …) with the
status that fits and a message for the client; routes let it pass. The kernel turns it into an
RFC 9457 problem document under ``/api/`` or an HTML error page elsewhere, in one place
(:mod:`trovato.kernel.errors`). It lives at the base of the package so that every service can
raise it without importing the kernel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    """A refused operation: HTTP ``status``, a ``message`` for the client and what the problem
    document says besides.

    * ``field``: the one input the message is about; the problem's ``errors`` then name it.
    * ``errors``: a message per invalid input, keyed by its path (``fields.field_count``).
    * ``extensions``: further members of the problem document (say ``conflicts``).
    * ``headers``: response headers that belong to the answer (``Retry-After``, ``Allow``).
    * ``debug``: developer detail (a plugin's traceback) that only a development site shows
      on its HTML error page.

    A subclass may set ``status`` as a class attribute and leave it out of the call.
    """

    status: int = 500

    def __init__(
        self,
        status: int | None = None,
        message: str = "",
        *,
        field: str | None = None,
        errors: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        debug: str = "",
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.message = message
        self.field = field
        self.errors = dict(errors or {})
        self.extensions = dict(extensions or {})
        self.headers = dict(headers or {})
        self.debug = debug

    @property
    def detail(self) -> str:
        """What the client is told: the message, unless a subclass keeps its message for the
        log (a plugin's malfunction)."""
        return self.message

    def problem_errors(self) -> dict[str, str]:
        """The problem document's ``errors``: the per-input messages, and the ``field`` the
        message is about."""
        if self.field is None:
            return dict(self.errors)
        return {self.field: self.message, **self.errors}
