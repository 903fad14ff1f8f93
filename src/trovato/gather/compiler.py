"""The Gather compiler: a resolved definition → SQL text (SQLAlchemy Core, DESIGN §3 and §9).

Safe by construction:

* **identifiers** come only from the resolved :class:`~trovato.gather.fields.FieldSpec`
  (base columns of the whitelist, JSONB keys of fields the item types define, which match
  ``^[a-z][a-z0-9_]*$``): keys are written into the text so an expression index on
  ``fields->'field_x'->>'value'`` can serve the filter;
* **values** are bound parameters (``f<n>`` for the n-th filter), except validated integers and
  flags compared with a base column (``status = 1``, ``promote = true``), written in as
  literals like the item query path does, so PostgreSQL's generic plan can use the partial
  front-page index;
* **what a reader sees** is the item query path's own rule: the rows come from
  :func:`~trovato.content.statements.item_source` (the item table in live, the stage overlay
  elsewhere) under :func:`~trovato.stages.stage_condition` and
  :func:`~trovato.content.access.scope_condition`, so a listing shows exactly the items their
  pages show, and every count counts only those.

JSONB values are compared by their field's type: ``(fields->'k'->>'value')::bigint`` for
integers, ``::numeric``, ``::double precision``, ``::date``, ``::timestamptz``, ``::uuid``;
a multi-valued field matches when any of its values does (``EXISTS`` over its elements).
Sorts on JSONB fields put empty values last in both directions.

A compiled :class:`Plan` holds up to four statements, each compiled once per :class:`Shape`
and kept in a bounded memo keyed by the definition's name and version:

* ``page`` — one page by ``OFFSET`` (bound) and ``LIMIT`` (written in);
* ``after`` — one page after a *keyset anchor* (the sort key of the previous page's last row):
  read in index order from the anchor, it costs the same on page 150 as on page 1;
* ``map`` — the total and every page's anchor in one pass (``row_number()`` over the sort,
  keeping each ``per_page``-th row), which the service caches under the listing's tags; a
  deep page then never scans what it skips;
* ``count`` — only the total, for sorts that cannot be keyed (a JSONB field may be empty).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from psycopg.types.json import Jsonb
from sqlalchemy import (
    ARRAY,
    BigInteger,
    BindParameter,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    Text,
    Uuid,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import FromClause
from sqlalchemy.types import TypeEngine

from trovato.caches import BytesLRU
from trovato.content.access import VisibilityScope, scope_condition
from trovato.content.statements import item_columns, item_source, search_config
from trovato.db.compiled import sql_text
from trovato.db.tables import CATEGORY_TAG, CATEGORY_TAG_HIERARCHY, CATEGORY_VOCABULARY, USERS
from trovato.gather.definition import Base, Kind
from trovato.gather.fields import SEARCH_FIELD, TAG_FIELDS, USER_FIELDS, FieldSpec, Target
from trovato.gather.resolution import Condition, Group, Relationship, Resolved
from trovato.gather.values import Relative
from trovato.stages import stage_condition

_hierarchy = CATEGORY_TAG_HIERARCHY

_SQL_TYPES: Final[dict[Kind, Callable[[], TypeEngine[Any]]]] = {
    "text": Text, "int": BigInteger, "decimal": Numeric, "float": Float, "bool": Boolean,
    "date": Date, "datetime": lambda: DateTime(timezone=True), "uuid": Uuid, "tag": Uuid,
}


def sql_type(kind: Kind) -> TypeEngine[Any]:
    return _SQL_TYPES[kind]()


@dataclass(frozen=True, slots=True)
class Shape:
    """What shapes the SQL text of one run besides the definition: the stage view's shape,
    the reader's visibility scope, which exposed filters have a value, whether teasers leave
    the fields out, and the page size."""

    live: bool
    scope: VisibilityScope
    present: frozenset[int]
    teasers: bool
    per_page: int
    anonymous: bool  # ``current_user`` matches nothing for the anonymous user
    users_admin: bool = False  # the reader administers users (may read a user's mail)


@dataclass(frozen=True, slots=True)
class Plan:
    """The statements of one shape (module docstring); ``after`` and ``map`` are None when
    the sort cannot be keyed."""

    page: str
    after: str | None
    map: str | None
    count: str
    keys: int  # sort key columns (the id last) in ``map`` rows and ``after`` parameters


# -- sources -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sources:
    """The FROM of one statement: the base's rows under its alias, each relationship's
    joined rows (by relationship index) and the join of them all."""

    base: FromClause
    joined: tuple[FromClause, ...]
    tables: FromClause

    def of(self, spec: FieldSpec) -> FromClause:
        """The rows ``spec`` is read from."""
        return self.base if spec.relation is None else self.joined[spec.relation]


def _tags(name: str) -> FromClause:
    """Tags with their vocabulary's machine name (the columns of :data:`TAG_FIELDS`)."""
    t, v = CATEGORY_TAG.alias(f"{name}_t"), CATEGORY_VOCABULARY.alias(f"{name}_v")
    return (select(t.c.id, t.c.name, t.c.slug, v.c.machine_name.label("vocabulary"),
                   t.c.description, t.c.weight, t.c.stage_id)
            .select_from(t.join(v, v.c.id == t.c.vocabulary_id)).subquery(name))


