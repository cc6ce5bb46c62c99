"""campus's fast start, as a slow link needs it (issue 17): the requests go
deflated behind COMPRESS without waiting for its answer, and behind TLS's
Finished without waiting for the greeting; the TLS port named by HELLO is
used from the second connection on (pinned as the configured address,
falling back to STARTTLS when that port fails); the server's TLS session is
kept and resumed, never in place of the pin check; a server from before
COMPRESS costs one extra connection, once. What is asserted is what
crosses the wire and what the client keeps, never how long it took: the
proxies below hold the server's bytes until the client has sent what it
must send without waiting (bounded, so a client that waits fails the test
instead of hanging it)."""

import os
import re
import select
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
import zlib

import harness
from harness import Campusd, Env, free_port

HOLD_MAX = 10.0                  # seconds a proxy holds the server's bytes at most

env = None
homes = []


def setup():
    global env
    env = Env()


def teardown():
    for h in homes:
        shutil.rmtree(h, ignore_errors=True)
    env.close()


class Home(harness.Home):
    """harness's fresh $HOME, removed at teardown, with what campus keeps
    per server at hand."""

    def __init__(self, srv):
        super().__init__(srv, drop=("CAMPUS_NO_COMPRESS",))
        homes.append(self.dir)

    def servers(self, *p):
        return self.path("state", "campus", "servers", *p)


def raw_read(d, lesson):
    c = d.client()
    try:
        return c.request("READ %s text" % lesson).body.decode()
    finally:
        c.close()


def learned(h, port):
    with open(h.servers("127.0.0.1_%d.learned" % port)) as f:
        return f.read()


class Proxy:
    """A TCP relay to 127.0.0.1:target. hold(up, down) decides, from all the
    client's bytes so far (up) and the server's (down), how many of the
    server's bytes may go to the client now (None: all); what is held goes
    anyway after HOLD_MAX seconds, and self.timed_out says so."""

    def __init__(self, target, hold=None, port=0):
        self.target, self.hold = target, hold
        self.sock = socket.create_server(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.timed_out = False
        self.ups = []
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.relay, args=(c,), daemon=True).start()

    def relay(self, c):
        s = socket.create_connection(("127.0.0.1", self.target), 10)
        up, down, sent = bytearray(), bytearray(), 0
        self.ups.append(up)
        start = time.monotonic()
        open_ = {c: True, s: True}
        try:
            while open_[c] and (open_[s] or sent < len(down)):
                allowed = len(down) if self.hold is None else self.hold(bytes(up), bytes(down))
                if allowed is None:
                    allowed = len(down)
                if allowed < len(down) and time.monotonic() - start > HOLD_MAX:
                    self.timed_out = True
                    self.hold = None
                    allowed = len(down)
                if sent < allowed:
                    c.sendall(bytes(down[sent:allowed]))
                    sent = allowed
                rs = [x for x in (c, s) if open_[x]]
                r, _, _ = select.select(rs, [], [], 0.05)
                for x in r:
                    data = x.recv(65536)
                    if not data:
                        open_[x] = False
                        if x is c:
                            break
                        continue
                    if x is c:
                        up += data
                        s.sendall(data)
                    else:
                        down += data
                if not open_[s] and sent >= len(down):
                    break
        except OSError:
            pass
        finally:
            c.close()
            s.close()

    def close(self):
        self.sock.close()


def tls_records(data):
    """The content types of the whole TLS records in data."""
    types, i = [], 0
    while i + 5 <= len(data):
        n = int.from_bytes(data[i + 3:i + 5], "big")
        if i + 5 + n > len(data):
            break
        types.append(data[i])
        i += 5 + n
    return types


# ---- pipelined start ----

def test_requests_go_deflated_behind_compress_without_waiting():
    # The server's answers after the greeting are held until the client's
    # deflated READ has arrived whole: a client that waited for "200
    # DEFLATE active" would never send it.
    d = env.campusd
    greeting = b"200 campusd CTP/1 ready\r\n"
    line = b"COMPRESS DEFLATE\r\n"
    seen = {}

    def hold(up, down):
        if not up.startswith(line):
            return len(greeting) if down.startswith(greeting) else 0
        try:
            text = zlib.decompressobj(-15).decompress(up[len(line):])
        except zlib.error:
            return 0
        if re.match(rb"READ demo/welcome text( \d+)?\r\n", text):
            seen["read"] = text
            return None
        return len(greeting)

    p = Proxy(d.text_port, hold)
    try:
        h = Home("127.0.0.1:%d" % p.port)
        out, err = h.ok("--no-tls", "read", "demo/welcome")
        assert not p.timed_out, "the client waited for COMPRESS's answer before sending READ"
        assert "read" in seen, p.ups
        assert out == raw_read(d, "demo/welcome")
        assert p.connections == 1
    finally:
        p.close()


