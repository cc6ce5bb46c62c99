#!/usr/bin/env python3
"""slowlink.py: Campus on an emulated slow link, measured (a benchmark, not a
test; --smoke is the short run ctest makes, which asserts only that the
clients work over the link).

    sudo python3 tests/bench/slowlink.py BUILD [--runs N] [--profiles 2g,3g]
    sudo python3 tests/bench/slowlink.py BUILD --smoke
    sudo python3 tests/bench/slowlink.py BUILD --profiles 2g --terminal   # campus read only
    sudo python3 tests/bench/slowlink.py BUILD --profiles 2g --web --timeline   # the web client only,
        # compressed, with each load's requests (path, start, end in ms, bytes) on stderr

Three network namespaces it creates and removes: "cl" (the clients), "mid"
and "srv" (campusd, with its embedded redis-server). cl and srv share one
subnet (10.77.0.1 and 10.77.0.2) through two veth pairs that meet in mid,
where this script's own bridge (--bridge, below) copies each Ethernet frame
across after half the round-trip delay and drops the profile's share of
them at random: this kernel has no netem, so delay and loss are ours, and
TCP sees real loss and retransmits. Bandwidth is shaped with tc's token
bucket (tbf) on the client's and the server's veth. Offloads are kept to
one MTU a frame (gso_max_segs 1), so the bridge sees real packets.

Profiles: 2g: 64 kbit/s each way, 300 ms round trip, 1% loss;
3g: 1 Mbit/s, 150 ms, no loss.

Measured, with and without compression (CTP/1 COMPRESS DEFLATE, HTTP gzip):
  campus read, cold (a new $HOME: TLS certificate first seen, nothing saved)
    and warm (the same $HOME again: the TLS port HELLO named, the TLS
    session resumed), given the text port (STARTTLS when cold) and given
    tls://HOST:7071: time from start to the lesson's text on stdout, and
    bytes on the client's interface (both directions, TLS, TCP/IP and
    retransmits included);
  the web client in Chromium, cold (a new profile) and warm (the same
    profile: the service worker answers): time from navigation to the
    lesson's paragraphs on screen, and bytes on the interface;
  a case-study SUBMIT with campus: time from start to the graded answer.
Without compression means campus --no-compress, and Chromium sending
Accept-Encoding: identity (the service worker's own fetches still take gzip).
"""

import json
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import heapq

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
PROFILES = {
    "2g": {"rate": "64kbit", "rtt_ms": 300, "loss": 0.01},
    "3g": {"rate": "1mbit", "rtt_ms": 150, "loss": 0.0},
}
CL, SRV = "10.77.0.1", "10.77.0.2"
CASE = "cluster-development/ethiopia-oilseeds"
CASE_ANSWER = ("beneficiaries: 2000\nswot: strength=1,2 weakness=3 opportunity=4,5 threat=6\nreop-aim: a\n"
               "purchase-plan: a joint purchase of seed and fertiliser, paid after the harvest,\n"
               "  agreed with the union and the bank\n")
SKIP = 77                        # ctest's SKIP_RETURN_CODE


