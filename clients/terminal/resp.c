/* resp.c: the client side of CTP/1 responses: status lines, listings and
 * key-value bodies. Pure: bytes in, values out. */
#include "campus.h"

#include <stdlib.h>
#include <string.h>

void resp_free(struct resp *r)
{
    free(r->text);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* The status line is "DDD text" with an optional " {N}" at the end; a bare
 * "DDD" is accepted too. */
int resp_status_parse(const char *line, size_t len, int *code, char **text,
                      long long *body_len)
{
    if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
        line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' '))
        return -1;
    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    *body_len = -1;
    const char *t = len > 3 ? line + 4 : line + 3;
    size_t tlen = len > 3 ? len - 4 : 0;

    /* A trailing " {digits}" announces the body. */
    if (tlen >= 3 && t[tlen - 1] == '}') {
        size_t open = tlen - 1;
        while (open > 0 && t[open - 1] >= '0' && t[open - 1] <= '9')
            open--;
        if (open > 0 && t[open - 1] == '{' && open < tlen - 1 && tlen - 1 - open <= 12) {
            long long n = 0;
            for (size_t i = open; i < tlen - 1; i++)
                n = n * 10 + (t[i] - '0');
            *body_len = n;
            tlen = open - 1;
            if (tlen > 0 && t[tlen - 1] == ' ')
                tlen--;
        }
    }
    *text = xstrndup(t, tlen);
    return 0;
}

void listing_parse(const char *body, size_t len, struct listing *t)
{
    memset(t, 0, sizeof(*t));
    size_t cap = 0;
    const char *p = body, *end = body + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le > p) {
            if (t->nrows == cap) {
                cap = cap ? cap * 2 : 16;
                t->cells = xrealloc(t->cells, cap * sizeof(*t->cells));
                t->ncells = xrealloc(t->ncells, cap * sizeof(*t->ncells));
            }
            size_t n = 1;
            for (const char *q = p; q < le; q++)
                n += *q == '\t';
            char **row = xcalloc(n, sizeof(*row));
            size_t k = 0;
            const char *c = p;
            for (const char *q = p; q <= le; q++) {
                if (q == le || *q == '\t') {
                    size_t cl = (size_t)(q - c);
                    if (cl > 0 && c[cl - 1] == '\r' && q == le)
                        cl--;
                    row[k++] = xstrndup(c, cl);
                    c = q + 1;
                }
            }
            t->cells[t->nrows] = row;
            t->ncells[t->nrows] = n;
            t->nrows++;
        }
        p = nl ? nl + 1 : end;
    }
}

void listing_free(struct listing *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncells[r]; c++)
            free(t->cells[r][c]);
        free(t->cells[r]);
    }
    free(t->cells);
    free(t->ncells);
    memset(t, 0, sizeof(*t));
}

int listing_col(const struct listing *t, const char *name)
{
    if (t->nrows == 0)
        return -1;
    for (size_t c = 0; c < t->ncells[0]; c++)
        if (strcmp(t->cells[0][c], name) == 0)
            return (int)c;
    return -1;
}

const char *listing_cell(const struct listing *t, size_t row, int col)
{
    if (row >= t->nrows || col < 0 || (size_t)col >= t->ncells[row])
        return "";
    return t->cells[row][col];
}

char *resp_kv(const struct resp *r, const char *key)
{
    size_t klen = strlen(key);
    const char *p = r->body, *end = r->body ? r->body + r->body_len : NULL;

    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '\t')
            return xstrndup(p + klen + 1, (size_t)(le - p - (ptrdiff_t)klen - 1));
        p = nl ? nl + 1 : end;
    }
    return NULL;
}

char *resp_status_field(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t n = strcspn(p + kl + 1, " ");
            if (n == 1 && p[kl + 1] == '-')
                return NULL;
            return xstrndup(p + kl + 1, n);
        }
    }
    return NULL;
}
