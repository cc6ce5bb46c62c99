/* cmd-progress.c: a learner's progress: DONE, NEXT, PROGRESS, EXPORT xapi,
 * their HTTP routes, and the record of lesson views that READ makes. */
#include "campusd.h"

#include "catalog.h"
#include "keys.h"
#include "scripts.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#define NEXT_DEPTH_MAX 16

/* A hash reply (HGETALL) as a JSON object of field -> integer (the leading
 * number of the value). Caller decrefs. */
static json_t *hash_object(redisReply *reply)
{
    json_t *o = json_object();

    if (reply && reply->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
            redisReply *f = reply->element[i], *v = reply->element[i + 1];
            if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            long long n = 0;
            /* "FIRST LAST" (viewed) keeps the last: the latest activity. */
            const char *sp = strchr(v->str, ' ');
            n = atoll(sp ? sp + 1 : v->str);
            json_object_set_new(o, f->str, json_integer(n));
        }
    return o;
}

static bool is_done(json_t *done, const struct lesson *l)
{
    return json_object_get(done, l->full_id) != NULL;
}

/* ---- the record READ makes ---- */

void progress_viewed(struct req *req, const struct lesson *l)
{
    char k1[KEY_MAX], k2[KEY_MAX], now[24], gap[24], maxlen[16];

    if (req->user == NULL || req->role < ROLE_LEARNER || !store_writable() || l == NULL)
        return;
    if (key_fmt(k1, sizeof(k1), KEY_VIEWED, req->user) < 0 ||
        key_fmt(k2, sizeof(k2), KEY_EVENTS, req->user) < 0)
        return;
    snprintf(now, sizeof(now), "%lld", now_wall_ms());
    snprintf(gap, sizeof(gap), "%d", KEYS_VIEW_GAP_MS);
    snprintf(maxlen, sizeof(maxlen), "%d", KEYS_EVENTS_MAX);
    const char *argv[] = { k1, k2, l->full_id, now, gap, maxlen };
    /* Fire and forget: READ never waits for this. */
    script_call(SCRIPT_VIEWED, NULL, NULL, 2, 6, argv);
}

/* ---- DONE course/lesson ---- */

/* A DONE's answer waits for the replicas (store_confirm): a completion
 * the learner was told of must survive a failover. */
static void done_confirmed(void *priv, enum store_confirm res)
{
    struct req *req = priv;
    bool fresh = req->confirm_fresh;

    if (res != STORE_CONFIRMED)
        req_reply(req, 503, "%s", res == STORE_UNCONFIRMED ? STORE_NOT_CONFIRMED : REQ_STORE_UNAVAILABLE);
    else if (fresh)
        req_reply(req, 200, "done %s", req->args.argv[1]);
    else
        req_reply(req, 200, "already done %s", req->args.argv[1]);
}

static void done_cb(redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;

    if (req_store_failed(req, reply))
        return;
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == -1) {
        req_reply(req, 409, "this key was used for another lesson");
        return;
    }
    /* "already done" waits too: the first DONE may have been the one left
     * unconfirmed, and this retry is what tells the learner it is kept. */
    req->confirm_fresh = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
    store_confirm(done_confirmed, req);
}

/* A DONE's keys and arguments, as SCRIPT_DONE takes them: argv holds
 * nkeys keys, then nargs arguments. */
struct done_call {
    char k1[KEY_MAX], k2[KEY_MAX], k3[KEY_MAX], now[24], maxlen[16], window[24];
    const char *argv[7];
    int nkeys, nargs;
};

/* Checks DONE's arguments and fills d. Returns 0, or -1 after answering
 * the mistake (answer true) or without a word (false: the caller goes the
 * ordinary way, which answers it). */
