#!/usr/bin/env python3
"""figures.py: the figures of issue 18 that loadgen's closed loop does not
give, each beside a reference taken in the same run. A benchmark: it
asserts nothing.

    python3 tests/bench/figures.py [BUILD_DIR] (default build-bench, a Release build)

Parts (BENCH_PARTS, default "conns logins done"):

- conns: RSS of campusd and of memcached before and after 5,000 connections
  that each made one request (PING; memcached `version`) and now sit idle:
  the delta per connection. Then 5,000 more, to 10,000 held at once, every
  one sends PING again and must be answered; RSS then.
- logins: READ p99 over a few connections alone, and with 50 LOGINs a
  second offered, at the default password cost, in alternating rounds
  (logins.py's rounds; the p99s are of all rounds pooled); then a
  burst of 200 LOGINs at once, each on its own connection, waited for up to
  60 s: how many were answered 200, and the slowest.
- done: loadgen ctp-done (50 connections, one session, DONE of one lesson)
  against redis-benchmark running the EVALSHA of DONE's own script (caught
  with MONITOR from a DONE over HTTP), 50 clients, on the same redis-server
  (AOF on, appendfsync always); the check-and-mark script a logged-in
  CTP/1 DONE sends is timed too, and Redis's CPU per DONE printed.

Environment: BENCH_DURATION (seconds per measured phase, 5), BENCH_CONNS
(50), BENCH_IDLE_CONNS (5000), BENCH_HELD_CONNS (10000), BENCH_BURST (200),
BENCH_LOGIN_ARGS (more campusd flags for the logins part, e.g.
"--hash-threads-idle 1").
With BENCH_SUMMARY naming a file (run.sh sets it), each figure is appended
there as "figure<TAB>campusd<TAB>reference<TAB>ratio<TAB>aim".
"""

import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-bench"))
os.environ.setdefault("CAMPUSD", os.path.join(BUILD, "daemon", "campusd"))
os.environ.setdefault("CAMPUS_SOURCE", ROOT)
os.environ.setdefault("BENCH_DURATION", "5")
sys.argv = sys.argv[:1]

import harness  # noqa: E402
import logins  # noqa: E402

DURATION = float(os.environ["BENCH_DURATION"])
CONNS = int(os.environ.get("BENCH_CONNS", "50"))
IDLE = int(os.environ.get("BENCH_IDLE_CONNS", "5000"))
HELD = int(os.environ.get("BENCH_HELD_CONNS", "10000"))
BURST = int(os.environ.get("BENCH_BURST", "200"))
PARTS = os.environ.get("BENCH_PARTS", "conns logins done").split()
LOGIN_ARGS = os.environ.get("BENCH_LOGIN_ARGS", "").split()    # more campusd flags for "logins"
SUMMARY = os.environ.get("BENCH_SUMMARY")
LOADGEN = os.path.join(BUILD, "tests", "bench", "loadgen")
PW = "bench password 1"
BATCH = 250                      # connections opened before their greetings are read


def summary(figure, ours, ref, ratio, aim):
    line = "\t".join((figure, ours, ref, ratio, aim))
    print("  figure: " + line.replace("\t", " | "))
    if SUMMARY:
        with open(SUMMARY, "a") as f:
            f.write(line + "\n")


def ratio(a, b):
    return "%.2f" % (a / b) if b else "n/a"


def rss_kb(pid):
    """VmRSS of pid and of its children running the same program, KiB."""
    def one(p):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def comm(p):
        try:
            with open("/proc/%d/comm" % p) as f:
                return f.read().strip()
        except OSError:
            return ""
    total, name = one(pid), comm(pid)
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                for c in f.read().split():
                    if comm(int(c)) == name:
                        total += one(int(c))
    except OSError:
        pass
    return total


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, need))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def read_line(s, buf):
    """One CRLF line from s (blocking), with what was buffered after it."""
    while b"\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise ConnectionError("closed")
        buf += d
    line, _, rest = buf.partition(b"\n")
    return line.rstrip(b"\r"), rest


