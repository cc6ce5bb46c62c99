"""Hostile input against accounts, sessions and argument parsing, over real
sockets with a real Redis:

- a role change, DISABLE or PASSWD made on one connection reaches every
  other open connection of that account at once: on the same process, on
  another worker (--workers 2), and on another campusd sharing the Redis;
- a session lookup the store cannot answer (Redis killed, hung, LOADING) is
  a 503 on every path, never a 401 that logs a client out;
- numbers are decimal digits only, range-checked, and a 400 names the field;
- ids are checked over their full length: a NUL inside is a 400, and a
  malformed id is a 400 where a well-formed unknown one is a 404."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import harness
from harness import Campusd, Env, Redis, http, wait_for

COURSES = os.path.join(harness.SOURCE, "courses")
FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]
PW = "a long enough password"

env = None
LESSON = None        # a real lesson id of the bundled courses
COURSE = "led-foundations"
counter = [0]


def without_reviews_new(kv):
    """LOGIN's and WHOAMI's lines but the count of new reviews (test_review's)."""
    return {k: v for k, v in kv.items() if k != "reviews-new"}


def setup():
    global env, LESSON
    env = Env(courses=COURSES, extra=FAST)
    add_user(env.redis, "root", "admin")
    rows = env.campusd.client().request("COURSE " + COURSE).rows()
    LESSON = [r for r in rows if r["kind"] == "lesson"][0]["lesson"]
    if "/" not in LESSON:
        LESSON = COURSE + "/" + LESSON


tmps = []


def teardown():
    env.close()
    for tmp in tmps:
        shutil.rmtree(tmp, ignore_errors=True)


def add_user(redis, name, role):
    p = subprocess.run([harness.CAMPUSD, "--redis", "127.0.0.1:%d" % redis.port,
                        "--data", os.path.join(env.tmp if env else redis.dir, "cli"),
                        "--add-user", name, "--role", role] + FAST,
                       input=(PW + "\n").encode(), capture_output=True, timeout=60)
    assert p.returncode == 0, (p.stdout, p.stderr)


def scratch():
    tmp = harness.tempfile.mkdtemp(prefix="campus-test-")
    tmps.append(tmp)
    return tmp


def fresh(prefix):
    counter[0] += 1
    return "%s%d" % (prefix, counter[0])


def login(c, name, password=PW):
    r = c.request('LOGIN %s "%s"' % (name, password))
    assert r.code == 200, r
    return r.kv()


def learner(d=None):
    """A new learner account, logged in on a new connection of d."""
    d = d or env.campusd
    name = fresh("lea")
    c = d.client()
    assert c.request('REGISTER %s "%s"' % (name, PW)).code == 201
    login(c, name)
    return name, c


def admin_account():
    """A new admin account (added by root), and root's connection."""
    root = env.campusd.client()
    login(root, "root")
    name = fresh("adm")
    r = root.request('USER ADD %s admin "%s"' % (name, PW))
    assert r.code == 201, r
    return name, root


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


# ---- 1. revocation and role changes reach open connections ----

def test_demoted_then_disabled_admin_loses_power_on_its_open_connection():
    name, root = admin_account()
    a = env.campusd.client()
    login(a, name)
    assert a.request('USER ADD %s learner "%s"' % (fresh("usr"), PW)).code == 201
    assert root.request("USER ROLE %s learner" % name).code == 200
    # The very next request on the open connection acts with the new role.
    r = a.request("WHOAMI")
    assert r.code == 200 and without_reviews_new(r.kv()) == {"user": name, "role": "learner"}, r
    victim = fresh("vic")
    r = a.request('USER ADD %s admin "%s"' % (victim, PW))
    assert r.code == 403, r
    assert env.redis.cmd("EXISTS", "campus:{u:%s}:account" % victim) == b":0"
    assert a.request("PROGRESS").code == 200           # still a learner
    # Disabled: the connection is told why, once, and is anonymous after.
    assert root.request("USER DISABLE %s" % name).code == 200
    r = a.request('USER ADD %s admin "%s"' % (victim, PW))
    assert r.code == 401 and r.text == "session ended: account disabled", r
    assert env.redis.cmd("EXISTS", "campus:{u:%s}:account" % victim) == b":0"
    r = a.request("WHOAMI")
    assert r.kv() == {"user": "", "role": "anonymous"}, r
    assert a.request("PROGRESS").code == 401
    # Promotion takes effect at once too.
    assert root.request("USER ENABLE %s" % name).code == 200
    b = env.campusd.client()
    login(b, name)
    assert b.request("USER LIST").code == 403
    assert root.request("USER ROLE %s admin" % name).code == 200
    assert b.request("USER LIST").code == 200


def test_pipelined_requests_after_a_demotion_run_with_the_new_role():
    name, root = admin_account()
    a = env.campusd.client()
    login(a, name)
    assert root.request("USER ROLE %s trainer" % name).code == 200
    a.send(b"USER LIST\r\nWHOAMI\r\nREVIEW LIST\r\nUSER LIST\r\n")
    codes = [a.read_response() for _ in range(4)]
    assert [r.code for r in codes] == [403, 200, 200, 403], codes
    assert codes[1].kv()["role"] == "trainer"


def test_passwd_ends_the_other_connections_sessions():
    name, a = learner()
    b = env.campusd.client()
    login(b, name)
    c = env.campusd.client()
    tok = login(c, name)["token"]
    new = "another long password"
    r = b.request('PASSWD "%s" "%s"' % (PW, new))
    assert r.code == 200, r
    for other in (a, c):
        r = other.request("PROGRESS")
        assert r.code == 401 and r.text == "session ended: password changed", r
        assert other.request("WHOAMI").kv()["role"] == "anonymous"
    # The connection that changed it goes on with its new session.
    r = b.request("WHOAMI")
    assert without_reviews_new(r.kv()) == {"user": name, "role": "learner"}, r
    assert b.request("PROGRESS").code == 200
    # The old token is dead everywhere; the answer to a bare token says
    # nothing of the account.
    r = env.campusd.client().request("AUTH " + tok)
    assert r.code == 401 and r.text == "invalid or expired session", r
    st, _, body = http(env.campusd.http_port, "POST", "/api/done/" + LESSON, headers=bearer(tok))
    assert st == 401, (st, body)
    assert env.redis.cmd("HEXISTS", "campus:{u:%s}:done" % name, LESSON) == b":0"


def test_logout_elsewhere_ends_an_authed_connection():
    name, a = learner()
    tok = login(a, name)["token"]
    b = env.campusd.client()
    assert b.request("AUTH " + tok).code == 200
    assert a.request("LOGOUT").code == 200
    r = b.request("DONE " + LESSON)
    assert r.code == 401 and r.text.startswith("session ended: "), r
    assert env.redis.cmd("HEXISTS", "campus:{u:%s}:done" % name, LESSON) == b":0"


def worker_pid(c):
    return c.request("STATS").kv()["pid"]


def test_revocation_reaches_every_worker():
    d = Campusd(scratch(), redis=env.redis,
                courses=COURSES, extra=FAST, workers=2).start()
    try:
        name, root = admin_account()
        # One logged-in admin connection on each worker (bounded tries).
        by_pid = {}
        for _ in range(60):
            c = d.client()
            pid = worker_pid(c)
            if pid in by_pid:
                c.close()
                continue
            login(c, name)
            by_pid[pid] = c
            if len(by_pid) == 2:
                break
        assert len(by_pid) == 2, by_pid.keys()
        conns = list(by_pid.values())
        for c in conns:
            assert c.request("USER LIST").code == 200
        # Demoted through a third process (the test's own campusd).
        assert root.request("USER ROLE %s learner" % name).code == 200
        for c in conns:
            assert c.request("USER LIST").code == 403
            assert c.request("WHOAMI").kv()["role"] == "learner"
        assert root.request("USER DISABLE %s" % name).code == 200
        for c in conns:
            r = c.request("PROGRESS")
            assert r.code == 401 and r.text == "session ended: account disabled", r
    finally:
        d.stop()


def test_revocation_reaches_another_campusd_on_the_same_redis():
    other = Campusd(scratch(), redis=env.redis,
                    courses=COURSES, extra=FAST).start()
    try:
        name, root = admin_account()
        a = other.client()
        login(a, name)
        assert a.request("USER LIST").code == 200
        # Changed on this campusd, seen by the other.
        assert root.request("USER ROLE %s trainer" % name).code == 200
        assert a.request("USER LIST").code == 403
        assert a.request("REVIEW LIST").code == 200
        assert root.request("USER DISABLE %s" % name).code == 200
        r = a.request("REVIEW LIST")
        assert r.code == 401 and r.text == "session ended: account disabled", r
        # And the other way: PASSWD on the other campusd ends ours.
        lname, la = learner(other)
        lb = env.campusd.client()
        login(lb, lname)
        assert la.request('PASSWD "%s" "%s"' % (PW, "yet another password")).code == 200
        r = lb.request("NEXT")
        assert r.code == 401 and r.text == "session ended: password changed", r
    finally:
        other.stop()


# ---- 5. a store that cannot answer is a 503, never a 401 ----

class LoadingRedis(Redis):
    """A Redis that can be made to answer LOADING for seconds at a time:
    DEBUG RELOAD of a dataset loaded slowly (key-load-delay), while other
    clients are served between keys."""

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.dir, "--appendonly", "no", "--save", "",
             "--enable-debug-command", "local",
             "--loading-process-events-interval-bytes", "1024",
             "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, what="redis-server")
        return self

    def fill(self, n):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            s.sendall(b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nx\r\n" %
                               (len(b"k%d" % i), b"k%d" % i) for i in range(n)))
            got, end = 0, time.time() + 20
            while got < n and time.time() < end:
                got += s.recv(65536).count(b"+OK")
            assert got == n, got
        finally:
            s.close()

    def reload(self):
        """DEBUG RELOAD: answers once the slow load is over."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        try:
            s.sendall(b"*2\r\n$5\r\nDEBUG\r\n$6\r\nRELOAD\r\n")
            s.recv(100)
        finally:
            s.close()


def store_env(redis_cls=Redis, timeout_ms=500):
    tmp = harness.tempfile.mkdtemp(prefix="campus-test-")
    tmps.append(tmp)
    redis = redis_cls(tmp).start()
    extra = FAST + ["--store-timeout-ms", str(timeout_ms)]
    if redis_cls is LoadingRedis:
        # DEBUG RELOAD's slow load needs a Redis without AOF; say so, or
        # campusd rightly refuses its writes.
        extra += ["--store-allow-no-aof", "yes"]
    d = Campusd(tmp, redis=redis, courses=COURSES, extra=extra).start()
    return tmp, redis, d


def logged_in(d):
    """A learner on d: a CTP connection and a second session's token."""
    name = fresh("st")
    c = d.client()
    assert c.request('REGISTER %s "%s"' % (name, PW)).code == 201
    login(c, name)
    tok = login(d.client(), name)["token"]
    return name, c, tok


