"""The Redis link under failure: Redis killed, hung and restarted while
clients are connected; the embedded Redis supervised; a store that comes
back empty; several workers. All against real redis-server processes."""

import os
import signal
import subprocess
import time

import harness
from harness import Campusd, Redis, http, wait_for


def children_named(pid, name):
    out = subprocess.run(["pgrep", "-P", str(pid), "-x", name], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_redis_killed_and_restarted_while_connected():
    tmp = harness.tempfile.mkdtemp()
    redis = Redis(tmp).start()
    d = Campusd(tmp, redis=redis, extra=["--store-timeout-ms", "500"]).start()
    try:
        clients = [d.client() for _ in range(5)]
        for cl in clients:
            assert cl.request("PING store").code == 200
        redis.kill(signal.SIGKILL)
        # Each command that needs the store gets exactly one 503; the rest goes on.
        for cl in clients:
            cl.send(b"PING store\r\nPING\r\nECHO x\r\n")
        for cl in clients:
            r = cl.read_response()
            assert r.code == 503 and "store" in r.text, r
            assert cl.read_response().text == "PONG"
            assert cl.read_response().body == b"x"
        st, _, body = http(d.http_port, "GET", "/healthz")
        assert st == 503 and b'"store":"down"' in body or b'"connecting"' in body, body
        assert clients[0].request("STATS").kv()["store"] in ("down", "connecting")
        redis.start()
        wait_for(lambda: clients[0].request("PING store").code == 200, timeout=15,
                 what="store to come back")
        for cl in clients:
            assert cl.request("PING store").code == 200
            cl.close()
        st, _, _ = http(d.http_port, "GET", "/healthz")
        assert st == 200
    finally:
        d.stop()
        redis.stop()


def test_redis_hung_sigstop():
    tmp = harness.tempfile.mkdtemp()
    redis = Redis(tmp).start()
    d = Campusd(tmp, redis=redis, extra=["--store-timeout-ms", "400"]).start()
    try:
        cl = d.client()
        redis.kill(signal.SIGSTOP)
        t0 = time.time()
        cl.send(b"PING store\r\nPING store\r\nPING\r\n")
        r1, r2, r3 = cl.read_response(), cl.read_response(), cl.read_response()
        assert r1.code == 503 and r2.code == 503, (r1, r2)
        assert r3.text == "PONG"
        assert time.time() - t0 < 3.0, time.time() - t0
        # A client that leaves while its command waits on the hung Redis.
        gone = d.client()
        gone.send(b"PING store\r\n")
        gone.close()
        time.sleep(0.2)
        redis.kill(signal.SIGCONT)
        wait_for(lambda: cl.request("PING store").code == 200, timeout=15,
                 what="store after SIGCONT")
        cl.close()
    finally:
        redis.kill(signal.SIGCONT)
        d.stop()
        redis.stop()


def test_store_that_comes_back_empty_refuses_writes():
    tmp = harness.tempfile.mkdtemp()
    redis = Redis(tmp).start()
    d = Campusd(tmp, redis=redis).start()
    try:
        assert redis.cmd("HGET", "campus:meta", "version") == b"1"
        # The store loses everything (a new, empty Redis on the same port).
        redis.kill(signal.SIGKILL)
        for f in os.listdir(redis.dir):
            p = os.path.join(redis.dir, f)
            if os.path.isdir(p):
                for g in os.listdir(p):
                    os.unlink(os.path.join(p, g))
                os.rmdir(p)
            else:
                os.unlink(p)
        redis.start()
        def refused():
            st, _, body = http(d.http_port, "GET", "/healthz")
            return st == 200 and b'"store_writable":false' in body and b"came back empty" in body
        wait_for(refused, timeout=15, what="write refusal")
        assert "came back empty" in d.log_text()
        # Nothing was written over the lost data's marker.
        assert redis.cmd("EXISTS", "campus:meta") == b":0"
    finally:
        d.stop()
        redis.stop()


def test_embedded_redis_supervised():
    tmp = harness.tempfile.mkdtemp()
    d = Campusd(tmp, redis=None).start()
    try:
        pids = wait_for(lambda: children_named(d.proc.pid, "redis-server"), what="embedded redis")
        conf = open(os.path.join(d.data, "redis.conf")).read()
        assert "appendonly yes" in conf and "appendfsync always" in conf and "port 0" in conf
        cl = d.client()
        assert cl.request("PING store").code == 200
        os.kill(pids[0], signal.SIGKILL)
        wait_for(lambda: children_named(d.proc.pid, "redis-server") not in ([], pids),
                 timeout=10, what="redis restart")
        wait_for(lambda: cl.request("PING store").code == 200, timeout=15,
                 what="store after restart")
        # The data survived: AOF on, and the marker matches.
        assert cl.request("STATS").kv()["store"] == "up"
        cl.close()
        newpid = children_named(d.proc.pid, "redis-server")[0]
        d.stop()
        assert not os.path.exists("/proc/%d" % newpid) or \
            open("/proc/%d/stat" % newpid).read().split()[2] == "Z", "redis left running"
    finally:
        if d.proc:
            d.kill()


def test_workers_share_the_ports():
    tmp = harness.tempfile.mkdtemp()
    redis = Redis(tmp).start()
    d = Campusd(tmp, redis=redis, workers=2).start()
    try:
        wait_for(lambda: len(children_named(d.proc.pid, "campusd")) == 2, what="2 workers")
        pids = set()
        for _ in range(40):
            cl = d.client()
            pids.add(cl.request("STATS").kv()["pid"])
            cl.close()
        assert len(pids) == 2, pids
        # A worker that dies is replaced.
        victim = children_named(d.proc.pid, "campusd")[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(children_named(d.proc.pid, "campusd")) == 2 and
                 victim not in children_named(d.proc.pid, "campusd"), timeout=10,
                 what="worker restart")
        assert d.client().request("PING store").code == 200
    finally:
        d.stop()
        redis.stop()


def test_config_file_and_check_config():
    tmp = harness.tempfile.mkdtemp()
    conf = os.path.join(tmp, "campusd.conf")
    with open(conf, "w") as f:
        f.write("# comment\ntext_port 7777\nidle_timeout 42\n")
    out = subprocess.run([harness.CAMPUSD, "--config", conf, "--idle-timeout", "43",
                          "--courses", harness.SOURCE, "--check-config"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "text_port 7777" in out.stdout and "idle_timeout 43" in out.stdout
    with open(conf, "w") as f:
        f.write("text_port 70000\nbogus 1\n")
    out = subprocess.run([harness.CAMPUSD, "--config", conf, "--check-config"],
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert "campusd.conf:1:" in out.stderr and "out of range" in out.stderr, out.stderr
    assert "campusd.conf:2: unknown setting 'bogus'" in out.stderr, out.stderr
    out = subprocess.run([harness.CAMPUSD, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--text-port" in out.stdout and "--workers" in out.stdout
    out = subprocess.run([harness.CAMPUSD, "--version"], capture_output=True, text=True)
    assert out.stdout.startswith("campusd ")
    out = subprocess.run([harness.CAMPUSD, "--no-such-flag", "1"], capture_output=True, text=True)
    assert out.returncode == 2 and "unknown setting" in out.stderr


def test_sigterm_while_an_http_request_waits_on_redis():
    """campusd stopped while an HTTP request waits on a hung Redis: the
    request is answered into the void, and campusd exits 0 without a
    sanitizer report (it used to write into the freed evhttp request)."""
    import json
    import threading
    tmp = harness.tempfile.mkdtemp()
    redis = Redis(tmp).start()
    d = Campusd(tmp, redis=redis, extra=["--scrypt-ln", "10", "--argon2-m", "256", "--argon2-t", "1"]).start()
    cont = True
    try:
        creds = json.dumps({"name": "waiter", "password": "a long enough password"})
        assert http(d.http_port, "POST", "/api/register", creds)[0] == 201
        st, _, body = http(d.http_port, "POST", "/api/login", creds)
        assert st == 200, body
        token = json.loads(body)["data"]["token"]
        redis.kill(signal.SIGSTOP)
        cont = False
        answers = []

        def me():
            try:
                answers.append(http(d.http_port, "GET", "/api/me", headers={"Authorization": "Bearer " + token},
                                    timeout=20)[0])
            except OSError as e:
                answers.append(e)
        t = threading.Thread(target=me)
        t.start()
        time.sleep(0.5)          # the request is in campusd, waiting on Redis for the session
        assert not answers, answers
        d.stop()                 # raises on a sanitizer report or an exit status other than 0
        t.join(25)
        assert answers and answers[0] != 200, answers
    finally:
        if not cont:
            redis.kill(signal.SIGCONT)
        if d.proc:
            d.kill()
        redis.stop()


if __name__ == "__main__":
    harness.main(globals())
