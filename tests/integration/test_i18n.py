"""Languages against a real campusd and a real redis-server, on a test course
written in English, French and Spanish (tests/fixtures/courses-i18n): the
lang= argument, the account's LANG, Accept-Language and ?lang= over HTTP,
fallbacks that say so, stemmed search per language, server messages in the
learner's language, GIFT export per language, and a learner who does half
the course in French and half in Spanish getting one progress record and
one certificate."""

import json
import os
import re
import subprocess

import harness
from harness import Env, http, status_field

FAST = ["--scrypt-ln", "10", "--scrypt-p", "1"]
PW = "the password 1"
COURSES = os.path.join(harness.FIXTURES, "courses-i18n")

env = None
conns = {}


def login(name):
    return env.campusd.login(name, PW)


def setup():
    global env
    env = Env(courses=COURSES, extra=FAST)
    harness.add_user(env.redis.port, "adam", "admin", PW, FAST)
    admin = login("adam")
    for name in ("lena", "marc", "tomas"):
        assert admin.request('USER ADD %s learner "%s"' % (name, PW)).code == 201
    assert admin.request('USER ADD tara trainer "%s"' % PW).code == 201
    conns["admin"] = admin
    for name in ("lena", "marc", "tomas", "tara"):
        conns[name] = login(name)
    conns["anon"] = env.campusd.client()


def teardown():
    for c in conns.values():
        c.close()
    env.close()




def api(path, headers=None, token=None, method="GET", body=None):
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    st, hd, b = http(env.campusd.http_port, method, path, body, h)
    return st, hd, json.loads(b) if b else None


# ---- the lang= argument and the fallback ----

def test_read_default_and_each_language():
    c = conns["anon"]
    r = c.request("READ grappes/what-is-a-cluster")
    assert r.code == 200 and status_field(r, "lang") == "en", r
    assert status_field(r, "asked") is None, r
    assert b"collective efficiency" in r.body
    fr = c.request("READ grappes/what-is-a-cluster text 80 lang=fr")
    assert fr.code == 200 and status_field(fr, "lang") == "fr", fr
    assert "efficacité collective".encode() in fr.body
    es = c.request("READ grappes/what-is-a-cluster lang=es")
    assert es.code == 200 and status_field(es, "lang") == "es", es
    assert "eficiencia colectiva".encode() in es.body
    # Each text is its own version, so an ETag never mixes languages.
    assert len({status_field(x, "version") for x in (r, fr, es)}) == 3
    # The item's neighbours, whatever the language.
    assert status_field(fr, "next") == "grappes/phases"


def test_region_tag_falls_to_its_language_and_an_unknown_one_says_so():
    c = conns["anon"]
    r = c.request("READ grappes/what-is-a-cluster lang=fr-CA")
    assert status_field(r, "lang") == "fr" and status_field(r, "asked") is None, r
    r = c.request("READ grappes/what-is-a-cluster lang=de")
    assert r.code == 200 and status_field(r, "lang") == "en", r
    assert status_field(r, "asked") == "de", r
    assert b"collective efficiency" in r.body


def test_item_missing_in_a_language_falls_back_to_the_default_and_says_so():
    c = conns["anon"]
    r = c.request("READ grappes/atuntaqui lang=es")
    assert r.code == 200, r
    assert status_field(r, "lang") == "en" and status_field(r, "asked") == "es", r
    assert b"joint marketing strategy" in r.body
    st, _, doc = api("/api/lessons/grappes/atuntaqui?lang=es")
    assert st == 200 and doc["data"]["lang"] == "en" and doc["data"]["asked"] == "es", doc


def test_bad_language_tags_are_400_and_the_server_goes_on():
    c = conns["anon"]
    for bad in ("lang=", "lang=f", "lang=fr_FR", "lang=" + "a" * 40, "lang=fr--ca"):
        r = c.request("READ grappes/what-is-a-cluster " + bad)
        assert r.code == 400 and "language tag" in r.text, (bad, r)
    st, _, doc = api("/api/lessons/grappes/what-is-a-cluster?lang=%3Cx%3E")
    assert st == 400, doc
    assert c.request("PING").code == 200


def test_course_outline_and_list_in_the_language():
    c = conns["anon"]
    r = c.request("COURSE grappes lang=es")
    assert r.code == 200 and r.text.startswith("Los clústeres en tres idiomas"), r
    assert status_field(r, "lang") == "es"
    rows = r.rows()
    assert [x["title"] for x in rows] == ["Qué es un clúster", "Las fases de una intervención",
                                          "Garments in Atuntaqui"], rows
    assert rows[0]["module"] == "Lo básico"
    r = c.request("COURSES lang=fr")
    assert [x["title"] for x in r.rows()] == ["Les grappes en trois langues"], r


