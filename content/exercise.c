/* exercise.c: building an exercise from its blocks, and its self-check. */
#include "exercise.h"
#include "task_yaml.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void add_task(struct exercise *ex, struct task *t)
{
    ex->tasks = xrealloc(ex->tasks, (ex->ntasks + 1) * sizeof(*ex->tasks));
    ex->tasks[ex->ntasks++] = t;
}

/* Reads the exercise settings from the front matter. Keys other than the
 * settings are the loader's business; YAML syntax errors too (the loader
 * reports them), so they are skipped here. */
static void read_settings(struct exercise *ex, const struct exercise_src *src,
                          struct diag_list *diags)
{
    yaml_document_t doc;
    char err[200];
    int eline;

    if (src->front_matter == NULL ||
        task_yaml_load(src->front_matter, src->front_matter_len, &doc, err, sizeof(err), &eline) < 0)
        return;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *n;
    int base = src->front_matter_line;
    double v;
    const char *s;

#define SETTING_ERROR(node, ...) \
    diag_add(diags, DIAG_ERROR, src->path, base + task_yaml_line(node), __VA_ARGS__)

    if ((n = task_yaml_get(&doc, root, "attempts", NULL))) {
        if (!task_yaml_number(n, &v) || v < 0 || v != floor(v) || v > 1000)
            SETTING_ERROR(n, "attempts is a whole number from 0 (unlimited) to 1000");
        else
            ex->attempts = (int)v;
    }
    if ((n = task_yaml_get(&doc, root, "pass", NULL))) {
        if (!task_yaml_number(n, &v) || v < 0 || v > 100)
            SETTING_ERROR(n, "pass is a number from 0 to 100");
        else
            ex->pass = v;
    }
    if ((n = task_yaml_get(&doc, root, "weight", NULL))) {
        if (!task_yaml_number(n, &v) || v < 0)
            SETTING_ERROR(n, "weight is a number, 0 or more");
        else
            ex->weight = v;
    }
    if ((n = task_yaml_get(&doc, root, "policy", NULL))) {
        s = task_yaml_str(n);
        if (s && !strcmp(s, "best"))
            ex->policy = EXERCISE_POLICY_BEST;
        else if (s && !strcmp(s, "last"))
            ex->policy = EXERCISE_POLICY_LAST;
        else if (s && !strcmp(s, "average"))
            ex->policy = EXERCISE_POLICY_AVERAGE;
        else
            SETTING_ERROR(n, "policy is best, last or average");
    }
    if ((n = task_yaml_get(&doc, root, "reveal", NULL))) {
        s = task_yaml_str(n);
        if (s && !strcmp(s, "never"))
            ex->reveal = EXERCISE_REVEAL_NEVER;
        else if (s && !strcmp(s, "after-pass"))
            ex->reveal = EXERCISE_REVEAL_AFTER_PASS;
        else if (s && !strcmp(s, "after-last-attempt"))
            ex->reveal = EXERCISE_REVEAL_AFTER_LAST_ATTEMPT;
        else
            SETTING_ERROR(n, "reveal is never, after-pass or after-last-attempt");
    }
    if ((n = task_yaml_get(&doc, root, "late", NULL))) {
        s = task_yaml_str(n);
        if (s && !strcmp(s, "count"))
            ex->late_counts = true;
        else if (s && !strcmp(s, "ignore"))
            ex->late_counts = false;
        else
            SETTING_ERROR(n, "late is count or ignore");
    }
    /* reveal: is the older spelling of show_when; show_when wins. */
    if (ex->reveal == EXERCISE_REVEAL_NEVER)
        ex->show_when = 0;
    else if (ex->reveal == EXERCISE_REVEAL_AFTER_LAST_ATTEMPT)
        ex->show_when = EXERCISE_WHEN_LAST;
    if ((n = task_yaml_get(&doc, root, "show", NULL))) {
        s = task_yaml_str(n);
        if (s && !strcmp(s, "score"))
            ex->show = EXERCISE_SHOW_SCORE;
        else if (s && !strcmp(s, "feedback"))
            ex->show = EXERCISE_SHOW_FEEDBACK;
        else if (s && !strcmp(s, "keys"))
            ex->show = EXERCISE_SHOW_KEYS;
        else
            SETTING_ERROR(n, "show is score, feedback or keys");
    }
    if ((n = task_yaml_get(&doc, root, "due", NULL))) {
        s = task_yaml_str(n);
        struct tm tm = {0};
        const char *end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
        if (end && *end == 'T')
            end = strptime(end + 1, "%H:%M:%S", &tm);
        if (end && *end == 'Z')
            end++;
        if (end == NULL || *end != '\0')
            SETTING_ERROR(n, "due is a date, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
        else
            ex->due = (long long)timegm(&tm) * 1000;
    }
    if ((n = task_yaml_get(&doc, root, "show_when", NULL))) {
        static const char *const names[] = { "attempt", "passed", "last", "due" };
        size_t count = n->type == YAML_SEQUENCE_NODE
                           ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) : 1;
        ex->show_when = 0;
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *w = n->type == YAML_SEQUENCE_NODE
                                 ? yaml_document_get_node(&doc, n->data.sequence.items.start[i]) : n;
            const char *v = task_yaml_str(w);
            bool ok = v && !strcmp(v, "never") && count == 1;
            for (unsigned k = 0; v && k < 4 && !ok; k++)
                if (!strcmp(v, names[k])) {
                    ex->show_when |= 1u << k;
                    ok = true;
                }
            if (!ok)
                SETTING_ERROR(w, "show_when is never, or one or a list of attempt, passed, last, due");
        }
        if ((ex->show_when & EXERCISE_WHEN_DUE) && ex->due == 0)
            SETTING_ERROR(n, "show_when: due needs a due: date");
    }
    if ((n = task_yaml_get(&doc, root, "shuffle", NULL)) && !task_yaml_bool(n, &ex->shuffle))
        SETTING_ERROR(n, "shuffle is true or false");