def test_requests_go_behind_tls_finished_without_waiting_for_the_greeting():
    # On the TLS port the greeting comes once the server has the client's
    # Finished. Whatever the server sends after that is held until the
    # client has sent two encrypted records (Finished, then the requests):
    # a client that waited for the greeting would send only one.
    d = env.campusd

    def hold(up, down):
        types = tls_records(up)
        if 23 not in types:
            return None          # the handshake goes through untouched
        if types.count(23) >= 2:
            return None
        return hold.at.setdefault(id(up), len(down))
    hold.at = {}

    p = Proxy(d.tls_port, hold)
    try:
        h = Home("tls://127.0.0.1:%d" % p.port)
        out, err = h.ok("read", "demo/welcome", "--stats")
        assert not p.timed_out, "the client waited for the greeting before sending its requests"
        assert "(TLS)" in err, err
        assert out == raw_read(d, "demo/welcome")
    finally:
        p.close()


# ---- the TLS port HELLO names, and the TLS session ----

def hello(d):
    c = d.client()
    try:
        r = c.request("HELLO")
        return dict(l.split("\t", 1) for l in r.body.decode().splitlines() if "\t" in l)
    finally:
        c.close()


def test_hello_names_the_tls_port():
    assert hello(env.campusd)["tls-port"] == str(env.campusd.tls_port)
    d = Campusd(env.tmp, redis=env.redis, extra=["--hello-tls-port", "0",
                                                "--tls-session-lifetime", "0"])
    d.start()
    try:
        assert "tls-port" not in hello(d)
        # Without tickets nothing is kept to resume, and nothing goes wrong.
        h = Home("127.0.0.1:%d" % d.text_port)
        for _ in range(2):
            out, err = h.ok("read", "demo/welcome", "--stats")
            assert "(TLS)" in err and "resumed" not in err and "first byte" not in err, err
        assert not os.path.exists(h.servers("127.0.0.1_%d.tls-session" % d.text_port))
        assert learned(h, d.text_port) == "tls-port 0\ncompress yes\n"
    finally:
        d.stop()
    d = Campusd(env.tmp, redis=env.redis, tls=False)
    d.start()
    try:
        assert "tls-port" not in hello(d)
    finally:
        d.stop()


def test_tls_port_learned_then_used_and_session_resumed():
    # HELLO names a relay to the TLS port (hello_tls_port, as behind a
    # balancer), so the test can count who goes there.
    relay_port = free_port()
    d = Campusd(env.tmp, redis=env.redis, extra=["--hello-tls-port", str(relay_port)])
    d.start()
    p = None
    try:
        p = Proxy(d.tls_port, port=relay_port)
        assert hello(d)["tls-port"] == str(relay_port)
        h = Home("127.0.0.1:%d" % d.text_port)
        known = os.path.join(h.dir, "config", "campus", "known_servers")

        # First: STARTTLS, the certificate pinned, HELLO asked behind READ.
        out, err = h.ok("read", "demo/welcome", "--stats")
        assert out == raw_read(d, "demo/welcome")
        assert "(TLS)" in err and "trusting it from now on" in err, err
        assert "first byte" not in err and "resumed" not in err, err
        assert learned(h, d.text_port) == "tls-port %d\ncompress yes\n" % relay_port
        assert p.connections == 0
        session = h.servers("127.0.0.1_%d.tls-session" % d.text_port)
        assert stat.S_IMODE(os.stat(session).st_mode) == 0o600
        pins = open(known).read()
        assert re.match(r"127\.0\.0\.1:%d [0-9a-f]{64}\n$" % d.text_port, pins), pins

        # Then: straight to the TLS port, the session resumed, the pin of the
        # configured address used (no new pin, nothing said about trust).
        out, err = h.ok("read", "demo/welcome", "--stats")
        assert out == raw_read(d, "demo/welcome")
        assert "TLS from the first byte on port %d" % relay_port in err, err
        assert "TLS session resumed" in err, err
        assert "trusting" not in err, err
        assert p.connections == 1
        assert open(known).read() == pins

        # A resumed session never stands in for the pin: a changed pin is
        # refused on the TLS port and on STARTTLS, and the session is dropped.
        with open(known, "w") as f:
            f.write("127.0.0.1:%d %s\n" % (d.text_port, "0" * 64))
        rc, out, err = h.run("read", "demo/welcome")
        assert rc == 3 and "certificate of 127.0.0.1:%d has changed" % d.text_port in err, err
        assert out == ""
        assert not os.path.exists(session)
    finally:
        if p:
            p.close()
        d.stop()