def _rows_of(target: Base | Target, live: bool, name: str) -> FromClause:
    if target == "user":
        return USERS.alias(name)
    if target == "tag":
        return _tags(name)
    return item_source(live, name)


def visible(target: Base | Target, shape: Shape, r: FromClause) -> ColumnElement[bool]:
    """What a reader may see of ``target``'s rows ``r``: items under the item query path's
    stage and access rules, active users only, tags of the stage chain."""
    if target == "user":
        return r.c.status == literal_column("1")
    if target == "tag":
        return stage_condition(shape.live, r.c.stage_id)
    return and_(stage_condition(shape.live, r.c.stage_id), scope_condition(shape.scope, r))


def _reference(base: FromClause, relationship: Relationship) -> ColumnElement[Any]:
    """The id the base row's reference holds (NULL when it holds none)."""
    spec = relationship.reference
    if spec.column is not None:
        return base.c[spec.column]
    return cast(_text_of(base.c.fields, spec), Uuid)


def sources(resolved: Resolved, shape: Shape, name: str) -> Sources:
    """The base's rows as ``name`` joined to each relationship's (``<name>_r<n>``): a left
    join whose columns are NULL where the reader may not see the record, or an inner join
    for a required relationship."""
    base = _rows_of(resolved.base, shape.live, name)
    tables = base
    joined: list[FromClause] = []
    for relationship in resolved.relationships:
        r = _rows_of(relationship.target, shape.live, f"{name}_r{relationship.index}")
        on = and_(r.c.id == _reference(base, relationship),
                  visible(relationship.target, shape, r))
        tables = tables.join(r, on) if relationship.required else tables.outerjoin(r, on)
        joined.append(r)
    return Sources(base, tuple(joined), tables)


def record_names(resolved: Resolved, shape: Shape) -> list[str]:
    """The columns of a user or tag base row, by name (a mail only for an administrator of
    users); none for items (:func:`item_columns` has its own order)."""
    if resolved.base == "user":
        return [name for name, spec in USER_FIELDS.items()
                if shape.users_admin or not spec.private]
    return list(TAG_FIELDS) if resolved.base == "tag" else []


