"""Sealed form states: what a form needs to remember between its renderings (the item and
revision an edit started from, how many values of a multi-value field are shown) carried by the
form itself, so showing a form writes nothing server-side.

Each rendering of a form gets a *build id* (``form_build_id``, a hidden input) that **is** its
state: the form's id, the state's data, when it was issued and a random nonce, sealed with
HMAC-SHA256 under a key derived from the site's secret (``"form-state"``,
:mod:`trovato.kernel.keys`) and bound to the session (the MAC covers a hash of the session's
CSRF token, which changes on login and logout). A build id that is malformed, whose MAC does
not hold (edited, forged, another session's), or that is another form's is ``tampered``; one
older than :data:`STATE_TTL` is ``expired``. A form shown again (a refused submission, a
rebuild) is sealed again with a new nonce and issue time.

**The data is visible to the browser** (base64 of JSON: integrity, not secrecy). It must never
hold a secret — a password, a token, anything the user may not read — only ids, counts, steps
and what the user typed themselves.

A build id can be submitted any number of times within its life unless its form says
otherwise: a form whose repeated submission would do harm twice (creating, deleting, enabling a
plugin) marks its build id used when a submission acts (:meth:`FormStates.acting`: one
insert-if-absent in the shared cache, kept for the state's remaining life, made only once the
submission passed its checks and right before the change), so a double-clicked "Save" creates
one item: of two concurrent submissions exactly one wins the insert and acts, the other is
refused as expired. A submission refused before acting (a validation error) leaves the build
id usable, so the page the user goes back to still works; one whose change the service
refused (:class:`~trovato.errors.ServiceError`: nothing was done) gives it back. Each form
makes that choice explicitly (the ``once`` parameter of the web layer's ``acting``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson

from trovato.errors import ServiceError
from trovato.store.base import Cache

STATE_TTL: Final = 6 * 3600  # seconds a form stays submittable, as Drupal's form cache
# The longest build id sealed or read, in characters: a state is a form's bookkeeping, not its
# content; this keeps a hostile one from costing more than a regular expression to refuse.
MAX_BUILD_ID: Final = 32_768
_VERSION: Final = "fs1"
_MAC_CHARS: Final = 43  # HMAC-SHA256, unpadded base64
_BUILD_ID = re.compile(r"fs1\.([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\-]{43})")
_USED_PREFIX: Final = "form_used:"


class FormStateError(Exception):
    """A submission's build id cannot be used: ``expired`` (timed out, or already used by a
    form that allows one submission) or ``tampered`` (malformed, forged, or bound to another
    form or session)."""

    def __init__(self, reason: Literal["expired", "tampered"]) -> None:
        super().__init__(reason)
        self.reason = reason


class FormStateTooLarge(ValueError):
    """A state too large to seal (:data:`MAX_BUILD_ID`): the form keeps too much in it."""


@dataclass(frozen=True, slots=True)
class Received:
    """The build id a state was read from: its nonce and issue time (what :meth:`FormStates.use`
    marks, and for how long)."""

    nonce: str
    issued: int


@dataclass(frozen=True, slots=True)
class FormState:
    """One form's state. ``data`` may be changed (a rebuild: "add another"); the next rendering
    seals it as it is then. ``received``: the build id it was read from, None for a new one."""

    form_id: str
    data: dict[str, Any]
    binding: bytes
    received: Received | None = None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _binding(session_token: str) -> bytes:
    return hashlib.sha256(f"form-state:{session_token}".encode()).digest()


class FormStates:
    """Seals form states into build ids and reads them back (one per kernel)."""

    def __init__(self, cache: Cache, key: bytes, *, ttl: float = STATE_TTL,
                 clock: Callable[[], float] = time.time) -> None:
        self.cache = cache
        self.key = key
        self.ttl = ttl
        self.clock = clock

    def create(self, form_id: str, session_token: str, data: Mapping[str, Any]) -> FormState:
        """A new state of ``form_id`` in the session of ``session_token`` (nothing stored)."""
        return FormState(form_id, dict(data), _binding(session_token))

    def seal(self, state: FormState) -> str:
        """The build id carrying ``state`` as it is now, issued now, with a new nonce (so no
        two renderings share one). :class:`FormStateTooLarge` when it would be longer than
        :data:`MAX_BUILD_ID`."""
        payload = _b64(orjson.dumps([state.form_id, state.data, int(self.clock()),
                                     _b64(secrets.token_bytes(9))]))
        signed = f"{_VERSION}.{payload}"
        build_id = f"{signed}.{self._mac(signed, state.binding)}"
        if len(build_id) > MAX_BUILD_ID:
            raise FormStateTooLarge(
                f"the state of the form {state.form_id} seals to {len(build_id)} characters,"
                f" more than {MAX_BUILD_ID}: keep less in it")
        return build_id

    def load(self, build_id: object, form_id: str, session_token: str) -> FormState:
        """The state of ``build_id`` if it is ``form_id``'s and this session's."""
        state = self.find(build_id, session_token)
        if state.form_id != form_id:
            raise FormStateError("tampered")
        return state

    def find(self, build_id: object, session_token: str) -> FormState:
        """The state of ``build_id`` if it is this session's, whichever form it is of (an
        AJAX rebuild names only the build id; the state says which form it is)."""
        if not isinstance(build_id, str) or len(build_id) > MAX_BUILD_ID:
            raise FormStateError("tampered")
        matched = _BUILD_ID.fullmatch(build_id)
        if matched is None:
            raise FormStateError("tampered")
        binding = _binding(session_token)
        signed = build_id[:-_MAC_CHARS - 1]
        if not hmac.compare_digest(self._mac(signed, binding), matched[2]):
            raise FormStateError("tampered")
        try:
            decoded: Any = orjson.loads(base64.urlsafe_b64decode(
                matched[1] + "=" * (-len(matched[1]) % 4)))
        except (ValueError, binascii.Error):
            raise FormStateError("tampered") from None
        # Only this site seals, so a payload of another shape is a bug or a leaked key.
        if not (isinstance(decoded, list) and len(decoded) == 4
                and isinstance(decoded[0], str) and isinstance(decoded[1], dict)
                and type(decoded[2]) is int and isinstance(decoded[3], str)):
            raise FormStateError("tampered")
        found_form, data, issued, nonce = decoded
        if self.clock() - issued > self.ttl:
            raise FormStateError("expired")
        return FormState(found_form, data, binding, Received(nonce, issued))

    async def use(self, state: FormState) -> None:
        """Mark the build id ``state`` was read from as used, in one atomic store step; a build
        id already used (a double submission, a replay) is ``expired``. For the forms whose
        repeated submission would do harm twice, right before they act (:meth:`acting`)."""
        left = self._left(state)
        # The marker lives as long as the build id could still be accepted.
        if left <= 0 or not await self.cache.add(self._marker(state), 1,
                                                 max(1, math.ceil(left))):
            raise FormStateError("expired")

    async def release(self, state: FormState) -> None:
        r"""Make the build id ``state`` was read from usable again: the submission that
        :meth:`use`\ d it did nothing after all (its change was refused)."""
        self._left(state)
        await self.cache.delete(self._marker(state))

    @asynccontextmanager
    async def acting(self, state: FormState) -> AsyncIterator[None]:
        """The change a submission of ``state`` makes, run at most once per build id: the
        build id is marked used first (:meth:`use`; ``expired`` when another submission
        did), and given back when the change is refused (a :class:`ServiceError`, after
        which nothing was done), so the form can be corrected and sent again. Any other
        failure leaves it used: the change may have been made."""
        await self.use(state)
        try:
            yield
        except ServiceError:
            await self.release(state)
            raise

    def _left(self, state: FormState) -> float:
        """Seconds the build id of ``state`` stays acceptable."""
        if state.received is None:
            raise ValueError("only a state read from a submitted build id can be used")
        return state.received.issued + self.ttl - self.clock()

    @staticmethod
    def _marker(state: FormState) -> str:
        assert state.received is not None  # checked by _left
        return _USED_PREFIX + state.received.nonce

    def _mac(self, signed: str, binding: bytes) -> str:
        return _b64(hmac.new(self.key, signed.encode("ascii") + b"\n" + binding,
                             hashlib.sha256).digest())
