/* cmd-live.c: LIVE: a trainer leads a cohort through lessons and polls in
 * real time; the learners' connections follow by push lines (CTP/1) or
 * Server-Sent Events. The session's state and events live in Redis under
 * the cohort's tag (keys.h, "live sessions"), so every worker and machine
 * serves the same session; live-bus.c carries the events between them.
 *
 * Access follows the cohorts: someone who is not in the cohort is answered
 * exactly as for a cohort that does not exist (404); someone in it without
 * the part a verb needs gets 403 (a learner trying LIVE GOTO). Admins act
 * as the cohort's trainers. */
#include "live.h"

#include <event2/http.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "gift.h"
#include "keys.h"
#include "scripts.h"

enum lwho { LW_TRAINER, LW_LEARNER, LW_MEMBER };

struct lop;

struct lsub {
    const char *name;
    void (*run)(struct lop *);   /* once the cohort and the asker's part in it are known */
    int min_args, max_args;      /* after the sub-command and any cohort:ID */
    enum lwho who;
    bool needs_live;             /* 404 "no live session" without a live one */
    bool cohort_arg;             /* the first argument is the cohort (START, JOIN) */
    bool http_only;
    const char *usage;
};

/* One LIVE request between its Redis steps. */
struct lop {
    struct req *req;
    const struct lsub *sub;
    char cohort[LIVE_COHORT_MAX];
    char user[AUTH_NAME_MAX + 1];
    enum role role;
    bool trainer, learner;       /* the asker's part in the cohort */
    json_t *live;                /* the cohort's live hash, as an object (NULL: none) */
    long long room;
    json_t *tally;               /* the open poll's tally hash */
    const char **args;           /* the sub-command's arguments */
    const size_t *argl;
    int nargs;
    struct live_room *held;      /* JOIN: the room, held until the joiner is in */
    json_t *polls;               /* REPORT */
    char session_n[24];          /* REPORT: the session's number */
};

static void lop_free(struct lop *op)
{
    if (op->held)
        live_room_release(op->held);
    json_decref(op->live);
    json_decref(op->tally);
    json_decref(op->polls);
    free(op);
}

static void lop_answer(struct lop *op, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lop_answer(struct lop *op, int code, const char *fmt, ...)
{
    va_list ap;
    char msg[REPLY_MSG_MAX];

    /* In the learner's language, as req_reply would (i18n.c). */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), i18n_fmt(i18n_msg_lang(op->req), fmt), ap);
    va_end(ap);
    req_reply(op->req, code, "%s", msg);
    lop_free(op);
}

static void lop_store_failed(struct lop *op)
{
    lop_answer(op, 503, REQ_STORE_UNAVAILABLE);
}

/* True when reply is no answer (none, or an error): the request has been
 * answered 503 and op freed. */
static bool lop_reply_failed(struct lop *op, redisReply *reply)
{
    if (!req_store_failed(op->req, reply))
        return false;
    op->req = NULL;
    lop_free(op);
    return true;
}

static void lop_no_session(struct lop *op)
{
    lop_answer(op, 404, "no live session in cohort '%s'", op->cohort);
}

/* A script's integer answer in place of its result: -1 is the conflict
 * (409 with msg), any other the session gone. True when it answered. */
static bool lop_refused(struct lop *op, redisReply *reply, const char *msg)
{
    if (reply->type != REDIS_REPLY_INTEGER)
        return false;
    if (reply->integer == -1)
        lop_answer(op, 409, "%s", msg);
    else
        lop_no_session(op);
    return true;
}

static void release_json(const void *data, size_t len, void *arg)
{
    free(arg);
}

/* Answers with doc (taken): over HTTP the JSON object itself, with "code"
 * and "message" added; over CTP/1 a key-value body, one line per field,
 * objects and arrays as compact JSON. Frees op. */
static void lop_doc(struct lop *op, int code, const char *msg, json_t *doc)
{
    struct req *req = op->req;

    if (req->origin == REQ_HTTP) {
        json_object_set_new(doc, "code", json_integer(code));
        json_object_set_new(doc, "message", json_string(msg));
        char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        snprintf(req->reply.msg, sizeof(req->reply.msg), "%s", msg);
        req_reply_json_ref(req, code, s, strlen(s), release_json, s);
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(doc, k, v) {
            if (json_is_string(v)) {
                req_kv(req, k, "%s", json_string_value(v));
            } else if (json_is_null(v)) {
                req_kv(req, k, "%s", "");
            } else {
                char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
                req_kv(req, k, "%s", s ? s : "");
                free(s);
            }
        }
        req_reply_data(req, code, "%s", msg);
    }
    json_decref(doc);
    lop_free(op);
}

static const char *lv(struct lop *op, const char *k)
{
    const char *v = json_string_value(json_object_get(op->live, k));
    return v ? v : "";
}

