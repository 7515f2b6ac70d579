-- Seed for the console audit benchmark (bench/console-audit/run.sh): 1,000,000 audit rows
-- after the rows `portcullis dev` wrote at start, by 1,000 users. One of them, `bench-alice`,
-- made every 50th row (20,000), a quarter of those `resource.update` (5,000): the filtered
-- list the benchmark pages through to its end, the oldest rows of the log.
--
-- The rows do not form a valid hash chain (`prev_hash`/`hash` are placeholders): the list
-- does not read the chain, and `audit verify` is not part of the benchmark.

\set ON_ERROR_STOP 1

INSERT INTO users (id, issuer, sub, username, email, created_at, last_seen_at)
SELECT ('01941f29-7c00-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       'https://bench.invalid',
       CASE WHEN g = 1 THEN 'bench-alice' ELSE 'bench-user-' || g END,
       CASE WHEN g = 1 THEN 'bench-alice' ELSE 'bench-user-' || g END,
       CASE WHEN g = 1 THEN 'alice@bench.invalid' ELSE 'user' || g || '@bench.invalid' END,
       '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z'
FROM generate_series(1, 1000) AS g;

INSERT INTO audit_log (seq, id, occurred_at, actor_id, org_id, action, resource_type,
                       resource_id, changes, request_id, prev_hash, hash)
SELECT
    base.s + g,
    (lpad(to_hex(1735689600000::bigint + g), 12, '0') || '7' || lpad(to_hex(g % 4096), 3, '0')
        || '8' || substr(md5(g::text), 1, 15))::uuid,
    to_timestamp((1735689600000::bigint + g) / 1000.0),
    ('01941f29-7c00-7000-8000-' || lpad(to_hex(CASE WHEN g % 50 = 0 THEN 1 ELSE 2 + g % 999 END), 12, '0'))::uuid,
    ('01941f29-7c00-7000-8001-' || lpad(to_hex(1 + g % 100), 12, '0'))::uuid,
    (ARRAY['resource.create', 'resource.update', 'resource.delete', 'membership.role'])[1 + (g / 50) % 4],
    'resource',
    'r-' || (g % 100000),
    jsonb_build_object('name', jsonb_build_object('before', 'old ' || g, 'after', 'new ' || g)),
    'bench-' || g,
    repeat('0', 64),
    md5(g::text) || md5((g + 1)::text)
FROM generate_series(1, 1000000) AS g, (SELECT coalesce(max(seq), 0) AS s FROM audit_log) AS base;

VACUUM (ANALYZE) users;
VACUUM (ANALYZE) audit_log;
