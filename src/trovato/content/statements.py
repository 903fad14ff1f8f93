"""The SQL of item reads, built with SQLAlchemy Core and compiled once per *shape* (see
:mod:`trovato.content.query`, the one item query path that runs them): the item columns and
the stage overlay they are read from, the statements loading one or many items, matching
titles and locking a type, and the listings' shapes (:class:`Listing`, :class:`TagFilter`) with
their filters, sorts, counts and parameters."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from psycopg.types.json import Jsonb
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    Text,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy import false as sql_false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import FromClause

from trovato.content.access import (
    VisibilityScope,
    scope_condition,
)
from trovato.content.model import Item
from trovato.db.compiled import sql_text
from trovato.db.tables import ITEM, ITEM_REVISION, STAGE_ASSOCIATION, STAGE_DELETION, USERS
from trovato.patterns import contains
from trovato.stages import StageView, stage_condition, stage_params

MAX_LIMIT: Final = 100
# The sort key standing for the author's name (not an item column: see ``sort_column``).
AUTHOR: Final = "author_name"
DEFAULT_LIMIT: Final = 25
# Matches voted on per statement while a listing is filtered by plugin votes.
VOTE_BATCH: Final = 100

# Sort keys a client may name, with the (fixed) order each stands for; the id breaks ties so
# pages never overlap.
SORTS: Final[Mapping[str, tuple[tuple[str, bool], ...]]] = {
    "created": (("created", False), ("id", False)),
    "-created": (("created", True), ("id", True)),
    "changed": (("changed", False), ("id", False)),
    "-changed": (("changed", True), ("id", True)),
    "title": (("title", False), ("id", False)),
    "-title": (("title", True), ("id", True)),
    # Drupal's front-page order: sticky items first, then the newest.
    "-sticky": (("sticky", True), ("created", True), ("id", True)),
    # The admin content list's columns.
    "type": (("type", False), ("changed", True), ("id", True)),
    "-type": (("type", True), ("changed", True), ("id", True)),
    "status": (("status", False), ("changed", True), ("id", True)),
    "-status": (("status", True), ("changed", True), ("id", True)),
    "author": ((AUTHOR, False), ("changed", True), ("id", True)),
    "-author": ((AUTHOR, True), ("changed", True), ("id", True)),
}


# -- rows ----------------------------------------------------------------------------------------


def item_columns(i: FromClause, *, teasers: bool = False, bare: bool = False,
                 author: ColumnElement[Any] | None = None) -> list[ColumnElement[Any]]:
    """The item columns, in the order :func:`item_from_row` reads them by position; the
    author's name is ``author`` when the statement joins the users table."""
    c = i.c
    # A teaser listing reads the stored summary instead of the fields, which are most of an
    # item's bytes; only where the summary is not known do the fields come, to compute it. A
    # bare listing (a table of items) reads neither, nor the revision and creation date it
    # does not show: decoding those was a third of reading a page of 50.
    fields: ColumnElement[Any] = c.fields
    summary: ColumnElement[Any] = c.summary
    created: ColumnElement[Any] = c.created
    revision: ColumnElement[Any] = c.current_revision_id
    if bare:
        fields, summary = null().label("fields"), null().label("summary")
        created, revision = null().label("created"), null().label("current_revision_id")
    elif teasers:
        fields = case((c.summary.is_(None), c.fields)).label("fields")
    # The author's name rides along (a scalar subquery, so ``FOR UPDATE`` still locks only the
    # item row): every page showing an item shows its byline.
    name = (_author_name(i) if author is None else author).label("author_name")
    return [c.id, c.type, c.title, c.status, c.promote, c.sticky, c.author_id, created,
            c.changed, revision, c.stage_id, fields, summary, name]


def _author_name(i: FromClause) -> ColumnElement[Any]:
    return (select(USERS.c.name).where(USERS.c.id == i.c.author_id)
            .scalar_subquery())


def sort_column(i: FromClause, name: str, author: ColumnElement[Any] | None = None
                ) -> ColumnElement[Any]:
    if name == AUTHOR:
        return _author_name(i) if author is None else author
    return i.c[name]


COLUMN_COUNT: Final = 14  # a listing's total follows them


