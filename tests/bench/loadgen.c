/* loadgen.c: a load generator for 127.0.0.1 (campusd's CTP/1, memcached's
 * text protocol, HTTP/1.1): N connections keep D requests each in flight for
 * a fixed time (a closed loop), or, with --rate, send at a fixed rate
 * whatever the answers do (an open loop, as a room of readers is); prints
 * throughput and latency on one line. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define LG_CONNS_MAX     10000
#define LG_DEPTH_MAX     1024
#define LG_DURATION_MAX  3600.0
#define LG_SIZE_MAX      (64L * 1024 * 1024)
#define LG_LINE_MAX      4096
#define LG_RETRY_MS      100
#define LG_READ_CHUNK    (64 * 1024)
#define LG_PIDS_MAX      64
#define LG_HEADERS_MAX   16       /* --header lines at most */
#define LG_RATE_MAX      1e6      /* --rate: requests a second at most */

/* Latency histogram: exact below 128 ns, then 64 sub-buckets per power of
 * two (relative error under 1.6%), up to 2^40 ns (about 18 minutes). */
#define HIST_LINEAR      128
#define HIST_SUB         64
#define HIST_EXP_MIN     7
#define HIST_EXP_MAX     40
#define HIST_BUCKETS     (HIST_LINEAR + (HIST_EXP_MAX - HIST_EXP_MIN + 1) * HIST_SUB)

enum lg_mode { LG_CTP_PING, LG_CTP_ECHO, LG_CTP_READ, LG_CTP_DONE, LG_MC_GET, LG_HTTP_GET };

/* Where the parser of one connection stands in the response stream. */
enum lg_rstate {
    RS_CONNECTING,   /* TCP connect in progress */
    RS_GREETING,     /* CTP/1: waiting for "200 ... ready" */
    RS_AUTH,         /* ctp-done: waiting for the answer to AUTH */
    RS_AUTH_BODY,    /* ctp-done: skipping body_want bytes (and CRLF) of that answer */
    RS_HEAD,         /* waiting for the status line of the next response */
    RS_BODY,         /* reading body_want bytes of body (plus its CRLF) */
    RS_MC_END,       /* memcached: the "END" after a value */
    RS_HTTP_HEADERS, /* HTTP: header lines up to the blank one */
};

/* One connection. Plain events and evbuffers rather than bufferevents:
 * libevent 2.1 reads at most 4 KiB per wake-up through a bufferevent, and
 * the load generator must cost less than the servers it measures. */
struct lg_conn {
    int fd;                  /* -1 while disconnected */
    struct event *read_ev, *write_ev, *retry_ev;
    struct event *pace_ev;   /* --rate: fires when the next request is due */
    uint64_t due;            /* --rate: when the next request is due, ns */
    struct evbuffer *in, *out;
    enum lg_rstate rs;
    int inflight;
    int ring_head;           /* sent[ring_head] is the oldest request in flight */
    uint64_t *sent;          /* depth send times, ns */
    size_t body_want;        /* body bytes of the response in progress */
    bool body_crlf;          /* the body is followed by CRLF (CTP/1, memcached) */
    bool resp_ok;            /* the response in progress is the expected one */
    long long http_length;   /* Content-Length, -1 until seen */
    bool http_close;         /* the server will close after this response */
    bool http_expected;      /* the --expect-header line was in this response */
};

struct lg_run {
    enum lg_mode mode;
    const char *mode_name;
    int port;
    int conns;
    int depth;
    double duration;
    double warmup;
    double rate;             /* --rate: requests a second over all connections; 0: closed loop */
    uint64_t interval;       /* --rate: ns between two requests of one connection */
    size_t size;             /* ctp-echo, mc-get: value size */
    const char *path;        /* http-get */
    const char *read_id;     /* ctp-read: lesson id and format */
    const char *read_format;
    const char *done_token;  /* ctp-done: the session token every connection resumes */
    const char *done_lesson; /* ctp-done: the lesson marked done */
    size_t read_size;        /* ctp-read, http-get: the body size of the first right answer */
    const char *headers[LG_HEADERS_MAX];   /* http-get: --header lines sent */
    int nheaders;
    const char *expect;      /* http-get: --expect-header, a line every answer must carry */
    int pids[LG_PIDS_MAX];   /* server processes whose CPU time is measured */
    int npids;

    struct event_base *base;
    struct lg_conn *conn;
    char *payload;           /* size bytes of a known pattern */
    char *req_head;          /* what precedes the payload (or the whole request) */
    size_t req_head_len;
    char mc_key[64];

    bool measuring, stopping;
    uint64_t measure_start, measure_end;
    uint64_t requests, errors;
    double server_cpu0, server_cpu1, client_cpu0, client_cpu1;   /* seconds */
    uint64_t hist[HIST_BUCKETS];
};