def row_columns(resolved: Resolved, shape: Shape, src: Sources) -> list[ColumnElement[Any]]:
    """A row's columns: the base's (an item's in :func:`item_columns`' order, else its public
    record), then each relationship's record id (for cache tags and votes), then each field
    read through a relationship (a JSONB field as stored)."""
    if resolved.base == "item":
        columns = item_columns(src.base, teasers=shape.teasers)
    else:
        columns = [src.base.c[name] for name in record_names(resolved, shape)]
    columns += [r.c.id.label(f"r{n}") for n, r in enumerate(src.joined)]
    for n, spec in enumerate(resolved.related_columns()):
        r = src.of(spec)
        value = r.c[spec.column] if spec.column is not None else \
            r.c.fields.op("->")(literal_column(f"'{spec.key}'"))
        columns.append(value.label(f"c{n}"))
    return columns


# -- expressions ---------------------------------------------------------------------------------


def _text_of(fields: ColumnElement[Any], spec: FieldSpec) -> ColumnElement[Any]:
    """``fields -> 'key' ->> 'prop'`` (identifiers from the registry, written in)."""
    assert spec.key is not None
    return fields.op("->")(literal_column(f"'{spec.key}'")).op("->>", return_type=Text)(
        literal_column(f"'{spec.prop}'"))


def _typed(text: ColumnElement[Any], kind: Kind) -> ColumnElement[Any]:
    return text if kind == "text" else cast(text, sql_type(kind))


def _elements(fields: ColumnElement[Any], spec: FieldSpec, name: str) -> FromClause:
    """The value objects of a multi-valued field, whether stored as a list or (written while
    the field had one value) as one object."""
    assert spec.key is not None
    raw = fields.op("->")(literal_column(f"'{spec.key}'"))
    as_list = func.coalesce(
        func.jsonb_path_query_array(raw, literal_column("'$[*]'")), literal_column("'[]'::jsonb"))
    return func.jsonb_array_elements(as_list).table_valued("value").alias(name)


def _element_value(v: FromClause, spec: FieldSpec, kind: Kind) -> ColumnElement[Any]:
    """The typed property of one value object of a multi-valued field."""
    return _typed(v.c.value.op("->>", return_type=Text)(literal_column(f"'{spec.prop}'")), kind)


def value_expression(i: FromClause, spec: FieldSpec) -> ColumnElement[Any]:
    """The typed value of a single-valued field (or base column) on the row ``i``."""
    if spec.column is not None:
        return i.c[spec.column]
    return _typed(_text_of(i.c.fields, spec), spec.kind)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(op: str, text: str) -> str:
    """The ``ILIKE`` pattern of ``contains``/``starts_with``/``ends_with`` (wildcards in the
    visitor's text escaped: they match themselves)."""
    escaped = _escape_like(text)
    return {"contains": f"%{escaped}%", "starts_with": f"{escaped}%",
            "ends_with": f"%{escaped}"}[op]


def _param(cond: Condition, kind: Kind, *, many: bool = False) -> BindParameter[Any]:
    name = f"f{cond.index}"
    return bindparam(name, type_=ARRAY(sql_type(kind)) if many else sql_type(kind))


def _literal_value(cond: Condition) -> ColumnElement[Any] | None:
    """A base int or flag column's fixed value, written in (module docstring)."""
    if cond.exposed or cond.spec.column is None or cond.op not in ("equals", "not_equals"):
        return None
    if cond.spec.kind == "bool" and isinstance(cond.value, bool):
        return true() if cond.value else false()
    if cond.spec.kind == "int" and isinstance(cond.value, int):
        return literal_column(str(int(cond.value)))
    return None


def _compare(x: ColumnElement[Any], cond: Condition) -> ColumnElement[bool]:
    """``x`` (a typed value, never NULL here) against the condition's bound value."""
    op, kind = cond.op, cond.spec.kind
    if op in ("contains", "starts_with", "ends_with"):
        return x.ilike(bindparam(f"f{cond.index}", type_=Text), escape="\\")
    if op == "fulltext":
        return func.to_tsvector(search_config(), x).op("@@")(
            func.plainto_tsquery(search_config(), bindparam(f"f{cond.index}", type_=Text)))
    if op == "between":
        return x.between(bindparam(f"f{cond.index}_0", type_=sql_type(kind)),
                         bindparam(f"f{cond.index}_1", type_=sql_type(kind)))
    if op in ("in", "not_in"):
        return x == any_(_param(cond, kind, many=True))
    fixed = _literal_value(cond)
    right: ColumnElement[Any] = fixed if fixed is not None else _param(cond, kind)
    if op == "lt":
        return x < right
    if op == "lte":
        return x <= right
    if op == "gt":
        return x > right
    if op == "gte":
        return x >= right
    return x == right  # equals, has_tag (single-valued)


