"""The statements EXPORT xapi and /api/me/statements give are valid xAPI
1.0.3, as judged by Learning Locker's validator from npm
(@learninglocker/xapi-validation), installed into the build tree on first
use."""

import json
import os
import subprocess

import harness
from harness import Env, http

VALIDATOR = "@learninglocker/xapi-validation@3.0.0"
FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]

# Reads a JSON array of statements on stdin; prints, per statement, the list
# of problems the validator found (an empty list: valid).
CHECK_JS = r"""
const validate = require('@learninglocker/xapi-validation').default;
let input = '';
process.stdin.on('data', d => input += d);
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(s => validate(s).map(w =>
    w.path.join('.') + ': ' + w.name + (w.typeName ? ' (' + w.typeName + ')' : '')));
  process.stdout.write(JSON.stringify(out));
});
"""

env = None
prefix = None


def setup():
    global env, prefix
    prefix = os.path.join(harness.BUILD, "npm-xapi")
    if not os.path.isdir(os.path.join(prefix, "node_modules", "@learninglocker", "xapi-validation")):
        os.makedirs(prefix, exist_ok=True)
        p = subprocess.run(["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund",
                            "--no-package-lock", VALIDATOR], capture_output=True, timeout=300)
        assert p.returncode == 0, p.stderr.decode()[-2000:]
    env = Env(extra=FAST)


def teardown():
    env.close()


def validate(statements):
    p = subprocess.run(["node", "-e", CHECK_JS], input=json.dumps(statements).encode(),
                       capture_output=True, timeout=60,
                       env=dict(os.environ, NODE_PATH=os.path.join(prefix, "node_modules")))
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


def test_validator_rejects_a_broken_statement():
    # The check can fail: a statement without an actor and with a bad verb id.
    problems = validate([{"verb": {"id": "not an iri"}, "object": {"id": "x"}}])
    assert problems[0], problems


def test_every_event_exports_as_a_valid_statement():
    c = env.campusd.client()
    assert c.request('REGISTER xavi "a good password"').code == 201
    token = c.request('LOGIN xavi "a good password"').kv()["token"]
    assert c.request("DONE demo/welcome").code == 200
    assert c.request("DONE demo/lists").code == 200
    # Events other parts of campusd append, in the stream's documented form:
    # a view, and grading's attempts with a score.
    key = "campus:{u:xavi}:events"
    for fields in (["t", "viewed", "o", "demo/market"],
                   ["t", "attempted", "o", "demo/market#1", "score", "0.4", "success", "0"],
                   ["t", "failed", "o", "demo/market#1", "score", "0.4", "success", "0"],
                   ["t", "passed", "o", "demo/market#1", "score", "0.85", "success", "1"]):
        assert b"-" in env.redis.cmd("XADD", key, "*", *fields)
    st = json.loads(c.request("EXPORT xapi").body)
    verbs = [s["verb"]["display"]["en-US"] for s in st]
    assert verbs == ["registered", "completed", "completed", "experienced", "attempted",
                     "failed", "passed"], verbs
    passed = st[-1]
    assert passed["result"] == {"score": {"scaled": 0.85}, "success": True}, passed
    assert passed["object"]["id"] == "http://localhost:8080/#/lesson/demo/market/1", passed
    assert passed["object"]["definition"]["type"] == \
        "http://adlnet.gov/expapi/activities/assessment"
    problems = validate(st)
    assert all(p == [] for p in problems), list(zip(verbs, problems))
    # The same through HTTP.
    s, h, body = http(env.campusd.http_port, "GET", "/api/me/statements",
                      headers={"Authorization": "Bearer " + token})
    assert s == 200
    web = json.loads(body)
    assert [x["id"] for x in web] == [x["id"] for x in st]
    assert all(p == [] for p in validate(web))


harness.main(globals())
