/* cmd-review.c: the trainer's REVIEW queue: LIST, SHOW (the answer with the
 * task's points, marking guide, model answer, rubric and the machine's
 * suggestion) and GRADE (on the task's own points, by rubric levels, or by
 * confirming a provisional score). Scores are stored as percentages. */
#include "campusd.h"
#include "cohort.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "exercise.h"
#include "keys.h"
#include "scripts.h"

/* A trainer's comment, per criterion or overall: one line of text. */
#define REVIEW_COMMENT_MAX 4096

enum review_how { REVIEW_BY_POINTS, REVIEW_BY_RUBRIC, REVIEW_BY_CONFIRM };

/* A REVIEW that waits on Redis; holds the catalogue so a reload cannot
 * free the exercise meanwhile. */
struct review_op {
    struct req *req;
    struct catalog *cat;
    const struct lesson *lesson;
    const struct exercise *ex;
    const struct task *task;
    char *user;                  /* the learner */
    char *key;                   /* their attempts list */
    long attempt;
    char *id;                    /* the queue entry */
    json_t *item;                /* the queue item */
    char *record;                /* the attempt record as read */
    enum review_how how;
    double points;               /* REVIEW_BY_POINTS: on the task's scale */
    char *comment;               /* overall, "" when none */
    double score;                /* the attempt's new score, for the answer */
};

static void op_free(struct review_op *op)
{
    catalog_unref(op->cat);
    free(op->user);
    free(op->key);
    free(op->id);
    json_decref(op->item);
    free(op->record);
    free(op->comment);
    free(op);
}

static void fail(struct review_op *op, int code, const char *msg)
{
    req_reply(op->req, code, "%s", msg);
    op_free(op);
}

/* Points as a trainer types them: a whole number or a half ("7", "7.5"),
 * strictly (arg_parse_ll for the whole part; only ".5" after it), from 0
 * to max. Returns 0 and sets *out, or -1. */
static int review_parse_points(const char *s, size_t len, double max, double *out)
{
    const char *dot = memchr(s, '.', len);
    size_t whole = dot ? (size_t)(dot - s) : len;
    long long v;

    if (arg_parse_ll(s, whole, 0, LLONG_MAX / 4, &v) < 0)
        return -1;
    if (dot && !(len - whole == 2 && dot[1] == '5'))
        return -1;
    double p = (double)v + (dot ? 0.5 : 0);
    if (p > max + 1e-9)
        return -1;
    *out = p;
    return 0;
}

/* ---- LIST ---- */

static void review_list_cb(redisReply *reply, const char *err, void *priv)
{
    struct review_op *op = priv;
    struct req *req = op->req;
    const char *course = req->args.argc > 2 ? req->args.argv[2] : NULL;
    size_t shown = 0;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        fail(op, 503, REQ_STORE_UNAVAILABLE);
        return;
    }
    req_table(req, 6, "id", "learner", "exercise", "attempt", "task", "submitted");
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        json_t *it = json_loads(reply->element[i + 1]->str, 0, NULL);
        const char *ex = json_string_value(json_object_get(it, "exercise"));
        if (it && ex && (course == NULL || (strncmp(ex, course, strlen(course)) == 0 &&
                                            ex[strlen(course)] == '/'))) {
            char n[16], t[TIME_ISO_MAX];
            time_iso(json_integer_value(json_object_get(it, "t")), false, t);
            snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(json_object_get(it, "attempt")));
            req_row(req, 6, reply->element[i]->str, json_string_value(json_object_get(it, "user")),
                    ex, n, json_string_value(json_object_get(it, "task")), t);
            shown++;
        }
        json_decref(it);
    }
    req_reply_data(req, 200, "%zu waiting", shown);
    op_free(op);
}

/* ---- SHOW and GRADE: the item, then the attempt record ---- */

static void review_record_cb(redisReply *reply, const char *err, void *priv);