static struct lg_run run;

static void conn_start(struct lg_conn *c);

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);

    if (p == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        abort();
    }
    return p;
}

static int hist_index(uint64_t v)
{
    if (v < HIST_LINEAR)
        return (int)v;
    int e = 63 - __builtin_clzll(v);
    if (e > HIST_EXP_MAX)
        return HIST_BUCKETS - 1;
    int sub = (int)((v >> (e - 6)) & (HIST_SUB - 1));
    return HIST_LINEAR + (e - HIST_EXP_MIN) * HIST_SUB + sub;
}

/* The middle of bucket i, ns. */
static double hist_value(int i)
{
    if (i < HIST_LINEAR)
        return i;
    int e = HIST_EXP_MIN + (i - HIST_LINEAR) / HIST_SUB;
    int sub = (i - HIST_LINEAR) % HIST_SUB;
    double width = (double)(1ULL << (e - 6));
    return (HIST_SUB + sub) * width + width / 2;
}

/* The q-quantile (0 < q <= 1) of the recorded latencies, in microseconds;
 * 0 when nothing was recorded. */
static double hist_quantile(double q)
{
    uint64_t total = 0, seen = 0;

    for (int i = 0; i < HIST_BUCKETS; i++)
        total += run.hist[i];
    if (total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)total + 0.5);
    if (rank < 1)
        rank = 1;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += run.hist[i];
        if (seen >= rank)
            return hist_value(i) / 1000.0;
    }
    return hist_value(HIST_BUCKETS - 1) / 1000.0;
}

/* Queues one request; its latency counts from started. */
static void send_request(struct lg_conn *c, uint64_t started)
{
    struct evbuffer *out = c->out;

    evbuffer_add(out, run.req_head, run.req_head_len);
    if (run.mode == LG_CTP_ECHO && run.size > 0)
        evbuffer_add_reference(out, run.payload, run.size, NULL, NULL);
    c->sent[(c->ring_head + c->inflight) % run.depth] = started;
    c->inflight++;
}

/* --rate: sends what is due, else waits for it. A request's latency counts
 * from when it was due, not from when it could be sent: an answer that
 * comes late delays the next request, and that wait is the server's too
 * (counted from the send, a stall would be measured once, not for every
 * request it held up). */
static void pace(struct lg_conn *c)
{
    uint64_t t = now_ns();

    if (c->due <= t) {
        send_request(c, c->due);
        c->due += run.interval;
        return;
    }
    uint64_t wait = c->due - t;
    struct timeval tv = { (time_t)(wait / 1000000000u), (suseconds_t)(wait % 1000000000u / 1000) };
    evtimer_add(c->pace_ev, &tv);
}

static void fill_pipeline(struct lg_conn *c)
{
    if (run.rate > 0) {
        if (!run.stopping && c->inflight == 0)
            pace(c);
        return;
    }
    while (!run.stopping && c->inflight < run.depth)
        send_request(c, now_ns());
}

/* One response is complete: record it and keep the pipeline full. */
static void response_done(struct lg_conn *c, bool ok)
{
    uint64_t t = now_ns();
    uint64_t started = c->sent[c->ring_head];

    c->ring_head = (c->ring_head + 1) % run.depth;
    c->inflight--;
    if (!ok)
        run.errors++;
    else if (run.measuring) {
        run.requests++;
        run.hist[hist_index(t - started)]++;
    }
    c->rs = RS_HEAD;
    fill_pipeline(c);
}

/* Closes the socket, if any, and forgets what was buffered. */
static void conn_drop(struct lg_conn *c)
{
    if (c->fd < 0)
        return;
    event_free(c->read_ev);
    event_free(c->write_ev);
    c->read_ev = c->write_ev = NULL;
    close(c->fd);
    c->fd = -1;
    evbuffer_drain(c->in, evbuffer_get_length(c->in));
    evbuffer_drain(c->out, evbuffer_get_length(c->out));
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_start(arg);
}

static int conn_flush(struct lg_conn *c);

static void pace_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lg_conn *c = arg;

    if (c->fd >= 0 && c->rs == RS_HEAD && c->inflight == 0) {
        fill_pipeline(c);
        conn_flush(c);
    }
}

/* The stream cannot be trusted (or is gone): count one error, drop the
 * connection and its requests in flight, and connect again shortly. */
static void conn_fail(struct lg_conn *c, const char *why)
{
    static int reported;

    run.errors++;
    if (reported++ < 5)
        fprintf(stderr, "loadgen: connection error: %s\n", why);
    conn_drop(c);
    c->inflight = 0;
    c->ring_head = 0;
    c->rs = RS_CONNECTING;
    if (c->pace_ev)
        evtimer_del(c->pace_ev);
    if (!run.stopping) {
        struct timeval tv = { 0, LG_RETRY_MS * 1000 };
        evtimer_add(c->retry_ev, &tv);
    }
}

