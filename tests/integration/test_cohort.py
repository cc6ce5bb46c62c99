"""Cohorts against a real campusd and a real redis-server: the access table
over every identity, paced release across date boundaries in two time zones
(one of them through a daylight-saving change) with the test clock, bulk
enrolment (500 rows; a bad row at line 317 changes nothing), membership kept
on both sides and repaired, and hostile input."""

import calendar
import json
import re
import os
import subprocess
import time

import harness
from harness import Env, http, wait_for

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]
PW = "the password 1"
NAMES = {"learner": "lena", "other": "otto", "trainer": "tara", "trainer2": "tomas", "admin": "adam"}
WHO = ["anon", "learner", "other", "trainer", "trainer2", "admin"]

env = None
clock = None
conns = {}


def ms(y, m, d, hh=0, mi=0, tz_offset_h=0):
    """UTC milliseconds of a wall time at a fixed offset east of UTC."""
    return (calendar.timegm((y, m, d, hh, mi, 0)) - tz_offset_h * 3600) * 1000


def set_clock(value_ms):
    with open(clock + ".tmp", "w") as f:
        f.write("%d\n" % value_ms)
    os.replace(clock + ".tmp", clock)


def setup():
    global env, clock
    tmpdir = __import__("tempfile").mkdtemp(prefix="campus-cohort-clock-")
    clock = os.path.join(tmpdir, "clock")
    set_clock(ms(2026, 3, 1, 12))
    env = Env(extra=FAST + ["--test-clock", clock, "--cohort-join-fail-max", "10"])
    p = subprocess.run([harness.CAMPUSD, "--redis", "127.0.0.1:%d" % env.redis.port,
                        "--add-user", "adam", "--role", "admin"] + FAST,
                       input=(PW + "\n").encode(), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    admin = login("adam")
    for who in ("learner", "other"):
        assert admin.request('USER ADD %s learner "%s"' % (NAMES[who], PW)).code == 201
    for who in ("trainer", "trainer2"):
        assert admin.request('USER ADD %s trainer "%s"' % (NAMES[who], PW)).code == 201
    conns["anon"] = env.campusd.client()
    conns["admin"] = admin
    for who in ("learner", "other", "trainer", "trainer2"):
        conns[who] = login(NAMES[who])


def teardown():
    for c in conns.values():
        c.close()
    env.close()


def login(name):
    c = env.campusd.client()
    r = c.request('LOGIN %s "%s"' % (name, PW))
    assert r.code == 200, r
    return c


def literal(c, line, data):
    if isinstance(data, str):
        data = data.encode()
    c.send(line.encode() + b" {%d}\r\n" % len(data) + data)
    return c.read_response()


def create(c, rest, schedule=None):
    line = "COHORT CREATE " + rest
    r = literal(c, line, schedule) if schedule is not None else c.request(line)
    assert r.code == 201, r
    parts = r.text.split()
    return parts[1], parts[3]          # "cohort ID code CODE"


_submissions = [0]


def submit(c, ex, doc):
    """Each call is a new submission (its own key): the same answer sent
    again without one would be a retry of the first."""
    _submissions[0] += 1
    return literal(c, "SUBMIT %s s%d" % (ex, _submissions[0]), doc)


# ---- creation, storage, both sides ----

def test_create_show_and_storage():
    tara = conns["trainer"]
    cid, code = create(tara, 'demo "Spring 2026" 2026-03-02 every 7 days Europe/Paris')
    assert len(code) >= 8 and not set(code) & set("01ilo"), code
    r = tara.request("COHORT SHOW " + cid)
    assert r.code == 200, r
    kv = r.kv()
    assert kv["course"] == "demo" and kv["tz"] == "Europe/Paris" and kv["code"] == code, kv
    assert kv["module basics"] == "opens 2026-03-02", kv
    assert kv["module cases"] == "opens 2026-03-09", kv
    # Stored as UTC: midnight in Paris (UTC+1 in March before the change) is 23:00Z.
    opened = env.redis.cmd("HGET", "campus:{c:%s}:open" % cid, "basics")
    assert int(opened) == ms(2026, 3, 2, tz_offset_h=1), opened
    assert env.redis.cmd("HGET", "campus:{c:%s}:meta" % cid, "owner") == b"tara"
    assert env.redis.cmd("SISMEMBER", "campus:{u:tara}:teaches", cid) == b":1"
    assert env.redis.cmd("HGET", "campus:{cohorts}:codes", code) == cid.encode()


def test_join_both_sides_and_leave():
    tara, lena = conns["trainer"], conns["learner"]
    cid, code = create(tara, "demo Both 2026-03-01")
    r = lena.request("COHORT JOIN " + code.upper())
    assert r.code == 200 and r.text == "joined cohort %s" % cid, r
    assert env.redis.cmd("ZSCORE", "campus:{c:%s}:learners" % cid, "lena") != b"$-1"
    assert env.redis.cmd("HGET", "campus:{u:lena}:cohorts", cid) == b"demo"
    assert env.redis.cmd("HLEN", "campus:{c:%s}:pending" % cid) == b":0"
    rows = lena.request("COHORT LIST").rows()
    assert any(x["id"] == cid and x["as"] == "learner" for x in rows), rows
    assert lena.request("COHORT LEAVE " + cid).code == 200
    assert env.redis.cmd("HGET", "campus:{u:lena}:cohorts", cid) == b"$-1"
    assert env.redis.cmd("ZSCORE", "campus:{c:%s}:learners" % cid, "lena") == b"$-1"
    assert lena.request("COHORT SHOW " + cid).code == 404


def test_half_done_write_is_repaired():
    """A change written to the cohort but not yet to the user (campusd
    stopped in between) is finished from the pending hash."""
    tara = conns["trainer"]
    cid, _ = create(tara, "demo Repair 2026-03-01")
    env.redis.cmd("ZADD", "campus:{c:%s}:learners" % cid, "1", "otto")
    env.redis.cmd("HSET", "campus:{c:%s}:pending" % cid, "l:otto", "+demo")
    env.redis.cmd("SADD", "campus:{cohorts}:dirty", cid)
    assert env.redis.cmd("HGET", "campus:{u:otto}:cohorts", cid) == b"$-1"
    wait_for(lambda: env.redis.cmd("HGET", "campus:{u:otto}:cohorts", cid) == b"demo",
             timeout=10, what="the repair timer")
    wait_for(lambda: env.redis.cmd("HLEN", "campus:{c:%s}:pending" % cid) == b":0", timeout=10,
             what="the pending entry to go")
    # The same, repaired by the next read of the cohort rather than the timer.
    env.redis.cmd("ZREM", "campus:{c:%s}:learners" % cid, "otto")
    env.redis.cmd("HSET", "campus:{c:%s}:pending" % cid, "l:otto", "-")
    assert tara.request("COHORT SHOW " + cid).code == 200
    assert env.redis.cmd("HGET", "campus:{u:otto}:cohorts", cid) == b"$-1"


# ---- access: every verb as each identity ----

def test_access_table():
    tara, lena = conns["trainer"], conns["learner"]
    cid, code = create(tara, "demo Access 2026-03-01")
    assert lena.request("COHORT JOIN " + code).code == 200
    none = "98765"
    csv_body = "name\nlena\n"
    # line -> codes for anon, learner in it, learner outside, its trainer,
    # another trainer, admin. Someone else's cohort answers as a missing one.
    table = [
        ("COHORT LIST",                         401, 200, 200, 200, 200, 200),
        ("COHORT SHOW {id}",                    401, 200, 404, 200, 404, 200),
        ("COHORT SHOW %s" % none,               401, 404, 404, 404, 404, 404),
        ("COHORT CODE {id}",                    401, 404, 404, 200, 404, 200),
        ("COHORT OPEN {id} basics",          401, 404, 404, 200, 404, 200),
        ("COHORT EXTEND {id} lena cases 2026-12-01", 401, 404, 404, 200, 404, 200),
        ("COHORT ADD {id} lena",                401, 404, 404, 200, 404, 200),
        ("COHORT ADD %s lena" % none,           401, 404, 404, 404, 404, 404),
        ("COHORT TRAINER {id} add tomas",       401, 404, 404, 200, 404, 200),
        ("COHORT CREATE demo X 2026-03-01",     401, 403, 403, 201, 201, 201),
        ("COHORT JOIN zzzzzzzzzz",              401, 404, 404, 404, 404, 404),
        ("COHORT LEAVE %s" % none,              401, 404, 404, 404, 404, 404),
        ("ENROL",                               401, 404, 404, 200, 404, 200),
        ("COHORT PROGRESS {id}",                401, 404, 404, 200, 404, 200),
        ("COHORT GRADES {id}",                  401, 404, 404, 200, 404, 200),
        ("COHORT ATTEMPTS {id} lena",           401, 404, 404, 200, 404, 200),
        ("COHORT REMOVE {id} nobody-here",      401, 404, 404, 200, 404, 200),
        ("COHORT CODE {id} rotate",             401, 404, 404, 200, 404, 200),
        ("COHORT LEAVE {id}",                   401, 200, 404, 409, 404, 409),
        ("COHORT CLOSE {id}",                   401, 404, 404, 200, 404, 200),
    ]
    failures = []
    for row in table:
        line, want = row[0], row[1:]
        for who, code_want in zip(WHO, want):
            c = conns[who]
            if line == "ENROL":
                r = literal(c, "COHORT ENROL %s" % cid, csv_body)
            else:
                r = c.request(line.replace("{id}", cid))
            if r.code != code_want:
                failures.append("%s as %s: %d %s (want %d)" % (line, who, r.code, r.text, code_want))
            if line == "COHORT TRAINER {id} add tomas" and r.code == 200:
                # Undo so that "another trainer" stays a stranger to this cohort.
                assert tara.request("COHORT TRAINER %s remove tomas" % cid).code == 200
    assert not failures, "\n".join(failures)
    # Missing and foreign cohorts give the very same text.
    a = conns["other"].request("COHORT SHOW " + cid)
    b = conns["other"].request("COHORT SHOW 999999")
    assert a.text.replace(cid, "X") == b.text.replace("999999", "X"), (a, b)


def test_co_trainer_runs_the_cohort():
    tara, tomas = conns["trainer"], conns["trainer2"]
    cid, _ = create(tara, "demo Co 2026-03-01")
    assert tomas.request("COHORT SHOW " + cid).code == 404
    assert tara.request("COHORT TRAINER %s add tomas" % cid).code == 200
    assert tomas.request("COHORT SHOW " + cid).code == 200
    assert any(x["id"] == cid for x in tomas.request("COHORT LIST").rows())
    assert tara.request("COHORT TRAINER %s add lena" % cid).code == 400   # not a trainer account
    assert tara.request("COHORT TRAINER %s remove tara" % cid).code == 200
    assert tomas.request("COHORT TRAINER %s remove tomas" % cid).code == 409  # the last one


# ---- paced release ----

def test_paced_release_two_time_zones_and_dst():
    """Module 2 opens on 2026-03-29 at local midnight. In Europe/Paris the
    clocks go forward that morning (02:00 -> 03:00), so midnight is still
    UTC+1: 2026-03-28T23:00Z. In America/New_York (changed on 03-08) it is
    UTC-4: 2026-03-29T04:00Z."""
    tara = conns["trainer"]
    sched = "basics 2026-03-01\ncases 2026-03-29 2026-04-05\n"
    paris, pcode = create(tara, "demo Paris 2026-03-01 Europe/Paris", sched)
    ny, ncode = create(tara, "demo NY 2026-03-01 America/New_York", sched)
    admin = conns["admin"]
    for name, code in (("pia", pcode), ("nyla", ncode)):
        assert admin.request('USER ADD %s learner "%s"' % (name, PW)).code == 201
        c = login(name)
        assert c.request("COHORT JOIN " + code).code == 200
        conns[name] = c
    pia, nyla = conns["pia"], conns["nyla"]

    set_clock(ms(2026, 3, 28, 22, 59))            # 23:59 in Paris, 18:59 in New York
    r = pia.request("READ demo/market")
    assert r.code == 403 and r.text == "module cases opens on 2026-03-29 (Europe/Paris)", r
    r = nyla.request("EXERCISE demo/market")
    assert r.code == 403 and r.text == "module cases opens on 2026-03-29 (America/New_York)", r
    assert pia.request("READ demo/welcome").code == 200
    outline = {x["lesson"]: x["opens"] for x in pia.request("COURSE demo").rows()}
    assert outline == {"demo/welcome": "", "demo/lists": "",
                       "demo/market": "2026-03-29 (Europe/Paris)"}, outline
    assert "opens" not in conns["other"].request("COURSE demo").rows()[0]
    assert submit(pia, "demo/market", "share: 92\n").code == 403
    assert env.redis.cmd("LLEN", "campus:{u:pia}:attempts:demo/market") == b":0"

    set_clock(ms(2026, 3, 28, 23, 0))             # midnight in Paris
    assert pia.request("READ demo/market").code == 200
    assert nyla.request("READ demo/market").code == 403
    set_clock(ms(2026, 3, 29, 3, 59))             # 23:59 on the 28th in New York
    assert nyla.request("READ demo/market").code == 403
    set_clock(ms(2026, 3, 29, 4, 0))              # midnight in New York (UTC-4 since 03-08)
    assert nyla.request("READ demo/market").code == 200
    # Someone outside any cohort is not paced.
    set_clock(ms(2026, 3, 2))
    assert conns["other"].request("READ demo/market").code == 200
    # COHORT OPEN opens early for everyone.
    assert pia.request("READ demo/market").code == 403
    assert tara.request("COHORT OPEN %s cases" % paris).code == 200
    assert pia.request("READ demo/market").code == 200
    assert nyla.request("READ demo/market").code == 403
    # EXTEND before the opening date: an earlier opening for one learner.
    assert tara.request("COHORT EXTEND %s nyla cases 2026-03-01" % ny).code == 200
    assert nyla.request("READ demo/market").code == 200


def test_due_dates_mark_late_and_extend():
    tara, admin = conns["trainer"], conns["admin"]
    sched = "basics 2026-03-01\ncases 2026-03-01 2026-03-10\n"
    cid, code = create(tara, "demo Due 2026-03-01 Europe/Paris", sched)
    for name in ("dora", "dan"):
        assert admin.request('USER ADD %s learner "%s"' % (name, PW)).code == 201
        conns[name] = login(name)
        assert conns[name].request("COHORT JOIN " + code).code == 200
    set_clock(ms(2026, 3, 10, 22, 59))            # 23:59 on the due day in Paris
    assert submit(conns["dora"], "demo/market", "share: 92\n").code == 200
    set_clock(ms(2026, 3, 10, 23, 0))             # past it
    assert tara.request("COHORT EXTEND %s dan cases 2026-03-20" % cid).code == 200
    r = submit(conns["dora"], "demo/market", "share: 92\n")
    assert r.code == 200, r                       # stored, marked late
    assert submit(conns["dan"], "demo/market", "share: 92\n").code == 200
    late = env.redis.cmd("HGET", "campus:{c:%s}:late" % cid, "dora demo/market")
    assert late == b"2", late                    # her second attempt was the first late one
    assert env.redis.cmd("HEXISTS", "campus:{c:%s}:late" % cid, "dan demo/market") == b":0"
    assert env.redis.cmd("LLEN", "campus:{u:dora}:attempts:demo/market") == b":2"
    late = {x["name"]: x["late"] for x in tara.request("COHORT PROGRESS " + cid).rows()}
    assert late == {"dora": "1", "dan": "0"}, late
    rows = tara.request("COHORT ATTEMPTS %s dora" % cid).rows()
    assert [(x["attempt"], x["late"]) for x in rows] == [("1", "no"), ("2", "yes")], rows
    # A closed cohort takes no more submissions, and no joins.
    assert tara.request("COHORT CLOSE " + cid).code == 200
    r = submit(conns["dan"], "demo/market", "share: 92\n")
    assert r.code == 403 and "closed" in r.text, r
    assert conns["other"].request("COHORT JOIN " + code).code == 403


def test_late_attempts_ignored_by_setting_and_two_servers_share_state():
    """A second campusd on the same Redis, whose copy of the course says
    late: ignore for the market case, sees the cohort made on the first and
    leaves the late attempt out of the grades; the first counts it."""
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="campus-cohort-late-")
    courses = os.path.join(tmp, "courses")
    shutil.copytree(os.path.join(harness.FIXTURES, "courses-good"), courses)
    market = os.path.join(courses, "demo", "02-cases", "01-market.case.md")
    with open(market) as f:
        text = f.read()
    with open(market, "w") as f:
        f.write(text.replace("policy: best\n", "policy: best\nlate: ignore\n", 1))
    other = harness.Campusd(tmp, redis=env.redis, courses=courses,
                            extra=FAST + ["--test-clock", clock]).start()
    try:
        tara_a = conns["trainer"]
        cid, code = create(tara_a, "demo Late 2026-03-01 UTC", "cases 2026-03-01 2026-03-10\n")
        assert conns["admin"].request('USER ADD lateo learner "%s"' % PW).code == 201
        b = other.client()
        assert b.request('LOGIN lateo "%s"' % PW).code == 200
        assert b.request("COHORT JOIN " + code).code == 200      # joined on the other server
        set_clock(ms(2026, 3, 5))
        assert submit(b, "demo/market", "share: 10\n").code == 200
        set_clock(ms(2026, 3, 12))
        assert submit(b, "demo/market", "share: 92\n").code == 200   # late
        tb = other.client()
        assert tb.request('LOGIN tara "%s"' % PW).code == 200
        col = "Exercise: The caf\u00e9 market of D\u00farcal (Real)"

        def market_grade(c):
            import csv
            import io
            r = c.request("COHORT GRADES " + cid)
            assert r.code == 200, r
            rows = list(csv.DictReader(io.StringIO(r.body.decode("utf-8-sig"), newline="")))
            return {x["Username"]: x[col] for x in rows}

        assert market_grade(tb) == {"lateo": "0.00"}                # late: ignore
        assert market_grade(tara_a) == {"lateo": "100.00"}          # the default: count
        b.close()
        tb.close()
    finally:
        other.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# ---- bulk enrolment ----