static void review_item_cb(redisReply *reply, const char *err, void *priv)
{
    struct review_op *op = priv;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        fail(op, 503, REQ_STORE_UNAVAILABLE);
        return;
    }
    if (reply->type != REDIS_REPLY_STRING || (op->item = json_loads(reply->str, 0, NULL)) == NULL) {
        req_reply(op->req, 404, "no review '%s' waiting", op->id);
        op_free(op);
        return;
    }
    const char *user = json_string_value(json_object_get(op->item, "user"));
    const char *ex = json_string_value(json_object_get(op->item, "exercise"));
    const char *task = json_string_value(json_object_get(op->item, "task"));
    op->attempt = (long)json_integer_value(json_object_get(op->item, "attempt"));
    op->lesson = catalog_lesson(op->cat, ex ? ex : "");
    if (user == NULL || task == NULL || op->lesson == NULL || op->lesson->exercise == NULL) {
        req_reply(op->req, 404, "review '%s' is for an exercise no longer in the catalogue", op->id);
        op_free(op);
        return;
    }
    op->ex = op->lesson->exercise;
    op->task = exercise_task(op->ex, task);
    op->user = xstrdup(user);
    op->key = key_new(KEY_ATTEMPTS, user, op->lesson->full_id);
    if (store_command(review_record_cb, op, "LINDEX %s %ld", op->key, op->attempt - 1) < 0)
        fail(op, 503, REQ_STORE_UNAVAILABLE);
}

static json_t *record_task(json_t *rec, const char *task_id)
{
    size_t i;
    json_t *t;

    json_array_foreach(json_object_get(rec, "tasks"), i, t) {
        const char *id = json_string_value(json_object_get(t, "id"));
        if (id && strcmp(id, task_id) == 0)
            return t;
    }
    return NULL;
}

static const char *task_id_of(const struct review_op *op)
{
    return json_string_value(json_object_get(op->item, "task"));
}

/* The task's points for this review: the task's own, or a percentage when
 * the task is gone from the catalogue. */
static double review_max(const struct review_op *op)
{
    return op->task ? task_points(op->task) : 100;
}

static void review_show(struct review_op *op, json_t *rec)
{
    const struct task *task = op->task;
    json_t *t = record_task(rec, task_id_of(op));
    struct sbuf b = {0};
    double max = review_max(op);
    char pts[32];

    snprintf(pts, sizeof(pts), "%g", max);
    sbuf_printf(&b, "Review %s: %s, attempt %ld of %s\n\n", op->id, op->user, op->attempt,
                op->lesson->full_id);
    sbuf_printf(&b, "Task %s%s%s\n\n", task_id_of(op), task && task->prompt[0] ? ": " : "",
                task ? task->prompt : "");
    sbuf_printf(&b, "Points: %s (grade on this scale; stored as a percentage)\n\n", pts);
    sbuf_printf(&b, "Answer:\n%s\n", t ? json_string_value(json_object_get(t, "response")) : "");
    if (t && json_is_true(json_object_get(t, "provisional"))) {
        double s = json_real_value(json_object_get(t, "suggested"));
        const char *ev = json_string_value(json_object_get(t, "feedback"));
        sbuf_printf(&b, "\nSuggested by the grader: %.4g of %s points (%.1f%%); REVIEW GRADE %s "
                    "confirm takes it\n", s * max / 100, pts, s, op->id);
        if (ev && ev[0])
            sbuf_printf(&b, "Evidence the grader matched:\n%s\n", ev);
    }
    if (task && task->guide && task->guide[0])
        sbuf_printf(&b, "\nMarking guide:\n%s\n", task->guide);
    else if (task && task->feedback[0])
        sbuf_printf(&b, "\nGuidance for the trainer:\n%s\n", task->feedback);
    if (task && task->model && task->model[0])
        sbuf_printf(&b, "\nModel answer:\n%s\n", task->model);
    if (task && task->ncriteria) {
        sbuf_adds(&b, "\nRubric (REVIEW GRADE id rubric, one 'criterion points [comment]' line each):\n");
        for (size_t i = 0; i < task->ncriteria; i++) {
            const struct task_criterion *c = &task->criteria[i];
            sbuf_printf(&b, "  %s: %s (up to %g)\n", c->id, c->name, c->max);
            for (size_t k = 0; k < c->nlevels; k++)
                sbuf_printf(&b, "    %g  %s\n", c->levels[k].points, c->levels[k].text);
        }
    }
    req_meta(op->req, "task", task_id_of(op));
    req_meta(op->req, "points", pts);
    /* The same parts one by one, for a page that lays them out side by side
     * (HTTP only: CTP/1 carries the text above). */
    req_meta(op->req, "learner", op->user);
    req_meta(op->req, "exercise", op->lesson->full_id);
    req_meta(op->req, "title", op->lesson->title);
    req_meta_int(op->req, "attempt", op->attempt);
    req_meta(op->req, "prompt", task ? task->prompt : "");
    req_meta(op->req, "answer", t ? json_string_value(json_object_get(t, "response")) : "");
    req_meta(op->req, "guide", task && task->guide && task->guide[0] ? task->guide
                               : task ? task->feedback : "");
    req_meta(op->req, "model", task && task->model ? task->model : "");
    if (t && json_is_true(json_object_get(t, "provisional"))) {
        char sug[32];
        snprintf(sug, sizeof(sug), "%.4g", json_real_value(json_object_get(t, "suggested")) * max / 100);
        req_meta(op->req, "suggested", sug);
    }
    if (task && task->ncriteria) {
        json_t *rubric = json_array();
        for (size_t i = 0; i < task->ncriteria; i++) {
            const struct task_criterion *c = &task->criteria[i];
            json_t *levels = json_array();
            for (size_t k = 0; k < c->nlevels; k++)
                json_array_append_new(levels, json_pack("{s:f,s:s}", "points", c->levels[k].points,
                                                        "text", c->levels[k].text));
            json_array_append_new(rubric, json_pack("{s:s,s:s,s:f,s:o}", "id", c->id, "name", c->name,
                                                    "max", c->max, "levels", levels));
        }
        req_meta_json(op->req, "rubric", rubric);
    }
    req_reply_text(op->req, 200, op->id, "text/plain; charset=utf-8", b.data, b.len);
    sbuf_free(&b);
}