def test_exercise_view_in_each_language_shows_options_in_the_same_order():
    c = conns["lena"]
    views = {}
    for lang in ("en", "fr", "es"):
        r = c.request("EXERCISE grappes/phases text lang=" + lang)
        assert r.code == 200 and status_field(r, "lang") == lang, r
        views[lang] = r.body.decode()
    right = {"en": "Selecting the cluster", "fr": "Choisir la grappe", "es": "Elegir el clúster"}
    letters = {lang: re.search(r"(\w)\) %s" % re.escape(right[lang]), v).group(1)
               for lang, v in views.items()}
    assert len(set(letters.values())) == 1, (letters, views)


# ---- the account's language ----

def test_lang_verb_keeps_the_setting_in_the_account():
    c = conns["marc"]
    r = c.request("LANG")
    assert r.code == 200 and r.kv()["lang"] == "", r
    r = c.request("LANG fr")
    assert r.code == 200 and r.kv()["lang"] == "fr", r
    assert "langue" in r.text, r
    assert env.redis.cmd("HGET", "campus:{u:marc}:account", "lang") == b"fr"
    r = c.request("READ grappes/what-is-a-cluster")
    assert status_field(r, "lang") == "fr", r
    # The request's own lang= wins over the account's, for that request.
    r = c.request("READ grappes/what-is-a-cluster lang=es")
    assert status_field(r, "lang") == "es", r
    assert status_field(c.request("READ grappes/phases"), "lang") == "fr"
    # Messages too.
    r = c.request("READ grappes/nope")
    assert r.code == 404 and r.text == "aucune leçon 'grappes/nope'", r
    # Another connection of the same account sees it at once.
    other = login("marc")
    assert status_field(other.request("READ grappes/phases"), "lang") == "fr"
    other.close()
    assert c.request("LANG xx_YY").code == 400
    r = c.request("LANG -")
    assert r.code == 200 and r.kv()["lang"] == "", r
    assert status_field(c.request("READ grappes/phases"), "lang") == "en"
    assert conns["anon"].request("LANG fr").code == 401


def test_lang_over_http():
    c = conns["anon"]
    tok = None
    st, hd, doc = api("/api/login", method="POST",
                      body=json.dumps({"name": "tomas", "password": PW}).encode())
    assert st == 200, doc
    tok = doc["data"]["token"]
    st, _, doc = api("/api/lang", token=tok, method="POST", body=b'{"lang": "es"}')
    assert st == 200 and doc["data"]["lang"] == "es", doc
    st, _, doc = api("/api/lessons/grappes/phases", token=tok)
    assert doc["data"]["lang"] == "es", doc
    st, _, doc = api("/api/lang", token=tok)
    assert doc["data"]["lang"] == "es", doc
    st, _, doc = api("/api/lang", token=tok, method="POST", body=b'{"lang": 5}')
    assert st == 400, doc
    st, _, doc = api("/api/lang", token=tok, method="POST", body=b'{"lang": ""}')
    assert st == 200 and doc["data"]["lang"] == "", doc
    assert c.request("PING").code == 200


# ---- Accept-Language ----

def test_accept_language_picks_by_q_values_regions_and_star():
    cases = [
        ("fr", "fr"),
        ("es;q=0.9, fr;q=0.8", "es"),
        ("fr;q=0.2, es;q=0.8, en;q=0.1", "es"),
        ("fr-CA, en;q=0.5", "fr"),
        ("es-419", "es"),
        ("de, *;q=0.5", "en"),
        ("*", "en"),
        ("de, nl", "en"),
        ("fr;q=0, es", "es"),
        ("en;q=0.5, fr", "fr"),
        ("garbage;;;, fr;q=x, es", "es"),
    ]
    for header, want in cases:
        st, hd, doc = api("/api/lessons/grappes/what-is-a-cluster",
                          headers={"Accept-Language": header})
        assert st == 200 and doc["data"]["lang"] == want, (header, doc["data"])
        assert "asked" not in doc["data"], (header, doc["data"])
        assert "accept-language" in hd.get("vary", "").lower(), hd
    # ?lang= comes before the header.
    st, _, doc = api("/api/lessons/grappes/what-is-a-cluster?lang=es",
                     headers={"Accept-Language": "fr"})
    assert doc["data"]["lang"] == "es", doc
    # Messages follow the header too.
    st, _, doc = api("/api/lessons/grappes/nope", headers={"Accept-Language": "es-MX"})
    assert st == 404 and doc["error"] == "no hay ninguna lección 'grappes/nope'", doc
    st, _, doc = api("/api/courses/grappes", headers={"Accept-Language": "fr"})
    assert st == 200 and doc["data"]["lang"] == "fr", doc


# ---- search ----

