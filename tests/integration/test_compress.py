"""COMPRESS DEFLATE on CTP/1, spoken by a raw zlib client (Python's zlib
with wbits=-15: raw deflate, as RFC 4978 has it): round trips, pipelining,
STARTTLS and the TLS port with compression inside, HELLO, refusals. The
bomb and the corrupt stream are in test_hostile_compress.py."""

import socket
import zlib

import harness
from harness import Env, Response, STATUS

env = None


def setup():
    global env
    env = Env()


def teardown():
    env.close()


class ZClient(harness.Client):
    """A CTP/1 client that sends COMPRESS DEFLATE and then speaks raw
    deflate both ways, flushing (Z_SYNC_FLUSH) after each write."""

    def __init__(self, port, tls=False, starttls=False, **kw):
        self.raw_in = 0
        self.z = None
        super().__init__(port, tls=tls, **kw)
        if starttls:
            r = self.request("STARTTLS")
            assert r.code == 200, r
            self.sock = harness.tls_wrap(self.sock)
        self.z = None

    def compress(self, pipelined=b""):
        """Sends COMPRESS DEFLATE (with pipelined bytes, already compressed,
        behind it) and switches on the answer."""
        self.send(b"COMPRESS DEFLATE\r\n" + pipelined)
        r = self.read_response()
        assert r.code == 200, r
        self.z = (zlib.compressobj(6, zlib.DEFLATED, -15), zlib.decompressobj(-15))
        # What came behind the plain answer is compressed already.
        rest, self.buf = self.buf, b""
        self.buf = self.z[1].decompress(rest)
        return r

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.z is None:
            return super().send(data)
        c = self.z[0].compress(data) + self.z[0].flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(c)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by campusd")
        self.raw_in += len(chunk)
        self.buf += self.z[1].decompress(chunk) if self.z else chunk


def lesson_id():
    r = env.campusd.client().request("COURSES")
    course = r.rows()[0]["id"]
    c = env.campusd.client()
    rows = c.request("COURSE " + course).rows()
    return rows[0]["lesson"]


def test_hello_lists_compress():
    c = ZClient(env.campusd.text_port)
    assert c.request("HELLO").kv()["compress"] == "DEFLATE"
    c.compress()
    assert c.request("HELLO").kv()["compress"] == "DEFLATE active"
    c.close()


def test_round_trip_read_and_echo():
    lid = lesson_id()
    plain = env.campusd.client().request("READ " + lid)
    c = ZClient(env.campusd.text_port)
    c.compress()
    before = c.raw_in
    r = c.request("READ " + lid)
    assert r.code == 200 and r.body == plain.body, r
    # The lesson travelled in fewer bytes than its text.
    assert c.raw_in - before < len(plain.body), (c.raw_in - before, len(plain.body))
    blob = bytes(range(256)) * 64
    c.send(b"ECHO {%d}\r\n" % len(blob) + blob)
    r = c.read_response()
    assert r.code == 200 and r.body == blob
    assert c.request("PING").code == 200
    r = c.request("QUIT")
    assert r.code == 200 and r.text == "bye"
    assert c.closed()


def test_pipelined_behind_and_after_compress():
    # Requests sent compressed right behind COMPRESS, before its answer.
    c = ZClient(env.campusd.text_port)
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = co.compress(b"PING\r\nECHO hello\r\n") + co.flush(zlib.Z_SYNC_FLUSH)
    c.send(b"COMPRESS DEFLATE\r\n" + first)
    r = c.read_response()
    assert r.code == 200, r
    c.z = (co, zlib.decompressobj(-15))
    rest, c.buf = c.buf, b""
    c.buf = c.z[1].decompress(rest)
    assert c.read_response().text == "PONG"
    assert c.read_response().body == b"hello"
    # A batch of 300 in one write, answered in order.
    c.send("".join("ECHO n%d\r\n" % i for i in range(300)))
    for i in range(300):
        r = c.read_response()
        assert r.code == 200 and r.body == b"n%d" % i, (i, r)
    c.close()


def test_starttls_then_compress():
    c = ZClient(env.campusd.text_port, starttls=True)
    c.compress()
    assert c.request("HELLO").kv()["tls"] == "active"
    lid = lesson_id()
    assert c.request("READ " + lid).code == 200
    r = c.request("STARTTLS")
    assert r.code == 400, r
    c.close()


def test_tls_port_compress():
    c = ZClient(env.campusd.tls_port, tls=True)
    c.compress()
    blob = b"x" * 200000
    c.send(b"ECHO {%d}\r\n" % len(blob) + blob)
    r = c.read_response()
    assert r.code == 200 and r.body == blob
    c.close()


def test_compress_refusals():
    c = harness.Client(env.campusd.text_port)
    assert c.request("COMPRESS GZIP").code == 400
    assert c.request("COMPRESS").code == 400
    c.close()
    # After COMPRESS, STARTTLS is refused: the order is TLS, then compression.
    c = ZClient(env.campusd.text_port)
    c.compress()
    r = c.request("COMPRESS DEFLATE")
    assert r.code == 400 and "already" in r.text, r
    assert c.request("STARTTLS").code == 400
    c.close()
    # Over HTTP there is no such verb.
    st, _, _ = harness.http(env.campusd.http_port, "GET", "/api/ping")
    assert st == 200


if __name__ == "__main__":
    harness.main(globals())
