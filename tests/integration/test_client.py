"""campus, the terminal client, run as a real binary against a real campusd
and a real redis-server: every subcommand's output and exit status when
piped; the shell, the password prompt, colour and the pager under a
pseudo-terminal; TLS (STARTTLS, TLS from the first byte, pinning); the
offline cache and the DONE queue replayed when the server comes back; a
server killed mid-command, and one reconnect."""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time

import harness
from harness import CAMPUS, Campusd, Env, Pty

PASSWORD = "correct horse battery"

env = None
homes = []


def setup():
    global env
    env = Env()


def teardown():
    for h in homes:
        shutil.rmtree(h, ignore_errors=True)
    env.close()


def server(d=None):
    d = d or env.campusd
    return "127.0.0.1:%d" % d.text_port


class Home(harness.Home):
    """A fresh $HOME with its own XDG directories: one user's machine."""

    def __init__(self, srv=None):
        super().__init__(srv or server())
        homes.append(self.dir)


_names = [0]


def learner(home=None):
    """A Home logged in as a new learner (registered through campus)."""
    home = home or Home()
    _names[0] += 1
    name = "learner%d" % _names[0]
    out, _ = home.ok("register", name, "--password-stdin", input=PASSWORD + "\n")
    assert "registered %s as learner" % name in out and "logged in as %s" % name in out, out
    home.name = name
    return home


def raw_read(lesson, *extra):
    cl = env.campusd.client()
    try:
        return cl.request(("READ %s text " % lesson + " ".join(extra)).strip())
    finally:
        cl.close()


# ---- help, usage, exit statuses ----

def test_help_documents_exit_statuses():
    h = Home()
    out, _ = h.ok("--help")
    assert "usage: campus" in out
    for line in ("0  success", "1  the server refused", "2  usage error",
                 "3  cannot connect", "4  not logged in"):
        assert line in out, out
    for cmd in ("courses", "course ID", "read [COURSE/LESSON]", "exercise COURSE/ID",
                "submit COURSE/ID FILE", "sync COURSE", "login [SERVER]", "search WORDS"):
        assert cmd in out, cmd
    out, _ = h.ok("help", "read")
    assert out.startswith("usage: campus read [COURSE/LESSON] [--width N] [--stats]"), out


def test_usage_errors_exit_2():
    h = Home()
    rc, out, err = h.run("frobnicate")
    assert rc == 2 and "unknown command 'frobnicate'" in err, (rc, err)
    rc, _, err = h.run("course")
    assert rc == 2 and err.strip() == "usage: campus course ID", err
    rc, _, err = h.run("read", "--bogus")
    assert rc == 2 and "unknown option --bogus" in err, err
    rc, _, err = h.run("--nonsense")
    assert rc == 2, rc
    rc, _, err = h.run("user", "explode", "x")
    assert rc == 2 and "usage: campus user" in err, err


# ---- catalogue, piped: stable, tab-separated, no header, no colour ----

def test_courses_piped_is_plain_tsv():
    h = Home()
    out, err = h.ok("courses")
    assert out == "demo\tDemo course\t2\t3\t55\t-\t-\n", repr(out)  # prerequisites, programmes
    assert "\033" not in out
    # campus courses | cut -f1
    p = subprocess.run("%s courses | cut -f1" % CAMPUS, shell=True, env=h.env,
                       stdout=subprocess.PIPE, check=True)
    assert p.stdout == b"demo\n"


def test_course_outline_piped_and_errors():
    h = Home()
    out, _ = h.ok("course", "demo")
    rows = [l.split("\t") for l in out.splitlines()]
    assert [r[1] for r in rows] == ["demo/welcome", "demo/lists", "demo/market"], rows
    assert rows[2][4] == "case" and rows[1][4] == "quiz"
    rc, out, err = h.run("course", "nope")
    assert rc == 1 and out == "" and err == "campus: 404 no course 'nope'\n", (rc, err)
    rc, _, err = h.run("course", "../etc")
    assert rc == 1 and err.startswith("campus: 400 "), err


def test_read_piped_is_the_server_text():
    h = Home()
    out, _ = h.ok("read", "demo/welcome")
    assert out.encode() == raw_read("demo/welcome").body
    out, _ = h.ok("read", "demo/welcome", "--width", "40")
    assert out.encode() == raw_read("demo/welcome", "40").body
    assert max(len(l) for l in out.splitlines() if not l.startswith("    ")) <= 40
    rc, _, err = h.run("read", "demo/nothing")
    assert rc == 1 and err == "campus: 404 no lesson 'demo/nothing'\n", err


def test_read_notices_prerequisites_not_done():
    h = learner()
    out, err = h.ok("read", "demo/lists")
    assert "campus: this lesson builds on demo/welcome, not done yet" in err, err
    assert out.encode() == raw_read("demo/lists").body      # shown all the same
    h.ok("done", "demo/welcome")
    _, err = h.ok("read", "demo/lists")
    assert "builds on" not in err, err