def test_learned_port_that_fails_falls_back_to_starttls():
    d = env.campusd
    h = Home("127.0.0.1:%d" % d.text_port)
    os.makedirs(h.servers())
    dead = free_port()           # nothing listens there
    with open(h.servers("127.0.0.1_%d.learned" % d.text_port), "w") as f:
        f.write("tls-port %d\ncompress yes\n" % dead)
    out, err = h.ok("read", "demo/welcome", "--stats")
    assert out == raw_read(d, "demo/welcome")
    assert "(TLS)" in err and "first byte" not in err, err
    # ... and asked again: the port HELLO names now.
    assert learned(h, d.text_port) == "tls-port %d\ncompress yes\n" % d.tls_port
    out, err = h.ok("read", "demo/welcome", "--stats")
    assert "TLS from the first byte on port %d" % d.tls_port in err, err


def test_no_tls_never_goes_to_the_learned_port():
    d = env.campusd
    h = Home("127.0.0.1:%d" % d.text_port)
    h.ok("read", "demo/welcome")
    assert learned(h, d.text_port).startswith("tls-port %d\n" % d.tls_port)
    out, err = h.ok("--no-tls", "read", "demo/welcome", "--stats")
    assert "(TLS)" not in err and "first byte" not in err, err
    assert out == raw_read(d, "demo/welcome")


# ---- a server from before COMPRESS ----

class OldServer:
    """A CTP/1 server from before COMPRESS (and without TLS): COMPRESS is an
    unknown verb; every line is recorded with its connection's number."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.lines = []
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        n = 0
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            n += 1
            c.settimeout(10)
            f = c.makefile("rb")
            c.sendall(b"200 campusd CTP/1 ready\r\n")
            try:
                for line in f:
                    line = line.rstrip(b"\r\n")
                    self.lines.append((n, line))
                    if line == b"STARTTLS":
                        c.sendall(b"503 TLS is not configured\r\n")
                    elif line.startswith(b"SEARCH "):
                        c.sendall(b"200 1 results {12}\r\nlesson\ttitle\r\n")
                    else:
                        word = line.split(b" ")[0][:20].decode("ascii", "replace")
                        c.sendall(("400 unknown verb '%s' (try HELP)\r\n" % word).encode())
            except OSError:
                pass
            f.close()
            c.close()

    def close(self):
        self.sock.close()


def test_server_from_before_compress_costs_one_connection_once():
    s = OldServer()
    try:
        h = Home("127.0.0.1:%d" % s.port)
        rc, out, err = h.run("search", "trust")
        assert rc == 0, (rc, out, err)
        assert "refused COMPRESS DEFLATE" in err and "going on uncompressed" in err, err
        assert "reconnecting" not in err, err
        first = [l for n, l in s.lines if n == 1]
        second = [l for n, l in s.lines if n == 2]
        # What went behind the refused COMPRESS was deflate, never a request.
        assert first[:2] == [b"STARTTLS", b"COMPRESS DEFLATE"], first
        assert b"SEARCH trust" not in first, first
        assert second == [b"STARTTLS", b"SEARCH trust"], second
        assert learned(h, s.port) == "tls-port 0\ncompress no\n"
        # Remembered: one connection, COMPRESS not asked again.
        rc, out, err = h.run("search", "trust")
        assert rc == 0 and "uncompressed" not in err, (rc, err)
        third = [l for n, l in s.lines if n == 3]
        assert third == [b"STARTTLS", b"SEARCH trust"], s.lines
        assert max(n for n, _ in s.lines) == 3
    finally:
        s.close()


if __name__ == "__main__":
    harness.main(globals())
