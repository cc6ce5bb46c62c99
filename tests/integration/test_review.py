"""Assessment a trainer can stand behind, over real sockets against a real
Redis: grading on the task's own points (stored as a percentage), analytic
rubrics whose levels make the score, per-criterion comments and the
trainer's comment reaching the learner over CTP and HTTP, the count of new
reviews at the next session, provisional machine scores until a trainer
confirms them, show/show_when policies (keys never shown early), and a
passed exercise counting as done."""

import json
import os
import re
import tempfile

import harness
from harness import Env, http

env = None
PASSWORD = "a long enough password"

COURSE = """---
id: assess
title: Assessment
summary: A course to grade.
language: en
version: 1.0.0
---

# Assessment
"""

MODULE = """---
title: Everything
---
"""

LESSON = """---
title: Reading
minutes: 5
---

# Reading

Something to read first.
"""

CASE = """---
title: "Case: a plan"
minutes: 20
attempts: 3
pass: 50
---

# Case: a plan

Write the plan.

```task
id: plan
type: review
prompt: Write a one-paragraph plan.
points: 10
guide: Look for a named lead actor and a date for each action.
model: The municipality leads the forum from March; the chamber runs the survey in April.
```

```task
id: essay
type: review
prompt: Argue for one action.
guide: An argued choice cites the diagnosis.
model: Start with the supplier survey, because the diagnosis found no data on local suppliers.
criteria:
  - id: analysis
    name: Use of the diagnosis
    levels:
      - points: 0
        text: No link to the diagnosis
      - points: 2
        text: Mentions the diagnosis
      - points: 4
        text: Builds the choice on the diagnosis
  - id: action
    name: The action itself
    levels:
      - points: 0
        text: No action
      - points: 3
        text: A vague action
      - points: 6
        text: A concrete action with a lead and a date
```

```task
id: why
type: rubric
prompt: Why do firms cooperate in a cluster?
points: 4
confirm: trainer
min_words: 0
guide: Both concepts must be argued, not only named.
model: They buy from a shared supplier of inputs, and they learn from each other.
concepts:
  - name: shared inputs
    points: 2
    words: [shared supplier, common supplier, joint purchase]
  - name: learning
    points: 2
    words: [learn from each other, knowledge exchange]
```
"""

QUIZ = """---
title: "Quiz: defaults"
minutes: 5
attempts: 2
pass: 100
---

# Quiz

```gift
::Capital::The capital of Italy? {
  =Rome #Right: Rome since 1871.
  ~Milan #No, Milan is the financial centre.
  ~Turin #No, Turin was the first capital.
}
```
"""

QUIZ_SCORE = """---
title: "Quiz: scores only"
minutes: 5
attempts: 2
pass: 100
show: score
show_when: last
---

# Quiz

```gift
::Capital::The capital of France? {
  =Paris #Right: Paris.
  ~Lyon #No, Lyon is the gastronomic capital.
}
```
"""

QUIZ_KEYS = """---
title: "Quiz: keys at once"
minutes: 5
attempts: 0
pass: 100
show_when: attempt
---

# Quiz

```gift
::Capital::The capital of Spain? {
  =Madrid #Right: Madrid.
  ~Seville #No, Seville is in Andalusia.
}
```
"""

EX = "assess/plan-case"


def write_course(root):
    base = os.path.join(root, "assess", "01-all")
    os.makedirs(base)
    files = {os.path.join(root, "assess", "course.md"): COURSE,
             os.path.join(base, "module.md"): MODULE,
             os.path.join(base, "01-reading.md"): LESSON,
             os.path.join(base, "02-plan-case.case.md"): CASE,
             os.path.join(base, "03-quiz-defaults.md"): QUIZ,
             os.path.join(base, "04-quiz-score.md"): QUIZ_SCORE,
             os.path.join(base, "05-quiz-keys.md"): QUIZ_KEYS}
    for path, text in files.items():
        with open(path, "w") as f:
            f.write(text)


def setup():
    global env
    root = tempfile.mkdtemp()
    write_course(root)
    env = Env(courses=root)


def teardown():
    env.close()


def add_user(name, role):
    harness.add_user(env.redis.port, name, role, PASSWORD, data=env.campusd.data)


def learner(name):
    c = env.campusd.client()
    assert c.request('REGISTER %s "%s"' % (name, PASSWORD)).code == 201
    r = c.request('LOGIN %s "%s"' % (name, PASSWORD))
    assert r.code == 200, r
    return c


def token_of(r):
    return r.kv()["token"]


