"""The HTTP hot path: an anonymous GET of a lesson answered from the answer
pre-built once per catalogue, without evhttp. What a client gets must be
byte for byte what the long way gives (Date aside), a reload must bring the
new answer, and ETag/304, pipelining and a slow reader behave as before."""
import json
import os
import re
import signal
import socket
import time

import harness
from harness import Campusd, Env, wait_for

env = None
LESSON = "/api/lessons/demo/welcome"


def setup():
    global env
    env = Env()


def teardown():
    env.close()


def raw(port, data, timeout=10):
    """Sends data as it is; returns the socket (for reading answers)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    return s


class Answers:
    """HTTP/1.1 answers read off one socket, one at a time, by Content-Length."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise ConnectionError("closed")
        self.buf += d

    def next(self, no_body=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = [tuple(x.split(": ", 1)) for x in lines[1:]]
        n = 0 if no_body else int(dict((k.lower(), v) for k, v in fields).get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return lines[0], fields, body


def get(path, extra=b""):
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"


def without_date(fields):
    return [(k, v) for k, v in fields if k.lower() != "date"]


def test_fast_answer_is_what_evhttp_sends():
    port = env.campusd.http_port
    # The first GET renders the answer (the long way); a Connection field
    # keeps a request off the hot path, so it shows what evhttp sends.
    a = Answers(raw(port, get(LESSON)))
    first = a.next()
    slow = Answers(raw(port, get(LESSON, b"Connection: keep-alive\r\n"))).next()
    fast = a.sock.sendall(get(LESSON)) or a.next()
    assert first[0] == slow[0] == fast[0] == "HTTP/1.1 200 OK", (first, slow, fast)
    assert without_date(fast[1]) == without_date(slow[1]), (fast[1], slow[1])
    assert fast[2] == slow[2] == first[2]
    assert any(k == "Date" and re.match(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$", v)
               for k, v in fast[1]), fast[1]
    doc = json.loads(fast[2])
    assert doc["code"] == 200 and doc["data"]["id"] == "demo/welcome"
    # Each format has its own answer.
    for fmt in ("text", "md", "html"):
        want = harness.http(port, "GET", LESSON + "?format=" + fmt,
                            headers={"Connection": "keep-alive"})[2]
        a.sock.sendall(get(LESSON + "?format=" + fmt))
        assert a.next()[2] == want
        a.sock.sendall(get(LESSON + "?format=" + fmt))
        assert a.next()[2] == want


def test_etag_and_304_unchanged():
    port = env.campusd.http_port
    st, h, body = harness.http(port, "GET", LESSON)
    st, h, body = harness.http(port, "GET", LESSON)
    assert st == 200 and h["etag"].startswith('"'), h
    st, h2, body2 = harness.http(port, "GET", LESSON, headers={"If-None-Match": h["etag"]})
    assert st == 304 and body2 == b"" and h2["etag"] == h["etag"], (st, h2)
    st, _, body3 = harness.http(port, "GET", LESSON, headers={"If-None-Match": '"other"'})
    assert st == 200 and body3 == body


def test_errors_and_other_requests_take_the_long_way():
    port = env.campusd.http_port
    a = Answers(raw(port, get("/api/lessons/demo/no-such-lesson") + get("/api/lessons/Demo/welcome") +
                    get(LESSON + "?format=pdf") + get("/api/lessons/demo/we%6ccome") + get(LESSON)))
    assert a.next()[0].startswith("HTTP/1.1 404")
    assert a.next()[0].startswith("HTTP/1.1 400")
    assert a.next()[0].startswith("HTTP/1.1 400")
    status, _, body = a.next()              # a percent-escape: evhttp decodes it
    assert status == "HTTP/1.1 200 OK" and json.loads(body)["data"]["id"] == "demo/welcome"
    assert a.next()[0] == "HTTP/1.1 200 OK"
    # HEAD still has no body, HTTP/1.0 still closes.
    s = raw(port, b"HEAD " + LESSON.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n" + get("/api/ping"))
    h = Answers(s)
    status, fields, body = h.next(no_body=True)
    assert status == "HTTP/1.1 200 OK" and int(dict(fields)["Content-Length"]) > 0
    assert h.next()[0] == "HTTP/1.1 200 OK"
    s = raw(port, b"GET " + LESSON.encode() + b" HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    assert data.startswith(b"HTTP/1.1 200 OK") or data.startswith(b"HTTP/1.0 200 OK"), data[:40]


def answers_both_ways(port, data):
    """The answer to data sent in one write on a connection that has had an
    answer already (where the shortcut for a request read whole may take it),
    and the answer to the same bytes sent first byte first, on a new
    connection (where it never can)."""
    a = Answers(raw(port, get(LESSON)))
    a.next()
    a.sock.sendall(data)
    whole = a.next()
    s = raw(port, data[:1])
    time.sleep(0.05)
    s.sendall(data[1:])
    return whole, Answers(s).next()


def test_requests_read_whole_answer_as_the_long_way():
    """A request read whole in one go is checked in one pass and may be
    answered there; every request it must not answer, it leaves to the full
    checks, so both ways give the same answer to the same bytes."""
    port = env.campusd.http_port
    harness.http(port, "GET", LESSON)
    lesson = LESSON.encode()
    cases = [
        (b"GET " + lesson + b" HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", 400),
        (b"GET " + lesson + b" HTTP/1.1\r\nHost : t\r\n\r\n", 400),
        (get(LESSON, b"X-A: 1\r\n  2\r\n"), 400),
        (get(LESSON, b"X-A: a\x01b\r\n"), 400),
        (get(LESSON, b"X-A: a\x00b\r\n"), 400),
        (get(LESSON, b"X-A: a\rb\r\n"), 400),
        (get(LESSON, b"X\x80: a\r\n"), 400),
        (b"GET " + lesson + b" HTTP/1.1\r\nUser-Agent: t\r\n\r\n", 400),
        (get(LESSON, b"Transfer-Encoding: gzip\r\n"), 400),
        (get(LESSON, b"Expect: a-miracle\r\n"), 417),
        (b"get " + lesson + b" HTTP/1.1\r\nHost: t\r\n\r\n", 405),
        (b"GET " + lesson + b" HTTP/1.2\r\nHost: t\r\n\r\n", 505),
        (get(LESSON, b"X-Long: " + b"a" * 20000 + b"\r\n"), 431),
        (b"GET " + lesson + b" HTTP/1.1\nHost: t\n\n", 200),
        (get("/api/lessons/demo/we%6ccome"), 200),
        (get(LESSON, b"Content-Length: 0\r\n"), 200),
        (get(LESSON + "?format=text"), 200),
        (get(LESSON + "?format=text&x=1"), None),
        (get(LESSON, b"Accept-Encoding: gzip\r\nAccept-Encoding: identity\r\n"), None),
        (get(LESSON, b"Accept-Language:\r\n"), None),
        (get(LESSON, b"Cookie: a=b\r\n"), None),
        (get(LESSON, b"Range: bytes=0-9\r\n"), None),
        (get("/api/lessons/demo/no-such-lesson"), 404),
    ]
    for data, code in cases:
        whole, slow = answers_both_ways(port, data)
        assert whole[0] == slow[0], (data[:80], whole[0], slow[0])
        if code is not None:
            assert whole[0].startswith("HTTP/1.1 %d " % code), (data[:80], whole[0])
        assert without_date(whole[1]) == without_date(slow[1]), (data[:80], whole[1], slow[1])
        assert whole[2] == slow[2], data[:80]
    # A whole request and the start of the next in one read: both answered.
    a = Answers(raw(port, get(LESSON)))
    want = a.next()[2]
    a.sock.sendall(get(LESSON) + b"GET " + lesson[:10])
    assert a.next()[2] == want
    time.sleep(0.05)
    a.sock.sendall(lesson[10:] + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    assert a.next()[2] == want


def test_pipelined_mix_keeps_order():
    port = env.campusd.http_port
    harness.http(port, "GET", LESSON)
    reqs = []
    for i in range(30):
        reqs.append(get(LESSON) if i % 3 else get("/api/ping"))
    a = Answers(raw(port, b"".join(reqs)))
    for i in range(30):
        status, _, body = a.next()
        assert status == "HTTP/1.1 200 OK"
        doc = json.loads(body)
        if i % 3:
            assert doc["data"]["id"] == "demo/welcome", doc
        else:
            assert "id" not in doc.get("data", {}), doc


def test_slow_reader_gets_every_answer_whole():
    """More pipelined answers than the socket holds: the rest waits in the
    output buffer and still comes out whole and in order."""
    port = env.campusd.http_port
    harness.http(port, "GET", LESSON)
    want = harness.http(port, "GET", LESSON)[2]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    n = 4000
    s.sendall(get(LESSON) * n)
    time.sleep(0.5)                          # let the server fill the socket
    a = Answers(s)
    for _ in range(n):
        status, _, body = a.next()
        assert status == "HTTP/1.1 200 OK" and body == want
    s.sendall(get("/api/ping"))
    assert a.next()[0] == "HTTP/1.1 200 OK"
    assert "hot-path answer:" in env.campusd.log_text(), "the socket never filled"


def test_reload_brings_the_new_prebuilt_answer():
    d, courses = harness.campusd_on_a_copy(env.redis)
    try:
        a = Answers(raw(d.http_port, get(LESSON)))
        a.next()
        a.sock.sendall(get(LESSON))
        _, f1, old = a.next()                # from the pre-built answer
        assert "A line added by the reload test." not in json.loads(old)["body"]
        lesson = os.path.join(courses, "demo", "01-basics", "01-welcome.md")
        with open(lesson, "a") as f:
            f.write("\nA line added by the reload test.\n")
        d.signal(signal.SIGHUP)
        c = d.client()
        wait_for(lambda: b"A line added by the reload test." in c.request("READ demo/welcome").body,
                 what="reload")
        # The same keep-alive connection: the first answer after the reload
        # renders the new one, the next comes from it; both are new.
        for _ in range(3):
            a.sock.sendall(get(LESSON))
            _, f2, new = a.next()
            assert "A line added by the reload test." in json.loads(new)["body"]
            assert dict(f2)["ETag"] != dict(f1)["ETag"]
    finally:
        d.stop()


def test_language_and_gzip_pick_the_same_bytes_as_the_long_way():
    """Accept-Language and Accept-Encoding change the answer: the hot path
    must pick the variant and the coding READ picks, never the English
    plain answer it may also hold, and leave a fallback to READ."""
    import gzip
    tmp = harness.tempfile.mkdtemp()
    courses = os.path.join(harness.FIXTURES, "courses-i18n")
    d = Campusd(tmp, redis=env.redis, courses=courses).start()
    path = "/api/lessons/grappes/what-is-a-cluster"
    try:
        # English first: its pre-built answers exist when the others are asked.
        cases = [(None, "en"), ("fr-CA, fr;q=0.9", "fr"), ("es", "es"), ("de, *;q=0.1", "en")]
        for lang, served in cases:
            for coding in (None, "gzip, deflate", "identity"):
                extra = b""
                if lang:
                    extra += b"Accept-Language: " + lang.encode() + b"\r\n"
                if coding:
                    extra += b"Accept-Encoding: " + coding.encode() + b"\r\n"
                a = Answers(raw(d.http_port, get(path, extra)))
                first = a.next()
                slow = Answers(raw(d.http_port, get(path, extra + b"Connection: keep-alive\r\n"))).next()
                a.sock.sendall(get(path, extra))
                fast = a.next()
                assert first[0] == slow[0] == fast[0] == "HTTP/1.1 200 OK", (lang, coding)
                assert without_date(fast[1]) == without_date(slow[1]), (lang, coding, fast[1], slow[1])
                assert fast[2] == slow[2] == first[2], (lang, coding)
                fields = dict(fast[1])
                body = fast[2]
                if coding == "gzip, deflate":
                    assert fields.get("Content-Encoding") == "gzip", fields
                    assert fields["ETag"].endswith('-gz"'), fields
                    body = gzip.decompress(body)
                else:
                    assert "Content-Encoding" not in fields, fields
                assert "Accept-Language" in fields["Vary"], fields
                doc = json.loads(body)
                assert doc["data"]["lang"] == served, (lang, coding, doc["data"])
        # Two Accept-Language fields: evhttp reads the first; so must we
        # (the long way answers both times, in French).
        extra = b"Accept-Language: fr\r\nAccept-Language: es\r\n"
        a = Answers(raw(d.http_port, get(path, extra) + get(path, extra)))
        for _ in range(2):
            assert json.loads(a.next()[2])["data"]["lang"] == "fr"
    finally:
        d.stop()


def hot_counts(port):
    """campus_http_hot_path_total by encoding, from /metrics."""
    status, _, body = harness.http(port, "GET", "/metrics")
    assert status == 200, status
    text = body.decode() if isinstance(body, bytes) else body
    return {enc: int(n) for enc, n in
            re.findall(r'^campus_http_hot_path_total\{encoding="(\w+)"\} (\d+)$', text, re.M)}


def test_metrics_count_hot_path_answers_by_encoding():
    """The bench checks with this counter that its gzip figure is the hot
    path's: it moves for a hot-path answer, by its coding, and not for one
    that went the long way."""
    port = env.campusd.http_port
    a = Answers(raw(port, get(LESSON, b"Accept-Encoding: gzip\r\n")))
    assert a.next()[0] == "HTTP/1.1 200 OK"          # may render: the long way
    before = hot_counts(port)
    assert set(before) == {"identity", "gzip"}, before
    for _ in range(3):
        a.sock.sendall(get(LESSON, b"Accept-Encoding: gzip\r\n"))
        line, fields, _ = a.next()
        assert line == "HTTP/1.1 200 OK" and dict(fields).get("Content-Encoding") == "gzip", fields
    a.sock.sendall(get(LESSON))
    assert "Content-Encoding" not in dict(a.next()[1])
    # Off the hot path (a Connection field): counted nowhere here.
    slow = Answers(raw(port, get(LESSON, b"Accept-Encoding: gzip\r\nConnection: keep-alive\r\n")))
    assert slow.next()[0] == "HTTP/1.1 200 OK"
    after = hot_counts(port)
    assert after["gzip"] - before["gzip"] == 3, (before, after)
    assert after["identity"] - before["identity"] == 1, (before, after)


harness.main(globals())
