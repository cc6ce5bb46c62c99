"""Hostile and mistaken input to the LIVE verbs and routes: every one gets
a clear error code, nothing is stored or pushed, and the session goes on
serving everyone else."""

import json

import harness
import livelib
from harness import Env, http
from livelib import literal, login

env = None
st = {}


def setup():
    global env
    env = Env(extra=livelib.FAST)
    livelib.add_admin(env.redis.port, "adam")
    livelib.accounts(env.campusd.text_port, "adam", ["tara"], ["lena", "leo"])
    t = login(env.campusd.text_port, "tara")
    st["cid"] = livelib.cohort(t, ["lena", "leo"])
    assert t.request("LIVE START %s" % st["cid"]).code == 201
    st["t"] = t
    lena = login(env.campusd.text_port, "lena")
    assert lena.request("LIVE JOIN %s" % st["cid"]).code == 200
    st["lena"] = lena


def teardown():
    st["t"].close()
    st["lena"].close()
    env.close()


def seq():
    return int(env.redis.cmd("HGET", "campus:{c:%s}:live" % st["cid"], "seq"))


def test_bad_polls_are_refused_and_nothing_is_pushed():
    t, before = st["t"], seq()
    cases = [
        ("Two questions {T}\n\nAnother one {F}", 400, "exactly one GIFT question"),
        ("Write an essay. {}", 400, "not essay"),
        ("Match these {=a -> 1 =b -> 2 =c -> 3}", 400, "not matching"),
        ("Broken {=a ~b", 400, "poll: line"),
        ("x" * 9000 + " {T}", 413, "8192 bytes"),
    ]
    for gift, code, text in cases:
        r = literal(t, "LIVE POLL", gift)
        assert r.code == code, (gift[:40], r)
        assert text is None or text in r.text, r
    assert t.request('LIVE POLL ""').code == 400
    assert seq() == before
    assert st["lena"].quiet(0.2)


def test_bad_text_lessons_and_anchors():
    t, before = st["t"], seq()
    assert t.request('LIVE SAY ""').code == 400
    assert literal(t, "LIVE SAY", "a\x01b").code == 400
    assert literal(t, "LIVE SAY", "y" * 2001).code == 413
    assert t.request("LIVE GOTO demo/nowhere").code == 404
    assert t.request("LIVE GOTO ../etc/passwd").code == 400
    assert t.request("LIVE GOTO demo/welcome Not_An_Id").code == 400
    assert t.request("LIVE GOTO demo/welcome a b").code == 400          # too many arguments
    assert t.request("LIVE FLY").code == 400
    assert t.request("LIVE").code == 400
    assert seq() == before
    assert st["lena"].quiet(0.2)


def test_answers_without_a_poll_or_of_the_wrong_form():
    lena, t = st["lena"], st["t"]
    assert lena.request("LIVE ANSWER a").code == 409
    assert literal(t, "LIVE POLL", "Pick one {=x ~y}").code == 201
    lena.pushes_until(lambda p: p.line == "LIVE POLL")
    assert lena.request("LIVE ANSWER q").code == 400                   # no option q
    assert lena.request('LIVE ANSWER ""').code == 400
    assert literal(lena, "LIVE ANSWER", "z" * 3000).code == 413
    assert lena.request("LIVE ANSWER a").code == 200
    assert t.request("LIVE CLOSE").code == 200
    assert t.request("LIVE CLOSE").code == 409                          # nothing open now


def test_cohort_ids_sessions_and_strangers():
    lena = st["lena"]
    anon = env.campusd.client()
    assert anon.request("LIVE JOIN %s" % st["cid"]).code == 401
    for bad in ("LIVE JOIN abc", "LIVE JOIN 0", "LIVE JOIN -1", "LIVE STATE cohort:01",
                "LIVE JOIN 99999999999999999999999"):
        assert lena.request(bad).code == 400, bad
    for bad in ("LIVE REPORT x", "LIVE REPORT 1-", "LIVE REPORT -1", "LIVE REPORT 1-2-3"):
        assert st["t"].request(bad).code == 400, bad
    assert st["t"].request("LIVE REPORT %s-99" % st["cid"]).code == 404
    # A learner with no session on the connection and no cohort named.
    leo = login(env.campusd.text_port, "leo")
    r = leo.request("LIVE ANSWER a")
    assert r.code == 400 and "name the cohort" in r.text, r
    leo.close()
    anon.close()


def test_http_bodies_and_streams():
    hp, cid = env.campusd.http_port, st["cid"]
    tt = livelib.http_token(hp, "tara")
    for path, body in (("goto", "not json"), ("goto", "{}"), ("say", '{"text": 5}'),
                       ("poll", '{"gift": null}'), ("answer", "[]")):
        s, _, b = http(hp, "POST", "/api/live/%s/%s" % (cid, path), body=body, headers=tt)
        assert s == 400, (path, body, s, b)
    s, _, _ = http(hp, "GET", "/api/live/not-a-number", headers=tt)
    assert s == 400
    s, _, _ = http(hp, "GET", "/api/live/%s/events" % cid)
    assert s == 401
    # A Last-Event-ID that is not a number is as none; one from the future
    # gets resync at once.
    import http.client as hc
    for lei, first in (("garbage", None), ("999999999", "resync")):
        c = hc.HTTPConnection("127.0.0.1", hp, timeout=5)
        c.request("GET", "/api/live/%s/events" % cid, headers=dict(tt, **{"Last-Event-ID": lei}))
        r = c.getresponse()
        assert r.status == 200
        assert r.readline() == b"retry: 1000\n"
        r.readline()
        if first:
            assert r.readline().startswith(b"id: ") and r.readline() == b"event: resync\n"
        c.close()
    # The session still serves everyone.
    assert st["t"].request('LIVE SAY "still here"').code == 200
    assert st["lena"].pushes_until(lambda p: p.line == "LIVE SAY")[-1].body == b"still here"
    s, _, b = http(hp, "GET", "/api/live/%s" % cid, headers=tt)
    assert s == 200 and json.loads(b)["said"][-1] == "still here"


if __name__ == "__main__":
    harness.main(globals())
