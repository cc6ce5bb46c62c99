"""campus, the terminal client, in French and Spanish under a
pseudo-terminal: its messages through gettext follow LANG (fr_FR.UTF-8,
whether or not that locale is installed: the client falls back to C.UTF-8
with the language from LANG), and `campus lang` (saved beside the session,
and sent to the server as the account's LANG, so lessons and the server's
messages come in it too). A real campusd and redis-server, the test course
in three languages."""

import os
import re
import pty
import select
import shutil

import harness
from harness import Env, Pty

PASSWORD = "correct horse battery"

COURSES = os.path.join(harness.FIXTURES, "courses-i18n")

env = None
homes = []


class Home(harness.Home):
    """A fresh $HOME with its own XDG directories, no locale variables but
    LANG."""

    def __init__(self, lang):
        super().__init__("127.0.0.1:%d" % env.campusd.text_port, lang=lang,
                         drop=("LC_", "LANGUAGE", "LANG"), PAGER="")
        homes.append(self.dir)


def setup():
    global env
    env = Env(courses=COURSES, extra=["--scrypt-ln", "10", "--scrypt-p", "1"])


def teardown():
    for h in homes:
        shutil.rmtree(h, ignore_errors=True)
    env.close()


def home(lang):
    return Home(lang)


def learner(name, lang):
    c = env.campusd.client()
    assert c.request('REGISTER %s "%s"' % (name, PASSWORD)).code == 201
    c.close()
    h = home(lang)
    h.ok("login", "--user", name, "--password-stdin", input=PASSWORD + "\n")
    return h


def test_help_and_errors_in_french_under_lang_fr_FR():
    h = home("fr_FR.UTF-8")
    t = Pty(h, ["help"])
    t.expect("usage : campus [--server")
    t.expect("liste les cours")
    t.expect("Code de sortie :")
    assert t.wait() == 0
    t = Pty(h, ["frobnicate"])
    t.expect("campus : commande inconnue 'frobnicate' (essayez campus help)")
    assert t.wait() == 2
    t = Pty(h, ["whoami"])
    t.expect("campus : non connecté : campus login")
    assert t.wait() == 4


def test_spanish_and_english_follow_their_locale():
    t = Pty(home("es_ES.UTF-8"), ["frobnicate"])
    t.expect("campus: comando desconocido 'frobnicate' (pruebe campus help)")
    assert t.wait() == 2
    h = home("C.UTF-8")
    t = Pty(h, ["frobnicate"])
    t.expect("campus: unknown command 'frobnicate' (try campus help)")
    assert t.wait() == 2
    # LC_MESSAGES says more than LANG.
    h.env["LC_MESSAGES"] = "es_MX.UTF-8"
    t = Pty(h, ["frobnicate"])
    t.expect("comando desconocido")
    assert t.wait() == 2


def test_campus_lang_sets_the_client_and_the_account():
    h = learner("amelie", "es_ES.UTF-8")
    t = Pty(h, ["lang"])
    t.expect("idioma: es_ES (el del entorno)")
    assert t.wait() == 0
    t = Pty(h, ["lang", "fr"])
    t.expect("langue choisie : fr")         # said in the language just chosen
    assert t.wait() == 0
    assert env.redis.cmd("HGET", "campus:{u:amelie}:account", "lang") == b"fr"
    # From now on French, whatever LANG says, and lessons come in French.
    h.env["LANG"] = "C.UTF-8"
    t = Pty(h, ["read", "grappes/what-is-a-cluster"])
    t.expect("Une grappe réunit des entreprises")
    assert t.wait() == 0
    t = Pty(h, ["course", "nope"])
    t.expect("campus : 404 aucun cours 'nope'")
    assert t.wait() == 1
    t = Pty(h, ["lang"])
    t.expect("langue : fr (choisie avec campus lang)")
    assert t.wait() == 0
    t = Pty(h, [])
    t.expect("shell campus sur")
    t.send("exit\r")
    t.wait()
    # A tag the server refuses is not saved.
    rc, out, err = h.run("lang", "fr_FR!")
    assert rc == 2 and "n'est pas une langue" in err, (rc, out, err)
    # Unset: back to the environment, and to the course's default.
    t = Pty(h, ["lang", "-"])
    t.expect("language unset")
    assert t.wait() == 0
    assert env.redis.cmd("HGET", "campus:{u:amelie}:account", "lang") == b"$-1"
    t = Pty(h, ["read", "grappes/what-is-a-cluster"])
    t.expect("A cluster gathers firms")
    assert t.wait() == 0


