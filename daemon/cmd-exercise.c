/* cmd-exercise.c: exercises: EXERCISE (the learner's view), SUBMIT (grade
 * and store an attempt), ATTEMPTS, and the entries SUBMIT adds to the
 * review queue (cmd-review.c is the trainer's side). An attempt is
 * answered only after Redis has it. */
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

#include "catalog.h"
#include "exercise.h"
#include "gift.h"
#include "keys.h"
#include "scripts.h"

/* A SUBMIT's own key from a client: 1 to 64 of these. */
#define SUBMIT_KEY_MAX ARG_KEY_MAX
#define SUBMIT_KEY_CHARS ARG_KEY_CHARS

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
    char subkey[SHA256_HEX_MAX];             /* SUBMIT: SHA-256 (hex) naming this submission */
    char docsha[SHA256_HEX_MAX];             /* SUBMIT: SHA-256 (hex) of the answer document */
    struct grade_result result;
    bool graded;
    size_t next_review;          /* SUBMIT: pending tasks queued so far */
    char *replay;                /* SUBMIT: the stored record of a retried submission */
};


/* The seed of a learner's attempt: shuffles and pool draws depend on it,
 * so the view shown for attempt N is the one graded for attempt N. */
static uint64_t attempt_seed(const char *user, const char *exercise, long attempt)
{
    uint64_t h = HASH_FNV_BASIS;
    char buf[32];
    const char *parts[] = { user ? user : "", exercise, buf };

    snprintf(buf, sizeof(buf), "%ld", attempt);
    for (int i = 0; i < 3; i++) {
        for (const char *p = parts[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * HASH_FNV_PRIME;
        h = (h ^ 0xff) * HASH_FNV_PRIME;
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
        op->key = key_new(KEY_ATTEMPTS, op->user, l->full_id);
    return op;
}

static void op_free(struct ex_op *op)
{
    if (op->graded)
        grade_result_free(&op->result);
    catalog_unref(op->cat);
    free(op->user);
    free(op->key);
    free(op->replay);
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

static void attempts_left_text(const struct exercise *ex, long used, char *buf, size_t n)
{
    if (ex->attempts == 0)
        snprintf(buf, n, "unlimited");
    else
        snprintf(buf, n, "%ld", ex->attempts - used > 0 ? ex->attempts - used : 0L);
}

/* ---- EXERCISE ---- */

static void send_view(struct req *req, const struct lesson *item, long attempt)
{
    /* The view in the learner's language: same tasks, ids and seeded order
     * as every other language's, so an answer to it grades the same. */
    struct lang_pick lp;
    i18n_pick(req, item->course, &lp);
    const struct lesson *l = i18n_lesson(item, &lp);
    const struct exercise *ex = l->exercise ? l->exercise : item->exercise;
    bool json = req->origin == REQ_HTTP ||
                (req->args.argc > 2 && strcasecmp(req->args.argv[2], "json") == 0);
    uint64_t seed = attempt_seed(req->user, l->full_id, attempt);
    const char *ml = i18n_msg_lang(req);
    char *view = json ? exercise_view_json_lang(ex, seed, ml) : exercise_view_text_lang(ex, seed, ml);
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
    i18n_meta(req, &lp, msg, sizeof(msg));
    i18n_vary(req);
    req_reply_text(req, 200, msg, json ? "application/json" : "text/plain; charset=utf-8",
                   view, strlen(view));
    free(view);
}

static void exercise_llen_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER)
        req_store_unavailable(op->req);
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
static void sha256_parts_hex(const char *const *parts, const size_t *lens, int n, char out[SHA256_HEX_MAX])
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
        json_t *task = json_pack("{s:s,s:f,s:f,s:b,s:s,s:s,s:f}", "id", t->id, "weight",
                                 t->weight, "score", t->score, "pending", t->pending, "feedback",
                                 t->feedback ? t->feedback : "", "response",
                                 t->response ? t->response : "", "max", t->points);
        if (task == NULL) {                      /* not UTF-8: jansson takes no such string */
            json_decref(tasks);
            return NULL;
        }
        /* confirm: trainer: the suggestion waits in the record for the trainer. */
        if (t->provisional) {
            json_object_set_new(task, "provisional", json_true());
            json_object_set_new(task, "suggested", json_real(t->suggested));
        }
        json_array_append_new(tasks, task);
    }
    char seedbuf[24];
    snprintf(seedbuf, sizeof(seedbuf), "%llu", (unsigned long long)seed);
    return json_pack("{s:I,s:f,s:f,s:b,s:i,s:s,s:o}", "t", (json_int_t)now_wall_ms(), "score",
                     r->score, "pass", r->pass, "passed", r->passed, "pending", (int)r->pending,
                     "seed", seedbuf, "tasks", tasks);
}

static void submit_answer(struct ex_op *op)
{
    const struct exercise *ex = op->ex;
    enum exercise_show show = exercise_shown(ex, op->result.passed, op->attempt, now_wall_ms());
    char *text = op->req->origin == REQ_HTTP ? grade_result_json_shown(&op->result, show)
                                             : grade_result_text_lang(&op->result, show,
                                                                      i18n_msg_lang(op->req));
    char left[32], msg[256];

    attempts_left_text(ex, op->attempt, left, sizeof(left));
    req_meta(op->req, "id", op->lesson->full_id);
    req_meta_int(op->req, "attempt", op->attempt);
    req_meta(op->req, "attempts_left", left);
    req_meta(op->req, "result", op->result.pending ? "pending" : op->result.passed ? "passed" : "failed");
    req_meta(op->req, "show", exercise_show_name(show));
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
        char *key = key_new(KEY_REVIEWS_PENDING, ra->user);
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
        if (review_add(ra, now_wall_ms()) == 0)
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
    redisReply *keys = reply->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        char *user = key_arg(k, KEY_REVIEWS_PENDING);
        if (user == NULL)
            continue;
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
    long long now = now_wall_ms();

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
        if (exercise_grade_lang(op->ex, seed, doc, req->args.argl[req->args.argc - 1],
                                i18n_msg_lang(req), &op->result, errbuf, sizeof(errbuf)) < 0) {
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
            g->provisional = json_is_true(json_object_get(t, "provisional"));
            free(g->feedback);
            g->feedback = xstrdup(json_string_value(json_object_get(t, "feedback")) ?
                                  json_string_value(json_object_get(t, "feedback")) : "");
        }
    }
    json_decref(rec);
    submit_answer(op);
    op_free(op);
}

