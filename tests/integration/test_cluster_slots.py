"""The key schema stays Redis Cluster ready: no Lua script touches keys of
two hash tags, over every script in daemon/scripts.c and its callers.

- Each script's source is read from daemon/scripts.c: every key it touches
  must come from KEYS (a key built inside Lua could be of any slot), and
  no script names a key of its own.
- campusd then runs against a redis-server in cluster mode (one node that
  holds all 16,384 slots), where Redis itself refuses a script whose keys
  hash to two slots (CROSSSLOT) and a script that reaches a key it was not
  given in another slot. A workload of every family of verbs (accounts,
  sessions, progress, exercises, reviews, cohorts) runs through the
  scripts' callers; MONITOR shows each EVALSHA with its keys, and each
  call's keys must share one hash tag. Every script must have been run.
  (script_call refuses keys of two tags too, fatally in test builds, so
  the whole integration suite checks the callers it reaches.)"""

import hashlib
import os
import re
import socket
import subprocess
import tempfile
import threading
import time

import harness
from harness import Campusd, Redis, free_port, wait_for

SCRIPTS_C = os.path.join(harness.SOURCE, "daemon", "scripts.c")
SCRIPTS_H = os.path.join(harness.SOURCE, "daemon", "scripts.h")
PW = "a long enough password"
FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
# Redis commands a script may call without a key.
KEYLESS = {"TIME", "PUBLISH"}   # PUBLISH names a channel, not a key


