"""Live sessions against real processes: one Redis, a campusd with two
workers and a second campusd started on its own; a trainer on one, the
learners on the others. Every learner sees every GOTO, SAY and POLL, in
order, exactly once; late joins and dropped links land on the current
lesson and the open poll; Redis killed and restarted mid-session pauses
and resumes the session by itself; a learner that never reads is resynced
while the others go on; poll answers are stored one per learner (the last
counts) and listed by LIVE REPORT; push lines never reach a connection
that did not ask for them."""

import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import time

import harness
import livelib
from harness import Campusd, Redis, http, wait_for
from livelib import LiveClient, literal, login

LEARNERS = ["learner%d" % i for i in range(1, 9)]
env = {}

CHOICE = "Which town hosts the market? {=Kisumu ~Nakuru ~Eldoret}"
TRUEFALSE = "Clusters need brokers. {T}"


def setup():
    tmp = tempfile.mkdtemp(prefix="campus-live-")
    env["tmp"] = tmp
    # The port is fixed, so Redis comes back where campusd looks for it.
    redis = Redis(tmp, port=harness.free_port()).start()
    for d in ("a", "b"):
        os.makedirs(os.path.join(tmp, d))
    env["redis"] = redis
    a = Campusd(os.path.join(tmp, "a"), redis=redis, workers=2,
                extra=livelib.FAST + ["--live-output-max", "8192"]).start()
    b = Campusd(os.path.join(tmp, "b"), redis=redis, extra=livelib.FAST).start()
    env["a"], env["b"] = a, b
    for d in (a, b):
        wait_for(lambda: json.loads(http(d.http_port, "GET", "/healthz")[2])["live"], timeout=20,
                 what="the live subscriber")
    livelib.add_admin(redis.port, "adam")
    livelib.accounts(a.text_port, "adam", ["tara", "tomas"], LEARNERS + ["otto"])
    tara = login(a.text_port, "tara")
    env["cid"] = livelib.cohort(tara, LEARNERS)
    env["other"] = livelib.cohort(tara, ["otto"], name="Other")
    tara.close()


def teardown():
    for k in ("a", "b"):
        if k in env:
            env[k].stop()
    env["redis"].stop()
    shutil.rmtree(env["tmp"], ignore_errors=True)


def port_of(i):
    """Learners alternate between the two-worker campusd and the other one."""
    return (env["a"] if i % 2 == 0 else env["b"]).text_port


def start(trainer="tara", cid=None):
    t = login(env["a"].text_port, trainer)
    r = t.request("LIVE START %s" % (cid or env["cid"]))
    assert r.code in (200, 201), r
    return t, r


def join(name, port, cid=None):
    c = login(port, name)
    r = c.request("LIVE JOIN %s" % (cid or env["cid"]))
    assert r.code == 200, r
    return c, r.kv()


def end(t):
    r = t.request("LIVE END")
    assert r.code == 200, r


def say(t, text):
    r = t.request('LIVE SAY "%s"' % text)
    assert r.code == 200, r


def test_every_learner_sees_every_event_in_order_once():
    t, r = start()
    assert r.code == 201 and r.text.startswith("live session %s-" % env["cid"]), r
    learners = [join(n, port_of(i))[0] for i, n in enumerate(LEARNERS[:6])]
    for c in learners:
        assert c.quiet(0.05)
    assert t.request("LIVE GOTO demo/welcome").code == 200
    say(t, "Good morning, everyone")
    assert literal(t, "LIVE POLL", CHOICE).code == 201
    assert t.request("LIVE GOTO demo/lists intro").code == 200
    assert t.request("LIVE CLOSE").code == 200
    for c in learners:
        got = c.pushes_until(lambda p: p.line.startswith("LIVE TALLY"), timeout=10)
        lines = [p.line for p in got]
        assert lines == ["LIVE GOTO demo/welcome", "LIVE SAY", "LIVE POLL", "LIVE GOTO demo/lists intro",
                         "LIVE TALLY"], lines
        assert got[1].body == b"Good morning, everyone"
        rows = got[2].kv()
        assert ["kind", "choice"] in rows and ["option", "a", "Kisumu"] in rows, rows
        assert ["option", "c", "Eldoret"] in rows and ["question", "Which town hosts the market?"] in rows
        assert ["closed", "yes"] in got[4].kv()
        assert c.quiet(0.3), c.buf           # exactly once: nothing more comes
    # The trainer saw the room fill, and no learner ever sees a ROOM line.
    rooms = [p for p in t.pushes if p.line.startswith("LIVE ROOM")]
    assert rooms and rooms[-1].line == "LIVE ROOM 6", t.pushes
    end(t)
    for c in learners:
        assert c.read_push().line == "LIVE END"
        c.close()
    t.close()


