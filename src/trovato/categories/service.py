"""THE categories service (DESIGN §11): vocabularies, tags, their hierarchy, free tagging and
imports. Pages, the JSON API, the command line and the content service's free tagging all go
through :class:`Categories`.

* **Writes** run in one transaction each and lock their vocabulary's row first, so two writes
  to one vocabulary never interleave: slugs stay unique (``-2``, ``-3``… on a collision) and
  the hierarchy check sees every link. ``tag_insert``, ``tag_update`` and ``tag_delete`` fire
  inside the transaction (:mod:`trovato.categories.taps`); cache tags (``vocabulary:<id>``,
  ``tag:<id>``) are dropped after the commit. Writing needs ``administer categories``; free
  tagging (a new name typed into a tag field) needs ``create tags``.
* **Stages.** Tags carry a ``stage_id`` and every read applies the stage rule
  (:func:`trovato.stages.stage_condition`), but tags are written in live only: a stage has no
  way yet to carry a tag's edit or publish a new one, so a write asked in another stage is
  refused (409) rather than leaking into live.
* **Hierarchy.** Parents must be tags of the same vocabulary, as many as its ``hierarchy``
  allows; a change that would close a loop is refused naming it (``a → b → c → a``), and
  chains stay within :data:`~trovato.categories.hierarchy.MAX_DEPTH`; the check reads only
  the change's neighbourhood (the new parents' ancestors, the tag's descendants). Ancestors
  and descendants are recursive CTEs, in time of the relatives they return
  (``benchmarks/bench_categories.py`` has the figures: a few milliseconds for a tag's
  ancestors or breadcrumb on a 10,000-tag DAG; the whole subtree of a root, a quarter of the
  vocabulary, is the slow case). No closure table is kept: it would cost every parent change
  a rewrite of (subtree size) times (ancestors) rows, and no read needs it yet.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from psycopg import AsyncConnection, sql
from psycopg.errors import UniqueViolation
from psycopg.rows import DictRow, tuple_row
from sqlalchemy import (
    ARRAY,
    Column,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    Uuid,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    union,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from trovato.categories.hierarchy import MAX_DEPTH, Graph
from trovato.categories.model import (
    ACCESS_CONTENT,
    ADMINISTER_CATEGORIES,
    CREATE_TAGS,
    DESCRIPTION_MAX,
    HIERARCHIES,
    LABEL_MAX,
    MAX_PARENTS,
    NAME_MAX,
    VOCABULARY_ID,
    VOCABULARY_ID_MAX,
    WEIGHT_LIMIT,
    CategoryError,
    Hierarchy,
    Tag,
    TreeNode,
    Vocabulary,
    no_such_tag,
    no_such_vocabulary,
)
from trovato.categories.slugs import SLUG, SLUG_MAX, SUFFIX_ROOM, next_free, slugify
from trovato.categories.taps import TagHooks
from trovato.db.compiled import sql_text
from trovato.db.pool import Database
from trovato.ids import uuid7
from trovato.observability.audit import audit
from trovato.patterns import starts_with
from trovato.stages import LIVE, Stages, StageView, is_live, stage_condition, stage_params
from trovato.users.accounts import CurrentUser

Invalidate = Callable[[Iterable[str]], Awaitable[None]]
_UNSET: Any = object()
AUTOCOMPLETE_MAX: Final = 50

_metadata = MetaData()
_TAG = Table("category_tag", _metadata, Column("id", Uuid), Column("vocabulary_id", Uuid),
             Column("name", Text), Column("slug", Text), Column("description", Text),
             Column("weight", Integer), Column("stage_id", Text))
_VOCABULARY = Table("category_vocabulary", _metadata, Column("id", Uuid),
                    Column("machine_name", Text))
_HIERARCHY = Table("category_tag_hierarchy", _metadata, Column("tag_id", Uuid),
                   Column("parent_id", Uuid))

_SELECT_VOCABULARY = ("SELECT id, machine_name, name, description, hierarchy, weight"
                      " FROM category_vocabulary")


# -- statements ----------------------------------------------------------------------------------


def _tag_select(live: bool) -> tuple[Select[Any], Any, Any]:
    """Tags with their vocabulary's machine name and their parents (in weight, name order),
    as a read in a stage of shape ``live`` sees them: the statement and its tag and vocabulary
    aliases, for the caller's conditions."""
    t, v = _TAG.alias("t"), _VOCABULARY.alias("v")
    h, p = _HIERARCHY.alias("h"), _TAG.alias("p")
    parents = (select(func.array_agg(aggregate_order_by(h.c.parent_id, p.c.weight, p.c.name,
                                                        p.c.id)))
               .select_from(h.join(p, p.c.id == h.c.parent_id))
               .where(h.c.tag_id == t.c.id, stage_condition(live, p.c.stage_id))
               .scalar_subquery().label("parents"))
    statement = (select(t.c.id, v.c.machine_name, t.c.name, t.c.slug, t.c.description,
                        t.c.weight, parents, t.c.stage_id)
                 .select_from(t.join(v, v.c.id == t.c.vocabulary_id))
                 .where(stage_condition(live, t.c.stage_id)))
    return statement, t, v


def _ordered(statement: Select[Any], t: Any) -> Select[Any]:
    return statement.order_by(t.c.weight, t.c.name, t.c.id)


