/* conn.c: one CTP/1 connection: buffers, the request queue that keeps
 * answers in order, limits, timeouts and deferred free.
 *
 * The state machine (enum conn_state in campusd.h; every change goes
 * through conn_set_state):
 *
 *   accept --> READING <------- answered (conn_hold false) ------- HELD
 *               |  ^  \------- a write or LOGIN-like request -----> ^
 *     in flight |  | drained     (conn_hold true)
 *   or output   v  | (try_resume)
 *   too high   PAUSED
 *
 *   READING --STARTTLS answered--> STARTTLS --output out, TLS on--> READING
 *   READING --COMPRESS answered--> READING, the deflate filter put in front
 *       once the answer is queued (compress_pending until then)
 *   READING, HELD, PAUSED, STARTTLS --fatal error, QUIT, timeout, end of
 *       a shutdown drain--> CLOSING --output flushed--> CLOSED
 *   any --EOF, socket error, output cap, shutdown--> CLOSED
 *
 * CLOSED frees the socket; the struct stays until the last request still
 * waiting on Redis lets go (refs). Beside the state: upgraded (a fact),
 * processing (a nesting count), write_off (the write event's setting), and
 * the server-wide drain, during which nothing more is read.
 *
 * An idle connection holds no buffer of its own: the parser's line buffer
 * is released when a batch ends with nothing partial, the events for
 * resuming and for the request deadline are made when first needed, the
 * buffer of pushes held behind answers goes once they are written, and
 * libevent frees drained buffer chains. */
#include "campusd.h"

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Reading pauses while more than OUT_HIGH bytes wait for a slow reader and
 * resumes once they drain below OUT_LOW. output_max is the hard cap. */
#define OUT_HIGH (256 * 1024)
#define OUT_LOW  (64 * 1024)
/* Bounds on what one wake-up reads (beyond libevent's own 4 KiB) and writes. */
#define CONN_READ_MAX  (256 * 1024)
#define CONN_WRITE_MAX (256 * 1024)
/* libevent 2.1 reads at most this much per wake-up: a fuller buffer means
 * the socket may hold more (read_more). */
#define CONN_READ_LIBEVENT 4096
/* One slice of read_more's readv. */
#define CONN_READ_SLICE (64 * 1024)

static struct conn *conns;
static size_t nconns;
static uint64_t next_id;

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_process(struct conn *c);

size_t conn_count(void)
{
    return nconns;
}

/* The one place a connection's state changes. A closed connection never
 * opens again. */
static void conn_set_state(struct conn *c, enum conn_state s)
{
    if (c->state == CONN_CLOSED && s != CONN_CLOSED)
        fatal("conn %llu: state %d after CLOSED", (unsigned long long)c->id, (int)s);
    c->state = s;
}

static void conn_free(struct conn *c)
{
    proto_reset(&c->parser);
    if (c->push_wait)
        evbuffer_free(c->push_wait);
    if (c->resume_ev)
        event_free(c->resume_ev);
    if (c->deadline_ev)
        event_free(c->deadline_ev);
    free(c->user);
    free(c);
}

static void conn_unref(struct conn *c)
{
    if (--c->refs == 0)
        conn_free(c);
}

static void setup_bev(struct conn *c)
{
    struct timeval idle = { cfg.idle_timeout, 0 };

    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    bufferevent_set_timeouts(c->bev, &idle, &idle);
    /* libevent writes at most 16 KiB per wake-up by default: one answer
     * with a 16 KiB body would take two. */
    bufferevent_set_max_single_write(c->bev, CONN_WRITE_MAX);
    c->write_off = false;
    bufferevent_setwatermark(c->bev, EV_WRITE, OUT_LOW, 0);
    bufferevent_enable(c->bev, server.draining ? EV_WRITE : EV_READ | EV_WRITE);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_process(arg);
}

/* Parses what is buffered in a later turn of the loop. */
static void conn_wake(struct conn *c)
{
    if (c->state == CONN_CLOSED)
        return;
    if (c->resume_ev == NULL)
        c->resume_ev = event_new(bufferevent_get_base(c->bev), -1, 0, resume_cb, c);
    event_active(c->resume_ev, 0, 0);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg);