def test_search_stems_in_three_languages():
    c = conns["anon"]
    r = c.request("SEARCH grappes lang=fr")
    rows = r.rows()
    assert r.code == 200 and rows and rows[0]["lesson"] == "grappes/what-is-a-cluster", r
    assert all(x["lang"] == "fr" for x in rows), rows
    assert "grappe" in rows[0]["snippet"]
    r = c.request("SEARCH clústeres lang=es")
    rows = r.rows()
    assert rows and rows[0]["lesson"] == "grappes/what-is-a-cluster", r
    assert rows[0]["lang"] == "es" and "clúster" in rows[0]["snippet"], rows
    r = c.request("SEARCH clusters lang=en")
    rows = r.rows()
    assert rows and rows[0]["lesson"] == "grappes/what-is-a-cluster" and rows[0]["lang"] == "en", r
    # Each item once.
    assert len({x["lesson"] for x in rows}) == len(rows)


def test_search_falls_back_to_every_language():
    c = conns["anon"]
    r = c.request("SEARCH grappes lang=es")
    rows = r.rows()
    assert rows and rows[0]["lang"] == "fr", r
    assert status_field(r, "asked") == "es", r
    st, _, doc = api("/api/search?q=cl%C3%BAster", headers={"Accept-Language": "es"})
    assert st == 200 and doc["items"][0]["lang"] == "es", doc


# ---- one item, whatever the language ----

def answer_letter(view, text):
    return re.search(r"(\w)\) %s" % re.escape(text), view).group(1)


def classify_answer(view, firms_text, city_text):
    nums = {}
    for n, t in re.findall(r"^\s+(\d+)\. (.*)$", view, re.M):
        nums[t.strip()] = n
    return "kind: firms=%s city=%s" % (nums[firms_text], nums[city_text])


def submit(c, ex, doc):
    data = doc.encode()
    c.send(("SUBMIT %s {%d}\r\n" % (ex, len(data))).encode() + data)
    return c.read_response()


def test_half_in_french_half_in_spanish_is_one_record_and_one_certificate():
    c = conns["lena"]
    assert c.request("LANG fr").code == 200
    assert status_field(c.request("READ grappes/what-is-a-cluster"), "lang") == "fr"
    assert c.request("DONE grappes/what-is-a-cluster").code == 200
    # The case study in French: feedback comes in French.
    view = c.request("EXERCISE grappes/atuntaqui").body.decode()
    doc = classify_answer(view, "S'accorder sur une stratégie commerciale commune",
                          "Promouvoir la ville comme centre de la confection")
    r = submit(c, "grappes/atuntaqui", doc)
    assert r.code == 200 and "passed" in r.text, r
    assert c.request("DONE grappes/atuntaqui").code == 200
    # Then Spanish for the quiz.
    assert c.request("LANG es").code == 200
    view = c.request("EXERCISE grappes/phases").body.decode()
    assert "¿Qué fase va primero?" in view
    letter = answer_letter(view, "Elegir el clúster")
    r = submit(c, "grappes/phases", "q1: %s\nq2: 6\n" % letter)
    assert r.code == 200 and "passed" in r.text, r
    body = r.body.decode()
    assert "Correcto" in body, body
    assert c.request("DONE grappes/phases").code == 200
    r = c.request("PROGRESS grappes")
    row = r.rows()[0]
    assert r.code == 200 and row["done"] == "3" and row["exercises_passed"] == "2", r
    # One record per item: ids are the items', never a language's.
    assert env.redis.cmd("HLEN", "campus:{u:lena}:passed") == b":2"
    for ex in ("grappes/phases", "grappes/atuntaqui"):
        assert env.redis.cmd("HEXISTS", "campus:{u:lena}:passed", ex) == b":1", ex
        assert env.redis.cmd("LLEN", "campus:{u:lena}:attempts:" + ex) == b":1", ex
    assert env.redis.cmd("HEXISTS", "campus:{u:lena}:done", "grappes/what-is-a-cluster") == b":1"
    r = c.request("CERT grappes")
    assert r.code == 201, r
    assert c.request("CERT grappes").code == 200
    assert env.redis.cmd("HLEN", "campus:{u:lena}:certs") == b":1"
    # xAPI statements name the items, whatever language they were read in.
    r = c.request("EXPORT xapi")
    assert r.code == 200, r
    objects = {s["object"]["id"] for s in json.loads(r.body)}
    assert any(o.endswith("grappes/atuntaqui") for o in objects), objects
    assert not any(o.endswith((".fr", ".es", ".fr.md", ".es.md")) for o in objects), objects
    # ... and give each item's name in every language it is written in, tagged
    # as the course names its languages (xAPI's language map).
    names = [s["object"]["definition"]["name"] for s in json.loads(r.body)
             if s["object"]["id"].endswith("grappes/what-is-a-cluster")]
    assert names and all(n == {"en": "What is a cluster", "fr": "Qu'est-ce qu'une grappe",
                               "es": "Qué es un clúster"} for n in names), names
    names = [s["object"]["definition"]["name"] for s in json.loads(r.body)
             if "grappes/atuntaqui" in s["object"]["id"]]
    assert names and all(set(n) == {"en", "fr"} for n in names), names   # no Spanish text
    # Switching back to English keeps everything.
    assert c.request("LANG en").code == 200
    rows = c.request("COURSE grappes").rows()
    assert [x["done"] for x in rows] == ["yes", "passed", "passed"], rows


