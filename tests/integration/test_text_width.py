"""Terminal text fits the terminal: every bundled lesson read at widths 40,
60 and 80, as a learner and as a trainer, with and without colour (the
client asks for plain text and colours itself; the renderer's ANSI form is
measured by the unit tests), in the reader and above its exercise: no line
is wider than the width, measured in display columns (wide East Asian
characters count two, combining marks none). Tables carry their labels, not
machine names; the title is not repeated; bold is marked."""

import os
import re
import unicodedata

import harness
from harness import Env

BUNDLED = os.path.join(harness.SOURCE, "courses")
FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
PW = "the password 1"
WIDTHS = (40, 60, 80)
env = None


def setup():
    global env
    env = Env(courses=BUNDLED, extra=FAST)
    harness.add_user(env.redis.port, "tina", "trainer", PW, FAST)


def teardown():
    env.close()


def display_width(line):
    line = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line)
    w = 0
    for ch in line:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def lessons(c):
    out = []
    for course in ("cluster-development", "led-foundations", "value-chains"):
        out += [(r["lesson"], r["title"], r["kind"]) for r in c.request("COURSE " + course).rows()]
    return out


def trainer():
    c = env.campusd.client()
    assert c.request('LOGIN tina "%s"' % PW).code == 200
    return c


def test_no_line_wider_than_the_width():
    too_wide, n = [], 0
    for who, c in (("anon", env.campusd.client()), ("trainer", trainer())):
        for lesson, _, kind in lessons(c):
            for fmt in ("text", "exercise") if kind != "lesson" else ("text",):
                for w in WIDTHS:
                    r = c.request("READ %s %s %d" % (lesson, fmt, w))
                    assert r.code == 200, (lesson, r)
                    for i, line in enumerate(r.body.decode().split("\n")):
                        n += 1
                        if display_width(line) > w:
                            too_wide.append("%s %s %s w=%d line %d: %d columns" % (
                                who, lesson, fmt, w, i + 1, display_width(line)))
    assert n > 10000, n
    assert not too_wide, "\n".join(too_wide[:40])


def test_title_not_repeated_and_placeholder_where_it_belongs():
    c = env.campusd.client()
    for lesson, title, kind in lessons(c):
        text = c.request("READ %s text 80" % lesson).body.decode()
        first = text.split("\n", 1)[0]
        assert first.strip() != title, (lesson, first)
        if kind in ("quiz", "case"):
            assert "[Exercise: use EXERCISE " + lesson in " ".join(text.split()), lesson
            above = c.request("READ %s exercise 80" % lesson).body.decode()
            assert "[Exercise:" not in above, lesson


def test_tables_show_labels_and_bold_is_marked():
    c = env.campusd.client()
    machine = re.compile(r"\b[a-z]+_[a-z_]+\b")
    bold = 0
    for lesson, _, _ in lessons(c):
        md = c.request("READ %s md" % lesson).body.decode()
        text = c.request("READ %s text 80" % lesson).body.decode()
        if "**" in md:
            bold += 1
            assert re.search(r"\*[^*\s][^*]*\*", text), lesson
        for m in re.finditer(r"^```table [^\n]*\n(?:labels:[^\n]*\n)?([^\n]*)\n", md, re.M):
            for name in machine.findall(m.group(1)):
                # A header name with an underscore is shown as words.
                assert name.replace("_", " ") in text or name not in text, (lesson, name)
    assert bold > 10, bold


harness.main(globals())
