"""Serving the catalogue: COURSES, COURSE, READ, SEARCH over CTP/1 and
HTTP, ETags, answer keys kept out of lessons, reloads (good, broken, and
twenty of them while clients read)."""

import json
import re
import os
import shutil
import signal
import subprocess
import threading
import time

import harness
from harness import Campusd, Env, Redis, http, wait_for

env = None
BUNDLED = os.path.join(harness.SOURCE, "courses")


def setup():
    global env
    env = Env(courses=BUNDLED)


def teardown():
    env.close()


def cl():
    return env.campusd.client()


def test_courses_lists_the_three_bundled_courses():
    r = cl().request("COURSES")
    assert r.code == 200
    rows = r.rows()
    ids = [row["id"] for row in rows]
    assert ids == ["cluster-development", "led-foundations", "value-chains"], ids
    for row in rows:
        assert int(row["modules"]) >= 4 and int(row["lessons"]) >= 12 and int(row["minutes"]) > 0


def test_course_outline():
    r = cl().request("COURSE cluster-development")
    assert r.code == 200 and r.text.startswith("Cluster development")
    rows = r.rows()
    # The course opens with its pre-test; the first lesson follows it.
    assert rows[0]["lesson"] == "cluster-development/pretest" and rows[0]["kind"] == "pretest"
    assert rows[1]["lesson"] == "cluster-development/what-is-a-cluster"
    kinds = {row["kind"] for row in rows}
    assert kinds == {"pretest", "lesson", "quiz", "case"}, kinds
    assert cl().request("COURSE nope").code == 404
    r = cl().request("COURSE ../etc")
    assert r.code == 400, r


def test_read_text_md_html_and_width():
    c = cl()
    r = c.request("READ cluster-development/what-is-a-cluster")
    assert r.code == 200
    assert r.text.startswith("cluster-development/what-is-a-cluster version=")
    assert "prev=cluster-development/pretest next=cluster-development/isolation-not-size" in r.text
    text = r.body.decode()
    assert max(len(l) for l in text.split("\n")) <= 80
    r = c.request("READ cluster-development/what-is-a-cluster text 40")
    lines = r.body.decode().split("\n")
    # Only an unbreakable lesson id in the reference list may run over.
    assert max(len(l) for l in lines if not re.match(r"\[\d+\] \S+$", l)) <= 40, lines
    r = c.request("READ cluster-development/what-is-a-cluster html")
    assert r.body.startswith(b"<h1>") or b"<h1" in r.body[:200], r.body[:200]
    r = c.request("READ cluster-development/what-is-a-cluster md")
    assert not r.body.startswith(b"---")            # front matter stripped
    assert b"title:" not in r.body[:200]


def test_read_errors():
    c = cl()
    for line, code in [("READ cluster-development/nope", 404), ("READ nope/what-is-a-cluster", 404),
                       ("READ ../../etc/passwd", 400), ("READ a/b/c", 400), ("READ A/B", 400),
                       ("READ cluster-development/what-is-a-cluster pdf", 400),
                       ("READ cluster-development/what-is-a-cluster text 5", 400),
                       ("READ", 400)]:
        r = c.request(line)
        assert r.code == code, (line, r)
    r = c.request("READ cluster-development/nope")
    assert "cluster-development/nope" in r.text


def test_lessons_never_show_answer_keys():
    """Every case and quiz, in every format: no task YAML, no GIFT answers."""
    c = cl()
    for course in ("cluster-development", "led-foundations", "value-chains"):
        for row in c.request("COURSE " + course).rows():
            if row["kind"] == "lesson":
                continue
            for fmt in ("text", "md", "html"):
                body = c.request("READ %s %s" % (row["lesson"], fmt)).body.decode()
                for mark in ("type: order", "type: classify", "type: numeric", "tolerance:",
                             "compute:", "concepts:", "```task", "```gift", "{=", "~%", "####"):
                    assert mark not in body, (row["lesson"], fmt, mark)
                assert "EXERCISE " + row["lesson"] in body, (row["lesson"], fmt)


