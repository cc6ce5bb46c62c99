/* expr.c: evaluating compute: expressions of numeric tasks over tables. */
#include "expr.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPR_DEPTH_MAX 64

struct expr_ctx {
    const char *s;          /* next character */
    const char *start;
    const struct table *const *tables;
    size_t ntables;
    char *err;
    size_t errlen;
    int depth;
    bool failed;
};

static void fail(struct expr_ctx *c, const char *fmt, const char *arg)
{
    if (c->failed)
        return;
    c->failed = true;
    char msg[200];
    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    snprintf(c->err, c->errlen, "compute: %s (at character %d)", msg, (int)(c->s - c->start) + 1);
}

static void skip(struct expr_ctx *c)
{
    while (isspace((unsigned char)*c->s))
        c->s++;
}

static bool accept(struct expr_ctx *c, char ch)
{
    skip(c);
    if (*c->s != ch)
        return false;
    c->s++;
    return true;
}

static void expect(struct expr_ctx *c, char ch)
{
    if (!accept(c, ch)) {
        char what[2] = { ch, 0 };
        fail(c, "expected \"%s\"", what);
    }
}

/* A name: bare [A-Za-z0-9_-]+ or "quoted". Returns an owned string or NULL. */
static char *name(struct expr_ctx *c)
{
    skip(c);
    if (*c->s == '"') {
        const char *e = strchr(c->s + 1, '"');
        if (e == NULL) {
            fail(c, "unterminated quoted name", NULL);
            return NULL;
        }
        char *n = xstrndup(c->s + 1, (size_t)(e - c->s - 1));
        c->s = e + 1;
        return n;
    }
    const char *b = c->s;
    while (isalnum((unsigned char)*c->s) || *c->s == '_' || *c->s == '-')
        c->s++;
    if (c->s == b) {
        fail(c, "expected a name", NULL);
        return NULL;
    }
    return xstrndup(b, (size_t)(c->s - b));
}

static const struct table *find_table(struct expr_ctx *c, const char *n)
{
    const struct table *t = table_find(c->tables, c->ntables, n);
    if (t == NULL)
        fail(c, "no table named %s in this file", n);
    return t;
}

/* TABLE.COLUMN; returns the table and sets *col, or NULL. */
static const struct table *ref(struct expr_ctx *c, int *col)
{
    char *tn = name(c);
    if (tn == NULL)
        return NULL;
    const struct table *t = find_table(c, tn);
    free(tn);
    if (t == NULL)
        return NULL;
    expect(c, '.');
    char *cn = c->failed ? NULL : name(c);
    if (cn == NULL)
        return NULL;
    *col = table_col(t, cn);
    if (*col < 0)
        fail(c, "no column named %s", cn);
    free(cn);
    return *col < 0 ? NULL : t;
}

static bool cell(struct expr_ctx *c, const struct table *t, size_t row, int col, double *v)
{
    if (table_number(t, row, (size_t)col, v))
        return true;
    char what[160];
    snprintf(what, sizeof(what), "%.60s.%.60s row %zu", t->name, t->header[col], row + 1);
    fail(c, "%s is not a number", what);
    return false;
}

static double expr(struct expr_ctx *c);

static double column_fn(struct expr_ctx *c, const char *fn)
{
    int col;
    const struct table *t = ref(c, &col);
    if (t == NULL)
        return 0;
    double acc = 0;
    size_t n = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        double v;
        if (t->cells[r][col][0] == '\0')
            continue;
        if (!cell(c, t, r, col, &v))
            return 0;
        if (strcmp(fn, "min") == 0)
            acc = n == 0 || v < acc ? v : acc;
        else if (strcmp(fn, "max") == 0)
            acc = n == 0 || v > acc ? v : acc;
        else
            acc += v;
        n++;
    }
    if (n == 0 && strcmp(fn, "sum") != 0) {
        fail(c, "%s() of a column without numbers", fn);
        return 0;
    }
    return strcmp(fn, "mean") == 0 ? acc / (double)n : acc;
}

