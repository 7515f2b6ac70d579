-- Portcullis schema, PostgreSQL flavour: UUID ids (UUIDv7, time-ordered), TIMESTAMPTZ, JSONB.

CREATE TABLE users (
    id           UUID PRIMARY KEY,
    issuer       TEXT NOT NULL,
    sub          TEXT NOT NULL,
    username     TEXT,
    email        TEXT,
    disabled_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ
);
-- The upsert's conflict target: one user per (issuer, sub).
CREATE UNIQUE INDEX users_issuer_sub ON users (issuer, sub);

CREATE TABLE organizations (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    created_by UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    deleted_by UUID REFERENCES users (id)
);
-- Purge looks for orgs deleted before a cutoff.
CREATE INDEX organizations_deleted_at ON organizations (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE memberships (
    org_id     UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
-- The primary key serves "members of an org"; this serves "orgs of a user".
CREATE INDEX memberships_by_user ON memberships (user_id, org_id);

CREATE TABLE resources (
    id         UUID PRIMARY KEY,
    org_id     UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    owner_id   UUID NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    data       JSONB NOT NULL,
    version    BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    deleted_by UUID REFERENCES users (id)
);
-- Hot paths list live rows only, so their indexes leave deleted rows out.
CREATE INDEX resources_live_by_org ON resources (org_id, id) WHERE deleted_at IS NULL;
CREATE INDEX resources_live_by_org_kind ON resources (org_id, kind, id) WHERE deleted_at IS NULL;
CREATE INDEX resources_live_by_owner ON resources (owner_id, id) WHERE deleted_at IS NULL;
-- include_deleted listings (admins) and purge.
CREATE INDEX resources_by_org ON resources (org_id, id);
CREATE INDEX resources_deleted_at ON resources (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY,
    id            UUID NOT NULL UNIQUE,
    occurred_at   TIMESTAMPTZ NOT NULL,
    actor_id      UUID,
    org_id        UUID,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    changes       JSONB NOT NULL,
    request_id    TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_by_org ON audit_log (org_id, seq);
CREATE INDEX audit_log_by_org_time ON audit_log (org_id, occurred_at);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_by_resource ON audit_log (resource_id, seq);

-- Append-only, enforced by the database and not just by the application.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE revoked_tokens (
    kind       TEXT NOT NULL CHECK (kind IN ('jti', 'origin_jti')),
    value      TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

CREATE TABLE user_revocations (
    user_id        UUID PRIMARY KEY REFERENCES users (id),
    revoked_before TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE feature_flags (
    name       TEXT NOT NULL,
    org_id     UUID REFERENCES organizations (id) ON DELETE CASCADE,
    value      JSONB NOT NULL,
    updated_by UUID REFERENCES users (id),
    updated_at TIMESTAMPTZ NOT NULL
);
-- One global value per name, and one override per (name, org).
CREATE UNIQUE INDEX feature_flags_global ON feature_flags (name) WHERE org_id IS NULL;
CREATE UNIQUE INDEX feature_flags_per_org ON feature_flags (name, org_id) WHERE org_id IS NOT NULL;
