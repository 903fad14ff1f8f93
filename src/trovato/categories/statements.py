"""The categories' SQL: the statements the reads and
the hierarchy check run (compiled once per stage shape), and rows turned into model objects."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql
from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
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

from trovato.categories.model import (
    HIERARCHIES,
    Tag,
    Vocabulary,
)
from trovato.db.compiled import sql_text
from trovato.db.tables import CATEGORY_TAG as _TAG
from trovato.db.tables import CATEGORY_TAG_HIERARCHY as _HIERARCHY
from trovato.db.tables import CATEGORY_VOCABULARY as _VOCABULARY
from trovato.stages import stage_condition

SELECT_VOCABULARY = ("SELECT id, machine_name, name, description, hierarchy, weight"
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
def tags_sql(live: bool, by: str) -> str:
    """Tags chosen ``by``: ``id``, ``ids``, ``slug`` (vocabulary and slug), ``prefix`` (of
    one vocabulary, names starting so), ``children`` (of ``parent``) or ``names`` (of the
    ``vocabularies``, by lowercased name). A whole vocabulary: :func:`vocabulary_sql`."""
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
def vocabulary_sql(live: bool) -> tuple[str, str]:
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
def relatives_sql(live: bool, direction: str) -> str:
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
def graph_sql() -> tuple[str, str]:
    """A vocabulary's live tags (id, name) and their parent links (tag, parent)."""
    t, h = _TAG.alias("t"), _HIERARCHY.alias("h")
    in_vocabulary = t.c.vocabulary_id == bindparam("vocabulary", type_=Uuid)
    names = select(t.c.id, t.c.name).where(in_vocabulary, stage_condition(True, t.c.stage_id))
    links = (select(h.c.tag_id, h.c.parent_id).select_from(h.join(t, t.c.id == h.c.tag_id))
             .where(in_vocabulary, stage_condition(True, t.c.stage_id)))
    return sql_text(names), sql_text(links)


@functools.lru_cache(maxsize=1)
def neighbourhood_sql() -> str:
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


def update_statement(table: str, changes: Mapping[str, Any]) -> sql.Composed:
    """``UPDATE table SET column = %(column)s, … WHERE id = %(id)s`` for the changed columns
    (names chosen by this module, never by a client)."""
    sets = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(column),
                                                        sql.Placeholder(column))
                              for column in changes)
    return sql.SQL("UPDATE {} SET {} WHERE id = %(id)s").format(sql.Identifier(table), sets)


def tag_from_row(row: Sequence[Any]) -> Tag:
    id_, vocabulary, name, slug, description, weight, parents, stage = row
    return Tag(id=id_, vocabulary=vocabulary, name=name, slug=slug, description=description,
               weight=weight, parents=tuple(parents or ()), stage=stage)


def with_parents(rows: Sequence[Sequence[Any]], links: Sequence[Sequence[Any]]
                  ) -> list[Tag]:
    """Tags from rows of :func:`vocabulary_sql` (in weight, name order) with their parents
    from its links, each tag's parents in that same order."""
    place = {row[0]: n for n, row in enumerate(rows)}
    parents: dict[uuid.UUID, list[uuid.UUID]] = {}
    for tag, parent in links:
        parents.setdefault(tag, []).append(parent)
    return [tag_from_row((*row[:6], sorted(parents.get(row[0], ()), key=place.__getitem__), row[7]))
            for row in rows]


def vocabulary_from_row(row: Mapping[str, Any]) -> Vocabulary:
    return Vocabulary(key=row["id"], id=row["machine_name"], label=row["name"],
                      description=row["description"], hierarchy=HIERARCHIES[row["hierarchy"]],
                      weight=row["weight"])