def trainer(name):
    add_user(name, "trainer")
    t = env.campusd.client()
    r = t.request('LOGIN %s "%s"' % (name, PASSWORD))
    assert r.code == 200, r
    return t, token_of(r)


def submit(c, ex, doc, key=None):
    """SUBMIT; a key makes a new attempt of an answer sent before."""
    data = doc.encode()
    k = (" " + key).encode() if key else b""
    c.send(b"SUBMIT %s%s {%d}\r\n" % (ex.encode(), k, len(data)) + data)
    return c.read_response()


def literal(c, line, doc):
    data = doc.encode()
    c.send(line.encode() + b" {%d}\r\n" % len(data) + data)
    return c.read_response()


def queued(t, user):
    return {x["task"]: x["id"] for x in t.request("REVIEW LIST assess").rows() if x["learner"] == user}


def record(user, ex, n=1):
    return json.loads(env.redis.cmd("LINDEX", "campus:{u:%s}:attempts:%s" % (user, ex), str(n - 1)))


def task_of(rec, tid):
    return [x for x in rec["tasks"] if x["id"] == tid][0]


ANSWER = ("plan: The forum meets in March.\n"
          "essay: Start with the survey.\n"
          "why: They have a common supplier and learn from each other.\n")


def test_points_on_the_task_scale_stored_as_percent():
    c = learner("paula")
    r = submit(c, EX, ANSWER)
    assert r.code == 200 and "pending-review" in r.text, (r, r.body)
    t, _ = trainer("tina")
    ids = queued(t, "paula")
    assert set(ids) == {"plan", "essay", "why"}, ids
    shown = t.request("REVIEW SHOW " + ids["plan"])
    assert shown.code == 200
    body = shown.body.decode()
    assert "Points: 10" in body and "Model answer:" in body and "named lead actor" in body, body
    # Off the scale, malformed, or a rubric form on a task without one: 400.
    for bad in ("11", "10.5", "7.25", "-1", "+7", "07", "7.", ".5", "1e1", "x"):
        r = t.request('REVIEW GRADE %s %s "c"' % (ids["plan"], bad))
        assert r.code == 400, (bad, r)
    assert literal(t, "REVIEW GRADE %s rubric" % ids["plan"], "analysis 2\n").code == 400
    r = t.request('REVIEW GRADE %s 7.5 "Clear lead actors; no dates."' % ids["plan"])
    assert r.code == 200 and "graded" in r.text, r
    g = task_of(record("paula", EX), "plan")
    assert g["score"] == 75 and g["points"] == 7.5 and g["max"] == 10 and not g["pending"], g
    assert g["comment"] == "Clear lead actors; no dates."
    # The learner sees both scales and the comment.
    view = c.request("ATTEMPTS %s 1" % EX)
    assert view.code == 200, view
    text = view.body.decode()
    assert "plan 75.0 (7.5 of 10 points, reviewed)" in text, text
    assert "trainer: Clear lead actors; no dates." in text, text