static long long lv_int(struct lop *op, const char *k)
{
    return strtoll(lv(op, k), NULL, 10);
}

static bool session_live(struct lop *op)
{
    return op->live && strcmp(lv(op, "state"), "live") == 0;
}

/* The number of a session "COHORT-N". */
static const char *session_number(const char *session)
{
    const char *dash = strrchr(session, '-');
    return dash ? dash + 1 : "";
}

static json_t *json_of(const char *s)
{
    json_t *v = s && s[0] ? json_loads(s, 0, NULL) : NULL;
    return v ? v : json_null();
}

static char *iso(long long ms)
{
    char t[TIME_ISO_MAX];
    time_iso(ms, false, t);
    return xstrdup(t);
}

/* The tally of the open (or last) poll from its hash, as the scripts make it. */
static json_t *tally_doc(struct lop *op)
{
    json_t *counts = json_object();
    long long answers = 0, right = 0;
    const char *k;
    json_t *v;

    json_object_foreach(op->tally, k, v) {
        long long n = strtoll(json_string_value(v) ? json_string_value(v) : "0", NULL, 10);
        if (strcmp(k, "_answers") == 0)
            answers = n;
        else if (strcmp(k, "_right") == 0)
            right = n;
        else if (n > 0)
            json_object_set_new(counts, k, json_integer(n));
    }
    return json_pack("{s:I,s:I,s:I,s:o,s:b}", "poll", (json_int_t)lv_int(op, "poll"), "answers",
                     (json_int_t)answers, "right", (json_int_t)right, "counts", counts, "closed",
                     strcmp(lv(op, "poll_open"), "1") != 0);
}

/* The state of the session as GET /api/live/{cohort} and LIVE STATE give it. */
static json_t *state_doc(struct lop *op)
{
    bool open = strcmp(lv(op, "poll_open"), "1") == 0;
    const char *state = lv(op, "state");
    char *started = iso(lv_int(op, "started"));
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:I}", "session", lv(op, "session"), "cohort",
                            op->cohort, "lesson", lv(op, "lesson"), "anchor", lv(op, "anchor"),
                            "said", json_of(lv(op, "said")),
                            "poll", open ? json_of(lv(op, "poll_view")) : json_null(),
                            "room", (json_int_t)op->room);
    if (op->trainer)
        json_object_set_new(doc, "tally", lv_int(op, "poll") > 0 ? tally_doc(op) : json_null());
    json_object_set_new(doc, "state", json_string(strcmp(state, "live") == 0 && !live_bus_up()
                                                       ? "paused" : state));
    json_object_set_new(doc, "seq", json_integer(lv_int(op, "seq")));
    json_object_set_new(doc, "started", json_string(started));
    free(started);
    return doc;
}

/* ---- sending an event through the scripts ---- */

/* The keys of a cohort's live session that the scripts take; polls and
 * answers are those of the session in the state read (keys.h). */
struct keyset {
    char live[KEY_MAX], events[KEY_MAX], channel[KEY_MAX], tally[KEY_MAX], room[KEY_MAX];
    char polls[KEY_MAX], answers[KEY_MAX];
    char events_max[16];         /* LIVE_EVENTS_MAX, as the scripts take it */
};

static int keys_for(struct lop *op, struct keyset *k)
{
    const char *n = session_number(lv(op, "session"));

    snprintf(k->events_max, sizeof(k->events_max), "%d", LIVE_EVENTS_MAX);
    if (key_fmt(k->live, sizeof(k->live), KEY_LIVE, op->cohort) < 0 ||
        key_fmt(k->events, sizeof(k->events), KEY_LIVE_EVENTS, op->cohort) < 0 ||
        key_fmt(k->channel, sizeof(k->channel), KEY_LIVE_CHANNEL, op->cohort) < 0 ||
        key_fmt(k->tally, sizeof(k->tally), KEY_LIVE_TALLY, op->cohort) < 0 ||
        key_fmt(k->room, sizeof(k->room), KEY_LIVE_ROOM, op->cohort) < 0 ||
        key_fmt(k->polls, sizeof(k->polls), KEY_LIVE_POLLS, op->cohort, n) < 0 ||
        key_fmt(k->answers, sizeof(k->answers), KEY_LIVE_ANSWERS, op->cohort, n) < 0)
        return -1;
    return 0;
}

/* now_wall_ms() as a script argument. */
static void now_arg(char out[24])
{
    snprintf(out, 24, "%lld", now_wall_ms());
}

