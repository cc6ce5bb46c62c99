/* cmd-cohort.c: COHORT: a session of one course for a group, paced by dates
 * in the cohort's time zone, run by trainers, joined with a code or
 * enrolled in bulk. State lives in Redis only (keys.h, "cohorts"), so every
 * worker and machine sees the same cohort at once.
 *
 * Access: a trainer sees and changes only the cohorts they run, a learner
 * sees only their own, an admin sees all; someone else's cohort answers
 * exactly as one that does not exist. */
#include "campusd.h"

#include <ctype.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "catalog.h"
#include "cohort-time.h"
#include "cohort.h"
#include "cohort-op.h"
#include "keys.h"
#include "scripts.h"

/* No 0/o, 1/l/i: a code read aloud or copied from a slide stays right. */
static const char ALPHABET[] = "23456789abcdefghjkmnpqrstuvwxyz";

void cohort_random(char *out, size_t len)
{
    unsigned char r[64];

    if (len > sizeof(r) || RAND_bytes(r, (int)len) != 1)
        fatal("cohort: no randomness");
    for (size_t i = 0; i < len; i++)
        out[i] = ALPHABET[r[i] % (sizeof(ALPHABET) - 1)];  /* 31 symbols: bias under 1% */
    out[len] = '\0';
}


static struct cop *cop_new(struct req *req)
{
    struct cop *op = xcalloc(1, sizeof(*op));

    op->req = req;
    if (req) {
        snprintf(op->user, sizeof(op->user), "%s", req->user ? req->user : "");
        op->role = req->role;
    }
    return op;
}

static void wipe_json_strings(json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (json_is_string(v))
            explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

static void cop_free(struct cop *op)
{
    json_decref(op->meta);
    json_decref(op->names);
    json_decref(op->extras);
    json_decref(op->create);
    wipe_json_strings(op->passwords);
    json_decref(op->passwords);
    json_decref(op->hashes);
    json_decref(op->settle);
    if (op->body) {
        explicit_bzero(op->body, strlen(op->body));
        free(op->body);
    }
    free(op);
}

void cop_answer(struct cop *op, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cop_answer(struct cop *op, int code, const char *fmt, ...)
{
    va_list ap;
    char msg[REPLY_MSG_MAX];

    /* In the learner's language, as req_reply would (i18n.c). */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), op->req ? i18n_fmt(i18n_msg_lang(op->req), fmt) : fmt, ap);
    va_end(ap);
    if (op->req)
        req_reply(op->req, code, "%s", msg);
    cop_free(op);
}

void cop_store_failed(struct cop *op)
{
    cop_answer(op, 503, REQ_STORE_UNAVAILABLE);
}

bool cop_reply_bad(redisReply *r)
{
    return r == NULL || r->type == REDIS_REPLY_ERROR;
}

/* True when reply is no answer (none, an error, or, when want is not 0,
 * not of type want): the request has been answered 503 and op freed. */
static bool cop_failed(struct cop *op, redisReply *reply, int want)
{
    if (!cop_reply_bad(reply) && (want == 0 || reply->type == want))
        return false;
    cop_store_failed(op);
    return true;
}

/* Runs script id with the keys of cohort op->id made from the nkeys
 * patterns in keys, then the arguments args; when it cannot be sent the
 * request is answered 503 and op freed. */
static void cop_script(struct cop *op, enum script_id id, store_cb *cb, int nkeys,
                       const char *const *keys, int nargs, const char *const *args)
{
    char *k[8];
    const char *argv[8 + 8];

    if (nkeys > 8 || nargs > 8)
        fatal("cop_script: %d keys and %d arguments, over 8", nkeys, nargs);
    for (int i = 0; i < nkeys; i++)
        argv[i] = k[i] = key_new(keys[i], op->id);
    for (int i = 0; i < nargs; i++)
        argv[nkeys + i] = args[i];
    if (script_call(id, cb, op, nkeys, nkeys + nargs, argv) < 0)
        cop_store_failed(op);
    for (int i = 0; i < nkeys; i++)
        free(k[i]);
}

/* cohort_now_ms() as a script argument. */
static void now_arg(char out[24])
{
    snprintf(out, 24, "%lld", cohort_now_ms());
}

static const char *meta_str(struct cop *op, const char *k)
{
    const char *v = json_string_value(json_object_get(op->meta, k));
    return v ? v : "";
}

static bool can_manage(const struct cop *op)
{
    return op->role == ROLE_ADMIN || (op->role >= ROLE_TRAINER && op->trainer);
}

static bool can_see(const struct cop *op)
{
    return can_manage(op) || op->learner;
}

static void not_found(struct cop *op)
{
    cop_answer(op, 404, "no cohort '%s'", op->id);
}

/* A cohort id: digits, as KEY_COHORT_SEQ gives them. */
static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 19 && strspn(s, "0123456789") == n && s[0] != '0';
}

/* ---- membership on both sides ---- */

static void sync_settled_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_reply_bad(reply)) {
        op->failed = true;
    } else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
        const char *argv[] = { "SREM", KEY_COHORT_DIRTY, op->id };
        store_command_argv(NULL, NULL, 3, argv, NULL);
    }
    /* A failed step leaves the entries pending: the timer replays them. */
    if (op->failed && op->req)
        log_warn("cohort %s: membership change pending, to be replayed", op->id);
    op->next(op);
}

static void sync_user_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_reply_bad(reply))
        op->failed = true;
    if (--op->waiting > 0)
        return;
    if (op->failed) {
        op->next(op);
        return;
    }
    /* Every user is written: the entries go, unless rewritten since. */
    json_t *fields = op->settle;          /* [field, value, ...] as read */
    size_t n = json_array_size(fields);
    const char **argv = xcalloc(n + 2, sizeof(*argv));
    char *pending = key_new(KEY_COHORT_PENDING, op->id);
    argv[0] = pending;
    for (size_t i = 0; i < n; i++)
        argv[1 + i] = json_string_value(json_array_get(fields, i));
    if (script_call(SCRIPT_COHORT_SETTLE, sync_settled_cb, op, 1, (int)n + 1, argv) < 0) {
        op->failed = true;
        op->next(op);
    }
    free(argv);
    free(pending);
}

