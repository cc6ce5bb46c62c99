"""Exercises over real sockets: the learner's view never holds a key, an
attempt is stored before it is answered, malformed answers cost nothing,
attempt limits hold under 20 concurrent SUBMITs, and a trainer grades the
review queue."""

import json
import os
import re
import subprocess
import threading

import harness
from harness import Campusd, Env, http, wait_for

env = None
COURSES = os.path.join(harness.SOURCE, "courses")
PASSWORD = "a long enough password"


def setup():
    global env
    env = Env(courses=COURSES)


def teardown():
    env.close()


def learner(name):
    c = env.campusd.client()
    r = c.request('REGISTER %s "%s"' % (name, PASSWORD))
    assert r.code == 201, r
    r = c.request('LOGIN %s "%s"' % (name, PASSWORD))
    assert r.code == 200, r
    return c


def submit(c, ex, doc):
    data = doc.encode()
    c.send(b"SUBMIT %s {%d}\r\n" % (ex.encode(), len(data)) + data)
    return c.read_response()


def exercises():
    c = env.campusd.client()
    out = []
    for course in ("cluster-development", "led-foundations", "value-chains"):
        for row in c.request("COURSE " + course).rows():
            if row["kind"] in ("quiz", "case"):
                out.append(row["lesson"])
    c.close()
    return out


def source_path(full_id):
    course, slug = full_id.split("/")
    for root, _, files in os.walk(os.path.join(COURSES, course)):
        for f in files:
            if re.match(r"\d\d-%s(\.case)?\.md$" % re.escape(slug), f):
                return os.path.join(root, f)
    raise AssertionError("no file for " + full_id)


def secrets(path):
    """Texts only a key holds: task feedback, GIFT answer feedback, compute
    expressions, rubric word lists. Short ones are skipped (they occur in
    prose by chance)."""
    text = open(path, encoding="utf-8").read()
    found = set()
    for block in re.findall(r"```task\n(.*?)```", text, re.S):
        for m in re.finditer(r"^\s*feedback: (?!\|)(.+)$", block, re.M):
            found.add(m.group(1).strip().strip('"'))
        for m in re.finditer(r"^\s*compute: (.+)$", block, re.M):
            found.add(m.group(1).strip())
        for m in re.finditer(r"^\s*words: \[(.+)\]$", block, re.M):
            found.add(m.group(1).strip())
        # The marking guide, model answer and rubric levels are for trainers.
        for m in re.finditer(r"^(\s*)(?:guide|model|text): *(?:[|>]-?\n((?:\1  .*\n?)+)|(.+))$",
                             block, re.M):
            val = m.group(3) if m.group(3) else m.group(2)
            for line in val.split("\n"):
                if line.strip():
                    found.add(line.strip().strip('"'))
    for block in re.findall(r"```gift\n(.*?)```", text, re.S):
        for m in re.finditer(r"(?<!\\)#([^#=~}\n][^=~}\n]*)", block):
            found.add(m.group(1).strip())
    return {s for s in found if len(s) >= 24}


def test_views_never_hold_keys():
    c = env.campusd.client()
    checked = 0
    for ex in exercises():
        secret = secrets(source_path(ex))
        views = [c.request("EXERCISE %s" % ex).body.decode(),
                 c.request("EXERCISE %s json" % ex).body.decode()]
        st, _, body = http(env.campusd.http_port, "GET", "/api/exercises/" + ex)
        assert st == 200
        views.append(json.loads(body)["body"])
        views.append(c.request("READ %s" % ex).body.decode())
        for v in views:
            for s in secret:
                assert s not in v, (ex, s)
                checked += 1
            assert "compute:" not in v and "%50%" not in v
    assert checked > 200, checked


def test_every_bundled_review_task_has_a_marking_guide():
    """Each review task of the bundled courses carries a guide, a model
    answer and an analytic rubric; test_views_never_hold_keys keeps them
    from learners."""
    tasks = 0
    for ex in exercises():
        text = open(source_path(ex), encoding="utf-8").read()
        for block in re.findall(r"```task\n(.*?)```", text, re.S):
            if not re.search(r"^type: review$", block, re.M):
                continue
            tasks += 1
            for key in ("guide", "model", "criteria"):
                assert re.search(r"^%s:" % key, block, re.M), (ex, key, block[:80])
    assert tasks >= 8, tasks


def test_submit_scores_stores_then_answers():
    c = learner("sam")
    ex = "cluster-development/ethiopia-oilseeds"
    r = submit(c, ex, "beneficiaries: 54\nswot: strength=2 weakness=4,5 opportunity=1 threat=3\n"
                      "reop-aim: d\npurchase-plan: members buy seed together.\n")
    assert r.code == 200 and "attempt=1" in r.text and "left=2" in r.text, r
    assert re.search(r"score=\d+\.\d", r.text)
    # Acknowledged means stored: the record is in Redis now.
    rec = json.loads(env.redis.cmd("LINDEX", "campus:{u:sam}:attempts:" + ex, "0"))
    assert rec["n"] == 1 and rec["tasks"][0]["id"] == "beneficiaries"
    rows = c.request("ATTEMPTS " + ex).rows()
    assert len(rows) == 1 and rows[0]["attempt"] == "1"