def test_enrol_500_with_accounts():
    tara = conns["trainer"]
    cid, _ = create(tara, "demo Bulk 2026-03-01")
    rows = ["name,display name,email"]
    rows += ['bulk%03d,"Learner, number %d",b%d@example.org' % (i, i, i) for i in range(500)]
    t0 = time.time()
    r = literal(tara, "COHORT ENROL %s accounts" % cid, "\r\n".join(rows) + "\r\n")
    assert r.code == 200, r
    assert r.text == "enrolled 500 learners in cohort %s, 500 accounts created" % cid, r
    lines = r.body.decode().split("\r\n")
    assert lines[0] == "name,password" and len(lines) == 502 and lines[-1] == "", lines[:3]
    name, pw = lines[17].split(",")
    assert env.redis.cmd("ZCARD", "campus:{c:%s}:learners" % cid) == b":500"
    stored = env.redis.cmd("HGET", "campus:{u:%s}:account" % name, "hash")
    assert stored.startswith(b"$argon2id$") and pw.encode() not in stored
    assert env.redis.cmd("HGET", "campus:{u:%s}:cohorts" % name, cid) == b"demo"
    c = env.campusd.client()
    assert c.request('LOGIN %s "%s"' % (name, pw)).code == 200
    c.close()
    roster = json.loads(env.redis.cmd("HGET", "campus:{c:%s}:roster" % cid, "bulk005"))
    assert roster == {"display": "Learner, number 5", "email": "b5@example.org"}, roster
    assert time.time() - t0 < 120


