"""The trainer's layer: trainer blocks and trainer-only lessons reach
trainers and admins in every format and never a learner or an anonymous
reader (READ in every format, COURSE, SEARCH, EXERCISE, DONE, ETags, HTTP);
course files (FILE, /api/files, content type, ETag); citations and their
full references; prerequisites as a notice; programmes in COURSES and
/api/courses; a pre-test outside progress."""

import hashlib
import json
import os
import subprocess

import harness
from harness import Env, http

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
PW = "the password 1"
COURSES = os.path.join(harness.FIXTURES, "courses-trainer")
SECRETS = ("SECRET-TRAINER-NOTE-ALPHA", "SECRET-MODEL-ANSWER-BETA", "SECRET-GUIDE-GAMMA",
           "Trainer notes", "```trainer")
NAMES = {"learner": "lena", "trainer": "tara", "admin": "adam"}
env = None
tokens = {}


def setup():
    global env
    env = Env(courses=COURSES, extra=FAST)
    c = env.campusd.client()
    harness.add_user(env.redis.port, "adam", "admin", PW, FAST)
    for name in ("lena", "tara"):
        assert c.request('REGISTER %s "%s"' % (name, PW)).code == 201
    assert session("admin").request("USER ROLE tara trainer").code == 200
    for who, name in NAMES.items():
        r = env.campusd.client().request('LOGIN %s "%s"' % (name, PW))
        tokens[who] = r.kv()["token"]


def teardown():
    env.close()


def session(who):
    c = env.campusd.client()
    if who != "anon":
        assert c.request('LOGIN %s "%s"' % (NAMES[who], PW)).code == 200
    return c


def get(path, who="anon", headers=None):
    h = dict(headers or {})
    if who != "anon":
        h["Authorization"] = "Bearer " + tokens[who]
    return http(env.campusd.http_port, "GET", path, headers=h)


def learner_views(who):
    """Every byte a reader gets about the course, over CTP and HTTP."""
    c = session(who)
    out = []
    for line in ("COURSES", "COURSE tdemo", "SEARCH secret", "SEARCH group ten minutes",
                 "SEARCH session plan", "EXERCISE tdemo/case", "EXERCISE tdemo/case json",
                 "FILE tdemo", "PROGRAMMES"):
        r = c.request(line)
        out.append((line, r.text + (r.body or b"").decode()))
    for lesson in ("tdemo/intro", "tdemo/case", "tdemo/pretest", "tdemo/facilitator-guide"):
        for fmt in ("text", "md", "html", "exercise"):
            for width in ("", " 40"):
                r = c.request("READ %s %s%s" % (lesson, fmt, width))
                out.append((lesson + " " + fmt, r.text + (r.body or b"").decode()))
        for fmt in ("text", "md", "html"):
            st, h, body = get("/api/lessons/%s?format=%s" % (lesson, fmt), who)
            out.append(("http " + lesson, body.decode() + h.get("etag", "")))
        out.append(("done", c.request("DONE " + lesson).text))
    for path in ("/api/courses", "/api/courses/tdemo", "/api/search?q=secret",
                 "/api/exercises/tdemo/case", "/api/files/tdemo"):
        st, h, body = get(path, who)
        out.append((path, body.decode()))
    return out


def test_learners_and_anonymous_never_get_trainer_content():
    for who in ("anon", "learner"):
        for where, text in learner_views(who):
            for s in SECRETS:
                assert s not in text, (who, where, s)
    c = session("learner")
    r = c.request("READ tdemo/facilitator-guide")
    assert r.code == 404 and r.text == "no lesson 'tdemo/facilitator-guide'", r
    assert c.request("DONE tdemo/facilitator-guide").code == 404
    st, _, _ = get("/api/lessons/tdemo/facilitator-guide", "learner")
    assert st == 404
    assert "facilitator-guide" not in c.request("COURSE tdemo").body.decode()