def test_late_join_and_dropped_link_land_on_the_lesson_and_the_open_poll():
    t, _ = start()
    early, _ = join("learner1", port_of(1))
    assert t.request("LIVE GOTO demo/lists").code == 200
    assert literal(t, "LIVE POLL", TRUEFALSE).code == 201
    late, kv = join("learner2", port_of(0))
    assert kv["lesson"] == "demo/lists" and kv["state"] == "live", kv
    poll = json.loads(kv["poll"])
    assert poll["kind"] == "truefalse" and poll["options"] == ["true", "false"], poll
    assert late.request("LIVE ANSWER true").code == 200
    # l1's link drops mid-session; it comes back on the other campusd.
    early.sock.close()
    say(t, "while you were away")
    back, kv = join("learner1", port_of(0))
    assert kv["lesson"] == "demo/lists" and json.loads(kv["poll"])["id"] == poll["id"], kv
    assert json.loads(kv["said"])[-1] == "while you were away", kv
    assert back.request("LIVE ANSWER f").code == 200
    say(t, "welcome back")
    p = back.read_push()
    assert p.line == "LIVE SAY" and p.body == b"welcome back", p
    end(t)
    for c in (late, back, t):
        c.close()


def test_poll_answers_last_one_counts_and_the_report_lists_them():
    t, r = start()
    session = r.text.split()[2]
    cs = [join(n, port_of(i))[0] for i, n in enumerate(LEARNERS[:3])]
    r = literal(t, "LIVE POLL", CHOICE)
    assert r.code == 201 and r.text == "poll 1 open", r
    assert cs[0].request("LIVE ANSWER b").code == 200
    assert cs[0].request("LIVE ANSWER a").code == 200      # changed her mind: this one counts
    assert cs[1].request("LIVE ANSWER a").code == 200
    assert cs[2].request("LIVE ANSWER c").code == 200
    r = cs[2].request("LIVE ANSWER z")
    assert r.code == 400, r                                 # no option z: the last answer stands
    # The trainer's running tally follows every answer.
    tallies = t.pushes_until(lambda p: p.line == "LIVE TALLY" and ["answers", "3"] in p.kv()
                             and ["count", "c", "1"] in p.kv(), timeout=10)
    assert tallies
    r = t.request("LIVE CLOSE")
    assert r.code == 200, r
    kv = r.kv()
    assert kv["answers"] == "3" and kv["right"] == "2" and json.loads(kv["counts"]) == {"a": 2, "c": 1}, kv
    assert cs[0].request("LIVE ANSWER a").code == 409      # closed
    r = t.request("LIVE REPORT %s" % session)
    assert r.code == 200, r
    rows = r.rows()
    assert [(x["poll"], x["learner"], x["answer"], x["right"]) for x in rows] == [
        ("1", "learner1", "a", "yes"), ("1", "learner2", "a", "yes"), ("1", "learner3", "c", "no")], rows
    # Stored one per learner per poll.
    n = env["redis"].cmd("HLEN", "campus:{c:%s}:live:%s:answers" % (env["cid"], session.split("-")[1]))
    assert n == b":3", n
    # A learner cannot read the report.
    assert cs[0].request("LIVE REPORT %s" % session).code == 403
    end(t)
    for c in cs + [t]:
        c.close()


def test_push_only_reaches_connections_that_asked():
    t, _ = start()
    follower, _ = join("learner4", port_of(0))
    bystander = login(port_of(0), "learner5")       # logged in, in the cohort, never joined
    hello = LiveClient(port_of(1))
    r = hello.request("HELLO push")
    assert r.code == 200 and r.kv()["push"] == "on", r
    say(t, "only for those who joined")
    assert follower.read_push().body == b"only for those who joined"
    assert bystander.request("PING").code == 200
    assert bystander.quiet(0.3) and not bystander.pushes
    assert hello.quiet(0.1)
    end(t)
    for c in (t, follower, bystander, hello):
        c.close()