struct conn *conn_new(struct event_base *base, int fd, const char *addr, SSL *ssl)
{
    struct conn *c = xcalloc(1, sizeof(*c));

    c->id = ++next_id;
    c->fd = fd;
    c->refs = 1;                 /* the socket's own reference */
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    proto_init(&c->parser, (size_t)cfg.line_max, (size_t)cfg.literal_max);
    if (ssl) {
        c->bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        c->tls = true;
    } else {
        c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    }
    if (c->bev == NULL)
        fatal("bufferevent_socket_new failed");
    setup_bev(c);

    c->next = conns;
    if (conns)
        conns->prev = c;
    conns = c;
    nconns++;
    stats.conns_current++;
    stats.conns_total++;

    struct evbuffer *out = bufferevent_get_output(c->bev);
    reply_status_line(out, 200, "campusd CTP/1 ready");
    return c;
}

static void unlink_conn(struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    nconns--;
    stats.conns_current--;
}

void conn_close(struct conn *c, const char *why)
{
    if (c->state == CONN_CLOSED)
        return;
    log_debug("conn %llu (%s) closed: %s", (unsigned long long)c->id, c->addr, why);
    conn_set_state(c, CONN_CLOSED);
    if (c->live)
        live_conn_closed(c);     /* it leaves the room it was in */
    if (c->z)
        compress_forget(c->z);
    bufferevent_free(c->bev);
    c->bev = NULL;
    if (c->resume_ev)
        event_del(c->resume_ev);
    if (c->deadline_ev)
        event_del(c->deadline_ev);
    unlink_conn(c);
    server_release_addr(c->addr);

    /* Requests still waiting on Redis keep the struct alive: each holds a
     * reference and lets go in conn_req_done. Finished ones go now. */
    struct req **pp = &c->head;
    while (*pp) {
        struct req *r = *pp;
        if (r->done) {
            *pp = r->next;
            req_free(r);
            c->inflight--;
            conn_unref(c);       /* never the last: the socket's is still held */
        } else {
            pp = &r->next;
        }
    }
    c->tail = NULL;
    for (struct req *r = c->head; r; r = r->next)
        c->tail = r;
    conn_unref(c);
}

/* Closes once every queued answer has been written. */
static void close_when_flushed(struct conn *c)
{
    if (c->head == NULL && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 &&
        (c->z == NULL || compress_idle(c->z)))
        conn_close(c, "done");
}

void conn_close_after_reply(struct conn *c)
{
    if (c->state == CONN_CLOSED || c->state == CONN_CLOSING)
        return;
    conn_set_state(c, CONN_CLOSING);
    bufferevent_disable(c->bev, EV_READ);
    evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    if (c->deadline_ev)
        event_del(c->deadline_ev);
}

static void try_resume(struct conn *c)
{
    if (c->state != CONN_PAUSED)
        return;
    if (c->inflight >= cfg.inflight_max ||
        evbuffer_get_length(bufferevent_get_output(c->bev)) > OUT_HIGH)
        return;
    conn_set_state(c, CONN_READING);
    if (!server.draining)
        bufferevent_enable(c->bev, EV_READ);
    conn_wake(c);                       /* input may already be buffered */
}

/* During shutdown a connection closes once everything it had sent us before
 * the signal is answered. */
static void conn_drain_check(struct conn *c)
{
    if (!server.draining || (c->state != CONN_READING && c->state != CONN_PAUSED))
        return;
    if (c->head != NULL)
        return;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    if (evbuffer_get_length(in) > 0 && !proto_partial(&c->parser) && c->state == CONN_READING)
        return;                  /* conn_process has more to parse */
    conn_close_after_reply(c);
    close_when_flushed(c);
}

static void start_tls_upgrade(struct conn *c);
static void start_compress(struct conn *c);

/* Plain sockets: the answers of a batch are written at its end, in the same
 * loop iteration, instead of one iteration later when epoll says the socket
 * is writable. EV_WRITE goes on when answers are queued and off again here,
 * so with the epoll changelist it costs no system call. What does not fit
 * in the socket stays queued and the bufferevent writes it (with its write
 * timeout for a client that stopped reading). Errors are left for the
 * bufferevent to find. */
