"""campus cert and campus verify, the real binary against a real campusd and
a real redis-server: the credential saved to a file and verified offline
after campusd has stopped; tampered payload and signature, an unknown kid
and an expired credential are invalid (exit 1); an incomplete course shows
what is missing; --online reports a revoked credential; the issuer keys are
trusted on first use (mode 0600), new kids are added, and a changed key for
a known kid is refused."""

import base64
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time

import harness
from harness import Env

CAMPUS = os.path.join(harness.BUILD, "clients", "terminal", "campus")
FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]
PW = "the password 1"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

env = None
homes = []
_names = [0]


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def server():
    return "127.0.0.1:%d" % env.campusd.text_port


class Home:
    """A fresh $HOME with its own XDG directories, logged in as a new learner."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="campus-cert-home-")
        homes.append(self.dir)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("XDG_") and k not in ("NO_COLOR", "CAMPUS_SERVER", "PAGER")}
        self.env.update(HOME=self.dir, XDG_CONFIG_HOME=os.path.join(self.dir, "config"),
                        XDG_CACHE_HOME=os.path.join(self.dir, "cache"),
                        XDG_STATE_HOME=os.path.join(self.dir, "state"), LANG="C.UTF-8",
                        CAMPUS_SERVER=server(), CAMPUS_TIMEOUT="10")
        _names[0] += 1
        self.name = "certlearner%d" % _names[0]
        assert as_admin('USER ADD %s learner "%s"' % (self.name, PW)).code == 201
        self.login_out, self.login_err = self.ok("login", "--user", self.name,
                                                 "--password-stdin", input=PW + "\n")

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def issuers(self):
        return self.path("config", "campus", "issuers",
                         "127.0.0.1_%d.jwks" % env.campusd.text_port)

    def run(self, *args, input=None, extra=None, timeout=60):
        e = dict(self.env)
        e.update(extra or {})
        p = subprocess.run([CAMPUS] + list(args), input=(input or "").encode(), env=e,
                           cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        for mark in SANITIZER:
            assert mark not in err, "sanitizer report from campus %s:\n%s" % (args, err)
        return p.returncode, out, err

    def ok(self, *args, **kw):
        rc, out, err = self.run(*args, **kw)
        assert rc == 0, "campus %s -> %d\n%s%s" % (" ".join(args), rc, out, err)
        return out, err

    def complete(self):
        """The demo course asks for 80% of its 3 lessons and its exercise."""
        for l in ("demo/welcome", "demo/lists", "demo/market"):
            self.ok("done", l)
        # The exercise's pass as the grading script records it.
        env.redis.cmd("HSET", "campus:{u:%s}:passed" % self.name, "demo/lists",
                      str(int(time.time() * 1000)))


def setup():
    global env
    env = Env(extra=FAST)
    p = subprocess.run([harness.CAMPUSD, "--redis", "127.0.0.1:%d" % env.redis.port,
                        "--add-user", "adam", "--role", "admin"] + FAST,
                       input=(PW + "\n").encode(), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr


def as_admin(line):
    """One request as the admin, on its own connection (campusd restarts)."""
    c = env.campusd.client()
    try:
        assert c.request('LOGIN adam "%s"' % PW).code == 200
        return c.request(line)
    finally:
        c.close()


def teardown():
    for h in homes:
        shutil.rmtree(h, ignore_errors=True)
    env.close()


def hello_issuer():
    c = env.campusd.client()
    try:
        kv = c.request("HELLO").kv()
    finally:
        c.close()
    return kv["issuer-kid"], kv["issuer-key"]


def tamper_payload(jws, change):
    h, p, s = jws.split(".")
    doc = json.loads(b64d(p))
    change(doc)
    return ".".join([h, b64e(json.dumps(doc).encode()), s])


def flip(part_text, i):
    c = part_text[i]
    return part_text[:i] + ("B" if c == "A" else "A") + part_text[i + 1:]


# ---- tests ----

def test_incomplete_course_shows_what_is_missing():
    h = Home()
    h.ok("done", "demo/welcome")
    rc, out, err = h.run("cert", "demo")
    assert rc == 1, (rc, out, err)
    assert "409" in err and "not complete" in err, err
    lines = [l.split("\t") for l in out.splitlines()]
    kinds = {(l[0], l[1]) for l in lines if len(l) >= 2}
    assert ("lesson", "demo/lists") in kinds and ("lesson", "demo/market") in kinds, out
    assert ("lesson", "demo/welcome") not in kinds, out
    assert any(k == "exercise" for k, _ in kinds), out
    assert not os.path.exists(h.path("demo.jwt"))


def test_cert_saved_trusted_and_listed():
    h = Home()
    h.complete()
    kid, x = hello_issuer()
    out, err = h.ok("cert", "demo")
    assert out.startswith("issued: demo.jwt\n"), out
    assert "recipient\t%s\n" % h.name in out, out
    assert "achievement\t" in out and "score\t" in out and "issued\t20" in out, out
    path = h.path("demo.jwt")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    jws = open(path).read().strip()
    hdr = json.loads(b64d(jws.split(".")[0]))
    assert hdr["alg"] == "EdDSA" and hdr["kid"] == kid, hdr
    # Trust on first use, at login (HELLO named a kid not saved): the key
    # set of this server, mode 0600; cert found it already saved.
    assert "trusting on first use 1 issuer key of %s" % server() in h.login_err, h.login_err
    assert "trusting" not in err and "added" not in err, err
    st = os.stat(h.issuers())
    assert stat.S_IMODE(st.st_mode) == 0o600
    keys = json.load(open(h.issuers()))["keys"]
    assert any(k["kid"] == kid and k["x"] == x for k in keys), keys
    # Again: the same credential, the key set not rewritten.
    before = os.stat(h.issuers()).st_mtime_ns
    out, err = h.ok("cert", "demo", "again.jwt")
    assert os.stat(h.issuers()).st_mtime_ns == before
    assert out.startswith("already issued: again.jwt\n"), out
    assert "trusting" not in err and "added" not in err, err
    assert open(h.path("again.jwt")).read().strip() == jws
    out, err = h.ok("cert", "demo", "-")
    assert out.strip() == jws and "recipient\t%s" % h.name in err, (out, err)
    cid = json.loads(b64d(jws.split(".")[1]))["jti"].split(":")[-1]
    out, _ = h.ok("cert", "list")
    assert cid in out and "demo" in out, out


def test_verify_offline_with_the_server_stopped():
    h = Home()
    h.complete()
    h.ok("cert", "demo")
    jws = open(h.path("demo.jwt")).read().strip()
    hd, pl, sg = jws.split(".")
    forged_kid = b64e(json.dumps({"alg": "EdDSA", "typ": "JWT", "kid": "not-a-known-kid"}).encode())
    other_name = tamper_payload(jws, lambda d: d["credentialSubject"].update(name="Mallory"))
    files = {
        "payload-byte.jwt": ".".join([hd, flip(pl, len(pl) // 2), sg]),
        "signature-byte.jwt": ".".join([hd, pl, flip(sg, 10)]),
        "other-name.jwt": other_name,
        "unknown-kid.jwt": ".".join([forged_kid, pl, sg]),
        "malformed.jwt": "not.a-jws",
        "alg-none.jwt": ".".join([b64e(b'{"alg":"none","kid":"x"}'), pl, ""]),
        # Strict base64url: padding, the other alphabet, and a last character
        # whose unused low bits are set (same bytes, not the canonical text).
        "padded.jwt": ".".join([hd, pl, sg + "=="]),
        "plus.jwt": ".".join([hd, pl.replace("-", "+").replace("_", "/")
                              if ("-" in pl or "_" in pl) else "+" + pl[1:], sg]),
        "unused-bits.jwt": ".".join([hd, pl, sg[:-1] + ALPHABET[ALPHABET.index(sg[-1]) ^ 1]]),
    }
    for name, text in files.items():
        with open(h.path(name), "w") as f:
            f.write(text + "\n")
    env.campusd.stop()
    try:
        out, err = h.ok("verify", "demo.jwt")
        assert out.startswith("valid (signature checked offline"), out
        assert "recipient\t%s\n" % h.name in out, out
        assert "issuer\tCampus" in out and "achievement\t" in out and "score\t" in out, out
        assert "revocation\tnot checked offline" in out, out
        # A changed byte anywhere in the payload or the signature (a spread
        # of positions in each, bounded) is a bad signature.
        for part in (1, 2):
            text = [hd, pl, sg][part]
            for i in range(0, len(text) - 1, max(1, len(text) // 6)):
                parts = [hd, pl, sg]
                parts[part] = flip(text, i)
                with open(h.path("byte.jwt"), "w") as f:
                    f.write(".".join(parts))
                rc, out, _ = h.run("verify", "byte.jwt")
                assert rc == 1 and out.startswith("INVALID: bad signature"), (part, i, out)
        for name in files:
            rc, out, err = h.run("verify", name)
            assert rc == 1, (name, rc, out, err)
            assert out.startswith("INVALID: "), (name, out)
        assert "bad signature" in h.run("verify", "other-name.jwt")[1]
        assert "bad signature" in h.run("verify", "payload-byte.jwt")[1]
        assert "bad signature" in h.run("verify", "signature-byte.jwt")[1]
        assert "unknown issuer key 'not-a-known-kid'" in h.run("verify", "unknown-kid.jwt")[1]
        assert "malformed" in h.run("verify", "malformed.jwt")[1]
        assert "malformed" in h.run("verify", "alg-none.jwt")[1]
        for name in ("padded.jwt", "plus.jwt", "unused-bits.jwt"):
            assert "INVALID: malformed: bad base64url" in h.run("verify", name)[1], name
        # Another machine that never trusted this server knows no key.
        fresh = tempfile.mkdtemp(prefix="campus-cert-fresh-")
        homes.append(fresh)
        e = dict(h.env, XDG_CONFIG_HOME=os.path.join(fresh, "config"))
        rc, out, _ = h.run("verify", h.path("demo.jwt"), extra=e)
        assert rc == 1 and "unknown issuer key" in out, out
    finally:
        env.campusd.start()


def test_expired_credential_is_invalid():
    """Signed here with a key the home trusts, so the clock is the only fault."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    h = Home()
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    os.makedirs(os.path.dirname(h.issuers()), exist_ok=True)
    other = os.path.join(os.path.dirname(h.issuers()), "elsewhere_7070.jwks")
    with open(other, "w") as f:
        json.dump({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64e(raw), "kid": "k1"}]}, f)

    def sign(payload):
        hp = b64e(json.dumps({"alg": "EdDSA", "kid": "k1"}).encode()) + "." + \
            b64e(json.dumps(payload).encode())
        return hp + "." + b64e(key.sign(hp.encode()))

    now = int(time.time())
    base = {"issuer": {"name": "Elsewhere"}, "validFrom": "2020-01-01T00:00:00Z",
            "credentialSubject": {"name": "Ada", "achievement": {"name": "Course"}}}
    cases = {"good.jwt": dict(base, nbf=now - 10, exp=now + 3600),
             "expired.jwt": dict(base, nbf=now - 7200, exp=now - 3600),
             "future.jwt": dict(base, nbf=now + 3600)}
    for name, p in cases.items():
        with open(h.path(name), "w") as f:
            f.write(sign(p))
    out, _ = h.ok("verify", "good.jwt")
    assert "elsewhere_7070" in out and "recipient\tAda" in out, out
    rc, out, _ = h.run("verify", "expired.jwt")
    assert rc == 1 and "INVALID: expired at " in out, out
    rc, out, _ = h.run("verify", "future.jwt")
    assert rc == 1 and "INVALID: not valid before " in out, out


