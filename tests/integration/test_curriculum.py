"""The bundled curriculum holds its shape: three courses of 4 to 7
modules, 3 to 6 lessons a module, 400 to 1,200 words a lesson, a GIFT quiz
of at least 5 questions ending every module (the cluster course's capstone
module ends with its capstone instead), case studies with at least three
task types (every type used in the cluster course), sources on every
lesson, a glossary per course, a clean --check, and no run of eight words
shared with the seed documents.

The trainer's layer: every module ends with a trainer-only facilitator
guide, every task a trainer grades has a trainer block with a model answer
and a marking grid, every course has the six templates (Markdown and CSV),
a bibliography with no dangling citation and a pre-test, and the cluster
course a capstone graded with an analytic rubric."""

import csv
import os
import re
import subprocess

import harness

COURSES = os.path.join(harness.SOURCE, "courses")
OVERLAP = os.path.join(harness.SOURCE, "..", "shared", "tools", "overlap")
TASK_TYPES = {"order", "classify", "numeric", "network", "rubric", "review", "gift"}


def courses():
    return sorted(d for d in os.listdir(COURSES) if os.path.isdir(os.path.join(COURSES, d)))


def modules(course):
    base = os.path.join(COURSES, course)
    return sorted(os.path.join(base, d) for d in os.listdir(base)
                  if re.match(r"\d\d-", d) and os.path.isdir(os.path.join(base, d)))


def all_lessons(module):
    """Every lesson and case file of a module, trainer-only ones included;
    language variants (NN-x.fr.md, NN-x.case.es.md) are the same items and
    are left out (campusd --check holds them to their default files)."""
    return sorted(os.path.join(module, f) for f in os.listdir(module)
                  if re.match(r"\d\d-[a-z0-9-]+(\.case)?\.md$", f))


def trainer_only(path):
    fm = open(path, encoding="utf-8").read().split("\n---\n", 1)[0]
    return re.search(r"^trainer: *true\s*$", fm, re.M) is not None


def lessons(module):
    """The lessons a learner sees: trainer-only lessons left out."""
    return [p for p in all_lessons(module) if not trainer_only(p)]


def pretest(path):
    return re.search(r"^pretest: *true\s*$", split(path)[0], re.M) is not None


def capstone(module):
    return module.endswith("-capstone")


def is_trainer_lesson(path):
    return trainer_only(path)


def split(path):
    text = open(path, encoding="utf-8").read()
    m = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    assert m, path
    return m.group(1), m.group(2)


def prose_words(body):
    body = re.sub(r"```.*?```", " ", body, flags=re.S)
    return len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’-]*", body))


def pool_blocks(body):
    """The GIFT text of each pool task: [(draw, text)]."""
    out = []
    for t in re.findall(r"```task\n(.*?)```", body, re.S):
        if not re.search(r"^type: *pool\s*$", t, re.M):
            continue
        draw = int(re.search(r"^draw: *(\d+)", t, re.M).group(1))
        text = t.split("questions: |\n", 1)[1]
        out.append((draw, "\n".join(l[2:] for l in text.split("\n"))))
    return out


def quiz_blocks(body):
    """The GIFT text of a lesson's quiz: its gift blocks and its pools."""
    return re.findall(r"```gift\n(.*?)```", body, re.S) + [b for _, b in pool_blocks(body)]


def test_three_courses_of_the_right_shape():
    assert courses() == ["cluster-development", "led-foundations", "value-chains"]
    for c in courses():
        mods = modules(c)
        assert 4 <= len(mods) <= 7, (c, len(mods))
        for m in mods:
            # A pre-test is a diagnostic, not one of the module's lessons.
            ls = [p for p in lessons(m) if not pretest(p)]
            assert (2 if capstone(m) else 3) <= len(ls) <= 6, (m, len(ls))


def test_every_lesson_has_length_objectives_minutes_sources():
    for c in courses():
        for m in modules(c):
            for path in lessons(m):
                fm, body = split(path)
                assert re.search(r"^minutes: *\d+", fm, re.M), path
                assert re.search(r"^sources:", fm, re.M), path
                if not path.endswith(".case.md"):
                    assert re.search(r"^objectives:", fm, re.M), path
                # A quiz is read as its questions; elsewhere exercise blocks
                # do not count towards the reading.
                n = prose_words(body) if not quiz_blocks(body) or path.endswith(".case.md") \
                    else len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’-]*", body))
                assert 400 <= n <= 1200, (path, n)