static int done_prepare(struct req *req, struct done_call *d, bool answer)
{
    struct catalog *cat = courses_current();
    const struct lesson *l;

    /* A malformed id is the client's mistake (400); a well-formed one that
     * names no lesson, a 404. */
    if (!arg_lesson_id_valid(req->args.argv[1], req->args.argl[1])) {
        if (answer)
            req_reply(req, 400, "bad lesson id (use course/lesson, a-z, 0-9 and - on each side of /)");
        return -1;
    }
    l = cat ? catalog_lesson(cat, req->args.argv[1]) : NULL;
    if (l == NULL) {
        if (answer)
            req_reply(req, 404, "no lesson '%.100s'", req->args.argv[1]);
        return -1;
    }
    /* A mark made offline carries the time it was made (ms); the future is
     * refused, beyond a minute of clock skew. */
    long long at = now_wall_ms();
    const char *key = req->args.argc == 4 ? req->args.argv[3] : NULL;
    if (key && !arg_key_valid(key, req->args.argl[3])) {
        if (answer)
            req_reply(req, 400, "a key is 1 to %d of A-Z a-z 0-9 . _ : -", ARG_KEY_MAX);
        return -1;
    }
    if (req->args.argc >= 3) {
        long long t;
        if (arg_parse_ll(req->args.argv[2], req->args.argl[2], 1, at + 60000, &t) < 0) {
            if (answer)
                req_reply(req, 400, "at-ms must be a whole number of milliseconds since 1970,"
                          " not in the future");
            return -1;
        }
        at = t;
    }
    if (key_fmt(d->k1, sizeof(d->k1), KEY_DONE, req->user) < 0 ||
        key_fmt(d->k2, sizeof(d->k2), KEY_EVENTS, req->user) < 0 ||
        (key && key_fmt(d->k3, sizeof(d->k3), KEY_DONE_KEY, req->user, key) < 0)) {
        if (answer)
            req_store_unavailable(req);
        return -1;
    }
    snprintf(d->now, sizeof(d->now), "%lld", at);
    snprintf(d->maxlen, sizeof(d->maxlen), "%d", KEYS_EVENTS_MAX);
    snprintf(d->window, sizeof(d->window), "%lld", (long long)cfg.submit_window * 1000);
    int n = 0;
    d->argv[n++] = d->k1;
    d->argv[n++] = d->k2;
    if (key)
        d->argv[n++] = d->k3;
    d->nkeys = n;
    d->argv[n++] = l->full_id;
    d->argv[n++] = d->now;
    d->argv[n++] = d->maxlen;
    if (key)
        d->argv[n++] = d->window;
    d->nargs = n - d->nkeys;
    return 0;
}

static void cmd_done(struct req *req)
{
    struct done_call d;

    if (done_prepare(req, &d, true) < 0)
        return;
    if (script_call(SCRIPT_DONE, done_cb, req, d.nkeys, d.nkeys + d.nargs, d.argv) < 0)
        req_store_unavailable(req);
}

/* A logged-in CTP/1 connection's DONE: its session check and the mark go
 * in one script (SCRIPT_DONE_CHECKED), one round trip instead of two, when
 * nothing but the session could refuse it; the mark is made only for a
 * live session, and the answers are those of the two round trips. */
static bool done_fused(struct req *req)
{
    struct done_call d;

    if (req->origin != REQ_CTP || !cmd_would_pass(req) || done_prepare(req, &d, false) < 0)
        return false;
    return session_check_fused(req, SCRIPT_DONE_CHECKED, d.nkeys, d.nargs, d.argv, done_cb) == 0;
}

/* ---- reading a learner's state: done and viewed (NEXT), done and passed
 * (PROGRESS), in one pipelined round trip ---- */

struct state {
    struct req *req;
    struct catalog *cat;         /* held for the round trip */
    json_t *a, *b;               /* the two hashes asked for */
    json_t *passed;              /* the exercises passed */
    int pending;                 /* replies still to come */
    bool failed;
    void (*finish)(struct state *);
};

/* The lesson of a passed field ("course/lesson" or "course/lesson#N")
 * into id (n bytes). */
static void passed_lesson(const char *field, char *id, size_t n)
{
    snprintf(id, n, "%s", field);
    id[strcspn(id, "#")] = '\0';
}

/* A passed id is "course/lesson" or "course/lesson#N"; the time of a DONE
 * is kept when there was one. */
void progress_merge_passed(json_t *done, json_t *passed)
{
    const char *f;
    json_t *v;

    json_object_foreach(passed, f, v) {
        char id[256];
        passed_lesson(f, id, sizeof(id));
        if (json_object_get(done, id) == NULL)
            json_object_set(done, id, v);
    }
}

static void state_reply(struct state *s, json_t **slot, redisReply *reply)
{
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
        s->failed = true;
    else
        *slot = hash_object(reply);
    if (--s->pending > 0)
        return;
    if (s->failed) {
        req_store_unavailable(s->req);
    } else {
        progress_merge_passed(s->a, s->passed);
        s->finish(s);
    }
    catalog_unref(s->cat);
    json_decref(s->a);
    json_decref(s->b);
    json_decref(s->passed);
    free(s);
}