def test_read_stats_counts_bytes():
    h = Home()
    out, err = h.ok("read", "demo/welcome", "--stats")
    m = re.search(r"read demo/welcome: (\d+) bytes sent, (\d+) bytes received, 1 connection \(TLS\)",
                  err)
    assert m, err
    sent, got = int(m.group(1)), int(m.group(2))
    assert got > len(out.encode()) and 0 < sent < got, (sent, got)
    # Without TLS or compression the count is the CTP/1 bytes themselves.
    out, err = h.ok("--no-tls", "--no-compress", "read", "demo/welcome", "--stats")
    m = re.search(r"(\d+) bytes sent, (\d+) bytes received, 1 connection\n", err)
    assert m, err
    status = "200 demo/welcome version="
    assert int(m.group(2)) > len(out.encode()) + len(status) + len("200 campusd CTP/1 ready\r\n")


def test_search_piped():
    h = Home()
    out, _ = h.ok("search", "café", "market")
    first = out.splitlines()[0].split("\t")
    assert first[0] == "demo/market" and first[1] == "The café market of Dúrcal", first
    out, _ = h.ok("search", "zzzqqqxxx")
    assert out == ""


def test_call_sends_a_raw_request():
    h = Home()
    out, err = h.ok("call", "ECHO", "two words")
    assert out == "two words" and err.splitlines()[-1] == "200 echo", (out, err)
    rc, out, err = h.run("call", "FROB")
    assert rc == 1 and "400 unknown verb 'FROB'" in err, err


# ---- accounts and sessions ----

def test_not_logged_in_exits_4():
    h = Home()
    for args in (("whoami",), ("next",), ("progress",), ("done", "demo/welcome"),
                 ("exercise", "demo/market"), ("logout",), ("attempts", "demo/market")):
        rc, out, err = h.run(*args)
        assert rc == 4, (args, rc, err)
        lines = [l for l in err.splitlines() if "trusting it from now on" not in l]
        assert "log" in err and 1 <= len(lines) <= 2, (args, err)
    rc, _, err = h.run("read")
    assert rc == 4 and "not logged in" in err, err


def test_register_login_whoami_logout():
    h = learner()
    session = os.path.join(h.env["XDG_CONFIG_HOME"], "campus", "session")
    assert os.stat(session).st_mode & 0o777 == 0o600
    text = open(session).read()
    assert "server\t%s\n" % server() in text and "user\t%s\n" % h.name in text and "token\t" in text
    out, _ = h.ok("whoami")
    assert out == "%s\tlearner\n" % h.name, out
    out, _ = h.ok("logout")
    assert out == "logged out\n"
    assert "token" not in open(session).read()
    rc, _, _ = h.run("whoami")
    assert rc == 4
    # A wrong password is a refusal (1), and saves nothing.
    rc, out, err = h.run("login", "--user", h.name, "--password-stdin", input="wrong password!\n")
    assert rc == 1 and "401 wrong name or password" in err, (rc, err)
    assert "token" not in open(session).read()
    out, _ = h.ok("login", "--user", h.name, "--password-stdin", input=PASSWORD + "\n")
    assert out == "logged in as %s (learner) at %s\n" % (h.name, server()), out
    # Register with a name that is taken: 409 is a refusal.
    rc, _, err = h.run("register", h.name, "--password-stdin", input=PASSWORD + "\n")
    assert rc == 1 and "409" in err, err


def test_session_ended_on_the_server_exits_4():
    h = learner()
    token = open(os.path.join(h.env["XDG_CONFIG_HOME"], "campus", "session")).read()
    token = re.search(r"token\t(\S+)", token).group(1)
    cl = env.campusd.client()
    assert cl.request("AUTH %s" % token).code == 200
    assert cl.request("LOGOUT").code == 200
    cl.close()
    rc, _, err = h.run("progress")
    assert rc == 4 and "401" in err, (rc, err)
    rc, _, err = h.run("whoami")
    assert rc == 4, rc


def test_passwd_keeps_the_session():
    h = learner()
    new = "another horse battery"
    out, _ = h.ok("passwd", "--password-stdin", input="%s\n%s\n" % (PASSWORD, new))
    assert "password changed" in out
    out, _ = h.ok("whoami")
    assert out.startswith(h.name + "\t")
    rc, _, err = h.run("passwd", "--password-stdin", input="not it at all\n%s\n" % new)
    assert rc == 1 and "wrong password" in err, err


def test_server_resolution_order():
    dead = "127.0.0.1:%d" % harness.free_port()
    h = Home(srv=dead)
    rc, out, err = h.run("courses")
    assert rc == 3 and out == "" and err.startswith("campus: cannot connect to 127.0.0.1:"), err
    assert len(err.splitlines()) == 1
    out, _ = h.ok("--server", server(), "courses")           # --server beats CAMPUS_SERVER
    assert out.startswith("demo\t")
    # login SERVER saves it; without CAMPUS_SERVER it is used next time.
    del h.env["CAMPUS_SERVER"]
    _names[0] += 1
    name = "resolve%d" % _names[0]
    cl = env.campusd.client()
    assert cl.request('REGISTER %s "%s"' % (name, PASSWORD)).code == 201
    cl.close()
    h.ok("login", server(), "--user", name, "--password-stdin", input=PASSWORD + "\n")
    out, _ = h.ok("whoami")
    assert out == "%s\tlearner\n" % name
    rc, _, err = h.run("courses", extra={"CAMPUS_SERVER": dead})   # the variable beats the saved one
    assert rc == 3, rc
    # The token is never sent to another server (the same one by another name counts).
    other = "localhost:%d" % env.campusd.text_port
    rc, _, err = h.run("--server", other, "whoami")
    assert rc == 4, (rc, err)
    # With nothing set: localhost:7070.
    h2 = Home()
    del h2.env["CAMPUS_SERVER"]
    probe = socket.socket()
    free = probe.connect_ex(("127.0.0.1", 7070)) != 0
    probe.close()
    if free:
        rc, _, err = h2.run("courses")
        assert rc == 3 and "localhost:7070" in err, err


