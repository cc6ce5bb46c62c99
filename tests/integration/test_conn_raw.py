"""A plain CTP/1 connection is read and written straight on its socket (a
persistent read event, reads of up to 64 KiB into a buffer given back once
parsed, answers written with one writev at the end of a batch, a write
event only while the socket is full). Each shortcut gets its regression
here: a connection whose buffers were released wakes up and is answered
right, with a pipelined literal split across reads and idle time; a
literal larger than one read buffer; answers (pre-built READ bodies among
them) held back by a client that does not read, arriving whole and in
order; a peer that resets while its answers are being written; STARTTLS
and COMPRESS taking the socket over after the buffers were released, with
the deflated requests arriving in pieces; a READ answer made once and sent
again as it is, the same bytes as the HTTP API's and never one made for a
trainer, a fallback language or another width; the same answer sent by
sendfile from its file and from memory over TLS and COMPRESS, and its
file closed once a reload has replaced it and its last answer has left."""
import os
import signal
import socket
import struct
import time
import zlib

import json

import harness
from harness import Env

env = None


FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
PW = "the password 1"


def setup():
    global env
    env = Env(extra=["--max-conns-per-addr", "400", "--reqs-per-event", "4"] + FAST)


def teardown():
    env.close()


def idle():
    time.sleep(0.2)              # the batch is over: the buffers are gone


def c():
    return env.campusd.client()


def lesson_id():
    course = c().request("COURSES").rows()[0]["id"]
    return c().request("COURSE " + course).rows()[0]["lesson"]


def test_released_buffers_wake_with_a_pipelined_literal_split_across_reads():
    cl = c()
    assert cl.request("PING").code == 200
    idle()
    blob = bytes(range(256)) * 160              # 40,960 bytes, every byte value
    head = b"ECHO {%d}\r\n" % len(blob)
    # Line and part of the literal, then idle time, then the rest of the
    # literal with two more requests behind it, the last one cut in two.
    cl.send(head + blob[:1000])
    idle()
    cl.send(blob[1000:30000])
    idle()
    cl.send(blob[30000:] + b"PING\r\nECHO {5}\r\nhel")
    r = cl.read_response()
    assert r.code == 200 and r.body == blob, r
    assert cl.read_response().text == "PONG"
    idle()
    cl.send(b"lo")
    r = cl.read_response()
    assert r.code == 200 and r.body == b"hello", r
    # Byte by byte, with a pause in the middle: still one request.
    for i, b in enumerate(b"ECHO {3}\r\nxyz"):
        cl.send(bytes([b]))
        if i == 6:
            idle()
    assert cl.read_response().body == b"xyz"
    cl.close()


def test_literal_larger_than_one_read_buffer():
    cl = c()
    big = (b"0123456789abcdef" * 12500)[:200000]  # three reads' worth and more
    cl.send(b"ECHO {%d}\r\n%s" % (len(big), big) + b"ECHO {2}\r\nok\r\n" + b"PING\r\n")
    r = cl.read_response()
    assert r.code == 200 and r.body == big, (r.code, len(r.body or b""))
    assert cl.read_response().body == b"ok"
    assert cl.read_response().text == "PONG"
    cl.close()


def test_answers_held_back_by_a_client_that_does_not_read_arrive_whole():
    lesson = lesson_id()
    one = c().request("READ %s text" % lesson)
    assert one.code == 200 and one.body, one
    cl = c()
    cl.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    payload = bytes((i * 7) & 0xFF for i in range(60000))
    n_echo, n_read = 120, 300
    # About 7 MB of ECHO answers and some 300 pre-built READ answers,
    # far past the socket's buffers and the pause mark: campusd stops
    # reading, waits for the socket, and goes on when it drains.
    reqs = []
    for i in range(n_echo):
        reqs.append(b"ECHO {%d}\r\n%s" % (len(payload), payload))
        reqs.append(b"READ %s text\r\n" % lesson.encode())
    reqs.extend(b"READ %s text\r\n" % lesson.encode() for _ in range(n_read - n_echo))
    cl.sock.settimeout(20)
    cl.send(b"".join(reqs))
    time.sleep(0.5)              # the output is stuck behind the socket now
    # Meanwhile everybody else is served.
    assert c().request("PING").code == 200
    for i in range(n_echo):
        r = cl.read_response()
        assert r.code == 200 and r.body == payload, (i, r.code, len(r.body or b""))
        r = cl.read_response()
        assert r.code == 200 and r.body == one.body, (i, r)
    for i in range(n_read - n_echo):
        r = cl.read_response()
        assert r.code == 200 and r.body == one.body, (i, r)
    assert cl.request("PING").text == "PONG"
    cl.close()


