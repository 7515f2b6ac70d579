#!/usr/bin/env bash
# Keyset pagination of `list_resources` on PostgreSQL, 1,000,000 resources in one org.
#
#   bench/pagination/run.sh
#
# Environment (all optional):
#   PGHOST (127.0.0.1) PGPORT (5432) PGUSER (postgres): server and a role that may CREATE DATABASE
#   ITERATIONS (500)   timed calls per measurement, after WARMUP (100) untimed ones
#   ROUNDS (8)         how many times the whole set of measurements is repeated on the same data;
#                      short rounds, app and bare alternating, so that both see the same
#                      background load; the summary ends with the median over rounds
#   CARGO_TARGET_DIR   (<repo>/target/bench-pagination)
#
# Creates a throw-away database portcullis_bench_<random>, applies the real migration, seeds it
# (seed.sql), then per round measures the first page and a page ~1,000,000 rows deep:
#   app     the real store: PgStore + ResourceStore::list_resources (Rust, src/main.rs)
#   pool    same SQL through a PgPool configured like PgStore, rows not decoded (diagnostic)
#   conn    same SQL on one PgConnection, no pool, rows not decoded (diagnostic)
#   (app, pool and conn run on Tokio's multi-thread runtime, as the server does, then again on
#    a current_thread runtime: lines prefixed ct-)
#   bare    the same SQL with pgbench, one client: -M simple (literals) and -M prepared
#           (parameters, like the app's prepared statement); per-call latencies from --log
# and prints EXPLAIN (ANALYZE, BUFFERS) of both pages. The database is dropped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
ITERATIONS="${ITERATIONS:-500}"
WARMUP="${WARMUP:-100}"
ROUNDS="${ROUNDS:-8}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/bench-pagination}"

db="portcullis_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d)"
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
url="postgres://$PGUSER@$PGHOST:$PGPORT/$db"
org='01941f29-7c00-7000-8000-000000000002'
neighbour='01941f29-7c00-7000-8000-000000000003'
cols='resources.id, resources.org_id, resources.owner_id, resources.kind, resources.name, resources.data, resources.version, resources.created_at, resources.updated_at, resources.deleted_at, resources.deleted_by'

echo "== machine"
echo "cpus: $(nproc); $(psql --version); server: $(psql -X -Atq -d postgres -c 'SHOW server_version')"
echo "shared_buffers=$(psql -X -Atq -d postgres -c 'SHOW shared_buffers') work_mem=$(psql -X -Atq -d postgres -c 'SHOW work_mem') jit=$(psql -X -Atq -d postgres -c 'SHOW jit')"

echo "== build (release)"
(cd "$here" && cargo build --release --quiet)
bench="$CARGO_TARGET_DIR/release/portcullis-bench-pagination"

echo "== database $db"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db"
psql_db -f "$repo/crates/store-postgres/migrations/0001_initial.sql"
start=$SECONDS
psql_db -f "$here/seed.sql"
echo "seeded in $((SECONDS - start)) s"
psql_db -At -F ' ' -c "SELECT 'bench org rows:', count(*), 'live:', count(*) FILTER (WHERE deleted_at IS NULL) FROM resources WHERE org_id = '$org'"
psql_db -At -c "SELECT 'resources table + indexes: ' || pg_size_pretty(pg_total_relation_size('resources'))"

# The deep page: the key after which exactly 21 live rows remain, so that the deep page, like
# the first, fetches 21 rows and returns 20 items with a next key.
deep="$(psql_db -At -c "SELECT id FROM resources WHERE org_id = '$org' AND deleted_at IS NULL ORDER BY id DESC OFFSET 21 LIMIT 1")"
psql_db -At -F ' ' -c "SELECT 'deep page after', '$deep', '= row', count(*), 'of the org by id (live row', count(*) FILTER (WHERE deleted_at IS NULL), ')' FROM resources WHERE org_id = '$org' AND id <= '$deep'"

first_sql="SELECT $cols FROM resources WHERE org_id = :org AND deleted_at IS NULL ORDER BY id LIMIT :lim;"
deep_sql="SELECT $cols FROM resources WHERE org_id = :org AND deleted_at IS NULL AND id > :after ORDER BY id LIMIT :lim;"
echo "$first_sql" >"$work/first.sql"
echo "$deep_sql" >"$work/deep.sql"

