"""Certificates against a real campusd and a real redis-server: issue once
the completion rule holds (409 naming what is missing before), verify,
tamper with every byte of payload and signature, a wrong key, expiry (test
clock), revocation (VERIFY and the signed status list), who may see and
revoke what, interop with the jose and ajv npm packages, key rotation, and
that the private key is never answered or logged."""

import base64
import gzip
import json
import os
import subprocess
import tempfile
import time

import harness
from harness import Env, http

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]
PW = "the password 1"
WEB = os.path.join(harness.SOURCE, "tests", "web")
SCHEMA = os.path.join(harness.SOURCE, "tests", "fixtures", "openbadges",
                      "ob_v3p0_achievementcredential_subset.schema.json")

env = None
clock = None
conns = {}
answers = []          # every byte campusd sent, for the private key scan


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def set_clock(value_ms):
    with open(clock + ".tmp", "w") as f:
        f.write("%d\n" % value_ms)
    os.replace(clock + ".tmp", clock)


def req(c, line):
    r = c.request(line)
    answers.append(r.text.encode() + (r.body or b""))
    return r


def literal(c, line, data):
    if isinstance(data, str):
        data = data.encode()
    c.send(line.encode() + b" {%d}\r\n" % len(data) + data)
    r = c.read_response()
    answers.append(r.text.encode() + (r.body or b""))
    return r


