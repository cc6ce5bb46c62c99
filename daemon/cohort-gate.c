/* cohort-gate.c: paced release. A learner in a cohort reads, opens or
 * submits an item of a module only once the module is open for them in one
 * of their cohorts of that course; a SUBMIT after the module's due date is
 * stored and marked late. Anonymous readers are not gated: lessons are
 * public, pacing is for those who learn in a cohort. */
#include "campusd.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "cohort-time.h"
#include "cohort.h"
#include "keys.h"
#include "scripts.h"

struct gate {
    struct req *req;
    enum cohort_gate_kind kind;
    void (*again)(struct req *);
    struct catalog *cat;
    const struct lesson *lesson;
    int waiting;
    bool failed;
    int cohorts, closed;         /* cohorts of this course, and how many are closed */
    bool open;                   /* open in a cohort still running */
    bool open_any;               /* open in any of them */
    bool late;                   /* past the due date in every running cohort it is open in */
    long long first_open;        /* the earliest opening among cohorts where it is locked */
    char first_date[11], first_tz[CTIME_TZ_NAME_MAX + 1];
    char late_cohort[24], closed_cohort[24];
    void (*orig_done)(struct req *);
};

static void gate_free(struct gate *g)
{
    catalog_unref(g->cat);
    free(g);
}

/* Wraps the request's answer: a late SUBMIT that was stored (200) gets its
 * mark in the cohort, then the answer goes out as usual. */
static void late_done(struct req *req)
{
    struct gate *g = req->cohort_gate;

    req->on_done = g->orig_done;
    req->cohort_gate = NULL;
    if (req->reply.code == 200 && req->user) {
        char *k = key_new(KEY_COHORT_LATE, g->late_cohort);
        char *field = xasprintf("%s %s", req->user, g->lesson->full_id);
        /* The attempt's number: GRADES leaves out this one and later ones
         * when the exercise says late: ignore. */
        char n[24];
        snprintf(n, sizeof(n), "%lld",
                 (long long)json_integer_value(json_object_get(req->reply.meta, "attempt")));
        const char *argv[] = { "HSETNX", k, field, n };
        store_command_argv(NULL, NULL, 4, argv, NULL);
        free(k);
        free(field);
    }
    gate_free(g);
    req->on_done(req);
}

static void decide(struct gate *g)
{
    struct req *req = g->req;
    void (*again)(struct req *) = g->again;

    if (g->failed) {
        req_store_unavailable(req);
        gate_free(g);
        return;
    }
    if (g->cohorts == 0) {
        gate_free(g);
        again(req);
        return;
    }
    if (g->kind == COHORT_GATE_SUBMIT && g->closed == g->cohorts) {
        req_reply(req, 403, "cohort %s is closed: no more submissions", g->closed_cohort);
        gate_free(g);
        return;
    }
    if (!(g->kind == COHORT_GATE_SUBMIT ? g->open : g->open_any)) {
        req_reply(req, 403, "module %s opens on %s (%s)", g->lesson->module->id, g->first_date,
                  g->first_tz);
        gate_free(g);
        return;
    }
    if (g->kind == COHORT_GATE_SUBMIT && g->late) {
        g->orig_done = req->on_done;
        req->on_done = late_done;
        req->cohort_gate = g;
        again(req);
        return;
    }
    gate_free(g);
    again(req);
}

static void gate_cohort_cb(redisReply *reply, const char *err, void *priv);

struct gate_probe {
    struct gate *g;
    char id[24];
};

static void gate_cohort_cb(redisReply *reply, const char *err, void *priv)
{
    struct gate_probe *p = priv;
    struct gate *g = p->g;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        g->failed = true;
    } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 6) {
        const struct ctz *tz = ctz_get(reply->element[0]->str);
        bool closed = strcmp(reply->element[1]->str, "1") == 0;
        long long open = reply->element[2]->len ? atoll(reply->element[2]->str) : 0;
        long long due = reply->element[3]->len ? atoll(reply->element[3]->str) : 0;
        long long ext_open = reply->element[4]->len ? atoll(reply->element[4]->str) : 0;
        long long ext_due = reply->element[5]->len ? atoll(reply->element[5]->str) : 0;
        long long now = cohort_now_ms();
        if (ext_open && ext_open < open)
            open = ext_open;
        if (ext_due)
            due = ext_due;
        g->cohorts++;
        if (closed) {
            g->closed++;
            snprintf(g->closed_cohort, sizeof(g->closed_cohort), "%s", p->id);
        }
        if (now >= open) {
            g->open_any = true;
            if (!closed) {
                bool late = due && now >= due;
                if (!g->open || !late)
                    g->late = late;
                if (late)
                    snprintf(g->late_cohort, sizeof(g->late_cohort), "%s", p->id);
                g->open = true;
            }
        } else if (g->first_open == 0 || open < g->first_open) {
            g->first_open = open;
            snprintf(g->first_tz, sizeof(g->first_tz), "%s", tz ? ctz_name(tz) : "UTC");
            if (tz)
                ctz_date(tz, open / 1000, g->first_date);
        }
    }
    free(p);
    if (--g->waiting == 0)
        decide(g);
}

