/* task.c: parsing ```task blocks (YAML) into case-study tasks. */
#include "task.h"
#include "expr.h"
#include "network.h"
#include "task_yaml.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The task being parsed and where its problems go. */
struct task_ctx {
    yaml_document_t *doc;
    yaml_node_t *root;
    int first_line;
    const char *path;
    struct diag_list *diags;
    const struct table *const *tables;
    size_t ntables;
    int errors;
    bool marking;                /* review or rubric: guide:, model:, criteria: allowed */
};

static int node_line(struct task_ctx *c, yaml_node_t *n)
{
    return c->first_line + task_yaml_line(n);
}

static void terr(struct task_ctx *c, yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void terr(struct task_ctx *c, yaml_node_t *at, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_add(c->diags, DIAG_ERROR, c->path, at ? node_line(c, at) : c->first_line, "%s", msg);
    c->errors++;
}

static yaml_node_t *get(struct task_ctx *c, yaml_node_t *map, const char *key)
{
    return task_yaml_get(c->doc, map, key, NULL);
}

/* A required (or optional, when required is false) string; NULL when
 * absent or wrong (reported). */
static const char *get_str(struct task_ctx *c, yaml_node_t *map, const char *key, bool required)
{
    yaml_node_t *n = get(c, map, key);
    if (n == NULL) {
        if (required)
            terr(c, map, "task needs \"%s\"", key);
        return NULL;
    }
    const char *s = task_yaml_str(n);
    if (s == NULL)
        terr(c, n, "\"%s\" must be text", key);
    return s;
}

/* An optional number; returns false (reported) when present and wrong. */
static bool get_num(struct task_ctx *c, yaml_node_t *map, const char *key, double *out)
{
    yaml_node_t *n = get(c, map, key);
    if (n == NULL)
        return true;
    if (!task_yaml_number(n, out)) {
        terr(c, n, "\"%s\" must be a number", key);
        return false;
    }
    return true;
}

static bool get_seq(struct task_ctx *c, yaml_node_t *map, const char *key, yaml_node_t **out)
{
    yaml_node_t *n = get(c, map, key);
    if (n == NULL) {
        terr(c, map, "task needs \"%s\" (a list)", key);
        return false;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        terr(c, n, "\"%s\" must be a list", key);
        return false;
    }
    *out = n;
    return true;
}

static size_t seq_len(yaml_node_t *s)
{
    return (size_t)(s->data.sequence.items.top - s->data.sequence.items.start);
}

static yaml_node_t *seq_at(struct task_ctx *c, yaml_node_t *s, size_t i)
{
    return yaml_document_get_node(c->doc, s->data.sequence.items.start[i]);
}

/* Warns about keys a task of this type does not use. */
static void check_keys(struct task_ctx *c, const char *const *allowed)
{
    static const char *const common[] = { "id", "type", "prompt", "weight", "feedback", "max_bytes",
                                          NULL };
    static const char *const marking[] = { "guide", "model", "criteria", "confirm", NULL };
    yaml_node_t *m = c->root;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
        const char *s = task_yaml_str(k);
        bool ok = false;
        for (size_t i = 0; s && common[i] && !ok; i++)
            ok = strcmp(common[i], s) == 0;
        for (size_t i = 0; s && allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], s) == 0;
        for (size_t i = 0; s && c->marking && marking[i] && !ok; i++)
            ok = strcmp(marking[i], s) == 0;
        if (!ok)
            diag_add(c->diags, DIAG_WARNING, c->path, node_line(c, k),
                     "unknown key \"%s\" in a task", s ? s : "?");
    }
}

static void parse_order(struct task_ctx *c, struct task *t)
{
    static const char *const keys[] = { "items", NULL };
    yaml_node_t *items;
    check_keys(c, keys);
    if (!get_seq(c, c->root, "items", &items))
        return;
    size_t n = seq_len(items);
    if (n < 2) {
        terr(c, items, "an order task needs at least 2 items");
        return;
    }
    t->items = xcalloc(n, sizeof(*t->items));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = seq_at(c, items, i);
        const char *s = task_yaml_str(it);
        if (s == NULL || s[0] == '\0') {
            terr(c, it, "each item of an order task is a line of text");
            return;
        }
        t->items[t->nitems].text = xstrdup(s);
        t->items[t->nitems].category = NULL;
        t->items[t->nitems++].feedback = xstrdup("");
    }
}

