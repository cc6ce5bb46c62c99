"""The store under hostile conditions: the embedded redis-server must die
with its campusd and never run twice on one data directory (SIGKILL of
campusd and of a master, a second campusd on the same data, a redis-server
left running by hand); a Redis without AOF is refused for writes unless the
operator accepts the risk. Real redis-server and campusd processes only."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import harness
from harness import Campusd, Redis, http, wait_for


def children_named(pid, name):
    out = subprocess.run(["pgrep", "-P", str(pid), "-x", name], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def alive(pid):
    """True while pid runs (a zombie, waiting for whoever reaps it, is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def redis_servers_in(data):
    """The live redis-server processes whose working directory is data (Redis
    changes into its `dir`): the stores running on that data directory."""
    data = os.path.realpath(data)
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % d) as f:
                if f.read().strip() != "redis-server":
                    continue
            if os.readlink("/proc/%s/cwd" % d) == data and alive(int(d)):
                found.append(int(d))
        except OSError:
            continue
    return found


def unix_cmd(path, *args):
    """One RESP command over a unix socket; returns the first reply line, or
    the bulk string."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(harness.resp_encode(*args))
        f = s.makefile("rb")
        line = f.readline().rstrip(b"\r\n")
        if line.startswith(b"$") and line != b"$-1":
            return f.read(int(line[1:]) + 2)[:-2]
        return line
    finally:
        s.close()


def kill_stores(data):
    """After a failure: SIGKILL whatever redis-server still runs on this
    test's own data dir, so no test leaves one behind."""
    for p in redis_servers_in(data):
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def wait_gone(pids, timeout, what):
    wait_for(lambda: not any(alive(p) for p in pids), timeout=timeout, what=what)


# ---- the embedded store dies with campusd, and runs once per data dir ----

def test_sigkill_campusd_takes_its_redis_along():
    tmp = tempfile.mkdtemp(prefix="campus-test-")
    d = Campusd(tmp, redis=None).start()
    again = None
    try:
        pids = wait_for(lambda: children_named(d.proc.pid, "redis-server"), what="embedded redis")
        assert redis_servers_in(d.data) == pids, (redis_servers_in(d.data), pids)
        d.kill()                                  # SIGKILL: no handler runs
        wait_gone(pids, 10, "the embedded redis-server to die with campusd")
        assert redis_servers_in(d.data) == []
        # The lock went with them: a new campusd starts at once on the same data.
        again = Campusd(tmp, redis=None).start()
        assert again.client().request("PING store").code == 200
        assert len(redis_servers_in(d.data)) == 1
        assert "in use" not in again.log_text()
        again.stop()
        again = None
        assert redis_servers_in(d.data) == []
    finally:
        for c in (d, again):
            if c and c.proc:
                c.kill()
        kill_stores(d.data)
        shutil.rmtree(tmp, ignore_errors=True)


def test_sigkill_master_takes_workers_and_redis_along():
    tmp = tempfile.mkdtemp(prefix="campus-test-")
    d = Campusd(tmp, redis=None, workers=2).start()
    try:
        workers = wait_for(lambda: (lambda w: w if len(w) == 2 else None)(
            children_named(d.proc.pid, "campusd")), what="2 workers")
        # The master, not a worker, is the redis-server's parent.
        pids = children_named(d.proc.pid, "redis-server")
        assert len(pids) == 1, pids
        for w in workers:
            assert children_named(w, "redis-server") == []
        d.kill()
        wait_gone(pids, 10, "redis-server to die with the master")
        # Workers drain (shutdown_timeout, 10 s) and go.
        wait_gone(workers, 20, "workers to die with the master")
        assert redis_servers_in(d.data) == []
    finally:
        if d.proc:
            d.kill()
        kill_stores(d.data)
        shutil.rmtree(tmp, ignore_errors=True)


