/* cmd-exercise.c: exercises: EXERCISE (the learner's view), SUBMIT (grade
 * and store an attempt), ATTEMPTS, and the trainer's REVIEW queue. An
 * attempt is answered only after Redis has it. */
#include "campusd.h"
#include "cohort.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
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

/* A SUBMIT's own key from a client: 1 to 64 of these. */
#define SUBMIT_KEY_MAX 64
#define SUBMIT_KEY_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"

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
    uint64_t seed;               /* SUBMIT: the seed the answer was graded with */
    char subkey[65];             /* SUBMIT: SHA-256 (hex) naming this submission */
    char docsha[65];             /* SUBMIT: SHA-256 (hex) of the answer document */
    struct grade_result result;
    bool graded;
    size_t next_review;          /* SUBMIT: pending tasks queued so far */
    char *record;                /* REVIEW GRADE: the record as read */
    json_t *item;                /* REVIEW: the queue item */
    char *review_id;
    double review_score;
    char *review_comment;
};

/* Every "the store failed us" answer of this file. */
static void store_unavailable(struct req *req)
{
    req_reply(req, 503, "progress store unavailable");
}

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
        store_unavailable(op->req);
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

/* ---- SUBMIT: attempt records and answers ---- */

/* SHA-256 in hex of the parts, each followed by a NUL so that no two lists
 * of parts run together into the same bytes (only the last part may hold a
 * NUL of its own: a literal answer). */