#undef SETTING_ERROR
    yaml_document_delete(&doc);
}

/* Turns each question of a gift block into a task q1, q2, ...; descriptions
 * become info tasks. */
static void add_gift_block(struct exercise *ex, const struct exercise_block *b,
                           const struct exercise_src *src, struct diag_list *diags, size_t *qno)
{
    struct gift_quiz quiz = {0};
    gift_parse(b->text, b->len, b->first_line, src->path, diags, &quiz);
    for (size_t i = 0; i < quiz.n; i++) {
        struct task *t = xcalloc(1, sizeof(*t));
        t->type = TASK_GIFT;
        t->line = quiz.q[i].line;
        t->weight = 1;
        t->prompt = xstrdup("");
        t->feedback = xstrdup("");
        t->info = quiz.q[i].type == GIFT_DESCRIPTION;
        t->id = t->info ? xstrdup("") : xasprintf("q%zu", ++*qno);
        if (t->info)
            t->weight = 0;
        t->quiz.q = xmalloc(sizeof(*t->quiz.q));
        t->quiz.q[0] = quiz.q[i];
        t->quiz.n = 1;
        add_task(ex, t);
    }
    free(quiz.q);
}

struct exercise *exercise_build(const struct exercise_src *src, struct diag_list *diags)
{
    struct exercise *ex = xcalloc(1, sizeof(*ex));
    size_t errors = diags->errors, qno = 0, gradable = 0;

    ex->path = xstrdup(src->path ? src->path : "");
    ex->course_id = xstrdup(src->course_id ? src->course_id : "");
    ex->id = xstrdup(src->exercise_id ? src->exercise_id : "");
    ex->title = xstrdup(src->title ? src->title : "");
    ex->pass = 60;
    ex->weight = 1;
    ex->policy = EXERCISE_POLICY_BEST;
    ex->reveal = EXERCISE_REVEAL_AFTER_PASS;
    ex->late_counts = true;
    /* Against brute force: scores and feedback after each attempt, keys
     * only once passed or when no attempt is left. */
    ex->show = EXERCISE_SHOW_FEEDBACK;
    ex->show_when = EXERCISE_WHEN_PASSED | EXERCISE_WHEN_LAST;
    ex->shuffle = true;
    read_settings(ex, src, diags);

    for (size_t i = 0; i < src->nblocks; i++) {
        const struct exercise_block *b = &src->blocks[i];
        if (b->kind == EXERCISE_BLOCK_GIFT) {
            add_gift_block(ex, b, src, diags, &qno);
            continue;
        }
        struct task *t = task_parse(b->text, b->len, b->first_line, src->path, src->tables,
                                    src->ntables, diags);
        if (t == NULL)
            continue;
        if (exercise_task(ex, t->id)) {
            diag_add(diags, DIAG_ERROR, src->path, t->line,
                     "task id %s is used twice in this exercise", t->id);
            task_free(t);
            continue;
        }
        add_task(ex, t);
    }
    /* Gift questions are numbered q1, q2 ...: a task may not take those ids. */
    for (size_t i = 0; i < ex->ntasks; i++)
        for (size_t j = i + 1; j < ex->ntasks; j++)
            if (ex->tasks[i]->id[0] && strcmp(ex->tasks[i]->id, ex->tasks[j]->id) == 0) {
                size_t later = ex->tasks[i]->line > ex->tasks[j]->line ? i : j;
                diag_add(diags, DIAG_ERROR, src->path, ex->tasks[later]->line,
                         "task id %s is also the number of a quiz question", ex->tasks[j]->id);
            }
    for (size_t i = 0; i < ex->ntasks; i++)
        gradable += !ex->tasks[i]->info;
    if (gradable == 0 && diags->errors == errors)
        diag_add(diags, DIAG_ERROR, src->path, src->blocks && src->nblocks ?
                 src->blocks[0].first_line : 0, "the exercise has no question or task to answer");
    if (diags->errors != errors) {
        exercise_free(ex);
        return NULL;
    }
    return ex;
}

