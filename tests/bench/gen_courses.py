#!/usr/bin/env python3
"""gen_courses.py: writes a generated course tree for the content benchmark
(content.sh): COURSES courses x MODULES modules x LESSONS lessons, in the
format of docs/AUTHORING.md. Lessons are about 600 words of prose with
headings, lists, emphasis, inline code, a block quote, links to other lessons
(same module, other module) and to the web, and a ```table block in one
lesson out of four. The output is the same for the same arguments (fixed
seed), so runs on different days compare.

    python3 tests/bench/gen_courses.py DIR [COURSES MODULES LESSONS [WORDS]]
        (default 10 5 20 600: 1,000 lessons)

Prints the number of lessons and of Markdown bytes written.
"""
import os
import random
import sys

WORDS = """
cluster firm firms enterprise enterprises association agent network trust
cooperation joint action market markets buyer buyers supplier suppliers
service services training quality standard standards export exports local
region regional town district workshop workshops producer producers
product products design designs price prices cost costs value chain chains
income growth capacity capital credit bank loan project projects plan
plans diagnostic study strategy vision member members meeting meetings
government institution institutions support policy policies partner
partners result results indicator indicators baseline monitoring
evaluation budget year years month months share figure figures learning
skill skills worker workers women youth owner owners family families
machine machines tool tools material materials leather textile garment
dairy coffee fruit furniture footwear software tourism craft crafts
the a an of in on to for with by from and or but that which who when where
because while after before during between among without within across
through about against every each many most some several few more less
new old small large common shared open public private simple careful slow
quick strong weak clear hard early late first second third last next
builds shows helps makes takes gives finds keeps brings leads moves
needs wants learns sells buys plans meets agrees decides starts ends
grows changes improves reduces raises measures compares records reports
""".split()

HEADINGS = [
    "Why it matters", "What the agent does", "A worked example", "Common mistakes",
    "Who takes part", "Measuring the change", "In practice", "Before you start",
    "The evidence", "Questions to ask", "What comes next", "The main steps",
]

TITLE_WORDS = [
    "trust", "networks", "buyers", "quality", "diagnostics", "governance",
    "finance", "exports", "training", "standards", "services", "monitoring",
    "strategy", "suppliers", "design", "evaluation", "partners", "markets",
    "skills", "results",
]


def sentence(rng, lo=8, hi=22):
    n = rng.randint(lo, hi)
    words = [rng.choice(WORDS) for _ in range(n)]
    # Emphasis, strong emphasis and code spans on some words.
    for _ in range(rng.randint(0, 2)):
        i = rng.randrange(n)
        kind = rng.random()
        if kind < 0.45:
            words[i] = "*" + words[i] + "*"
        elif kind < 0.85:
            words[i] = "**" + words[i] + "**"
        else:
            words[i] = "`" + words[i] + "`"
    words[0] = words[0].lstrip("*`").capitalize() if words[0][0].isalpha() else words[0]
    return " ".join(words) + rng.choice([".", ".", ".", "?", ";", ":"]).replace(";", ".").replace(":", ".")


def plain(text):
    """A sentence without its markup or final stop, safe as a YAML scalar."""
    return text.replace("*", "").replace("`", "").rstrip(".?")


def wrap(text, width=76):
    out, line = [], ""
    for w in text.split(" "):
        if line and len(line) + 1 + len(w) > width:
            out.append(line)
            line = w
        else:
            line = w if not line else line + " " + w
    if line:
        out.append(line)
    return "\n".join(out)


def paragraph(rng, links, lo=3, hi=6):
    sents = [sentence(rng) for _ in range(rng.randint(lo, hi))]
    if links and rng.random() < 0.6:
        text, target = rng.choice(links)
        i = rng.randrange(len(sents))
        sents[i] = sents[i][:-1] + ", as [" + text + "](" + target + ") explains."
    if rng.random() < 0.15:
        sents.append("See [the UNIDO paper](https://www.unido.org/clusters) for the source.")
    return wrap(" ".join(sents))


