-- Portcullis schema, SQLite flavour. Ids are UUIDv7 stored as 16-byte BLOBs (byte order is
-- time order), timestamps are RFC 3339 TEXT written by the application, JSON is TEXT.

CREATE TABLE users (
    id           BLOB PRIMARY KEY NOT NULL,
    issuer       TEXT NOT NULL,
    sub          TEXT NOT NULL,
    username     TEXT,
    email        TEXT,
    disabled_at  TEXT,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT
);
-- The upsert's conflict target: one user per (issuer, sub).
CREATE UNIQUE INDEX users_issuer_sub ON users (issuer, sub);

CREATE TABLE organizations (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by BLOB REFERENCES users (id)
);
-- Purge looks for orgs deleted before a cutoff.
CREATE INDEX organizations_deleted_at ON organizations (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE memberships (
    org_id     BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
-- The primary key serves "members of an org"; this serves "orgs of a user".
CREATE INDEX memberships_by_user ON memberships (user_id, org_id);

CREATE TABLE resources (
    id         BLOB PRIMARY KEY NOT NULL,
    org_id     BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    owner_id   BLOB NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    data       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by BLOB REFERENCES users (id)
);
-- Hot paths list live rows only, so their indexes leave deleted rows out.
CREATE INDEX resources_live_by_org ON resources (org_id, id) WHERE deleted_at IS NULL;
CREATE INDEX resources_live_by_org_kind ON resources (org_id, kind, id) WHERE deleted_at IS NULL;
CREATE INDEX resources_live_by_owner ON resources (owner_id, id) WHERE deleted_at IS NULL;
-- include_deleted listings (admins) and purge.
CREATE INDEX resources_by_org ON resources (org_id, id);
CREATE INDEX resources_deleted_at ON resources (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY NOT NULL,
    id            BLOB NOT NULL UNIQUE,
    occurred_at   TEXT NOT NULL,
    actor_id      BLOB,
    org_id        BLOB,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    changes       TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_by_org ON audit_log (org_id, seq);
CREATE INDEX audit_log_by_org_time ON audit_log (org_id, occurred_at);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_by_resource ON audit_log (resource_id, seq);

-- Append-only, enforced by the database and not just by the application.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE revoked_tokens (
    kind       TEXT NOT NULL CHECK (kind IN ('jti', 'origin_jti')),
    value      TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

CREATE TABLE user_revocations (
    user_id        BLOB PRIMARY KEY NOT NULL REFERENCES users (id),
    revoked_before TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE feature_flags (
    name       TEXT NOT NULL,
    org_id     BLOB REFERENCES organizations (id) ON DELETE CASCADE,
    value      TEXT NOT NULL,
    updated_by BLOB REFERENCES users (id),
    updated_at TEXT NOT NULL
);
-- One global value per name, and one override per (name, org).
CREATE UNIQUE INDEX feature_flags_global ON feature_flags (name) WHERE org_id IS NULL;
CREATE UNIQUE INDEX feature_flags_per_org ON feature_flags (name, org_id) WHERE org_id IS NOT NULL;