def test_gift_export_per_language():
    t = conns["tara"]
    r = t.request("EXPORT gift grappes lang=fr")
    assert r.code == 200 and status_field(r, "lang") == "fr", r
    body = r.body.decode()
    assert "Quelle phase vient en premier" in body and "// language: fr" in body, body
    r = t.request("EXPORT gift grappes")
    assert "Which phase comes first" in r.body.decode(), r


# ---- course files in the learner's language ----

def test_file_listing_and_file_in_each_language_with_fallback():
    c = conns["anon"]
    fdir = os.path.join(COURSES, "grappes", "files")
    size = {n: os.path.getsize(os.path.join(fdir, n)) for n in os.listdir(fdir)}
    r = c.request("FILE grappes")
    assert r.code == 200 and status_field(r, "lang") == "en", r
    assert [(x["file"], x["lang"], x["bytes"]) for x in r.rows()] == \
        [("grid.md", "en", str(size["grid.md"])), ("plan.csv", "en", str(size["plan.csv"]))], r
    r = c.request("FILE grappes lang=es")
    assert status_field(r, "lang") == "es", r
    # The listing names the default files; each row says the language served.
    assert [(x["file"], x["lang"], x["bytes"]) for x in r.rows()] == \
        [("grid.md", "es", str(size["grid.es.md"])), ("plan.csv", "en", str(size["plan.csv"]))], r
    r = c.request("FILE grappes/grid.md lang=fr")
    assert r.code == 200 and status_field(r, "lang") == "fr" and status_field(r, "asked") is None, r
    assert r.body == open(os.path.join(fdir, "grid.fr.md"), "rb").read()
    r = c.request("FILE grappes/grid.md lang=fr-CA")
    assert status_field(r, "lang") == "fr" and "Grille SWOT".encode() in r.body, r
    # plan.csv has no Spanish file: the default, and the answer says so.
    r = c.request("FILE grappes/plan.csv lang=es")
    assert r.code == 200 and status_field(r, "lang") == "en" and status_field(r, "asked") == "es", r
    assert r.body == open(os.path.join(fdir, "plan.csv"), "rb").read()
    # A variant by its own name is that file, whatever the learner reads in.
    r = c.request("FILE grappes/grid.es.md lang=fr")
    assert r.code == 200 and status_field(r, "lang") == "es", r
    assert r.body == open(os.path.join(fdir, "grid.es.md"), "rb").read()
    for bad in ("grappes/grid.de.md", "grappes/plan.es.csv", "grappes/grid.en.md"):
        assert c.request("FILE " + bad).code == 404, bad
    assert c.request("FILE grappes/grid.md lang=f").code == 400
    assert c.request("PING").code == 200


def test_file_follows_the_account_then_accept_language_over_http():
    admin = conns["admin"]
    assert admin.request('USER ADD flor learner "%s"' % PW).code == 201
    flor = login("flor")
    try:
        assert flor.request("LANG es").code == 200
        r = flor.request("FILE grappes/grid.md")
        assert status_field(r, "lang") == "es" and "Matriz FODA".encode() in r.body, r
        # The request's own lang= comes before the account's.
        r = flor.request("FILE grappes/grid.md lang=fr")
        assert status_field(r, "lang") == "fr", r
        token = re.search(r"token=(\S+)", flor.request("WHOAMI").text)
    finally:
        flor.close()
    st, h, body = http(env.campusd.http_port, "GET", "/api/files/grappes/grid.md",
                       headers={"Accept-Language": "de, es;q=0.5, fr;q=0.8"})
    assert st == 200 and body.startswith("# Grille SWOT".encode()), (st, body)
    assert "Accept-Language" in h.get("vary", ""), h
    assert h["content-type"].startswith("text/markdown"), h
    st, h2, body = http(env.campusd.http_port, "GET", "/api/files/grappes/grid.md?lang=es",
                        headers={"Accept-Language": "fr"})
    assert st == 200 and body.startswith("# Matriz FODA".encode()), body
    assert h2["etag"] != h["etag"]
    st, _, body = http(env.campusd.http_port, "GET", "/api/files/grappes/grid.md",
                       headers={"Accept-Language": "de"})
    assert st == 200 and body.startswith(b"# SWOT grid"), body