static void sha256_parts_hex(const char *const *parts, const size_t *lens, int n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        fatal("exercise: SHA-256 unavailable");
    for (int i = 0; i < n; i++) {
        EVP_DigestUpdate(ctx, parts[i], lens[i]);
        EVP_DigestUpdate(ctx, "", 1);
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* The stored record of an attempt, without its number: the attempt script
 * puts "n" in front, since only it knows the number for sure. */
static json_t *result_record(const struct grade_result *r, uint64_t seed)
{
    json_t *tasks = json_array();

    for (size_t i = 0; i < r->ntasks; i++) {
        const struct grade_task *t = &r->tasks[i];
        json_t *task = json_pack("{s:s,s:f,s:f,s:b,s:s,s:s}", "id", t->id, "weight", t->weight,
                                 "score", t->score, "pending", t->pending, "feedback",
                                 t->feedback ? t->feedback : "", "response",
                                 t->response ? t->response : "");
        if (task == NULL) {                      /* not UTF-8: jansson takes no such string */
            json_decref(tasks);
            return NULL;
        }
        json_array_append_new(tasks, task);
    }
    char seedbuf[24];
    snprintf(seedbuf, sizeof(seedbuf), "%llu", (unsigned long long)seed);
    return json_pack("{s:I,s:f,s:f,s:b,s:i,s:s,s:o}", "t", (json_int_t)now_ms(), "score",
                     r->score, "pass", r->pass, "passed", r->passed, "pending", (int)r->pending,
                     "seed", seedbuf, "tasks", tasks);
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

/* ---- the review queue: entries and their repair ---- */

/* A queue entry in the making: who, which attempt, which task. */
struct review_add {
    struct ex_op *op;            /* SUBMIT waiting for it, or NULL (repair) */
    char *user, *marker;         /* marker: "EXERCISE N TASK" */
};

static void review_add_free(struct review_add *ra)
{
    free(ra->user);
    free(ra->marker);
    free(ra);
}

static void queue_next_review(struct ex_op *op);

static void review_added_cb(redisReply *reply, const char *err, void *priv)
{
    struct review_add *ra = priv;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        log_warn("exercise: review of %s (%s) not queued yet, left for the repair pass: %s",
                 ra->marker, ra->user, reply ? reply->str : err);
    } else {
        /* Queued: the marker has done its work. Should this HDEL be lost,
         * the repair pass finds the entry already queued and drops it. */
        char *key = xasprintf(KEY_REVIEWS_PENDING, ra->user);
        store_command(NULL, NULL, "HDEL %s %s", key, ra->marker);
        free(key);
    }
    if (ra->op)
        queue_next_review(ra->op);
    review_add_free(ra);
}

/* Queues the entry a pending marker stands for (idempotent: an entry
 * already queued keeps its id). Takes ra. Returns 0, or -1 when the store
 * is not up (ra freed, no callback). */
static int review_add(struct review_add *ra, long long t)
{
    char exid[128], task[128];
    long n;

    if (sscanf(ra->marker, "%127s %ld %127s", exid, &n, task) != 3) {
        log_warn("exercise: ignoring a malformed review marker '%s' of %s", ra->marker, ra->user);
        review_add_free(ra);
        return -1;
    }
    json_t *item = json_pack("{s:s,s:s,s:i,s:s,s:I}", "user", ra->user, "exercise", exid,
                             "attempt", (int)n, "task", task, "t", (json_int_t)t);
    char *json = json_dumps(item, JSON_COMPACT);
    char *field = xasprintf("%s %s", ra->user, ra->marker);
    char ms[32];
    snprintf(ms, sizeof(ms), "%lld", t);
    const char *argv[] = { KEY_REVIEW_SEQ, KEY_REVIEW_QUEUE, KEY_REVIEW_ITEMS, KEY_REVIEW_INDEX,
                           json, ms, field };
    int rc = script_call(SCRIPT_REVIEW_ADD, review_added_cb, ra, 4, 7, argv);
    free(field);
    free(json);
    json_decref(item);
    if (rc < 0)
        review_add_free(ra);
    return rc;
}

/* Queues each pending task of a new attempt for a trainer, one after the
 * other, then answers. The attempt script left a marker for each, so an
 * entry that fails here is queued by the repair pass later: the answer is
 * a 200 either way. */
static void queue_next_review(struct ex_op *op)
{
    while (op->next_review < op->result.ntasks) {
        const struct grade_task *t = &op->result.tasks[op->next_review++];
        if (!t->pending)
            continue;
        struct review_add *ra = xcalloc(1, sizeof(*ra));
        ra->op = op;
        ra->user = xstrdup(op->user);
        ra->marker = xasprintf("%s %ld %s", op->lesson->full_id, op->attempt, t->id);
        if (review_add(ra, now_ms()) == 0)
            return;
        log_warn("exercise: review of %s not queued yet: store unavailable", op->lesson->full_id);
    }
    submit_answer(op);
    op_free(op);
}

/* The repair pass: SCAN for learners' pending markers and queue what they
 * stand for. At most one pass runs at a time in a process. */
static struct {
    bool running;
    bool was_up;                 /* the store was up at the last tick */
    long long last;              /* when the last pass began, ms */
} repair;

static void repair_markers_cb(redisReply *reply, const char *err, void *priv)
{
    char *user = priv;

    if (reply && reply->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
            struct review_add *ra = xcalloc(1, sizeof(*ra));
            ra->user = xstrdup(user);
            ra->marker = xstrdup(reply->element[i]->str);
            if (review_add(ra, strtoll(reply->element[i + 1]->str, NULL, 10)) < 0)
                break;
        }
    free(user);
}

static void repair_scan_cb(redisReply *reply, const char *err, void *priv)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_ARRAY) {
        repair.running = false;
        return;
    }
    static const char prefix[] = "campus:{u:", suffix[] = "}:reviews-pending";
    redisReply *keys = reply->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        size_t len = strlen(k);
        if (len <= sizeof(prefix) + sizeof(suffix) - 2 || strncmp(k, prefix, sizeof(prefix) - 1) != 0)
            continue;
        char *user = xstrndup(k + sizeof(prefix) - 1, len - (sizeof(prefix) - 1) - (sizeof(suffix) - 1));
        if (store_command(repair_markers_cb, user, "HGETALL %s", k) < 0) {
            free(user);
            repair.running = false;
            return;
        }
    }
    const char *cursor = reply->element[0]->str;
    if (strcmp(cursor, "0") == 0 ||
        store_command(repair_scan_cb, NULL, "SCAN %s MATCH %s COUNT 200", cursor,
                      KEY_REVIEWS_PENDING_MATCH) < 0)
        repair.running = false;
}

void exercise_review_repair_tick(void)
{
    long long now = now_ms();

    if (store_state() != STORE_UP || !store_writable()) {
        repair.was_up = false;
        return;
    }
    if (!repair.was_up) {
        /* The store is back (or up for the first time): what failed while
         * it was away is worth a pass at once. */
        repair.was_up = true;
        repair.last = 0;
    }
    if (repair.running)
        return;
    if (repair.last && now - repair.last < cfg.review_repair_interval * 1000)
        return;
    repair.last = now;
    repair.running = store_command(repair_scan_cb, NULL, "SCAN 0 MATCH %s COUNT 200",
                                   KEY_REVIEWS_PENDING_MATCH) == 0;
}

