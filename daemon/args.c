/* args.c: the checks every verb's arguments go through, on CTP/1 and HTTP
 * alike: ids against their alphabet over their full length, and numbers
 * through one strict parser. An argument is bytes with a length: a NUL
 * inside is a byte like any other, never the end of the argument. */
#include "campusd.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

bool arg_lesson_id_valid(const char *s, size_t len)
{
    const char *slash = s ? memchr(s, '/', len) : NULL;

    if (slash == NULL)
        return false;
    size_t left = (size_t)(slash - s);
    return id_valid_n(s, left) && id_valid_n(slash + 1, len - left - 1);
}

/* Digits only, so "0x10", "1e3", " 5", "+5" and "" are all refused rather
 * than read as something the client did not write; "-" only where the
 * caller allows negative values, and never "-0"; no leading zeros, so each
 * value has one spelling; the value is built with an overflow check, never
 * through strtol, which skips spaces and accepts signs and bases. */
int arg_parse_ll(const char *s, size_t len, long long min, long long max, long long *out)
{
    size_t i = 0;
    bool neg = false;
    unsigned long long v = 0, limit;

    if (s == NULL || len == 0 || len > ARG_NUMBER_MAX)
        return -1;
    if (s[0] == '-') {
        if (min >= 0)
            return -1;
        neg = true;
        i = 1;
    }
    if (i == len)
        return -1;
    if (s[i] == '0' && (len - i > 1 || neg))
        return -1;               /* "007", "-0" */
    limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < '0' || c > '9')
            return -1;
        unsigned d = c - '0';
        if (v > (limit - d) / 10)
            return -1;           /* overflow */
        v = v * 10 + d;
    }
    long long r = neg ? (v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v)
                      : (long long)v;
    if (r < min || r > max)
        return -1;
    *out = r;
    return 0;
}

bool req_arg_number(struct req *req, int i, const char *field, long long min, long long max,
                    long long *out)
{
    if (i < req->args.argc &&
        arg_parse_ll(req->args.argv[i], req->args.argl[i], min, max, out) == 0)
        return true;
    req_reply(req, 400, "%s must be a whole number from %lld to %lld", field, min, max);
    return false;
}

int arg_addr_port(const char *addr, int dflt)
{
    const char *colon = strrchr(addr, ':');
    long long port;

    if (colon == NULL)
        return dflt;
    if (arg_parse_ll(colon + 1, strlen(colon + 1), 1, 65535, &port) < 0)
        return -1;
    return (int)port;
}