def table(rng, name):
    rows = ["year,firms,members,exports (USD),share"]
    firms = rng.randint(20, 200)
    for year in range(2008, 2008 + rng.randint(4, 8)):
        firms += rng.randint(-5, 20)
        rows.append('%d,%d,%d,"%s",%d%%' % (
            year, firms, rng.randint(5, firms), "{:,}".format(rng.randint(10, 900) * 1000),
            rng.randint(1, 99)))
    return "```table " + name + "\n" + "\n".join(rows) + "\n```"


def lesson_body(rng, title, links, words, with_table):
    blocks = ["# " + title, paragraph(rng, links, 2, 4)]
    count = lambda: sum(len(b.split()) for b in blocks)
    headings = rng.sample(HEADINGS, len(HEADINGS))
    h = 0
    while count() < words:
        blocks.append("## " + headings[h % len(headings)])
        h += 1
        blocks.append(paragraph(rng, links))
        r = rng.random()
        if r < 0.35:
            blocks.append("\n".join("- " + sentence(rng, 5, 12) for _ in range(rng.randint(3, 5))))
        elif r < 0.6:
            blocks.append("\n".join("%d. %s" % (i + 1, sentence(rng, 5, 14))
                                    for i in range(rng.randint(3, 5))))
        elif r < 0.7:
            blocks.append("> " + wrap(sentence(rng, 12, 24)).replace("\n", "\n> "))
        if with_table and h == 2:
            blocks.append(table(rng, "figures"))
        if count() < words:
            blocks.append(paragraph(rng, links))
    return "\n\n".join(blocks) + "\n"


def main():
    if len(sys.argv) not in (2, 5, 6):
        sys.exit(__doc__)
    root = sys.argv[1]
    ncourses, nmodules, nlessons = (int(a) for a in sys.argv[2:5]) if len(sys.argv) > 2 else (10, 5, 20)
    words = int(sys.argv[5]) if len(sys.argv) > 5 else 600
    rng = random.Random(20261127)
    total_lessons = total_bytes = 0

    def write(path, text):
        nonlocal total_bytes
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        total_bytes += len(text.encode("utf-8"))

    for c in range(1, ncourses + 1):
        cid = "bench-course-%02d" % c
        cdir = os.path.join(root, cid)
        write(os.path.join(cdir, "course.md"),
              "---\nid: %s\ntitle: Generated course %d\nsummary: A generated course for the "
              "content benchmark.\nlanguage: en\nversion: 1.0.0\nauthors: [Campus bench]\n"
              "completion:\n  lessons: all\n  exercises: all\n---\n\n%s\n" % (cid, c, paragraph(rng, [])))
        for m in range(1, nmodules + 1):
            mdir = "%02d-module-%d" % (m, m)
            write(os.path.join(cdir, mdir, "module.md"),
                  "---\ntitle: Module %d of course %d\nsummary: Generated.\n---\n\n%s\n"
                  % (m, c, paragraph(rng, [])))
            for n in range(1, nlessons + 1):
                slug = "m%d-l%02d-%s" % (m, n, TITLE_WORDS[(n + m) % len(TITLE_WORDS)])
                title = "Lesson %d.%d: %s" % (m, n, TITLE_WORDS[(n + m) % len(TITLE_WORDS)].capitalize())
                links = []
                if n > 1:   # the lesson before, in the same module
                    p = n - 1
                    links.append(("the previous lesson", "%02d-m%d-l%02d-%s.md"
                                  % (p, m, p, TITLE_WORDS[(p + m) % len(TITLE_WORDS)])))
                if m > 1:   # a lesson of the module before
                    q = rng.randint(1, nlessons)
                    links.append(("an earlier module", "../%02d-module-%d/%02d-m%d-l%02d-%s.md"
                                  % (m - 1, m - 1, q, m - 1, q, TITLE_WORDS[(q + m - 1) % len(TITLE_WORDS)])))
                fm = ("---\ntitle: \"%s\"\nobjectives:\n  - %s\n  - %s\nminutes: %d\n---\n\n"
                      % (title, plain(sentence(rng, 5, 9)), plain(sentence(rng, 5, 9)), rng.randint(5, 30)))
                body = lesson_body(rng, title, links, words, with_table=(n % 4 == 0))
                write(os.path.join(cdir, mdir, "%02d-%s.md" % (n, slug)), fm + body)
                total_lessons += 1
    print("lessons=%d bytes=%d" % (total_lessons, total_bytes))


if __name__ == "__main__":
    main()
