#!/usr/bin/env python3
"""Mints COUNT distinct dev-issuer access tokens, fast, for the "every token new" run.

`portcullis token` starts a process per token (tens of milliseconds each), too slow for tens of
thousands. This signs with the same dev-issuer key (from the data directory `portcullis token`
just used) and copies the claim set of a token `portcullis token` printed, changing only `sub`
(cycling over SUBS subjects, users the server already knows), `jti` and `iat`/`exp`, so every
token is new to the verifier but no request provisions a user.

usage: mint.py KEYS_JSON TEMPLATE_TOKEN SUBS COUNT > tokens.txt
"""
import base64, json, os, sys, time, uuid
from multiprocessing import Pool
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def unb64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def init(keys_path, template):
    global KEY, HEADER, CLAIMS
    keys = json.load(open(keys_path))
    k = next(k for k in keys["keys"] if k["kid"] == keys["current"])
    KEY = serialization.load_der_private_key(base64.b64decode(k["pkcs8"]), password=None)
    h, c, _ = template.split(".")
    HEADER = b64(unb64(h))
    CLAIMS = json.loads(unb64(c))

def mint(args):
    i, subs = args
    c = dict(CLAIMS)
    now = int(time.time())
    c.update(sub=f"user-{i % subs + 1}", username=f"user-{i % subs + 1}",
             jti=str(uuid.uuid4()), iat=now, auth_time=now, exp=now + 3600)
    signing_input = f"{HEADER}.{b64(json.dumps(c, separators=(',', ':')).encode())}"
    sig = KEY.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(sig)}"

if __name__ == "__main__":
    keys_path, template, subs, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with Pool(os.cpu_count(), initializer=init, initargs=(keys_path, template)) as pool:
        for t in pool.imap(mint, ((i, subs) for i in range(count)), chunksize=256):
            sys.stdout.write(t + "\n")
