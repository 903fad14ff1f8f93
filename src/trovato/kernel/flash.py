"""Messages shown once on the next page ("Saved." after a redirect), carried by the browser in
a signed cookie, so neither the request that sets them nor the page that shows them writes
anything server-side (nor needs a session: an anonymous visitor gets them too).

The cookie holds the messages and when they were set, signed with HMAC-SHA256 under a key
derived from the site's secret (:mod:`trovato.kernel.keys`). A cookie whose signature does not
hold, or which is older than :data:`MAX_AGE` seconds, shows nothing and is cleared. At most
:data:`MAX_MESSAGES` are kept, each cut to :data:`MAX_TEXT` characters, and the oldest are
dropped while the cookie would be longer than :data:`MAX_COOKIE` bytes. The text is the site's
own (routes flash it) and is escaped like any other template text where it is shown.

The page that shows them clears the cookie (:func:`take`), so they survive one page view; a
request that flashes sets it (:func:`add`), keeping the messages it did not show. A response
that sets a cookie is never stored in the page cache, and a request carrying this cookie is
never answered from it (``kernel/pipeline.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import orjson

from trovato.kernel.context import Messages, RequestContext

COOKIE = "trovato_flash"
KINDS = frozenset({"status", "warning", "error"})
MAX_MESSAGES = 10
MAX_TEXT = 500
# Browsers keep cookies of up to 4096 bytes with their name and attributes.
MAX_COOKIE = 3800
# A redirect is followed at once; a cookie this old is a leftover (or a replay).
MAX_AGE = 600


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FlashSigner:
    """Encodes messages into a signed cookie value and reads them back."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.key, payload.encode("ascii"), hashlib.sha256).digest())

    def encode(self, messages: Messages, *, now: float | None = None) -> str | None:
        """The cookie value for ``messages`` (the newest kept when they do not all fit), or
        None when there are none."""
        kept = [(kind, text[:MAX_TEXT]) for kind, text in messages][-MAX_MESSAGES:]
        issued = int(time.time() if now is None else now)
        while kept:
            payload = _b64(orjson.dumps({"t": issued, "m": kept}))
            value = f"{payload}.{self._sign(payload)}"
            if len(value) + len(COOKIE) + 1 <= MAX_COOKIE:
                return value
            kept = kept[1:]
        return None

    def decode(self, value: str, *, now: float | None = None) -> Messages:
        """The messages of a cookie value; none when it is not one this site signed, or has
        expired."""
        payload, dot, signature = value.partition(".")
        if not dot or not hmac.compare_digest(
            self._sign(payload).encode("ascii"), signature.encode("utf-8", "surrogateescape")
        ):
            return []
        try:
            data: Any = orjson.loads(_unb64(payload))
        except ValueError:
            return []
        current = time.time() if now is None else now
        issued = data.get("t") if isinstance(data, dict) else None
        if not isinstance(issued, int) or not -60 <= current - issued <= MAX_AGE:
            return []
        return [(kind, text) for kind, text in data.get("m", ())
                if kind in KINDS and isinstance(text, str)][-MAX_MESSAGES:]


def add(ctx: RequestContext, kind: str, text: str) -> None:
    """Show ``text`` on the next page this browser sees (after the messages it has not seen
    yet)."""
    if kind not in KINDS:
        raise ValueError(f"flash kind must be one of {sorted(KINDS)}, not {kind!r}")
    if ctx.flash_outgoing is None:
        ctx.flash_outgoing = [] if ctx.flash_taken else take(ctx)
    ctx.flash_outgoing.append((kind, text))


def take(ctx: RequestContext) -> Messages:
    """The messages this request came with, once: the page that shows them clears them."""
    if ctx.flash_taken:
        return []
    ctx.flash_taken = True
    return ctx.kernel.flashes.decode(ctx.flash_cookie) if ctx.flash_cookie else []


def set_cookie(ctx: RequestContext) -> bytes | None:
    """The ``Set-Cookie`` header value of this response: the messages it flashed, or clearing
    those it came with once taken; None when it leaves the cookie alone."""
    if ctx.flash_outgoing:
        value = ctx.kernel.flashes.encode(ctx.flash_outgoing)
    elif ctx.flash_taken and ctx.flash_cookie is not None:
        value = None
    else:
        return None
    parts = [f"{COOKIE}={value or ''}", "Path=/", "HttpOnly", "SameSite=Lax",
             f"Max-Age={MAX_AGE if value else 0}"]
    if ctx.secure:
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")
