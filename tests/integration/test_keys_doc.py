"""The key schema and its documentation agree: every key pattern defined in
daemon/keys.h has a row in docs/OPERATIONS.md's key table, every row of that
table names a key defined there, and no other daemon source defines a key
of its own. Reads the files only: no daemon, no Redis."""

import os
import re

import harness

KEYS_H = os.path.join(harness.SOURCE, "daemon", "keys.h")
OPERATIONS = os.path.join(harness.SOURCE, "docs", "OPERATIONS.md")
DAEMON = os.path.join(harness.SOURCE, "daemon")

DEFINE = re.compile(r'^#define\s+(KEY_[A-Z0-9_]+)\s+"([^"]*)"', re.M)


def canonical(pattern):
    """A key pattern with each variable part written '*': printf's %s in
    keys.h, an upper-case placeholder (NAME, ID, EXERCISE ...) in the doc,
    and the '*' of a SCAN pattern."""
    parts = re.split(r"([:{}])", pattern)
    return "".join("*" if p in ("%s", "*") or re.fullmatch(r"[A-Z][A-Z0-9]*", p) else p
                   for p in parts)


def header_keys():
    with open(KEYS_H) as f:
        defs = DEFINE.findall(f.read())
    assert len(defs) > 20, defs                  # the parse found the schema
    return {name: canonical(value) for name, value in defs}


def doc_keys():
    with open(OPERATIONS) as f:
        text = f.read()
    start = text.index("### Keys")
    end = text.index("\n### ", start + 1)
    rows = re.findall(r"^\| `([^`]+)` \|", text[start:end], re.M)
    assert len(rows) > 20, rows
    # One table: a blank line inside it would end it in a Markdown renderer.
    lines = [l for l in text[start:end].splitlines() if l.startswith("|")]
    assert len(lines) == len(rows) + 2, "the key table is cut in two"
    return rows


def test_every_key_in_keys_h_is_documented():
    documented = {canonical(r) for r in doc_keys()}
    missing = {n: p for n, p in header_keys().items() if p not in documented}
    assert not missing, f"keys.h patterns with no row in OPERATIONS.md: {missing}"


def test_every_documented_key_is_in_keys_h():
    defined = set(header_keys().values())
    unknown = [r for r in doc_keys() if canonical(r) not in defined]
    assert not unknown, f"OPERATIONS.md rows naming no key of keys.h: {unknown}"


def test_canonical_forms_tell_keys_apart():
    # The check above is only as good as this: distinct keys stay distinct.
    assert canonical("campus:{u:%s}:attempts:%s") == canonical("campus:{u:NAME}:attempts:EXERCISE")
    assert canonical("campus:{u:%s}:fails") != canonical("campus:{a:%s}:fails")
    assert canonical("campus:{u:%s}:done") != canonical("campus:{u:%s}:viewed")


def test_no_key_defined_outside_keys_h():
    stray = []
    for name in sorted(os.listdir(DAEMON)):
        if not name.endswith((".c", ".h")) or name == "keys.h":
            continue
        with open(os.path.join(DAEMON, name)) as f:
            text = f.read()
        stray += [f"{name}: {m.group(0)}" for m in
                  re.finditer(r'^#define\s+\w+\s+"campus:[^"]*"', text, re.M)]
    assert not stray, f"keys defined outside keys.h: {stray}"


if __name__ == "__main__":
    harness.main(globals())
