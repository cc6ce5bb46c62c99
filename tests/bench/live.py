"""Live sessions: 2,000 learners connected to a campusd with 2 workers (one
Redis), all in one session; a trainer sends LIVE GOTO round after round,
and livebench (C, libevent) times each from the GOTO written to the last
learner's "* LIVE GOTO" line (p50 and p99 over the rounds), and to every
learner's. A benchmark, not a test: it prints the figures and asserts
nothing about speed.

    python3 tests/bench/live.py BUILD_DIR [learners] [rounds] [workers]

BUILD_DIR is a Release build (build-bench) holding daemon/campusd and
tests/bench/livebench. Accounts are made with USER ADD (scrypt at ln 10),
the cohort with COHORT ADD; the learners log in and join over CTP/1,
spread over the workers by SO_REUSEPORT."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build-bench")
os.environ["CAMPUSD"] = os.path.join(BUILD, "daemon", "campusd")
import harness  # noqa: E402

N = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 100
WORKERS = int(sys.argv[4]) if len(sys.argv) > 4 else 2
FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
PW = "the password 1"


def step(msg):
    print(msg, file=sys.stderr, flush=True)


def main():
    env = harness.Env(workers=WORKERS, extra=FAST + ["--max-conns-per-addr", str(N + 100),
                                                     "--max-conns", str(N + 100)])
    try:
        p = subprocess.run([harness.CAMPUSD, "--redis", "127.0.0.1:%d" % env.redis.port,
                            "--add-user", "adam", "--role", "admin"] + FAST,
                           input=(PW + "\n").encode(), capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        c = env.campusd.client(timeout=600)
        assert c.request('LOGIN adam "%s"' % PW).code == 200
        step("accounts")
        names = ["bl%04d" % i for i in range(N)]
        c.send("".join('USER ADD %s learner "%s"\r\n' % (n, PW) for n in names) +
               'USER ADD tara trainer "%s"\r\n' % PW)
        for _ in range(N + 1):
            assert c.read_response().code == 201
        step("cohort")
        t = env.campusd.client(timeout=600)
        r = harness.wait_for(lambda: t.request('LOGIN tara "%s"' % PW).code == 200, timeout=60,
                             what="LOGIN (the hash pool may be busy)")
        r = t.request("COHORT CREATE demo Bench 2026-01-01")
        assert r.code == 201, r
        cid = r.text.split()[1]
        for i in range(0, N, 50):
            r = t.request("COHORT ADD %s %s" % (cid, " ".join(names[i:i + 50])))
            assert r.code == 200, r
        assert t.request("LIVE START %s" % cid).code == 201
        step("livebench")
        out = subprocess.run([os.path.join(BUILD, "tests", "bench", "livebench"),
                              "--port", str(env.campusd.text_port), "--learners", str(N),
                              "--rounds", str(ROUNDS), "--gap-ms", "50", "--prefix", "bl",
                              "--password", PW, "--cohort", cid, "--trainer", "tara"],
                             timeout=900)
        assert out.returncode == 0, out.returncode
        t.close()
        c.close()
    finally:
        env.close()


if __name__ == "__main__":
    main()