static void state_a_cb(redisReply *reply, const char *err, void *priv)
{
    struct state *s = priv;
    state_reply(s, &s->a, reply);
}

static void state_b_cb(redisReply *reply, const char *err, void *priv)
{
    struct state *s = priv;
    state_reply(s, &s->b, reply);
}

static void state_passed_cb(redisReply *reply, const char *err, void *priv)
{
    struct state *s = priv;
    state_reply(s, &s->passed, reply);
}

/* Reads HGETALL of keys fa and fb for the request's user, and of the
 * exercises passed (which count as done in fa), pipelined, then calls
 * finish, which answers. Answers 503 itself on failure. */
static void state_load(struct req *req, const char *fa, const char *fb,
                       void (*finish)(struct state *))
{
    char ka[KEY_MAX], kb[KEY_MAX], kp[KEY_MAX];
    struct catalog *cat = courses_current();

    if (cat == NULL) {
        req_reply(req, 503, "no courses loaded");
        return;
    }
    if (key_fmt(ka, sizeof(ka), fa, req->user) < 0 || key_fmt(kb, sizeof(kb), fb, req->user) < 0 ||
        key_fmt(kp, sizeof(kp), KEY_PASSED, req->user) < 0) {
        req_store_unavailable(req);
        return;
    }
    struct state *s = xcalloc(1, sizeof(*s));
    s->req = req;
    s->cat = catalog_ref(cat);
    s->finish = finish;
    s->pending = 3;
    const char *a1[] = { "HGETALL", ka };
    const char *a2[] = { "HGETALL", kb };
    const char *a3[] = { "HGETALL", kp };
    if (store_command_argv(state_a_cb, s, 2, a1, NULL) < 0) {
        catalog_unref(s->cat);
        free(s);
        req_store_unavailable(req);
        return;
    }
    /* The first still calls back, and answers, whatever happens here. */
    if (store_command_argv(state_b_cb, s, 2, a2, NULL) < 0) {
        s->failed = true;
        s->pending = 1;
        return;
    }
    if (store_command_argv(state_passed_cb, s, 2, a3, NULL) < 0) {
        s->failed = true;
        s->pending = 2;
    }
}

/* ---- NEXT [course] ---- */

/* The lesson to do for l: l itself, or the first unfinished prerequisite
 * (followed down), so that NEXT never sends a learner past one. */
static const struct lesson *resolve_prereq(const struct catalog *cat, json_t *done,
                                           const struct lesson *l, int depth)
{
    if (depth >= NEXT_DEPTH_MAX)
        return l;
    for (size_t i = 0; i < l->nprerequisites; i++) {
        const struct lesson *p = catalog_lesson(cat, l->prerequisites[i]);
        if (p && !is_done(done, p))
            return resolve_prereq(cat, done, p, depth + 1);
    }
    return l;
}

static const struct lesson *first_unfinished(const struct course *c, json_t *done)
{
    for (size_t i = 0; i < c->nlessons; i++)
        if (!is_done(done, c->lessons[i]))
            return c->lessons[i];
    return NULL;
}

/* Lessons done that count (a pre-test does not). */
static size_t done_in(const struct course *c, json_t *done)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nlessons; i++)
        n += catalog_lesson_counts(c->lessons[i]) && is_done(done, c->lessons[i]);
    return n;
}

/* Without a course: the one of the learner's latest activity if it has
 * lessons left, else the first started course with lessons left, else the
 * first course with lessons left. */
static const struct course *pick_course(const struct catalog *cat, json_t *done, json_t *viewed)
{
    const char *latest = NULL;
    long long latest_t = -1;
    json_t *objs[2] = { done, viewed };

    for (int k = 0; k < 2; k++) {
        const char *f;
        json_t *v;
        json_object_foreach(objs[k], f, v) {
            if (json_integer_value(v) > latest_t && catalog_lesson(cat, f)) {
                latest_t = json_integer_value(v);
                latest = f;
            }
        }
    }
    if (latest) {
        const struct course *c = catalog_lesson(cat, latest)->course;
        if (first_unfinished(c, done))
            return c;
    }
    for (size_t i = 0; i < cat->ncourses; i++) {
        const struct course *c = cat->courses[i];
        bool started = false;
        for (size_t j = 0; j < c->nlessons && !started; j++)
            started = is_done(done, c->lessons[j]) ||
                      json_object_get(viewed, c->lessons[j]->full_id) != NULL;
        if (started && first_unfinished(c, done))
            return c;
    }
    for (size_t i = 0; i < cat->ncourses; i++)
        if (first_unfinished(cat->courses[i], done))
            return cat->courses[i];
    return NULL;
}

