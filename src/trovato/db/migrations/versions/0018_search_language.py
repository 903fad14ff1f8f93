"""The search language, and an item's field words kept apart from its title's.

**Language.** Search vectors and queries were built with the ``simple`` configuration (words
as written: "plugin" did not find "Plugins"). The site now names the text search
configuration in one place, the one row of ``search_setting`` (``english`` for new sites and
upgraded ones), which ``trovato_search_config()`` reads for every vector the triggers compute
and every query and snippet (:meth:`trovato.search.Search.set_language` changes it and
reindexes). A ``regconfig`` column: only an existing configuration can be stored.

**Cheaper saves.** ``to_tsvector`` over the fields' text was the largest database cost of a
save, and 0015's trigger ran it whenever the title or the fields changed. The fields' part of
the vector is now kept in ``item.search_fields``; the trigger builds ``search_vector`` as the
title's part (cheap) ``||`` that column, and computes the column again only when a field
holding searched text (a text, long text, link or image field: ``trovato_search_parts``'
types) has another value (``trovato_search_fields_changed``, asked only when ``fields``
changed at all) or the type changed. The vector is the one
0015 computed: tsvector concatenation shifts the right side's positions past the left's, so
``title || (A || B || C || D)`` is ``title || A || B || C || D``, and ranking sees the same
positions and weights. ``search_fields`` set to NULL asks the trigger to compute both parts
again: that is how a reindex rewrites a row.

Gather's ``search`` field now matches ``search_vector`` (the words and language of the site
search, and the GIN index every site has) instead of its own document, whose expression index
(``gather_search_idx``) named the configuration as a constant: the upgrade drops that index.

The upgrade computes every item's vector and every stage edit's in English; the downgrade goes
back to ``simple`` and 0015's trigger (and recomputes the vectors).

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Which revisions have a vector: only a stage's edit (0015's rule, the search service's).
REVISIONS = r"""
UPDATE item_revision AS r SET search_vector = trovato_search_vector(i.type, r.title, r.fields)
    FROM item AS i WHERE i.id = r.item_id AND r.stage_id <> i.stage_id;
"""

UPGRADE = r"""
CREATE TABLE search_setting (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),  -- one row
    language regconfig NOT NULL
);
INSERT INTO search_setting (language) VALUES ('english');

-- PL/pgSQL, as the functions below: a connection keeps their plans (a SQL function that reads
-- a table is planned again on every call, which a trigger pays on every save).
CREATE FUNCTION trovato_search_config() RETURNS regconfig LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT language FROM search_setting);
END
$$;

-- The fields' part of an item's vector: their searched text, by weight.
CREATE FUNCTION trovato_search_fields_vector(bundle text, fields jsonb)
RETURNS tsvector LANGUAGE plpgsql STABLE AS $$
DECLARE
    config regconfig := trovato_search_config();
BEGIN
    RETURN (SELECT setweight(to_tsvector(config, coalesce(
                       string_agg(p.body, ' ') FILTER (WHERE p.weight = 'A'), '')), 'A')
                || setweight(to_tsvector(config, coalesce(
                       string_agg(p.body, ' ') FILTER (WHERE p.weight = 'B'), '')), 'B')
                || setweight(to_tsvector(config, coalesce(
                       string_agg(p.body, ' ') FILTER (WHERE p.weight = 'C'), '')), 'C')
                || setweight(to_tsvector(config, coalesce(
                       string_agg(p.body, ' ') FILTER (WHERE p.weight = 'D'), '')), 'D')
            FROM trovato_search_parts(bundle, fields) AS p);
END
$$;

CREATE FUNCTION trovato_search_title(title text) RETURNS tsvector LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN setweight(to_tsvector(trovato_search_config(), coalesce(title, '')), 'A');
END
$$;

CREATE OR REPLACE FUNCTION trovato_search_vector(bundle text, title text, fields jsonb)
RETURNS tsvector LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN trovato_search_title(title)
        || trovato_search_fields_vector(bundle, fields);
END
$$;

ALTER TABLE item ADD COLUMN search_fields tsvector;

-- Whether a field holding searched text (trovato_search_parts' field types) has another value:
-- a compare per such field of the item, instead of extracting the old text to compare.
CREATE FUNCTION trovato_search_fields_changed(old_fields jsonb, new_fields jsonb)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT FROM jsonb_object_keys(old_fields || new_fields) AS k(name)
                   JOIN field_config AS c ON c.field_name = k.name
                   WHERE c.field_type IN ('text', 'text_long', 'link', 'image')
                     AND old_fields -> k.name IS DISTINCT FROM new_fields -> k.name);
END
$$;

CREATE OR REPLACE FUNCTION trovato_item_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.search_fields IS NULL THEN
        NEW.search_fields := trovato_search_fields_vector(NEW.type, NEW.fields);
    ELSIF NEW.type IS DISTINCT FROM OLD.type
          OR (NEW.fields IS DISTINCT FROM OLD.fields
              AND trovato_search_fields_changed(OLD.fields, NEW.fields)) THEN
        NEW.search_fields := trovato_search_fields_vector(NEW.type, NEW.fields);
    END IF;
    NEW.search_vector := trovato_search_title(NEW.title) || NEW.search_fields;
    RETURN NEW;
END
$$;

DROP TRIGGER item_search_vector_changed ON item;
CREATE TRIGGER item_search_vector_changed BEFORE UPDATE OF type, title, fields, search_fields
    ON item FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title
                               OR OLD.fields IS DISTINCT FROM NEW.fields
                               OR OLD.type IS DISTINCT FROM NEW.type
                               OR NEW.search_fields IS NULL)
    EXECUTE FUNCTION trovato_item_search_vector();

DROP INDEX IF EXISTS gather_search_idx;

UPDATE item SET search_fields = NULL;
""" + REVISIONS

DOWNGRADE = r"""
DROP TRIGGER item_search_vector_changed ON item;
CREATE TRIGGER item_search_vector_changed BEFORE UPDATE OF type, title, fields ON item
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title
                       OR OLD.fields IS DISTINCT FROM NEW.fields
                       OR OLD.type IS DISTINCT FROM NEW.type)
    EXECUTE FUNCTION trovato_item_search_vector();

CREATE OR REPLACE FUNCTION trovato_item_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := trovato_search_vector(NEW.type, NEW.title, NEW.fields);
    RETURN NEW;
END
$$;

ALTER TABLE item DROP COLUMN search_fields;

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

DROP FUNCTION trovato_search_fields_changed(jsonb, jsonb);
DROP FUNCTION trovato_search_title(text);
DROP FUNCTION trovato_search_fields_vector(text, jsonb);
DROP FUNCTION trovato_search_config();
DROP TABLE search_setting;

UPDATE item SET search_vector = trovato_search_vector(type, title, fields);
""" + REVISIONS


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