void exercise_free(struct exercise *ex)
{
    if (ex == NULL)
        return;
    for (size_t i = 0; i < ex->ntasks; i++)
        task_free(ex->tasks[i]);
    free(ex->tasks);
    free(ex->path);
    free(ex->course_id);
    free(ex->id);
    free(ex->title);
    free(ex);
}

int exercise_attempts(const struct exercise *ex) { return ex->attempts; }
double exercise_pass(const struct exercise *ex) { return ex->pass; }
enum exercise_policy exercise_policy(const struct exercise *ex) { return ex->policy; }
double exercise_weight(const struct exercise *ex) { return ex->weight; }
enum exercise_reveal exercise_reveal(const struct exercise *ex) { return ex->reveal; }

const char *exercise_policy_name(enum exercise_policy p)
{
    return p == EXERCISE_POLICY_LAST ? "last" : p == EXERCISE_POLICY_AVERAGE ? "average" : "best";
}

const char *exercise_reveal_name(enum exercise_reveal r)
{
    return r == EXERCISE_REVEAL_NEVER ? "never"
         : r == EXERCISE_REVEAL_AFTER_LAST_ATTEMPT ? "after-last-attempt" : "after-pass";
}

const char *exercise_show_name(enum exercise_show s)
{
    return s == EXERCISE_SHOW_SCORE ? "score" : s == EXERCISE_SHOW_KEYS ? "keys" : "feedback";
}

enum exercise_show exercise_shown(const struct exercise *ex, bool passed, long attempt,
                                  long long now_ms)
{
    unsigned w = ex->show_when;

    if ((w & EXERCISE_WHEN_ATTEMPT) || ((w & EXERCISE_WHEN_PASSED) && passed) ||
        ((w & EXERCISE_WHEN_LAST) && ex->attempts > 0 && attempt >= ex->attempts) ||
        ((w & EXERCISE_WHEN_DUE) && ex->due > 0 && now_ms >= ex->due))
        return EXERCISE_SHOW_KEYS;
    return ex->show;
}

double exercise_policy_score(enum exercise_policy p, const double *scores, size_t n)
{
    double v = 0;
    if (n == 0)
        return 0;
    switch (p) {
    case EXERCISE_POLICY_BEST:
        for (size_t i = 0; i < n; i++)
            v = scores[i] > v ? scores[i] : v;
        return v;
    case EXERCISE_POLICY_LAST:
        return scores[n - 1];
    case EXERCISE_POLICY_AVERAGE:
        for (size_t i = 0; i < n; i++)
            v += scores[i];
        return v / (double)n;
    }
    return 0;
}

const struct task *exercise_task(const struct exercise *ex, const char *id)
{
    for (size_t i = 0; i < ex->ntasks; i++)
        if (!ex->tasks[i]->info && strcmp(ex->tasks[i]->id, id) == 0)
            return ex->tasks[i];
    return NULL;
}

/* Checks every question of a gift or pool task on its own: its key scores
 * 100 and each wrong option of a choice question less. */
static int check_questions(const struct task *t, const char *path, struct diag_list *diags)
{
    int rc = 0;
    for (size_t i = 0; i < t->quiz.n; i++) {
        const struct gift_question *q = &t->quiz.q[i];
        size_t order[26];
        gift_choice_order(q, 0, false, order);
        char *key = gift_key_answer(q, order);
        struct gift_grade g;
        char err[200];
        if (key) {
            bool full = gift_grade(q, order, key, &g, err, sizeof(err)) == 0 &&
                        fabs(g.score - 100) <= 1e-6;
            if (g.feedback)
                free(g.feedback);
            if (!full) {
                diag_add(diags, DIAG_ERROR, path, q->line,
                         "self-check: question does not score 100 with its own key (%s)", key);
                rc = -1;
            }
        }
        free(key);
        if (q->type != GIFT_CHOICE)
            continue;
        for (size_t p = 0; p < q->nanswers; p++) {
            char letter[2] = { (char)('a' + p), '\0' };
            if (q->answers[p].weight >= 100)
                continue;
            bool below = gift_grade(q, order, letter, &g, err, sizeof(err)) == 0 && g.score < 100;
            if (g.feedback)
                free(g.feedback);
            if (!below) {
                diag_add(diags, DIAG_ERROR, path, q->line,
                         "self-check: wrong option %s scores 100", q->answers[p].text);
                rc = -1;
            }
        }
    }
    return rc;
}