def _descendants(cond: Condition) -> Select[Any]:
    """The tag and every tag below it (a recursive CTE over the multi-parent hierarchy;
    UNION ends it even on a cycle)."""
    start = select(bindparam(f"f{cond.index}", type_=Uuid).label("id"))
    tree = start.cte(f"tags_{cond.index}", recursive=True)
    below = select(_hierarchy.c.tag_id).join(tree, _hierarchy.c.parent_id == tree.c.id)
    tree = tree.union(below)
    return select(tree.c.id)


def _condition(src: Sources, cond: Condition, shape: Shape) -> ColumnElement[bool]:
    spec, op = cond.spec, cond.op
    i = src.of(spec)
    if op == "current_user":
        if shape.anonymous:
            return false()
        viewer = bindparam("current_user", type_=Uuid)
        if spec.multiple:
            v = _elements(i.c.fields, spec, f"v{cond.index}")
            return exists().select_from(v).where(_element_value(v, spec, "uuid") == viewer)
        return value_expression(i, spec) == viewer
    if spec.name == SEARCH_FIELD:
        # The site search's words (its language, its GIN index; in a stage, the overlay's).
        return i.c.search_vector.op("@@")(func.plainto_tsquery(
            search_config(), bindparam(f"f{cond.index}", type_=Text)))
    if spec.multiple:
        v = _elements(i.c.fields, spec, f"v{cond.index}")
        x = _element_value(v, spec, spec.kind)
        if op == "is_null":
            return ~exists().select_from(v).where(x.is_not(None))
        if op == "is_not_null":
            return exists().select_from(v).where(x.is_not(None))
        if op == "has_tag":
            # Containment, which the ``jsonb_path_ops`` GIN index answers.
            return i.c.fields.op("@>")(bindparam(f"f{cond.index}", type_=JSONB))
        if op == "has_tag_or_descendants":
            return exists().select_from(v).where(x.in_(_descendants(cond)))
        if op in ("not_equals", "not_in"):
            positive = _compare(x, _flipped(cond))
            return ~exists().select_from(v).where(positive)
        return exists().select_from(v).where(_compare(x, cond))
    x = value_expression(i, spec)
    if op == "is_null":
        return x.is_(None) if spec.nullable else false()
    if op == "is_not_null":
        return x.is_not(None) if spec.nullable else true()
    if op == "has_tag_or_descendants":
        return x.in_(_descendants(cond))
    if op == "not_equals":
        fixed = _literal_value(cond)
        return x.is_distinct_from(fixed if fixed is not None else _param(cond, spec.kind))
    if op == "not_in":
        inside = x == any_(_param(cond, spec.kind, many=True))
        return or_(x.is_(None), not_(inside)) if spec.nullable else not_(inside)
    return _compare(x, cond)


def _flipped(cond: Condition) -> Condition:
    """``not_equals``/``not_in`` as the positive test whose absence they mean."""
    op = "equals" if cond.op == "not_equals" else "in"
    return Condition(cond.index, cond.where, cond.spec, op, cond.value, cond.exposed,
                     cond.label, cond.options)