static void event_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    if (reply->type != REDIS_REPLY_INTEGER || reply->integer == 0) {
        lop_no_session(op);
        return;
    }
    json_t *doc = json_pack("{s:s,s:I}", "session", lv(op, "session"), "id", (json_int_t)reply->integer);
    char msg[64];
    snprintf(msg, sizeof(msg), "%s %lld", op->sub->name, (long long)reply->integer);
    if (strcmp(op->sub->name, "END") == 0) {
        char *t = iso(now_wall_ms());
        json_object_set_new(doc, "ended", json_string(t));
        free(t);
    }
    lop_doc(op, 200, msg, doc);
}

/* Publishes an event of type with data (taken) and the state fields
 * (pairs, NULL-ended), then answers. */
static void send_event(struct lop *op, const char *type, json_t *data, ...)
{
    struct keyset k;
    const char *argv[16];
    char said[16];
    int c = 0;
    va_list ap;

    if (keys_for(op, &k) < 0) {
        json_decref(data);
        lop_store_failed(op);
        return;
    }
    char *d = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(data);
    snprintf(said, sizeof(said), "%d", LIVE_SAID_MAX);
    argv[c++] = k.live;
    argv[c++] = k.events;
    argv[c++] = k.channel;
    argv[c++] = lv(op, "session");
    argv[c++] = type;
    argv[c++] = d;
    argv[c++] = k.events_max;
    argv[c++] = said;
    va_start(ap, data);
    for (const char *f; c < 14 && (f = va_arg(ap, const char *)) != NULL;) {
        argv[c++] = f;
        argv[c++] = va_arg(ap, const char *);
    }
    va_end(ap);
    if (script_call(SCRIPT_LIVE_EVENT, event_cb, op, 2, c, argv) < 0)
        lop_store_failed(op);
    free(d);
}

/* Text a learner or trainer typed: not empty, at most LIVE_TEXT_MAX bytes,
 * no control bytes but tab and line ends. Answers and returns false when not. */
static bool text_ok(struct lop *op, const char *s, size_t len, const char *what)
{
    what = i18n_fmt(i18n_msg_lang(op->req), what);
    if (len == 0) {
        lop_answer(op, 400, "%s is empty", what);
        return false;
    }
    if (len > LIVE_TEXT_MAX) {
        lop_answer(op, 413, "%s is over %d bytes", what, LIVE_TEXT_MAX);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f) {
            lop_answer(op, 400, "%s holds a control character", what);
            return false;
        }
    }
    return true;
}

/* ---- the trainer's verbs ---- */

static void watch_here(struct lop *op, bool trainer, long long seq)
{
    struct conn *c = op->req->conn;

    if (op->req->origin != REQ_CTP || c == NULL || c->state == CONN_CLOSED)
        return;
    if (c->live && strcmp(live_room_cohort(c->live->room), op->cohort) == 0 &&
        c->live->trainer == trainer)
        return;                  /* already following it */
    if (c->live)
        live_watch_remove(c->live);
    struct live_watch *w = xcalloc(1, sizeof(*w));
    w->kind = LIVE_WATCH_CTP;
    w->conn = c;
    snprintf(w->user, sizeof(w->user), "%s", op->user);
    w->trainer = trainer;
    w->learner = !trainer;
    c->push_ok = true;
    live_watch_add(w, live_room_get(op->cohort), seq, seq);
    if (!live_bus_up())
        live_send_notice(w, "paused");
}

static void start_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 4) {
        lop_store_failed(op);
        return;
    }
    bool created = reply->element[0]->integer == 1;
    const char *session = reply->element[1]->str;
    long long started = strtoll(reply->element[2]->str ? reply->element[2]->str : "0", NULL, 10);
    long long seq = strtoll(reply->element[3]->str ? reply->element[3]->str : "0", NULL, 10);
    char *t = iso(started);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:I}", "session", session, "cohort", op->cohort,
                            "started", t, "seq", (json_int_t)seq);
    char msg[128];
    snprintf(msg, sizeof(msg), "live session %s %s", session, created ? "started" : "resumed");
    free(t);
    watch_here(op, true, seq);
    lop_doc(op, created ? 201 : 200, msg, doc);
}

static void lv_start(struct lop *op)
{
    struct keyset k;
    char now[24];

    now_arg(now);
    const char *argv[] = { k.live, k.events, k.tally, k.room, op->cohort, op->user, now };
    if (keys_for(op, &k) < 0 || script_call(SCRIPT_LIVE_START, start_cb, op, 4, 7, argv) < 0)
        lop_store_failed(op);
}

