/* answer-check.c: what an answer must look like, task by task, taken from
 * the exercise's JSON view (its question types, options, categories and
 * items), so that a malformed answer is caught as it is typed and asked
 * again, not found by the server after the whole exercise. Pure: no
 * sockets, no terminal.
 *
 * The checks accept everything the server's grader accepts: a check that
 * is stricter than the grader would refuse a valid answer, so where in
 * doubt (short answers, actor names, matching pairs) only emptiness is
 * checked here and the server has the last word. */
#include "campus.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The letter for option p (0-based), as the view writes it. */
static char letter(size_t p)
{
    return (char)('a' + p);
}

static size_t array_size(json_t *o, const char *key)
{
    json_t *a = json_object_get(o, key);
    return json_is_array(a) ? json_array_size(a) : 0;
}

/* One GIFT question (of a gift task or drawn from a pool) as a rule. */
static void gift_rule(json_t *q, struct check_rule *r)
{
    const char *kind = json_string_value(json_object_get(q, "question"));

    kind = kind ? kind : "";
    r->noptions = array_size(q, "options");
    if (strcmp(kind, "multiple choice") == 0 && r->noptions > 0 && r->noptions <= 26)
        r->kind = CHECK_CHOICE;
    else if (strcmp(kind, "multiple answers") == 0 && r->noptions > 0 && r->noptions <= 26)
        r->kind = CHECK_LETTERS;
    else if (strcmp(kind, "true/false") == 0)
        r->kind = CHECK_TRUEFALSE;
    else if (strcmp(kind, "numerical") == 0)
        r->kind = CHECK_NUMBER;
    else if (strcmp(kind, "essay") == 0)
        r->kind = CHECK_FREE;
    else
        r->kind = CHECK_TEXT;     /* short answer, matching: the server decides */
}

static void add_rule(struct check_rules *rs, const char *id, json_t *o, bool gift)
{
    if (id == NULL)
        return;
    rs->rules = xrealloc(rs->rules, (rs->n + 1) * sizeof(*rs->rules));
    struct check_rule *r = &rs->rules[rs->n++];
    memset(r, 0, sizeof(*r));
    r->id = xstrdup(id);
    if (gift) {
        gift_rule(o, r);
        return;
    }
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *howto = json_string_value(json_object_get(o, "answer"));
    const char *unit = json_string_value(json_object_get(o, "unit"));
    type = type ? type : "";
    r->nitems = array_size(o, "items");
    if (strcmp(type, "order") == 0 && r->nitems > 0) {
        r->kind = CHECK_ORDER;
    } else if (strcmp(type, "classify") == 0 && r->nitems > 0) {
        json_t *cats = json_object_get(o, "categories"), *c;
        size_t i;
        r->kind = CHECK_CLASSIFY;
        json_array_foreach(cats, i, c) {
            const char *key = json_string_value(json_object_get(c, "key"));
            if (key == NULL)
                continue;
            r->keys = xrealloc(r->keys, (r->nkeys + 1) * sizeof(*r->keys));
            r->keys[r->nkeys++] = xstrdup(key);
        }
        if (r->nkeys == 0)
            r->kind = CHECK_TEXT;
    } else if (strcmp(type, "numeric") == 0 ||
               (strcmp(type, "network") == 0 && howto && strcmp(howto, "a number") == 0)) {
        r->kind = CHECK_NUMBER;
        r->unit = unit && unit[0] ? xstrdup(unit) : NULL;
    } else if (strcmp(type, "rubric") == 0 || strcmp(type, "review") == 0) {
        r->kind = CHECK_FREE;
    } else {
        r->kind = CHECK_TEXT;     /* network names, and kinds this client does not know */
    }
}

void check_rules_parse(const char *json, size_t len, struct check_rules *rs)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr), *t;
    size_t i;

    memset(rs, 0, sizeof(*rs));
    if (root == NULL)
        return;
    json_array_foreach(json_object_get(root, "tasks"), i, t) {
        const char *type = json_string_value(json_object_get(t, "type"));
        const char *id = json_string_value(json_object_get(t, "id"));
        if (type && strcmp(type, "pool") == 0) {
            json_t *q;
            size_t k;
            json_array_foreach(json_object_get(t, "questions"), k, q)
                add_rule(rs, json_string_value(json_object_get(q, "id")), q, true);
        } else if (type && strcmp(type, "gift") == 0) {
            add_rule(rs, id, t, true);
        } else if (type && strcmp(type, "text") != 0) {
            add_rule(rs, id, t, false);
        }
    }
    json_decref(root);
}

void check_rules_free(struct check_rules *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->rules[i].id);
        free(rs->rules[i].unit);
        for (size_t k = 0; k < rs->rules[i].nkeys; k++)
            free(rs->rules[i].keys[k]);
        free(rs->rules[i].keys);
    }
    free(rs->rules);
    memset(rs, 0, sizeof(*rs));
}

const struct check_rule *check_rule_find(const struct check_rules *rs, const char *id)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->rules[i].id, id) == 0)
            return &rs->rules[i];
    return NULL;
}