def _group(src: Sources, group: Group, shape: Shape) -> ColumnElement[bool] | None:
    parts: list[ColumnElement[bool]] = []
    for part in group.parts:
        if isinstance(part, Group):
            inner = _group(src, part, shape)
            if inner is not None:
                parts.append(inner)
        elif part.value is not None or part.op in ("is_null", "is_not_null", "current_user") \
                or part.index in shape.present:
            parts.append(_condition(src, part, shape))
    if not parts:
        return None
    return and_(*parts) if group.conjunction == "and" else or_(*parts)


def where_clause(resolved: Resolved, shape: Shape, src: Sources) -> ColumnElement[bool]:
    """The definition's conditions with the read path's stage and visibility rules (or
    those of the user or tag base)."""
    conditions = [visible(resolved.base, shape, src.base)]
    own = _group(src, resolved.where, shape)
    if own is not None:
        conditions.append(own)
    return and_(*conditions)


_DEFAULT_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "item": ("created",), "user": ("name",), "tag": ("weight", "name")}


def order_keys(resolved: Resolved, src: Sources
               ) -> list[tuple[ColumnElement[Any], bool, bool]]:
    """(expression, descending, nullable) per sort key, the id last as the tie-breaker in the
    last sort's direction (so the front page's order is one index's order). No sort means
    newest first (items), by name (users) or by weight (tags)."""
    i = src.base
    default: list[tuple[ColumnElement[Any], bool, bool]] = [
        (i.c[name], resolved.base == "item", False)
               for name in _DEFAULT_ORDER[resolved.base]]
    keys: list[tuple[ColumnElement[Any], bool, bool]] = [
        (value_expression(src.of(o.spec), o.spec), o.descending, o.spec.nullable)
        for o in resolved.sorts] or default
    keys.append((i.c.id, keys[-1][1], False))
    return keys


def keyable(resolved: Resolved) -> bool:
    """Whether the order can be keyed (every sort a base column, which is never NULL; not a
    joined record's, which may be)."""
    return all(not o.spec.nullable for o in resolved.sorts)


def _order_by(keys: list[tuple[ColumnElement[Any], bool, bool]]) -> list[ColumnElement[Any]]:
    order: list[ColumnElement[Any]] = []
    for expression, descending, nullable in keys:
        term = expression.desc() if descending else expression.asc()
        order.append(term.nulls_last() if nullable else term)
    return order


def _after(keys: list[tuple[ColumnElement[Any], bool, bool]]) -> ColumnElement[bool]:
    """Rows strictly after the anchor ``k0…kn`` in the order of ``keys``: one row comparison
    when every key runs the same way (an index range), else the expanded form."""
    anchors = [bindparam(f"k{n}", type_=expression.type) for n, (expression, _, _)
               in enumerate(keys)]
    if len({descending for _, descending, _ in keys}) == 1:
        left, right = tuple_(*[k[0] for k in keys]), tuple_(*anchors)
        return left < right if keys[0][1] else left > right
    terms = []
    for n, (expression, descending, _) in enumerate(keys):
        equal = [keys[m][0] == anchors[m] for m in range(n)]
        beyond = expression < anchors[n] if descending else expression > anchors[n]
        terms.append(and_(*equal, beyond))
    return or_(*terms)


def compile_plan(resolved: Resolved, shape: Shape) -> Plan:
    """The statements of ``resolved`` in ``shape`` (module docstring)."""
    i = sources(resolved, shape, "i")
    where = where_clause(resolved, shape, i)
    keys = order_keys(resolved, i)
    rows = select(*row_columns(resolved, shape, i)).select_from(i.tables).where(where)
    limit: ColumnElement[Any] = literal_column(str(int(shape.per_page)))
    page = rows.order_by(*_order_by(keys)).limit(limit).offset(
        bindparam("offset", type_=Integer))
    n = sources(resolved, shape, "n")
    count = select(func.count()).select_from(n.tables).where(where_clause(resolved, shape, n))
    after: str | None = None
    mapping: str | None = None
    if keyable(resolved):
        after = sql_text(rows.where(_after(keys)).order_by(*_order_by(keys)).limit(limit))
        m = sources(resolved, shape, "m")
        m_keys = order_keys(resolved, m)
        numbered = select(
            *[expression.label(f"k{n}") for n, (expression, _, _) in enumerate(m_keys)],
            func.row_number().over(order_by=_order_by(m_keys)).label("rn"),
            func.count().over().label("total"),
        ).select_from(m.tables).where(where_clause(resolved, shape, m)).subquery("numbered")
        mapping = sql_text(
            select(*[numbered.c[f"k{n}"] for n in range(len(m_keys))], numbered.c.rn,
                   numbered.c.total)
            .where(or_(numbered.c.rn % limit == literal_column("0"),
                       numbered.c.rn == literal_column("1")))
            .order_by(numbered.c.rn))
    return Plan(page=sql_text(page), after=after, map=mapping, count=sql_text(count),
                keys=len(keys))