static void write_now(struct conn *c)
{
    if (c->tls || c->z || c->state == CONN_CLOSED)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) == 0)
        return;
    evbuffer_unfreeze(out, 1);
    evbuffer_write(out, c->fd);
    evbuffer_freeze(out, 1);
    if (evbuffer_get_length(out) == 0) {
        bufferevent_disable(c->bev, EV_WRITE);
        c->write_off = true;
    }
}

/* What may follow once output has gone out: a close, the TLS upgrade, more
 * reading. */
static void push_drain_check(struct conn *c);

static void output_progress(struct conn *c)
{
    if (c->state == CONN_CLOSED)
        return;
    push_drain_check(c);
    if (c->state == CONN_CLOSING)
        close_when_flushed(c);
    else if (c->state == CONN_STARTTLS && c->head == NULL &&
             evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        start_tls_upgrade(c);
    else {
        try_resume(c);
        conn_drain_check(c);
    }
}

/* Writes every finished answer at the head of the queue, in order. */
static void conn_flush(struct conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);

    if (c->write_off && c->head && c->head->done) {
        bufferevent_enable(c->bev, EV_WRITE);
        c->write_off = false;
    }
    while (c->head && c->head->done) {
        struct req *r = c->head;
        c->head = r->next;
        if (c->head == NULL)
            c->tail = NULL;
        size_t before = evbuffer_get_length(out);
        reply_render_ctp(&r->reply, out);
        stats.bytes_out += evbuffer_get_length(out) - before;
        req_free(r);
        c->inflight--;
        c->refs--;               /* never the last: the socket's is held until conn_close */
    }
    /* COMPRESS's answer went out in the clear; what follows is deflated,
     * the held pushes included, so the output buffer is the filter's. */
    if (c->compress_pending && c->head == NULL) {
        start_compress(c);
        if (c->state == CONN_CLOSED)
            return;
        out = bufferevent_get_output(c->bev);
    }
    /* Pushes held while answers were due go out once the last is written. */
    if (c->head == NULL && c->push_wait && evbuffer_get_length(c->push_wait) > 0) {
        stats.bytes_out += evbuffer_get_length(c->push_wait);
        evbuffer_add_buffer(out, c->push_wait);
        evbuffer_free(c->push_wait);         /* made again by the next held push */
        c->push_wait = NULL;
    }
    if (evbuffer_get_length(out) > (size_t)cfg.output_max) {
        log_warn("conn %llu (%s): output over %ld bytes, closing slow reader",
                 (unsigned long long)c->id, c->addr, cfg.output_max);
        conn_close(c, "output cap");
        return;
    }
    if (c->processing == 0)
        write_now(c);
    output_progress(c);
}

void conn_req_done(struct req *req)
{
    struct conn *c = req->conn;

    if (req->holds) {
        req->holds = false;
        conn_hold(c, false);     /* a no-op on a closed connection */
    }
    if (c->state == CONN_CLOSED) {
        /* Nobody to answer: drop finished requests from the head; the
         * others still hold their references. */
        while (c->head && c->head->done) {
            struct req *r = c->head;
            c->head = r->next;
            req_free(r);
            c->inflight--;
            bool last = c->refs == 1;
            conn_unref(c);
            if (last)
                return;
        }
        return;
    }
    conn_flush(c);
}

/* While held, the socket is not read either, so a client cannot pile up
 * input behind a LOGIN that waits for its hash. A hold asked for twice is
 * one hold; the first release ends it. Back in READING, the limits are
 * checked again before anything is parsed (conn_process pauses if need be). */
void conn_hold(struct conn *c, bool hold)
{
    if (hold && (c->state == CONN_READING || c->state == CONN_PAUSED)) {
        conn_set_state(c, CONN_HELD);
        bufferevent_disable(c->bev, EV_READ);
    } else if (!hold && c->state == CONN_HELD) {
        conn_set_state(c, CONN_READING);
        if (!server.draining)
            bufferevent_enable(c->bev, EV_READ);
        conn_wake(c);
    }
}

