"""Redirects (Drupal's Redirect module, kept simple): an old address of the site answers with a
301, 302, 303, 307 or 308 to a new one.

A redirect is a row of the ``redirect`` table: an exact ``source`` path, a ``destination`` (a
path of the site or an absolute http(s) URL) and a status code. It only ever answers a
request nothing else answers: the kernel asks :meth:`Redirects.find` when a GET or HEAD is
about to get its 404 page, so a page that exists is never shadowed and a page that exists
pays nothing. The table has no stage column: a redirect applies in every stage.

Every write goes through :func:`check_source` and :func:`check_destination`, which define
what is stored:

* a source is a path of the site, stored decoded (``/café``, as the router sees a request's
  path; typing ``/caf%C3%A9`` stores the same): it starts with one ``/``, has no empty, ``.``
  or ``..`` segment, no backslash, control character, query string or fragment, no trailing
  slash, and is none of the kernel's own addresses (:data:`RESERVED`). A request matches on its
  path alone (one trailing slash ignored); its query string is not passed on.
* a destination is a site path (``/news?page=2`` — a query and a fragment are kept) or an
  http(s) URL with a host and no user name, stored percent-encoded so it is a valid
  ``Location`` header as it is.

Writes are loop-safe: a redirect whose destination leads back to its source, directly or
through the chain of other redirects, is refused, and so is one whose chain is longer than
:data:`MAX_CHAIN` (browsers give up on long chains). Writes take the table's lock, so two
concurrent writes cannot make a loop neither would make alone. Each write is logged in the
audit log in its transaction.
"""

from __future__ import annotations

import math
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.observability.audit import audit

ADMINISTER_REDIRECTS: Final = "administer redirects"
STATUS_CODES: Final = {
    301: "301 Moved Permanently",
    302: "302 Found",
    303: "303 See Other",
    307: "307 Temporary Redirect",
    308: "308 Permanent Redirect",
}
DEFAULT_STATUS: Final = 301
SOURCE_MAX: Final = 1000
DESTINATION_MAX: Final = 2000
MAX_CHAIN: Final = 10
PER_PAGE: Final = 50
RESERVED: Final = ("/admin", "/api", "/user", "/install", "/health", "/metrics", "/assets",
                   "/files", "/form", "/autocomplete", "/favicon.ico")
"""The kernel's own addresses (each with everything under it): no redirect may start there,
so none can ever stand in for the admin, the API, logging in, health checks or static files."""

# What a path or a query may hold unencoded in a Location header (RFC 3986's reserved and
# unreserved characters, and "%" of what is already encoded).
_PATH_SAFE: Final = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE: Final = _PATH_SAFE + "?"


class RedirectError(ServiceError):
    """A refused redirect: 422 naming the field, 409 for a source already redirected, 404
    for a redirect that does not exist."""


@dataclass(frozen=True, slots=True)
class Redirect:
    id: uuid.UUID
    source: str
    destination: str
    status_code: int
    created: datetime


@dataclass(frozen=True, slots=True)
class RedirectPage:
    """One page of the redirects, by source; ``page`` counts from 0."""

    redirects: list[Redirect]
    page: int
    pages: int
    total: int


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text)


def _without_slash(path: str) -> str:
    """``path`` without one trailing slash (``/`` stays itself)."""
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def _reserved(path: str) -> bool:
    lowered = path.lower()
    return any(lowered == prefix or lowered.startswith(prefix + "/") for prefix in RESERVED)


def _path_problem(path: str) -> str | None:
    """Why ``path`` (decoded) is no path of the site, or None."""
    if not path.startswith("/"):
        return "must be a path of this site, starting with /"
    if "\\" in path:
        return "must not hold a backslash"
    if path.startswith("//"):
        return "must start with a single / (// names another site)"
    segments = path.split("/")[1:]
    if any(segment in (".", "..") for segment in segments):
        return "must not hold . or .. segments"
    if any(segment == "" for segment in segments[:-1]):
        return "must not hold empty segments (//)"
    return None


def check_source(raw: Any) -> str:
    """The source as stored (module docstring), or :class:`RedirectError` about ``source``."""
    def refuse(message: str) -> RedirectError:
        return RedirectError(422, f"The source {message}.", field="source")

    if not isinstance(raw, str) or not raw.strip():
        raise refuse("is required")
    text = raw.strip()
    if len(text) > SOURCE_MAX * 3:  # before decoding: each character is at most %XX
        raise refuse(f"must be at most {SOURCE_MAX} characters")
    if urlsplit(text).scheme or text.startswith("//"):
        raise refuse("must be a path of this site, not an address with a scheme or host"
                      " (such as /old-page)")
    if "?" in text or "#" in text:
        raise refuse("must be a path only: a query string (?) or fragment (#) is not matched")
    try:
        path = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise refuse("holds a %-escape that is no UTF-8 text") from None
    if len(path) > SOURCE_MAX:
        raise refuse(f"must be at most {SOURCE_MAX} characters")
    if _has_control(path):
        raise refuse("must not hold control characters or line breaks")
    if path != path.strip():
        raise refuse("must not start or end with a space")
    problem = _path_problem(path)
    if problem is not None:
        raise refuse(problem)
    path = _without_slash(path)
    if path == "/":
        raise refuse("must not be the front page")
    if _reserved(path):
        raise refuse(f"must not be one of the site's own addresses ({', '.join(RESERVED)})")
    return path