# ---- progress ----

def test_next_read_done_progress():
    h = learner()
    out, _ = h.ok("next")
    kv = dict(l.split("\t", 1) for l in out.splitlines())
    assert kv["lesson"] == "demo/welcome" and kv["done"] == "0" and kv["total"] == "3", kv
    out, _ = h.ok("read")                                   # no argument: the next lesson
    assert out.encode() == raw_read("demo/welcome").body
    out, _ = h.ok("done")                                   # no argument: the last one read
    assert out == "done demo/welcome\n", out
    out, _ = h.ok("done", "demo/welcome")
    assert out == "already done demo/welcome\n", out
    out, _ = h.ok("progress")
    assert out.startswith("demo\tDemo course\t1\t3\t33\t"), out
    out, _ = h.ok("progress", "demo")
    rows = [l.split("\t") for l in out.splitlines()]
    assert rows[0][:5] == ["basics", "Basics", "1", "2", "50"], rows
    out, _ = h.ok("next")
    assert "lesson\tdemo/lists\n" in out
    rc, _, err = h.run("done", "demo/nothing")
    assert rc == 1 and "404" in err, err
    rc, _, err = h.run("progress", "nope")
    assert rc == 1 and "404 no course 'nope'" in err, err


# ---- exercises ----

def exercise_view(h, ex):
    """The learner view as this learner's session sees it (for its seed)."""
    text = open(os.path.join(h.env["XDG_CONFIG_HOME"], "campus", "session")).read()
    token = re.search(r"token\t(\S+)", text).group(1)
    cl = env.campusd.client()
    try:
        assert cl.request("AUTH %s" % token).code == 200
        r = cl.request("EXERCISE %s" % ex)
        assert r.code == 200, r
        return r.body.decode()
    finally:
        cl.close()


def test_exercise_walkthrough_scripted():
    h = learner()
    out, err = h.ok("exercise", "demo/market", input="92\ny\n")
    assert "The weavers of Dúrcal sell to a café chain" in out      # the narrative
    assert "[share] What share of the people were producers" in out  # the task
    assert "answer: a number" in out                                 # its one-line hint
    assert "Your answers:\nshare: 92\n" in out                        # the review
    assert "passed, attempt 1, attempts left: 2\n" in out, out
    assert "score 100.0 passed (pass mark 60)" in out
    out, _ = h.ok("attempts", "demo/market")
    rows = [l.split("\t") for l in out.splitlines()]
    assert len(rows) == 1 and rows[0][0] == "1" and rows[0][2] == "100.0", rows
    # End of input before the confirmation: nothing is submitted.
    rc, out, err = h.run("exercise", "demo/market", input="50\n")
    assert rc == 1 and "nothing was submitted" in err, (rc, err)
    out, _ = h.ok("attempts", "demo/market")
    assert len(out.splitlines()) == 1
    # That answer is kept as a draft; declined, the exercise starts afresh.
    # q: quit at the review.
    rc, out, err = h.run("exercise", "demo/market", input="n\n50\nq\n")
    assert "resume the draft of " in err and " with 1 answer? [Y/n] " in err, err
    assert rc == 1 and "cancelled" in err


def test_exercise_edit_at_review():
    h = learner()
    view = exercise_view(h, "demo/lists")
    right = re.search(r"\n  ([a-z])\) Selection of the cluster\n", view).group(1)
    wrong = "a" if right == "b" else "b"
    # Answer q1 wrongly, q2 true, then edit q1 at the review.
    out, _ = h.ok("exercise", "demo/lists", input="%s\ntrue\ne q1\n%s\ny\n" % (wrong, right))
    assert "Your answers:\nq1: %s\nq2: true\n" % wrong in out
    assert "Your answers:\nq1: %s\nq2: true\n" % right in out
    assert "passed, attempt 1" in out and "\nq1 100.0" in out, out


def test_submit_from_a_file():
    h = learner()
    path = h.path("answers.txt")
    with open(path, "w") as f:
        f.write("share: 10\n")
    out, _ = h.ok("submit", "demo/market", path)
    assert out.startswith("failed, attempt 1, attempts left: 2\nscore 0.0 not passed"), out
    out, _ = h.ok("submit", "demo/market", "-", input="share: 92.4\n")
    assert out.startswith("passed, attempt 2, attempts left: 1\n"), out
    rc, _, err = h.run("submit", "demo/market", h.path("missing.txt"))
    assert rc == 2 and "cannot read" in err
    rc, _, err = h.run("submit", "demo/nothing", path)
    assert rc == 1 and "404" in err, err
    rc, _, err = h.run("attempts", "demo/nothing")
    assert rc == 1 and "404" in err, err


# ---- trainers and admins ----

def add_user(d, name, role):
    harness.add_user(env.redis.port, name, role, PASSWORD, data=d.data)


def logged_in(d, name):
    h = Home(srv=server(d))
    out, _ = h.ok("login", "--user", name, "--password-stdin", input=PASSWORD + "\n")
    assert "logged in as %s" % name in out, out
    h.name = name
    return h


