#!/usr/bin/env python3
"""Sends exactly COUNT `GET PATH` requests over CONNECTIONS keep-alive connections and exits
non-zero unless every one answered 200. With TOKENS_FILE, each request carries the next token
of that file (cycling) as `Authorization: Bearer`.

wrk runs for a duration, not a number of requests; an instruction count per request needs the
number exact.

usage: send.py HOST PORT PATH COUNT CONNECTIONS [TOKENS_FILE]
"""
import http.client, sys, threading

host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count, conns = int(sys.argv[4]), int(sys.argv[5])
tokens = []
if len(sys.argv) > 6:
    with open(sys.argv[6]) as f:
        tokens = [t.strip() for t in f if t.strip()]
headers = [{"Authorization": "Bearer " + t} for t in tokens] or [{}]
failed = [0] * conns

def worker(k):
    c = http.client.HTTPConnection(host, port)
    for i in range(k, count, conns):
        c.request("GET", path, headers=headers[i % len(headers)])
        r = c.getresponse()
        r.read()
        if r.status != 200:
            failed[k] += 1
    c.close()

threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
if sum(failed):
    sys.exit(f"{path}: {sum(failed)} of {count} requests did not answer 200")
