/* task_grade.c: case-study tasks in seeded order, and grading answers. */
#include "answer.h"
#include "task.h"
#include "msg.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

uint64_t task_seed(const struct task *t, uint64_t seed)
{
    return gift_seed_mix(seed, t->id);
}

void task_item_order(const struct task *t, uint64_t seed, bool shuffle, size_t *perm)
{
    size_t n = t->nitems;
    if (t->type == TASK_ORDER || shuffle) {
        gift_shuffle(perm, n, task_seed(t, seed));
    } else {
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
    }
    if (t->type != TASK_ORDER || n < 2)
        return;
    bool identity = true;
    for (size_t i = 0; i < n && identity; i++)
        identity = perm[i] == i;
    if (identity)
        for (size_t i = 0; i < n; i++)
            perm[i] = (i + 1) % n;
}

void task_pool_draw(const struct task *t, uint64_t seed, size_t *drawn)
{
    size_t n = t->quiz.n;
    size_t *perm = xmalloc((n ? n : 1) * sizeof(*perm));
    gift_shuffle(perm, n, task_seed(t, seed));
    for (size_t k = 0; k < t->draw && k < n; k++)
        drawn[k] = perm[k];
    free(perm);
}

uint64_t task_pool_seed(const struct task *t, uint64_t seed, size_t k)
{
    char sub[96];
    snprintf(sub, sizeof(sub), "%s.%zu", t->id, k + 1);
    return gift_seed_mix(seed, sub);
}

void task_result_free(struct task_result *r)
{
    free(r->feedback);
    free(r->key);
    free(r->response);
    memset(r, 0, sizeof(*r));
}

/* Reads the learner's number, a trailing unit allowed; decimal comma
 * accepted. */
static bool read_number_unit(const char *s, const char *unit, double *out)
{
    char *tmp = xstrdup(s);
    size_t n = strlen(tmp), k = unit ? strlen(unit) : 0;
    while (n && isspace((unsigned char)tmp[n - 1]))
        n--;
    tmp[n] = '\0';
    if (k && n >= k && strcmp(tmp + n - k, unit) == 0)
        tmp[n - k] = '\0';
    char *p = tmp;
    while (isspace((unsigned char)*p))
        p++;
    size_t m = strlen(p);
    while (m && isspace((unsigned char)p[m - 1]))
        p[--m] = '\0';
    bool ok = m > 0;
    for (size_t i = 0; i < m && ok; i++) {
        if (p[i] == ',')
            p[i] = '.';
        ok = isdigit((unsigned char)p[i]) || strchr("+-.eE", p[i]);
    }
    char *end = p;
    double v = ok ? strtod(p, &end) : 0;
    ok = ok && *end == '\0' && end != p && isfinite(v);
    free(tmp);
    if (ok)
        *out = v;
    return ok;
}

static bool number_within(const struct task *t, double x)
{
    double tol = t->tol_relative ? fabs(t->expected) * t->tol / 100 : t->tol;
    double slack = 1e-9 * fmax(1.0, fmax(fabs(t->expected), tol));
    return fabs(x - t->expected) <= tol + slack;
}



static int grade_order(const struct task *t, uint64_t seed, const char *ans, struct sbuf *fb,
                       double *score, const char *lang, char *err, size_t errlen)
{
    size_t n = t->nitems;
    size_t *perm = xmalloc(n * sizeof(size_t)), *seq = xmalloc(n * sizeof(size_t));
    task_item_order(t, seed, true, perm);
    if (!perm_parse(ans, n, seq)) {
        snprintf(err, errlen, content_msg(lang, "%s: expected the item numbers 1 to %zu in order, "
                                          "each once (e.g. %s: 2 1 ...)"), t->id, n, t->id);
        free(perm);
        free(seq);
        return -1;
    }
    size_t good = 0, pairs = n * (n - 1) / 2;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            good += perm[seq[i]] < perm[seq[j]];
    *score = pairs ? 100.0 * (double)good / (double)pairs : 100;
    if (*score < 100)
        sbuf_add_line(fb, t->feedback);
    free(perm);
    free(seq);
    return 0;
}

static int category_index(const void *arg, const char *key, size_t n)
{
    const struct task *t = arg;

    for (size_t i = 0; i < t->ncats; i++)
        if (strlen(t->cats[i].key) == n && strncasecmp(t->cats[i].key, key, n) == 0)
            return (int)i;
    return -1;
}

static int grade_classify(const struct task *t, uint64_t seed, bool shuffle, const char *ans,
                          struct sbuf *fb, double *score, const char *lang, char *err, size_t errlen)
{
    size_t n = t->nitems;
    size_t *perm = xmalloc(n * sizeof(size_t));
    int *placed = xmalloc(n * sizeof(int));

