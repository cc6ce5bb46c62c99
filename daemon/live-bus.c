/* live-bus.c: live events across processes: a second hiredis async link,
 * subscribed to every cohort's live channel, and the rooms of this process
 * (who follows which cohort here) that its events are delivered to, in
 * order and once each, with catch-up from the cohort's event list when a
 * follower may have missed some.
 *
 * Why one PSUBSCRIBE to the pattern of all live channels rather than a
 * SUBSCRIBE per cohort: the link subscribes once, when it connects, and a
 * joiner never waits for a subscription to be confirmed, nor races an
 * UNSUBSCRIBE of the last follower leaving (hiredis 0.14's unsubscribe
 * callbacks are fragile). The price is that a process parses the events of
 * cohorts it has nobody in; live events are few (a trainer's clicks and
 * the poll answers). */
#include "live.h"
#include "keys.h"
#include "scripts.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct live_room {
    char cohort[LIVE_COHORT_MAX];
    struct live_watch *watchers;
    int holds;                   /* joins under way, catch-ups in flight */
    long long bus_last;          /* the newest event id the bus has had for it */
    long long seq_seen;          /* the newest id a joiner read from the state */
    bool catching;               /* a catch-up read is in flight */
    bool catch_again;            /* ... and another is wanted after it */
    bool catch_due;              /* one failed: retried on the next tick */
    bool resuming;               /* the bus came back: tell "resumed" with the catch-up */
    json_t *held;                /* events that arrived during the catch-up, in order */
    struct live_room *prev, *next;
};

static struct {
    struct event_base *base;
    redisAsyncContext *ac;
    bool up;                     /* PSUBSCRIBE confirmed */
    bool stopping;
    unsigned ticks;
    struct live_room *rooms;
} bus;

static void catch_start(struct live_room *room);

bool live_bus_up(void)
{
    return bus.up;
}

const char *live_room_cohort(const struct live_room *room)
{
    return room->cohort;
}

/* ---- rooms ---- */

static struct live_room *room_find(const char *cohort)
{
    for (struct live_room *r = bus.rooms; r; r = r->next)
        if (strcmp(r->cohort, cohort) == 0)
            return r;
    return NULL;
}

struct live_room *live_room_get(const char *cohort)
{
    struct live_room *r = room_find(cohort);

    if (r)
        return r;
    r = xcalloc(1, sizeof(*r));
    snprintf(r->cohort, sizeof(r->cohort), "%s", cohort);
    r->held = json_array();
    r->next = bus.rooms;
    if (bus.rooms)
        bus.rooms->prev = r;
    bus.rooms = r;
    return r;
}

static void room_maybe_free(struct live_room *r)
{
    if (r->watchers || r->holds > 0)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        bus.rooms = r->next;
    if (r->next)
        r->next->prev = r->prev;
    json_decref(r->held);
    free(r);
}

void live_room_hold(struct live_room *room)
{
    room->holds++;
}

void live_room_release(struct live_room *room)
{
    room->holds--;
    room_maybe_free(room);
}

/* ---- sending to one follower ---- */

static bool send_bytes(struct live_watch *w, struct evbuffer *b)
{
    size_t len = evbuffer_get_length(b);
    const void *p = evbuffer_pullup(b, -1);
    int rc = w->kind == LIVE_WATCH_CTP ? conn_push(w->conn, p, len) : live_sse_write(w->sse, p, len);

    if (rc < 0)
        w->resync_due = true;
    return rc == 0;
}

/* The rendered forms of one event, made once for every follower. */
struct rendered {
    json_t *ev;
    struct evbuffer *ctp, *sse;
};

static bool send_rendered(struct live_watch *w, struct rendered *r)
{
    if (w->kind == LIVE_WATCH_CTP) {
        if (r->ctp == NULL)
            r->ctp = live_render_ctp(r->ev);
        return r->ctp ? send_bytes(w, r->ctp) : true;
    }
    if (r->sse == NULL)
        r->sse = live_render_sse(r->ev);
    return send_bytes(w, r->sse);
}

static void rendered_clear(struct rendered *r)
{
    if (r->ctp)
        evbuffer_free(r->ctp);
    if (r->sse)
        evbuffer_free(r->sse);
}

bool live_send(struct live_watch *w, json_t *ev)
{
    struct rendered r = { .ev = ev };
    bool ok = send_rendered(w, &r);
    rendered_clear(&r);
    return ok;
}

