#!/usr/bin/env bash
# Instructions per request of the server, by layer, with callgrind (valgrind): deterministic,
# unlike CPU time on a shared machine, and available where `perf` counters are not.
#
# Starts `portcullis serve` (release build, which carries line tables; embedded dev issuer, rate
# limits off, access log at info, as bench/load/run.sh) under `valgrind --tool=callgrind`, warms
# it up (users provisioned, tokens verified once, every worker thread through both routes), then
# zeroes the counters and sends exactly N `GET /healthz`, dumps, sends exactly N `GET /v1/me`
# with REUSE tokens cycled (verified-token cache hits), dumps again, then NEW (default 1000)
# `GET /v1/me` each with a token never seen before (of the same users: the signature path),
# and dumps a third time. Each dump holds only its phase, so its total divided by the phase's
# requests is the instructions per request, everything the process did included (hyper,
# tokio's wake-ups, the log writer thread, the allocator).
#
# Output in OUT (default bench/profile/out, not committed): callgrind.{healthz,me,new} (the
# raw profiles, for `callgrind_annotate --inclusive=yes` or kcachegrind), *.inclusive.txt (the
# annotated inclusive counts), and summary.txt: per route, the instructions per request and
# their split by layer (bench/profile/layers.py). Results: docs/benchmarks.md, "Lean hot path".
#
#   bench/profile/run.sh                          # builds, N=20000
#   N=5000 BIN=/path/to/other/portcullis bench/profile/run.sh
#
# A binary without symbols (another revision's, built without line tables) still gives the
# totals per request; only the per-layer lines need symbols.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

N=${N:-20000}
REUSE=${REUSE:-4}
# Requests of the third phase, each with a token never seen before (signature path).
NEW=${NEW:-1000}
CONNECTIONS=${CONNECTIONS:-4}
OUT=${OUT:-$ROOT/bench/profile/out}
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ -z "${BIN:-}" ]; then
    cargo build --release --locked -p portcullis
    BIN="$TARGET/release/portcullis"
fi
BIN=$(realpath "$BIN")
mkdir -p "$OUT"
OUT=$(realpath "$OUT")

WORK=$(mktemp -d)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

for k in $(env | grep -o '^PORTCULLIS_[A-Z_]*'); do unset "$k"; done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PORTCULLIS_LISTEN=127.0.0.1:$PORT PORTCULLIS_METRICS_LISTEN=127.0.0.1:0 \
    PORTCULLIS_AUTH__PROVIDER=dev PORTCULLIS_RATE_LIMIT__PER_IP=0 PORTCULLIS_RATE_LIMIT__PER_USER=0 \
    PORTCULLIS_LOG=${PORTCULLIS_LOG:-info}
SEND="python3 $ROOT/bench/profile/send.py 127.0.0.1 $PORT"

cd "$WORK"
for i in $(seq 1 "$REUSE"); do "$BIN" token --sub "user-$i"; done > tokens.txt
# Distinct tokens of the same users, signed with the same dev-issuer key (bench/load/mint.py).
python3 "$ROOT/bench/load/mint.py" .portcullis/dev-issuer-keys.json "$(head -n 1 tokens.txt)" \
    "$REUSE" "$NEW" > new.txt
rm -f "$OUT"/callgrind.*
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.%p" \
    "$BIN" serve 2> serve.log > /dev/null &
SERVER=$!
for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null

# Warm-up: provisions the users, fills the caches, and takes every worker thread's metrics
# handles; not counted.
$SEND /v1/me "$((REUSE * 50))" "$CONNECTIONS" tokens.txt
$SEND /healthz 200 "$CONNECTIONS"
sleep 1
callgrind_control -z "$SERVER" > /dev/null
$SEND /healthz "$N" "$CONNECTIONS"
callgrind_control -d healthz "$SERVER" > /dev/null
$SEND /v1/me "$N" "$CONNECTIONS" tokens.txt
callgrind_control -d me "$SERVER" > /dev/null
$SEND /v1/me "$NEW" "$CONNECTIONS" new.txt
callgrind_control -d new "$SERVER" > /dev/null
kill "$SERVER"
wait "$SERVER" || true
SERVER=

cd "$OUT"
for route in healthz me new; do
    f=$(grep -l "^desc: Trigger: dump $route\$" callgrind.[0-9]*)
    mv "$f" "callgrind.$route"
    callgrind_annotate --inclusive=yes --auto=no --threshold=100 "callgrind.$route" > "$route.inclusive.txt"
done
rm -f callgrind.[0-9]*
{
    python3 "$ROOT/bench/profile/layers.py" "$N" callgrind.healthz callgrind.me
    python3 "$ROOT/bench/profile/layers.py" "$NEW" callgrind.new
} | tee summary.txt