def test_rubric_levels_make_the_score_with_comments_per_criterion():
    c = learner("rhea")
    assert submit(c, EX, ANSWER).code == 200
    t, tok = trainer("tom")
    ids = queued(t, "rhea")
    shown = t.request("REVIEW SHOW " + ids["essay"]).body.decode()
    assert "Points: 10" in shown and "analysis: Use of the diagnosis (up to 4)" in shown, shown
    assert "Builds the choice on the diagnosis" in shown and "supplier survey" in shown, shown
    # A number is refused where a rubric decides; so are missing, unknown,
    # repeated criteria and points that are no level.
    assert t.request('REVIEW GRADE %s 8 "x"' % ids["essay"]).code == 400
    for doc in ("analysis 4\n", "analysis 4\naction 5\n", "analysis 4\nbogus 1\naction 3\n",
                "analysis 4\nanalysis 2\naction 3\n", "analysis 4.5\naction 3\n"):
        r = literal(t, 'REVIEW GRADE %s rubric "overall"' % ids["essay"], doc)
        assert r.code == 400, (doc, r)
    assert record("rhea", EX)["pending"] == 3
    r = literal(t, 'REVIEW GRADE %s rubric "Good start."' % ids["essay"],
                "analysis 2 Cite the supplier gap.\naction 6\n")
    assert r.code == 200, r
    g = task_of(record("rhea", EX), "essay")
    assert g["points"] == 8 and g["score"] == 80 and g["comment"] == "Good start.", g
    levels = {x["criterion"]: x for x in g["levels"]}
    assert levels["analysis"]["points"] == 2 and levels["analysis"]["comment"] == "Cite the supplier gap."
    assert levels["action"]["level"] == "A concrete action with a lead and a date"
    # CTP: the attempt view carries levels and comments.
    text = c.request("ATTEMPTS %s 1" % EX).body.decode()
    assert "Use of the diagnosis: 2 of 4, Mentions the diagnosis (Cite the supplier gap.)" in text, text
    assert "trainer: Good start." in text
    # HTTP: the same, as JSON, for the learner's own token.
    ltok = token_of(c.request('LOGIN rhea "%s"' % PASSWORD))
    st, _, body = http(env.campusd.http_port, "GET", "/api/exercises/assess/plan-case/attempts/1",
                       headers={"Authorization": "Bearer " + ltok})
    assert st == 200, body
    doc = json.loads(body)
    assert doc["data"]["attempt"] == 1, doc
    tasks = {x["id"]: x for x in json.loads(doc["body"])["tasks"]}
    assert tasks["essay"]["comment"] == "Good start." and tasks["essay"]["levels"][0]["comment"]
    assert "reviewer" not in tasks["essay"]
    # Over HTTP a trainer grades by levels too.
    st, _, body = http(env.campusd.http_port, "POST", "/api/reviews/" + ids["plan"],
                       body=json.dumps({"points": 12}), headers={"Authorization": "Bearer " + tok})
    assert st == 400, body
    st, _, body = http(env.campusd.http_port, "POST", "/api/reviews/" + ids["plan"],
                       body=json.dumps({"points": 4, "comment": "Thin."}),
                       headers={"Authorization": "Bearer " + tok})
    assert st == 200, body
    assert task_of(record("rhea", EX), "plan")["score"] == 40


def test_http_rubric_grade_and_its_refusals():
    c = learner("hugo")
    assert submit(c, EX, ANSWER).code == 200
    t, tok = trainer("hana")
    ids = queued(t, "hugo")
    auth = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
    port = env.campusd.http_port
    for body in ({"levels": {"analysis": 4}}, {"levels": {"analysis": 4, "action": 1}},
                 {"points": 5, "levels": {"analysis": 4}}, {"levels": "analysis 4"}, {}):
        st, _, out = http(port, "POST", "/api/reviews/" + ids["essay"], body=json.dumps(body),
                          headers=auth)
        assert st == 400, (body, st, out)
    st, _, out = http(port, "POST", "/api/reviews/" + ids["essay"],
                      body=json.dumps({"levels": {"analysis": 4, "action": 3},
                                       "comments": {"action": "Name who leads it."},
                                       "comment": "Well argued."}), headers=auth)
    assert st == 200, out
    g = task_of(record("hugo", EX), "essay")
    assert g["score"] == 70 and g["comment"] == "Well argued.", g
    assert {x["criterion"]: x["comment"] for x in g["levels"]}["action"] == "Name who leads it."


def test_provisional_until_confirmed_and_reviews_new():
    c = learner("pia")
    r = submit(c, EX, ANSWER)
    assert r.code == 200
    assert "why provisional 100.0" in r.body.decode(), r.body
    g = task_of(record("pia", EX), "why")
    assert g["provisional"] and g["pending"] and g["score"] == 0 and g["suggested"] == 100, g
    rows = c.request("ATTEMPTS " + EX).rows()
    assert rows[0]["result"] == "pending"          # review tasks wait too
    t, tok = trainer("tara")
    ids = queued(t, "pia")
    shown = t.request("REVIEW SHOW " + ids["why"]).body.decode()
    assert "Suggested by the grader: 4 of 4 points (100.0%)" in shown, shown
    assert "Evidence the grader matched:" in shown and "shared inputs" in shown, shown
    assert "Both concepts must be argued" in shown
    # confirm is only for a suggestion; a review task has none.
    assert t.request("REVIEW GRADE %s confirm" % ids["plan"]).code == 400
    r = t.request('REVIEW GRADE %s 10 "Fine plan."' % ids["plan"])
    assert r.code == 200
    r = literal(t, "REVIEW GRADE %s rubric" % ids["essay"], "analysis 4\naction 6\n")
    assert r.code == 200
    rows = c.request("ATTEMPTS " + EX).rows()
    assert rows[0]["result"] == "provisional", rows
    text = c.request("ATTEMPTS %s 1" % EX).body.decode()
    assert "why provisional 100.0" in text, text
    # The count of new reviews: LOGIN and WHOAMI of a new session, /api/me.
    c2 = env.campusd.client()
    r = c2.request('LOGIN pia "%s"' % PASSWORD)
    assert r.kv()["reviews-new"] == "0", r.kv()     # ATTEMPTS above read them
    r = t.request('REVIEW GRADE %s confirm "Well argued."' % ids["why"])
    assert r.code == 200, r
    g = task_of(record("pia", EX), "why")
    assert g["score"] == 100 and not g["pending"] and g["confirmed"] and "provisional" not in g, g
    rec = record("pia", EX)
    assert rec["pending"] == 0 and rec["passed"] and rec["score"] == 100, rec
    r = c2.request('LOGIN pia "%s"' % PASSWORD)
    assert r.kv()["reviews-new"] == "1", r.kv()
    assert c2.request("WHOAMI").kv()["reviews-new"] == "1"
    st, _, body = http(env.campusd.http_port, "GET", "/api/me",
                       headers={"Authorization": "Bearer " + token_of(r)})
    assert st == 200 and json.loads(body)["data"]["reviews-new"] == "1", body
    rows = c2.request("ATTEMPTS " + EX).rows()
    assert rows[0]["result"] == "passed" and "why: Well argued." in rows[0]["comment"], rows
    assert c2.request("WHOAMI").kv()["reviews-new"] == "0"


