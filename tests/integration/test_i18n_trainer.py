"""The trainer's layer in another language, against a real campusd and a real
redis-server on the bundled courses: the French variants of the
cluster-development course's trainer-only facilitator guides and of its case
studies with trainer blocks. A trainer reads them in French; a learner or an
anonymous reader asking for French gets no trainer byte, in any format, in
the outline or in search. And `campusd --check` refuses a variant that would
change who sees an item (trainer: or pretest: other than the default's)."""

import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import Env, http, status_field

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
PW = "the password 1"
COURSES = os.path.join(harness.SOURCE, "courses")
COURSE = "cluster-development"

# Words that only the French trainer parts hold: a guide's heading, and the
# headings of a trainer block (model answer, marking grid).
GUIDE = "cluster-development/facilitator-guide-clusters"
GUIDE_WORDS = "Cette page est réservée aux formateurs"
CASE = "cluster-development/montenegro-strategy"
BLOCK_WORDS = ("Grille de correction", "Notes de correction")
LEARNER_WORDS = "Six volets de travail"

env = None
conns = {}
tokens = {}


def login(name):
    c = env.campusd.client()
    r = c.request('LOGIN %s "%s"' % (name, PW))
    assert r.code == 200, r
    return c, r.kv()["token"]


def setup():
    global env
    env = Env(courses=COURSES, extra=FAST)
    harness.add_user(env.redis.port, "adam", "admin", PW, FAST)
    admin, _ = login("adam")
    assert admin.request('USER ADD lena learner "%s"' % PW).code == 201
    assert admin.request('USER ADD tara trainer "%s"' % PW).code == 201
    admin.close()
    for name in ("lena", "tara"):
        conns[name], tokens[name] = login(name)
    conns["anon"] = env.campusd.client()


def teardown():
    for c in conns.values():
        c.close()
    env.close()




def body(r):
    return (r.body or b"").decode("utf-8", "replace") + r.text


def test_a_trainer_reads_a_french_facilitator_guide():
    c = conns["tara"]
    for fmt in ("text", "md", "html"):
        r = c.request("READ %s %s 80 lang=fr" % (GUIDE, fmt))
        assert r.code == 200 and status_field(r, "lang") == "fr", (fmt, r)
        assert GUIDE_WORDS in body(r), (fmt, r)
    st, _, b = http(env.campusd.http_port, "GET", "/api/lessons/%s?lang=fr" % GUIDE,
                    headers={"Authorization": "Bearer " + tokens["tara"]})
    assert st == 200 and GUIDE_WORDS in b.decode(), (st, b[:200])


def test_a_learner_asking_for_french_never_finds_a_guide():
    for who in ("lena", "anon"):
        c = conns[who]
        r = c.request("READ %s text 80 lang=fr" % GUIDE)
        assert r.code == 404, (who, r)
        h = {"Authorization": "Bearer " + tokens[who]} if who in tokens else {}
        st, _, _ = http(env.campusd.http_port, "GET", "/api/lessons/%s?lang=fr" % GUIDE,
                        headers=h)
        assert st == 404, (who, st)
        outline = c.request("COURSE %s lang=fr" % COURSE)
        assert outline.code == 200 and status_field(outline, "lang") == "fr", outline
        assert GUIDE not in body(outline), who
        assert "Grappes et efficacité collective" in body(outline), who


def test_the_trainer_outline_in_french_lists_the_guides_with_french_titles():
    r = conns["tara"].request("COURSE %s lang=fr" % COURSE)
    assert r.code == 200, r
    rows = [row for row in r.rows() if row["lesson"] == GUIDE]
    assert len(rows) == 1, r.rows()[:3]
    assert rows[0]["title"].startswith("Guide de l’animateur"), rows
    assert rows[0]["kind"] == "trainer", rows


def test_french_trainer_blocks_reach_the_trainer_and_no_learner():
    t = conns["tara"].request("READ %s text 80 lang=fr" % CASE)
    assert t.code == 200 and status_field(t, "lang") == "fr", t
    for w in BLOCK_WORDS:
        assert w in body(t), w
    for who in ("lena", "anon"):
        for fmt in ("text", "md", "html", "exercise"):
            r = conns[who].request("READ %s %s 80 lang=fr" % (CASE, fmt))
            assert r.code == 200 and status_field(r, "lang") == "fr", (who, fmt, r)
            assert LEARNER_WORDS in body(r), (who, fmt)
            for w in BLOCK_WORDS:
                assert w not in body(r), (who, fmt, w)
    # The learner's version (ETag) of the French text is not the trainer's.
    lv = status_field(conns["lena"].request("READ %s text 80 lang=fr" % CASE), "version")
    assert lv and lv != status_field(t, "version"), (lv, t)


def test_french_search_finds_no_trainer_text_for_a_learner():
    for q in ("grille de correction", "guide de l’animateur", "déroulé de la séance"):
        r = conns["lena"].request('SEARCH "%s" lang=fr' % q)
        assert r.code in (200, 404), r
        text = body(r)
        assert "facilitator-guide" not in text, (q, text[:300])
        for w in BLOCK_WORDS:
            assert w not in text, (q, w)


COURSE_MD = """---
id: mini
title: Mini
summary: A small course.
language: en
languages: [en, fr]
version: 1.0.0
---

A small course.
"""

MODULE_MD = """---
title: One
---

The module.
"""


def lesson(title, trainer, extra=""):
    return "---\ntitle: %s\nminutes: 5\n%s%s---\n\n# %s\n\nSome words of the lesson.\n" % (
        title, "trainer: true\n" if trainer else "", extra, title)


def check(files):
    """campusd --check on a course made of files; its output and status."""
    tmp = tempfile.mkdtemp(prefix="campus-i18n-trainer-")
    try:
        root = os.path.join(tmp, "courses")
        for rel, text in files.items():
            path = os.path.join(root, "mini", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        p = subprocess.run([harness.CAMPUSD, "--check", root], capture_output=True, timeout=60)
        return p.returncode, (p.stdout + p.stderr).decode()
    finally:
        shutil.rmtree(tmp)


def test_check_accepts_a_trainer_only_variant_and_refuses_one_that_changes_who_sees_it():
    base = {"course.md": COURSE_MD, "01-one/module.md": MODULE_MD,
            "01-one/01-read.md": lesson("Read", False),
            "01-one/01-read.fr.md": lesson("Lire", False),
            "01-one/02-guide.md": lesson("Guide", True),
            "01-one/02-guide.fr.md": lesson("Guide de l’animateur", True)}
    rc, out = check(base)
    assert rc == 0 and "error" not in out, out

    shown = dict(base)
    shown["01-one/02-guide.fr.md"] = lesson("Guide de l’animateur", False)
    rc, out = check(shown)
    assert rc != 0, out
    assert re.search(r"02-guide\.fr\.md:\d+: error: trainer: false, the default file says true",
                     out), out

    hidden = dict(base)
    hidden["01-one/01-read.fr.md"] = lesson("Lire", True)
    rc, out = check(hidden)
    assert rc != 0 and "01-read.fr.md" in out and "trainer: true" in out, out

    missing = dict(base)
    del missing["01-one/02-guide.fr.md"]
    rc, out = check(missing)
    assert rc == 0, out
    assert re.search(r"02-guide\.md:0: warning: no 'fr' variant", out), out


harness.main(globals())
