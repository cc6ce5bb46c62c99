"""campusd core over real sockets: greeting, framing, pipelining, limits,
timeouts, TLS, HTTP basics, and shutdown. Redis is a real redis-server."""

import os
import signal
import socket
import ssl
import time

import harness
from harness import Client, Env, http

env = None


def setup():
    global env
    env = Env(extra=["--max-conns-per-addr", "40", "--literal-max", "65536",
                     "--inflight-max", "64"])


def teardown():
    env.close()


def c():
    return env.campusd.client()


def test_greeting():
    cl = c()
    assert cl.greeting.code == 200 and cl.greeting.text == "campusd CTP/1 ready", cl.greeting
    cl.close()


def test_ping_echo_and_case_insensitive_verbs():
    cl = c()
    assert cl.request("PING").text == "PONG"
    assert cl.request("ping").text == "PONG"
    r = cl.request('ECHO "two words \\"quoted\\" \\\\ tab\\t"')
    assert r.code == 200 and r.body == b'two words "quoted" \\ tab\t', r
    cl.close()


def test_literal_binary_safe():
    cl = c()
    data = bytes(range(256)) * 4 + b"\r\n\x00end"
    cl.send(b"ECHO {%d}\r\n" % len(data) + data)
    r = cl.read_response()
    assert r.code == 200 and r.body == data
    # A bare LF ends a line too.
    cl.send(b"ECHO {3}\nabc")
    assert cl.read_response().body == b"abc"
    # An empty literal is whole with its line: answered with nothing after it.
    cl.send(b"ECHO {0}\r\n")
    r = cl.read_response()
    assert r.code == 200 and r.body == b"", r
    cl.close()


def test_blank_lines_are_ignored():
    cl = c()
    cl.send(b"\r\n\r\n   \r\nPING\r\n")
    assert cl.read_response().text == "PONG"
    cl.close()


def test_unknown_verb_names_it():
    cl = c()
    r = cl.request("FROBNICATE now")
    assert r.code == 400 and "FROBNICATE" in r.text, r
    assert cl.request("PING").code == 200      # still serving
    cl.close()


def test_arity_errors():
    cl = c()
    r = cl.request("ECHO")
    assert r.code == 400 and r.text.startswith("usage: ECHO"), r
    r = cl.request("PING a b")
    assert r.code == 400
    cl.close()


def test_bad_input_gets_400_and_the_stream_goes_on():
    cl = c()
    cases = [
        b'ECHO "unterminated',
        b'ECHO "bad \\q escape"',
        b"ECHO a\x01b",
        b"ECHO \xff\xfe",
        b"ECHO \xc0\xaf",               # overlong
        b"PING\rPING",                  # CR without LF inside a line
        b'ECHO "x"y',
        b"ECHO a\"b",
    ]
    for line in cases:
        r = cl.request(line)
        assert r.code == 400, (line, r)
    assert cl.request("PING").text == "PONG"
    cl.close()


def test_nul_byte_in_line():
    cl = c()
    r = cl.request(b"PI\x00NG")
    assert r.code == 400 and "NUL" in r.text, r
    assert cl.request("PING").code == 200
    cl.close()


def test_bad_line_with_literal_is_swallowed():
    cl = c()
    cl.send(b'ECHO "oops {5}\r\nhelloPING\r\n')
    r = cl.read_response()
    assert r.code == 400, r
    assert cl.read_response().text == "PONG"
    cl.close()


def test_help_lists_and_explains():
    cl = c()
    r = cl.request("HELP")
    verbs = [row["verb"] for row in r.rows()]
    for v in ("HELLO", "PING", "ECHO", "STATS", "STARTTLS", "QUIT", "HELP"):
        assert v in verbs, verbs
    r = cl.request("HELP echo")
    assert r.code == 200 and b"ECHO" in r.body
    assert cl.request("HELP nosuch").code == 404
    # Verbs are found by hash: only the whole name, in any case, finds one.
    assert cl.request("HELP rEaD").code == 200
    for name in (b"REA", b"READS", b"R" * 40):
        cl.send(b"HELP {%d}\r\n%s\r\n" % (len(name), name))
        assert cl.read_response().code == 404, name
    cl.send(b"HELP {7}\r\nREAD\x00xx\r\n")
    assert cl.read_response().code == 400          # a NUL byte is refused first
    assert cl.request("rEaD").code == 400        # a verb in any case, short of its argument
    assert cl.request("READX x/y").code != 200
    cl.close()


def test_hello_capabilities():
    cl = c()
    kv = cl.request("HELLO").kv()
    assert kv["protocol"] == "CTP/1"
    assert kv["tls"] == "starttls"
    assert kv["line-max"] == "8192"
    assert kv["store"] == "up"
    cl.close()


def test_pipelining_10000_in_one_write():
    cl = c()
    reqs = []
    for i in range(10000):
        reqs.append(b"ECHO r%d\r\n" % i if i % 3 else b"PING\r\n")
    cl.send(b"".join(reqs))
    for i in range(10000):
        r = cl.read_response()
        if i % 3:
            assert r.body == b"r%d" % i, (i, r)
        else:
            assert r.text == "PONG", (i, r)
    cl.close()


