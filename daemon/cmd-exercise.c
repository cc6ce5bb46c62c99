/* cmd-exercise.c: exercises: EXERCISE (the learner's view), SUBMIT (grade
 * and store an attempt), ATTEMPTS, and the trainer's REVIEW queue. An
 * attempt is answered only after Redis has it. */
#include "campusd.h"
#include "cohort.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "catalog.h"
#include "exercise.h"
#include "gift.h"
#include "keys.h"
#include "scripts.h"

/* A learner's attempts at one exercise: a list of JSON records, oldest first. */
#define KEY_ATTEMPTS     "campus:{u:%s}:attempts:%s"
/* The review queue (tag {reviews}): a counter, ids by time, and the items. */
#define KEY_REVIEW_SEQ   "campus:{reviews}:seq"
#define KEY_REVIEW_QUEUE "campus:{reviews}:queue"
#define KEY_REVIEW_ITEMS "campus:{reviews}:items"

/* Work on an exercise that waits on Redis. It holds a reference to the
 * catalogue, so a reload in the meantime cannot free the exercise. */
struct ex_op {
    struct req *req;
    struct catalog *cat;
    const struct lesson *lesson;
    const struct exercise *ex;
    char *user;
    char *key;                   /* the attempts list */
    long attempt;                /* the attempt this op is about (1-based) */
    struct grade_result result;
    bool graded;
    size_t next_review;          /* SUBMIT: pending tasks queued so far */
    char *record;                /* REVIEW GRADE: the record as read */
    json_t *item;                /* REVIEW: the queue item */
    char *review_id;
    double review_score;
    char *review_comment;
};

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The seed of a learner's attempt: shuffles and pool draws depend on it,
 * so the view shown for attempt N is the one graded for attempt N. */
