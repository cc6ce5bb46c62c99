/* test_proto.c: the CTP/1 request parser and the response writer. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "campusd.h"
#include "proto.h"

/* Feeds the whole input in chunks of `chunk` bytes and collects what comes
 * out as text: one line per event, "REQ a|b|c" or "ERR code fatal msg". */
static char *run(const char *in, size_t len, size_t chunk, size_t line_max, size_t lit_max)
{
    struct proto_parser p;
    struct sbuf out = {0};

    proto_init(&p, line_max, lit_max);
    size_t off = 0;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        size_t pos = 0;
        while (pos < n) {
            size_t used = 0;
            struct proto_req r;
            enum proto_result res = proto_feed(&p, in + off + pos, n - pos, &used, &r);
            pos += used;
            if (res == PROTO_REQUEST) {
                sbuf_adds(&out, "REQ ");
                for (int i = 0; i < r.argc; i++) {
                    if (i)
                        sbuf_addc(&out, '|');
                    sbuf_add(&out, r.argv[i], r.argl[i]);
                }
                sbuf_addc(&out, '\n');
                proto_req_free(&r);
            } else if (res == PROTO_ERROR) {
                sbuf_printf(&out, "ERR %d %s%s %s\n", p.err_code, p.err_fatal ? "fatal" : "ok",
                            p.err_http ? " http" : "", p.err_msg);
                if (p.err_fatal)
                    goto done;
            } else {
                cr_assert_eq(used, n - pos + used, "MORE must consume everything");
            }
        }
        off += n;
    }
done:
    if (proto_partial(&p))
        sbuf_adds(&out, "PARTIAL\n");
    proto_reset(&p);
    return sbuf_take(&out);
}

static void expect(const char *in, size_t len, const char *want)
{
    /* Same result whether fed at once, byte by byte, or in odd chunks. */
    size_t chunks[] = { len ? len : 1, 1, 3, 7 };
    for (size_t i = 0; i < 4; i++) {
        char *got = run(in, len, chunks[i], 8192, 1 << 20);
        cr_assert_str_eq(got, want, "chunk %zu: input %.60s", chunks[i], in);
        free(got);
    }
}

#define EXPECT(lit, want) expect(lit, sizeof(lit) - 1, want)