static void next_finish(struct state *s)
{
    struct req *req = s->req;
    const struct course *c;

    if (req->args.argc == 2) {
        c = catalog_course(s->cat, req->args.argv[1]);
        if (c == NULL) {
            req_reply(req, 404, "no course '%.100s'", req->args.argv[1]);
            return;
        }
    } else {
        c = pick_course(s->cat, s->a, s->b);
        if (c == NULL) {
            req_kv(req, "lesson", "%s", "");
            req_reply_data(req, 200, "every course is complete");
            return;
        }
    }
    const struct lesson *l = first_unfinished(c, s->a);
    if (l == NULL) {
        req_kv(req, "lesson", "%s", "");
        req_kv(req, "course", "%s", c->id);
        req_kv(req, "done", "%zu", c->ncounted);
        req_kv(req, "total", "%zu", c->ncounted);
        req_reply_data(req, 200, "course %s is complete", c->id);
        return;
    }
    l = resolve_prereq(s->cat, s->a, l, 0);
    /* Named as READ would serve it: the learner's language, else the
     * default's text, and "lang" says which. */
    struct lang_pick lp;
    i18n_pick(req, l->course, &lp);
    const struct lesson *text = i18n_lesson(l, &lp);
    req_kv(req, "lesson", "%s", l->full_id);
    req_kv(req, "title", "%s", text->title);
    req_kv(req, "lang", "%s", lp.lang);
    req_kv(req, "course", "%s", l->course->id);
    req_kv(req, "module", "%s", l->module ? l->module->id : "");
    req_kv(req, "minutes", "%d", l->minutes);
    req_kv(req, "done", "%zu", done_in(l->course, s->a));
    req_kv(req, "total", "%zu", l->course->ncounted);
    i18n_vary(req);
    req_reply_data(req, 200, "next: %s", l->full_id);
}

/* NEXT and PROGRESS: the optional course id is checked before any lookup. */
static bool course_arg_ok(struct req *req)
{
    if (req->args.argc > 1 && !id_valid_n(req->args.argv[1], req->args.argl[1])) {
        req_reply(req, 400, "bad course id (use a-z, 0-9 and -)");
        return false;
    }
    return true;
}

static void cmd_next(struct req *req)
{
    if (!course_arg_ok(req))
        return;
    state_load(req, KEY_DONE, KEY_VIEWED, next_finish);
}

/* ---- PROGRESS [course] ---- */

/* Exercises passed whose lesson is in course c (and module m if not NULL):
 * a passed id is "course/lesson" or "course/lesson#N". */
static size_t passed_in(const struct catalog *cat, json_t *passed, const struct course *c,
                        const struct module *m)
{
    size_t n = 0;
    const char *f;
    json_t *v;

    json_object_foreach(passed, f, v) {
        char id[256];
        passed_lesson(f, id, sizeof(id));
        const struct lesson *l = catalog_lesson(cat, id);
        if (l && l->course == c && (m == NULL || l->module == m) && catalog_lesson_counts(l))
            n++;
    }
    return n;
}

struct tally {
    size_t done, total, exercises;
    int minutes_left;
};

static struct tally tally_lessons(struct lesson *const *ls, size_t n, json_t *done)
{
    struct tally t = { 0 };

    for (size_t i = 0; i < n; i++) {
        if (!catalog_lesson_counts(ls[i]))
            continue;            /* a pre-test is diagnostic: not in progress */
        t.total++;
        t.exercises += ls[i]->nexercises > 0;
        if (is_done(done, ls[i]))
            t.done++;
        else
            t.minutes_left += ls[i]->minutes;
    }
    return t;
}