# -- parameters ----------------------------------------------------------------------------------


def _bound(value: Any, now: datetime, kind: Kind) -> Any:
    if isinstance(value, Relative):
        return value.resolve(now, kind)
    if isinstance(value, Decimal) and kind == "float":
        return float(value)
    return value


def parameters(resolved: Resolved, shape: Shape, values: dict[int, Any], *,
               viewer: uuid.UUID, now: datetime) -> dict[str, Any]:
    """The bound values of a run: each condition's (``values`` overrides the definition's for
    exposed filters, by condition index), the viewer for ``current_user`` and the
    visibility scope. The stage's are the caller's (:func:`trovato.stages.stage_params`)."""
    params: dict[str, Any] = {}
    if shape.scope == "published_or_own":
        params["viewer"] = viewer
    for cond in resolved.conditions():
        if cond.op == "current_user":
            params["current_user"] = viewer
            continue
        value = values.get(cond.index, cond.value)
        if value is None or _literal_value(cond) is not None:
            continue
        kind = cond.spec.kind
        name = f"f{cond.index}"
        if cond.op in ("contains", "starts_with", "ends_with"):
            params[name] = like_pattern(cond.op, value)
        elif cond.op == "between":
            params[f"{name}_0"], params[f"{name}_1"] = (_bound(v, now, kind) for v in value)
        elif cond.op in ("in", "not_in"):
            params[name] = [_bound(v, now, kind) for v in value]
        elif cond.op == "has_tag" and cond.spec.multiple:
            assert cond.spec.key is not None
            params[name] = Jsonb({cond.spec.key: [{"target_id": str(value)}]})
        else:
            params[name] = _bound(value, now, kind)
    return params


def anchor_parameters(anchor: tuple[Any, ...]) -> dict[str, Any]:
    return {f"k{n}": value for n, value in enumerate(anchor)}


# -- the memo ------------------------------------------------------------------------------------

PlanKey = tuple[str, int, Shape, int]
_Texts = tuple[str, str | None, str | None, str, int]


class Plans:
    """Compiled statements per (definition name, version, shape, resolution), bounded in
    bytes: a definition's new version compiles anew, the old entries age out."""

    def __init__(self, max_bytes: int = 4 * 1024 * 1024) -> None:
        self._memo: BytesLRU[PlanKey, _Texts] = BytesLRU("gather_plans", max_bytes=max_bytes)

    def get(self, resolved: Resolved, version: int, shape: Shape, resolution: int) -> Plan:
        key = (resolved.name, version, shape, resolution)
        texts = self._memo.get(key)
        if texts is None:
            plan = compile_plan(resolved, shape)
            self._memo.put(key, (plan.page, plan.after, plan.map, plan.count, plan.keys))
            return plan
        return Plan(*texts)


__all__ = [
    "Plan",
    "Plans",
    "Shape",
    "anchor_parameters",
    "compile_plan",
    "keyable",
    "like_pattern",
    "parameters",
    "record_names",
    "row_columns",
    "sources",
    "sql_type",
    "value_expression",
]
