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
 * processing (a nesting count), and the server-wide drain, during which
 * nothing more is read.
 *
 * Two ways to move bytes. A plain connection (c->raw), as memcached's are,
 * has one persistent read event on its socket and reads up to
 * CONN_RBUF_SIZE at a time straight into a buffer it takes when bytes
 * arrive and gives back once they are parsed (the parser keeps what is
 * partial); its answers go out at the end of a batch, in one writev of the
 * output buffer, a pre-built body by reference and a cached READ answer by
 * sendfile from its file (answer-file.c), and the write event is
 * added only while the socket will not take more. TLS (from the first
 * byte, or after STARTTLS) and COMPRESS run on bufferevents: the OpenSSL
 * one, and compress.c's filter over a socket bufferevent made when
 * COMPRESS is answered.
 *
 * An idle connection holds no buffer of its own: the input buffer and the
 * parser's line buffer are released when a batch ends with nothing
 * partial, the output buffer once it is written, the events for writing,
 * for resuming and for the request deadline are made when first needed,
 * the buffer of pushes held behind answers goes once they are written, and
 * (on bufferevents) libevent frees drained buffer chains. */
#include "campusd.h"

#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Reading pauses while more than OUT_HIGH bytes wait for a slow reader and
 * resumes once they drain below OUT_LOW. output_max is the hard cap. */
#define OUT_HIGH (256 * 1024)
#define OUT_LOW  (64 * 1024)
/* Bound on what one wake-up writes. */
#define CONN_WRITE_MAX (256 * 1024)
/* A plain connection's input buffer, and so the most one read takes: a
 * 16 KiB literal and its request line arrive in one read (libevent's
 * bufferevents read 4 KiB a wake-up, after an ioctl to ask how much). */
#define CONN_RBUF_SIZE (64 * 1024)
/* Bound on what one wake-up reads, in reads of up to CONN_RBUF_SIZE. */
#define CONN_READ_MAX (256 * 1024)

static struct conn *conns;
static size_t nconns;
static uint64_t next_id;
static struct event_base *conn_base;
/* One input buffer given back by a connection, for the next that needs
 * one: most wake-ups parse all they read, so one buffer serves them all. */
static char *rbuf_spare;
/* The same for output buffers, emptied by a write that took them whole. */
static struct evbuffer *out_spare;

/* An empty output buffer given back (kept as the spare, or freed). */
static void out_give_back(struct evbuffer *b)
{
    if (out_spare == NULL && evbuffer_get_length(b) == 0)
        out_spare = b;
    else
        evbuffer_free(b);
}

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void raw_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_process(struct conn *c);
static void conn_written(struct conn *c);

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

/* ---- the plain connection's buffers and events ---- */

/* The idle timeout as one of libevent's common timeouts: every plain
 * connection's read and write events share one queue instead of each
 * taking a place in the timer heap that a wake-up moves. Made again when a
 * reload changes the setting. */
static const struct timeval *idle_tv(void)
{
    static const struct timeval *common;
    static long common_for;

    if (common == NULL || common_for != cfg.idle_timeout) {
        struct timeval tv = { cfg.idle_timeout, 0 };
        common = event_base_init_common_timeout(conn_base, &tv);
        common_for = cfg.idle_timeout;
    }
    return common;
}

static void in_take(struct conn *c)
{
    if (c->in)
        return;
    c->in = rbuf_spare ? rbuf_spare : xmalloc(CONN_RBUF_SIZE);
    rbuf_spare = NULL;
    c->in_off = c->in_len = 0;
}

static void in_release(struct conn *c)
{
    if (c->in == NULL)
        return;
    if (rbuf_spare == NULL)
        rbuf_spare = c->in;
    else
        free(c->in);
    c->in = NULL;
    c->in_off = c->in_len = 0;
}

/* The output buffer: the bufferevent's, or the plain connection's own,
 * made when an answer is queued. */
static struct evbuffer *conn_out(struct conn *c)
{
    if (!c->raw)
        return bufferevent_get_output(c->bev);
    if (c->out == NULL) {
        if (out_spare == NULL) {
            out_spare = evbuffer_new();
            /* raw_send writes it with evbuffer_write: file segments go by sendfile */
            evbuffer_set_flags(out_spare, EVBUFFER_FLAG_DRAINS_TO_FD);
        }
        c->out = out_spare;
        out_spare = NULL;
    }
    return c->out;
}