void live_send_notice(struct live_watch *w, const char *type)
{
    json_t *ev = json_pack("{s:I,s:s,s:{}}", "id", (json_int_t)w->last, "type", type, "data");
    live_send(w, ev);
    json_decref(ev);
}

/* A CTP/1 follower drained what it was sent: one RESYNC stands for every
 * push it was not given (conn.c). */
void live_conn_drained(struct conn *c)
{
    struct live_watch *w = c->live;

    if (w && w->resync_due) {
        w->resync_due = false;
        live_send_notice(w, "resync");
    }
}

void live_conn_closed(struct conn *c)
{
    struct live_watch *w = c->live;

    c->live = NULL;
    if (w) {
        w->conn = NULL;
        live_watch_remove(w);
    }
}

/* ---- followers ---- */

void live_watch_add(struct live_watch *w, struct live_room *room, long long last, long long seq)
{
    w->room = room;
    w->last = last;
    w->prev = NULL;
    w->next = room->watchers;
    if (room->watchers)
        room->watchers->prev = w;
    room->watchers = w;
    if (w->kind == LIVE_WATCH_CTP)
        w->conn->live = w;
    /* Events newer than what it read may have come in before it was added,
     * or the follower resumes from an older id (SSE's Last-Event-ID): read
     * the list for it. */
    if (seq > room->seq_seen)
        room->seq_seen = seq;
    if (room->bus_last > last || seq > last || room->catching)
        catch_start(room);
}

void live_watch_remove(struct live_watch *w)
{
    struct live_room *room = w->room;
    bool other = false;

    if (w->prev)
        w->prev->next = w->next;
    else
        room->watchers = w->next;
    if (w->next)
        w->next->prev = w->prev;
    if (w->kind == LIVE_WATCH_CTP && w->conn)
        w->conn->live = NULL;
    for (struct live_watch *o = room->watchers; o && w->learner; o = o->next)
        if (o->learner && strcmp(o->user, w->user) == 0)
            other = true;
    if (w->learner && !other && !bus.stopping)
        live_presence(room->cohort, '-', w->user);
    free(w);
    room_maybe_free(room);
}

static void presence_cb(redisReply *reply, const char *err, void *priv)
{
    (void)reply;
}

void live_presence(const char *cohort, char op, const char *user)
{
    char *k1 = key_new(KEY_LIVE, cohort), *k2 = key_new(KEY_LIVE_ROOM, cohort);
    char *ch = key_new(KEY_LIVE_CHANNEL, cohort);
    char ops[2] = { op, 0 }, now[24], lease[24];

    snprintf(now, sizeof(now), "%lld", now_wall_ms());
    snprintf(lease, sizeof(lease), "%d", LIVE_ROOM_LEASE_MS);
    const char *argv[] = { k1, k2, ch, ops, user, now, lease };
    script_call(SCRIPT_LIVE_PRESENCE, presence_cb, NULL, 2, 7, argv);
    free(k1);
    free(k2);
    free(ch);
}

/* ---- delivery ---- */

static long long ev_id(json_t *ev)
{
    return (long long)json_integer_value(json_object_get(ev, "id"));
}

static bool ev_transient(json_t *ev)
{
    return json_is_true(json_object_get(ev, "trainer"));
}

/* A numbered event to every follower that has not had it. A follower that
 * would skip one gets the list read first (catch_start). */
static void deliver(struct live_room *room, json_t *ev)
{
    long long id = ev_id(ev);
    struct rendered r = { .ev = ev };

    if (id > room->bus_last)
        room->bus_last = id;
    if (room->catching) {
        if (json_array_size(room->held) < LIVE_HELD_MAX)
            json_array_append(room->held, ev);
        else
            room->catch_again = true;
        return;
    }
    for (struct live_watch *w = room->watchers; w; w = w->next)
        if (id > w->last + 1) {
            json_array_append(room->held, ev);
            catch_start(room);
            return;
        }
    for (struct live_watch *w = room->watchers; w; w = w->next) {
        if (id <= w->last)
            continue;
        w->last = id;
        send_rendered(w, &r);
    }
    rendered_clear(&r);
}

