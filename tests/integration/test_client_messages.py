"""The terminal client's messages in French and Spanish, checked from the
sources: every string marked for gettext (_(), N_(), ngettext) has a
translation in clients/terminal/po/fr.po and es.po, neither catalogue has a
fuzzy, empty or obsolete entry, both compile with msgfmt --check, the
template po/campus.pot is the one the sources give, and the string literals
the client prints (printf, fputs, prompts, error buffers) are marked. No
daemon: the sources and Debian's gettext tools (xgettext, msgfmt)."""

import os
import re
import subprocess
import tempfile

import harness

CLIENT = os.path.join(harness.SOURCE, "clients", "terminal")
PO = os.path.join(CLIENT, "po")
LANGS = ("fr", "es")


def sources():
    return sorted(n for n in os.listdir(CLIENT) if n.endswith(".c"))


# ---- reading a .po file ----

def unquote(s):
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    out, i, body = [], 0, s[1:-1]
    esc = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(esc.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def entries(path):
    """Each entry as a dict: flags, msgid, plural (or None), msgstr (list),
    obsolete."""
    text = open(path, encoding="utf-8").read()
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = [l for l in block.split("\n") if l.strip()]
        if not lines:
            continue
        e = {"flags": [], "msgid": None, "plural": None, "msgstr": {}, "obsolete": False}
        key = None
        for l in lines:
            if l.startswith("#~"):
                e["obsolete"] = True
                l = l[2:].strip()
                if not l:
                    continue
            elif l.startswith("#,"):
                e["flags"] += [f.strip() for f in l[2:].split(",")]
                continue
            elif l.startswith("#"):
                continue
            if l.startswith("msgid_plural"):
                key, e["plural"] = "plural", unquote(l[12:])
            elif l.startswith("msgid"):
                key, e["msgid"] = "msgid", unquote(l[5:])
            elif l.startswith("msgstr["):
                n = int(l[7:l.index("]")])
                key = n
                e["msgstr"][n] = unquote(l[l.index("]") + 1:])
            elif l.startswith("msgstr"):
                key = 0
                e["msgstr"][0] = unquote(l[6:])
            elif l.startswith('"'):
                if key in ("msgid", "plural"):
                    e[key] += unquote(l)
                else:
                    e["msgstr"][key] += unquote(l)
        out.append(e)
    return out


def template():
    """The msgids the sources mark, as xgettext extracts them (the build's
    campus_pot target's options)."""
    with tempfile.TemporaryDirectory() as d:
        pot = os.path.join(d, "campus.pot")
        p = subprocess.run(["xgettext", "--from-code=UTF-8", "-k_", "-kN_", "--package-name=campus",
                            "--add-comments=TRANSLATORS", "-o", pot] + sources(),
                           cwd=CLIENT, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return {(e["msgid"], e["plural"]) for e in entries(pot) if e["msgid"]}


def test_catalogues_compile_with_msgfmt_check_and_have_no_fuzzy_or_empty_entry():
    for lang in LANGS:
        path = os.path.join(PO, lang + ".po")
        p = subprocess.run(["msgfmt", "--check", "--statistics", "-o", os.devnull, path],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, (lang, p.stderr)
        assert re.fullmatch(r"\d+ translated messages?\.\n", p.stderr), (lang, p.stderr)
        for e in entries(path):
            if not e["msgid"]:
                continue          # the header
            assert not e["obsolete"], (lang, "obsolete entry", e["msgid"])
            assert "fuzzy" not in e["flags"], (lang, "fuzzy", e["msgid"])
            assert e["msgstr"] and all(v for v in e["msgstr"].values()), \
                (lang, "untranslated", e["msgid"])
            if e["plural"] is not None:
                assert sorted(e["msgstr"]) == [0, 1], (lang, "plural forms", e["msgid"])


def test_every_marked_string_of_the_client_is_translated_in_french_and_spanish():
    marked = template()
    assert len(marked) > 150, len(marked)
    for lang in LANGS:
        translated = {(e["msgid"], e["plural"]) for e in entries(os.path.join(PO, lang + ".po"))
                      if e["msgid"] and not e["obsolete"] and "fuzzy" not in e["flags"] and
                      e["msgstr"] and all(e["msgstr"].values())}
        missing = sorted(m for m, _ in marked - translated)
        assert missing == [], "%s.po lacks:\n%s" % (lang, "\n".join(repr(m) for m in missing))
        stale = sorted(m for m, _ in translated - marked)
        assert stale == [], "%s.po has entries no source marks:\n%s" % (
            lang, "\n".join(repr(m) for m in stale))


def test_the_template_is_the_one_the_sources_give():
    committed = {(e["msgid"], e["plural"]) for e in entries(os.path.join(PO, "campus.pot"))
                 if e["msgid"]}
    marked = template()
    assert committed == marked, "po/campus.pot is stale (cmake --build build --target " \
        "campus_pot): %r" % sorted(m for m, _ in committed ^ marked)[:20]


# ---- string literals the client prints are marked ----

# Calls that print their string arguments, or build a message shown later
# (the error buffers of seterr and snprintf), and prompts.
PRINTERS = {"printf", "fprintf", "puts", "fputs", "seterr", "snprintf"}
PROMPTS = {"prompt_line", "prompt_password", "ask_password", "ask_new_password", "ex_prompt",
           "ex_read_line"}
MARKS = {"_", "N_", "ngettext", "gettext"}

TOKEN = re.compile(r'''(?P<comment>/\*.*?\*/|//[^\n]*)|(?P<pp>^[ \t]*\#[^\n]*)|'''
                   r'''(?P<str>"(?:\\.|[^"\\\n])*")|(?P<chr>'(?:\\.|[^'\\\n])*')|'''
                   r'''(?P<id>[A-Za-z_]\w*)|(?P<punct>[()])|(?P<ws>\s+)|(?P<other>.)''',
                   re.S | re.M)
CONVERSION = re.compile(r"%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t)?[a-zA-Z%]|\\.")


def literals(path):
    """(line, innermost named call, literal, inside a marking call) for each
    string literal of a C file."""
    src = open(path, encoding="utf-8").read()
    toks = [(m.lastgroup, m.group(), src.count("\n", 0, m.start()) + 1)
            for m in TOKEN.finditer(src) if m.lastgroup not in ("comment", "pp", "ws")]
    stack = []
    for i, (kind, text, line) in enumerate(toks):
        if text == "(":
            stack.append(toks[i - 1][1] if i and toks[i - 1][0] == "id" else None)
        elif text == ")":
            if stack:
                stack.pop()
        elif kind == "str":
            named = [s for s in stack if s]
            yield line, named[-1] if named else None, text[1:-1], any(s in MARKS for s in stack)


def is_message(call, lit):
    words = re.findall(r"[A-Za-z]{2,}", CONVERSION.sub(" ", lit))
    if call in PROMPTS:
        return len(words) >= 1
    return len(words) >= 2


def test_printed_string_literals_are_marked_for_translation():
    unmarked = []
    for name in sources():
        for line, call, lit, marked in literals(os.path.join(CLIENT, name)):
            if call in PRINTERS | PROMPTS and not marked and is_message(call, lit):
                unmarked.append("%s:%d: %s(\"%s\")" % (name, line, call, lit))
    assert unmarked == [], "not marked with _():\n" + "\n".join(unmarked)


def test_the_literal_check_sees_an_unmarked_message():
    # The check itself: an unmarked message is caught, a marked one, a
    # format and a protocol word are not.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x.c")
        open(path, "w").write('void f(void) {\n'
                              '  printf("%s\\t%s\\n", a, b);\n'
                              '  printf(_("marked text %s\\n"), a);\n'
                              '  fputs(x ? "unmarked text here\\n" : "", stderr);\n'
                              '  char *y = prompt_line("name: ");\n'
                              '  if (strcmp(k, "not a message")) {}\n'
                              '}\n')
        found = [(line, call) for line, call, lit, marked in literals(path)
                 if call in PRINTERS | PROMPTS and not marked and is_message(call, lit)]
        assert found == [(4, "fputs"), (5, "prompt_line")], found


if __name__ == "__main__":
    harness.main(globals())
