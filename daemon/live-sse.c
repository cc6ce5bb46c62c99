/* live-sse.c: /api/live/{cohort}/events: a cohort's live events as
 * Server-Sent Events, each with its id, so that a browser's EventSource
 * resumes with Last-Event-ID after a drop and is replayed what it missed
 * (live-bus.c reads it back from the cohort's event list, or sends
 * "resync" when that is gone).
 *
 * A stream is one chunked evhttp answer kept open. Its connection is
 * closed when the stream ends (the answer says Connection: close), so no
 * keep-alive state outlives it. evhttp's read timeout would cut a quiet
 * stream after http_timeout, so the stream's socket has none (the browser
 * sends nothing more); its write timeout stays: a client that stops
 * reading while events wait is closed. What waits for it is bounded by
 * live_output_max, past which events are dropped for one "resync". */
#include "live.h"

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>

struct live_sse {
    struct evhttp_request *r;
    struct evhttp_connection *evcon;
    struct live_watch *w;
    struct event *max_age;       /* ends the stream after live_sse_max_age */
    struct live_sse *prev, *next;
};

static struct live_sse *streams;
static struct event *heartbeat;

static struct evbuffer *sse_output(struct live_sse *s)
{
    return bufferevent_get_output(evhttp_connection_get_bufferevent(s->evcon));
}

static void sse_unlink(struct live_sse *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->w)
        live_watch_remove(s->w);
    event_free(s->max_age);
    free(s);
    if (streams == NULL && heartbeat) {
        event_free(heartbeat);
        heartbeat = NULL;
    }
}

/* The connection is going. When the client went away mid-answer, evhttp
 * has already taken the request off it and left it to us: ending the
 * answer then frees it (libevent 2.1). When evhttp itself is shutting
 * down, the request is still on the connection, which frees it. */
static void sse_closed(struct evhttp_connection *evcon, void *arg)
{
    struct live_sse *s = arg;
    struct evhttp_request *r = s->r;

    sse_unlink(s);
    if (evhttp_request_get_connection(r) == NULL)
        evhttp_send_reply_end(r);
}

/* The server ends the stream: the last chunk, then evhttp closes the
 * connection (Connection: close). */
static void sse_end(struct live_sse *s)
{
    evhttp_connection_set_closecb(s->evcon, NULL, NULL);
    evhttp_send_reply_end(s->r);
    sse_unlink(s);
}

int live_sse_write(struct live_sse *s, const void *data, size_t len)
{
    if (evbuffer_get_length(sse_output(s)) + len > (size_t)cfg.live_output_max)
        return -1;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, data, len);
    evhttp_send_reply_chunk(s->r, b);
    evbuffer_free(b);
    return 0;
}

static void max_age_cb(evutil_socket_t fd, short what, void *arg)
{
    sse_end(arg);
}

/* A comment line on every stream keeps proxies from timing it out and
 * finds dead peers; a stream that had events dropped and has drained gets
 * its one "resync". */
static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
    for (struct live_sse *s = streams, *next; s; s = next) {
        next = s->next;
        if (s->w->resync_due && evbuffer_get_length(sse_output(s)) < (size_t)cfg.live_output_max / 4) {
            s->w->resync_due = false;
            live_send_notice(s->w, "resync");
        } else {
            live_sse_write(s, ":\n\n", 3);
        }
    }
}

/* Last-Event-ID as a number, or -1 when absent or not one. */
static long long last_event_id(struct evhttp_request *r)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(r), "Last-Event-ID");
    long long id;

    if (v == NULL || arg_parse_ll(v, strlen(v), 0, (1LL << 53), &id) < 0)
        return -1;
    return id;
}

void live_sse_begin(struct evhttp_request *r, const char *cohort, const char *user, bool trainer,
                    bool learner, long long seq, const char *session)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r);
    struct live_sse *s = xcalloc(1, sizeof(*s));
    long long last = last_event_id(r);
    bool too_new = last > seq;

    evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Accel-Buffering", "no");
    evhttp_add_header(h, "Connection", "close");
    s->r = r;
    s->evcon = evhttp_request_get_connection(r);
    evhttp_send_reply_start(r, 200, "OK");
    struct timeval wto = { cfg.http_timeout, 0 };
    bufferevent_set_timeouts(evhttp_connection_get_bufferevent(s->evcon), NULL, &wto);
    evhttp_connection_set_closecb(s->evcon, sse_closed, s);

    s->next = streams;
    if (streams)
        streams->prev = s;
    streams = s;
    s->max_age = evtimer_new(server.base, max_age_cb, s);
    struct timeval age = { cfg.live_sse_max_age, 0 };
    evtimer_add(s->max_age, &age);
    if (heartbeat == NULL) {
        heartbeat = event_new(server.base, -1, EV_PERSIST, heartbeat_cb, NULL);
        struct timeval hb = { LIVE_SSE_HEARTBEAT_S, 0 };
        event_add(heartbeat, &hb);
    }
    /* A reconnecting browser is told to come back within a second. */
    live_sse_write(s, "retry: 1000\n\n", 13);

    struct live_watch *w = xcalloc(1, sizeof(*w));
    w->kind = LIVE_WATCH_SSE;
    w->sse = s;
    snprintf(w->user, sizeof(w->user), "%s", user);
    w->trainer = trainer;
    w->learner = learner;
    s->w = w;
    live_watch_add(w, live_room_get(cohort), last < 0 || too_new ? seq : last, seq);
    if (too_new)
        live_send_notice(w, "resync");   /* an id from before a reset of the store */
    if (!live_bus_up())
        live_send_notice(w, "paused");
    if (learner && session[0])
        live_presence(cohort, '+', user);
}

void live_sse_stop(void)
{
    while (streams)
        sse_end(streams);
}
