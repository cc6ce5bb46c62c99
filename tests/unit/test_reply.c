/* test_reply.c: CTP/1 answers as bytes: the status line formatted by hand
 * (code, cleaned text, the {N} marker that frames a body), a pre-built
 * answer, and a text body moved, uncopied, into the output. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "campusd.h"

static char *drain(struct evbuffer *b, size_t *len)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    *len = n;
    return s;
}

Test(reply, status_line_without_body)
{
    struct evbuffer *out = evbuffer_new();
    size_t n;

    reply_status_line(out, 200, "campusd CTP/1 ready");
    reply_status_line(out, 404, "no\r\nsuch\tlesson\x7f");
    reply_status_line(out, 7, "");
    char *s = drain(out, &n);
    cr_assert_str_eq(s, "200 campusd CTP/1 ready\r\n404 no  such lesson \r\n007 \r\n");
    free(s);
    evbuffer_free(out);
}

Test(reply, answer_with_body_has_its_marker_and_bytes)
{
    size_t n;
    char *a = reply_ctp_answer(200, "echo", "a\0b", 3, &n);

    cr_assert_eq(n, strlen("200 echo {3}\r\n") + 3 + 2);
    cr_assert_eq(memcmp(a, "200 echo {3}\r\na\0b\r\n", n), 0);
    free(a);
    a = reply_ctp_answer(200, "empty", "", 0, &n);
    cr_assert_eq(memcmp(a, "200 empty {0}\r\n\r\n", n), 0);
    free(a);
}

/* A text too long for the line is cut, never the marker that frames the
 * body: a client reads the literal's length from it. */
Test(reply, a_long_text_is_cut_before_the_marker)
{
    char msg[1000];
    size_t n;

    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    char *body = malloc(123456);
    memset(body, 'b', 123456);
    char *a = reply_ctp_answer(200, msg, body, 123456, &n);
    char *eol = memchr(a, '\n', n);
    cr_assert_not_null(eol);
    size_t line = (size_t)(eol - a) + 1;
    cr_assert_leq(line, 300);
    cr_assert_eq(memcmp(eol - strlen(" {123456}\r"), " {123456}\r", strlen(" {123456}\r")), 0,
                 "%.*s", (int)line, a);
    cr_assert_eq(n, line + 123456 + 2);
    cr_assert_eq(memcmp(a + line, body, 123456), 0);
    cr_assert_eq(memcmp(a + n - 2, "\r\n", 2), 0);
    free(a);
    free(body);
}

static int released;

static void release(const void *data, size_t len, void *arg)
{
    (void)data, (void)len, (void)arg;
    released++;
}

/* A text body goes into the output by its chains: the referenced bytes
 * are released once the output has sent them, not when the reply is
 * cleared. */
Test(reply, a_text_body_moves_into_the_output)
{
    static const char doc[] = "the lesson's bytes";
    struct reply r;
    struct evbuffer *out = evbuffer_new();
    size_t n;

    reply_init(&r);
    r.code = 200;
    strcpy(r.msg, "READ demo/welcome");
    r.kind = REPLY_TEXT;
    r.body = evbuffer_new();
    evbuffer_add_reference(r.body, doc, strlen(doc), release, NULL);
    reply_render_ctp(&r, out, false);
    reply_clear(&r);
    cr_assert_eq(released, 0, "the output still holds the bytes");
    char *s = drain(out, &n);
    cr_assert_str_eq(s, "200 READ demo/welcome {18}\r\nthe lesson's bytes\r\n");
    cr_assert_eq(released, 1);
    free(s);
    evbuffer_free(out);
}
