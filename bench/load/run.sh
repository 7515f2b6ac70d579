#!/usr/bin/env bash
# Load test on loopback: starts `portcullis serve` (release build, embedded dev issuer, rate
# limits off) and measures, in one run, with wrk:
#   0. the bare RS256 signature check       (the auth crate's criterion bench, before the server)
#   1. GET /healthz                         (the HTTP floor)
#   2. GET /v1/me, a few tokens reused      (verified-token cache hits)
#   3. GET /v1/me, every token new          (signature path; the users already exist)
# For each HTTP run: req/s, p50/p99, and the CPU time the server and wrk used per request
# (utime+stime from /proc, so what the two share the cores for is visible).
# Results: docs/benchmarks.md, "Load". Bounded: DURATION seconds per run (default 10).
#
#   bench/load/run.sh                      # defaults
#   DURATION=5 CONNECTIONS=64 bench/load/run.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/services.sh

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
REUSE_TOKENS=${REUSE_TOKENS:-50}
# Enough for DURATION seconds of the signature path at up to 32k req/s; a shortfall (tokens used
# twice, i.e. cache hits in the "every token new" run) is reported in the summary.
FRESH_TOKENS=${FRESH_TOKENS:-$((DURATION * 32000))}
LOG_LEVEL=${PORTCULLIS_LOG:-info}

command -v wrk >/dev/null || apt_install wrk
[ -x /usr/bin/time ] || apt_install time
python3 -c 'import cryptography' 2>/dev/null || apt_install python3-cryptography

cargo build --release --locked -p portcullis
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/release/portcullis"

log "bare RS256 signature check (cargo bench -p portcullis-auth --bench verify)"
cargo bench --locked -p portcullis-auth --bench verify -- --warm-up-time 2 --measurement-time 5 \
    bare_rs256_signature_verify > /dev/null
BARE_NS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' \
    "$TARGET/criterion/bare_rs256_signature_verify/new/estimates.json")

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
for k in $(env | grep -o '^PORTCULLIS_[A-Z_]*'); do unset "$k"; done
export PORTCULLIS_LISTEN=127.0.0.1:$PORT PORTCULLIS_METRICS_LISTEN=127.0.0.1:0 \
    PORTCULLIS_AUTH__PROVIDER=dev PORTCULLIS_RATE_LIMIT__PER_IP=0 PORTCULLIS_RATE_LIMIT__PER_USER=0 \
    PORTCULLIS_LOG=$LOG_LEVEL
cd "$WORK"

log "minting $REUSE_TOKENS tokens with portcullis token"
for i in $(seq 1 "$REUSE_TOKENS"); do "$BIN" token --sub "user-$i"; done > reuse.txt
log "minting $FRESH_TOKENS distinct tokens (bench/load/mint.py, same key and claims)"
python3 "$ROOT/bench/load/mint.py" .portcullis/dev-issuer-keys.json "$(head -n 1 reuse.txt)" \
    "$REUSE_TOKENS" "$FRESH_TOKENS" > fresh.txt

"$BIN" serve 2> serve.log > /dev/null &
SERVER=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
# Provision every user once, so no measured request writes to the database.
while read -r t; do curl -fs -o /dev/null -H "Authorization: Bearer $t" "http://127.0.0.1:$PORT/v1/me"; done < reuse.txt

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
b, a, hz, n, u, s = map(float, sys.argv[1:])
print(f"server {(a - b) / hz / n * 1e6:6.1f} us/req   wrk {(u + s) / n * 1e6:5.1f} us/req")' \
        "$before" "$after" "$(getconf CLK_TCK)" "$requests" $(cat "$name.wrktime"))
    printf '%-22s %10s req/s   p50 %-9s p99 %-9s %s   %s\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$extra" | tee -a summary.txt
    echo "$rps" > "$name.rps"
}
run healthz "http://127.0.0.1:$PORT/healthz"
TOKENS=$WORK/reuse.txt run me_reused_tokens -s "$ROOT/bench/load/tokens.lua" "http://127.0.0.1:$PORT/v1/me"
TOKENS=$WORK/fresh.txt run me_every_token_new -s "$ROOT/bench/load/tokens.lua" "http://127.0.0.1:$PORT/v1/me"

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
read -r fresh_requests < <(awk -F'requests=' '/^tokens_in_file/ {print $2}' me_every_token_new.out)
if [ "${fresh_requests:-0}" -gt "$FRESH_TOKENS" ]; then
    echo "WARNING: $fresh_requests requests for $FRESH_TOKENS tokens: the 'every token new' run reused tokens; raise FRESH_TOKENS"
fi
printf 'server ERROR lines: %s\n' "$(grep -c '"level":"ERROR"' serve.log || true)"
