"""Learner progress against a real Redis: DONE, NEXT (course order and
prerequisites), PROGRESS per course and per module, EXPORT xapi, the HTTP
routes, one learner's records kept from another, and Redis going away."""

import json
import os
import time

import harness
from harness import Env, http

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]

COURSES = {
    "alpha/course.md": "---\nid: alpha\ntitle: Alpha\nsummary: First.\nlanguage: en\nversion: 1.0.0\n---\n\nAlpha.\n",
    "alpha/01-start/module.md": "---\ntitle: Start\n---\n\nStart here.\n",
    "alpha/01-start/01-intro.md": "---\ntitle: Intro\nminutes: 10\nprerequisites: [beta/base]\n---\n\nIntro text.\n",
    "alpha/01-start/02-more.md": "---\ntitle: More\nminutes: 20\n---\n\nMore text.\n",
    "alpha/02-end/module.md": "---\ntitle: End\n---\n\nThe end.\n",
    "alpha/02-end/01-last.md": "---\ntitle: Last\nminutes: 5\nprerequisites: [more]\n---\n\nLast text.\n",
    "beta/course.md": "---\nid: beta\ntitle: Beta\nsummary: Second.\nlanguage: en\nversion: 1.0.0\n---\n\nBeta.\n",
    "beta/01-only/module.md": "---\ntitle: Only\n---\n\nOnly module.\n",
    "beta/01-only/01-base.md": "---\ntitle: Base\nminutes: 7\n---\n\nBase text.\n",
}

env = None


def setup():
    global env
    import tempfile
    root = tempfile.mkdtemp(prefix="campus-courses-")
    for path, text in COURSES.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    env = Env(courses=root, extra=FAST)


def teardown():
    env.close()


def learner(name):
    c = env.campusd.client()
    assert c.request('REGISTER %s "a good password"' % name).code == 201
    r = c.request('LOGIN %s "a good password"' % name)
    assert r.code == 200, r
    c.token = r.kv()["token"]
    return c


def next_lesson(c, course=""):
    r = c.request(("NEXT " + course).strip())
    assert r.code == 200, r
    return r.kv()["lesson"]


def test_anonymous_is_asked_to_log_in():
    c = env.campusd.client()
    for line in ("DONE alpha/intro", "NEXT", "PROGRESS", "EXPORT xapi"):
        r = c.request(line)
        assert r.code == 401, (line, r)


def test_next_follows_course_order_and_prerequisites():
    c = learner("ana")
    # alpha/intro needs beta/base first.
    assert next_lesson(c) == "beta/base"
    assert next_lesson(c, "alpha") == "beta/base"
    assert next_lesson(c, "beta") == "beta/base"
    assert c.request("DONE beta/base").code == 200
    r = c.request("NEXT alpha")
    kv = r.kv()
    assert kv["lesson"] == "alpha/intro" and kv["title"] == "Intro" and kv["minutes"] == "10", kv
    assert kv["course"] == "alpha" and kv["module"] == "start" and kv["done"] == "0", kv
    assert c.request("DONE alpha/intro").code == 200
    # Without a course: where the learner was last active.
    assert next_lesson(c) == "alpha/more"
    assert c.request("DONE alpha/more").code == 200
    assert c.request("DONE alpha/last").code == 200
    r = c.request("NEXT alpha")
    assert r.code == 200 and r.text == "course alpha is complete" and r.kv()["lesson"] == "", r
    r = c.request("NEXT")
    assert r.code == 200 and r.text == "every course is complete", r
    assert c.request("NEXT nosuch").code == 404


def test_done_is_idempotent_and_checked():
    c = learner("ben")
    r = c.request("DONE alpha/more")
    assert r.code == 200 and r.text == "done alpha/more", r
    r = c.request("DONE alpha/more")
    assert r.code == 200 and r.text == "already done alpha/more", r
    assert c.request("DONE alpha/nosuch").code == 404
    # Malformed ids are a 400, well-formed unknown ones a 404.
    assert c.request("DONE alpha").code == 400
    assert c.request("DONE ../../etc").code == 400
    assert c.request("DONE").code == 400
    # Acknowledged means Redis has it.
    assert env.redis.cmd("HEXISTS", "campus:{u:ben}:done", "alpha/more") == b":1"