static void deliver_transient(struct live_room *room, json_t *ev)
{
    struct rendered r = { .ev = ev };

    for (struct live_watch *w = room->watchers; w; w = w->next)
        if (w->trainer)
            send_rendered(w, &r);
    rendered_clear(&r);
}

/* Brings every follower of room up to the newest event: from the list
 * (ids in order) and then from what was held meanwhile. One whose next
 * event is no longer in the list gets RESYNC and goes on from there. */
static void catch_apply(struct live_room *room, json_t *list)
{
    size_t n = json_array_size(list);
    long long first = n ? ev_id(json_array_get(list, 0)) : 0;
    long long newest = n ? ev_id(json_array_get(list, n - 1)) : room->seq_seen;

    for (struct live_watch *w = room->watchers; w; w = w->next) {
        if (room->resuming)
            live_send_notice(w, "resumed");
        size_t i;
        json_t *ev;
        /* Its next event is gone (the list was cut, or emptied by a new
         * session's START): RESYNC, and on from the newest. */
        if (w->last < newest && (n == 0 || w->last + 1 < first)) {
            w->last = newest;
            live_send_notice(w, "resync");
            continue;
        }
        json_array_foreach(list, i, ev) {
            if (ev_id(ev) <= w->last)
                continue;
            w->last = ev_id(ev);
            live_send(w, ev);
        }
    }
    room->resuming = false;
    size_t i;
    json_t *ev;
    json_array_foreach(room->held, i, ev) {
        long long id = ev_id(ev);
        struct rendered r = { .ev = ev };
        for (struct live_watch *w = room->watchers; w; w = w->next) {
            if (id <= w->last)
                continue;
            if (id > w->last + 1)
                live_send_notice(w, "resync");
            w->last = id;
            send_rendered(w, &r);
        }
        rendered_clear(&r);
    }
    json_array_clear(room->held);
}

static void catch_cb(redisReply *reply, const char *err, void *priv)
{
    struct live_room *room = priv;

    room->catching = false;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        room->catch_due = true;          /* the tick tries again */
        live_room_release(room);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < reply->elements; i++) {
        redisReply *e = reply->element[i];
        json_t *ev = e->type == REDIS_REPLY_STRING ? json_loadb(e->str, e->len, 0, NULL) : NULL;
        if (json_is_object(ev))
            json_array_append_new(list, ev);
        else
            json_decref(ev);
    }
    if (json_array_size(list)) {
        long long newest = ev_id(json_array_get(list, json_array_size(list) - 1));
        if (newest > room->bus_last)
            room->bus_last = newest;
    }
    catch_apply(room, list);
    json_decref(list);
    if (room->catch_again) {
        room->catch_again = false;
        catch_start(room);
    }
    live_room_release(room);
}

static void catch_start(struct live_room *room)
{
    if (room->catching) {
        room->catch_again = true;
        return;
    }
    char k[KEY_MAX];
    if (key_fmt(k, sizeof(k), KEY_LIVE_EVENTS, room->cohort) < 0)
        return;
    room->catching = true;
    room->catch_due = false;
    live_room_hold(room);
    if (store_command(catch_cb, room, "LRANGE %s 0 -1", k) < 0) {
        room->catching = false;
        room->catch_due = true;
        room->holds--;
    }
}

/* The cohort id of a live channel's name, into out; false if it is not one. */
static bool channel_cohort(const char *ch, size_t len, char *out, size_t n)
{
    const char *p = memchr(ch, '{', len);
    if (p == NULL || (size_t)(ch + len - p) < 4 || p[1] != 'c' || p[2] != ':')
        return false;
    p += 3;
    const char *e = memchr(p, '}', (size_t)(ch + len - p));
    if (e == NULL || e == p || (size_t)(e - p) >= n)
        return false;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return true;
}

static void pause_all(void)
{
    for (struct live_room *r = bus.rooms; r; r = r->next) {
        r->resuming = true;
        for (struct live_watch *w = r->watchers; w; w = w->next)
            live_send_notice(w, "paused");
    }
}