static void progress_finish(struct state *s)
{
    struct req *req = s->req;
    char d[24], tot[24], pct[24], left[24], ex[24], exn[24];

    if (req->args.argc == 2) {
        const struct course *c = catalog_course(s->cat, req->args.argv[1]);
        if (c == NULL) {
            req_reply(req, 404, "no course '%.100s'", req->args.argv[1]);
            return;
        }
        struct tally all = tally_lessons(c->lessons, c->nlessons, s->a);
        /* Modules named in the learner's language, chosen as READ chooses. */
        struct lang_pick lp;
        i18n_pick(req, c, &lp);
        req_table(req, 8, "module", "title", "done", "total", "percent", "minutes_left",
                  "exercises_passed", "exercises");
        for (size_t i = 0; i < c->nmodules; i++) {
            const struct module *m = c->modules[i];
            struct tally t = tally_lessons(m->lessons, m->nlessons, s->a);
            snprintf(d, sizeof(d), "%zu", t.done);
            snprintf(tot, sizeof(tot), "%zu", t.total);
            snprintf(pct, sizeof(pct), "%zu", t.total ? t.done * 100 / t.total : 0);
            snprintf(left, sizeof(left), "%d", t.minutes_left);
            snprintf(ex, sizeof(ex), "%zu", passed_in(s->cat, s->b, c, m));
            snprintf(exn, sizeof(exn), "%zu", t.exercises);
            const struct text_variant *mtv = catalog_module_text(m, lp.lang);
            req_row(req, 8, m->id, mtv ? mtv->title : m->title, d, tot, pct, left, ex, exn);
        }
        char msg[REPLY_MSG_MAX];
        snprintf(msg, sizeof(msg),
                 i18n_fmt(i18n_msg_lang(req), "%s: %zu of %zu lessons done (%zu%%), %d minutes "
                          "left, %zu of %zu exercises passed"), c->id, all.done, all.total,
                 all.total ? all.done * 100 / all.total : 0, all.minutes_left,
                 passed_in(s->cat, s->b, c, NULL), c->nexercises);
        i18n_meta(req, &lp, msg, sizeof(msg));
        i18n_vary(req);
        req_reply_data(req, 200, "%s", msg);
        return;
    }
    req_table(req, 8, "course", "title", "done", "total", "percent", "minutes_left",
              "exercises_passed", "exercises");
    for (size_t i = 0; i < s->cat->ncourses; i++) {
        const struct course *c = s->cat->courses[i];
        struct tally t = tally_lessons(c->lessons, c->nlessons, s->a);
        snprintf(d, sizeof(d), "%zu", t.done);
        snprintf(tot, sizeof(tot), "%zu", t.total);
        snprintf(pct, sizeof(pct), "%zu", t.total ? t.done * 100 / t.total : 0);
        snprintf(left, sizeof(left), "%d", t.minutes_left);
        snprintf(ex, sizeof(ex), "%zu", passed_in(s->cat, s->b, c, NULL));
        snprintf(exn, sizeof(exn), "%zu", c->nexercises);
        /* Each course by its title in the learner's language. */
        struct lang_pick lp;
        i18n_pick(req, c, &lp);
        const struct text_variant *ctv = catalog_course_text(c, lp.lang);
        req_row(req, 8, c->id, ctv ? ctv->title : c->title, d, tot, pct, left, ex, exn);
    }
    i18n_vary(req);
    req_reply_data(req, 200, "%zu courses", s->cat->ncourses);
}

static void cmd_progress(struct req *req)
{
    if (!course_arg_ok(req))
        return;
    state_load(req, KEY_DONE, KEY_PASSED, progress_finish);
}

/* ---- EXPORT xapi [since] ---- */

static const struct {
    const char *type, *verb, *display;
} xapi_verbs[] = {
    { "registered", "http://adlnet.gov/expapi/verbs/registered", "registered" },
    { "viewed", "http://adlnet.gov/expapi/verbs/experienced", "experienced" },
    { "completed", "http://adlnet.gov/expapi/verbs/completed", "completed" },
    { "attempted", "http://adlnet.gov/expapi/verbs/attempted", "attempted" },
    { "passed", "http://adlnet.gov/expapi/verbs/passed", "passed" },
    { "failed", "http://adlnet.gov/expapi/verbs/failed", "failed" },
};

/* A name-based (version 5) UUID of name in the URL namespace, so that the
 * same event always exports with the same statement id. */