def test_every_module_ends_with_a_quiz_of_five_mixed_questions():
    for c in courses():
        for m in modules(c):
            if capstone(m):
                continue
            last = lessons(m)[-1]
            _, body = split(last)
            blocks = quiz_blocks(body)
            assert blocks, last
            questions = [q for b in blocks for q in re.split(r"\n\s*\n", b) if "{" in q]
            assert len(questions) >= 5, (last, len(questions))
            kinds = set()
            for q in questions:
                a = q[q.index("{"):]
                if re.search(r"\{\s*(T|F|TRUE|FALSE)\s*[#}]", a):
                    kinds.add("tf")
                elif "{#" in a:
                    kinds.add("numerical")
                elif "->" in a:
                    kinds.add("matching")
                elif "~%" in a:
                    kinds.add("multi")
                elif "~" in a:
                    kinds.add("choice")
                else:
                    kinds.add("short")
            assert len(kinds) >= 3, (last, kinds)


def test_every_module_quiz_limits_attempts_and_draws_from_a_larger_pool():
    # A quiz that shows its keys after each attempt must not be open to
    # endless retries, and a retry must be a different draw: every graded
    # question sits in a pool that holds more questions than it shows.
    for c in courses():
        for m in modules(c):
            if capstone(m):
                continue
            last = lessons(m)[-1]
            fm, body = split(last)
            attempts = int(re.search(r"^attempts: *(\d+)", fm, re.M).group(1))
            assert 1 <= attempts <= 5, (last, attempts)
            assert "```gift" not in body, last
            pools = pool_blocks(body)
            assert pools, last
            for draw, text in pools:
                n = len([q for q in re.split(r"\n\s*\n", text) if "{" in q])
                assert draw + 2 <= n, (last, draw, n)


def case_types(path):
    _, body = split(path)
    return set(re.findall(r"^type: *([a-z]+)", "\n".join(re.findall(r"```task\n(.*?)```", body, re.S)), re.M))


def test_case_studies():
    counts = {}
    for c in courses():
        cases = [p for m in modules(c) for p in lessons(m) if p.endswith(".case.md")]
        counts[c] = len(cases)
        used = set()
        for p in cases:
            t = case_types(p)
            assert len(t - {"pool"}) >= 3 or len(t) >= 3, (p, t)
            used |= t
            _, body = split(p)
            assert "```table" in body, p
        if c == "cluster-development":
            assert TASK_TYPES <= used, TASK_TYPES - used
    assert counts["cluster-development"] >= 8, counts
    assert counts["led-foundations"] >= 3 and counts["value-chains"] >= 3, counts
    cluster = " ".join(open(p, encoding="utf-8").read() for m in modules("cluster-development")
                       for p in lessons(m) if p.endswith(".case.md"))
    for place in ("Atuntaqui", "Ambato", "Montenegro", "Nicaragua", "Samara", "Turkey",
                  "Ethiopia", "Dakar", "South Africa"):
        assert place in cluster, place


def test_glossary_per_course_linked_from_lessons():
    for c in courses():
        gl = [p for m in modules(c) for p in lessons(m) if "glossary" in os.path.basename(p)]
        assert len(gl) == 1, (c, gl)
        name = os.path.basename(gl[0])
        linking = [p for m in modules(c) for p in lessons(m) if name in open(p, encoding="utf-8").read()]
        assert len(linking) >= 5, (c, len(linking))


def test_completion_rule():
    for c in courses():
        fm, _ = split(os.path.join(COURSES, c, "course.md"))
        assert re.search(r"^completion:\n\s+lessons: *\S+\n\s+exercises: *\S+", fm, re.M), c


# A listed language whose translation is still under way: the reader gets the
# default text and is told so. The only warning a clean check may give.
MISSING_VARIANT = re.compile(r"^\S+\.md:0: warning: no '([a-z0-9-]+)' variant: a reader in \1 "
                             r"gets the [a-z0-9-]+ text$|"
                             r"^\S+/files/\S+:0: warning: no '([a-z0-9-]+)' variant: a reader in "
                             r"\2 gets the [a-z0-9-]+ file$")


def test_check_is_clean():
    out = subprocess.run([harness.CAMPUSD, "--check", COURSES], capture_output=True, text=True)
    other = [l for l in out.stdout.splitlines() if not MISSING_VARIANT.match(l)]
    assert out.returncode == 0 and other == [], "\n".join(other)