Test(proto, simple_verb) { EXPECT("PING\r\n", "REQ PING\n"); }
Test(proto, bare_lf) { EXPECT("PING\n", "REQ PING\n"); }
Test(proto, args_split_on_spaces_and_tabs) { EXPECT("READ  a/b\ttext 80\r\n", "REQ READ|a/b|text|80\n"); }
Test(proto, leading_and_trailing_spaces) { EXPECT("   PING   \r\n", "REQ PING\n"); }
Test(proto, blank_lines_skipped) { EXPECT("\r\n\n  \r\nPING\r\n", "REQ PING\n"); }
Test(proto, quoted_arg) { EXPECT("ECHO \"a b\"\r\n", "REQ ECHO|a b\n"); }
Test(proto, quoted_escapes) { EXPECT("ECHO \"q\\\" s\\\\ n\\n t\\t r\\r\"\r\n", "REQ ECHO|q\" s\\ n\n t\t r\r\n"); }
Test(proto, empty_quoted_arg) { EXPECT("ECHO \"\"\r\n", "REQ ECHO|\n"); }
Test(proto, unterminated_quote) { EXPECT("ECHO \"abc\r\nPING\r\n", "ERR 400 ok unterminated quoted argument\nREQ PING\n"); }
Test(proto, unknown_escape) { EXPECT("ECHO \"\\q\"\r\n", "ERR 400 ok unknown escape \\q in quoted argument\n"); }
Test(proto, backslash_at_end_of_quote) { EXPECT("ECHO \"abc\\\r\n", "ERR 400 ok unterminated quoted argument\n"); }
Test(proto, text_after_closing_quote) { EXPECT("ECHO \"a\"b\r\n", "ERR 400 ok a closing quote must end the argument\n"); }
Test(proto, quote_inside_word) { EXPECT("ECHO a\"b\r\n", "ERR 400 ok quote inside an unquoted argument\n"); }
Test(proto, literal) { EXPECT("ECHO {5}\r\nhelloPING\r\n", "REQ ECHO|hello\nREQ PING\n"); }
Test(proto, literal_with_crlf_inside) { EXPECT("ECHO {4}\r\n\r\n\r\n", "REQ ECHO|\r\n\r\n\n"); }
Test(proto, literal_zero) { EXPECT("ECHO {0}\r\nPING\n", "REQ ECHO|\nREQ PING\n"); }
/* {0} ends its request with its line: nothing more need arrive. */
Test(proto, literal_zero_at_end) { EXPECT("ECHO {0}\r\n", "REQ ECHO|\n"); }
Test(proto, bad_line_zero_literal_at_end) { EXPECT("ECHO \"x {0}\r\n", "ERR 400 ok unterminated quoted argument\n"); }
Test(proto, literal_after_args) { EXPECT("SUBMIT c/x {3}\r\nabc", "REQ SUBMIT|c/x|abc\n"); }
Test(proto, literal_with_nul_bytes)
{
    expect("ECHO {3}\r\na\0b", 13, "REQ ECHO|a\0b\n");
}
Test(proto, literal_negative) { EXPECT("ECHO {-1}\r\n", "ERR 400 fatal malformed literal marker\n"); }
Test(proto, literal_too_many_digits) { EXPECT("ECHO {99999999999}\r\n", "ERR 413 fatal literal too large\n"); }
Test(proto, literal_over_limit)
{
    char *got = run("ECHO {2000}\r\n", 13, 13, 8192, 1000);
    cr_assert_str_eq(got, "ERR 413 fatal literal too large\n");
    free(got);
}
Test(proto, literal_empty_braces) { EXPECT("ECHO {}\r\n", "ERR 400 fatal malformed literal marker\n"); }
Test(proto, literal_not_digits) { EXPECT("ECHO {1x}\r\n", "ERR 400 fatal malformed literal marker\n"); }
Test(proto, braces_inside_word_are_plain) { EXPECT("ECHO x{3}\r\n", "REQ ECHO|x{3}\n"); }
Test(proto, quoted_braces_are_plain) { EXPECT("ECHO \"{3}\"\r\n", "REQ ECHO|{3}\n"); }
Test(proto, literal_without_verb) { EXPECT("{3}\r\nabcPING\r\n", "ERR 400 ok a literal needs a verb before it\nREQ PING\n"); }
Test(proto, literal_cut_short) { EXPECT("ECHO {10}\r\nabc", "PARTIAL\n"); }
Test(proto, bad_line_swallows_its_literal) { EXPECT("ECHO \"x {3}\r\nabcPING\r\n", "ERR 400 ok unterminated quoted argument\nREQ PING\n"); }
Test(proto, nul_in_line) { expect("PI\0NG\r\nPING\r\n", 13, "ERR 400 ok NUL byte in request line\nREQ PING\n"); }
Test(proto, control_char_in_line) { EXPECT("PI\x01NG\r\n", "ERR 400 ok control character in request line\n"); }
Test(proto, del_char_in_line) { EXPECT("PING\x7f\r\n", "ERR 400 ok control character in request line\n"); }
Test(proto, cr_without_lf) { EXPECT("PING\rPING\r\n", "ERR 400 ok control character in request line\n"); }
Test(proto, cr_alone_is_partial) { EXPECT("PING\r", "PARTIAL\n"); }
Test(proto, invalid_utf8) { EXPECT("ECHO \xff\r\n", "ERR 400 ok request line is not valid UTF-8\n"); }
Test(proto, overlong_utf8) { EXPECT("ECHO \xc0\xaf\r\n", "ERR 400 ok request line is not valid UTF-8\n"); }
Test(proto, surrogate_utf8) { EXPECT("ECHO \xed\xa0\x80\r\n", "ERR 400 ok request line is not valid UTF-8\n"); }
Test(proto, truncated_utf8) { EXPECT("ECHO \xe2\x82\r\n", "ERR 400 ok request line is not valid UTF-8\n"); }
Test(proto, valid_utf8) { EXPECT("ECHO \"Atuntaqui – café 中文\"\r\n", "REQ ECHO|Atuntaqui – café 中文\n"); }
Test(proto, http_request_line) { EXPECT("GET / HTTP/1.1\r\nHost: x\r\n", "ERR 400 fatal http this port speaks CTP/1, not HTTP\n"); }
Test(proto, http_post_line) { EXPECT("POST /api HTTP/1.0\r\n", "ERR 400 fatal http this port speaks CTP/1, not HTTP\n"); }
Test(proto, get_verb_is_not_http) { EXPECT("GET something\r\n", "REQ GET|something\n"); }
Test(proto, too_many_args)
{
    struct sbuf in = {0};
    sbuf_adds(&in, "ECHO");
    for (int i = 0; i < 70; i++)
        sbuf_adds(&in, " a");
    sbuf_adds(&in, "\r\n");
    char *got = run(in.data, in.len, in.len, 8192, 1 << 20);
    cr_assert_str_eq(got, "ERR 400 ok too many arguments (limit 63)\n");
    free(got);
    sbuf_free(&in);
}
/* The words, their arrays and the slot the literal takes share one
 * allocation sized from the line: the most words the shortest line can
 * hold, then a literal behind them, all fit (ASan checks the bounds). */
