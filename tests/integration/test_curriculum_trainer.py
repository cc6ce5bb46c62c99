"""The bundled courses' trainer layer stays with trainers: no byte of a
trainer block (facilitator notes, model answers, marking grids) or of a
trainer-only lesson (the facilitator guides) reaches a learner or an
anonymous reader of any bundled lesson, in any format, through READ,
EXERCISE, COURSE or SEARCH, over CTP or HTTP; a trainer reads them all.

Each trainer block and each trainer-only lesson is fingerprinted by a run
of its own words; the same fingerprints are checked to be present in what
a trainer reads, so the absence a learner sees means something."""

import html
import json
import os
import re

import harness
from harness import Env, http

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
PW = "the password 1"
COURSES = os.path.join(harness.SOURCE, "courses")
NAMES = {"learner": "lena", "trainer": "tara", "admin": "adam"}
env = None
tokens = {}


def course_files():
    """(course, lesson id, path) of every lesson and case of the bundled courses."""
    out = []
    for course in sorted(os.listdir(COURSES)):
        base = os.path.join(COURSES, course)
        if not os.path.isdir(base):
            continue
        for mod in sorted(os.listdir(base)):
            if not re.match(r"\d\d-", mod) or not os.path.isdir(os.path.join(base, mod)):
                continue
            for f in sorted(os.listdir(os.path.join(base, mod))):
                m = re.match(r"\d\d-([a-z0-9-]+?)(\.case)?\.md$", f)
                if m:
                    out.append((course, m.group(1), os.path.join(base, mod, f)))
    return out


def words(text):
    return re.findall(r"[a-z0-9]+", html.unescape(text).lower())


def fingerprint(text, public, n=7):
    """The first run of n words, within one plain line of prose in text (no
    markup that a renderer could split: bold, code, links, table bars),
    that the learner's part of the course (public, normalised) does not
    hold anyway."""
    for line in text.split("\n"):
        s = line.strip()
        if not s or re.search(r"[*`|\[\]#<>_]", s):
            continue
        w = words(s)
        for i in range(len(w) - n + 1):
            run = " ".join(w[i:i + n])
            if run not in public:
                return run
    return None


def trainer_parts():
    """(course, lesson id, kind, fingerprint) for every trainer block and
    every trainer-only lesson."""
    parts = []
    files = course_files()
    public = []
    for course, lesson, path in files:
        fm, body = open(path, encoding="utf-8").read().split("\n---\n", 1)
        if not re.search(r"^trainer: *true\s*$", fm, re.M):
            public.append(" ".join(words(re.sub(r"```trainer .*?```", " ", body, flags=re.S))))
    public = "\n".join(public)
    for course, lesson, path in files:
        fm, body = open(path, encoding="utf-8").read().split("\n---\n", 1)
        if re.search(r"^trainer: *true\s*$", fm, re.M):
            prose = re.sub(r"```.*?```", " ", body, flags=re.S)
            parts.append((course, lesson, "lesson", fingerprint(prose, public)))
        for tid, block in re.findall(r"```trainer ([a-z0-9-]+)\n(.*?)```", body, re.S):
            parts.append((course, lesson, "block " + tid, fingerprint(block, public)))
    for p in parts:
        assert p[3], p
    return parts


def normalised(data):
    """Words of a reply, whatever its format: HTML tags, ANSI escapes, JSON
    escapes and line wrapping do not split a fingerprint."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    data = re.sub(r"\x1b\[[0-9;]*m", "", data)
    data = re.sub(r"<[^>]*>", " ", data)
    try:
        data = json.dumps(json.loads(data), ensure_ascii=False)
    except ValueError:
        pass
    data = data.replace("\\n", " ")
    return " ".join(words(data))


def setup():
    global env
    env = Env(courses=COURSES, extra=FAST)
    c = env.campusd.client()
    harness.add_user(env.redis.port, NAMES["admin"], "admin", PW, FAST)
    for who in ("learner", "trainer"):
        assert c.request('REGISTER %s "%s"' % (NAMES[who], PW)).code == 201
    assert session("admin").request("USER ROLE %s trainer" % NAMES["trainer"]).code == 200
    for who, name in NAMES.items():
        tokens[who] = env.campusd.client().request('LOGIN %s "%s"' % (name, PW)).kv()["token"]


def teardown():
    env.close()


def session(who):
    c = env.campusd.client()
    if who != "anon":
        assert c.request('LOGIN %s "%s"' % (NAMES[who], PW)).code == 200
    return c


def get(path, who):
    h = {"Authorization": "Bearer " + tokens[who]} if who != "anon" else {}
    return http(env.campusd.http_port, "GET", path, headers=h)


def replies(who, lessons):
    """Everything a reader gets for the given lessons, normalised: READ in
    every format (and at width 40), EXERCISE, the HTTP lesson route."""
    c = session(who)
    out = []
    for course, lesson in lessons:
        full = "%s/%s" % (course, lesson)
        for fmt in ("text", "md", "html", "text 40"):
            r = c.request("READ %s %s" % (full, fmt))
            out.append((full + " " + fmt, r.code, normalised((r.body or b"") + r.text.encode())))
        r = c.request("EXERCISE " + full)
        out.append((full + " exercise", r.code, normalised((r.body or b"") + r.text.encode())))
        st, _, body = get("/api/lessons/%s?format=html" % full, who)
        out.append((full + " http", st, normalised(body)))
    return out


def test_no_trainer_byte_reaches_a_learner_or_an_anonymous_reader():
    parts = trainer_parts()
    assert len(parts) >= 3 * 5 + 9, len(parts)
    visible = [(c, l) for c, l, p in course_files()
               if not re.search(r"^trainer: *true\s*$", open(p, encoding="utf-8").read().split("\n---\n")[0], re.M)]
    hidden = {(c, l) for c, l, kind, _ in parts if kind == "lesson"}
    for who in ("anon", "learner"):
        seen = replies(who, visible)
        for where, _, text in seen:
            for course, lesson, kind, fp in parts:
                assert fp not in text, (who, where, course, lesson, kind, fp)
        c = session(who)
        for course, lesson in sorted(hidden):
            r = c.request("READ %s/%s" % (course, lesson))
            assert r.code == 404, (who, course, lesson, r)
            st, _, _ = get("/api/lessons/%s/%s" % (course, lesson), who)
            assert st == 404, (who, course, lesson, st)
        for course in sorted({c for c, _ in visible}):
            listing = c.request("COURSE " + course).body.decode()
            for hc, hl in hidden:
                assert "%s/%s" % (hc, hl) not in listing, (who, course, hl)
        for q in ("session plan", "discussion prompts", "misunderstandings to listen for",
                  "marking grid", "marking notes", "model answer"):
            r = c.request('SEARCH "%s"' % q)
            text = normalised((r.body or b"") + r.text.encode())
            for course, lesson, kind, fp in parts:
                assert fp not in text, (who, q, course, lesson, kind)
            for hc, hl in hidden:
                assert "%s/%s" % (hc, hl) not in (r.body or b"").decode(), (who, q, hl)


def test_a_trainer_reads_every_trainer_block_and_guide():
    parts = trainer_parts()
    c = session("trainer")
    for course, lesson, kind, fp in parts:
        for fmt in ("text", "html"):
            r = c.request("READ %s/%s %s" % (course, lesson, fmt))
            assert r.code == 200, (course, lesson, fmt, r)
            assert fp in normalised(r.body), (course, lesson, kind, fmt, fp)


if __name__ == "__main__":
    harness.main(globals())