def test_done_of_an_ended_session_marks_nothing():
    """A logged-in connection's DONE checks its session in the same script
    as the mark: a session ended elsewhere gets the check's answer, once,
    and no mark; the connection is anonymous after it."""
    c = learner("odile")
    other = env.campusd.client()
    assert other.request("AUTH " + c.token).code == 200
    assert other.request("LOGOUT").code == 200
    r = c.request("DONE alpha/more")
    assert r.code == 401 and r.text == "session ended: logged out or expired", r
    assert env.redis.cmd("HEXISTS", "campus:{u:odile}:done", "alpha/more") == b":0"
    r = c.request("DONE alpha/more")
    assert r.code == 401 and r.text == "DONE needs you to log in", r
    # Logged in again: marked, with the time given and an idempotency key.
    r = c.request('LOGIN odile "a good password"')
    assert r.code == 200, r
    r = c.request("DONE alpha/more 1700000000000 k-1")
    assert r.code == 200 and r.text == "done alpha/more", r
    r = c.request("DONE alpha/more 1700000000000 k-1")
    assert r.code == 200 and r.text == "done alpha/more", r
    assert c.request("DONE beta/base 1700000000000 k-1").code == 409
    assert env.redis.cmd("HGET", "campus:{u:odile}:done", "alpha/more") == b"1700000000000"


def test_progress_per_course_and_per_module():
    c = learner("cleo")
    for l in ("alpha/intro", "beta/base"):
        assert c.request("DONE " + l).code == 200
    rows = {r["course"]: r for r in c.request("PROGRESS").rows()}
    assert rows["alpha"] == {"course": "alpha", "title": "Alpha", "done": "1", "total": "3",
                             "percent": "33", "minutes_left": "25", "exercises_passed": "0",
                             "exercises": "0"}, rows
    assert rows["beta"]["done"] == "1" and rows["beta"]["percent"] == "100"
    assert rows["beta"]["minutes_left"] == "0"
    r = c.request("PROGRESS alpha")
    assert r.code == 200, r
    assert r.text.startswith("alpha: 1 of 3 lessons done (33%), 25 minutes left"), r
    mods = {m["module"]: m for m in r.rows()}
    assert mods["start"]["done"] == "1" and mods["start"]["total"] == "2"
    assert mods["start"]["percent"] == "50" and mods["start"]["minutes_left"] == "20"
    assert mods["end"]["done"] == "0" and mods["end"]["minutes_left"] == "5"
    assert c.request("PROGRESS nosuch").code == 404
    # Exercises passed are counted from what grading records.
    env.redis.cmd("HSET", "campus:{u:cleo}:passed", "alpha/more#1", "1700000000000")
    rows = {r["course"]: r for r in c.request("PROGRESS").rows()}
    assert rows["alpha"]["exercises_passed"] == "1", rows


def test_a_learner_sees_only_their_own_records():
    a, b = learner("dina"), learner("egon")
    assert a.request("DONE beta/base").code == 200
    rows = {r["course"]: r for r in b.request("PROGRESS").rows()}
    assert rows["beta"]["done"] == "0"
    assert next_lesson(b) == "beta/base"
    # Whatever id is sent, the records are the caller's.
    assert b.request("PROGRESS dina").code == 404
    assert b.request("EXPORT xapi dina").code == 400
    statements = json.loads(b.request("EXPORT xapi").body)
    assert all(s["actor"]["name"] == "egon" for s in statements)
    assert not any(s["verb"]["display"]["en-US"] == "completed" for s in statements)


