"""Test harness: a private redis-server and a real campusd on free loopback
ports, and a CTP/1 client that reads responses exactly as the protocol frames
them. Each test file imports this, defines test_* functions, and calls
harness.main(globals()), which runs them in order and prints
"N passed, M failed" (exit status 1 on any failure)."""

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import struct
import sys
import tempfile
import termios
import time
import traceback

SOURCE = os.environ.get("CAMPUS_SOURCE") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
CAMPUSD = os.environ.get("CAMPUSD") or os.path.join(SOURCE, "build", "daemon", "campusd")
BUILD = os.environ.get("CAMPUS_BUILD") or os.path.join(SOURCE, "build")
FIXTURES = os.path.join(SOURCE, "tests", "fixtures")

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer")
# campus, the terminal client, and what in its stderr is a sanitizer report.
CAMPUS = os.path.join(BUILD, "clients", "terminal", "campus")
CLIENT_SANITIZER_MARKS = ("Sanitizer", "runtime error:")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10.0, step=0.05, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = pred()
            if v:
                return v
        except Exception:
            pass
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


def resp_encode(*args):
    """A command as a RESP array of bulk strings."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Redis:
    """A redis-server of our own on a loopback port, AOF on."""

    def __init__(self, tmp, port=None):
        self.dir = os.path.join(tmp, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.port_chosen = port is None
        self.proc = None

    def start(self):
        # Test files run in parallel, and a free port can be taken by another
        # one's redis-server between free_port() and the bind: then the PING
        # below would be answered by that one. Check the answer is ours, and
        # take another port when the port was ours to choose.
        for _ in range(5):
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "always",
                 "--save", "", "--daemonize", "no", "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(lambda: self.proc.poll() is not None or self.ping(), what="redis-server")
            if self.proc.poll() is None and \
                    ("process_id:%d\r\n" % self.proc.pid).encode() in self.cmd("INFO", "server"):
                return self
            self.proc.kill()
            self.proc.wait()
            if not self.port_chosen:
                raise AssertionError("port %d is taken by another redis-server" % self.port)
            self.port = free_port()
        raise AssertionError("no free port for redis-server")

    def ping(self):
        try:
            return self.cmd("PING") == b"+PONG"
        except OSError:
            return False

    def cmd(self, *args):
        """One command, RESP-encoded; returns the first reply line (bytes) or
        the bulk string for $ replies."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        try:
            s.sendall(resp_encode(*args))
            f = s.makefile("rb")
            line = f.readline().rstrip(b"\r\n")
            if line.startswith(b"$") and line != b"$-1":
                n = int(line[1:])
                return f.read(n + 2)[:-2]
            return line
        finally:
            s.close()

    def kill(self, sig=signal.SIGKILL):
        if self.proc:
            self.proc.send_signal(sig)
            if sig in (signal.SIGKILL, signal.SIGTERM):
                self.proc.wait()
                self.proc = None

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class Campusd:
    """A real campusd. Its log goes to a file; stop() fails the test if the
    sanitizers reported anything or the exit status was not 0."""

    def __init__(self, tmp, redis=None, courses=None, extra=(), workers=1, tls=True, http=True):
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        self.text_port = free_port()
        self.tls_port = free_port() if tls else 0
        self.http_port = free_port() if http else 0
        self.redis = redis
        self.courses = courses or os.path.join(FIXTURES, "courses-good")
        self.extra = list(extra)
        self.workers = workers
        self.proc = None
        self.started = False
        self.log_path = os.path.join(tmp, "campusd-%d.log" % self.text_port)

    def argv(self):
        a = [CAMPUSD, "--bind", "127.0.0.1", "--text-port", str(self.text_port),
             "--tls-port", str(self.tls_port), "--http-port", str(self.http_port),
             "--data", self.data, "--courses", self.courses,
             "--web", os.path.join(SOURCE, "clients", "web"),
             "--workers", str(self.workers), "--log-level", "debug"]
        if self.redis is not None:
            a += ["--redis", "127.0.0.1:%d" % self.redis.port]
        return a + self.extra

    # Tests run side by side: a port free_port() found may be taken by
    # another test's server before this campusd binds it. On its first
    # start (a restart keeps the ports a test knows) it gets new ones.
    START_TRIES = 3

    def start(self, wait_store=True):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        for attempt in range(self.START_TRIES):
            self.log = open(self.log_path, "ab")
            mark = self.log.tell()
            self.proc = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT,
                                         env=env)
            end = time.time() + 30
            while time.time() < end and self.proc.poll() is None and not self.connects():
                time.sleep(0.05)
            if self.proc.poll() is None:
                if not self.connects():
                    raise AssertionError("timed out waiting for campusd to accept")
                break
            with open(self.log_path, "rb") as f:
                f.seek(mark)
                text = f.read().decode("utf-8", "replace")
            if not self.started and attempt + 1 < self.START_TRIES and \
                    "Address already in use" in text:
                self.log.close()
                self.text_port = free_port()
                self.tls_port = free_port() if self.tls_port else 0
                self.http_port = free_port() if self.http_port else 0
                continue
            raise AssertionError("campusd exited early (status %d):\n%s" %
                                 (self.proc.returncode, text))
        self.started = True
        if wait_store:
            wait_for(lambda: self.store_up(), timeout=30, what="campusd store up")
        return self

    def connects(self):
        try:
            Client(self.text_port).close()
            return True
        except OSError:
            return False

    def store_up(self):
        c = Client(self.text_port)
        try:
            r = c.request("PING store")
            return r.code == 200
        finally:
            c.close()

    def client(self, **kw):
        return Client(self.text_port, **kw)

    def login(self, name, password, **kw):
        """A new connection logged in as name."""
        c = self.client(**kw)
        c.login(name, password)
        return c

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def check_log(self):
        text = self.log_text()
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise AssertionError("sanitizer report in campusd log:\n" + text[-6000:])

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, expect_status=0, timeout=30):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("campusd did not stop on SIGTERM within %ds" % timeout)
        self.proc = None
        self.log.close()
        self.check_log()
        if expect_status is not None and status != expect_status:
            raise AssertionError("campusd exited with %s:\n%s" % (status, self.log_text()[-4000:]))
        return status

    def kill(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.log.close()


def campusd_on_a_copy(redis, fixture="courses-good"):
    """A campusd of its own on a copy of a fixture's courses, which the
    test may change and reload: (the started Campusd, the copy's path)."""
    tmp = tempfile.mkdtemp()
    courses = os.path.join(tmp, "courses")
    shutil.copytree(os.path.join(FIXTURES, fixture), courses)
    return Campusd(tmp, redis=redis, courses=courses).start(), courses


class Response:
    def __init__(self, code, text, body=None):
        self.code, self.text, self.body = code, text, body

    def __repr__(self):
        b = "" if self.body is None else " body=%r" % self.body[:200]
        return "<%d %s%s>" % (self.code, self.text, b)

    def rows(self):
        """A tab-separated listing as a list of dicts keyed by its header."""
        lines = self.body.decode().split("\n")
        lines = [l for l in lines if l != ""]
        head = lines[0].split("\t")
        return [dict(zip(head, l.split("\t"))) for l in lines[1:]]

    def kv(self):
        out = {}
        for l in self.body.decode().split("\n"):
            if l:
                k, _, v = l.partition("\t")
                out[k] = v
        return out


STATUS = re.compile(rb"^(\d{3}) (.*?)(?: \{(\d+)\})?$")


class Client:
    """A CTP/1 connection. The greeting is read on connect."""

    def __init__(self, port, host="127.0.0.1", timeout=10, tls=False, greet=True):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            self.sock = tls_wrap(self.sock)
        self.buf = b""
        self.greeting = self.read_response() if greet else None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by campusd")
        self.buf += chunk

    def read_line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self):
        line = self.read_line()
        m = STATUS.match(line)
        if not m:
            raise AssertionError("bad status line %r" % line)
        code, text, n = int(m.group(1)), m.group(2).decode("utf-8", "replace"), m.group(3)
        body = None
        if n is not None:
            body = self.read_exact(int(n))
            end = self.read_exact(2)
            assert end == b"\r\n", "body not followed by CRLF: %r" % end
        return Response(code, text, body)

    def login(self, name, password):
        """LOGIN name password, which must succeed: the response (its kv()
        holds the token)."""
        r = self.request('LOGIN %s "%s"' % (name, password))
        assert r.code == 200, r
        return r

    def request(self, line):
        self.send(line + "\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.read_response()

    def closed(self, timeout=5.0):
        """True if the server closes the connection (EOF) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def tls_wrap(sock):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(sock, server_hostname="localhost")


def http(port, method, path, body=None, headers=None, timeout=10):
    """One HTTP/1.1 request; returns (status, headers dict lower-cased, body bytes).
    A body goes as JSON, as the API requires, unless headers name another type."""
    import http.client
    headers = dict(headers or {})
    if body is not None and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def add_user(redis_port, name, role, password, extra=(), data=None, expect=0):
    """campusd --add-user, as an operator runs it: the account name with
    role and password (read from stdin) in the store at redis_port; extra
    are more options (the scrypt cost), data the --data directory. It must
    exit expect; returns the finished process."""
    argv = [CAMPUSD, "--redis", "127.0.0.1:%d" % redis_port]
    if data:
        argv += ["--data", data]
    argv += ["--add-user", name, "--role", role] + list(extra)
    p = subprocess.run(argv, input=(password + "\n").encode(), capture_output=True, timeout=60)
    assert p.returncode == expect, (p.returncode, p.stdout, p.stderr)
    return p


def status_field(r, key):
    """The value of key=value in a response's status text, or None."""
    m = re.search(r"\b%s=(\S+)" % key, r.text)
    return m.group(1) if m else None


def client_env(home, server, lang="C.UTF-8", drop=(), **extra):
    """The environment of campus run in home, a fresh $HOME with its own XDG
    directories, talking to server ("host:port"): this process's, less
    XDG_*, NO_COLOR, CAMPUS_SERVER, PAGER and the names in drop (a name
    ending in "_" drops every name it begins), with extra added."""
    drop = ("XDG_",) + tuple(drop)
    e = {k: v for k, v in os.environ.items()
         if not any(k.startswith(d) if d.endswith("_") else k == d for d in drop)
         and k not in ("NO_COLOR", "CAMPUS_SERVER", "PAGER")}
    e.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
             XDG_CACHE_HOME=os.path.join(home, "cache"),
             XDG_STATE_HOME=os.path.join(home, "state"), LANG=lang,
             CAMPUS_SERVER=server, CAMPUS_TIMEOUT="10")
    e.update(extra)
    return e