# ---- the bridge: runs in "mid" (python3 slowlink.py --bridge A B DELAY_MS LOSS SEED) ----

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def fix_checksum(frame):
    """veth leaves TCP and UDP checksums to an offload that never comes
    when a frame is copied by hand: fill them in (IPv4 only)."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    ihl = (frame[14] & 0x0f) * 4
    proto = frame[23]
    total = struct.unpack("!H", frame[16:18])[0]
    start, end = 14 + ihl, 14 + total
    if proto not in (6, 17) or end > len(frame) or end - start < (20 if proto == 6 else 8):
        return frame
    seg = bytearray(frame[start:end])
    off = 16 if proto == 6 else 6
    seg[off:off + 2] = b"\0\0"
    pseudo = frame[26:34] + struct.pack("!BBH", 0, proto, len(seg))
    c = csum(pseudo + bytes(seg))
    if proto == 17 and c == 0:
        c = 0xffff
    seg[off:off + 2] = struct.pack("!H", c)
    return frame[:start] + bytes(seg) + frame[end:]


def bridge(a, b, delay_ms, loss, seed):
    rnd = random.Random(seed)
    socks = {}
    for name in (a, b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        socks[name] = s
    other = {socks[a]: socks[b], socks[b]: socks[a]}
    pending = []                 # (due, seq, out socket, frame)
    lock = threading.Condition()
    seq = 0

    def sender():
        while True:
            with lock:
                while not pending or pending[0][0] > time.monotonic():
                    lock.wait(None if not pending else max(0.0, pending[0][0] - time.monotonic()))
                _, _, out, frame = heapq.heappop(pending)
            try:
                out.send(frame)
            except OSError:
                pass             # a frame too large for the link: lost, as on a real one
    threading.Thread(target=sender, daemon=True).start()
    half = delay_ms / 2000.0
    while True:
        r, _, _ = select.select(list(other), [], [])
        for s in r:
            frame, addr = s.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING:
                continue         # our own copy of what we sent
            if loss and rnd.random() < loss:
                continue
            frame = fix_checksum(frame)
            with lock:
                seq += 1
                heapq.heappush(pending, (time.monotonic() + half, seq, other[s], frame))
                lock.notify()


# ---- the namespaces ----

def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


def ns(name, *args, **kw):
    return sh("ip", "netns", "exec", name, *args, **kw)


class Link:
    def __init__(self, profile, tag):
        self.p = PROFILES[profile]
        self.cl, self.mid, self.srv = "cl" + tag, "mid" + tag, "srv" + tag
        self.bridge = None

    def up(self):
        for n in (self.cl, self.mid, self.srv):
            sh("ip", "netns", "add", n)
            ns(n, "ip", "link", "set", "lo", "up")
            ns(n, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "link", "add", "c0", "netns", self.cl, "type", "veth", "peer", "name", "m0", "netns", self.mid)
        sh("ip", "link", "add", "s0", "netns", self.srv, "type", "veth", "peer", "name", "m1", "netns", self.mid)
        for n, dev, addr in ((self.cl, "c0", CL), (self.srv, "s0", SRV)):
            ns(n, "ip", "link", "set", dev, "gso_max_segs", "1")
            ns(n, "ip", "addr", "add", addr + "/24", "dev", dev)
            ns(n, "ip", "link", "set", dev, "up")
            # A token bucket at the profile's rate; about 2 s of queue.
            ns(n, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", self.p["rate"],
               "burst", "3000", "latency", "2s")
        for dev in ("m0", "m1"):
            ns(self.mid, "ip", "link", "set", dev, "up")
        self.bridge = subprocess.Popen(["ip", "netns", "exec", self.mid, sys.executable,
                                        os.path.abspath(__file__), "--bridge", "m0", "m1",
                                        str(self.p["rtt_ms"]), str(self.p["loss"]), "17"])
        # One TCP exchange across (there may be no ping here).
        listener = subprocess.Popen(["ip", "netns", "exec", self.srv, sys.executable, "-c",
                                     "import socket\ns = socket.create_server(('%s', 9))\n"
                                     "s.settimeout(30)\nc, _ = s.accept()\nc.sendall(b'ok')\n" % SRV])
        probe = ("import socket, time\nend = time.time() + 20\nwhile True:\n"
                 "    try:\n        print(socket.create_connection(('%s', 9), 5).recv(2).decode()); break\n"
                 "    except OSError:\n        time.sleep(0.2)\n        assert time.time() < end\n" % SRV)
        r = ns(self.cl, sys.executable, "-c", probe, check=False, timeout=40)
        listener.kill()
        listener.wait()
        if r.stdout.strip() != "ok":
            raise RuntimeError("the link carries nothing: " + r.stderr[-500:])
        return self

    def bytes(self):
        st = "/sys/class/net/c0/statistics/"
        out = ns(self.cl, "sh", "-c", "cat %srx_bytes %stx_bytes" % (st, st)).stdout.split()
        return int(out[0]) + int(out[1])

    def down(self):
        if self.bridge:
            self.bridge.kill()
            self.bridge.wait()
        for n in (self.cl, self.mid, self.srv):
            sh("ip", "netns", "del", n, check=False)


# ---- what is measured ----

class Bench:
    def __init__(self, build, link, tmp):
        self.build, self.link, self.tmp = build, link, tmp
        self.campus = os.path.join(build, "clients", "terminal", "campus")
        self.campusd = os.path.join(build, "daemon", "campusd")
        self.d = None

    def start_campusd(self):
        data = os.path.join(self.tmp, "data")
        os.makedirs(data, exist_ok=True)
        self.log = open(os.path.join(self.tmp, "campusd.log"), "ab")
        self.d = subprocess.Popen(["ip", "netns", "exec", self.link.srv, self.campusd, "--bind", SRV,
                                   "--text-port", "7070", "--tls-port", "7071", "--http-port", "8080",
                                   "--data", data, "--courses", os.path.join(SOURCE, "courses"),
                                   "--web", os.path.join(SOURCE, "clients", "web"),
                                   "--scrypt-ln", "12"],
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
        end = time.time() + 60
        while True:
            r = ns(self.link.srv, sys.executable, "-c",
                   "import socket; print(socket.create_connection(('%s', 7070), 2).recv(10).decode())"
                   % SRV, check=False)
            if r.returncode == 0 and r.stdout.startswith("200"):
                break
            if self.d.poll() is not None or time.time() > end:
                raise RuntimeError("campusd did not start: see " + self.log.name)
            time.sleep(0.2)

    def stop_campusd(self):
        if self.d:
            self.d.terminate()
            self.d.wait(30)

    def home(self):
        h = tempfile.mkdtemp(prefix="home-", dir=self.tmp)
        return {"HOME": h, "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8",
                "CAMPUS_SERVER": SRV + ":7070", "CAMPUS_TIMEOUT": "60"}

    def campus_timed(self, env, *args, stdin=None):
        """Runs campus in cl: seconds to its first byte on stdout (or to its
        end), bytes on the interface, exit status, output."""
        b0, t0 = self.link.bytes(), time.monotonic()
        p = subprocess.Popen(["ip", "netns", "exec", self.link.cl, self.campus] + list(args), env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if stdin:
            p.stdin.write(stdin.encode())
        p.stdin.close()
        first = p.stdout.read(1)
        t_first = time.monotonic() - t0
        rest = p.stdout.read()
        err = p.stderr.read().decode("utf-8", "replace")
        rc = p.wait()
        t_end = time.monotonic() - t0
        time.sleep(0.3)          # let the last ACKs and FINs cross before counting
        return {"first": t_first if first else t_end, "end": t_end, "bytes": self.link.bytes() - b0,
                "rc": rc, "out": (first + rest).decode("utf-8", "replace"), "err": err}

    def web_timed(self, profile_dir, lesson, compress):
        script = os.path.join(HERE, "slowlink-web.mjs")
        b0 = self.link.bytes()
        r = ns(self.link.cl, "node", script, "http://%s:8080" % SRV, lesson, profile_dir,
               "gzip" if compress else "identity", check=False, timeout=300,
               env=dict(os.environ, HOME=self.tmp))
        time.sleep(0.3)
        try:
            doc = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError("the web run failed:\n" + r.stdout[-2000:] + r.stderr[-2000:])
        doc["bytes"] = self.link.bytes() - b0
        return doc


READ_PROBE = r"""
import socket, sys, zlib
compress = sys.argv[2] == "on"
s = socket.create_connection((sys.argv[3], 7070), 60)
z, d = zlib.compressobj(6, zlib.DEFLATED, -15), zlib.decompressobj(-15)
raw, buf, on = [0], b"", False
def send(line):
    data = line.encode() + b"\r\n"
    s.sendall(z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH) if on else data)