/* ---- SUBMIT ---- */

/* A retry of an attempt already stored: the answer is that attempt's, as
 * stored (a trainer may have graded it since), graded again with its own
 * seed only for what the record does not keep (keys, answered). */
static void submit_replay(struct ex_op *op, const char *stored)
{
    struct req *req = op->req;
    json_t *rec = json_loads(stored, 0, NULL);
    const char *seedtxt = json_string_value(json_object_get(rec, "seed"));
    uint64_t seed = seedtxt ? strtoull(seedtxt, NULL, 10) : op->seed;
    char errbuf[256];

    if (rec == NULL) {
        req_reply(req, 500, "the stored attempt %ld is unreadable", op->attempt);
        op_free(op);
        return;
    }
    if (seed != op->seed) {
        const char *doc = req->args.argv[req->args.argc - 1];
        grade_result_free(&op->result);
        op->graded = false;
        if (exercise_grade(op->ex, seed, doc, req->args.argl[req->args.argc - 1], &op->result,
                           errbuf, sizeof(errbuf)) < 0) {
            req_reply(req, 409, "attempt %ld of this answer no longer grades: %s", op->attempt, errbuf);
            json_decref(rec);
            op_free(op);
            return;
        }
        op->graded = true;
    }
    op->result.score = json_real_value(json_object_get(rec, "score"));
    op->result.passed = json_is_true(json_object_get(rec, "passed"));
    op->result.pending = (size_t)json_integer_value(json_object_get(rec, "pending"));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(rec, "tasks"), i, t) {
        const char *id = json_string_value(json_object_get(t, "id"));
        for (size_t k = 0; id && k < op->result.ntasks; k++) {
            struct grade_task *g = &op->result.tasks[k];
            if (strcmp(g->id, id) != 0)
                continue;
            g->score = json_real_value(json_object_get(t, "score"));
            g->pending = json_is_true(json_object_get(t, "pending"));
            free(g->feedback);
            g->feedback = xstrdup(json_string_value(json_object_get(t, "feedback")) ?
                                  json_string_value(json_object_get(t, "feedback")) : "");
        }
    }
    json_decref(rec);
    submit_answer(op);
    op_free(op);
}

static void attempt_stored_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER) {
        if (reply && reply->type == REDIS_REPLY_ERROR)
            log_warn("exercise: attempt of %s by %s: %s", op->lesson->full_id, op->user, reply->str);
        store_unavailable(op->req);
        op_free(op);
        return;
    }
    if (reply->element[0]->integer == 0) {
        req_reply(op->req, 409, "no attempts left at %s", op->lesson->full_id);
        op_free(op);
        return;
    }
    op->attempt = (long)reply->element[0]->integer;
    long long status = reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_INTEGER
                           ? reply->element[1]->integer : -1;
    if (status == 2) {
        queue_next_review(op);
    } else if (status == 1 && reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_STRING) {
        submit_replay(op, reply->element[2]->str);
    } else {
        req_reply(op->req, 409, "this submission key was used for another answer (attempt %ld)",
                  op->attempt);
        op_free(op);
    }
}

/* The stored attempts limit: the exercise's own, or attempts_max for one
 * that sets none, so that no learner's list grows without end. */
static long attempts_limit(const struct exercise *ex)
{
    return ex->attempts > 0 ? ex->attempts : cfg.attempts_max;
}