/* A stored attempt is told only once the replicas have it (store_confirm). */
static void attempt_confirmed(void *priv, enum store_confirm res)
{
    struct ex_op *op = priv;

    if (res != STORE_CONFIRMED) {
        req_reply(op->req, 503, "%s", res == STORE_UNCONFIRMED ? STORE_NOT_CONFIRMED
                                                               : "progress store unavailable");
        op_free(op);
    } else if (op->replay) {
        char *stored = op->replay;
        op->replay = NULL;
        submit_replay(op, stored);
        free(stored);
    } else {
        queue_next_review(op);
    }
}

static void attempt_stored_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER) {
        if (reply && reply->type == REDIS_REPLY_ERROR)
            log_warn("exercise: attempt of %s by %s: %s", op->lesson->full_id, op->user, reply->str);
        req_store_unavailable(op->req);
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
        store_confirm(attempt_confirmed, op);
    } else if (status == 1 && reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_STRING) {
        /* A retry waits as the first try did: that one may be the write a
         * failover would lose, and this answer is what the learner keeps. */
        op->replay = xstrdup(reply->element[2]->str);
        store_confirm(attempt_confirmed, op);
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
        req_store_unavailable(req);
        op_free(op);
        return;
    }
    /* Graded for the view the learner saw, that of attempt LLEN+1; the
     * number itself comes from the script, and a full list or a retry is
     * the script's to tell, since a retry may come after the last attempt. */
    op->seed = attempt_seed(op->user, op->lesson->full_id, (long)reply->integer + 1);
    const char *doc = req->args.argv[req->args.argc - 1];
    if (exercise_grade_lang(ex, op->seed, doc, req->args.argl[req->args.argc - 1],
                            i18n_msg_lang(req), &op->result, errbuf, sizeof(errbuf)) < 0) {
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
    char *passed_key = key_new(KEY_PASSED, op->user);
    char *events_key = key_new(KEY_EVENTS, op->user);
    char *submit_key = key_new(KEY_SUBMIT, op->user, op->subkey);
    char *pending_key = key_new(KEY_REVIEWS_PENDING, op->user);
    char max[24], ms[32], score01[32], maxlen[16], window[32];
    snprintf(max, sizeof(max), "%ld", attempts_limit(ex));
    snprintf(ms, sizeof(ms), "%lld", now_wall_ms());
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
        req_store_unavailable(req);
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
    /* Graded by the learner's language's exercise: the same keys (the
     * loader checks), its feedback in that language, its rubric concepts
     * knowing the default's synonyms too. Stored under the item's id. */
    struct lang_pick lp;
    i18n_pick(req, l->course, &lp);
    const struct lesson *text = i18n_lesson(l, &lp);
    if (text->exercise)
        op->ex = text->exercise;
    /* A submission is named by the client's key, or else by the answer
     * itself: a retry of the same answer (say, after a 503 whose attempt
     * was stored all the same) finds the attempt it made. */
    const char *parts[] = { op->user, l->full_id, key ? "key" : "doc", key ? key : doc };
    size_t lens[] = { strlen(op->user), strlen(l->full_id), 3, key ? strlen(key) : len };
    sha256_parts_hex(parts, lens, 4, op->subkey);
    sha256_hex(doc, len, op->docsha);
    if (store_command(submit_llen_cb, op, "LLEN %s", op->key) < 0) {
        req_store_unavailable(req);
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

/* The trainers' comments of an attempt on one line: "task: comment; ...". */
void attempt_comments_line(json_t *rec, struct sbuf *b)
{
    size_t i;
    json_t *t;

    json_array_foreach(json_object_get(rec, "tasks"), i, t) {
        const char *c = json_string_value(json_object_get(t, "comment"));
        if (c == NULL || c[0] == '\0')
            continue;
        sbuf_printf(b, "%s%s: ", b->len ? "; " : "", json_string_value(json_object_get(t, "id")));
        for (; *c; c++)
            sbuf_addc(b, *c == '\n' || *c == '\r' || *c == '\t' ? ' ' : *c);
    }
}

/* "provisional" when everything that waits is a machine suggestion a
 * trainer has still to confirm. */
const char *attempt_result(json_t *rec)
{
    size_t i, provisional = 0;
    json_t *t;
    long long pend = json_integer_value(json_object_get(rec, "pending"));

    if (pend == 0)
        return json_is_true(json_object_get(rec, "passed")) ? "passed" : "failed";
    json_array_foreach(json_object_get(rec, "tasks"), i, t)
        provisional += json_is_true(json_object_get(t, "provisional"));
    return provisional == (size_t)pend ? "provisional" : "pending";
}

static void attempts_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;
    struct req *req = op->req;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        req_store_unavailable(req);
        op_free(op);
        return;
    }
    double *scores = xcalloc(reply->elements + 1, sizeof(double));
    req_table(req, 6, "attempt", "time", "score", "result", "pending", "comment");
    for (size_t i = 0; i < reply->elements; i++) {
        json_t *rec = json_loads(reply->element[i]->str, 0, NULL);
        char n[16], t[TIME_ISO_MAX], score[32], pending[16];
        struct sbuf comments = {0};
        time_iso(json_integer_value(json_object_get(rec, "t")), false, t);
        snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(json_object_get(rec, "n")));
        scores[i] = json_real_value(json_object_get(rec, "score"));
        snprintf(score, sizeof(score), "%.1f", scores[i]);
        snprintf(pending, sizeof(pending), "%lld", (long long)json_integer_value(json_object_get(rec, "pending")));
        attempt_comments_line(rec, &comments);
        req_row(req, 6, n, t, score, attempt_result(rec), pending, comments.data ? comments.data : "");
        sbuf_free(&comments);
        json_decref(rec);
    }
    /* The learner has now seen this exercise's reviews. */
    reviews_new_clear(op->user, op->lesson->full_id);
    char left[32];
    attempts_left_text(op->ex, (long)reply->elements, left, sizeof(left));
    req_reply_data(req, 200, "%zu attempt%s, %s left, counted score %.1f (%s)", reply->elements,
                   reply->elements == 1 ? "" : "s", left, counted_score(op->ex->policy, scores, reply->elements),
                   exercise_policy_name(op->ex->policy));
    free(scores);
    op_free(op);
}

