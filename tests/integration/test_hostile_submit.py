"""Hostile SUBMITs over real sockets against a real Redis: over-long answers
are refused (413) before an attempt is used and a learner's stored bytes stay
within the documented bound; a SUBMIT whose reply Redis never delivered in
time is retried without using another attempt; a review entry whose queue
write failed is queued by the repair pass; fifty concurrent SUBMITs of one
learner store the attempt numbers they answer."""

import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time

import harness
from harness import Env, wait_for

PASSWORD = "a long enough password"
ANSWER_MAX = 16384
TASK_ANSWER_MAX = 2048
PLAN_MAX = 12000          # the essay task's own max_bytes
ATTEMPTS_MAX = 10
STORE_TIMEOUT_MS = 1000

ESSAY = "demo/essay"      # attempts: 0, so attempts_max applies
TALLY = "demo/tally"      # attempts: 3

env = None
courses = None


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def setup():
    global env, courses
    courses = tempfile.mkdtemp(prefix="campus-hostile-courses-")
    shutil.copytree(os.path.join(harness.FIXTURES, "courses-good", "demo"),
                    os.path.join(courses, "demo"))
    cases = os.path.join(courses, "demo", "02-cases")
    write(os.path.join(cases, "02-essay.case.md"),
          "---\ntitle: A plan for the cooperative\nminutes: 10\nattempts: 0\npass: 60\n---\n\n"
          "The cooperative needs a plan.\n\n"
          "```task\nid: plan\ntype: review\nprompt: Write the plan.\npoints: 10\n"
          "max_bytes: %d\n```\n\n"
          "```task\nid: note\ntype: review\nprompt: A short note to the board.\npoints: 5\n```\n\n"
          "```task\nid: count\ntype: numeric\nprompt: How many members are there?\nanswer: 42\n```\n"
          % PLAN_MAX)
    write(os.path.join(cases, "03-tally.case.md"),
          "---\ntitle: Tally\nminutes: 5\nattempts: 3\npass: 60\n---\n\nCount them.\n\n"
          "```task\nid: count\ntype: numeric\nprompt: How many members are there?\nanswer: 42\n```\n")
    try:
        env = Env(courses=courses,
                  extra=["--answer-max", str(ANSWER_MAX), "--task-answer-max", str(TASK_ANSWER_MAX),
                         "--attempts-max", str(ATTEMPTS_MAX),
                         "--store-timeout-ms", str(STORE_TIMEOUT_MS),
                         "--review-repair-interval", "1"])
    except Exception:
        shutil.rmtree(courses, ignore_errors=True)
        raise


def teardown():
    try:
        env.close()
    finally:
        shutil.rmtree(courses, ignore_errors=True)


def learner(name):
    c = env.campusd.client()
    assert c.request('REGISTER %s "%s"' % (name, PASSWORD)).code == 201
    r = c.request('LOGIN %s "%s"' % (name, PASSWORD))
    assert r.code == 200, r
    token = [l.split("\t")[1] for l in r.body.decode().split("\n") if l.startswith("token\t")][0]
    return c, token


def submit(c, ex, doc, key=None):
    data = doc if isinstance(doc, bytes) else doc.encode()
    line = b"SUBMIT %s%s {%d}\r\n" % (ex.encode(), b" " + key.encode() if key else b"", len(data))
    c.send(line + data)
    return c.read_response()


def essay(body_len, note="A note.", tag=""):
    """An answer document whose plan answer is body_len bytes of prose."""
    words = ("the cooperative buys seed together and sells oil to the town " * 400)
    plan = (tag + words)[:body_len - 1] + "."
    return "count: 42\nplan: %s\nnote: %s\n" % (plan, note)


def llen(user, ex):
    return int(env.redis.cmd("LLEN", "campus:{u:%s}:attempts:%s" % (user, ex))[1:])


def records(user, ex):
    out = []
    for i in range(llen(user, ex)):
        out.append(json.loads(env.redis.cmd("LINDEX", "campus:{u:%s}:attempts:%s" % (user, ex), i)))
    return out


def resp_array(*args):
    """A RESP array reply of bulk strings (KEYS, HKEYS ...), as a list."""
    import socket
    s = socket.create_connection(("127.0.0.1", env.redis.port), timeout=5)
    try:
        s.sendall(harness.resp_encode(*args))
        f = s.makefile("rb")
        head = f.readline().rstrip(b"\r\n")
        assert head.startswith(b"*"), head
        items = []
        for _ in range(int(head[1:])):
            n = int(f.readline().rstrip(b"\r\n")[1:])
            items.append(f.read(n + 2)[:-2].decode())
        return items
    finally:
        s.close()