static size_t out_len(const struct conn *c)
{
    if (c->bev)
        return evbuffer_get_length(bufferevent_get_output(c->bev));
    return c->out ? evbuffer_get_length(c->out) : 0;
}

/* The unparsed input, one contiguous piece at a time. */
static bool in_peek(struct conn *c, const char **p, size_t *n)
{
    if (c->raw) {
        if (c->in == NULL || c->in_off >= c->in_len)
            return false;
        *p = c->in + c->in_off;
        *n = c->in_len - c->in_off;
        return true;
    }
    struct evbuffer_iovec v;
    if (evbuffer_peek(bufferevent_get_input(c->bev), -1, NULL, &v, 1) < 1 || v.iov_len == 0)
        return false;
    *p = v.iov_base;
    *n = v.iov_len;
    return true;
}

static void in_drain(struct conn *c, size_t n)
{
    if (c->raw)
        c->in_off += n;
    else
        evbuffer_drain(bufferevent_get_input(c->bev), n);
}

static bool in_empty(struct conn *c)
{
    if (c->bev == NULL)
        return c->in == NULL || c->in_off >= c->in_len;
    return evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
}

/* Drops what was read and not parsed. */
static void in_discard(struct conn *c)
{
    if (c->raw)
        in_release(c);
    else
        evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
}

/* Reading on or off. The plain connection's read event is persistent,
 * its timeout the idle timeout (started again by each wake-up), and it is
 * taken off lazily: a connection that stops reading (HELD behind a write,
 * PAUSED, CLOSING, STARTTLS, a drain) keeps it until bytes arrive that it
 * will not read, and raw_read_cb removes it then. A DONE held until Redis
 * answers costs no epoll_ctl when nothing comes behind it, which is what a
 * client that waits for its answers does. */
static void read_enable(struct conn *c, bool on)
{
    if (!c->raw) {
        if (on)
            bufferevent_enable(c->bev, EV_READ);
        else
            bufferevent_disable(c->bev, EV_READ);
        return;
    }
    if (on && !c->rd_on) {
        event_add(c->rd_ev, idle_tv());
        c->rd_on = true;
    }
}

static void raw_write_cb(evutil_socket_t fd, short what, void *arg);

/* Writes up to CONN_WRITE_MAX bytes of the output buffer: its pieces in
 * memory by writev, a cached answer's file segment by sendfile (libevent's
 * evbuffer_write takes one kind a call, so a call stops where the kind
 * changes and the next goes on), until the buffer is empty, the bound is
 * reached or the socket is full (a call says EAGAIN). Returns what went,
 * or -1 with errno when nothing did. A peer's reset is an error here, not
 * a signal: SIGPIPE is ignored (main.c). */
static ssize_t raw_send(struct conn *c)
{
    size_t total = 0;

    while (total < CONN_WRITE_MAX && evbuffer_get_length(c->out) > 0) {
        int n = evbuffer_write_atmost(c->out, c->fd, (ev_ssize_t)(CONN_WRITE_MAX - total));
        if (n <= 0)
            return total > 0 ? (ssize_t)total : -1;
        total += (size_t)n;
    }
    return (ssize_t)total;
}

/* Writes what the plain connection has queued, at most CONN_WRITE_MAX
 * (a pre-built body goes from its own memory, a cached READ answer from
 * its file). What the
 * socket does not take waits for the write event, which is added now and
 * removed once the buffer is empty, with the idle timeout as the bound on
 * a client that stopped reading. A failed write is not acted on here (the
 * caller may be walking a list this connection is on): the read event is
 * made active and closes the connection in the next turn of the loop. */
static void raw_write(struct conn *c)
{
    if (c->out == NULL || c->write_failed)
        return;
    if (evbuffer_get_length(c->out) > 0) {
        ssize_t n = raw_send(c);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            c->write_failed = true;
            evbuffer_drain(c->out, evbuffer_get_length(c->out));
            event_active(c->rd_ev, EV_READ, 0);
        }
    }
    if (evbuffer_get_length(c->out) > 0) {
        if (c->wr_ev == NULL) {
            c->wr_ev = event_new(conn_base, c->fd, EV_WRITE | EV_PERSIST, raw_write_cb, c);
            event_add(c->wr_ev, idle_tv());
        }
        return;
    }
    out_give_back(c->out);
    c->out = NULL;
    if (c->wr_ev) {
        event_free(c->wr_ev);
        c->wr_ev = NULL;
    }
}

