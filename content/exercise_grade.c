/* exercise_grade.c: grading answer documents, reviews, result rendering. */
#include "exercise.h"
#include "answer.h"
#include "msg.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when id names a task of ex, or a drawn question ID.K of a pool. */
static bool known_id(const struct exercise *ex, const char *id)
{
    if (exercise_task(ex, id))
        return true;
    const char *dot = strrchr(id, '.');
    if (dot == NULL)
        return false;
    char *base = xstrndup(id, (size_t)(dot - id));
    const struct task *t = exercise_task(ex, base);
    free(base);
    char *end;
    long k = strtol(dot + 1, &end, 10);
    return t && t->type == TASK_POOL && *end == '\0' && end != dot + 1 && k >= 1 &&
           (size_t)k <= t->draw;
}

static void recompute(struct grade_result *r)
{
    double sum = 0, wsum = 0;
    r->pending = 0;
    for (size_t i = 0; i < r->ntasks; i++) {
        sum += r->tasks[i].weight * r->tasks[i].score;
        wsum += r->tasks[i].weight;
        r->pending += r->tasks[i].pending;
    }
    r->score = wsum > 0 ? sum / wsum : 0;
    r->passed = r->pending == 0 && r->score >= r->pass - 1e-9;
}

int exercise_grade(const struct exercise *ex, uint64_t seed, const char *doc, size_t len,
                   struct grade_result *out, char *err, size_t errlen)
{
    return exercise_grade_lang(ex, seed, doc, len, NULL, out, err, errlen);
}