def cluster_course_complete_in(lang):
    out = subprocess.run([harness.CAMPUSD, "--check", COURSES], capture_output=True, text=True)
    missing = [l for l in out.stdout.splitlines() if "no '%s' variant" % lang in l]
    assert missing == [], "\n".join(missing)
    base = os.path.join(COURSES, "cluster-development")
    assert os.path.exists(os.path.join(base, "course.%s.md" % lang))
    for m in modules("cluster-development"):
        assert os.path.exists(os.path.join(m, "module.%s.md" % lang)), m
        for p in all_lessons(m):
            assert os.path.exists(p[:-3] + ".%s.md" % lang), p
    # Every facilitator material in files/ too: the same templates, the
    # spreadsheet the same shape (columns and rows), the page linking to its
    # own language's spreadsheet.
    files = os.path.join(base, "files")
    defaults = sorted(n for n in os.listdir(files) if n.count(".") == 1)
    assert len(defaults) >= 2 * len(TEMPLATES), defaults
    for name in defaults:
        stem, ext = name.split(".")
        variant = os.path.join(files, "%s.%s.%s" % (stem, lang, ext))
        assert os.path.isfile(variant), variant
        text = open(variant, encoding="utf-8").read()
        assert text != open(os.path.join(files, name), encoding="utf-8").read(), variant
        if ext == "csv":
            rows = list(csv.reader(open(os.path.join(files, name), encoding="utf-8")))
            vrows = list(csv.reader(open(variant, encoding="utf-8")))
            assert [len(r) for r in vrows] == [len(r) for r in rows], variant
            assert all(vrows[0]), variant
        elif ext == "md" and os.path.exists(os.path.join(files, stem + ".csv")):
            assert "(%s.%s.csv)" % (stem, lang) in text, variant


def test_the_cluster_course_is_complete_in_french():
    cluster_course_complete_in("fr")


def test_the_cluster_course_is_complete_in_spanish():
    cluster_course_complete_in("es")