@functools.lru_cache(maxsize=32)
def _tags_sql(live: bool, by: str) -> str:
    """Tags chosen ``by``: ``id``, ``ids``, ``slug`` (vocabulary and slug), ``prefix`` (of
    one vocabulary, names starting so), ``children`` (of ``parent``) or ``names`` (of the
    ``vocabularies``, by lowercased name). A whole vocabulary: :func:`_vocabulary_sql`."""
    statement, t, v = _tag_select(live)
    vocabulary = v.c.machine_name == bindparam("vocabulary", type_=Text)
    if by == "id":
        statement = statement.where(t.c.id == bindparam("id", type_=Uuid))
    elif by == "ids":
        statement = statement.where(t.c.id == any_(bindparam("ids", type_=ARRAY(Uuid))))
    elif by == "slug":
        statement = statement.where(vocabulary, t.c.slug == bindparam("slug", type_=Text))
    elif by == "prefix":
        statement = _ordered(statement.where(
            vocabulary, func.lower(t.c.name).like(bindparam("prefix", type_=Text),
                                                  escape="\\")), t
        ).limit(bindparam("limit", type_=Integer))
    elif by == "children":
        h = _HIERARCHY.alias("c")
        statement = _ordered(statement.where(t.c.id == any_(
            select(h.c.tag_id).where(h.c.parent_id == bindparam("parent", type_=Uuid))
            .scalar_subquery())), t)
    elif by == "names":
        vocabularies = bindparam("vocabularies", type_=ARRAY(Text))
        statement = statement.where(
            v.c.machine_name == any_(vocabularies),
            func.lower(t.c.name) == any_(bindparam("names", type_=ARRAY(Text))),
        ).order_by(func.array_position(vocabularies, v.c.machine_name), t.c.weight, t.c.name,
                   t.c.id)
    else:
        raise ValueError(f"unknown tag selection {by!r}")
    return sql_text(statement)


@functools.lru_cache(maxsize=4)
def _vocabulary_sql(live: bool) -> tuple[str, str]:
    """A whole vocabulary in two plain scans (a correlated parents subquery per tag costs
    more than the tags themselves): its tags in (weight, name) order without their parents,
    and its parent links (tag, parent), both as a read of shape ``live`` sees them."""
    t, v = _TAG.alias("t"), _VOCABULARY.alias("v")
    h, p = _HIERARCHY.alias("h"), _TAG.alias("p")
    vocabulary = v.c.machine_name == bindparam("vocabulary", type_=Text)
    tags = _ordered(select(t.c.id, v.c.machine_name, t.c.name, t.c.slug, t.c.description,
                           t.c.weight, literal_column("NULL").label("parents"), t.c.stage_id)
                    .select_from(t.join(v, v.c.id == t.c.vocabulary_id))
                    .where(vocabulary, stage_condition(live, t.c.stage_id)), t)
    links = (select(h.c.tag_id, h.c.parent_id)
             .select_from(h.join(t, t.c.id == h.c.tag_id).join(p, p.c.id == h.c.parent_id)
                          .join(v, v.c.id == t.c.vocabulary_id))
             .where(vocabulary, stage_condition(live, t.c.stage_id),
                    stage_condition(live, p.c.stage_id)))
    return sql_text(tags), sql_text(links)


@functools.lru_cache(maxsize=8)
def _relatives_sql(live: bool, direction: str) -> str:
    """A tag's ancestors (``up``) or descendants (``down``), each once with its distance (the
    shortest), nearest first: a recursive CTE over the parent links."""
    h, r = _HIERARCHY.alias("link"), _HIERARCHY.alias("step")
    near, far = ((h.c.tag_id, h.c.parent_id) if direction == "up"
                 else (h.c.parent_id, h.c.tag_id))
    r_near, r_far = ((r.c.tag_id, r.c.parent_id) if direction == "up"
                     else (r.c.parent_id, r.c.tag_id))
    walk = (select(far.label("id"), literal_column("1").label("depth"))
            .where(near == bindparam("id", type_=Uuid)).cte("walk", recursive=True))
    walk = walk.union(select(r_far, walk.c.depth + literal_column("1")).select_from(
        r.join(walk, r_near == walk.c.id)))
    found = (select(walk.c.id, func.min(walk.c.depth).label("depth"))
             .group_by(walk.c.id).subquery("found"))
    statement, t, _v = _tag_select(live)
    statement = statement.join(found, found.c.id == t.c.id)
    return sql_text(statement.order_by(found.c.depth, t.c.weight, t.c.name, t.c.id))


@functools.lru_cache(maxsize=1)
def _graph_sql() -> tuple[str, str]:
    """A vocabulary's live tags (id, name) and their parent links (tag, parent)."""
    t, h = _TAG.alias("t"), _HIERARCHY.alias("h")
    in_vocabulary = t.c.vocabulary_id == bindparam("vocabulary", type_=Uuid)
    names = select(t.c.id, t.c.name).where(in_vocabulary, stage_condition(True, t.c.stage_id))
    links = (select(h.c.tag_id, h.c.parent_id).select_from(h.join(t, t.c.id == h.c.tag_id))
             .where(in_vocabulary, stage_condition(True, t.c.stage_id)))
    return sql_text(names), sql_text(links)


@functools.lru_cache(maxsize=1)
def _neighbourhood_sql() -> str:
    """A change of parents' neighbourhood (``Categories._neighbourhood``): each tag among the
    new ``parents`` (live tags of the ``vocabulary``) and their ancestors, and among ``tag``
    and its descendants, with its name and each of its parent links (one row per link, NULL
    for none). Links never leave a vocabulary."""
    t, n, link = _TAG.alias("t"), _TAG.alias("n"), _HIERARCHY.alias("link")
    h_up, h_down = _HIERARCHY.alias("h_up"), _HIERARCHY.alias("h_down")
    up = (select(t.c.id.label("id"))
          .where(t.c.id == any_(bindparam("parents", type_=ARRAY(Uuid))),
                 t.c.vocabulary_id == bindparam("vocabulary", type_=Uuid),
                 stage_condition(True, t.c.stage_id))
          .cte("up", recursive=True))
    up = up.union(select(h_up.c.parent_id).select_from(h_up.join(up, h_up.c.tag_id == up.c.id)))
    down = select(bindparam("tag", type_=Uuid).label("id")).cte("down", recursive=True)
    down = down.union(select(h_down.c.tag_id).select_from(
        h_down.join(down, h_down.c.parent_id == down.c.id)))
    members = union(select(up.c.id), select(down.c.id)).subquery("members")
    return sql_text(select(n.c.id, n.c.name, link.c.parent_id)
                    .select_from(n.join(members, members.c.id == n.c.id)
                                 .outerjoin(link, link.c.tag_id == n.c.id))
                    .where(stage_condition(True, n.c.stage_id)))