/* Copies the next line (without its CRLF or LF) into buf. Returns 1 with a
 * line, 0 when none is complete yet, -1 when the line is longer than cap. */
static int read_line(struct evbuffer *in, char *buf, size_t cap, size_t *len)
{
    size_t eol_len = 0;
    struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);

    if (p.pos < 0)
        return evbuffer_get_length(in) >= cap ? -1 : 0;
    if ((size_t)p.pos >= cap)
        return -1;
    evbuffer_remove(in, buf, (size_t)p.pos);
    evbuffer_drain(in, eol_len);
    buf[p.pos] = '\0';
    *len = (size_t)p.pos;
    return 1;
}

/* True when the first n bytes of in are the first n bytes of the payload. */
static bool body_matches(struct evbuffer *in, size_t n)
{
    struct evbuffer_iovec v[64];
    int nv = evbuffer_peek(in, (ev_ssize_t)n, NULL, v, 64);
    size_t off = 0;

    if (nv > 64)
        return true;   /* too scattered to check cheaply; the length was right */
    for (int i = 0; i < nv && off < n; i++) {
        size_t k = v[i].iov_len < n - off ? v[i].iov_len : n - off;
        if (memcmp(v[i].iov_base, run.payload + off, k) != 0)
            return false;
        off += k;
    }
    return off == n;
}

/* Parses "... {N}" at the end of a CTP/1 status line: N, or -1. */
static long long ctp_literal(const char *line, size_t len)
{
    if (len < 3 || line[len - 1] != '}')
        return -1;
    const char *open = memrchr(line, '{', len);
    if (open == NULL || open + 1 == line + len - 1)
        return -1;
    long long n = 0;
    for (const char *p = open + 1; p < line + len - 1; p++) {
        if (*p < '0' || *p > '9' || n > LG_SIZE_MAX)
            return -1;
        n = n * 10 + (*p - '0');
    }
    return n;
}

/* A status line of a CTP/1 response. Returns 0, or -1 if the stream is bad. */
static int ctp_head(struct lg_conn *c, const char *line, size_t len)
{
    if (len > 0 && line[0] == '*')
        return 0;                      /* server push: not a response */
    if (len < 3 || line[0] < '1' || line[0] > '5')
        return -1;
    long long lit = ctp_literal(line, len);
    bool ok = strncmp(line, "200 ", 4) == 0;
    if (run.mode == LG_CTP_PING) {
        ok = ok && strcmp(line + 4, "PONG") == 0;
    } else if (run.mode == LG_CTP_DONE) {
        ok = ok && lit < 0;
    } else if (run.mode == LG_CTP_READ) {
        /* The lesson does not change during a run: every answer must be as
         * long as the first right one. */
        if (ok && lit > 0 && run.read_size == 0)
            run.read_size = (size_t)lit;
        ok = ok && lit > 0 && (size_t)lit == run.read_size;
    } else {
        ok = ok && lit == (long long)run.size;
    }
    if (lit < 0) {
        response_done(c, ok);
        return 0;
    }
    c->resp_ok = ok;
    c->body_want = (size_t)lit;
    c->body_crlf = true;
    c->rs = RS_BODY;
    return 0;
}

static int mc_head(struct lg_conn *c, const char *line, size_t len)
{
    char key[256];
    unsigned flags;
    unsigned long bytes;

    if (strcmp(line, "END") == 0) {        /* a miss: the value was evicted */
        response_done(c, false);
        return 0;
    }
    if (sscanf(line, "VALUE %255s %u %lu", key, &flags, &bytes) != 3) {
        if (strncmp(line, "SERVER_ERROR", 12) == 0 || strncmp(line, "CLIENT_ERROR", 12) == 0) {
            response_done(c, false);
            return 0;
        }
        return -1;
    }
    if (bytes > (unsigned long)LG_SIZE_MAX)
        return -1;
    c->resp_ok = strcmp(key, run.mc_key) == 0 && bytes == run.size;
    c->body_want = bytes;
    c->body_crlf = true;
    c->rs = RS_BODY;
    return 0;
}

static int http_head(struct lg_conn *c, const char *line, size_t len)
{
    int code;

    if (sscanf(line, "HTTP/1.%*[01] %d", &code) != 1)
        return -1;
    c->resp_ok = code == 200;
    c->http_length = -1;
    c->http_close = false;
    c->http_expected = run.expect == NULL;
    c->rs = RS_HTTP_HEADERS;
    return 0;
}

/* True when the header line is "NAME: VALUE" as want gives it: the name
 * in any case, the value exactly, blanks around it aside. */