def test_user_and_review_commands():
    d = Campusd(env.tmp, redis=env.redis,
                courses=os.path.join(harness.SOURCE, "tests", "web", "fixtures", "courses"))
    d.start()
    try:
        add_user(d, "boss", "admin")
        add_user(d, "coach", "trainer")
        admin = logged_in(d, "boss")
        out, _ = admin.ok("user", "add", "newbie", "learner", "--password-stdin",
                          input=PASSWORD + "\n")
        out, _ = admin.ok("user", "list")
        names = [l.split("\t")[0] for l in out.splitlines()]
        assert {"boss", "coach", "newbie"} <= set(names), out
        # A learner submits an answer that waits for a trainer.
        learner_home = logged_in(d, "newbie")
        out, _ = learner_home.ok("submit", "web-lab/reflection", "-",
                                 input="note: The cluster should start with one joint order.\n")
        assert "pending" in out or "waiting" in out, out
        rc, _, err = learner_home.run("review", "list")
        assert rc == 1 and "403" in err, (rc, err)
        coach = logged_in(d, "coach")
        out, _ = coach.ok("review", "list")
        rows = [l.split("\t") for l in out.splitlines()]
        mine = [r for r in rows if "newbie" in r]
        assert mine, out
        rid = mine[0][0]
        out, _ = coach.ok("review", "show", rid)
        assert "joint order" in out, out
        out, _ = coach.ok("review", "grade", rid, "8", "Concrete and doable.")   # of 10 points
        assert "graded" in out, out
        out, _ = learner_home.ok("attempts", "web-lab/reflection")
        assert "80.0" in out and "Concrete and doable." in out, out
        out, _ = learner_home.ok("attempt", "web-lab/reflection", "1")
        assert "(8 of 10 points, reviewed)" in out and "trainer: Concrete and doable." in out, out
        out, _ = admin.ok("user", "disable", "newbie")
        rc, _, _ = learner_home.run("whoami")
        assert rc == 4
    finally:
        d.stop()


# ---- TLS ----

def test_tls_direct_starttls_and_pinning():
    h = Home()
    known = os.path.join(h.env["XDG_CONFIG_HOME"], "campus", "known_servers")
    out, err = h.ok("read", "demo/welcome", "--stats")
    assert "(TLS)" in err and "trusting it from now on" in err, err
    pins = open(known).read()
    assert re.match(r"127\.0\.0\.1:%d [0-9a-f]{64}\n$" % env.campusd.text_port, pins), pins
    out, err = h.ok("read", "demo/welcome", "--stats")
    assert "trusting" not in err                            # pinned: silent
    tls = "tls://127.0.0.1:%d" % env.campusd.tls_port
    out, err = h.ok("--server", tls, "read", "demo/welcome", "--stats")
    assert "(TLS)" in err and out.encode() == raw_read("demo/welcome").body
    # A certificate that changed is refused.
    with open(known, "w") as f:
        f.write("127.0.0.1:%d %s\n" % (env.campusd.text_port, "0" * 64))
    rc, out, err = h.run("courses")
    assert rc == 3 and "certificate of 127.0.0.1:%d has changed" % env.campusd.text_port in err, err
    assert out == ""
    out, err = h.ok("--no-tls", "courses")
    assert out.startswith("demo\t")


# ---- offline: the cache and the queue ----

def second_campusd():
    d = Campusd(env.tmp, redis=env.redis)
    return d.start()


def test_sync_then_read_offline():
    d = second_campusd()
    h = Home(srv=server(d))
    try:
        out, _ = h.ok("sync", "demo")
        assert re.match(r"synced demo: 3 of 3 lessons, 1 files, \d+ bytes\n$", out), out
        h.ok("read", "demo/welcome")
        out, _ = h.ok("file", "demo")
        assert "checklist.md" in out, out
    finally:
        d.stop()
    # The course's files were synced too.
    src = open(os.path.join(harness.FIXTURES, "courses-good/demo/files/checklist.md")).read()
    out, err = h.ok("file", "demo/checklist.md")
    assert out == src and "synced earlier" in err, (out, err)
    out, err = h.ok("read", "demo/lists")
    assert out.encode() == raw_read("demo/lists").body
    assert "showing demo/lists as synced earlier" in err and "cannot connect" in err, err
    # With no argument, offline: the lesson after the last one read.
    out, err = h.ok("read")
    assert out.encode() == raw_read("demo/market").body, err
    out, err = h.ok("course", "demo")
    assert "demo/welcome\tWelcome to clusters" in out and "synced earlier" in err
    rc, _, err = h.run("read", "other/lesson")
    assert rc == 3 and "cannot connect" in err