def test_pipelining_with_store_commands_keeps_order():
    cl = c()
    batch = []
    for i in range(500):
        batch.append(b"PING store\r\n" if i % 2 == 0 else b"ECHO n%d\r\n" % i)
    cl.send(b"".join(batch))
    for i in range(500):
        r = cl.read_response()
        if i % 2 == 0:
            assert r.code == 200 and r.text.startswith("PONG store"), (i, r)
        else:
            assert r.body == b"n%d" % i, (i, r)
    cl.close()


def test_line_too_long_413_then_close():
    cl = c()
    cl.send(b"ECHO " + b"x" * 9000 + b"\r\n")
    r = cl.read_response()
    assert r.code == 413, r
    assert cl.closed()


def test_megabyte_of_spaces():
    cl = c()
    try:
        cl.send(b" " * (1 << 20))
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = cl.read_response()
    assert r.code == 413
    assert cl.closed()
    assert c().request("PING").code == 200


def test_literal_too_large_413_then_close():
    cl = c()
    cl.send(b"ECHO {70000}\r\n")
    r = cl.read_response()
    assert r.code == 413, r
    assert cl.closed()


def test_literal_markers_malformed():
    for marker in (b"{-1}", b"{99999999999}", b"{}", b"{1x}"):
        cl = c()
        cl.send(b"ECHO " + marker + b"\r\n")
        r = cl.read_response()
        assert r.code in (400, 413), (marker, r)
        assert cl.closed(), marker


def test_http_on_text_port_is_hung_up_on():
    cl = c()
    cl.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert cl.closed()
    assert cl.buf == b"", cl.buf


def test_quit_answers_then_closes_and_drops_the_rest():
    cl = c()
    cl.send(b"QUIT\r\nPING\r\n")
    r = cl.read_response()
    assert r.code == 200 and r.text == "bye"
    assert cl.closed()
    assert cl.buf == b"", cl.buf


def test_connections_per_address_limit():
    held = [c() for _ in range(38)]           # the limit is 40; the env may hold one
    extra = []
    refused = None
    try:
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", env.campusd.text_port), timeout=5)
            data = s.recv(200)
            extra.append(s)
            if data.startswith(b"503"):
                refused = data
                break
        assert refused is not None and b"too many connections" in refused, refused
    finally:
        for h in held:
            h.close()
        for s in extra:
            s.close()
    time.sleep(0.3)
    assert c().request("PING").code == 200