def test_enrol_bad_row_317_changes_nothing():
    tara = conns["trainer"]
    cid, _ = create(tara, "demo BadRow 2026-03-01")
    rows = ["fresh%03d" % i for i in range(400)]
    rows[316] = "Not A Valid Name!"               # line 317
    before = env.redis.cmd("ZCARD", "campus:users")
    r = literal(tara, "COHORT ENROL %s accounts" % cid, "\n".join(rows) + "\n")
    assert r.code == 400 and r.text.startswith("line 317:") and "nothing enrolled" in r.text, r
    assert env.redis.cmd("ZCARD", "campus:{c:%s}:learners" % cid) == b":0"
    assert env.redis.cmd("ZCARD", "campus:users") == before
    assert env.redis.cmd("EXISTS", "campus:{u:fresh000}:account") == b":0"
    # Without "accounts", an unknown name stops the whole request too.
    r = literal(tara, "COHORT ENROL %s" % cid, "lena\nnobody-here\n")
    assert r.code == 400 and "nobody-here" in r.text, r
    assert env.redis.cmd("ZCARD", "campus:{c:%s}:learners" % cid) == b":0"


# ---- what a trainer sees ----

GOLDEN = os.path.join(harness.FIXTURES, "golden", "cohort-grades.csv")


_grades = []