def test_second_campusd_on_the_same_data_refuses():
    tmp = tempfile.mkdtemp(prefix="campus-test-")
    first = Campusd(tmp, redis=None, workers=2).start()
    try:
        pids = redis_servers_in(first.data)
        assert len(pids) == 1, pids
        second = Campusd(tmp, redis=None)
        with open(second.log_path, "ab") as log:
            p = subprocess.Popen(second.argv(), stdout=log, stderr=subprocess.STDOUT)
            try:
                status = p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise AssertionError("a second campusd on the same data kept running")
        assert status == 1, status
        log = second.log_text()
        assert "is in use by campusd pid %d" % first.proc.pid in log, log
        assert "not starting a second redis-server" in log, log
        # The first one's store is untouched: same single redis, socket kept.
        assert redis_servers_in(first.data) == pids
        cl = first.client()
        assert cl.request("PING store").code == 200
        cl.close()
        first.stop()
        assert redis_servers_in(first.data) == []
    finally:
        if first.proc:
            first.kill()
        kill_stores(first.data)
        shutil.rmtree(tmp, ignore_errors=True)


def test_orphaned_redis_on_the_data_dir_is_stopped_and_its_data_kept():
    tmp = tempfile.mkdtemp(prefix="campus-test-")
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    sock = os.path.join(data, "redis.sock")
    # What an older campusd leaves behind: a redis-server on the data dir's
    # socket and AOF files, with no campusd (and no lock) any more.
    orphan = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", sock, "--dir", data,
         "--appendonly", "yes", "--appendfsync", "always", "--appendfilename", "campus.aof",
         "--dbfilename", "campus.rdb", "--save", "", "--daemonize", "no",
         "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = None
    try:
        wait_for(lambda: unix_cmd(sock, "PING") == b"+PONG", what="hand-started redis")
        assert unix_cmd(sock, "SET", "left:behind", "kept") == b"+OK"
        d = Campusd(tmp, redis=None).start()
        orphan.wait(15)                           # it was stopped, not left running
        log = d.log_text()
        assert "(pid %d) left running without its campusd" % orphan.pid in log, log
        assert "has stopped" in log, log
        ours = children_named(d.proc.pid, "redis-server")
        assert len(ours) == 1 and redis_servers_in(data) == ours, (ours, redis_servers_in(data))
        # SHUTDOWN wrote what it held; our redis-server read it back.
        assert unix_cmd(sock, "GET", "left:behind") == b"kept"
        cl = d.client()
        assert cl.request("PING store").code == 200
        cl.close()
    finally:
        if d:
            d.stop()
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()
        kill_stores(data)
        shutil.rmtree(tmp, ignore_errors=True)


# ---- a Redis without AOF ----

class NoAofRedis(Redis):
    """A redis-server of our own with appendonly no."""

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.dir, "--appendonly", "no", "--save", "", "--daemonize", "no",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, what="redis-server")
        return self


def healthz(d):
    import json
    st, _, body = http(d.http_port, "GET", "/healthz")
    return st, json.loads(body)


def register(cl, name):
    return cl.request('REGISTER %s "correct horse battery"' % name)