static bool header_is(const char *line, const char *want)
{
    const char *lc = strchr(line, ':'), *wc = strchr(want, ':');

    if (lc == NULL || wc == NULL || lc - line != wc - want ||
        strncasecmp(line, want, (size_t)(lc - line)) != 0)
        return false;
    for (lc++; *lc == ' ' || *lc == '\t'; lc++)
        ;
    for (wc++; *wc == ' ' || *wc == '\t'; wc++)
        ;
    size_t ln = strlen(lc), wn = strlen(wc);
    while (ln > 0 && (lc[ln - 1] == ' ' || lc[ln - 1] == '\t'))
        ln--;
    return ln == wn && memcmp(lc, wc, ln) == 0;
}

static int http_header(struct lg_conn *c, const char *line, size_t len)
{
    if (len == 0) {
        if (c->http_length < 0)
            return -1;                 /* chunked or unframed: not supported */
        if (!c->http_expected)
            c->resp_ok = false;        /* not the answer asked for (--expect-header) */
        if (c->resp_ok && run.read_size == 0)
            run.read_size = (size_t)c->http_length;
        c->body_want = (size_t)c->http_length;
        c->body_crlf = false;
        c->rs = RS_BODY;
        return 0;
    }
    if (strncasecmp(line, "Content-Length:", 15) == 0) {
        char *end;
        long long n = strtoll(line + 15, &end, 10);
        if (n < 0 || n > LG_SIZE_MAX)
            return -1;
        c->http_length = n;
    } else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
        return -1;
    } else if (strncasecmp(line, "Connection:", 11) == 0 && strcasestr(line + 11, "close")) {
        c->http_close = true;
    }
    if (run.expect && header_is(line, run.expect))
        c->http_expected = true;
    return 0;
}

/* Consumes every complete response in the input. Returns 0, or -1 after
 * conn_fail (the socket is then closed). */
static int parse_input(struct lg_conn *c)
{
    struct evbuffer *in = c->in;
    char line[LG_LINE_MAX];
    size_t len;

    for (;;) {
        if (c->rs == RS_AUTH_BODY) {
            if (evbuffer_get_length(in) < c->body_want + 2)
                return 0;
            evbuffer_drain(in, c->body_want + 2);
            c->rs = RS_HEAD;
            fill_pipeline(c);
            continue;
        }
        if (c->rs == RS_BODY) {
            size_t need = c->body_want + (c->body_crlf ? 2 : 0);
            if (evbuffer_get_length(in) < need)
                return 0;
            bool ok = c->resp_ok;
            if (ok && (run.mode == LG_CTP_ECHO || run.mode == LG_MC_GET))
                ok = body_matches(in, c->body_want);
            if (c->body_crlf) {
                char crlf[2];
                evbuffer_drain(in, c->body_want);
                evbuffer_remove(in, crlf, 2);
                if (crlf[0] != '\r' || crlf[1] != '\n') {
                    conn_fail(c, "body not followed by CRLF");
                    return -1;
                }
            } else {
                evbuffer_drain(in, c->body_want);
            }
            if (run.mode == LG_MC_GET) {
                c->resp_ok = ok;
                c->rs = RS_MC_END;
                continue;
            }
            bool close = run.mode == LG_HTTP_GET && c->http_close;
            response_done(c, ok);
            if (close) {
                conn_fail(c, "server closed the keep-alive connection");
                return -1;
            }
            continue;
        }
        int r = read_line(in, line, sizeof(line), &len);
        if (r == 0)
            return 0;
        if (r < 0) {
            conn_fail(c, "response line too long");
            return -1;
        }
        int rc = 0;
        switch (c->rs) {
        case RS_GREETING:
            if (strncmp(line, "200 ", 4) != 0) {
                conn_fail(c, "no CTP/1 greeting");
                return -1;
            }
            if (run.mode == LG_CTP_DONE) {
                char auth[LG_LINE_MAX];
                int n = snprintf(auth, sizeof(auth), "AUTH %s\r\n", run.done_token);
                evbuffer_add(c->out, auth, (size_t)n);
                c->rs = RS_AUTH;
                break;
            }
            c->rs = RS_HEAD;
            fill_pipeline(c);
            break;
        case RS_AUTH:
            if (strncmp(line, "200 ", 4) != 0) {
                conn_fail(c, "AUTH refused");
                return -1;
            }
            if (ctp_literal(line, len) >= 0) {
                c->body_want = (size_t)ctp_literal(line, len);
                c->rs = RS_AUTH_BODY;
                break;
            }
            c->rs = RS_HEAD;
            fill_pipeline(c);
            break;
        case RS_HEAD:
            if (c->inflight == 0) {
                conn_fail(c, "a response nobody asked for");
                return -1;
            }
            rc = run.mode == LG_MC_GET ? mc_head(c, line, len)
               : run.mode == LG_HTTP_GET ? http_head(c, line, len)
               : ctp_head(c, line, len);
            break;
        case RS_MC_END:
            if (strcmp(line, "END") != 0)
                rc = -1;
            else
                response_done(c, c->resp_ok);
            break;
        case RS_HTTP_HEADERS:
            rc = http_header(c, line, len);
            break;
        default:
            rc = -1;
        }
        if (rc < 0) {
            conn_fail(c, "malformed response");
            return -1;
        }
    }
}

