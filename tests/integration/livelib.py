"""Helpers of the live-session tests: a CTP/1 client that tells push lines
("* ...", with an optional {N} body) from responses, and the set-up of
accounts and a cohort."""

import re
import socket
import time

import harness

PW = "the password 1"
FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
PUSH = re.compile(rb"^\* (.*?)(?: \{(\d+)\})?$")


class Push:
    def __init__(self, line, body=None):
        self.line, self.body = line, body

    def __repr__(self):
        return "<push %s%s>" % (self.line, "" if self.body is None else " body=%r" % self.body[:80])

    def kv(self):
        out = []
        for l in self.body.decode().split("\n"):
            if l:
                out.append(l.split("\t"))
        return out


class LiveClient(harness.Client):
    """Pushes that arrive while a response is awaited are kept in order in
    self.pushes; read_push() returns the next one."""

    def __init__(self, port, **kw):
        self.pushes = []
        super().__init__(port, **kw)

    def _read_item(self):
        line = self.read_line()
        m = PUSH.match(line)
        if m:
            body = None
            if m.group(2) is not None:
                body = self.read_exact(int(m.group(2)))
                assert self.read_exact(2) == b"\r\n"
            return Push(m.group(1).decode(), body)
        self.buf = line + b"\r\n" + self.buf
        return None

    def read_response(self):
        while True:
            item = self._read_item()
            if item is None:
                return super().read_response()
            self.pushes.append(item)

    def read_push(self, timeout=10.0):
        if self.pushes:
            return self.pushes.pop(0)
        self.sock.settimeout(timeout)
        try:
            item = self._read_item()
        finally:
            self.sock.settimeout(10)
        if item is None:
            raise AssertionError("a response where a push was expected: %r" % self.buf[:200])
        return item

    def pushes_until(self, pred, timeout=10.0, limit=5000):
        """Reads pushes until pred(push) is true; returns all of them."""
        got = []
        end = time.time() + timeout
        while len(got) < limit:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("timed out; had %r" % got[-5:])
            p = self.read_push(timeout=left)
            got.append(p)
            if pred(p):
                return got
        raise AssertionError("no matching push in %d" % limit)

    def quiet(self, seconds=0.3):
        """True if nothing at all arrives within seconds."""
        if self.pushes or self.buf:
            return False
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
            self.buf += chunk
            return False
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(10)


def literal(c, line, data):
    if isinstance(data, str):
        data = data.encode()
    c.send(line.encode() + b" {%d}\r\n" % len(data) + data)
    return c.read_response()


def login(port, name):
    c = LiveClient(port)
    c.login(name, PW)
    return c


def http_token(port, name):
    import json
    s, h, body = harness.http(port, "POST", "/api/login",
                              body=json.dumps({"name": name, "password": PW}))
    assert s == 200, (s, body)
    return {"Authorization": "Bearer " + json.loads(body)["data"]["token"]}


def add_admin(redis_port, name):
    harness.add_user(redis_port, name, "admin", PW, FAST)


def accounts(port, admin, trainers, learners):
    a = login(port, admin)
    for t in trainers:
        assert a.request('USER ADD %s trainer "%s"' % (t, PW)).code == 201
    for l in learners:
        assert a.request('USER ADD %s learner "%s"' % (l, PW)).code == 201
    a.close()


def cohort(trainer_conn, learners, name="Live"):
    r = trainer_conn.request("COHORT CREATE demo %s 2026-01-01" % name)
    assert r.code == 201, r
    cid = r.text.split()[1]
    if learners:
        r = trainer_conn.request("COHORT ADD %s %s" % (cid, " ".join(learners)))
        assert r.code == 200, r
    return cid