/* The levels of a rubric grade, one "criterion points [comment]" line per
 * criterion of the task, each criterion once. Returns the levels as the
 * record keeps them and their points in *sum, or NULL with a message. */
static json_t *parse_levels(const struct task *task, const char *doc, size_t len, double *sum,
                            char *err, size_t errlen)
{
    json_t *levels = json_array();
    const char *p = doc, *end = doc + len;
    int line = 0;

    *sum = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *ln = xstrndup(p, n);
        p += n + (nl ? 1 : 0);
        line++;
        ln[strcspn(ln, "\r")] = '\0';
        if (ln[strspn(ln, " \t")] == '\0') {
            free(ln);
            continue;
        }
        char *crit = ln, *sp = strchr(ln, ' ');
        char *pts = sp ? sp + 1 : NULL, *comment = NULL;
        if (sp)
            *sp = '\0';
        if (pts && (sp = strchr(pts, ' '))) {
            *sp = '\0';
            comment = sp + 1;
        }
        const struct task_criterion *c = task_criterion_find(task, crit);
        double v;
        const struct task_level *lv = NULL;
        if (c == NULL) {
            snprintf(err, errlen, "line %d: %.64s is not a criterion of task %s", line, crit, task->id);
        } else if (pts == NULL || review_parse_points(pts, strlen(pts), c->max, &v) < 0 ||
                   (lv = task_level_find(c, v)) == NULL) {
            struct sbuf l = {0};
            for (size_t k = 0; k < c->nlevels; k++)
                sbuf_printf(&l, "%s%g", k ? ", " : "", c->levels[k].points);
            snprintf(err, errlen, "line %d: criterion %s takes the points of one of its levels (%s)",
                     line, c->id, l.data);
            sbuf_free(&l);
        } else if (comment && strlen(comment) > REVIEW_COMMENT_MAX) {
            snprintf(err, errlen, "line %d: a comment is at most %d bytes", line, REVIEW_COMMENT_MAX);
            lv = NULL;
        } else {
            size_t i;
            json_t *x;
            json_array_foreach(levels, i, x)
                if (strcmp(json_string_value(json_object_get(x, "criterion")), c->id) == 0) {
                    snprintf(err, errlen, "line %d: criterion %s is graded twice", line, c->id);
                    lv = NULL;
                }
        }
        if (lv == NULL) {
            free(ln);
            json_decref(levels);
            return NULL;
        }
        json_t *x = json_pack("{s:s,s:s,s:f,s:f,s:s,s:s}", "criterion", c->id, "name", c->name,
                              "points", lv->points, "max", c->max, "level", lv->text, "comment",
                              comment ? comment : "");
        free(ln);
        if (x == NULL) {
            snprintf(err, errlen, "line %d: a comment must be UTF-8 text", line);
            json_decref(levels);
            return NULL;
        }
        json_array_append_new(levels, x);
        *sum += lv->points;
    }
    for (size_t i = 0; i < task->ncriteria; i++) {
        bool seen = false;
        size_t k;
        json_t *x;
        json_array_foreach(levels, k, x)
            seen |= strcmp(json_string_value(json_object_get(x, "criterion")), task->criteria[i].id) == 0;
        if (!seen) {
            snprintf(err, errlen, "criterion %s has no level (every criterion gets one)",
                     task->criteria[i].id);
            json_decref(levels);
            return NULL;
        }
    }
    return levels;
}