def grades_cohort():
    """A small cohort with known work (made once): its grades CSV is a golden file."""
    if _grades:
        return _grades[0]
    tara = conns["trainer"]
    set_clock(ms(2026, 3, 1, 12))
    cid, _ = create(tara, "demo Grades 2026-03-01")
    body = ('name,display name,email\r\n'
            'g-ann,"Ann ""Annie"" Lee",ann@example.org\r\n'
            'g-bob,"=HYPERLINK(""http://evil.example"",""click"")",bob@example.org\r\n'
            'g-cy,"Cy\nNewline, Jr",cy@example.org\r\n')
    r = literal(tara, "COHORT ENROL %s accounts" % cid, body)
    assert r.code == 200, r
    pws = dict(l.split(",") for l in r.body.decode().split("\r\n")[1:] if l)
    ann = env.campusd.client()
    assert ann.request('LOGIN g-ann "%s"' % pws["g-ann"]).code == 200
    assert ann.request("DONE demo/welcome").code == 200
    assert ann.request("DONE demo/lists").code == 200
    assert submit(ann, "demo/market", "share: 50\n").code == 200
    assert submit(ann, "demo/market", "share: 92\n").code == 200
    bob = env.campusd.client()
    assert bob.request('LOGIN g-bob "%s"' % pws["g-bob"]).code == 200
    assert bob.request("DONE demo/welcome").code == 200
    assert submit(bob, "demo/market", "share: 10\n").code == 200
    ann.close()
    bob.close()
    _grades.append(cid)
    return cid