static void sync_read_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_reply_bad(reply) || reply->type != REDIS_REPLY_ARRAY) {
        op->failed = true;
        op->next(op);
        return;
    }
    json_decref(op->settle);
    op->settle = json_array();
    op->waiting = 1;                      /* held until every command is sent */
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const char *f = reply->element[i]->str, *v = reply->element[i + 1]->str;
        if (strlen(f) < 3 || f[1] != ':' || (v[0] != '+' && v[0] != '-') ||
            !auth_name_valid(f + 2, strlen(f + 2)))
            continue;
        json_array_append_new(op->settle, json_string(f));
        json_array_append_new(op->settle, json_string(v));
        char *k1 = key_new(KEY_USER_COHORTS, f + 2), *k2 = key_new(KEY_USER_TEACHES, f + 2);
        char kind[2] = { f[0], 0 }, o[2] = { v[0], 0 };
        const char *argv[] = { k1, k2, kind, o, op->id, v[0] == '+' ? v + 1 : "" };
        op->waiting++;
        if (script_call(SCRIPT_COHORT_USER, sync_user_cb, op, 2, 6, argv) < 0) {
            op->waiting--;
            op->failed = true;
        }
        free(k1);
        free(k2);
    }
    sync_user_cb(reply, NULL, op);        /* drops the hold */
}

/* Writes every pending membership change of cohort op->id to the users'
 * side, clears the entries, then calls next(op) (op->failed tells whether
 * all went through). */
static void cop_sync(struct cop *op, void (*next)(struct cop *))
{
    char *pending = key_new(KEY_COHORT_PENDING, op->id);
    const char *argv[] = { "HGETALL", pending };

    op->next = next;
    op->failed = false;
    if (store_command_argv(sync_read_cb, op, 2, argv, NULL) < 0) {
        op->failed = true;
        next(op);
    }
    free(pending);
}

/* Marks the cohort dirty before a membership change: if campusd stops
 * between the two sides, the timer of any campusd finds it. */
static void mark_dirty(const char *id)
{
    const char *argv[] = { "SADD", KEY_COHORT_DIRTY, id };
    store_command_argv(NULL, NULL, 3, argv, NULL);
}

/* After a sync: the answer prepared in op. */
static void answer_prepared(struct cop *op)
{
    if (op->req) {
        if (op->body)
            req_reply_text(op->req, op->code, op->msg, op->body_type, op->body, strlen(op->body));
        else
            req_reply(op->req, op->code, "%s", op->msg);
    }
    cop_free(op);
}

/* ---- the repair timer ---- */

static void repair_done(struct cop *op)
{
    cop_free(op);
}

static void repair_list_cb(redisReply *reply, const char *err, void *priv)
{
    if (cop_reply_bad(reply) || reply->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < reply->elements && i < 100; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING || !id_ok(reply->element[i]->str))
            continue;
        struct cop *op = cop_new(NULL);
        snprintf(op->id, sizeof(op->id), "%s", reply->element[i]->str);
        cop_sync(op, repair_done);
    }
}

void cohort_tick(void)
{
    static unsigned ticks;

    if (++ticks % 2 != 0 || store_state() != STORE_UP || !store_writable())
        return;
    store_command(repair_list_cb, NULL, "SRANDMEMBER %s 100", KEY_COHORT_DIRTY);
}

/* ---- loading a cohort, with the asker's place in it ---- */

static void load_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, 0))
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 6) {
        not_found(op);
        return;
    }
    redisReply *m = reply->element[0];
    op->meta = json_object();
    for (size_t i = 0; i + 1 < m->elements; i += 2)
        json_object_set_new(op->meta, m->element[i]->str, json_string(m->element[i + 1]->str));
    op->trainer = reply->element[1]->integer == 1;
    op->learner = reply->element[2]->integer == 1;
    op->nlearners = reply->element[3]->integer;
    op->ntrainers = reply->element[4]->integer;
    if (!can_see(op)) {
        not_found(op);
        return;
    }
    /* A change cut short is put right before anyone reads the cohort. */
    if (reply->element[5]->integer > 0) {
        void (*next)(struct cop *) = op->next;
        cop_sync(op, next);
        return;
    }
    op->next(op);
}

static void cohort_load(struct cop *op, const char *id, void (*next)(struct cop *))
{
    if (!id_ok(id)) {
        cop_answer(op, 400, "a cohort id is a number (see COHORT LIST)");
        return;
    }
    snprintf(op->id, sizeof(op->id), "%s", id);
    op->next = next;
    static const char *const keys[] = { KEY_COHORT_META, KEY_COHORT_TRAINERS, KEY_COHORT_LEARNERS,
                                        KEY_COHORT_PENDING };
    const char *args[] = { op->user };
    cop_script(op, SCRIPT_COHORT_GET, load_cb, 4, keys, 1, args);
}

static void need_manage(struct cop *op)
{
    if (!can_manage(op)) {
        not_found(op);
        return;
    }
    op->managed(op);
}

/* Loads the cohort named by argv[2] and calls next(op) only for those who
 * run it (op may be freed when this returns). */
void cop_load_managed(struct cop *op, void (*next)(struct cop *))
{
    op->managed = next;
    cohort_load(op, op->req->args.argv[2], need_manage);
}

/* ---- schedules ---- */

/* A module of the cohort's course by id or by number, or NULL. */
static const struct module *find_module(const struct course *c, const char *s)
{
    for (size_t i = 0; i < c->nmodules; i++) {
        char num[16];
        snprintf(num, sizeof(num), "%d", c->modules[i]->number);
        if (strcmp(c->modules[i]->id, s) == 0 || strcmp(num, s) == 0)
            return c->modules[i];
    }
    return NULL;
}

struct schedule {
    long long open[COHORT_MODULES_MAX], due[COHORT_MODULES_MAX];   /* UTC ms per module; due 0: none */
};