static struct req *enqueue(struct conn *c)
{
    struct req *r = xcalloc(1, sizeof(*r));

    r->origin = REQ_CTP;
    r->conn = c;
    r->role = c->role;
    r->user = c->user ? xstrdup(c->user) : NULL;
    if (c->user) {
        r->session = REQ_SESSION_UNCHECKED;
        snprintf(r->session_hash, sizeof(r->session_hash), "%s", c->session);
        r->session_created = c->session_created;
        snprintf(r->lang_account, sizeof(r->lang_account), "%s", c->lang);
    }
    r->on_done = conn_req_done;
    r->started = now_mono();
    reply_init(&r->reply);
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->inflight++;
    c->refs++;                   /* released when the request is freed */
    return r;
}

/* A protocol error takes its place in the queue like any answer. */
static void push_error(struct conn *c, int code, const char *msg)
{
    struct req *r = enqueue(c);
    req_reply(r, code, "%s", msg);
}

static void update_deadline(struct conn *c)
{
    if (c->state == CONN_CLOSED)
        return;
    if (proto_partial(&c->parser)) {
        if (!c->deadline_armed) {
            struct timeval tv = { cfg.request_timeout, 0 };
            if (c->deadline_ev == NULL)
                c->deadline_ev = evtimer_new(bufferevent_get_base(c->bev), deadline_cb, c);
            evtimer_add(c->deadline_ev, &tv);
            c->deadline_armed = true;
        }
    } else if (c->deadline_armed) {
        evtimer_del(c->deadline_ev);
        c->deadline_armed = false;
    }
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    c->deadline_armed = false;
    if (c->state == CONN_CLOSED || c->state == CONN_CLOSING)
        return;
    push_error(c, 408, "request not completed in time, closing");
    conn_close_after_reply(c);
    conn_flush(c);
}

/* Parses and dispatches buffered requests: at most reqs_per_event per call,
 * so one client pipelining without pause cannot starve the others. */
