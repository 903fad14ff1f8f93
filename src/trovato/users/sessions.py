"""Server-side sessions: an opaque id in an HttpOnly cookie, the data in the shared store.

A session is created lazily (only when something is stored: a login, a CSRF token for a form,
an active stage), rotated on login and logout, and saved at the end of the request only when it
changed, so anonymous page views never write to the store.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from trovato.store import SessionStore

# Refresh the expiry at most this often (fraction of the TTL), to keep reads free of writes.
_TOUCH_FRACTION = 0.1


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


class Session:
    """One visitor's session data for the length of a request."""

    def __init__(
        self, sid: str | None, data: dict[str, Any] | None = None, stamp: str | None = None
    ) -> None:
        self.sid = sid
        self.data: dict[str, Any] = data or {}
        # The users stamp read with the session (trovato.store.base.SessionStore).
        self.stamp = stamp
        self.modified = False
        self.destroyed = False
        self.old_sid: str | None = None

    @property
    def exists(self) -> bool:
        return self.sid is not None and not self.destroyed

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.modified = True

    def pop(self, key: str) -> Any:
        self.modified = True
        return self.data.pop(key, None)

    def csrf_token(self) -> str:
        """The session's CSRF token, created on first use."""
        token = self.data.get("csrf")
        if not token:
            token = secrets.token_urlsafe(32)
            self.set("csrf", token)
        return str(token)

    def login(self, user_id: uuid.UUID) -> None:
        """Bind to a user under a fresh id and token (no session fixation)."""
        self.rotate()
        self.data = {"uid": str(user_id), "csrf": secrets.token_urlsafe(32)}
        self.modified = True

    def logout(self) -> None:
        self.destroyed = True
        self.modified = True

    def rotate(self) -> None:
        if self.sid is not None:
            self.old_sid = self.sid
        self.sid = None
        self.modified = True


class SessionManager:
    """Loads and saves :class:`Session` objects through the shared store."""

    def __init__(self, store: SessionStore, *, ttl: float) -> None:
        self.store = store
        self.ttl = ttl

    async def load(self, sid: str | None) -> Session:
        if not sid or len(sid) > 128:
            return Session(None)
        data, stamp = await self.store.read(sid)
        if stamp is None:
            # The store was emptied (sessions with it): users are read afresh until this is.
            await self.store.restamp(only_if_missing=True)
        if data is None:
            return Session(None)
        session = Session(sid, data, stamp)
        if time.time() - float(data.get("_t", 0)) > self.ttl * _TOUCH_FRACTION:
            session.set("_t", time.time())
        return session

    async def save(self, session: Session) -> str | None:
        """Persist a changed session. Returns the id to put in the cookie, or None if none."""
        if session.old_sid is not None:
            await self.store.delete(session.old_sid)
            session.old_sid = None
        if session.destroyed:
            if session.sid is not None:
                await self.store.delete(session.sid)
            return None
        if not session.modified:
            return session.sid
        if session.sid is None:
            session.sid = new_session_id()
        session.data["_t"] = time.time()
        await self.store.set(session.sid, session.data, self.ttl)
        session.modified = False
        return session.sid