def assert_no_logout(d, c, tok, expect=503):
    """While the store cannot answer: every path that needs the session is
    a 503 (or, for expect=None, anything but a 401)."""
    def ok(code):
        return code != 401 if expect is None else code == expect
    for path, method in (("/api/done/" + LESSON, "POST"), ("/api/me", "GET"),
                         ("/api/progress", "GET"), ("/api/next", "GET")):
        st, _, body = http(d.http_port, method, path, headers=bearer(tok), timeout=10)
        assert ok(st), (path, "bearer", st, body)
        st, _, body = http(d.http_port, method, path,
                           headers={"Cookie": "campus_session=" + tok}, timeout=10)
        assert ok(st), (path, "cookie", st, body)
        if st != 401:
            assert json.loads(body)["code"] == st
    for line in ("DONE " + LESSON, "WHOAMI", "PROGRESS", "NEXT", "AUTH " + tok):
        r = c.request(line)
        assert ok(r.code), (line, r)
        if expect:
            assert "store" in r.text, (line, r)


def test_store_killed_is_503_not_401():
    tmp, redis, d = store_env()
    try:
        name, c, tok = logged_in(d)
        st, _, _ = http(d.http_port, "POST", "/api/done/" + LESSON, headers=bearer(tok))
        assert st == 200
        redis.kill(signal.SIGKILL)
        wait_for(lambda: d.client().request("PING store").code == 503, what="store down")
        assert_no_logout(d, c, tok)
        # Nobody was logged out: once Redis is back, both sessions work.
        redis.start()
        wait_for(lambda: d.client().request("PING store").code == 200, timeout=20, what="store up")
        assert without_reviews_new(c.request("WHOAMI").kv()) == {"user": name, "role": "learner"}
        st, _, body = http(d.http_port, "GET", "/api/me", headers=bearer(tok))
        assert st == 200 and json.loads(body)["data"]["user"] == name, body
    finally:
        d.stop()
        redis.stop()