static uint64_t attempt_seed(const char *user, const char *exercise, long attempt)
{
    uint64_t h = 1469598103934665603ULL;
    char buf[32];
    const char *parts[] = { user ? user : "", exercise, buf };

    snprintf(buf, sizeof(buf), "%ld", attempt);
    for (int i = 0; i < 3; i++) {
        for (const char *p = parts[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h;
}

static struct ex_op *op_new(struct req *req, struct catalog *cat, const struct lesson *l)
{
    struct ex_op *op = xcalloc(1, sizeof(*op));

    op->req = req;
    op->cat = catalog_ref(cat);
    op->lesson = l;
    op->ex = l ? l->exercise : NULL;
    op->user = req->user ? xstrdup(req->user) : NULL;
    if (op->user && l)
        op->key = xasprintf(KEY_ATTEMPTS, op->user, l->full_id);
    return op;
}

static void op_free(struct ex_op *op)
{
    if (op->graded)
        grade_result_free(&op->result);
    catalog_unref(op->cat);
    free(op->user);
    free(op->key);
    free(op->record);
    json_decref(op->item);
    free(op->review_id);
    free(op->review_comment);
    free(op);
}

/* Finds the exercise named by argv[1], answering 400/404 when there is none. */
static const struct lesson *find_exercise(struct req *req, struct catalog **catp)
{
    struct catalog *cat = courses_current();
    const char *id = req->args.argv[1];
    const char *slash = strchr(id, '/');
    char course[80];

    if (cat == NULL) {
        req_reply(req, 503, "no courses loaded");
        return NULL;
    }
    if (slash == NULL || (size_t)(slash - id) >= sizeof(course) || strchr(slash + 1, '/')) {
        req_reply(req, 400, "bad exercise id (use course/exercise)");
        return NULL;
    }
    memcpy(course, id, (size_t)(slash - id));
    course[slash - id] = '\0';
    if (!id_valid(course) || !id_valid(slash + 1)) {
        req_reply(req, 400, "bad exercise id (use a-z, 0-9 and - on each side of /)");
        return NULL;
    }
    const struct lesson *l = catalog_lesson(cat, id);
    if (l == NULL || l->exercise == NULL) {
        req_reply(req, 404, "no exercise '%s'", id);
        return NULL;
    }
    *catp = cat;
    return l;
}

static bool reveal_now(const struct exercise *ex, bool passed, long attempt)
{
    switch (ex->reveal) {
    case EXERCISE_REVEAL_AFTER_PASS:
        return passed;
    case EXERCISE_REVEAL_AFTER_LAST_ATTEMPT:
        return ex->attempts > 0 && attempt >= ex->attempts;
    default:
        return false;
    }
}

static void attempts_left_text(const struct exercise *ex, long used, char *buf, size_t n)
{
    if (ex->attempts == 0)
        snprintf(buf, n, "unlimited");
    else
        snprintf(buf, n, "%ld", ex->attempts - used > 0 ? ex->attempts - used : 0L);
}

/* ---- EXERCISE ---- */

static void send_view(struct req *req, const struct lesson *l, long attempt)
{
    const struct exercise *ex = l->exercise;
    bool json = req->origin == REQ_HTTP ||
                (req->args.argc > 2 && strcasecmp(req->args.argv[2], "json") == 0);
    uint64_t seed = attempt_seed(req->user, l->full_id, attempt);
    char *view = json ? exercise_view_json(ex, seed) : exercise_view_text(ex, seed);
    char left[32], msg[256];

    attempts_left_text(ex, attempt - 1, left, sizeof(left));
    req_meta(req, "id", l->full_id);
    req_meta(req, "title", l->title);
    req_meta_int(req, "attempt", attempt);
    req_meta(req, "attempts_left", left);
    req_meta_int(req, "pass", (long long)ex->pass);
    req_meta(req, "policy", exercise_policy_name(ex->policy));
    snprintf(msg, sizeof(msg), "%s attempt=%ld left=%s pass=%g policy=%s", l->full_id, attempt,
             left, ex->pass, exercise_policy_name(ex->policy));
    req_reply_text(req, 200, msg, json ? "application/json" : "text/plain; charset=utf-8",
                   view, strlen(view));
    free(view);
}

static void exercise_llen_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER)
        req_reply(op->req, 503, "progress store unavailable");
    else
        send_view(op->req, op->lesson, (long)reply->integer + 1);
    op_free(op);
}

static void cmd_exercise(struct req *req)
{
    if (cohort_gate(req, COHORT_GATE_READ, cmd_exercise))
        return;
    struct catalog *cat;
    const struct lesson *l = find_exercise(req, &cat);

    if (l == NULL)
        return;
    if (req->args.argc > 2 && strcasecmp(req->args.argv[2], "json") != 0 &&
        strcasecmp(req->args.argv[2], "text") != 0) {
        req_reply(req, 400, "format must be text or json");
        return;
    }
    /* Anyone may look; a learner sees the view of their next attempt. */
    if (req->user == NULL || store_state() != STORE_UP) {
        send_view(req, l, 1);
        return;
    }
    struct ex_op *op = op_new(req, cat, l);
    if (store_command(exercise_llen_cb, op, "LLEN %s", op->key) < 0) {
        op_free(op);
        send_view(req, l, 1);
    }
}

/* ---- SUBMIT ---- */

static json_t *result_record(const struct grade_result *r, long attempt, uint64_t seed)
{
    json_t *tasks = json_array();

    for (size_t i = 0; i < r->ntasks; i++) {
        const struct grade_task *t = &r->tasks[i];
        json_array_append_new(tasks, json_pack("{s:s,s:f,s:f,s:b,s:s,s:s}", "id", t->id,
                                               "weight", t->weight, "score", t->score,
                                               "pending", t->pending, "feedback", t->feedback ? t->feedback : "",
                                               "response", t->response ? t->response : ""));
    }
    char seedbuf[24];
    snprintf(seedbuf, sizeof(seedbuf), "%llu", (unsigned long long)seed);
    return json_pack("{s:i,s:I,s:f,s:f,s:b,s:i,s:s,s:o}", "n", (int)attempt, "t",
                     (json_int_t)now_ms(), "score", r->score, "pass", r->pass, "passed", r->passed,
                     "pending", (int)r->pending, "seed", seedbuf, "tasks", tasks);
}

static void submit_answer(struct ex_op *op)
{
    const struct exercise *ex = op->ex;
    bool reveal = reveal_now(ex, op->result.passed, op->attempt);
    char *text = op->req->origin == REQ_HTTP ? grade_result_json(&op->result, reveal)
                                             : grade_result_text(&op->result, reveal);
    char left[32], msg[256];

    attempts_left_text(ex, op->attempt, left, sizeof(left));
    req_meta(op->req, "id", op->lesson->full_id);
    req_meta_int(op->req, "attempt", op->attempt);
    req_meta(op->req, "attempts_left", left);
    req_meta(op->req, "result", op->result.pending ? "pending" : op->result.passed ? "passed" : "failed");
    snprintf(msg, sizeof(msg), "%s attempt=%ld score=%.1f %s left=%s", op->lesson->full_id,
             op->attempt, op->result.score,
             op->result.pending ? "pending-review" : op->result.passed ? "passed" : "failed", left);
    req_reply_text(op->req, 200, msg, op->req->origin == REQ_HTTP ? "application/json"
                                                                   : "text/plain; charset=utf-8",
                   text, strlen(text));
    free(text);
}

static void queue_next_review(struct ex_op *op);

static void review_add_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
        log_warn("exercise: attempt %ld of %s by %s stored, but not queued for review: %s",
                 op->attempt, op->lesson->full_id, op->user, reply ? reply->str : err);
    queue_next_review(op);
}