explain() { # $1 label, $2 sql with literals
    echo "-- $1"
    psql_db -c "EXPLAIN (ANALYZE, BUFFERS) $2"
}
first_lit="SELECT $cols FROM resources WHERE org_id = '$org' AND deleted_at IS NULL ORDER BY id LIMIT 21"
deep_lit="SELECT $cols FROM resources WHERE org_id = '$org' AND deleted_at IS NULL AND id > '$deep' ORDER BY id LIMIT 21"
echo "== plans (after a warm-up run of each)"
psql_db -c "$first_lit" >/dev/null
psql_db -c "$deep_lit" >/dev/null
explain "deep page, literals (custom plan)" "$deep_lit"
explain "first page, literals (custom plan)" "$first_lit"
echo "-- deep page, prepared statement forced onto its generic plan; the server does not pick this"
echo "-- one on its own (see the plans lines of each round: custom plans only), shown for completeness"
psql_db <<SQL
SET plan_cache_mode = force_generic_plan;
PREPARE deep_page(uuid, uuid, int8) AS
  SELECT $cols FROM resources WHERE org_id = \$1 AND deleted_at IS NULL AND id > \$2 ORDER BY id LIMIT \$3;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE deep_page('$org', '$deep', 21);
SQL
explain "first page of the neighbour org (5% of the table), literals" \
    "SELECT $cols FROM resources WHERE org_id = '$neighbour' AND deleted_at IS NULL ORDER BY id LIMIT 21"

# pgbench with one client. Per-call latency = difference between successive completion
# timestamps in its log (fields 5 and 6): pgbench 15 writes 0 into the log's own latency field
# for a few percent of transactions, the timestamps are always right. n = ITERATIONS - 1.
bare() { # $1 mode, $2 page -> "n mean p50 p95 min"
    local mode="$1" page="$2" prefix="$work/log_${1}_${2}"
    local o="$org" a="$deep"
    if [ "$mode" = simple ]; then o="'$org'"; a="'$deep'"; fi
    pgbench -n -M "$mode" -c 1 -t "$WARMUP" -D org="$o" -D after="$a" -D lim=21 \
        -f "$work/$page.sql" "$db" >/dev/null 2>&1
    pgbench -n -M "$mode" -c 1 -t "$ITERATIONS" -D org="$o" -D after="$a" -D lim=21 \
        -f "$work/$page.sql" --log --log-prefix="$prefix" "$db" >/dev/null 2>"$work/pgbench.err" \
        || { cat "$work/pgbench.err" >&2; return 1; }
    awk '{ t = $5 * 1000000 + $6; if (NR > 1) print t - p; p = t }' "$prefix".* | sort -n | awk '
        { v[NR] = $1; s += $1 }
        END { printf "%d %.1f %.1f %.1f %.1f\n", NR, s / NR, v[int(NR * 0.50) + 1], v[int(NR * 0.95) + 1], v[1] }'
    rm -f "$prefix".*
}

summary="$work/summary"
: >"$summary"
for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round: $ITERATIONS timed calls each, after $WARMUP warm-up calls"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    out="$("$bench" "$url" "$org" "$deep" "$ITERATIONS" "$WARMUP")"
    out="$out
$(BENCH_RUNTIME=current_thread "$bench" "$url" "$org" "$deep" "$ITERATIONS" "$WARMUP" | sed 's/^/ct-/')"
    echo "$out"
    for mode in simple prepared; do
        for page in first deep; do
            read -r n mean p50 p95 min < <(bare "$mode" "$page")
            echo "bare-$mode $page n=$n mean_us=$mean p50_us=$p50 p95_us=$p95 min_us=$min"
            out="$out
bare-$mode $page n=$n mean_us=$mean p50_us=$p50 p95_us=$p95 min_us=$min"
        done
    done
    echo "$out" | sed "s/^/$round /" >>"$summary"
done