def learner_bytes(user):
    """Every key of the learner and the bytes Redis says each takes."""
    keys = resp_array("KEYS", "campus:{u:%s}:*" % user)
    return {k: int(env.redis.cmd("MEMORY", "USAGE", k, "SAMPLES", "0")[1:]) for k in keys}


# ---- 4: bounded answers ----

def test_whole_answer_over_answer_max_is_413_and_uses_no_attempt():
    c, _ = learner("bigdoc")
    r = submit(c, ESSAY, "count: 42\n" + "".join("# filler line %d\n" % i for i in range(2000)))
    assert r.code == 413 and "answer too large" in r.text and str(ANSWER_MAX) in r.text, r
    assert llen("bigdoc", ESSAY) == 0
    assert c.request("ATTEMPTS " + ESSAY).rows() == []
    assert c.request("PING").code == 200        # the connection goes on


def test_one_task_over_its_limit_is_413_naming_it():
    c, _ = learner("bigtask")
    # note: no max_bytes of its own, so task_answer_max
    r = submit(c, ESSAY, "count: 42\nnote: " + "n" * (TASK_ANSWER_MAX + 1) + "\n")
    assert r.code == 413 and "note" in r.text and str(TASK_ANSWER_MAX) in r.text, r
    # plan: its max_bytes lets it past task_answer_max, but not past its own
    r = submit(c, ESSAY, essay(PLAN_MAX + 1))
    assert r.code == 413 and "plan" in r.text and str(PLAN_MAX) in r.text, r
    assert llen("bigtask", ESSAY) == 0
    assert c.request("ATTEMPTS " + ESSAY).rows() == []
    r = submit(c, ESSAY, essay(PLAN_MAX))
    assert r.code == 200 and "attempt=1" in r.text, r


def test_control_characters_are_400_and_use_no_attempt():
    c, _ = learner("ctl")
    for bad in (b"count: 42\nnote: a\x01b\n", b"count: 42\nnote: a\x00b\n", b"note: \x1b[2J\n"):
        r = submit(c, ESSAY, bad)
        # A NUL is refused by the dispatcher for every argument, the rest
        # by SUBMIT itself: either way a 400 that says which.
        assert r.code == 400 and ("control character" in r.text or "NUL" in r.text), (bad, r)
    # Quotes, backslashes and tabs are answers like any other.
    r = submit(c, ESSAY, 'count: 42\nnote: "quoted" back\\slash\ttab\n')
    assert r.code == 200, r
    assert llen("ctl", ESSAY) == 1


def test_submit_to_no_exercise_is_404_and_the_connection_goes_on():
    c, _ = learner("nowhere")
    for key in (None, "k-1"):
        r = submit(c, "demo/nothing", "count: 42\n", key=key)
        assert r.code == 404 and "demo/nothing" in r.text, r
        assert c.request("PING").code == 200


def test_http_submit_over_answer_max_is_413():
    c, token = learner("bighttp")
    st, _, body = harness.http(env.campusd.http_port, "POST", "/api/exercises/demo/essay/submit",
                               body=json.dumps({"answers": {"count": "42", "plan": "p" * ANSWER_MAX}}),
                               headers={"Authorization": "Bearer " + token,
                                        "Content-Type": "application/json"})
    assert st == 413, (st, body)
    assert llen("bighttp", ESSAY) == 0


def test_learner_storage_stays_within_the_bound():
    c, _ = learner("hoard")
    # Every attempt at its largest: the plan at its max_bytes, the note at
    # task_answer_max, all under answer_max; different each time.
    # Between them, a 256 KiB answer each time, refused.
    codes, refused = [], []
    for i in range(ATTEMPTS_MAX + 5):
        refused.append(submit(c, ESSAY, "count: 42\nnote: %d %s\n" % (i, "y" * (256 << 10))).code)
        doc = essay(PLAN_MAX, note="x" * (TASK_ANSWER_MAX - 8) + "%08d" % i, tag="%d " % i)
        assert len(doc.encode()) <= ANSWER_MAX
        codes.append(submit(c, ESSAY, doc).code)
    assert refused == [413] * (ATTEMPTS_MAX + 5), refused
    assert codes == [200] * ATTEMPTS_MAX + [409] * 5, codes
    assert llen("hoard", ESSAY) == ATTEMPTS_MAX
    used = learner_bytes("hoard")
    # docs/OPERATIONS.md: an attempt takes at most 2 x answer_max plus
    # 4 KiB (quotes and backslashes escaped, the tasks' feedback, its
    # submission key); the other keys of a learner under 1 MiB. Plain text
    # answers like these stay close to answer_max per attempt.
    attempts = used["campus:{u:hoard}:attempts:" + ESSAY]
    assert attempts <= ATTEMPTS_MAX * (ANSWER_MAX + 2048), used
    assert sum(used.values()) <= ATTEMPTS_MAX * (2 * ANSWER_MAX + 4096) + (1 << 20), used
    # Submission keys and review markers: one per attempt (two review tasks).
    assert len([k for k in used if ":submit:" in k]) == ATTEMPTS_MAX, used