def check_destination(raw: Any) -> str:
    """The destination as stored: a site path or an http(s) URL, percent-encoded (module
    docstring); :class:`RedirectError` about ``destination`` otherwise."""
    def refuse(message: str) -> RedirectError:
        return RedirectError(422, f"The destination {message}.", field="destination")

    if not isinstance(raw, str) or not raw.strip():
        raise refuse("is required")
    text = raw.strip()
    if len(text) > DESTINATION_MAX:
        raise refuse(f"must be at most {DESTINATION_MAX} characters")
    if _has_control(text) or any(c.isspace() for c in text):
        raise refuse("must not hold spaces, control characters or line breaks"
                     " (encode a space as %20)")
    if "\\" in text:
        raise refuse("must not hold a backslash")
    try:
        parts = urlsplit(text)
        port = parts.port  # a port that is no number raises here
    except ValueError:
        raise refuse("is not a valid address") from None
    scheme = parts.scheme.lower()
    if scheme:
        if scheme not in ("http", "https"):
            raise refuse("must be a path of this site or an http:// or https:// address")
        if not parts.hostname:
            raise refuse("must name a host after http:// or https://")
        if parts.username is not None or parts.password is not None:
            raise refuse("must not hold a user name or password")
        if ":" in parts.hostname:  # an IPv6 address keeps its brackets
            host = f"[{parts.hostname}]"
        else:
            try:
                host = parts.hostname.encode("idna").decode("ascii")
            except UnicodeError:
                raise refuse("names a host that is not a valid domain name") from None
        netloc = host if port is None else f"{host}:{port}"
    else:
        if parts.netloc or text.startswith("//"):
            raise refuse("must start with a single / (// names another site)")
        problem = _path_problem(unquote(parts.path))
        if problem is not None:
            raise refuse(problem)
        netloc = ""
    encoded = urlunsplit((scheme, netloc, quote(parts.path, safe=_PATH_SAFE),
                          quote(parts.query, safe=_QUERY_SAFE),
                          quote(parts.fragment, safe=_QUERY_SAFE)))
    if len(encoded) > DESTINATION_MAX:
        raise refuse(f"must be at most {DESTINATION_MAX} characters once encoded")
    return encoded


def check_status(raw: Any) -> int:
    """The status code (an int or its digits) if it is one of :data:`STATUS_CODES`."""
    code = raw if isinstance(raw, int) and not isinstance(raw, bool) else (
        int(raw) if isinstance(raw, str) and raw.strip().isdigit() and len(raw) < 5 else None)
    if code not in STATUS_CODES:
        raise RedirectError(422, "The status code must be one of "
                            f"{', '.join(map(str, STATUS_CODES))}.", field="status_code")
    return code


def local_path(destination: str) -> str | None:
    """The source a stored destination would match if it is a path of this site (decoded,
    without query, fragment or trailing slash), else None."""
    parts = urlsplit(destination)
    if parts.scheme or parts.netloc:
        return None
    return _without_slash(unquote(parts.path) or "/")


def request_source(path: str) -> str | None:
    """The source a request's (decoded) path would match, or None when no stored source can
    match it (no query is spent on those)."""
    if len(path) > SOURCE_MAX + 1 or not path.startswith("/"):
        return None
    source = _without_slash(path)
    if (source == "/" or _reserved(source) or "\\" in source or source.startswith("//")
            or _has_control(source)):  # a NUL would not even reach the database
        return None
    return source


def _redirect(row: DictRow) -> Redirect:
    return Redirect(row["id"], row["source"], row["destination"], row["status_code"],
                    row["created"])


