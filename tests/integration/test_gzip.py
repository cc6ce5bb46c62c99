"""HTTP gzip: the web client's files and lesson answers gzipped when the
client takes gzip (and only then), Vary and entity tags per form, HEAD,
304s, q=0 refusals, and no gzip for answers carrying a secret (BREACH).
Also campus, the terminal client, reading with COMPRESS DEFLATE."""

import gzip
import json
import re

import harness
from harness import Env

env = None


def setup():
    global env
    env = Env()


def teardown():
    env.close()


def get(path, **headers):
    return harness.http(env.campusd.http_port, "GET", path, headers=headers)


def lesson_path():
    st, _, body = get("/api/courses")
    course = json.loads(body)["items"][0]["id"]
    st, _, body = get("/api/courses/" + course)
    lesson = json.loads(body)["items"][0]["lesson"]
    return "/api/lessons/" + lesson


def test_static_files_gzip_round_trip():
    for path in ("/", "/campus.js", "/campus.css"):
        st, h, plain = get(path)
        assert st == 200 and "content-encoding" not in h, (path, h)
        assert h["vary"] == "Accept-Encoding"
        st, hz, z = get(path, **{"Accept-Encoding": "gzip, deflate"})
        assert st == 200 and hz["content-encoding"] == "gzip", (path, hz)
        assert hz["vary"] == "Accept-Encoding"
        assert gzip.decompress(z) == plain
        assert len(z) < len(plain), (path, len(z), len(plain))
        assert int(hz["content-length"]) == len(z)
        assert hz["etag"] != h["etag"] and hz["etag"].endswith('-gz"'), (h["etag"], hz["etag"])
        # Each form revalidates against its own tag.
        st, _, _ = get(path, **{"Accept-Encoding": "gzip", "If-None-Match": hz["etag"]})
        assert st == 304
        st, _, _ = get(path, **{"If-None-Match": h["etag"]})
        assert st == 304
        st, _, b = get(path, **{"Accept-Encoding": "gzip", "If-None-Match": h["etag"]})
        assert st == 200 and gzip.decompress(b) == plain


def test_refused_codings():
    for ae in ("gzip;q=0", "identity", "br", "*;q=0", "gzip;q=0.000, *"):
        st, h, _ = get("/campus.js", **{"Accept-Encoding": ae})
        assert st == 200 and "content-encoding" not in h, (ae, h)
    for ae in ("*", "GZIP", "x-gzip", "br;q=1, gzip;q=0.5", "deflate , gzip ; q=0.1"):
        st, h, _ = get("/campus.js", **{"Accept-Encoding": ae})
        assert h.get("content-encoding") == "gzip", (ae, h)


def test_head_gzip_has_the_get_length():
    st, h, z = get("/campus.js", **{"Accept-Encoding": "gzip"})
    st2, h2, b = harness.http(env.campusd.http_port, "HEAD", "/campus.js",
                              headers={"Accept-Encoding": "gzip"})
    assert st2 == 200 and b == b"" and h2["content-length"] == str(len(z))


def test_lesson_gzip_round_trip_and_cached():
    path = lesson_path()
    st, h, plain = get(path)
    # A lesson varies by language too: one Vary names both headers.
    vary = [v.strip() for v in h["vary"].split(",")]
    assert st == 200 and "content-encoding" not in h and vary == ["Accept-Encoding", "Accept-Language"], h
    st, hz, z = get(path, **{"Accept-Encoding": "gzip"})
    assert [v.strip() for v in hz["vary"].split(",")] == ["Accept-Encoding", "Accept-Language"], hz
    assert st == 200 and hz["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(z)) == json.loads(plain)
    # The same bytes each time: made once, sent from memory.
    st, _, z2 = get(path, **{"Accept-Encoding": "gzip"})
    assert z2 == z
    st, _, _ = get(path, **{"Accept-Encoding": "gzip", "If-None-Match": hz["etag"]})
    assert st == 304
    # Other formats and widths too.
    st, hz, z = get(path + "?format=text", **{"Accept-Encoding": "gzip"})
    assert hz.get("content-encoding") == "gzip" and json.loads(gzip.decompress(z))["code"] == 200


def test_dynamic_answers_and_secrets():
    # HELP is long enough to be worth gzipping per request.
    st, h, z = get("/api/help", **{"Accept-Encoding": "gzip"})
    assert st == 200 and h.get("content-encoding") == "gzip"
    assert json.loads(gzip.decompress(z))["code"] == 200
    # A short answer goes as it is.
    st, h, _ = get("/api/ping", **{"Accept-Encoding": "gzip"})
    assert st == 200 and "content-encoding" not in h
    # Register and log in with a long name chosen by the caller: the token
    # never travels gzipped beside it.
    name = "breach" + "a" * 20
    body = json.dumps({"name": name, "password": "correct horse battery"})
    hdr = {"Accept-Encoding": "gzip"}
    st, h, b = harness.http(env.campusd.http_port, "POST", "/api/register", body, hdr)
    assert st == 201 and "content-encoding" not in h, (st, h, b)
    st, h, b = harness.http(env.campusd.http_port, "POST", "/api/login", body, hdr)
    assert st == 200 and "content-encoding" not in h, (st, h)
    assert "token" in json.loads(b)["data"]


def test_terminal_client_compressed():
    home = harness.Home("127.0.0.1:%d" % env.campusd.text_port, drop=("CAMPUS_NO_COMPRESS",))
    try:
        lesson = lesson_path()[len("/api/lessons/"):]

        def run(*args):
            return home.ok(*args, timeout=30)
        out_z, err_z = run("--no-tls", "read", lesson, "--stats")
        out_p, err_p = run("--no-tls", "--no-compress", "read", lesson, "--stats")
        assert out_z == out_p and out_z.strip()
        got = lambda err: int(re.search(r"(\d+) bytes received", err).group(1))
        assert got(err_z) < got(err_p), (err_z, err_p)
        # Inside TLS as well, with outline and search on the same link.
        out, _ = run("read", lesson)
        assert out == out_p
        out, _ = run("search", "market")
        assert out.strip()
    finally:
        home.remove()


if __name__ == "__main__":
    harness.main(globals())