static void submit_llen_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;
    const struct exercise *ex = op->ex;
    struct req *req = op->req;
    char errbuf[256];

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        store_unavailable(req);
        op_free(op);
        return;
    }
    /* Graded for the view the learner saw, that of attempt LLEN+1; the
     * number itself comes from the script, and a full list or a retry is
     * the script's to tell, since a retry may come after the last attempt. */
    op->seed = attempt_seed(op->user, op->lesson->full_id, (long)reply->integer + 1);
    const char *doc = req->args.argv[req->args.argc - 1];
    if (exercise_grade(ex, op->seed, doc, req->args.argl[req->args.argc - 1], &op->result,
                       errbuf, sizeof(errbuf)) < 0) {
        req_reply(req, 400, "%s", errbuf);       /* no attempt used */
        op_free(op);
        return;
    }
    op->graded = true;

    json_t *rec = result_record(&op->result, op->seed);
    char *json = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (json == NULL || json[0] != '{') {
        req_reply(req, 400, "an answer must be UTF-8 text");   /* no attempt used */
        free(json);
        op_free(op);
        return;
    }
    char *passed_key = xasprintf(KEY_PASSED, op->user);
    char *events_key = xasprintf(KEY_EVENTS, op->user);
    char *submit_key = xasprintf(KEY_SUBMIT, op->user, op->subkey);
    char *pending_key = xasprintf(KEY_REVIEWS_PENDING, op->user);
    char max[24], ms[32], score01[32], maxlen[16], window[32];
    snprintf(max, sizeof(max), "%ld", attempts_limit(ex));
    snprintf(ms, sizeof(ms), "%lld", now_ms());
    snprintf(score01, sizeof(score01), "%.4f", op->result.score / 100.0);
    snprintf(maxlen, sizeof(maxlen), "%d", KEYS_EVENTS_MAX);
    snprintf(window, sizeof(window), "%lld", (long long)cfg.submit_window * 1000);
    const char **argv = xcalloc(14 + op->result.ntasks, sizeof(*argv));
    int argc = 0;
    argv[argc++] = op->key;
    argv[argc++] = passed_key;
    argv[argc++] = events_key;
    argv[argc++] = submit_key;
    argv[argc++] = pending_key;
    argv[argc++] = max;
    argv[argc++] = json + 1;                     /* the script writes {"n":N, in front */
    argv[argc++] = op->lesson->full_id;
    argv[argc++] = ms;
    argv[argc++] = op->result.passed ? "1" : "0";
    argv[argc++] = score01;
    argv[argc++] = maxlen;
    argv[argc++] = window;
    argv[argc++] = op->docsha;
    for (size_t i = 0; i < op->result.ntasks; i++)
        if (op->result.tasks[i].pending)
            argv[argc++] = op->result.tasks[i].id;
    int rc = script_call(SCRIPT_ATTEMPT, attempt_stored_cb, op, 5, argc, argv);
    free(argv);
    free(json);
    free(passed_key);
    free(events_key);
    free(submit_key);
    free(pending_key);
    if (rc < 0) {
        store_unavailable(req);
        op_free(op);
    }
}

/* Refuses an answer before anything is graded or stored: 413 for the
 * whole document over answer_max, or one task's answer over the task's
 * max_bytes (else task_answer_max); 400 for a control character other than
 * tab or line end, which no answer needs and which JSON stores as six
 * bytes: without them a stored answer is at most twice its size (quotes and
 * backslashes escaped), the bound docs/OPERATIONS.md promises. A document
 * that does not parse is left to the grader, which names the line. */
static bool answer_refused(struct req *req, const struct exercise *ex, const char *doc, size_t len)
{
    struct answer_doc ad;
    char err[256];

    if (len > (size_t)cfg.answer_max) {
        req_reply(req, 413, "answer too large: %zu bytes, at most %ld", len, cfg.answer_max);
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)doc[i];
        if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f) {
            req_reply(req, 400, "an answer holds a control character (byte %zu)", i);
            return true;
        }
    }
    if (answer_parse(doc, len, &ad, err, sizeof(err)) < 0)
        return false;
    bool refused = false;
    for (size_t i = 0; i < ad.n && !refused; i++) {
        const struct task *t = exercise_task(ex, ad.items[i].id);
        long max = t && t->max_bytes > 0 ? t->max_bytes : cfg.task_answer_max;
        size_t vlen = strlen(ad.items[i].value);
        if (vlen > (size_t)max) {
            req_reply(req, 413, "answer to task %s too large: %zu bytes, at most %ld",
                      ad.items[i].id, vlen, max);
            refused = true;
        }
    }
    answer_doc_free(&ad);
    return refused;
}