def test_lessons_link_to_the_file_in_their_language():
    c = conns["anon"]
    r = c.request("READ grappes/what-is-a-cluster html")
    assert b'href="/api/files/grappes/grid.md"' in r.body, r.body
    r = c.request("READ grappes/what-is-a-cluster html lang=fr")
    assert b'href="/api/files/grappes/grid.fr.md"' in r.body, r.body
    assert b'href="/api/files/grappes/plan.fr.csv"' in r.body, r.body
    r = c.request("READ grappes/what-is-a-cluster text lang=es")
    assert b"archivo grappes/grid.es.md" in r.body, r.body
    # No Spanish plan: the link names the file, served in the default.
    assert b"archivo grappes/plan.csv" in r.body, r.body
    r = c.request("READ grappes/phases text lang=fr")
    assert b"[Exercice : utilisez EXERCISE grappes/phases]" in r.body, r.body
    r = c.request("READ grappes/phases text")
    assert b"[Exercise: use EXERCISE grappes/phases]" in r.body, r.body
    # Every link a lesson gives, in every language, answers 200.
    for lang in ("en", "fr", "es"):
        html = c.request("READ grappes/what-is-a-cluster html lang=" + lang).body.decode()
        for href in re.findall(r'href="/api/files/([^"]+)"', html):
            st, _, _ = http(env.campusd.http_port, "GET", "/api/files/" + href)
            assert st == 200, (lang, href)


