"""Server-side form state: what a form needs to remember between its renderings (the item and
revision an edit started from, how many values of a multi-value field are shown) without ever
trusting the browser with it.

Each rendering of a form gets a random *build id* (``form_build_id``, a hidden input); its
state lives in the shared cache under that id, bound to the form's id and to the session (a
hash of the session's CSRF token, which changes on login and logout). A submission naming a
build id that is unknown or expired, bound to another form, or to another session, is refused:
:class:`FormStateError` says which, and the form is shown again with what was typed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from trovato.store.base import Cache

STATE_TTL: Final = 6 * 3600  # seconds a form stays submittable, as Drupal's form cache
_BUILD_ID = re.compile(r"^form-[A-Za-z0-9_\-]{32}\Z")
_KEY_PREFIX = "form_state:"


class FormStateError(Exception):
    """A submission's build id cannot be used: ``expired`` (unknown or timed out) or
    ``tampered`` (malformed, or bound to another form or session)."""

    def __init__(self, reason: Literal["expired", "tampered"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FormState:
    """One rendering's state. ``taken``: read with :meth:`FormStates.take`, so no longer stored
    until the form is shown again with it (:meth:`FormStates.save`)."""

    build_id: str
    form_id: str
    data: dict[str, Any]
    taken: bool = False


def _checked(build_id: object) -> str:
    """A submitted build id, if it is one (a malformed one is ``tampered``)."""
    if not isinstance(build_id, str) or not _BUILD_ID.match(build_id):
        raise FormStateError("tampered")
    return build_id


def _binding(session_token: str) -> str:
    return hashlib.sha256(f"form-state:{session_token}".encode()).hexdigest()


class FormStates:
    """Form states in the shared cache (one per kernel)."""

    def __init__(self, cache: Cache, *, ttl: float = STATE_TTL) -> None:
        self.cache = cache
        self.ttl = ttl

    async def create(self, form_id: str, session_token: str,
                     data: Mapping[str, Any]) -> FormState:
        """A new state for one rendering of ``form_id`` in the session of ``session_token``."""
        state = FormState(f"form-{secrets.token_urlsafe(24)}", form_id, dict(data))
        await self._write(state, session_token)
        return state

    async def save(self, state: FormState, session_token: str) -> None:
        """Store ``state``'s data under its build id: changed (a rebuild: "add another"), or
        a taken state whose form is shown again."""
        await self._write(state, session_token)

    async def load(self, build_id: object, form_id: str, session_token: str) -> FormState:
        """The state of ``build_id`` if it belongs to ``form_id`` and this session."""
        state = await self.find(build_id, session_token)
        if state.form_id != form_id:
            raise FormStateError("tampered")
        return state

    async def take(self, build_id: object, form_id: str, session_token: str) -> FormState:
        """What :meth:`load` answers, the state removed in the same step: a submission that
        will be handled uses its build id once, and of two concurrent ones only the first gets
        it (the other: ``expired``). Showing the form again stores it again (:meth:`save`).
        A state of another form or session is refused and left stored."""
        checked = _checked(build_id)
        key = _KEY_PREFIX + checked
        stored = await self.cache.take(key)
        try:
            state = self._state(checked, stored, session_token, taken=True)
            if state.form_id != form_id:
                raise FormStateError("tampered")
        except FormStateError as exc:
            if exc.reason == "tampered":
                await self.cache.set(key, stored, self.ttl)
            raise
        return state

    async def find(self, build_id: object, session_token: str) -> FormState:
        """The state of ``build_id`` if it belongs to this session, whichever form it is of
        (an AJAX rebuild names only the build id; the state says which form it is)."""
        checked = _checked(build_id)
        stored = await self.cache.get(_KEY_PREFIX + checked)
        return self._state(checked, stored, session_token, taken=False)

    @staticmethod
    def _state(build_id: str, stored: object, session_token: str, *, taken: bool
               ) -> FormState:
        """The state ``stored`` under ``build_id`` if it is this session's."""
        if not isinstance(stored, dict):
            raise FormStateError("expired")
        binding, form_id = stored.get("binding"), stored.get("form_id")
        if (not isinstance(form_id, str) or not isinstance(binding, str)
                or not hmac.compare_digest(binding, _binding(session_token))):
            raise FormStateError("tampered")
        data = stored.get("data")
        return FormState(build_id, form_id, dict(data) if isinstance(data, dict) else {},
                         taken)

    async def drop(self, state: FormState) -> None:
        """Forget a state once its form was submitted (a build id is used once)."""
        await self.cache.delete(_KEY_PREFIX + state.build_id)

    async def _write(self, state: FormState, session_token: str) -> None:
        await self.cache.set(_KEY_PREFIX + state.build_id, {
            "form_id": state.form_id, "binding": _binding(session_token), "data": state.data,
        }, self.ttl)
