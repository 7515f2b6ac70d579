-- Seed for the keyset pagination benchmark (bench/pagination/run.sh).
--
-- One user, the bench org holding exactly 1,000,000 resources, and a neighbour org holding
-- 50,000 more whose rows are interleaved with the bench org's in id order (so that
-- `org_id = $1` is not trivially true for every row of the table).
--
-- Ids are UUIDv7-shaped and time-ordered: 48-bit millisecond timestamp (one ms per row), the
-- version nibble 7, a 12-bit counter, the variant nibble 8, then 60 pseudo-random bits. Byte
-- order, and so `ORDER BY id`, is insertion order, as with the application's `Uuid::now_v7()`.
--
-- About 2.7% of rows are soft-deleted (every 37th), three kinds in a 3:2:2 mix.

\set ON_ERROR_STOP 1

INSERT INTO users (id, issuer, sub, username, email, created_at, last_seen_at)
VALUES ('01941f29-7c00-7000-8000-000000000001', 'https://bench.invalid', 'bench-user',
        'bench', 'bench@example.invalid', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z');

INSERT INTO organizations (id, name, created_by, created_at) VALUES
    ('01941f29-7c00-7000-8000-000000000002', 'bench org', '01941f29-7c00-7000-8000-000000000001',
     '2025-01-01T00:00:00Z'),
    ('01941f29-7c00-7000-8000-000000000003', 'neighbour org', '01941f29-7c00-7000-8000-000000000001',
     '2025-01-01T00:00:00Z');

INSERT INTO memberships (org_id, user_id, role, created_at) VALUES
    ('01941f29-7c00-7000-8000-000000000002', '01941f29-7c00-7000-8000-000000000001', 'owner',
     '2025-01-01T00:00:00Z'),
    ('01941f29-7c00-7000-8000-000000000003', '01941f29-7c00-7000-8000-000000000001', 'owner',
     '2025-01-01T00:00:00Z');

INSERT INTO resources (id, org_id, owner_id, kind, name, data, version, created_at, updated_at,
                       deleted_at, deleted_by)
SELECT
    (lpad(to_hex(1735689600000::bigint + g), 12, '0') || '7' || lpad(to_hex(g % 4096), 3, '0')
        || '8' || substr(md5(g::text), 1, 15))::uuid,
    CASE WHEN g % 21 = 0 THEN '01941f29-7c00-7000-8000-000000000003'::uuid
         ELSE '01941f29-7c00-7000-8000-000000000002'::uuid END,
    '01941f29-7c00-7000-8000-000000000001'::uuid,
    (ARRAY['document', 'folder', 'report'])[1 + g % 7 % 3],
    'resource ' || g,
    jsonb_build_object('n', g, 'tags', jsonb_build_array('bench', 'seed'),
                       'note', 'lorem ipsum dolor sit amet'),
    1,
    to_timestamp((1735689600000::bigint + g) / 1000.0),
    to_timestamp((1735689600000::bigint + g) / 1000.0),
    CASE WHEN g % 37 = 0 THEN to_timestamp((1735689600000::bigint + g) / 1000.0) + interval '1 day' END,
    CASE WHEN g % 37 = 0 THEN '01941f29-7c00-7000-8000-000000000001'::uuid END
FROM generate_series(1, 1050000) AS g;

VACUUM (ANALYZE) users;
VACUUM (ANALYZE) organizations;
VACUUM (ANALYZE) memberships;
VACUUM (ANALYZE) resources;