def item_from_row(row: Sequence[Any]) -> Item:
    """An item from a row of :func:`item_columns` (read as a tuple)."""
    (id_, type_, title, status, promote, sticky, author_id, created, changed, revision_id,
     stage, fields, summary, author_name) = row[:COLUMN_COUNT]
    return Item(
        id=id_, type=type_, title=title, author_id=author_id, status=status, promote=promote,
        sticky=sticky, created=created, changed=changed, revision_id=revision_id, stage=stage,
        fields=fields or {}, author_name=author_name, summary=summary,
        # ``fields`` is NOT NULL in the table: None means a teaser read left it out.
        partial=fields is None,
    )


def flat(view: StageView) -> bool:
    """Whether a read in ``view`` may join a stage's edits flat: a stage built right on live,
    where at most one edit per item can be in the chain (live has none)."""
    return len(view.visible) == 2


def item_source(live: bool, name: str, *, flat: bool = False) -> FromClause:
    """The items a read sees, under the alias ``name``: the item table in live; in another
    stage, the overlay of the stage chain (module docstring) with the item table's columns, on
    which the stage condition then picks the chain's rows. The chain is the bound ``stages``,
    nearest first, so the nearest stage's edit wins: a lookup per item finds it, or, ``flat``
    (:func:`flat`: one stage over live), a plain join, which PostgreSQL can hash or merge
    across a whole listing instead of probing once per row."""
    if live:
        return ITEM.alias(name)
    i = ITEM.alias(f"{name}_row")
    a = STAGE_ASSOCIATION.alias(f"{name}_assoc")
    r = ITEM_REVISION.alias(f"{name}_rev")
    d = STAGE_DELETION.alias(f"{name}_del")
    chain = bindparam("stages", type_=ARRAY(Text))
    edit: FromClause
    if flat:
        edit = r
        rows = i.outerjoin(a.join(r, r.c.id == a.c.target_revision_id),
                           and_(a.c.item_id == i.c.id, a.c.stage_id == any_(chain)))
    else:
        edit = (select(r.c.id, r.c.title, r.c.status, r.c.promote, r.c.sticky, r.c.fields,
                       r.c.summary, r.c.created, r.c.search_vector)
                .select_from(a.join(r, r.c.id == a.c.target_revision_id))
                .where(a.c.item_id == i.c.id, a.c.stage_id == any_(chain))
                .order_by(func.array_position(chain, a.c.stage_id))
                .limit(literal_column("1")).lateral(f"{name}_edit"))
        rows = i.outerjoin(edit, true())
    deleted = exists().where(d.c.entity_type == literal_column("'item'"),
                             d.c.entity_id == i.c.id, d.c.stage_id == any_(chain))
    e = edit.c
    return (select(
        i.c.id, i.c.type,
        func.coalesce(e.title, i.c.title).label("title"),
        func.coalesce(e.status, i.c.status).label("status"),
        func.coalesce(e.promote, i.c.promote).label("promote"),
        func.coalesce(e.sticky, i.c.sticky).label("sticky"),
        i.c.author_id, i.c.created,
        func.coalesce(e.created, i.c.changed).label("changed"),
        func.coalesce(e.id, i.c.current_revision_id).label("current_revision_id"),
        i.c.stage_id,
        func.coalesce(e.fields, i.c.fields).label("fields"),
        # An edit's summary is its revision's (NULL for revisions written before revisions
        # kept one: a teaser then computes it from the edit's fields).
        case((e.id.is_(None), i.c.summary), else_=e.summary).label("summary"),
        # A search in a stage matches an edit by its own words: kept by a trigger for the
        # revisions written as a stage's edits (migration 0015), computed here for any edit
        # without one (a revision written otherwise).
        case((e.id.is_(None), i.c.search_vector),
             else_=func.coalesce(e.search_vector,
                                 func.trovato_search_vector(i.c.type, e.title, e.fields)),
             ).label("search_vector"),
    ).select_from(rows).where(~deleted).subquery(name))


def _number(value: int) -> ColumnElement[Any]:
    """A validated number written into the statement (see the module docstring)."""
    return literal_column(str(int(value)))