static void uuid5(const char *name, char out[37])
{
    static const unsigned char ns[16] = { 0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                          0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
    unsigned char md[20];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    EVP_DigestUpdate(ctx, ns, sizeof(ns));
    EVP_DigestUpdate(ctx, name, strlen(name));
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10],
             md[11], md[12], md[13], md[14], md[15]);
}

static char *base_url(void)
{
    const char *b = cfg.base_url ? cfg.base_url : "http://localhost:8080";
    size_t n = strlen(b);
    while (n > 0 && b[n - 1] == '/')
        n--;
    return xstrndup(b, n);
}

/* xAPI's language map for a lesson's name: its title in each language it
 * is written in, tagged as the course names them (a course that names none
 * keeps "en-US", as the verbs' displays are). A learner's statements carry every variant's title, whichever
 * one they read, since progress is per lesson, not per variant. */
static json_t *xapi_names(const struct lesson *l)
{
    json_t *map = json_object();

    json_object_set_new(map, l->lang && l->lang[0] ? l->lang : "en-US", json_string(l->title));
    for (size_t i = 0; i < l->nvariants; i++)
        if (l->variants[i]->lang && l->variants[i]->lang[0])
            json_object_set_new(map, l->variants[i]->lang, json_string(l->variants[i]->title));
    return map;
}

/* The xAPI 1.0.3 statement for one stream entry, or NULL for an entry of
 * an unknown type. fields: the entry's field/value pairs. Caller decrefs. */
static json_t *xapi_statement(const struct catalog *cat, const char *user, const char *entry_id,
                              redisReply *fields)
{
    const char *type = NULL, *object = "", *score = NULL, *success = NULL;
    size_t v;

    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const char *f = fields->element[i]->str, *val = fields->element[i + 1]->str;
        if (f == NULL || val == NULL)
            continue;
        if (strcmp(f, "t") == 0)
            type = val;
        else if (strcmp(f, "o") == 0)
            object = val;
        else if (strcmp(f, "score") == 0)
            score = val;
        else if (strcmp(f, "success") == 0)
            success = val;
    }
    for (v = 0; type && v < sizeof(xapi_verbs) / sizeof(xapi_verbs[0]); v++)
        if (strcmp(xapi_verbs[v].type, type) == 0)
            break;
    if (type == NULL || v == sizeof(xapi_verbs) / sizeof(xapi_verbs[0]))
        return NULL;

    char *base = base_url(), id[37], stamp[TIME_ISO_MAX];
    char *home = xasprintf("%s/", base);
    char *name = xasprintf("%s/xapi/%s/%s", base, user, entry_id);
    uuid5(name, id);
    long long ms = atoll(entry_id);
    time_iso(ms, true, stamp);

    json_t *actor = json_pack("{s:s,s:s,s:{s:s,s:s}}", "objectType", "Agent", "name", user,
                              "account", "homePage", home, "name", user);
    json_t *verb = json_pack("{s:s,s:{s:s}}", "id", xapi_verbs[v].verb, "display", "en-US",
                             xapi_verbs[v].display);
    json_t *obj;
    if (object[0] == '\0') {
        obj = json_pack("{s:s,s:s,s:{s:{s:s}}}", "objectType", "Activity", "id", home,
                        "definition", "name", "en-US", "Campus");
    } else {
        char lesson_id[256];
        snprintf(lesson_id, sizeof(lesson_id), "%s", object);
        bool exercise = strchr(lesson_id, '#') != NULL ||
                        (strcmp(type, "attempted") == 0 || strcmp(type, "passed") == 0 ||
                         strcmp(type, "failed") == 0);
        lesson_id[strcspn(lesson_id, "#")] = '\0';
        const struct lesson *l = cat ? catalog_lesson(cat, lesson_id) : NULL;
        char *iri = xasprintf("%s/" CATALOG_LESSON_HREF "%s", base, object);
        /* '#' of an exercise number becomes part of the path. */
        for (char *p = iri + strlen(base) + 2; *p; p++)
            if (*p == '#')
                *p = '/';
        obj = json_pack("{s:s,s:s}", "objectType", "Activity", "id", iri);
        json_t *def = json_pack("{s:s}", "type", exercise
                                    ? "http://adlnet.gov/expapi/activities/assessment"
                                    : "http://adlnet.gov/expapi/activities/lesson");
        if (l)
            json_object_set_new(def, "name", xapi_names(l));
        json_object_set_new(obj, "definition", def);
        free(iri);
    }
    json_t *st = json_pack("{s:s,s:o,s:o,s:o,s:s}", "id", id, "actor", actor, "verb", verb,
                           "object", obj, "timestamp", stamp);
    json_t *result = NULL;
    if (strcmp(type, "completed") == 0) {
        result = json_pack("{s:b}", "completion", 1);
    } else if (score || success) {
        result = json_object();
        if (score) {
            double sc = atof(score);
            if (sc < 0)
                sc = 0;
            if (sc > 1)
                sc = 1;
            json_object_set_new(result, "score", json_pack("{s:f}", "scaled", sc));
        }
        if (success)
            json_object_set_new(result, "success", json_boolean(strcmp(success, "1") == 0));
    } else if (strcmp(type, "passed") == 0 || strcmp(type, "failed") == 0) {
        result = json_pack("{s:b}", "success", strcmp(type, "passed") == 0);
    }
    if (result)
        json_object_set_new(st, "result", result);
    json_object_set_new(st, "context", json_pack("{s:s}", "platform", "Campus"));
    free(base);
    free(home);
    free(name);
    return st;
}