def test_progress_rows_and_sorting():
    tara = conns["trainer"]
    cid = grades_cohort()
    r = tara.request("COHORT PROGRESS %s passed desc" % cid)
    assert r.code == 200, r
    rows = r.rows()
    assert [x["name"] for x in rows] == ["g-ann", "g-bob", "g-cy"], rows
    ann, bob, cy = rows
    assert ann["basics %"] == "100" and ann["cases %"] == "0" and ann["passed"] == "1", ann
    assert bob["basics %"] == "50" and bob["passed"] == "0", bob
    assert cy["basics %"] == "0" and cy["last activity"] == "" and cy["late"] == "0", cy
    assert ann["last activity"].startswith("20"), ann
    assert "\n" not in r.body.decode().split("\n", 1)[1].replace("\n", "", 3)
    r = tara.request('COHORT PROGRESS %s "basics %%" asc' % cid)
    assert [x["name"] for x in r.rows()] == ["g-cy", "g-bob", "g-ann"], r
    assert tara.request("COHORT PROGRESS %s nosuchcolumn" % cid).code == 400
    assert conns["trainer2"].request("COHORT PROGRESS %s" % cid).code == 404


def test_grades_csv_golden_and_parsed():
    import csv
    import io
    tara = conns["trainer"]
    cid = grades_cohort()
    r = tara.request("COHORT GRADES " + cid)
    assert r.code == 200, r
    with open(GOLDEN, "rb") as f:
        golden = f.read()
    assert r.body == golden, "grades CSV differs from the golden file:\n%r\n%r" % (r.body, golden)
    rows = list(csv.reader(io.StringIO(r.body.decode("utf-8-sig"), newline="")))
    assert rows[0][:4] == ["First name", "Last name", "Username", "Email address"], rows[0]
    assert rows[0][-2:] == ["Course total (Real)", "Pass"], rows[0]
    by = {row[2]: row for row in rows[1:]}
    assert by["g-ann"][0] == "Ann" and by["g-ann"][1] == '"Annie" Lee', by["g-ann"]
    assert by["g-bob"][0].startswith("'="), by["g-bob"]      # not run as a formula
    assert by["g-cy"][:2] == ["Cy\nNewline,", "Jr"], by["g-cy"]
    # Ann passed the market but has not tried the lists quiz: no pass yet.
    assert by["g-ann"][4:] == ["-", "100.00", "100.00", "no"], by["g-ann"]
    assert by["g-bob"][4:] == ["-", "0.00", "0.00", "no"], by["g-bob"]
    assert by["g-cy"][4:] == ["-", "-", "-", "no"], by["g-cy"]
    # The same file over HTTP, as a download.
    s, h, body = http(env.campusd.http_port, "POST", "/api/login",
                      body=json.dumps({"name": "tara", "password": PW}))
    assert s == 200, body
    tok = json.loads(body)["data"]["token"]
    s, h, body = http(env.campusd.http_port, "GET", "/api/cohorts/%s/grades.csv" % cid,
                      headers={"Authorization": "Bearer " + tok})
    assert s == 200 and body == golden, (s, body[:100])
    assert h["content-type"] == "text/csv; charset=utf-8", h
    assert h["content-disposition"] == 'attachment; filename="cohort-%s-demo-grades.csv"' % cid, h
    s, h, body = http(env.campusd.http_port, "GET", "/api/cohorts/%s/grades.csv" % cid)
    assert s == 401, (s, body)


def test_http_routes():
    port = env.campusd.http_port

    def tok(name):
        s, h, body = http(port, "POST", "/api/login", body=json.dumps({"name": name, "password": PW}))
        assert s == 200, body
        return {"Authorization": "Bearer " + json.loads(body)["data"]["token"]}

    tara, tomas, lena = tok("tara"), tok("tomas"), tok("lena")
    s, h, body = http(port, "POST", "/api/cohorts", headers=tara,
                      body=json.dumps({"course": "demo", "name": "Web", "start": "2026-03-01",
                                       "pace": "every 7", "tz": "Europe/Paris"}))
    assert s == 201, body
    msg = json.loads(body)["message"].split()
    cid, code = msg[1], msg[3]
    s, h, body = http(port, "GET", "/api/cohorts/" + cid, headers=tara)
    assert s == 200 and json.loads(body)["data"]["pace"] == "every 7 days", body
    assert http(port, "GET", "/api/cohorts/" + cid, headers=tomas)[0] == 404
    assert http(port, "GET", "/api/cohorts/" + cid)[0] == 401
    s, h, body = http(port, "POST", "/api/cohorts/join", headers=lena, body=json.dumps({"code": code}))
    assert s == 200, body
    s, h, body = http(port, "GET", "/api/cohorts", headers=lena)
    assert any(i["id"] == cid for i in json.loads(body)["items"]), body
    s, h, body = http(port, "POST", "/api/cohorts/%s/enrol" % cid,
                      headers=dict(tara, **{"Content-Type": "text/csv"}), body="otto\n")
    assert s == 200, body
    # The same as JSON, the one form a browser session may send.
    s, h, body = http(port, "POST", "/api/cohorts/%s/enrol" % cid, headers=tara,
                      body=json.dumps({"csv": "otto\n"}))
    assert s == 200, body
    s, h, body = http(port, "POST", "/api/cohorts/%s/enrol" % cid, headers=tara,
                      body=json.dumps({"roster": "otto\n"}))
    assert s == 400 and b"csv" in body, body
    s, h, body = http(port, "GET", "/api/cohorts/%s/progress?sort=name&order=desc" % cid, headers=tara)
    assert s == 200 and [i["name"] for i in json.loads(body)["items"]] == ["otto", "lena"], body
    assert http(port, "POST", "/api/cohorts/%s/open/cases" % cid, headers=tara)[0] == 200
    s, h, body = http(port, "POST", "/api/cohorts/%s/extend" % cid, headers=tara,
                      body=json.dumps({"learner": "lena", "module": "cases", "date": "2026-02-30"}))
    assert s == 400, body
    assert http(port, "DELETE", "/api/cohorts/%s/learners/otto" % cid, headers=tara)[0] == 200
    assert http(port, "POST", "/api/cohorts/%s/code" % cid, headers=tara,
                body=json.dumps({"action": "rotate"}))[0] == 200
    assert http(port, "POST", "/api/cohorts/%s/leave" % cid, headers=lena)[0] == 200
    assert http(port, "POST", "/api/cohorts/%s/close" % cid, headers=tomas)[0] == 404
    assert http(port, "POST", "/api/cohorts/%s/close" % cid, headers=tara)[0] == 200