static void review_updated_cb(redisReply *reply, const char *err, void *priv);
static void review_confirmed(void *priv, enum store_confirm res);

/* Takes the entry off the queue (with its index). Returns 0 (cb, which may
 * be NULL, hears the reply) or -1 when the store is not up. */
static int review_done(struct review_op *op, store_cb *cb)
{
    char *field = xasprintf("%s %s %ld %s", op->user, op->lesson->full_id, op->attempt,
                            task_id_of(op));
    const char *argv[] = { KEY_REVIEW_QUEUE, KEY_REVIEW_ITEMS, KEY_REVIEW_INDEX, op->id, field };
    int rc = script_call(SCRIPT_REVIEW_DONE, cb, op, 3, 5, argv);
    free(field);
    return rc;
}

static void review_grade(struct review_op *op, json_t *rec)
{
    struct req *req = op->req;
    const char *task_id = task_id_of(op);
    json_t *t = record_task(rec, task_id);
    json_t *levels = NULL;
    double max = review_max(op), pts = op->points;
    char err[300];

    if (t == NULL || !json_is_true(json_object_get(t, "pending"))) {
        /* A stale entry (a repair pass may race a grade): it leaves the queue. */
        review_done(op, NULL);
        req_reply(req, 409, "review '%s' was already graded", op->id);
        op_free(op);
        return;
    }
    if (op->how == REVIEW_BY_CONFIRM) {
        if (!json_is_true(json_object_get(t, "provisional"))) {
            fail(op, 400, "nothing to confirm: this answer has no suggested score; grade it on points");
            return;
        }
        pts = json_real_value(json_object_get(t, "suggested")) * max / 100;
    } else if (op->how == REVIEW_BY_RUBRIC) {
        const char *doc = req->args.argv[req->args.argc - 1];
        if (op->task == NULL || op->task->ncriteria == 0) {
            fail(op, 400, "this task has no rubric; grade it on points");
            return;
        }
        if ((levels = parse_levels(op->task, doc, req->args.argl[req->args.argc - 1], &pts, err,
                                   sizeof(err))) == NULL) {
            fail(op, 400, err);
            return;
        }
    } else if (op->task && op->task->ncriteria) {
        /* A rubric's score follows from its levels, never from a number. */
        fail(op, 400, "this task has a rubric: grade it with REVIEW GRADE id rubric {N}");
        return;
    }
    double score = max > 0 ? pts * 100 / max : 0;
    json_object_set_new(t, "score", json_real(score));
    json_object_set_new(t, "points", json_real(pts));
    json_object_set_new(t, "max", json_real(max));
    json_object_set_new(t, "pending", json_false());
    json_object_del(t, "provisional");
    json_object_set_new(t, "comment", json_string(op->comment));
    json_object_set_new(t, "confirmed", json_boolean(op->how == REVIEW_BY_CONFIRM));
    if (levels)
        json_object_set_new(t, "levels", levels);
    json_object_set_new(t, "reviewer", json_string(req->user));
    json_object_set_new(t, "reviewed", json_integer((json_int_t)now_wall_ms()));

    /* Recompute the attempt: the weighted mean, passed once nothing waits. */
    double sum = 0, wsum = 0;
    int pending = 0;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(rec, "tasks"), i, x) {
        double w = json_real_value(json_object_get(x, "weight"));
        sum += w * json_real_value(json_object_get(x, "score"));
        wsum += w;
        pending += json_is_true(json_object_get(x, "pending"));
    }
    score = wsum > 0 ? sum / wsum : 0;
    bool passed = pending == 0 && score >= json_real_value(json_object_get(rec, "pass")) - 1e-9;
    json_object_set_new(rec, "score", json_real(score));
    json_object_set_new(rec, "pending", json_integer(pending));
    json_object_set_new(rec, "passed", json_boolean(passed));
    op->score = score;

    char *json = json_dumps(rec, JSON_COMPACT);
    char *passed_key = key_new(KEY_PASSED, op->user);
    char *events_key = key_new(KEY_EVENTS, op->user);
    char *pending_key = key_new(KEY_REVIEWS_PENDING, op->user);
    char *marker = xasprintf("%s %ld %s", op->lesson->full_id, op->attempt, task_id);
    char idx[24], ms[32], score01[32], maxlen[16];
    snprintf(idx, sizeof(idx), "%ld", op->attempt - 1);
    snprintf(ms, sizeof(ms), "%lld", now_wall_ms());
    snprintf(score01, sizeof(score01), "%.4f", score / 100.0);
    snprintf(maxlen, sizeof(maxlen), "%d", KEYS_EVENTS_MAX);
    const char *argv[] = { op->key, passed_key, events_key, pending_key, idx, op->record, json,
                           op->lesson->full_id, ms, passed ? "1" : "0", score01, maxlen, marker };
    int rc = json ? script_call(SCRIPT_ATTEMPT_UPDATE, review_updated_cb, op, 4, 13, argv) : -1;
    free(json);
    free(passed_key);
    free(events_key);
    free(pending_key);
    free(marker);
    if (rc < 0)
        fail(op, 503, REQ_STORE_UNAVAILABLE);
}