/* Queues each pending task for a trainer, one after the other, then answers. */
static void queue_next_review(struct ex_op *op)
{
    while (op->next_review < op->result.ntasks) {
        const struct grade_task *t = &op->result.tasks[op->next_review++];
        if (!t->pending)
            continue;
        json_t *item = json_pack("{s:s,s:s,s:i,s:s,s:I}", "user", op->user, "exercise",
                                 op->lesson->full_id, "attempt", (int)op->attempt, "task", t->id,
                                 "t", (json_int_t)now_ms());
        char *json = json_dumps(item, JSON_COMPACT);
        char ms[32];
        snprintf(ms, sizeof(ms), "%lld", now_ms());
        const char *argv[] = { KEY_REVIEW_SEQ, KEY_REVIEW_QUEUE, KEY_REVIEW_ITEMS, json, ms };
        int rc = script_call(SCRIPT_REVIEW_ADD, review_add_cb, op, 3, 5, argv);
        free(json);
        json_decref(item);
        if (rc == 0)
            return;
        log_warn("exercise: review of %s not queued: store unavailable", op->lesson->full_id);
    }
    submit_answer(op);
    op_free(op);
}

static void attempt_stored_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        req_reply(op->req, 503, "progress store unavailable");
        op_free(op);
        return;
    }
    if (reply->type != REDIS_REPLY_INTEGER || reply->integer == 0) {
        req_reply(op->req, 409, "no attempts left at %s", op->lesson->full_id);
        op_free(op);
        return;
    }
    op->attempt = (long)reply->integer;
    queue_next_review(op);
}

static void submit_llen_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;
    const struct exercise *ex = op->ex;
    struct req *req = op->req;
    char errbuf[256];

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        req_reply(req, 503, "progress store unavailable");
        op_free(op);
        return;
    }
    long used = (long)reply->integer;
    if (ex->attempts > 0 && used >= ex->attempts) {
        req_reply(req, 409, "no attempts left at %s (%d used)", op->lesson->full_id, ex->attempts);
        op_free(op);
        return;
    }
    op->attempt = used + 1;
    uint64_t seed = attempt_seed(op->user, op->lesson->full_id, op->attempt);
    const char *doc = req->args.argv[2];
    if (exercise_grade(ex, seed, doc, req->args.argl[2], &op->result, errbuf, sizeof(errbuf)) < 0) {
        req_reply(req, 400, "%s", errbuf);       /* no attempt used */
        op_free(op);
        return;
    }
    op->graded = true;

    json_t *rec = result_record(&op->result, op->attempt, seed);
    char *json = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    char *passed_key = xasprintf(KEY_PASSED, op->user);
    char *events_key = xasprintf(KEY_EVENTS, op->user);
    char max[16], ms[32], score01[32], maxlen[16];
    snprintf(max, sizeof(max), "%d", ex->attempts);
    snprintf(ms, sizeof(ms), "%lld", now_ms());
    snprintf(score01, sizeof(score01), "%.4f", op->result.score / 100.0);
    snprintf(maxlen, sizeof(maxlen), "%d", KEYS_EVENTS_MAX);
    const char *argv[] = { op->key, passed_key, events_key, max, json, op->lesson->full_id, ms,
                           op->result.passed ? "1" : "0", score01, maxlen };
    int rc = script_call(SCRIPT_ATTEMPT, attempt_stored_cb, op, 3, 10, argv);
    free(json);
    free(passed_key);
    free(events_key);
    if (rc < 0) {
        req_reply(req, 503, "progress store unavailable");
        op_free(op);
    }
}