def test_http_routes_trainers_learners_code_grades():
    """The routes the first HTTP test leaves out: co-trainers, ADD, the code,
    grades as JSON, and a learner whose name has a dot and an underscore."""
    port = env.campusd.http_port
    admin = conns["admin"]
    assert admin.request('USER ADD ana.m_2 learner "%s"' % PW).code == 201

    def tok(name):
        s, h, body = http(port, "POST", "/api/login", body=json.dumps({"name": name, "password": PW}))
        assert s == 200, body
        return {"Authorization": "Bearer " + json.loads(body)["data"]["token"]}

    tara, tomas, lena = tok("tara"), tok("tomas"), tok("lena")
    s, h, body = http(port, "POST", "/api/cohorts", headers=tara,
                      body=json.dumps({"course": "demo", "name": "Routes", "start": "2026-03-01"}))
    assert s == 201, body
    cid = json.loads(body)["message"].split()[1]
    # Co-trainers: tomas sees nothing until added, then the cohort.
    assert http(port, "GET", "/api/cohorts/" + cid, headers=tomas)[0] == 404
    s, h, body = http(port, "POST", "/api/cohorts/%s/trainers" % cid, headers=tara,
                      body=json.dumps({"action": "add", "name": "tomas"}))
    assert s == 200, body
    assert env.redis.cmd("SISMEMBER", "campus:{c:%s}:trainers" % cid, "tomas") == b":1"
    assert http(port, "GET", "/api/cohorts/" + cid, headers=tomas)[0] == 200
    # A learner cannot add anyone; the trainer can, by name, dots and all.
    s, h, body = http(port, "POST", "/api/cohorts/%s/learners" % cid, headers=lena,
                      body=json.dumps({"names": ["ana.m_2"]}))
    assert s == 404, body
    s, h, body = http(port, "POST", "/api/cohorts/%s/learners" % cid, headers=tara,
                      body=json.dumps({"names": ["ana.m_2", "lena"]}))
    assert s == 200, body
    assert env.redis.cmd("ZSCORE", "campus:{c:%s}:learners" % cid, "ana.m_2") != b"$-1"
    s, h, body = http(port, "POST", "/api/cohorts/%s/learners" % cid, headers=tara,
                      body=json.dumps({"names": []}))
    assert s == 400, body
    # The code: shown to its trainers, to nobody else.
    s, h, body = http(port, "GET", "/api/cohorts/%s/code" % cid, headers=tomas)
    assert s == 200, body
    code = env.redis.cmd("HGET", "campus:{c:%s}:meta" % cid, "code").decode()
    assert code in body.decode(), (code, body)
    assert http(port, "GET", "/api/cohorts/%s/code" % cid, headers=lena)[0] in (403, 404)
    # Grades as JSON carry the same CSV as the file route.
    s, h, body = http(port, "GET", "/api/cohorts/%s/grades" % cid, headers=tara)
    assert s == 200, body
    csv_in_json = json.loads(body)["body"]
    s, h, raw = http(port, "GET", "/api/cohorts/%s/grades.csv" % cid, headers=tara)
    assert s == 200 and raw.decode("utf-8") == csv_in_json, (raw, csv_in_json)
    assert "ana.m_2" in csv_in_json and "lena" in csv_in_json
    assert http(port, "GET", "/api/cohorts/%s/grades" % cid, headers=lena)[0] in (403, 404)
    # REMOVE by a name with a dot and an underscore in the path.
    assert http(port, "DELETE", "/api/cohorts/%s/learners/ana.m_2" % cid, headers=tara)[0] == 200
    assert env.redis.cmd("ZSCORE", "campus:{c:%s}:learners" % cid, "ana.m_2") == b"$-1"
    assert http(port, "DELETE", "/api/cohorts/%s/learners/ana%%00m" % cid, headers=tara)[0] == 400
    s, h, body = http(port, "POST", "/api/cohorts/%s/trainers" % cid, headers=tara,
                      body=json.dumps({"action": "remove", "name": "tomas"}))
    assert s == 200, body
    assert http(port, "GET", "/api/cohorts/" + cid, headers=tomas)[0] == 404