    task_item_order(t, seed, shuffle, perm);
    bool ok = answer_classify_read(ans, n, category_index, t, placed);
    if (!ok) {
        struct sbuf keys = {0};
        for (size_t i = 0; i < t->ncats; i++)
            sbuf_printf(&keys, "%s%s", i ? ", " : "", t->cats[i].key);
        snprintf(err, errlen, content_msg(lang, "%s: expected a category key (%s), =, and item "
                                          "numbers 1 to %zu separated by commas, each item once "
                                          "(e.g. %s: %s=1,2 %s=3)"), t->id, keys.data,
                 n, t->id, t->cats[0].key, t->cats[1].key);
        sbuf_free(&keys);
        free(perm);
        free(placed);
        return -1;
    }
    size_t good = 0;
    for (size_t k = 0; k < n; k++) {
        const struct task_item *it = &t->items[perm[k]];
        if (placed[k] >= 0 && strcmp(t->cats[placed[k]].key, it->category) == 0) {
            good++;
        } else if (it->feedback[0]) {
            char *line = xasprintf("%zu: %s", k + 1, it->feedback);
            sbuf_add_line(fb, line);
            free(line);
        }
    }
    *score = 100.0 * (double)good / (double)n;
    if (*score < 100)
        sbuf_add_line(fb, t->feedback);
    free(perm);
    free(placed);
    return 0;
}

/* Network answers naming actors: "A, B". Credit: right names minus wrong
 * names, over the expected names; "none" is the empty set. */
