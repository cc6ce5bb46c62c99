"""campus live, the terminal client's live console, as a real binary
against a real campusd and redis-server: a learner follows the trainer
(each lesson shown, SAY printed, a poll asked in place and answered from
stdin), survives its campusd being restarted mid-session (it reconnects by
itself and lands on the current lesson), and the trainer's console (campus
live --lead) moves the room, polls and reads the tally."""

import os
import select
import shutil
import subprocess
import tempfile
import time

import harness
import livelib
from harness import CAMPUS, Campusd, Redis
from livelib import login, literal

env = {}


def setup():
    tmp = tempfile.mkdtemp(prefix="campus-live-client-")
    env["tmp"] = tmp
    env["redis"] = Redis(tmp, port=harness.free_port()).start()
    env["d"] = Campusd(tmp, redis=env["redis"], tls=False, extra=livelib.FAST).start()
    livelib.add_admin(env["redis"].port, "adam")
    livelib.accounts(env["d"].text_port, "adam", ["tara"], ["lena", "leo"])
    t = login(env["d"].text_port, "tara")
    env["cid"] = livelib.cohort(t, ["lena", "leo"])
    t.close()


def teardown():
    env["d"].stop()
    env["redis"].stop()
    shutil.rmtree(env["tmp"], ignore_errors=True)


class Console:
    """campus live ... in its own $HOME, logged in as name."""

    def __init__(self, name, *args):
        self.home = tempfile.mkdtemp(prefix="campus-home-", dir=env["tmp"])
        self.env = harness.client_env(self.home, "127.0.0.1:%d" % env["d"].text_port)
        p = subprocess.run([CAMPUS, "login", "--user", name, "--password-stdin"],
                           input=(livelib.PW + "\n").encode(), env=self.env, capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        self.proc = subprocess.Popen([CAMPUS, "live"] + list(args), env=self.env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = b""

    def expect(self, text, timeout=20):
        """Reads stdout until text appears; returns everything read so far."""
        end = time.time() + timeout
        want = text.encode()
        while want not in self.out:
            left = end - time.time()
            assert left > 0, "no %r in campus live output:\n%s" % (text, self.out.decode("utf-8", "replace"))
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                assert chunk, "campus live exited:\n%s\n%s" % (self.out.decode(), self.proc.stderr.read().decode())
                self.out += chunk
        return self.out.decode("utf-8", "replace")

    def type(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def finish(self, timeout=20):
        rc = self.proc.wait(timeout)
        err = self.proc.stderr.read().decode("utf-8", "replace")
        harness.client_check(["live"], err)
        return rc


def test_a_learner_follows_answers_and_survives_a_restart():
    t = login(env["d"].text_port, "tara")
    assert t.request("LIVE START %s" % env["cid"]).code in (200, 201)
    assert t.request("LIVE GOTO demo/welcome").code == 200
    c = Console("lena", env["cid"])
    c.expect("Following the live session of cohort %s" % env["cid"])
    c.expect("== demo/welcome ==")
    assert t.request('LIVE SAY "Open the lists lesson, please"').code == 200
    c.expect("trainer: Open the lists lesson, please")
    assert t.request("LIVE GOTO demo/lists").code == 200
    c.expect("== demo/lists ==")
    assert literal(t, "LIVE POLL", "Which town hosts the market? {=Kisumu ~Nakuru ~Eldoret}").code == 201
    c.expect("b) Nakuru")
    c.type("a")
    c.expect("answer stored")
    sess = t.request("LIVE STATE").kv()["session"]
    rows = t.request("LIVE REPORT %s" % sess).rows()
    assert [(r["learner"], r["answer"]) for r in rows] == [("lena", "a")], rows
    assert t.request("LIVE CLOSE").code == 200
    c.expect("Results of poll")
    # The campusd goes away mid-session and comes back on the same port.
    t.close()
    env["d"].stop()
    env["d"].start()
    c.expect("(link lost: reconnecting)", timeout=30)
    c.expect("again", timeout=30)
    t = login(env["d"].text_port, "tara")
    assert t.request("LIVE START %s" % env["cid"]).code == 200     # the session was kept
    assert t.request("LIVE GOTO demo/market").code in (200, 404)
    assert t.request("LIVE END").code == 200
    c.expect("The live session has ended.")
    assert c.finish() == 0
    t.close()


def test_the_trainers_console_leads_and_reads_the_tally():
    lead = Console("tara", "--lead", env["cid"])
    lead.expect("live session %s-" % env["cid"])
    leo = login(env["d"].text_port, "leo")
    assert leo.request("LIVE JOIN %s" % env["cid"]).code == 200
    lead.expect("(room: 1)")
    lead.type("goto demo/welcome")
    assert leo.read_push().line == "LIVE GOTO demo/welcome"
    lead.type("poll")
    lead.type("Clusters need brokers. {T}")
    lead.type(".")
    lead.expect("poll 1 open")
    got = leo.pushes_until(lambda p: p.line == "LIVE POLL")
    assert ["kind", "truefalse"] in got[-1].kv()
    assert leo.request("LIVE ANSWER true").code == 200
    lead.expect("Tally of poll 1: 1 answers, 1 right: true 1")
    lead.type("close")
    lead.expect("Results: 1 answers, 1 right")
    lead.type("end")
    assert lead.finish() == 0
    leo.pushes_until(lambda p: p.line == "LIVE END")
    leo.close()


if __name__ == "__main__":
    harness.main(globals())
