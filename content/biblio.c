/* biblio.c: a course's references.yaml, [@key] citations in lessons, and
 * courses/programmes.yaml (suggested routes through the courses). */
#include "loader.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char *scalar_of(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

/* Parses a whole YAML file into doc; reports a syntax error and returns -1. */
static int yaml_load(struct loader *l, const char *rel, const char *src, size_t len,
                     yaml_document_t *doc)
{
    yaml_parser_t p;

    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)src, len);
    if (!yaml_parser_load(&p, doc)) {
        diag_add(l->diags, DIAG_ERROR, rel, (int)p.problem_mark.line + 1, "YAML: %s",
                 p.problem ? p.problem : "syntax error");
        yaml_parser_delete(&p);
        return -1;
    }
    yaml_parser_delete(&p);
    return 0;
}

/* A YAML file that is a list of mappings with named fields, as
 * references.yaml and programmes.yaml are. */
#define YAML_LIST_FIELDS_MAX 8
struct yaml_list {
    const char *kind;            /* "reference": in "unknown reference field 'x'" */
    const char *list_msg;        /* the error when the file is not a list */
    const char *entry_msg;       /* ... and when an entry is not a mapping */
    const char *const *fields;
    int nfields;                 /* at most YAML_LIST_FIELDS_MAX */
    /* When set: whether a field's value may be kept (it reports why not);
     * a later value of the same field replaces a kept one. */
    bool (*value_ok)(struct loader *l, const char *rel, const char *field, yaml_node_t *val);
    /* Each mapping, with the value node of each field (NULL: absent). */
    void (*entry)(struct loader *l, const char *rel, yaml_document_t *doc, yaml_node_t *e,
                  yaml_node_t *const *v, void *arg);
};

/* Loads src as spec says, reporting a syntax error, a file or an entry of
 * another shape and an unknown field; calls spec->entry for every entry. */
static void yaml_list_load(struct loader *l, const char *rel, const char *src, size_t len,
                           const struct yaml_list *spec, void *arg)
{
    yaml_document_t doc;

    if (yaml_load(l, rel, src, len, &doc) < 0)
        return;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL || root->type != YAML_SEQUENCE_NODE) {
        diag_add(l->diags, DIAG_ERROR, rel, root ? line_of(root) : 1, "%s", spec->list_msg);
        yaml_document_delete(&doc);
        return;
    }
    for (yaml_node_item_t *it = root->data.sequence.items.start;
         it < root->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(&doc, *it);
        if (e == NULL || e->type != YAML_MAPPING_NODE) {
            diag_add(l->diags, DIAG_ERROR, rel, e ? line_of(e) : 1, "%s", spec->entry_msg);
            continue;
        }
        yaml_node_t *v[YAML_LIST_FIELDS_MAX] = {0};
        for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(&doc, p->key);
            yaml_node_t *val = yaml_document_get_node(&doc, p->value);
            const char *name = scalar_of(k);
            int f = 0;
            while (name && f < spec->nfields && strcmp(name, spec->fields[f]) != 0)
                f++;
            if (name == NULL || f == spec->nfields) {
                diag_add(l->diags, DIAG_WARNING, rel, k ? line_of(k) : line_of(e),
                         "unknown %s field '%s'", spec->kind, name ? name : "?");
                continue;
            }
            if (spec->value_ok == NULL || spec->value_ok(l, rel, name, val))
                v[f] = val;
        }
        spec->entry(l, rel, &doc, e, v, arg);
    }
    yaml_document_delete(&doc);
}

