"""Hostile input on the HTTP port, over raw sockets: slow senders and the
request deadline, the connection cap, request smuggling through ambiguous
framing, cross-site requests, and ids carrying bytes they may not. Each
framing case asserts exactly one answer, its status, and that the connection
is then closed."""

import json
import socket
import time

import harness
from harness import Env, http

env = None
TIMEOUT = 4       # --http-timeout for the whole file
MAX_CONNS = 8


def setup():
    global env
    env = Env(extra=["--http-timeout", str(TIMEOUT), "--http-max-conns", str(MAX_CONNS)])


def teardown():
    env.close()


def connect():
    return socket.create_connection(("127.0.0.1", env.campusd.http_port), timeout=5)


def parse_responses(data):
    """Splits what a server sent into [(status, headers, body)], each framed by
    its Content-Length. Leftover bytes that are not a whole answer fail."""
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        assert end > 0, ("not an HTTP answer", data[:200])
        head = data[:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        assert parts[0] in ("HTTP/1.1", "HTTP/1.0"), head[0]
        status = int(parts[1])
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        body = data[end + 4:end + 4 + n]
        assert len(body) == n, ("short body", data)
        out.append((status, headers, body))
        data = data[end + 4 + n:]
    return out


def exchange(raw, limit=8.0):
    """Sends raw bytes, then reads until the server closes (bounded by limit
    seconds). Returns (answers, closed)."""
    data, closed = exchange_raw(raw, limit)
    return parse_responses(data), closed


def exchange_raw(raw, limit=8.0):
    """The same, returning the bytes received unparsed."""
    s = connect()
    try:
        s.sendall(raw)
        data, closed = b"", False
        end = time.time() + limit
        while time.time() < end:
            s.settimeout(max(0.05, end - time.time()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            data += chunk
        return data, closed
    finally:
        s.close()


def one_error(raw, status, limit=8.0):
    answers, closed = exchange(raw, limit)
    assert len(answers) == 1, (raw, [a[0] for a in answers])
    st, h, body = answers[0]
    assert st == status, (raw, st, body)
    assert closed, (raw, "connection left open")
    assert h.get("connection", "").lower() == "close", h
    assert h.get("x-content-type-options") == "nosniff", h
    assert json.loads(body)["code"] == status, body
    return body


# ---- request smuggling: RFC 9112 framing ----

GET = b"GET /api/ping HTTP/1.1\r\nHost: x\r\n"
ECHO = b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
NEXT = b"GET /api/ping HTTP/1.1\r\nHost: x\r\n\r\n"


def test_well_formed_pipeline_answers_each():
    answers, closed = exchange(ECHO + b"Content-Length: 4\r\n\r\n\"hi\"" + NEXT +
                               ECHO + b"Transfer-Encoding: chunked\r\n\r\n"
                               b"2\r\n\"h\r\n2;ext=1\r\ni\"\r\n0\r\nX-Trailer: 1\r\n\r\n" + NEXT +
                               b"GET /api/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                               limit=3)
    assert [a[0] for a in answers] == [200, 200, 200, 200, 200], answers
    assert b'"body":"\\"hi\\""' in answers[0][2], answers[0][2]
    assert b'"body":"\\"hi\\""' in answers[2][2], answers[2][2]
    assert closed


def test_well_formed_requests_split_at_every_byte():
    """The same pipeline sent a byte at a time, fast: the checks hold their
    place across every split (a CR here, the LF in the next read)."""
    raw = (ECHO + b"Transfer-Encoding: chunked\r\n\r\n4\r\n\"hi\"\r\n0\r\n\r\n" +
           ECHO + b"Content-Length: 4\r\n\r\n\"yo\"" +
           b"GET /api/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    s = connect()
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(raw)):
            s.sendall(raw[i:i + 1])
            time.sleep(0.002)
        data = b""
        s.settimeout(5)
        for _ in range(100):
            c = s.recv(65536)
            if not c:
                break
            data += c
    finally:
        s.close()
    answers = parse_responses(data)
    assert [a[0] for a in answers] == [200, 200, 200], answers
    assert b'\\"hi\\"' in answers[0][2] and b'\\"yo\\"' in answers[1][2], answers


def test_head_body_is_not_a_second_request():
    """evhttp reads no body after HEAD: one smuggled there must not run."""
    inner = b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    for framing in (b"Content-Length: %d\r\n\r\n" % len(inner) + inner,
                    b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n"):
        data, closed = exchange_raw(b"HEAD /api/ping HTTP/1.1\r\nHost: x\r\n" + framing +
                                    b"GET /api/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                    limit=3)
        # Two answers: HEAD's (headers only) and the GET's; no echo.
        assert data.count(b"HTTP/1.1 ") == 2 and data.startswith(b"HTTP/1.1 200"), data
        assert b'"body"' not in data and data.endswith(b'"PONG"}'), data
        assert closed


def test_head_answer_has_no_body():
    """A HEAD answer is headers only, with the length a GET would have, so
    the next answer on the connection starts where the client expects."""
    for path in (b"/api/ping", b"/api/nope", b"/", b"/metrics"):
        data, closed = exchange_raw(b"HEAD " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n" +
                                    b"GET /api/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                    limit=3)
        end = data.find(b"\r\n\r\n")
        head = data[:end].lower()
        assert b"content-length: " in head and not head.startswith(b"http/1.1 5"), data[:300]
        rest = data[end + 4:]
        assert rest.startswith(b"HTTP/1.1 200") and rest.endswith(b'"PONG"}'), (path, data[:400])
        assert closed


def test_two_different_content_lengths():
    one_error(ECHO + b"Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde" + NEXT, 400)


def test_repeated_content_length():
    one_error(ECHO + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc" + NEXT, 400)


def test_content_length_not_digits():
    for v in (b"+3", b"-3", b" 0x3", b"3 3", b"3,3", b"", b"3.0", b"\xd9\xa3"):
        one_error(ECHO + b"Content-Length: " + v + b"\r\n\r\nabc" + NEXT, 400)


def test_space_before_colon():
    one_error(ECHO + b"Content-Length : 3\r\n\r\nabc" + NEXT, 400)
    one_error(ECHO + b"Transfer-Encoding :  chunked\r\n\r\n0\r\n\r\n" + NEXT, 400)
    one_error(GET + b"X-Any\t: 1\r\n\r\n" + NEXT, 400)


def test_transfer_encoding_with_content_length():
    one_error(ECHO + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + NEXT, 400)
    one_error(ECHO + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + NEXT, 400)


def test_unknown_transfer_coding():
    for v in (b"gzip", b"gzip, chunked", b"chunked, chunked", b"identity", b"xchunked", b"chunked\x0b"):
        one_error(ECHO + b"Transfer-Encoding: " + v + b"\r\n\r\n0\r\n\r\n" + NEXT, 400)
    one_error(ECHO + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + NEXT, 400)


def test_malformed_chunks():
    for chunks in (b"+3\r\nabc\r\n0\r\n\r\n", b"0x3\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n",
                   b" 3\r\nabc\r\n0\r\n\r\n", b"3 x\r\nabc\r\n0\r\n\r\n", b"\r\n0\r\n\r\n"):
        one_error(ECHO + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + NEXT, 400)


def test_obs_fold_bare_cr_and_nul():
    one_error(GET + b"X-A: 1\r\n folded\r\n\r\n" + NEXT, 400)
    one_error(GET + b"X-A: 1\rX-B: 2\r\n\r\n" + NEXT, 400)
    one_error(GET + b"X-A: a\x00b\r\n\r\n" + NEXT, 400)
    one_error(b"GET /api/ping HTTP/1.1\r\n Host: x\r\n\r\n" + NEXT, 400)


def test_bad_request_lines():
    one_error(b"GET  /api/ping HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT, 400)
    one_error(b"GET /api/ping\x00x HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT, 400)
    one_error(b"GET /api/ping HTTP/1.1 \r\nHost: x\r\n\r\n" + NEXT, 400)
    one_error(b"GET /api/ping HTTP/2.0\r\nHost: x\r\n\r\n" + NEXT, 505)
    one_error(b"BREW /api/ping HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT, 405)
    one_error(b"GET /api/ping HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" + NEXT, 400)
    one_error(b"GET /api/ping HTTP/1.1\r\n\r\n" + NEXT, 400)
    one_error(b"GET http://[::1/ HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT, 400)
    one_error(ECHO + b"Expect: teapot\r\nContent-Length: 2\r\n\r\n{}" + NEXT, 417)


def test_expect_100_continue():
    s = connect()
    try:
        s.sendall(ECHO + b"Expect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        s.settimeout(3)
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b'"ok"')
        got = b""
        for _ in range(50):
            if b'"body"' in got:
                break
            c = s.recv(4096)
            assert c, got
            got += c
        assert parse_responses(got)[0][0] == 200, got
    finally:
        s.close()


def test_framing_error_after_good_requests_comes_last():
    """A pipeline whose third request is ambiguous: two answers, the second
    of them the 400, then the close; nothing after it runs."""
    answers, closed = exchange(NEXT + NEXT + ECHO + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab" +
                               NEXT)
    assert [a[0] for a in answers] == [200, 200, 400], [a[0] for a in answers]
    assert closed


def test_body_over_limit_413_at_once():
    one_error(ECHO + b"Content-Length: 99999999999999999999999\r\n\r\n", 413)
    one_error(ECHO + b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", 413)


def test_header_section_too_large():
    one_error(GET + b"X-Big: " + b"y" * 20000 + b"\r\n\r\n", 431)


# ---- slow senders and the connection cap ----

def trickle(s, data, gap, limit):
    """Sends data a byte every gap seconds, watching for an answer between
    bytes. Returns (bytes received, seconds from the first byte), stopping at
    the first answer or after limit seconds."""
    t0 = time.time()
    got = b""
    for i in range(len(data)):
        if time.time() - t0 > limit:
            break
        try:
            s.sendall(data[i:i + 1])
        except OSError:
            break
        s.settimeout(gap)
        try:
            chunk = s.recv(4096)
            if chunk:
                got += chunk
                s.settimeout(1)
                try:
                    while True:
                        more = s.recv(4096)
                        if not more:
                            break
                        got += more
                except (socket.timeout, OSError):
                    pass
            break
        except socket.timeout:
            continue
        except OSError:
            break
    return got, time.time() - t0


def test_slow_headers_408_within_deadline():
    s = connect()
    try:
        got, took = trickle(s, GET + b"X-Slow: " + b"s" * 40 + b"\r\n\r\n", 1.0, TIMEOUT + 6)
    finally:
        s.close()
    answers = parse_responses(got)
    assert [a[0] for a in answers] == [408], (got, took)
    assert answers[0][1]["connection"].lower() == "close"
    assert TIMEOUT - 0.5 <= took <= TIMEOUT + 2, took


def test_slow_body_408_within_deadline():
    s = connect()
    try:
        s.sendall(ECHO + b"Content-Length: 60\r\n\r\n")
        got, took = trickle(s, b"b" * 60, 1.0, TIMEOUT + 6)
    finally:
        s.close()
    answers = parse_responses(got)
    assert [a[0] for a in answers] == [408], (got, took)
    assert took <= TIMEOUT + 2, took


def test_every_connection_counts_against_the_cap():
    """MAX_CONNS connections that never finish a request (half of them never
    send a byte) hold every place: each further connection is answered 503
    and closed; when they go, a new one is served."""
    held = []
    try:
        for i in range(MAX_CONNS):
            s = connect()
            if i % 2:
                s.sendall(b"GET /api/pi")
            held.append(s)
        time.sleep(0.3)
        for _ in range(3):
            answers, closed = exchange(NEXT, limit=3)
            assert [a[0] for a in answers] == [503], answers
            assert closed
    finally:
        for s in held:
            s.close()
    harness.wait_for(lambda: http(env.campusd.http_port, "GET", "/api/ping")[0] == 200, timeout=5,
                     what="a place after the held connections closed")


# ---- cross-site requests ----

def register_and_cookie(name):
    port = env.campusd.http_port
    pw = {"name": name, "password": "a good password"}
    st, _, body = http(port, "POST", "/api/register", body=json.dumps(pw))
    assert st == 201, body
    st, h, body = http(port, "POST", "/api/login", body=json.dumps(pw))
    assert st == 200, body
    return h["set-cookie"].split(";")[0], json.loads(body)["data"]["token"]


def progress_of(user):
    """How many lessons Redis holds as done for user."""
    return int(env.redis.cmd("HLEN", "campus:{u:%s}:done" % user)[1:])


def test_cross_site_post_with_cookie_refused():
    port = env.campusd.http_port
    jar, token = register_and_cookie("csrfvictim")
    me = "http://127.0.0.1:%d" % port
    refusals = [
        ({"Origin": "https://evil.example", "Content-Type": "application/json"}, b"{}", "Origin"),
        ({"Origin": "null", "Content-Type": "application/json"}, b"{}", "Origin"),
        ({"Origin": me, "Content-Type": "text/plain"}, b"{}", "application/json"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"a=1", "application/json"),
        ({"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}, b"{}", "cross-site"),
    ]
    for extra, body, why in refusals:
        hd = {"Cookie": jar, "Host": "127.0.0.1:%d" % port}
        hd.update(extra)
        st, h, got = http(port, "POST", "/api/done/demo/welcome", body=body, headers=hd)
        assert st == 403, (extra, st, got)
        doc = json.loads(got)
        assert doc["code"] == 403 and why in doc["error"], doc
        assert h["x-content-type-options"] == "nosniff"
    assert not progress_of("csrfvictim"), "a refused request changed progress"
    # Login from a foreign origin sets no cookie.
    st, h, got = http(port, "POST", "/api/login", headers={"Origin": "https://evil.example"},
                      body=json.dumps({"name": "csrfvictim", "password": "a good password"}))
    assert st == 403 and "set-cookie" not in h, (st, got)
    # Our own pages: same Origin, JSON body.
    st, _, got = http(port, "POST", "/api/done/demo/welcome", body=b"{}",
                      headers={"Cookie": jar, "Origin": me, "Sec-Fetch-Site": "same-origin"})
    assert st == 200, got
    assert progress_of("csrfvictim"), "the same-origin request did not record progress"
    # A bearer token is no ambient credential: no Origin or JSON needed.
    st, _, got = http(port, "POST", "/api/done/demo/lists", body=b"x",
                      headers={"Authorization": "Bearer " + token, "Content-Type": "text/plain",
                               "Origin": "https://elsewhere.example"})
    assert st == 200, got


def test_nosniff_on_every_api_answer():
    port = env.campusd.http_port
    for method, path in (("GET", "/api/ping"), ("GET", "/api/nope"), ("POST", "/api/ping"),
                         ("GET", "/api/courses/demo"), ("GET", "/healthz"), ("GET", "/metrics")):
        st, h, _ = http(port, method, path)
        assert h.get("x-content-type-options") == "nosniff", (method, path, st, h)
    st, h, _ = http(port, "GET", "/api/lessons/demo/welcome")
    st, h2, _ = http(port, "GET", "/api/lessons/demo/welcome", headers={"If-None-Match": h["etag"]})
    assert st == 304 and h2.get("x-content-type-options") == "nosniff", (st, h2)


# ---- ids in paths ----

def test_nul_and_foreign_bytes_in_ids_400():
    port = env.campusd.http_port
    jar, _ = register_and_cookie("nulbyte")
    cases = [
        ("GET", "/api/lessons/demo/welcome%00x", "lesson"),
        ("GET", "/api/lessons/demo%00evil/welcome", "course"),
        ("GET", "/api/courses/demo%00", "course"),
        ("GET", "/api/courses/Demo", "course"),
        ("GET", "/api/courses/demo%2f..", "course"),
        ("GET", "/api/exercises/demo/x%20y", "exercise"),
        ("GET", "/api/reviews/1%00", "review"),
        ("GET", "/api/progress/demo%0a", "course"),
        ("POST", "/api/done/demo/welcome%00x", "lesson"),
    ]
    for method, path, field in cases:
        st, h, body = http(port, method, path, body=b"{}" if method == "POST" else None,
                           headers={"Cookie": jar})
        assert st == 400, (path, st, body)
        assert ("'%s'" % field) in json.loads(body)["error"], (path, body)
    assert not progress_of("nulbyte"), "DONE with a NUL in the id recorded something"
    st, _, _ = http(port, "GET", "/api/lessons/demo/welcome")
    assert st == 200


# ---- the cookie over TLS ----

def test_host_prefixed_cookie_when_base_url_is_https():
    tmp = harness.tempfile.mkdtemp()
    d = harness.Campusd(tmp, redis=env.redis, extra=["--base-url", "https://campus.example"]).start()
    try:
        pw = json.dumps({"name": "tlsuser", "password": "a good password"})
        st, _, body = http(d.http_port, "POST", "/api/register", body=pw)
        assert st == 201, body
        st, h, body = http(d.http_port, "POST", "/api/login", body=pw,
                           headers={"Origin": "https://campus.example"})
        assert st == 200, body
        cookie = h["set-cookie"]
        assert cookie.startswith("__Host-campus_session=tlsuser."), cookie
        for attr in ("Secure", "Path=/", "HttpOnly", "SameSite=Strict"):
            assert attr in cookie, cookie
        assert "domain" not in cookie.lower(), cookie
        jar = cookie.split(";")[0]
        st, _, body = http(d.http_port, "GET", "/api/me", headers={"Cookie": jar})
        assert json.loads(body)["data"]["user"] == "tlsuser", body
        st, h, body = http(d.http_port, "POST", "/api/logout", headers={"Cookie": jar})
        assert st == 200 and h["set-cookie"].startswith("__Host-campus_session=;"), h
    finally:
        d.stop()
        harness.shutil.rmtree(tmp, ignore_errors=True)


# ---- the request rate per address ----

def get_from(port, source, path):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def test_rate_limit_per_address_429_with_retry_after():
    tmp = harness.tempfile.mkdtemp()
    d = harness.Campusd(tmp, redis=env.redis, extra=["--http-rate", "2", "--http-rate-burst", "5"]).start()
    try:
        got = [get_from(d.http_port, "127.0.0.1", "/api/ping")[0] for _ in range(7)]
        assert got[:5] == [200] * 5 and 429 in got[5:], got
        st, h, body = get_from(d.http_port, "127.0.0.1", "/api/ping")
        assert st == 429 and int(h["retry-after"]) >= 1, (st, h)
        assert json.loads(body)["code"] == 429 and h["x-content-type-options"] == "nosniff"
        # Monitoring is not limited; another address has its own bucket.
        assert get_from(d.http_port, "127.0.0.1", "/healthz")[0] == 200
        assert get_from(d.http_port, "127.0.0.2", "/api/ping")[0] == 200
        time.sleep(1.1)     # two tokens a second
        assert get_from(d.http_port, "127.0.0.1", "/api/ping")[0] == 200
    finally:
        d.stop()
        harness.shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main(globals())