def quiz_key(c, ex):
    """The option letter of the right answer in this learner's next view."""
    view = c.request("EXERCISE " + ex).body.decode()
    m = re.search(r"^\s*([a-z])[).]\s*(Rome|Paris|Madrid)\b", view, re.M)
    assert m, view
    return "q1", m.group(1), view


def wrong_option(view, right):
    letters = re.findall(r"^\s*([a-z])[).]\s", view, re.M)
    return [l for l in letters if l != right][0]


def test_default_show_policy_keys_only_after_pass_or_last_attempt():
    ex = "assess/quiz-defaults"
    c = learner("quinn")
    tid, right, view = quiz_key(c, ex)
    r = submit(c, ex, "%s: %s\n" % (tid, wrong_option(view, right)))
    assert r.code == 200 and "failed" in r.text
    body = r.body.decode()
    assert "No, " in body, body                         # per-task feedback after each attempt
    assert "answer:" not in body and "Rome" not in body, body   # never the key before
    tid, right, view = quiz_key(c, ex)
    r = submit(c, ex, "%s: %s\n" % (tid, wrong_option(view, right)), key="second")
    assert r.code == 200 and "attempt=2" in r.text and "left=0" in r.text, r
    assert "answer: " in r.body.decode() and "Rome" in r.body.decode(), r.body   # the last shows it
    # HTTP for a second learner: no key in the JSON of a failed first attempt.
    c2 = learner("quentin")
    tid, right, view = quiz_key(c2, ex)
    tok = token_of(c2.request('LOGIN quentin "%s"' % PASSWORD))
    st, _, out = http(env.campusd.http_port, "POST", "/api/exercises/assess/quiz-defaults/submit",
                      body=json.dumps({"answers": {tid: wrong_option(view, right)}}),
                      headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    assert st == 200, out
    assert '"key"' not in out.decode() and "Rome" not in out.decode(), out


def test_show_score_hides_feedback_until_the_last_attempt():
    ex = "assess/quiz-score"
    c = learner("sam")
    tid, right, view = quiz_key(c, ex)
    r = submit(c, ex, "%s: %s\n" % (tid, wrong_option(view, right)))
    body = r.body.decode()
    assert r.code == 200 and "q1 0.0" in body, body
    assert "Lyon" not in body and "No, " not in body and "Paris" not in body, body
    assert "gastronomic" not in c.request("ATTEMPTS %s 1" % ex).body.decode()
    tid, right, view = quiz_key(c, ex)
    r = submit(c, ex, "%s: %s\n" % (tid, wrong_option(view, right)), key="second")
    assert "attempt=2" in r.text, r
    assert "Paris)" in r.body.decode() and "gastronomic" in r.body.decode(), r.body


def test_show_when_attempt_shows_keys_at_once():
    ex = "assess/quiz-keys"
    c = learner("kim")
    tid, right, view = quiz_key(c, ex)
    r = submit(c, ex, "%s: %s\n" % (tid, wrong_option(view, right)))
    assert r.code == 200 and "answer: " in r.body.decode() and "Madrid)" in r.body.decode(), r.body


def test_a_passed_quiz_counts_as_done():
    ex = "assess/quiz-keys"
    c = learner("dora")
    outline = {x["lesson"]: x["done"] for x in c.request("COURSE assess").rows()}
    assert outline[ex] == "no"
    before = c.request("PROGRESS assess").text
    assert "0 of 5 lessons done" in before, before
    tid, right, _ = quiz_key(c, ex)
    r = submit(c, ex, "%s: %s\n" % (tid, right))
    assert r.code == 200 and "passed" in r.text, r
    outline = {x["lesson"]: x["done"] for x in c.request("COURSE assess").rows()}
    assert outline[ex] == "passed" and outline["assess/reading"] == "no", outline
    assert "1 of 5 lessons done" in c.request("PROGRESS assess").text
    # NEXT skips it: reading, plan, the two other quizzes, never quiz-keys.
    seen = []
    for _ in range(6):                                  # bounded: five lessons
        nxt = c.request("NEXT assess").kv()
        if not nxt.get("lesson"):
            break
        seen.append(nxt["lesson"])
        assert nxt["lesson"] != ex, seen
        assert c.request("DONE " + nxt["lesson"]).code == 200
    assert ex not in seen and len(seen) == 4, seen


def test_learner_views_never_hold_the_marking_guide():
    c = learner("lea")
    secrets = ["named lead actor", "supplier survey", "Builds the choice on the diagnosis",
               "Both concepts must be argued", "learn from each other", "common supplier"]
    out = c.request("EXERCISE " + EX).body.decode()
    out += c.request("EXERCISE %s json" % EX).body.decode()
    out += c.request("READ assess/plan-case").body.decode()
    r = submit(c, EX, "plan: x\nessay: y\nwhy: z\n")
    out += r.body.decode()
    out += c.request("ATTEMPTS %s 1" % EX).body.decode()
    for s in secrets:
        assert s not in out, s

def test_http_review_show_gives_each_part_for_a_page_to_lay_out():
    c = learner("ines")
    assert submit(c, EX, ANSWER).code == 200
    t, tok = trainer("ivo")
    ids = queued(t, "ines")
    auth = {"Authorization": "Bearer " + tok}
    port = env.campusd.http_port
    st, _, body = http(port, "GET", "/api/reviews/" + ids["plan"], headers=auth)
    assert st == 200, body
    d = json.loads(body)["data"]
    assert (d["task"], d["points"], d["learner"], d["exercise"], d["attempt"]) == \
        ("plan", "10", "ines", EX, 1), d
    assert d["title"] == "Case: a plan" and d["prompt"] == "Write a one-paragraph plan.", d
    assert d["answer"] == "The forum meets in March.", d
    assert d["guide"] == "Look for a named lead actor and a date for each action.", d
    assert d["model"].startswith("The municipality leads the forum"), d
    assert "rubric" not in d and "suggested" not in d, d
    # A rubric task: its criteria and levels, with their points.
    st, _, body = http(port, "GET", "/api/reviews/" + ids["essay"], headers=auth)
    rubric = json.loads(body)["data"]["rubric"]
    assert [(x["id"], x["max"]) for x in rubric] == [("analysis", 4), ("action", 6)], rubric
    assert rubric[0]["levels"][1] == {"points": 2, "text": "Mentions the diagnosis"}, rubric
    # A provisional machine score: the grader's suggestion on the task's scale.
    st, _, body = http(port, "GET", "/api/reviews/" + ids["why"], headers=auth)
    assert json.loads(body)["data"]["suggested"] == "4", body
    # CTP carries the same as text, unchanged, and no learner sees any of it.
    assert "Marking guide:\nLook for a named lead actor" in t.request("REVIEW SHOW " + ids["plan"]).body.decode()
    ltok = token_of(c.request('LOGIN ines "%s"' % PASSWORD))
    st, _, body = http(port, "GET", "/api/reviews/" + ids["plan"], headers={"Authorization": "Bearer " + ltok})
    assert st == 403, body


def test_attempts_counts_one_attempt_in_the_singular():
    c = learner("uma")
    assert submit(c, EX, ANSWER).code == 200
    assert c.request("ATTEMPTS " + EX).text.startswith("1 attempt, 2 left, counted score"), \
        c.request("ATTEMPTS " + EX).text
    assert submit(c, EX, ANSWER.replace("March", "May")).code == 200
    assert c.request("ATTEMPTS " + EX).text.startswith("2 attempts, 1 left"), c.request("ATTEMPTS " + EX).text


if __name__ == "__main__":
    harness.main(globals())