static void grade_names(const struct task *t, const char *ans, double *score)
{
    char *folded = rubric_fold(ans, true);
    size_t hits = 0, wrong = 0;
    bool none = strcmp(folded, "none") == 0;
    char *save = NULL;
    for (char *tok = none ? NULL : strtok_r(folded, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *name = rubric_fold(tok, true);
        bool hit = false;
        for (size_t i = 0; i < t->nnames && !hit; i++) {
            char *want = rubric_fold(t->names[i], true);
            hit = strcmp(want, name) == 0;
            free(want);
        }
        if (name[0])
            hit ? hits++ : wrong++;
        free(name);
    }
    free(folded);
    if (t->nnames == 0)
        *score = none ? 100 : 0;
    else
        *score = hits > wrong ? 100.0 * (double)(hits - wrong) / (double)t->nnames : 0;
    if (*score > 100)
        *score = 100;
}

static char *key_text(const struct task *t, uint64_t seed, bool shuffle)
{
    struct sbuf b = {0};
    switch (t->type) {
    case TASK_ORDER:
        for (size_t i = 0; i < t->nitems; i++)
            sbuf_printf(&b, "%s%s", i ? "; " : "", t->items[i].text);
        break;
    case TASK_CLASSIFY:
        for (size_t c = 0; c < t->ncats; c++) {
            bool any = false;
            for (size_t i = 0; i < t->nitems; i++)
                if (strcmp(t->items[i].category, t->cats[c].key) == 0) {
                    sbuf_printf(&b, "%s%s%s", any ? ", " : b.len ? "; " : "",
                                any ? "" : t->cats[c].name, any ? "" : ": ");
                    sbuf_adds(&b, t->items[i].text);
                    any = true;
                }
        }
        break;
    case TASK_NUMERIC:
    case TASK_NETWORK:
        if (t->type == TASK_NETWORK && t->net_question != TASK_NET_DEGREE &&
            t->net_question != TASK_NET_DENSITY) {
            for (size_t i = 0; i < t->nnames; i++)
                sbuf_printf(&b, "%s%s", i ? ", " : "", t->names[i]);
            if (t->nnames == 0)
                sbuf_adds(&b, "none");
            break;
        }
        sbuf_add_double(&b, t->expected);
        if (t->unit && t->unit[0])
            sbuf_printf(&b, " %s", t->unit);
        break;
    case TASK_RUBRIC:
        for (size_t i = 0; i < t->rubric.n; i++)
            sbuf_printf(&b, "%s%s", i ? ", " : "", t->rubric.concepts[i].name);
        break;
    case TASK_REVIEW:
        return NULL;
    case TASK_GIFT:
    case TASK_POOL: {
        size_t nq = t->type == TASK_POOL ? t->draw : 1;
        size_t *drawn = xcalloc(nq + 1, sizeof(size_t));
        if (t->type == TASK_POOL)
            task_pool_draw(t, seed, drawn);
        for (size_t k = 0; k < nq; k++) {
            const struct gift_question *q = &t->quiz.q[drawn[k]];
            size_t order[26];
            uint64_t s = t->type == TASK_POOL ? task_pool_seed(t, seed, k) : task_seed(t, seed);
            gift_choice_order(q, s, shuffle, order);
            char *k1 = gift_key_text(q, order);
            if (t->type == TASK_POOL)
                sbuf_printf(&b, "%s%s.%zu: %s", k ? "; " : "", t->id, k + 1,
                            k1 ? k1 : "graded by a trainer");
            else if (k1)
                sbuf_adds(&b, k1);
            free(k1);
        }
        free(drawn);
        if (b.len == 0) {
            sbuf_free(&b);
            return NULL;
        }
        break;
    }
    }
    return sbuf_take(&b);
}

/* Grades one GIFT question of a gift or pool task. */
static int grade_question(const struct task *t, const struct gift_question *q, uint64_t s,
                          bool shuffle, const char *label, const char *ans, struct sbuf *fb,
                          double *score, bool *pending, const char *lang, char *err, size_t errlen)
{
    size_t order[26];
    struct gift_grade g;
    char msg[300];
    gift_choice_order(q, s, shuffle, order);
    if (gift_grade_lang(q, order, ans, &g, lang, msg, sizeof(msg)) < 0) {
        snprintf(err, errlen, "%s: %s", label, msg);
        return -1;
    }
    *score = g.score;
    *pending = g.pending;
    if (t->type == TASK_POOL && g.feedback[0]) {
        char *line = xasprintf("%s: %s", label, g.feedback);
        sbuf_add_line(fb, line);
        free(line);
    } else {
        sbuf_add_line(fb, g.feedback);
    }
    free(g.feedback);
    return 0;
}

static int grade_pool(const struct task *t, uint64_t seed, bool shuffle,
                      const struct answer_doc *doc, struct task_result *out, struct sbuf *fb,
                      double *score, const char *lang, char *err, size_t errlen)
{
    size_t *drawn = xcalloc(t->draw + 1, sizeof(size_t));
    struct sbuf resp = {0};
    double sum = 0;
    int rc = 0;

    task_pool_draw(t, seed, drawn);
    for (size_t k = 0; k < t->draw && rc == 0; k++) {
        char label[96];
        snprintf(label, sizeof(label), "%s.%zu", t->id, k + 1);
        const struct answer_entry *e = answer_get(doc, label);
        double s = 0;
        bool pending = false;
        if (e) {
            out->answered = true;
            sbuf_printf(&resp, "%s%s: %s", resp.len ? "\n" : "", label, e->value);
        }
        const struct gift_question *q = &t->quiz.q[drawn[k]];
        rc = grade_question(t, q, task_pool_seed(t, seed, k), shuffle, label, e ? e->value : "",
                            fb, &s, &pending, lang, err, errlen);
        if (q->type == GIFT_ESSAY)
            out->pending = true;
        sum += s;
        (void)pending;
    }
    free(drawn);
    out->response = sbuf_take(&resp);
    *score = sum / (double)t->draw;
    return rc;
}

int task_grade(const struct task *t, uint64_t seed, bool shuffle, const struct answer_doc *doc,
               struct task_result *out, char *err, size_t errlen)
{
    return task_grade_lang(t, seed, shuffle, doc, out, NULL, err, errlen);
}

int task_grade_lang(const struct task *t, uint64_t seed, bool shuffle,
                    const struct answer_doc *doc, struct task_result *out, const char *lang,
                    char *err, size_t errlen)
{
    struct sbuf fb = {0};
    double score = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (t->type == TASK_POOL) {
        rc = grade_pool(t, seed, shuffle, doc, out, &fb, &score, lang, err, errlen);
        goto done;
    }
    const struct answer_entry *e = answer_get(doc, t->id);
    const char *ans = e ? e->value : "";
    out->answered = e != NULL && e->value[0] != '\0';
    out->response = xstrdup(ans);
    if (t->type == TASK_REVIEW || (t->type == TASK_GIFT && t->quiz.q[0].type == GIFT_ESSAY)) {
        out->pending = true;
        goto done;
    }
    if (!out->answered) {
        sbuf_add_line(&fb, content_msg(lang, "No answer."));
        goto done;
    }
    switch (t->type) {
    case TASK_ORDER:
        rc = grade_order(t, seed, ans, &fb, &score, lang, err, errlen);
        break;
    case TASK_CLASSIFY:
        rc = grade_classify(t, seed, shuffle, ans, &fb, &score, lang, err, errlen);
        break;
    case TASK_NETWORK:
        if (t->net_question != TASK_NET_DEGREE && t->net_question != TASK_NET_DENSITY) {
            grade_names(t, ans, &score);
            if (score < 100)
                sbuf_add_line(&fb, t->feedback);
            break;
        }
        __attribute__((fallthrough)); /* degree and density are numbers */
    case TASK_NUMERIC: {
        double x;
        if (!read_number_unit(ans, t->unit, &x)) {
            if (t->unit && t->unit[0])
                snprintf(err, errlen, content_msg(lang, "%s: expected a number, optionally followed "
                                                  "by %s"), t->id, t->unit);
            else
                snprintf(err, errlen, content_msg(lang, "%s: expected a number"), t->id);
            rc = -1;
            break;
        }
        score = number_within(t, x) ? 100 : 0;
        if (score < 100)
            sbuf_add_line(&fb, t->feedback);
        break;
    }
    case TASK_RUBRIC: {
        struct rubric_verdict v;
        score = rubric_grade(&t->rubric, ans, &v);
        char *f = rubric_feedback(&t->rubric, &v);
        sbuf_add_line(&fb, f);
        free(f);
        rubric_verdict_free(&v);
        if (score < 100)
            sbuf_add_line(&fb, t->feedback);
        break;
    }
    case TASK_GIFT: {
        bool pending;
        rc = grade_question(t, &t->quiz.q[0], task_seed(t, seed), shuffle, t->id, ans, &fb,
                            &score, &pending, lang, err, errlen);
        break;
    }
    case TASK_REVIEW:
    case TASK_POOL:
        break;
    }
    /* confirm: trainer: the machine's score is only a suggestion, kept
     * apart from the score so that nothing counts it before a trainer does. */
    if (rc == 0 && t->type == TASK_RUBRIC && t->confirm_trainer) {
        out->pending = true;
        out->provisional = true;
        out->suggested = score;
    }
done:
    if (rc < 0) {
        sbuf_free(&fb);
        task_result_free(out);
        return -1;
    }
    out->score = out->pending && t->type != TASK_POOL ? 0 : score;
    out->feedback = sbuf_take(&fb);
    out->key = key_text(t, seed, shuffle);
    return 0;
}

void task_key_lines(const struct task *t, uint64_t seed, bool shuffle, struct sbuf *b)
{
    switch (t->type) {
    case TASK_ORDER: {
        size_t n = t->nitems, *perm = xmalloc(n * sizeof(size_t));
        task_item_order(t, seed, true, perm);
        sbuf_printf(b, "%s:", t->id);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < n; k++)
                if (perm[k] == i)
                    sbuf_printf(b, " %zu", k + 1);
        sbuf_addc(b, '\n');
        free(perm);
        break;
    }
    case TASK_CLASSIFY: {
        size_t n = t->nitems, *perm = xmalloc(n * sizeof(size_t));
        task_item_order(t, seed, shuffle, perm);
        sbuf_printf(b, "%s:", t->id);
        for (size_t c = 0; c < t->ncats; c++) {
            bool any = false;
            for (size_t k = 0; k < n; k++)
                if (strcmp(t->items[perm[k]].category, t->cats[c].key) == 0) {
                    if (any)
                        sbuf_printf(b, ",%zu", k + 1);
                    else
                        sbuf_printf(b, " %s=%zu", t->cats[c].key, k + 1);
                    any = true;
                }
        }
        sbuf_addc(b, '\n');
        free(perm);
        break;
    }
    case TASK_NUMERIC:
    case TASK_NETWORK:
    case TASK_RUBRIC:
    case TASK_GIFT: {
        char *k = NULL;
        if (t->type == TASK_RUBRIC) {
            /* The model answer on one line; a rubric without one has no key. */
            if (t->model == NULL)
                break;
            k = xstrdup(t->model);
            for (char *p = k; *p; p++)
                if (*p == '\n' || *p == '\r')
                    *p = ' ';
        } else if (t->type == TASK_GIFT) {
            size_t order[26];
            gift_choice_order(&t->quiz.q[0], task_seed(t, seed), shuffle, order);
            k = gift_key_answer(&t->quiz.q[0], order);
        } else {
            k = key_text(t, seed, shuffle);
        }
        if (k)
            sbuf_printf(b, "%s: %s\n", t->id, k);
        free(k);
        break;
    }
    case TASK_POOL: {
        size_t *drawn = xcalloc(t->draw + 1, sizeof(size_t));
        task_pool_draw(t, seed, drawn);
        for (size_t k = 0; k < t->draw; k++) {
            const struct gift_question *q = &t->quiz.q[drawn[k]];
            size_t order[26];
            gift_choice_order(q, task_pool_seed(t, seed, k), shuffle, order);
            char *a = gift_key_answer(q, order);
            if (a)
                sbuf_printf(b, "%s.%zu: %s\n", t->id, k + 1, a);
            free(a);
        }
        free(drawn);
        break;
    }
    case TASK_REVIEW:
        break;
    }
}