def test_malformed_answer_uses_no_attempt():
    c = learner("mal")
    ex = "cluster-development/ethiopia-oilseeds"
    r = submit(c, ex, "nosuchtask: 1\n")
    assert r.code == 400 and "nosuchtask" in r.text, r
    r = submit(c, ex, "swot: banana\n")
    assert r.code == 400 and "swot" in r.text, r
    assert c.request("ATTEMPTS " + ex).rows() == []
    assert env.redis.cmd("LLEN", "campus:{u:mal}:attempts:" + ex) == b":0"


def numbered(view, task):
    """The items or options of one task in a text view: {text: label}."""
    section = view.split("[%s]" % task, 1)[1].split("\n[", 1)[0]
    out = {}
    for m in re.finditer(r"^\s+([0-9]+|[a-z])[.)] (.+)$", section, re.M):
        out[m.group(2).strip()] = m.group(1)
    return out


def test_full_marks_passes_and_counts_in_progress():
    c = learner("pat")
    ex = "cluster-development/ethiopia-oilseeds"
    view = c.request("EXERCISE " + ex).body.decode()   # shuffled for this learner
    items = numbered(view, "swot")
    def n(prefix):
        return [v for k, v in items.items() if k.startswith(prefix)][0]
    swot = "strength=%s weakness=%s,%s,%s opportunity=%s threat=%s" % (
        n("Many small"), n("Each producer"), n("Producers' oil"), n("Producers hardly"),
        n("Buyers in"), n("Larger refineries"))
    aim = numbered(view, "reop-aim")["A refinery plant"]
    r = submit(c, ex, "beneficiaries: 54.3\nswot: " + swot + "\n"
                      "reop-aim: " + aim + "\npurchase-plan: REOP members pool their orders and buy seed in "
                      "bulk before each season. A committee of members inside the association "
                      "collects the orders and signs one contract with the farmers, who are paid "
                      "more for cleaning and grading their seed. The committee will monitor the "
                      "price per tonne and tell every member what it found.\n")
    assert r.code == 200 and "passed" in r.text, (r, r.body)
    kv = c.request("PROGRESS").rows()
    row = [x for x in kv if x.get("course") == "cluster-development"]
    assert row and int(row[0]["exercises_passed"]) >= 1, kv