def test_review_list_by_cohort():
    tara, tomas, admin = conns["trainer"], conns["trainer2"], conns["admin"]
    cid, code = create(tara, "demo Reviews 2026-03-01")
    assert tara.request("COHORT ADD %s lena" % cid).code == 200
    now = int(time.time() * 1000)
    items = {"901": "lena", "902": "otto"}
    for rid, who in items.items():
        env.redis.cmd("HSET", "campus:{reviews}:items", rid, json.dumps(
            {"user": who, "exercise": "demo/market", "attempt": 1, "task": "share", "t": now}))
    try:
        seen = lambda c, line: sorted(x["id"] for x in c.request(line).rows() if x["id"] in items)
        assert seen(tara, "REVIEW LIST") == ["901"]
        assert seen(tara, "REVIEW LIST demo cohort:%s" % cid) == ["901"]
        r = tara.request("REVIEW LIST cohort:%s" % cid)
        assert r.code == 200 and r.text == "%d waiting" % len(r.rows()), r
        assert tomas.request("REVIEW LIST cohort:%s" % cid).code == 404
        assert seen(admin, "REVIEW LIST") == ["901", "902"]
        assert seen(admin, "REVIEW LIST cohort:%s" % cid) == ["901"]
        s, h, body = http(env.campusd.http_port, "POST", "/api/login",
                          body=json.dumps({"name": "tara", "password": PW}))
        auth = {"Authorization": "Bearer " + json.loads(body)["data"]["token"]}
        s, h, body = http(env.campusd.http_port, "GET", "/api/reviews?cohort=" + cid, headers=auth)
        assert s == 200 and [i["id"] for i in json.loads(body)["items"] if i["id"] in items] == ["901"], body
        assert conns["learner"].request("REVIEW LIST cohort:%s" % cid).code == 403
    finally:
        env.redis.cmd("HDEL", "campus:{reviews}:items", "901", "902")


def test_terminal_client():
    import shutil
    import tempfile
    campus = os.path.join(harness.BUILD, "clients", "terminal", "campus")
    home = tempfile.mkdtemp(prefix="campus-cohort-home-")
    e = {k: v for k, v in os.environ.items() if not k.startswith("XDG_") and k != "PAGER"}
    e.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, "c"), XDG_CACHE_HOME=os.path.join(home, "k"),
             XDG_STATE_HOME=os.path.join(home, "s"), LANG="C.UTF-8", CAMPUS_TIMEOUT="10",
             CAMPUS_SERVER="127.0.0.1:%d" % env.campusd.text_port)

    def run(*args, input=""):
        p = subprocess.run([campus] + list(args), input=input.encode(), env=e, capture_output=True,
                           timeout=60)
        assert b"Sanitizer" not in p.stderr and b"runtime error:" not in p.stderr, p.stderr
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    try:
        rc, out, err = run("login", "--user", "tara", "--password-stdin", input=PW + "\n")
        assert rc == 0, err
        rc, out, err = run("cohort", "create", "demo", "Client cohort", "2026-03-01", "every", "7",
                           "days", "Europe/Paris")
        assert rc == 0 and out.startswith("cohort "), (rc, out, err)
        cid = out.split()[1]
        csv_path = os.path.join(home, "roster.csv")
        with open(csv_path, "w") as f:
            f.write("name,display name\ncl-ann,Ann A\ncl-ben,Ben B\n")
        rc, out, err = run("cohort", "enrol", cid, "accounts", csv_path)
        assert rc == 0, (rc, out, err)
        lines = out.splitlines()
        assert lines[0] == "name,password" and [l.split(",")[0] for l in lines[1:]] == \
            ["cl-ann", "cl-ben"], out
        rc, out, err = run("cohort", "progress", cid)
        assert rc == 0, (rc, out, err)          # piped: the rows as TSV, no header
        assert out.splitlines() == ["cl-ann\tAnn A\t0\t0\t0\t\t0", "cl-ben\tBen B\t0\t0\t0\t\t0"], out
        rc, out, err = run("cohort", "show", cid)
        assert rc == 0 and "tz\tEurope/Paris" in out, (rc, out, err)
        dest = os.path.join(home, "grades.csv")
        rc, out, err = run("grades", cid, dest)
        assert rc == 0, (rc, out, err)
        with open(dest, "rb") as f:
            data = f.read()
        assert data.startswith(b"\xef\xbb\xbfFirst name,") and b"Ann,A,cl-ann," in data, data[:300]
        # The shell completes sub-commands and the ids of the cohorts one runs.
        import pty
        import select
        assert conns["admin"].request('USER ADD tcomp trainer "%s"' % PW).code == 201
        rc, out, err = run("login", "--user", "tcomp", "--password-stdin", input=PW + "\n")
        assert rc == 0, err
        c = login("tcomp")
        own = "0"
        for _ in range(12):                   # until the id has two digits to complete
            if len(own) >= 2:
                break
            own, _ = create(conns["trainer"], "demo Filler 2026-03-01")
        own, _ = create(c, "demo Completion 2026-03-01")
        c.close()
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(campus, [campus], dict(e, TERM="xterm", PAGER=""))
        got = b""
        end = time.time() + 20

        def expect(what):
            nonlocal got
            while what not in got:
                assert time.time() < end, got[-2000:]
                r, _, _ = select.select([fd], [], [], 0.5)
                if r:
                    got += os.read(fd, 65536)

        expect(b"campus tcomp> ")
        os.write(fd, ("cohort sh\t%s\t\r" % own[:1]).encode())
        expect(b"Completion")
        expect(b"campus tcomp> ")
        os.write(fd, b"exit\r")
        os.waitpid(pid, 0)
        os.close(fd)
        # Typed: "sh" and the first digit; run: SHOW of the whole id.
        assert ("id\t%s\r\nname\tCompletion" % own).encode() in got, got[-2000:]
        rc, out, err = run("cohort", "bogus")
        assert rc == 2, (rc, out, err)
        rc, out, err = run("cohort", "show", "999999")
        assert rc != 0 and "no cohort" in err + out, (rc, out, err)
    finally:
        shutil.rmtree(home, ignore_errors=True)


# ---- hostile input ----