def _tag(row: Sequence[Any]) -> Tag:
    id_, vocabulary, name, slug, description, weight, parents, stage = row
    return Tag(id=id_, vocabulary=vocabulary, name=name, slug=slug, description=description,
               weight=weight, parents=tuple(parents or ()), stage=stage)


def _with_parents(rows: Sequence[Sequence[Any]], links: Sequence[Sequence[Any]]
                  ) -> list[Tag]:
    """Tags from rows of :func:`_vocabulary_sql` (in weight, name order) with their parents
    from its links, each tag's parents in that same order."""
    place = {row[0]: n for n, row in enumerate(rows)}
    parents: dict[uuid.UUID, list[uuid.UUID]] = {}
    for tag, parent in links:
        parents.setdefault(tag, []).append(parent)
    return [_tag((*row[:6], sorted(parents.get(row[0], ()), key=place.__getitem__), row[7]))
            for row in rows]


def _vocabulary(row: Mapping[str, Any]) -> Vocabulary:
    return Vocabulary(key=row["id"], id=row["machine_name"], label=row["name"],
                      description=row["description"], hierarchy=HIERARCHIES[row["hierarchy"]],
                      weight=row["weight"])


# -- input checks --------------------------------------------------------------------------------


def _line(value: Any, limit: int) -> str | None:
    """``value`` stripped when it is one line of 1 to ``limit`` characters, else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > limit or any(ord(c) < 32 or c == "\x7f" for c in text):
        return None
    return text


def _check_name(value: Any, errors: dict[str, str], key: str = "name") -> str:
    name = _line(value, NAME_MAX)
    if name is None:
        errors[key] = f"must be a single line of 1 to {NAME_MAX} characters"
        return ""
    return name


def _check_label(value: Any, errors: dict[str, str]) -> str:
    label = _line(value, LABEL_MAX)
    if label is None:
        errors["label"] = f"must be a single line of 1 to {LABEL_MAX} characters"
        return ""
    return label


def _check_description(value: Any, errors: dict[str, str]) -> str:
    if not isinstance(value, str) or len(value) > DESCRIPTION_MAX or "\x00" in value:
        errors["description"] = f"must be text of at most {DESCRIPTION_MAX} characters"
        return ""
    return value


def _check_weight(value: Any, errors: dict[str, str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > WEIGHT_LIMIT:
        errors["weight"] = f"must be a whole number between -{WEIGHT_LIMIT} and {WEIGHT_LIMIT}"
        return 0
    return value


def _check_hierarchy(value: Any, errors: dict[str, str]) -> Hierarchy:
    if value not in HIERARCHIES:
        errors["hierarchy"] = f"must be one of: {', '.join(HIERARCHIES)}"
        return "multiple"
    return value  # type: ignore[no-any-return]


def _check_slug(value: Any, errors: dict[str, str]) -> str:
    if not isinstance(value, str) or len(value) > SLUG_MAX or not SLUG.match(value):
        errors["slug"] = (f"must be lowercase letters a-z and digits in words joined by single"
                          f" hyphens, at most {SLUG_MAX} characters")
        return ""
    return value


def _check_parents(value: Any, errors: dict[str, str]) -> list[uuid.UUID]:
    if not isinstance(value, list | tuple) or len(value) > MAX_PARENTS:
        errors["parents"] = f"must be a list of at most {MAX_PARENTS} tag ids"
        return []
    parents: list[uuid.UUID] = []
    for n, raw in enumerate(value):
        try:
            key = raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
        except ValueError:
            errors[f"parents.{n}"] = "must be a tag id (UUID)"
            continue
        if key not in parents:
            parents.append(key)
    return parents


def _refuse(errors: Mapping[str, str], message: str) -> None:
    if errors:
        raise CategoryError(422, message, errors=errors)


# -- the service ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One tag of an import: its line in the file, name, parents' names, description and
    weight (None: keep an existing tag's, else empty and 0). A parent is a tag of the
    vocabulary or a row above."""

    line: int
    name: str
    parents: tuple[str, ...] = ()
    description: str | None = None
    weight: int | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    vocabulary: Vocabulary
    created: int
    updated: int