static void parse_classify(struct task_ctx *c, struct task *t)
{
    static const char *const keys[] = { "categories", "items", NULL };
    check_keys(c, keys);
    yaml_node_t *cats = get(c, c->root, "categories");
    if (cats == NULL || cats->type != YAML_MAPPING_NODE) {
        terr(c, cats ? cats : c->root, "a classify task needs \"categories\", a mapping of "
                                       "keys to names such as {s: Strength, w: Weakness}");
        return;
    }
    size_t nc = (size_t)(cats->data.mapping.pairs.top - cats->data.mapping.pairs.start);
    t->cats = xcalloc(nc + 1, sizeof(*t->cats));
    for (yaml_node_pair_t *pr = cats->data.mapping.pairs.start; pr < cats->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);
        const char *ks = task_yaml_str(k), *vs = task_yaml_str(v);
        if (ks == NULL || vs == NULL || ks[0] == '\0' || strpbrk(ks, " =,\t")) {
            terr(c, k, "a category is \"key: name\" (the key without spaces, = or commas)");
            return;
        }
        for (size_t i = 0; i < t->ncats; i++)
            if (strcmp(t->cats[i].key, ks) == 0) {
                terr(c, k, "category %s appears twice", ks);
                return;
            }
        t->cats[t->ncats].key = xstrdup(ks);
        t->cats[t->ncats++].name = xstrdup(vs);
    }
    if (t->ncats < 2) {
        terr(c, cats, "a classify task needs at least 2 categories");
        return;
    }
    yaml_node_t *items;
    if (!get_seq(c, c->root, "items", &items))
        return;
    size_t n = seq_len(items);
    if (n < 1) {
        terr(c, items, "a classify task needs items");
        return;
    }
    t->items = xcalloc(n, sizeof(*t->items));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = seq_at(c, items, i);
        const char *text = get_str(c, it, "text", false);
        const char *ans = get_str(c, it, "answer", false);
        const char *fb = get_str(c, it, "feedback", false);
        if (it->type != YAML_MAPPING_NODE || text == NULL || ans == NULL) {
            terr(c, it, "each item of a classify task has \"text\" and \"answer\"");
            return;
        }
        bool known = false;
        for (size_t k = 0; k < t->ncats && !known; k++)
            known = strcmp(t->cats[k].key, ans) == 0;
        if (!known) {
            terr(c, get(c, it, "answer"), "answer %s is not one of the categories", ans);
            return;
        }
        t->items[t->nitems].text = xstrdup(text);
        t->items[t->nitems].category = xstrdup(ans);
        t->items[t->nitems++].feedback = xstrdup(fb ? fb : "");
    }
}

/* tolerance: a number (absolute) or "N%" (relative). */
static void parse_tolerance(struct task_ctx *c, struct task *t, double dflt)
{
    yaml_node_t *n = get(c, c->root, "tolerance");
    const char *s = task_yaml_str(n);
    t->tol = dflt;
    if (n == NULL)
        return;
    char *end = NULL;
    double v = s ? strtod(s, &end) : -1;
    if (end && *end == '%') {
        t->tol_relative = true;
        end++;
    }
    if (s == NULL || end == s || *end || !isfinite(v) || v < 0) {
        terr(c, n, "tolerance is a number (absolute) or a percentage such as 2%%");
        return;
    }
    t->tol = v;
}

static void parse_numeric(struct task_ctx *c, struct task *t)
{
    static const char *const keys[] = { "answer", "compute", "tolerance", "unit", NULL };
    check_keys(c, keys);
    yaml_node_t *ans = get(c, c->root, "answer"), *comp = get(c, c->root, "compute");
    const char *unit = get_str(c, c->root, "unit", false);
    t->unit = xstrdup(unit ? unit : "");
    parse_tolerance(c, t, 0);
    if ((ans == NULL) == (comp == NULL)) {
        terr(c, ans ? ans : c->root, "a numeric task has either \"answer\" or \"compute\"");
        return;
    }
    if (ans) {
        if (!task_yaml_number(ans, &t->expected))
            terr(c, ans, "\"answer\" must be a number");
        return;
    }
    const char *src = task_yaml_str(comp);
    char err[300];
    if (src == NULL) {
        terr(c, comp, "\"compute\" must be an expression");
    } else if (expr_eval(src, c->tables, c->ntables, &t->expected, err, sizeof(err)) < 0) {
        terr(c, comp, "%s", err);
    }
}