class Redirects:
    """The redirects: listing and changing them (``administer redirects`` at the routes) and
    the one lookup the kernel makes for a path that would get its 404 page."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def find(self, path: str) -> Redirect | None:
        """The redirect of a request's path (decoded), or None: one indexed statement, none
        for a path no redirect can have."""
        source = request_source(path)
        if source is None:
            return None
        row = await self.db.fetchrow("SELECT * FROM redirect WHERE source = %s", (source,))
        return None if row is None else _redirect(row)

    async def page(self, page: int = 0, per_page: int = PER_PAGE) -> RedirectPage:
        """The redirects by source, ``per_page`` at a time; a page past the last is the
        last."""
        total = int(await self.db.fetchval("SELECT count(*) FROM redirect") or 0)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(page, 0), pages - 1)
        rows = await self.db.fetch("SELECT * FROM redirect ORDER BY source, id"
                                   " LIMIT %s OFFSET %s", (per_page, page * per_page))
        return RedirectPage([_redirect(row) for row in rows], page, pages, total)

    async def get(self, redirect_id: uuid.UUID) -> Redirect | None:
        row = await self.db.fetchrow("SELECT * FROM redirect WHERE id = %s", (redirect_id,))
        return None if row is None else _redirect(row)

    async def require(self, redirect_id: uuid.UUID) -> Redirect:
        found = await self.get(redirect_id)
        if found is None:
            raise RedirectError(404, "There is no such redirect.")
        return found

    async def create(self, source: Any, destination: Any, status_code: Any = DEFAULT_STATUS,
                     *, actor: uuid.UUID | None) -> Redirect:
        """Add a redirect (checked, loop-safe, logged)."""
        values = _checked(source, destination, status_code)
        async with self.db.transaction() as conn:
            await _lock(conn)
            await _check_free(conn, values[0], None)
            await _check_chain(conn, *values[:2], None)
            cur = await conn.execute(
                "INSERT INTO redirect (source, destination, status_code) VALUES (%s, %s, %s)"
                " RETURNING *", values)
            row = await cur.fetchone()
            assert row is not None
            await audit(conn, "redirect",
                        "Redirect from “%(source)s” to “%(destination)s” (%(status)s) created.",
                        {"source": values[0], "destination": values[1], "status": values[2]},
                        user_id=actor)
        return _redirect(row)

    async def update(self, redirect_id: uuid.UUID, source: Any, destination: Any,
                     status_code: Any, *, actor: uuid.UUID | None) -> Redirect:
        """Change a redirect (checked as a new one; 404 when it is gone)."""
        values = _checked(source, destination, status_code)
        async with self.db.transaction() as conn:
            await _lock(conn)
            cur = await conn.execute("SELECT source FROM redirect WHERE id = %s",
                                     (redirect_id,))
            before = await cur.fetchone()
            if before is None:
                raise RedirectError(404, "There is no such redirect.")
            await _check_free(conn, values[0], redirect_id)
            await _check_chain(conn, *values[:2], redirect_id)
            cur = await conn.execute(
                "UPDATE redirect SET source = %s, destination = %s, status_code = %s"
                " WHERE id = %s RETURNING *", (*values, redirect_id))
            row = await cur.fetchone()
            assert row is not None
            await audit(conn, "redirect", "Redirect from “%(before)s” changed: from"
                        " “%(source)s” to “%(destination)s” (%(status)s).",
                        {"before": before["source"], "source": values[0],
                         "destination": values[1], "status": values[2]}, user_id=actor)
        return _redirect(row)

    async def delete(self, redirect_id: uuid.UUID, *, actor: uuid.UUID | None) -> Redirect:
        """Remove a redirect (404 when it is gone); the removed one."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM redirect WHERE id = %s RETURNING *",
                                     (redirect_id,))
            row = await cur.fetchone()
            if row is None:
                raise RedirectError(404, "There is no such redirect.")
            await audit(conn, "redirect", "Redirect from “%(source)s” deleted.",
                        {"source": row["source"]}, user_id=actor)
        return _redirect(row)


def _checked(source: Any, destination: Any, status_code: Any) -> tuple[str, str, int]:
    """All three checked, every bad one named (the first message is the error's)."""
    errors: dict[str, str] = {}
    checked: list[Any] = []
    for check, value in ((check_source, source), (check_destination, destination),
                         (check_status, status_code)):
        try:
            checked.append(check(value))
        except RedirectError as exc:
            assert exc.field is not None
            errors[exc.field] = exc.message
    if errors:
        field, message = next(iter(errors.items()))
        raise RedirectError(422, message, field=field, errors=errors)
    path, target, code = checked
    if local_path(target) == path:
        raise RedirectError(422, "The destination must not be the source itself.",
                            field="destination")
    return path, target, code


async def _lock(conn: AsyncConnection[DictRow]) -> None:
    # Writers queue here: two redirects saved at once cannot close a loop together.
    await conn.execute("LOCK TABLE redirect IN SHARE ROW EXCLUSIVE MODE")


async def _check_free(conn: AsyncConnection[DictRow], source: str,
                      own: uuid.UUID | None) -> None:
    cur = await conn.execute("SELECT id FROM redirect WHERE source = %s", (source,))
    row = await cur.fetchone()
    if row is not None and row["id"] != own:
        raise RedirectError(409, f"The source {source} is already redirected.",
                            field="source")


async def _check_chain(conn: AsyncConnection[DictRow], source: str, destination: str,
                       own: uuid.UUID | None) -> None:
    """Refuse ``source`` → ``destination`` if following the redirects from ``destination``
    comes back to ``source`` or takes more than :data:`MAX_CHAIN` steps. ``own`` is the
    redirect being changed: its old row is not followed (it is about to be replaced)."""
    path = local_path(destination)
    steps = 1
    while path is not None:
        if path == source:
            raise RedirectError(422, "The destination leads back to the source through other"
                                " redirects: that would be a loop.", field="destination")
        cur = await conn.execute("SELECT destination FROM redirect WHERE source = %s"
                                 " AND id IS DISTINCT FROM %s", (path, own))
        row = await cur.fetchone()
        if row is None:
            return
        steps += 1
        if steps > MAX_CHAIN:
            raise RedirectError(422, f"The destination starts a chain of more than {MAX_CHAIN}"
                                " redirects; point it at the end of the chain.",
                                field="destination")
        path = local_path(row["destination"])
