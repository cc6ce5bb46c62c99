"""Access control, table-driven: every account and progress verb, asked by
an anonymous client, a learner, another learner, a trainer and an admin,
gets the documented answer; and whatever ids are sent, a learner reaches
only their own records."""

import json
import subprocess

import harness
from harness import Env, http

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]
PW = "the password 1"
WHO = ["anon", "learner", "other", "trainer", "admin"]
NAMES = {"learner": "lena", "other": "otto", "trainer": "tara", "admin": "adam"}

# verb line -> expected code for anon, learner, another learner, trainer, admin.
# {me}: the caller's name; {n}: a fresh name; {lena_token}: a live token of lena's.
TABLE = [
    ("WHOAMI",                               200, 200, 200, 200, 200),
    ('REGISTER {n} "%s"' % PW,               201, 201, 201, 201, 201),
    ('REGISTER lena "%s"' % PW,              409, 409, 409, 409, 409),
    ('LOGIN lena "%s"' % PW,                 200, 200, 200, 200, 200),
    ('LOGIN lena "not the password"',        401, 401, 401, 401, 401),
    ("AUTH {lena_token}",                    200, 200, 200, 200, 200),
    ("AUTH lena.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401, 401, 401, 401, 401),
    ("LOGOUT",                               401, 200, 200, 200, 200),
    ("LOGOUT {lena_token}",                  401, 200, 400, 400, 400),
    ('PASSWD "%s" "%s"' % (PW, PW),          401, 200, 200, 200, 200),
    ('PASSWD "wrong password" "%s"' % PW,    401, 401, 401, 401, 401),
    ("USER LIST",                            401, 403, 403, 403, 200),
    ('USER ADD {n} learner "%s"' % PW,       401, 403, 403, 403, 201),
    ("USER ROLE otto learner",               401, 403, 403, 403, 200),
    ("USER DISABLE ghost.account",           401, 403, 403, 403, 404),
    ("USER ENABLE otto",                     401, 403, 403, 403, 200),
    ("DONE demo/welcome",                    401, 200, 200, 200, 200),
    ("DONE demo/nosuch",                     401, 404, 404, 404, 404),
    ("NEXT",                                 401, 200, 200, 200, 200),
    ("NEXT demo",                            401, 200, 200, 200, 200),
    ("PROGRESS",                             401, 200, 200, 200, 200),
    ("PROGRESS demo",                        401, 200, 200, 200, 200),
    ("PROGRESS lena",                        401, 404, 404, 404, 404),
    ("EXPORT xapi",                          401, 200, 200, 200, 200),
    ("EXPORT xapi lena",                     401, 400, 400, 400, 400),
    # Trainer-only lessons: the same 404 as no lesson at all, unless a trainer asks.
    ("READ demo/facilitator-guide",          404, 404, 404, 200, 200),
    ("READ demo/facilitator-guide md",       404, 404, 404, 200, 200),
    ("READ demo/facilitator-guide html",     404, 404, 404, 200, 200),
    ("DONE demo/facilitator-guide",          401, 404, 404, 404, 404),
    ("EXERCISE demo/facilitator-guide",      404, 404, 404, 404, 404),
    ("READ demo/lists",                      200, 200, 200, 200, 200),
    ("FILE demo",                            200, 200, 200, 200, 200),
    # Sub-verbs: the dispatcher checks each one's arity and role, so an
    # unknown or mis-counted sub-verb is a 400 for whoever may use the verb.
    ("EXPORT gift demo",                     401, 403, 403, 200, 200),
    ("EXPORT gift",                          401, 400, 400, 400, 400),
    ("EXPORT json",                          401, 400, 400, 400, 400),
    ("USER LIST extra",                      401, 403, 403, 403, 400),
    ("USER FROB otto",                       401, 403, 403, 403, 400),
    ("USER ADD {n} learner",                 401, 403, 403, 403, 400),
    ("REVIEW LIST",                          401, 403, 403, 200, 200),
    ("REVIEW SHOW",                          401, 403, 403, 400, 400),
    ("REVIEW TOSS 1",                        401, 403, 403, 400, 400),
]

# What each reader's answer holds of the trainer layer: (verb, mark, shown to
# anon, learner, other learner, trainer, admin).
TRAINER_TABLE = [
    ("READ demo/lists",                   "TRAINERONLYMARK",      0, 0, 0, 1, 1),
    ("READ demo/lists md",                "TRAINERONLYMARK",      0, 0, 0, 1, 1),
    ("READ demo/lists html",              "TRAINERONLYMARK",      0, 0, 0, 1, 1),
    ("READ demo/lists exercise 40",       "TRAINERONLYMARK",      0, 0, 0, 1, 1),
    ("READ demo/facilitator-guide",       "FACILITATORONLYMARK",  0, 0, 0, 1, 1),
    ("COURSE demo",                       "facilitator-guide",    0, 0, 0, 1, 1),
    ("SEARCH TRAINERONLYMARK",            "demo/lists",           0, 0, 0, 0, 0),
    ("SEARCH FACILITATORONLYMARK",        "facilitator",          0, 0, 0, 0, 0),
    ("EXERCISE demo/lists",               "TRAINERONLYMARK",      0, 0, 0, 0, 0),
    ("EXERCISE demo/lists json",          "TRAINERONLYMARK",      0, 0, 0, 0, 0),
    ("EXPORT gift demo",                  "TRAINERONLYMARK",      0, 0, 0, 0, 0),
]

env = None
counter = [0]


def setup():
    global env
    env = Env(extra=FAST)
    c = env.campusd.client()
    for who, name in NAMES.items():
        if who == "admin":
            p = subprocess.run([harness.CAMPUSD, "--redis", "127.0.0.1:%d" % env.redis.port,
                                "--add-user", name, "--role", "admin"] + FAST,
                               input=(PW + "\n").encode(), capture_output=True, timeout=60)
            assert p.returncode == 0, p.stderr
        else:
            assert c.request('REGISTER %s "%s"' % (name, PW)).code == 201
    admin = session("admin")
    assert admin.request("USER ROLE tara trainer").code == 200


def teardown():
    env.close()


def session(who):
    """A new connection logged in as who (anon: not logged in)."""
    c = env.campusd.client()
    if who != "anon":
        r = c.request('LOGIN %s "%s"' % (NAMES[who], PW))
        assert r.code == 200, r
    return c


def fresh_token():
    r = env.campusd.client().request('LOGIN lena "%s"' % PW)
    assert r.code == 200, r
    return r.kv()["token"]


def test_access_table():
    wrong = []
    for row in TABLE:
        line, expected = row[0], dict(zip(WHO, row[1:]))
        for who in WHO:
            counter[0] += 1
            text = line.replace("{n}", "fresh%d" % counter[0])
            if "{lena_token}" in text:
                text = text.replace("{lena_token}", fresh_token())
            c = session(who)
            r = c.request(text)
            c.close()
            if r.code != expected[who]:
                wrong.append("%-8s %-40s -> %s (expected %d)" % (who, line, r, expected[who]))
    assert not wrong, "\n" + "\n".join(wrong)


def test_trainer_layer_table():
    wrong = []
    for row in TRAINER_TABLE:
        line, mark, shown = row[0], row[1], dict(zip(WHO, row[2:]))
        for who in WHO:
            c = session(who)
            r = c.request(line)
            c.close()
            got = mark in (r.text + (r.body or b"").decode())
            if got != bool(shown[who]):
                wrong.append("%-8s %-32s %s %s" % (who, line, "shows" if got else "lacks", mark))
    assert not wrong, "\n" + "\n".join(wrong)


def test_records_are_the_callers_whatever_ids_are_sent():
    lena, otto = session("learner"), session("other")
    assert lena.request("DONE demo/lists").code == 200
    for c, name in ((lena, "lena"), (otto, "otto")):
        st = json.loads(c.request("EXPORT xapi").body)
        assert st and all(s["actor"]["name"] == name for s in st), st
    # Both did demo/welcome in the table; only lena did demo/lists.
    basics = lambda c: [r for r in c.request("PROGRESS demo").rows() if r["module"] == "basics"][0]
    assert basics(lena)["done"] == "2" and basics(otto)["done"] == "1"
    # A token of someone else's in an HTTP request is that person's session:
    # only the holder of a token gets in, and a forged one gets nobody.
    port = env.campusd.http_port
    forged = "lena." + "B" * 43
    s, h, body = http(port, "GET", "/api/me/statements", headers={"Authorization": "Bearer " + forged})
    assert s == 401
    s, h, body = http(port, "GET", "/api/me", headers={"Cookie": "campus_session=" + forged})
    assert json.loads(body)["data"]["role"] == "anonymous"
    # Redis keys with another learner's name cannot be named through a verb.
    assert otto.request("DONE {u:lena}:done").code == 400
    assert otto.request("NEXT ../lena").code == 400


harness.main(globals())