/* ATTEMPTS course/exercise N: one attempt, as its learner may see it. */
static void attempt_one_cb(redisReply *reply, const char *err, void *priv)
{
    struct ex_op *op = priv;
    struct req *req = op->req;
    json_t *rec;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        req_store_unavailable(req);
    } else if (reply->type != REDIS_REPLY_STRING || (rec = json_loads(reply->str, 0, NULL)) == NULL) {
        req_reply(req, 404, "no attempt %ld at %s", op->attempt, op->lesson->full_id);
    } else {
        bool json = req->origin == REQ_HTTP;
        char *body = json ? attempt_view_json(op->ex, rec) : attempt_view_text(op->ex, rec);
        char msg[160];
        reviews_new_clear(op->user, op->lesson->full_id);
        req_meta(req, "id", op->lesson->full_id);
        req_meta_int(req, "attempt", op->attempt);
        req_meta(req, "result", attempt_result(rec));
        snprintf(msg, sizeof(msg), "%s attempt=%ld score=%.1f %s", op->lesson->full_id, op->attempt,
                 json_real_value(json_object_get(rec, "score")), attempt_result(rec));
        req_reply_text(req, 200, msg, json ? "application/json" : "text/plain; charset=utf-8", body,
                       strlen(body));
        free(body);
        json_decref(rec);
    }
    op_free(op);
}