def test_export_xapi_statements():
    c = learner("finn")
    assert c.request("DONE alpha/more").code == 200
    r = c.request("EXPORT xapi")
    assert r.code == 200, r
    st = json.loads(r.body)
    verbs = [s["verb"]["id"] for s in st]
    assert verbs == ["http://adlnet.gov/expapi/verbs/registered",
                     "http://adlnet.gov/expapi/verbs/completed"], verbs
    done = st[1]
    assert done["actor"] == {"objectType": "Agent", "name": "finn",
                             "account": {"homePage": "http://localhost:8080/", "name": "finn"}}
    assert done["object"]["id"] == "http://localhost:8080/#/lesson/alpha/more", done
    assert done["object"]["definition"]["name"] == {"en": "More"}   # the course is written in en
    assert done["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/lesson"
    assert done["result"] == {"completion": True}
    assert done["timestamp"].endswith("Z") and abs(
        time.mktime(time.strptime(done["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone -
        time.time()) < 120, done["timestamp"]
    assert len(done["id"]) == 36 and done["id"][14] == "5"
    # Stable ids: the same event exports the same statement.
    assert json.loads(c.request("EXPORT xapi").body)[1]["id"] == done["id"]
    # since: only what happened from then on.
    assert json.loads(c.request("EXPORT xapi 2999-01-01").body) == []
    assert len(json.loads(c.request("EXPORT xapi 2000-01-01T00:00:00Z").body)) == 2
    ms = int(time.time() * 1000) + 60000
    assert json.loads(c.request("EXPORT xapi %d" % ms).body) == []
    assert c.request("EXPORT xapi yesterday").code == 400
    assert c.request("EXPORT csv").code == 400


def test_http_routes():
    c = learner("gwen")
    port = env.campusd.http_port
    auth = {"Authorization": "Bearer " + c.token}
    s, h, body = http(port, "POST", "/api/done/beta/base", headers=auth)
    assert s == 200, body
    s, h, body = http(port, "POST", "/api/done/beta/base")
    assert s == 401
    s, h, body = http(port, "GET", "/api/next/alpha", headers=auth)
    assert s == 200 and json.loads(body)["data"]["lesson"] == "alpha/intro", body
    s, h, body = http(port, "GET", "/api/next", headers=auth)
    assert json.loads(body)["data"]["lesson"] == "alpha/intro", body
    s, h, body = http(port, "GET", "/api/progress", headers=auth)
    items = {i["course"]: i for i in json.loads(body)["items"]}
    assert items["beta"]["percent"] == "100", items
    s, h, body = http(port, "GET", "/api/progress/alpha", headers=auth)
    assert s == 200 and len(json.loads(body)["items"]) == 2
    s, h, body = http(port, "GET", "/api/me/statements", headers=auth)
    assert s == 200 and h["content-type"].startswith("application/json"), (s, h)
    st = json.loads(body)
    assert isinstance(st, list) and st[-1]["verb"]["display"]["en-US"] == "completed", st
    s, h, body = http(port, "GET", "/api/me/statements?since=2999-01-01", headers=auth)
    assert json.loads(body) == []
    s, h, body = http(port, "GET", "/api/me/statements")
    assert s == 401


def test_store_down_then_back():
    c = learner("hugo")
    assert c.request("DONE beta/base").code == 200
    env.redis.kill()
    try:
        harness.wait_for(lambda: c.request("PING store").code == 503, what="store down")
        for line in ("DONE alpha/more", "NEXT", "PROGRESS", "EXPORT xapi"):
            r = c.request(line)
            assert r.code == 503 and r.text == "progress store unavailable", (line, r)
        # Lessons are still served, to a logged-in learner too.
        r = c.request("COURSES")
        assert r.code == 200, r
        r = c.request("READ alpha/more")
        assert r.code == 200, r
    finally:
        env.redis.start()
    harness.wait_for(lambda: c.request("PING store").code == 200, timeout=20, what="store up")
    assert c.request("DONE alpha/more").code == 200
    rows = {r["course"]: r for r in c.request("PROGRESS").rows()}
    assert rows["alpha"]["done"] == "1" and rows["beta"]["done"] == "1", rows


def test_read_records_first_and_last_view():
    c = learner("jack")
    r = c.request("READ alpha/more")
    assert r.code == 200, r
    # Recorded on the same Redis link before this EXPORT is read.
    st = json.loads(c.request("EXPORT xapi").body)
    seen = [s for s in st if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/experienced"]
    assert len(seen) == 1 and seen[0]["object"]["id"].endswith("/#/lesson/alpha/more"), st
    first, last = env.redis.cmd("HGET", "campus:{u:jack}:viewed", "alpha/more").split()
    assert first == last
    time.sleep(0.01)
    assert c.request("READ alpha/more").code == 200
    # READ does not wait for the record; it follows at once.
    harness.wait_for(lambda: int(env.redis.cmd("HGET", "campus:{u:jack}:viewed",
                                                "alpha/more").split()[1]) > int(last),
                     what="the last view to be recorded")
    first2 = env.redis.cmd("HGET", "campus:{u:jack}:viewed", "alpha/more").split()[0]
    assert first2 == first
    # A second look soon after is not a new event.
    st = json.loads(c.request("EXPORT xapi").body)
    assert len([s for s in st if s["verb"]["display"]["en-US"] == "experienced"]) == 1
    # Reading anonymously records nothing for anyone.
    assert env.campusd.client().request("READ alpha/last").code == 200
    assert env.redis.cmd("HEXISTS", "campus:{u:jack}:viewed", "alpha/last") == b":0"


def test_scripts_are_reloaded_after_a_flush():
    c = learner("ivy")
    assert env.redis.cmd("SCRIPT", "FLUSH") == b"+OK"
    assert c.request("DONE beta/base").code == 200
    assert c.request("DONE beta/base").text == "already done beta/base"


harness.main(globals())