static void parse_network(struct task_ctx *c, struct task *t)
{
    static const char *const keys[] = { "table", "question", "actor", "tolerance", NULL };
    static const char *const qs[] = { "degree", "density", "most-central", "broker", "isolated" };
    check_keys(c, keys);
    const char *tn = get_str(c, c->root, "table", true);
    const char *q = get_str(c, c->root, "question", true);
    if (tn == NULL || q == NULL)
        return;
    size_t qi = 0;
    while (qi < 5 && strcmp(qs[qi], q) != 0)
        qi++;
    if (qi == 5) {
        terr(c, get(c, c->root, "question"),
             "question is one of degree, density, most-central, broker, isolated");
        return;
    }
    t->net_question = (enum task_net_question)qi;
    const struct table *tab = table_find(c->tables, c->ntables, tn);
    if (tab == NULL) {
        terr(c, get(c, c->root, "table"), "no table named %s in this file", tn);
        return;
    }
    struct network net;
    char err[200];
    if (network_build(tab, &net, err, sizeof(err)) < 0) {
        terr(c, get(c, c->root, "table"), "%s", err);
        return;
    }
    parse_tolerance(c, t, t->net_question == TASK_NET_DENSITY ? 0.005 : 0);
    double *score = xcalloc(net.n + 1, sizeof(double));
    switch (t->net_question) {
    case TASK_NET_DEGREE: {
        const char *actor = get_str(c, c->root, "actor", true);
        int i = actor ? network_find(&net, actor) : -1;
        if (actor && i < 0)
            terr(c, get(c, c->root, "actor"), "actor %s is not in table %s", actor, tn);
        if (i >= 0)
            t->expected = (double)network_degree(&net, (size_t)i);
        break;
    }
    case TASK_NET_DENSITY:
        t->expected = network_density(&net);
        break;
    case TASK_NET_MOST_CENTRAL:
    case TASK_NET_BROKER:
    case TASK_NET_ISOLATED:
        if (t->net_question == TASK_NET_BROKER)
            network_betweenness(&net, score);
        for (size_t i = 0; i < net.n; i++)
            if (t->net_question == TASK_NET_MOST_CENTRAL)
                score[i] = (double)network_degree(&net, i);
            else if (t->net_question == TASK_NET_ISOLATED)
                score[i] = network_degree(&net, i) == 0;
        double best = 0;
        for (size_t i = 0; i < net.n; i++)
            best = score[i] > best ? score[i] : best;
        t->names = xcalloc(net.n + 1, sizeof(char *));
        for (size_t i = 0; i < net.n && best > 0; i++)
            if (fabs(score[i] - best) < 1e-9)
                t->names[t->nnames++] = xstrdup(net.names[i]);
        if (t->nnames == 0 && t->net_question != TASK_NET_ISOLATED)
            terr(c, get(c, c->root, "table"), "table %s has no links to find a %s in", tn, q);
        break;
    }
    free(score);
    network_free(&net);
}

/* A list of non-empty strings (a single string is a list of one) into
 * *out; false when reported. */
static bool get_texts(struct task_ctx *c, yaml_node_t *n, const char *what, char ***out,
                      size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (n == NULL)
        return true;
    if (task_yaml_str(n)) {
        if (task_yaml_str(n)[0] == '\0') {
            terr(c, n, "%s must not be empty", what);
            return false;
        }
        *out = xcalloc(1, sizeof(char *));
        (*out)[(*nout)++] = xstrdup(task_yaml_str(n));
        return true;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        terr(c, n, "%s must be a list of text", what);
        return false;
    }
    *out = xcalloc(seq_len(n) + 1, sizeof(char *));
    for (size_t k = 0; k < seq_len(n); k++) {
        const char *w = task_yaml_str(seq_at(c, n, k));
        if (w == NULL || w[0] == '\0') {
            terr(c, seq_at(c, n, k), "each entry of %s is text", what);
            return false;
        }
        (*out)[(*nout)++] = xstrdup(w);
    }
    return true;
}