def test_twenty_concurrent_submits_respect_three_attempts():
    c0 = learner("race")
    token = None
    for line in c0.request('LOGIN race "%s"' % PASSWORD).body.decode().split("\n"):
        if line.startswith("token\t"):
            token = line.split("\t")[1]
    ex = "cluster-development/ethiopia-oilseeds"
    conns = []
    for _ in range(20):
        c = env.campusd.client()
        assert c.request("AUTH " + token).code == 200
        conns.append(c)
    barrier = threading.Barrier(20)
    codes = []

    def go(c, i):
        # Twenty different answers: the same answer again would be a retry.
        doc = b"# answer %d\nreop-aim: a\n" % i
        barrier.wait()
        c.send(b"SUBMIT %s {%d}\r\n" % (ex.encode(), len(doc)) + doc)
        codes.append(c.read_response().code)

    threads = [threading.Thread(target=go, args=(c, i)) for i, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [200] * 3 + [409] * 17, codes
    assert env.redis.cmd("LLEN", "campus:{u:race}:attempts:" + ex) == b":3"


def test_anonymous_may_look_but_not_submit():
    c = env.campusd.client()
    r = c.request("EXERCISE led-foundations/quiz-actors")
    assert r.code == 200 and "attempt=1" in r.text
    r = submit(c, "led-foundations/quiz-actors", "q1: a\n")
    assert r.code == 401
    assert c.request("EXERCISE led-foundations/what-is-led").code == 404
    assert c.request("EXERCISE ../x").code == 400
    assert c.request("REVIEW LIST").code == 401


def test_http_exercise_routes():
    c = learner("web")
    token = [l.split("\t")[1] for l in c.request('LOGIN web "%s"' % PASSWORD).body.decode().split("\n")
             if l.startswith("token\t")][0]
    port = env.campusd.http_port
    auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    st, _, body = http(port, "GET", "/api/exercises/cluster-development/ethiopia-oilseeds", headers=auth)
    assert st == 200 and json.loads(body)["data"]["attempt"] == 1
    st, _, body = http(port, "POST", "/api/exercises/cluster-development/ethiopia-oilseeds/submit",
                       body=json.dumps({"answers": {"reop-aim": "d", "beneficiaries": "54"}}), headers=auth)
    assert st == 200, body
    doc = json.loads(body)
    assert doc["data"]["attempt"] == 1 and doc["data"]["result"] in ("passed", "failed")
    st, _, body = http(port, "GET", "/api/exercises/cluster-development/ethiopia-oilseeds/attempts", headers=auth)
    assert st == 200 and len(json.loads(body)["items"]) == 1
    st, _, body = http(port, "POST", "/api/exercises/cluster-development/ethiopia-oilseeds/submit",
                       body="not json", headers=auth)
    assert st == 400


def add_user(name, role):
    harness.add_user(env.redis.port, name, role, PASSWORD, data=env.campusd.data)


def test_review_queue_graded_by_a_trainer():
    c = learner("rita")
    ex = "led-foundations/inclusive-action-plan"
    view = c.request("EXERCISE " + ex).body.decode()
    tasks = re.findall(r"^\[([a-z0-9-]+)\]", view, re.M)
    assert tasks, view
    doc = "".join("%s: My answer for %s.\n" % (t, t) for t in tasks if t)
    r = submit(c, ex, doc)
    if r.code == 400:                      # some tasks need a structured answer
        doc = "".join("%s: My answer for %s.\n" % (t, t) for t in tasks[-1:])
        r = submit(c, ex, doc)
    assert r.code == 200 and "pending-review" in r.text, (r, r.body)

    add_user("tess", "trainer")
    t = env.campusd.client()
    assert t.request('LOGIN tess "%s"' % PASSWORD).code == 200
    rows = [x for x in t.request("REVIEW LIST led-foundations").rows() if x["learner"] == "rita"]
    assert rows, "nothing queued"
    rid = rows[0]["id"]
    tok = [l.split("\t")[1] for l in t.request('LOGIN tess "%s"' % PASSWORD).body.decode().split("\n")
           if l.startswith("token\t")][0]
    st, _, body = http(env.campusd.http_port, "GET", "/api/reviews?course=led-foundations",
                       headers={"Authorization": "Bearer " + tok})
    assert st == 200 and any(i["id"] == rid for i in json.loads(body)["items"]), body
    st, _, body = http(env.campusd.http_port, "GET", "/api/reviews/" + rid)
    assert st == 401
    shown = t.request("REVIEW SHOW " + rid)
    assert shown.code == 200 and b"rita" in shown.body
    assert b"Points: 15" in shown.body
    assert t.request('REVIEW GRADE %s 16 "too much"' % rid).code == 400   # the task is worth 15
    # The plan has a rubric: a number alone is refused, the levels decide.
    assert t.request('REVIEW GRADE %s 13.5 "Clear and concrete."' % rid).code == 400
    levels = b"elements 4\ncoherence 3\ninclusion 1.5 Young people only in action 1.\nrealism 2.5\nindicators 2.5\n"
    t.send(b'REVIEW GRADE %s rubric "Clear and concrete." {%d}\r\n' % (rid.encode(), len(levels)) + levels)
    r = t.read_response()
    assert r.code == 200 and "graded" in r.text, r
    assert t.request('REVIEW GRADE %s 90 "again"' % rid).code == 404
    rec = json.loads(env.redis.cmd("LINDEX", "campus:{u:rita}:attempts:" + ex, "0"))
    graded = [x for x in rec["tasks"] if x["id"] == rows[0]["task"]][0]
    assert graded["score"] == 90 and graded["points"] == 13.5 and not graded["pending"], graded
    assert graded["comment"] == "Clear and concrete."
    assert [x["comment"] for x in graded["levels"] if x["criterion"] == "inclusion"] == \
        ["Young people only in action 1."], graded
    assert c.request("REVIEW LIST").code == 403     # a learner may not


def test_export_gift_round_trips_through_the_checker():
    add_user("gina", "trainer")
    t = env.campusd.client()
    assert t.request('LOGIN gina "%s"' % PASSWORD).code == 200
    r = t.request("EXPORT gift cluster-development")
    assert r.code == 200, r
    n = int(r.text.split()[0])
    text = r.body.decode()
    assert n >= 30 and text.count("$CATEGORY: cluster-development/") >= 4, r.text
    # The export is GIFT a course can hold again: one quiz lesson with all of it.
    tmp = harness.tempfile.mkdtemp()
    base = os.path.join(tmp, "moodle", "01-all")
    os.makedirs(base)
    with open(os.path.join(tmp, "moodle", "course.md"), "w") as f:
        f.write("---\nid: moodle\ntitle: Round trip\nsummary: Exported questions.\n"
                "language: en\nversion: 1.0.0\n---\n")
    with open(os.path.join(base, "module.md"), "w") as f:
        f.write("---\ntitle: All\n---\n")
    with open(os.path.join(base, "01-quiz.md"), "w") as f:
        f.write("---\ntitle: Quiz\nminutes: 5\n---\n\n```gift\n" + text + "\n```\n")
    out = subprocess.run([harness.CAMPUSD, "--check", tmp], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[:3000]
    # Learners may not have the keys.
    c = learner("nokeys")
    assert c.request("EXPORT gift cluster-development").code == 403
    assert env.campusd.client().request("EXPORT gift cluster-development").code == 401


if __name__ == "__main__":
    harness.main(globals())
