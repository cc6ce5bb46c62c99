"""Idle CTP/1 connections hold no buffers: the parser's line buffer goes
when a batch ends with nothing partial, the resume and deadline events are
made when first needed. A connection that went idle this way must wake up
and be answered as before: single requests, pipelines, literals, a line
split across the idle time, a hold (DONE, LOGIN) and a yield."""
import time

import harness
from harness import Env

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]
env = None


def setup():
    global env
    env = Env(extra=FAST + ["--max-conns-per-addr", "400", "--reqs-per-event", "4"])


def teardown():
    env.close()


def idle():
    time.sleep(0.2)              # the batch is over: the buffers are gone


def test_idle_connection_wakes_and_answers():
    c = env.campusd.client()
    assert c.request("PING").code == 200
    idle()
    assert c.request("PING").code == 200
    idle()
    r = c.request("ECHO {5}\r\nhello")
    assert r.code == 200 and r.body == b"hello", r


def test_pipeline_after_idle_keeps_order():
    c = env.campusd.client()
    assert c.request("PING").code == 200
    idle()
    # More than reqs_per_event (4): the batch yields and resumes.
    n = 25
    c.send("".join("ECHO %d\r\n" % i for i in range(n)))
    for i in range(n):
        r = c.read_response()
        assert r.code == 200 and r.body == str(i).encode(), (i, r)
    idle()
    c.send("ECHO {3}\r\nabcPING\r\nECHO {2}\r\nxy")
    assert c.read_response().body == b"abc"
    assert c.read_response().text == "PONG"
    assert c.read_response().body == b"xy"


def test_line_and_literal_split_across_idle_time():
    c = env.campusd.client()
    assert c.request("PING").code == 200
    c.send("EC")
    idle()                       # partial: the line so far is kept
    c.send("HO split-line\r\n")
    r = c.read_response()
    assert r.code == 200 and r.body == b"split-line", r
    c.send("ECHO {10}\r\n01234")
    idle()
    c.send("56789")
    r = c.read_response()
    assert r.code == 200 and r.body == b"0123456789", r


def test_holds_after_idle():
    c = env.campusd.client()
    assert c.request('REGISTER idler "idle password"').code == 201
    idle()
    # LOGIN holds the connection: what is pipelined behind it runs as the user.
    c.send('LOGIN idler "idle password"\r\nWHOAMI\r\nDONE demo/welcome\r\nPROGRESS demo\r\n')
    assert c.read_response().code == 200
    who = c.read_response()
    assert who.code == 200 and "idler" in (who.text + who.body.decode()), who
    assert c.read_response().code == 200
    assert c.read_response().code == 200
    idle()
    c.send("DONE demo/lists\r\nNEXT demo\r\n")
    assert c.read_response().code == 200
    assert c.read_response().code == 200


def test_many_idle_connections_all_wake():
    conns = [env.campusd.client() for _ in range(200)]
    for c in conns:
        c.send("PING\r\n")
    for c in conns:
        assert c.read_response().text == "PONG"
    idle()
    for i, c in enumerate(conns):
        c.send("ECHO %d\r\nPING\r\n" % i)
    for i, c in enumerate(conns):
        assert c.read_response().body == str(i).encode()
        assert c.read_response().text == "PONG"
    for c in conns:
        c.close()


harness.main(globals())