# -- one item ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def load_sql(live: bool, *, lock: bool = False, flat: bool = False) -> str:
    """One item by ``id`` in a stage (``FOR UPDATE`` when ``lock``: live only, as an
    overlay's outer join cannot be locked; :meth:`ItemQuery.lock` locks the row first)."""
    i = item_source(live, "i", flat=flat)
    statement = select(*item_columns(i)).where(stage_condition(live, i.c.stage_id),
                                           i.c.id == bindparam("id", type_=Uuid))
    if lock:
        statement = statement.with_for_update(of=i)
    return sql_text(statement)


@functools.lru_cache(maxsize=8)
def many_sql(scope: VisibilityScope, live: bool, flat: bool = False) -> str:
    i = item_source(live, "i", flat=flat)
    return sql_text(select(*item_columns(i)).where(
        stage_condition(live, i.c.stage_id), scope_condition(scope, i),
        i.c.id == any_(bindparam("ids", type_=ARRAY(Uuid)))))


# -- title matches (autocomplete) ---------------------------------------------------------------

TITLE_MATCH_MAX: Final = 128  # characters of a title search: longer ones are refused
TITLE_MATCH_LIMIT: Final = 20


@functools.lru_cache(maxsize=32)
def title_match_sql(scope: VisibilityScope, live: bool, by_types: bool, rows: int) -> str:
    """Items whose title contains the bound ``pattern``, those starting with it (``prefix``)
    first, then by title: the stage and role rules applied as in every read."""
    i = item_source(live, "i")
    conditions = [stage_condition(live, i.c.stage_id), scope_condition(scope, i),
                  i.c.title.ilike(bindparam("pattern", type_=Text), escape="\\")]
    if by_types:
        conditions.append(i.c.type == any_(bindparam("types", type_=ARRAY(Text))))
    starts = case((i.c.title.ilike(bindparam("prefix", type_=Text), escape="\\"),
                   literal_column("0")), else_=literal_column("1"))
    return sql_text(select(*item_columns(i)).select_from(i).where(and_(*conditions))
                    .order_by(starts, i.c.title.asc(), i.c.id.asc()).limit(_number(rows)))


@functools.lru_cache(maxsize=1)
def type_lock_sql() -> str:
    i = ITEM.alias("i")
    return sql_text(select(*item_columns(i)).where(i.c.type == bindparam("type"))
                .with_for_update(of=i))


# -- listings ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TagFilter:
    """Only items that refer to ``tag`` in one of ``fields``: the tag reference fields that
    may hold it, as (field name, takes several values) pairs. Each is one JSONB containment
    test (``fields @> {"field_tags": [{"target_id": …}]}``), which the GIN index on
    ``item.fields`` answers."""

    tag: uuid.UUID
    fields: tuple[tuple[str, bool], ...]

    def documents(self) -> list[Jsonb]:
        reference = {"target_id": str(self.tag)}
        return [Jsonb({name: [reference] if multiple else reference})
                for name, multiple in self.fields]


@dataclass(frozen=True, slots=True)
class Listing:
    """Everything that shapes a listing's SQL text (values that vary by request — the viewer,
    the type, the author, the stage chain — are bound by name)."""

    live: bool
    scope: VisibilityScope
    by_type: bool
    status: int | None
    by_author: bool
    promote: bool | None
    sticky: bool | None
    sort: str
    limit: int
    offset: int
    teasers: bool
    tag_fields: tuple[tuple[str, bool], ...] | None = None  # a TagFilter's fields
    bare: bool = False  # no fields, summary, revision or creation date: see :func:`item_columns`
    by_title: bool = False
    flat: bool = False  # see :func:`flat`
    words: bool = False  # a full-text search: matches only, the most relevant first


def search_config() -> ColumnElement[Any]:
    """The site's search language (text search configuration): the one the triggers build
    ``search_vector`` with, read from its one place by the database (migration 0018), so that
    every query stems words as the vectors do."""
    return func.trovato_search_config()


def words_query() -> ColumnElement[Any]:
    """The bound ``words`` (web search syntax: ``"a phrase"``, ``or``, ``-not``) as a query."""
    return func.websearch_to_tsquery(search_config(), bindparam("words", type_=Text))