static void cmd_submit(struct req *req)
{
    if (cohort_gate(req, COHORT_GATE_SUBMIT, cmd_submit))
        return;
    struct catalog *cat;
    const struct lesson *l = find_exercise(req, &cat);

    if (l == NULL)
        return;
    if (req->user == NULL) {
        req_reply(req, 401, "SUBMIT needs you to log in");
        return;
    }
    struct ex_op *op = op_new(req, cat, l);
    if (store_command(submit_llen_cb, op, "LLEN %s", op->key) < 0) {
        req_reply(req, 503, "progress store unavailable");
        op_free(op);
    }
}

/* ---- ATTEMPTS ---- */

static double counted_score(enum exercise_policy policy, const double *scores, size_t n)
{
    double best = 0, sum = 0;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        best = scores[i] > best ? scores[i] : best;
        sum += scores[i];
    }
    if (policy == EXERCISE_POLICY_LAST)
        return scores[n - 1];
    if (policy == EXERCISE_POLICY_AVERAGE)
        return sum / (double)n;
    return best;
}

static void attempts_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;
    struct req *req = op->req;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        req_reply(req, 503, "progress store unavailable");
        op_free(op);
        return;
    }
    double *scores = xcalloc(reply->elements + 1, sizeof(double));
    req_table(req, 5, "attempt", "time", "score", "result", "pending");
    for (size_t i = 0; i < reply->elements; i++) {
        json_t *rec = json_loads(reply->element[i]->str, 0, NULL);
        char n[16], t[32], score[32], pending[16];
        time_t secs = (time_t)(json_integer_value(json_object_get(rec, "t")) / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(json_object_get(rec, "n")));
        scores[i] = json_real_value(json_object_get(rec, "score"));
        snprintf(score, sizeof(score), "%.1f", scores[i]);
        long long pend = json_integer_value(json_object_get(rec, "pending"));
        snprintf(pending, sizeof(pending), "%lld", pend);
        req_row(req, 5, n, t, score,
                pend ? "pending" : json_is_true(json_object_get(rec, "passed")) ? "passed" : "failed",
                pending);
        json_decref(rec);
    }
    char left[32];
    attempts_left_text(op->ex, (long)reply->elements, left, sizeof(left));
    req_reply_data(req, 200, "%zu attempts, %s left, counted score %.1f (%s)", reply->elements,
                   left, counted_score(op->ex->policy, scores, reply->elements),
                   exercise_policy_name(op->ex->policy));
    free(scores);
    op_free(op);
}

static void cmd_attempts(struct req *req)
{
    struct catalog *cat;
    const struct lesson *l = find_exercise(req, &cat);

    if (l == NULL)
        return;
    struct ex_op *op = op_new(req, cat, l);
    if (store_command(attempts_cb, op, "LRANGE %s 0 -1", op->key) < 0) {
        req_reply(req, 503, "progress store unavailable");
        op_free(op);
    }
}

/* ---- REVIEW ---- */