def bundled_files():
    """(lesson id, the file less its trainer blocks, is trainer-only, [trainer
    block texts]) of every bundled lesson file."""
    out = []
    for course in sorted(os.listdir(BUNDLED)):
        cdir = os.path.join(BUNDLED, course)
        if not os.path.isdir(cdir):
            continue
        for mod in sorted(d for d in os.listdir(cdir) if re.match(r"\d\d-", d)):
            for f in sorted(os.listdir(os.path.join(cdir, mod))):
                m = re.match(r"\d\d-([a-z0-9-]+?)(\.case)?\.md$", f)
                if not m:
                    continue
                src = open(os.path.join(cdir, mod, f), encoding="utf-8").read()
                fm = re.match(r"---\n(.*?)\n---\n", src, re.S)
                trainer = bool(fm and re.search(r"^trainer: *true\s*$", fm.group(1), re.M))
                pat = r"^```trainer[^\n]*\n(.*?)^```"
                blocks = re.findall(pat, src, re.S | re.M)
                rest = re.sub(pat, " ", src, flags=re.S | re.M)
                out.append(("%s/%s" % (course, m.group(1)), rest, trainer, blocks))
    return out


def plain(s):
    """Words only: tags, Markdown marks and line breaks do not matter."""
    s = re.sub(r"<[^>]+>", " ", s)
    return " ".join(re.findall(r"[A-Za-z0-9']+", s)).lower()


def test_trainer_content_never_reaches_learners():
    """Trainer blocks and trainer-only lessons of the bundled courses: absent
    from what an anonymous reader gets in every format, outline and search."""
    c = cl()
    outlined = {r["lesson"] for course in ("cluster-development", "led-foundations", "value-chains")
                for r in c.request("COURSE " + course).rows()}
    for lesson, rest, trainer, blocks in bundled_files():
        if trainer:
            assert lesson not in outlined, lesson
            assert c.request("READ " + lesson).code == 404, lesson
            st, _, _ = http(env.campusd.http_port, "GET", "/api/lessons/" + lesson)
            assert st == 404, lesson
            continue
        runs = set()
        for b in blocks:
            words = plain(b).split()
            runs |= {" ".join(words[i:i + 6]) for i in range(0, max(len(words) - 5, 0), 3)}
        runs = {r for r in runs if r not in plain(rest)}   # what learners may read anyway
        for fmt in ("text", "md", "html"):
            body = c.request("READ %s %s" % (lesson, fmt)).body.decode()
            assert "```trainer" not in body and 'class="trainer"' not in body, (lesson, fmt)
            assert "[Trainer notes" not in body, (lesson, fmt)
            flat = plain(body)
            for run in runs:
                assert run not in flat, (lesson, fmt, run)
        for run in list(runs)[:3]:
            for row in c.request("SEARCH " + run).rows():
                assert row["lesson"] != lesson or run not in plain(row["snippet"]), (lesson, run)


def test_every_link_between_lessons_resolves():
    """Every .md link of the bundled courses, same folder or not, points at a
    lesson in HTML and has a reference in text."""
    c = cl()
    empty = []
    for course in ("cluster-development", "led-foundations", "value-chains"):
        for row in c.request("COURSE " + course).rows():
            html = c.request("READ %s html" % row["lesson"]).body.decode()
            if 'href=""' in html:
                empty.append(row["lesson"])
            for target in re.findall(r'href="#/lesson/([^"]+)"', html):
                assert c.request("READ " + target).code == 200, (row["lesson"], target)
    assert empty == [], empty


def test_search_ranks_title_matches_first():
    r = cl().request("SEARCH collective efficiency")
    rows = r.rows()
    assert rows, r
    assert rows[0]["lesson"] == "cluster-development/collective-efficiency", rows[:3]
    scores = [float(x["score"]) for x in rows]
    assert scores == sorted(scores, reverse=True)
    assert cl().request("SEARCH zzzqqqxx").rows() == []
    assert cl().request("SEARCH").code == 400