static void gate_list_cb(redisReply *reply, const char *err, void *priv)
{
    struct gate *g = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        g->failed = true;
        decide(g);
        return;
    }
    g->waiting = 1;
    const char *course = g->lesson->course->id, *module = g->lesson->module->id;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const char *id = reply->element[i]->str;
        if (strcmp(reply->element[i + 1]->str, course) != 0 || strlen(id) >= 24)
            continue;
        struct gate_probe *p = xcalloc(1, sizeof(*p));
        p->g = g;
        snprintf(p->id, sizeof(p->id), "%s", id);
        char *k1 = key_new(KEY_COHORT_META, id), *k2 = key_new(KEY_COHORT_OPEN, id),
             *k3 = key_new(KEY_COHORT_DUE, id), *k4 = key_new(KEY_COHORT_EXTEND, id);
        const char *argv[] = { k1, k2, k3, k4, g->req->user, module };
        g->waiting++;
        if (script_call(SCRIPT_COHORT_GATE, gate_cohort_cb, p, 4, 6, argv) < 0) {
            g->waiting--;
            g->failed = true;
            free(p);
        }
        free(k1);
        free(k2);
        free(k3);
        free(k4);
    }
    if (--g->waiting == 0)
        decide(g);
}

bool cohort_gate(struct req *req, enum cohort_gate_kind kind, void (*again)(struct req *))
{
    if (req->cohort_checked || req->user == NULL || req->args.argc < 2 ||
        store_state() != STORE_UP)
        return false;
    req->cohort_checked = true;
    struct catalog *cat = courses_current();
    const char *id = req->args.argv[1];
    const char *slash = strchr(id, '/');
    if (cat == NULL || slash == NULL || strlen(id) > 160)
        return false;
    const struct lesson *l = catalog_lesson(cat, id);
    if (l == NULL || l->module == NULL)
        return false;               /* the handler answers 400 or 404 */

    struct gate *g = xcalloc(1, sizeof(*g));
    g->req = req;
    g->kind = kind;
    g->again = again;
    g->cat = catalog_ref(cat);
    g->lesson = l;
    char *k = key_new(KEY_USER_COHORTS, req->user);
    const char *argv[] = { "HGETALL", k };
    int rc = store_command_argv(gate_list_cb, g, 2, argv, NULL);
    free(k);
    if (rc < 0) {
        gate_free(g);
        return false;
    }
    return true;
}

/* ---- REVIEW LIST by cohort ---- */

struct review_filter {
    struct req *req;
    void (*again)(struct req *);
    char cohort[24];             /* "" when not asked for */
    json_t *allowed;             /* learner name -> true */
    int waiting;
    bool failed, refused;
    void (*orig_done)(struct req *);
};

/* Drops the rows of learners outside the allowed set before the answer
 * goes out; the table's learner column is the second. */
static void review_done(struct req *req)
{
    struct review_filter *f = req->cohort_gate;

    req->on_done = f->orig_done;
    req->cohort_gate = NULL;
    if (req->reply.code == 200 && req->reply.kind == REPLY_TABLE && req->reply.rows) {
        json_t *kept = json_array();
        size_t i;
        json_t *row;
        json_array_foreach(req->reply.rows, i, row) {
            const char *who = json_string_value(json_array_get(row, 1));
            if (i == 0 || (who && json_object_get(f->allowed, who)))
                json_array_append(kept, row);
        }
        json_decref(req->reply.rows);
        req->reply.rows = kept;
        snprintf(req->reply.msg, sizeof(req->reply.msg), "%zu waiting", json_array_size(kept) - 1);
    }
    json_decref(f->allowed);
    free(f);
    req->on_done(req);
}

static void filter_decide(struct review_filter *f)
{
    struct req *req = f->req;

    if (f->failed || f->refused) {
        if (f->failed)
            req_store_unavailable(req);
        else
            req_reply(req, 404, "no cohort '%s'", f->cohort);
        json_decref(f->allowed);
        free(f);
        return;
    }
    void (*again)(struct req *) = f->again;
    if (f->allowed == NULL) {            /* runs no cohort: the whole queue, as before */
        free(f);
        again(req);
        return;
    }
    f->orig_done = req->on_done;
    req->on_done = review_done;
    req->cohort_gate = f;
    again(req);
}

