/* answer.c: parsing answer documents ("task-id: answer" lines). */
#include "answer.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_ID_MAX 80
#define ANSWER_ENTRIES_MAX 1000

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

/* Trims spaces and tabs from both ends of the owned string in place. */
static void trim(char *s)
{
    size_t n = strlen(s), a = 0;
    while (a < n && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n'))
        a++;
    while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
        n--;
    memmove(s, s + a, n - a);
    s[n - a] = '\0';
}

/* The reader's form of an English format: through msg when there is one. */
#define TR(fmt) (msg ? msg(lang, fmt) : (fmt))

int answer_parse(const char *text, size_t len, struct answer_doc *doc, char *err, size_t errlen)
{
    return answer_parse_lang(text, len, doc, NULL, NULL, err, errlen);
}

int answer_parse_lang(const char *text, size_t len, struct answer_doc *doc, answer_msg_fn *msg,
                      const char *lang, char *err, size_t errlen)
{
    struct sbuf val = {0};
    size_t pos = 0, cap = 0, blanks = 0;
    int line = 0;

    memset(doc, 0, sizeof(*doc));
    if (!utf8_valid(text, len) || memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s", TR("the answer document is not valid UTF-8 text"));
        return -1;
    }
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        if (n && s[n - 1] == '\r')
            n--;
        if (blank(s, n)) {
            blanks++;
            continue;
        }
        bool cont = (n >= 2 && s[0] == ' ' && s[1] == ' ') || s[0] == '\t';
        if (cont) {
            if (doc->n == 0) {
                snprintf(err, errlen, TR("line %d: a continuation line (starting with spaces) "
                                        "must follow a \"task-id: answer\" line"), line);
                goto fail;
            }
            size_t skip = s[0] == '\t' ? 1 : 2;
            for (; blanks; blanks--)
                sbuf_addc(&val, '\n');
            sbuf_addc(&val, '\n');
            sbuf_add(&val, s + skip, n - skip);
            continue;
        }
        blanks = 0;
        if (s[0] == '#')
            continue;
        size_t k = 0;
        while (k < n && id_char(s[k]))
            k++;
        if (k == 0 || k > ANSWER_ID_MAX || k >= n || s[k] != ':') {
            snprintf(err, errlen, TR("line %d: expected \"task-id: answer\" (ids are lower-case "
                                    "letters, digits, - and .)"), line);
            goto fail;
        }
        if (doc->n == ANSWER_ENTRIES_MAX) {
            snprintf(err, errlen, TR("line %d: more than %d answers"), line, ANSWER_ENTRIES_MAX);
            goto fail;
        }
        char *id = xstrndup(s, k);
        if (answer_get(doc, id)) {
            snprintf(err, errlen, TR("line %d: a second answer for %s"), line, id);
            free(id);
            goto fail;
        }
        if (doc->n) {
            doc->items[doc->n - 1].value = sbuf_take(&val);
            trim(doc->items[doc->n - 1].value);
        }
        if (doc->n == cap) {
            cap = cap ? cap * 2 : 8;
            doc->items = xrealloc(doc->items, cap * sizeof(*doc->items));
        }
        doc->items[doc->n++] = (struct answer_entry){ id, NULL, line };
        sbuf_add(&val, s + k + 1, n - k - 1);
    }
    if (doc->n) {
        doc->items[doc->n - 1].value = sbuf_take(&val);
        trim(doc->items[doc->n - 1].value);
    }
    sbuf_free(&val);
    return 0;
fail:
    sbuf_free(&val);
    answer_doc_free(doc);
    return -1;
}

const struct answer_entry *answer_get(const struct answer_doc *doc, const char *id)
{
    for (size_t i = 0; i < doc->n; i++)
        if (strcmp(doc->items[i].id, id) == 0)
            return &doc->items[i];
    return NULL;
}

void answer_doc_free(struct answer_doc *doc)
{
    for (size_t i = 0; i < doc->n; i++) {
        free(doc->items[i].id);
        free(doc->items[i].value);
    }
    free(doc->items);
    doc->items = NULL;
    doc->n = 0;
}

void answer_append(struct sbuf *b, const char *id, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return;
    sbuf_printf(b, "%s: ", id);
    for (const char *p = value; *p; p++) {
        sbuf_addc(b, *p);
        if (*p == '\n')
            sbuf_adds(b, "  ");
    }
    sbuf_addc(b, '\n');
}

bool answer_classify_read(const char *s, size_t nitems,
                          int (*cat)(const void *arg, const char *key, size_t n), const void *arg,
                          int *placed)
{
    bool ok = true;

    for (size_t i = 0; i < nitems; i++)
        placed[i] = -1;
    while (*s && ok) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t klen = strcspn(s, "= \t");
        int c = cat(arg, s, klen);
        ok = c >= 0 && s[klen] == '=';
        s += klen + (ok ? 1 : 0);
        while (ok) {
            char *end;
            long v = strtol(s, &end, 10);
            ok = end != s && v >= 1 && (size_t)v <= nitems && placed[v - 1] < 0;
            if (ok)
                placed[v - 1] = c;
            s = end;
            if (*s != ',')
                break;
            s++;
        }
        ok = ok && (*s == '\0' || *s == ' ' || *s == '\t');
    }
    return ok;
}