echo "== summary (µs; p50, mean in brackets; ratios likewise)"
echo "app = list_resources on Tokio's multi-thread runtime (as the server); app-ct = same on current_thread"
awk '
    {
        r = $1; k = $2 " " $3
        for (i = 4; i <= NF; i++) { split($i, kv, "="); val[r, k, kv[1]] = kv[2] }
        if (!(r in seen)) { seen[r] = 1; order[++nr] = r }
    }
    function p(r, m, pg) { return val[r, m " " pg, "p50_us"] }
    function a(r, m, pg) { return val[r, m " " pg, "mean_us"] }
    # median over rounds of p50(m1, pg1), or of p50(m1, pg1) / p50(m2, pg2) when m2 is given
    function med(m1, pg1, m2, pg2,    i, j, n, t, x) {
        n = 0
        for (i = 1; i <= nr; i++) {
            t = p(order[i], m1, pg1) + 0
            if (m2 != "") t = t / p(order[i], m2, pg2)
            x[++n] = t
        }
        for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
        return (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
    }
    function both(r, m, pg) { return sprintf("%s (%s)", p(r, m, pg), a(r, m, pg)) }
    function ratio(r, m1, pg1, m2, pg2) {
        return sprintf("%.2fx (%.2fx)", p(r, m1, pg1) / p(r, m2, pg2), a(r, m1, pg1) / a(r, m2, pg2))
    }
    END {
        printf "| round | page | app | app-ct | bare prepared | bare simple | app / bare prepared | app-ct / bare prepared | app / bare simple |\n"
        printf "|---|---|---|---|---|---|---|---|---|\n"
        for (i = 1; i <= nr; i++) {
            r = order[i]
            for (j = 1; j <= 2; j++) {
                pg = (j == 1) ? "first" : "deep"
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r, pg,
                    both(r, "app", pg), both(r, "ct-app", pg), both(r, "bare-prepared", pg), both(r, "bare-simple", pg),
                    ratio(r, "app", pg, "bare-prepared", pg), ratio(r, "ct-app", pg, "bare-prepared", pg),
                    ratio(r, "app", pg, "bare-simple", pg)
            }
        }
        printf "\n| round | app deep / first | app-ct deep / first | bare prepared deep / first | app p95 first / deep |\n"
        printf "|---|---|---|---|---|\n"
        for (i = 1; i <= nr; i++) {
            r = order[i]
            printf "| %s | %s | %s | %s | %s / %s |\n", r,
                ratio(r, "app", "deep", "app", "first"), ratio(r, "ct-app", "deep", "ct-app", "first"),
                ratio(r, "bare-prepared", "deep", "bare-prepared", "first"),
                val[r, "app first", "p95_us"], val[r, "app deep", "p95_us"]
        }
        printf "\nMedian over %d rounds (of the per-round p50s and of the per-round p50 ratios):\n", nr
        printf "| page | app | app-ct | bare prepared | bare simple | app / bare prepared | app-ct / bare prepared | app / bare simple |\n"
        printf "|---|---|---|---|---|---|---|---|\n"
        for (j = 1; j <= 2; j++) {
            pg = (j == 1) ? "first" : "deep"
            printf "| %s | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.2fx |\n", pg,
                med("app", pg, "", ""), med("ct-app", pg, "", ""), med("bare-prepared", pg, "", ""),
                med("bare-simple", pg, "", ""), med("app", pg, "bare-prepared", pg),
                med("ct-app", pg, "bare-prepared", pg), med("app", pg, "bare-simple", pg)
        }
        printf "| deep / first | %.2fx | %.2fx | %.2fx | %.2fx | | | |\n",
            med("app", "deep", "app", "first"), med("ct-app", "deep", "ct-app", "first"),
            med("bare-prepared", "deep", "bare-prepared", "first"), med("bare-simple", "deep", "bare-simple", "first")
        printf "\nWhere the app path time goes (p50; multi-thread / current_thread):\n"
        printf "| round | page | app | pool (no decoding) | conn (no pool, no decoding) | bare prepared |\n"
        printf "|---|---|---|---|---|---|\n"
        for (i = 1; i <= nr; i++) {
            r = order[i]
            for (j = 1; j <= 2; j++) {
                pg = (j == 1) ? "first" : "deep"
                printf "| %s | %s | %s / %s | %s / %s | %s / %s | %s |\n", r, pg,
                    p(r, "app", pg), p(r, "ct-app", pg), p(r, "pool", pg), p(r, "ct-pool", pg),
                    p(r, "conn", pg), p(r, "ct-conn", pg), p(r, "bare-prepared", pg)
            }
        }
    }' "$summary"