def test_peer_reset_while_answers_are_written():
    """Answers in memory and cached READ answers in their file are queued
    when the peer resets: the connection goes, its buffers with it, and
    the server goes on (the sanitizer build checks what was freed)."""
    payload = b"r" * 60000
    lesson = lesson_id().encode()
    req = b"ECHO {%d}\r\n%s" % (len(payload), payload) + b"READ %s text\r\n" % lesson * 4
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", env.campusd.text_port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(0.3)
        try:
            for _ in range(40):
                s.sendall(req)
        except (socket.timeout, OSError):
            pass
        # A reset, not a FIN: campusd's next write fails.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    cl = c()
    assert cl.request("PING").code == 200
    r = cl.request("STATS")
    assert r.code == 200
    assert cl.request("READ %s text" % lesson.decode()).code == 200
    cl.close()


def test_starttls_after_the_buffers_were_released():
    cl = c()
    assert cl.request("PING").code == 200
    idle()
    assert cl.request("STARTTLS").code == 200
    cl.sock = harness.tls_wrap(cl.sock)
    idle()
    blob = b"t" * 50000
    r = cl.request(b"ECHO {%d}\r\n%s" % (len(blob), blob))
    assert r.code == 200 and r.body == blob
    assert cl.request("HELLO").kv()["tls"] == "active"
    cl.close()


def test_compress_with_deflated_requests_arriving_in_pieces():
    cl = c()
    assert cl.request("PING").code == 200
    idle()
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    dec = zlib.decompressobj(-15)
    blob = bytes(range(256)) * 100
    deflated = co.compress(b"PING\r\nECHO {%d}\r\n" % len(blob) + blob + b"ECHO after\r\n")
    deflated += co.flush(zlib.Z_SYNC_FLUSH)
    # COMPRESS with a little of the deflated stream behind it in one
    # segment, the rest later in two pieces.
    cl.send(b"COMPRESS DEFLATE\r\n" + deflated[:5])
    r = cl.read_response()
    assert r.code == 200, r
    rest, cl.buf = cl.buf, b""
    plain = dec.decompress(rest)
    idle()
    cl.send(deflated[5:200])
    idle()
    cl.send(deflated[200:])
    want = b"200 PONG\r\n200 echo {%d}\r\n%s\r\n200 echo {5}\r\nafter\r\n" % (len(blob), blob)
    plain = inflate_until(cl, dec, plain, len(want))
    assert plain == want, plain[:200]
    cl.close()


def inflate_until(cl, dec, got, n):
    """What the deflated connection sends, inflated, until n bytes (10 s)."""
    deadline = time.time() + 10
    while len(got) < n and time.time() < deadline:
        chunk = cl.sock.recv(65536)
        if not chunk:
            break
        got += dec.decompress(chunk)
    return got


def test_read_bodies_held_back_across_a_reload_stay_whole():
    """A READ body goes out from the catalogue's memory by reference; a
    reload while answers wait behind a client that does not read must free
    nothing under them (the sanitizer build would say so), and the next
    READ serves the new text."""
    d, courses = harness.campusd_on_a_copy(env.redis)
    try:
        cl = d.client()
        old = cl.request("READ demo/welcome text")
        assert old.code == 200 and old.body, old
        cl.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        n = 20000
        cl.send(b"READ demo/welcome text\r\n" * n)
        time.sleep(0.5)
        before = answer_files(d.proc.pid)
        assert len(before) == 1, before
        with open(os.path.join(courses, "demo", "01-basics", "01-welcome.md"), "a") as f:
            f.write("\nA line added while answers waited.\n")
        d.signal(signal.SIGHUP)
        other = d.client()
        deadline = time.time() + 20
        while b"A line added while answers waited." not in other.request("READ demo/welcome text").body:
            assert time.time() < deadline, "reload not seen"
            time.sleep(0.1)
        # Answers parsed before the reload carry the old text, the rest the
        # new; each is whole, and they never go back to the old one.
        seen_new = False
        n_old = 0
        for i in range(n):
            r = cl.read_response()
            assert r.code == 200, (i, r)
            is_new = b"A line added while answers waited." in r.body
            assert is_new or r.body == old.body, (i, r)
            assert not (seen_new and not is_new), i
            if not is_new:
                n_old = i + 1
            seen_new = seen_new or is_new
        # Some answers were parsed before the reload and some after: the
        # old text waited in the output while the catalogue was swapped.
        assert 0 < n_old < n, n_old
        print("    %d of %d READ answers carried the text from before the reload" % (n_old, n))
        r = cl.request("READ demo/welcome text")
        assert b"A line added while answers waited." in r.body
        # The old answers' file went once the last of them had left: one
        # file is open, the new catalogue's, not the one from before.
        deadline = time.time() + 10
        while len(answer_files(d.proc.pid)) != 1:
            assert time.time() < deadline, "answer files open: %s" % answer_files(d.proc.pid)
            time.sleep(0.1)
        assert answer_files(d.proc.pid) != before
    finally:
        d.stop()