static void review_list_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;
    struct req *req = op->req;
    const char *course = req->args.argc > 2 ? req->args.argv[2] : NULL;
    size_t shown = 0;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        req_reply(req, 503, "progress store unavailable");
        op_free(op);
        return;
    }
    req_table(req, 6, "id", "learner", "exercise", "attempt", "task", "submitted");
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        json_t *it = json_loads(reply->element[i + 1]->str, 0, NULL);
        const char *ex = json_string_value(json_object_get(it, "exercise"));
        if (it && ex && (course == NULL || (strncmp(ex, course, strlen(course)) == 0 &&
                                            ex[strlen(course)] == '/'))) {
            char n[16], t[32];
            time_t secs = (time_t)(json_integer_value(json_object_get(it, "t")) / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
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

/* Reads the attempt record a review item points at (LINDEX on the learner's
 * list), then calls next. */
static void review_record_cb(redisReply *reply, const char *err, void *priv);

static void review_item_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;
    struct req *req = op->req;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        req_reply(req, 503, "progress store unavailable");
        op_free(op);
        return;
    }
    if (reply->type != REDIS_REPLY_STRING || (op->item = json_loads(reply->str, 0, NULL)) == NULL) {
        req_reply(req, 404, "no review '%s' waiting", op->review_id);
        op_free(op);
        return;
    }
    const char *user = json_string_value(json_object_get(op->item, "user"));
    const char *ex = json_string_value(json_object_get(op->item, "exercise"));
    op->attempt = (long)json_integer_value(json_object_get(op->item, "attempt"));
    op->lesson = catalog_lesson(op->cat, ex ? ex : "");
    if (user == NULL || op->lesson == NULL || op->lesson->exercise == NULL) {
        req_reply(req, 404, "review '%s' is for an exercise no longer in the catalogue", op->review_id);
        op_free(op);
        return;
    }
    op->ex = op->lesson->exercise;
    free(op->user);
    op->user = xstrdup(user);
    op->key = xasprintf(KEY_ATTEMPTS, user, op->lesson->full_id);
    if (store_command(review_record_cb, op, "LINDEX %s %ld", op->key, op->attempt - 1) < 0) {
        req_reply(req, 503, "progress store unavailable");
        op_free(op);
    }
}

static json_t *record_task(json_t *rec, const char *task_id)
{
    size_t i;
    json_t *t;

    json_array_foreach(json_object_get(rec, "tasks"), i, t)
        if (strcmp(json_string_value(json_object_get(t, "id")), task_id) == 0)
            return t;
    return NULL;
}

static void review_show(struct ex_op *op, json_t *rec)
{
    const char *task_id = json_string_value(json_object_get(op->item, "task"));
    const struct task *task = exercise_task(op->ex, task_id);
    json_t *t = record_task(rec, task_id);
    struct sbuf b = {0};

    sbuf_printf(&b, "Review %s: %s, attempt %ld of %s\n\n", op->review_id, op->user, op->attempt,
                op->lesson->full_id);
    sbuf_printf(&b, "Task %s%s%s\n\n", task_id, task && task->prompt[0] ? ": " : "",
                task ? task->prompt : "");
    sbuf_printf(&b, "Answer:\n%s\n", t ? json_string_value(json_object_get(t, "response")) : "");
    if (task && task->feedback[0])
        sbuf_printf(&b, "\nGuidance for the trainer:\n%s\n", task->feedback);
    req_reply_text(op->req, 200, op->review_id, "text/plain; charset=utf-8", b.data, b.len);
    sbuf_free(&b);
}

static void review_updated_cb(redisReply *reply, const char *err, void *priv);

