/* frontmatter.c: splitting, parsing (libyaml) and checking YAML front matter. */
#include "frontmatter.h"
#include "task_yaml.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

enum fm_type {
    FMT_STRING,                 /* non-empty scalar */
    FMT_ID,                     /* scalar matching id_valid */
    FMT_POSINT,                 /* positive integer scalar */
    FMT_LIST,                   /* sequence of non-empty scalars */
    FMT_LIST_OR_STRING,         /* same, or one scalar taken as a list of one */
    FMT_COMPLETION,             /* mapping {lessons, exercises} */
    FMT_EXERCISE,               /* read by the grading engine from the raw text */
    FMT_BOOL,                   /* true or false */
};

#define K_COURSE (1u << FM_COURSE)
#define K_MODULE (1u << FM_MODULE)
#define K_LESSON (1u << FM_LESSON)
#define K_CASE (1u << FM_CASE)
#define K_STUDY (K_LESSON | K_CASE)

/* The keys each kind of file accepts, and which it requires. */
static const struct fm_key {
    const char *name;
    enum fm_type type;
    unsigned kinds;             /* where the key is allowed */
    unsigned required;          /* where it is required */
} fm_keys[] = {
    {"id", FMT_ID, K_COURSE, K_COURSE},
    {"title", FMT_STRING, K_COURSE | K_MODULE | K_STUDY, K_COURSE | K_MODULE | K_STUDY},
    {"summary", FMT_STRING, K_COURSE | K_MODULE, K_COURSE},
    {"language", FMT_STRING, K_COURSE, K_COURSE},
    {"version", FMT_STRING, K_COURSE, K_COURSE},
    {"authors", FMT_LIST_OR_STRING, K_COURSE, 0},
    {"criteria", FMT_STRING, K_COURSE, 0},
    {"skills", FMT_LIST, K_COURSE, 0},
    {"completion", FMT_COMPLETION, K_COURSE, 0},
    {"objectives", FMT_LIST, K_STUDY, 0},
    {"minutes", FMT_POSINT, K_STUDY, K_STUDY},
    {"sources", FMT_LIST, K_STUDY, 0},
    {"prerequisites", FMT_LIST, K_STUDY | K_COURSE, 0},
    {"trainer", FMT_BOOL, K_STUDY, 0},
    {"pretest", FMT_BOOL, K_STUDY, 0},
    {"attempts", FMT_EXERCISE, K_STUDY, 0},
    {"pass", FMT_EXERCISE, K_STUDY, 0},
    {"policy", FMT_EXERCISE, K_STUDY, 0},
    {"weight", FMT_EXERCISE, K_STUDY, 0},
    {"reveal", FMT_EXERCISE, K_STUDY, 0},
    {"shuffle", FMT_EXERCISE, K_STUDY, 0},
    {"late", FMT_EXERCISE, K_STUDY, 0},
    {"show", FMT_EXERCISE, K_STUDY, 0},
    {"show_when", FMT_EXERCISE, K_STUDY, 0},
    {"due", FMT_EXERCISE, K_STUDY, 0},
};
#define FM_NKEYS (sizeof(fm_keys) / sizeof(fm_keys[0]))

/* State of one parse: where to report and the line offset of the YAML. */
struct fm_ctx {
    const char *path;
    struct diag_list *diags;
    int line0;                  /* file line of YAML line 1 */
    int errors;
};

/* Reports an error at a file line and counts it. */
static void __attribute__((format(printf, 3, 4)))
fm_error(struct fm_ctx *c, int line, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    va_end(ap);
    diag_add(c->diags, DIAG_ERROR, c->path, line, "%s", msg);
    free(msg);
    c->errors++;
}

static int node_line(struct fm_ctx *c, const yaml_node_t *n)
{
    return c->line0 + task_yaml_line(n);
}

/* Returns the end of the line starting at p (the '\n' or end). */
static const char *line_end(const char *p, const char *end)
{
    const char *q = memchr(p, '\n', (size_t)(end - p));
    return q ? q : end;
}

