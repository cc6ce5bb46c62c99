"""COHORT PROGRESS for a cohort of 2,000 learners on a 31-item course
(cluster-development), against a real campusd and redis-server. A benchmark,
not a test: it prints the figures and asserts nothing about speed.

    python3 tests/bench/cohort_progress.py BUILD_DIR [learners] [rounds]

BUILD_DIR is a Release build (build-bench); each learner gets some lessons
done, one exercise passed and one attempt stored, written straight into
Redis. The timing is the whole answer as a CTP/1 client sees it."""

import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build-bench")
os.environ["CAMPUSD"] = os.path.join(BUILD, "daemon", "campusd")
import harness  # noqa: E402

N = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]
PW = "the password 1"


def pipeline(port, commands):
    """Sends every command in one write, reads as many replies."""
    s = socket.create_connection(("127.0.0.1", port))
    out = bytearray()
    for args in commands:
        out += b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    f = s.makefile("rb")
    for _ in commands:
        line = f.readline()
        if line[:1] == b"$" and line != b"$-1\r\n":
            f.read(int(line[1:]) + 2)
    s.close()


def main():
    env = harness.Env(extra=FAST, courses=os.path.join(harness.SOURCE, "courses"))
    try:
        p = subprocess.run([harness.CAMPUSD, "--redis", "127.0.0.1:%d" % env.redis.port,
                            "--add-user", "adam", "--role", "admin"] + FAST,
                           input=(PW + "\n").encode(), capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        c = env.campusd.client()
        assert c.request('LOGIN adam "%s"' % PW).code == 200
        r = c.request("COHORT CREATE cluster-development Bench 2026-01-05 every 7 days Europe/Paris")
        assert r.code == 201, r
        cid = r.text.split()[1]
        lessons = [row["lesson"] for row in c.request("COURSE cluster-development").rows()]
        cmds = []
        for i in range(N):
            name = "learner%04d" % i
            cmds.append(["ZADD", "campus:{c:%s}:learners" % cid, i, name])
            done = ["HSET", "campus:{u:%s}:done" % name]
            for l in lessons[: i % len(lessons)]:
                done += [l, 1767600000000 + i]
            if len(done) > 2:
                cmds.append(done)
            cmds.append(["HSET", "campus:{u:%s}:passed" % name, lessons[5], 1767600000000])
            cmds.append(["HSET", "campus:{u:%s}:cohorts" % name, cid, "cluster-development"])
        pipeline(env.redis.port, cmds)
        times = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            r = c.request("COHORT PROGRESS %s" % cid)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.code == 200 and len(r.rows()) == N, r
        print("COHORT PROGRESS, %d learners, %d lessons: median %.1f ms, min %.1f ms, max %.1f ms "
              "(%d rounds)" % (N, len(lessons), statistics.median(times), min(times), max(times),
                               ROUNDS))
        c.close()
    finally:
        env.close()


if __name__ == "__main__":
    main()