def test_offline_done_queue_replayed():
    d = second_campusd()
    h = Home(srv=server(d))
    learner(h)
    port = d.text_port
    d.kill()
    out, err = h.ok("done", "demo/welcome")
    assert out == "queued demo/welcome\n" and "sent as done on the next connection" in err, err
    out, _ = h.ok("done", "demo/lists")
    queue = open(os.path.join(h.env["XDG_STATE_HOME"], "campus", "queue")).read()
    lines = queue.splitlines()
    assert len(lines) == 2 and lines[0].split("\t")[1:4] == [server(d), h.name, "demo/welcome"]
    # Each mark has its idempotency key, sent with the replay.
    key = lines[0].split("\t")[4]
    assert re.fullmatch(r"q-[0-9a-f]{16}", key), lines
    assert int(lines[0].split("\t")[0]) > 1.7e12             # the time, in ms
    d2 = Campusd(env.tmp, redis=env.redis)
    d2.text_port = port
    d2.start()
    try:
        out, err = h.ok("progress")
        assert "sent 2 done marks made offline" in err, err
        assert out.startswith("demo\tDemo course\t2\t3\t"), out   # the replay came first
        # The marks carry the time they were made offline, not the replay's.
        marked = int(lines[0].split("\t")[0])
        stored = env.redis.cmd("HGET", "campus:{u:%s}:done" % h.name, "demo/welcome")
        assert int(stored) == marked, (stored, marked)
        kept = env.redis.cmd("GET", "campus:{u:%s}:donekey:%s" % (h.name, key))
        assert kept == b"demo/welcome 1", kept
        assert open(os.path.join(h.env["XDG_STATE_HOME"], "campus", "queue")).read() == ""
        # Idempotent: a mark queued for a lesson already done is settled too.
        d2.kill()
        h.ok("done", "demo/welcome")
        d2.start()
        out, err = h.ok("whoami")
        assert "sent 1 done mark made offline" in err
        out, _ = h.ok("progress")
        assert out.startswith("demo\tDemo course\t2\t3\t"), out
    finally:
        d2.stop()


def test_done_queued_when_the_store_is_down():
    h = learner()
    env.redis.kill()
    try:
        out, err = h.ok("done", "demo/welcome")
        assert out == "queued demo/welcome\n" and "503" not in out, (out, err)
    finally:
        env.redis.start()
        harness.wait_for(env.campusd.store_up, timeout=30, what="store back")
    out, err = h.ok("whoami")
    assert "sent 1 done mark made offline" in err, (out, err)
    out, err = h.ok("progress")
    assert out.startswith("demo\tDemo course\t1\t"), (out, err)


# ---- a server killed mid-command, and the one reconnect ----

def assert_line(p, want):
    """The client's next line of output is want; else what it said instead."""
    got = p.stdout.readline()
    if got != want:
        p.kill()
        raise AssertionError((got, want, p.stderr.read()[-2000:]))


def test_server_killed_mid_command():
    d = second_campusd()
    h = learner(Home(srv=server(d)))
    port = d.text_port
    # The shell keeps one connection open between commands.
    p = subprocess.Popen([CAMPUS], env=h.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    d2 = None
    try:
        p.stdin.write(b"whoami\n")
        p.stdin.flush()
        assert_line(p, ("%s\tlearner\n" % h.name).encode())
        # Killed while the request is in flight: one reconnect, refused.
        d.signal(signal.SIGSTOP)
        p.stdin.write(b"progress\n")
        p.stdin.flush()
        time.sleep(1.0)
        d.kill()
        # The client's one reconnect must have failed before a server is back
        # on the port: else, on a slow machine, it reaches the new one and the
        # progress answer comes first.
        early = b""
        end = time.time() + 20
        while b"after a reconnect" not in early and time.time() < end:
            if select.select([p.stderr], [], [], max(0, end - time.time()))[0]:
                chunk = os.read(p.stderr.fileno(), 4096)
                if not chunk:
                    break
                early += chunk
        assert b"after a reconnect" in early, early
        # Back on the same port: the next command connects and resumes the session.
        d2 = Campusd(env.tmp, redis=env.redis)
        d2.text_port = port
        d2.start()
        p.stdin.write(b"whoami\n")
        p.stdin.flush()
        assert_line(p, ("%s\tlearner\n" % h.name).encode())
        # Killed while idle: the next command finds the link dead, reconnects
        # once to the server that took over, and resumes the saved session.
        d2.kill()
        d2.start()
        p.stdin.write(b"whoami\n")
        p.stdin.close()
        assert_line(p, ("%s\tlearner\n" % h.name).encode())
        assert p.wait(30) == 0
        err = (early + p.stderr.read()).decode()
        lines = err.splitlines()
        assert any("reconnecting" in l for l in lines), err
        # The one reconnect fails: refused, or, when it lands while the
        # kernel is still tearing the killed process's sockets down, reset.
        assert any(l.startswith("campus: ") and ("cannot connect" in l or "reset" in l)
                   and "after a reconnect" in l for l in lines), err
        assert sum("reconnecting" in l for l in lines) == 2, err
        harness.client_check([], err)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        for s in (p.stdout, p.stderr):
            s.close()
        if d2:
            d2.stop()


class FlakyServer:
    """A CTP/1 server that drops the first connection after reading a
    request (a crash mid-command) and answers on the next ones."""

    def __init__(self, drops=1):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.drops = drops
        self.requests = []
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        n = 0
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            n += 1
            f = c.makefile("rb")
            c.sendall(b"200 campusd CTP/1 ready\r\n")
            for line in f:
                line = line.rstrip(b"\r\n")
                m = re.search(rb"\{(\d+)\}$", line)
                if m:
                    line += b" " + f.read(int(m.group(1)))
                self.requests.append((n, line))
                if line == b"STARTTLS":
                    c.sendall(b"503 TLS is not configured\r\n")
                    continue
                if line == b"COMPRESS DEFLATE":     # a server from before COMPRESS
                    c.sendall(b"400 unknown verb 'COMPRESS' (try HELP)\r\n")
                    continue
                if line.startswith(b"AUTH "):
                    c.sendall(b"200 resumed session of x (learner)\r\n")
                    continue
                if n <= self.drops:
                    break
                c.sendall(b"200 3 results {12}\r\nlesson\ttitle\r\n")
            f.close()
            c.close()

    def close(self):
        self.sock.close()


def knows_no_compress(h, port):
    """What campus has learned after meeting a server from before COMPRESS
    (the first meeting itself is test_client_fast's)."""
    d = os.path.join(h.env["XDG_STATE_HOME"], "campus", "servers")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "127.0.0.1_%d.learned" % port), "w") as f:
        f.write("tls-port 0\ncompress no\n")