/* The plain connection's events and buffers go: at close, or when TLS or
 * COMPRESS takes the socket over (the caller has moved what it needs). */
static void raw_stop(struct conn *c)
{
    if (!c->raw)
        return;
    event_del(c->rd_ev);         /* added, or made active by a failed write */
    c->rd_on = false;
    if (c->wr_ev) {
        event_free(c->wr_ev);
        c->wr_ev = NULL;
    }
    if (c->out) {
        evbuffer_free(c->out);
        c->out = NULL;
    }
    in_release(c);
    c->raw = false;
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
        c->resume_ev = event_new(conn_base, -1, 0, resume_cb, c);
    event_active(c->resume_ev, 0, 0);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg);

/* The struct and the plain connection's read event in one allocation. */
#define CONN_EV_OFF ((sizeof(struct conn) + 15) & ~(size_t)15)

struct conn *conn_new(struct event_base *base, int fd, const char *addr, SSL *ssl)
{
    struct conn *c = xcalloc(1, CONN_EV_OFF + event_get_struct_event_size());

    conn_base = base;
    c->id = ++next_id;
    c->fd = fd;
    c->refs = 1;                 /* the socket's own reference */
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    proto_init(&c->parser, (size_t)cfg.line_max, (size_t)cfg.literal_max);
    if (ssl) {
        c->bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        c->tls = true;
        if (c->bev == NULL)
            fatal("bufferevent_openssl_socket_new failed");
        setup_bev(c);
    } else {
        c->raw = true;
        c->rd_ev = (struct event *)((char *)c + CONN_EV_OFF);
        if (event_assign(c->rd_ev, base, fd, EV_READ | EV_PERSIST, raw_read_cb, c) < 0)
            fatal("event_assign failed");
        if (!server.draining)
            read_enable(c, true);
    }

    c->next = conns;
    if (conns)
        conns->prev = c;
    conns = c;
    nconns++;
    stats.conns_current++;
    stats.conns_total++;

    reply_status_line(conn_out(c), 200, "campusd CTP/1 ready");
    if (c->raw)
        raw_write(c);            /* a new socket takes it at once */
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
    if (c->raw) {
        raw_stop(c);
        close(c->fd);
    } else if (c->bev) {
        bufferevent_free(c->bev);
    } else {
        close(c->fd);            /* TLS failed to start after STARTTLS */
    }
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
    if (c->head == NULL && out_len(c) == 0 &&
        (c->z == NULL || compress_idle(c->z)))
        conn_close(c, "done");
}

void conn_close_after_reply(struct conn *c)
{
    if (c->state == CONN_CLOSED || c->state == CONN_CLOSING)
        return;
    conn_set_state(c, CONN_CLOSING);
    read_enable(c, false);
    in_discard(c);
    if (!c->raw)
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    if (c->deadline_ev)
        event_del(c->deadline_ev);
}

static void try_resume(struct conn *c)
{
    if (c->state != CONN_PAUSED)
        return;
    if (c->inflight >= cfg.inflight_max || out_len(c) > OUT_HIGH)
        return;
    conn_set_state(c, CONN_READING);
    if (!server.draining)
        read_enable(c, true);
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
    if (!in_empty(c) && !proto_partial(&c->parser) && c->state == CONN_READING)
        return;                  /* conn_process has more to parse */
    conn_close_after_reply(c);
    close_when_flushed(c);
}

static void start_tls_upgrade(struct conn *c);
static void start_compress(struct conn *c);

/* Plain connections: the answers of a batch are written at its end, in
 * the same loop iteration, with one writev, instead of one iteration later
 * when epoll says the socket is writable. While the write event waits for
 * the socket (an earlier write did not go out whole), it does the writing.
 * Bufferevents (TLS, COMPRESS) write by themselves. */
static void write_now(struct conn *c)
{
    if (!c->raw || c->state == CONN_CLOSED || c->wr_ev)
        return;
    raw_write(c);
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
    else if (c->state == CONN_STARTTLS && c->head == NULL && out_len(c) == 0)
        start_tls_upgrade(c);
    else {
        try_resume(c);
        conn_drain_check(c);
    }
}