int exercise_grade_lang(const struct exercise *ex, uint64_t seed, const char *doc, size_t len,
                        const char *lang, struct grade_result *out, char *err, size_t errlen)
{
    struct answer_doc ad;

    memset(out, 0, sizeof(*out));
    if (answer_parse_lang(doc, len, &ad, content_msg, lang, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < ad.n; i++)
        if (!known_id(ex, ad.items[i].id)) {
            struct sbuf ids = {0};
            for (size_t k = 0; k < ex->ntasks; k++)
                if (!ex->tasks[k]->info)
                    sbuf_printf(&ids, "%s%s", ids.len ? ", " : "", ex->tasks[k]->id);
            snprintf(err, errlen,
                     content_msg(lang, "line %d: %s is not a task of this exercise (tasks: %s)"),
                     ad.items[i].line, ad.items[i].id, ids.data ? ids.data : "none");
            sbuf_free(&ids);
            answer_doc_free(&ad);
            return -1;
        }
    out->pass = ex->pass;
    out->tasks = xcalloc(ex->ntasks + 1, sizeof(*out->tasks));
    for (size_t i = 0; i < ex->ntasks; i++) {
        const struct task *t = ex->tasks[i];
        struct task_result tr;
        if (t->info)
            continue;
        if (task_grade_lang(t, seed, ex->shuffle, &ad, &tr, lang, err, errlen) < 0) {
            answer_doc_free(&ad);
            grade_result_free(out);
            return -1;
        }
        struct grade_task *g = &out->tasks[out->ntasks++];
        g->id = xstrdup(t->id);
        g->type = t->type;
        g->weight = t->weight;
        g->score = tr.score;
        g->pending = tr.pending;
        g->provisional = tr.provisional;
        g->suggested = tr.suggested;
        g->points = task_points(t);
        g->answered = tr.answered;
        g->feedback = tr.feedback;
        g->key = tr.key;
        g->response = tr.response;
    }
    answer_doc_free(&ad);
    recompute(out);
    return 0;
}

int grade_result_review(struct grade_result *r, const char *task_id, double score,
                        const char *feedback)
{
    for (size_t i = 0; i < r->ntasks; i++) {
        struct grade_task *g = &r->tasks[i];
        if (!g->pending || strcmp(g->id, task_id) != 0)
            continue;
        g->pending = false;
        g->provisional = false;
        g->score = score < 0 ? 0 : score > 100 ? 100 : score;
        if (feedback) {
            free(g->feedback);
            g->feedback = xstrdup(feedback);
        }
        recompute(r);
        return 0;
    }
    return -1;
}

void grade_result_free(struct grade_result *r)
{
    for (size_t i = 0; i < r->ntasks; i++) {
        free(r->tasks[i].id);
        free(r->tasks[i].feedback);
        free(r->tasks[i].key);
        free(r->tasks[i].response);
    }
    free(r->tasks);
    memset(r, 0, sizeof(*r));
}

/* Appends text with every line after the first indented by two spaces. */
static void add_indented(struct sbuf *b, const char *s)
{
    for (; *s; s++) {
        sbuf_addc(b, *s);
        if (*s == '\n')
            sbuf_adds(b, "  ");
    }
}

char *grade_result_text(const struct grade_result *r, bool reveal)
{
    return grade_result_text_shown(r, reveal ? EXERCISE_SHOW_KEYS : EXERCISE_SHOW_FEEDBACK);
}

char *grade_result_json(const struct grade_result *r, bool reveal)
{
    return grade_result_json_shown(r, reveal ? EXERCISE_SHOW_KEYS : EXERCISE_SHOW_FEEDBACK);
}

char *grade_result_text_shown(const struct grade_result *r, enum exercise_show show)
{
    return grade_result_text_lang(r, show, NULL);
}

char *grade_result_text_lang(const struct grade_result *r, enum exercise_show show,
                             const char *lang)
{
    struct sbuf b = {0};
    sbuf_printf(&b, content_msg(lang, "score %.1f %s (pass mark %g)\n"), r->score,
                content_msg(lang, r->pending ? "pending review" : r->passed ? "passed"
                                                                          : "not passed"),
                r->pass);
    for (size_t i = 0; i < r->ntasks; i++) {
        const struct grade_task *g = &r->tasks[i];
        if (g->provisional)
            sbuf_printf(&b, content_msg(lang, "%s provisional %.1f (a trainer confirms it)"), g->id,
                        g->suggested);
        else if (g->pending)
            sbuf_printf(&b, content_msg(lang, "%s pending review"), g->id);
        else
            sbuf_printf(&b, "%s %.1f", g->id, g->score);
        if (show >= EXERCISE_SHOW_FEEDBACK && g->feedback[0]) {
            sbuf_adds(&b, "\n  ");
            add_indented(&b, g->feedback);
        }
        sbuf_addc(&b, '\n');
        if (show >= EXERCISE_SHOW_KEYS && g->key) {
            sbuf_adds(&b, content_msg(lang, "  answer: "));
            add_indented(&b, g->key);
            sbuf_addc(&b, '\n');
        }
    }
    return sbuf_take(&b);
}

static json_t *rounded(double v)
{
    return json_real(round(v * 100) / 100);
}

char *grade_result_json_shown(const struct grade_result *r, enum exercise_show show)
{
    json_t *root = json_object(), *tasks = json_array();
    json_object_set_new(root, "score", rounded(r->score));
    json_object_set_new(root, "pass", rounded(r->pass));
    json_object_set_new(root, "passed", json_boolean(r->passed));
    json_object_set_new(root, "pending", json_integer((json_int_t)r->pending));
    json_object_set_new(root, "show", json_string(exercise_show_name(show)));
    for (size_t i = 0; i < r->ntasks; i++) {
        const struct grade_task *g = &r->tasks[i];
        json_t *t = json_object();
        json_object_set_new(t, "id", json_string(g->id));
        json_object_set_new(t, "type", json_string(task_type_name(g->type)));
        json_object_set_new(t, "weight", rounded(g->weight));
        json_object_set_new(t, "score", rounded(g->score));
        json_object_set_new(t, "pending", json_boolean(g->pending));
        if (g->provisional) {
            json_object_set_new(t, "provisional", json_true());
            json_object_set_new(t, "suggested", rounded(g->suggested));
        }
        json_object_set_new(t, "answered", json_boolean(g->answered));
        if (show >= EXERCISE_SHOW_FEEDBACK)
            json_object_set_new(t, "feedback", json_string(g->feedback));
        if (show >= EXERCISE_SHOW_KEYS && g->key)
            json_object_set_new(t, "key", json_string(g->key));
        json_array_append_new(tasks, t);
    }
    json_object_set_new(root, "tasks", tasks);
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    char *out = xstrdup(s ? s : "{}");
    free(s);
    return out;
}
