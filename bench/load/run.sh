#!/usr/bin/env bash
# Load test on loopback: starts `portcullis serve` (release build, embedded dev issuer, rate
# limits off) and measures, in one run, with wrk:
#   0. the bare RS256 signature check       (the auth crate's criterion bench, before the server)
#   1. GET /healthz                         (the HTTP floor)
#   2. GET /v1/me, a few tokens reused      (verified-token cache hits)
#   3. GET /v1/me, every token new          (signature path; the users already exist)
#   4. RSS after RSS_TOKENS distinct tokens (default 100 000, of RSS_USERS = 1 000 users): the
#      server restarted on the same data, each token presented once (bench/load/send_once.py)
#   5. 1 and 2 again at one offered rate (PACE_MS, below): at saturation each route runs at its
#      own rate, and the slower one pays more wake-ups per request in the kernel; paced, the two
#      are compared at the same load
#   6. 1 and 2 again in alternating slices (ALT_SLICES pairs of ALT_SECONDS each, below): on a
#      shared machine a slowdown lasting seconds can fall on one of two back-to-back runs and
#      not the other, moving their ratio by a tenth or more; slices of a second, in the order
#      ABBA, spread it over both routes alike
#   7. RSS growth under load: after the runs above (caches full, allocator warm), GROWTH_SECONDS
#      more of /healthz, RSS before and after, in bytes per request; anything the server keeps
#      per request shows here (0 skips it)
# For each HTTP run: req/s, p50/p99, and the CPU time the server and wrk used per request
# (utime+stime from /proc/<pid>/stat, so what the two share the cores for is visible).
# Results: docs/benchmarks.md, "Load". Bounded: DURATION seconds per run (default 10).
#
# With BASELINE=<git rev>, it also builds that revision (release, --locked, in a temporary git
# worktree, into its own target subdirectory; or takes BASELINE_BIN, a binary already built from
# it) and compares: ROUNDS times (default 3) baseline
# then current, each server started fresh on its own data directory, the HTTP runs and the RSS
# pass against each. The tokens are minted once per run, with one dev-issuer key that every
# server is given, on one port (the dev issuer's URL follows the listen address): minting is the
# slow part (one RSA signature per token, about 1 ms on one core in Python). Alternating spreads the drift of a shared machine
# over both. Summary: per run, medians over the rounds of req/s and server CPU per request, and
# current / baseline; on stdout and in bench/load/results/<date>-baseline.txt. The criterion
# benchmark is skipped in this mode: it compares nothing.
#
#   bench/load/run.sh                      # defaults
#   DURATION=5 CONNECTIONS=64 bench/load/run.sh
#   BASELINE=main~3 ROUNDS=5 bench/load/run.sh
#   BASELINE=a4f8c18 BASELINE_BIN=path/to/portcullis-built-from-a4f8c18 bench/load/run.sh
#
# TOKENS_DIR=<dir> keeps the minted tokens (and the dev-issuer key and port they were minted
# for) in <dir> and reuses them on the next run when it holds at least FRESH_TOKENS: minting
# 100 000 takes minutes. They expire an hour after minting (mint.py), so reuse within that.
# SERVER_BIN=<binary> measures that binary (built beforehand) instead of building this tree.
# RSS_ONLY=1 runs only the RSS pass (no criterion benchmark, no wrk runs): the quick check of
# the memory a change saves.
#
#   TOKENS_DIR=/tmp/tokens RSS_ONLY=1 bench/load/run.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/services.sh

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
REUSE_TOKENS=${REUSE_TOKENS:-50}
# The paced runs' wait after each response, per connection (bench/load/tokens.lua): with 32
# connections, 2 ms offers about 15 000 requests per second, a fifth to a quarter of what
# /healthz saturates at on two cores.
PACE_MS=${PACE_MS:-2}
# Run 6: pairs of slices, one of each route per pair, ALT_SECONDS each (0 slices skip it).
ALT_SLICES=${ALT_SLICES:-10}
ALT_SECONDS=${ALT_SECONDS:-1}
# Run 7's length: long enough that a few bytes per request stand out from the allocator's noise.
GROWTH_SECONDS=${GROWTH_SECONDS:-20}
RSS_TOKENS=${RSS_TOKENS:-100000}
RSS_USERS=${RSS_USERS:-1000}
# Enough for DURATION seconds of the signature path at up to 32k req/s, and for the RSS pass; a
# shortfall (tokens used twice, i.e. cache hits in the "every token new" run) is reported in the
# summary. Minting is the slow part of a run (one RSA signature each, on both cores).
RSS_ONLY=${RSS_ONLY:-}
if [ -n "$RSS_ONLY" ]; then
    FRESH_TOKENS=${FRESH_TOKENS:-$RSS_TOKENS}
