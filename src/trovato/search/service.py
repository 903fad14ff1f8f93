"""The search service: a page of the items a reader may see that match their words, most
relevant first, each with a snippet; the site's search language; and the rebuilding of every
stored vector.

Matching, ranking, access, status and the stage are the one item read path's
(:meth:`trovato.content.query.ItemQuery.list` with ``words``): a search sees exactly what a
listing would, in the reader's stage, by the staged text there. The snippets of a page are one
more statement: ``ts_headline`` over each result's text (as the stage shows it), whose marks
:func:`trovato.search.snippets.mark` turns into escaped HTML.

The language is a PostgreSQL text search configuration (``english`` stems "Plugins" to
"plugin"), kept in one place, the row of ``search_setting`` that ``trovato_search_config()``
reads (migration 0018) for every vector, query and snippet: this service only changes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup
from psycopg.types.json import Jsonb

from trovato.content.access import ACCESS_CONTENT
from trovato.content.model import Item
from trovato.content.query import ItemQuery
from trovato.content.type_service import ItemTypes
from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.observability.audit import audit
from trovato.search.snippets import HEADLINE_OPTIONS, START, STOP, mark
from trovato.stages import LIVE
from trovato.users.accounts import CurrentUser

MAX_QUERY: Final = 200  # characters of a search: longer ones are refused
PER_PAGE: Final = 10
MAX_PER_PAGE: Final = 50
# Characters of an item's text a snippet is cut from: ``ts_headline`` reads all it is given.
SNIPPET_SOURCE: Final = 100_000
REINDEX_BATCH: Final = 500
# The cache tag of what the stored search words decide (the search language, the weights, the
# state of a reindex): Gather's listings matching words carry it, and their pages.
SEARCH_TAG: Final = "search"
WEIGHTS: Final = ("A", "B", "C", "D")  # A most; a field not given one weighs D
# The field types whose text is searched, as ``trovato_search_parts`` (migration 0014) reads
# them: a weight given another field changes nothing.
SEARCHED_FIELD_TYPES: Final = frozenset({"text", "text_long", "link", "image"})

# An item's searched text as a snippet reads it, most heavily weighted first: each tag taken
# out as the text reads without it (``trovato_search_text``, like ``ts_headline`` itself, made
# every tag a space: "<code>a.py</code>;" read "a.py ;"). A block's tag becomes a space, so
# its words stay apart; any other tag nothing. A tag is what PostgreSQL's parser takes for
# one: "<" then a letter or "/". Each part is cut to the snippet's source length first.
_HEADLINES = (
    "SELECT ts_headline(trovato_search_config(), translate(left((SELECT coalesce(string_agg("
    "regexp_replace(regexp_replace(left(p.body, %(source)s), '</?(address|article|aside|"
    "blockquote|br|dd|div|dl|dt|figcaption|figure|footer|h[1-6]|header|hr|li|ol|p|pre|section|"
    "table|td|th|tr|ul)(\\s[^<>]*)?/?>', ' ', 'gi'), '</?[a-z][^<>]*>', '', 'gi'), ' '"
    " ORDER BY p.weight), '') FROM trovato_search_parts(d.type, d.fields) AS p(weight, body)),"
    " %(source)s), %(marks)s, ''),"
    " websearch_to_tsquery(trovato_search_config(), %(words)s), %(options)s)"
    " FROM unnest(%(types)s::text[], %(fields)s::jsonb[]) WITH ORDINALITY AS d(type, fields, n)"
    " ORDER BY d.n"
)
# Items in id order cut into slices of a given size: each slice's first and last id and size
# (uuid has no min() or max() before PostgreSQL 16: a window names them).
_RANGES = (
    "SELECT first, last, size FROM (SELECT slice, first_value(id) OVER w AS first,"
    " last_value(id) OVER w AS last, count(*) OVER w AS size,"
    " row_number() OVER (PARTITION BY slice ORDER BY id) AS n"
    " FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / %(size)s AS slice FROM item"
    " WHERE %(type)s::text IS NULL OR type = %(type)s) AS s"
    " WINDOW w AS (PARTITION BY slice ORDER BY id"
    " ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) AS t"
    " WHERE n = 1 ORDER BY slice")
# The items of a range (of one type; of any when the type is NULL). An item's vector is the
# trigger's to compute (migration 0018): clearing its fields' part asks it to compute both
# parts again.
_REINDEX_ITEMS = ("UPDATE item SET search_fields = NULL WHERE id BETWEEN %(first)s AND %(last)s"
                  " AND (%(type)s::text IS NULL OR type = %(type)s)")
# The revisions' rule is the trigger's (migration 0015): only a stage's edit, a revision of
# another stage than its item's row, has a vector of its own (the stage overlay reads it).
_REVISION_VECTOR = (
    "UPDATE item_revision AS r SET search_vector = CASE WHEN r.stage_id <> i.stage_id"
    " THEN trovato_search_vector(i.type, r.title, r.fields) END FROM item AS i"
    " WHERE i.id = r.item_id AND (r.stage_id <> i.stage_id OR r.search_vector IS NOT NULL)"
)
_REINDEX_REVISIONS = _REVISION_VECTOR + (" AND i.id BETWEEN %(first)s AND %(last)s"
                                         " AND (%(type)s::text IS NULL OR i.type = %(type)s)")
# The configurations, by the name a ``regconfig`` is written with (schema-qualified only when
# not on the search path): what the language setting accepts.
_LANGUAGES = "SELECT c.oid::regconfig::text FROM pg_ts_config AS c"
_REINDEX_TYPE = (
    "UPDATE item SET search_fields = NULL WHERE type = %s",
    _REVISION_VECTOR + " AND i.type = %s",
)


class SearchError(ServiceError):
    """A search refused as asked (its words too long, a page out of range)."""


@dataclass(frozen=True, slots=True)
class Result:
    item: Item
    snippet: Markup  # escaped text, the matched words in ``<mark>``


@dataclass(frozen=True, slots=True)
class Results:
    words: str  # as searched (trimmed); empty: nothing was searched
    results: list[Result]
    total: int
    page: int
    limit: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.limit) if self.limit else 0


def check_words(words: str) -> str:
    """``words`` trimmed, or :class:`SearchError` 422 naming ``q`` when too long or holding a
    NUL character (which no PostgreSQL text can)."""
    if len(words) > MAX_QUERY:
        raise SearchError(422, "Invalid search.",
                          errors={"q": f"must be at most {MAX_QUERY} characters"})
    if "\x00" in words:
        raise SearchError(422, "Invalid search.", errors={"q": "must not contain NUL characters"})
    return words.strip()


class Search:
    """Searches through ``query`` (the item read path), reindexing on ``db``, and the types'
    (``types``) search field weights."""

    def __init__(self, db: Database, query: ItemQuery, types: ItemTypes, *,
                 invalidate: Callable[[Iterable[str]], Awaitable[None]] | None = None) -> None:
        self.db = db
        self.query = query
        self.types = types
        # The kernel's cache-tag invalidation (cached pages and Gather's listings).
        self.invalidate = invalidate

    async def changed(self) -> None:
        """Drop what was cached by the search words of before (:data:`SEARCH_TAG`): after the
        language or weights changed, and after each step of rebuilding the index, which
        changes the words again (a listing cached between two steps holds a mixture)."""
        if self.invalidate is not None:
            await self.invalidate([SEARCH_TAG])

    async def search(self, user: CurrentUser, words: str, *, page: int = 0,
                     limit: int = PER_PAGE, stage: str = LIVE) -> Results:
        """Page ``page`` (from 0) of the items ``user`` may view in ``stage`` matching
        ``words`` (web search syntax), most relevant first. Blank words find nothing (and
        cost no query); without ``access content`` a search is refused (403), blank or not."""
        if not user.can(ACCESS_CONTENT):
            raise SearchError(403, f"You need the permission {ACCESS_CONTENT!r} to search.")
        text = check_words(words)
        if page < 0:
            raise SearchError(422, "Invalid search.", errors={"page": "must be 0 or more"})
        limit = max(1, min(limit, MAX_PER_PAGE))
        if not text:
            return Results(text, [], 0, page, limit)
        found = await self.query.list(user, words=text, page=page, limit=limit, stage=stage)
        snippets = await self._snippets(found.items, text)
        return Results(text, [Result(item, snippet) for item, snippet
                              in zip(found.items, snippets, strict=True)],
                       found.total, page, limit)

    async def _snippets(self, items: list[Item], words: str) -> list[Markup]:
        if not items:
            return []
        rows = await self.db.fetch_tuples(_HEADLINES, {
            "source": SNIPPET_SOURCE, "marks": START + STOP,
            "words": words, "options": HEADLINE_OPTIONS, "types": [item.type for item in items],
            "fields": [Jsonb(item.fields) for item in items]})
        return [mark(row[0] or "") for row in rows]

    async def weights(self, type_name: str) -> dict[str, str]:
        """The search weight of each of the type's fields given one (others weigh D); 404 for
        an unknown type."""
        await self._type_fields(type_name)
        rows = await self.db.fetch_tuples(
            "SELECT field_name, weight FROM search_field_config WHERE bundle = %s"
            " ORDER BY field_name", (type_name,))
        return {str(name): str(weight) for name, weight in rows}

    async def all_weights(self) -> dict[str, dict[str, str]]:
        """Every type's search field weights (type → field → weight), in one statement: the
        types no weight was given are left out."""
        found: dict[str, dict[str, str]] = {}
        for bundle, name, weight in await self.db.fetch_tuples(
                "SELECT bundle, field_name, weight FROM search_field_config"
                " ORDER BY bundle, field_name"):
            found.setdefault(str(bundle), {})[str(name)] = str(weight)
        return found

    async def set_weights(self, type_name: str, weights: Mapping[str, str], *,
                          actor: uuid.UUID | None = None,
                          reindex: bool = True) -> dict[str, str]:
        """Replace the type's search field weights with ``weights`` (field name → A to D) and
        reindex its items, in one transaction that logs the change (by ``actor``) — unless
        ``reindex`` is false: then the caller rebuilds the type's index in steps
        (:meth:`reindex_ranges` with ``type_name``, the admin's batch). 404 for an unknown
        type, 422 naming each bad field or weight (nothing changed)."""
        fields = await self._type_fields(type_name)
        errors: dict[str, str] = {}
        for name, weight in weights.items():
            if name not in fields:
                errors[f"weights.{name}"] = "is not a field of this item type"
            elif weight not in WEIGHTS:
                errors[f"weights.{name}"] = f"must be one of {', '.join(WEIGHTS)}"
        if errors:
            raise SearchError(422, "Invalid search weights.", errors=errors)
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM search_field_config WHERE bundle = %s",
                               (type_name,))
            for name, weight in sorted(weights.items()):
                await conn.execute("INSERT INTO search_field_config (bundle, field_name, weight)"
                                   " VALUES (%s, %s, %s)", (type_name, name, weight))
            if reindex:
                for statement in _REINDEX_TYPE:
                    await conn.execute(statement, (type_name,))
            await audit(conn, "content", "Changed the search weights of item type “%(type)s”.",
                        {"type": type_name, "weights": dict(sorted(weights.items()))},
                        user_id=actor)
        await self.changed()
        return dict(sorted(weights.items()))

    async def _type_fields(self, type_name: str) -> set[str]:
        item_type = await self.types.get(type_name)
        if item_type is None:
            raise SearchError(404, f"There is no item type {type_name!r}.")
        return {field.name for field in item_type.fields}

    async def language(self) -> str:
        """The site's search language: the text search configuration every vector and query
        uses."""
        return str(await self.db.fetchval("SELECT trovato_search_config()::text"))

    async def languages(self) -> list[str]:
        """Every text search configuration PostgreSQL has, as a language is named."""
        rows = await self.db.fetch_tuples(_LANGUAGES + " ORDER BY 1")
        return [str(row[0]) for row in rows]

    async def check_language(self, language: str) -> str:
        """``language`` trimmed when it names a text search configuration, else
        :class:`SearchError` 422 naming ``language``."""
        name = language.strip()
        if not await self.db.fetchval(_LANGUAGES + " WHERE c.oid::regconfig::text = %s",
                                      (name,)):
            raise SearchError(422, "Invalid search language.", errors={
                "language": f"{name!r} is not a text search configuration of this database"})
        return name

    async def set_language(self, language: str, *, actor: uuid.UUID | None = None,
                           reindex: bool = True,
                           progress: Callable[[int, int], None] | None = None) -> bool:
        """Make ``language`` (a configuration :meth:`languages` lists; 422 naming
        ``language`` otherwise) the search language, log the change (by ``actor``) and
        :meth:`reindex` every item with ``progress`` — unless ``reindex`` is false: then the
        caller rebuilds the index in steps (:meth:`reindex_ranges`, the admin's batch).
        Whether it changed: choosing the current language again does nothing."""
        name = await self.check_language(language)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE search_setting SET language = %s::regconfig"
                " WHERE language IS DISTINCT FROM %s::regconfig", (name, name))
            if not cur.rowcount:
                return False
            await audit(conn, "content", "Changed the search language to “%(language)s”.",
                        {"language": name}, user_id=actor)
        await self.changed()
        if reindex:
            await self.reindex(progress)
        return True

    async def item_count(self, *, type_name: str | None = None) -> int:
        """How many items (in every stage; of the type ``type_name``, when given) a reindex
        goes through."""
        return int(await self.db.fetchval(
            "SELECT count(*) FROM item WHERE %(type)s::text IS NULL OR type = %(type)s",
            {"type": type_name}) or 0)

    async def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Recompute every item's vector and every stage edit's (after weights, field types or
        the language changed), :data:`REINDEX_BATCH` items per transaction;
        ``progress(done, total)`` after each. Returns how many items were indexed."""
        ranges = await self.reindex_ranges(REINDEX_BATCH)
        total = sum(count for _, _, count in ranges)
        done = 0
        for first, last, count in ranges:
            await self.reindex_range(first, last)
            done += count
            if progress is not None:
                progress(done, total)
        await self.changed()
        return done

    async def reindex_ranges(self, size: int, *, type_name: str | None = None
                             ) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
        """Every item (of the type ``type_name``, when given), in id order, as ranges of
        ``size`` items: (first id, last id, how many) each, for :meth:`reindex_range`. An item
        added later is indexed by its insert."""
        rows = await self.db.fetch_tuples(_RANGES, {"size": size, "type": type_name})
        return [(row[0], row[1], int(row[2])) for row in rows]

    async def reindex_range(self, first: uuid.UUID, last: uuid.UUID, *,
                            type_name: str | None = None) -> int:
        """Recompute the vectors of the items from ``first`` to ``last`` (ids, both included;
        only those of the type ``type_name``, when given) and of their stage edits, in one
        transaction; how many items that was."""
        bounds = {"first": first, "last": last, "type": type_name}
        async with self.db.transaction() as conn:
            cur = await conn.execute(_REINDEX_ITEMS, bounds)
            await conn.execute(_REINDEX_REVISIONS, bounds)
        return cur.rowcount


__all__ = ["MAX_PER_PAGE", "MAX_QUERY", "PER_PAGE", "SEARCHED_FIELD_TYPES", "SEARCH_TAG",
           "WEIGHTS", "Result", "Results", "Search", "SearchError", "check_words"]