static void feed_one(const char *in, size_t len, struct proto_req *r)
{
    struct proto_parser p;
    size_t used = 0;

    proto_init(&p, 8192, 1 << 20);
    cr_assert_eq(proto_feed(&p, in, len, &used, r), PROTO_REQUEST, "%.40s", in);
    cr_assert_eq(used, len);
    proto_reset(&p);
}

Test(proto, most_words_then_a_literal)
{
    for (int words = 1; words <= 63; words++) {
        struct sbuf in = {0};
        sbuf_adds(&in, "E");
        for (int i = 1; i < words; i++)
            sbuf_printf(&in, " %c", 'a' + i % 26);
        sbuf_adds(&in, " {2}\r\nzz");
        struct proto_req r;
        feed_one(in.data, in.len, &r);
        cr_assert_eq(r.argc, words + 1);
        cr_assert_str_eq(r.argv[0], "E");
        for (int i = 1; i < words; i++)
            cr_assert(r.argl[i] == 1 && r.argv[i][0] == 'a' + i % 26 && r.argv[i][1] == '\0');
        cr_assert_eq(r.argl[words], 2);
        cr_assert_str_eq(r.argv[words], "zz");
        proto_req_free(&r);
        sbuf_free(&in);
    }
}

/* ECHO hands its argument on as the answer's body: a literal without a
 * copy, a word as a copy; the request is freed after either, once. */
Test(proto, take_an_argument)
{
    struct proto_req r;

    feed_one("ECHO {5}\r\nhello", 15, &r);
    char *lit = r.argv[1];
    char *body = proto_req_take(&r, 1);
    cr_assert_eq(body, lit, "the literal's own buffer");
    cr_assert_null(r.argv[1]);
    proto_req_free(&r);
    cr_assert_str_eq(body, "hello");
    free(body);

    feed_one("ECHO \"a b\" c\r\n", 14, &r);
    char *word = r.argv[1];
    body = proto_req_take(&r, 1);
    cr_assert_neq(body, word, "a copy, not the word in the request");
    cr_assert_str_eq(r.argv[2], "c");
    proto_req_free(&r);
    cr_assert_str_eq(body, "a b");
    free(body);

    char *argv[] = { "ECHO", "x\0y" };
    size_t argl[] = { 4, 3 };
    proto_req_set(&r, 2, argv, argl);
    cr_assert_eq(r.argc, 2);
    cr_assert_eq(r.argl[1], 3);
    cr_assert(memcmp(r.argv[1], "x\0y", 4) == 0);
    body = proto_req_take(&r, 1);
    proto_req_free(&r);
    cr_assert(memcmp(body, "x\0y", 4) == 0);
    free(body);
}