static void filter_learners_cb(redisReply *reply, const char *err, void *priv)
{
    struct review_filter *f = priv;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
        f->failed = true;
    else if (reply->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < reply->elements; i++)
            json_object_set_new(f->allowed, reply->element[i]->str, json_true());
    if (--f->waiting == 0)
        filter_decide(f);
}

static void filter_send(struct review_filter *f, const char *id)
{
    char *k = key_new(KEY_COHORT_LEARNERS, id);
    const char *argv[] = { "ZRANGE", k, "0", "-1" };
    f->waiting++;
    if (store_command_argv(filter_learners_cb, f, 4, argv, NULL) < 0) {
        f->waiting--;
        f->failed = true;
    }
    free(k);
}

static void filter_ids_cb(redisReply *reply, const char *err, void *priv)
{
    struct review_filter *f = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        f->failed = true;
        filter_decide(f);
        return;
    }
    if (reply->elements == 0) {
        filter_decide(f);
        return;
    }
    f->allowed = json_object();
    f->waiting = 1;
    for (size_t i = 0; i < reply->elements; i++)
        if (strlen(reply->element[i]->str) < 24)
            filter_send(f, reply->element[i]->str);
    if (--f->waiting == 0)
        filter_decide(f);
}

static void filter_runs_cb(redisReply *reply, const char *err, void *priv)
{
    struct review_filter *f = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        f->failed = true;
    } else if (reply->integer == 0 && f->req->role != ROLE_ADMIN) {
        f->refused = true;
    } else {
        f->allowed = json_object();
        f->waiting = 1;
        filter_send(f, f->cohort);
        if (--f->waiting == 0)
            filter_decide(f);
        return;
    }
    filter_decide(f);
}

bool cohort_review_filter(struct req *req, void (*again)(struct req *))
{
    struct proto_req *a = &req->args;

    if (req->cohort_checked || a->argc < 2 || strcasecmp(a->argv[1], "LIST") != 0 ||
        req->user == NULL)
        return false;
    req->cohort_checked = true;
    char cohort[24] = "";
    /* "cohort:ID" among the arguments chooses a cohort; it is taken out, so
     * the handler sees the LIST it knows. */
    for (int i = 2; i < a->argc; i++)
        if (strncasecmp(a->argv[i], "cohort:", 7) == 0) {
            snprintf(cohort, sizeof(cohort), "%s", a->argv[i] + 7);
            for (int k = i; k + 1 < a->argc; k++) {
                a->argv[k] = a->argv[k + 1];
                a->argl[k] = a->argl[k + 1];
            }
            a->argc--;
            break;
        }
    if (cohort[0] == '\0' && req->role == ROLE_ADMIN)
        return false;                     /* admins see the whole queue */
    if (cohort[0] && (strspn(cohort, "0123456789") != strlen(cohort) || cohort[0] == '0')) {
        req_reply(req, 400, "cohort:ID takes a cohort id (a number)");
        return true;
    }
    struct review_filter *f = xcalloc(1, sizeof(*f));
    f->req = req;
    f->again = again;
    snprintf(f->cohort, sizeof(f->cohort), "%s", cohort);
    int rc;
    if (cohort[0]) {
        char *k = key_new(KEY_COHORT_TRAINERS, cohort);
        const char *argv[] = { "SISMEMBER", k, req->user };
        rc = store_command_argv(filter_runs_cb, f, 3, argv, NULL);
        free(k);
    } else {
        char *k = key_new(KEY_USER_TEACHES, req->user);
        const char *argv[] = { "SMEMBERS", k };
        rc = store_command_argv(filter_ids_cb, f, 2, argv, NULL);
        free(k);
    }
    if (rc < 0) {
        free(f);
        req_store_unavailable(req);
    }
    return true;
}

/* ---- COURSE outlines ---- */

struct outline {
    struct req *req;
    void (*again)(struct req *);
    struct catalog *cat;
    const struct course *course;
    long long *open;             /* per module: the earliest opening for this learner */
    char (*date)[11 + CTIME_TZ_NAME_MAX + 3];  /* ... and how to show it */
    int waiting, cohorts;
    bool failed;
    void (*orig_done)(struct req *);
};

static void outline_free(struct outline *o)
{
    catalog_unref(o->cat);
    free(o->open);
    free(o->date);
    free(o);
}