static void review_grade(struct ex_op *op, json_t *rec)
{
    const char *task_id = json_string_value(json_object_get(op->item, "task"));
    json_t *t = record_task(rec, task_id);

    if (t == NULL || !json_is_true(json_object_get(t, "pending"))) {
        req_reply(op->req, 409, "review '%s' was already graded", op->review_id);
        op_free(op);
        return;
    }
    json_object_set_new(t, "score", json_real(op->review_score));
    json_object_set_new(t, "pending", json_false());
    json_object_set_new(t, "feedback", json_string(op->review_comment));
    json_object_set_new(t, "reviewer", json_string(op->req->user));

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
    double score = wsum > 0 ? sum / wsum : 0;
    bool passed = pending == 0 && score >= json_real_value(json_object_get(rec, "pass"));
    json_object_set_new(rec, "score", json_real(score));
    json_object_set_new(rec, "pending", json_integer(pending));
    json_object_set_new(rec, "passed", json_boolean(passed));
    op->review_score = score;

    char *json = json_dumps(rec, JSON_COMPACT);
    char *passed_key = xasprintf(KEY_PASSED, op->user);
    char *events_key = xasprintf(KEY_EVENTS, op->user);
    char idx[24], ms[32], score01[32], maxlen[16];
    snprintf(idx, sizeof(idx), "%ld", op->attempt - 1);
    snprintf(ms, sizeof(ms), "%lld", now_ms());
    snprintf(score01, sizeof(score01), "%.4f", score / 100.0);
    snprintf(maxlen, sizeof(maxlen), "%d", KEYS_EVENTS_MAX);
    const char *argv[] = { op->key, passed_key, events_key, idx, op->record, json,
                           op->lesson->full_id, ms, passed ? "1" : "0", score01, maxlen };
    int rc = script_call(SCRIPT_ATTEMPT_UPDATE, review_updated_cb, op, 3, 11, argv);
    free(json);
    free(passed_key);
    free(events_key);
    if (rc < 0) {
        req_reply(op->req, 503, "progress store unavailable");
        op_free(op);
    }
}

static void review_dequeued_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;

    req_reply(op->req, 200, "graded: %s attempt %ld of %s now scores %.1f", op->user, op->attempt,
              op->lesson->full_id, op->review_score);
    op_free(op);
}

static void review_updated_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        req_reply(op->req, 503, "progress store unavailable");
        op_free(op);
        return;
    }
    if (reply->integer == 0) {
        req_reply(op->req, 409, "the attempt changed while it was graded; try again");
        op_free(op);
        return;
    }
    /* The learner's record is final; the queue entry goes next (another tag). */
    if (store_command(NULL, NULL, "HDEL %s %s", KEY_REVIEW_ITEMS, op->review_id) < 0 ||
        store_command(review_dequeued_cb, op, "ZREM %s %s", KEY_REVIEW_QUEUE, op->review_id) < 0) {
        req_reply(op->req, 200, "graded: %s attempt %ld of %s now scores %.1f (queue entry left)",
                  op->user, op->attempt, op->lesson->full_id, op->review_score);
        op_free(op);
    }
}