static void lv_goto(struct lop *op)
{
    char lesson[2 * ID_MAX + 2], anchor[ID_MAX + 1] = "";

    if (!arg_lesson_id_valid(op->args[0], op->argl[0])) {
        lop_answer(op, 400, "a lesson is course/lesson, each 1 to 64 of a-z, 0-9, -");
        return;
    }
    snprintf(lesson, sizeof(lesson), "%s", op->args[0]);
    if (op->nargs > 1) {
        if (!id_valid_n(op->args[1], op->argl[1])) {
            lop_answer(op, 400, "an anchor is 1 to 64 of a-z, 0-9, -");
            return;
        }
        snprintf(anchor, sizeof(anchor), "%s", op->args[1]);
    }
    struct catalog *cat = courses_current();
    if (cat == NULL || catalog_lesson(cat, lesson) == NULL) {
        lop_answer(op, 404, "no lesson '%s'", lesson);
        return;
    }
    send_event(op, "goto", json_pack("{s:s,s:s}", "lesson", lesson, "anchor", anchor),
               "lesson", lesson, "anchor", anchor, NULL);
}

static void lv_say(struct lop *op)
{
    if (!text_ok(op, op->args[0], op->argl[0], "the text"))
        return;
    send_event(op, "say", json_pack("{s:s%}", "text", op->args[0], op->argl[0]), NULL);
}

static void lv_end(struct lop *op)
{
    send_event(op, "end", json_object(), NULL);
}

static void poll_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    char busy[64];
    snprintf(busy, sizeof(busy), "poll %lld is open: LIVE CLOSE it first", lv_int(op, "poll"));
    if (lop_refused(op, reply, busy))
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        lop_store_failed(op);
        return;
    }
    json_t *doc = json_pack("{s:I,s:I}", "poll", (json_int_t)reply->element[0]->integer, "id",
                            (json_int_t)reply->element[1]->integer);
    char msg[64];
    snprintf(msg, sizeof(msg), "poll %lld open", (long long)reply->element[0]->integer);
    lop_doc(op, 201, msg, doc);
}

static void lv_poll(struct lop *op)
{
    struct gift_question q;
    char err[256];

    if (op->argl[0] > LIVE_GIFT_MAX) {
        lop_answer(op, 413, "a poll is at most %d bytes of GIFT", LIVE_GIFT_MAX);
        return;
    }
    if (live_poll_parse(op->args[0], op->argl[0], &q, err, sizeof(err)) < 0) {
        lop_answer(op, 400, "%s", err);
        return;
    }
    json_t *view = live_poll_view(&q);
    gift_question_free(&q);
    char *v = json_dumps(view, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(view);
    char gift[LIVE_GIFT_MAX + 1];
    snprintf(gift, sizeof(gift), "%.*s", (int)op->argl[0], op->args[0]);
    struct keyset k;
    /* The script puts the poll's number first: it is given the view
     * without its opening brace. */
    const char *argv[] = { k.live, k.events, k.tally, k.polls, k.channel, lv(op, "session"), v + 1,
                           gift, k.events_max };
    if (keys_for(op, &k) < 0 || script_call(SCRIPT_LIVE_POLL, poll_cb, op, 4, 9, argv) < 0)
        lop_store_failed(op);
    free(v);
}

static void close_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    if (lop_refused(op, reply, "no open poll"))
        return;
    json_t *t = reply->type == REDIS_REPLY_STRING ? json_loadb(reply->str, reply->len, 0, NULL) : NULL;
    if (!json_is_object(t)) {
        json_decref(t);
        lop_store_failed(op);
        return;
    }
    char msg[64];
    snprintf(msg, sizeof(msg), "poll %lld closed", (long long)json_integer_value(json_object_get(t, "poll")));
    lop_doc(op, 200, msg, t);
}

static void lv_close(struct lop *op)
{
    struct keyset k;
    const char *argv[] = { k.live, k.events, k.tally, k.polls, k.channel, lv(op, "session"), k.events_max };

    if (keys_for(op, &k) < 0 || script_call(SCRIPT_LIVE_CLOSE, close_cb, op, 4, 7, argv) < 0)
        lop_store_failed(op);
}

static void room_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    req_table(op->req, 1, "learner");
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
        req_row(op->req, 1, reply->element[i]->str);
    req_reply_data(op->req, 200, "room %zu", reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0);
    lop_free(op);
}

static void lv_room(struct lop *op)
{
    char k[KEY_MAX];

    if (key_fmt(k, sizeof(k), KEY_LIVE_ROOM, op->cohort) < 0 ||
        store_command(room_cb, op, "ZRANGEBYSCORE %s %lld +inf", k, now_wall_ms()) < 0)
        lop_store_failed(op);
}

/* ---- the learner's verbs ---- */

static void join_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    if (reply->type != REDIS_REPLY_INTEGER || reply->integer < 0) {
        lop_no_session(op);
        return;
    }
    op->room = reply->integer;
    watch_here(op, false, lv_int(op, "seq"));
    lop_doc(op, 200, "joined", state_doc(op));
}

/* The learner is counted in the room before the answer, which then holds
 * the count with them in it. */