static void message_cb(redisAsyncContext *ac, void *reply_, void *priv)
{
    redisReply *reply = reply_;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
        return;
    redisReply *kind = reply->element[0];
    if (kind->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(kind->str, "psubscribe") == 0) {
        if (!bus.up)
            log_info("live: subscribed to the live channels");
        bus.up = true;
        /* Whatever happened while the link was down is read back. */
        for (struct live_room *r = bus.rooms; r; r = r->next)
            if (r->watchers)
                catch_start(r);
        return;
    }
    if (strcmp(kind->str, "pmessage") != 0 || reply->elements < 4)
        return;
    redisReply *ch = reply->element[2], *payload = reply->element[3];
    char cohort[LIVE_COHORT_MAX];
    if (ch->type != REDIS_REPLY_STRING || payload->type != REDIS_REPLY_STRING ||
        !channel_cohort(ch->str, ch->len, cohort, sizeof(cohort)))
        return;
    struct live_room *room = room_find(cohort);
    if (room == NULL)
        return;                          /* nobody here follows it */
    json_t *ev = json_loadb(payload->str, payload->len, 0, NULL);
    if (!json_is_object(ev)) {
        log_warn("live: a malformed event on %.*s", (int)ch->len, ch->str);
        json_decref(ev);
        return;
    }
    if (ev_transient(ev))
        deliver_transient(room, ev);
    else
        deliver(room, ev);
    json_decref(ev);
}

/* ---- the link ---- */

static void bus_lost(void)
{
    bool was = bus.up;

    bus.ac = NULL;
    bus.up = false;
    if (was && !bus.stopping) {
        log_warn("live: lost the subscriber link; live sessions paused");
        pause_all();
    }
}

static void connect_cb(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        log_warn("live: cannot connect the subscriber: %s", ac->errstr);
        bus.ac = NULL;                   /* hiredis frees it */
    }
}

static void disconnect_cb(const redisAsyncContext *ac, int status)
{
    bus_lost();
}

static void bus_connect(void)
{
    redisAsyncContext *ac = store_connect_async("live");

    if (ac == NULL)
        return;
    bus.ac = ac;
    redisLibeventAttach(ac, bus.base);
    redisAsyncSetConnectCallback(ac, connect_cb);
    redisAsyncSetDisconnectCallback(ac, disconnect_cb);
    if (redisAsyncCommand(ac, message_cb, NULL, "PSUBSCRIBE %s", KEY_LIVE_CHANNEL_MATCH) != REDIS_OK)
        log_warn("live: PSUBSCRIBE could not be sent");
}

static void bus_drop(void)
{
    redisAsyncContext *ac = bus.ac;

    if (ac == NULL)
        return;
    redisAsyncFree(ac);                  /* calls disconnect_cb once connected */
    bus_lost();
}

/* Every learner followed here has its lease in the room renewed. */
static void refresh_leases(void)
{
    long long until = now_wall_ms() + LIVE_ROOM_LEASE_MS;
    char score[24];

    snprintf(score, sizeof(score), "%lld", until);
    for (struct live_room *r = bus.rooms; r; r = r->next) {
        int n = 0;
        for (struct live_watch *w = r->watchers; w; w = w->next)
            n += w->learner;
        if (n == 0)
            continue;
        const char **argv = xcalloc((size_t)(2 + 2 * n), sizeof(*argv));
        char *k = key_new(KEY_LIVE_ROOM, r->cohort);
        int c = 0;
        argv[c++] = "ZADD";
        argv[c++] = k;
        for (struct live_watch *w = r->watchers; w; w = w->next)
            if (w->learner) {
                argv[c++] = score;
                argv[c++] = w->user;
            }
        store_command_argv(presence_cb, NULL, c, argv, NULL);
        free(k);
        free(argv);
    }
}

void live_bus_tick(void)
{
    bus.ticks++;
    if (store_state() == STORE_DOWN) {
        /* The store is the judge of Redis being there: a stopped Redis
         * still holds the subscriber's socket open. */
        if (bus.ac)
            bus_drop();
        return;
    }
    if (bus.ac == NULL)
        bus_connect();
    if (store_state() != STORE_UP)
        return;
    for (struct live_room *r = bus.rooms; r; r = r->next)
        if (r->catch_due && bus.up)
            catch_start(r);
    if (bus.ticks % LIVE_ROOM_REFRESH_S == 0)
        refresh_leases();
}

void live_bus_start(struct event_base *base)
{
    memset(&bus, 0, sizeof(bus));
    bus.base = base;
    bus_connect();
}

void live_bus_stop(void)
{
    bus.stopping = true;
    if (bus.ac) {
        redisAsyncFree(bus.ac);
        bus.ac = NULL;
    }
    bus.up = false;
}
