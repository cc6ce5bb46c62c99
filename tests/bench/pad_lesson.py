#!/usr/bin/env python3
"""pad_lesson.py CATALOG_DUMP COURSES LESSON_ID FILE TARGET: makes the text
rendering of LESSON_ID (in the courses folder COURSES, written in FILE)
exactly TARGET bytes, so that run.sh's READ figure moves the same bytes
as the memcached get it is set against. It appends one paragraph of the
word "a" (a stop word: the search index does not change), which adds two
bytes a word however it wraps, and "aa" once for an odd count; each try
is measured with catalog_dump, which prints the text as campusd keeps it.
Prints the size reached; exits 1 when TARGET cannot be reached (the
lesson is already longer)."""
import subprocess
import sys

TRIES = 6


def text_size(dump, courses, lesson_id):
    out = subprocess.run([dump, courses], capture_output=True, check=True).stdout
    head = b"== lesson " + lesson_id.encode() + b" "
    start = out.index(head)
    start = out.index(b"\ntext: ", start) + len(b"\ntext: ")
    end = out.index(b"\ntrainer_html: ", start)
    return end - start


def write(path, original, words, odd):
    """The lesson as it was, then a paragraph of words "a" ("aa" first if odd)."""
    ws = [b"a"] * words
    if odd:
        ws[0] = b"aa"
    with open(path, "wb") as f:
        f.write(original + b"\n" + b" ".join(ws) + b"\n")


def main():
    if len(sys.argv) != 6:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    dump, courses, lesson_id, path = sys.argv[1:5]
    target = int(sys.argv[5])
    with open(path, "rb") as f:
        original = f.read().rstrip(b"\n") + b"\n"
    words, odd = 1, 0
    for _ in range(TRIES):
        write(path, original, words, odd)
        size = text_size(dump, courses, lesson_id)
        if size == target:
            print(size)
            return 0
        # The paragraph is 2 * words - 1 + odd bytes (and what surrounds it).
        units = 2 * words + odd + (target - size)
        if units < 2:
            break
        words, odd = units // 2, units % 2
    with open(path, "wb") as f:
        f.write(original)
    print(text_size(dump, courses, lesson_id))
    return 1


if __name__ == "__main__":
    sys.exit(main())