# ---- 6: a lost reply, and the review entry ----

def info_calls(cmd):
    text = env.redis.cmd("INFO", "commandstats").decode()
    m = re.search(r"cmdstat_%s:calls=(\d+)" % cmd, text)
    return int(m.group(1)) if m else 0


def test_lost_reply_then_retry_uses_one_attempt():
    c, _ = learner("lost")
    doc = "count: 41\n"
    rpid = env.redis.proc.pid
    llen_before = info_calls("llen")
    # Redis stops; SUBMIT's first command waits in Redis's socket.
    os.kill(rpid, signal.SIGSTOP)
    try:
        data = doc.encode()
        c.send(b"SUBMIT %s {%d}\r\n" % (TALLY.encode(), len(data)) + data)
        time.sleep(0.2)
        # SUBMIT reaches Redis one command at a time (the session check,
        # the cohort gate, LLEN, then the attempt script), each sent once the
        # one before is answered. Let Redis run while campusd is stopped, so
        # it answers the command waiting and its reply waits in campusd's
        # socket; then stop Redis and let campusd send the next. Once LLEN
        # has run, the next command campusd sends is the attempt script.
        for _ in range(10):
            env.campusd.signal(signal.SIGSTOP)
            os.kill(rpid, signal.SIGCONT)
            time.sleep(0.15)
            ran = info_calls("llen") > llen_before
            os.kill(rpid, signal.SIGSTOP)
            env.campusd.signal(signal.SIGCONT)
            if ran:
                break
            time.sleep(0.15)
        assert ran, "LLEN never ran"
        # campusd grades and sends the script into the stopped Redis; past
        # store_timeout_ms it gives up on the reply.
        t0 = time.time()
        r = c.read_response()
        assert r.code == 503, r
        assert time.time() - t0 >= STORE_TIMEOUT_MS / 1000.0 * 0.5
    finally:
        os.kill(rpid, signal.SIGCONT)
        env.campusd.signal(signal.SIGCONT)
    # The script ran all the same once Redis went on: the attempt is stored.
    wait_for(lambda: llen("lost", TALLY) == 1, timeout=10, what="the lost attempt stored")
    wait_for(env.campusd.store_up, timeout=15, what="campusd store up again")
    stored = records("lost", TALLY)[0]
    r1 = submit(c, TALLY, doc)
    assert r1.code == 200 and "attempt=1 " in r1.text and "left=2" in r1.text, r1
    assert ("score=%.1f" % stored["score"]) in r1.text, (r1, stored)
    r2 = submit(c, TALLY, doc)
    assert (r2.code, r2.text, r2.body) == (r1.code, r1.text, r1.body)
    rows = c.request("ATTEMPTS " + TALLY).rows()
    assert len(rows) == 1 and rows[0]["attempt"] == "1", rows
    assert llen("lost", TALLY) == 1
    # Another answer is another attempt.
    r = submit(c, TALLY, "count: 42\n")
    assert r.code == 200 and "attempt=2 " in r.text and "passed" in r.text, r


def test_submission_key_names_the_submission():
    c, _ = learner("keyed")
    r1 = submit(c, TALLY, "count: 40\n", key="k-1")
    assert r1.code == 200 and "attempt=1 " in r1.text, r1
    r2 = submit(c, TALLY, "count: 40\n", key="k-1")
    assert (r2.code, r2.text) == (200, r1.text), r2
    # The same key with another answer is refused, and uses nothing.
    r = submit(c, TALLY, "count: 42\n", key="k-1")
    assert r.code == 409 and "another answer" in r.text, r
    # Another key with the same answer is a new attempt.
    r = submit(c, TALLY, "count: 40\n", key="k-2")
    assert r.code == 200 and "attempt=2 " in r.text, r
    assert submit(c, TALLY, "count: 40\n", key="bad key!").code == 400
    assert submit(c, TALLY, "count: 40\n", key="k" * 65).code == 400
    assert llen("keyed", TALLY) == 2
    # HTTP: "key" in the body is the same key.
    _, token = learner("keyweb")
    auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    bodies = []
    for _ in range(2):
        st, _, body = harness.http(env.campusd.http_port, "POST", "/api/exercises/demo/tally/submit",
                                   body=json.dumps({"answers": {"count": "42"}, "key": "web-1"}),
                                   headers=auth)
        assert st == 200, body
        bodies.append(json.loads(body)["data"]["attempt"])
    assert bodies == [1, 1] and llen("keyweb", TALLY) == 1