def _where(shape: Listing, i: FromClause) -> ColumnElement[bool]:
    conditions = [stage_condition(shape.live, i.c.stage_id), scope_condition(shape.scope, i)]
    if shape.by_type:
        conditions.append(i.c.type == bindparam("type"))
    if shape.status is not None:
        conditions.append(i.c.status == _number(shape.status))
    if shape.by_author:
        conditions.append(i.c.author_id == bindparam("author", type_=Uuid))
    for name, wanted in (("promote", shape.promote), ("sticky", shape.sticky)):
        if wanted is not None:
            conditions.append(i.c[name] == (true() if wanted else sql_false()))
    if shape.tag_fields is not None:
        conditions.append(or_(sql_false(), *(
            i.c.fields.op("@>")(bindparam(f"tag_{n}", type_=JSONB))
            for n in range(len(shape.tag_fields)))))
    if shape.by_title:
        # The bound pattern is made by ``patterns.contains``: the typed text's wildcards escaped.
        conditions.append(i.c.title.ilike(bindparam("title"), escape="\\"))
    if shape.words:
        conditions.append(i.c.search_vector.op("@@")(words_query()))
    return and_(*conditions)


def _ordered(shape: Listing, i: FromClause) -> Select[Any]:
    # The authors' names by a join, not a subquery per row: a page of 50 looked its authors
    # up 50 times, and a sort by author looked up every match's.
    u = USERS.alias("u")
    author = u.c.name
    order = [sort_column(i, name, author).desc() if descending
             else sort_column(i, name, author).asc() for name, descending in SORTS[shape.sort]]
    if shape.words:
        order.insert(0, func.ts_rank_cd(i.c.search_vector, words_query()).desc())
    columns = item_columns(i, teasers=shape.teasers, bare=shape.bare, author=author)
    return (select(*columns).select_from(i.outerjoin(u, u.c.id == i.c.author_id))
            .where(_where(shape, i)).order_by(*order))


@functools.lru_cache(maxsize=256)
def listing_sql(shape: Listing, *, total: bool = True) -> str:
    """One page of a listing with the number of all matches, in one statement (without it
    when ``total`` is false: the total is known from :class:`TotalsCache`).

    The total is an uncorrelated subquery, which PostgreSQL runs once and answers from an
    index, so the page itself stops after LIMIT rows read in index order (the front page's
    ``item_front_idx``); a ``count(*) OVER ()`` window would read and sort every match."""
    i = item_source(shape.live, "i", flat=shape.flat)
    page = _ordered(shape, i)
    if total:
        n = item_source(shape.live, "n", flat=shape.flat)
        page = page.add_columns(select(func.count()).select_from(n).where(_where(shape, n))
                                .scalar_subquery().label("total"))
    return sql_text(page.limit(_number(shape.limit)).offset(_number(shape.offset)))


@functools.lru_cache(maxsize=64)
def count_sql(shape: Listing) -> str:
    """The number of all matches of ``shape`` (for a page past the last)."""
    n = item_source(shape.live, "n", flat=shape.flat)
    return sql_text(select(func.count()).select_from(n).where(_where(shape, n)))


@functools.lru_cache(maxsize=64)
def vote_batch_sql(shape: Listing) -> str:
    """One batch of matches to vote on (``shape.limit`` and ``offset`` are ignored: the batch
    is :data:`VOTE_BATCH` rows from the bound ``offset``)."""
    i = item_source(shape.live, "i", flat=shape.flat)
    return sql_text(_ordered(shape, i).limit(_number(VOTE_BATCH))
                .offset(bindparam("offset", type_=Integer)))


def where_params(view: StageView, shape: Listing, *, viewer: uuid.UUID, type: str | None,
                  author: uuid.UUID | None, tagged: TagFilter | None = None,
                  title: str | None = None, words: str | None = None) -> dict[str, Any]:
    params = stage_params(view)
    if shape.words:
        params["words"] = words
    if tagged is not None:
        params.update({f"tag_{n}": doc for n, doc in enumerate(tagged.documents())})
    if shape.by_title:
        params["title"] = contains(title or "")
    if shape.scope == "published_or_own":
        params["viewer"] = viewer
    if shape.by_type:
        params["type"] = type
    if shape.by_author:
        params["author"] = author
    return params


# ``ItemQuery.list`` shadows the builtin inside the class body, so annotations there use this.


# -- the query service ---------------------------------------------------------------------------
