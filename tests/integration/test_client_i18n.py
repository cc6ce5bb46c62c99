"""campus, the terminal client, in French and Spanish under a
pseudo-terminal: its messages through gettext follow LANG (fr_FR.UTF-8,
whether or not that locale is installed: the client falls back to C.UTF-8
with the language from LANG), and `campus lang` (saved beside the session,
and sent to the server as the account's LANG, so lessons and the server's
messages come in it too). A real campusd and redis-server, the test course
in three languages."""

import os
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


if __name__ == "__main__":
    harness.main(globals())