def test_trainers_and_admins_get_trainer_content_in_every_format():
    for who in ("trainer", "admin"):
        c = session(who)
        for fmt in ("text", "md", "html"):
            body = c.request("READ tdemo/intro %s" % fmt).body.decode()
            assert "SECRET-TRAINER-NOTE-ALPHA" in body, (who, fmt)
            body = c.request("READ tdemo/case %s" % fmt).body.decode()
            assert "SECRET-MODEL-ANSWER-BETA" in body, (who, fmt)
            r = c.request("READ tdemo/facilitator-guide %s" % fmt)
            assert r.code == 200 and "SECRET-GUIDE-GAMMA" in r.body.decode(), (who, fmt, r)
        html = c.request("READ tdemo/case html").body.decode()
        assert '<aside class="trainer" data-task="plan">' in html, html
        text = c.request("READ tdemo/case text 40").body.decode()
        assert "[Trainer notes: plan]" in text and "| Model answer" in text, text
        st, _, body = get("/api/lessons/tdemo/intro?format=html", who)
        assert st == 200 and "SECRET-TRAINER-NOTE-ALPHA" in json.loads(body)["body"]
        rows = c.request("COURSE tdemo").rows()
        guide = [r for r in rows if r["lesson"] == "tdemo/facilitator-guide"]
        assert guide and guide[0]["kind"] == "trainer", rows
        assert rows[-1]["lesson"] == "tdemo/facilitator-guide", rows


def test_learner_etag_differs_from_the_trainers_and_ignores_trainer_notes():
    _, hl, _ = get("/api/lessons/tdemo/intro?format=html", "learner")
    _, ht, _ = get("/api/lessons/tdemo/intro?format=html", "trainer")
    assert hl["etag"] != ht["etag"], (hl["etag"], ht["etag"])
    src = open(os.path.join(COURSES, "tdemo/01-basics/02-intro.md"), "rb").read()
    assert hl["etag"].strip('"') != hashlib.sha256(src).hexdigest()
    assert ht["etag"].strip('"') == "t-" + hashlib.sha256(src).hexdigest()
    # The learner's version is the file without the lines of its trainer
    # blocks (one at the top level, one in a quote in a list item).
    kept, inside = [], False
    for line in src.splitlines(keepends=True):
        bare = line.lstrip(b" >").rstrip()
        if not inside and bare.startswith(b"```trainer"):
            inside = True
        elif inside and bare == b"```":
            inside = False
        elif not inside:
            kept.append(line)
    assert hl["etag"].strip('"') == hashlib.sha256(b"".join(kept)).hexdigest()
    # A learner replaying the trainer's ETag gets the lesson, not a 304.
    st, _, _ = get("/api/lessons/tdemo/intro?format=html", "learner",
                   {"If-None-Match": ht["etag"]})
    assert st == 200


def test_course_files_by_verb_and_route():
    c = session("anon")
    rows = c.request("FILE tdemo").rows()
    assert [r["file"] for r in rows] == ["swot-grid.csv", "swot-grid.md"], rows
    src = open(os.path.join(COURSES, "tdemo/files/swot-grid.csv"), "rb").read()
    r = c.request("FILE tdemo/swot-grid.csv")
    assert r.code == 200 and r.body == src and "type=text/csv" in r.text, r
    st, h, body = get("/api/files/tdemo/swot-grid.csv")
    assert st == 200 and body == src, (st, body)
    assert h["content-type"].startswith("text/csv"), h
    assert h["etag"] == '"%s"' % hashlib.sha256(src).hexdigest()
    st, _, _ = get("/api/files/tdemo/swot-grid.csv", headers={"If-None-Match": h["etag"]})
    assert st == 304
    st, h, body = get("/api/files/tdemo/swot-grid.md")
    assert st == 200 and h["content-type"].startswith("text/markdown")
    assert c.request("FILE tdemo/nope.md").code == 404
    assert c.request("FILE nope/swot-grid.md").code == 404
    for bad in ("tdemo/../course.md", "tdemo/a/b.md", "../x", "tdemo/.md", 'tdemo/a"b.md'):
        r = c.request('FILE "%s"' % bad.replace('"', '\\"'))
        assert r.code in (400, 404), (bad, r)
    st, _, _ = get("/api/files/tdemo/..%2Fcourse.md")
    assert st in (400, 404)
    st, _, body = get("/api/files/tdemo")
    assert st == 200 and "swot-grid.md" in body.decode()
    # Lessons link to the files: the route in HTML, FILE's name in text.
    html = c.request("READ tdemo/intro html").body.decode()
    assert 'href="/api/files/tdemo/swot-grid.md"' in html, html
    text = c.request("READ tdemo/intro").body.decode()
    assert "file tdemo/swot-grid.md" in text, text


