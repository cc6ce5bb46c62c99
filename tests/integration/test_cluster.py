"""A deployment past one machine, simulated on this one in network
namespaces the test makes (veth pairs into a bridge of its own, addresses
10.77.0.0/24 that exist only there): three Redis (a primary and two
replicas) with three Sentinels, two campusd machines with two workers
each under --sentinel, HAProxy in front (TCP for CTP/1 and TLS, HTTP
checks on /healthz, PROXY protocol v2), and clients in a namespace of
their own. Under a steady mixed load (READ, DONE, SUBMIT, over CTP/1 and
TLS, and a live session: a trainer's LIVE GOTOs to a follower over TLS) the
Redis primary is SIGKILLed, then one campusd machine, then the
old primary comes back, is partitioned away and healed.

Asserted: every DONE and SUBMIT the clients saw acknowledged is in the
store at the end; no request got two answers (each answer matches its
request, and nothing arrives unasked); service is back within the
Sentinel failover time plus 2 s; the old primary rejoins as a replica of
the new one. Also: RELOAD all reaches the four workers, STATS and /healthz
show one catalogue version on both machines, /metrics counts both workers
of a machine, and PROXY v2 makes the learner's address the one that
failed logins are counted by, on CTP/1 and on HTTP.

The live session must go on: the follower, who reconnects and joins again
when its machine goes, gets pushes after the failover and after the
machine is gone.

Needs root (ip netns), redis-sentinel and haproxy; skipped, and said so,
without them. All traffic stays inside the namespaces."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import harness
from harness import Client, wait_for

TAG = "cx%d" % (os.getpid() % 100000)
NET = "10.77.0."
R = {1: NET + "11", 2: NET + "12", 3: NET + "13"}     # Redis + Sentinel machines
C = {1: NET + "21", 2: NET + "22"}                    # campusd machines
LB = NET + "30"
CLI = NET + "40"
MASTER = "campus"
DOWN_AFTER_MS = 1000
PASSWORD = "a long enough password"
LOAD_SECONDS = 30
THREADS = 4
COURSES = os.path.join(harness.SOURCE, "courses")

tmp = None
procs = {}          # name -> Popen
namespaces = []


# ---- namespaces -------------------------------------------------------------

def ns(name):
    return "%s-%s" % (TAG, name)


def sh(*argv, check=True, timeout=20):
    r = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(argv), r.stdout.decode(errors="replace")))
    return r.stdout.decode(errors="replace")


def in_ns(name, *argv, **kw):
    return sh("ip", "netns", "exec", ns(name), *argv, **kw)


def popen_ns(name, key, argv, log):
    out = open(os.path.join(tmp, log), "ab")
    p = subprocess.Popen(["ip", "netns", "exec", ns(name)] + list(argv), stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True)
    procs[key] = p
    return p


def make_net():
    nodes = {"r1": R[1], "r2": R[2], "r3": R[3], "c1": C[1], "c2": C[2], "lb": LB, "cli": CLI}
    sh("ip", "netns", "add", ns("hub"))
    namespaces.append("hub")
    in_ns("hub", "ip", "link", "set", "lo", "up")
    in_ns("hub", "ip", "link", "add", "br0", "type", "bridge")
    in_ns("hub", "ip", "link", "set", "br0", "up")
    for node, addr in nodes.items():
        sh("ip", "netns", "add", ns(node))
        namespaces.append(node)
        sh("ip", "link", "add", "p-" + node, "netns", ns("hub"), "type", "veth",
           "peer", "name", "eth0", "netns", ns(node))
        in_ns("hub", "ip", "link", "set", "p-" + node, "master", "br0", "up")
        in_ns(node, "ip", "link", "set", "lo", "up")
        in_ns(node, "ip", "addr", "add", addr + "/24", "dev", "eth0")
        in_ns(node, "ip", "link", "set", "eth0", "up")


def partition(node, cut):
    in_ns("hub", "ip", "link", "set", "p-" + node, "down" if cut else "up")


def destroy_net():
    for node in reversed(namespaces):
        sh("ip", "netns", "del", ns(node), check=False)
    namespaces.clear()


# ---- Redis, Sentinel, campusd, HAProxy --------------------------------------

def redis_cli(node, host, port, *args, timeout=5):
    return in_ns(node, "redis-cli", "-h", host, "-p", str(port), *args, check=False,
                 timeout=timeout).strip()


def redis_batch(host, commands):
    """Many commands on one redis-cli from the clients' namespace; one reply
    line each (an empty line for nil)."""
    text = "".join(" ".join(c) + "\n" for c in commands)
    r = subprocess.run(["ip", "netns", "exec", ns("cli"), "redis-cli", "-h", host, "-p", "6379"],
                       input=text.encode(), stdout=subprocess.PIPE, timeout=60)
    lines = r.stdout.decode().split("\n")
    assert len(lines) >= len(commands), (len(lines), len(commands))
    return lines[:len(commands)]


def start_redis(i, replica_of=None):
    d = os.path.join(tmp, "r%d" % i)
    os.makedirs(d, exist_ok=True)
    argv = ["redis-server", "--bind", R[i], "--port", "6379", "--dir", d,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            "--daemonize", "no", "--loglevel", "notice", "--protected-mode", "no",
            # A primary cut off from its replicas stops taking writes soon.
            "--min-replicas-to-write", "1", "--min-replicas-max-lag", "2"]
    if replica_of:
        argv += ["--replicaof", replica_of, "6379"]
    popen_ns("r%d" % i, "redis%d" % i, argv, "redis%d.log" % i)
    wait_for(lambda: redis_cli("cli", R[i], 6379, "PING") == "PONG", timeout=10,
             what="redis %d" % i)


def start_sentinel(i):
    conf = os.path.join(tmp, "sentinel%d.conf" % i)
    with open(conf, "w") as f:
        f.write("bind %s\nport 26379\ndir %s\nprotected-mode no\n"
                "sentinel monitor %s %s 6379 2\n"
                "sentinel down-after-milliseconds %s %d\n"
                "sentinel failover-timeout %s 4000\n"
                "sentinel parallel-syncs %s 1\n"
                % (R[i], tmp, MASTER, R[1], MASTER, DOWN_AFTER_MS, MASTER, MASTER))
    popen_ns("r%d" % i, "sentinel%d" % i, ["redis-sentinel", conf], "sentinel%d.log" % i)


def sentinel_primary():
    for i in (1, 2, 3):
        out = redis_cli("cli", R[i], 26379, "SENTINEL", "get-master-addr-by-name", MASTER,
                        timeout=2)
        lines = out.split()
        if len(lines) == 2:
            return lines[0]
    return None


def campusd_argv(i, extra=()):
    return [harness.CAMPUSD, "--bind", C[i], "--text-port", "7070", "--tls-port", "7071",
            "--http-port", "8080", "--data", os.path.join(tmp, "c%d" % i),
            "--courses", COURSES, "--web", os.path.join(harness.SOURCE, "clients", "web"),
            "--workers", "2", "--log-level", "info",
            "--scrypt-ln", "10", "--scrypt-p", "1",
            "--sentinel", ",".join("%s:26379" % R[j] for j in (1, 2, 3)),
            "--sentinel-master", MASTER,
            "--proxy-protocol", "text,tls,http", "--proxy-from", LB] + list(extra)


def start_campusd(i):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    out = open(os.path.join(tmp, "campusd%d.log" % i), "ab")
    p = subprocess.Popen(["ip", "netns", "exec", ns("c%d" % i)] + campusd_argv(i), stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True, env=env)
    procs["campusd%d" % i] = p


def healthz(host, port=8080):
    """GET /healthz from the clients' namespace; (status, json) or (0, None).
    (Not from HAProxy's: campusd wants a PROXY header from that address.)"""
    code = ("import http.client,sys\n"
            "c=http.client.HTTPConnection(%r,%d,timeout=3)\n"
            "c.request('GET','/healthz')\n"
            "r=c.getresponse();sys.stdout.write(str(r.status)+' '+r.read().decode())\n"
            % (host, port))
    out = in_ns("cli", sys.executable, "-c", code, check=False)
    try:
        st, _, body = out.partition(" ")
        return int(st), json.loads(body)
    except ValueError:
        return 0, None


HAPROXY_CFG = """
global
    maxconn 2000
defaults
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    retries 3
    option redispatch
frontend ctp
    mode tcp
    bind {lb}:7070
    default_backend ctp
frontend ctps
    mode tcp
    bind {lb}:7071
    default_backend ctps
frontend web
    mode http
    bind {lb}:8080
    default_backend web
backend ctp
    mode tcp
    balance leastconn
    option httpchk GET /healthz
    http-check expect rstatus ^(200|503)$
    server c1 {c1}:7070 send-proxy-v2 check port 8080 check-send-proxy inter 300 fall 2 rise 2
    server c2 {c2}:7070 send-proxy-v2 check port 8080 check-send-proxy inter 300 fall 2 rise 2
backend ctps
    mode tcp
    balance leastconn
    option httpchk GET /healthz
    http-check expect rstatus ^(200|503)$
    server c1 {c1}:7071 send-proxy-v2 check port 8080 check-send-proxy inter 300 fall 2 rise 2
    server c2 {c2}:7071 send-proxy-v2 check port 8080 check-send-proxy inter 300 fall 2 rise 2
backend web
    mode http
    balance roundrobin
    option httpchk GET /healthz
    http-check expect rstatus ^(200|503)$
    server c1 {c1}:8080 send-proxy-v2 check check-send-proxy inter 300 fall 2 rise 2
    server c2 {c2}:8080 send-proxy-v2 check check-send-proxy inter 300 fall 2 rise 2
"""


def start_haproxy():
    conf = os.path.join(tmp, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(HAPROXY_CFG.format(lb=LB, c1=C[1], c2=C[2]))
    sh("haproxy", "-c", "-f", conf)
    popen_ns("lb", "haproxy", ["haproxy", "-db", "-f", conf], "haproxy.log")


def stop_all():
    for key, p in list(procs.items()):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM if key.startswith("campusd") else signal.SIGKILL)
            except ProcessLookupError:
                pass
    for key, p in list(procs.items()):
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    procs.clear()


# ---- the load, run in the clients' namespace --------------------------------

def load_main(conf_path):
    """The clients: THREADS learners' loops for LOAD_SECONDS, each event a
    JSON line (t, thread, op, what, code) in the output file."""
    conf = json.load(open(conf_path))
    out = open(conf["out"], "a")
    lock = threading.Lock()
    stop_at = time.time() + conf["seconds"]

    def log(**ev):
        ev["t"] = time.time()
        with lock:
            out.write(json.dumps(ev) + "\n")
            out.flush()

    def connect(tls):
        c = Client(7071 if tls else 7070, host=conf["lb"], timeout=4, tls=tls)
        return c

    def worker(n):
        users = conf["users"][n]
        lessons, exercises = conf["lessons"], conf["exercises"]
        ui, li, ei, k = 0, 0, 0, 0
        c = None
        tls = n % 2 == 1
        while time.time() < stop_at:
            user = users[ui % len(users)]
            try:
                if c is None:
                    c = connect(tls)
                    r = c.request('LOGIN %s "%s"' % (user, PASSWORD))
                    if r.code != 200:
                        log(th=n, op="LOGIN", user=user, code=r.code, text=r.text)
                        c.close()
                        c = None
                        time.sleep(0.1)
                        continue
                k += 1
                kind = k % 3
                if kind == 0:
                    lesson = lessons[li % len(lessons)]
                    r = c.request("READ %s text" % lesson)
                    ok = r.code != 200 or (r.body is not None and len(r.body) > 0)
                    log(th=n, op="READ", user=user, what=lesson, code=r.code, match=ok)
                elif kind == 1:
                    lesson = lessons[li % len(lessons)]
                    li += 1
                    r = c.request("DONE %s" % lesson)
                    ok = r.code != 200 or r.text.endswith(" " + lesson)
                    log(th=n, op="DONE", user=user, what=lesson, code=r.code, text=r.text,
                        match=ok)
                else:
                    ex = exercises[ei % len(exercises)]
                    ei += 1
                    key = "%s-%d-%d" % (user, n, k)
                    doc = ("# attempt %s\n" % key).encode()
                    c.send(b"SUBMIT %s %s {%d}\r\n" % (ex.encode(), key.encode(), len(doc)) + doc)
                    r = c.read_response()
                    ok = r.code not in (200, 201) or "attempt=" in r.text
                    log(th=n, op="SUBMIT", user=user, what=ex, key=key, code=r.code, text=r.text,
                        match=ok)
                if k % 12 == 0:
                    ui += 1                  # on to the next learner, on a new connection
                    # Nothing unasked may be waiting: one answer per request.
                    c.sock.settimeout(0.05)
                    try:
                        extra = c.sock.recv(4096)
                    except (socket.timeout, BlockingIOError):
                        extra = b""
                    extra = c.buf + extra
                    if extra:
                        log(th=n, op="EXTRA", user=user, data=extra.decode(errors="replace"))
                    c.close()
                    c = None
            except (OSError, EOFError, AssertionError) as e:
                log(th=n, op="DROP", user=user, err=str(e)[:100])
                if c:
                    c.close()
                c = None
                time.sleep(0.05)
        if c:
            c.close()

    def live_request(c, line):
        c.send(line + "\r\n")
        while True:
            while b"\r\n" not in c.buf:
                c._fill()
            if not c.buf.startswith(b"* "):
                return c.read_response()
            m = re.search(rb"\{(\d+)\}$", c.read_line())
            if m:
                c.read_exact(int(m.group(1)) + 2)

    def lead():
        c = None
        i = 0
        while time.time() < stop_at:
            try:
                if c is None:
                    c = connect(False)
                    # A login the store could not answer (503) leaves the
                    # connection anonymous, and LIVE would rightly say 401:
                    # only a logged-in connection goes on.
                    r = c.request('LOGIN coach "%s"' % PASSWORD)
                    if r.code != 200:
                        log(th="lead", op="LOGIN", code=r.code, text=r.text)
                        c.close()
                        c = None
                        time.sleep(0.2)
                        continue
                    r = live_request(c, "LIVE START %s" % conf["cohort"])
                    log(th="lead", op="LIVE START", code=r.code)
                lesson = conf["lessons"][i % len(conf["lessons"])]
                if not lesson.startswith("led-foundations/"):
                    i += 1
                    continue
                r = live_request(c, "LIVE GOTO %s" % lesson)
                log(th="lead", op="LIVE GOTO", what=lesson, code=r.code, text=r.text)
                i += 1
                time.sleep(0.3)
            except (OSError, EOFError, AssertionError) as e:
                log(th="lead", op="DROP", err=str(e)[:100])
                if c:
                    c.close()
                c = None
                time.sleep(0.1)

    def follow():
        c = None
        while time.time() < stop_at:
            try:
                if c is None:
                    c = connect(True)
                    r = c.request('LOGIN fol "%s"' % PASSWORD)
                    if r.code != 200:        # the store away: as the lead's
                        log(th="follow", op="LOGIN", code=r.code, text=r.text)
                        c.close()
                        c = None
                        time.sleep(0.2)
                        continue
                    r = live_request(c, "LIVE JOIN %s" % conf["cohort"])
                    if r.code != 200:        # no session under way yet, or the store away
                        log(th="follow", op="LIVE JOIN refused", status=r.code)
                        c.close()
                        c = None
                        time.sleep(0.2)
                        continue
                    log(th="follow", op="LIVE JOIN", code=r.code)
                    c.sock.settimeout(1.0)
                try:
                    line = c.read_line()
                except socket.timeout:
                    continue
                m = re.search(rb"\{(\d+)\}$", line)
                if m:
                    c.read_exact(int(m.group(1)) + 2)
                if line.startswith(b"* LIVE GOTO "):
                    log(th="follow", op="PUSH GOTO", what=line[12:].decode())
            except (OSError, EOFError, AssertionError) as e:
                log(th="follow", op="DROP", err=str(e)[:100])
                if c:
                    c.close()
                c = None
                time.sleep(0.1)

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(conf["threads"])]
    ts += [threading.Thread(target=lead), threading.Thread(target=follow)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.close()


# ---- the test ---------------------------------------------------------------

def usable():
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "redis-sentinel", "haproxy", "redis-cli"):
        if shutil.which(tool) is None:
            return "no " + tool
    return None