def fill():
    global buf
    chunk = s.recv(65536)
    assert chunk
    raw[0] += len(chunk)
    buf += d.decompress(chunk) if on else chunk
def answer():
    global buf
    while b"\r\n" not in buf:
        fill()
    line, _, buf = buf.partition(b"\r\n")
    if not line.endswith(b"}"):
        return line, b""
    n = int(line.rsplit(b"{", 1)[1][:-1])
    while len(buf) < n + 2:
        fill()
    body, buf = buf[:n], buf[n + 2:]
    return line, body
answer()
if compress:
    send("COMPRESS DEFLATE")
    assert answer()[0].startswith(b"200")
    on = True
send("PING")
answer()
raw[0] = 0
send("READ " + sys.argv[1])
body = answer()[1]
print(raw[0], len(body))
"""


def read_bytes(bench, lesson, compress):
    """Bytes of one READ answer as they come off the socket (CTP/1, no TLS),
    and the length of the lesson's text."""
    r = ns(bench.link.cl, sys.executable, "-c", READ_PROBE, lesson, "on" if compress else "off", SRV,
           timeout=120, check=False)
    if r.returncode != 0:
        raise RuntimeError("the READ probe failed: " + r.stderr[-1500:])
    raw, text = r.stdout.split()
    return int(raw), int(text)