def test_check_warns_of_a_file_missing_in_a_declared_language():
    out = subprocess.run([harness.CAMPUSD, "--check", COURSES], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out
    assert re.search(r"grappes/files/plan\.csv:0: warning: no 'es' variant: a reader in es "
                     r"gets the en file", out.stdout), out.stdout
    assert "grid.md" not in out.stdout, out.stdout


# ---- the server's messages a learner reads, in their language ----

def literal(c, line, data):
    c.send(line.encode() + b" {%d}\r\n" % len(data) + data)
    return c.read_response()


def test_server_messages_reach_a_french_and_a_spanish_learner():
    admin = conns["admin"]
    for name, lang in (("jules", "fr"), ("pilar", "es")):
        assert admin.request('USER ADD %s learner "%s"' % (name, PW)).code == 201
        c = login(name)
        assert c.request("LANG " + lang).code == 200
        conns[name] = c
    fr, es = conns["jules"], conns["pilar"]
    # (learner, request, code, what the status line says); each row is
    # what a learner reads after that request.
    rows = [
        (fr, "DONE grappes/nope", 404, "aucune leçon 'grappes/nope'"),
        # The dispatcher's own answers.
        (fr, "DONE", 400, "utilisation : DONE"),
        (es, "DONE", 400, "uso: DONE"),
        (fr, "USER LIST", 403, "USER est réservé aux administrateurs"),
        (es, "USER LIST", 403, "USER es solo para administradores"),
        (fr, "REVIEW LIST", 403, "REVIEW "),
        (es, "DONE grappes/nope", 404, "no hay ninguna lección 'grappes/nope'"),
        (fr, "READ grappes/x/y", 400, "identifiant de leçon invalide"),
        (fr, "FILE grappes/nope.md", 404, "aucun fichier 'nope.md' dans le cours 'grappes'"),
        (es, "FILE grappes/nope.md", 404, "no hay ningún archivo 'nope.md' en el curso 'grappes'"),
        (fr, "CERT grappes", 409, "grappes n'est pas terminé : 0 leçons faites sur les 3 demandées"),
        (es, "CERT grappes", 409, "grappes no está completo: 0 de las 3 lecciones exigidas hechas"),
        (fr, "CERT nope", 404, "aucun cours 'nope'"),
        (fr, "PROGRESS grappes", 200, "grappes : 0 leçons faites sur 3 (0 %), 35 minutes restantes"),
        (es, "PROGRESS grappes", 200, "grappes: 0 de 3 lecciones hechas (0 %), quedan 35 minutos"),
        (fr, "COHORT JOIN zzzzzzzzzz", 404, "aucune cohorte n'a ce code"),
        (es, "COHORT JOIN zzzzzzzzzz", 404, "ninguna cohorte tiene ese código"),
        (fr, "LIVE JOIN nope", 400, "l'identifiant d'une cohorte est un nombre"),
        (es, "LIVE JOIN nope", 400, "el identificador de una cohorte es un número"),
        (fr, "VERIFY abc", 200, "non valide : "),
        (es, "VERIFY abc", 200, "no válida: "),
        (fr, "DONE grappes/what-is-a-cluster", 200, "fait : grappes/what-is-a-cluster"),
        (fr, "DONE grappes/what-is-a-cluster", 200, "déjà fait : grappes/what-is-a-cluster"),
        # lang= on the request comes before the account's, for messages too.
        (fr, "READ grappes/nope lang=es", 404, "no hay ninguna lección 'grappes/nope'"),
    ]
    for c, line, code, text in rows:
        r = c.request(line)
        assert r.code == code and r.text.startswith(text), (line, code, text, r)
    # The view of an exercise: its frame and how to answer each task.
    body = fr.request("EXERCISE grappes/phases").body.decode()
    assert "tentatives : 3, seuil de réussite : 60" in body and "  réponse : une lettre" in body, body
    body = es.request("EXERCISE grappes/phases").body.decode()
    assert "intentos: 3, nota para aprobar: 60" in body and "  respuesta: un número" in body, body
    st, _, doc = api("/api/exercises/grappes/phases", headers={"Accept-Language": "es"})
    assert st == 200 and json.loads(doc["body"])["tasks"][0]["answer"] == "una letra", doc
    # An answer that does not read: what was expected, no attempt used.
    for c, doc, text in ((fr, b"q1: z\n", "q1: une lettre de a à c est attendue"),
                         (es, b"q1: z\n", "q1: se espera una letra de la a a la c"),
                         (fr, b"zz: a\n", "ligne 1 : zz n'est pas une tâche de cet exercice"),
                         (es, b"q1: a\nq2: many\n", "q2: se espera un número")):
        r = literal(c, "SUBMIT grappes/phases", doc)
        assert r.code == 400 and r.text.startswith(text), (doc, text, r)
    # A feedback frame: the score line and the words around the author's
    # feedback, in the learner's language.
    for c, head in ((fr, "note 0.0 non réussi (seuil de réussite 60)"),
                    (es, "puntuación 0.0 no aprobado (nota para aprobar 60)")):
        r = literal(c, "SUBMIT grappes/phases", b"q1: a\nq2: 1\n")
        assert r.code == 200 and r.body.decode().startswith(head), r
        r = c.request("ATTEMPTS grappes/phases")
        assert r.code == 200, r
        assert r.text.startswith("1 tentative, 2 restantes" if c is fr else
                                 "1 intento, quedan 2"), r
    # An English learner reads English.
    r = conns["anon"].request("DONE grappes/nope")
    assert r.code == 401, r
    r = conns["lena"].request("LANG en")
    r = conns["lena"].request("FILE grappes/nope.md")
    assert r.text == "no file 'nope.md' in course 'grappes'", r


def test_a_locked_module_and_a_live_session_in_the_learner_language():
    tara = conns["tara"]
    r = tara.request("COHORT CREATE grappes Futur 2099-01-05")
    assert r.code == 201, r
    cid, code = r.text.split()[1], r.text.split()[3]
    admin = conns["admin"]
    for name, lang in (("odile", "fr"), ("ramon", "es")):
        assert admin.request('USER ADD %s learner "%s"' % (name, PW)).code == 201
        c = login(name)
        assert c.request("LANG " + lang).code == 200
        assert c.request("COHORT JOIN " + code).code == 200
        conns[name] = c
    fr, es = conns["odile"], conns["ramon"]
    r = fr.request("READ grappes/phases")
    assert r.code == 403 and r.text == "le module basics ouvre le 2099-01-05 (UTC)", r
    r = es.request("EXERCISE grappes/phases")
    assert r.code == 403 and r.text == "el módulo basics abre el 2099-01-05 (UTC)", r
    # Live: no session yet, then an answer with no poll open, then an empty one.
    r = fr.request("LIVE JOIN " + cid)
    assert r.code == 404 and r.text == "aucune séance en direct dans la cohorte '%s'" % cid, r
    assert tara.request("LIVE START " + cid).code in (200, 201)
    assert fr.request("LIVE JOIN " + cid).code == 200
    assert es.request("LIVE JOIN " + cid).code == 200
    r = fr.request("LIVE ANSWER cohort:%s a" % cid)
    assert r.code == 409 and r.text == "aucun sondage ouvert", r
    r = es.request("LIVE ANSWER cohort:%s a" % cid)
    assert r.code == 409 and r.text == "no hay ninguna encuesta abierta", r
    lead = login("tara")
    r = literal(lead, "LIVE POLL cohort:%s" % cid, "Où est le marché ? {=Kisumu ~Nakuru}".encode())
    assert r.code == 201, r
    lead.close()
    # (new connections: the joined ones now get push lines between answers)
    for name, text in (("odile", "une lettre de a à b est attendue"),
                       ("ramon", "se espera una letra de la a a la b")):
        c = login(name)
        r = c.request("LIVE ANSWER cohort:%s z" % cid)
        c.close()
        assert r.code == 400 and r.text == text, r
    c = login("odile")
    r = c.request("LIVE START " + cid)
    c.close()
    assert r.code == 403 and r.text == "LIVE START est réservé aux formateurs de la cohorte", r



# ---- progress, NEXT and the rest of a learner's answers, named in their language ----

def new_learner(name, lang=None):
    assert conns["admin"].request('USER ADD %s learner "%s"' % (name, PW)).code == 201
    c = login(name)
    if lang:
        assert c.request("LANG " + lang).code == 200
    return c


def test_progress_and_next_name_courses_modules_and_lessons_in_the_language():
    c = new_learner("irene", "fr")
    try:
        r = c.request("PROGRESS grappes")
        assert r.code == 200 and status_field(r, "lang") == "fr", r
        assert [x["title"] for x in r.rows()] == ["Les bases"], r
        assert r.rows()[0]["module"] == "basics", r
        r = c.request("PROGRESS")
        assert [x["title"] for x in r.rows()] == ["Les grappes en trois langues"], r
        # The request's lang= comes before the account's, as for READ.
        r = c.request("PROGRESS grappes lang=es")
        assert r.code == 200 and [x["title"] for x in r.rows()] == ["Lo básico"], r
        assert r.text.startswith("grappes: 0 de 3 lecciones hechas"), r
        r = c.request("PROGRESS lang=es")
        assert [x["title"] for x in r.rows()] == ["Los clústeres en tres idiomas"], r
        assert c.request("PROGRESS grappes lang=f").code == 400
        r = c.request("NEXT grappes")
        assert r.code == 200 and r.kv()["title"] == "Qu'est-ce qu'une grappe", r
        assert r.kv()["lang"] == "fr", r
        r = c.request("NEXT lang=es")
        assert r.kv()["title"] == "Qué es un clúster" and r.kv()["lang"] == "es", r
        # The case has no Spanish text: its French title, then the default's.
        assert c.request("DONE grappes/what-is-a-cluster").code == 200
        assert c.request("DONE grappes/phases").code == 200
        r = c.request("NEXT grappes")
        assert r.kv()["title"] == "L'habillement à Atuntaqui", r
        r = c.request("NEXT grappes lang=es")
        assert r.kv()["title"] == "Garments in Atuntaqui" and r.kv()["lang"] == "en", r
        # What CERT says is still missing, by the titles the learner reads.
        r = c.request("CERT grappes")
        assert r.code == 409, r
        titles = {x["id"]: x["title"] for x in r.rows()}
        assert titles["grappes/atuntaqui"] == "L'habillement à Atuntaqui", r
        assert "Les phases d'une intervention" in titles.values(), r
        st, _, doc = api("/api/login", method="POST",
                         body=json.dumps({"name": "irene", "password": PW}).encode())
        token = doc["data"]["token"]
    finally:
        c.close()
    # Over HTTP: the account's LANG, then ?lang=, then Accept-Language.
    st, hd, doc = api("/api/progress/grappes", token=token)
    assert st == 200 and doc["items"][0]["title"] == "Les bases", doc
    assert doc["data"]["lang"] == "fr", doc
    assert "accept-language" in hd.get("vary", "").lower(), hd
    st, _, doc = api("/api/progress?lang=es", token=token)
    assert st == 200 and doc["items"][0]["title"] == "Los clústeres en tres idiomas", doc
    st, _, doc = api("/api/next/grappes?lang=es", token=token)
    assert st == 200 and doc["data"]["title"] == "Garments in Atuntaqui", doc
    t = new_learner("quim")
    try:
        st, _, doc = api("/api/login", method="POST",
                         body=json.dumps({"name": "quim", "password": PW}).encode())
        tok2 = doc["data"]["token"]
    finally:
        t.close()
    st, _, doc = api("/api/progress/grappes", token=tok2, headers={"Accept-Language": "es-AR"})
    assert st == 200 and doc["items"][0]["title"] == "Lo básico", doc
    st, _, doc = api("/api/progress/grappes", token=tok2)
    assert st == 200 and doc["items"][0]["title"] == "Basics", doc
    assert doc["data"]["lang"] == "en", doc


def test_answer_document_errors_in_the_language():
    fr, es = new_learner("gaspard", "fr"), new_learner("lucia", "es")
    try:
        rows = [
            (fr, b"q1 b\n", "ligne 1 : "),
            (es, b"q1 b\n", "línea 1: "),
            (fr, b"q1: a\nq1: b\n", "ligne 2 : une deuxième réponse pour q1"),
            (es, b"q1: a\nq1: b\n", "línea 2: una segunda respuesta para q1"),
            (fr, b"  orphan\n", "ligne 1 : une ligne de suite"),
            (es, b"  orphan\n", "línea 1: una línea de continuación"),
            (fr, b"q1: \xff\n", "le document de réponse n'est pas du texte UTF-8"),
            (es, b"q1: \xff\n", "el documento de respuesta no es texto UTF-8"),
        ]
        for c, doc, text in rows:
            r = literal(c, "SUBMIT grappes/phases", doc)
            assert r.code == 400 and r.text.startswith(text), (doc, text, r)
        # None of them used an attempt.
        assert env.redis.cmd("EXISTS", "campus:{u:gaspard}:attempts:grappes/phases") == b":0"
        # English for everyone else.
        c = new_learner("edgar")
        r = literal(c, "SUBMIT grappes/phases", b"q1 b\n")
        c.close()
        assert r.code == 400 and r.text.startswith('line 1: expected "task-id: answer"'), r
    finally:
        fr.close()
        es.close()


def evalsha_calls():
    info = env.redis.cmd("INFO", "commandstats").decode()
    m = re.search(r"cmdstat_evalsha:calls=(\d+)", info)
    return int(m.group(1)) if m else 0


def test_unknown_verb_in_the_account_language_from_the_connection():
    c = new_learner("ana", "es")
    c.close()
    # A new connection knows ana's language once LOGIN has told it.
    c = login("ana")
    try:
        before = evalsha_calls()
        for _ in range(5):
            r = c.request("FROBNICATE x")
            assert r.code == 400 and r.text == "verbo desconocido 'FROBNICATE' (pruebe HELP)", r
        r = c.request("PING a b c d e f g h i j")
        assert r.code == 400 and r.text.startswith("uso: PING"), r
        # No session lookup for any of them: the language came with the login.
        assert evalsha_calls() == before
        # LANG changes it at once for what follows on this connection.
        assert c.request("LANG fr").code == 200
        r = c.request("FROBNICATE")
        assert r.text == "verbe inconnu 'FROBNICATE' (essayez HELP)", r
        token = c.login("ana", PW).kv()["token"]
    finally:
        c.close()
    # AUTH with a token learns it too.
    c = env.campusd.client()
    try:
        r = c.request("FROBNICATE")
        assert r.text == "unknown verb 'FROBNICATE' (try HELP)", r
        assert c.request("AUTH " + token).code == 200
        r = c.request("FROBNICATE")
        assert r.text == "verbe inconnu 'FROBNICATE' (essayez HELP)", r
        # A change made on another connection reaches this one with the
        # next request that checks the session.
        other = login("ana")
        assert other.request("LANG es").code == 200
        other.close()
        assert c.request("WHOAMI").code == 200
        r = c.request("FROBNICATE")
        assert r.text == "verbo desconocido 'FROBNICATE' (pruebe HELP)", r
        assert c.request("LOGOUT").code == 200
        r = c.request("FROBNICATE")
        assert r.text == "unknown verb 'FROBNICATE' (try HELP)", r
    finally:
        c.close()


def test_the_rest_of_a_learner_answers_in_french_and_spanish():
    fr, es = new_learner("honore", "fr"), new_learner("benita", "es")
    try:
        rows = [
            (fr, "DONE grappes/what-is-a-cluster 99999999999999", 400,
             "at-ms doit être un nombre entier de millisecondes depuis 1970"),
            (es, "DONE grappes/what-is-a-cluster 1 a*b", 400, "una clave tiene de 1 a 64"),
            (fr, "EXPORT xapi hier", 400, "since : des millisecondes"),
            (es, "EXPORT xapi ayer", 400, "since: milisegundos"),
            (fr, "HELP FROB", 404, "aucun verbe 'FROB'"),
            (es, "HELP FROB", 404, "no hay ningún verbo 'FROB'"),
            (fr, "COHORT LIST", 200, "0 cohortes"),
            (fr, "CERT LIST", 200, "0 attestations"),
            (es, "CERT LIST", 200, "0 credenciales"),
            (fr, "PROGRESS", 200, "1 cours"),
            (es, "PROGRESS", 200, "1 cursos"),
            (fr, "COURSES", 200, "1 cours, 1 parcours"),
            (fr, "NEXT grappes", 200, "suivante : grappes/what-is-a-cluster"),
            (es, "NEXT", 200, "siguiente: grappes/what-is-a-cluster"),
            (fr, 'PASSWD "%s" short' % PW, 400, "un mot de passe compte au moins 10 octets"),
            (es, 'PASSWD "not the password" "a new password 2"', 401, "contraseña incorrecta"),
        ]
        for c, line, code, text in rows:
            r = c.request(line)
            assert r.code == code and r.text.startswith(text), (line, code, text, r)
        r = fr.request("LOGOUT")
        assert r.code == 200 and r.text == "déconnecté", r
        # Logged out, the connection no longer speaks the account's language.
        r = fr.request("WHOAMI")
        assert r.text == "not logged in", r
        r = fr.request("LOGIN honore \"%s\"" % PW)
        assert r.code == 200 and r.text.startswith("connecté en tant que honore (learner)"), r
        # PROGRAMMES names each course as COURSES does.
        r = es.request("PROGRAMMES")
        assert r.code == 200 and r.text == "1 itinerarios", r
        assert r.rows()[0]["course_title"] == "Los clústeres en tres idiomas", r
        r = es.request("PROGRAMMES lang=fr")
        assert r.rows()[0]["course_title"] == "Les grappes en trois langues", r
        token = es.login("benita", PW).kv()["token"]
        anon = env.campusd.client()
        r = anon.request("AUTH " + token)
        anon.close()
        assert r.code == 200 and r.text.startswith("sesión de benita reanudada (learner)"), r
        # A failed login says nothing of the account, whatever its language.
        other = env.campusd.client()
        r = other.request('LOGIN honore "wrong password 9"')
        other.close()
        assert r.code == 401 and r.text == "wrong name or password", r
    finally:
        fr.close()
        es.close()
    st, _, doc = api("/api/me", headers={"Accept-Language": "fr"})
    assert st == 200 and doc["message"] == "non connecté", doc

if __name__ == "__main__":
    harness.main(globals())