def test_redis_without_aof_refuses_writes():
    tmp = tempfile.mkdtemp(prefix="campus-test-")
    redis = NoAofRedis(tmp).start()
    d = Campusd(tmp, redis=redis).start()
    try:
        cl = d.client()
        # Reads work: the store is up.
        assert cl.request("PING store").code == 200
        assert cl.request("COURSES").code == 200
        r = register(cl, "alice")
        assert r.code == 503 and "AOF" in r.text, r
        assert redis.cmd("EXISTS", "campus:{u:alice}:account") == b":0"
        kv = cl.request("STATS").kv()
        assert "appendonly no" in kv["store"] and "store_allow_no_aof" in kv["store"], kv
        st, doc = healthz(d)
        assert doc["store_writable"] is False and "appendonly no" in doc["store"], doc
        assert "refusing writes: Redis has AOF off" in d.log_text()
        # Turned on at runtime: writes come back within the check period.
        assert redis.cmd("CONFIG", "SET", "appendonly", "yes") == b"+OK"
        wait_for(lambda: healthz(d)[1]["store_writable"], timeout=20, what="writes after AOF on")
        assert register(cl, "alice").code == 201
        assert redis.cmd("EXISTS", "campus:{u:alice}:account") == b":1"
        assert "AOF is on" in d.log_text()
        # And turned off again: refused again, with no reconnect.
        assert redis.cmd("CONFIG", "SET", "appendonly", "no") == b"+OK"
        wait_for(lambda: not healthz(d)[1]["store_writable"], timeout=20,
                 what="refusal after AOF off")
        assert register(cl, "bob").code == 503
        assert cl.request("PING store").code == 200
        cl.close()
    finally:
        d.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_redis_without_aof_checked_again_on_reconnect():
    tmp = tempfile.mkdtemp(prefix="campus-test-")
    redis = Redis(tmp).start()                    # AOF on at first
    d = Campusd(tmp, redis=redis).start()
    try:
        cl = d.client()
        assert register(cl, "carol").code == 201
        # The same port comes back without AOF (an operator's restart), with
        # the same data (from an RDB snapshot, so campus:meta still matches).
        port = redis.port
        assert redis.cmd("SAVE") == b"+OK"
        redis.stop()
        redis = NoAofRedis(tmp, port=port).start()
        wait_for(lambda: cl.request("PING store").code == 200, timeout=15, what="reconnect")
        wait_for(lambda: "appendonly no" in healthz(d)[1]["store"], timeout=5,
                 what="AOF refusal after reconnect")
        assert register(cl, "dave").code == 503
        assert "came back empty" not in d.log_text()
        cl.close()
    finally:
        d.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_redis_without_aof_with_config_renamed_uses_info():
    tmp = tempfile.mkdtemp(prefix="campus-test-")
    redis = NoAofRedis(tmp)
    redis.proc = subprocess.Popen(
        ["redis-server", "--port", str(redis.port), "--bind", "127.0.0.1", "--dir", redis.dir,
         "--appendonly", "no", "--save", "", "--daemonize", "no", "--loglevel", "warning",
         "--rename-command", "CONFIG", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(redis.ping, what="redis-server")
    d = Campusd(tmp, redis=redis).start()
    try:
        cl = d.client()
        r = register(cl, "erin")
        assert r.code == 503 and "AOF" in r.text, r
        assert "aof_enabled:0" in d.log_text()
        cl.close()
    finally:
        d.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_redis_without_aof_accepted_when_the_operator_says_so():
    tmp = tempfile.mkdtemp(prefix="campus-test-")
    redis = NoAofRedis(tmp).start()
    conf = os.path.join(tmp, "campusd.conf")
    with open(conf, "w") as f:
        f.write("store_allow_no_aof yes\n")
    d = Campusd(tmp, redis=redis, extra=["--config", conf]).start()
    try:
        cl = d.client()
        assert register(cl, "frank").code == 201
        assert redis.cmd("EXISTS", "campus:{u:frank}:account") == b":1"
        assert cl.request("STATS").kv()["store"] == "up"
        st, doc = healthz(d)
        assert st == 200 and doc["store_writable"] is True, doc
        assert "AOF off" in d.log_text() and "store_allow_no_aof" in d.log_text()
        cl.close()
    finally:
        d.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_allow_no_aof_is_a_typed_setting():
    bad = subprocess.run([harness.CAMPUSD, "--store-allow-no-aof", "maybe", "--check-config"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "store_allow_no_aof" in bad.stderr, bad
    good = subprocess.run([harness.CAMPUSD, "--store-allow-no-aof", "yes", "--check-config",
                           "--courses", os.path.join(harness.FIXTURES, "courses-good")],
                          capture_output=True, text=True, timeout=30)
    assert "store_allow_no_aof yes" in good.stdout, good.stdout


harness.main(globals())