/* True when [p, e) is exactly the marker ("---" or "..."), ignoring a CR and
 * trailing blanks. */
static bool is_marker(const char *p, const char *e, const char *marker)
{
    while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return (size_t)(e - p) == 3 && memcmp(p, marker, 3) == 0;
}

/* Finds the front matter. Returns 1 and sets the YAML range and body start if
 * the file opens with ---, 0 if it does not, -1 if it is not closed. */
static int fm_split(const char *src, size_t len, size_t *yoff, size_t *ylen,
                    size_t *boff, int *bline)
{
    const char *end = src + len, *e = line_end(src, end);
    int line = 1;

    if (!is_marker(src, e, "---"))
        return 0;
    *yoff = e < end ? (size_t)(e + 1 - src) : len;
    for (const char *p = src + *yoff; p < end; p = e + 1) {
        line++;
        e = line_end(p, end);
        if (is_marker(p, e, "---") || is_marker(p, e, "...")) {
            *ylen = (size_t)(p - src) - *yoff;
            *boff = e < end ? (size_t)(e + 1 - src) : len;
            *bline = line + 1;
            return 1;
        }
        if (e >= end)
            break;
    }
    return -1;
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool scalar_nonempty(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE)
        return false;
    for (const char *s = scalar(n); *s; s++)
        if (!isspace((unsigned char)*s))
            return true;
    return false;
}

/* Parses a decimal integer scalar; false unless the whole text is digits. */
static bool scalar_int(const yaml_node_t *n, long *out)
{
    if (n->type != YAML_SCALAR_NODE)
        return false;
    const char *s = scalar(n);
    char *end;
    if (!isdigit((unsigned char)*s) || strlen(s) > 9)
        return false;
    *out = strtol(s, &end, 10);
    return *end == '\0';
}

/* Reads a list of non-empty scalars into *out / *n (and lines if asked).
 * Returns false (and stores nothing) when the node is not such a list. */
static bool read_list(struct fm_ctx *c, yaml_document_t *doc, yaml_node_t *v, bool or_string,
                      char ***out, size_t *n, int **lines)
{
    if (or_string && scalar_nonempty(v)) {
        *out = xmalloc(sizeof(char *));
        (*out)[0] = xstrdup(scalar(v));
        *n = 1;
        if (lines) {
            *lines = xmalloc(sizeof(int));
            (*lines)[0] = node_line(c, v);
        }
        return true;
    }
    if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 &&
        v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return true; /* "key:" with nothing: an empty list */
    if (v->type != YAML_SEQUENCE_NODE)
        return false;
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = yaml_document_get_node(doc, v->data.sequence.items.start[i]);
        if (it == NULL || !scalar_nonempty(it))
            return false;
    }
    *out = xcalloc(cnt, sizeof(char *));
    if (lines)
        *lines = xcalloc(cnt, sizeof(int));
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = yaml_document_get_node(doc, v->data.sequence.items.start[i]);
        (*out)[i] = xstrdup(scalar(it));
        if (lines)
            (*lines)[i] = node_line(c, it);
    }
    *n = cnt;
    return true;
}