/* Turns the pace into a date per module. Returns 0, or -1 with a message. */
static int plan(const struct course *c, const struct ctz *tz, int y, int m, int d,
                const char *pace, long every, const char *lines, struct schedule *s,
                char *err, size_t errlen)
{
    int64_t start_day = ctime_days(y, m, d);

    if (c->nmodules > COHORT_MODULES_MAX) {
        snprintf(err, errlen, "a course of more than %d modules cannot be paced", COHORT_MODULES_MAX);
        return -1;
    }
    for (size_t k = 0; k < c->nmodules; k++) {
        int64_t day = start_day + (strcmp(pace, "every") == 0 ? (int64_t)k * every : 0);
        int yy, mm, dd;
        ctime_civil(day, &yy, &mm, &dd);
        s->open[k] = ctz_midnight(tz, yy, mm, dd) * 1000;
        s->due[k] = 0;
    }
    if (lines == NULL)
        return 0;
    /* "module open-date [due-date]" per line. */
    int lineno = 0;
    const char *p = lines;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char line[256], mod[80] = "", od[16] = "", dd[16] = "", extra[8] = "";
        lineno++;
        if (n >= sizeof(line)) {
            snprintf(err, errlen, "schedule line %d: too long", lineno);
            return -1;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        p += n + (e ? 1 : 0);
        int got = sscanf(line, "%79s %15s %15s %7s", mod, od, dd, extra);
        if (got <= 0)
            continue;
        const struct module *mo = find_module(c, mod);
        int a, b, cc;
        if (got < 2 || got > 3 || mo == NULL || ctime_parse_date(od, &a, &b, &cc) < 0) {
            snprintf(err, errlen, "schedule line %d: want 'module YYYY-MM-DD [due YYYY-MM-DD]'%s",
                     lineno, mo == NULL ? " with a module of the course" : " with real dates");
            return -1;
        }
        size_t k = 0;
        while (c->modules[k] != mo)
            k++;
        s->open[k] = ctz_midnight(tz, a, b, cc) * 1000;
        if (got == 3) {
            if (ctime_parse_date(dd, &a, &b, &cc) < 0) {
                snprintf(err, errlen, "schedule line %d: '%s' is not a date", lineno, dd);
                return -1;
            }
            /* Due at the end of that day, local time. */
            int64_t next = ctime_days(a, b, cc) + 1;
            ctime_civil(next, &a, &b, &cc);
            s->due[k] = ctz_midnight(tz, a, b, cc) * 1000;
        }
    }
    return 0;
}

/* ---- CREATE ---- */

struct create {
    struct cop *op;
    char *argv[16 + 3 * COHORT_MODULES_MAX];  /* the script's fixed arguments, then 3 a module */
    int argc;
};

static void created_synced(struct cop *op)
{
    answer_prepared(op);
}

static void create_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, 0))
        return;
    if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
        cop_answer(op, 409, "cohort %s exists already", op->id);
        return;
    }
    char ms[24];
    now_arg(ms);
    const char *a1[] = { "ZADD", KEY_COHORT_ALL, ms, op->id };
    const char *a2[] = { "HSET", KEY_COHORT_CODES, op->msg, op->id };
    store_command_argv(NULL, NULL, 4, a1, NULL);
    store_command_argv(NULL, NULL, 4, a2, NULL);
    char code[COHORT_CODE_LEN + 1];
    memcpy(code, op->msg, COHORT_CODE_LEN);
    code[COHORT_CODE_LEN] = '\0';
    op->code = 201;
    snprintf(op->msg, sizeof(op->msg), "cohort %s code %s", op->id, code);
    cop_sync(op, created_synced);
}

static void create_seq_cb(redisReply *reply, const char *err, void *priv)
{
    struct create *cr = priv;
    struct cop *op = cr->op;

    if (cop_reply_bad(reply) || reply->type != REDIS_REPLY_INTEGER) {
        cop_store_failed(op);
    } else {
        snprintf(op->id, sizeof(op->id), "%lld", reply->integer);
        char *keys[] = { key_new(KEY_COHORT_META, op->id), key_new(KEY_COHORT_TRAINERS, op->id),
                         key_new(KEY_COHORT_OPEN, op->id), key_new(KEY_COHORT_DUE, op->id),
                         key_new(KEY_COHORT_PENDING, op->id) };
        for (int i = 0; i < 5; i++)
            cr->argv[i] = keys[i];
        mark_dirty(op->id);
        if (script_call(SCRIPT_COHORT_CREATE, create_cb, op, 5, cr->argc,
                        (const char *const *)cr->argv) < 0)
            cop_store_failed(op);
    }
    for (int i = 0; i < cr->argc; i++)
        free(cr->argv[i]);
    free(cr);
}

/* COHORT CREATE course name start [self | every N days] [tz] [{N} schedule] */
static void co_create(struct cop *op)
{
    struct req *req = op->req;
    const struct proto_req *a = &req->args;
    struct catalog *cat = courses_current();
    const char *course = a->argv[2], *name = a->argv[3], *start = a->argv[4];
    const char *pace = "self", *tzname = "UTC", *lines = NULL;
    long every = 0;
    int y, m, d;

    if (cat == NULL) {
        cop_answer(op, 503, "no courses loaded");
        return;
    }
    if (!id_valid(course) || catalog_course(cat, course) == NULL) {
        cop_answer(op, 404, "no course '%s'", course);
        return;
    }
    if (a->argl[3] == 0 || a->argl[3] > COHORT_NAME_MAX || strlen(name) != a->argl[3] ||
        !utf8_valid(name, a->argl[3])) {
        cop_answer(op, 400, "a cohort name is 1 to %d bytes of UTF-8", COHORT_NAME_MAX);
        return;
    }
    if (ctime_parse_date(start, &y, &m, &d) < 0) {
        cop_answer(op, 400, "'%s' is not a date (YYYY-MM-DD)", start);
        return;
    }
    for (int i = 5; i < a->argc; i++) {
        const char *s = a->argv[i];
        if (strcasecmp(s, "self") == 0) {
            pace = "self";
        } else if (strcasecmp(s, "every") == 0 && i + 1 < a->argc) {
            char *end;
            every = strtol(a->argv[++i], &end, 10);
            if (*end || every < 1 || every > 365) {
                cop_answer(op, 400, "pace 'every N days' takes N from 1 to 365");
                return;
            }
            pace = "every";
            if (i + 1 < a->argc && strcasecmp(a->argv[i + 1], "days") == 0)
                i++;
        } else if (i == a->argc - 1 && (strchr(s, '\n') || strchr(s, ' '))) {
            if (strlen(s) != a->argl[i] || a->argl[i] > COHORT_SCHEDULE_MAX) {
                cop_answer(op, 400, "a schedule is lines of text, at most %d KiB",
                           COHORT_SCHEDULE_MAX / 1024);
                return;
            }
            pace = "dates";
            lines = s;
        } else if (ctz_get(s) != NULL) {
            tzname = s;
        } else {
            cop_answer(op, 400, "'%s' is neither a pace (self, every N days) nor a time zone", s);
            return;
        }
    }
    const struct ctz *tz = ctz_get(tzname);
    const struct course *c = catalog_course(cat, course);
    struct schedule *s = xcalloc(1, sizeof(*s));
    char err[160];
    if (tz == NULL || plan(c, tz, y, m, d, pace, every, lines, s, err, sizeof(err)) < 0) {
        free(s);
        cop_answer(op, 400, "%s", tz ? err : "unknown time zone");
        return;
    }

    struct create *cr = xcalloc(1, sizeof(*cr));
    char pacebuf[32], code[COHORT_CODE_LEN + 1];
    cohort_random(code, COHORT_CODE_LEN);
    if (strcmp(pace, "every") == 0)
        snprintf(pacebuf, sizeof(pacebuf), "every %ld days", every);
    else
        snprintf(pacebuf, sizeof(pacebuf), "%s", pace);
    int n = 5;
    cr->argv[n++] = xstrdup(course);
    cr->argv[n++] = xstrdup(name);
    cr->argv[n++] = xstrdup(start);
    cr->argv[n++] = xstrdup(tzname);
    cr->argv[n++] = xstrdup(pacebuf);
    cr->argv[n++] = xasprintf("%lld", cohort_now_ms());
    cr->argv[n++] = xstrdup(op->user);
    cr->argv[n++] = xstrdup(code);
    cr->argv[n++] = xasprintf("%zu", c->nmodules);
    for (size_t k = 0; k < c->nmodules; k++) {
        cr->argv[n++] = xstrdup(c->modules[k]->id);
        cr->argv[n++] = xasprintf("%lld", s->open[k]);
        cr->argv[n++] = s->due[k] ? xasprintf("%lld", s->due[k]) : xstrdup("");
    }
    cr->argc = n;
    free(s);
    cr->op = op;
    snprintf(op->msg, sizeof(op->msg), "%s", code);    /* kept for create_cb */
    if (store_command(create_seq_cb, cr, "INCR %s", KEY_COHORT_SEQ) < 0) {
        for (int i = 5; i < n; i++)
            free(cr->argv[i]);
        free(cr);
        cop_store_failed(op);
    }
}