else
    FRESH_TOKENS=${FRESH_TOKENS:-$((DURATION * 32000 > RSS_TOKENS ? DURATION * 32000 : RSS_TOKENS))}
fi
LOG_LEVEL=${PORTCULLIS_LOG:-info}
BASELINE=${BASELINE:-}
ROUNDS=${ROUNDS:-3}

command -v wrk >/dev/null || apt_install wrk
[ -x /usr/bin/time ] || apt_install time
python3 -c 'import cryptography' 2>/dev/null || apt_install python3-cryptography

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${SERVER_BIN:-$TARGET/release/portcullis}"

WORK=$(mktemp -d)
SERVER=
BASE_SRC=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null
    if [ -n "$BASE_SRC" ]; then git -C "$ROOT" worktree remove --force "$BASE_SRC" || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "$BASELINE" ]; then
    BASE_REV=$(git rev-parse --verify "$BASELINE^{commit}")
    log "building the baseline $BASELINE ($BASE_REV)"
    BASE_SRC=$WORK/baseline-src
    BASE_BIN="$WORK/baseline-portcullis"
    if [ -n "${BASELINE_BIN:-}" ]; then
        # A binary already built from BASELINE (the caller vouches for it).
        cp "$BASELINE_BIN" "$BASE_BIN"
    else
        git worktree add --quiet --detach "$BASE_SRC" "$BASE_REV"
        # Its own target directory: the workspace crates of both revisions have the same names
        # and versions, and in one target directory each build would take the other's place.
        (cd "$BASE_SRC" && CARGO_TARGET_DIR="$TARGET/baseline" cargo build --release --locked -p portcullis)
        cp "$TARGET/baseline/release/portcullis" "$BASE_BIN"
    fi
fi
[ -n "${SERVER_BIN:-}" ] || cargo build --release --locked -p portcullis
if [ -z "$BASELINE" ] && [ -z "$RSS_ONLY" ]; then
    log "bare RS256 signature check (cargo bench -p portcullis-auth --bench verify)"
    cargo bench --locked -p portcullis-auth --bench verify -- --warm-up-time 2 --measurement-time 5 \
        bare_rs256_signature_verify > /dev/null
    BARE_NS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' \
        "$TARGET/criterion/bare_rs256_signature_verify/new/estimates.json")
fi

for k in $(env | grep -o '^PORTCULLIS_[A-Z_]*'); do unset "$k"; done
export PORTCULLIS_METRICS_LISTEN=127.0.0.1:0 \
    PORTCULLIS_AUTH__PROVIDER=dev PORTCULLIS_RATE_LIMIT__PER_IP=0 PORTCULLIS_RATE_LIMIT__PER_USER=0 \
    PORTCULLIS_LOG=$LOG_LEVEL

# The tokens of the whole run, in TOKENS_DIR (default $WORK/tokens), signed by one dev-issuer
# key for one port. The issuer URL follows the listen address, so the port is chosen before
# minting, and kept with the tokens.
TOKENS_DIR=${TOKENS_DIR:-$WORK/tokens}
mkdir -p "$TOKENS_DIR"
TOKENS_DIR=$(cd "$TOKENS_DIR" && pwd)
if [ -s "$TOKENS_DIR/port" ] && [ -s "$TOKENS_DIR/reuse.txt" ] && [ -s "$TOKENS_DIR/provision.txt" ] &&
    [ "$(wc -l < "$TOKENS_DIR/fresh.txt" 2>/dev/null || echo 0)" -ge "$FRESH_TOKENS" ]; then
    PORT=$(cat "$TOKENS_DIR/port")
    log "reusing the tokens of $TOKENS_DIR (port $PORT)"
    MINT=