Test(proto, line_exactly_at_limit)
{
    char line[110];
    memset(line, 'a', 100);
    memcpy(line + 100, "\r\n", 2);
    char *got = run(line, 102, 102, 100, 1000);
    cr_assert(strncmp(got, "REQ ", 4) == 0, "%s", got);
    free(got);
    line[100] = '\n';
    got = run(line, 101, 1, 100, 1000);
    cr_assert(strncmp(got, "REQ ", 4) == 0, "%s", got);
    free(got);
}
Test(proto, line_over_limit)
{
    char line[110];
    memset(line, 'a', 101);
    memcpy(line + 101, "\r\n", 2);
    char *got = run(line, 103, 103, 100, 1000);
    cr_assert_str_eq(got, "ERR 413 fatal request line too long\n");
    free(got);
    got = run(line, 103, 1, 100, 1000);
    cr_assert_str_eq(got, "ERR 413 fatal request line too long\n");
    free(got);
}
Test(proto, megabyte_of_spaces)
{
    size_t n = 1 << 20;
    char *in = malloc(n);
    memset(in, ' ', n);
    char *got = run(in, n, n, 8192, 1 << 20);
    cr_assert_str_eq(got, "ERR 413 fatal request line too long\n");
    free(got);
    free(in);
}
Test(proto, megabyte_of_spaces_under_a_big_limit)
{
    size_t n = (1 << 20) + 2;
    char *in = malloc(n);
    memset(in, ' ', n);
    in[n - 2] = '\r';
    in[n - 1] = '\n';
    char *got = run(in, n, 4096, 2 << 20, 1 << 20);
    cr_assert_str_eq(got, "");             /* a blank line */
    free(got);
    free(in);
}
Test(proto, many_pipelined)
{
    struct sbuf in = {0}, want = {0};
    for (int i = 0; i < 1000; i++) {
        sbuf_printf(&in, "ECHO %d\r\n", i);
        sbuf_printf(&want, "REQ ECHO|%d\n", i);
    }
    char *got = run(in.data, in.len, in.len, 8192, 1 << 20);
    cr_assert_str_eq(got, want.data);
    free(got);
    sbuf_free(&in);
    sbuf_free(&want);
}
Test(proto, quote_roundtrip)
{
    const char *s = "a \"b\" \\c\nd\te\r";
    char *q = proto_quote(s, strlen(s));
    struct proto_req r;
    long long lit;
    int lit_err;
    char msg[128];
    char *line = xasprintf("ECHO %s", q);
    cr_assert_eq(proto_tokenize(line, strlen(line), 100, &r, &lit, &lit_err, msg, sizeof(msg)), 0);
    cr_assert_eq(r.argc, 2);
    cr_assert_str_eq(r.argv[1], s);
    proto_req_free(&r);
    free(line);
    free(q);
}

/* ---- the response writer ---- */