def h(method, path, body=None, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    st, hd, b = http(env.campusd.http_port, method, path, body, headers)
    answers.append(b)
    return st, hd, b


def login(name):
    c = env.campusd.client()
    r = c.request('LOGIN %s "%s"' % (name, PW))
    assert r.code == 200, r
    return c


def setup():
    global env, clock
    tmpdir = tempfile.mkdtemp(prefix="campus-cert-clock-")
    clock = os.path.join(tmpdir, "clock")
    set_clock(int(time.time() * 1000))
    env = Env(extra=FAST + ["--test-clock", clock, "--cert-valid-days", "30"])
    p = subprocess.run([harness.CAMPUSD, "--redis", "127.0.0.1:%d" % env.redis.port,
                        "--add-user", "adam", "--role", "admin"] + FAST,
                       input=(PW + "\n").encode(), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    admin = login("adam")
    for name in ("lena", "otto", "pia"):
        assert admin.request('USER ADD %s learner "%s"' % (name, PW)).code == 201
    assert admin.request('USER ADD tara trainer "%s"' % PW).code == 201
    conns["admin"] = admin
    for name in ("lena", "otto", "pia", "tara"):
        conns[name] = login(name)
    conns["anon"] = env.campusd.client()


def teardown():
    for c in conns.values():
        c.close()
    env.close()


def complete(name, c):
    """The demo course asks for 80% of its 3 lessons (so 3) and 1 exercise."""
    for l in ("demo/welcome", "demo/lists", "demo/market"):
        assert req(c, "DONE " + l).code == 200
    # The exercise pass as the grading script records it.
    env.redis.cmd("HSET", "campus:{u:%s}:passed" % name, "demo/lists", str(int(time.time() * 1000)))


def issue(c):
    r = req(c, "CERT demo")
    assert r.code in (200, 201), r
    return r.body.decode()


def verify(jws, c=None):
    r = literal(c or conns["anon"], "VERIFY", jws)
    assert r.code == 200, r
    return r.kv()


# ---- tests ----

def test_incomplete_course_is_409_with_what_is_missing():
    c = conns["otto"]
    assert req(c, "DONE demo/welcome").code == 200
    r = req(c, "CERT demo")
    assert r.code == 409, r
    rows = r.rows()
    missing = {(x["kind"], x["id"]) for x in rows}
    assert ("lesson", "demo/lists") in missing and ("lesson", "demo/market") in missing, rows
    assert ("lesson", "demo/welcome") not in missing, rows
    assert any(k == "exercise" for k, _ in missing), rows
    assert env.redis.cmd("HLEN", "campus:{u:otto}:certs") == b":0"
    st, _, b = h("POST", "/api/certs/demo", b"{}", token=None)
    assert st == 401, b


def test_a_passed_exercise_counts_as_its_lesson_done():
    """PROGRESS counts a passed quiz as done without a DONE of its lesson;
    CERT must judge the course by the same rule."""
    c = conns["pia"]
    for l in ("demo/welcome", "demo/market"):
        assert req(c, "DONE " + l).code == 200
    env.redis.cmd("HSET", "campus:{u:pia}:passed", "demo/lists", str(int(time.time() * 1000)))
    assert env.redis.cmd("HEXISTS", "campus:{u:pia}:done", "demo/lists") == b":0"
    r = req(c, "CERT demo")
    assert r.code in (200, 201), r
    assert env.redis.cmd("HLEN", "campus:{u:pia}:certs") == b":1"


def test_issue_store_and_verify():
    c = conns["lena"]
    complete("lena", c)
    r = req(c, "CERT demo")
    assert r.code == 201, r
    jws = r.body.decode()
    again = req(c, "CERT demo")
    assert again.code == 200 and again.body.decode() == jws, again
    hdr = json.loads(b64d(jws.split(".")[0]))
    assert hdr["alg"] == "EdDSA" and hdr["kid"], hdr
    p = json.loads(b64d(jws.split(".")[1]))
    assert "OpenBadgeCredential" in p["type"]
    assert p["credentialSubject"]["name"] == "lena"
    assert p["credentialSubject"]["identifier"] == [
        {"type": "IdentityObject", "hashed": False, "identityHash": "lena", "identityType": "name"}]
    ach = p["credentialSubject"]["achievement"]
    assert ach["name"] == "Demo course" and ach["version"] == "1.0.0", ach
    # course.md's criteria and skills, then the rule campusd checks.
    assert ach["criteria"]["narrative"].startswith("Read the three lessons and pass the quiz. Complete 80%"), ach
    assert ach["tag"] == ["Reading the demo format", "Answering a quiz"], ach
    assert p["credentialStatus"]["type"] == "BitstringStatusListEntry"
    cid = p["id"][len("urn:uuid:"):]
    rec = json.loads(env.redis.cmd("HGET", "campus:{u:lena}:certs", "demo"))
    assert rec["jwt"] == jws and rec["id"] == cid
    assert env.redis.cmd("HGET", "campus:{certs}:by-id", cid) == b"lena demo"
    kv = verify(jws)
    assert kv["valid"] == "yes" and kv["subject"] == "lena" and kv["kid"] == hdr["kid"], kv
    st, _, b = h("POST", "/api/verify", json.dumps({"credential": jws}).encode())
    assert st == 200 and json.loads(b)["data"]["valid"] == "yes", b
    lst = req(c, "CERT LIST").rows()
    assert [x["id"] for x in lst] == [cid], lst


def test_tamper_every_byte_of_payload_and_signature():
    jws = issue(conns["lena"])
    h64, p64, s64 = jws.split(".")
    start = len(h64) + 1
    positions = list(range(start, start + len(p64))) + list(range(len(jws) - len(s64), len(jws)))
    assert len(positions) < 4000
    t0 = time.time()
    c = conns["anon"]
    for i in positions:
        assert time.time() - t0 < 120
        ch = jws[i]
        bad = jws[:i] + ("B" if ch != "B" else "C") + jws[i + 1:]
        kv = verify(bad, c)
        assert kv["valid"] == "no", (i, kv)


def test_wrong_key_and_garbage():
    jws = issue(conns["lena"])
    h64, p64, s64 = jws.split(".")
    hdr = json.loads(b64d(h64))
    hdr["kid"] = "A" * 43
    forged = base64.urlsafe_b64encode(json.dumps(hdr).encode()).decode().rstrip("=")
    kv = verify(forged + "." + p64 + "." + s64)
    assert kv["valid"] == "no" and "unknown issuer key" in kv["reason"], kv
    # Signed by a key of our own making: a valid signature, not the issuer's.
    # (the openssl command line, so the test needs no Python package)
    d = tempfile.mkdtemp(prefix="campus-cert-key-")
    key, data = os.path.join(d, "k.pem"), os.path.join(d, "in")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key],
                   check=True, capture_output=True, timeout=30)
    with open(data, "wb") as f:
        f.write((h64 + "." + p64).encode())
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", data],
                         check=True, capture_output=True, timeout=30).stdout
    assert len(sig) == 64, len(sig)
    kv = verify(h64 + "." + p64 + "." + base64.urlsafe_b64encode(sig).decode().rstrip("="))
    assert kv["valid"] == "no" and kv["reason"] == "bad signature", kv
    for junk in ("x", "a.b", "a.b.c.d", "...."):
        assert verify(junk)["valid"] == "no"


def test_expired():
    jws = issue(conns["lena"])
    set_clock(int(time.time() * 1000) + 31 * 86400 * 1000)
    try:
        kv = verify(jws)
        assert kv["valid"] == "no" and kv["reason"].startswith("expired"), kv
    finally:
        set_clock(int(time.time() * 1000))
    assert verify(jws)["valid"] == "yes"


def test_others_cannot_see_or_revoke():
    jws = issue(conns["lena"])
    cid = json.loads(b64d(jws.split(".")[1]))["id"][9:]
    r = req(conns["otto"], "CERT SHOW " + cid)
    assert r.code == 404, r
    r = req(conns["otto"], "CERT REVOKE %s because" % cid)
    assert r.code == 403, r
    r = req(conns["tara"], "CERT REVOKE %s because" % cid)
    assert r.code == 403, r            # not a trainer of a cohort of hers
    assert req(conns["lena"], "CERT SHOW " + cid).body.decode() == jws
    assert req(conns["admin"], "CERT SHOW " + cid).code == 200
    assert verify(jws)["valid"] == "yes"


