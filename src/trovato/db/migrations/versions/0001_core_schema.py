"""Core schema: users, access, content, stages, categories, site structure, files, system.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Well-known ids, identical in every installation so configuration moves between environments.
ANONYMOUS_USER = "00000000-0000-0000-0000-000000000000"
ANONYMOUS_ROLE = "00000000-0000-7000-8000-000000000001"
AUTHENTICATED_ROLE = "00000000-0000-7000-8000-000000000002"

UPGRADE = f"""
-- UUIDv7 for rows created inside SQL (Python creates most ids with trovato.ids.uuid7).
-- 48-bit Unix ms timestamp over a random v4 uuid, then flip the version nibble from 4 to 7.
CREATE FUNCTION trovato_uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                                FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

-- Users and access ---------------------------------------------------------------------------
CREATE TABLE users (
    id        uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    name      text NOT NULL,
    pass      text NOT NULL DEFAULT '',
    mail      text NOT NULL DEFAULT '',
    is_admin  boolean NOT NULL DEFAULT false,
    status    smallint NOT NULL DEFAULT 1,
    created   timestamptz NOT NULL DEFAULT now(),
    access    timestamptz,
    login     timestamptz,
    timezone  text NOT NULL DEFAULT 'UTC',
    language  text NOT NULL DEFAULT 'en',
    data      jsonb NOT NULL DEFAULT '{{}}'::jsonb
);
CREATE UNIQUE INDEX users_name_key ON users (lower(name));
CREATE INDEX users_mail_idx ON users (lower(mail));

CREATE TABLE role (
    id         uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    name       text NOT NULL UNIQUE,
    weight     integer NOT NULL DEFAULT 0,
    is_builtin boolean NOT NULL DEFAULT false
);

