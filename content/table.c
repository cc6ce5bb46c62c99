/* table.c: parsing the CSV of ```table NAME blocks and reading cells. */
#include "table.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One parsed CSV record while parsing: a growable array of owned strings. */
struct table_rec {
    char **f;
    size_t n, cap;
};

static void rec_push(struct table_rec *r, char *s)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->f = xrealloc(r->f, r->cap * sizeof(*r->f));
    }
    r->f[r->n++] = s;
}

static void rec_free(struct table_rec *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->f[i]);
    free(r->f);
    memset(r, 0, sizeof(*r));
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Copies s[0..n) without surrounding blanks into a new string. */
static char *trimmed_dup(const char *s, size_t n)
{
    while (n && is_blank(*s))
        s++, n--;
    while (n && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
        n--;
    return xstrndup(s, n);
}

/* Parses one record starting at *pos; advances *pos past its line end and
 * *line by the lines consumed. Returns 1 for a record, 0 for a blank line,
 * -1 on a quoting error (message in err). */
static int parse_record(const char *csv, size_t len, size_t *pos, int *line,
                        struct table_rec *rec, char *err, size_t errlen)
{
    size_t i = *pos;
    size_t ls = i;

    /* Blank line (only spaces, tabs, CR): skipped. */
    while (ls < len && (is_blank(csv[ls]) || csv[ls] == '\r'))
        ls++;
    if (ls >= len || csv[ls] == '\n') {
        *pos = ls < len ? ls + 1 : len;
        (*line)++;
        return 0;
    }
    for (;;) {
        size_t j = i;
        while (j < len && is_blank(csv[j]))
            j++;
        if (j < len && csv[j] == '"') {
            struct sbuf b = {0};
            int start_line = *line;
            j++;
            for (;;) {
                if (j >= len) {
                    sbuf_free(&b);
                    *line = start_line;
                    snprintf(err, errlen, "unterminated quoted field");
                    return -1;
                }
                if (csv[j] == '"') {
                    if (j + 1 < len && csv[j + 1] == '"') {
                        sbuf_addc(&b, '"');
                        j += 2;
                        continue;
                    }
                    j++;
                    break;
                }
                if (csv[j] == '\r' && j + 1 < len && csv[j + 1] == '\n') {
                    j++;
                    continue;
                }
                if (csv[j] == '\n')
                    (*line)++;
                sbuf_addc(&b, csv[j++]);
            }
            while (j < len && (is_blank(csv[j]) || csv[j] == '\r'))
                j++;
            if (j < len && csv[j] != ',' && csv[j] != '\n') {
                sbuf_free(&b);
                snprintf(err, errlen, "unexpected text after a closing quote");
                return -1;
            }
            rec_push(rec, sbuf_take(&b));
            i = j;
        } else {
            size_t k = j;
            while (k < len && csv[k] != ',' && csv[k] != '\n')
                k++;
            rec_push(rec, trimmed_dup(csv + j, k - j));
            i = k;
        }
        if (i < len && csv[i] == ',') {
            i++;
            continue;
        }
        if (i < len) /* newline */
            i++;
        (*line)++;
        *pos = i;
        return 1;
    }
}

struct table *table_parse(const char *name, const char *csv, size_t len,
                          int first_line, char *err, size_t errlen, int *err_line)
{
    struct table *t = xcalloc(1, sizeof(*t));
    size_t pos = 0, rows_cap = 0;
    int line = first_line;
    bool have_header = false;

    t->name = xstrdup(name ? name : "");
    t->line = first_line > 0 ? first_line - 1 : 0;
    while (pos < len) {
        struct table_rec rec = {0};
        int rec_line = line;
        int r = parse_record(csv, len, &pos, &line, &rec, err, errlen);

        if (r < 0) {
            *err_line = line;
            rec_free(&rec);
            table_free(t);
            return NULL;
        }
        if (r == 0)
            continue;
        if (!have_header) {
            for (size_t c = 0; c < rec.n; c++) {
                if (rec.f[c][0] == '\0') {
                    snprintf(err, errlen, "column %zu of the header row is empty", c + 1);
                    *err_line = rec_line;
                    rec_free(&rec);
                    table_free(t);
                    return NULL;
                }
            }
            t->header = rec.f;
            t->ncols = rec.n;
            have_header = true;
            continue;
        }
        if (rec.n > t->ncols) {
            snprintf(err, errlen, "row has %zu fields but the header has %zu",
                     rec.n, t->ncols);
            *err_line = rec_line;
            rec_free(&rec);
            table_free(t);
            return NULL;
        }
        while (rec.n < t->ncols)
            rec_push(&rec, xstrdup(""));
        if (t->nrows == rows_cap) {
            rows_cap = rows_cap ? rows_cap * 2 : 8;
            t->cells = xrealloc(t->cells, rows_cap * sizeof(*t->cells));
        }
        t->cells[t->nrows++] = rec.f;
    }
    if (!have_header) {
        snprintf(err, errlen, "table %s has no header row", t->name);
        *err_line = first_line;
        table_free(t);
        return NULL;
    }
    return t;
}

void table_free(struct table *t)
{
    if (t == NULL)
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++)
            free(t->cells[r][c]);
        free(t->cells[r]);
    }
    free(t->cells);
    if (t->header)
        for (size_t c = 0; c < t->ncols; c++)
            free(t->header[c]);
    free(t->header);
    if (t->labels)
        for (size_t c = 0; c < t->ncols; c++)
            free(t->labels[c]);
    free(t->labels);
    free(t->name);
    free(t);
}

