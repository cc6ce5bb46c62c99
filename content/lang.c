/* lang.c: language tags, RFC 4647 lookup, and HTTP Accept-Language. */
#include "lang.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool lang_tag_valid(const char *s, size_t n)
{
    size_t run = 0;
    bool first = true;

    if (n == 0 || n >= LANG_TAG_MAX)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '-') {
            if (run == 0 || run > 8 || (first && run < 2))
                return false;
            first = false;
            run = 0;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (first ? !isalpha(c) : !isalnum(c))
            return false;
        run++;
    }
    return true;
}

int lang_lookup(const char *const *avail, size_t n, const char *range)
{
    char r[LANG_TAG_MAX];
    size_t len = strlen(range);

    if (!lang_tag_valid(range, len))
        return -1;
    memcpy(r, range, len + 1);
    for (;;) {
        for (size_t i = 0; i < n; i++)
            if (strcasecmp(avail[i], r) == 0)
                return (int)i;
        char *dash = strrchr(r, '-');
        if (dash == NULL)
            return -1;
        *dash = '\0';
        /* "zh-Hant-x-..." : a singleton left at the end goes too. */
        dash = strrchr(r, '-');
        if (dash && strlen(dash + 1) == 1)
            *dash = '\0';
    }
}

struct accept_range {
    char tag[LANG_TAG_MAX];     /* "*" or a valid tag */
    int q;                      /* thousandths */
    size_t order;
};

static int cmp_range(const void *a, const void *b)
{
    const struct accept_range *x = a, *y = b;

    if (x->q != y->q)
        return x->q > y->q ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Reads "q=0.8" (RFC 9110: 0, 0.x.., 1, 1.000) into thousandths, or -1. */
static int parse_q(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n < 3 || (s[0] != 'q' && s[0] != 'Q') || s[1] != '=')
        return -1;
    s += 2, n -= 2;
    if (s[0] != '0' && s[0] != '1')
        return -1;
    int q = (s[0] - '0') * 1000, scale = 100;
    if (n > 1) {
        if (s[1] != '.' || n > 5)
            return -1;
        for (size_t i = 2; i < n; i++, scale /= 10) {
            if (!isdigit((unsigned char)s[i]))
                return -1;
            q += (s[i] - '0') * scale;
        }
    }
    return q > 1000 ? -1 : q;
}

/* Splits the header into ranges sorted by preference; returns the count. */
static size_t accept_parse(const char *header, struct accept_range *v)
{
    size_t nv = 0, order = 0;

    if (header == NULL || strlen(header) > LANG_ACCEPT_BYTES)
        return 0;
    for (const char *p = header; *p && nv < LANG_ACCEPT_MAX;) {
        size_t n = strcspn(p, ",");
        const char *e = p + n;
        const char *semi = memchr(p, ';', n);
        const char *t = p, *te = semi ? semi : e;
        while (t < te && (*t == ' ' || *t == '\t'))
            t++;
        while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        size_t tl = (size_t)(te - t);
        int q = semi ? parse_q(semi + 1, (size_t)(e - semi - 1)) : 1000;
        bool star = tl == 1 && t[0] == '*';
        if (q > 0 && (star || lang_tag_valid(t, tl))) {
            memcpy(v[nv].tag, t, tl);
            v[nv].tag[tl] = '\0';
            v[nv].q = q;
            v[nv].order = order;
            nv++;
        }
        order++;
        p = *e ? e + 1 : e;
    }
    qsort(v, nv, sizeof(*v), cmp_range);
    return nv;
}

int lang_accept(const char *header, const char *const *avail, size_t n, int def)
{
    struct accept_range v[LANG_ACCEPT_MAX];
    size_t nv = accept_parse(header, v);

    for (size_t i = 0; i < nv; i++) {
        if (strcmp(v[i].tag, "*") == 0)
            return def;
        int k = lang_lookup(avail, n, v[i].tag);
        if (k >= 0)
            return k;
    }
    return def;
}