static void graded_answer(struct review_op *op, const char *extra)
{
    req_reply(op->req, 200, "graded: %s attempt %ld of %s now scores %.1f%s", op->user, op->attempt,
              op->lesson->full_id, op->score, extra);
    op_free(op);
}

static void review_dequeued_cb(redisReply *reply, const char *err, void *priv)
{
    graded_answer(priv, "");
}

static void review_updated_cb(redisReply *reply, const char *err, void *priv)
{
    struct review_op *op = priv;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        fail(op, 503, REQ_STORE_UNAVAILABLE);
        return;
    }
    if (reply->integer == 0) {
        fail(op, 409, "the attempt changed while it was graded; try again");
        return;
    }
    store_confirm(review_confirmed, op);
}

/* The grade is told to the trainer only once the replicas have it. */
static void review_confirmed(void *priv, enum store_confirm res)
{
    struct review_op *op = priv;

    if (res != STORE_CONFIRMED) {
        fail(op, 503, res == STORE_UNCONFIRMED ? STORE_NOT_CONFIRMED : "progress store unavailable");
        return;
    }
    /* The learner's next session counts this review as new until they read
     * the exercise's ATTEMPTS. Sent on its own: should it be lost, only the
     * notice is, never the grade. */
    char *newkey = key_new(KEY_REVIEWS_NEW, op->user);
    store_command(NULL, NULL, "HINCRBY %s %s 1", newkey, op->lesson->full_id);
    free(newkey);
    /* The learner's record is final; the queue entry goes next (another tag). */
    if (review_done(op, review_dequeued_cb) < 0)
        graded_answer(op, " (queue entry left)");
}