int table_col(const struct table *t, const char *col)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->header[c], col) == 0)
            return (int)c;
    return -1;
}

int table_row(const struct table *t, const char *key)
{
    if (t->ncols == 0)
        return -1;
    for (size_t r = 0; r < t->nrows; r++)
        if (strcmp(t->cells[r][0], key) == 0)
            return (int)r;
    return -1;
}

bool table_number(const struct table *t, size_t row, size_t col, double *out)
{
    if (row >= t->nrows || col >= t->ncols)
        return false;
    const char *s = t->cells[row][col];
    char buf[128];
    size_t n = 0;
    bool digit = false;

    while (is_blank(*s))
        s++;
    for (; *s; s++) {
        if (*s == ',')
            continue; /* thousands separator */
        if (*s == '%') {
            s++;
            break;
        }
        if (is_blank(*s))
            break;
        if (!(isdigit((unsigned char)*s) || *s == '.' || *s == '-' || *s == '+' ||
              *s == 'e' || *s == 'E'))
            return false;
        if (isdigit((unsigned char)*s))
            digit = true;
        if (n + 1 >= sizeof(buf))
            return false;
        buf[n++] = *s;
    }
    while (is_blank(*s))
        s++;
    if (*s != '\0' || !digit)
        return false;
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

int table_labels(struct table *t, const char *s, size_t n, char *err, size_t errlen)
{
    const char *end = s + n;

    t->labels = xcalloc(t->ncols, sizeof(char *));
    while (s < end) {
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *pe = semi ? semi : end;
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        char *name = NULL, *label = NULL;
        if (eq == NULL) {
            char *pair = trimmed_dup(s, (size_t)(pe - s));
            bool blank = pair[0] == '\0';
            free(pair);
            if (blank) {
                s = semi ? semi + 1 : end;
                continue;
            }
            snprintf(err, errlen, "labels: write name = Label; name = Label");
            return -1;
        }
        name = trimmed_dup(s, (size_t)(eq - s));
        label = trimmed_dup(eq + 1, (size_t)(pe - eq - 1));
        int c = table_col(t, name);
        if (c < 0 || label[0] == '\0') {
            snprintf(err, errlen, c < 0 ? "labels: no column '%s'" : "labels: '%s' has no label",
                     name);
            free(name);
            free(label);
            return -1;
        }
        free(t->labels[c]);
        t->labels[c] = label;
        free(name);
        s = semi ? semi + 1 : end;
    }
    return 0;
}

const struct table *table_find(const struct table *const *tables, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tables[i]->name, name) == 0)
            return tables[i];
    return NULL;
}