static void lv_join(struct lop *op)
{
    struct keyset k;
    char now[24], lease[24];

    now_arg(now);
    snprintf(lease, sizeof(lease), "%d", LIVE_ROOM_LEASE_MS);
    const char *argv[] = { k.live, k.room, k.channel, "+", op->user, now, lease };
    if (keys_for(op, &k) < 0 || script_call(SCRIPT_LIVE_PRESENCE, join_cb, op, 2, 7, argv) < 0)
        lop_store_failed(op);
}

static void lv_leave(struct lop *op)
{
    struct conn *c = op->req->conn;

    if (op->req->origin == REQ_CTP && c && c->live &&
        strcmp(live_room_cohort(c->live->room), op->cohort) == 0)
        live_watch_remove(c->live);      /* takes the learner out of the room */
    else if (op->learner)
        live_presence(op->cohort, '-', op->user);
    lop_doc(op, 200, "left", json_pack("{s:s}", "cohort", op->cohort));
}

static void answer_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    if (lop_refused(op, reply, "the poll closed"))
        return;
    lop_doc(op, 200, "answer stored", json_pack("{s:I}", "poll", (json_int_t)lv_int(op, "poll")));
}

static void lv_answer(struct lop *op)
{
    struct gift_question q;
    char err[256], bucket[32];
    bool right;
    double score;

    if (strcmp(lv(op, "poll_open"), "1") != 0) {
        lop_answer(op, 409, "no open poll");
        return;
    }
    if (!text_ok(op, op->args[0], op->argl[0], "the answer"))
        return;
    const char *gift = lv(op, "poll_gift");
    if (live_poll_parse(gift, strlen(gift), &q, err, sizeof(err)) < 0) {
        lop_store_failed(op);            /* written by POLL after the same check */
        return;
    }
    char *answer = xstrndup(op->args[0], op->argl[0]);
    int rc = live_poll_grade(&q, answer, i18n_msg_lang(op->req), bucket, sizeof(bucket), &right,
                             &score, err, sizeof(err));
    gift_question_free(&q);
    if (rc < 0) {
        free(answer);
        lop_answer(op, 400, "%s", err);
        return;
    }
    json_t *rec = json_pack("{s:s,s:s,s:b,s:f,s:I}", "answer", answer, "bucket", bucket, "right", right,
                            "score", score, "at", (json_int_t)now_wall_ms());
    char *r = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(rec);
    free(answer);
    struct keyset k;
    const char *argv[] = { k.live, k.answers, k.tally, k.channel, lv(op, "session"), lv(op, "poll"),
                           op->user, r, bucket, right ? "1" : "0" };
    if (keys_for(op, &k) < 0 || script_call(SCRIPT_LIVE_ANSWER, answer_cb, op, 3, 10, argv) < 0)
        lop_store_failed(op);
    free(r);
}

/* ---- for anyone in the cohort ---- */

static void lv_state(struct lop *op)
{
    lop_doc(op, 200, "live", state_doc(op));
}

static void lv_events(struct lop *op)
{
    struct req *req = op->req;
    struct evhttp_request *r = req->http;

    if (r == NULL) {             /* the browser left while we asked Redis */
        lop_answer(op, 499, "client gone");
        return;
    }
    /* The stream owns the HTTP request from here: the request struct goes
     * without an answer of its own. */
    evhttp_request_set_error_cb(r, NULL);
    req->http = NULL;
    live_sse_begin(r, op->cohort, op->user, op->trainer, op->learner && session_live(op),
                   lv_int(op, "seq"), lv(op, "session"));
    lop_answer(op, 200, "streaming");
}

/* ---- REPORT session ---- */

static int answer_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    long long px = json_integer_value(json_object_get(x, "poll")), py = json_integer_value(json_object_get(y, "poll"));
    if (px != py)
        return px < py ? -1 : 1;
    return strcmp(json_string_value(json_object_get(x, "learner")),
                  json_string_value(json_object_get(y, "learner")));
}

