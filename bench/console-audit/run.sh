#!/usr/bin/env bash
# The console's Audit page on a 1,000,000-row PostgreSQL audit log: a deep filtered page
# (actor by username and action, the last page of the filtered list) through the console, over
# HTTP with a signed-in session, against the same SQL run bare with pgbench.
#
#   bench/console-audit/run.sh
#
# Environment (all optional):
#   PGHOST (127.0.0.1) PGPORT (5432) PGUSER (postgres): a role that may CREATE DATABASE
#   PORTCULLIS_BIN     the server binary (default: `cargo build --release --bin portcullis`)
#   ITERATIONS (200)   timed requests / calls, after WARMUP (50) untimed ones
#   KEEP_DB            set: the database is kept (its name is printed) for a closer look
#
# Creates a throw-away database, starts `portcullis dev` on it (migrations, personas), seeds
# seed.sql, signs in to the console as dev-admin through the dev issuer with curl, follows the
# filtered list's cursors to its last page, then measures, each as wall time seen by curl on
# loopback and as server time (the access log's `latency_ms` of each request):
#   healthz  GET /healthz: the floor of any request on this server
#   console  GET /console/audit?actor=bench-alice&action=resource.update&cursor=<last page>
#            (session lookup, the API's token checks, the actor lookup, the page query, HTML)
#   api      the same page from GET /v1/admin/audit (actor by id, bearer token)
# and the bare SQL with pgbench (one client, prepared, per-call latency):
#   bare-query     the page query itself (the SQL of `list_audit` with the same filter and
#                  keyset position, LIMIT 51)
#   bare-page-sql  the statements the console sends for this page: the actor by name, then
#                  the page query
# It prints EXPLAIN (ANALYZE, BUFFERS) of the query. The database is dropped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
ITERATIONS="${ITERATIONS:-200}"
WARMUP="${WARMUP:-50}"

db="portcullis_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    if [ -n "${KEEP_DB:-}" ]; then echo "kept database $db"; else
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

echo "== machine"
echo "cpus: $(nproc); $(psql --version); server: $(psql -X -Atq -d postgres -c 'SHOW server_version')"

if [ -z "${PORTCULLIS_BIN:-}" ]; then
    echo "== build (release)"
    (cd "$repo" && cargo build --release --locked --quiet --bin portcullis)
    PORTCULLIS_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/portcullis"
fi
echo "binary: $PORTCULLIS_BIN"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free_port)"
base="http://127.0.0.1:$port"

echo "== database $db, server on $base"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db"
env -i PATH="$PATH" HOME="$work" \
    PORTCULLIS_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db" \
    PORTCULLIS_LISTEN="127.0.0.1:$port" PORTCULLIS_METRICS_LISTEN="127.0.0.1:$(free_port)" \
    PORTCULLIS_DATA_DIR="$work/data" PORTCULLIS_RATE_LIMIT__PER_IP=0 PORTCULLIS_RATE_LIMIT__PER_USER=0 \
    PORTCULLIS_LOG=info \
    "$PORTCULLIS_BIN" dev >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }

start=$SECONDS
psql_db -f "$here/seed.sql"
echo "seeded in $((SECONDS - start)) s"
psql_db -At -c "SELECT 'audit rows: ' || count(*) FROM audit_log"
psql_db -At -c "SELECT 'audit_log table + indexes: ' || pg_size_pretty(pg_total_relation_size('audit_log'))"