static void outline_done(struct req *req)
{
    struct outline *o = req->cohort_gate;
    long long now = cohort_now_ms();

    req->on_done = o->orig_done;
    req->cohort_gate = NULL;
    if (req->reply.code == 200 && req->reply.kind == REPLY_TABLE && req->reply.rows) {
        size_t i;
        json_t *row;
        json_array_foreach(req->reply.rows, i, row) {
            if (i == 0) {
                json_array_append_new(row, json_string("opens"));
                continue;
            }
            const struct lesson *l = catalog_lesson(o->cat, json_string_value(json_array_get(row, 1)));
            const char *v = "";
            for (size_t m = 0; l && m < o->course->nmodules; m++)
                if (o->course->modules[m] == l->module && o->open[m] > now)
                    v = o->date[m];
            json_array_append_new(row, json_string(v));
        }
    }
    outline_free(o);
    req->on_done(req);
}

static void outline_decide(struct outline *o)
{
    struct req *req = o->req;
    void (*again)(struct req *) = o->again;

    if (o->failed || o->cohorts == 0) {
        outline_free(o);               /* the outline as it is, unmarked */
        again(req);
        return;
    }
    o->orig_done = req->on_done;
    req->on_done = outline_done;
    req->cohort_gate = o;
    again(req);
}

static long long flat_ms(redisReply *flat, const char *key)
{
    for (size_t i = 0; flat && i + 1 < flat->elements; i += 2)
        if (strcmp(flat->element[i]->str, key) == 0)
            return atoll(flat->element[i + 1]->str);
    return 0;
}

static void outline_schedule_cb(redisReply *reply, const char *err, void *priv)
{
    struct outline *o = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 4) {
        o->failed = true;
    } else {
        const struct ctz *tz = ctz_get(reply->element[2]->str);
        o->cohorts++;
        for (size_t m = 0; m < o->course->nmodules; m++) {
            const char *mid = o->course->modules[m]->id;
            char field[128];
            snprintf(field, sizeof(field), "open %s %s", o->req->user, mid);
            long long open = flat_ms(reply->element[0], mid);
            long long ext = flat_ms(reply->element[3], field);
            if (ext && ext < open)
                open = ext;
            /* In several cohorts, a module is open as soon as it is in one. */
            if (o->cohorts == 1 || open < o->open[m]) {
                o->open[m] = open;
                char d[11] = "";
                if (tz)
                    ctz_date(tz, open / 1000, d);
                snprintf(o->date[m], sizeof(o->date[m]), "%s (%s)", d, tz ? ctz_name(tz) : "UTC");
            }
        }
    }
    if (--o->waiting == 0)
        outline_decide(o);
}

static void outline_list_cb(redisReply *reply, const char *err, void *priv)
{
    struct outline *o = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        o->failed = true;
        outline_decide(o);
        return;
    }
    o->waiting = 1;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const char *id = reply->element[i]->str;
        if (strcmp(reply->element[i + 1]->str, o->course->id) != 0 || strlen(id) >= 24)
            continue;
        char *k1 = key_new(KEY_COHORT_OPEN, id), *k2 = key_new(KEY_COHORT_DUE, id),
             *k3 = key_new(KEY_COHORT_META, id), *k4 = key_new(KEY_COHORT_EXTEND, id);
        const char *argv[] = { k1, k2, k3, k4 };
        o->waiting++;
        if (script_call(SCRIPT_COHORT_SCHEDULE, outline_schedule_cb, o, 4, 4, argv) < 0) {
            o->waiting--;
            o->failed = true;
        }
        free(k1);
        free(k2);
        free(k3);
        free(k4);
    }
    if (--o->waiting == 0)
        outline_decide(o);
}

bool cohort_gate_outline(struct req *req, void (*again)(struct req *))
{
    if (req->cohort_checked || req->user == NULL || req->args.argc < 2 ||
        store_state() != STORE_UP)
        return false;
    req->cohort_checked = true;
    struct catalog *cat = courses_current();
    const struct course *c = cat && id_valid(req->args.argv[1]) ? catalog_course(cat, req->args.argv[1]) : NULL;
    if (c == NULL)
        return false;
    struct outline *o = xcalloc(1, sizeof(*o));
    o->req = req;
    o->again = again;
    o->cat = catalog_ref(cat);
    o->course = c;
    o->open = xcalloc(c->nmodules + 1, sizeof(*o->open));
    o->date = xcalloc(c->nmodules + 1, sizeof(*o->date));
    char *k = key_new(KEY_USER_COHORTS, req->user);
    const char *argv[] = { "HGETALL", k };
    int rc = store_command_argv(outline_list_cb, o, 2, argv, NULL);
    free(k);
    if (rc < 0) {
        outline_free(o);
        return false;
    }
    return true;
}
