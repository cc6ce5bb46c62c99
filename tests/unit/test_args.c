/* test_args.c: the strict number parser and the id checks every verb's
 * arguments go through (daemon/args.c). Table-driven: each row is an input
 * with its length (NULs inside count), the bounds, and what must come out. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "campusd.h"

struct num_case {
    const char *s;
    size_t len;                  /* 0: strlen(s) */
    long long min, max;
    int rc;
    long long want;
};

#define N(s, min, max, rc, want) { s, 0, min, max, rc, want }
#define NL(s, len, min, max, rc, want) { s, len, min, max, rc, want }

static const struct num_case num_cases[] = {
    N("0", 0, 100, 0, 0),
    N("5", 0, 100, 0, 5),
    N("100", 0, 100, 0, 100),
    N("50", 0, 100, 0, 50),
    N("101", 0, 100, -1, 0),
    N("", 0, 100, -1, 0),
    N("+5", 0, 100, -1, 0),
    N(" 50", 0, 100, -1, 0),
    N("50 ", 0, 100, -1, 0),
    N("\t5", 0, 100, -1, 0),
    N("0x10", 0, 100, -1, 0),
    N("1e2", 0, 100, -1, 0),
    N("1e-400", 0, 100, -1, 0),
    N("5.0", 0, 100, -1, 0),
    N(".5", 0, 100, -1, 0),
    N("-0", 0, 100, -1, 0),
    N("-0", -100, 100, -1, 0),
    N("-5", 0, 100, -1, 0),
    N("-5", -100, 100, 0, -5),
    N("-", -100, 100, -1, 0),
    N("--5", -100, 100, -1, 0),
    N("007", 0, 100, -1, 0),
    N("00", 0, 100, -1, 0),
    N("80", 20, 1000, 0, 80),
    N("+80", 20, 1000, -1, 0),
    N("19", 20, 1000, -1, 0),
    N("1001", 20, 1000, -1, 0),
    N("inf", 0, 100, -1, 0),
    N("nan", 0, 100, -1, 0),
    N("٣", 0, 100, -1, 0),           /* a digit, but not an ASCII one */
    N("9223372036854775807", 0, LLONG_MAX, 0, LLONG_MAX),
    N("9223372036854775808", 0, LLONG_MAX, -1, 0),
    N("-9223372036854775808", LLONG_MIN, 0, 0, LLONG_MIN),
    N("-9223372036854775809", LLONG_MIN, 0, -1, 0),
    N("18446744073709551616", 0, LLONG_MAX, -1, 0),
    N("99999999999999999999", 0, LLONG_MAX, -1, 0),
    N("000000000000000000000000000005", 0, 100, -1, 0),
    NL("5\0" "0", 3, 0, 100, -1, 0),  /* a NUL inside is not the end */
    NL("5", 1, 0, 100, 0, 5),
};

Test(args, numbers)
{
    for (size_t i = 0; i < sizeof(num_cases) / sizeof(num_cases[0]); i++) {
        const struct num_case *c = &num_cases[i];
        size_t len = c->len ? c->len : strlen(c->s);
        long long out = 12345;
        int rc = arg_parse_ll(c->s, len, c->min, c->max, &out);
        cr_expect_eq(rc, c->rc, "case %zu '%s' [%lld, %lld]: rc %d, want %d", i, c->s, c->min,
                     c->max, rc, c->rc);
        if (c->rc == 0)
            cr_expect_eq(out, c->want, "case %zu '%s': %lld, want %lld", i, c->s, out, c->want);
        else
            cr_expect_eq(out, 12345, "case %zu '%s': out written on failure", i, c->s);
    }
}

Test(args, null_input)
{
    long long out;
    cr_expect_eq(arg_parse_ll(NULL, 0, 0, 10, &out), -1);
    cr_expect(!id_valid_n(NULL, 0));
}

struct id_case {
    const char *s;
    size_t len;                  /* 0: strlen(s) */
    bool id, lesson;
};

static const struct id_case id_cases[] = {
    { "intro", 0, true, false },
    { "a", 0, true, false },
    { "led-foundations", 0, true, false },
    { "x0-9", 0, true, false },
    { "", 0, false, false },
    { "Intro", 0, false, false },
    { "in tro", 0, false, false },
    { "in_tro", 0, false, false },
    { "intro.", 0, false, false },
    { "..", 0, false, false },
    { "intro\0x", 7, false, false },
    { "intro\0", 6, false, false },
    { "\0intro", 6, false, false },
    { "caf\xc3\xa9", 0, false, false },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, true, false },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, false, false },
    { "c/l", 0, false, true },
    { "led-foundations/intro", 0, false, true },
    { "c/", 0, false, false },
    { "/l", 0, false, false },
    { "c/l/x", 0, false, false },
    { "c//l", 0, false, false },
    { "../l", 0, false, false },
    { "c/l\0x", 5, false, false },
    { "c\0/l", 4, false, false },
    { "c/L", 0, false, false },
};

Test(args, ids)
{
    for (size_t i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
        const struct id_case *c = &id_cases[i];
        size_t len = c->len ? c->len : strlen(c->s);
        cr_expect_eq(id_valid_n(c->s, len), c->id, "case %zu id", i);
        cr_expect_eq(arg_lesson_id_valid(c->s, len), c->lesson, "case %zu lesson id", i);
    }
}

Test(args, addr_port)
{
    static const struct {
        const char *addr;
        int want;
    } cases[] = {
        { "127.0.0.1:6380", 6380 }, { "localhost", 6379 }, { "h:1", 1 }, { "h:65535", 65535 },
        { "h:65536", -1 }, { "h:0", -1 }, { "h:", -1 }, { "h:+80", -1 }, { "h: 80", -1 },
        { "h:0x50", -1 }, { "h:80x", -1 }, { "[::1]:6379", 6379 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_eq(arg_addr_port(cases[i].addr, 6379), cases[i].want, "case %zu '%s'", i,
                     cases[i].addr);
}