CREATE TABLE role_permission (
    role_id    uuid NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    permission text NOT NULL,
    module     text NOT NULL DEFAULT 'system',
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE users_roles (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id uuid NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX users_roles_role_idx ON users_roles (role_id);

CREATE TABLE api_token (
    id         uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label      text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    prefix     text NOT NULL,
    created    timestamptz NOT NULL DEFAULT now(),
    last_used  timestamptz,
    expires    timestamptz
);
CREATE INDEX api_token_user_idx ON api_token (user_id);

-- Stages -------------------------------------------------------------------------------------
CREATE TABLE stage (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
    label       text NOT NULL,
    upstream_id text REFERENCES stage (id),
    owner_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    created     timestamptz NOT NULL DEFAULT now(),
    visibility  text NOT NULL DEFAULT 'private'
);

-- Content ------------------------------------------------------------------------------------
CREATE TABLE item_type (
    type        text PRIMARY KEY CHECK (type ~ '^[a-z][a-z0-9_]*$'),
    label       text NOT NULL,
    description text NOT NULL DEFAULT '',
    has_title   boolean NOT NULL DEFAULT true,
    title_label text NOT NULL DEFAULT 'Title',
    plugin      text,
    settings    jsonb NOT NULL DEFAULT '{{}}'::jsonb
);

CREATE TABLE field_config (
    field_name  text PRIMARY KEY CHECK (field_name ~ '^[a-z][a-z0-9_]*$'),
    field_type  text NOT NULL,
    cardinality integer NOT NULL DEFAULT 1 CHECK (cardinality = -1 OR cardinality >= 1),
    settings    jsonb NOT NULL DEFAULT '{{}}'::jsonb
);

CREATE TABLE field_instance (
    field_name text NOT NULL REFERENCES field_config (field_name) ON DELETE CASCADE,
    bundle     text NOT NULL REFERENCES item_type (type) ON DELETE CASCADE ON UPDATE CASCADE,
    label      text NOT NULL,
    required   boolean NOT NULL DEFAULT false,
    weight     integer NOT NULL DEFAULT 0,
    widget     jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    display    jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    settings   jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    PRIMARY KEY (field_name, bundle)
);

CREATE TABLE item (
    id                  uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    current_revision_id uuid,
    type                text NOT NULL REFERENCES item_type (type) ON UPDATE CASCADE,
    title               text NOT NULL DEFAULT '',
    author_id           uuid NOT NULL REFERENCES users (id),
    status              smallint NOT NULL DEFAULT 1,
    promote             boolean NOT NULL DEFAULT false,
    sticky              boolean NOT NULL DEFAULT false,
    created             timestamptz NOT NULL DEFAULT now(),
    changed             timestamptz NOT NULL DEFAULT now(),
    fields              jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    search_vector       tsvector,
    stage_id            text NOT NULL DEFAULT 'live' REFERENCES stage (id)
);
CREATE INDEX item_fields_gin ON item USING gin (fields jsonb_path_ops);
CREATE INDEX item_search_gin ON item USING gin (search_vector);
CREATE INDEX item_type_status_created_idx ON item (type, status, created);
CREATE INDEX item_stage_idx ON item (stage_id);
CREATE INDEX item_author_idx ON item (author_id);
CREATE INDEX item_front_idx ON item (promote, sticky DESC, created DESC) WHERE status = 1;

CREATE TABLE item_revision (
    id        uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    item_id   uuid NOT NULL REFERENCES item (id) ON DELETE CASCADE,
    author_id uuid NOT NULL REFERENCES users (id),
    title     text NOT NULL DEFAULT '',
    status    smallint NOT NULL DEFAULT 1,
    fields    jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    created   timestamptz NOT NULL DEFAULT now(),
    log       text NOT NULL DEFAULT ''
);
CREATE INDEX item_revision_item_idx ON item_revision (item_id, created DESC);

CREATE TABLE stage_association (
    stage_id           text NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
    item_id            uuid NOT NULL REFERENCES item (id) ON DELETE CASCADE,
    target_revision_id uuid NOT NULL REFERENCES item_revision (id) ON DELETE CASCADE,
    base_revision_id   uuid REFERENCES item_revision (id) ON DELETE SET NULL,
    PRIMARY KEY (stage_id, item_id)
);

CREATE TABLE stage_deletion (
    stage_id    text NOT NULL REFERENCES stage (id) ON DELETE CASCADE,
    entity_type text NOT NULL,
    entity_id   uuid NOT NULL,
    deleted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stage_id, entity_type, entity_id)
);

-- Categories ---------------------------------------------------------------------------------
CREATE TABLE category_vocabulary (
    id           uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    machine_name text NOT NULL UNIQUE CHECK (machine_name ~ '^[a-z][a-z0-9_]*$'),
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    hierarchy    smallint NOT NULL DEFAULT 0,
    weight       integer NOT NULL DEFAULT 0
);

CREATE TABLE category_tag (
    id            uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    vocabulary_id uuid NOT NULL REFERENCES category_vocabulary (id) ON DELETE CASCADE,
    name          text NOT NULL,
    slug          text NOT NULL,
    description   text NOT NULL DEFAULT '',
    weight        integer NOT NULL DEFAULT 0,
    data          jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    stage_id      text NOT NULL DEFAULT 'live' REFERENCES stage (id),
    UNIQUE (vocabulary_id, slug, stage_id)
);

CREATE TABLE category_tag_hierarchy (
    tag_id    uuid NOT NULL REFERENCES category_tag (id) ON DELETE CASCADE,
    parent_id uuid NOT NULL REFERENCES category_tag (id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, parent_id),
    CHECK (tag_id <> parent_id)
);
CREATE INDEX category_tag_hierarchy_parent_idx ON category_tag_hierarchy (parent_id);

-- Site structure -----------------------------------------------------------------------------
CREATE TABLE gather_query (
    name       text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    label      text NOT NULL,
    definition jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    version    integer NOT NULL DEFAULT 1,
    plugin     text,
    changed    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE menu_link (
    id        uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    menu_name text NOT NULL,
    title     text NOT NULL,
    path      text NOT NULL,
    parent_id uuid REFERENCES menu_link (id) ON DELETE CASCADE,
    weight    integer NOT NULL DEFAULT 0,
    enabled   boolean NOT NULL DEFAULT true,
    plugin    text,
    stage_id  text NOT NULL DEFAULT 'live' REFERENCES stage (id),
    data      jsonb NOT NULL DEFAULT '{{}}'::jsonb
);
CREATE INDEX menu_link_menu_idx ON menu_link (menu_name, stage_id);

CREATE TABLE url_alias (
    id       uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    source   text NOT NULL,
    alias    text NOT NULL,
    language text NOT NULL DEFAULT 'und',
    stage_id text NOT NULL DEFAULT 'live' REFERENCES stage (id),
    UNIQUE (alias, language, stage_id)
);
CREATE INDEX url_alias_source_idx ON url_alias (source, stage_id);

CREATE TABLE redirect (
    id          uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    source      text NOT NULL UNIQUE,
    destination text NOT NULL,
    status_code smallint NOT NULL DEFAULT 301 CHECK (status_code IN (301, 302, 303, 307, 308)),
    created     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tile (
    id         uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    plugin     text NOT NULL,
    delta      text NOT NULL,
    theme      text NOT NULL,
    slot       text NOT NULL,
    weight     integer NOT NULL DEFAULT 0,
    status     boolean NOT NULL DEFAULT true,
    title      text NOT NULL DEFAULT '',
    visibility jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    settings   jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    stage_id   text NOT NULL DEFAULT 'live' REFERENCES stage (id)
);
CREATE INDEX tile_theme_slot_idx ON tile (theme, slot, stage_id);

-- Files and search ---------------------------------------------------------------------------
CREATE TABLE file_managed (
    id       uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    owner_id uuid REFERENCES users (id) ON DELETE SET NULL,
    filename text NOT NULL,
    uri      text NOT NULL UNIQUE,
    filemime text NOT NULL,
    filesize bigint NOT NULL CHECK (filesize >= 0),
    status   smallint NOT NULL DEFAULT 0,
    created  timestamptz NOT NULL DEFAULT now(),
    changed  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX file_managed_status_idx ON file_managed (status, changed);

CREATE TABLE file_usage (
    file_id     uuid NOT NULL REFERENCES file_managed (id) ON DELETE CASCADE,
    module      text NOT NULL,
    record_type text NOT NULL,
    record_id   uuid NOT NULL,
    count       integer NOT NULL DEFAULT 1 CHECK (count >= 0),
    PRIMARY KEY (file_id, module, record_type, record_id)
);

CREATE TABLE search_field_config (
    bundle     text NOT NULL REFERENCES item_type (type) ON DELETE CASCADE ON UPDATE CASCADE,
    field_name text NOT NULL,
    weight     char(1) NOT NULL CHECK (weight IN ('A', 'B', 'C', 'D')),
    PRIMARY KEY (bundle, field_name)
);

-- System -------------------------------------------------------------------------------------
CREATE TABLE variable (
    name  text PRIMARY KEY,
    value jsonb NOT NULL
);

CREATE TABLE system (
    name     text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    type     text NOT NULL DEFAULT 'plugin',
    status   smallint NOT NULL DEFAULT 0,
    weight   integer NOT NULL DEFAULT 0,
    version  text NOT NULL DEFAULT '',
    filename text NOT NULL DEFAULT '',
    info     jsonb NOT NULL DEFAULT '{{}}'::jsonb
);

CREATE TABLE form_state (
    id      uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    form_id text NOT NULL,
    user_id uuid,
    data    jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    created timestamptz NOT NULL DEFAULT now(),
    expires timestamptz NOT NULL
);
CREATE INDEX form_state_expires_idx ON form_state (expires);

CREATE TABLE queue (
    id            uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    name          text NOT NULL,
    payload       jsonb NOT NULL,
    created       timestamptz NOT NULL DEFAULT now(),
    available_at  timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    claim_token   uuid,
    attempts      integer NOT NULL DEFAULT 0
);
CREATE INDEX queue_claim_idx ON queue (name, available_at);

CREATE TABLE watchdog (
    id        uuid PRIMARY KEY DEFAULT trovato_uuid7(),
    user_id   uuid,
    type      text NOT NULL,
    message   text NOT NULL,
    variables jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    severity  smallint NOT NULL DEFAULT 5 CHECK (severity BETWEEN 0 AND 7),
    link      text NOT NULL DEFAULT '',
    location  text NOT NULL DEFAULT '',
    referer   text NOT NULL DEFAULT '',
    hostname  text NOT NULL DEFAULT '',
    created   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX watchdog_created_idx ON watchdog (created DESC);
CREATE INDEX watchdog_type_idx ON watchdog (type, created DESC);

-- Built-in rows ------------------------------------------------------------------------------
INSERT INTO stage (id, label, upstream_id, visibility) VALUES ('live', 'Live', NULL, 'public');
INSERT INTO users (id, name, status) VALUES ('{ANONYMOUS_USER}', '', 0);
INSERT INTO role (id, name, weight, is_builtin) VALUES
    ('{ANONYMOUS_ROLE}', 'anonymous user', 0, true),
    ('{AUTHENTICATED_ROLE}', 'authenticated user', 1, true);
INSERT INTO role_permission (role_id, permission) VALUES
    ('{ANONYMOUS_ROLE}', 'access content'),
    ('{AUTHENTICATED_ROLE}', 'access content'),
    ('{AUTHENTICATED_ROLE}', 'use api tokens');
"""

DOWNGRADE = """
DROP TABLE IF EXISTS watchdog, queue, form_state, system, variable, search_field_config,
    file_usage, file_managed, tile, redirect, url_alias, menu_link, gather_query,
    category_tag_hierarchy, category_tag, category_vocabulary, stage_deletion,
    stage_association, item_revision, item, field_instance, field_config, item_type, stage,
    api_token, users_roles, role_permission, role, users CASCADE;
DROP FUNCTION IF EXISTS trovato_uuid7();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