def test_online_reports_a_revoked_credential():
    h = Home()
    h.complete()
    h.ok("cert", "demo")
    jws = open(h.path("demo.jwt")).read().strip()
    out, _ = h.ok("verify", "demo.jwt", "--online")
    assert out.startswith("valid (checked by "), out
    cid = json.loads(b64d(jws.split(".")[1]))["jti"].split(":")[-1]
    r = as_admin("CERT REVOKE %s issued in error" % cid)
    assert r.code == 200, r
    rc, out, err = h.run("verify", "demo.jwt", "--online")
    assert rc == 1, (rc, out, err)
    assert out.startswith("INVALID") and "revoked: issued in error" in out, out
    # Offline cannot know: it says so.
    out, _ = h.ok("verify", "demo.jwt")
    assert "revocation\tnot checked offline" in out, out


def test_new_kids_merge_and_a_changed_key_is_refused():
    kid, x = hello_issuer()
    h = Home()
    h.complete()
    os.makedirs(os.path.dirname(h.issuers()), exist_ok=True)
    old = {"kty": "OKP", "crv": "Ed25519", "x": b64e(b"\x01" * 32), "kid": "an-older-key"}
    with open(h.issuers(), "w") as f:
        json.dump({"keys": [old]}, f)
    os.chmod(h.issuers(), 0o600)
    out, err = h.ok("cert", "demo")
    assert "added 1 issuer key" in err, err
    keys = {k["kid"]: k["x"] for k in json.load(open(h.issuers()))["keys"]}
    assert keys == {"an-older-key": old["x"], kid: x}, keys
    assert stat.S_IMODE(os.stat(h.issuers()).st_mode) == 0o600
    # The same kid with another key: refused loudly, nothing saved.
    forged = {"keys": [dict(old, kid=kid, x=b64e(b"\x02" * 32))]}
    with open(h.issuers(), "w") as f:
        json.dump(forged, f)
    before = open(h.issuers()).read()
    os.remove(h.path("demo.jwt"))
    rc, out, err = h.run("cert", "demo")
    assert rc == 1, (rc, out, err)
    assert "WARNING" in err and "issuer key '%s' has changed" % kid in err, err
    assert open(h.issuers()).read() == before
    assert not os.path.exists(h.path("demo.jwt"))
    # A login to that server warns the same way; the login itself stands.
    out, err = h.ok("login", "--user", h.name, "--password-stdin", input=PW + "\n")
    assert "logged in as %s" % h.name in out, out
    assert "WARNING" in err and "issuer key '%s' has changed" % kid in err, err
    assert open(h.issuers()).read() == before


def test_cert_trusts_keys_when_login_did_not():
    """A key set saved by neither login nor anything else: cert saves it."""
    kid, _ = hello_issuer()
    h = Home()
    h.complete()
    os.remove(h.issuers())
    out, err = h.ok("cert", "demo")
    assert "trusting on first use 1 issuer key" in err, err
    assert stat.S_IMODE(os.stat(h.issuers()).st_mode) == 0o600
    assert [k["kid"] for k in json.load(open(h.issuers()))["keys"]] == [kid]


if __name__ == "__main__":
    harness.main(globals())