/* True when s has exactly the shape of pattern, where 'd' stands for one
 * ASCII digit: strptime alone would take spaces, signs and short fields. */
static bool shaped(const char *s, const char *pattern)
{
    for (; *pattern; s++, pattern++)
        if (*pattern == 'd' ? !(*s >= '0' && *s <= '9') : *s != *pattern)
            return false;
    return *s == '\0';
}

/* Reads since as milliseconds since the epoch: digits are milliseconds,
 * otherwise YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[Z] (UTC). Returns 0 or -1. */
static int parse_since(const char *s, size_t len, long long *ms)
{
    struct tm tm;
    const char *end;

    if (arg_parse_ll(s, len, 0, 999999999999999LL, ms) == 0)
        return 0;
    if (strlen(s) != len || !(shaped(s, "dddd-dd-dd") || shaped(s, "dddd-dd-ddTdd:dd:dd") ||
                              shaped(s, "dddd-dd-ddTdd:dd:ddZ")))
        return -1;
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end && (strcmp(end, "Z") == 0 || *end == '\0')) {
        *ms = (long long)timegm(&tm) * 1000;
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d", &tm);
    if (end && *end == '\0') {
        *ms = (long long)timegm(&tm) * 1000;
        return 0;
    }
    return -1;
}

static void export_cb(redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;
    struct catalog *cat = courses_current();
    json_t *all = json_array();

    if (req_store_failed(req, reply)) {
        json_decref(all);
        return;
    }
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        json_t *st = xapi_statement(cat, req->user, e->element[0]->str, e->element[1]);
        if (st)
            json_array_append_new(all, st);
    }
    size_t n = json_array_size(all);
    char *doc = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(all);
    if (req->origin == REQ_HTTP && req->http) {
        /* The route's answer is the statement array itself, as an LRS
         * client expects, not wrapped in the API's envelope. */
        struct evhttp_request *r = req->http;
        evhttp_request_set_error_cb(r, NULL);
        api_send_json(r, 200, doc, strlen(doc));
        req->http = NULL;
        req_reply(req, 200, "%zu statements", n);
    } else {
        req_reply_text(req, 200, n == 1 ? "1 statement" : "statements", "application/json",
                       doc, strlen(doc));
    }
    free(doc);
}

