"""Past one machine, the parts one machine shows: a grade or completion is
acknowledged only once a replica confirms it (WAIT; 503 "not confirmed"
otherwise, and a retry then answers from what was kept); PROXY protocol v2
from a trusted address names the client that failed logins are counted
by, on CTP/1 and HTTP, is required from that address and ignored from any
other; RELOAD all reaches every worker; /metrics covers every worker of
the machine; STATS and /healthz give the catalogue version."""

import json
import os
import re
import signal
import socket
import struct
import tempfile

import harness
from harness import Campusd, Client, Env, Redis, http, wait_for

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
PW = "a long enough password"
COURSES = os.path.join(harness.SOURCE, "courses")
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
PROXY_PEER = "127.0.0.2"         # the "balancer": the address campusd trusts


def proxy_header(src, dst="127.0.0.1", sport=40000, dport=7070, local=False):
    if local:
        return SIG + b"\x20\x00\x00\x00"
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return SIG + b"\x21\x11" + struct.pack("!H", len(body)) + body


def connect_from(port, source):
    s = socket.socket()
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_until(s, marker, limit=65536):
    buf = b""
    while marker not in buf and len(buf) < limit:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    return buf


def add_admin(env, name):
    harness.add_user(env.redis.port, name, "admin", PW, FAST, data=os.path.join(env.tmp, "cli"))


def login(env, name, register=True):
    c = env.campusd.client()
    if register:
        assert c.request('REGISTER %s "%s"' % (name, PW)).code == 201
    c.login(name, PW)
    return c


def confirmed(send, tries=10):
    """What a learner does with "not confirmed": retry (bounded), until the
    replica has caught up; the last answer."""
    for _ in range(tries):
        r = send()
        if not (r.code == 503 and r.text.startswith("not confirmed")):
            return r
    return r


def submit(c, ex, key, doc):
    c.send(b"SUBMIT %s %s {%d}\r\n" % (ex.encode(), key.encode(), len(doc)) + doc)
    return c.read_response()


def test_wait_for_a_replica():
    env = Env(courses=COURSES, extra=FAST + ["--store-wait-replicas", "1", "--store-wait-ms", "1000"])
    replica = None
    try:
        c = login(env, "wendy")
        # No replica: the write is on the primary, but is not told as done.
        r = c.request("DONE led-foundations/what-is-led")
        assert r.code == 503 and r.text.startswith("not confirmed"), r
        assert env.redis.cmd("HEXISTS", "campus:{u:wendy}:done", "led-foundations/what-is-led") == b":1"
        r = submit(c, "led-foundations/quiz-foundations", "try-1", b"# first\n")
        assert r.code == 503 and r.text.startswith("not confirmed"), r
        assert c.request("PING").code == 200            # the connection goes on
        # A replica comes: the same requests again answer from what was kept.
        replica = Redis(env.tmp + "/replica").start()
        env.redis.cmd("CONFIG", "SET", "repl-diskless-sync-delay", "0")
        replica.cmd("REPLICAOF", "127.0.0.1", str(env.redis.port))
        wait_for(lambda: b"master_link_status:up" in replica.cmd("INFO", "replication"),
                 timeout=15, what="replica in sync")
        r = confirmed(lambda: c.request("DONE led-foundations/what-is-led"))
        assert r.code == 200 and r.text == "already done led-foundations/what-is-led", r
        r = confirmed(lambda: submit(c, "led-foundations/quiz-foundations", "try-1", b"# first\n"))
        assert r.code in (200, 201) and "attempt=1 " in r.text, r
        r = confirmed(lambda: submit(c, "led-foundations/quiz-foundations", "try-2", b"# second\n"))
        assert r.code in (200, 201) and "attempt=2 " in r.text, r
        assert env.redis.cmd("LLEN", "campus:{u:wendy}:attempts:led-foundations/quiz-foundations") == b":2"
        c.close()
    finally:
        if replica:
            replica.stop()
        env.close()


def test_confirm_across_links():
    # A DONE left unconfirmed on one link, retried on another (a second
    # campusd: another machine) must wait for the replica too: "already
    # done" is told only once a replica has the mark.
    extra = FAST + ["--store-wait-replicas", "1", "--store-wait-ms", "1000"]
    env = Env(courses=COURSES, extra=extra)
    replica = Redis(env.tmp + "/replica").start()
    other = None
    try:
        env.redis.cmd("CONFIG", "SET", "repl-diskless-sync-delay", "0")
        replica.cmd("REPLICAOF", "127.0.0.1", str(env.redis.port))
        wait_for(lambda: b"master_link_status:up" in replica.cmd("INFO", "replication"),
                 timeout=15, what="replica in sync")
        os.makedirs(env.tmp + "/other")
        other = Campusd(env.tmp + "/other", redis=env.redis, courses=COURSES, extra=extra).start()
        a = login(env, "carla")
        b = other.client()
        assert b.request('LOGIN carla "%s"' % PW).code == 200
        r = b.request("DONE led-foundations/why-now")
        assert r.code == 200, r                  # b's last write, before a's below
        replica.kill(signal.SIGSTOP)             # the replica stops confirming
        r = a.request("DONE led-foundations/what-is-led")
        assert r.code == 503 and r.text.startswith("not confirmed"), r
        r = b.request("DONE led-foundations/what-is-led")
        assert r.code == 503 and r.text.startswith("not confirmed"), r
        replica.kill(signal.SIGCONT)
        r = confirmed(lambda: b.request("DONE led-foundations/what-is-led"))
        assert r.code == 200 and r.text.startswith("already done"), r
        a.close()
        b.close()
    finally:
        if other:
            other.stop()
        replica.stop()
        env.close()