/* Reads completion: {lessons: all|N%, exercises: all|N}. */
static void read_completion(struct fm_ctx *c, yaml_document_t *doc, yaml_node_t *v,
                            struct completion_rule *r)
{
    if (v->type != YAML_MAPPING_NODE) {
        fm_error(c, node_line(c, v), "'%s' must be a mapping with 'lessons' and 'exercises'",
                 "completion");
        return;
    }
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *val = yaml_document_get_node(doc, p->value);
        if (k == NULL || val == NULL)
            continue;
        const char *key = k->type == YAML_SCALAR_NODE ? scalar(k) : "";
        long num;
        if (strcmp(key, "lessons") == 0) {
            const char *s = val->type == YAML_SCALAR_NODE ? scalar(val) : "";
            size_t digits = strspn(s, "0123456789");
            if (strcmp(s, "all") == 0) {
                r->lessons_percent = 100;
            } else if (digits >= 1 && digits <= 3 && strcmp(s + digits, "%") == 0 &&
                       (num = strtol(s, NULL, 10)) >= 1 && num <= 100) {
                r->lessons_percent = (int)num;
            } else {
                fm_error(c, node_line(c, val),
                         "'%s' must be 'all' or a percentage from 1%% to 100%%",
                         "completion.lessons");
            }
        } else if (strcmp(key, "exercises") == 0) {
            if (val->type == YAML_SCALAR_NODE && strcmp(scalar(val), "all") == 0)
                r->exercises = CATALOG_ALL;
            else if (scalar_int(val, &num))
                r->exercises = (int)num;
            else
                fm_error(c, node_line(c, val), "'%s' must be 'all' or a number",
                         "completion.exercises");
        } else {
            diag_add(c->diags, DIAG_WARNING, c->path, node_line(c, k),
                     "unknown key 'completion.%s'", key);
        }
    }
}

/* Stores one recognised key's value into fm, reporting a wrong type. */
static void read_key(struct fm_ctx *c, struct front_matter *fm, yaml_document_t *doc,
                     const struct fm_key *key, yaml_node_t *k, yaml_node_t *v)
{
    int line = node_line(c, v);
    long num;

    switch (key->type) {
    case FMT_STRING:
    case FMT_ID: {
        if (!scalar_nonempty(v)) {
            fm_error(c, line, "'%s' must be a non-empty string", key->name);
            return;
        }
        if (key->type == FMT_ID && !id_valid(scalar(v))) {
            fm_error(c, line, "'%s' must be 1 to 64 of [a-z0-9-], not '%s'", key->name,
                     scalar(v));
            return;
        }
        char **dst = strcmp(key->name, "id") == 0         ? &fm->id
                     : strcmp(key->name, "title") == 0    ? &fm->title
                     : strcmp(key->name, "summary") == 0  ? &fm->summary
                     : strcmp(key->name, "language") == 0 ? &fm->language
                     : strcmp(key->name, "criteria") == 0 ? &fm->criteria
                                                          : &fm->version;
        *dst = xstrdup(scalar(v));
        if (key->type == FMT_ID)
            fm->id_line = node_line(c, k);
        return;
    }
    case FMT_POSINT:
        if (!scalar_int(v, &num) || num < 1)
            fm_error(c, line, "'%s' must be a positive integer", key->name);
        else
            fm->minutes = (int)num;
        return;
    case FMT_LIST:
    case FMT_LIST_OR_STRING: {
        bool ok;
        if (strcmp(key->name, "authors") == 0)
            ok = read_list(c, doc, v, true, &fm->authors, &fm->nauthors, NULL);
        else if (strcmp(key->name, "skills") == 0)
            ok = read_list(c, doc, v, false, &fm->skills, &fm->nskills, NULL);
        else if (strcmp(key->name, "objectives") == 0)
            ok = read_list(c, doc, v, false, &fm->objectives, &fm->nobjectives, NULL);
        else if (strcmp(key->name, "sources") == 0)
            ok = read_list(c, doc, v, false, &fm->sources, &fm->nsources, NULL);
        else
            ok = read_list(c, doc, v, false, &fm->prerequisites, &fm->nprerequisites,
                           &fm->prerequisite_lines);
        if (!ok)
            fm_error(c, line, "'%s' must be a list of strings", key->name);
        return;
    }
    case FMT_COMPLETION:
        read_completion(c, doc, v, &fm->completion);
        return;
    case FMT_EXERCISE:
        return;
    case FMT_BOOL: {
        const char *b = v->type == YAML_SCALAR_NODE ? scalar(v) : "";
        bool val = strcmp(b, "true") == 0;
        if (!val && strcmp(b, "false") != 0) {
            fm_error(c, line, "'%s' must be true or false", key->name);
            return;
        }
        if (strcmp(key->name, "trainer") == 0)
            fm->trainer = val;
        else
            fm->pretest = val;
        return;
    }
    }
}