def test_a_kept_search_answer_is_the_same_and_goes_at_a_reload():
    """SEARCH answers are kept per worker: the same words answer the same
    bytes, in each language its own, and a reload drops them, an empty
    answer too (the new word is found at once)."""
    tmp = harness.tempfile.mkdtemp()
    courses = os.path.join(tmp, "courses")
    shutil.copytree(BUNDLED, courses)
    d = Campusd(tmp, redis=env.redis, courses=courses).start()
    try:
        c = d.client()
        first = c.request("SEARCH collective efficiency")
        assert first.code == 200 and first.rows(), first
        for _ in range(3):
            again = c.request("SEARCH collective efficiency")
            assert (again.code, again.text, again.body) == \
                (first.code, first.text, first.body)
        fr = c.request("SEARCH collective efficiency lang=fr")
        assert fr.code == 200
        assert c.request("SEARCH collective efficiency lang=fr").body == fr.body
        assert c.request("SEARCH collective efficiency").body == first.body
        word = "Zanzibarqueue"
        assert c.request("SEARCH " + word).rows() == []
        assert c.request("SEARCH " + word).rows() == []          # kept, empty
        lesson = [os.path.join(r, n) for r, _, ns in os.walk(courses) for n in ns
                  if n.endswith("-collective-efficiency.md")][0]
        with open(lesson, "a") as f:
            f.write("\nA word no other lesson has: %s.\n" % word)
        before = re.search(rb"catalog-version\t(\S+)", c.request("STATS").body).group(1)
        d.signal(signal.SIGHUP)
        wait_for(lambda: re.search(rb"catalog-version\t(\S+)",
                                   c.request("STATS").body).group(1) != before, what="reload")
        rows = c.request("SEARCH " + word).rows()
        assert [r["lesson"] for r in rows] == ["cluster-development/collective-efficiency"], rows
        assert word.lower() in rows[0]["snippet"].lower(), rows
        assert c.request("SEARCH " + word).rows() == rows
    finally:
        d.stop()


def test_http_routes_and_etag():
    port = env.campusd.http_port
    st, _, body = http(port, "GET", "/api/courses")
    doc = json.loads(body)
    assert st == 200 and [c["id"] for c in doc["items"]][0] == "cluster-development"
    st, _, body = http(port, "GET", "/api/courses/led-foundations")
    assert st == 200 and json.loads(body)["items"][0]["lesson"].startswith("led-foundations/")
    st, h, body = http(port, "GET", "/api/lessons/cluster-development/what-is-a-cluster")
    doc = json.loads(body)
    assert st == 200 and doc["data"]["format"] == "html" and "<h1" in doc["body"]
    assert doc["data"]["next"] == "cluster-development/isolation-not-size"
    etag = h["etag"]
    assert etag == '"%s"' % doc["data"]["version"]
    st, h2, body = http(port, "GET", "/api/lessons/cluster-development/what-is-a-cluster",
                        headers={"If-None-Match": etag})
    assert st == 304 and body == b"", (st, body)
    st, _, body = http(port, "GET", "/api/lessons/cluster-development/what-is-a-cluster?format=text&width=50")
    assert st == 200 and json.loads(body)["data"]["format"] == "text"
    st, _, body = http(port, "GET", "/api/lessons/cluster-development/nope")
    assert st == 404 and json.loads(body)["code"] == 404
    st, _, body = http(port, "GET", "/api/lessons/x/..%2F..%2Fetc")
    assert st == 400, (st, body)
    st, _, body = http(port, "GET", "/api/search?q=cocoa")
    assert st == 200 and any("nicaragua" in i["lesson"] for i in json.loads(body)["items"])
    st, _, _ = http(port, "GET", "/api/search")
    assert st == 400