def trainer():
    import subprocess
    if env.redis.cmd("EXISTS", "campus:{u:tina}:account") == b":1":
        t = env.campusd.client()
        assert t.request('LOGIN tina "%s"' % PASSWORD).code == 200
        return t
    harness.add_user(env.redis.port, "tina", "trainer", PASSWORD, data=env.campusd.data)
    t = env.campusd.client()
    assert t.request('LOGIN tina "%s"' % PASSWORD).code == 200
    return t


def test_failed_review_write_is_repaired_and_graded_once():
    c, _ = learner("rev")
    t = trainer()
    # The queue refuses writes (an ACL on the {reviews} keys): the attempt
    # is stored, with its markers, and the answer is still a 200.
    assert env.redis.cmd("ACL", "SETUSER", "default", "resetkeys", "~campus:{u:*", "~campus:{a:*",
                         "~campus:meta", "~campus:users") == b"+OK"
    try:
        r = submit(c, ESSAY, essay(200))
        assert r.code == 200 and "pending-review" in r.text, r
        assert llen("rev", ESSAY) == 1
        markers = resp_array("HKEYS", "campus:{u:rev}:reviews-pending")
        assert sorted(markers) == ["%s 1 note" % ESSAY, "%s 1 plan" % ESSAY], markers
    finally:
        assert env.redis.cmd("ACL", "SETUSER", "default", "allkeys") == b"+OK"
    # The repair pass (every second here) queues both, once.
    def queued():
        rows = [x for x in t.request("REVIEW LIST demo").rows() if x["learner"] == "rev"]
        return rows if len(rows) == 2 else None
    rows = wait_for(queued, timeout=10, what="the repair pass")
    assert sorted(x["task"] for x in rows) == ["note", "plan"]
    wait_for(lambda: env.redis.cmd("EXISTS", "campus:{u:rev}:reviews-pending") == b":0",
             timeout=10, what="markers cleared")
    time.sleep(1.5)   # another pass: nothing queued twice
    assert len([x for x in t.request("REVIEW LIST demo").rows() if x["learner"] == "rev"]) == 2
    for row in rows:
        r = t.request('REVIEW GRADE %s 4 "Fine."' % row["id"])   # on the tasks' points (10 and 5)
        assert r.code == 200 and "graded" in r.text, r
    assert [x for x in t.request("REVIEW LIST demo").rows() if x["learner"] == "rev"] == []
    for task in ("note", "plan"):
        assert env.redis.cmd("HEXISTS", "campus:{reviews}:by-attempt",
                             "rev %s 1 %s" % (ESSAY, task)) == b":0"
    rec = records("rev", ESSAY)[0]
    assert rec["pending"] == 0 and all(not x["pending"] for x in rec["tasks"]), rec


def test_review_entries_are_written_when_the_queue_is_up():
    c, _ = learner("revok")
    t = trainer()
    r = submit(c, ESSAY, essay(100))
    assert r.code == 200 and "pending-review" in r.text, r
    rows = [x for x in t.request("REVIEW LIST demo").rows() if x["learner"] == "revok"]
    assert sorted(x["task"] for x in rows) == ["note", "plan"], rows
    wait_for(lambda: env.redis.cmd("EXISTS", "campus:{u:revok}:reviews-pending") == b":0",
             timeout=5, what="markers cleared")


# ---- 7: concurrent SUBMITs ----

def test_fifty_concurrent_submits_store_the_numbers_they_answer():
    c0, token = learner("crowd")
    conns = []
    for _ in range(50):
        c = env.campusd.client()
        assert c.request("AUTH " + token).code == 200
        conns.append(c)
    barrier = threading.Barrier(50)
    answers = {}

    def go(i, c):
        doc = b"# answer %d\ncount: %d\n" % (i, i)
        barrier.wait(10)
        c.send(b"SUBMIT %s {%d}\r\n" % (ESSAY.encode(), len(doc)) + doc)
        answers[i] = c.read_response()

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(conns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert len(answers) == 50
    ok = {i: r for i, r in answers.items() if r.code == 200}
    assert len(ok) == ATTEMPTS_MAX, [(r.code, r.text) for r in answers.values()]
    assert all(r.code == 409 for i, r in answers.items() if i not in ok)
    said = {}
    for i, r in ok.items():
        said[int(re.search(r"attempt=(\d+) ", r.text).group(1))] = i
    assert sorted(said) == list(range(1, ATTEMPTS_MAX + 1)), said
    recs = records("crowd", ESSAY)
    assert [x["n"] for x in recs] == list(range(1, ATTEMPTS_MAX + 1)), [x["n"] for x in recs]
    # Each stored record is the answer that was told its number.
    for rec in recs:
        count = [x for x in rec["tasks"] if x["id"] == "count"][0]["response"]
        assert count == str(said[rec["n"]]), (rec["n"], count, said)
    for c in conns:
        c.close()


if __name__ == "__main__":
    harness.main(globals())