/* An optional whole number of at least 0 into *out. */
static bool get_count(struct task_ctx *c, const char *key, size_t *out)
{
    double x;
    yaml_node_t *n = get(c, c->root, key);
    if (n == NULL)
        return true;
    if (!task_yaml_number(n, &x) || x < 0 || x != floor(x) || x > 10000) {
        terr(c, n, "\"%s\" must be a whole number from 0 to 10000", key);
        return false;
    }
    *out = (size_t)x;
    return true;
}

/* Task-level contradictions: a list of {words, cost, why}. */
static void parse_against(struct task_ctx *c, struct task *t)
{
    yaml_node_t *n = get(c, c->root, "against");
    if (n == NULL)
        return;
    if (n->type != YAML_SEQUENCE_NODE) {
        terr(c, n, "\"against\" must be a list of {words, cost, why}");
        return;
    }
    t->rubric.against = xcalloc(seq_len(n) + 1, sizeof(*t->rubric.against));
    for (size_t i = 0; i < seq_len(n); i++) {
        yaml_node_t *e = seq_at(c, n, i);
        if (e->type != YAML_MAPPING_NODE || get(c, e, "words") == NULL) {
            terr(c, e, "each \"against\" entry has \"words\" (a list), and may have \"cost\" "
                       "and \"why\"");
            return;
        }
        struct rubric_against *a = &t->rubric.against[t->rubric.nagainst++];
        const char *why = get_str(c, e, "why", false);
        a->why = xstrdup(why ? why : "");
        a->cost = t->rubric.cap;
        if (!get_texts(c, get(c, e, "words"), "\"words\"", &a->words, &a->nwords) ||
            !get_num(c, e, "cost", &a->cost))
            return;
        if (a->cost < 0)
            terr(c, get(c, e, "cost"), "cost must not be negative");
    }
}

static void parse_rubric(struct task_ctx *c, struct task *t)
{
    static const char *const keys[] = { "points", "concepts", "window", "min_words", "against",
                                        "model", "bad", NULL };
    check_keys(c, keys);
    yaml_node_t *concepts;
    t->rubric.prompt = xstrdup(t->prompt);
    t->rubric.min_words = RUBRIC_MIN_WORDS_DEFAULT;
    if (!get_count(c, "window", &t->rubric.window) || !get_count(c, "min_words", &t->rubric.min_words))
        return;
    if (!get_seq(c, c->root, "concepts", &concepts))
        return;
    size_t n = seq_len(concepts);
    double sum = 0;
    t->rubric.concepts = xcalloc(n + 1, sizeof(*t->rubric.concepts));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *cn = seq_at(c, concepts, i);
        const char *name = get_str(c, cn, "name", false);
        yaml_node_t *words = get(c, cn, "words");
        double pts = 1;
        if (cn->type != YAML_MAPPING_NODE || name == NULL || words == NULL ||
            words->type != YAML_SEQUENCE_NODE || seq_len(words) == 0) {
            terr(c, cn, "each concept has \"name\", \"points\" and \"words\" (a list)");
            return;
        }
        if (!get_num(c, cn, "points", &pts))
            return;
        struct rubric_concept *rc = &t->rubric.concepts[t->rubric.n++];
        rc->name = xstrdup(name);
        rc->points = pts;
        if (!get_texts(c, words, "a concept's words", &rc->words, &rc->nwords) ||
            !get_texts(c, get(c, cn, "against"), "a concept's \"against\"", &rc->against,
                       &rc->nagainst))
            return;
        if (pts > 0)
            sum += pts;
    }
    if (t->rubric.n == 0) {
        terr(c, concepts, "a rubric needs at least one concept");
        return;
    }
    t->rubric.cap = sum;
    if (!get_num(c, c->root, "points", &t->rubric.cap))
        return;
    if (t->rubric.cap <= 0)
        terr(c, get(c, c->root, "points"), "points must be above 0");
    else if (sum < t->rubric.cap - 1e-9)
        terr(c, get(c, c->root, "points"),
             "the concepts give at most %g points, less than the %g needed for a full score",
             sum, t->rubric.cap);
    parse_against(c, t);

    /* The model answer and the answers that must fail, for the self-check. */
    yaml_node_t *model = get(c, c->root, "model"), *bad = get(c, c->root, "bad");
    if (model) {
        const char *m = task_yaml_str(model);
        if (m == NULL || m[0] == '\0')
            terr(c, model, "\"model\" must be text: an answer that scores 100");
        else {
            t->model = xstrdup(m);
            t->model_line = node_line(c, model);
        }
    }
    if (bad && get_texts(c, bad, "\"bad\"", &t->bad, &t->nbad)) {
        t->bad_lines = xcalloc(t->nbad + 1, sizeof(int));
        for (size_t k = 0; k < t->nbad; k++)
            t->bad_lines[k] = bad->type == YAML_SEQUENCE_NODE ? node_line(c, seq_at(c, bad, k))
                                                              : node_line(c, bad);
    }
}