/* Grades a rubric task's model answer (it must score 100) and its bad
 * examples (each must stay below the exercise's pass mark). */
static int check_rubric(const struct exercise *ex, const struct task *t, struct diag_list *diags)
{
    int rc = 0;
    struct rubric_verdict v;
    if (t->model == NULL)
        diag_add(diags, DIAG_WARNING, ex->path, t->line,
                 "task %s: a rubric without \"model\" is not self-checked", t->id);
    else if (rubric_grade(&t->rubric, t->model, &v) < 100 - 1e-6) {
        char *f = rubric_feedback(&t->rubric, &v);
        diag_add(diags, DIAG_ERROR, ex->path, t->model_line,
                 "self-check: the model answer of task %s scores %.1f: %s", t->id, v.score, f);
        free(f);
        rc = -1;
    }
    if (t->model)
        rubric_verdict_free(&v);
    for (size_t k = 0; k < t->nbad; k++) {
        if (rubric_grade(&t->rubric, t->bad[k], &v) >= ex->pass) {
            diag_add(diags, DIAG_ERROR, ex->path, t->bad_lines[k],
                     "self-check: bad example %zu of task %s scores %.1f, not below the pass "
                     "mark %g", k + 1, t->id, v.score, ex->pass);
            rc = -1;
        }
        rubric_verdict_free(&v);
    }
    return rc;
}

void exercise_set_case_text(struct exercise *ex, const char *text)
{
    for (size_t i = 0; i < ex->ntasks; i++) {
        struct rubric *r = &ex->tasks[i]->rubric;
        if (ex->tasks[i]->type != TASK_RUBRIC || text == NULL)
            continue;
        char *both = xasprintf("%s\n%s", r->prompt ? r->prompt : "", text);
        free(r->prompt);
        r->prompt = both;
    }
}

int exercise_self_check(const struct exercise *ex, struct diag_list *diags)
{
    static const uint64_t seeds[] = { 0, 1, 0x5EEDULL, 0xC0FFEE12345ULL };
    int rc = 0;

    for (size_t i = 0; i < ex->ntasks; i++)
        if (ex->tasks[i]->type == TASK_GIFT || ex->tasks[i]->type == TASK_POOL)
            if (check_questions(ex->tasks[i], ex->path, diags) < 0)
                rc = -1;
    for (size_t i = 0; i < ex->ntasks; i++)
        if (ex->tasks[i]->type == TASK_RUBRIC && check_rubric(ex, ex->tasks[i], diags) < 0)
            rc = -1;
    if (rc)
        return rc;
    for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
        struct sbuf doc = {0};
        for (size_t i = 0; i < ex->ntasks; i++)
            if (!ex->tasks[i]->info)
                task_key_lines(ex->tasks[i], seeds[s], ex->shuffle, &doc);
        struct grade_result r;
        char err[300];
        if (exercise_grade(ex, seeds[s], doc.data ? doc.data : "", doc.len, &r, err,
                           sizeof(err)) < 0) {
            diag_add(diags, DIAG_ERROR, ex->path, ex->ntasks ? ex->tasks[0]->line : 0,
                     "self-check: the exercise's own key is refused: %s", err);
            sbuf_free(&doc);
            return -1;
        }
        for (size_t i = 0; i < r.ntasks; i++) {
            const struct task *t = exercise_task(ex, r.tasks[i].id);
            if (t && t->type == TASK_RUBRIC)
                continue; /* checked on its own above */
            /* A provisional score is checked as the suggestion it is. */
            double sc = r.tasks[i].provisional ? r.tasks[i].suggested : r.tasks[i].score;
            if ((!r.tasks[i].pending || r.tasks[i].provisional) && fabs(sc - 100) > 1e-6 &&
                rc == 0) {
                diag_add(diags, DIAG_ERROR, ex->path, t ? t->line : 0,
                         "self-check: task %s scores %.1f with its own key", r.tasks[i].id, sc);
                rc = -1;
            }
        }
        grade_result_free(&r);
        sbuf_free(&doc);
        if (rc)
            break;
    }
    return rc;
}