static void cmd_attempts(struct req *req)
{
    struct catalog *cat;
    long long n = 0;
    const struct lesson *l = find_exercise(req, &cat);

    if (l == NULL)
        return;
    if (req->args.argc == 3 &&
        arg_parse_ll(req->args.argv[2], req->args.argl[2], 1, INT_MAX, &n) < 0) {
        req_reply(req, 400, "attempt must be a whole number from 1 (see ATTEMPTS %s)", l->full_id);
        return;
    }
    struct ex_op *op = op_new(req, cat, l);
    op->attempt = (long)n;
    int rc = n ? store_command(attempt_one_cb, op, "LINDEX %s %lld", op->key, n - 1)
               : store_command(attempts_cb, op, "LRANGE %s 0 -1", op->key);
    if (rc < 0) {
        req_store_unavailable(req);
        op_free(op);
    }
}

/* EXPORT gift COURSE: every GIFT question of a course (quiz blocks, inline
 * gift tasks, pools), under a $CATEGORY per exercise, for Moodle. Keys and
 * feedback included, so trainers only. */
void exercise_export_gift(struct req *req)
{
    struct catalog *cat = courses_current();
    const char *id = req->args.argv[2];   /* the dispatcher saw one argument */
    struct sbuf b = {0};
    size_t questions = 0;

    if (cat == NULL || !id_valid(id)) {
        req_reply(req, cat ? 400 : 503, cat ? "usage: EXPORT gift course" : "no courses loaded");
        return;
    }
    const struct course *c = catalog_course(cat, id);
    if (c == NULL) {
        req_reply(req, 404, "no course '%s'", id);
        return;
    }
    /* lang= exports one language's questions (GIFT import and export per
     * variant); each lesson missing in it gives the default's. */
    struct lang_pick lp;
    i18n_pick(req, c, &lp);
    const struct text_variant *ctv = catalog_course_text(c, lp.lang);
    sbuf_printf(&b, "// %s: questions exported by campusd %s\n// language: %s\n\n",
                ctv ? ctv->title : c->title, CAMPUS_VERSION, lp.lang[0] ? lp.lang : "-");
    for (size_t i = 0; i < c->nlessons; i++) {
        const struct lesson *v = catalog_lesson_lang(c->lessons[i], lp.lang);
        const struct lesson *l = v->exercise ? v : c->lessons[i];
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
    i18n_meta(req, &lp, msg, sizeof(msg));
    req_reply_text(req, 200, msg, "text/plain; charset=utf-8", b.data, b.len);
    sbuf_free(&b);
}

const struct cmd cmd_group_exercise[] = {
    { .name = "EXERCISE", .run = cmd_exercise, .min_args = 1, .max_args = 2, .role = ROLE_ANON,
      .flags = CMD_SESSION | CMD_LANG, .usage = "EXERCISE course/exercise [text|json] [lang=TAG]",
      .help = "The exercise as you will see it on your next attempt: the case, the tasks and how to "
              "answer each. Never the keys." },
    { .name = "SUBMIT", .run = cmd_submit, .min_args = 2, .max_args = 3, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_WRITE, .usage = "SUBMIT course/exercise [key] {N}",
      .help = "Grades an answer document (one 'task-id: answer' line per task) and stores the attempt; "
              "answers the score, pass or fail, feedback per task and the attempts left. A malformed "
              "document is a 400, one over its size limit a 413: neither uses an attempt. Sent again "
              "with the same key (or, without one, the same answer), it answers the attempt it made." },
    { .name = "ATTEMPTS", .run = cmd_attempts, .min_args = 1, .max_args = 2, .role = ROLE_LEARNER,
      .flags = CMD_STORE, .usage = "ATTEMPTS course/exercise [n]",
      .help = "Your attempts at an exercise (with trainers' comments), and the score that counts under "
              "its policy; with n, that attempt: each task's score, feedback as the exercise shows it, "
              "and a trainer's comment and rubric levels." },
    { .name = NULL },
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
    if (n > 2)
        argv[2] = xstrdup(p[2]);
    return n > 2 ? 3 : 2;
}

/* The body is JSON: {"answers": {"task-id": "answer", ...}, "key": "..."},
 * turned into the same answer document SUBMIT takes over CTP/1; the
 * optional key is SUBMIT's submission key. */
static int api_submit(struct evhttp_request *r, char **p, int n, char **argv)
{
    json_t *doc = api_body(r);
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

const struct api_route api_routes_exercise[] = {
    { "GET", "/api/exercises/{course}/{exercise}", api_exercise },
    { "POST", "/api/exercises/{course}/{exercise}/submit", api_submit },
    { "GET", "/api/exercises/{course}/{exercise}/attempts", api_attempts },
    { "GET", "/api/exercises/{course}/{exercise}/attempts/{attempt}", api_attempts },
    { NULL, NULL, NULL },
};