/* Line of the text of a scalar: block scalars (| and >) start a line later. */
static int text_line(struct task_ctx *c, yaml_node_t *n)
{
    bool block = n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                 n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
    return node_line(c, n) + (block ? 1 : 0);
}

static void parse_gift(struct task_ctx *c, struct task *t, const char *key)
{
    static const char *const gkeys[] = { "question", NULL }, *const pkeys[] = { "questions", "draw", NULL };
    bool pool = t->type == TASK_POOL;
    check_keys(c, pool ? pkeys : gkeys);
    const char *src = get_str(c, c->root, key, true);
    if (src == NULL)
        return;
    yaml_node_t *n = get(c, c->root, key);
    size_t before = c->diags->errors;
    gift_parse(src, strlen(src), text_line(c, n), c->path, c->diags, &t->quiz);
    c->errors += (int)(c->diags->errors - before);
    if (c->diags->errors != before)
        return;
    for (size_t i = 0; i < t->quiz.n; i++)
        if (t->quiz.q[i].type == GIFT_DESCRIPTION) {
            diag_add(c->diags, DIAG_ERROR, c->path, t->quiz.q[i].line,
                     "a question of a %s task needs an answer block", pool ? "pool" : "gift");
            c->errors++;
            return;
        }
    if (!pool) {
        if (t->quiz.n != 1)
            terr(c, n, "a gift task holds exactly one question (found %zu); use a pool for "
                       "several", t->quiz.n);
        return;
    }
    double draw = 1;
    yaml_node_t *dn = get(c, c->root, "draw");
    if (dn == NULL || !task_yaml_number(dn, &draw) || draw < 1 || draw != floor(draw)) {
        terr(c, dn ? dn : c->root, "a pool needs \"draw\", a whole number of at least 1");
        return;
    }
    if (draw > (double)t->quiz.n)
        terr(c, dn, "draw %g is more than the %zu questions of the pool", draw, t->quiz.n);
    else
        t->draw = (size_t)draw;
}

static bool type_from_name(const char *s, enum task_type *out)
{
    for (int i = TASK_ORDER; i <= TASK_POOL; i++)
        if (strcmp(task_type_name((enum task_type)i), s) == 0) {
            *out = (enum task_type)i;
            return true;
        }
    return false;
}

/* The trainer's side of a review or rubric task: guide:, model:, an
 * analytic rubric under criteria: (each criterion an id, a name and levels
 * of points and text), and confirm: trainer. A review task's points follow
 * from its criteria: a points: that disagrees is an error. */