def client_check(args, err):
    """Fails on a sanitizer report in campus's stderr."""
    for mark in CLIENT_SANITIZER_MARKS:
        assert mark not in err, "sanitizer report from campus %s:\n%s" % (args, err)


class Home:
    """One user's machine: a fresh $HOME (removed by remove()) in which
    campus runs against server. The keywords go to client_env."""

    def __init__(self, server, prefix="campus-home-", **env_kw):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.env = client_env(self.dir, server, **env_kw)

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def run(self, *args, input=None, extra=None, timeout=60, cwd=None):
        """campus args, input on its stdin: (exit status, stdout, stderr)."""
        e = dict(self.env)
        e.update(extra or {})
        p = subprocess.run([CAMPUS] + list(args), input=(input or "").encode(), env=e, cwd=cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        client_check(args, err)
        return p.returncode, out, err

    def ok(self, *args, **kw):
        """The same, failing unless it exits 0: (stdout, stderr)."""
        rc, out, err = self.run(*args, **kw)
        assert rc == 0, "campus %s -> %d\n%s%s" % (" ".join(args), rc, out, err)
        return out, err

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Pty:
    """campus on a pseudo-terminal of rows x cols; every wait bounded in time."""

    def __init__(self, home, args, rows=50, cols=100, extra=None):
        e = dict(home.env)
        e.update(extra or {})
        e["TERM"] = "xterm"
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(CAMPUS, [CAMPUS] + list(args), e)
        self.out = b""
        self.status = None

    def expect(self, what, timeout=20):
        what = what.encode() if isinstance(what, str) else what
        end = time.time() + timeout
        while what not in self.out:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("timed out waiting for %r in %r" % (what, self.out[-2000:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError("EOF waiting for %r in %r" % (what, self.out[-2000:]))
                self.out += chunk
        return self.out

    def send(self, s):
        os.write(self.fd, s.encode() if isinstance(s, str) else s)

    def wait(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.1)
                if r:
                    chunk = os.read(self.fd, 65536)
                    self.out += chunk
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                try:
                    while True:
                        chunk = os.read(self.fd, 65536)
                        if not chunk:
                            break
                        self.out += chunk
                except OSError:
                    pass
                os.close(self.fd)
                text = self.out.decode("utf-8", "replace")
                for mark in CLIENT_SANITIZER_MARKS:
                    assert mark not in text, text
                return self.status
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("campus did not exit: %r" % self.out[-2000:])


class Env:
    """A temp dir with a Redis and a campusd; the usual start of a test file."""

    def __init__(self, **campusd_kw):
        self.tmp = tempfile.mkdtemp(prefix="campus-test-")
        self.redis = Redis(self.tmp).start()
        self.campusd = Campusd(self.tmp, redis=self.redis, **campusd_kw).start()

    def close(self, expect_status=0):
        try:
            if self.campusd:
                self.campusd.stop(expect_status=expect_status)
        finally:
            self.redis.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)


def xfail(reason):
    """Marks a test expected to fail until what reason names exists (as
    pytest's xfail with strict=False): a failure is reported as xfail and
    counted as skipped, a pass as XPASS (the mark can go)."""
    def mark(fn):
        fn.xfail = reason
        return fn
    return mark


def main(ns):
    tests = [(n, f) for n, f in ns.items() if n.startswith("test_") and callable(f)]
    only = sys.argv[1:]
    passed = failed = xfailed = 0
    setup, teardown = ns.get("setup"), ns.get("teardown")
    if setup:
        setup()
    try:
        for name, fn in tests:
            if only and name not in only:
                continue
            t0 = time.time()
            reason = getattr(fn, "xfail", None)
            try:
                fn()
                passed += 1
                if reason:
                    print("XPASS %s (%.2fs): passes now; remove its xfail mark (%s)"
                          % (name, time.time() - t0, reason), flush=True)
                else:
                    print("ok   %s (%.2fs)" % (name, time.time() - t0), flush=True)
            except Exception as e:
                if reason:
                    xfailed += 1
                    why = (str(e).splitlines() or [type(e).__name__])[0][:300]
                    print("xfail %s: expected until %s\n      %s" % (name, reason, why),
                          flush=True)
                    continue
                failed += 1
                print("FAIL %s\n%s" % (name, traceback.format_exc()), flush=True)
    finally:
        if teardown:
            try:
                teardown()
            except Exception:
                failed += 1
                print("FAIL teardown\n%s" % traceback.format_exc(), flush=True)
    if xfailed:
        print("%d passed, %d failed, %d skipped" % (passed, failed, xfailed))
    else:
        print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