static void review_record_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;
    json_t *rec;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        req_reply(op->req, 503, "progress store unavailable");
        op_free(op);
        return;
    }
    if (reply->type != REDIS_REPLY_STRING || (rec = json_loads(reply->str, 0, NULL)) == NULL) {
        req_reply(op->req, 404, "the attempt of review '%s' is gone", op->review_id);
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

/* REVIEW LIST [course] | REVIEW SHOW id | REVIEW GRADE id score comment */
static void cmd_review(struct req *req)
{
    if (cohort_review_filter(req, cmd_review))
        return;
    const char *sub = req->args.argv[1];
    struct catalog *cat = courses_current();
    int argc = req->args.argc;

    if (cat == NULL) {
        req_reply(req, 503, "no courses loaded");
        return;
    }
    struct ex_op *op = op_new(req, cat, NULL);
    int rc;
    if (strcasecmp(sub, "LIST") == 0 && argc <= 3) {
        rc = store_command(review_list_cb, op, "HGETALL %s", KEY_REVIEW_ITEMS);
    } else if ((strcasecmp(sub, "SHOW") == 0 && argc == 3) ||
               (strcasecmp(sub, "GRADE") == 0 && argc == 5)) {
        op->review_id = xstrdup(req->args.argv[2]);
        if (strspn(op->review_id, "0123456789") != strlen(op->review_id)) {
            req_reply(req, 400, "a review id is a number (see REVIEW LIST)");
            op_free(op);
            return;
        }
        if (argc == 5) {
            char *end;
            op->review_score = strtod(req->args.argv[3], &end);
            if (*end || !isfinite(op->review_score) || op->review_score < 0 || op->review_score > 100) {
                req_reply(req, 400, "a score is a number from 0 to 100");
                op_free(op);
                return;
            }
            op->review_comment = xstrdup(req->args.argv[4]);
        }
        rc = store_command(review_item_cb, op, "HGET %s %s", KEY_REVIEW_ITEMS, op->review_id);
    } else {
        req_reply(req, 400, "usage: %s", req->cmd->usage);
        op_free(op);
        return;
    }
    if (rc < 0) {
        req_reply(req, 503, "progress store unavailable");
        op_free(op);
    }
}

/* EXPORT gift COURSE: every GIFT question of a course (quiz blocks, inline
 * gift tasks, pools), under a $CATEGORY per exercise, for Moodle. Keys and
 * feedback included, so trainers only. */
void exercise_export_gift(struct req *req)
{
    struct catalog *cat = courses_current();
    const char *id = req->args.argc > 2 ? req->args.argv[2] : "";
    struct sbuf b = {0};
    size_t questions = 0;

    if (req->role < ROLE_TRAINER) {
        req_reply(req, req->role == ROLE_ANON ? 401 : 403, "EXPORT gift is for trainers");
        return;
    }
    if (cat == NULL || !id_valid(id)) {
        req_reply(req, cat ? 400 : 503, cat ? "usage: EXPORT gift course" : "no courses loaded");
        return;
    }
    const struct course *c = catalog_course(cat, id);
    if (c == NULL) {
        req_reply(req, 404, "no course '%s'", id);
        return;
    }
    sbuf_printf(&b, "// %s: questions exported by campusd %s\n\n", c->title, CAMPUS_VERSION);
    for (size_t i = 0; i < c->nlessons; i++) {
        const struct lesson *l = c->lessons[i];
        const struct exercise *ex = l->exercise;
        bool header = false;
        for (size_t t = 0; ex && t < ex->ntasks; t++) {
            const struct task *task = ex->tasks[t];
            if ((task->type != TASK_GIFT && task->type != TASK_POOL) || task->quiz.n == 0)
                continue;
            if (!header) {
                sbuf_printf(&b, "$CATEGORY: %s/%s\n\n", c->id, l->id);
                header = true;
            }
            char *gift = gift_export(&task->quiz);
            sbuf_adds(&b, gift);
            sbuf_adds(&b, "\n");
            free(gift);
            questions += task->quiz.n;
        }
    }
    char msg[160];
    snprintf(msg, sizeof(msg), "%zu questions of %s", questions, c->id);
    req_reply_text(req, 200, msg, "text/plain; charset=utf-8", b.data, b.len);
    sbuf_free(&b);
}

const struct cmd cmd_group_exercise[] = {
    { "EXERCISE", cmd_exercise, 1, 2, ROLE_ANON, 0, "EXERCISE course/exercise [text|json]",
      "The exercise as you will see it on your next attempt: the case, the tasks and how to "
      "answer each. Never the keys." },
    { "SUBMIT", cmd_submit, 2, 2, ROLE_LEARNER, CMD_STORE | CMD_WRITE,
      "SUBMIT course/exercise {N}",
      "Grades an answer document (one 'task-id: answer' line per task) and stores the attempt; "
      "answers the score, pass or fail, feedback per task and the attempts left. A malformed "
      "document is a 400 and uses no attempt." },
    { "ATTEMPTS", cmd_attempts, 1, 1, ROLE_LEARNER, CMD_STORE, "ATTEMPTS course/exercise",
      "Your attempts at an exercise, and the score that counts under its policy." },
    { "REVIEW", cmd_review, 1, 4, ROLE_TRAINER, CMD_STORE,
      "REVIEW LIST [course] | REVIEW SHOW id | REVIEW GRADE id score comment",
      "The queue of answers a trainer grades by hand (review tasks, essays)." },
    { NULL, NULL, 0, 0, ROLE_ANON, 0, NULL, NULL },
};

/* ---- HTTP routes ---- */

static int api_exercise(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("EXERCISE");
    argv[1] = xasprintf("%s/%s", p[0], p[1]);
    argv[2] = xstrdup("json");
    return 3;
}

static int api_attempts(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("ATTEMPTS");
    argv[1] = xasprintf("%s/%s", p[0], p[1]);
    return 2;
}

/* The body is JSON: {"answers": {"task-id": "answer", ...}}, turned into
 * the same answer document SUBMIT takes over CTP/1. */
static int api_submit(struct evhttp_request *r, char **p, int n, char **argv)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r);
    size_t len = evbuffer_get_length(in);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, &jerr);
    json_t *answers = json_object_get(doc, "answers");
    struct sbuf b = {0};
    const char *key;
    json_t *v;

    if (!json_is_object(answers)) {
        json_decref(doc);
        api_send_error(r, 400, "body must be {\"answers\": {\"task-id\": \"answer\", ...}}");
        return -1;
    }
    json_object_foreach(answers, key, v) {
        if (!json_is_string(v) || strchr(key, '\n') || strchr(key, ':')) {
            json_decref(doc);
            sbuf_free(&b);
            api_send_error(r, 400, "each answer must be a string under a task id");
            return -1;
        }
        /* Free text keeps its lines: continuation lines start with two spaces. */
        sbuf_printf(&b, "%s: ", key);
        for (const char *s = json_string_value(v); *s; s++) {
            sbuf_addc(&b, *s);
            if (*s == '\n')
                sbuf_adds(&b, "  ");
        }
        sbuf_addc(&b, '\n');
    }
    json_decref(doc);
    argv[0] = xstrdup("SUBMIT");
    argv[1] = xasprintf("%s/%s", p[0], p[1]);
    argv[2] = sbuf_take(&b);
    return 3;
}