static void review_record_cb(redisReply *reply, const char *err, void *priv)
{
    struct review_op *op = priv;
    json_t *rec;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        fail(op, 503, REQ_STORE_UNAVAILABLE);
        return;
    }
    if (reply->type != REDIS_REPLY_STRING || (rec = json_loads(reply->str, 0, NULL)) == NULL) {
        req_reply(op->req, 404, "the attempt of review '%s' is gone", op->id);
        op_free(op);
        return;
    }
    op->record = xstrdup(reply->str);
    if (strcasecmp(op->req->args.argv[1], "SHOW") == 0) {
        review_show(op, rec);
        op_free(op);
    } else {
        review_grade(op, rec);
    }
    json_decref(rec);
}

/* GRADE's own checks, before any lookup: the form (points, confirm or
 * rubric), its number and its comment. Answers 400 and returns -1. */
static int grade_args(struct review_op *op)
{
    struct req *req = op->req;
    int argc = req->args.argc;
    const char *how = req->args.argv[3];
    int ci = -1;                 /* the argument holding the overall comment */

    if (strcasecmp(how, "rubric") == 0) {
        if (argc != 5 && argc != 6)
            goto usage;
        op->how = REVIEW_BY_RUBRIC;
        ci = argc == 6 ? 4 : -1;
    } else if (strcasecmp(how, "confirm") == 0) {
        if (argc > 5)
            goto usage;
        op->how = REVIEW_BY_CONFIRM;
        ci = argc == 5 ? 4 : -1;
    } else {
        if (argc > 5)
            goto usage;
        /* The task's scale is known once the item is read; the number's
         * form is checked now (whole or half, strictly). */
        if (review_parse_points(how, req->args.argl[3], 1e12, &op->points) < 0) {
            req_reply(req, 400, "points must be a whole number or a half (7, 7.5), on the task's "
                                "scale (see REVIEW SHOW)");
            return -1;
        }
        op->how = REVIEW_BY_POINTS;
        ci = argc == 5 ? 4 : -1;
    }
    if (ci > 0 && (req->args.argl[ci] > REVIEW_COMMENT_MAX || memchr(req->args.argv[ci], '\0',
                                                                      req->args.argl[ci]))) {
        req_reply(req, 400, "a comment is text of at most %d bytes", REVIEW_COMMENT_MAX);
        return -1;
    }
    op->comment = xstrdup(ci > 0 ? req->args.argv[ci] : "");
    json_t *probe = json_string(op->comment);   /* jansson takes UTF-8 only */
    if (probe == NULL) {
        req_reply(req, 400, "a comment must be UTF-8 text");
        return -1;
    }
    json_decref(probe);
    return 0;
usage:
    req_reply(req, 400, "usage: %s", req->cmd->usage);
    return -1;
}

/* The points of a points-grade are checked against the task's once the
 * item names it. */
static void review_item_points_cb(redisReply *reply, const char *err, void *priv);

/* REVIEW LIST [course] | REVIEW SHOW id | REVIEW GRADE id points|confirm [comment]
 * | REVIEW GRADE id rubric [comment] {N} */
/* The op every sub-verb works on, or NULL after answering. */
static struct review_op *review_op_new(struct req *req)
{
    struct catalog *cat = courses_current();

    if (cat == NULL) {
        req_reply(req, 503, "no courses loaded");
        return NULL;
    }
    struct review_op *op = xcalloc(1, sizeof(*op));
    op->req = req;
    op->cat = catalog_ref(cat);
    return op;
}

/* REVIEW LIST [course] [cohort:ID] */
static void review_list(struct req *req)
{
    /* A trainer who runs cohorts sees only their learners' answers
     * (cohort-gate.c takes cohort:ID out, filters the rows and calls us
     * again). */
    if (cohort_review_filter(req, review_list))
        return;
    if (req->args.argc > 3) {
        req_reply(req, 400, "usage: %s", req->sub->usage);
        return;
    }
    if (req->args.argc == 3 && !id_valid_n(req->args.argv[2], req->args.argl[2])) {
        req_reply(req, 400, "bad course id (use a-z, 0-9 and -)");
        return;
    }
    struct review_op *op = review_op_new(req);
    if (op && store_command(review_list_cb, op, "HGETALL %s", KEY_REVIEW_ITEMS) < 0)
        fail(op, 503, REQ_STORE_UNAVAILABLE);
}