def test_citations_show_the_full_reference():
    c = session("anon")
    text = " ".join(c.request("READ tdemo/intro").body.decode().split())
    assert "(Example Organisation 2013)" in text, text
    assert "(Example Organisation 2013; Ann Writer 2020)" in text, text
    assert "References" in text and "A guide to clusters" in text and "Example Press" in text
    assert "[@" not in text
    html = c.request("READ tdemo/intro html").body.decode()
    assert "<em>A guide to clusters</em>" in html and "https://example.org/guide" in html


def test_prerequisites_are_a_notice_not_a_lock():
    c = env.campusd.client()
    assert c.request('REGISTER pia "%s"' % PW).code == 201
    r = c.request('LOGIN pia "%s"' % PW)
    token = r.kv()["token"]
    r = c.request("READ tdemo/intro")
    assert r.code == 200 and "missing=tdemo/pretest" in r.text, r
    st, _, body = http(env.campusd.http_port, "GET", "/api/lessons/tdemo/intro?format=text",
                       headers={"Authorization": "Bearer " + token})
    data = json.loads(body)["data"]
    assert st == 200 and "tdemo/pretest" in data["notice"], data
    rows = {r["lesson"]: r for r in c.request("COURSE tdemo").rows()}
    assert rows["tdemo/intro"]["prerequisites"] == "tdemo/pretest"
    assert c.request("DONE tdemo/pretest").code == 200
    r = c.request("READ tdemo/intro")
    assert r.code == 200 and "missing=" not in r.text, r
    # Between courses: the outline and READ say what the course builds on.
    assert "builds on tdemo" in c.request("COURSE tnext").text
    st, _, body = get("/api/lessons/tnext/first?format=text", "learner")
    assert "builds on tdemo" in json.loads(body)["data"]["notice"]


def test_programmes_in_courses_and_the_api():
    rows = {r["id"]: r for r in session("anon").request("COURSES").rows()}
    assert rows["tdemo"]["programmes"] == "route:1/2" and rows["tnext"]["programmes"] == "route:2/2"
    assert rows["tnext"]["prerequisites"] == "tdemo"
    st, _, body = get("/api/courses")
    progs = json.loads(body)["data"]["programmes"]
    assert progs == [{"id": "route", "title": "A route through the demo courses",
                      "summary": "The trainer demo first, then the next course.",
                      "courses": ["tdemo", "tnext"]}], progs
    rows = session("anon").request("PROGRAMMES").rows()
    assert [r["course"] for r in rows] == ["tdemo", "tnext"], rows


def test_pretest_is_outside_progress_and_completion():
    c = session("learner")
    rows = {r["lesson"]: r for r in c.request("COURSE tdemo").rows()}
    assert rows["tdemo/pretest"]["kind"] == "pretest"
    assert c.request("DONE tdemo/pretest").code == 200
    prog = c.request("PROGRESS tdemo")
    basics = prog.rows()[0]
    # intro and case count; the pre-test (done) does not.
    assert basics["total"] == "2" and basics["exercises"] == "1", basics
    assert "0 of 2 lessons" in prog.text or "of 2 lessons" in prog.text, prog


