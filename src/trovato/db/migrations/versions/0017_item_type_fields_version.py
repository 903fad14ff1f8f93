"""Item types count the changes to their fields (``item_type.fields_version``), and the site
counts the changes to field storage (``field_storage_version``).

An edit is validated against the type as this process has it cached, and its write is guarded
against a type changed meanwhile (in any process, before this one heard of it). The guard
compared the type's field names, so a change that kept the names — a field's settings (a
lower maximum, fewer allowed values), its required flag, its storage's cardinality — let a
value validated against the old definition be written. The counts move on with every such
change, made by triggers so that no path that writes field definitions can forget them:

* a field instance of the type added, removed or changed: the type's count (an upsert that
  changes nothing leaves it, as a type saved again as it was must not refuse the edits open on
  it);
* a field's storage (``field_config``, shared by every type using the name) changed: the
  site's one storage count. Bumping the count of every type using the field instead would
  lock those types' rows from inside another type's change, which holds its own: two such
  changes at once would deadlock. Storage changes are rare; an edit open meanwhile on any type
  is asked to save again.

The guard compares both counts (two one-row reads) instead of aggregating the names.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE item_type ADD COLUMN fields_version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION trovato_instance_fields_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
        RETURN NULL;
    END IF;
    UPDATE item_type SET fields_version = fields_version + 1
        WHERE type IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.bundle END,
                       CASE WHEN TG_OP <> 'DELETE' THEN NEW.bundle END);
    RETURN NULL;
END
$$;
CREATE TRIGGER field_instance_fields_version
    AFTER INSERT OR UPDATE OR DELETE ON field_instance
    FOR EACH ROW EXECUTE FUNCTION trovato_instance_fields_changed();

CREATE TABLE field_storage_version (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO field_storage_version (id, version) VALUES (1, 1);

CREATE FUNCTION trovato_storage_fields_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE field_storage_version SET version = version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER field_config_fields_version
    AFTER UPDATE ON field_config
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW)
    EXECUTE FUNCTION trovato_storage_fields_changed();
"""

DOWNGRADE = r"""
DROP TRIGGER field_config_fields_version ON field_config;
DROP FUNCTION trovato_storage_fields_changed();
DROP TABLE field_storage_version;
DROP TRIGGER field_instance_fields_version ON field_instance;
DROP FUNCTION trovato_instance_fields_changed();
ALTER TABLE item_type DROP COLUMN fields_version;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