def lesson_text_len(bench, lesson):
    """The lesson's text as READ sends it (for the ratio), read over the link."""
    env = bench.home()
    r = bench.campus_timed(env, "--no-tls", "--no-compress", "read", lesson)
    assert r["rc"] == 0, r
    return len(r["out"].encode())


def web_only(bench, profile, runs, tmp, lesson, rows, timeline):
    for i in range(runs):
        prof = os.path.join(tmp, "chromium-web-%d" % i)
        for what in ("web cold", "web warm (service worker)"):
            m = bench.web_timed(prof, lesson, True)
            rows.append((profile, "on", what, m["ms"] / 1000.0, m["bytes"], None))
            if timeline:
                sys.stderr.write("%s %s, run %d: %d ms to the lesson's text\n" % (profile, what, i + 1, m["ms"]))
                for path, start, end, size in m.get("timeline", []):
                    sys.stderr.write("  %6d %6d %7d  %s\n" % (start, end, size, path))


def run_profile(build, profile, runs, smoke, rows, terminal_only=False, web=False, timeline=False):
    tag = "%d" % os.getpid()
    link = Link(profile, tag)
    tmp = tempfile.mkdtemp(prefix="slowlink-")
    os.chmod(tmp, 0o755)
    bench = Bench(build, link, tmp)
    try:
        link.up()
        bench.start_campusd()
        lesson = "led-foundations/what-is-led"
        r = bench.campus_timed(bench.home(), "--no-tls", "--no-compress", "course", "led-foundations")
        assert r["rc"] == 0, r
        # The longest plain lesson of the course (by its minutes).
        rows_ = [l.split("\t") for l in r["out"].splitlines() if l.count("\t") >= 4]
        plain = [x for x in rows_ if x[4] == "lesson"]
        lesson = max(plain, key=lambda x: int(x[3]))[1] if plain else lesson
        if web:
            web_only(bench, profile, runs, tmp, lesson, rows, timeline)
            return
        text_len = lesson_text_len(bench, lesson)
        learner = bench.home()
        r = bench.campus_timed(learner, "register", "bench%s" % tag, "--password-stdin",
                               stdin="correct horse battery\n")
        assert r["rc"] == 0, r
        answer = os.path.join(learner["HOME"], "answer.txt")
        with open(answer, "w") as f:
            f.write(CASE_ANSWER)
        for compress in ((True,) if smoke else (True, False)):
            flag = [] if compress else ["--no-compress"]
            label = "on" if compress else "off"
            for i in range(runs):
                raw, text = read_bytes(bench, lesson, compress)
                rows.append((profile, label, "one READ answer (CTP/1 payload)", None, raw, text))
                env = bench.home()
                cold = bench.campus_timed(env, *flag, "read", lesson, "--stats")
                warm = bench.campus_timed(env, *flag, "read", lesson, "--stats")
                # The TLS port given (tls://): no STARTTLS even when cold.
                tenv = dict(bench.home(), CAMPUS_SERVER="tls://%s:7071" % SRV)
                tcold = bench.campus_timed(tenv, *flag, "read", lesson, "--stats")
                twarm = bench.campus_timed(tenv, *flag, "read", lesson, "--stats")
                for name, m in (("campus read cold", cold), ("campus read warm", warm),
                                ("campus read cold, tls://", tcold),
                                ("campus read warm, tls://", twarm)):
                    assert m["rc"] == 0 and len(m["out"]) > 100, (name, m)
                    rows.append((profile, label, name, m["first"], m["bytes"], text_len))
                if terminal_only:
                    continue
                sub = bench.campus_timed(dict(learner), *flag, "submit", CASE, answer)
                assert sub["rc"] == 0 and "attempt" in (sub["out"] + sub["err"]).lower(), sub
                rows.append((profile, label, "case SUBMIT", sub["end"], sub["bytes"], None))
                prof = os.path.join(tmp, "chromium-%s-%d" % (label, i))
                wc = bench.web_timed(prof, lesson, compress)
                ww = bench.web_timed(prof, lesson, compress)
                assert ww.get("controlled"), ("the service worker did not answer the warm load", ww)
                rows.append((profile, label, "web cold", wc["ms"] / 1000.0, wc["bytes"], None))
                rows.append((profile, label, "web warm (service worker)", ww["ms"] / 1000.0, ww["bytes"], None))
    finally:
        bench.stop_campusd()
        link.down()
        shutil.rmtree(tmp, ignore_errors=True)