def test_link_dropped_mid_command_reconnects_once():
    s = FlakyServer(drops=1)
    h = Home(srv="127.0.0.1:%d" % s.port)
    knows_no_compress(h, s.port)
    try:
        rc, out, err = h.run("search", "trust")
        assert rc == 0 and "reconnecting" in err, (rc, out, err)
        verbs = [r for r in s.requests if r[1] not in (b"STARTTLS", b"COMPRESS DEFLATE")]
        assert verbs == [(1, b"SEARCH trust"), (2, b"SEARCH trust")], verbs
    finally:
        s.close()
    s = FlakyServer(drops=5)
    h = Home(srv="127.0.0.1:%d" % s.port)
    knows_no_compress(h, s.port)
    try:
        rc, out, err = h.run("search", "trust")
        assert rc == 3 and "after a reconnect" in err, (rc, err)
        assert len([r for r in s.requests if r[1] not in (b"STARTTLS", b"COMPRESS DEFLATE")]) == 2   # one retry only
    finally:
        s.close()


def test_submit_is_never_sent_twice():
    s = FlakyServer(drops=1)
    h = Home(srv="127.0.0.1:%d" % s.port)
    knows_no_compress(h, s.port)
    cfg = os.path.join(h.env["XDG_CONFIG_HOME"], "campus")
    os.makedirs(cfg)
    with open(os.path.join(cfg, "session"), "w") as f:
        f.write("server\t127.0.0.1:%d\nuser\tx\ntoken\tx.y\n" % s.port)
    try:
        rc, out, err = h.run("submit", "demo/market", "-", input="share: 92\n")
        assert rc == 3 and "SUBMIT was sent but not answered" in err, (rc, err)
        assert "campus attempts demo/market" in err
        assert [r for r in s.requests if r[1].startswith(b"SUBMIT")] == \
            [(1, b"SUBMIT demo/market {10} share: 92\n")], s.requests
    finally:
        s.close()


# ---- under a pseudo-terminal: the password prompt, the shell, colour, the pager ----

def test_password_prompt_does_not_echo():
    h = Home()
    _names[0] += 1
    name = "pty%d" % _names[0]
    cl = env.campusd.client()
    assert cl.request('REGISTER %s "%s"' % (name, PASSWORD)).code == 201
    cl.close()
    t = Pty(h, ["login"])
    t.expect("name: ")
    t.send(name + "\r")
    t.expect("password: ")
    t.send(PASSWORD + "\r")
    t.expect("logged in as %s" % name)
    assert t.wait() == 0
    assert PASSWORD.encode() not in t.out, t.out
    assert name.encode() in t.out                  # the name is echoed


def test_shell_with_completion_and_history():
    h = learner()
    t = Pty(h, [], extra={"PAGER": ""})
    t.expect("campus %s> " % h.name)
    t.send("whoa\t\r")                              # completes the command
    t.expect("%s (learner) at %s" % (h.name, server()))
    t.send("read demo/wel\t\r")                     # completes the lesson id
    t.expect("What a cluster is")
    t.expect("campus %s> " % h.name)
    t.send("done\r")
    t.expect("done demo/welcome")
    t.send("course nope\r")
    t.expect("campus: 404 no course 'nope'")
    t.send("exit\r")
    assert t.wait() == 1                            # the last command's status
    hist = open(os.path.join(h.env["XDG_STATE_HOME"], "campus", "history")).read()
    hist = hist.replace("\\040", " ")                  # libedit's escaping
    assert "read demo/welcome" in hist and "course nope" in hist, hist


def test_shell_reads_commands_from_a_pipe():
    h = Home()
    out, err = h.ok(input="courses\nsearch market\n")
    assert out.startswith("demo\tDemo course\t") and "demo/market\t" in out, out


def test_terminal_colour_and_no_color():
    h = learner()
    t = Pty(h, ["courses"])
    assert t.wait() == 0
    assert b"\033[1mid" in t.out and b"Demo course" in t.out, t.out
    t = Pty(h, ["courses"], extra={"NO_COLOR": "1"})
    assert t.wait() == 0
    assert b"\033" not in t.out and b"id " in t.out, t.out
    h.ok("done", "demo/welcome")
    t = Pty(h, ["progress"])
    assert t.wait() == 0
    assert b"Demo course" in t.out and b"######" in t.out and b"33%" in t.out, t.out
    t = Pty(h, ["course", "demo"])
    assert t.wait() == 0
    assert b"Basics" in t.out and b"1/2" in t.out and b"demo/market" in t.out, t.out


