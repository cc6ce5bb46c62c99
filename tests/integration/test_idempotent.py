"""Idempotency keys for DONE, over CTP/1 and HTTP: the same key twice is one
mark (one "completed" event) and the same answer both times; a key used for
another lesson is a 409; bad keys are 400s; the key is kept for
submit_window. SUBMIT's own key is tested in test_hostile_submit.py."""

import json

import harness
from harness import Env

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
env = None


def setup():
    global env
    env = Env(extra=FAST)


def teardown():
    env.close()


def learner(name):
    c = env.campusd.client()
    assert c.request('REGISTER %s "a good password"' % name).code == 201
    r = c.request('LOGIN %s "a good password"' % name)
    assert r.code == 200, r
    return c, r.kv()["token"]


def completed_count(user):
    """The "completed" events in the learner's stream."""
    script = ("local n = 0 for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do "
              "if e[2][2] == 'completed' then n = n + 1 end end return n")
    out = env.redis.cmd("EVAL", script, "1", "campus:{u:%s}:events" % user)
    assert out.startswith(b":"), out
    return int(out[1:])


def test_done_key_replayed_is_one_mark():
    c, _ = learner("donekey")
    r1 = c.request("DONE demo/welcome 1700000000000 offline-1")
    assert r1.code == 200 and r1.text == "done demo/welcome", r1
    # The reply was lost; the client sends it again: the same answer.
    r2 = c.request("DONE demo/welcome 1700000000000 offline-1")
    assert (r2.code, r2.text) == (200, r1.text), r2
    assert completed_count("donekey") == 1
    # Without a key a second DONE says it was done already.
    assert c.request("DONE demo/welcome").text == "already done demo/welcome"
    # The key stored, with its TTL.
    ttl = env.redis.cmd("PTTL", "campus:{u:donekey}:donekey:offline-1")
    assert 0 < int(ttl[1:]) <= 86400 * 1000, ttl
    # The same key for another lesson is refused and marks nothing.
    r = c.request("DONE demo/lists 1700000000000 offline-1")
    assert r.code == 409 and "another lesson" in r.text, r
    assert completed_count("donekey") == 1


def test_done_bad_keys():
    c, _ = learner("donebad")
    for key in ("bad/key", "k" * 65, '"a b"'):
        r = c.request("DONE demo/welcome 1700000000000 %s" % key)
        assert r.code == 400, (key, r)
    r = c.request("DONE demo/welcome notanumber k1")
    assert r.code == 400 and "at-ms" in r.text, r
    assert completed_count("donebad") == 0


def test_http_done_key():
    _, token = learner("donehttp")
    auth = {"Authorization": "Bearer " + token}
    answers = []
    for _ in range(2):
        st, _, body = harness.http(env.campusd.http_port, "POST", "/api/done/demo/welcome",
                                   body=json.dumps({"at": 1700000000000, "key": "web-1"}),
                                   headers=auth)
        assert st == 200, body
        answers.append(json.loads(body)["message"])
    assert answers == ["done demo/welcome"] * 2, answers
    assert completed_count("donehttp") == 1
    # A key alone is marked now; bodies of the wrong shape are 400s.
    st, _, body = harness.http(env.campusd.http_port, "POST", "/api/done/demo/lists",
                               body=json.dumps({"key": "web-2"}), headers=auth)
    assert st == 200, body
    for bad in ('{"at": "x"}', '{"key": 3}', "[]", "not json"):
        st, _, body = harness.http(env.campusd.http_port, "POST", "/api/done/demo/lists",
                                   body=bad, headers=auth)
        assert st == 400, (bad, body)
    # No body is a plain DONE, as before.
    st, _, body = harness.http(env.campusd.http_port, "POST", "/api/done/demo/lists", headers=auth)
    assert st == 200 and json.loads(body)["message"] == "already done demo/lists", body


if __name__ == "__main__":
    harness.main(globals())