/* A copy of s without the spaces around it. */
static char *trimmed(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

/* One number as the grader reads it: sign, digits, a point or a comma,
 * an exponent; the unit, when the task has one, may follow. */
static bool is_number(const char *s, const char *unit)
{
    char *p = trimmed(s);
    size_t n = strlen(p), k = unit ? strlen(unit) : 0;
    if (k && n >= k && strcmp(p + n - k, unit) == 0) {
        size_t m = n - k;
        p[m] = '\0';
        while (m && isspace((unsigned char)p[m - 1]))
            p[--m] = '\0';
    }
    bool ok = p[0] != '\0';
    for (char *c = p; *c && ok; c++) {
        if (*c == ',')
            *c = '.';
        ok = isdigit((unsigned char)*c) || strchr("+-.eE", *c);
    }
    char *end = p;
    double v = ok ? strtod(p, &end) : 0;
    ok = ok && end != p && *end == '\0' && isfinite(v);
    free(p);
    return ok;
}

/* The option letter of a one-character word, or -1. */
static int letter_of(const char *w, size_t len, size_t n)
{
    if (len != 1)
        return -1;
    int c = tolower((unsigned char)w[0]);
    return c >= 'a' && (size_t)(c - 'a') < n ? c - 'a' : -1;
}


static int rule_key(const void *arg, const char *key, size_t n)
{
    const struct check_rule *r = arg;

    for (size_t i = 0; i < r->nkeys; i++)
        if (strlen(r->keys[i]) == n && strncasecmp(r->keys[i], key, n) == 0)
            return (int)i;
    return -1;
}

/* "s=1,3 w=2": known keys, item numbers in range, each item at most once. */
static bool is_classified(const char *s, const struct check_rule *r)
{
    int *placed = xcalloc(r->nitems + 1, sizeof(int));
    bool ok = answer_classify_read(s, r->nitems, rule_key, r, placed);

    free(placed);
    return ok;
}

int check_answer(const struct check_rule *r, const char *answer, char *why, size_t whylen)
{
    char *a = trimmed(answer);
    bool ok = a[0] != '\0';
    enum check_kind kind = r ? r->kind : CHECK_TEXT;

    if (!ok) {
        snprintf(why, whylen, "%s", kind == CHECK_FREE
                 ? _("an answer is needed: free text, at least a word")
                 : _("an answer is needed: it cannot be empty"));
        free(a);
        return -1;
    }
    switch (kind) {
    case CHECK_NUMBER:
        if (!(ok = is_number(a, r->unit)))
        {
            if (r->unit)
                snprintf(why, whylen, _("expected a number, such as 12 or 4.5 (%s may follow)"),
                         r->unit);
            else
                snprintf(why, whylen, "%s", _("expected a number, such as 12 or 4.5"));
        }
        break;
    case CHECK_CHOICE:
        if (!(ok = letter_of(a, strlen(a), r->noptions) >= 0))
            snprintf(why, whylen, _("expected one of the letters a to %c"), letter(r->noptions - 1));
        break;
    case CHECK_LETTERS:
        for (const char *s = a; *s && ok;) {
            size_t k = strcspn(s, ", \t");
            ok = k == 0 || letter_of(s, k, r->noptions) >= 0;
            s += k;
            s += strspn(s, ", \t");
        }
        if (!ok)
            snprintf(why, whylen, _("expected letters from a to %c separated by commas, e.g. a,%c"),
                     letter(r->noptions - 1), letter(r->noptions - 1));
        break;
    case CHECK_TRUEFALSE:
        ok = !strcasecmp(a, "true") || !strcasecmp(a, "t") || !strcasecmp(a, "false") ||
             !strcasecmp(a, "f");
        if (!ok)
            snprintf(why, whylen, "%s", _("expected true or false"));
        break;
    case CHECK_ORDER:
        if (!(ok = perm_parse(a, r->nitems, NULL)))
            snprintf(why, whylen, _("expected every item number from 1 to %zu once, in your order, "
                     "e.g. %s"), r->nitems, r->nitems >= 3 ? "3 1 2" : r->nitems == 2 ? "2 1" : "1");
        break;
    case CHECK_CLASSIFY:
        if (!(ok = is_classified(a, r))) {
            struct sbuf keys = {0};
            for (size_t i = 0; i < r->nkeys; i++)
                sbuf_printf(&keys, "%s%s", i ? ", " : "", r->keys[i]);
            char *eg = r->nkeys > 1 && r->nitems > 2
                           ? xasprintf("%s=1,3 %s=2", r->keys[0], r->keys[1])
                       : r->nkeys > 1 && r->nitems == 2
                           ? xasprintf("%s=1 %s=2", r->keys[0], r->keys[1])
                           : xasprintf("%s=1", r->keys[0]);
            snprintf(why, whylen, _("expected a category key (%s), =, and its item numbers (1 to %zu, "
                     "each at most once), e.g. %s"), keys.data, r->nitems, eg);
            free(eg);
            sbuf_free(&keys);
        }
        break;
    case CHECK_TEXT:
    case CHECK_FREE:
        break;
    }
    free(a);
    return ok ? 0 : -1;
}
