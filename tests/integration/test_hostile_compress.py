"""Hostile input under COMPRESS DEFLATE: a stream that is not deflate, one
that ends, and a decompression bomb each get one last answer (compressed)
naming the reason, the connection closes, the reason is in the log, and
everyone else is still served."""

import zlib

import harness
from harness import Env
from test_compress import ZClient

env = None


def setup():
    global env
    env = Env()


def teardown():
    env.close()


def last_answer(c):
    """The final answer, then EOF."""
    r = c.read_response()
    assert c.closed(), "connection stayed open"
    return r


def still_serving():
    c = harness.Client(env.campusd.text_port)
    assert c.request("PING").code == 200
    c.close()


def test_corrupt_stream():
    c = ZClient(env.campusd.text_port)
    c.compress()
    assert c.request("PING").code == 200
    # Bytes that no inflater accepts: a block of reserved type 3.
    c.sock.sendall(b"\xff\xff\xff\xff garbage")
    r = last_answer(c)
    assert r.code == 400 and "corrupt" in r.text, r
    harness.wait_for(lambda: "compressed stream corrupt" in env.campusd.log_text(), timeout=5,
                     what="the reason in the log")
    still_serving()


def test_plain_text_after_compress():
    # A client that asked for compression but goes on in the clear.
    c = ZClient(env.campusd.text_port)
    c.compress()
    c.sock.sendall(b"PING\r\n")
    r = last_answer(c)
    assert r.code == 400, r
    still_serving()


def test_stream_ended():
    c = ZClient(env.campusd.text_port)
    c.compress()
    assert c.request("PING").code == 200
    c.sock.sendall(c.z[0].flush(zlib.Z_FINISH))
    r = last_answer(c)
    assert r.code == 400 and "ended" in r.text, r
    still_serving()


def test_bomb():
    c = ZClient(env.campusd.text_port)
    c.compress()
    # A literal within literal_max, of one byte repeated: about a
    # thousandth of its size on the wire. The connection is closed once
    # the ratio shows past COMPRESS_RATIO_FLOOR, before the literal ends.
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    c.sock.sendall(bomb.compress(b"ECHO {1000000}\r\n"))
    closed = False
    for _ in range(10):
        try:
            c.sock.sendall(bomb.compress(b"\0" * 100000) + bomb.flush(zlib.Z_SYNC_FLUSH))
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
    try:
        r = c.read_response()
        assert r.code == 413 and "ratio" in r.text, r
    except (EOFError, ConnectionResetError):
        assert closed
    harness.wait_for(lambda: "ratio limit" in env.campusd.log_text(), timeout=5,
                     what="the bomb in the log")
    still_serving()


if __name__ == "__main__":
    harness.main(globals())