def test_impossible_dates():
    tara = conns["trainer"]
    for bad in ("2026-02-30", "2025-02-29", "2026-13-01", "2026-1-01", "26-01-01", "2026-04-31"):
        r = tara.request("COHORT CREATE demo X %s" % bad)
        assert r.code == 400 and "not a date" in r.text, (bad, r)
    assert tara.request("COHORT CREATE demo X 2028-02-29").code == 201
    r = literal(tara, "COHORT CREATE demo X 2026-03-01 UTC", "cases 2026-02-30\n")
    assert r.code == 400 and "line 1" in r.text, r
    for tz in ("../../etc/passwd", "Europe/Nowhere", "/etc/localtime", "Europe//Paris"):
        r = tara.request("COHORT CREATE demo X 2026-03-01 %s" % tz)
        assert r.code == 400, (tz, r)
    cid, _ = create(tara, "demo Ext 2026-03-01")
    assert tara.request("COHORT EXTEND %s lena cases 2026-02-30" % cid).code == 400


def test_enrol_10000_rows_refused():
    tara = conns["trainer"]
    cid, _ = create(tara, "demo Huge 2026-03-01")
    body = "".join("huge%05d\n" % i for i in range(10000))
    r = literal(tara, "COHORT ENROL %s accounts" % cid, body)
    assert r.code == 413 and "nothing enrolled" in r.text, r
    assert env.redis.cmd("ZCARD", "campus:{c:%s}:learners" % cid) == b":0"
    assert env.redis.cmd("EXISTS", "campus:{u:huge00000}:account") == b":0"


def test_enrol_quotes_newlines_and_injection_in_names():
    tara = conns["trainer"]
    cid, _ = create(tara, "demo Quotes 2026-03-01")
    body = ('q-one,"Ann ""the"" Smith","a@example.org"\r\n'
            'q-two,"Line one\nline two",b@example.org\r\n'
            'q-three,"=HYPERLINK(""http://evil.example"",""x"")",c@example.org\r\n')
    r = literal(tara, "COHORT ENROL %s accounts" % cid, body)
    assert r.code == 200, r
    get = lambda n: json.loads(env.redis.cmd("HGET", "campus:{c:%s}:roster" % cid, n))["display"]
    assert get("q-one") == 'Ann "the" Smith'
    assert get("q-two") == "Line one\nline two"
    assert get("q-three") == '=HYPERLINK("http://evil.example","x")'
    r = literal(tara, "COHORT ENROL %s" % cid, 'q-one,"unterminated\n')
    assert r.code == 400 and r.text.startswith("line 1: bad quoting"), r


def test_guessed_codes_rate_limited():
    tara = conns["trainer"]
    cid, code = create(tara, "demo Guess 2026-03-01")
    assert conns["admin"].request('USER ADD guesser learner "%s"' % PW).code == 201
    g = login("guesser")
    n = 1000
    g.send("".join("COHORT JOIN guess%05d\r\n" % i for i in range(n)))
    codes = [g.read_response().code for _ in range(n)]
    assert codes[:10] == [404] * 10, codes[:12]
    assert set(codes[10:]) == {429}, set(codes[10:])
    r = g.request("COHORT JOIN " + code)
    assert r.code == 429, r
    assert env.redis.cmd("ZSCORE", "campus:{c:%s}:learners" % cid, "guesser") == b"$-1"
    g.close()


def test_pipelined_join_then_show_keeps_order():
    tara = conns["trainer"]
    cid, code = create(tara, "demo Pipeline 2026-03-01")
    assert conns["admin"].request('USER ADD piper learner "%s"' % PW).code == 201
    p = login("piper")
    p.send("COHORT JOIN %s\r\nCOHORT SHOW %s\r\nCOHORT LEAVE %s\r\nCOHORT SHOW %s\r\n" % (code, cid, cid, cid))
    codes = [p.read_response().code for _ in range(4)]
    assert codes == [200, 200, 200, 404], codes
    p.close()


def test_code_rotate_and_off():
    tara, otto = conns["trainer"], conns["other"]
    cid, code = create(tara, "demo Rotate 2026-03-01")
    r = tara.request("COHORT CODE %s rotate" % cid)
    assert r.code == 200, r
    new = r.kv()["code"]
    assert new != code
    assert otto.request("COHORT JOIN " + code).code == 404
    assert tara.request("COHORT CODE %s off" % cid).code == 200
    assert otto.request("COHORT JOIN " + new).code == 404
    assert env.redis.cmd("HEXISTS", "campus:{cohorts}:codes", new) == b":0"

def test_attempts_of_one_learner():
    tara = conns["trainer"]
    cid = grades_cohort()
    r = tara.request("COHORT ATTEMPTS %s g-ann" % cid)
    assert r.code == 200 and r.text == "2 attempts of g-ann in cohort %s" % cid, r
    rows = r.rows()
    assert [(x["exercise"], x["attempt"], x["score"], x["result"]) for x in rows] == \
        [("demo/market", "1", "0.0", "failed"), ("demo/market", "2", "100.0", "passed")], rows
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rows[0]["time"]) and rows[0]["late"] == "no", rows
    assert tara.request("COHORT ATTEMPTS %s g-cy" % cid).text == "0 attempts of g-cy in cohort %s" % cid
    r = tara.request("COHORT ATTEMPTS %s nobody-here" % cid)
    assert r.code == 404 and r.text == "no learner 'nobody-here' in cohort %s" % cid, r
    assert tara.request('COHORT ATTEMPTS %s "no such"' % cid).code == 400
    assert conns["trainer2"].request("COHORT ATTEMPTS %s g-ann" % cid).code == 404
    st, _, body = http(env.campusd.http_port, "POST", "/api/login",
                       body=json.dumps({"name": NAMES["trainer"], "password": PW}))
    tok = json.loads(body)["data"]["token"]
    st, _, body = http(env.campusd.http_port, "GET", "/api/cohorts/%s/learners/g-ann/attempts" % cid,
                       headers={"Authorization": "Bearer " + tok})
    assert st == 200, body
    items = json.loads(body)["items"]
    assert [x["score"] for x in items] == ["0.0", "100.0"] and items[0]["title"], items


if __name__ == "__main__":
    harness.main(globals())
