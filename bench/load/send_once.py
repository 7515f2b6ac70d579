#!/usr/bin/env python3
"""Sends GET /v1/me once with each of the first COUNT tokens of TOKENS_FILE, over a few
keep-alive connections, and prints how many answered 200.

wrk cannot stop after one pass over a file (it always runs for its full duration, cycling), and
the RSS measurement needs exactly COUNT distinct tokens, each presented once.

usage: send_once.py HOST PORT TOKENS_FILE COUNT [CONNECTIONS]
"""
import http.client, sys, threading
from itertools import islice

host, port, path, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
conns = int(sys.argv[5]) if len(sys.argv) > 5 else 4
with open(path) as f:
    tokens = [t.strip() for t in islice(f, count)]
if len(tokens) < count:
    sys.exit(f"{path} holds {len(tokens)} tokens, fewer than {count}")
ok, other = [0] * conns, [0] * conns

def worker(k):
    c = http.client.HTTPConnection(host, port)
    for t in tokens[k::conns]:
        c.request("GET", "/v1/me", headers={"Authorization": "Bearer " + t})
        r = c.getresponse()
        r.read()
        if r.status == 200:
            ok[k] += 1
        else:
            other[k] += 1
    c.close()

threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
print(f"distinct_tokens_sent={len(tokens)} ok={sum(ok)} other={sum(other)}")