static void parse_marking(struct task_ctx *c, struct task *t)
{
    const char *guide = get_str(c, c->root, "guide", false);
    const char *model = get_str(c, c->root, "model", false);
    yaml_node_t *crit = get(c, c->root, "criteria"), *conf = get(c, c->root, "confirm");

    t->guide = xstrdup(guide ? guide : "");
    /* A rubric task's model was read with its self-check examples. */
    if (t->model == NULL && model && model[0]) {
        t->model = xstrdup(model);
        t->model_line = node_line(c, get(c, c->root, "model"));
    }
    if (conf) {
        const char *v = task_yaml_str(conf);
        if (t->type != TASK_RUBRIC || v == NULL || strcmp(v, "trainer") != 0)
            terr(c, conf, "confirm: trainer is for rubric tasks (the machine's score then waits "
                          "for a trainer)");
        else
            t->confirm_trainer = true;
    }
    if (crit == NULL)
        return;
    if (crit->type != YAML_SEQUENCE_NODE || seq_len(crit) == 0) {
        terr(c, crit, "criteria is a list of {id, name, levels}");
        return;
    }
    size_t n = seq_len(crit);
    double sum = 0;
    t->criteria = xcalloc(n, sizeof(*t->criteria));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *cn = seq_at(c, crit, i);
        const char *id = get_str(c, cn, "id", true);
        const char *name = get_str(c, cn, "name", false);
        yaml_node_t *levels = get(c, cn, "levels");
        if (cn->type != YAML_MAPPING_NODE || id == NULL || levels == NULL ||
            levels->type != YAML_SEQUENCE_NODE || seq_len(levels) < 2) {
            terr(c, cn, "each criterion has \"id\", \"name\" and \"levels\" (a list of two or more)");
            return;
        }
        if (!id_valid(id) || task_criterion_find(t, id)) {
            terr(c, get(c, cn, "id"), "criterion id %s: use a-z, 0-9 and -, once per task", id);
            return;
        }
        struct task_criterion *tc = &t->criteria[t->ncriteria++];
        tc->id = xstrdup(id);
        tc->name = xstrdup(name ? name : id);
        tc->levels = xcalloc(seq_len(levels), sizeof(*tc->levels));
        for (size_t k = 0; k < seq_len(levels); k++) {
            yaml_node_t *ln = seq_at(c, levels, k);
            const char *text = get_str(c, ln, "text", true);
            double pts = -1;
            if (text == NULL || !get(c, ln, "points") || !get_num(c, ln, "points", &pts))
                return;
            /* Halves at most, so that every level can be typed as REVIEW GRADE takes it. */
            if (pts < 0 || pts * 2 != floor(pts * 2) || task_level_find(tc, pts)) {
                terr(c, ln, "a level's points are 0 or more, in halves, distinct within the criterion");
                return;
            }
            tc->levels[tc->nlevels].points = pts;
            tc->levels[tc->nlevels++].text = xstrdup(text);
            if (pts > tc->max)
                tc->max = pts;
        }
        sum += tc->max;
    }
    if (sum <= 0) {
        terr(c, crit, "the criteria's best levels give no points");
        return;
    }
    if (t->type == TASK_REVIEW) {
        if (get(c, c->root, "points") && fabs(t->points - sum) > 1e-9)
            terr(c, get(c, c->root, "points"),
                 "points is %g but the criteria's best levels add up to %g", t->points, sum);
        t->points = sum;
    } else if (fabs(t->rubric.cap - sum) > 1e-9) {
        terr(c, crit, "the criteria's best levels add up to %g, the task's points are %g", sum,
             t->rubric.cap);
    }
}

double task_points(const struct task *t)
{
    if (t->type == TASK_REVIEW)
        return t->points;
    if (t->type == TASK_RUBRIC)
        return t->rubric.cap;
    return 100;
}

const struct task_criterion *task_criterion_find(const struct task *t, const char *id)
{
    for (size_t i = 0; i < t->ncriteria; i++)
        if (strcmp(t->criteria[i].id, id) == 0)
            return &t->criteria[i];
    return NULL;
}

const struct task_level *task_level_find(const struct task_criterion *c, double points)
{
    for (size_t i = 0; i < c->nlevels; i++)
        if (fabs(c->levels[i].points - points) < 1e-9)
            return &c->levels[i];
    return NULL;
}

struct task *task_parse(const char *yaml, size_t len, int first_line, const char *path,
                        const struct table *const *tables, size_t ntables,
                        struct diag_list *diags)
{
    yaml_document_t doc;
    char err[300];
    int eline;

