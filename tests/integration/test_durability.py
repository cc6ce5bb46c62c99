"""Durability: a stream of DONE commands runs while redis-server and then
campusd are killed with SIGKILL and restarted; every DONE that was answered
200 must be in Redis afterwards. The count lost must be 0."""

import os
import signal
import tempfile
import threading
import time

import harness
from harness import Env

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1", "--argon2-m", "256", "--argon2-t", "1"]
LESSONS = 120
LEARNERS = 4
WINDOW = 4                       # DONEs pipelined per round trip


def make_course():
    """A course of LESSONS lessons, dur/l1 to dur/lN, 30 to a module."""
    root = tempfile.mkdtemp(prefix="campus-durable-")
    base = os.path.join(root, "dur")
    os.makedirs(base)
    with open(os.path.join(base, "course.md"), "w") as f:
        f.write("---\nid: dur\ntitle: Durable\nsummary: Many lessons.\nlanguage: en\n"
                "version: 1.0.0\n---\n\nMany lessons.\n")
    for i in range(1, LESSONS + 1):
        m, n = (i - 1) // 30 + 1, (i - 1) % 30 + 1
        mdir = os.path.join(base, "%02d-part%d" % (m, m))
        if not os.path.isdir(mdir):
            os.makedirs(mdir)
            with open(os.path.join(mdir, "module.md"), "w") as f:
                f.write("---\ntitle: Part %d\n---\n\nPart %d.\n" % (m, m))
        with open(os.path.join(mdir, "%02d-l%d.md" % (n, i)), "w") as f:
            f.write("---\ntitle: Lesson %d\nminutes: 1\n---\n\nText %d.\n" % (i, i))
    return root


class Learner:
    def __init__(self, env, name):
        self.env, self.name = env, name
        c = env.campusd.client()
        assert c.request('REGISTER %s "a good password"' % name).code == 201
        self.token = c.request('LOGIN %s "a good password"' % name).kv()["token"]
        self.conn = c
        self.next = 1
        self.acked = set()
        self.codes = {}

    def reconnect(self):
        try:
            self.conn.close()
        except Exception:
            pass
        self.conn = None
        c = self.env.campusd.client(timeout=5)
        r = c.request("AUTH " + self.token)
        if r.code != 200:
            c.close()
            raise ConnectionError("AUTH answered %r" % r)
        self.conn = c

    def step(self):
        """Sends up to WINDOW DONEs pipelined and reads the answers; a lesson
        whose DONE was not answered 200 is sent again later."""
        if self.conn is None:
            self.reconnect()
        batch = list(range(self.next, min(self.next + WINDOW, LESSONS + 1)))
        self.conn.send("".join("DONE dur/l%d\r\n" % i for i in batch))
        for i in batch:
            r = self.conn.read_response()
            self.codes[r.code] = self.codes.get(r.code, 0) + 1
            if r.code == 200:
                self.acked.add(i)
        # Move on past what was acknowledged, retry the rest.
        while self.next in self.acked:
            self.next += 1

    def finished(self):
        return self.next > LESSONS


def test_no_acknowledged_done_is_lost():
    env = Env(courses=make_course(), extra=FAST)
    try:
        learners = [Learner(env, "durable%d" % i) for i in range(LEARNERS)]
        events = []
        t0 = time.time()

        def acked_now():
            return sum(len(l.acked) for l in learners)

        def wait_acked(n):
            # The kills follow the stream's progress, not the clock, so they
            # land mid-stream on a fast machine and on a loaded one alike.
            end = time.time() + 60
            while acked_now() < n and time.time() < end:
                time.sleep(0.005)

        def chaos():
            total = LESSONS * LEARNERS
            wait_acked(total * 15 // 100)
            events.append(("redis killed", acked_now()))
            env.redis.kill(signal.SIGKILL)
            time.sleep(0.6)
            env.redis.start()
            events.append(("redis restarted", acked_now()))
            wait_acked(total * 55 // 100)
            events.append(("campusd killed", acked_now()))
            env.campusd.kill()
            time.sleep(0.3)
            env.campusd.start(wait_store=False)
            events.append(("campusd restarted", sum(len(l.acked) for l in learners)))

        th = threading.Thread(target=chaos)
        th.start()
        while not all(l.finished() for l in learners) and time.time() - t0 < 120:
            progressed = False
            for l in learners:
                if l.finished():
                    continue
                try:
                    l.step()
                    progressed = True
                except (OSError, EOFError, ConnectionError, AssertionError):
                    l.conn = None
                # Pace the stream so the kills land in the middle of it.
                time.sleep(0.004)
            if not progressed:
                time.sleep(0.05)
            for l in learners:
                assert set(l.codes) <= {200, 503}, l.codes
        th.join()
        assert len(events) == 4, events
        acked = sum(len(l.acked) for l in learners)
        # The kills happened mid-stream: answers came before and after each.
        before_redis = events[0][1]
        before_campusd = events[2][1]
        assert 0 < before_redis < before_campusd < acked, events
        codes = {}
        for l in learners:
            for k, v in l.codes.items():
                codes[k] = codes.get(k, 0) + v
        assert codes.get(503, 0) > 0, codes      # Redis was away for a while

        harness.wait_for(lambda: env.campusd.store_up(), timeout=30, what="store up")
        lost = 0
        for l in learners:
            for i in l.acked:
                if env.redis.cmd("HEXISTS", "campus:{u:%s}:done" % l.name, "dur/l%d" % i) != b":1":
                    lost += 1
        print("acknowledged %d DONEs (%s), lost %d; %s" % (acked, codes, lost, events))
        assert lost == 0, "%d acknowledged DONEs lost" % lost
        assert acked == LEARNERS * LESSONS
    finally:
        env.close()


harness.main(globals())