def test_page_and_issuer_and_interop():
    jws = issue(conns["lena"])
    cid = json.loads(b64d(jws.split(".")[1]))["id"][9:]
    st, hd, page = h("GET", "/certificates/" + cid)
    assert st == 200 and hd["content-type"].startswith("text/html"), (st, page[:200])
    assert jws.encode() in page and b"@page" in page and b"size:A4" in page and b"letter" in page
    assert b"/api/verify" in page
    st, _, _ = h("GET", "/certificates/00000000-0000-4000-8000-000000000000")
    assert st == 404
    st, _, jwks = h("GET", "/api/issuer")
    assert st == 200, jwks
    keys = json.loads(jwks)["keys"]
    assert keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and "d" not in keys[0]
    hello = conns["anon"].request("HELLO").kv()
    assert hello["issuer-kid"] == keys[0]["kid"], hello
    d = tempfile.mkdtemp(prefix="campus-cert-interop-")
    for n, v in (("jwt", jws), ("jwks", jwks.decode())):
        with open(os.path.join(d, n), "w") as f:
            f.write(v)
    run = lambda j: subprocess.run(["node", "verify-cert.mjs", os.path.join(d, j),
                                    os.path.join(d, "jwks"), SCHEMA], cwd=WEB,
                                   capture_output=True, timeout=60)
    p = run("jwt")
    assert p.returncode == 0 and p.stdout.startswith(b"ok "), (p.stdout, p.stderr)
    with open(os.path.join(d, "bad"), "w") as f:
        f.write(jws[:-2] + ("A" if jws[-2] != "A" else "B") + jws[-1])
    p = run("bad")
    assert p.returncode == 1 and b"FAIL" in p.stdout, (p.stdout, p.stderr)


def status_bit(index):
    st, hd, b = h("GET", "/api/status/1")
    assert st == 200 and hd["content-type"] == "application/vc+jwt", (st, b)
    kv = verify(b.decode())
    assert kv["valid"] == "yes", kv
    p = json.loads(b64d(b.decode().split(".")[1]))
    enc = p["credentialSubject"]["encodedList"]
    assert enc[0] == "u"
    bits = gzip.decompress(b64d(enc[1:]))
    assert len(bits) * 8 >= 131072
    return (bits[index // 8] >> (7 - index % 8)) & 1


def test_revoked_and_status_list():
    c = conns["otto"]
    complete("otto", c)
    jws = issue(c)
    p = json.loads(b64d(jws.split(".")[1]))
    cid, idx = p["id"][9:], int(p["credentialStatus"]["statusListIndex"])
    assert status_bit(idx) == 0
    r = req(conns["admin"], "CERT REVOKE %s issued in error" % cid)
    assert r.code == 200, r
    kv = verify(jws)
    assert kv["valid"] == "no" and kv["reason"] == "revoked: issued in error", kv
    assert status_bit(idx) == 1
    lena = json.loads(b64d(issue(conns["lena"]).split(".")[1]))
    assert status_bit(int(lena["credentialStatus"]["statusListIndex"])) == 0


def test_private_key_never_answered_or_logged():
    with open(os.path.join(env.campusd.data, "issuer", "current.pem")) as f:
        pem = f.read()
    assert os.stat(os.path.join(env.campusd.data, "issuer", "current.pem")).st_mode & 0o777 == 0o600
    # An Ed25519 PKCS#8 key is 48 bytes of DER: a fixed 16-byte header, then
    # the 32 raw bytes of the private key.
    der = base64.b64decode("".join(pem.splitlines()[1:-1]))
    assert len(der) == 48, len(der)
    raw = der[16:]
    needles = [raw, base64.urlsafe_b64encode(raw).rstrip(b"="), base64.b64encode(raw).rstrip(b"="),
               raw.hex().encode()] + [l.encode() for l in pem.splitlines()[1:-1] if len(l) > 16]
    assert len(answers) > 20
    hay = b"".join(answers) + env.campusd.log_text().encode()
    for n in needles:
        assert n not in hay, n


def test_rotation_old_still_verifies():
    old = issue(conns["lena"])
    old_kid = json.loads(b64d(old.split(".")[0]))["kid"]
    env.campusd.stop()
    for c in conns.values():
        c.close()
    p = subprocess.run([harness.CAMPUSD, "--data", env.campusd.data, "--rotate-issuer-key"],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    env.campusd.start()
    for name in ("lena", "otto", "pia", "tara"):
        conns[name] = login(name)
    conns["admin"] = login("adam")
    conns["anon"] = env.campusd.client()
    _, _, jwks = h("GET", "/api/issuer")
    keys = json.loads(jwks)["keys"]
    assert len(keys) == 2 and keys[0]["kid"] != old_kid and keys[1]["kid"] == old_kid, keys
    assert verify(old)["valid"] == "yes"
    # A new credential is signed with the new key.
    env.redis.cmd("HDEL", "campus:{u:lena}:certs", "demo")
    new = issue(conns["lena"])
    assert json.loads(b64d(new.split(".")[0]))["kid"] == keys[0]["kid"]
    assert verify(new)["valid"] == "yes"


if __name__ == "__main__":
    harness.main(globals())