def test_non_member_is_refused_as_for_a_missing_cohort_and_a_learner_gets_403():
    t, _ = start()
    otto = login(port_of(0), "otto")
    missing = "987654"
    for verb in ("LIVE JOIN %s", "LIVE ANSWER cohort:%s yes", "LIVE STATE cohort:%s"):
        r1, r2 = otto.request(verb % env["cid"]), otto.request(verb % missing)
        assert r1.code == 404 and r2.code == 404, (r1, r2)
        assert r1.text == "no cohort '%s'" % env["cid"] and r2.text == "no cohort '%s'" % missing, (r1, r2)
    l1 = login(port_of(1), "learner1")
    r = l1.request("LIVE GOTO cohort:%s demo/welcome" % env["cid"])
    assert r.code == 403 and "trainers" in r.text, r
    # A trainer who does not run the cohort is a stranger to it.
    tomas = login(port_of(0), "tomas")
    assert tomas.request("LIVE GOTO cohort:%s demo/welcome" % env["cid"]).code == 404
    # The same over HTTP.
    hp = env["b"].http_port
    s, _, body = http(hp, "POST", "/api/live/%s/join" % env["cid"], body="{}",
                      headers=livelib.http_token(hp, "otto"))
    assert s == 404 and json.loads(body)["error"] == "no cohort '%s'" % env["cid"], body
    s, _, body = http(hp, "POST", "/api/live/%s/goto" % env["cid"], body=json.dumps({"lesson": "demo/welcome"}),
                      headers=livelib.http_token(hp, "learner1"))
    assert s == 403, body
    end(t)
    for c in (t, otto, l1, tomas):
        c.close()


def test_a_learner_that_never_reads_is_resynced_the_others_unaffected():
    t, _ = start()
    # Campusd "a" runs with live_output_max 8192; a small receive buffer
    # makes the kernel hold little for the learner that never reads.
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", env["a"].text_port))
    sc = LiveClient.__new__(LiveClient)
    sc.sock, sc.buf, sc.pushes = slow, b"", []
    sc.sock.settimeout(10)
    sc.greeting = harness.Client.read_response(sc)
    assert sc.request('LOGIN learner6 "%s"' % livelib.PW).code == 200
    assert sc.request("LIVE JOIN %s" % env["cid"]).code == 200
    fast, _ = join("learner7", env["a"].text_port)
    text = "x" * 1500
    n = 3500                     # past what the kernel buffers on loopback (4 MiB)
    got = []
    reader = threading.Thread(target=lambda: got.extend(fast.pushes_until(
        lambda p: p.body is not None and p.body.endswith(b" %d" % (n - 1)), timeout=60)))
    reader.start()
    t.send("".join('LIVE SAY "%s %d"\r\n' % (text, i) for i in range(n)))
    for i in range(n):
        assert t.read_response().code == 200
    reader.join(65)
    says = [p.body for p in got if p.line == "LIVE SAY"]
    assert says == [("%s %d" % (text, i)).encode() for i in range(n)], len(says)
    # Now the slow one reads: some SAYs, one RESYNC in place of the rest.
    pushes = sc.pushes_until(lambda p: p.line == "LIVE RESYNC", timeout=30)
    says = [p for p in pushes if p.line == "LIVE SAY"]
    assert len(says) < n, len(says)
    assert sc.quiet(0.5)
    # After RESYNC it asks for the state, and follows on.
    r = sc.request("LIVE STATE")
    assert r.code == 200 and r.kv()["state"] == "live", r
    say(t, "after the flood")
    assert sc.read_push().body == b"after the flood"
    end(t)
    for c in (t, sc, fast):
        c.close()


