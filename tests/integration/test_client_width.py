"""campus's listings on a narrow terminal: help, courses, the outline,
progress and search fit the terminal's width by display width (wide CJK
characters count two columns, combining marks none), are never cut inside
a UTF-8 sequence, keep their columns aligned, and a search's snippet gets
the room the other columns leave. Run under a pseudo-terminal."""

import os
import pty
import re
import select
import shutil
import struct
import fcntl
import tempfile
import termios
import time
import unicodedata

import harness
from harness import CAMPUS, Env


WIDE = "日本語の講座"                      # 6 wide characters: 12 columns
COMBINING = "Cafe\u0301 de Du\u0301rcal"  # é and ú as e and u + U+0301
COURSES = {
    "wide/course.md": "---\nid: wide\ntitle: %s et la coopération des producteurs\nsummary: S.\n"
                      "language: en\nversion: 1.0.0\n---\n\nA course.\n" % WIDE,
    "wide/01-start/module.md": "---\ntitle: 始まりのモジュール Module of the beginning\n---\n\nStart.\n",
    "wide/01-start/01-intro.md": "---\ntitle: %s %s and a title long enough to need cutting\n"
                                 "minutes: 10\n---\n\nThe cooperative market of 市場 sells coffee "
                                 "grown by smallholders who share one roaster, one truck and one "
                                 "price list for the whole valley, negotiated every season.\n"
                                 % (WIDE, COMBINING),
    "wide/01-start/02-more.md": "---\ntitle: More about the coffee market\nminutes: 20\n---\n\n"
                                "Coffee buyers visit the market each week; %s.\n" % COMBINING,
}

env = None
root = None
homes = []
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def setup():
    global env, root
    root = tempfile.mkdtemp(prefix="campus-courses-")
    for path, text in COURSES.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    env = Env(courses=root, extra=["--scrypt-ln", "10", "--scrypt-p", "1"])


def teardown():
    env.close()
    shutil.rmtree(root, ignore_errors=True)
    for h in homes:
        shutil.rmtree(h, ignore_errors=True)


class Home(harness.Home):
    """A fresh $HOME: one user's machine."""

    def __init__(self):
        super().__init__("127.0.0.1:%d" % env.campusd.text_port, TERM="xterm", PAGER="")
        homes.append(self.dir)

    def ok(self, *args, input=""):
        """campus args, which must exit 0: its stdout."""
        return super().ok(*args, input=input)[0]


def pty_run(home, args, width, timeout=30):
    """campus on a pseudo-terminal width columns wide: its exit status and output."""
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 200, width, 0, 0))
        os.execve(CAMPUS, [CAMPUS] + list(args), home.env)
    out, end = b"", time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def cols(s):
    n = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def screen(home, args, width):
    rc, out = pty_run(home, args, width)
    assert rc == 0, (args, out)
    text = out.decode("utf-8")     # strict: a cut inside a sequence fails here
    lines = [ANSI.sub("", l) for l in text.replace("\r\n", "\n").split("\n")]
    # stderr shares the terminal: its notes (a certificate trusted on first
    # use) are not listings.
    lines = [l for l in lines if not l.startswith("campus: ")]
    if args[0] == "help":
        lines = [l for l in lines if re.match(r"  [a-z]", l)]   # the list, not the prose
    for l in lines:
        assert cols(l) <= width, (width, cols(l), l)
    return [l for l in lines if l]


def col_starts(line, cells):
    """The display column each of cells starts at in line."""
    out, pos = [], 0
    for c in cells:
        i = line.index(c, pos)
        out.append(cols(line[:i]))
        pos = i + len(c)
    return out


def test_help_fits():
    h = Home()
    for width in (50, 80):
        lines = screen(h, ["help"], width)
        assert any(l.startswith("  read [COURSE/LESSON]") for l in lines), lines
        assert any("…" in l for l in lines) or width >= 80


def test_courses_and_search_fit_and_align():
    h = Home()
    for width in (40, 60, 100):
        lines = screen(h, ["courses"], width)
        assert lines[0].startswith("id") and lines[1].startswith("wide"), lines
        lines = screen(h, ["search", "coffee", "market"], width)
        rows = [l for l in lines if l.startswith("wide/")]
        assert len(rows) == 2, lines
        # The title column starts at the same column on every row and the
        # header; the snippet has what is left, up to the edge when cut.
        starts = {cols(re.match(r"\S+\s{2,}", l).group(0)) for l in rows + [lines[0]]}
        assert len(starts) == 1, (width, lines)
        cut = [l for l in rows if l.endswith("…")]
        if width < 100:
            assert cut and all(cols(l) >= width - 2 for l in cut), (width, rows)


def test_outline_and_progress_fit():
    h = Home()
    h.ok("register", "widelearner", "--password-stdin", input="correct horse battery\n")
    h.ok("done", "wide/intro")
    for width in (40, 70):
        lines = screen(h, ["course", "wide"], width)
        rows = [l for l in lines if "wide/" in l]
        assert len(rows) == 2, lines
        # Ids padded to one width: the titles start in one column.
        starts = {col_starts(l, [l.split("wide/")[1].split(" ")[0]])[0] for l in rows}
        assert len(starts) == 1, rows
        assert any("…" in l for l in rows), rows
        assert all(l.rstrip().endswith("min)") for l in rows), rows
        lines = screen(h, ["progress"], width)
        assert any("#" in l and "50%" in l and "1/2" in l for l in lines), lines


if __name__ == "__main__":
    harness.main(globals())