    if (task_yaml_load(yaml, len, &doc, err, sizeof(err), &eline) < 0) {
        diag_add(diags, DIAG_ERROR, path, first_line + eline, "%s", err);
        return NULL;
    }
    struct task_ctx c = { &doc, yaml_document_get_root_node(&doc), first_line, path, diags,
                          tables, ntables, 0, false };
    struct task *t = xcalloc(1, sizeof(*t));
    t->line = first_line;
    t->weight = 1;
    if (c.root == NULL || c.root->type != YAML_MAPPING_NODE) {
        terr(&c, c.root, "a task is a YAML mapping (id:, type:, prompt:, ...)");
        goto done;
    }
    const char *id = get_str(&c, c.root, "id", true);
    const char *type = get_str(&c, c.root, "type", true);
    if (id && !id_valid(id))
        terr(&c, get(&c, c.root, "id"), "task id %s: use 1 to 64 of a-z, 0-9 and -", id);
    if (type && !type_from_name(type, &t->type))
        terr(&c, get(&c, c.root, "type"), "unknown task type %s (order, classify, numeric, "
                                          "network, rubric, review, gift, pool)", type);
    if (c.errors)
        goto done;
    t->id = xstrdup(id);
    const char *prompt = get_str(&c, c.root, "prompt", t->type != TASK_GIFT && t->type != TASK_POOL);
    const char *fb = get_str(&c, c.root, "feedback", false);
    t->prompt = xstrdup(prompt ? prompt : "");
    t->feedback = xstrdup(fb ? fb : "");
    if (get_num(&c, c.root, "weight", &t->weight) && t->weight < 0)
        terr(&c, get(&c, c.root, "weight"), "weight must not be negative");
    /* A long essay may need more room than the server's per-task default;
     * the whole document stays under the server's answer_max all the same. */
    double maxb = 0;
    if (get(&c, c.root, "max_bytes") && get_num(&c, c.root, "max_bytes", &maxb)) {
        if (maxb < 1 || maxb > TASK_MAX_BYTES_MAX || maxb != (double)(long)maxb)
            terr(&c, get(&c, c.root, "max_bytes"), "max_bytes must be a whole number from 1 to %d",
                 TASK_MAX_BYTES_MAX);
        else
            t->max_bytes = (long)maxb;
    }
    switch (t->type) {
    case TASK_ORDER:
        parse_order(&c, t);
        break;
    case TASK_CLASSIFY:
        parse_classify(&c, t);
        break;
    case TASK_NUMERIC:
        parse_numeric(&c, t);
        break;
    case TASK_NETWORK:
        parse_network(&c, t);
        break;
    case TASK_RUBRIC:
        c.marking = true;
        parse_rubric(&c, t);
        if (c.errors == 0)
            parse_marking(&c, t);
        break;
    case TASK_REVIEW: {
        c.marking = true;
        static const char *const keys[] = { "points", NULL };
        check_keys(&c, keys);
        t->points = 10;
        if (get_num(&c, c.root, "points", &t->points) && t->points <= 0)
            terr(&c, get(&c, c.root, "points"), "points must be above 0");
        parse_marking(&c, t);
        break;
    }
    case TASK_GIFT:
        parse_gift(&c, t, "question");
        break;
    case TASK_POOL:
        parse_gift(&c, t, "questions");
        break;
    }
done:
    yaml_document_delete(&doc);
    if (c.errors) {
        task_free(t);
        return NULL;
    }
    return t;
}

void task_free(struct task *t)
{
    if (t == NULL)
        return;
    free(t->id);
    free(t->prompt);
    free(t->feedback);
    free(t->guide);
    for (size_t i = 0; i < t->ncriteria; i++) {
        free(t->criteria[i].id);
        free(t->criteria[i].name);
        for (size_t k = 0; k < t->criteria[i].nlevels; k++)
            free(t->criteria[i].levels[k].text);
        free(t->criteria[i].levels);
    }
    free(t->criteria);
    for (size_t i = 0; i < t->nitems; i++) {
        free(t->items[i].text);
        free(t->items[i].category);
        free(t->items[i].feedback);
    }
    free(t->items);
    for (size_t i = 0; i < t->ncats; i++) {
        free(t->cats[i].key);
        free(t->cats[i].name);
    }
    free(t->cats);
    free(t->unit);
    for (size_t i = 0; i < t->nnames; i++)
        free(t->names[i]);
    free(t->names);
    rubric_free(&t->rubric);
    free(t->model);
    for (size_t i = 0; i < t->nbad; i++)
        free(t->bad[i]);
    free(t->bad);
    free(t->bad_lines);
    gift_quiz_free(&t->quiz);
    free(t);
}

const char *task_type_name(enum task_type t)
{
    static const char *const names[] = { "order", "classify", "numeric", "network",
                                         "rubric", "review", "gift", "pool" };
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}