def test_slow_reader_is_bounded():
    """A client that sends requests but never reads: campusd stops reading
    from it instead of buffering without bound."""
    s = socket.create_connection(("127.0.0.1", env.campusd.text_port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    payload = b"x" * 60000
    req = b"ECHO {%d}\r\n%s" % (len(payload), payload)
    sent = 0
    s.settimeout(0.5)
    try:
        for _ in range(2000):                  # 120 MB offered at most
            s.sendall(req)
            sent += 1
    except socket.timeout:
        pass
    # Its send buffer filled up long before 2000 requests: campusd paused.
    assert sent < 2000, sent
    kv = c().request("STATS").kv()
    assert int(kv["memory-rss-kib"]) < 400 * 1024, kv["memory-rss-kib"]
    s.close()
    assert c().request("PING").code == 200


def test_one_pipeliner_does_not_starve_others():
    hog = c()
    hog.send(b"PING\r\n" * 50000)
    other = c()
    t0 = time.time()
    assert other.request("PING").code == 200
    assert time.time() - t0 < 2.0
    for _ in range(50000):
        assert hog.read_response().code == 200
    hog.close()
    other.close()


def test_stats_counts():
    cl = c()
    before = cl.request("STATS").kv()
    cl.request("PING")
    cl.request("NOPE")
    after = cl.request("STATS").kv()
    assert int(after["cmd-ping"]) == int(before["cmd-ping"]) + 1
    assert int(after["errors-400"]) >= int(before["errors-400"]) + 1
    assert int(after["bytes-in"]) > int(before["bytes-in"])
    assert after["store"] == "up"
    cl.close()


def test_starttls_upgrades_in_place():
    cl = c()
    r = cl.request("STARTTLS")
    assert r.code == 200, r
    cl.sock = harness.tls_wrap(cl.sock)
    assert cl.sock.version() in ("TLSv1.2", "TLSv1.3")
    assert cl.request("PING").text == "PONG"
    kv = cl.request("HELLO").kv()
    assert kv["tls"] == "active"
    assert cl.request("STARTTLS").code == 400
    cl.close()


def test_starttls_drops_pipelined_plaintext():
    cl = c()
    cl.send(b"STARTTLS\r\nECHO injected\r\n")
    r = cl.read_response()
    assert r.code == 200
    cl.sock = harness.tls_wrap(cl.sock)
    cl.buf = b""
    # The injected ECHO was never executed: the next answer is to our PING.
    assert cl.request("PING").text == "PONG"
    cl.close()


def test_tls_port_from_first_byte():
    cl = Client(env.campusd.tls_port, tls=True)
    assert cl.greeting.code == 200
    assert cl.request("ECHO secret").body == b"secret"
    cl.close()


def test_tls_refuses_old_versions():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    s = socket.create_connection(("127.0.0.1", env.campusd.tls_port), timeout=5)
    try:
        ctx.wrap_socket(s, server_hostname="localhost")
        raise AssertionError("TLS 1.1 handshake succeeded")
    except (ssl.SSLError, ConnectionResetError, OSError):
        pass


def test_tls_garbage_does_not_hurt():
    s = socket.create_connection(("127.0.0.1", env.campusd.tls_port), timeout=5)
    s.sendall(b"\x16\x03\x01\x00\x05hello-not-tls" * 10)
    s.close()
    assert c().request("PING").code == 200


def test_http_healthz_metrics_ping():
    st, h, body = http(env.campusd.http_port, "GET", "/healthz")
    assert st == 200 and b'"store":"up"' in body, body
    st, h, body = http(env.campusd.http_port, "GET", "/metrics")
    assert st == 200 and h["content-type"].startswith("text/plain")
    text = body.decode()
    for name in ("campus_connections{worker=\"0\"} ", "campus_commands_total{verb=\"PING\"}",
                 "campus_errors_total{code=\"400\"}", "campus_request_duration_seconds_bucket",
                 "campus_store_up{worker=\"0\"} 1"):
        assert name in text, name
    st, h, body = http(env.campusd.http_port, "GET", "/api/ping")
    assert st == 200 and body == b'{"code":200,"message":"PONG"}', body
    st, h, body = http(env.campusd.http_port, "POST", "/api/echo", body=b"hi")
    assert st == 200 and b'"body":"hi"' in body, body
    st, _, body = http(env.campusd.http_port, "GET", "/api/nope")
    assert st == 404 and b'"error"' in body
    st, _, _ = http(env.campusd.http_port, "POST", "/api/ping")
    assert st == 405


def test_static_files_revalidate():
    st, h, body = http(env.campusd.http_port, "GET", "/")
    assert st == 200 and b"<html" in body and h["content-type"].startswith("text/html")
    assert h["cache-control"] == "no-cache" and "default-src 'self'" in h["content-security-policy"]
    st, _, body = http(env.campusd.http_port, "GET", "/", headers={"If-None-Match": h["etag"]})
    assert st == 304 and body == b""
    # The policy comes with the document and the worker script, whose own
    # it is; a module or a style sheet is governed by the page's.
    st, h, _ = http(env.campusd.http_port, "GET", "/sw.js")
    assert st == 200 and "default-src 'self'" in h["content-security-policy"], h
    for f in ("/campus.js", "/campus.css", "/i18n/fr.txt"):
        st, h, _ = http(env.campusd.http_port, "GET", f)
        assert st == 200 and "content-security-policy" not in h, (f, h)
    for bad in ("/.git/config", "/%2e%2e/README.md", "/campus.js/../../x"):
        st, _, _ = http(env.campusd.http_port, "GET", bad)
        assert st in (400, 404), (bad, st)


def test_http_limits():
    st, _, _ = http(env.campusd.http_port, "GET", "/api/ping",
                    headers={"X-Big": "y" * 20000})
    assert st in (400, 413, 431), st
    s = socket.create_connection(("127.0.0.1", env.campusd.http_port), timeout=5)
    s.sendall(b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (2 << 20))
    s.sendall(b"z" * 4096)
    status = s.recv(100)
    assert status.startswith(b"HTTP/1.1 413"), status
    s.close()
    st, _, _ = http(env.campusd.http_port, "GET", "/../../etc/passwd")
    assert st in (400, 404), st


def test_idle_and_request_deadlines():
    tmp = harness.tempfile.mkdtemp()
    d = harness.Campusd(tmp, redis=env.redis, extra=["--idle-timeout", "1",
                                                     "--request-timeout", "2"]).start()
    try:
        idle = d.client()
        time.sleep(2.5)
        r = idle.read_response()
        assert r.code == 408 and "idle" in r.text, r
        assert idle.closed()
        # A trickler: a byte every half second keeps the idle timer happy,
        # but the request deadline cuts it off.
        t = d.client()
        t0 = time.time()
        closed = False
        for ch in b"ECHO " + b"a" * 20:
            try:
                t.send(bytes([ch]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.5)
            if time.time() - t0 > 4:
                break
        r = t.read_response()
        assert r.code == 408 and "not completed" in r.text, r
        assert t.closed()
    finally:
        d.stop()


def test_sigterm_drains_and_exits_0():
    tmp = harness.tempfile.mkdtemp()
    d = harness.Campusd(tmp, redis=env.redis).start()
    cl = d.client()
    cl.send(b"PING store\r\n" * 200)
    assert cl.read_response().code == 200     # campusd has the batch
    d.signal(signal.SIGTERM)
    got = 1
    try:
        while got < 200:
            r = cl.read_response()
            assert r.code == 200, r
            got += 1
    except EOFError:
        pass
    assert got == 200, got                    # everything in flight was answered
    assert d.proc.wait(15) == 0
    d.proc = None
    d.log.close()
    d.check_log()


if __name__ == "__main__":
    harness.main(globals())