def test_pager_for_long_lessons_on_a_terminal():
    h = Home()
    pager = {"PAGER": "sed s/^/PAGED:/"}
    t = Pty(h, ["read", "demo/welcome"], rows=10, cols=80, extra=pager)
    assert t.wait() == 0
    assert b"PAGED:What a cluster is" in t.out, t.out
    t = Pty(h, ["read", "demo/welcome"], rows=200, cols=80, extra=pager)   # fits: no pager
    assert t.wait() == 0
    assert b"PAGED" not in t.out and b"What a cluster is" in t.out
    # The terminal's width is the lesson's width.
    t = Pty(h, ["read", "demo/welcome"], rows=200, cols=50, extra=pager)
    assert t.wait() == 0
    body = raw_read("demo/welcome", "50").body
    assert body.replace(b"\n", b"\r\n") in t.out


# ---- the exercise flow under a terminal: checked answers, drafts, Ctrl-C ----

def draft_file(h, ex):
    return os.path.join(h.env["XDG_STATE_HOME"], "campus", "drafts",
                        server().replace(":", "_"), h.name, *ex.split("/"))


def attempts_stored(name, ex):
    """The attempt records Redis holds for a learner, oldest first."""
    key = "campus:{u:%s}:attempts:%s" % (name, ex)
    n = int(env.redis.cmd("LLEN", key)[1:])
    return [json.loads(env.redis.cmd("LINDEX", key, i)) for i in range(n)]


def expect_count(t, what, n, timeout=20):
    """Waits until what has been written n times (a prompt asked again)."""
    what = what.encode()
    end = time.time() + timeout
    while t.out.count(what) < n:
        if time.time() > end:
            raise AssertionError("%r not seen %d times in %r" % (what, n, t.out[-2000:]))
        r, _, _ = select.select([t.fd], [], [], 0.2)
        if r:
            try:
                t.out += os.read(t.fd, 65536)
            except OSError:
                raise AssertionError("EOF waiting for %r x%d in %r" % (what, n, t.out[-2000:]))


def test_exercise_word_for_a_number_asked_again_then_scored():
    h = learner()
    t = Pty(h, ["exercise", "demo/market"], extra={"PAGER": ""})
    t.expect("answer: a number")
    t.expect("share> ")
    t.send("ninety-two\r")
    t.expect("share: expected a number, such as 12 or 4.5; try again")
    expect_count(t, "share> ", 2)                 # the same task, asked again
    t.send("92\r")
    t.expect("submit? [y]es, [e]dit TASK, [q]uit: ")
    review = t.out[t.out.index(b"Your answers:"):]
    assert b"share: 92\r\n" in review and b"ninety-two" not in review, review
    t.send("y\r")
    t.expect("attempts left: 2")
    assert t.wait() == 0
    assert b"passed" in t.out and b"score 100.0 passed" in t.out, t.out
    records = attempts_stored(h.name, "demo/market")
    assert len(records) == 1 and records[0]["tasks"][0]["response"] == "92", records
    assert not os.path.exists(draft_file(h, "demo/market"))     # removed after SUBMIT


def test_exercise_draft_resumed_after_the_client_is_killed():
    h = learner()
    view = exercise_view(h, "demo/lists")
    right = re.search(r"\n  ([a-z])\) Selection of the cluster\n", view).group(1)
    t = Pty(h, ["exercise", "demo/lists"], extra={"PAGER": ""})
    t.expect("q1> ")
    t.send("z\r")                                  # no option z
    t.expect("q1: expected one of the letters a to b; try again")
    expect_count(t, "q1> ", 2)
    t.send(right + "\r")
    t.expect("q2> ")
    path = draft_file(h, "demo/lists")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700
    text = open(path).read()
    assert re.match(r"# campus draft of demo/lists, attempt 1, saved \d{4}-\d\d-\d\d \d\d:\d\d\n"
                    r"q1: %s\n$" % right, text), text
    os.kill(t.pid, signal.SIGKILL)
    assert t.wait() == -signal.SIGKILL
    assert open(path).read() == text

    t = Pty(h, ["exercise", "demo/lists"], extra={"PAGER": ""})
    t.expect(re.search(r"saved (.*)\n", text).group(0)[6:-1])
    t.expect("with 1 answer? [Y/n] ")
    t.send("\r")                                   # Y is the default
    t.expect("q2> ")
    assert b"q1> " not in t.out                    # the draft's answer is not asked again
    t.send("true\r")
    t.expect("submit? [y]es")
    assert b"q1: %s\r\nq2: true\r\n" % right.encode() in t.out, t.out
    t.send("y\r")
    t.expect("attempt 1")
    assert t.wait() == 0
    assert b"passed" in t.out
    records = attempts_stored(h.name, "demo/lists")
    assert [x["response"] for x in records[0]["tasks"]] == [right, "true"], records
    assert not os.path.exists(path)