/* Walks the root mapping: dispatches known keys, warns on unknown ones,
 * reports duplicates and missing required keys. */
static void check_root(struct fm_ctx *c, struct front_matter *fm, enum fm_kind kind,
                       yaml_document_t *doc, yaml_node_t *root)
{
    bool seen[FM_NKEYS] = {false};
    unsigned bit = 1u << kind;

    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (k == NULL || v == NULL)
            continue;
        if (k->type != YAML_SCALAR_NODE) {
            fm_error(c, node_line(c, k), "front matter keys must be plain words");
            continue;
        }
        size_t i;
        for (i = 0; i < FM_NKEYS; i++)
            if ((fm_keys[i].kinds & bit) && strcmp(fm_keys[i].name, scalar(k)) == 0)
                break;
        if (i == FM_NKEYS) {
            diag_add(c->diags, DIAG_WARNING, c->path, node_line(c, k), "unknown key '%s'",
                     scalar(k));
            continue;
        }
        if (seen[i]) {
            fm_error(c, node_line(c, k), "duplicate key '%s'", scalar(k));
            continue;
        }
        seen[i] = true;
        read_key(c, fm, doc, &fm_keys[i], k, v);
    }
    for (size_t i = 0; i < FM_NKEYS; i++)
        if ((fm_keys[i].required & bit) && !seen[i])
            fm_error(c, 1, "missing required key '%s'", fm_keys[i].name);
}

int fm_parse(struct front_matter *fm, enum fm_kind kind, const char *src, size_t len,
             const char *path, struct diag_list *diags)
{
    struct fm_ctx c = {.path = path, .diags = diags};
    size_t yoff = 0, ylen = 0, boff = 0;
    int bline = 1;

    memset(fm, 0, sizeof(*fm));
    fm->completion.lessons_percent = 100;
    fm->completion.exercises = CATALOG_ALL;
    fm->body_line = 1;
    fm->raw_line = 2;
    int r = fm_split(src, len, &yoff, &ylen, &boff, &bline);
    if (r <= 0) {
        fm->raw = xstrdup("");
        if (r == 0)
            fm_error(&c, 1, "missing front matter: the file must open with a '---' line");
        else
            fm_error(&c, 1, "front matter is not closed by a '---' line");
        return -1;
    }
    fm->present = true;
    fm->raw = xstrndup(src + yoff, ylen);
    fm->body_off = boff;
    fm->body_line = bline;
    c.line0 = 2;

    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)fm->raw, ylen);
    if (!yaml_parser_load(&parser, &doc)) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s%s%s", parser.problem ? parser.problem : "invalid YAML",
                 parser.context ? " " : "", parser.context ? parser.context : "");
        /* libyaml may point past the end (at the closing ---): clamp the
         * line to the last YAML line. */
        int last = c.line0, line = c.line0 + (int)parser.problem_mark.line;
        for (size_t i = 0; i + 1 < ylen; i++)
            last += fm->raw[i] == '\n';
        fm_error(&c, line > last ? last : line, "YAML syntax error: %s", msg);
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL || root->type != YAML_MAPPING_NODE) {
        if (root == NULL || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
            check_root(&c, fm, kind, &doc, &(yaml_node_t){.type = YAML_MAPPING_NODE});
        else
            fm_error(&c, node_line(&c, root), "front matter must be a mapping of keys");
    } else {
        check_root(&c, fm, kind, &doc, root);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return c.errors ? -1 : 0;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void fm_free(struct front_matter *fm)
{
    free(fm->raw);
    free(fm->id);
    free(fm->title);
    free(fm->summary);
    free(fm->language);
    free(fm->version);
    free_list(fm->authors, fm->nauthors);
    free(fm->criteria);
    free_list(fm->skills, fm->nskills);
    free_list(fm->objectives, fm->nobjectives);
    free_list(fm->sources, fm->nsources);
    free_list(fm->prerequisites, fm->nprerequisites);
    free(fm->prerequisite_lines);
    memset(fm, 0, sizeof(*fm));
}