/* Writes what the output holds; watches for writability only while the
 * socket is full. Returns 0, or -1 after conn_fail. */
static int conn_flush(struct lg_conn *c)
{
    if (evbuffer_get_length(c->out) > 0 &&
        evbuffer_write(c->out, c->fd) < 0 && errno != EAGAIN && errno != EINTR) {
        conn_fail(c, strerror(errno));
        return -1;
    }
    if (evbuffer_get_length(c->out) > 0)
        event_add(c->write_ev, NULL);
    else
        event_del(c->write_ev);
    return 0;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lg_conn *c = arg;
    struct evbuffer_iovec v[2];
    int nv = evbuffer_reserve_space(c->in, LG_READ_CHUNK, v, 2);

    if (nv < 1) {
        conn_fail(c, "out of buffer space");
        return;
    }
    /* struct evbuffer_iovec has the layout of struct iovec on Unix. */
    ssize_t n = readv(fd, (struct iovec *)v, nv);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_fail(c, n == 0 ? "closed by the server" : strerror(errno));
        return;
    }
    if ((size_t)n <= v[0].iov_len) {
        v[0].iov_len = (size_t)n;
        nv = 1;
    } else {
        v[1].iov_len = (size_t)n - v[0].iov_len;
    }
    evbuffer_commit_space(c->in, v, nv);
    if (parse_input(c) == 0)
        conn_flush(c);
}

static void connected(struct lg_conn *c)
{
    if (run.mode == LG_CTP_PING || run.mode == LG_CTP_ECHO || run.mode == LG_CTP_READ ||
        run.mode == LG_CTP_DONE) {
        c->rs = RS_GREETING;
    } else {
        c->rs = RS_HEAD;
        fill_pipeline(c);
    }
    event_add(c->read_ev, NULL);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lg_conn *c = arg;

    if (c->rs == RS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err) {
            conn_fail(c, strerror(err));
            return;
        }
        connected(c);
    }
    conn_flush(c);
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

/* Opens a non-blocking connection to 127.0.0.1; write_cb sees it complete. */
static void conn_start(struct lg_conn *c)
{
    struct sockaddr_in sin = loopback(run.port);
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fprintf(stderr, "loadgen: socket: %s\n", strerror(errno));
        abort();
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->read_ev = event_new(run.base, c->fd, EV_READ | EV_PERSIST, read_cb, c);
    c->write_ev = event_new(run.base, c->fd, EV_WRITE | EV_PERSIST, write_cb, c);
    if (c->read_ev == NULL || c->write_ev == NULL) {
        fprintf(stderr, "loadgen: event_new failed\n");
        abort();
    }
    c->rs = RS_CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
        conn_fail(c, strerror(errno));
        return;
    }
    event_add(c->write_ev, NULL);
}

/* memcached: stores the value every get of the run will fetch. Blocking,
 * before the event loop starts. Returns 0, or -1 with a message. */