def test_lang_without_a_login_is_the_client_alone():
    h = home("C.UTF-8")
    t = Pty(h, ["lang", "es"])
    t.expect("idioma elegido: es")
    assert t.wait() == 0
    t = Pty(h, ["frobnicate"])
    t.expect("comando desconocido")
    assert t.wait() == 2


def test_messages_of_verify_live_and_the_link_in_french_and_spanish():
    # Messages the client writes itself (not the server's): a certificate
    # that does not parse, live without a login, a server that is not there.
    h = home("fr_FR.UTF-8")
    junk = os.path.join(h.dir, "junk.jwt")
    open(junk, "w").write("not-a-jws\n")
    t = Pty(h, ["verify", junk])
    t.expect("NON VALIDE : mal formée : pas un JWS en sérialisation compacte")
    assert t.wait() == 1
    t = Pty(h, ["live", "c1"])
    t.expect("campus : non connecté : campus login")
    assert t.wait() == 4
    h = home("es_ES.UTF-8")
    t = Pty(h, ["--server", "127.0.0.1:1", "courses"])
    t.expect("no se puede conectar con 127.0.0.1:1")
    assert t.wait() == 3


def test_course_files_come_in_the_learner_language():
    h = learner("paloma", "es_ES.UTF-8")
    h.ok("lang", "es")
    out, _ = h.ok("file", "grappes/grid.md")
    assert out.startswith("# Matriz FODA"), out
    h.ok("lang", "fr")
    out, _ = h.ok("file", "grappes/grid.md")
    assert out.startswith("# Grille SWOT"), out
    # Offline: a French lesson's link names grid.fr.md; the copy synced in
    # the account's language answers it, once its server has gone.
    d = harness.Campusd(env.tmp, redis=env.redis, courses=COURSES).start()
    srv = "127.0.0.1:%d" % d.text_port
    try:
        h.ok("--server", srv, "login", "--user", "paloma", "--password-stdin",
             input=PASSWORD + "\n")
        h.ok("--server", srv, "sync", "grappes")
    finally:
        d.stop()
    rc, out, err = h.run("--server", srv, "file", "grappes/grid.fr.md")
    assert rc == 0 and out.startswith("# Grille SWOT"), (rc, out, err)
    assert "la copie synchronisée plus tôt" in err, err


def test_an_exercise_in_french_from_the_view_to_the_feedback():
    # The server's view and feedback frame in French (the account's LANG),
    # the client's prompts in French, yes answered with o (oui).
    h = learner("gaspard", "fr_FR.UTF-8")
    h.ok("lang", "fr")
    t = Pty(h, ["exercise", "grappes/phases"])
    t.expect("seuil de réussite : 60")
    t.expect("réponse : une lettre")
    t.expect("q1> ")
    t.send("z\r")
    t.expect("une des lettres de a à c est attendue")
    right = re.search(rb"([a-c])\) Choisir la grappe", t.out).group(1).decode()
    t.send(right + "\r")
    t.expect("réponse : un nombre")
    t.expect("q2> ")
    t.send("6\r")
    t.expect("envoyer ? [o]ui")
    t.send("o\r")
    t.expect("note 100.0 réussi (seuil de réussite 60)")
    assert t.wait() == 0
    assert b"r\xc3\xa9ussi" in t.out



def test_progress_and_the_outline_name_modules_in_the_account_language():
    h = learner("paulin", "C.UTF-8")
    t = Pty(h, ["lang", "fr"])
    t.expect("langue choisie : fr")
    assert t.wait() == 0
    t = Pty(h, ["progress", "grappes"])
    t.expect("Les bases")
    t.expect("grappes : 0 leçons faites sur 3")
    assert t.wait() == 0
    assert b"lang=" not in t.out and b"Basics" not in t.out, t.out
    # The outline's module heading gets its bar: PROGRESS names the module
    # as COURSE does, in the same language.
    t = Pty(h, ["course", "grappes"])
    t.expect("Les grappes en trois langues")
    t.expect("Qu'est-ce qu'une grappe")
    assert t.wait() == 0
    assert re.search(rb"Les bases[^\n]* 0/3", t.out), t.out
    assert b"lang=" not in t.out, t.out

if __name__ == "__main__":
    harness.main(globals())