def test_store_hung_is_503_within_the_store_timeout():
    tmp, redis, d = store_env(timeout_ms=400)
    try:
        name, c, tok = logged_in(d)
        redis.kill(signal.SIGSTOP)
        t0 = time.time()
        st, _, body = http(d.http_port, "POST", "/api/done/" + LESSON, headers=bearer(tok))
        assert st == 503, (st, body)
        assert time.time() - t0 < 5, time.time() - t0
        # The link was reset by the timeout; the rest find it down: 503 too.
        assert_no_logout(d, c, tok)
        redis.kill(signal.SIGCONT)
        wait_for(lambda: d.client().request("PING store").code == 200, timeout=20, what="store up")
        assert c.request("WHOAMI").kv()["user"] == name
        assert redis.cmd("HEXISTS", "campus:{u:%s}:done" % name, LESSON) == b":0"
    finally:
        redis.kill(signal.SIGCONT)
        d.stop()
        redis.stop()


def test_store_loading_is_503_not_401():
    tmp, redis, d = store_env(redis_cls=LoadingRedis, timeout_ms=3000)
    try:
        name, c, tok = logged_in(d)
        redis.fill(20000)
        assert redis.cmd("CONFIG", "SET", "key-load-delay", "400") == b"+OK"
        reload = threading.Thread(target=redis.reload, daemon=True)
        reload.start()
        wait_for(lambda: redis.cmd("GET", "k1").startswith(b"-LOADING"), timeout=5,
                 step=0.01, what="LOADING")
        # The session lookups themselves get LOADING from Redis.
        st, _, body = http(d.http_port, "POST", "/api/done/" + LESSON, headers=bearer(tok))
        assert st == 503, (st, body)
        r = c.request("WHOAMI")
        assert r.code == 503 and "store" in r.text, r
        # Whatever the link does next (a health check may drop it), nobody
        # is told they are logged out.
        assert_no_logout(d, c, tok, expect=None)
        assert redis.cmd("GET", "k1").startswith(b"-LOADING"), "loading ended too soon"
        reload.join(30)
        redis.cmd("CONFIG", "SET", "key-load-delay", "0")
        wait_for(lambda: d.client().request("PING store").code == 200, timeout=20, what="store up")
        assert without_reviews_new(c.request("WHOAMI").kv()) == {"user": name, "role": "learner"}
        st, _, body = http(d.http_port, "GET", "/api/me", headers=bearer(tok))
        assert st == 200 and json.loads(body)["data"]["user"] == name, body
        assert redis.cmd("HEXISTS", "campus:{u:%s}:done" % name, LESSON) == b":0"
    finally:
        d.stop()
        redis.stop()