static void report_answers_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    size_t n = reply->type == REDIS_REPLY_ARRAY ? reply->elements / 2 : 0;
    json_t **recs = xcalloc(n ? n : 1, sizeof(*recs));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *f = reply->element[2 * i]->str, *sp = strchr(f, ' ');
        redisReply *v = reply->element[2 * i + 1];
        json_t *rec = json_loadb(v->str, v->len, 0, NULL);
        if (sp == NULL || !json_is_object(rec)) {
            json_decref(rec);
            continue;
        }
        json_object_set_new(rec, "poll", json_integer(strtoll(f, NULL, 10)));
        json_object_set_new(rec, "learner", json_string(sp + 1));
        recs[m++] = rec;
    }
    qsort(recs, m, sizeof(*recs), answer_cmp);
    char session[64];
    snprintf(session, sizeof(session), "%s-%s", op->cohort, op->session_n);
    if (op->req->origin == REQ_HTTP) {
        json_t *answers = json_array();
        for (size_t i = 0; i < m; i++)
            json_array_append_new(answers, json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O}",
                "poll", json_object_get(recs[i], "poll"), "learner", json_object_get(recs[i], "learner"),
                "answer", json_object_get(recs[i], "answer"), "bucket", json_object_get(recs[i], "bucket"),
                "right", json_object_get(recs[i], "right"), "score", json_object_get(recs[i], "score"),
                "at", json_object_get(recs[i], "at")));
        json_t *doc = json_pack("{s:s,s:s,s:O,s:o}", "session", session, "cohort", op->cohort,
                                "polls", op->polls, "answers", answers);
        for (size_t i = 0; i < m; i++)
            json_decref(recs[i]);
        free(recs);
        lop_doc(op, 200, "report", doc);
        return;
    }
    req_table(op->req, 7, "poll", "learner", "answer", "bucket", "right", "score", "at");
    for (size_t i = 0; i < m; i++) {
        char poll[24], score[32], at[TIME_ISO_MAX];
        snprintf(poll, sizeof(poll), "%lld", (long long)json_integer_value(json_object_get(recs[i], "poll")));
        snprintf(score, sizeof(score), "%g", json_number_value(json_object_get(recs[i], "score")));
        time_iso((long long)json_integer_value(json_object_get(recs[i], "at")), false, at);
        req_row(op->req, 7, poll, json_string_value(json_object_get(recs[i], "learner")),
                json_string_value(json_object_get(recs[i], "answer")),
                json_string_value(json_object_get(recs[i], "bucket")),
                json_is_true(json_object_get(recs[i], "right")) ? "yes" : "no", score, at);
        json_decref(recs[i]);
    }
    free(recs);
    req_reply_data(op->req, 200, "report %s: %zu answers in %zu polls", session, m,
                   json_array_size(op->polls));
    lop_free(op);
}

static void report_polls_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    op->polls = json_array();
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
        json_t *p = json_loadb(reply->element[i + 1]->str, reply->element[i + 1]->len, 0, NULL);
        if (!json_is_object(p)) {
            json_decref(p);
            continue;
        }
        json_object_set_new(p, "poll", json_integer(strtoll(reply->element[i]->str, NULL, 10)));
        json_array_append_new(op->polls, p);
    }
    if (json_array_size(op->polls) == 0 && !op->live) {
        lop_answer(op, 404, "no session '%s-%s'", op->cohort, op->session_n);
        return;
    }
    char k[KEY_MAX];
    if (key_fmt(k, sizeof(k), KEY_LIVE_ANSWERS, op->cohort, op->session_n) < 0 ||
        store_command(report_answers_cb, op, "HGETALL %s", k) < 0)
        lop_store_failed(op);
}

static void lv_report(struct lop *op)
{
    long long have = op->live ? lv_int(op, "sessions") : 0;
    long long n = strtoll(op->session_n, NULL, 10);

    if (n < 1 || n > have) {
        lop_answer(op, 404, "no session '%s-%s'", op->cohort, op->session_n);
        return;
    }
    char k[KEY_MAX];
    if (key_fmt(k, sizeof(k), KEY_LIVE_POLLS, op->cohort, op->session_n) < 0 ||
        store_command(report_polls_cb, op, "HGETALL %s", k) < 0)
        lop_store_failed(op);
}

/* ---- the sub-commands and dispatch ---- */

static const struct lsub subs[] = {
    { "START", lv_start, 0, 0, LW_TRAINER, false, true, false, "LIVE START cohort" },
    { "GOTO", lv_goto, 1, 2, LW_TRAINER, true, false, false, "LIVE GOTO [cohort:ID] course/lesson [anchor]" },
    { "SAY", lv_say, 1, 1, LW_TRAINER, true, false, false, "LIVE SAY [cohort:ID] text | LIVE SAY {N}" },
    { "POLL", lv_poll, 1, 1, LW_TRAINER, true, false, false, "LIVE POLL [cohort:ID] {N} (one GIFT question)" },
    { "CLOSE", lv_close, 0, 0, LW_TRAINER, true, false, false, "LIVE CLOSE [cohort:ID]" },
    { "END", lv_end, 0, 0, LW_TRAINER, true, false, false, "LIVE END [cohort:ID]" },
    { "ROOM", lv_room, 0, 0, LW_TRAINER, true, false, false, "LIVE ROOM [cohort:ID]" },
    { "REPORT", lv_report, 0, 0, LW_TRAINER, false, false, false, "LIVE REPORT session" },
    { "JOIN", lv_join, 0, 0, LW_LEARNER, true, true, false, "LIVE JOIN cohort" },
    { "ANSWER", lv_answer, 1, 1, LW_LEARNER, true, false, false, "LIVE ANSWER [cohort:ID] text" },
    { "LEAVE", lv_leave, 0, 0, LW_LEARNER, false, false, false, "LIVE LEAVE [cohort:ID]" },
    { "STATE", lv_state, 0, 0, LW_MEMBER, false, false, false, "LIVE STATE [cohort:ID]" },
    { "EVENTS", lv_events, 0, 0, LW_MEMBER, false, false, true, "GET /api/live/{cohort}/events" },
    { NULL, NULL, 0, 0, LW_MEMBER, false, false, false, NULL },
};