def test_proxy_v2():
    env = Env(extra=FAST + ["--proxy-protocol", "text,tls,http", "--proxy-from", PROXY_PEER])
    try:
        text, web = env.campusd.text_port, env.campusd.http_port
        # From the balancer: the header first, then the protocol.
        s = connect_from(text, PROXY_PEER)
        s.sendall(proxy_header("198.51.100.9"))
        assert read_until(s, b"\r\n").startswith(b"200 campusd")
        s.sendall(b'LOGIN nobody "wrong password"\r\n')
        assert read_until(s, b"\r\n")[:3] in (b"401", b"403")
        s.close()
        assert env.redis.cmd("GET", "campus:{a:198.51.100.9}:fails") == b"1"
        assert env.redis.cmd("EXISTS", "campus:{a:%s}:fails" % PROXY_PEER) == b":0"
        # A LOCAL header (a health check) keeps the balancer's own address.
        s = connect_from(text, PROXY_PEER)
        s.sendall(proxy_header(None, local=True) + b"PING\r\n")
        assert b"200 PONG" in read_until(s, b"PONG")
        s.close()
        # From the balancer without a header: closed, nothing answered.
        s = connect_from(text, PROXY_PEER)
        s.sendall(b"PING\r\n")
        assert read_until(s, b"\r\n") == b""
        s.close()
        # From anyone else no header is read: a forged one is just bad bytes.
        s = connect_from(text, "127.0.0.1")
        assert read_until(s, b"\r\n").startswith(b"200 campusd")
        s.sendall(proxy_header("203.0.113.5") + b'LOGIN nobody "wrong password"\r\n')
        s.settimeout(3)
        got = read_until(s, b"nobody-never")
        s.close()
        assert env.redis.cmd("EXISTS", "campus:{a:203.0.113.5}:fails") == b":0", got
        # HTTP: the header, then requests.
        s = connect_from(web, PROXY_PEER)
        body = json.dumps({"name": "nobody", "password": "wrong password"}).encode()
        s.sendall(proxy_header("198.51.100.10", dport=web) +
                  b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = read_until(s, b"\r\n\r\n")
        assert head.split(b" ")[1] in (b"401", b"403"), head
        s.close()
        assert env.redis.cmd("GET", "campus:{a:198.51.100.10}:fails") == b"1"
        s = connect_from(web, PROXY_PEER)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_until(s, b"\r\n\r\n").startswith(b"HTTP/1.1 400"), "no header from the balancer"
        s.close()
        # TLS: the header goes before the handshake.
        s = connect_from(env.campusd.tls_port, PROXY_PEER)
        s.sendall(proxy_header("198.51.100.11"))
        t = harness.tls_wrap(s)
        assert read_until(t, b"\r\n").startswith(b"200 campusd")
        t.sendall(b'LOGIN nobody "wrong password"\r\n')
        assert read_until(t, b"\r\n")[:3] in (b"401", b"403")
        t.close()
        assert env.redis.cmd("GET", "campus:{a:198.51.100.11}:fails") == b"1"
        # Everyone else is served as before.
        assert http(web, "GET", "/healthz")[0] == 200
        assert env.campusd.client().request("PING").code == 200
    finally:
        env.close()


def test_reload_all_metrics_and_version():
    env = Env(workers=2, extra=FAST)
    try:
        add_admin(env, "root")
        c = login(env, "root", register=False)
        # Both workers subscribe within a second of their store link.
        def heard():
            r = c.request("RELOAD all")
            assert r.code == 202, r
            return "to 2 workers" in r.text
        wait_for(heard, timeout=10, step=0.3, what="RELOAD all to reach both workers")
        assert c.request("RELOAD everything").code == 400
        st = c.request("STATS").kv()
        assert re.fullmatch(r"[0-9a-f]{16}", st["catalog-version"]), st
        st_h, _, body = http(env.campusd.http_port, "GET", "/healthz")
        doc = json.loads(body)
        assert doc["catalog_version"] == st["catalog-version"] and doc["catalog_loaded_ms"] > 0, doc

        # /metrics sums the workers whichever answers: PINGs on many
        # connections land on both, and the sum counts them all.
        for _ in range(20):
            k = env.campusd.client()
            assert k.request("PING").code == 200
            k.close()
        def summed():
            _, _, m = http(env.campusd.http_port, "GET", "/metrics")
            t = m.decode()
            n = int(re.search(r'^campus_commands_total\{verb="PING"\} (\d+)$', t, re.M).group(1))
            return ('campus_worker_up{worker="0"} 1' in t and 'campus_worker_up{worker="1"} 1' in t
                    and n >= 20 and 'campus_catalog_info{worker="1",version="%s"} 1'
                    % st["catalog-version"] in t)
        wait_for(summed, timeout=10, step=0.3, what="/metrics to cover both workers")
        _, _, m = http(env.campusd.http_port, "GET", "/metrics")
        assert re.search(r'^campus_connections\{worker="0"\} \d+$', m.decode(), re.M)
        c.close()
    finally:
        env.close()


def test_ready_for_systemd():
    # Type=notify: once its listeners are bound, worker 0 tells the socket
    # in NOTIFY_SOCKET, naming the master's pid.
    path = tempfile.mktemp(prefix="campus-notify-")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    os.environ["NOTIFY_SOCKET"] = path
    try:
        env = Env(workers=2, extra=FAST)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        msg = sock.recv(256).decode()
        assert msg == "READY=1\nMAINPID=%d\n" % env.campusd.proc.pid, msg
    finally:
        sock.close()
        os.unlink(path)
        env.close()


if __name__ == "__main__":
    harness.main(globals())
