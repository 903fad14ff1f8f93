"""Search vectors kept current by the database: ``item.search_vector`` and, for the stage
overlay, ``item_revision.search_vector``.

A trigger on each table computes the vector on every insert and on every update of the title
or the fields (and of an item's type), whichever code path writes the row — item saves, stage
edits, publishing, bulk operations — so no writer has to remember search. The document: the
title at weight A, then the text of each field at the weight ``search_field_config`` gives
its type's field, or D when none is given. D is what PostgreSQL gives unweighted text: a field
nobody configured counts as plain body text, and configuring a field can only raise it.

Which values are text: the ``value`` of text and long-text fields, a link's ``title``, an
image's ``alt`` and ``title`` (never ids, URIs, formats, numbers or dates). Words are read as
written (the ``simple`` configuration), whatever the site's language, as Gather's full-text
filter reads them. ``trovato_search_text`` is the same text, HTML tags removed, most heavily
weighted first: what search result snippets are cut from.

A change of weights or of a field's type does not rewrite stored vectors:
``trovato search reindex`` does. The upgrade fills every existing row.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE item_revision ADD COLUMN search_vector tsvector;

CREATE FUNCTION trovato_search_parts(bundle text, fields jsonb)
RETURNS TABLE (weight "char", body text) LANGUAGE sql STABLE AS $$
    SELECT coalesce(s.weight, 'D')::"char", v.value #>> '{}'
    FROM jsonb_each(fields) AS f(name, value)
    JOIN field_config AS c ON c.field_name = f.name
    JOIN (VALUES ('text', '$[*].value'), ('text_long', '$[*].value'), ('link', '$[*].title'),
                 ('image', '$[*].alt'), ('image', '$[*].title')) AS p(field_type, path)
      ON p.field_type = c.field_type
    LEFT JOIN search_field_config AS s ON s.bundle = $1 AND s.field_name = f.name
    CROSS JOIN LATERAL jsonb_path_query(f.value, p.path::jsonpath) AS v(value)
    WHERE jsonb_typeof(v.value) = 'string'
$$;

CREATE FUNCTION trovato_search_vector(bundle text, title text, fields jsonb)
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

CREATE FUNCTION trovato_search_text(bundle text, fields jsonb)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(string_agg(regexp_replace(body, '<[^>]*>', ' ', 'g'), ' '
                               ORDER BY weight), '')
    FROM trovato_search_parts($1, $2)
$$;

CREATE FUNCTION trovato_item_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := trovato_search_vector(NEW.type, NEW.title, NEW.fields);
    RETURN NEW;
END
$$;

CREATE FUNCTION trovato_revision_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := trovato_search_vector(
        (SELECT type FROM item WHERE id = NEW.item_id), NEW.title, NEW.fields);
    RETURN NEW;
END
$$;

CREATE TRIGGER item_search_vector BEFORE INSERT OR UPDATE OF type, title, fields ON item
    FOR EACH ROW EXECUTE FUNCTION trovato_item_search_vector();
CREATE TRIGGER item_revision_search_vector BEFORE INSERT OR UPDATE OF title, fields
    ON item_revision FOR EACH ROW EXECUTE FUNCTION trovato_revision_search_vector();

UPDATE item SET search_vector = trovato_search_vector(type, title, fields);
UPDATE item_revision AS r SET search_vector = trovato_search_vector(i.type, r.title, r.fields)
    FROM item AS i WHERE i.id = r.item_id;
"""

DOWNGRADE = """
DROP TRIGGER item_revision_search_vector ON item_revision;
DROP TRIGGER item_search_vector ON item;
DROP FUNCTION trovato_revision_search_vector();
DROP FUNCTION trovato_item_search_vector();
DROP FUNCTION trovato_search_text(text, jsonb);
DROP FUNCTION trovato_search_vector(text, text, jsonb);
DROP FUNCTION trovato_search_parts(text, jsonb);
ALTER TABLE item_revision DROP COLUMN search_vector;
UPDATE item SET search_vector = NULL;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