else
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    MINT=1
fi
export PORTCULLIS_LISTEN=127.0.0.1:$PORT
[ -z "$MINT" ] || (
    cd "$TOKENS_DIR"
    log "minting $REUSE_TOKENS tokens with portcullis token"
    for i in $(seq 1 "$REUSE_TOKENS"); do "$BIN" token --sub "user-$i"; done > reuse.txt
    log "minting $FRESH_TOKENS distinct tokens of $RSS_USERS users (bench/load/mint.py, same key and claims)"
    template=$(head -n 1 reuse.txt)
    python3 "$ROOT/bench/load/mint.py" .portcullis/dev-issuer-keys.json "$template" \
        "$RSS_USERS" "$RSS_USERS" > provision.txt
    python3 "$ROOT/bench/load/mint.py" .portcullis/dev-issuer-keys.json "$template" \
        "$RSS_USERS" "$FRESH_TOKENS" > fresh.txt
    echo "$PORT" > port
)

# Starts BIN serving from DIR (its data directory is DIR/.portcullis, given the run's dev-issuer
# key), and provisions the users.
start_server() {
    local bin=$1 dir=$2
    mkdir -p "$dir/.portcullis"
    cd "$dir"
    cp "$TOKENS_DIR/.portcullis/dev-issuer-keys.json" .portcullis/
    for f in reuse.txt provision.txt fresh.txt; do ln -sf "$TOKENS_DIR/$f" "$f"; done

    launch_server "$bin"
    # Provision every user once, so no measured request writes to the database.
    python3 "$ROOT/bench/load/send_once.py" 127.0.0.1 "$PORT" provision.txt "$RSS_USERS" >/dev/null
    python3 "$ROOT/bench/load/send_once.py" 127.0.0.1 "$PORT" reuse.txt "$REUSE_TOKENS" >/dev/null
}

launch_server() {
    "$1" serve 2>> serve.log > /dev/null &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
        sleep 0.1
    done
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }
# 4: a new server process on the same data (users provisioned, caches empty), then each of the
# first RSS_TOKENS tokens of fresh.txt once; RSS before and after, and the server CPU per request
# of that pass (all signature checks; the first request of each user also loads its principal).
rss_run() {
    local bin=$1
    stop_server
    launch_server "$bin"
    local start before after sent end
    sleep 1
    start=$(rss_kib)
    before=$(server_cpu_ticks)
    log "rss: $RSS_TOKENS distinct tokens of $RSS_USERS users, each once"
    sent=$(python3 "$ROOT/bench/load/send_once.py" 127.0.0.1 "$PORT" fresh.txt "$RSS_TOKENS" 8)
    after=$(server_cpu_ticks)
    sleep 2
    end=$(rss_kib)
    echo "$end" > rss.kib
    python3 -c 'import sys
start, end, b, a, hz, n = map(float, sys.argv[1:7])
print(f"RSS at start {start / 1024:5.1f} MiB, after {int(n)} distinct tokens {end / 1024:5.1f} MiB   "
      f"server {(a - b) / hz / n * 1e6:6.1f} us/req   {sys.argv[7]}")' \
        "$start" "$end" "$before" "$after" "$(getconf CLK_TCK)" "$RSS_TOKENS" "$sent" |
        sed "s/^/${RUN_LABEL:-}rss                    /" | tee -a "$WORK/summary.txt"
}

stop_server() {
    kill "$SERVER"
    wait "$SERVER" || true
    SERVER=
}