/* ---- JOIN and LEAVE ---- */

static void join_synced(struct cop *op)
{
    answer_prepared(op);
}

static void join_failed(struct cop *op)
{
    cop_answer(op, 404, "no cohort with that code");
}

static void join_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, REDIS_REPLY_INTEGER))
        return;
    if (reply->integer == 0) {
        join_failed(op);
        return;
    }
    if (reply->integer == -1) {
        cop_answer(op, 403, "cohort %s is closed to new learners", op->id);
        return;
    }
    /* The right code: this try does not count against the account. */
    char *k = key_new(KEY_JOIN_FAILS, op->user);
    const char *dargv[] = { "DECR", k };
    store_command_argv(NULL, NULL, 2, dargv, NULL);
    free(k);
    op->code = 200;
    snprintf(op->msg, sizeof(op->msg),
             i18n_fmt(i18n_msg_lang(op->req),
                      reply->integer == 1 ? "joined cohort %s" : "already in cohort %s"), op->id);
    cop_sync(op, join_synced);
}

static void join_code_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, 0))
        return;
    if (reply->type != REDIS_REPLY_STRING || !id_ok(reply->str)) {
        join_failed(op);
        return;
    }
    snprintf(op->id, sizeof(op->id), "%s", reply->str);
    char ms[24];
    now_arg(ms);
    static const char *const keys[] = { KEY_COHORT_META, KEY_COHORT_LEARNERS, KEY_COHORT_PENDING };
    const char *args[] = { op->msg, op->user, ms };
    mark_dirty(op->id);
    cop_script(op, SCRIPT_COHORT_JOIN, join_cb, 3, keys, 3, args);
}

static void join_peek_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_reply_bad(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        cop_store_failed(op);
        return;
    }
    if (reply->element[0]->integer == 1) {
        long long ms = reply->element[1]->integer;
        cop_answer(op, 429, "too many wrong enrolment codes; retry in %lld seconds",
                   ms > 0 ? (ms + 999) / 1000 : 1);
        return;
    }
    const char *argv[] = { "HGET", KEY_COHORT_CODES, op->msg };
    if (store_command_argv(join_code_cb, op, 3, argv, NULL) < 0)
        cop_store_failed(op);
}

/* COHORT JOIN code: a wrong code counts against the account, so codes
 * cannot be guessed (cohort_join_fail_max per window); a limited account
 * cannot join even with the right code until the window ends. */
static void co_join(struct cop *op)
{
    const char *code = op->req->args.argv[2];
    size_t n = strlen(code);

    if (n > 32)
        n = 32;
    for (size_t i = 0; i < n; i++)
        op->msg[i] = (char)tolower((unsigned char)code[i]);
    op->msg[n] = '\0';
    char *k = key_new(KEY_JOIN_FAILS, op->user);
    char max[16], window[16];
    snprintf(max, sizeof(max), "%ld", cfg.cohort_join_fail_max);
    snprintf(window, sizeof(window), "%ld", cfg.cohort_join_fail_window);
    const char *argv[] = { k, max, window };
    if (script_call(SCRIPT_COHORT_TRY, join_peek_cb, op, 1, 3, argv) < 0)
        cop_store_failed(op);
    free(k);
}

static void members_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, REDIS_REPLY_INTEGER))
        return;
    if (reply->integer < 0) {
        not_found(op);
        return;
    }
    if (op->code == 0) {
        op->code = 200;
        snprintf(op->msg, sizeof(op->msg), "%s %lld of %zu learners %s cohort %s",
                 op->op == '+' ? "added" : "removed", reply->integer, json_array_size(op->names),
                 op->op == '+' ? "to" : "from", op->id);
    }
    cop_sync(op, answer_prepared);
}

/* Writes op->names (and op->extras) into or out of the cohort, then syncs
 * and answers what op holds (or a count). */