echo "== sign in to the console as dev-admin (the dev issuer's persona page, with curl)"
jar="$work/cookies"
page="$(curl -fsS -c "$jar" -b "$jar" -L "$base/console")"
request="$(printf '%s' "$page" | sed -n 's/.*name="request" value="\([^"]*\)".*/\1/p' | head -1)"
[ -n "$request" ] || { echo "no sign-in page"; exit 1; }
curl -fsS -c "$jar" -b "$jar" -L -H "Origin: $base" \
    --data-urlencode "request=$request" --data-urlencode "persona=dev-admin" \
    "$base/dev-issuer/oauth2/authorize" -o "$work/landing.html"
grep -q "platform admin" "$work/landing.html" || { echo "sign-in failed"; exit 1; }

filter="actor=bench-alice&action=resource.update"
echo "== walk $filter to its last page"
cursor=""
last=""
pages=0
while :; do
    url="$base/console/audit?$filter${cursor:+&cursor=$cursor}"
    body="$(curl -fsS -b "$jar" "$url")"
    pages=$((pages + 1))
    next="$(printf '%s' "$body" | sed -n 's/.*cursor=\([^"&]*\)" rel="next".*/\1/p' | head -1)"
    [ -z "$next" ] && break
    last="$cursor"
    cursor="$next"
done
rows="$(printf '%s' "$body" | grep -o '>resource.update</td>' | wc -l)"
echo "pages: $pages; last page rows: $rows; its cursor: ${cursor:-none}"
deep_url="$base/console/audit?$filter&cursor=$cursor"

# The keyset position of that cursor, for the bare query: the smallest seq of the page before.
prev_body="$(curl -fsS -b "$jar" "$base/console/audit?$filter${last:+&cursor=$last}")"
after_seq="$(printf '%s' "$prev_body" | grep -o '<tr><td>[0-9]*</td>' | sed 's/[^0-9]//g' | sort -n | head -1)"
alice="$(psql_db -At -c "SELECT id FROM users WHERE username = 'bench-alice'")"
echo "deep page: rows with seq < $after_seq (of $(psql_db -At -c 'SELECT max(seq) FROM audit_log'))"

cols="seq, id, occurred_at, actor_id, org_id, action, resource_type, resource_id, changes, request_id, prev_hash, hash"
sql="SELECT $cols FROM audit_log WHERE 1 = 1 AND action = :action AND actor_id = :actor AND seq < :after ORDER BY seq DESC LIMIT 51;"
echo "$sql" >"$work/deep.sql"
echo "== plan"
psql_db -c "EXPLAIN (ANALYZE, BUFFERS) SELECT $cols FROM audit_log WHERE action = 'resource.update' AND actor_id = '$alice' AND seq < $after_seq ORDER BY seq DESC LIMIT 51"

stats() { # stdin: microseconds, one per line -> "n mean p50 p95 min"
    sort -n | awk '{ v[NR] = $1; s += $1 }
        END { printf "%d %.1f %.1f %.1f %.1f\n", NR, s / NR, v[int(NR * 0.50) + 1], v[int(NR * 0.95) + 1], v[1] }'
}

# Server time: the `latency_ms` of the access-log line of each request (from the request
# entering the routed service to the response leaving it: the session, the token checks, the
# SQL, the HTML), so that curl's own process start, connect and loopback are not counted.
# `portcullis dev` writes text lines (`route="/healthz" ... latency_ms=0.09`), `serve` JSON
# (`"route":"/healthz",...,"latency_ms":0.09`): both are read.
server_times() { # $1 route -> the last ITERATIONS latencies of that route, in microseconds
    grep -E "route(=|\":)\"$1\"" "$work/server.log" | tail -n "$ITERATIONS" |
        sed -n -E 's/.*latency_ms"?[=:]([0-9.e+-]+).*/\1/p' | awk '{ printf "%.1f\n", $1 * 1000 }'
}
timed() { # $1 label, $2 route, then curl arguments -> sets p50 (server time), prints both
    local label="$1" route="$2"
    shift 2
    for _ in $(seq 1 "$WARMUP"); do curl -fsS -o /dev/null "$@"; done
    for _ in $(seq 1 "$ITERATIONS"); do curl -fsS -o /dev/null -w '%{time_total}\n' "$@"; done |
        awk '{ printf "%.1f\n", $1 * 1000000 }' >"$work/$label.wall"
    sleep 0.5 # the last access-log lines are written after the response
    server_times "$route" >"$work/$label.server"
    read -r n mean p50 p95 min < <(stats <"$work/$label.wall")
    echo "$label wall (curl) n=$n mean_us=$mean p50_us=$p50 p95_us=$p95 min_us=$min"
    read -r n mean p50 p95 min < <(stats <"$work/$label.server")
    echo "$label server n=$n mean_us=$mean p50_us=$p50 p95_us=$p95 min_us=$min"
}