# ---- 10. numbers: digits only, range-checked, the field named ----

def trainer():
    root = env.campusd.client()
    login(root, "root")
    name = fresh("tr")
    assert root.request('USER ADD %s trainer "%s"' % (name, PW)).code == 201
    t = env.campusd.client()
    tok = login(t, name)["token"]
    return t, tok


def pending_review():
    """A learner's answer waiting for a trainer; its review id."""
    name, c = learner()
    ex = "led-foundations/inclusive-action-plan"
    view = c.request("EXERCISE " + ex).body.decode()
    tasks = [t for t in re.findall(r"^\[([a-z0-9-]+)\]", view, re.M) if t]
    for doc in ("".join("%s: My answer for %s.\n" % (t, t) for t in tasks),
                "%s: My answer.\n" % tasks[-1]):
        data = doc.encode()
        c.send(b"SUBMIT %s {%d}\r\n" % (ex.encode(), len(data)) + data)
        r = c.read_response()
        if r.code == 200:
            break
    assert r.code == 200 and "pending-review" in r.text, r
    t, tok = trainer()
    rows = [x for x in t.request("REVIEW LIST led-foundations").rows() if x["learner"] == name]
    assert rows, "nothing queued"
    return t, tok, rows[0]["id"], name, ex


# The task graded here is worth 15 points: points are whole or halves on that scale.
LENIENT = ['""', "0x10", "+5", '" 5"', '"5 "', "1e-400", "-0", "-5", "5.25", "5.", ".5", "5,5",
           "1e1", "16", "15.5", "007", "99999999999999999999", "inf", "nan"]