def table(rows, runs):
    out = ["| profile | compression | what | time to lesson text (s) | bytes on the wire | bytes / lesson text |",
           "| --- | --- | --- | ---: | ---: | ---: |"]
    groups = {}
    for p, c, what, t, b, text in rows:
        groups.setdefault((p, c, what), []).append((t, b, text))
    for (p, c, what), vals in groups.items():
        ts = sorted(v[0] or 0 for v in vals)
        bs = sorted(v[1] for v in vals)
        t, b = ts[len(ts) // 2], bs[len(bs) // 2]
        text = vals[0][2]
        ratio = "%.2f" % (b / text) if text else ""
        tcell = "%.2f" % t if vals[0][0] is not None else ""
        out.append("| %s | %s | %s | %s | %d | %s |" % (p, c, what, tcell, b, ratio))
    return "\n".join(out) + "\n(medians of %d run%s)" % (runs, "" if runs == 1 else "s")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--bridge":
        a, b, delay, loss, seed = sys.argv[2:7]
        bridge(a, b, float(delay), float(loss), int(seed))
        return 0
    args = sys.argv[1:]
    smoke = "--smoke" in args
    runs, profiles = 1, ["3g", "2g"]
    if "--runs" in args:
        runs = int(args[args.index("--runs") + 1])
    if "--profiles" in args:
        profiles = args[args.index("--profiles") + 1].split(",")
    build = next((a for a in args if not a.startswith("--") and os.path.isdir(a)), None)
    if build is None:
        print("usage: slowlink.py BUILD [--runs N] [--profiles 2g,3g] [--smoke | --terminal | --web [--timeline]]")
        return 2
    if os.geteuid() != 0:
        print("skip: slowlink needs root to create network namespaces")
        return SKIP
    if shutil.which("ip") is None or shutil.which("tc") is None:
        print("skip: slowlink needs ip and tc (iproute2)")
        return SKIP
    probe = sh("ip", "netns", "add", "slowprobe%d" % os.getpid(), check=False)
    if probe.returncode != 0:
        print("skip: cannot create a network namespace here: " + probe.stderr.strip())
        return SKIP
    sh("ip", "netns", "del", "slowprobe%d" % os.getpid(), check=False)
    rows = []
    if smoke:
        profiles = ["3g"]
    for p in profiles:
        run_profile(os.path.abspath(build), p, runs, smoke, rows, "--terminal" in args, "--web" in args,
                    "--timeline" in args)
    print(table(rows, runs))
    if smoke:
        print("smoke: campus read (compressed, STARTTLS), a case SUBMIT and the web client "
              "(cold, then warm from its service worker) all worked over the shaped link")
    return 0


if __name__ == "__main__":
    sys.exit(main())