def check(tree):
    """Writes {path: bytes or str} into a fresh copy of the fixture and runs
    campusd --check on it; returns (exit status, output)."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="campus-check-")
    try:
        root = os.path.join(d, "courses")
        shutil.copytree(COURSES, root)
        for path, data in tree.items():
            full = os.path.join(root, path)
            if data is None:
                os.remove(full)
                continue
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
        p = subprocess.run([harness.CAMPUSD, "--check", root], capture_output=True, text=True,
                           timeout=60)
        return p.returncode, p.stdout.replace(root + "/", "")
    finally:
        shutil.rmtree(d, ignore_errors=True)


INTRO = "tdemo/01-basics/02-intro.md"


def intro_with(extra):
    return open(os.path.join(COURSES, INTRO), encoding="utf-8").read() + "\n" + extra + "\n"


def test_check_flags_files_citations_and_trainer_mistakes():
    rc, out = check({})
    assert rc == 0 and out == "", out
    cases = [
        ({"tdemo/files/swot-grid.md": None},
         "tdemo/01-basics/02-intro.md:13: error: link to missing file '../files/swot-grid.md'"),
        ({INTRO: intro_with("See [theirs](../../tnext/files/x.md).")},
         "error: link '../../tnext/files/x.md' leads outside the course"),
        ({INTRO: intro_with("See [up](../../../secret.txt).")},
         "error: link '../../../secret.txt' leads outside the course"),
        ({"tdemo/files/big.csv": b"x" * (1024 * 1024 + 1)},
         "tdemo/files/big.csv:0: error: file is too large: 1048577 bytes, at most 1048576"),
        ({"tdemo/files/Bad Name.md": "x"}, "tdemo/files/Bad Name.md:0: error: course file names"),
        ({"tdemo/files/run.exe": "x"}, "tdemo/files/run.exe:0: error: course file names"),
        ({INTRO: intro_with("As shown [@nobody2000].")},
         "error: citation '@nobody2000' has no entry in tdemo/references.yaml"),
        ({"tdemo/references.yaml": open(os.path.join(COURSES, "tdemo/references.yaml")).read()
          + "- key: guide2013\n  title: T\n  author: A\n  year: '1'\n  publisher: P\n"},
         "tdemo/references.yaml:13: error: duplicate reference key 'guide2013' (first at line 1)"),
        ({"tdemo/references.yaml": open(os.path.join(COURSES, "tdemo/references.yaml")).read()
          + "- key: spare\n  title: T\n  author: A\n  year: '1'\n  publisher: P\n"},
         "tdemo/references.yaml:13: warning: reference 'spare' is cited by no lesson"),
        ({"tdemo/references.yaml": "- key: k\n  title: T\n"},
         "tdemo/references.yaml:1: error: reference lacks 'author'"),
        ({INTRO: intro_with("```trainer Not_An_Id\nx\n```")},
         "error: trainer block names task 'Not_An_Id'"),
        ({"tdemo/01-basics/04-facilitator-guide.md":
          "---\ntitle: G\nminutes: 1\ntrainer: true\n---\n\nG\n\n```gift\nQ {T}\n```\n"},
         "error: a trainer-only lesson cannot hold an exercise"),
        ({"tdemo/01-basics/01-pretest.md": "---\ntitle: P\nminutes: 1\npretest: true\n---\n\nNo questions.\n"},
         "error: a pre-test (pretest: true) needs questions"),
        ({"tdemo/01-basics/01-pretest.md": "---\ntitle: P\nminutes: 1\npretest: maybe\n---\n\nx\n"},
         "tdemo/01-basics/01-pretest.md:4: error: 'pretest' must be true or false"),
        ({INTRO: intro_with("```trainer nosuch\nx\n```")},
         "error: trainer block names task 'nosuch', which this file has not"),
        ({INTRO: intro_with("See [the guide](04-facilitator-guide.md).")},
         "error: link to trainer-only lesson '04-facilitator-guide.md' in text learners read"),
        ({INTRO: intro_with("```trainer\nSee [the guide](04-facilitator-guide.md).\n```")},
         None),
        ({INTRO: intro_with("Text.\n\n    ```trainer\n    notes\n    ```")},
         "error: a ```trainer fence inside a code block: learners would read it"),
        ({"programmes.yaml": "- id: r\n  title: R\n  courses: [tdemo, nosuch]\n"},
         "programmes.yaml:3: error: programme 'r' names unknown course 'nosuch'"),
        ({"tnext/course.md": open(os.path.join(COURSES, "tnext/course.md")).read()
          .replace("[tdemo]", "[tdemo, ghost]")},
         "tnext/course.md:0: error: unknown prerequisite course 'ghost'"),
    ]
    wrong = []
    for tree, want in cases:
        rc, out = check(tree)
        if want is None:
            if rc != 0 or out:
                wrong.append("%s\n  wanted a clean check, got: %s" % (list(tree), out.strip()))
            continue
        if want not in out or (": error:" in want and rc == 0):
            wrong.append("%s\n  wanted: %s\n  got: %s (rc %d)" % (list(tree), want, out.strip(), rc))
    assert not wrong, "\n".join(wrong)


harness.main(globals())