def test_review_grade_takes_strict_points_only():
    t, tok, rid, name, ex = pending_review()
    for bad in LENIENT:
        r = t.request('REVIEW GRADE %s %s "lenient"' % (rid, bad))
        assert r.code == 400 and "points" in r.text, (bad, r)
    for bad in ("+%s" % rid, "0x%s" % rid, '" %s"' % rid, '""', "-1", "0%s" % rid):
        r = t.request('REVIEW GRADE %s 50 "x"' % bad)
        assert r.code == 400 and "review id" in r.text, (bad, r)
        r = t.request("REVIEW SHOW %s" % bad)
        assert r.code == 400 and "review id" in r.text, (bad, r)
    for body in (b'{"points": 1e-400}', b'{"points": 5.25}', b'{"points": "5"}', b'{"points": -0.0}',
                 b'{"points": 1e2}', b'{"points": 16}', b'{"points": -1}', b'{"score": 5}'):
        st, _, out = http(env.campusd.http_port, "POST", "/api/reviews/" + rid, body=body,
                          headers=bearer(tok))
        assert st == 400, (body, st, out)
    for bad in ('"../x"', "Led-foundations", '"a b"'):
        r = t.request("REVIEW LIST %s" % bad)
        assert r.code == 400, (bad, r)
    st, _, body = http(env.campusd.http_port, "GET", "/api/reviews?course=..%2Fx",
                       headers=bearer(tok))
    assert st == 400, (st, body)
    # Nothing was graded by any of those: the item is still there to grade.
    # The plan has a rubric: its lowest level everywhere is a zero.
    zeros = b"elements 0\ncoherence 0\ninclusion 0\nrealism 0\nindicators 0\n"
    t.send(b'REVIEW GRADE %s rubric "zero is a score" {%d}\r\n' % (rid.encode(), len(zeros)) + zeros)
    r = t.read_response()
    assert r.code == 200, r
    rec = json.loads(env.redis.cmd("LINDEX", "campus:{u:%s}:attempts:%s" % (name, ex), "0"))
    assert [x for x in rec["tasks"] if x.get("comment") == "zero is a score"], rec


def test_done_time_width_and_since_are_strict():
    name, c = learner()
    now = int(time.time() * 1000)
    for bad in ("+%d" % now, '" %d"' % now, '""', "0x10", "1e3", "-5", "0", "%d.0" % now,
                "0%d" % now, "99999999999999999999", str(now + 3600 * 1000)):
        r = c.request("DONE %s %s" % (LESSON, bad))
        assert r.code == 400 and "at-ms" in r.text, (bad, r)
    assert env.redis.cmd("HEXISTS", "campus:{u:%s}:done" % name, LESSON) == b":0"
    assert c.request("DONE %s %d" % (LESSON, now - 1000)).code == 200
    assert env.redis.cmd("HGET", "campus:{u:%s}:done" % name, LESSON) == str(now - 1000).encode()
    for bad in ("+80", "080", '" 80"', '"80 "', '""', "0x50", "8e1", "-80", "19", "1001",
                "18446744073709551696"):
        r = c.request("READ %s text %s" % (LESSON, bad))
        assert r.code == 400 and "width" in r.text, (bad, r)
    assert c.request("READ %s text 80" % LESSON).code == 200
    for q in ("%2B80", "%2080", "", "0x50", "80abc"):
        st, _, body = http(env.campusd.http_port, "GET",
                           "/api/lessons/%s?format=text&width=%s" % (LESSON, q))
        assert st == 400 and b"width" in body, (q, st, body)
    for bad in ('" 5"', "+5", "-5", "2024-1-01", '" 2024-01-01"', '"2024-01-01 "', "2024-01-01T00:00:00+01",
                "99999999999999999999"):
        r = c.request("EXPORT xapi %s" % bad)
        assert r.code == 400 and "since" in r.text, (bad, r)
    assert c.request("EXPORT xapi 0").code == 200
    assert c.request("EXPORT xapi 2024-01-01").code == 200


# ---- 11. ids are checked over their full length ----

def literal(c, line, data):
    c.send(line.encode() + b" {%d}\r\n" % len(data) + data)
    return c.read_response()


