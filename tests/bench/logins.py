#!/usr/bin/env python3
"""logins.py: READ latency while campusd hashes passwords. Readers send READ
in a closed loop over a few connections; the same run is measured alone and
then with LOGINs offered at a fixed rate (50 per second by default) at the
default password cost, in rounds: alone, with logins, alone, with logins...
On a shared machine the noise drifts (a neighbour on the same host), and a
READ p99 taken once alone and once busy mostly compares two moments of the
host; in alternating rounds the drift falls on both sides alike. Prints
p50/p99/max READ latency for both, pooled over the rounds, each round's
p99 ratio, and what happened to the logins. The logins are offered from a
forked process of their own, so that their threads do not take the
readers' interpreter lock. A benchmark: it asserts nothing.

    python3 tests/bench/logins.py [BUILD_DIR]     (default build-bench, a Release build)

Environment: BENCH_RATE (logins per second, 50), BENCH_DURATION (seconds
per phase, 10, after BENCH_READ_WARMUP seconds of READ not counted, 1),
BENCH_LOGIN_ROUNDS (rounds of the two phases, 3), BENCH_READERS (reader connections, 4), BENCH_USERS (accounts
logging in, 8), BENCH_SCRYPT ("ln,r,p": new hashes scrypt at that cost
instead of the default Argon2id).
"""

import multiprocessing
import os
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-bench"))
os.environ.setdefault("CAMPUSD", os.path.join(BUILD, "daemon", "campusd"))
os.environ.setdefault("CAMPUS_SOURCE", ROOT)
sys.argv = sys.argv[:1]

import harness  # noqa: E402

RATE = float(os.environ.get("BENCH_RATE", "50"))
DURATION = float(os.environ.get("BENCH_DURATION", "10"))
READERS = int(os.environ.get("BENCH_READERS", "4"))
USERS = int(os.environ.get("BENCH_USERS", "8"))
WARMUP = float(os.environ.get("BENCH_READ_WARMUP", "1"))   # seconds of READ not counted per phase
ROUNDS = max(1, int(os.environ.get("BENCH_LOGIN_ROUNDS", "3")))
SCRYPT = os.environ.get("BENCH_SCRYPT")
PW = "bench password 1"


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def readers(env, stop, out):
    """READ in a closed loop on READERS connections until stop; the
    latencies after the first WARMUP seconds go to out (the first READs of
    a connection, and of the process, are not what is measured)."""
    def run():
        c = env.campusd.client()
        lat = []
        since = time.perf_counter() + WARMUP
        while not stop.is_set():
            t = time.perf_counter()
            r = c.request("READ demo/welcome")
            if t >= since:
                lat.append(time.perf_counter() - t)
            assert r.code == 200, r
        out.extend(lat)
        c.close()
    ts = [threading.Thread(target=run) for _ in range(READERS)]
    for t in ts:
        t.start()
    return ts


def logins(env, stop, stats):
    """Offers LOGIN at RATE per second, each on a connection of its own
    (a connection waits for its LOGIN before parsing more)."""
    lock = threading.Lock()

    def one(i):
        try:
            c = env.campusd.client(timeout=60)
            t = time.perf_counter()
            r = c.request('LOGIN bench%d "%s"' % (i % USERS, PW))
            d = time.perf_counter() - t
            c.close()
            with lock:
                stats.setdefault(r.code, []).append(d)
        except Exception as e:        # noqa: BLE001: counted, not raised
            with lock:
                stats.setdefault(type(e).__name__, []).append(0)

    def run():
        n, start = 0, time.perf_counter()
        workers = []
        while not stop.is_set():
            due = start + n / RATE
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            th = threading.Thread(target=one, args=(n,))
            th.start()
            workers.append(th)
            n += 1
        for th in workers:
            th.join()
    t = threading.Thread(target=run)
    t.start()
    return [t]


def _offer(env, w):
    """The logins of a phase, in a process of their own (forked), so that
    their threads do not hold the readers' interpreter lock: what the READ
    latency measures is campusd, not this script. Sends the stats back."""
    stop, stats = threading.Event(), {}
    ts = logins(env, stop, stats)
    time.sleep(DURATION + WARMUP)
    stop.set()
    for t in ts:
        t.join()
    w.send(stats)
    w.close()
    os._exit(0)                  # not the parent's clean-up: env is the parent's


def phase(env, with_logins):
    stop = threading.Event()
    lat, stats = [], {}
    proc = r = None
    if with_logins:
        ctx = multiprocessing.get_context("fork")
        r, w = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_offer, args=(env, w))
        proc.start()
        w.close()
    ts = readers(env, stop, lat)
    time.sleep(DURATION + WARMUP)
    stop.set()
    for t in ts:
        t.join()
    if proc:
        if r.poll(DURATION + 120):
            stats = r.recv()
        proc.join(30)
    return lat, stats


def rounds(env, n=ROUNDS):
    """n rounds of a phase alone then a phase with logins. Returns every
    READ latency alone, every one with logins, each round's p99 ratio, and
    the logins' answers of all rounds: {code: [seconds, ...]}."""
    alone, busy, ratios, stats = [], [], [], {}
    for _ in range(n):
        a, _ = phase(env, False)
        b, st = phase(env, True)
        alone += a
        busy += b
        if a and b:
            ratios.append(pct(b, 0.99) / pct(a, 0.99))
        for code, ds in st.items():
            stats.setdefault(code, []).extend(ds)
    return alone, busy, ratios, stats


def main():
    extra = ["--login-fail-max", "1000000", "--login-fail-addr-max", "1000000",
             "--max-conns-per-addr", "10000", "--log-level", "warn"]
    if SCRYPT:
        ln, r, p = SCRYPT.split(",")
        extra += ["--password-hash", "scrypt", "--scrypt-ln", ln, "--scrypt-r", r, "--scrypt-p", p]
    env = harness.Env(extra=extra)
    try:
        c = env.campusd.client(timeout=120)
        t = time.perf_counter()
        for i in range(USERS):
            r = c.request('REGISTER bench%d "%s"' % (i, PW))
            assert r.code == 201, r
        hash_s = (time.perf_counter() - t) / USERS
        print("campusd %s, %d readers, %d rounds of two %.0f s phases, one hash (REGISTER) %.0f ms"
              % (os.environ["CAMPUSD"], READERS, ROUNDS, DURATION, hash_s * 1000))
        base, busy, ratios, stats = rounds(env)
        print("%-26s %9s %9s %9s %9s %9s" % ("", "READs/s", "p50 ms", "p99 ms", "max ms", ""))
        for name, lat in (("READ alone", base), ("READ + %.0f logins/s" % RATE, busy)):
            print("%-26s %9.0f %9.2f %9.2f %9.2f" % (name, len(lat) / (DURATION * ROUNDS),
                  pct(lat, 0.5) * 1000, pct(lat, 0.99) * 1000, max(lat) * 1000))
        print("p99 ratio of each round: " + ", ".join("%.2fx" % r for r in ratios))
        offered = sum(len(v) for v in stats.values())
        print("logins offered: %d (%.1f/s)" % (offered, offered / ((DURATION + WARMUP) * ROUNDS)))
        for code, ds in sorted(stats.items(), key=lambda kv: str(kv[0])):
            print("  %-6s %6d  p50 %8.1f ms  p99 %8.1f ms" % (code, len(ds), pct(ds, 0.5) * 1000,
                                                            pct(ds, 0.99) * 1000))
    finally:
        env.close()


if __name__ == "__main__":
    main()