static double value_fn(struct expr_ctx *c)
{
    int col;
    const struct table *t = ref(c, &col);
    if (t == NULL)
        return 0;
    expect(c, ',');
    skip(c);
    char *key;
    if (*c->s == '"') {
        key = name(c);
    } else {
        const char *e = strchr(c->s, ')');
        if (e == NULL) {
            fail(c, "expected \")\"", NULL);
            return 0;
        }
        size_t n = (size_t)(e - c->s);
        while (n && isspace((unsigned char)c->s[n - 1]))
            n--;
        key = xstrndup(c->s, n);
        c->s += n;
    }
    if (key == NULL || c->failed) {
        free(key);
        return 0;
    }
    int row = table_row(t, key);
    double v = 0;
    if (row < 0)
        fail(c, "no row starting with %s", key);
    else
        cell(c, t, (size_t)row, col, &v);
    free(key);
    return v;
}

static double primary(struct expr_ctx *c)
{
    skip(c);
    if (accept(c, '(')) {
        double v = expr(c);
        expect(c, ')');
        return v;
    }
    if (isdigit((unsigned char)*c->s) || *c->s == '.') {
        char *end;
        double v = strtod(c->s, &end);
        c->s = end;
        return v;
    }
    const char *b = c->s;
    while (isalpha((unsigned char)*c->s))
        c->s++;
    char fn[8] = "";
    size_t n = (size_t)(c->s - b);
    if (n == 0 || n >= sizeof(fn)) {
        fail(c, "expected a number, ( or a function", NULL);
        return 0;
    }
    memcpy(fn, b, n);
    fn[n] = '\0';
    expect(c, '(');
    if (c->failed)
        return 0;
    double v = 0;
    if (!strcmp(fn, "sum") || !strcmp(fn, "mean") || !strcmp(fn, "min") || !strcmp(fn, "max")) {
        v = column_fn(c, fn);
    } else if (!strcmp(fn, "count")) {
        char *tn = name(c);
        const struct table *t = tn ? find_table(c, tn) : NULL;
        free(tn);
        v = t ? (double)t->nrows : 0;
    } else if (!strcmp(fn, "value")) {
        v = value_fn(c);
    } else {
        fail(c, "unknown function %s", fn);
        return 0;
    }
    expect(c, ')');
    return v;
}

static double unary(struct expr_ctx *c)
{
    if (++c->depth > EXPR_DEPTH_MAX) {
        fail(c, "expression nested too deeply", NULL);
        return 0;
    }
    double v;
    if (accept(c, '-'))
        v = -unary(c);
    else if (accept(c, '+'))
        v = unary(c);
    else
        v = primary(c);
    c->depth--;
    return v;
}

static double term(struct expr_ctx *c)
{
    double v = unary(c);
    for (;;) {
        if (c->failed)
            return 0;
        if (accept(c, '*')) {
            v *= unary(c);
        } else if (accept(c, '/')) {
            double d = unary(c);
            if (d == 0) {
                fail(c, "division by zero", NULL);
                return 0;
            }
            v /= d;
        } else {
            return v;
        }
    }
}

static double expr(struct expr_ctx *c)
{
    if (++c->depth > EXPR_DEPTH_MAX) {
        fail(c, "expression nested too deeply", NULL);
        return 0;
    }
    double v = term(c);
    for (;;) {
        if (c->failed)
            break;
        if (accept(c, '+'))
            v += term(c);
        else if (accept(c, '-'))
            v -= term(c);
        else
            break;
    }
    c->depth--;
    return v;
}

int expr_eval(const char *src, const struct table *const *tables, size_t ntables,
              double *out, char *err, size_t errlen)
{
    struct expr_ctx c = { src, src, tables, ntables, err, errlen, 0, false };
    double v = expr(&c);
    skip(&c);
    if (!c.failed && *c.s)
        fail(&c, "unexpected text after the expression", NULL);
    if (!c.failed && !isfinite(v))
        fail(&c, "the result is not a finite number", NULL);
    if (c.failed)
        return -1;
    *out = v;
    return 0;
}
