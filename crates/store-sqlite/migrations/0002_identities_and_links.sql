-- One person, several identities; org roles from provider claims.

-- Every (issuer, sub) a user signs in with. users.issuer/sub stay as the identity the user was
-- created with; this table is what a token's (issuer, sub) is looked up in.
CREATE TABLE identities (
    issuer     TEXT NOT NULL,
    sub        TEXT NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (issuer, sub)
);
CREATE INDEX identities_by_user ON identities (user_id);
INSERT INTO identities (issuer, sub, user_id, created_at)
    SELECT issuer, sub, id, created_at FROM users;

-- A token of `issuer` whose top-level claim `claim` holds `value` makes its user a member of
-- the org with `role`.
CREATE TABLE org_links (
    org_id     BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    issuer     TEXT NOT NULL,
    claim      TEXT NOT NULL,
    value      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, issuer, claim, value)
);
-- Applying links reads every link of the token's issuer.
CREATE INDEX org_links_by_issuer ON org_links (issuer, claim, value);

-- Who made a membership: by hand (the API, org creation), or a link. Links only ever change
-- the memberships they made.
ALTER TABLE memberships ADD COLUMN source TEXT NOT NULL DEFAULT 'manual'
    CHECK (source IN ('manual', 'link'));