/* A cohort id: digits, as the cohorts' counter gives them. */
static bool cohort_id_ok(const char *s, size_t len)
{
    return len > 0 && len < LIVE_COHORT_MAX - 1 && strspn(s, "0123456789") == len && s[0] != '0';
}

static void ctx_cb(redisReply *reply, const char *err, void *priv)
{
    struct lop *op = priv;

    if (lop_reply_failed(op, reply))
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 5) {
        lop_answer(op, 404, "no cohort '%s'", op->cohort);
        return;
    }
    op->trainer = reply->element[0]->integer == 1 || op->role == ROLE_ADMIN;
    op->learner = reply->element[1]->integer == 1;
    if (!op->trainer && !op->learner) {
        lop_answer(op, 404, "no cohort '%s'", op->cohort);
        return;
    }
    redisReply *h = reply->element[2], *t = reply->element[4];
    if (h->elements > 0) {
        op->live = json_object();
        for (size_t i = 0; i + 1 < h->elements; i += 2)
            json_object_set_new(op->live, h->element[i]->str,
                                json_stringn(h->element[i + 1]->str, h->element[i + 1]->len));
    }
    op->room = reply->element[3]->integer;
    op->tally = json_object();
    for (size_t i = 0; i + 1 < t->elements; i += 2)
        json_object_set_new(op->tally, t->element[i]->str, json_string(t->element[i + 1]->str));

    const struct lsub *s = op->sub;
    if (s->who == LW_TRAINER && !op->trainer) {
        lop_answer(op, 403, "LIVE %s is for the cohort's trainers", s->name);
        return;
    }
    if (s->who == LW_LEARNER && !op->learner) {
        lop_answer(op, 403, "LIVE %s is for the cohort's learners", s->name);
        return;
    }
    if ((s->needs_live && !session_live(op)) || (s->who == LW_MEMBER && op->live == NULL)) {
        lop_no_session(op);
        return;
    }
    s->run(op);
}

/* Every sub-verb of the table below: its arity (with the optional
 * cohort:ID counted) and the login were checked by cmd_dispatch; its part
 * in the cohort is checked once the cohort is read (ctx_cb). */
static void live_run(struct req *req)
{
    const struct proto_req *a = &req->args;
    const struct lsub *s = subs;

    while (s->name && strcasecmp(s->name, req->sub->name) != 0)
        s++;
    if (s->name == NULL)
        fatal("LIVE %s has no row in cmd-live.c's table", req->sub->name);
    if (s->http_only && req->origin != REQ_HTTP) {
        req_reply(req, 400, "usage: %s", req->cmd->usage);
        return;
    }
    struct lop *op = xcalloc(1, sizeof(*op));
    op->req = req;
    op->sub = s;
    op->role = req->role;
    snprintf(op->user, sizeof(op->user), "%s", req->user ? req->user : "");
    int i = 2;
    const char *cohort = NULL;
    size_t clen = 0;
    if (strcmp(s->name, "REPORT") == 0) {
        /* A session is COHORT-N. */
        const char *sess = i < a->argc ? a->argv[i] : "";
        const char *dash = i < a->argc ? strrchr(sess, '-') : NULL;
        if (dash == NULL || a->argc != 3 || !cohort_id_ok(sess, (size_t)(dash - sess)) ||
            !cohort_id_ok(dash + 1, strlen(dash + 1))) {
            lop_answer(op, 400, "usage: %s (a session is COHORT-N, as LIVE START names it)", s->usage);
            return;
        }
        cohort = sess;
        clen = (size_t)(dash - sess);
        snprintf(op->session_n, sizeof(op->session_n), "%s", dash + 1);
        i++;
    } else if (s->cohort_arg) {
        if (i < a->argc) {
            cohort = a->argv[i];
            clen = a->argl[i];
            if (clen > 7 && strncasecmp(cohort, "cohort:", 7) == 0) {
                cohort += 7;
                clen -= 7;
            }
            i++;
        }
    } else if (i < a->argc && a->argl[i] > 7 && strncasecmp(a->argv[i], "cohort:", 7) == 0) {
        cohort = a->argv[i] + 7;
        clen = a->argl[i] - 7;
        i++;
    } else if (req->origin == REQ_CTP && req->conn && req->conn->live) {
        cohort = live_room_cohort(req->conn->live->room);
        clen = strlen(cohort);
    }
    if (cohort == NULL) {
        lop_answer(op, 400, s->cohort_arg ? "usage: %s"
                   : "usage: %s (name the cohort, or LIVE START or LIVE JOIN it first)", s->usage);
        return;
    }
    op->nargs = a->argc - i;
    if (op->nargs < s->min_args || op->nargs > s->max_args) {
        lop_answer(op, 400, "usage: %s", s->usage);
        return;
    }
    if (!cohort_id_ok(cohort, clen)) {
        lop_answer(op, 400, "a cohort id is a number (see COHORT LIST)");
        return;
    }
    snprintf(op->cohort, sizeof(op->cohort), "%.*s", (int)clen, cohort);
    op->args = (const char **)a->argv + i;
    op->argl = a->argl + i;
    if (strcmp(s->name, "JOIN") == 0) {
        /* Held from before the state is read, so no event between that
         * read and the joiner's arrival goes unnoticed (live-bus.c). */
        op->held = live_room_get(op->cohort);
        live_room_hold(op->held);
    }
    char *k[6] = { key_new(KEY_COHORT_META, op->cohort), key_new(KEY_COHORT_TRAINERS, op->cohort),
                   key_new(KEY_COHORT_LEARNERS, op->cohort), key_new(KEY_LIVE, op->cohort),
                   key_new(KEY_LIVE_ROOM, op->cohort), key_new(KEY_LIVE_TALLY, op->cohort) };
    char now[24];
    now_arg(now);
    const char *argv[] = { k[0], k[1], k[2], k[3], k[4], k[5], op->user, now };
    if (script_call(SCRIPT_LIVE_CTX, ctx_cb, op, 6, 8, argv) < 0)
        lop_store_failed(op);
    for (int j = 0; j < 6; j++)
        free(k[j]);
}