/* REVIEW SHOW id | REVIEW GRADE id ... */
static void review_item(struct req *req)
{
    int argc = req->args.argc;
    long long rid;

    if (arg_parse_ll(req->args.argv[2], req->args.argl[2], 1, LLONG_MAX, &rid) < 0) {
        req_reply(req, 400, "review id must be a whole number (see REVIEW LIST)");
        return;
    }
    struct review_op *op = review_op_new(req);
    if (op == NULL)
        return;
    op->id = xasprintf("%lld", rid);
    if (argc >= 4 && grade_args(op) < 0) {
        op_free(op);
        return;
    }
    if (store_command(argc >= 4 && op->how == REVIEW_BY_POINTS ? review_item_points_cb : review_item_cb,
                      op, "HGET %s %s", KEY_REVIEW_ITEMS, op->id) < 0)
        fail(op, 503, REQ_STORE_UNAVAILABLE);
}

static void review_item_points_cb(redisReply *reply, const char *err, void *priv)
{
    struct review_op *op = priv;
    json_t *it = reply && reply->type == REDIS_REPLY_STRING ? json_loads(reply->str, 0, NULL) : NULL;
    const struct lesson *l = catalog_lesson(op->cat, json_string_value(json_object_get(it, "exercise"))
                                                         ? json_string_value(json_object_get(it, "exercise"))
                                                         : "");
    const char *tid = json_string_value(json_object_get(it, "task"));
    const struct task *t = l && l->exercise && tid ? exercise_task(l->exercise, tid) : NULL;
    double max = t ? task_points(t) : 100;

    json_decref(it);
    if (it && op->points > max + 1e-9) {
        char pts[32];
        snprintf(pts, sizeof(pts), "%g", max);
        req_reply(op->req, 400, "points must be from 0 to %s, the task's points", pts);
        op_free(op);
        return;
    }
    review_item_cb(reply, err, priv);
}

static const struct cmd review_subs[] = {
    { .name = "LIST", .run = review_list, .min_args = 0, .max_args = 2, .role = ROLE_TRAINER,
      .usage = "REVIEW LIST [course] [cohort:ID]" },
    { .name = "SHOW", .run = review_item, .min_args = 1, .max_args = 1, .role = ROLE_TRAINER,
      .usage = "REVIEW SHOW id" },
    { .name = "GRADE", .run = review_item, .min_args = 2, .max_args = 4, .role = ROLE_TRAINER,
      .usage = "REVIEW GRADE id points|confirm [comment] | REVIEW GRADE id rubric [comment] {N}" },
    { .name = NULL },
};

const struct cmd cmd_group_review[] = {
    { .name = "REVIEW", .min_args = 1, .max_args = 5, .role = ROLE_TRAINER,
      .flags = CMD_STORE, .subs = review_subs,
      .usage = "REVIEW LIST [course] | REVIEW SHOW id | REVIEW GRADE id points|confirm [comment] | " "REVIEW GRADE id rubric [comment] {N}",
      .help = "The queue of answers a trainer grades by hand (review tasks, essays, rubric tasks a "
              "trainer confirms): grade on the task's own points, by a level per criterion of its "
              "rubric, or confirm the machine's suggestion." },
    { .name = NULL },
};

/* ---- HTTP routes ---- */

static int api_reviews(struct evhttp_request *r, char **p, int n, char **argv)
{
    struct evkeyvalq params;
    const char *course = api_query(r, &params, "course");
    const char *cohort = evhttp_find_header(&params, "cohort");
    int argc = api_argv(argv, "REVIEW", "LIST", course && course[0] ? course : NULL);

    if (cohort && cohort[0])
        argv[argc++] = xasprintf("cohort:%s", cohort);
    evhttp_clear_headers(&params);
    return argc;
}