/* SUBMIT course/exercise [key] {N} */
static void cmd_submit(struct req *req)
{
    if (cohort_gate(req, COHORT_GATE_SUBMIT, cmd_submit))
        return;
    struct catalog *cat;
    const struct lesson *l = find_exercise(req, &cat);

    if (l == NULL)
        return;                  /* answered, and req with it: touch it no more */
    int argc = req->args.argc;
    const char *doc = req->args.argv[argc - 1];
    size_t len = req->args.argl[argc - 1];
    const char *key = argc > 3 ? req->args.argv[2] : NULL;
    if (req->user == NULL) {
        req_reply(req, 401, "SUBMIT needs you to log in");
        return;
    }
    if (key && (key[0] == '\0' || strlen(key) > SUBMIT_KEY_MAX ||
                strspn(key, SUBMIT_KEY_CHARS) != strlen(key))) {
        req_reply(req, 400, "a submission key is 1 to %d of A-Z a-z 0-9 . _ : -", SUBMIT_KEY_MAX);
        return;
    }
    if (answer_refused(req, l->exercise, doc, len))
        return;
    struct ex_op *op = op_new(req, cat, l);
    /* A submission is named by the client's key, or else by the answer
     * itself: a retry of the same answer (say, after a 503 whose attempt
     * was stored all the same) finds the attempt it made. */
    const char *parts[] = { op->user, l->full_id, key ? "key" : "doc", key ? key : doc };
    size_t lens[] = { strlen(op->user), strlen(l->full_id), 3, key ? strlen(key) : len };
    sha256_parts_hex(parts, lens, 4, op->subkey);
    sha256_hex(doc, len, op->docsha);
    if (store_command(submit_llen_cb, op, "LLEN %s", op->key) < 0) {
        store_unavailable(req);
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
        store_unavailable(req);
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
        store_unavailable(req);
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
        store_unavailable(req);
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
        store_unavailable(req);
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
        store_unavailable(req);
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

/* Takes the entry op->review_id off the queue (with its index). Returns 0
 * (cb, which may be NULL, hears the reply) or -1 when the store is not up. */
static int review_done(struct ex_op *op, store_cb *cb)
{
    const char *task_id = json_string_value(json_object_get(op->item, "task"));
    char *field = xasprintf("%s %s %ld %s", op->user, op->lesson->full_id, op->attempt,
                            task_id ? task_id : "");
    const char *argv[] = { KEY_REVIEW_QUEUE, KEY_REVIEW_ITEMS, KEY_REVIEW_INDEX, op->review_id, field };
    int rc = script_call(SCRIPT_REVIEW_DONE, cb, op, 3, 5, argv);
    free(field);
    return rc;
}

static void review_grade(struct ex_op *op, json_t *rec)
{
    const char *task_id = json_string_value(json_object_get(op->item, "task"));
    json_t *t = record_task(rec, task_id);

    if (t == NULL || !json_is_true(json_object_get(t, "pending"))) {
        /* A stale entry (a repair pass may race a grade): it leaves the queue. */
        review_done(op, NULL);
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
    char *pending_key = xasprintf(KEY_REVIEWS_PENDING, op->user);
    char *marker = xasprintf("%s %ld %s", op->lesson->full_id, op->attempt, task_id);
    char idx[24], ms[32], score01[32], maxlen[16];
    snprintf(idx, sizeof(idx), "%ld", op->attempt - 1);
    snprintf(ms, sizeof(ms), "%lld", now_ms());
    snprintf(score01, sizeof(score01), "%.4f", score / 100.0);
    snprintf(maxlen, sizeof(maxlen), "%d", KEYS_EVENTS_MAX);
    const char *argv[] = { op->key, passed_key, events_key, pending_key, idx, op->record, json,
                           op->lesson->full_id, ms, passed ? "1" : "0", score01, maxlen, marker };
    int rc = script_call(SCRIPT_ATTEMPT_UPDATE, review_updated_cb, op, 4, 13, argv);
    free(json);
    free(passed_key);
    free(events_key);
    free(pending_key);
    free(marker);
    if (rc < 0) {
        store_unavailable(op->req);
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
        store_unavailable(op->req);
        op_free(op);
        return;
    }
    if (reply->integer == 0) {
        req_reply(op->req, 409, "the attempt changed while it was graded; try again");
        op_free(op);
        return;
    }
    /* The learner's record is final; the queue entry goes next (another tag). */
    if (review_done(op, review_dequeued_cb) < 0) {
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
        store_unavailable(op->req);
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
        if (argc == 3 && !arg_id_valid(req->args.argv[2], req->args.argl[2])) {
            req_reply(req, 400, "bad course id (use a-z, 0-9 and -)");
            op_free(op);
            return;
        }
        rc = store_command(review_list_cb, op, "HGETALL %s", KEY_REVIEW_ITEMS);
    } else if ((strcasecmp(sub, "SHOW") == 0 && argc == 3) ||
               (strcasecmp(sub, "GRADE") == 0 && argc == 5)) {
        long long rid, score;
        if (arg_parse_ll(req->args.argv[2], req->args.argl[2], 1, LLONG_MAX, &rid) < 0) {
            req_reply(req, 400, "review id must be a whole number (see REVIEW LIST)");
            op_free(op);
            return;
        }
        op->review_id = xasprintf("%lld", rid);
        if (argc == 5) {
            /* A whole number, strictly: "", "0x10", "+5", " 50", "1e-400"
             * and "-0" are mistakes to point out, not scores to guess at. */
            if (arg_parse_ll(req->args.argv[3], req->args.argl[3], 0, 100, &score) < 0) {
                req_reply(req, 400, "score must be a whole number from 0 to 100");
                op_free(op);
                return;
            }
            op->review_score = (double)score;
            op->review_comment = xstrdup(req->args.argv[4]);
        }
        rc = store_command(review_item_cb, op, "HGET %s %s", KEY_REVIEW_ITEMS, op->review_id);
    } else {
        req_reply(req, 400, "usage: %s", req->cmd->usage);
        op_free(op);
        return;
    }
    if (rc < 0) {
        store_unavailable(req);
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
    { "EXERCISE", cmd_exercise, 1, 2, ROLE_ANON, CMD_SESSION, "EXERCISE course/exercise [text|json]",
      "The exercise as you will see it on your next attempt: the case, the tasks and how to "
      "answer each. Never the keys." },
    { "SUBMIT", cmd_submit, 2, 3, ROLE_LEARNER, CMD_STORE | CMD_WRITE,
      "SUBMIT course/exercise [key] {N}",
      "Grades an answer document (one 'task-id: answer' line per task) and stores the attempt; "
      "answers the score, pass or fail, feedback per task and the attempts left. A malformed "
      "document is a 400, one over its size limit a 413: neither uses an attempt. Sent again "
      "with the same key (or, without one, the same answer), it answers the attempt it made." },
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

/* The body is JSON: {"answers": {"task-id": "answer", ...}, "key": "..."},
 * turned into the same answer document SUBMIT takes over CTP/1; the
 * optional key is SUBMIT's submission key. */
static int api_submit(struct evhttp_request *r, char **p, int n, char **argv)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r);
    size_t len = evbuffer_get_length(in);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, &jerr);
    json_t *answers = json_object_get(doc, "answers");
    json_t *subkey = json_object_get(doc, "key");
    struct sbuf b = {0};
    const char *key;
    json_t *v;

    if (!json_is_object(answers) || (subkey && !json_is_string(subkey))) {
        json_decref(doc);
        api_send_error(r, 400, "body must be {\"answers\": {\"task-id\": \"answer\", ...}, \"key\": \"...\"}");
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
    int argc = 0;
    argv[argc++] = xstrdup("SUBMIT");
    argv[argc++] = xasprintf("%s/%s", p[0], p[1]);
    if (subkey)
        argv[argc++] = xstrdup(json_string_value(subkey));
    argv[argc++] = sbuf_take(&b);
    json_decref(doc);
    return argc;
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

    if (!json_is_integer(score) || (comment && !json_is_string(comment))) {
        json_decref(doc);
        api_send_error(r, 400, "body must be {\"score\": a whole number 0..100, \"comment\": \"...\"}");
        return -1;
    }
    argv[0] = xstrdup("REVIEW");
    argv[1] = xstrdup("GRADE");
    argv[2] = xstrdup(p[0]);
    argv[3] = xasprintf("%lld", (long long)json_integer_value(score));
    argv[4] = xstrdup(comment ? json_string_value(comment) : "");
    json_decref(doc);
    return 5;
}

const struct api_route api_routes_exercise[] = {
    { "GET", "/api/reviews", api_reviews },
    { "GET", "/api/reviews/{review}", api_review_show },
    { "POST", "/api/reviews/{review}", api_review_grade },
    { "GET", "/api/exercises/{course}/{exercise}", api_exercise },
    { "POST", "/api/exercises/{course}/{exercise}/submit", api_submit },
    { "GET", "/api/exercises/{course}/{exercise}/attempts", api_attempts },
    { NULL, NULL, NULL },
};