static char *drain(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = xmalloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

Test(reply, status_line)
{
    struct evbuffer *b = evbuffer_new();
    reply_status_line(b, 200, "PONG");
    char *s = drain(b);
    cr_assert_str_eq(s, "200 PONG\r\n");
    free(s);
    evbuffer_free(b);
}

Test(reply, status_line_strips_control_characters)
{
    struct evbuffer *b = evbuffer_new();
    reply_status_line(b, 400, "bad\r\nINJECTED 200 ok\x01");
    char *s = drain(b);
    cr_assert_str_eq(s, "400 bad  INJECTED 200 ok \r\n");
    free(s);
    evbuffer_free(b);
}

Test(reply, body_is_sized_and_terminated)
{
    struct reply r;
    reply_init(&r);
    r.code = 200;
    snprintf(r.msg, sizeof(r.msg), "echo");
    r.kind = REPLY_TEXT;
    r.body = evbuffer_new();
    evbuffer_add(r.body, "a\r\nb", 4);
    struct evbuffer *b = evbuffer_new();
    reply_render_ctp(&r, b, false);
    char *s = drain(b);
    cr_assert_str_eq(s, "200 echo {4}\r\na\r\nb\r\n");
    free(s);
    evbuffer_free(b);
    reply_clear(&r);
}

Test(reply, table_as_tsv_and_json)
{
    struct reply r;
    reply_init(&r);
    r.code = 200;
    snprintf(r.msg, sizeof(r.msg), "2 rows");
    r.kind = REPLY_TABLE;
    r.rows = json_pack("[[s,s],[s,s],[s,s]]", "id", "title", "led", "Local\teconomic", "vcd", "Value\nchains");
    struct evbuffer *b = evbuffer_new();
    reply_render_ctp(&r, b, false);
    char *s = drain(b);
    cr_assert_str_eq(s, "200 2 rows {45}\r\nid\ttitle\nled\tLocal economic\nvcd\tValue chains\n\r\n");
    free(s);
    size_t len;
    char *j = reply_render_json(&r, &len);
    cr_assert_str_eq(j, "{\"code\":200,\"message\":\"2 rows\",\"items\":[{\"id\":\"led\",\"title\":\"Local\\teconomic\"},"
                        "{\"id\":\"vcd\",\"title\":\"Value\\nchains\"}]}");
    free(j);
    evbuffer_free(b);
    reply_clear(&r);
}

Test(reply, error_json)
{
    struct reply r;
    reply_init(&r);
    r.code = 404;
    snprintf(r.msg, sizeof(r.msg), "no course 'x'");
    size_t len;
    char *j = reply_render_json(&r, &len);
    cr_assert_str_eq(j, "{\"code\":404,\"error\":\"no course 'x'\"}");
    free(j);
}

Test(reply, ctp_answer_has_its_marker_and_bytes)
{
    size_t n;
    char *a = reply_ctp_answer(200, "echo", "a\0b", 3, &n);

    cr_assert_eq(n, strlen("200 echo {3}\r\n") + 3 + 2);
    cr_assert_eq(memcmp(a, "200 echo {3}\r\na\0b\r\n", n), 0);
    free(a);
    a = reply_ctp_answer(7, "empty", "", 0, &n);
    cr_assert_eq(n, strlen("007 empty {0}\r\n\r\n"));
    cr_assert_eq(memcmp(a, "007 empty {0}\r\n\r\n", n), 0);
    free(a);
}

/* A text too long for the line is cut, never the marker that frames the
 * body: a client reads the literal's length from it. */
Test(reply, a_long_text_is_cut_before_the_marker)
{
    char msg[1000];
    size_t n, big = 123456;

    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    char *body = xmalloc(big);
    memset(body, 'b', big);
    char *a = reply_ctp_answer(200, msg, body, big, &n);
    char *eol = memchr(a, '\n', n);
    cr_assert_not_null(eol);
    size_t line = (size_t)(eol - a) + 1;
    cr_assert_leq(line, 300);
    cr_assert_eq(memcmp(eol - strlen(" {123456}\r"), " {123456}\r", strlen(" {123456}\r")), 0,
                 "%.*s", (int)line, a);
    cr_assert_eq(n, line + big + 2);
    cr_assert_eq(memcmp(a + line, body, big), 0);
    cr_assert_eq(memcmp(a + n - 2, "\r\n", 2), 0);
    free(a);
    free(body);
}

static int released;

static void count_release(const void *data, size_t len, void *arg)
{
    (void)data, (void)len, (void)arg;
    released++;
}

/* A text body goes into the output by its chains: the referenced bytes
 * are released once the output has let them go, not when the reply is
 * cleared. */
Test(reply, a_text_body_moves_into_the_output)
{
    static const char doc[] = "the lesson's bytes";
    struct reply r;
    struct evbuffer *out = evbuffer_new();

    reply_init(&r);
    r.code = 200;
    snprintf(r.msg, sizeof(r.msg), "READ demo/welcome");
    r.kind = REPLY_TEXT;
    r.body = evbuffer_new();
    evbuffer_add_reference(r.body, doc, strlen(doc), count_release, NULL);
    reply_render_ctp(&r, out, false);
    reply_clear(&r);
    cr_assert_eq(released, 0, "the output still holds the bytes");
    char *s = drain(out);
    cr_assert_str_eq(s, "200 READ demo/welcome {18}\r\nthe lesson's bytes\r\n");
    cr_assert_eq(released, 1);
    free(s);
    evbuffer_free(out);
}

/* copy_bytes (util.c) copies a literal out of the input buffer: every
 * size and every distance between source and destination, its backward
 * loop for a block a few bytes past the source's page offset among them,
 * gives exactly the source's bytes and writes nothing outside them. */
Test(copy_bytes, every_distance_and_size_copies_exactly)
{
    enum { AREA = 3 * 16384 };
    unsigned char *src = aligned_alloc(4096, AREA), *dst = aligned_alloc(4096, AREA);
    const size_t sizes[] = { 0, 1, 255, 256, 257, 4095, 4096, 4097, 5000, 16384, 16397 };
    const size_t dists[] = { 0, 1, 14, 63, 200, 255, 256, 300, 4096 + 14, 8192 + 255 };

    cr_assert(src && dst);
    for (size_t i = 0; i < AREA; i++)
        src[i] = (unsigned char)(i * 131 + 7);
    for (size_t a = 0; a < sizeof(sizes) / sizeof(*sizes); a++)
        for (size_t b = 0; b < sizeof(dists) / sizeof(*dists); b++) {
            size_t n = sizes[a], at = dists[b] + 64;
            memset(dst, 0xEE, AREA);
            copy_bytes(dst + at, src + 64, n);
            cr_assert(memcmp(dst + at, src + 64, n) == 0, "size %zu distance %zu", n, dists[b]);
            for (size_t i = 0; i < at; i++)
                cr_assert_eq(dst[i], 0xEE, "before: size %zu distance %zu", n, dists[b]);
            for (size_t i = at + n; i < AREA; i++)
                cr_assert_eq(dst[i], 0xEE, "after: size %zu distance %zu", n, dists[b]);
        }
    free(src);
    free(dst);
}
