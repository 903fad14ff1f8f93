"""Search vectors only for a stage's edits, and an item's computed again only when its text changed.

Site search reads ``item.search_vector``; a revision's own vector is read only by the stage
overlay, for the revision a stage's edit points at (``stage_association.target_revision_id``).
Such a revision is always written in another stage than its item's row (a stage edits an item
from upstream), so the revision trigger computes the vector only for those, and leaves it NULL
for every revision of the item's own row (every live save): that was half of the search
triggers' cost of a save. The overlay computes the vector of any edit that has none
(:func:`trovato.content.statements.item_source`), so rows written some other way still match.

The item trigger no longer recomputes the vector of an update that leaves the title, the
fields and the type as they were (a save changing only the publishing options, or nothing),
and ``trovato_search_vector`` is PL/pgSQL, whose plan a connection keeps (the SQL function's
was made again on every save).

The upgrade clears the vectors 0014 gave the revisions that are not stage edits.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The vector of one item, as 0014 computes it, in PL/pgSQL: a trigger calling 0014's SQL function
# planned its query again on every save; PL/pgSQL keeps the plan for the connection's life.
VECTOR_PLPGSQL = r"""
CREATE OR REPLACE FUNCTION trovato_search_vector(bundle text, title text, fields jsonb)
RETURNS tsvector LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT setweight(to_tsvector('simple', coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(
               string_agg(p.body, ' ') FILTER (WHERE p.weight = 'A'), '')), 'A')
        || setweight(to_tsvector('simple', coalesce(
               string_agg(p.body, ' ') FILTER (WHERE p.weight = 'B'), '')), 'B')
        || setweight(to_tsvector('simple', coalesce(
               string_agg(p.body, ' ') FILTER (WHERE p.weight = 'C'), '')), 'C')
        || setweight(to_tsvector('simple', coalesce(
               string_agg(p.body, ' ') FILTER (WHERE p.weight = 'D'), '')), 'D')
        FROM trovato_search_parts(bundle, fields) AS p);
END
$$;
"""

VECTOR_SQL = r"""
CREATE OR REPLACE FUNCTION trovato_search_vector(bundle text, title text, fields jsonb)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('simple', coalesce($2, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(
               string_agg(body, ' ') FILTER (WHERE weight = 'A'), '')), 'A')
        || setweight(to_tsvector('simple', coalesce(
               string_agg(body, ' ') FILTER (WHERE weight = 'B'), '')), 'B')
        || setweight(to_tsvector('simple', coalesce(
               string_agg(body, ' ') FILTER (WHERE weight = 'C'), '')), 'C')
        || setweight(to_tsvector('simple', coalesce(
               string_agg(body, ' ') FILTER (WHERE weight = 'D'), '')), 'D')
    FROM trovato_search_parts($1, $3)
$$;
"""

UPGRADE = VECTOR_PLPGSQL + r"""
CREATE OR REPLACE FUNCTION trovato_revision_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner record;
BEGIN
    SELECT type, stage_id INTO owner FROM item WHERE id = NEW.item_id;
    IF owner.stage_id IS DISTINCT FROM NEW.stage_id THEN  -- a stage's edit
        NEW.search_vector := trovato_search_vector(owner.type, NEW.title, NEW.fields);
    ELSE
        NEW.search_vector := NULL;
    END IF;
    RETURN NEW;
END
$$;

-- A revision written in live is one of a live item's own (no stage is upstream of live): the
-- function is not even called for those.
DROP TRIGGER item_revision_search_vector ON item_revision;
CREATE TRIGGER item_revision_search_vector BEFORE INSERT OR UPDATE OF title, fields
    ON item_revision FOR EACH ROW WHEN (NEW.stage_id <> 'live')
    EXECUTE FUNCTION trovato_revision_search_vector();

DROP TRIGGER item_search_vector ON item;
CREATE TRIGGER item_search_vector BEFORE INSERT ON item
    FOR EACH ROW EXECUTE FUNCTION trovato_item_search_vector();
CREATE TRIGGER item_search_vector_changed BEFORE UPDATE OF type, title, fields ON item
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title
                       OR OLD.fields IS DISTINCT FROM NEW.fields
                       OR OLD.type IS DISTINCT FROM NEW.type)
    EXECUTE FUNCTION trovato_item_search_vector();

UPDATE item_revision AS r SET search_vector = NULL FROM item AS i
    WHERE i.id = r.item_id AND r.stage_id = i.stage_id AND r.search_vector IS NOT NULL;
"""

DOWNGRADE = VECTOR_SQL + r"""
DROP TRIGGER item_search_vector_changed ON item;
DROP TRIGGER item_search_vector ON item;
CREATE TRIGGER item_search_vector BEFORE INSERT OR UPDATE OF type, title, fields ON item
    FOR EACH ROW EXECUTE FUNCTION trovato_item_search_vector();

DROP TRIGGER item_revision_search_vector ON item_revision;
CREATE OR REPLACE FUNCTION trovato_revision_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := trovato_search_vector(
        (SELECT type FROM item WHERE id = NEW.item_id), NEW.title, NEW.fields);
    RETURN NEW;
END
$$;
CREATE TRIGGER item_revision_search_vector BEFORE INSERT OR UPDATE OF title, fields
    ON item_revision FOR EACH ROW EXECUTE FUNCTION trovato_revision_search_vector();

UPDATE item_revision AS r SET search_vector = trovato_search_vector(i.type, r.title, r.fields)
    FROM item AS i WHERE i.id = r.item_id AND r.search_vector IS NULL;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
