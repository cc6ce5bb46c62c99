/* diag.c: collecting and printing problems found in course files. */
#include "diag.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_add(struct diag_list *l, enum diag_severity sev, const char *path,
              int line, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (msg == NULL)
        msg = xstrdup("(out of memory formatting message)");
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    struct diag *d = &l->items[l->count++];
    d->path = xstrdup(path ? path : "");
    d->line = line;
    d->severity = sev;
    d->msg = msg;
    if (sev == DIAG_ERROR)
        l->errors++;
    else
        l->warnings++;
}

/* Orders by path, then line; ties keep insertion order (the index). */
static int diag_cmp(const void *a, const void *b)
{
    const struct diag *const *x = a, *const *y = b;
    int c = strcmp((*x)->path, (*y)->path);

    if (c)
        return c;
    if ((*x)->line != (*y)->line)
        return (*x)->line < (*y)->line ? -1 : 1;
    return *x < *y ? -1 : (*x > *y);
}

void diag_print(struct diag_list *l, FILE *out)
{
    if (l->count == 0)
        return;
    const struct diag **v = xmalloc(l->count * sizeof(*v));

    for (size_t i = 0; i < l->count; i++)
        v[i] = &l->items[i];
    qsort(v, l->count, sizeof(*v), diag_cmp);
    for (size_t i = 0; i < l->count; i++)
        fprintf(out, "%s:%d: %s: %s\n", v[i]->path, v[i]->line,
                v[i]->severity == DIAG_ERROR ? "error" : "warning", v[i]->msg);
    free(v);
}

void diag_list_move(struct diag_list *to, struct diag_list *from)
{
    if (from->count && to->count + from->count > to->cap) {
        to->cap = to->count + from->count;
        to->items = xrealloc(to->items, to->cap * sizeof(*to->items));
    }
    if (from->count)
        memcpy(to->items + to->count, from->items, from->count * sizeof(*from->items));
    to->count += from->count;
    to->errors += from->errors;
    to->warnings += from->warnings;
    free(from->items);
    memset(from, 0, sizeof(*from));
}

void diag_list_clear(struct diag_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].path);
        free(l->items[i].msg);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}