def test_no_eight_word_run_shared_with_the_seeds():
    if not os.path.exists(OVERLAP):
        print("  (the seeds' overlap tool is not beside this checkout; nothing to compare with)")
        return
    out = subprocess.run(["python3", OVERLAP, COURSES], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "", out.stdout[:2000]


TEMPLATES = ("diagnostic-checklist", "swot-grid", "actor-map", "results-chain", "action-plan",
             "me-framework")


def task_blocks(body):
    """(task id, YAML text) of each task block of a file."""
    out = []
    for t in re.findall(r"```task\n(.*?)```", body, re.S):
        m = re.search(r"^id: *([a-z0-9-]+)", t, re.M)
        out.append((m.group(1) if m else None, t))
    return out


def trainer_graded(yaml_text):
    return re.search(r"^type: *review\s*$", yaml_text, re.M) is not None or \
        re.search(r"^confirm: *trainer\s*$", yaml_text, re.M) is not None


def test_every_module_ends_with_a_facilitator_guide():
    for c in courses():
        for m in modules(c):
            last = all_lessons(m)[-1]
            assert re.match(r"\d\d-facilitator-guide", os.path.basename(last)), (m, last)
            assert trainer_only(last), last
            _, body = split(last)
            # A session plan: a timed table and prompts for discussion.
            assert re.search(r"```table [a-z0-9-]+\n[^`]*\d:\d\d", body), last
            assert re.search(r"^## .*[Dd]iscussion|^## .*prompts", body, re.M), last


def test_every_trainer_graded_task_has_a_model_answer_and_a_marking_grid():
    seen = 0
    for c in courses():
        for m in modules(c):
            for path in all_lessons(m):
                _, body = split(path)
                blocks = dict(re.findall(r"```trainer ([a-z0-9-]+)\n(.*?)```", body, re.S))
                for tid, y in task_blocks(body):
                    if not trainer_graded(y):
                        continue
                    seen += 1
                    assert tid in blocks, (path, tid)
                    b = blocks[tid]
                    assert re.search(r"[Mm]odel answer", b), (path, tid)
                    head = re.search(r"^\|(.*)\|\s*$", b, re.M)
                    assert head, (path, tid, "no marking grid")
                    cols = [h.strip().lower() for h in head.group(1).split("|")]
                    assert cols[0] == "criterion" and cols[-1] == "points", (path, tid, cols)
                    assert any("full" in h for h in cols) and any("partial" in h for h in cols) \
                        and any(h.startswith("no") for h in cols), (path, tid, cols)
                    assert re.search(r"^criteria:", y, re.M), (path, tid, "no analytic rubric")
                for tid in blocks:
                    assert tid in dict(task_blocks(body)), (path, tid, "trainer block names no task")
    assert seen >= 9, seen


def test_every_course_has_the_six_templates_as_markdown_and_csv():
    for c in courses():
        files = os.path.join(COURSES, c, "files")
        for name in TEMPLATES:
            for ext in ("md", "csv"):
                path = os.path.join(files, "%s.%s" % (name, ext))
                assert os.path.isfile(path), path
                assert os.path.getsize(path) > 40, path
            # The CSV is a spreadsheet with a header row; the page links to it.
            rows = list(csv.reader(open(os.path.join(files, name + ".csv"), encoding="utf-8")))
            assert len(rows) >= 2 and len(rows[0]) >= 3 and all(rows[0]), (c, name, rows[:1])
            assert "(%s.csv)" % name in open(os.path.join(files, name + ".md"), encoding="utf-8").read(), (c, name)
        linked = " ".join(open(p, encoding="utf-8").read() for m in modules(c) for p in lessons(m))
        for name in TEMPLATES:
            assert "../files/%s.md" % name in linked, (c, name)


def references(course):
    text = open(os.path.join(COURSES, course, "references.yaml"), encoding="utf-8").read()
    return set(re.findall(r"^- key: *([A-Za-z0-9_-]+)", text, re.M)), text


def test_every_course_has_a_bibliography_and_no_dangling_citation():
    for c in courses():
        keys, text = references(c)
        assert keys, c
        for field in ("title", "author", "year", "publisher"):
            assert len(re.findall(r"^  %s: *\S" % field, text, re.M)) == len(keys), (c, field)
        cited = set()
        for m in modules(c):
            for path in all_lessons(m):
                _, body = split(path)
                for group in re.findall(r"\[(@[^\]]+)\]", body):
                    for k in re.findall(r"@([A-Za-z0-9_-]+)", group):
                        assert k in keys, (path, k)
                        cited.add(k)
        assert cited == keys, (c, keys - cited)


def test_every_course_has_a_pretest_that_does_not_count():
    for c in courses():
        pre = [p for m in modules(c) for p in lessons(m)
               if re.search(r"^pretest: *true\s*$", split(p)[0], re.M)]
        assert len(pre) == 1, (c, pre)
        assert pre[0] == lessons(modules(c)[0])[0], pre
        assert quiz_blocks(split(pre[0])[1]), pre


def test_cluster_course_closes_with_a_capstone_graded_with_an_analytic_rubric():
    last = modules("cluster-development")[-1]
    assert capstone(last), last
    cases = [p for p in lessons(last) if p.endswith(".case.md")]
    assert len(cases) == 1, cases
    _, body = split(cases[0])
    reviews = [y for _, y in task_blocks(body) if trainer_graded(y)]
    assert len(reviews) == 1 and len(re.findall(r"^  - id: ", reviews[0], re.M)) >= 5, cases


# ---- the trainer's layer ----

TEMPLATE_PATTERNS = {
    "diagnostic checklist": r"diagnostic.*checklist|checklist",
    "SWOT grid": r"swot",
    "actor map": r"actor",
    "results chain": r"results?-chain",
    "action plan": r"action-plan",
    "monitoring and evaluation framework": r"monitoring|m-?and-?e|m-?e-framework",
}


def task_texts(body):
    return re.findall(r"```task\n(.*?)```", body, re.S)


def trainer_blocks(body):
    """[(task id or "", text)] of every ```trainer fence."""
    return [(m.group(1) or "", m.group(2))
            for m in re.finditer(r"^```trainer(?: +([a-z0-9-]+))? *\n(.*?)^```", body, re.S | re.M)]


def review_tasks(body):
    """Ids of the tasks a trainer grades: type review, or confirm: trainer."""
    out = []
    for t in task_texts(body):
        m = re.search(r"^id: *([a-z0-9-]+)", t, re.M)
        if m and (re.search(r"^type: *review\s*$", t, re.M) or re.search(r"^confirm: *trainer", t, re.M)):
            out.append(m.group(1))
    return out


def has_marking_grid(text):
    """A Markdown table whose header names a criterion and points."""
    for line in text.splitlines():
        cells = [c.strip().lower() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and any("criterion" in c for c in cells) and any("point" in c for c in cells):
            return True
    return False


def test_every_review_task_has_a_marking_grid_in_a_trainer_block():
    missing, n = [], 0
    for c in courses():
        for m in modules(c):
            for p in lessons(m):
                _, body = split(p)
                blocks = dict(trainer_blocks(body))
                for t in review_tasks(body):
                    n += 1
                    if t not in blocks or not has_marking_grid(blocks[t]):
                        missing.append("%s: %s" % (os.path.relpath(p, COURSES), t))
    assert n > 0 and not missing, "review tasks without a marking grid: %s" % missing


def test_every_module_has_a_facilitator_guide_numbered_last():
    missing = []
    for c in courses():
        for m in modules(c):
            files = all_lessons(m)
            # Lesson ids are unique within a course, so a guide's name may carry
            # its module's short name: NN-facilitator-guide-phases.md.
            guides = [p for p in files if re.search(r"\d\d-facilitator-guide(-[a-z0-9-]+)?\.md$", p)]
            if len(guides) != 1 or not is_trainer_lesson(guides[0]) or files[-1] != guides[0]:
                missing.append(os.path.relpath(m, COURSES))
                continue
            _, body = split(guides[0])
            for word in ("minutes", "group", "discuss"):
                if word not in body.lower():
                    missing.append("%s: no %s" % (os.path.relpath(guides[0], COURSES), word))
    assert not missing, "modules without a facilitator guide: %s" % missing


def test_every_course_has_the_six_templates_as_md_and_csv():
    missing = []
    for c in courses():
        d = os.path.join(COURSES, c, "files")
        names = os.listdir(d) if os.path.isdir(d) else []
        for what, pat in TEMPLATE_PATTERNS.items():
            for ext in ("md", "csv"):
                if not any(re.search(pat, n) and n.endswith("." + ext) for n in names):
                    missing.append("%s: %s (.%s)" % (c, what, ext))
    assert not missing, "templates missing: %s" % missing


def reference_keys(course):
    path = os.path.join(COURSES, course, "references.yaml")
    if not os.path.exists(path):
        return None
    return set(re.findall(r"^- *key: *['\"]?([A-Za-z0-9_:-]+)", open(path, encoding="utf-8").read(), re.M))


def test_every_course_has_a_bibliography_with_no_dangling_citation():
    problems = []
    for c in courses():
        keys = reference_keys(c)
        if not keys:
            problems.append("%s: no references.yaml" % c)
            continue
        cited = set()
        for m in modules(c):
            for p in all_lessons(m):
                for group in re.findall(r"\[(@[^\]]+)\]", open(p, encoding="utf-8").read()):
                    for k in re.findall(r"@([A-Za-z0-9_:-]+)", group):
                        cited.add(k)
                        if k not in keys:
                            problems.append("%s: [@%s] has no entry" % (os.path.relpath(p, COURSES), k))
        if not cited:
            problems.append("%s: no lesson cites the bibliography" % c)
    assert not problems, problems


def test_every_course_has_a_pretest():
    missing = []
    for c in courses():
        found = False
        for m in modules(c):
            for p in lessons(m):
                fm, body = split(p)
                if re.search(r"^pretest: *true\s*$", fm, re.M):
                    found = found or bool(quiz_blocks(body) or task_texts(body))
        if not found:
            missing.append(c)
    assert not missing, "courses without a pre-test: %s" % missing


def test_cluster_course_has_a_trainer_graded_capstone_action_plan():
    caps = [p for m in modules("cluster-development") for p in lessons(m)
            if "capstone" in os.path.basename(p)]
    assert len(caps) == 1, "no capstone in cluster-development: %s" % caps
    _, body = split(caps[0])
    assert "action plan" in body.lower(), caps[0]
    graded = [t for t in task_texts(body)
              if re.search(r"^type: *(review|rubric)\s*$", t, re.M) and re.search(r"^criteria:", t, re.M)]
    assert graded, "the capstone needs a trainer-graded task with an analytic rubric (criteria:)"
    assert review_tasks(body), "the capstone task must be graded by a trainer"
    blocks = dict(trainer_blocks(body))
    assert any(has_marking_grid(blocks.get(t, "")) for t in review_tasks(body)), \
        "the capstone needs a marking grid in its trainer block"


if __name__ == "__main__":
    harness.main(globals())