/* True when s is a citation key: 1 to 64 of [A-Za-z0-9_:-]. */
static bool key_valid(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

static const char *const reference_fields[] = {"key", "title", "author", "year", "publisher",
                                               "url", "trace"};

static bool reference_value_ok(struct loader *l, const char *rel, const char *field,
                               yaml_node_t *val)
{
    if (scalar_of(val) == NULL || *scalar_of(val) == '\0') {
        diag_add(l->diags, DIAG_ERROR, rel, line_of(val),
                 "reference field '%s' must be a non-empty string", field);
        return false;
    }
    return true;
}

static void reference_entry(struct loader *l, const char *rel, yaml_document_t *doc,
                            yaml_node_t *e, yaml_node_t *const *nodes, void *arg)
{
    struct course *c = arg;
    const char *v[7];

    for (size_t f = 0; f < 7; f++)
        v[f] = scalar_of(nodes[f]);
    bool ok = true;
    for (size_t f = 0; f < 5; f++)
        if (v[f] == NULL) {
            diag_add(l->diags, DIAG_ERROR, rel, line_of(e), "reference lacks '%s'",
                     reference_fields[f]);
            ok = false;
        }
    if (!ok)
        return;
    if (!key_valid(v[0], strlen(v[0]))) {
        diag_add(l->diags, DIAG_ERROR, rel, line_of(e),
                 "reference key '%s': use 1 to 64 of [A-Za-z0-9_:-]", v[0]);
        return;
    }
    const struct reference *dup = biblio_find(c, v[0], strlen(v[0]));
    if (dup) {
        diag_add(l->diags, DIAG_ERROR, rel, line_of(e),
                 "duplicate reference key '%s' (first at line %d)", v[0], dup->line);
        return;
    }
    c->references = xrealloc(c->references, (c->nreferences + 1) * sizeof(*c->references));
    c->references[c->nreferences++] = (struct reference){
        .key = xstrdup(v[0]), .title = xstrdup(v[1]), .author = xstrdup(v[2]),
        .year = xstrdup(v[3]), .publisher = xstrdup(v[4]), .url = xstrdup(v[5] ? v[5] : ""),
        .trace = xstrdup(v[6] ? v[6] : ""), .line = line_of(e)};
}

void biblio_load(struct loader *l, struct course *c, const char *rel, const char *src, size_t len)
{
    static const struct yaml_list spec = {
        .kind = "reference",
        .list_msg = "references.yaml must be a list of entries {key, title, author, year, publisher}",
        .entry_msg = "a reference must be a mapping {key, title, author, year, publisher}",
        .fields = reference_fields, .nfields = 7,
        .value_ok = reference_value_ok, .entry = reference_entry,
    };
    yaml_list_load(l, rel, src, len, &spec, c);
}

const struct reference *biblio_find(const struct course *c, const char *key, size_t n)
{
    for (size_t i = 0; i < c->nreferences; i++)
        if (strlen(c->references[i].key) == n && strncmp(c->references[i].key, key, n) == 0)
            return &c->references[i];
    return NULL;
}

/* Appends s with Markdown's ASCII punctuation escaped, so that a title
 * holding * or _ stays text. */
static void add_escaped(struct sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\`*_{}[]()#+-.!<>|~&", *s))
            sbuf_addc(b, '\\');
        sbuf_addc(b, *s);
    }
}

void biblio_format(struct sbuf *b, const struct reference *r)
{
    add_escaped(b, r->author);
    sbuf_adds(b, " (");
    add_escaped(b, r->year);
    sbuf_adds(b, "). *");
    add_escaped(b, r->title);
    sbuf_adds(b, "*. ");
    add_escaped(b, r->publisher);
    sbuf_addc(b, '.');
    if (r->url[0] && (strncmp(r->url, "https://", 8) == 0 || strncmp(r->url, "http://", 7) == 0) &&
        !strpbrk(r->url, " <>")) {
        sbuf_adds(b, " <");
        sbuf_adds(b, r->url);
        sbuf_addc(b, '>');
    }
}

/* A fence line: up to three spaces, then three or more ` or ~. */
static bool fence_line(const char *p, size_t n, char *ch, size_t *run)
{
    size_t i = 0;

    while (i < n && i < 3 && p[i] == ' ')
        i++;
    if (i >= n || (p[i] != '`' && p[i] != '~'))
        return false;
    size_t s = i;
    while (i < n && p[i] == p[s])
        i++;
    if (i - s < 3)
        return false;
    *ch = p[s];
    *run = i - s;
    return true;
}

static void note_citation(struct lesson *les, const char *key, size_t n)
{
    for (size_t i = 0; i < les->ncitations; i++)
        if (strlen(les->citations[i]) == n && strncmp(les->citations[i], key, n) == 0)
            return;
    les->citations = xrealloc(les->citations, (les->ncitations + 1) * sizeof(char *));
    les->citations[les->ncitations++] = xstrndup(key, n);
}

/* Tries a citation at p ("[@k1; @k2]"); returns its length, or 0. */
static size_t citation_at(const char *p, const char *end)
{
    const char *q = p + 1;

    if (end - p < 4 || p[0] != '[' || p[1] != '@')
        return 0;
    for (;;) {
        while (q < end && *q == ' ')
            q++;
        if (q >= end || *q != '@')
            return 0;
        const char *k = ++q;
        while (q < end && key_valid(q, 1))
            q++;
        if (q == k)
            return 0;
        while (q < end && *q == ' ')
            q++;
        if (q < end && *q == ']')
            return (size_t)(q + 1 - p);
        if (q >= end || *q != ';')
            return 0;
        q++;
    }
}

char *biblio_cite(struct loader *l, struct lesson *les, struct course *c, const char *src,
                  size_t len, size_t body_off, size_t *outlen)
{
    struct sbuf b = {0};
    const char *p = src + body_off, *end = src + len;
    int line = 1;
    char fch = 0;
    size_t frun = 0;
    bool in_fence = false, in_trainer = false;

    /* Most lessons cite nothing: their text is parsed as it is. (memchr
     * for the '[' and a look at the next byte: glibc's memmem takes a
     * slower road for a needle this short.) */
    bool cites = false;
    for (const char *q = p; body_off <= len && q < end && !cites;) {
        const char *b = memchr(q, '[', (size_t)(end - q));
        if (b == NULL)
            break;
        cites = b + 1 < end && b[1] == '@';
        q = b + 1;
    }
    if (!cites) {
        *outlen = len;
        return NULL;
    }
    for (const char *q = src; q < p; q++)
        line += *q == '\n';
    sbuf_add(&b, src, body_off);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        char ch;
        size_t run;
        bool fence = fence_line(p, ll, &ch, &run);
        if (fence && !in_fence) {
            in_fence = true;
            fch = ch;
            frun = run;
            const char *info = p;
            while (*info == ' ' || *info == ch)
                info++;
            in_trainer = strncmp(info, "trainer", 7) == 0;
        } else if (fence && ch == fch && run >= frun) {
            in_fence = in_trainer = false;
        }
        /* Citations count outside fences and inside trainer blocks, whose
         * content is Markdown; never on a fence line or in code. */
        bool cite_here = !fence && (!in_fence || in_trainer);
        for (size_t i = 0; i < ll;) {
            /* Up to the next '[' in one piece: only there may a citation start. */
            const char *br = cite_here ? memchr(p + i, '[', ll - i) : NULL;
            size_t run = br ? (size_t)(br - (p + i)) : ll - i;
            if (run) {
                sbuf_add(&b, p + i, run);
                i += run;
                continue;
            }
            size_t cl = citation_at(p + i, p + ll);
            if (cl == 0) {
                sbuf_addc(&b, p[i]);
                i++;
                continue;
            }
            sbuf_addc(&b, '(');
            const char *q = p + i + 1;
            bool first = true;
            while (q < p + i + cl - 1) {
                while (*q == ' ' || *q == ';')
                    q++;
                if (*q != '@')
                    break;
                const char *k = ++q;
                while (key_valid(q, 1))
                    q++;
                struct reference *r = NULL;
                for (size_t j = 0; j < c->nreferences && r == NULL; j++)
                    if (strlen(c->references[j].key) == (size_t)(q - k) &&
                        strncmp(c->references[j].key, k, (size_t)(q - k)) == 0)
                        r = &c->references[j];
                if (!first)
                    sbuf_adds(&b, "; ");
                first = false;
                if (r == NULL) {
                    diag_add(l->diags, DIAG_ERROR, les->path, line,
                             "citation '@%.*s' has no entry in %s/references.yaml", (int)(q - k),
                             k, c->id);
                    sbuf_add(&b, k, (size_t)(q - k));
                } else {
                    note_citation(les, k, (size_t)(q - k));
                    add_escaped(&b, r->author);
                    sbuf_addc(&b, ' ');
                    add_escaped(&b, r->year);
                }
            }
            sbuf_addc(&b, ')');
            i += cl;
        }
        line++;
        p += ll;
    }
    if (les->ncitations) {
        sbuf_adds(&b, "\n\n## References\n\n");
        for (size_t i = 0; i < les->ncitations; i++) {
            const struct reference *r = biblio_find(c, les->citations[i], strlen(les->citations[i]));
            sbuf_adds(&b, "- ");
            biblio_format(&b, r);
            sbuf_addc(&b, '\n');
        }
    }
    *outlen = b.len;
    if (b.data == NULL)
        return xstrdup("");
    return sbuf_take(&b);
}

void biblio_mark_cited(struct course *c, const struct lesson *les)
{
    for (size_t i = 0; i < les->ncitations; i++)
        for (size_t j = 0; j < c->nreferences; j++)
            if (strcmp(c->references[j].key, les->citations[i]) == 0)
                c->references[j].cited = true;
}

void biblio_check(struct loader *l)
{
    for (size_t i = 0; i < l->cat->ncourses; i++) {
        struct course *c = l->cat->courses[i];
        char *rel = xasprintf("%s/references.yaml", c->id);
        for (size_t j = 0; j < c->nreferences; j++)
            if (!c->references[j].cited)
                diag_add(l->diags, DIAG_WARNING, rel, c->references[j].line,
                         "reference '%s' is cited by no lesson", c->references[j].key);
        free(rel);
    }
}

static void programme_entry(struct loader *l, const char *rel, yaml_document_t *doc,
                            yaml_node_t *e, yaml_node_t *const *v, void *arg)
{
    struct catalog *cat = l->cat;
    const char *id = scalar_of(v[0]), *title = scalar_of(v[1]), *summary = scalar_of(v[2]);
    yaml_node_t *courses = v[3];

    if (id == NULL || !id_valid(id) || title == NULL || *title == '\0' || courses == NULL ||
        courses->type != YAML_SEQUENCE_NODE) {
        diag_add(l->diags, DIAG_ERROR, rel, line_of(e),
                 "a programme needs id (1 to 64 of [a-z0-9-]), title and a list of courses");
        return;
    }
    bool dup = false;
    for (size_t j = 0; j < cat->nprogrammes; j++)
        dup |= strcmp(cat->programmes[j].id, id) == 0;
    if (dup) {
        diag_add(l->diags, DIAG_ERROR, rel, line_of(e), "duplicate programme id '%s'", id);
        return;
    }
    struct programme pr = {.id = xstrdup(id), .title = xstrdup(title),
                           .summary = xstrdup(summary ? summary : "")};
    for (yaml_node_item_t *ci = courses->data.sequence.items.start;
         ci < courses->data.sequence.items.top; ci++) {
        yaml_node_t *cn = yaml_document_get_node(doc, *ci);
        const char *cid = scalar_of(cn);
        if (cid == NULL || catalog_course(cat, cid) == NULL) {
            diag_add(l->diags, DIAG_ERROR, rel, cn ? line_of(cn) : line_of(e),
                     "programme '%s' names unknown course '%s'", id, cid ? cid : "?");
            continue;
        }
        pr.courses = xrealloc(pr.courses, (pr.ncourses + 1) * sizeof(char *));
        pr.courses[pr.ncourses++] = xstrdup(cid);
    }
    cat->programmes = xrealloc(cat->programmes, (cat->nprogrammes + 1) * sizeof(*cat->programmes));
    cat->programmes[cat->nprogrammes++] = pr;
}

void programmes_load(struct loader *l, const char *rel, const char *src, size_t len)
{
    static const char *const fields[] = {"id", "title", "summary", "courses"};
    static const struct yaml_list spec = {
        .kind = "programme",
        .list_msg = "programmes.yaml must be a list of {id, title, summary, courses}",
        .entry_msg = "a programme must be a mapping {id, title, summary, courses}",
        .fields = fields, .nfields = 4, .entry = programme_entry,
    };
    yaml_list_load(l, rel, src, len, &spec, NULL);
}

void biblio_free(struct course *c)
{
    for (size_t i = 0; i < c->nreferences; i++) {
        struct reference *r = &c->references[i];
        free(r->key);
        free(r->title);
        free(r->author);
        free(r->year);
        free(r->publisher);
        free(r->url);
        free(r->trace);
    }
    free(c->references);
}

void programmes_free(struct catalog *cat)
{
    for (size_t i = 0; i < cat->nprogrammes; i++) {
        free(cat->programmes[i].id);
        free(cat->programmes[i].title);
        free(cat->programmes[i].summary);
        for (size_t j = 0; j < cat->programmes[i].ncourses; j++)
            free(cat->programmes[i].courses[j]);
        free(cat->programmes[i].courses);
    }
    free(cat->programmes);
}