def test_check_reports_file_line_message():
    out = subprocess.run([harness.CAMPUSD, "--check", os.path.join(harness.FIXTURES, "courses-broken")],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert ":1: error: missing front matter" in out.stdout, out.stdout
    out = subprocess.run([harness.CAMPUSD, "--check", BUNDLED], capture_output=True, text=True)
    # A listed language still being translated is the one warning allowed:
    # its readers get the default text and are told so.
    other = [l for l in out.stdout.splitlines()
             if not re.match(r"^\S+\.md:0: warning: no '[a-z0-9-]+' variant: ", l)]
    assert out.returncode == 0 and other == [], "\n".join(other)


def copy_fixture(tmp):
    dst = os.path.join(tmp, "courses")
    shutil.copytree(os.path.join(harness.FIXTURES, "courses-good"), dst)
    return dst


def test_reload_keeps_old_catalogue_on_errors():
    tmp = harness.tempfile.mkdtemp()
    courses = copy_fixture(tmp)
    d = Campusd(tmp, redis=env.redis, courses=courses).start()
    try:
        c = d.client()
        v1 = c.request("READ demo/welcome").text
        for _ in range(2):                     # the second answer comes from the cache
            st, h1, body1 = http(d.http_port, "GET", "/api/lessons/demo/welcome")
            assert st == 200 and "A new closing line." not in json.loads(body1)["body"]
        lesson = os.path.join(courses, "demo", "01-basics", "01-welcome.md")
        with open(lesson, "a") as f:
            f.write("\nA new closing line.\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: c.request("READ demo/welcome").text != v1, what="reload")
        assert b"A new closing line." in c.request("READ demo/welcome").body
        # The HTTP answers rendered for the old catalogue are gone with it.
        st, h2, body2 = http(d.http_port, "GET", "/api/lessons/demo/welcome")
        assert st == 200 and "A new closing line." in json.loads(body2)["body"]
        assert h2["etag"] != h1["etag"]
        v2 = c.request("READ demo/welcome").text
        # A broken tree: the live catalogue stays and the log says why.
        with open(os.path.join(courses, "demo", "01-basics", "03-broken.md"), "w") as f:
            f.write("no front matter here\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: "03-broken.md:1: error" in d.log_text(), what="reload error logged")
        assert c.request("READ demo/welcome").text == v2
    finally:
        d.stop()


def test_reload_verb_for_admins():
    tmp = harness.tempfile.mkdtemp()
    courses = copy_fixture(tmp)
    d = Campusd(tmp, redis=env.redis, courses=courses).start()
    try:
        harness.add_user(env.redis.port, "root-admin", "admin", "an admin password", data=d.data)
        c = d.client()
        assert c.request("RELOAD").code == 401
        assert c.request('LOGIN root-admin "an admin password"').code == 200
        bad = os.path.join(courses, "demo", "01-basics", "03-broken.md")
        with open(bad, "w") as f:
            f.write("no front matter here\n")
        r = c.request("RELOAD")
        assert r.code == 409 and b"03-broken.md:1: error:" in r.body, (r, r.body)
        assert c.request("READ demo/welcome").code == 200      # the live one stayed
        os.unlink(bad)
        r = c.request("RELOAD")
        assert r.code == 200 and r.text.startswith("reloaded: 1 courses"), r
    finally:
        d.stop()


def test_twenty_reloads_under_load_drop_nothing():
    tmp = harness.tempfile.mkdtemp()
    courses = copy_fixture(tmp)
    d = Campusd(tmp, redis=env.redis, courses=courses).start()
    lesson = os.path.join(courses, "demo", "01-basics", "02-lists.md")
    original = open(lesson).read()
    stop = threading.Event()
    results = {"ok": 0, "bad": []}

    def reader():
        c = d.client()
        while not stop.is_set():
            c.send(b"READ demo/lists md\r\nREAD demo/welcome\r\n")
            r1, r2 = c.read_response(), c.read_response()
            if r1.code != 200 or r2.code != 200:
                results["bad"].append((r1, r2))
                continue
            # The body must be the one its version names: never mixed.
            body = r1.body.decode()
            m = [p for p in r1.text.split() if p.startswith("version=")][0][8:]
            gen = body.count("Generation line")
            seen.setdefault(m, gen)
            if seen[m] != gen:
                results["bad"].append(("mixed", m, gen, seen[m]))
            results["ok"] += 1
        c.close()

    seen = {}
    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(20):
            with open(lesson, "w") as f:
                f.write(original + "".join("\nGeneration line %d.\n" % k for k in range(i + 1)))
            d.signal(signal.SIGHUP)
            time.sleep(0.15)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        d.stop()
    assert results["bad"] == [], results["bad"][:5]
    assert results["ok"] > 100, results["ok"]
    assert len(seen) >= 10, len(seen)           # the readers did see new versions
    assert d.log_text().count("courses: 1 courses") >= 20


if __name__ == "__main__":
    harness.main(globals())