void cop_members_write(struct cop *op)
{
    size_t n = json_array_size(op->names);
    const char **argv = xcalloc(2 * n + 8, sizeof(*argv));
    char *k1 = key_new(KEY_COHORT_META, op->id), *k2 = key_new(KEY_COHORT_LEARNERS, op->id),
         *k3 = key_new(KEY_COHORT_PENDING, op->id), *k4 = key_new(KEY_COHORT_ROSTER, op->id);
    char o[2] = { op->op, 0 }, ms[24], count[16];

    snprintf(ms, sizeof(ms), "%lld", cohort_now_ms());
    snprintf(count, sizeof(count), "%zu", n);
    int c = 0;
    argv[c++] = k1;
    argv[c++] = k2;
    argv[c++] = k3;
    argv[c++] = k4;
    argv[c++] = o;
    argv[c++] = ms;
    argv[c++] = meta_str(op, "course");
    argv[c++] = count;
    for (size_t i = 0; i < n; i++) {
        argv[c++] = json_string_value(json_array_get(op->names, i));
        json_t *x = json_array_get(op->extras, i);
        argv[c++] = x ? json_string_value(x) : "";
    }
    mark_dirty(op->id);
    if (script_call(SCRIPT_COHORT_MEMBERS, members_cb, op, 4, c, argv) < 0)
        cop_store_failed(op);
    free(argv);
    free(k1);
    free(k2);
    free(k3);
    free(k4);
}

static void leave_loaded(struct cop *op)
{
    if (!op->learner) {
        cop_answer(op, 409, "you are not a learner in cohort %s", op->id);
        return;
    }
    op->names = json_pack("[s]", op->user);
    op->op = '-';
    op->code = 200;
    snprintf(op->msg, sizeof(op->msg), i18n_fmt(i18n_msg_lang(op->req), "left cohort %s"), op->id);
    cop_members_write(op);
}

static void co_leave(struct cop *op)
{
    cohort_load(op, op->req->args.argv[2], leave_loaded);
}

/* ---- TRAINER ---- */

static void trainer_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, REDIS_REPLY_INTEGER))
        return;
    if (reply->integer < 0) {
        cop_answer(op, 409, "a cohort keeps at least one trainer");
        return;
    }
    op->code = 200;
    snprintf(op->msg, sizeof(op->msg), "%s %s as trainer of cohort %s%s",
             op->op == '+' ? "added" : "removed", op->req->args.argv[4], op->id,
             reply->integer == 0 ? " (no change)" : "");
    cop_sync(op, answer_prepared);
}

static void trainer_write(struct cop *op)
{
    static const char *const keys[] = { KEY_COHORT_META, KEY_COHORT_TRAINERS, KEY_COHORT_PENDING };
    char o[2] = { op->op, 0 };
    const char *args[] = { o, op->req->args.argv[4] };

    mark_dirty(op->id);
    cop_script(op, SCRIPT_COHORT_TRAINER, trainer_cb, 3, keys, 2, args);
}

static void trainer_role_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, 0))
        return;
    const char *role = reply->type == REDIS_REPLY_STRING ? reply->str : "";
    if (strcmp(role, "trainer") != 0 && strcmp(role, "admin") != 0) {
        cop_answer(op, 400, "'%s' is not a trainer's account", op->req->args.argv[4]);
        return;
    }
    trainer_write(op);
}

static void trainer_loaded(struct cop *op)
{
    const struct proto_req *a = &op->req->args;
    const char *how = a->argv[3], *name = a->argv[4];

    if (!auth_name_valid(name, a->argl[4])) {
        cop_answer(op, 400, "'%.40s' is not an account name", name);
        return;
    }
    if (strcasecmp(how, "add") == 0) {
        op->op = '+';
        char *k = key_new(KEY_ACCOUNT, name);
        const char *argv[] = { "HGET", k, "role" };
        if (store_command_argv(trainer_role_cb, op, 3, argv, NULL) < 0)
            cop_store_failed(op);
        free(k);
    } else if (strcasecmp(how, "remove") == 0) {
        op->op = '-';
        trainer_write(op);
    } else {
        cop_answer(op, 400, "usage: COHORT TRAINER id add|remove name");
    }
}

/* ---- CODE, CLOSE, OPEN, EXTEND ---- */

static void code_set_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, REDIS_REPLY_STRING))
        return;
    if (reply->len > 0) {
        const char *argv[] = { "HDEL", KEY_COHORT_CODES, reply->str };
        store_command_argv(NULL, NULL, 3, argv, NULL);
    }
    if (op->msg[0]) {
        const char *argv[] = { "HSET", KEY_COHORT_CODES, op->msg, op->id };
        store_command_argv(NULL, NULL, 4, argv, NULL);
        req_kv(op->req, "code", "%s", op->msg);
        req_reply_data(op->req, 200, "cohort %s code %s", op->id, op->msg);
        cop_free(op);
        return;
    }
    cop_answer(op, 200, "cohort %s code off: joins by code refused", op->id);
}

static void meta_set(struct cop *op, const char *field, const char *value, store_cb *cb)
{
    static const char *const keys[] = { KEY_COHORT_META };
    const char *args[] = { field, value };
    cop_script(op, SCRIPT_COHORT_SET, cb, 1, keys, 2, args);
}

static void code_loaded(struct cop *op)
{
    const struct proto_req *a = &op->req->args;

    if (a->argc == 3) {
        const char *code = meta_str(op, "code");
        req_kv(op->req, "code", "%s", code[0] ? code : "off");
        req_reply_data(op->req, 200, "cohort %s code %s", op->id, code[0] ? code : "off");
        cop_free(op);
    } else if (strcasecmp(a->argv[3], "rotate") == 0) {
        cohort_random(op->msg, COHORT_CODE_LEN);
        meta_set(op, "code", op->msg, code_set_cb);
    } else if (strcasecmp(a->argv[3], "off") == 0) {
        op->msg[0] = '\0';
        meta_set(op, "code", "", code_set_cb);
    } else {
        cop_answer(op, 400, "usage: COHORT CODE id [rotate|off]");
    }
}

static void close_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, 0))
        return;
    cop_answer(op, 200, "cohort %s closed: no more joins or submissions; records kept", op->id);
}

static void close_loaded(struct cop *op)
{
    meta_set(op, "closed", "1", close_cb);
}

static void open_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, REDIS_REPLY_INTEGER))
        return;
    if (reply->integer == 0) {
        cop_answer(op, 404, "no module '%s' in cohort %s", op->req->args.argv[3], op->id);
        return;
    }
    cop_answer(op, 200, "module %s of cohort %s is open", op->msg, op->id);
}

static const struct module *cohort_module(struct cop *op, const char *s)
{
    struct catalog *cat = courses_current();
    const struct course *c = cat ? catalog_course(cat, meta_str(op, "course")) : NULL;
    return c ? find_module(c, s) : NULL;
}