/* Writes every finished answer at the head of the queue, in order. */
static void conn_flush(struct conn *c)
{
    while (c->head && c->head->done) {
        struct evbuffer *out = conn_out(c);
        struct req *r = c->head;
        c->head = r->next;
        if (c->head == NULL)
            c->tail = NULL;
        size_t before = evbuffer_get_length(out);
        reply_render_ctp(&r->reply, out, c->raw);
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
    }
    /* Pushes held while answers were due go out once the last is written. */
    if (c->head == NULL && c->push_wait && evbuffer_get_length(c->push_wait) > 0) {
        stats.bytes_out += evbuffer_get_length(c->push_wait);
        evbuffer_add_buffer(conn_out(c), c->push_wait);
        evbuffer_free(c->push_wait);         /* made again by the next held push */
        c->push_wait = NULL;
    }
    if (out_len(c) > (size_t)cfg.output_max) {
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
        read_enable(c, false);
    } else if (!hold && c->state == CONN_HELD) {
        conn_set_state(c, CONN_READING);
        if (!server.draining)
            read_enable(c, true);
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
                c->deadline_ev = evtimer_new(conn_base, deadline_cb, c);
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

/* The end of a batch, once no conn_process is running: its answers go
 * out, then what may follow (unless it yielded: it goes on in a later
 * turn of the loop). */
static void conn_batch_end(struct conn *c, bool yielded)
{
    write_now(c);
    if (!yielded)
        output_progress(c);
    else if (c->state == CONN_CLOSING)
        close_when_flushed(c);
}

/* Parses and dispatches buffered requests: at most budget (reqs_per_event
 * a wake-up) per call, so one client pipelining without pause cannot
 * starve the others; past it, it yields (*yielded_out) and goes on in a
 * later turn of the loop. Returns how many it handled. The batch's answers
 * are written at its end unless a caller's processing is still counted. */
static long conn_process_some(struct conn *c, long budget, bool *yielded_out)
{
    long handled = 0;
    bool yielded = false;

    *yielded_out = false;
    if (c->state == CONN_CLOSED)
        return 0;
    c->refs++;                   /* a handler may close the connection */
    c->processing++;
    /* HELD ends the loop too: see conn_hold, resumed when released. */
    while (c->state == CONN_READING) {
        if (c->inflight >= cfg.inflight_max || out_len(c) > OUT_HIGH) {
            conn_set_state(c, CONN_PAUSED);
            read_enable(c, false);
            break;
        }
        if (handled >= budget) {
            conn_wake(c);
            yielded = true;
            break;
        }
        /* looked up each time: COMPRESS puts a filter in front of it */
        const char *p;
        size_t n;
        if (!in_peek(c, &p, &n))
            break;
        size_t used = 0;
        struct proto_req pr;
        enum proto_result res = proto_feed(&c->parser, p, n, &used, &pr);
        in_drain(c, used);
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
    /* Idle, nothing partial: the input and line buffers go; the next
     * bytes make them again. */
    if (c->state != CONN_CLOSED && in_empty(c)) {
        proto_release(&c->parser);
        if (c->raw)
            in_release(c);
    }
    if (c->state != CONN_CLOSED && c->processing == 0)
        conn_batch_end(c, yielded);
    *yielded_out = yielded;
    conn_unref(c);
    return handled;
}

static void conn_process(struct conn *c)
{
    bool yielded;
    conn_process_some(c, cfg.reqs_per_event, &yielded);
}

/* A plain connection's socket is readable (or its idle time is up, or a
 * write failed). A read of what fits in the input buffer, then the batch
 * is parsed: the parser copies what is partial into its own buffers, so
 * the input buffer is normally given back at the batch's end. What a
 * yield, a hold or a pause left unparsed stays in it, and the next read
 * appends behind it; with the buffer full nothing is read until the
 * parser has taken some. */
static void raw_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    if (c->write_failed) {
        conn_close(c, "socket error");
        return;
    }
    if (what & EV_TIMEOUT) {
        /* Only a connection that is reading can be idle: a held or paused
         * one waits on us, a closing one has its write timeout. */
        if (c->state == CONN_READING && c->inflight == 0) {
            push_error(c, 408, "idle timeout, closing");
            conn_close_after_reply(c);
            conn_flush(c);
        }
        return;
    }
    if (c->state != CONN_READING || server.draining) {
        event_del(c->rd_ev);     /* the lazy half of read_enable(c, false) */
        c->rd_on = false;
        return;
    }
    /* A read that fills the buffer is parsed and followed by another, up
     * to CONN_READ_MAX and reqs_per_event requests a wake-up, and the
     * answers of all of them go out in one write at the end. EOF or an
     * error after the first read waits for the next wake-up (the socket
     * stays readable), so what was answered is written first. */
    long budget = cfg.reqs_per_event;
    size_t total = 0;
    bool yielded = false;
    const char *why = NULL;
    c->refs++;
    c->processing++;
    for (int round = 0; c->state == CONN_READING; round++) {
        in_take(c);
        if (c->in_off > 0) {
            memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
            c->in_len -= c->in_off;
            c->in_off = 0;
        }
        size_t room = CONN_RBUF_SIZE - c->in_len;
        ssize_t n = 0;
        if (room > 0) {
            n = recv(c->fd, c->in + c->in_len, room, 0);
            if (n <= 0) {
                if (n == 0 && round == 0)
                    why = "client closed";
                else if (n < 0 && round == 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                         errno != EINTR)
                    why = "socket error";
                if (c->in_len == 0)
                    in_release(c);
                break;
            }
            c->in_len += (size_t)n;
            total += (size_t)n;
        }
        budget -= conn_process_some(c, budget, &yielded);
        if (yielded || (size_t)n < room || room == 0 || !in_empty(c) || budget <= 0 ||
            total >= CONN_READ_MAX)
            break;
    }
    c->processing--;
    if (why)
        conn_close(c, why);
    else if (c->state != CONN_CLOSED && c->processing == 0)
        conn_batch_end(c, yielded);
    conn_unref(c);
}

/* The socket takes more of a plain connection's output. */
static void raw_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    if (what & EV_TIMEOUT) {
        conn_close(c, "write timeout: the client is not reading");
        return;
    }
    raw_write(c);
    if (c->write_failed) {
        conn_close(c, "socket error");
        return;
    }
    /* what a bufferevent's low-water mark would report */
    if (out_len(c) <= OUT_LOW || c->state == CONN_CLOSING || c->state == CONN_STARTTLS)
        conn_written(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    conn_process(arg);
}

/* Output went out: a close, the TLS upgrade or more reading may follow. */
static void conn_written(struct conn *c)
{
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

static void write_cb(struct bufferevent *bev, void *arg)
{
    conn_written(arg);
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
    return out_len(c) +
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
    evbuffer_add(conn_out(c), data, len);
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
    read_enable(c, false);
    in_discard(c);
    if (!c->raw)
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

/* The answer to STARTTLS is out and nothing was read behind it (read
 * stopped when it was answered): the client's handshake is still in the
 * socket, for OpenSSL's bufferevent to read. STARTTLS is refused once
 * COMPRESS is on, so the connection is a plain one here. */
static void start_tls_upgrade(struct conn *c)
{
    SSL *ssl = SSL_new(server.ssl_ctx);
    if (ssl == NULL) {
        conn_close(c, "SSL_new failed");
        return;
    }
    struct bufferevent *tls;
    if (c->raw) {
        raw_stop(c);
        tls = bufferevent_openssl_socket_new(server.base, c->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    } else {
        tls = bufferevent_openssl_filter_new(server.base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    }
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

/* A plain connection moves to a socket bufferevent under the filter,
 * taking with it the answer to COMPRESS (still to go out in the clear) and
 * what the client sent behind it (already deflated). */
static void start_compress(struct conn *c)
{
    struct compress *z;

    if (c->raw) {
        struct bufferevent *b = bufferevent_socket_new(server.base, c->fd,
                                                       BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        if (b == NULL)
            fatal("bufferevent_socket_new failed");
        const char *p;
        size_t n;
        if (in_peek(c, &p, &n)) {
            /* a socket bufferevent's input takes bytes only from its socket */
            struct evbuffer *bin = bufferevent_get_input(b);
            evbuffer_unfreeze(bin, 0);
            evbuffer_add(bin, p, n);
            evbuffer_freeze(bin, 0);
        }
        if (c->out)
            evbuffer_add_buffer(bufferevent_get_output(b), c->out);
        raw_stop(c);
        c->bev = b;
        setup_bev(c);
    }
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
            read_enable(c, false);
            conn_wake(c);
        }
    }
}

void conn_close_all(void)
{
    while (conns)
        conn_close(conns, "shutdown");
    free(rbuf_spare);
    rbuf_spare = NULL;
    if (out_spare)
        evbuffer_free(out_spare);
    out_spare = NULL;
}