class Held:
    """Many idle connections to one server, opened in batches, each asked
    one thing (a request that answers one line) when asked to."""

    def __init__(self, port, greeting, request, answer):
        self.port, self.greeting, self.request, self.answer = port, greeting, request, answer
        self.socks = []

    def open(self, n):
        """Opens n more, each making one request. Returns how many were answered."""
        answered = 0
        while n > 0:
            batch = []
            for _ in range(min(n, BATCH)):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
                batch.append(s)
            answered += self.ask(batch, greet=self.greeting)
            self.socks += batch
            n -= len(batch)
        return answered

    def ask(self, socks, greet=False):
        for s in socks:
            s.sendall(self.request)
        ok = 0
        for s in socks:
            buf = b""
            try:
                if greet:
                    line, buf = read_line(s, buf)
                line, buf = read_line(s, buf)
                ok += line == self.answer
            except (OSError, ConnectionError):
                pass
        return ok

    def ask_all(self):
        ok = 0
        for i in range(0, len(self.socks), BATCH):
            ok += self.ask(self.socks[i:i + BATCH])
        return ok

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []


def conns_part():
    limit = raise_nofile(HELD + 1000)
    if limit < HELD + 100:
        print("conns: only %d file descriptors allowed; part skipped" % limit)
        return
    env = harness.Env(extra=["--max-conns", str(HELD + 100), "--max-conns-per-addr", str(HELD + 100),
                             "--log-level", "warn"], tls=False, http=False)
    mc = None
    try:
        results = {}
        servers = [("campusd", env.campusd.proc.pid, env.campusd.text_port, True, b"PING\r\n", b"200 PONG")]
        if shutil.which("memcached"):
            port = harness.free_port()
            user = ["-u", "root"] if os.getuid() == 0 else []
            mc = subprocess.Popen(["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0",
                                   "-t", "1", "-c", str(HELD + 100)] + user,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            harness.wait_for(lambda: _accepts(port), what="memcached")
            servers.append(("memcached", mc.pid, port, False, b"version\r\n", None))
        else:
            print("conns: memcached is not installed (scripts/deps.sh bench): no reference")
        for name, pid, port, greet, req, answer in servers:
            if answer is None:           # memcached: whatever "version" says, once
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(req)
                answer, _ = read_line(s, b"")
                s.close()
            h = Held(port, greet, req, answer)
            h.open(1)
            time.sleep(0.2)
            before = rss_kb(pid)
            idle_ok = h.open(IDLE - 1) + 1
            time.sleep(0.5)
            after_idle = rss_kb(pid)
            h.open(HELD - IDLE)
            held_ok = h.ask_all()
            time.sleep(0.2)
            after_held = rss_kb(pid)
            h.close()
            per = (after_idle - before) * 1024.0 / IDLE
            results[name] = (per, held_ok, after_held)
            print("conns: %s: RSS %d KiB with 1 connection, %d KiB with %d idle (%d answered):"
                  " %.0f bytes each; %d held, %d of them answered PING again, RSS %d KiB"
                  % (name, before, after_idle, IDLE, idle_ok, per, HELD, held_ok, after_held))
        ours = results["campusd"]
        ref = results.get("memcached")
        summary("memory per idle CTP/1 connection after one request (RSS delta over %d)" % IDLE,
                "%.0f B" % ours[0], "%.0f B (memcached)" % ref[0] if ref else "n/a",
                ratio(ours[0], ref[0]) if ref else "n/a", "<= 1 KB")
        summary("%d connections held, each answering PING" % HELD,
                "%d answered, RSS %.1f MB" % (ours[1], ours[2] / 1024.0),
                "%d answered, RSS %.1f MB (memcached)" % (ref[1], ref[2] / 1024.0) if ref else "n/a",
                ratio(ours[2], ref[2]) + " (RSS)" if ref else "n/a",
                "all answered, RSS <= 30 MB")
    finally:
        if mc:
            mc.terminate()
            mc.wait()
        env.close()


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def logins_part():
    raise_nofile(BURST * 2 + 1000)
    env = harness.Env(extra=["--login-fail-max", "1000000", "--login-fail-addr-max", "1000000",
                             "--max-conns-per-addr", "10000", "--log-level", "warn"] + LOGIN_ARGS)
    try:
        c = env.campusd.client(timeout=120)
        for i in range(logins.USERS):
            r = c.request('REGISTER bench%d "%s"' % (i, PW))
            assert r.code == 201, r
        c.close()
        base, busy, ratios, stats = logins.rounds(env)
        a, b = logins.pct(base, 0.99) * 1000, logins.pct(busy, 0.99) * 1000
        codes = ", ".join("%s: %d" % (k, len(v)) for k, v in sorted(stats.items(), key=lambda kv: str(kv[0])))
        print("logins: READ p99 alone %.2f ms, with %.0f logins/s offered %.2f ms (%d rounds: %s); logins %s"
              % (a, logins.RATE, b, len(ratios), ", ".join("%.2fx" % r for r in ratios), codes))
        summary("READ p99 with %.0f logins/s offered vs READ p99 alone" % logins.RATE,
                "%.2f ms (logins %s)" % (b, codes), "%.2f ms" % a, "%.2fx" % (b / a) if a else "n/a",
                "<= 1.5x")

        # The burst: every LOGIN at once, each on a connection of its own.
        out, lock = [], threading.Lock()
        go = threading.Event()

        def one(i):
            try:
                cl = env.campusd.client(timeout=60)
                go.wait(10)
                t = time.perf_counter()
                r = cl.request('LOGIN bench%d "%s"' % (i % logins.USERS, PW))
                d = time.perf_counter() - t
                cl.close()
                with lock:
                    out.append((r.code, d))
            except Exception as e:   # noqa: BLE001: counted, not raised
                with lock:
                    out.append((type(e).__name__, 60.0))
        ts = [threading.Thread(target=one, args=(i,)) for i in range(BURST)]
        for t in ts:
            t.start()
        time.sleep(1.0)              # every connection greeted before the burst
        go.set()
        for t in ts:
            t.join(90)
        ok = [d for code, d in out if code == 200]
        others = {}
        for code, _ in out:
            if code != 200:
                others[code] = others.get(code, 0) + 1
        slowest = max(ok) if ok else 0.0
        print("logins: burst of %d: %d answered 200 (slowest %.1f s), others %s"
              % (BURST, len(ok), slowest, others or "none"))
        summary("logins answered 200 out of a burst of %d" % BURST,
                "%d, slowest %.1f s%s" % (len(ok), slowest,
                                           "".join(", %s: %d" % kv for kv in sorted(others.items(), key=str))),
                "%d offered" % BURST, "%.2f" % (len(ok) / BURST), "all, each within 10 s")
    finally:
        env.close()


MONITOR_ARG = re.compile(rb'"((?:[^"\\]|\\.)*)"')


def unquote(b):
    """An argument as Redis MONITOR quotes it (sdscatrepr)."""
    out, i = bytearray(), 0
    esc = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b", b'"': b'"', b"\\": b"\\"}
    while i < len(b):
        if b[i:i + 1] == b"\\" and i + 1 < len(b):
            n = b[i + 1:i + 2]
            if n == b"x":
                out += bytes([int(b[i + 2:i + 4], 16)])
                i += 4
                continue
            out += esc.get(n, n)
            i += 2
            continue
        out += b[i:i + 1]
        i += 1
    return bytes(out)


def done_part():
    if not shutil.which("redis-benchmark"):
        print("done: redis-benchmark is not installed (redis-tools): part skipped")
        return
    env = harness.Env(extra=["--max-conns-per-addr", "10000", "--log-level", "warn"])
    try:
        c = env.campusd.client(timeout=60)
        assert c.request('REGISTER donebench "%s"' % PW).code == 201
        r = c.request('LOGIN donebench "%s"' % PW)
        assert r.code == 200, r
        token = r.kv()["token"]
        lesson = "demo/welcome"
        # The EVALSHAs of one DONE, as Redis received them. Over CTP/1 a
        # logged-in DONE sends one script that checks the session and makes
        # the mark (SCRIPT_DONE_CHECKED); the reference is the mark's own
        # script (SCRIPT_DONE, two keys), which a DONE over HTTP sends after
        # its session lookup. Both are timed; the summary takes the mark's.
        m = socket.create_connection(("127.0.0.1", env.redis.port), timeout=10)
        m.sendall(harness.resp_encode("MONITOR"))
        mf = m.makefile("rb")
        assert mf.readline().startswith(b"+OK")
        assert c.request("DONE " + lesson).code == 200
        status, _, _ = harness.http(env.campusd.http_port, "POST", "/api/done/" + lesson, body="{}",
                                    headers={"Authorization": "Bearer " + token})
        assert status == 200, status
        seen, deadline = {}, time.time() + 10
        while len(seen) < 2 and time.time() < deadline:
            line = mf.readline()
            args = [unquote(a) for a in MONITOR_ARG.findall(line)]
            # A key of the learner's done hash, exactly: the account's name
            # ("donebench") holds ":done" too, and the session lookup of the
            # HTTP DONE (two keys, before the mark) was taken for the mark.
            if args and args[0].lower() == b"evalsha" and any(a.endswith(b"}:done") for a in args):
                seen.setdefault(int(args[2]), args)
        m.close()
        c.close()
        argv, fused = seen.get(2), seen.get(4)
        if argv is None:
            print("done: no EVALSHA of DONE's script seen: part skipped")
            return
        lg = subprocess.run([LOADGEN, "--port", str(env.campusd.text_port), "--conns", str(CONNS),
                             "--depth", "1", "--duration", str(DURATION), "--warmup", "1",
                             "--server-pids", str(env.campusd.proc.pid), "ctp-done", token, lesson],
                            capture_output=True, text=True, timeout=DURATION + 60)
        line = lg.stdout.strip()
        print("done: campusd: " + line)
        # Redis's own CPU per DONE (the steadier figure on a shared machine:
        # the reference's rps is bound by it), over a second short run.
        lr = subprocess.run([LOADGEN, "--port", str(env.campusd.text_port), "--conns", str(CONNS),
                             "--depth", "1", "--duration", str(min(DURATION, 3)), "--warmup", "0.5",
                             "--server-pids", str(env.redis.proc.pid), "ctp-done", token, lesson],
                            capture_output=True, text=True, timeout=DURATION + 60)
        m = re.search(r"server_cpu_us=([\d.]+)", lr.stdout)
        print("done: redis CPU per DONE: %s us" % (m.group(1) if m else "n/a"))
        if lg.stderr:
            print("done: loadgen said: " + " / ".join(lg.stderr.splitlines()[:3]))
        ours = float(re.search(r"rps=(\d+)", line).group(1)) if "rps=" in line else 0.0
        n = max(1000, int(ours * DURATION) if ours else 20000)

        def bench(args):
            rb = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(env.redis.port),
                                 "-c", str(CONNS), "-n", str(n), "--csv"] + [a.decode() for a in args],
                                capture_output=True, text=True, timeout=DURATION * 20 + 60)
            for l in rb.stdout.splitlines():
                f = [x.strip('"') for x in l.split(",")]
                if len(f) > 1 and f[0].lower().startswith("evalsha"):
                    return float(f[1])
            return 0.0

        ref = bench(argv)
        print("done: redis-benchmark EVALSHA of DONE's script (%d requests): %.0f rps" % (n, ref))
        if fused:
            fref = bench(fused)
            print("done: redis-benchmark EVALSHA of the check-and-mark script a CTP/1 DONE sends"
                  " (%d requests): %.0f rps; campusd/that = %s" % (n, fref, ratio(ours, fref)))
        summary("DONE per second, %d connections, vs redis-benchmark EVALSHA of the same script"
                " (AOF, appendfsync always)" % CONNS, "%.0f rps" % ours, "%.0f rps" % ref,
                ratio(ours, ref), ">= 0.5")
    finally:
        env.close()


def main():
    print("campus figures: %s, %d cores, load %s" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                                     os.cpu_count(), open("/proc/loadavg").read().split()[0]))
    for part in PARTS:
        {"conns": conns_part, "logins": logins_part, "done": done_part}[part]()


if __name__ == "__main__":
    main()