def c_unescape(s):
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            nxt = s[i + 1]
            out.append({"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "r": "\r"}[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def script_sources():
    """{name: Lua source} from the sources[] table of scripts.c."""
    text = open(SCRIPTS_C).read()
    start = text.index("static const char *const sources[SCRIPT_COUNT]")
    body = text[start:text.index("\n};", start)]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    # Macros of Lua text shared by several scripts: #define NAME_LUA "..." \\ ...
    for m in re.finditer(r"^#define\s+([A-Z_]+_LUA)\b((?:.*\\\n)+.*)$", text, re.M):
        lits = " ".join('"%s"' % x for x in re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
        body = re.sub(r"\b%s\b" % m.group(1), lambda _: lits, body)
    out = {}
    for m in re.finditer(r"\[SCRIPT_([A-Z_]+)\]\s*=\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+)", body):
        parts = re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(2))
        out[m.group(1)] = "".join(c_unescape(p) for p in parts)
    return out


def script_ids():
    text = open(SCRIPTS_H).read()
    return [n for n in re.findall(r"^\s*SCRIPT_([A-Z_]+),", text, re.M) if n != "COUNT"]


def hash_tag(key):
    """Redis Cluster's rule: the part between the first { and the next },
    when not empty; else the whole key."""
    i = key.find("{")
    if i >= 0:
        j = key.find("}", i + 1)
        if j > i + 1:
            return key[i + 1:j]
    return key


def test_every_script_takes_its_keys_from_keys():
    sources = script_sources()
    ids = script_ids()
    assert len(ids) > 20 and set(ids) == set(sources), (set(ids) ^ set(sources))
    calls = 0
    for name, src in sources.items():
        assert "campus:" not in src, "%s names a key of its own" % name
        for m in re.finditer(r"redis\.p?call\(\s*'([A-Za-z]+)'\s*(?:,\s*([^,)]+))?", src):
            cmd, first = m.group(1).upper(), (m.group(2) or "").strip()
            calls += 1
            if cmd in KEYLESS:
                continue
            if re.fullmatch(r"[a-z_]+", first):
                # A parameter of a local function: every call passes KEYS.
                fn = re.search(r"local function (\w+)\(%s\b" % first, src)
                assert fn, "%s: %s on %r, not a key from KEYS" % (name, cmd, first)
                args = re.findall(r"\b%s\(\s*([^,)]+)" % fn.group(1), src)[1:]
                assert args and all(re.fullmatch(r"KEYS\[[^\]]+\]", x.strip()) for x in args), \
                    (name, fn.group(1), args)
                continue
            assert re.fullmatch(r"KEYS\[[^\]]+\]", first), \
                "%s: %s on %r, not a key from KEYS" % (name, cmd, first)
        # A call whose command is not a literal could hide a key; none do.
        assert not re.search(r"redis\.p?call\(\s*[^'\s]", src), name
    assert calls > 100, calls


# ---- the callers, against Redis in cluster mode ------------------------------

class ClusterRedis(Redis):
    """One redis-server in cluster mode holding every slot."""

    def start(self):
        # The cluster bus listens on a second port, by default the client
        # port + 10000: past 55535 that is no port at all, and below it may be
        # another test's. Name a free one, and take other ports if either was
        # taken between free_port() and the bind (test files run in parallel).
        for _ in range(5):
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "always",
                 "--save", "", "--daemonize", "no", "--loglevel", "warning",
                 "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                 "--cluster-config-file", "nodes-%d.conf" % self.port],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(lambda: self.proc.poll() is not None or self.ping(), what="redis-server")
            if self.proc.poll() is None and \
                    ("process_id:%d\r\n" % self.proc.pid).encode() in self.cmd("INFO", "server"):
                break
            self.proc.kill()
            self.proc.wait()
            self.port = free_port()
        assert self.proc.poll() is None
        assert self.cmd("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == b"+OK"
        wait_for(lambda: b"cluster_state:ok" in self.cmd("CLUSTER", "INFO"), what="cluster ok")
        return self


ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')


class Monitor:
    """MONITOR on its own connection: the EVALSHA calls, as (sha, keys)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(b"MONITOR\r\n")
        self.calls = []
        self.lines = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        buf = b""
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            buf += chunk
            while b"\r\n" in buf:
                line, _, buf = buf.partition(b"\r\n")
                self.lines += 1
                text = line.decode("utf-8", "replace")
                args = [a.encode().decode("unicode_escape") for a in ARG.findall(text)]
                if len(args) >= 3 and args[0].upper() == "EVALSHA":
                    n = int(args[2])
                    self.calls.append((args[1], args[3:3 + n]))

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


COURSE = {
    "course.md": "---\nid: slots\ntitle: Slots\nsummary: A course for the key check.\n"
                 "language: en\nversion: 1.0.0\n---\n# Slots\n",
    "01-one/module.md": "---\ntitle: One\n---\n",
    "01-one/01-read.md": "---\ntitle: Reading\nminutes: 5\n---\n# Reading\n\nSomething to read.\n",
    "01-one/02-plan.case.md": "---\ntitle: \"Case: a plan\"\nminutes: 20\nattempts: 3\npass: 50\n"
                              "---\n# Case: a plan\n\nWrite the plan.\n\n```task\nid: plan\n"
                              "type: review\nprompt: Write a one-paragraph plan.\npoints: 10\n"
                              "guide: A lead actor and a date.\n```\n",
    "02-two/module.md": "---\ntitle: Two\n---\n",
    "02-two/01-more.md": "---\ntitle: More\nminutes: 5\n---\n# More\n\nMore to read.\n",
}


def make_course():
    root = tempfile.mkdtemp(prefix="campus-slots-")
    for path, text in COURSE.items():
        full = os.path.join(root, "slots", path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return root


def push_request(c, line, raw=False):
    """A request on a connection that takes push lines: those ("* ...")
    before the answer are skipped."""
    c.send(line if raw else line + "\r\n")
    while True:
        while b"\r\n" not in c.buf:
            c._fill()
        if not c.buf.startswith(b"* "):
            return c.read_response()
        m = re.search(rb"\{(\d+)\}$", c.read_line())
        if m:
            c.read_exact(int(m.group(1)) + 2)


def ok(r, *codes):
    assert r.code in (codes or (200,)), r
    return r


def test_callers_under_cluster_mode():
    tmp = tempfile.mkdtemp(prefix="campus-test-")
    redis = ClusterRedis(tmp).start()
    campusd = None
    mon = Monitor(redis.port)
    try:
        campusd = Campusd(tmp, redis=redis, courses=make_course(), extra=FAST).start()
        for name, role in (("root", "admin"), ("tara", "learner")):
            p = subprocess.run([harness.CAMPUSD, "--redis", "127.0.0.1:%d" % redis.port,
                                "--data", os.path.join(tmp, "cli"), "--add-user", name,
                                "--role", role] + FAST,
                               input=(PW + "\n").encode(), capture_output=True, timeout=60)
            assert p.returncode == 0, p.stderr

        def session(name, pw=PW):
            c = campusd.client()
            ok(c.request('LOGIN %s "%s"' % (name, pw)))
            return c

        anon = campusd.client()
        ok(anon.request('REGISTER lena "%s"' % PW), 201)
        ok(anon.request('REGISTER dan "%s"' % PW), 201)
        ok(anon.request('LOGIN lena "not the password"'), 401, 403)
        admin = session("root")
        ok(admin.request("USER ROLE tara trainer"))
        lena = session("lena")
        ok(lena.request("WHOAMI"))
        ok(lena.request('PASSWD "%s" "%s"' % (PW, PW + " too")))
        lena = session("lena", PW + " too")
        ok(lena.request("READ slots/read"))
        ok(lena.request("DONE slots/read"))
        # Over HTTP, DONE runs its script alone (CTP/1 runs it with the
        # session check, SCRIPT_DONE_CHECKED).
        r = lena.request('LOGIN lena "%s"' % (PW + " too"))
        status, _, _ = harness.http(campusd.http_port, "POST", "/api/done/slots/read", body="{}",
                                    headers={"Authorization": "Bearer " + r.kv()["token"]})
        assert status == 200, status
        ok(lena.request("PROGRESS slots"))
        ok(lena.request("NEXT slots"))

        tara = session("tara")
        r = ok(tara.request("COHORT CREATE slots Spring 2020-01-01 every 7 days"), 201)
        cid, code = re.match(r"cohort (\d+) code (\S+)", r.text).groups()
        ok(lena.request("COHORT JOIN %s" % code), 200, 201)
        ok(tara.request("COHORT ADD %s dan" % cid), 200, 201)
        ok(tara.request("COHORT TRAINER %s add root" % cid))
        ok(tara.request("COHORT OPEN %s two" % cid))
        ok(tara.request("COHORT EXTEND %s lena two 2030-01-01" % cid))
        ok(tara.request("COHORT CODE %s rotate" % cid))
        ok(tara.request("COHORT SHOW %s" % cid))
        ok(tara.request("COHORT LIST"))
        ok(lena.request("COHORT LIST"))
        ok(lena.request("READ slots/more"))
        ok(lena.request("COURSE slots"))
        doc = b"plan: The forum meets in March, led by the municipality.\n"
        lena.send(b"SUBMIT slots/plan k1 {%d}\r\n" % len(doc) + doc)
        ok(lena.read_response(), 200, 201)
        ok(lena.request("ATTEMPTS slots/plan"))
        wait_for(lambda: tara.request("REVIEW LIST").rows(), timeout=10, what="review queued")
        rid = tara.request("REVIEW LIST").rows()[0]["id"]
        ok(tara.request("REVIEW SHOW %s" % rid))
        ok(tara.request('REVIEW GRADE %s 7 "Dates are missing."' % rid))
        # A live session: the trainer leads, the learner follows.
        lead, follow = session("tara"), session("lena", PW + " too")
        ok(push_request(lead, "LIVE START %s" % cid), 200, 201)
        ok(push_request(follow, "LIVE JOIN %s" % cid))
        ok(push_request(lead, "LIVE GOTO slots/read"))
        gift = b"::Q:: The forum meets monthly. {T}\n"
        ok(push_request(lead, b"LIVE POLL {%d}\r\n" % len(gift) + gift, raw=True), 200, 201)
        ok(push_request(follow, "LIVE ANSWER true"))
        ok(push_request(lead, "LIVE CLOSE"))
        ok(push_request(lead, "LIVE END"))
        lead.close()
        follow.close()
        ok(tara.request("COHORT PROGRESS %s" % cid))
        ok(tara.request("COHORT GRADES %s" % cid))
        ok(tara.request("COHORT REMOVE %s dan" % cid))
        ok(tara.request("COHORT TRAINER %s remove root" % cid))
        ok(lena.request("COHORT LEAVE %s" % cid))
        ok(lena.request("LOGOUT"))
        time.sleep(1.5)          # the cohort sync pass settles what is pending
        for c in (anon, admin, lena, tara):
            c.close()
    finally:
        mon_calls = mon.calls
        mon.close()
        if campusd:
            campusd.stop()
        redis.stop()

    shas = {hashlib.sha1(src.encode()).hexdigest(): name for name, src in script_sources().items()}
    ran = set()
    for sha, keys in mon_calls:
        assert sha in shas, "an EVALSHA of no script in scripts.c: %s" % sha
        tags = {hash_tag(k) for k in keys}
        assert len(tags) <= 1, "%s touched keys of %d hash tags: %s" % (shas[sha], len(tags), keys)
        ran.add(shas[sha])
    missing = sorted(set(shas.values()) - ran)
    print("scripts run under cluster mode: %d of %d; not reached: %s"
          % (len(ran), len(shas), ", ".join(missing) or "none"))
    assert not missing, missing


if __name__ == "__main__":
    harness.main(globals())