def test_exercise_ctrl_c_asks_before_leaving():
    h = learner()
    view = exercise_view(h, "demo/lists")
    right = re.search(r"\n  ([a-z])\) Selection of the cluster\n", view).group(1)
    t = Pty(h, ["exercise", "demo/lists"], extra={"PAGER": ""})
    t.expect("q1> ")
    t.send(right + "\r")
    t.expect("q2> ")
    t.send("\x03")
    t.expect("leave the exercise? your answers are kept as a draft [y/N] ")
    t.send("\r")                                   # N: back to the same question
    expect_count(t, "q2> ", 2)
    assert t.status is None and os.waitpid(t.pid, os.WNOHANG) == (0, 0)   # still running
    t.send("tr\x03")                               # a half-typed line, then Ctrl-C again
    expect_count(t, "leave the exercise?", 2)
    t.send("y\r")
    assert t.wait() == 1
    assert b"left the exercise; nothing was submitted; your answers are kept as a draft" in t.out
    assert attempts_stored(h.name, "demo/lists") == []
    assert open(draft_file(h, "demo/lists")).read().endswith("\nq1: %s\n" % right)


def web_lab():
    d = Campusd(env.tmp, redis=env.redis,
                courses=os.path.join(harness.SOURCE, "tests", "web", "fixtures", "courses"))
    return d.start()


def test_every_task_checked_and_a_server_400_goes_back_to_its_task():
    d = web_lab()
    try:
        _names[0] += 1
        name = "every%d" % _names[0]
        add_user(d, name, "learner")
        h = logged_in(d, name)
        script = [
            "1 2", "1 2 3",                  # steps: every item once
            "x=1", "s=1 w=2",                # sort: a category key that exists
            "lots", "92 %",                  # share: a number, its unit may follow
            "Weaver",                        # broker: names
            "", "A joint action led by", "the business association", "",   # plan: free text
            "d", "a",                        # pick: a to c
            "a,z", "a,b",                    # many: letters a to c
            "maybe", "false",                # truth
            "agent",                         # word
            "six", "6",                      # count: a number
            "1=z",                           # pairs: only the server checks pairs
            "y",                             # SUBMIT: 400 names pairs
            "1=a 2=b 3=c",                   # asked again, alone
            "y",
        ]
        rc, out, err = h.run("exercise", "web-lab/every-task", input="\n".join(script) + "\n")
        assert rc == 0, (rc, out, err)
        for why in ("steps: expected every item number from 1 to 3 once, in your order, "
                    "e.g. 3 1 2",
                    "sort: expected a category key (s, w), =, and its item numbers (1 to 2, "
                    "each at most once), e.g. s=1 w=2",
                    "share: expected a number, such as 12 or 4.5 (% may follow)",
                    "plan: an answer is needed: free text, at least a word",
                    "pick: expected one of the letters a to c",
                    "many: expected letters from a to c separated by commas, e.g. a,c",
                    "truth: expected true or false",
                    "count: expected a number, such as 12 or 4.5"):
            assert "\n  " + why + "; try again\n" in out, (why, out)
        assert out.count("; try again") == 8, out
        assert "the server did not take 1=z: pairs: expected pairs like 1=a 2=b" in out, out
        # The second review still holds every other answer.
        second = out[out.index("the server did not take"):]
        assert "steps: 1 2 3\nsort: s=1 w=2\nshare: 92 %\nbroker: Weaver\n" in second, second
        assert "plan: A joint action led by\n  the business association\n" in second, second
        assert "pairs: 1=a 2=b 3=c\n" in second and "attempt 1" in second, second
        records = attempts_stored(name, "web-lab/every-task")
        assert len(records) == 1, records              # the 400 used no attempt
        got = {x["id"]: x["response"] for x in records[0]["tasks"]}
        assert got["share"] == "92 %" and got["pairs"] == "1=a 2=b 3=c", got
        assert got["plan"] == "A joint action led by\nthe business association", got
    finally:
        d.stop()


def test_review_grade_takes_the_comment_unquoted():
    d = web_lab()
    try:
        _names[0] += 1
        name, coach_name = "noted%d" % _names[0], "coach%d" % _names[0]
        add_user(d, name, "learner")
        add_user(d, coach_name, "trainer")
        learner_home = logged_in(d, name)
        coach = logged_in(d, coach_name)
        # Two different answers: the same answer again would be a retry of
        # the first submission, not a second attempt.
        for i in range(2):
            learner_home.ok("submit", "web-lab/reflection", "-",
                            input="note: One joint order, version %d.\n" % (i + 1))
        out, _ = coach.ok("review", "list")
        ids = [r.split("\t")[0] for r in out.splitlines() if name in r]
        assert len(ids) == 2, out
        # The rest of the line is the comment: no quotes needed.
        # Points on the task's own scale (10): 8 is stored as 80%.
        out, _ = coach.ok("review", "grade", ids[0], "8", "Concrete", "and", "doable,", "well",
                          "argued.")
        assert "graded" in out, out
        # No comment on the line: standard input is the comment.
        out, _ = coach.ok("review", "grade", ids[1], "7", input="Piped in.\nSecond line.\n")
        assert "graded" in out, out
        rc, _, err = coach.run("review", "grade", ids[1], "7", input="")
        assert rc == 2 and "no comment given" in err, (rc, err)
        records = attempts_stored(name, "web-lab/reflection")
        notes = [x["tasks"][0]["comment"] for x in records]
        assert sorted(notes) == ["Concrete and doable, well argued.", "Piped in.\nSecond line."], notes
        out, _ = learner_home.ok("attempts", "web-lab/reflection")
        assert "80.0" in out and "70.0" in out, out
    finally:
        d.stop()


harness.main(globals())
