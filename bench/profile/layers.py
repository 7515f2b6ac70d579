#!/usr/bin/env python3
"""Instructions per request by layer, from the callgrind profiles of bench/profile/run.sh.

Every instruction is attributed by the source file it comes from (callgrind keeps the file of
inlined code, so a hyper function inlined into a tower future still counts as hyper), and, for
code of the standard library (`core::ptr::drop_in_place<...>`, `alloc::...`), by the function
it belongs to. Inclusive counts of nested futures are unusable here (the layers' generic poll
functions recurse into each other, which callgrind reports as cycles); self counts add up.

usage: layers.py N callgrind.healthz callgrind.me
"""
import re, subprocess, sys
from collections import defaultdict

n = int(sys.argv[1])

# (layer, pattern on "file:function"), first match wins.
LAYERS = [
    ("SHA-256 of the token", r"/aws-lc/.*sha|sha256|token_digest"),
    ("RSA signature check, JWT decoding (aws-lc, auth crate)", r"/aws-lc|aws_lc|bn_|crates/auth/src/(jwt|keys|decode|signature)|base64"),
    ("allocator (malloc, free)", r"malloc|/arena\.c|__rust_alloc|__rust_dealloc|__rust_realloc|__rdl_|alloc/src/alloc\.rs"),
    ("memcpy, memmove (moving futures, buffers)", r"memmove|memcpy|memset"),
    ("access log line and request span (tracing)", r"tracing|telemetry/json_line|telemetry/batch_writer|tracing_log"),
    ("request id", r"telemetry/request_id|/uuid-"),
    ("metrics (Prometheus handles, last hour)", r"/metrics-|metrics_util|crates/server/src/metrics/(handles|recent|mod)\.rs|quanta"),
    ("access-log/metrics middleware (track)", r"crates/server/src/metrics/http\.rs"),
    ("verified-token cache (moka), verifier", r"crates/auth/src/(verifier|verified|policy|claims)|moka|crossbeam|cht/"),
    ("bearer parsing, DPoP headers", r"crates/auth/src/(bearer|dpop)"),
    ("principal, revocation, rate limit, flags, MFA", r"crates/server/src/(access|principal|revocation|limits|flags|mfa|cluster|state)"),
    ("/v1/me body (serde_json, chrono)", r"serde_json|serde_core|/serde-|chrono|routes/me\.rs"),
    ("other server code (stack, problem, challenge, handlers)", r"crates/server/src/"),
    ("hyper: HTTP/1 parsing, writing, connection", r"/hyper-[0-9]|httparse|/http-[0-9]|/bytes-|/http-body"),
    ("axum routing, tower plumbing", r"/axum|/tower|/matchit|/futures-|/pin-project"),
    ("tokio: tasks, I/O readiness, timers", r"/tokio|/mio-|/parking_lot|futex|epoll|pthread"),
    ("hashing (SipHash), hash tables", r"hash/sip|hashbrown|collections/hash"),
    ("formatting (core::fmt)", r"core/src/fmt|core/src/num|alloc/src/fmt|alloc/src/string"),
]

def fn_crate(name):
    m = re.search(r"(?:<|^)([a-z_][a-z0-9_]*)::", name)
    return m[1] if m else ""

def self_costs(path):
    out = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    total, rows = 0, []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*?)(?: \[[^\]]*\])?$", line)
        if not m:
            continue
        count = int(m[1].replace(",", ""))
        name = m[2]
        if name == "PROGRAM TOTALS":
            total = count
        elif ":" in name:
            rows.append((count, name))
    return total, rows

def classify(name):
    file, _, func = name.partition(":")
    key = name
    if re.search(r"/rustc/|/library/", file):
        # Standard library code: charge it to the crate of the function it was inlined into.
        key = f"{fn_crate(func)}:{func}"
        if re.search(r"alloc/src/alloc\.rs|__rust_|__rdl_", name):
            key = name
    for layer, pattern in LAYERS:
        if re.search(pattern, key) or re.search(pattern, name):
            return layer
    return "other (libc, std, unattributed)"

results = []
for path in sys.argv[2:]:
    total, rows = self_costs(path)
    # callgrind_annotate lists the threads' entry points with inclusive counts first; skip
    # rows whose count is near the total (they are not self costs).
    by = defaultdict(int)
    for count, name in rows:
        if count > total * 0.5:
            continue
        by[classify(name)] += count
    results.append((path, total, by))

layers = [l for l, _ in LAYERS] + ["other (libc, std, unattributed)"]
print(f"{'instructions per request':<58}" + "".join(f"{p.split('/')[-1]:>18}" for p, _, _ in results))
for layer in layers:
    print(f"{layer:<58}" + "".join(f"{by.get(layer, 0) / n:18,.0f}" for _, _, by in results))
print(f"{'total':<58}" + "".join(f"{t / n:18,.0f}" for _, t, _ in results))