echo "== /healthz: the floor of any request ($ITERATIONS after $WARMUP)"
timed healthz /healthz "$base/healthz"
healthz_p50="$p50"

echo "== console: $ITERATIONS requests after $WARMUP"
timed console /console/audit -b "$jar" "$deep_url"
console_p50="$p50"

# The same page from the JSON API (same filter by user id, same cursor: the scope is the
# filter's), to tell the console's own cost (session, actor lookup, names, HTML) from the API's.
admin_token="$(sed -n 's/.*ADMIN_TOKEN=\([A-Za-z0-9._-]*\).*/\1/p' "$work/server.log" | head -1)"
if [ -n "$admin_token" ]; then
    echo "== api: the same page as JSON, $ITERATIONS requests after $WARMUP"
    api_url="$base/v1/admin/audit?actor=$alice&action=resource.update&page_size=50&cursor=$cursor"
    timed api /v1/admin/audit -H "Authorization: Bearer $admin_token" "$api_url"
fi

# The bare SQL, with pgbench (one client, prepared statements; per-call latency from the
# timestamps of its log): the page query alone, and the page's SQL as the console sends it for
# this filter: the actor looked up by name (`search_users`, exact), then the page query. (The
# actor's name on each row is the looked-up user's: no third statement.)
bare() { # $1 label, $2 script -> sets p50
    local label="$1" script="$2"
    local pgb=(pgbench -n -M prepared -c 1 -D action=resource.update -D actor="$alice"
        -D name=bench-alice -D after="$after_seq" -f "$script")
    "${pgb[@]}" -t "$WARMUP" "$db" >/dev/null 2>&1
    "${pgb[@]}" -t "$ITERATIONS" --log --log-prefix="$work/log_$label" "$db" >/dev/null 2>"$work/pgbench.err" \
        || { cat "$work/pgbench.err"; exit 1; }
    awk '{ t = $5 * 1000000 + $6; if (NR > 1) print t - p; p = t }' "$work"/log_"$label".* >"$work/$label.us"
    read -r n mean p50 p95 min < <(stats <"$work/$label.us")
    echo "$label n=$n mean_us=$mean p50_us=$p50 p95_us=$p95 min_us=$min"
}
user_cols="users.id, users.issuer, users.sub, users.username, users.email, users.disabled_at, users.created_at, users.last_seen_at"
{
    echo "SELECT $user_cols FROM users WHERE users.username = :name OR users.email = :name OR users.sub = :name ORDER BY users.created_at DESC, users.id DESC LIMIT 10;"
    cat "$work/deep.sql"
} >"$work/page.sql"
echo "== bare SQL: pgbench, one client, prepared"
bare bare-query "$work/deep.sql"
query_p50="$p50"
bare bare-page-sql "$work/page.sql"
page_sql_p50="$p50"

echo "== summary (p50, server time from the access log)"
awk -v c="$console_p50" -v h="$healthz_p50" -v q="$query_p50" -v s="$page_sql_p50" 'BEGIN {
    printf "console %.0f us; /healthz %.0f us; bare page SQL (lookup + query) %.0f us; bare query alone %.0f us\n", c, h, s, q
    printf "console / bare page SQL: %.2fx\n", c / s
    printf "console / bare query alone: %.2fx\n", c / q
    printf "console: %.2f ms (target: under 100 ms)\n", c / 1000
}'