/* EXPORT xapi [since] */
static void export_xapi(struct req *req)
{
    const struct proto_req *a = &req->args;
    char k[KEY_MAX], start[32] = "-", count[16];
    long long since;

    if (a->argc == 3) {
        if (parse_since(a->argv[2], a->argl[2], &since) < 0) {
            req_reply(req, 400, "since: milliseconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
            return;
        }
        snprintf(start, sizeof(start), "%lld-0", since);
    }
    snprintf(count, sizeof(count), "%d", KEYS_EVENTS_MAX);
    const char *argv[] = { "XRANGE", k, start, "+", "COUNT", count };
    if (key_fmt(k, sizeof(k), KEY_EVENTS, req->user) < 0 ||
        store_command_argv(export_cb, req, 6, argv, NULL) < 0)
        req_store_unavailable(req);
}

static const struct cmd export_subs[] = {
    { .name = "xapi", .run = export_xapi, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER,
      .usage = "EXPORT xapi [since]" },
    { .name = "gift", .run = exercise_export_gift, .min_args = 1, .max_args = 1, .role = ROLE_TRAINER,
      .usage = "EXPORT gift course [lang=TAG]" },
    { .name = NULL },
};

const struct cmd cmd_group_progress[] = {
    { .name = "DONE", .run = cmd_done, .fused = done_fused, .min_args = 1, .max_args = 3,
      .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_WRITE, .usage = "DONE course/lesson [at-ms [key]]",
      .help = "Marks a lesson complete (again is fine). Answers once Redis has it. A mark made"
              " offline may give the time it was made, in ms since 1970, and a key: the same key"
              " again answers what the first DONE answered." },
    { .name = "NEXT", .run = cmd_next, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_LANG, .usage = "NEXT [course] [lang=TAG]",
      .help = "The next lesson to do: the first unfinished one in course order, prerequisites"
              " first, named in your language." },
    { .name = "PROGRESS", .run = cmd_progress, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_LANG, .usage = "PROGRESS [course] [lang=TAG]",
      .help = "Lessons done of total, percent, minutes left and exercises passed, per course"
              " or, for one course, per module, named in your language." },
    { .name = "EXPORT", .min_args = 1, .max_args = 2, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_LANG, .subs = export_subs,
      .usage = "EXPORT xapi [since] | EXPORT gift course [lang=TAG]",
      .help = "Your events (registered, viewed, completed, attempted, passed) as xAPI 1.0.3"
              " statements, a JSON array; since: ms, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ."
              " Trainers: a course's questions as GIFT, for Moodle." },
    { .name = NULL },
};

/* ---- HTTP routes ---- */

/* An optional JSON body {"at": ms, "key": "..."}: when the mark was made
 * (offline) and its idempotency key; a key alone is marked now. A body
 * that is not sent as JSON is ignored, as it always was. */
static int api_done(struct evhttp_request *r, char **p, int n, char **argv)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r);
    size_t len = evbuffer_get_length(in);
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(r), "Content-Type");
    json_t *doc = NULL, *at = NULL, *key = NULL;

    if (len > 0 && ct && strncasecmp(ct, "application/json", 16) == 0) {
        doc = api_body(r);
        at = json_object_get(doc, "at");
        key = json_object_get(doc, "key");
        if (!json_is_object(doc) || (at && !json_is_integer(at)) || (key && !json_is_string(key))) {
            json_decref(doc);
            api_send_error(r, 400, "body must be {\"at\": ms, \"key\": \"...\"} (both optional)");
            return -1;
        }
    }
    int argc = 0;
    argv[argc++] = xstrdup("DONE");
    argv[argc++] = xasprintf("%s/%s", p[0], p[1]);
    if (at || key)
        argv[argc++] = xasprintf("%lld", at ? (long long)json_integer_value(at) : now_wall_ms());
    if (key)
        argv[argc++] = xstrdup(json_string_value(key));
    json_decref(doc);
    return argc;
}

/* VERB, then the route's one path segment when it has one. */
static int verb_course(char **argv, const char *verb, char **p, int n)
{
    argv[0] = xstrdup(verb);
    if (n == 1) {
        argv[1] = xstrdup(p[0]);
        return 2;
    }
    return 1;
}

static int api_next(struct evhttp_request *r, char **p, int n, char **argv)
{
    return verb_course(argv, "NEXT", p, n);
}

static int api_progress(struct evhttp_request *r, char **p, int n, char **argv)
{
    return verb_course(argv, "PROGRESS", p, n);
}

/* GET /api/me/statements?since=... */
static int api_statements(struct evhttp_request *r, char **p, int n, char **argv)
{
    struct evkeyvalq params;
    const char *since = api_query(r, &params, "since");
    int c = api_argv(argv, "EXPORT", "xapi", since && since[0] ? since : NULL);

    evhttp_clear_headers(&params);
    return c;
}

const struct api_route api_routes_progress[] = {
    { "POST", "/api/done/{course}/{lesson}", api_done },
    { "GET", "/api/next", api_next },
    { "GET", "/api/next/{course}", api_next },
    { "GET", "/api/progress", api_progress },
    { "GET", "/api/progress/{course}", api_progress },
    { "GET", "/api/me/statements", api_statements },
    { NULL, NULL, NULL },
};