static int api_reviews(struct evhttp_request *r, char **p, int n, char **argv)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r);
    const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
    struct evkeyvalq params;
    int argc = 0;

    argv[argc++] = xstrdup("REVIEW");
    argv[argc++] = xstrdup("LIST");
    if (q && evhttp_parse_query_str(q, &params) == 0) {
        const char *course = evhttp_find_header(&params, "course");
        if (course && course[0])
            argv[argc++] = xstrdup(course);
        const char *cohort = evhttp_find_header(&params, "cohort");
        if (cohort && cohort[0])
            argv[argc++] = xasprintf("cohort:%s", cohort);
        evhttp_clear_headers(&params);
    }
    return argc;
}

static int api_review_show(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("REVIEW");
    argv[1] = xstrdup("SHOW");
    argv[2] = xstrdup(p[0]);
    return 3;
}

/* {"score": 0..100, "comment": "..."} */
static int api_review_grade(struct evhttp_request *r, char **p, int n, char **argv)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r);
    json_t *doc = json_loadb((const char *)evbuffer_pullup(in, -1), evbuffer_get_length(in), 0, NULL);
    json_t *score = json_object_get(doc, "score"), *comment = json_object_get(doc, "comment");

    if (!json_is_number(score) || (comment && !json_is_string(comment))) {
        json_decref(doc);
        api_send_error(r, 400, "body must be {\"score\": 0..100, \"comment\": \"...\"}");
        return -1;
    }
    argv[0] = xstrdup("REVIEW");
    argv[1] = xstrdup("GRADE");
    argv[2] = xstrdup(p[0]);
    argv[3] = xasprintf("%g", json_number_value(score));
    argv[4] = xstrdup(comment ? json_string_value(comment) : "");
    json_decref(doc);
    return 5;
}

const struct api_route api_routes_exercise[] = {
    { "GET", "/api/reviews", api_reviews },
    { "GET", "/api/reviews/*", api_review_show },
    { "POST", "/api/reviews/*", api_review_grade },
    { "GET", "/api/exercises/*/*", api_exercise },
    { "POST", "/api/exercises/*/*/submit", api_submit },
    { "GET", "/api/exercises/*/*/attempts", api_attempts },
    { NULL, NULL, NULL },
};