def answer_files(pid):
    """The inodes of the worker's cached answers' files (memfds)."""
    found = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        path = "/proc/%d/fd/%s" % (pid, fd)
        try:
            if "campus-answers" in os.readlink(path):
                found.add(os.stat(path).st_ino)
        except OSError:
            pass                 # closed while listed
    return found


def raw_answer(cl, line):
    """The exact bytes of one CTP/1 answer: status line, body, CRLF."""
    cl.send(line + "\r\n")
    status = cl.read_line()
    m = harness.STATUS.match(status)
    assert m and m.group(3) is not None, status
    return status + b"\r\n" + cl.read_exact(int(m.group(3)) + 2)


def test_read_answers_made_once_are_sent_again_byte_for_byte():
    """A READ at the default width is rendered once per catalogue, status
    line and all, and later READs send those bytes. Each format's answer
    is the same the first time and the tenth, on one connection and on
    another, and holds the body and the facts the HTTP API gives."""
    lesson = "demo/welcome"
    for fmt in ("text", "html", "md", "exercise", "HTML"):
        first = raw_answer(c(), "READ %s %s" % (lesson, fmt))
        cl = c()
        again = [raw_answer(cl, "READ %s %s" % (lesson, fmt)) for _ in range(10)]
        assert again == [first] * 10, fmt
        status, _, rest = first.partition(b"\r\n")
        body = rest[:-2]
        st, _, doc = harness.http(env.campusd.http_port, "GET",
                                  "/api/lessons/%s?format=%s" % (lesson, fmt.lower()))
        assert st == 200, (fmt, st)
        d = json.loads(doc)
        assert body == d["body"].encode(), fmt
        data = d["data"]
        want = "200 %s version=%s prev=%s next=%s lang=%s {%d}" % (
            lesson, data["version"][:16], data["prev"] or "-", data["next"] or "-",
            data["lang"] or "-", len(body))
        assert status.decode() == want, (status, want)


def test_read_answers_made_for_one_reader_are_not_anyone_elses():
    """What a trainer reads (trainer blocks shown), what a learner reads in
    a language the course lacks (asked= in the status) and a READ at another
    width each go the long way, and the shared answer stays the learner's
    plain one, before and after them."""
    lesson = "demo/lists"        # it has a trainer block
    plain = raw_answer(c(), "READ %s text" % lesson)
    harness.add_user(env.redis.port, "tom", "trainer", PW, FAST)
    t = c()
    t.login("tom", PW)
    shown = raw_answer(t, "READ %s text" % lesson)
    assert shown != plain and b"version=" in shown
    assert raw_answer(t, "READ %s text" % lesson) == shown
    le = c()
    assert le.request('REGISTER frieda "%s"' % PW).code == 201
    le.login("frieda", PW)
    assert le.request("LANG fr").code == 200
    fallback = raw_answer(le, "READ %s text" % lesson)
    assert b" asked=fr" in fallback.split(b"\r\n")[0], fallback[:200]
    narrow = raw_answer(c(), "READ %s text 40" % lesson)
    assert narrow != plain
    assert max(len(x) for x in narrow.split(b"\r\n", 1)[1].decode().split("\n")) <= 40 + 2
    for cl in (c(), t, le):
        got = raw_answer(cl, "READ %s text" % lesson)
        if cl is t:
            assert got == shown
        elif cl is le:
            assert got == fallback
        else:
            assert got == plain


def test_read_answers_sent_from_their_file_are_the_same_over_tls_and_compress():
    """A cached READ answer goes to a plain socket by sendfile from a file,
    and to a TLS or deflated connection from the same bytes in memory:
    each way gives the same bytes, and so do answers queued for the socket
    when COMPRESS takes it over."""
    lesson = "demo/welcome"
    plain = raw_answer(c(), "READ %s text" % lesson)
    assert raw_answer(c(), "READ %s text" % lesson) == plain
    t = harness.Client(env.campusd.tls_port, tls=True)
    assert raw_answer(t, "READ %s text" % lesson) == plain
    t.close()
    st = c()
    assert st.request("STARTTLS").code == 200
    st.sock = harness.tls_wrap(st.sock)
    assert [raw_answer(st, "READ %s text" % lesson) for _ in range(3)] == [plain] * 3
    st.close()
    # Two answers queued with COMPRESS's own, moved to the new output.
    cl = c()
    cl.send(("READ %s text\r\nREAD %s text\r\nCOMPRESS DEFLATE\r\n" % (lesson, lesson)).encode())
    got = cl.read_exact(2 * len(plain))
    assert got == plain * 2
    r = cl.read_response()
    assert r.code == 200, r
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    dec = zlib.decompressobj(-15)
    cl.send(co.compress(("READ %s text\r\n" % lesson).encode()) + co.flush(zlib.Z_SYNC_FLUSH))
    out = inflate_until(cl, dec, dec.decompress(cl.buf), len(plain))
    cl.buf = b""
    assert out == plain, out[:120]
    cl.close()


harness.main(globals())