static void conn_process(struct conn *c)
{
    long handled = 0;
    bool yielded = false;

    if (c->state == CONN_CLOSED)
        return;
    c->refs++;                   /* a handler may close the connection */
    c->processing++;
    /* HELD ends the loop too: see conn_hold, resumed when released. */
    while (c->state == CONN_READING) {
        /* looked up each time: COMPRESS puts a filter in front of it */
        struct evbuffer *in = bufferevent_get_input(c->bev);
        if (c->inflight >= cfg.inflight_max ||
            evbuffer_get_length(bufferevent_get_output(c->bev)) > OUT_HIGH) {
            conn_set_state(c, CONN_PAUSED);
            bufferevent_disable(c->bev, EV_READ);
            break;
        }
        if (handled >= cfg.reqs_per_event) {
            conn_wake(c);
            yielded = true;
            break;
        }
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            break;
        size_t used = 0;
        struct proto_req pr;
        enum proto_result res = proto_feed(&c->parser, v.iov_base, v.iov_len, &used, &pr);
        evbuffer_drain(in, used);
        stats.bytes_in += used;
        if (res == PROTO_MORE)
            continue;
        handled++;
        if (res == PROTO_ERROR) {
            if (c->parser.err_http) {
                conn_close(c, "HTTP request on the text port");
                break;
            }
            push_error(c, c->parser.err_code, c->parser.err_msg);
            if (c->parser.err_fatal) {
                conn_close_after_reply(c);
                conn_flush(c);
                break;
            }
            continue;
        }
        struct req *r = enqueue(c);
        r->args = pr;
        /* Answers always come back in order; effects must too. A write
         * (REGISTER, DONE, SUBMIT, ...) holds the connection until it is
         * answered, so a request behind it sees what it did. Set before the
         * dispatch: r may be answered, and freed, inside it. */
        const struct cmd *cmd = cmd_lookup(pr.argv[0], pr.argl[0]);
        r->cmd = cmd;            /* cmd_dispatch does not look it up again */
        if (cmd && (cmd->flags & CMD_WRITE)) {
            r->holds = true;
            conn_hold(c, true);
        }
        /* A logged-in connection's session is checked before each request
         * that acts as the user: revocation and role changes made anywhere
         * take effect here at once (session.c). */
        if (r->session == REQ_SESSION_UNCHECKED && cmd_acts_as_user(cmd))
            session_check(r);
        else
            cmd_dispatch(r);
    }
    c->processing--;
    update_deadline(c);
    /* Idle, nothing partial: the line buffer goes; the next line makes it. */
    if (c->state != CONN_CLOSED && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
        proto_release(&c->parser);
    if (c->state != CONN_CLOSED && c->processing == 0) {
        write_now(c);
        if (!yielded)
            output_progress(c);
        else if (c->state == CONN_CLOSING)
            close_when_flushed(c);
    }
    conn_unref(c);
}

/* libevent 2.1 reads at most 4 KiB per wake-up (and asks FIONREAD first),
 * so a 16 KiB literal would take four trips round the loop. When a read
 * came back full, read what else the socket holds now, up to a bound, in
 * large slices. Plain sockets only: TLS goes through its bufferevent. EOF
 * and errors are left for the bufferevent to find on its next read. */
static void read_more(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t total = 0;

    if (c->tls || c->z || evbuffer_get_length(in) < CONN_READ_LIBEVENT)
        return;
    evbuffer_unfreeze(in, 0);
    while (total < CONN_READ_MAX) {
        struct evbuffer_iovec v[2];
        int nv = evbuffer_reserve_space(in, CONN_READ_SLICE, v, 2);
        if (nv <= 0)
            break;
        ssize_t n = readv(c->fd, (struct iovec *)v, nv);
        if (n <= 0) {
            evbuffer_commit_space(in, v, 0);    /* nothing read: give it back */
            break;
        }
        size_t left = (size_t)n;
        for (int i = 0; i < nv; i++) {
            if (v[i].iov_len > left)
                v[i].iov_len = left;
            left -= v[i].iov_len;
        }
        evbuffer_commit_space(in, v, nv);
        total += (size_t)n;
        if ((size_t)n < CONN_READ_SLICE)
            break;               /* the socket is drained */
    }
    evbuffer_freeze(in, 0);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    read_more(c);
    conn_process(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    push_drain_check(c);
    if (c->state == CONN_CLOSED)
        return;
    if (c->state == CONN_CLOSING)
        close_when_flushed(c);
    else if (c->state == CONN_STARTTLS)
        conn_flush(c);
    else
        try_resume(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    if (what & BEV_EVENT_TIMEOUT) {
        if ((what & BEV_EVENT_WRITING) || c->state == CONN_CLOSING) {
            conn_close(c, "write timeout: the client is not reading");
            return;
        }
        if (c->inflight > 0) {       /* waiting on us, not idle */
            if (c->state == CONN_READING && !server.draining)
                bufferevent_enable(bev, EV_READ);
            return;
        }
        push_error(c, 408, "idle timeout, closing");
        conn_close_after_reply(c);
        conn_flush(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (c->tls && (what & BEV_EVENT_ERROR)) {
            unsigned long e;
            while ((e = bufferevent_get_openssl_error(bev)))
                log_debug("conn %llu: TLS: %s", (unsigned long long)c->id,
                          ERR_reason_error_string(e));
        }
        conn_close(c, what & BEV_EVENT_EOF ? "client closed" : "socket error");
    }
}

/* ---- server push ----
 * A push line is never written inside an answer: answers are rendered
 * whole into the output buffer, so anything appended between two of them
 * is between them. While answers are still due, pushes wait in push_wait
 * and follow the last of them (so the answer to LIVE JOIN comes before the
 * first push it brings). What waits for a slow reader is bounded by
 * live_output_max: past it, pushes are dropped until the output drains
 * below OUT_LOW, and then the live code is told (live_conn_drained) so it
 * can send one RESYNC in place of all it dropped. */

static size_t push_queued(const struct conn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev)) +
           (c->push_wait ? evbuffer_get_length(c->push_wait) : 0);
}

int conn_push(struct conn *c, const void *data, size_t len)
{
    if (!c->push_ok || c->state == CONN_CLOSED || c->state == CONN_CLOSING ||
        c->state == CONN_STARTTLS)
        return -1;               /* never to a connection that did not ask */
    if (c->push_dropped || push_queued(c) + len > (size_t)cfg.live_output_max) {
        if (!c->push_dropped)
            log_debug("conn %llu (%s): dropping pushes over live_output_max until it drains",
                      (unsigned long long)c->id, c->addr);
        c->push_dropped = true;
        return -1;
    }
    if (c->head) {
        if (c->push_wait == NULL)
            c->push_wait = evbuffer_new();
        evbuffer_add(c->push_wait, data, len);
        return 0;
    }
    if (c->write_off) {
        bufferevent_enable(c->bev, EV_WRITE);
        c->write_off = false;
    }
    evbuffer_add(bufferevent_get_output(c->bev), data, len);
    stats.bytes_out += len;
    if (c->processing == 0)
        write_now(c);
    return 0;
}

static void push_drain_check(struct conn *c)
{
    if (!c->push_dropped || c->state == CONN_CLOSED || push_queued(c) > OUT_LOW)
        return;
    c->push_dropped = false;
    if (c->live)
        live_conn_drained(c);
}

/* STARTTLS: called by the handler after it queued its answer. Input that
 * was pipelined behind STARTTLS was sent in the clear before the client saw
 * our answer: it is dropped, never executed (RFC 3207, section 4.2). */
void conn_begin_starttls(struct conn *c)
{
    conn_set_state(c, CONN_STARTTLS);
    bufferevent_disable(c->bev, EV_READ);
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

static void start_tls_upgrade(struct conn *c)
{
    SSL *ssl = SSL_new(server.ssl_ctx);
    if (ssl == NULL) {
        conn_close(c, "SSL_new failed");
        return;
    }
    struct bufferevent *tls = bufferevent_openssl_filter_new(
        server.base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (tls == NULL) {
        SSL_free(ssl);
        conn_close(c, "TLS filter failed");
        return;
    }
    c->bev = tls;
    c->tls = true;
    c->upgraded = true;
    conn_set_state(c, CONN_READING);
    proto_reset(&c->parser);
    setup_bev(c);
}

/* ---- COMPRESS DEFLATE (compress.c does the work) ---- */

/* The client's stream is corrupt or a bomb: its last answer says so, and
 * the connection closes. */
static void compress_failed(void *arg, int code, const char *why)
{
    struct conn *c = arg;
    char msg[128];

    if (c->state == CONN_CLOSED || c->state == CONN_CLOSING)
        return;
    log_warn("conn %llu (%s): %s, closing", (unsigned long long)c->id, c->addr, why);
    snprintf(msg, sizeof(msg), "%s, closing", why);
    push_error(c, code, msg);
    conn_close_after_reply(c);
    conn_flush(c);
}

static void compress_drained(void *arg)
{
    struct conn *c = arg;
    write_cb(c->bev, c);
}

/* Parsing held since the COMPRESS request; its answer is now queued, in
 * the clear, in front of everything the filter will write. */
void conn_begin_compress(struct conn *c)
{
    c->compress_pending = true;
    conn_hold(c, true);
}

static void start_compress(struct conn *c)
{
    struct compress *z;
    struct bufferevent *f = compress_new(c->bev, compress_failed, compress_drained, c, &z);

    c->compress_pending = false;
    if (f == NULL) {
        conn_close(c, "compression failed to start");
        return;
    }
    c->bev = f;
    c->z = z;
    setup_bev(c);
    compress_start_input(z);
    conn_hold(c, false);
}

void conn_drain_all(void)
{
    struct conn *c = conns, *next;

    for (; c; c = next) {
        next = c->next;
        /* server.draining is set: what is buffered is still answered. */
        if (c->state == CONN_READING || c->state == CONN_PAUSED || c->state == CONN_HELD) {
            bufferevent_disable(c->bev, EV_READ);
            conn_wake(c);
        }
    }
}

void conn_close_all(void)
{
    while (conns)
        conn_close(conns, "shutdown");
}
