#!/usr/bin/env python3
"""wait.py: what confirming grades and completions with WAIT costs. A
primary and one replica (redis-server on loopback), campusd on the primary;
learners send DONE in a closed loop, each on lessons not yet done, first
with store_wait_replicas 0 (acknowledged on the primary's word), then 1
(WAIT 1 for each). Prints DONEs per second and p50/p99/max latency for
both. A benchmark: it asserts nothing.

    python3 tests/bench/wait.py [BUILD_DIR]      (default build-bench, a Release build)

Environment: BENCH_DURATION (seconds per phase, 10), BENCH_CONNS (learner
connections, 8).
"""

import os
import shutil
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-bench"))
os.environ.setdefault("CAMPUSD", os.path.join(BUILD, "daemon", "campusd"))
os.environ.setdefault("CAMPUS_SOURCE", ROOT)
sys.argv = sys.argv[:1]

import harness  # noqa: E402

DURATION = float(os.environ.get("BENCH_DURATION", "10"))
CONNS = int(os.environ.get("BENCH_CONNS", "8"))
PW = "bench password 1"
COURSES = os.path.join(ROOT, "courses")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")


def lessons():
    c = harness.Client(campusd.text_port)
    out = []
    for row in c.request("COURSES").rows():
        out += [r["lesson"] for r in c.request("COURSE " + row["id"]).rows()]
    c.close()
    return out


def phase(wait, tag):
    global campusd
    os.makedirs(tmp + "/" + tag)
    campusd = harness.Campusd(tmp + "/" + tag, redis=primary, courses=COURSES,
                              extra=["--scrypt-ln", "10", "--scrypt-p", "1",
                                     "--store-wait-replicas", str(wait)]).start()
    ids = lessons()
    lat, errors = [], [0]
    lock = threading.Lock()
    stop = time.time() + DURATION

    def learner(n):
        c = harness.Client(campusd.text_port)
        name = "%s-%d" % (tag, n)
        assert c.request('REGISTER %s "%s"' % (name, PW)).code == 201
        assert c.request('LOGIN %s "%s"' % (name, PW)).code == 200
        i, mine = 0, []
        while time.time() < stop:
            t0 = time.perf_counter()
            r = c.request("DONE " + ids[i % len(ids)])
            dt = time.perf_counter() - t0
            i += 1
            if r.code == 200:
                mine.append(dt)
            else:
                errors[0] += 1
        with lock:
            lat.extend(mine)
        c.close()

    ts = [threading.Thread(target=learner, args=(n,)) for n in range(CONNS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    campusd.stop()
    print("| store_wait_replicas %d | %d | %.2f ms | %.2f ms | %.2f ms | %d |"
          % (wait, len(lat) / DURATION, pct(lat, 0.5) * 1e3, pct(lat, 0.99) * 1e3,
             max(lat) * 1e3, errors[0]))


tmp = tempfile.mkdtemp(prefix="campus-bench-wait-")
primary = harness.Redis(tmp + "/primary").start()
replica = harness.Redis(tmp + "/replica").start()
try:
    replica.cmd("REPLICAOF", "127.0.0.1", str(primary.port))
    harness.wait_for(lambda: b"master_link_status:up" in replica.cmd("INFO", "replication"),
                     timeout=30, what="replica in sync")
    print("| | DONE/s | p50 | p99 | max | not 200 |\n| --- | --- | --- | --- | --- | --- |")
    phase(0, "nowait")
    phase(1, "wait")
finally:
    replica.stop()
    primary.stop()
    shutil.rmtree(tmp, ignore_errors=True)