def primary_role(i):
    return redis_cli("cli", R[i], 6379, "ROLE").split("\n")


def setup():
    global tmp
    tmp = tempfile.mkdtemp(prefix="campus-cluster-")
    os.chmod(tmp, 0o755)


def teardown():
    try:
        stop_all()
    finally:
        destroy_net()
        if tmp and os.environ.get("CAMPUS_KEEP_TMP") is None:
            shutil.rmtree(tmp, ignore_errors=True)


def check_logs():
    for i in (1, 2):
        path = os.path.join(tmp, "campusd%d.log" % i)
        text = open(path, errors="replace").read() if os.path.exists(path) else ""
        for mark in harness.SANITIZER_MARKS:
            assert mark not in text, "sanitizer report in campusd %d:\n%s" % (i, text[-6000:])


def test_cluster_failover():
    why = usable()
    if why:
        print("SKIPPED test_cluster_failover: %s" % why)
        return
    make_net()
    # -- the store: a primary, two replicas, three Sentinels
    start_redis(1)
    start_redis(2, replica_of=R[1])
    start_redis(3, replica_of=R[1])
    wait_for(lambda: "min_slaves_good_slaves:2" in redis_cli("cli", R[1], 6379, "INFO",
                                                             "replication"),
             timeout=15, what="two replicas")
    for i in (1, 2, 3):
        start_sentinel(i)

    def sentinels_agree():
        for i in (1, 2, 3):
            out = redis_cli("cli", R[i], 26379, "SENTINEL", "master", MASTER).split("\n")
            fields = dict(zip(out[0::2], out[1::2]))
            if fields.get("num-other-sentinels") != "2" or fields.get("num-slaves") != "2":
                return False
        return True
    wait_for(sentinels_agree, timeout=20, what="Sentinels to see each other and the replicas")

    # -- two campusd machines, HAProxy in front
    for i in (1, 2):
        # The first account is an admin, added straight to the primary.
        if i == 1:
            r = subprocess.run(["ip", "netns", "exec", ns("c1"), harness.CAMPUSD,
                                "--data", os.path.join(tmp, "c1"), "--courses", COURSES,
                                "--redis", "%s:6379" % R[1], "--scrypt-ln", "10",
                                "--scrypt-p", "1", "--add-user", "boss", "--role", "admin"],
                               input=(PASSWORD + "\n").encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            assert r.returncode == 0, r.stdout
        start_campusd(i)
    start_haproxy()
    for i in (1, 2):
        wait_for(lambda: healthz(C[i])[0] == 200, timeout=30, what="campusd %d healthy" % i)
    wait_for(lambda: healthz(LB)[0] == 200, timeout=15, what="HAProxy up")

    # -- one catalogue version everywhere; /metrics sees both workers
    versions = set()
    for i in (1, 2):
        st, doc = healthz(C[i])
        versions.add(doc["catalog_version"])
        assert len(doc["catalog_version"]) == 16, doc
    assert len(versions) == 1, versions
    code = ("import http.client,sys,time\n"
            "for _ in range(30):\n"
            "  c=http.client.HTTPConnection(%r,8080,timeout=3);c.request('GET','/metrics')\n"
            "  t=c.getresponse().read().decode()\n"
            "  if 'campus_worker_up{worker=\"1\"} 1' in t: break\n"
            "  time.sleep(0.2)\n"
            "sys.stdout.write(t)\n" % C[2])
    metrics = in_ns("cli", sys.executable, "-c", code)
    version = versions.pop()
    for w in ("0", "1"):
        assert 'campus_worker_up{worker="%s"} 1' % w in metrics, metrics[:2000]
        assert 'campus_catalog_info{worker="%s",version="%s"} 1' % (w, version) in metrics

    # -- accounts, through HAProxy from the clients' namespace
    users = [["l%d-%d" % (n, j) for j in range(4)] for n in range(THREADS)]
    reg = ("import sys,json\nsys.path.insert(0,%r)\nfrom harness import Client\n"
           "out={}\n"
           "c=Client(7070,host=%r,timeout=10)\n"
           "for u in json.loads(sys.argv[1]):\n"
           "  out[u]=c.request('REGISTER %%s \"%s\"' %% u).code\n"
           "r=c.request('LOGIN nobody-here \"wrong password\"')\n"
           "out['_badlogin']=r.code\n"
           "r=c.request('LOGIN boss \"%s\"'); out['_boss']=r.code\n"
           "out['_lessons']=[]; out['_exercises']=[]\n"
           "a=Client(7070,host=%r,timeout=10)\n"
           "for row in a.request('COURSES').rows():\n"
           "  for l in a.request('COURSE '+row['id']).rows():\n"
           "    out['_lessons'].append(l['lesson'])\n"
           "    if l['kind'] in ('quiz','case'): out['_exercises'].append(l['lesson'])\n"
           "t=Client(7070,host=%r,timeout=10); f=Client(7070,host=%r,timeout=10)\n"
           "out['_coach']=t.request('REGISTER coach \"%s\"').code\n"
           "out['_fol']=f.request('REGISTER fol \"%s\"').code\n"
           "out['_role']=c.request('USER ROLE coach trainer').code\n"
           "t.request('LOGIN coach \"%s\"'); f.request('LOGIN fol \"%s\"')\n"
           "r=t.request('COHORT CREATE led-foundations Live 2020-01-01'); out['_cohort']=r.text\n"
           "out['_join']=f.request('COHORT JOIN '+r.text.split()[-1]).code\n"
           "r=c.request('RELOAD all'); out['_reload']=[r.code, r.text]\n"
           "r=c.request('STATS'); out['_stats']=r.body.decode() if r.body else r.text\n"
           "print(json.dumps(out))\n"
           % (os.path.dirname(os.path.abspath(__file__)), LB, PASSWORD, PASSWORD, LB,
              LB, LB, PASSWORD, PASSWORD, PASSWORD, PASSWORD))
    # Each worker subscribes within a second of its store link.
    wait_for(lambda: redis_cli("cli", R[1], 6379, "PUBSUB", "NUMSUB", "campus:reload")
             .split("\n")[-1] == "4", timeout=15, what="four workers subscribed")
    out = json.loads(in_ns("cli", sys.executable, "-c", reg,
                           json.dumps([u for us in users for u in us]), timeout=60))
    assert all(v == 201 for k, v in out.items() if not k.startswith("_")), out
    assert out["_badlogin"] in (401, 403), out
    assert out["_boss"] == 200, out
    assert out["_coach"] == 201 and out["_fol"] == 201 and out["_role"] == 200, out
    assert out["_join"] in (200, 201), out
    cohort = out["_cohort"].split()[1]
    # What a learner may read and answer, as the server lists it.
    lessons, exercises = out["_lessons"], out["_exercises"]
    assert len(lessons) > 30 and len(exercises) > 5, (len(lessons), len(exercises))
    # Every worker of both machines heard the reload.
    assert out["_reload"][0] == 202 and "to 4 workers" in out["_reload"][1], out["_reload"]
    assert "catalog-version" in out["_stats"], out["_stats"]
    # PROXY v2: the failed login is counted for the clients' address, not HAProxy's.
    assert redis_cli("cli", R[1], 6379, "EXISTS", "campus:{a:%s}:fails" % CLI) == "1"
    assert redis_cli("cli", R[1], 6379, "EXISTS", "campus:{a:%s}:fails" % LB) == "0"
    # ... over HTTP as well.
    code = ("import http.client,json\n"
            "c=http.client.HTTPConnection(%r,8080,timeout=5)\n"
            "c.request('POST','/api/login',body=json.dumps({'name':'nobody2','password':'wrong one'}),"
            "headers={'Content-Type':'application/json'})\n"
            "print(c.getresponse().status)\n" % LB)
    # RELOAD all just made every worker load the catalogue, which takes
    # seconds in this build: HAProxy may answer 503 (or the request time
    # out) until a machine is back. Bounded: at most 20 tries, 1 s apart.
    got = ""
    for _ in range(20):
        try:
            got = in_ns("cli", sys.executable, "-c", code).strip()
        except Exception as e:       # a timeout inside the namespace
            got = repr(e)
        if got in ("401", "403"):
            break
        time.sleep(1)
    assert got in ("401", "403"), got
    # A try that timed out may have reached campusd and counted too.
    assert int(redis_cli("cli", R[1], 6379, "GET", "campus:{a:%s}:fails" % CLI)) >= 2
    # A reload holds each worker while it loads (seconds in this build):
    # the load begins once HAProxy has both machines again.
    for i in (1, 2):
        wait_for(lambda: healthz(C[i])[0] == 200, timeout=30, what="campusd %d after reload" % i)
    time.sleep(1.0)     # HAProxy's rise, and the replicas have the accounts

    # -- the load, and what goes wrong under it
    events = os.path.join(tmp, "events.jsonl")
    conf = os.path.join(tmp, "load.json")
    json.dump({"out": events, "seconds": LOAD_SECONDS, "lb": LB, "threads": THREADS,
               "cohort": cohort,
               "users": users, "lessons": lessons, "exercises": exercises}, open(conf, "w"))
    load = subprocess.Popen(["ip", "netns", "exec", ns("cli"), sys.executable,
                             os.path.abspath(__file__), "--load", conf],
                            stdout=open(os.path.join(tmp, "load.log"), "ab"),
                            stderr=subprocess.STDOUT)
    t0 = time.time()
    time.sleep(5)
    # 1. SIGKILL the Redis primary.
    t_kill = time.time()
    os.killpg(procs["redis1"].pid, signal.SIGKILL)
    procs["redis1"].wait()
    wait_for(lambda: sentinel_primary() not in (None, R[1]), timeout=20, step=0.05,
             what="Sentinel failover")
    t_switch = time.time()
    new_primary = sentinel_primary()
    time.sleep(max(0, 6 - (time.time() - t_switch)))
    # 2. SIGKILL one campusd machine (its master and both workers).
    t_machine = time.time()
    os.killpg(procs["campusd1"].pid, signal.SIGKILL)
    procs["campusd1"].wait()
    time.sleep(4)
    # 3. The old primary comes back: Sentinel makes it a replica.
    start_redis(1)
    wait_for(lambda: primary_role(1)[0] == "slave", timeout=20, what="old primary demoted")
    # ... then is cut off, and healed.
    partition("r1", True)
    time.sleep(3)
    partition("r1", False)
    rc = load.wait(LOAD_SECONDS + 30)
    assert rc == 0, open(os.path.join(tmp, "load.log")).read()[-3000:]

    # -- what the clients saw
    evs = [json.loads(l) for l in open(events)]
    assert len(evs) > 200, len(evs)
    extra = [e for e in evs if e["op"] == "EXTRA"]
    assert not extra, extra[:5]
    mismatched = [e for e in evs if e.get("match") is False]
    assert not mismatched, mismatched[:5]
    bad = [e for e in evs if e.get("code") is not None and e["code"] not in
           (200, 201, 202, 409, 503)]
    assert not bad, bad[:5]
    acked_done = {(e["user"], e["what"]) for e in evs if e["op"] == "DONE" and e["code"] == 200}
    acked_submit = [e for e in evs if e["op"] == "SUBMIT" and e["code"] in (200, 201)]
    assert len(acked_done) > 20 and len(acked_submit) > 10, (len(acked_done), len(acked_submit))
    # Service back: the first acknowledged write after the kill.
    # Answers already on their way when the primary died are not "back":
    # count from the first refusal after the kill.
    refused = [e["t"] for e in evs if e["t"] > t_kill and e.get("code") == 503]
    assert refused, "no 503 after the primary was killed"
    writes_after = [e["t"] for e in evs if e["op"] in ("DONE", "SUBMIT") and e["t"] > refused[0]
                    and e["code"] in (200, 201)]
    assert writes_after, "no write acknowledged after the primary was killed"
    failover = t_switch - t_kill
    back = writes_after[0] - t_switch
    print("failover %.2fs (Sentinel), writes back %.2fs after it; %d DONE, %d SUBMIT "
          "acknowledged; %d answers 503" % (failover, back, len(acked_done), len(acked_submit),
                                            sum(1 for e in evs if e.get("code") == 503)))
    assert back <= 2.0, (failover, back)
    # After the machine went, the other one serves.
    after_machine = [e for e in evs if e["t"] > t_machine + 3 and e.get("code") == 200]
    assert len(after_machine) > 20, len(after_machine)

    # -- the live session went on: pushes reached the follower after the
    # failover and after its machine (or the other) went
    pushes = [e["t"] for e in evs if e["op"] == "PUSH GOTO"]
    assert any(t > t_switch + 2 for t in pushes) and any(t > t_machine + 3 for t in pushes), \
        (len(pushes), [e for e in evs if e["th"] in ("lead", "follow")][-10:])
    print("live: %d pushes followed, %d after the machine went"
          % (len(pushes), sum(1 for t in pushes if t > t_machine)))

    # -- what the store kept: every acknowledged write
    primary = sentinel_primary()
    assert primary in (R[2], R[3]), primary
    pi = 2 if primary == R[2] else 3
    done = sorted(acked_done)
    replies = redis_batch(primary, [("HGET", "campus:{u:%s}:done" % u, l) for u, l in done])
    lost = [d for d, r in zip(done, replies) if not r.strip()]
    assert not lost, "acknowledged DONE lost: %s" % lost[:10]
    # Attempt N is record N-1 of the list (appended in order): the list
    # must be at least N long, and hold that submission's key's record.
    replies = redis_batch(primary, [("LLEN", "campus:{u:%s}:attempts:%s" % (e["user"], e["what"]))
                                    for e in acked_submit])
    for e, r in zip(acked_submit, replies):
        n = int(e["text"].split("attempt=")[1].split()[0])
        if not r.strip().isdigit() or int(r) < n:
            lost.append((e["user"], e["what"], n, r))
    assert not lost, "acknowledged SUBMIT lost: %s" % lost[:10]

    # -- the old primary is a replica of the new one, in sync
    def rejoined():
        role = primary_role(1)
        return role[0] == "slave" and role[1] == primary and role[3] == "connected"
    wait_for(rejoined, timeout=20, what="old primary to rejoin as a replica")
    assert primary_role(pi)[0] == "master"
    stop_all()
    check_logs()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--load":
        load_main(sys.argv[2])
        sys.exit(0)
    harness.main(globals())