static int mc_setup(void)
{
    struct sockaddr_in sin = loopback(run.port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char head[128], reply[256];
    size_t got = 0;

    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        fprintf(stderr, "loadgen: memcached on port %d: %s\n", run.port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int n = snprintf(head, sizeof(head), "set %s 0 0 %zu\r\n", run.mc_key, run.size);
    struct { const char *p; size_t len; } parts[] = {
        { head, (size_t)n }, { run.payload, run.size }, { "\r\n", 2 },
    };
    for (size_t i = 0; i < 3; i++) {
        for (size_t off = 0; off < parts[i].len;) {
            ssize_t w = write(fd, parts[i].p + off, parts[i].len - off);
            if (w <= 0) {
                fprintf(stderr, "loadgen: memcached set: %s\n", strerror(errno));
                close(fd);
                return -1;
            }
            off += (size_t)w;
        }
    }
    while (got < sizeof(reply) - 1 && memchr(reply, '\n', got) == NULL) {
        ssize_t r = read(fd, reply + got, sizeof(reply) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    reply[got] = '\0';
    close(fd);
    if (strncmp(reply, "STORED\r\n", 8) != 0) {
        fprintf(stderr, "loadgen: memcached set answered: %.60s\n", reply);
        return -1;
    }
    return 0;
}

/* CPU seconds (user + system) that the server processes have used so far;
 * a process that is gone counts 0. */
static double server_cpu(void)
{
    double total = 0;
    long tck = sysconf(_SC_CLK_TCK);

    for (int i = 0; i < run.npids; i++) {
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", run.pids[i]);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');
        unsigned long ut, st;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                        &ut, &st) == 2)
            total += (double)(ut + st) / (double)tck;
    }
    return total;
}

static double client_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void warmup_cb(evutil_socket_t fd, short what, void *arg)
{
    run.measuring = true;
    run.measure_start = now_ns();
    run.server_cpu0 = server_cpu();
    run.client_cpu0 = client_cpu();
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    run.measure_end = now_ns();
    run.server_cpu1 = server_cpu();
    run.client_cpu1 = client_cpu();
    run.measuring = false;
    run.stopping = true;
    event_base_loopbreak(run.base);
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: loadgen [options] MODE [ARG...]\n"
        "modes:\n"
        "  ctp-ping            campusd CTP/1 PING\n"
        "  ctp-echo SIZE       campusd CTP/1 ECHO of a SIZE-byte literal\n"
        "  ctp-read ID FORMAT  campusd CTP/1 READ of a lesson (FORMAT text, md or html)\n"
        "  ctp-done TOKEN ID   campusd CTP/1 DONE of a lesson, each connection AUTH TOKEN first\n"
        "  mc-get SIZE         memcached 'get' of a SIZE-byte value (set first)\n"
        "  http-get PATH       HTTP/1.1 keep-alive GET of PATH, 200 expected\n"
        "options (the target is always 127.0.0.1):\n"
        "  -p, --port N        server port (required)\n"
        "  -c, --conns N       connections (default 50, at most %d)\n"
        "  -d, --depth N       requests in flight per connection (default 1, at most %d)\n"
        "  -t, --duration S    seconds measured (default 10, at most %.0f)\n"
        "  -w, --warmup S      seconds run before measuring (default 1)\n"
        "  -r, --rate R        open loop: R requests a second over all connections,\n"
        "                      each sent when due (depth 1), its latency from then\n"
        "  -s, --server-pids P,P,...  server processes whose CPU time per request to report\n"
        "  -H, --header 'NAME: VALUE'  http-get: a header line to send (repeatable, at most %d)\n"
        "  -e, --expect-header 'NAME: VALUE'  http-get: an answer without this line is an error\n"
        "prints: mode= conns= depth= requests= rps= p50_us= p99_us= errors= size= p90_us=\n"
        "        p999_us= server_cpu_us= client_cpu_us= (CPU microseconds per request)\n",
        LG_CONNS_MAX, LG_DEPTH_MAX, LG_DURATION_MAX, LG_HEADERS_MAX);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;

    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, double lo, double hi, double *out)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* Fills run from the command line. Returns 0, or -1 after a message. */
static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "port", required_argument, NULL, 'p' },
        { "conns", required_argument, NULL, 'c' },
        { "depth", required_argument, NULL, 'd' },
        { "duration", required_argument, NULL, 't' },
        { "warmup", required_argument, NULL, 'w' },
        { "rate", required_argument, NULL, 'r' },
        { "server-pids", required_argument, NULL, 's' },
        { "header", required_argument, NULL, 'H' },
        { "expect-header", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long v;
    int opt;

    run.conns = 50;
    run.depth = 1;
    run.duration = 10;
    run.warmup = 1;
    while ((opt = getopt_long(argc, argv, "p:c:d:t:w:r:s:H:e:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            if (parse_long(optarg, 1, 65535, &v) < 0)
                goto bad;
            run.port = (int)v;
            break;
        case 'c':
            if (parse_long(optarg, 1, LG_CONNS_MAX, &v) < 0)
                goto bad;
            run.conns = (int)v;
            break;
        case 'd':
            if (parse_long(optarg, 1, LG_DEPTH_MAX, &v) < 0)
                goto bad;
            run.depth = (int)v;
            break;
        case 't':
            if (parse_seconds(optarg, 0.01, LG_DURATION_MAX, &run.duration) < 0)
                goto bad;
            break;
        case 'w':
            if (parse_seconds(optarg, 0, LG_DURATION_MAX, &run.warmup) < 0)
                goto bad;
            break;
        case 'r':
            if (parse_seconds(optarg, 0.001, LG_RATE_MAX, &run.rate) < 0)
                goto bad;
            break;
        case 's':
            for (char *tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
                if (run.npids == LG_PIDS_MAX || parse_long(tok, 1, 1L << 30, &v) < 0)
                    goto bad;
                run.pids[run.npids++] = (int)v;
            }
            break;
        case 'H':
        case 'e':
            /* One header line: a name, a colon, no line break. */
            if (strpbrk(optarg, "\r\n") != NULL || strchr(optarg, ':') == NULL ||
                optarg[0] == ':' || strcspn(optarg, " \t") < strcspn(optarg, ":"))
                goto bad;
            if (opt == 'e')
                run.expect = optarg;
            else if (run.nheaders == LG_HEADERS_MAX)
                goto bad;
            else
                run.headers[run.nheaders++] = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (run.port == 0) {
        fprintf(stderr, "loadgen: --port is required\n");
        return -1;
    }
    if (run.rate > 0 && run.depth != 1) {
        fprintf(stderr, "loadgen: --rate sends one request at a time per connection (depth 1)\n");
        return -1;
    }
    if (optind >= argc) {
        usage(stderr);
        return -1;
    }
    if ((run.nheaders > 0 || run.expect) && strcmp(argv[optind], "http-get") != 0) {
        fprintf(stderr, "loadgen: --header and --expect-header are for http-get\n");
        return -1;
    }
    run.mode_name = argv[optind];
    const char *arg = optind + 1 < argc ? argv[optind + 1] : NULL;
    const char *arg2 = optind + 2 < argc ? argv[optind + 2] : NULL;
    bool two = strcmp(run.mode_name, "ctp-read") == 0 || strcmp(run.mode_name, "ctp-done") == 0;
    if (optind + (two ? 3 : 2) < argc) {
        fprintf(stderr, "loadgen: too many arguments\n");
        return -1;
    }
    if (strcmp(run.mode_name, "ctp-ping") == 0 && arg == NULL) {
        run.mode = LG_CTP_PING;
    } else if (strcmp(run.mode_name, "ctp-read") == 0 && arg != NULL && arg2 != NULL &&
               arg[0] != '\0' && arg2[0] != '\0' && strcspn(arg, " {}\r\n") == strlen(arg) &&
               strcspn(arg2, " {}\r\n") == strlen(arg2)) {
        run.mode = LG_CTP_READ;
        run.read_id = arg;
        run.read_format = arg2;
    } else if (strcmp(run.mode_name, "ctp-done") == 0 && arg != NULL && arg2 != NULL &&
               arg[0] != '\0' && arg2[0] != '\0' && strlen(arg) < LG_LINE_MAX - 16 &&
               strcspn(arg, " {}\r\n") == strlen(arg) && strcspn(arg2, " {}\r\n") == strlen(arg2)) {
        run.mode = LG_CTP_DONE;
        run.done_token = arg;
        run.done_lesson = arg2;
    } else if ((strcmp(run.mode_name, "ctp-echo") == 0 || strcmp(run.mode_name, "mc-get") == 0) &&
               arg != NULL) {
        run.mode = run.mode_name[0] == 'c' ? LG_CTP_ECHO : LG_MC_GET;
        if (parse_long(arg, run.mode == LG_MC_GET ? 0 : 1, LG_SIZE_MAX, &v) < 0) {
            fprintf(stderr, "loadgen: bad SIZE '%s'\n", arg);
            return -1;
        }
        run.size = (size_t)v;
    } else if (strcmp(run.mode_name, "http-get") == 0 && arg != NULL && arg[0] == '/' &&
               strcspn(arg, " \r\n") == strlen(arg)) {
        run.mode = LG_HTTP_GET;
        run.path = arg;
    } else {
        fprintf(stderr, "loadgen: bad mode or argument\n");
        usage(stderr);
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, "loadgen: bad value for -%c: '%s'\n", opt, optarg);
    return -1;
}

/* Builds the bytes every request of the run sends. */
static void build_request(void)
{
    run.payload = xcalloc(run.size + 1, 1);
    for (size_t i = 0; i < run.size; i++)
        run.payload[i] = (char)('a' + i % 26);
    snprintf(run.mc_key, sizeof(run.mc_key), "loadgen:%zu", run.size);
    switch (run.mode) {
    case LG_CTP_PING:
        run.req_head_len = (size_t)asprintf(&run.req_head, "PING\r\n");
        break;
    case LG_CTP_ECHO:
        run.req_head_len = (size_t)asprintf(&run.req_head, "ECHO {%zu}\r\n", run.size);
        break;
    case LG_CTP_READ:
        run.req_head_len = (size_t)asprintf(&run.req_head, "READ %s %s\r\n", run.read_id,
                                            run.read_format);
        break;
    case LG_CTP_DONE:
        run.req_head_len = (size_t)asprintf(&run.req_head, "DONE %s\r\n", run.done_lesson);
        break;
    case LG_MC_GET:
        run.req_head_len = (size_t)asprintf(&run.req_head, "get %s\r\n", run.mc_key);
        break;
    case LG_HTTP_GET: {
        size_t extra = 0;
        for (int i = 0; i < run.nheaders; i++)
            extra += strlen(run.headers[i]) + 2;
        char *lines = xcalloc(extra + 1, 1);
        for (int i = 0, off = 0; i < run.nheaders; i++)
            off += sprintf(lines + off, "%s\r\n", run.headers[i]);
        run.req_head_len = (size_t)asprintf(&run.req_head,
            "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: campus-loadgen\r\n%s\r\n",
            run.path, run.port, lines);
        free(lines);
        break;
    }
    }
    if (run.req_head == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        abort();
    }
}

static void print_result(void)
{
    double secs = (double)(run.measure_end - run.measure_start) / 1e9;
    double rps = secs > 0 ? (double)run.requests / secs : 0;

    double per_req = run.requests ? 1e6 / (double)run.requests : 0;

    printf("mode=%s conns=%d depth=%d requests=%llu rps=%.0f p50_us=%.1f p99_us=%.1f "
           "errors=%llu size=%zu p90_us=%.1f p999_us=%.1f",
           run.mode_name, run.conns, run.depth, (unsigned long long)run.requests, rps,
           hist_quantile(0.50), hist_quantile(0.99), (unsigned long long)run.errors,
           run.mode == LG_HTTP_GET || run.mode == LG_CTP_READ ? run.read_size : run.size,
           hist_quantile(0.90), hist_quantile(0.999));
    if (run.npids > 0)
        printf(" server_cpu_us=%.2f", (run.server_cpu1 - run.server_cpu0) * per_req);
    printf(" client_cpu_us=%.2f\n", (run.client_cpu1 - run.client_cpu0) * per_req);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);          /* a server that hangs up is an error, not a crash */
    build_request();
    if (run.mode == LG_MC_GET && mc_setup() < 0)
        return 1;

    /* --rate: timers to the microsecond (timerfd), not to epoll's millisecond. */
    struct event_config *ecfg = event_config_new();
    if (ecfg && run.rate > 0)
        event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    run.base = ecfg ? event_base_new_with_config(ecfg) : NULL;
    if (ecfg)
        event_config_free(ecfg);
    if (run.base == NULL) {
        fprintf(stderr, "loadgen: event_base_new failed\n");
        return 1;
    }
    run.conn = xcalloc((size_t)run.conns, sizeof(*run.conn));
    uint64_t t0 = now_ns();
    if (run.rate > 0)
        run.interval = (uint64_t)(1e9 * run.conns / run.rate);
    for (int i = 0; i < run.conns; i++) {
        struct lg_conn *c = &run.conn[i];
        /* --rate: the connections take turns, evenly spaced. */
        c->due = t0 + run.interval * (uint64_t)i / (uint64_t)run.conns;
        if (run.rate > 0 && (c->pace_ev = evtimer_new(run.base, pace_cb, c)) == NULL) {
            fprintf(stderr, "loadgen: out of memory\n");
            abort();
        }
        c->sent = xcalloc((size_t)run.depth, sizeof(*c->sent));
        c->fd = -1;
        c->retry_ev = evtimer_new(run.base, retry_cb, c);
        c->in = evbuffer_new();
        c->out = evbuffer_new();
        if (c->retry_ev == NULL || c->in == NULL || c->out == NULL) {
            fprintf(stderr, "loadgen: out of memory\n");
            abort();
        }
        conn_start(c);
    }
    struct event *warm = evtimer_new(run.base, warmup_cb, NULL);
    struct event *stop = evtimer_new(run.base, stop_cb, NULL);
    struct timeval tw = { (time_t)run.warmup, (suseconds_t)((run.warmup - (time_t)run.warmup) * 1e6) };
    double end = run.warmup + run.duration;
    struct timeval te = { (time_t)end, (suseconds_t)((end - (time_t)end) * 1e6) };
    evtimer_add(warm, &tw);
    evtimer_add(stop, &te);

    event_base_dispatch(run.base);
    for (int i = 0; i < run.conns; i++)
        if (run.conn[i].rs == RS_GREETING || run.conn[i].rs == RS_AUTH ||
            run.conn[i].rs == RS_AUTH_BODY) {
            run.errors++;              /* connected, but never greeted */
            if (i == 0)
                fprintf(stderr, "loadgen: no CTP/1 greeting (is this campusd?)\n");
        }
    print_result();

    for (int i = 0; i < run.conns; i++) {
        conn_drop(&run.conn[i]);
        event_free(run.conn[i].retry_ev);
        if (run.conn[i].pace_ev)
            event_free(run.conn[i].pace_ev);
        evbuffer_free(run.conn[i].in);
        evbuffer_free(run.conn[i].out);
        free(run.conn[i].sent);
    }
    event_free(warm);
    event_free(stop);
    event_base_free(run.base);
    free(run.conn);
    free(run.payload);
    free(run.req_head);
    return run.requests > 0 ? 0 : 1;
}