def test_learners_that_reset_mid_flood_leave_the_others_unaffected():
    """A push written to a socket the peer reset fails on a plain
    connection; it is closed in the next turn of the loop (never under
    the live code walking its room), and the others get every event."""
    import struct
    t, _ = start()
    fast, _ = join("learner3", env["a"].text_port)
    gone = [join(name, env["a"].text_port)[0] for name in ("learner4", "learner5")]
    n = 400
    got = []
    reader = threading.Thread(target=lambda: got.extend(fast.pushes_until(
        lambda p: p.body is not None and p.body.endswith(b"reset %d" % (n - 1)), timeout=60)))
    reader.start()
    t.send("".join('LIVE SAY "reset %d"\r\n' % i for i in range(n // 2)))
    for g in gone:               # a reset, not a FIN, while pushes go out
        g.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        g.sock.close()
    t.send("".join('LIVE SAY "reset %d"\r\n' % i for i in range(n // 2, n)))
    for i in range(n):
        assert t.read_response().code == 200
    reader.join(65)
    says = [p.body for p in got if p.line == "LIVE SAY"]
    assert says == [b"reset %d" % i for i in range(n)], len(says)
    end(t)
    for c in (t, fast):
        c.close()


def test_redis_killed_and_restarted_pauses_and_resumes():
    t, _ = start()
    cs = [join(n, port_of(i))[0] for i, n in enumerate(LEARNERS[:4])]
    assert t.request("LIVE GOTO demo/welcome").code == 200
    for c in cs:
        assert c.read_push().line == "LIVE GOTO demo/welcome"
    redis = env["redis"]
    redis.kill()
    for c in cs:
        p = c.read_push(timeout=15)
        assert p.line == "LIVE PAUSED", p
    assert t.request("LIVE GOTO demo/lists").code == 503
    redis.start()
    for c in cs:
        p = c.read_push(timeout=20)
        assert p.line == "LIVE RESUMED", p
    wait_for(lambda: t.request("LIVE GOTO demo/lists").code == 200, timeout=15, what="GOTO after restart")
    for c in cs:
        got = c.pushes_until(lambda p: p.line == "LIVE GOTO demo/lists", timeout=10)
        assert [p.line for p in got] == ["LIVE GOTO demo/lists"], got
    end(t)
    for c in cs + [t]:
        c.close()


def test_http_routes_and_the_event_stream_resume():
    hp = env["a"].http_port
    tt, lt = livelib.http_token(hp, "tara"), livelib.http_token(hp, "learner8")
    cid = env["cid"]
    s, _, body = http(hp, "POST", "/api/live/%s/start" % cid, body="{}", headers=tt)
    doc = json.loads(body)
    assert s == 201 and doc["session"].startswith(cid + "-") and doc["cohort"] == cid, body
    assert doc["started"].endswith("Z"), doc
    s, _, body = http(hp, "POST", "/api/live/%s/join" % cid, body="{}", headers=lt)
    assert s == 200 and json.loads(body)["room"] >= 1, body
    s, _, body = http(hp, "POST", "/api/live/%s/goto" % cid,
                      body=json.dumps({"lesson": "demo/welcome", "anchor": "start"}), headers=tt)
    assert s == 200, body
    first = json.loads(body)["id"]
    s, _, body = http(hp, "POST", "/api/live/%s/poll" % cid, body=json.dumps({"gift": TRUEFALSE}), headers=tt)
    assert s == 201 and json.loads(body)["poll"] >= 1, body
    s, _, body = http(hp, "GET", "/api/live/%s" % cid, headers=lt)
    st = json.loads(body)
    assert s == 200 and st["lesson"] == "demo/welcome" and st["anchor"] == "start", st
    assert st["poll"]["kind"] == "truefalse" and "tally" not in st and st["state"] == "live", st
    s, _, body = http(hp, "POST", "/api/live/%s/answer" % cid, body=json.dumps({"text": "true"}), headers=lt)
    assert s == 200, body
    s, _, body = http(hp, "GET", "/api/live/%s" % cid, headers=tt)
    st = json.loads(body)
    assert st["tally"]["answers"] == 1 and st["tally"]["counts"] == {"true": 1}, st
    s, _, body = http(hp, "POST", "/api/live/%s/close" % cid, body="{}", headers=tt)
    assert s == 200 and json.loads(body)["closed"] is True, body
    # The stream, resumed from the first event: the poll and its tally replayed.
    import http.client as hc
    c = hc.HTTPConnection("127.0.0.1", hp, timeout=10)
    c.request("GET", "/api/live/%s/events" % cid, headers=dict(lt, **{"Last-Event-ID": str(first)}))
    r = c.getresponse()
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream")
    events = []
    deadline = time.time() + 10
    while len(events) < 2 and time.time() < deadline:
        line = r.fp.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            events.append(line[7:])
    assert events == ["poll", "tally"], events
    c.close()
    sess = doc["session"]
    s, _, body = http(hp, "GET", "/api/live/sessions/%s/report" % sess, headers=tt)
    rep = json.loads(body)
    assert s == 200 and [(a["learner"], a["answer"]) for a in rep["answers"]] == [("learner8", "true")], body
    assert rep["polls"][0]["tally"]["answers"] == 1, rep
    s, _, body = http(hp, "GET", "/api/live/sessions/%s/report" % sess, headers=lt)
    assert s == 403, body
    s, _, body = http(hp, "POST", "/api/live/%s/end" % cid, body="{}", headers=tt)
    assert s == 200, body
    # A new session empties the kept events: a stream resumed from the old
    # one is told to resync, and the ids go on growing.
    s, _, body = http(hp, "POST", "/api/live/%s/start" % cid, body="{}", headers=tt)
    assert s == 201 and json.loads(body)["seq"] > first, body
    c = hc.HTTPConnection("127.0.0.1", hp, timeout=10)
    c.request("GET", "/api/live/%s/events" % cid, headers=dict(lt, **{"Last-Event-ID": str(first)}))
    r = c.getresponse()
    lines = [r.readline() for _ in range(4)]
    assert lines[2].startswith(b"id: ") and lines[3] == b"event: resync\n", lines
    c.close()
    s, _, body = http(hp, "POST", "/api/live/%s/end" % cid, body="{}", headers=tt)
    assert s == 200, body
    s, _, body = http(hp, "GET", "/api/live/%s" % env["other"], headers=tt)
    assert s == 404 and json.loads(body)["error"] == "no live session in cohort '%s'" % env["other"], body


if __name__ == "__main__":
    harness.main(globals())