class Categories:
    """Vocabularies and tags, with access, validation, hierarchy and taps (module docstring)."""

    def __init__(self, db: Database, stages: Stages | None = None, *,
                 hooks: TagHooks | None = None, invalidate: Invalidate | None = None) -> None:
        self.db = db
        self.stages = stages or Stages(db)
        self.hooks = hooks or TagHooks()
        self.invalidate = invalidate

    # -- access --------------------------------------------------------------------------------

    @staticmethod
    def may_read(user: CurrentUser) -> bool:
        return user.can(ACCESS_CONTENT) or user.can(ADMINISTER_CATEGORIES)

    def _require_read(self, user: CurrentUser) -> None:
        if not self.may_read(user):
            raise CategoryError(403, f"You need the permission {ACCESS_CONTENT!r} to see"
                                " categories.")

    @staticmethod
    def _require_admin(user: CurrentUser) -> None:
        if not user.can(ADMINISTER_CATEGORIES):
            raise CategoryError(403, f"You need the permission {ADMINISTER_CATEGORIES!r} to"
                                " change categories.")

    @staticmethod
    def _require_live(stage: str) -> None:
        if not is_live(stage):
            raise CategoryError(409, f"Categories are edited in live only: tags cannot be"
                                f" created, changed or deleted in the stage {stage!r}.")

    async def _view(self, user: CurrentUser, stage: str) -> StageView:
        return await self.stages.view(stage, user)

    # -- reads ---------------------------------------------------------------------------------

    async def vocabularies(self, user: CurrentUser) -> list[Vocabulary]:
        self._require_read(user)
        rows = await self.db.fetch(_SELECT_VOCABULARY + " ORDER BY weight, machine_name")
        return [_vocabulary(r) for r in rows]

    async def vocabulary(self, user: CurrentUser, vocabulary: str) -> Vocabulary:
        self._require_read(user)
        row = await self.db.fetchrow(_SELECT_VOCABULARY + " WHERE machine_name = %s",
                                     (vocabulary,))
        if row is None:
            raise no_such_vocabulary(vocabulary)
        return _vocabulary(row)

    async def vocabulary_names(self) -> list[str]:
        """Every vocabulary's machine name (the API document's list of them)."""
        rows = await self.db.fetch("SELECT machine_name FROM category_vocabulary"
                                   " ORDER BY machine_name")
        return [r["machine_name"] for r in rows]

    async def tag(self, user: CurrentUser, tag_id: uuid.UUID | str, *, stage: str = LIVE
                  ) -> Tag:
        """One tag; 404 when it does not exist in the stage's view (or the id is malformed)."""
        self._require_read(user)
        key = _tag_id(tag_id)
        view = await self._view(user, stage)
        row = await self.db.fetchrow_tuple(_tags_sql(view.live, "id"),
                                           {**stage_params(view), "id": key})
        if row is None:
            raise no_such_tag()
        return _tag(row)

    async def tag_by_slug(self, user: CurrentUser, vocabulary: str, slug: str, *,
                          stage: str = LIVE) -> Tag:
        self._require_read(user)
        view = await self._view(user, stage)
        row = await self.db.fetchrow_tuple(
            _tags_sql(view.live, "slug"),
            {**stage_params(view), "vocabulary": vocabulary, "slug": slug})
        if row is None:
            raise no_such_tag()
        return _tag(row)

    async def tags(self, user: CurrentUser, vocabulary: str, *, stage: str = LIVE,
                   starting: str | None = None, limit: int = AUTOCOMPLETE_MAX) -> list[Tag]:
        """A vocabulary's tags in (weight, name) order; with ``starting``, at most ``limit``
        whose name starts so (case-insensitive: autocomplete)."""
        await self.vocabulary(user, vocabulary)
        view = await self._view(user, stage)
        params: dict[str, Any] = {**stage_params(view), "vocabulary": vocabulary}
        if starting is None:
            tags_sql, links_sql = _vocabulary_sql(view.live)
            return _with_parents(await self.db.fetch_tuples(tags_sql, params),
                                 await self.db.fetch_tuples(links_sql, params))
        params["prefix"] = starts_with(starting.strip().lower())
        params["limit"] = max(1, min(limit, AUTOCOMPLETE_MAX))
        rows = await self.db.fetch_tuples(_tags_sql(view.live, "prefix"), params)
        return [_tag(r) for r in rows]

    async def children(self, user: CurrentUser, tag: Tag, *, stage: str = LIVE) -> list[Tag]:
        self._require_read(user)
        view = await self._view(user, stage)
        rows = await self.db.fetch_tuples(_tags_sql(view.live, "children"),
                                          {**stage_params(view), "parent": tag.id})
        return [_tag(r) for r in rows]

    async def ancestors(self, user: CurrentUser, tag: Tag, *, stage: str = LIVE) -> list[Tag]:
        """Every ancestor once, nearest first (then by weight and name)."""
        return await self._relatives(user, tag, "up", stage)

    async def descendants(self, user: CurrentUser, tag: Tag, *, stage: str = LIVE
                          ) -> list[Tag]:
        """Every descendant once, nearest first (then by weight and name)."""
        return await self._relatives(user, tag, "down", stage)

    async def _relatives(self, user: CurrentUser, tag: Tag, direction: str, stage: str
                         ) -> list[Tag]:
        self._require_read(user)
        view = await self._view(user, stage)
        rows = await self.db.fetch_tuples(_relatives_sql(view.live, direction),
                                          {**stage_params(view), "id": tag.id})
        return [_tag(r[:8]) for r in rows]

    async def breadcrumb(self, user: CurrentUser, tag: Tag, *, stage: str = LIVE) -> list[Tag]:
        """The tag's ancestors along first parents, from the root down (the tag excluded)."""
        if not tag.parents:
            return []
        found = {a.id: a for a in await self.ancestors(user, tag, stage=stage)}
        trail: list[Tag] = []
        current = tag
        while len(trail) < MAX_DEPTH:
            parent = next((found[p] for p in current.parents if p in found), None)
            if parent is None:
                break
            trail.append(parent)
            current = parent
        return trail[::-1]

    async def tree(self, user: CurrentUser, vocabulary: str, *, stage: str = LIVE
                   ) -> list[TreeNode]:
        """The vocabulary's tags as a forest: roots in (weight, name) order, each with its
        children (see :class:`~trovato.categories.model.TreeNode` for tags with several
        parents)."""
        tags = await self.tags(user, vocabulary, stage=stage)
        known = {t.id for t in tags}
        children: dict[uuid.UUID, list[Tag]] = {}
        for tag in tags:  # in (weight, name) order, so each child list is too
            for parent in tag.parents:
                children.setdefault(parent, []).append(tag)
        expanded: set[uuid.UUID] = set()

        def node(tag: Tag) -> TreeNode:
            if tag.id in expanded:
                return TreeNode(tag, (), repeated=True)
            expanded.add(tag.id)
            return TreeNode(tag, tuple(node(c) for c in children.get(tag.id, ())))

        return [node(t) for t in tags if not any(p in known for p in t.parents)]

    # -- vocabulary writes ---------------------------------------------------------------------

    async def create_vocabulary(self, user: CurrentUser, vocabulary: str, label: str, *,
                                description: str = "", hierarchy: str = "multiple",
                                weight: int = 0) -> Vocabulary:
        self._require_admin(user)
        async with self.db.transaction() as conn:
            return await self._insert_vocabulary(conn, user, vocabulary, label,
                                                 description=description, hierarchy=hierarchy,
                                                 weight=weight)

    async def _insert_vocabulary(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                                 vocabulary: str, label: str, *, description: str = "",
                                 hierarchy: str = "multiple", weight: int = 0) -> Vocabulary:
        errors: dict[str, str] = {}
        if not isinstance(vocabulary, str) or len(vocabulary) > VOCABULARY_ID_MAX \
                or not VOCABULARY_ID.match(vocabulary):
            errors["id"] = (f"must be a machine name: a lowercase letter, then lowercase"
                            f" letters, digits and underscores, at most {VOCABULARY_ID_MAX}")
        label = _check_label(label, errors)
        description = _check_description(description, errors)
        mode = _check_hierarchy(hierarchy, errors)
        weight = _check_weight(weight, errors)
        _refuse(errors, "The vocabulary is invalid.")
        try:
            async with conn.transaction():  # a savepoint: a taken name leaves conn usable
                cur = await conn.execute(
                    "INSERT INTO category_vocabulary (id, machine_name, name, description,"
                    " hierarchy, weight) VALUES (%s, %s, %s, %s, %s, %s) RETURNING *",
                    (uuid7(), vocabulary, label, description, HIERARCHIES.index(mode), weight))
        except UniqueViolation:
            raise CategoryError(409, f"A vocabulary {vocabulary!r} exists already.",
                                errors={"id": "is taken"}) from None
        row = await cur.fetchone()
        assert row is not None
        await audit(conn, "categories", "Created vocabulary %(vocabulary)s.",
                    {"vocabulary": vocabulary}, user_id=user.id)
        return _vocabulary(row)

    async def update_vocabulary(self, user: CurrentUser, vocabulary: str, *,
                                label: str = _UNSET, description: str = _UNSET,
                                hierarchy: str = _UNSET, weight: int = _UNSET) -> Vocabulary:
        """Change what is given; a stricter ``hierarchy`` is refused (409) while a tag has
        more parents than it allows."""
        self._require_admin(user)
        errors: dict[str, str] = {}
        changes: dict[str, Any] = {}
        if label is not _UNSET:
            changes["name"] = _check_label(label, errors)
        if description is not _UNSET:
            changes["description"] = _check_description(description, errors)
        if hierarchy is not _UNSET:
            changes["hierarchy"] = HIERARCHIES.index(_check_hierarchy(hierarchy, errors))
        if weight is not _UNSET:
            changes["weight"] = _check_weight(weight, errors)
        _refuse(errors, "The vocabulary is invalid.")
        async with self.db.transaction() as conn:
            current = await self._lock_vocabulary(conn, vocabulary)
            if "hierarchy" in changes:
                allowed = changes["hierarchy"]  # 0: no parents, 1: one, 2: any
                if allowed < 2:
                    cur = await conn.execute(
                        "SELECT t.name FROM category_tag t JOIN category_tag_hierarchy h"
                        " ON h.tag_id = t.id WHERE t.vocabulary_id = %s GROUP BY t.id, t.name"
                        " HAVING count(*) > %s ORDER BY t.name LIMIT 1",
                        (current.key, allowed))
                    row = await cur.fetchone()
                    if row is not None:
                        raise CategoryError(
                            409, f"The tag {row['name']!r} has more parents than the hierarchy"
                            f" {HIERARCHIES[allowed]!r} allows; change its parents first.",
                            errors={"hierarchy": "existing tags have more parents"})
            if changes:
                await conn.execute(_update("category_vocabulary", changes),
                                   {**changes, "id": current.key})
                await audit(conn, "categories", "Updated vocabulary %(vocabulary)s.",
                            {"vocabulary": vocabulary}, user_id=user.id)
            cur = await conn.execute(_SELECT_VOCABULARY + " WHERE id = %s", (current.key,))
            row = await cur.fetchone()
            assert row is not None
        await self._invalidate(vocabulary)
        return _vocabulary(row)

    async def delete_vocabulary(self, user: CurrentUser, vocabulary: str) -> Vocabulary:
        """Delete the vocabulary and its tags (``tag_delete`` fires for each)."""
        self._require_admin(user)
        async with self.db.transaction() as conn:
            current = await self._lock_vocabulary(conn, vocabulary)
            for tag in await self._tags_on(conn, vocabulary):
                await self.hooks.delete(tag, user)
            await conn.execute("DELETE FROM category_vocabulary WHERE id = %s", (current.key,))
            await audit(conn, "categories", "Deleted vocabulary %(vocabulary)s.",
                        {"vocabulary": vocabulary}, user_id=user.id)
        await self._invalidate(vocabulary)
        return current

    # -- tag writes ----------------------------------------------------------------------------

    async def create_tag(self, user: CurrentUser, vocabulary: str, name: str, *,
                         parents: Sequence[uuid.UUID | str] = (), description: str = "",
                         weight: int = 0, slug: str | None = None, stage: str = LIVE) -> Tag:
        """A new tag; its slug comes from its name unless given (a taken one gets ``-2``…)."""
        self._require_admin(user)
        self._require_live(stage)
        errors: dict[str, str] = {}
        name = _check_name(name, errors)
        description = _check_description(description, errors)
        weight = _check_weight(weight, errors)
        wanted = _check_parents(list(parents), errors)
        chosen = _check_slug(slug, errors) if slug is not None else None
        _refuse(errors, "The tag is invalid.")
        async with self.db.transaction() as conn:
            current = await self._lock_vocabulary(conn, vocabulary, field="vocabulary")
            # A new tag without parents can close no loop: no need to read the hierarchy.
            graph = await self._neighbourhood(conn, current, None, wanted) if wanted else None
            tag = await self._insert(conn, user, current, graph, name, wanted,
                                     description=description, weight=weight, slug=chosen)
        await self._invalidate(vocabulary, tag.id)
        return tag

    async def update_tag(self, user: CurrentUser, tag_id: uuid.UUID | str, *,
                         name: str = _UNSET, description: str = _UNSET, weight: int = _UNSET,
                         slug: str = _UNSET, parents: Sequence[uuid.UUID | str] = _UNSET,
                         stage: str = LIVE) -> Tag:
        """Change what is given. The slug stays when the name changes (links keep working)
        unless a new one is given; ``parents`` replaces the parents (a move)."""
        self._require_admin(user)
        self._require_live(stage)
        key = _tag_id(tag_id)
        errors: dict[str, str] = {}
        changes: dict[str, Any] = {}
        if name is not _UNSET:
            changes["name"] = _check_name(name, errors)
        if description is not _UNSET:
            changes["description"] = _check_description(description, errors)
        if weight is not _UNSET:
            changes["weight"] = _check_weight(weight, errors)
        if slug is not _UNSET:
            changes["slug"] = _check_slug(slug, errors)
        wanted = None if parents is _UNSET else _check_parents(list(parents), errors)
        _refuse(errors, "The tag is invalid.")
        async with self.db.transaction() as conn:
            original = await self._locked_tag(conn, key)
            current = await self._lock_vocabulary(conn, original.vocabulary)
            if changes.get("slug", original.slug) != original.slug:
                taken = await conn.execute(
                    "SELECT 1 FROM category_tag WHERE vocabulary_id = %s AND slug = %s"
                    " AND id <> %s", (current.key, changes["slug"], key))
                if await taken.fetchone() is not None:
                    raise CategoryError(409, f"The slug {changes['slug']!r} is taken in this"
                                        " vocabulary.", errors={"slug": "is taken"})
            if changes:
                await conn.execute(_update("category_tag", changes), {**changes, "id": key})
            if wanted is not None:
                graph = await self._neighbourhood(conn, current, key, wanted)
                graph.names[key] = changes.get("name", original.name)
                await self._set_parents(conn, current, graph, key, wanted)
            tag = await self._read(conn, key)
            await self.hooks.update(tag, original, user)
            await audit(conn, "categories", "Updated tag %(name)s.",
                        {"name": tag.name, "id": str(tag.id)}, user_id=user.id)
        await self._invalidate(tag.vocabulary, tag.id)
        return tag

    async def move(self, user: CurrentUser, tag_id: uuid.UUID | str,
                   parents: Sequence[uuid.UUID | str], *, weight: int | None = None,
                   stage: str = LIVE) -> Tag:
        """Give the tag new parents (none: a root), and a new weight among its siblings."""
        if weight is None:
            return await self.update_tag(user, tag_id, parents=parents, stage=stage)
        return await self.update_tag(user, tag_id, parents=parents, weight=weight, stage=stage)

    async def delete_tag(self, user: CurrentUser, tag_id: uuid.UUID | str, *,
                         stage: str = LIVE) -> Tag:
        """Delete the tag; its children lose it as a parent (those with no other parent
        become roots)."""
        self._require_admin(user)
        self._require_live(stage)
        key = _tag_id(tag_id)
        async with self.db.transaction() as conn:
            tag = await self._locked_tag(conn, key)
            await self._lock_vocabulary(conn, tag.vocabulary)
            await self.hooks.delete(tag, user)
            await conn.execute("DELETE FROM category_tag WHERE id = %s", (key,))
            await audit(conn, "categories", "Deleted tag %(name)s.",
                        {"name": tag.name, "id": str(tag.id)}, user_id=user.id)
        await self._invalidate(tag.vocabulary, tag.id)
        return tag

    # -- free tagging --------------------------------------------------------------------------

    async def resolve_names(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                            stage: str, vocabularies: Sequence[str],
                            wanted: Sequence[tuple[str, str]]) -> list[uuid.UUID]:
        """Free tagging, inside a content save's transaction (``conn``): the id of the tag
        each ``(error key, name)`` names, found case-insensitively in ``vocabularies`` (the
        first that has it), else created in the first of them — which needs ``create tags``
        (or ``administer categories``) and live. Refusals are one 422 naming each value."""
        errors: dict[str, str] = {}
        names: list[str] = []
        for key, raw in wanted:
            name = _check_name(raw, errors, key)
            names.append(name)
            if name and not vocabularies:
                errors[key] = ("this field names no vocabulary, so a tag must be given by id"
                               " (target_id)")
        _refuse(errors, "Some tags could not be used.")
        view = await self.stages.view(stage, conn=conn)
        cur = await conn.cursor(row_factory=tuple_row).execute(
            _tags_sql(view.live, "names"),
            {**stage_params(view), "vocabularies": list(vocabularies),
             "names": sorted({n.lower() for n in names})})
        found: dict[str, uuid.UUID] = {}
        for row in await cur.fetchall():
            found.setdefault(row[2].lower(), row[0])
        missing = [(key, name) for (key, _raw), name in zip(wanted, names, strict=True)
                   if name.lower() not in found]
        if missing:
            home = vocabularies[0]
            may_create = user.can(CREATE_TAGS) or user.can(ADMINISTER_CATEGORIES)
            for key, name in missing:
                if not view.live:
                    errors[key] = (f"there is no tag {name!r} in {home!r}, and new tags can"
                                   " only be created in live")
                elif not may_create:
                    errors[key] = (f"there is no tag {name!r} in {home!r}, and you may not"
                                   " create tags")
            _refuse(errors, "Some tags could not be used.")
            current = await self._lock_vocabulary(conn, home)
            for _key, name in missing:
                if name.lower() not in found:
                    tag = await self._insert(conn, user, current, None, name, [])
                    found[name.lower()] = tag.id
        return [found[name.lower()] for name in names]

    # -- import --------------------------------------------------------------------------------

    async def import_tags(self, user: CurrentUser, vocabulary: str, rows: Sequence[ImportRow],
                          *, label: str | None = None,
                          progress: Callable[[], None] | None = None) -> ImportResult:
        """Import ``rows`` into ``vocabulary`` (created, labelled ``label``, if it does not
        exist) in ONE transaction: a bad row is a 422 naming its line, and nothing is kept.
        A row naming an existing tag updates its description and weight and adds its
        parents; parents are named, and must be tags of the vocabulary or rows above."""
        self._require_admin(user)
        created = updated = 0
        async with self.db.transaction() as conn:
            cur = await conn.execute(_SELECT_VOCABULARY + " WHERE machine_name = %s",
                                     (vocabulary,))
            if await cur.fetchone() is None:
                await self._insert_vocabulary(conn, user, vocabulary, label or vocabulary)
            current = await self._lock_vocabulary(conn, vocabulary)
            graph = await self._graph(conn, current)
            by_name: dict[str, uuid.UUID] = {}
            for tag_id, name in graph.names.items():
                by_name.setdefault(name.lower(), tag_id)
            for row in rows:
                if await self._import_row(conn, user, current, graph, by_name, row):
                    created += 1
                else:
                    updated += 1
                if progress is not None:
                    progress()
            await audit(conn, "categories", "Imported %(count)s tags into %(vocabulary)s.",
                        {"count": len(rows), "vocabulary": vocabulary}, user_id=user.id)
        await self._invalidate(vocabulary)
        return ImportResult(current, created, updated)

    async def _import_row(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                          vocabulary: Vocabulary, graph: Graph, by_name: dict[str, uuid.UUID],
                          row: ImportRow) -> bool:
        """Import one row; True when it created a tag (else it updated one). A refusal names
        the row's line."""
        errors: dict[str, str] = {}
        name = _check_name(row.name, errors)
        description = None if row.description is None \
            else _check_description(row.description, errors)
        weight = None if row.weight is None else _check_weight(row.weight, errors)
        parents: list[uuid.UUID] = []
        for parent in row.parents:
            found = by_name.get(parent.strip().lower())
            if found is None:
                errors["parents"] = (f"{parent!r} is neither a tag of {vocabulary.id!r} nor a"
                                     " row above")
            elif found not in parents:
                parents.append(found)
        try:
            _refuse(errors, "The row is invalid.")
            existing = by_name.get(name.lower())
            if existing is None:
                tag = await self._insert(conn, user, vocabulary, graph, name, parents,
                                         description=description or "", weight=weight or 0)
                by_name[name.lower()] = tag.id
                return True
            original = await self._read(conn, existing)
            await conn.execute(
                "UPDATE category_tag SET description = coalesce(%s, description),"
                " weight = coalesce(%s, weight) WHERE id = %s", (description, weight, existing))
            kept = graph.parents.get(existing, [])
            await self._set_parents(conn, vocabulary, graph, existing,
                                    [*kept, *(p for p in parents if p not in kept)])
            await self.hooks.update(await self._read(conn, existing), original, user)
            return False
        except CategoryError as exc:
            what = "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) or exc.message
            raise CategoryError(422, f"Line {row.line}: {what}. Nothing was imported.",
                                errors={f"line {row.line}.{k}": v
                                        for k, v in exc.errors.items()}) from None

    # -- internals -----------------------------------------------------------------------------

    async def _lock_vocabulary(self, conn: AsyncConnection[DictRow], vocabulary: str, *,
                               field: str | None = None) -> Vocabulary:
        """The vocabulary, its row locked against every other write to it (module
        docstring); 404, or 422 about ``field`` when the vocabulary is named in a body."""
        cur = await conn.execute(_SELECT_VOCABULARY + " WHERE machine_name = %s"
                                 " FOR NO KEY UPDATE", (vocabulary,))
        row = await cur.fetchone()
        if row is None:
            if field is not None:
                raise CategoryError(422, f"There is no vocabulary {vocabulary!r}.",
                                    errors={field: "no such vocabulary"})
            raise no_such_vocabulary(vocabulary)
        return _vocabulary(row)

    async def _tags_on(self, conn: AsyncConnection[DictRow], vocabulary: str) -> list[Tag]:
        """The vocabulary's live tags, read on ``conn``."""
        tags_sql, links_sql = _vocabulary_sql(True)
        params = {"vocabulary": vocabulary}
        rows = await (await conn.cursor(row_factory=tuple_row).execute(tags_sql, params)
                      ).fetchall()
        links = await (await conn.cursor(row_factory=tuple_row).execute(links_sql, params)
                       ).fetchall()
        return _with_parents(rows, links)

    async def _neighbourhood(self, conn: AsyncConnection[DictRow], vocabulary: Vocabulary,
                             tag: uuid.UUID | None, parents: list[uuid.UUID]) -> Graph:
        """The part of the vocabulary's live hierarchy a change of ``tag``'s parents to
        ``parents`` is checked against: the new parents (those of the vocabulary) with all
        their ancestors, and the tag with all its descendants — in time of those relatives,
        not of the vocabulary (recursive CTEs; links never leave a vocabulary)."""
        params = {"vocabulary": vocabulary.key, "parents": parents, "tag": tag}
        cur = await conn.cursor(row_factory=tuple_row).execute(_neighbourhood_sql(), params)
        graph = Graph()
        links: dict[uuid.UUID, list[uuid.UUID]] = {}
        for key, name, parent in await cur.fetchall():
            graph.names[key] = name
            if parent is not None:
                links.setdefault(key, []).append(parent)
        for key, found in links.items():
            graph.set_parents(key, found)
        return graph

    async def _graph(self, conn: AsyncConnection[DictRow], vocabulary: Vocabulary) -> Graph:
        """The vocabulary's live hierarchy, read on ``conn`` (two plain scans: a write to a
        vocabulary of 10,000 tags reads it in a few milliseconds)."""
        names_sql, links_sql = _graph_sql()
        graph = Graph()
        cur = await conn.cursor(row_factory=tuple_row).execute(names_sql,
                                                               {"vocabulary": vocabulary.key})
        for key, name in await cur.fetchall():
            graph.add(key, name)
        cur = await conn.cursor(row_factory=tuple_row).execute(links_sql,
                                                               {"vocabulary": vocabulary.key})
        parents: dict[uuid.UUID, list[uuid.UUID]] = {}
        for key, parent in await cur.fetchall():
            parents.setdefault(key, []).append(parent)
        for key, found in parents.items():
            graph.set_parents(key, found)
        return graph

    async def _read(self, conn: AsyncConnection[DictRow], key: uuid.UUID) -> Tag:
        cur = await conn.cursor(row_factory=tuple_row).execute(_tags_sql(True, "id"),
                                                               {"id": key})
        row = await cur.fetchone()
        if row is None:
            raise no_such_tag()
        return _tag(row)

    async def _locked_tag(self, conn: AsyncConnection[DictRow], key: uuid.UUID) -> Tag:
        """A live tag, its row locked (404 if there is none)."""
        cur = await conn.execute("SELECT 1 FROM category_tag WHERE id = %s FOR UPDATE", (key,))
        if await cur.fetchone() is None:
            raise no_such_tag()
        return await self._read(conn, key)

    async def _insert(self, conn: AsyncConnection[DictRow], user: CurrentUser,
                      vocabulary: Vocabulary, graph: Graph | None, name: str,
                      parents: list[uuid.UUID], *, description: str = "", weight: int = 0,
                      slug: str | None = None) -> Tag:
        """Insert a live tag (the vocabulary is locked), link its parents (checked against
        ``graph``, the vocabulary's hierarchy, which follows; needed when there are parents),
        fire tag_insert."""
        base = slug or slugify(name)
        # Every slug a suffixed form of ``base`` could collide with: a long base is cut to
        # make room for its suffix, so compare on a stem short enough for any suffix.
        stem = base[:SLUG_MAX - SUFFIX_ROOM]
        cur = await conn.execute(
            "SELECT slug FROM category_tag WHERE vocabulary_id = %s AND left(slug, %s) = %s",
            (vocabulary.key, len(stem), stem))
        taken = {r["slug"] for r in await cur.fetchall()}
        if slug is not None and slug in taken:
            raise CategoryError(409, f"The slug {slug!r} is taken in this vocabulary.",
                                errors={"slug": "is taken"})
        key = uuid7()
        await conn.execute(
            "INSERT INTO category_tag (id, vocabulary_id, name, slug, description, weight)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (key, vocabulary.key, name, next_free(base, taken), description, weight))
        if graph is not None:
            graph.add(key, name)
        if parents:
            assert graph is not None, "parents are checked against the vocabulary's hierarchy"
            await self._set_parents(conn, vocabulary, graph, key, parents)
        tag = await self._read(conn, key)
        await self.hooks.insert(tag, user)
        await audit(conn, "categories", "Created tag %(name)s in %(vocabulary)s.",
                    {"name": name, "vocabulary": vocabulary.id, "id": str(key)},
                    user_id=user.id)
        return tag

    async def _set_parents(self, conn: AsyncConnection[DictRow], vocabulary: Vocabulary,
                           graph: Graph, key: uuid.UUID, parents: list[uuid.UUID]) -> None:
        """Replace the tag's parents, after checking them against the vocabulary's hierarchy
        (module docstring); ``graph`` follows."""
        errors: dict[str, str] = {}
        limit = HIERARCHIES.index(vocabulary.hierarchy)
        if limit == 0 and parents:
            errors["parents"] = (f"the vocabulary {vocabulary.id!r} is a flat list: its tags"
                                 " have no parents")
        elif limit == 1 and len(parents) > 1:
            errors["parents"] = f"tags of {vocabulary.id!r} have at most one parent"
        for n, parent in enumerate(parents):
            if parent not in graph.names:
                errors[f"parents.{n}"] = f"is not a tag of the vocabulary {vocabulary.id!r}"
        _refuse(errors, "The tag's parents are invalid.")
        for parent in parents:
            loop = graph.loop(key, parent)
            if loop is not None:
                described = graph.describe(loop)
                raise CategoryError(
                    422, f"Making {graph.names[parent]!r} a parent of {graph.names[key]!r}"
                    f" would create a loop: {described}.",
                    errors={"parents": f"would create a loop: {described}"},
                    extensions={"loop": [str(node) for node in loop]})
        deepest = max((graph.depth_above(p) for p in parents), default=0) \
            + graph.depth_below(key)
        if deepest > MAX_DEPTH:
            raise CategoryError(422, f"The hierarchy would be {deepest} levels deep; at most"
                                f" {MAX_DEPTH} are allowed.",
                                errors={"parents": f"would make a chain deeper than {MAX_DEPTH}"})
        graph.set_parents(key, parents)
        await conn.execute("DELETE FROM category_tag_hierarchy WHERE tag_id = %s", (key,))
        if parents:
            await conn.execute(
                "INSERT INTO category_tag_hierarchy (tag_id, parent_id)"
                " SELECT %s, unnest(%s::uuid[])", (key, parents))

    async def _invalidate(self, vocabulary: str, tag: uuid.UUID | None = None) -> None:
        if self.invalidate is not None:
            await self.invalidate([f"vocabulary:{vocabulary}",
                                   *([f"tag:{tag}"] if tag is not None else [])])



def _update(table: str, changes: Mapping[str, Any]) -> sql.Composed:
    """``UPDATE table SET column = %(column)s, … WHERE id = %(id)s`` for the changed columns
    (names chosen by this module, never by a client)."""
    sets = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(column),
                                                        sql.Placeholder(column))
                              for column in changes)
    return sql.SQL("UPDATE {} SET {} WHERE id = %(id)s").format(sql.Identifier(table), sets)


def _tag_id(raw: uuid.UUID | str) -> uuid.UUID:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise no_such_tag() from None


__all__ = ["Categories", "ImportResult", "ImportRow"]