static void open_loaded(struct cop *op)
{
    const struct module *m = cohort_module(op, op->req->args.argv[3]);
    if (m == NULL) {
        cop_answer(op, 404, "no module '%s' in cohort %s", op->req->args.argv[3], op->id);
        return;
    }
    snprintf(op->msg, sizeof(op->msg), "%s", m->id);
    static const char *const keys[] = { KEY_COHORT_META, KEY_COHORT_OPEN };
    char ms[24];
    now_arg(ms);
    const char *args[] = { m->id, ms };
    cop_script(op, SCRIPT_COHORT_OPEN, open_cb, 2, keys, 2, args);
}

static void extend_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;

    if (cop_failed(op, reply, 0))
        return;
    cop_answer(op, 200, "%s", op->msg);
}

static void extend_schedule_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;
    const struct proto_req *a = &op->req->args;

    if (cop_reply_bad(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        cop_store_failed(op);
        return;
    }
    const struct module *m = cohort_module(op, a->argv[4]);
    long long open = 0;
    redisReply *o = reply->element[0];
    for (size_t i = 0; m && i + 1 < o->elements; i += 2)
        if (strcmp(o->element[i]->str, m->id) == 0)
            open = atoll(o->element[i + 1]->str);
    int y, mo, d;
    const struct ctz *tz = ctz_get(meta_str(op, "tz"));
    if (m == NULL || tz == NULL) {
        cop_answer(op, 404, "no module '%s' in cohort %s", a->argv[4], op->id);
        return;
    }
    ctime_parse_date(a->argv[5], &y, &mo, &d);
    long long at = ctz_midnight(tz, y, mo, d) * 1000;
    char field[128], value[24];
    /* Before the module opens: an earlier opening. Otherwise: a later due date. */
    if (at < open) {
        snprintf(field, sizeof(field), "open %s %s", a->argv[3], m->id);
        snprintf(op->msg, sizeof(op->msg), "module %s opens for %s on %s", m->id, a->argv[3], a->argv[5]);
    } else {
        ctime_civil(ctime_days(y, mo, d) + 1, &y, &mo, &d);
        at = ctz_midnight(tz, y, mo, d) * 1000;
        snprintf(field, sizeof(field), "due %s %s", a->argv[3], m->id);
        snprintf(op->msg, sizeof(op->msg), "module %s is due for %s at the end of %s", m->id,
                 a->argv[3], a->argv[5]);
    }
    snprintf(value, sizeof(value), "%lld", at);
    char *k = key_new(KEY_COHORT_EXTEND, op->id);
    const char *argv[] = { "HSET", k, field, value };
    if (store_command_argv(extend_cb, op, 4, argv, NULL) < 0)
        cop_store_failed(op);
    free(k);
}

static void schedule_fetch(struct cop *op, store_cb *cb)
{
    static const char *const keys[] = { KEY_COHORT_OPEN, KEY_COHORT_DUE };
    cop_script(op, SCRIPT_COHORT_SCHEDULE, cb, 2, keys, 0, NULL);
}

static void extend_loaded(struct cop *op)
{
    const struct proto_req *a = &op->req->args;
    int y, m, d;

    if (!auth_name_valid(a->argv[3], a->argl[3])) {
        cop_answer(op, 400, "'%.40s' is not an account name", a->argv[3]);
        return;
    }
    if (ctime_parse_date(a->argv[5], &y, &m, &d) < 0) {
        cop_answer(op, 400, "'%.20s' is not a date (YYYY-MM-DD)", a->argv[5]);
        return;
    }
    schedule_fetch(op, extend_schedule_cb);
}

/* ---- SHOW, LIST ---- */