/* The sub-verbs for the dispatcher: each takes its own arguments plus an
 * optional cohort:ID. Their role is the least one (a logged-in account):
 * whether someone may run a trainer's or a learner's sub-verb depends on
 * their part in the cohort named, which only Redis can say (ctx_cb: a
 * stranger gets 404, a member without the part 403). */
static const struct cmd live_subs[] = {
    { .name = "START", .run = live_run, .min_args = 1, .max_args = 1, .role = ROLE_LEARNER, .usage = "LIVE START cohort" },
    { .name = "GOTO", .run = live_run, .min_args = 1, .max_args = 3, .role = ROLE_LEARNER,
      .usage = "LIVE GOTO [cohort:ID] course/lesson [anchor]" },
    { .name = "SAY", .run = live_run, .min_args = 1, .max_args = 2, .role = ROLE_LEARNER,
      .usage = "LIVE SAY [cohort:ID] text | LIVE SAY {N}" },
    { .name = "POLL", .run = live_run, .min_args = 1, .max_args = 2, .role = ROLE_LEARNER,
      .usage = "LIVE POLL [cohort:ID] {N} (one GIFT question)" },
    { .name = "CLOSE", .run = live_run, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER, .usage = "LIVE CLOSE [cohort:ID]" },
    { .name = "END", .run = live_run, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER, .usage = "LIVE END [cohort:ID]" },
    { .name = "ROOM", .run = live_run, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER, .usage = "LIVE ROOM [cohort:ID]" },
    { .name = "REPORT", .run = live_run, .min_args = 1, .max_args = 1, .role = ROLE_LEARNER, .usage = "LIVE REPORT session" },
    { .name = "JOIN", .run = live_run, .min_args = 1, .max_args = 1, .role = ROLE_LEARNER, .usage = "LIVE JOIN cohort" },
    { .name = "ANSWER", .run = live_run, .min_args = 1, .max_args = 2, .role = ROLE_LEARNER,
      .usage = "LIVE ANSWER [cohort:ID] text" },
    { .name = "LEAVE", .run = live_run, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER, .usage = "LIVE LEAVE [cohort:ID]" },
    { .name = "STATE", .run = live_run, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER, .usage = "LIVE STATE [cohort:ID]" },
    { .name = "EVENTS", .run = live_run, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER,
      .usage = "GET /api/live/{cohort}/events" },
    { .name = NULL },
};

const struct cmd cmd_group_live[] = {
    /* CMD_WRITE: each sub-verb is answered before the next one on the
     * connection runs, so GOTO then SAY reach the room in that order. */
    { .name = "LIVE", .min_args = 1, .max_args = 4, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_WRITE, .subs = live_subs,
      .usage = "LIVE START|GOTO|SAY|POLL|CLOSE|END|ROOM|REPORT|JOIN|ANSWER|LEAVE|STATE ...",
      .help = "Live sessions: a trainer moves a cohort through lessons and polls; learners follow "
              "by push lines. See \"Live sessions\" in docs/PROTOCOL.md." },
    { .name = NULL },
};