static int api_review_show(struct evhttp_request *r, char **p, int n, char **argv)
{
    return api_argv(argv, "REVIEW", "SHOW", p[0]);
}

/* {"points": n, "comment": "..."}, {"confirm": true, "comment": "..."} or
 * {"levels": {"criterion": n, ...}, "comments": {"criterion": "..."},
 * "comment": "..."}: turned into the REVIEW GRADE forms, which check the
 * rest. */
static int api_review_grade(struct evhttp_request *r, char **p, int n, char **argv)
{
    static const char usage[] = "body must be {\"points\": n, \"comment\": \"...\"}, {\"confirm\": "
                                "true} or {\"levels\": {\"criterion\": points}, \"comments\": "
                                "{\"criterion\": \"...\"}, \"comment\": \"...\"}";
    json_t *doc = api_body(r);
    json_t *points = json_object_get(doc, "points"), *comment = json_object_get(doc, "comment");
    json_t *levels = json_object_get(doc, "levels"), *comments = json_object_get(doc, "comments");
    json_t *confirm = json_object_get(doc, "confirm");
    int argc = 0;

    if ((comment && !json_is_string(comment)) || (comments && !json_is_object(comments)) ||
        (!!points + !!levels + json_is_true(confirm)) != 1 ||
        (points && !json_is_number(points)) || (levels && !json_is_object(levels)))
        goto bad;
    argv[argc++] = xstrdup("REVIEW");
    argv[argc++] = xstrdup("GRADE");
    argv[argc++] = xstrdup(p[0]);
    if (points) {
        double v = json_number_value(points);
        /* Whole points are JSON integers and halves reals like 7.5, so that
         * 1e-400, -0.0 and 1e2 are refused as their CTP spellings are. */
        if (json_is_real(points) && (v * 2 != floor(v * 2) || v == floor(v) || fabs(v) > 1e15))
            goto bad_args;
        argv[argc++] = json_is_integer(points) ? xasprintf("%lld", (long long)json_integer_value(points))
                                               : xasprintf("%.1f", v);
    } else if (levels) {
        struct sbuf b = {0};
        const char *k;
        json_t *v;
        argv[argc++] = xstrdup("rubric");
        json_object_foreach(levels, k, v) {
            json_t *c = json_object_get(comments, k);
            double x = json_number_value(v);
            if (!json_is_number(v) || (c && !json_is_string(c)) ||
                (json_is_real(v) && (x * 2 != floor(x * 2) || x == floor(x) || fabs(x) > 1e15)) || strchr(k, '\n') || strchr(k, ' ') ||
                (c && strchr(json_string_value(c), '\n'))) {
                sbuf_free(&b);
                goto bad_args;
            }
            sbuf_printf(&b, "%s ", k);
            if (json_is_integer(v))
                sbuf_printf(&b, "%lld", (long long)json_integer_value(v));
            else
                sbuf_printf(&b, "%.1f", x);
            if (c && json_string_value(c)[0])
                sbuf_printf(&b, " %s", json_string_value(c));
            sbuf_addc(&b, '\n');
        }
        argv[argc++] = sbuf_take(&b);
    } else {
        argv[argc++] = xstrdup("confirm");
    }
    if (comment && json_string_value(comment)[0]) {
        if (levels) {            /* the comment goes before the document */
            argv[argc] = argv[argc - 1];
            argv[argc - 1] = xstrdup(json_string_value(comment));
            argc++;
        } else {
            argv[argc++] = xstrdup(json_string_value(comment));
        }
    }
    json_decref(doc);
    return argc;
bad_args:
    for (int i = 0; i < argc; i++) {
        free(argv[i]);
        argv[i] = NULL;
    }
bad:
    json_decref(doc);
    api_send_error(r, 400, usage);
    return -1;
}

const struct api_route api_routes_review[] = {
    { "GET", "/api/reviews", api_reviews },
    { "GET", "/api/reviews/{review}", api_review_show },
    { "POST", "/api/reviews/{review}", api_review_grade },
    { NULL, NULL, NULL },
};