server_cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
run() {
    local name=$1; shift
    log "$name"
    local before after
    before=$(server_cpu_ticks)
    # wrk's own CPU covers its whole life, script loading included; see docs/benchmarks.md.
    /usr/bin/time -f '%U %S' -o "$name.wrktime" \
        wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" > "$name.out"
    after=$(server_cpu_ticks)
    local rps p50 p99 requests extra
    rps=$(awk '/^Requests\/sec/ {print $2}' "$name.out")
    p50=$(awk '$1=="50%" {print $2}' "$name.out")
    p99=$(awk '$1=="99%" {print $2}' "$name.out")
    requests=$(awk '/requests in/ {print $1}' "$name.out")
    extra=$(grep -E '^(tokens_in_file|Non-2xx)' "$name.out" | tr '\n' ' ' || true)
    local cpu
    cpu=$(python3 -c 'import sys
name = sys.argv[1]
b, a, hz, n, u, s = map(float, sys.argv[2:])
server = (a - b) / hz / n * 1e6
open(f"{name}.cpu", "w").write(f"{server}\n")
print(f"server {server:6.1f} us/req   wrk {(u + s) / n * 1e6:5.1f} us/req")' \
        "$name" "$before" "$after" "$(getconf CLK_TCK)" "$requests" $(cat "$name.wrktime"))
    printf '%s%-22s %10s req/s   p50 %-9s p99 %-9s %s   %s\n' "${RUN_LABEL:-}" "$name" "$rps" "$p50" "$p99" "$cpu" "$extra" | tee -a "$WORK/summary.txt"
    echo "$rps" > "$name.rps"
}
# One slice of run 6: NAME's server CPU ticks and requests are added to NAME.alt.
slice() {
    local name=$1; shift
    local before after requests
    before=$(server_cpu_ticks)
    wrk -t1 -c"$CONNECTIONS" -d"${ALT_SECONDS}s" "$@" > "$name.slice.out"
    after=$(server_cpu_ticks)
    requests=$(awk '/requests in/ {print $1}' "$name.slice.out")
    echo "$((after - before)) $requests" >> "$name.alt"
}

# Run 6: /healthz and reused tokens in alternating slices, in the order ABBA (so that a drift
# across the run also falls on both alike); each route's server CPU per request is the sum of
# its slices' ticks over the sum of their requests.
alternate() {
    local lua=$ROOT/bench/load/tokens.lua pair
    log "alternating: $ALT_SLICES pairs of ${ALT_SECONDS}s slices of /healthz and reused tokens"
    rm -f healthz_alt.alt me_reused_alt.alt
    for pair in $(seq 1 "$ALT_SLICES"); do
        if [ $((pair % 2)) = 1 ]; then
            slice healthz_alt "http://127.0.0.1:$PORT/healthz"
            TOKENS=$PWD/reuse.txt slice me_reused_alt -s "$lua" "http://127.0.0.1:$PORT/v1/me"
        else
            TOKENS=$PWD/reuse.txt slice me_reused_alt -s "$lua" "http://127.0.0.1:$PORT/v1/me"
            slice healthz_alt "http://127.0.0.1:$PORT/healthz"
        fi
    done
    local name
    for name in healthz_alt me_reused_alt; do
        python3 -c 'import sys
name, hz, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rows = [tuple(map(float, line.split())) for line in open(f"{name}.alt")]
ticks, requests = sum(t for t, _ in rows), sum(n for _, n in rows)
server = ticks / hz / requests * 1e6
open(f"{name}.cpu", "w").write(f"{server}\n")
open(f"{name}.rps", "w").write(f"{requests / (len(rows) * seconds)}\n")
print(f"{requests / (len(rows) * seconds):10.0f} req/s   {len(rows)} slices of {seconds:g}s   server {server:6.1f} us/req")' \
            "$name" "$(getconf CLK_TCK)" "$ALT_SECONDS" |
            sed "s/^/${RUN_LABEL:-}$(printf '%-22s ' "$name")/" | tee -a "$WORK/summary.txt"
    done
}

# Run 7: RSS before and after GROWTH_SECONDS of /healthz, in bytes per request.
growth() {
    log "growth: RSS across ${GROWTH_SECONDS}s of /healthz"
    local before after requests
    before=$(rss_kib)
    wrk -t1 -c"$CONNECTIONS" -d"${GROWTH_SECONDS}s" "http://127.0.0.1:$PORT/healthz" > growth.out
    after=$(rss_kib)
    requests=$(awk '/requests in/ {print $1}' growth.out)
    python3 -c 'import sys
before, after, n = map(float, sys.argv[1:4])
per = (after - before) * 1024 / n
open("growth.bpr", "w").write(f"{per}\n")
print(f"RSS {before / 1024:5.1f} -> {after / 1024:5.1f} MiB over {int(n)} requests: {per:6.2f} bytes/req")' \
        "$before" "$after" "$requests" |
        sed "s/^/${RUN_LABEL:-}$(printf '%-22s ' rss_growth)/" | tee -a "$WORK/summary.txt"
}

# The HTTP runs against the server started last, from its directory: the three at saturation,
# then /healthz and reused tokens again at one offered rate (PACE_MS; 0 skips them) and in
# alternating slices (ALT_SLICES; 0 skips them).
run_all() {
    local lua=$ROOT/bench/load/tokens.lua
    run healthz "http://127.0.0.1:$PORT/healthz"
    TOKENS=$PWD/reuse.txt run me_reused_tokens -s "$lua" "http://127.0.0.1:$PORT/v1/me"
    TOKENS=$PWD/fresh.txt run me_every_token_new -s "$lua" "http://127.0.0.1:$PORT/v1/me"
    if [ "$PACE_MS" != 0 ]; then
        PACE_MS=$PACE_MS run healthz_paced -s "$lua" "http://127.0.0.1:$PORT/healthz"
        PACE_MS=$PACE_MS TOKENS=$PWD/reuse.txt run me_reused_paced -s "$lua" "http://127.0.0.1:$PORT/v1/me"
    fi
    [ "$ALT_SLICES" = 0 ] || alternate
    [ "$GROWTH_SECONDS" = 0 ] || growth
}

if [ -n "$BASELINE" ]; then
    for round in $(seq 1 "$ROUNDS"); do
        for side in baseline current; do
            if [ "$side" = baseline ]; then bin=$BASE_BIN; else bin=$BIN; fi
            start_server "$bin" "$WORK/$side-$round"
            RUN_LABEL=$(printf '%-8s round %-3s ' "$side" "$round")
            run_all
            rss_run "$bin"
            stop_server
        done
    done
    cd "$WORK"
    RESULTS="$ROOT/bench/load/results/$(date +%F)-baseline.txt"
    current_rev=$(git -C "$ROOT" rev-parse HEAD)
    git -C "$ROOT" diff --quiet HEAD || current_rev="$current_rev plus uncommitted changes"
    {
        echo
        echo "baseline: $BASELINE = $BASE_REV"
        echo "current:  $current_rev"
        echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
        echo "settings: DURATION=$DURATION ROUNDS=$ROUNDS CONNECTIONS=$CONNECTIONS wrk -t1, PORTCULLIS_LOG=$LOG_LEVEL"
        python3 - "$WORK" "$ROUNDS" "$FRESH_TOKENS" "$PACE_MS" <<'PY'
import pathlib, re, sys
from statistics import median
work, rounds, fresh = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
runs = ["healthz", "me_reused_tokens", "me_every_token_new"]
def rss(side):
    return [float((work / f"{side}-{r}" / "rss.kib").read_text()) / 1024 for r in range(1, rounds + 1)]
def values(side, run, ext):
    return [float((work / f"{side}-{r}" / f"{run}.{ext}").read_text()) for r in range(1, rounds + 1)]
print(f"medians over {rounds} rounds; ratio = current / baseline "
      "(req/s: below 1 is slower; server CPU per request: above 1 costs more)")
print(f"{'run':<20} {'baseline req/s':>14} {'current req/s':>14} {'ratio':>6}"
      f" {'baseline us/req':>16} {'current us/req':>15} {'ratio':>6}   req/s ratio per round")
for run in runs:
    b_rps, c_rps = values("baseline", run, "rps"), values("current", run, "rps")
    b_cpu, c_cpu = values("baseline", run, "cpu"), values("current", run, "cpu")
    per_round = " ".join(f"{c / b:.3f}" for b, c in zip(b_rps, c_rps))
    print(f"{run:<20} {median(b_rps):14.0f} {median(c_rps):14.0f} {median(c_rps) / median(b_rps):6.3f}"
          f" {median(b_cpu):16.1f} {median(c_cpu):15.1f} {median(c_cpu) / median(b_cpu):6.3f}   {per_round}")
b_rss, c_rss = rss("baseline"), rss("current")
print(f"RSS after the distinct tokens: baseline {median(b_rss):.1f} MiB, current {median(c_rss):.1f} MiB "
      f"(medians; rounds: {' '.join(f'{v:.1f}' for v in b_rss)} / {' '.join(f'{v:.1f}' for v in c_rss)})")
pairs = [(run, "healthz") for run in runs[1:]]
if (work / "current-1" / "me_reused_paced.cpu").exists():
    pairs.append(("me_reused_paced", "healthz_paced"))
if (work / "current-1" / "me_reused_alt.cpu").exists():
    pairs.append(("me_reused_alt", "healthz_alt"))
for run, floor in pairs:
    cpu = median(values("current", run, "cpu")) / median(values("current", floor, "cpu"))
    base = median(values("baseline", run, "cpu")) / median(values("baseline", floor, "cpu"))
    per_round = " ".join(f"{r / h:.2f}" for r, h in zip(values("current", run, "cpu"), values("current", floor, "cpu")))
    print(f"{run}: server CPU per request / {floor}'s: baseline {base:.2f}x, current {cpu:.2f}x"
          f" (current per round: {per_round})")
if (work / "current-1" / "growth.bpr").exists():
    grown = {side: values(side, "growth", "bpr") for side in ("baseline", "current")}
    print("RSS growth under /healthz load, bytes per request: "
          f"baseline {median(grown['baseline']):.2f}, current {median(grown['current']):.2f} "
          f"(medians; rounds: {' '.join(f'{v:.2f}' for v in grown['baseline'])} / "
          f"{' '.join(f'{v:.2f}' for v in grown['current'])})")
if (work / "current-1" / "me_reused_paced.cpu").exists():
    rates = [median(values("current", r, "rps")) for r in ("healthz_paced", "me_reused_paced")]
    print(f"paced runs (PACE_MS={sys.argv[4]}): {rates[0]:.0f} and {rates[1]:.0f} req/s offered and served")
for run in runs[1:]:
    ratio = median(values("current", run, "rps")) / median(values("baseline", run, "rps"))
    verdict = "within 5% of" if ratio >= 0.95 else "MORE than 5% below"
    print(f"{run}: current req/s {verdict} the baseline ({ratio:.1%})")
errors = 0
for d in sorted(p for p in work.iterdir() if (p / "serve.log").exists()):
    served = re.search(r"requests=(\d+)", (d / "me_every_token_new.out").read_text())
    if served and int(served[1]) > fresh:
        print(f"WARNING: {d.name}: {served[1]} requests for {fresh} tokens: the 'every token new' "
              "run reused tokens; raise FRESH_TOKENS")
    errors += (d / "serve.log").read_text().count('"level":"ERROR"')
print(f"server ERROR lines, all servers: {errors}")
PY
    } > compare.txt
    cat compare.txt
    cat summary.txt compare.txt > "$RESULTS"
    log "written to ${RESULTS#"$ROOT"/}"
    exit 0
fi

start_server "$BIN" "$WORK"
if [ -n "$RSS_ONLY" ]; then
    rss_run "$BIN"
    echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
    python3 -c 'import sys
rss = float(open(sys.argv[1]).read())
print(f"RSS after {sys.argv[2]} distinct tokens: {rss / 1024:.1f} MiB = {rss * 1024 / 1e6:.1f} MB (target <= 48 MB)")' \
        rss.kib "$RSS_TOKENS"
    exit 0
fi
run_all
rss_run "$BIN"

echo
echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
echo "settings: DURATION=$DURATION CONNECTIONS=$CONNECTIONS wrk -t1, PORTCULLIS_LOG=$LOG_LEVEL"
python3 - "$(cat healthz.rps)" "$(cat me_reused_tokens.rps)" "$(cat me_every_token_new.rps)" "$BARE_NS" <<'PY'
import sys
h, r, f, bare_ns = map(float, sys.argv[1:])
bare = 1e9 / bare_ns
print(f"bare RS256 verify (criterion median, one core): {bare_ns / 1000:.2f} us = {bare:.0f} verifications/s")
print(f"reused tokens / healthz: {r / h:.0%} (target >= 70%)")
print(f"every token new / bare verify rate: {f / bare:.0%} (target >= 60%)")
print(f"healthz / bare verify rate: {h / bare:.0%} (the HTTP floor on this machine, wrk included)")
PY
python3 -c 'import sys
h, r, rss = (float(open(f).read()) for f in sys.argv[1:4])
print(f"server CPU per request, reused tokens / healthz: {r / h:.2f}x (target <= 1.25x)")
for what, pair in (("at one offered rate (the paced runs)", ("healthz_paced", "me_reused_paced")),
                   ("in alternating slices", ("healthz_alt", "me_reused_alt"))):
    try:
        hp, rp = (float(open(f"{f}.cpu").read()) for f in pair)
        print(f"the same {what}: {rp / hp:.2f}x")
    except FileNotFoundError:
        pass
print(f"RSS after {sys.argv[4]} distinct tokens: {rss / 1024:.1f} MiB = {rss * 1024 / 1e6:.1f} MB (target <= 48 MB)")' \
    healthz.cpu me_reused_tokens.cpu rss.kib "$RSS_TOKENS"
[ ! -s growth.bpr ] || echo "RSS growth under /healthz load: $(cat growth.bpr) bytes per request"
read -r fresh_requests < <(awk -F'requests=' '/^tokens_in_file/ {print $2}' me_every_token_new.out)
if [ "${fresh_requests:-0}" -gt "$FRESH_TOKENS" ]; then
    echo "WARNING: $fresh_requests requests for $FRESH_TOKENS tokens: the 'every token new' run reused tokens; raise FRESH_TOKENS"
fi
printf 'server ERROR lines: %s\n' "$(grep -c '"level":"ERROR"' serve.log || true)"