def test_nul_inside_ids_is_refused():
    name, c = learner()
    lesson = LESSON.encode()
    r = literal(c, "READ", lesson + b"\0../../etc")
    assert r.code == 400, r
    r = literal(c, "DONE", lesson + b"\0x")
    assert r.code == 400, r
    assert env.redis.cmd("HLEN", "campus:{u:%s}:done" % name) == b":0"
    r = literal(c, "DONE", lesson + b"\0")
    assert r.code == 400, r
    assert env.redis.cmd("HLEN", "campus:{u:%s}:done" % name) == b":0"
    for verb in ("COURSE", "NEXT", "PROGRESS"):
        r = literal(c, verb, COURSE.encode() + b"\0")
        assert r.code == 400, (verb, r)
    r = literal(c, "EXERCISE", b"led-foundations/inclusive-action-plan\0")
    assert r.code == 400, r
    r = literal(c, "SEARCH", b"cluster\0")
    assert r.code == 400, r
    # Account names too: an admin cannot be tricked into disabling "name".
    root = env.campusd.client()
    login(root, "root")
    r = literal(root, "USER DISABLE", name.encode() + b"\0x")
    assert r.code == 400, r
    r = literal(root, "USER ROLE %s" % name, b"admin\0")
    assert r.code == 400, r
    assert env.redis.cmd("HGET", "campus:{u:%s}:account" % name, "disabled") == b"0"
    assert env.redis.cmd("HGET", "campus:{u:%s}:account" % name, "role") == b"learner"
    assert without_reviews_new(c.request("WHOAMI").kv()) == {"user": name, "role": "learner"}
    # Where bytes are the point (ECHO, passwords) a NUL stays a byte.
    r = literal(c, "ECHO", b"a\0b")
    assert r.code == 200 and r.body == b"a\0b", r
    pw = b"pass\0word with a NUL"
    lname = fresh("nul")
    r = literal(env.campusd.client(), "REGISTER %s" % lname, pw)
    assert r.code == 201, r
    assert literal(env.campusd.client(), "LOGIN %s" % lname, pw).code == 200
    assert literal(env.campusd.client(), "LOGIN %s" % lname, b"pass").code == 401


def test_malformed_ids_are_400_unknown_ones_404():
    name, c = learner()
    for bad in ("alpha", "../../etc", "Led-foundations/x", "a/b/c", "/x", "x/", "a b",
                "{u:root}:done", "a" * 65 + "/b", COURSE + "/" + "b" * 65):
        r = c.request('DONE "%s"' % bad)
        assert r.code == 400, (bad, r)
        r = c.request('READ "%s"' % bad)
        assert r.code == 400, (bad, r)
    for unknown in (COURSE + "/no-such-lesson", "no-such-course/intro"):
        assert c.request("DONE " + unknown).code == 404
        assert c.request("READ " + unknown).code == 404
    for bad in ("../x", "A", "a" * 65, "x y"):
        assert c.request('COURSE "%s"' % bad).code == 400, bad
        assert c.request('NEXT "%s"' % bad).code == 400, bad
        assert c.request('PROGRESS "%s"' % bad).code == 400, bad
    assert c.request("COURSE no-such-course").code == 404
    assert c.request("NEXT no-such-course").code == 404
    assert c.request("PROGRESS no-such-course").code == 404
    root = env.campusd.client()
    login(root, "root")
    for bad in ("ab", "Root", "x" * 33, "a/b", "..x/"):
        r = root.request('USER DISABLE "%s"' % bad)
        assert r.code == 400, (bad, r)
    assert root.request("USER DISABLE no.such.user").code == 404
    r = env.campusd.client().request('LOGIN "Bad Name" "%s"' % PW)
    assert r.code == 400, r
    tok = login(env.campusd.client(), name)["token"]
    st, _, body = http(env.campusd.http_port, "POST", "/api/done/%s/no-such-lesson" % COURSE,
                       headers=bearer(tok))
    assert st == 404, (st, body)
    for bad in ("Led-foundations/x", "%s/a%%20b" % COURSE, "%s/x.y" % COURSE):
        st, _, body = http(env.campusd.http_port, "POST", "/api/done/" + bad, headers=bearer(tok))
        assert st == 400, (bad, st, body)
    assert env.redis.cmd("HLEN", "campus:{u:%s}:done" % name) == b":0"


if __name__ == "__main__":
    harness.main(globals())