static void show_schedule_cb(redisReply *reply, const char *err, void *priv)
{
    struct cop *op = priv;
    struct req *req = op->req;

    if (cop_reply_bad(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        cop_store_failed(op);
        return;
    }
    const struct ctz *tz = ctz_get(meta_str(op, "tz"));
    req_kv(req, "id", "%s", op->id);
    req_kv(req, "name", "%s", meta_str(op, "name"));
    req_kv(req, "course", "%s", meta_str(op, "course"));
    req_kv(req, "start", "%s", meta_str(op, "start"));
    req_kv(req, "tz", "%s", meta_str(op, "tz"));
    req_kv(req, "pace", "%s", meta_str(op, "pace"));
    req_kv(req, "closed", "%s", strcmp(meta_str(op, "closed"), "1") == 0 ? "yes" : "no");
    req_kv(req, "learners", "%lld", op->nlearners);
    req_kv(req, "trainers", "%lld", op->ntrainers);
    if (can_manage(op))
        req_kv(req, "code", "%s", meta_str(op, "code")[0] ? meta_str(op, "code") : "off");
    struct catalog *cat = courses_current();
    const struct course *c = cat ? catalog_course(cat, meta_str(op, "course")) : NULL;
    for (size_t k = 0; c && tz && k < c->nmodules; k++) {
        const char *mid = c->modules[k]->id;
        char od[11] = "-", dd[11] = "", key[100];
        for (size_t i = 0; i + 1 < reply->element[0]->elements; i += 2)
            if (strcmp(reply->element[0]->element[i]->str, mid) == 0)
                ctz_date(tz, atoll(reply->element[0]->element[i + 1]->str) / 1000, od);
        for (size_t i = 0; i + 1 < reply->element[1]->elements; i += 2)
            if (strcmp(reply->element[1]->element[i]->str, mid) == 0)
                /* Stored as the instant after the last day. */
                ctz_date(tz, atoll(reply->element[1]->element[i + 1]->str) / 1000 - 1, dd);
        snprintf(key, sizeof(key), "module %s", mid);
        if (dd[0])
            req_kv(req, key, "opens %s, due %s", od, dd);
        else
            req_kv(req, key, "opens %s", od);
    }
    req_reply_data(req, 200, "cohort %s", op->id);
    cop_free(op);
}

static void show_loaded(struct cop *op)
{
    schedule_fetch(op, show_schedule_cb);
}

struct list_op {
    struct req *req;
    json_t *ids;                 /* [id, as] */
    json_t *rows;
    int waiting;
    bool failed;
};

static void list_finish(struct list_op *lo)
{
    if (lo->failed) {
        req_store_unavailable(lo->req);
    } else {
        req_table(lo->req, 8, "id", "name", "course", "start", "tz", "learners", "as", "closed");
        size_t i;
        json_t *r;
        json_array_foreach(lo->rows, i, r) {
            if (json_array_size(r) < 8)
                continue;                       /* gone meanwhile */
            req_row(lo->req, 8, json_string_value(json_array_get(r, 0)),
                    json_string_value(json_array_get(r, 1)), json_string_value(json_array_get(r, 2)),
                    json_string_value(json_array_get(r, 3)), json_string_value(json_array_get(r, 4)),
                    json_string_value(json_array_get(r, 5)), json_string_value(json_array_get(r, 6)),
                    json_string_value(json_array_get(r, 7)));
        }
        req_reply_data(lo->req, 200, "%zu cohorts", json_array_size(lo->rows));
    }
    json_decref(lo->ids);
    json_decref(lo->rows);
    free(lo);
}

struct list_row {
    struct list_op *lo;
    size_t index;
};

static void list_meta_cb(redisReply *reply, const char *err, void *priv)
{
    struct list_row *lr = priv;
    struct list_op *lo = lr->lo;

    if (cop_reply_bad(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        lo->failed = true;
    } else if (reply->element[0]->type == REDIS_REPLY_ARRAY &&
               reply->element[0]->elements >= 5 && reply->element[0]->element[0]->type == REDIS_REPLY_STRING) {
        redisReply *m = reply->element[0];
        json_t *row = json_array_get(lo->rows, lr->index);
        for (int i = 0; i < 4; i++)
            json_array_append_new(row, json_string(m->element[i]->str));
        json_array_append_new(row, json_sprintf("%lld", reply->element[1]->integer));
        json_array_append_new(row, json_string(json_string_value(json_array_get(json_array_get(lo->ids, lr->index), 1))));
        json_array_append_new(row, json_string(m->element[4]->type == REDIS_REPLY_STRING &&
                                               strcmp(m->element[4]->str, "1") == 0 ? "yes" : "no"));
    }
    free(lr);
    if (--lo->waiting == 0)
        list_finish(lo);
}

/* Every id in lo->ids, its meta and count: pipelined, one round trip. */
static void list_fetch(struct list_op *lo)
{
    lo->rows = json_array();
    lo->waiting = 1;
    for (size_t i = 0; i < json_array_size(lo->ids) && i < COHORT_LIST_MAX; i++) {
        const char *id = json_string_value(json_array_get(json_array_get(lo->ids, i), 0));
        json_array_append_new(lo->rows, json_pack("[s]", id));
        struct list_row *lr = xcalloc(1, sizeof(*lr));
        lr->lo = lo;
        lr->index = i;
        char *k1 = key_new(KEY_COHORT_META, id), *k2 = key_new(KEY_COHORT_LEARNERS, id);
        const char *argv[] = { k1, k2 };
        lo->waiting++;
        if (script_call(SCRIPT_COHORT_ROW, list_meta_cb, lr, 2, 2, argv) < 0) {
            lo->waiting--;
            lo->failed = true;
            free(lr);
        }
        free(k1);
        free(k2);
    }
    if (--lo->waiting == 0)
        list_finish(lo);
}

static void list_ids_cb(redisReply *reply, const char *err, void *priv)
{
    struct list_op *lo = priv;

    if (cop_reply_bad(reply) || reply->type != REDIS_REPLY_ARRAY) {
        lo->failed = true;
    } else {
        bool admin = lo->req->role == ROLE_ADMIN;
        /* Admin: ZREVRANGE of all; else {teaches, cohorts-hash keys}. */
        redisReply *t = admin ? reply : reply->element[0];
        for (size_t i = 0; t && i < t->elements; i++)
            json_array_append_new(lo->ids, json_pack("[s,s]", t->element[i]->str,
                                                      admin ? "admin" : "trainer"));
        for (size_t i = 0; !admin && reply->elements > 1 && i < reply->element[1]->elements; i++) {
            const char *id = reply->element[1]->element[i]->str;
            bool dup = false;
            for (size_t k = 0; k < json_array_size(lo->ids); k++)
                dup |= strcmp(json_string_value(json_array_get(json_array_get(lo->ids, k), 0)), id) == 0;
            if (!dup)
                json_array_append_new(lo->ids, json_pack("[s,s]", id, "learner"));
        }
    }
    if (lo->failed) {
        list_finish(lo);
        return;
    }
    list_fetch(lo);
}

static void co_list(struct cop *op)
{
    struct list_op *lo = xcalloc(1, sizeof(*lo));
    int rc;

    lo->req = op->req;
    lo->ids = json_array();
    if (op->role == ROLE_ADMIN) {
        rc = store_command(list_ids_cb, lo, "ZREVRANGE %s 0 %d", KEY_COHORT_ALL, COHORT_LIST_MAX - 1);
    } else {
        char *k1 = key_new(KEY_USER_TEACHES, op->user), *k2 = key_new(KEY_USER_COHORTS, op->user);
        const char *argv[] = { k1, k2 };
        rc = script_call(SCRIPT_COHORT_MINE, list_ids_cb, lo, 2, 2, argv);
        free(k1);
        free(k2);
    }
    if (rc < 0) {
        lo->failed = true;
        list_finish(lo);
    }
    cop_free(op);
}

/* ---- dispatch of the sub-commands ---- */

/* Hands the request on to a report (cohort-report.c): frees op and
 * returns its request, with its cohort id copied into id and its meta (a
 * reference the caller drops). */
static struct req *cop_release(struct cop *op, char *id, json_t **meta)
{
    struct req *req = op->req;

    *meta = json_incref(op->meta);
    snprintf(id, sizeof(op->id), "%s", op->id);
    op->req = NULL;
    cop_free(op);
    return req;
}

static void report_loaded(struct cop *op)
{
    void (*fn)(struct req *, const char *, json_t *) =
        op->req->args.argv[1][0] == 'G' || op->req->args.argv[1][0] == 'g' ? cohort_report_grades
                                                                           : cohort_report_progress;
    json_t *meta;
    char id[sizeof(op->id)];
    struct req *req = cop_release(op, id, &meta);
    fn(req, id, meta);
    json_decref(meta);
}

static void co_report(struct cop *op) { cop_load_managed(op, report_loaded); }

static void attempts_loaded(struct cop *op)
{
    const struct proto_req *a = &op->req->args;

    if (!auth_name_valid(a->argv[3], a->argl[3])) {
        cop_answer(op, 400, "'%.40s' is not an account name", a->argv[3]);
        return;
    }
    json_t *meta;
    char id[sizeof(op->id)];
    struct req *req = cop_release(op, id, &meta);
    cohort_report_attempts(req, id, meta, a->argv[3]);
    json_decref(meta);
}

static void co_attempts(struct cop *op) { cop_load_managed(op, attempts_loaded); }

static void co_show(struct cop *op) { cohort_load(op, op->req->args.argv[2], show_loaded); }
static void co_code(struct cop *op) { cop_load_managed(op, code_loaded); }
static void co_close(struct cop *op) { cop_load_managed(op, close_loaded); }
static void co_trainer(struct cop *op) { cop_load_managed(op, trainer_loaded); }
static void co_add(struct cop *op) { cop_load_managed(op, cop_add_loaded); }
static void co_remove(struct cop *op) { cop_load_managed(op, cop_remove_loaded); }
static void co_open(struct cop *op) { cop_load_managed(op, open_loaded); }
static void co_extend(struct cop *op) { cop_load_managed(op, extend_loaded); }

/* The sub-verbs run on a cohort operation of their own (cohort-op.h). */
#define COP_RUN(fn) static void fn##_run(struct req *req) { fn(cop_new(req)); }
COP_RUN(co_create)
COP_RUN(co_join)
COP_RUN(co_leave)
COP_RUN(co_list)
COP_RUN(co_show)
COP_RUN(co_code)
COP_RUN(co_close)
COP_RUN(co_trainer)
COP_RUN(co_add)
COP_RUN(co_remove)
COP_RUN(cop_enrol)
COP_RUN(co_open)
COP_RUN(co_extend)
COP_RUN(co_report)
COP_RUN(co_attempts)

/* A learner asking for a trainer's sub-verb about a cohort is answered as
 * if the cohort did not exist; a bare one (CREATE) says who may. */
static void cohort_deny(struct req *req, const struct cmd *sub)
{
    const struct proto_req *a = &req->args;

    if (a->argc >= 3 && sub->min_args >= 1 && strcasecmp(sub->name, "CREATE") != 0)
        req_reply(req, 404, "no cohort '%.20s'", a->argv[2]);
    else
        req_reply(req, 403, "COHORT %s is for trainers", sub->name);
}

static const struct cmd cohort_subs[] = {
    { .name = "CREATE", .run = co_create_run, .min_args = 3, .max_args = 8, .role = ROLE_TRAINER, .flags = CMD_WRITE,
      .usage = "COHORT CREATE course name start [self | every N days] [tz] [{N} schedule]" },
    { .name = "JOIN", .run = co_join_run, .min_args = 1, .max_args = 1, .role = ROLE_LEARNER, .flags = CMD_WRITE,
      .usage = "COHORT JOIN code" },
    { .name = "LEAVE", .run = co_leave_run, .min_args = 1, .max_args = 1, .role = ROLE_LEARNER, .flags = CMD_WRITE,
      .usage = "COHORT LEAVE id" },
    { .name = "LIST", .run = co_list_run, .min_args = 0, .max_args = 0, .role = ROLE_LEARNER,
      .usage = "COHORT LIST" },
    { .name = "SHOW", .run = co_show_run, .min_args = 1, .max_args = 1, .role = ROLE_LEARNER,
      .usage = "COHORT SHOW id" },
    { .name = "CODE", .run = co_code_run, .min_args = 1, .max_args = 2, .role = ROLE_TRAINER, .flags = CMD_WRITE,
      .usage = "COHORT CODE id [rotate|off]" },
    { .name = "CLOSE", .run = co_close_run, .min_args = 1, .max_args = 1, .role = ROLE_TRAINER, .flags = CMD_WRITE,
      .usage = "COHORT CLOSE id" },
    { .name = "TRAINER", .run = co_trainer_run, .min_args = 3, .max_args = 3, .role = ROLE_TRAINER, .flags = CMD_WRITE,
      .usage = "COHORT TRAINER id add|remove name" },
    { .name = "ADD", .run = co_add_run, .min_args = 2, .max_args = 60, .role = ROLE_TRAINER, .flags = CMD_WRITE,
      .usage = "COHORT ADD id name..." },
    { .name = "REMOVE", .run = co_remove_run, .min_args = 2, .max_args = 2, .role = ROLE_TRAINER, .flags = CMD_WRITE,
      .usage = "COHORT REMOVE id name" },
    { .name = "ENROL", .run = cop_enrol_run, .min_args = 2, .max_args = 3, .role = ROLE_TRAINER, .flags = CMD_WRITE,
      .usage = "COHORT ENROL id [accounts] {N}" },
    { .name = "OPEN", .run = co_open_run, .min_args = 2, .max_args = 2, .role = ROLE_TRAINER, .flags = CMD_WRITE,
      .usage = "COHORT OPEN id module" },
    { .name = "EXTEND", .run = co_extend_run, .min_args = 4, .max_args = 4, .role = ROLE_TRAINER, .flags = CMD_WRITE,
      .usage = "COHORT EXTEND id learner module date" },
    { .name = "PROGRESS", .run = co_report_run, .min_args = 1, .max_args = 3, .role = ROLE_TRAINER,
      .usage = "COHORT PROGRESS id [sort-column [desc]]" },
    { .name = "GRADES", .run = co_report_run, .min_args = 1, .max_args = 2, .role = ROLE_TRAINER,
      .usage = "COHORT GRADES id" },
    { .name = "ATTEMPTS", .run = co_attempts_run, .min_args = 2, .max_args = 2, .role = ROLE_TRAINER,
      .usage = "COHORT ATTEMPTS id learner" },
    { .name = NULL },
};

const struct cmd cmd_group_cohort[] = {
    /* CMD_WRITE: most sub-commands write, and a write must finish before
     * what is pipelined behind it runs (JOIN then SHOW sees the join).
     * CMD_SECRET: SHOW and CODE answer the enrolment code, ENROL passwords. */
    { .name = "COHORT", .min_args = 1, .max_args = 62, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_WRITE | CMD_SECRET, .subs = cohort_subs, .deny = cohort_deny,
      .usage = "COHORT CREATE|JOIN|LEAVE|LIST|SHOW|CODE|CLOSE|TRAINER|ADD|REMOVE|ENROL|OPEN|EXTEND|PROGRESS|GRADES|ATTEMPTS ...",
      .help = "Cohorts: a session of a course for a group, paced by dates, with an enrolment code. "
              "HELP COHORT lists the sub-commands in docs/PROTOCOL.md." },
    { .name = NULL },
};
