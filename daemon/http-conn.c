/* http-conn.c: what stands between an HTTP socket and evhttp. Every
 * connection is counted from accept; each request must arrive whole within
 * http_timeout seconds of its first byte; and the framing (request line,
 * header fields, Content-Length, chunked bodies) is checked on the raw bytes
 * against RFC 9112 before evhttp parses anything.
 *
 * Why stand in front of evhttp: its timeout is per read, so a client
 * sending a byte a second is never cut off; and it keeps a field name with
 * a space before its colon as a different name, takes the first of two
 * Content-Lengths, reads "+3" as 3 and merges obs-fold lines, so the same
 * bytes can mean one request to us and two to a proxy.
 *
 * How: a callback on the socket's input buffer runs inside each read,
 * before evhttp's read callback. It takes the new bytes into a buffer of its
 * own and puts back only whole, checked requests in one canonical form (CRLF
 * lines, one Content-Length, chunks joined), so evhttp only ever parses
 * requests that mean one thing, and a trickling client looks busy to
 * evhttp's per-read timeout while our deadline alone decides. (A
 * bufferevent filter would do the same, but in libevent 2.1 a filter loses
 * the last answer on a closing connection.) A request that breaks a rule
 * is answered once with its error, in order, and the connection is closed:
 * evhttp is given a request for HCONN_REJECT_PATH, which http_conn_rejection()
 * recognises by count (never by path alone), and nothing more is read.
 *
 * The hot path: an anonymous GET of a lesson (no Authorization, Cookie,
 * Connection or conditional field, HTTP/1.1, no body) that arrives while
 * evhttp has nothing in hand on this connection is answered here, from the
 * READ answer pre-built once per catalogue (cmd-content.c), without evhttp
 * parsing anything: the bytes go to the socket by reference, as one writev.
 * Its Accept-Language picks the lesson's language as READ would (an answer
 * that would fall back goes the long way) and its Accept-Encoding the gzip
 * form, so the bytes are those the long way sends. Everything else, and
 * this too when no pre-built answer is ready, goes to evhttp as before.
 * Such a request that arrives whole in one read with nothing before it, the
 * common case, is checked in one pass where it was read (hconn_fast_whole):
 * no line is copied and no deadline armed. */
#include "campusd.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#define HCONN_BUCKETS 1024
#define HCONN_REJECT_PATH "/-/rejected"
#define HCONN_CHUNK_LINE_MAX 1024    /* a chunk-size line with its extensions */
#define HCONN_FAST_TARGET_MAX 200    /* longest request target the hot path looks at */
#define HCONN_FAST_FIELD_MAX 160     /* longest Accept-Encoding or -Language it looks at */
#define HCONN_FAST_PREFIX "/api/lessons/"

enum hconn_state {
    HC_IDLE,        /* between requests: no byte of the next one yet */
    HC_HEAD,        /* request line and header fields */
    HC_BODY,        /* a Content-Length body: body_left bytes to come */
    HC_CHUNK_SIZE,  /* a chunk-size line */
    HC_CHUNK_DATA,  /* chunk data: body_left bytes to come */
    HC_CHUNK_END,   /* the empty line after chunk data */
    HC_TRAILER,     /* trailer fields after the last chunk (read, dropped) */
    HC_REJECTED,    /* answered with an error: all further input is dropped */
};

struct hconn {
    struct bufferevent *bev;     /* the socket's; evhttp's once set up */
    struct event *setup;         /* once, right after accept */
    struct evbuffer_cb_entry *input_cb;
    bool in_cb;                  /* in hconn_input_cb, or adding to the input ourselves */
    struct event *deadline;      /* armed from a request's first byte */
    enum hconn_state state;
    struct evbuffer *in;         /* bytes read but not yet parsed */
    struct evbuffer *head;       /* the request line and kept fields, CRLF lines */
    struct evbuffer *body;       /* the body, chunks joined */
    size_t head_bytes;           /* header section so far, against http_header_max */
    size_t body_left;
    bool have_line, have_cl, have_te, have_host, http10, expect_continue, head_method;
    bool fast;                   /* this request may take the hot path (see the top) */
    bool fast_writing;           /* a hot-path answer is still in the output buffer */
    bufferevent_data_cb saved_writecb;   /* evhttp's, while fast_writing */
    char target[HCONN_FAST_TARGET_MAX + 1];
    /* The hot path's Accept-Encoding and Accept-Language, as evhttp would
     * find them (the first of each; a second one sends it the long way). */
    bool fast_ae, fast_gzip;
    char fast_lang[HCONN_FAST_FIELD_MAX + 1];
    unsigned long passed;        /* complete requests given to evhttp */
    unsigned long seen;          /* requests that reached http.c's handler */
    unsigned long answered;      /* requests whose answer has been sent */
    int reject_code;             /* nonzero once the connection is rejected */
    char reject_msg[96];
    int proxy;                   /* 0: not yet known; 1: a PROXY v2 header is due; 2: none or read */
    char client[48];             /* the address a trusted balancer's header gave, or "" */
    struct hconn *next;          /* hash chain, keyed by bev */
};

static struct hconn *hconns[HCONN_BUCKETS];
static uint64_t nconns;

static size_t hconn_hash(const void *p)
{
    return ((uintptr_t)p >> 4) % HCONN_BUCKETS;
}

uint64_t http_conn_count(void)
{
    return nconns;
}

static struct hconn *hconn_find(struct bufferevent *bev)
{
    for (struct hconn *hc = hconns[hconn_hash(bev)]; hc; hc = hc->next)
        if (hc->bev == bev)
            return hc;
    return NULL;
}

/* evhttp is waiting for a request line with nothing buffered: every request
 * given to it has been answered. Only then may we wake its read callback
 * ourselves; at any other time it reads what we add when it is ready. */
static bool hconn_evhttp_idle(const struct hconn *hc)
{
    return hc->seen == hc->passed && hc->answered == hc->seen;
}

/* Ends the connection with one answer, code and msg, after the answers to the
 * requests already given to evhttp. */
static void hconn_reject(struct hconn *hc, int code, const char *msg)
{
    if (hc->state == HC_REJECTED)
        return;
    hc->state = HC_REJECTED;
    hc->reject_code = code;
    snprintf(hc->reject_msg, sizeof(hc->reject_msg), "%s", msg);
    evtimer_del(hc->deadline);
    evbuffer_drain(hc->in, evbuffer_get_length(hc->in));
    bool nested = hc->in_cb;
    hc->in_cb = true;
    evbuffer_add_printf(bufferevent_get_input(hc->bev),
                        "GET %s HTTP/1.1\r\nHost: campusd\r\nConnection: close\r\n\r\n",
                        HCONN_REJECT_PATH);
    hc->in_cb = nested;
}

/* The same, from outside the socket's read: a socket bufferevent keeps the
 * end of its input frozen except while it reads. */
static void hconn_reject_outside(struct hconn *hc, int code, const char *msg)
{
    struct evbuffer *in = bufferevent_get_input(hc->bev);

    evbuffer_unfreeze(in, 0);
    hconn_reject(hc, code, msg);
    evbuffer_freeze(in, 0);
}

static void hconn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hconn *hc = arg;

    hconn_reject_outside(hc, 408, "the request did not arrive within http_timeout");
    if (hconn_evhttp_idle(hc))
        bufferevent_trigger(hc->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
}

/* ---- the checks of RFC 9112 ---- */

/* token = 1*tchar (RFC 9110 5.6.2); a table, since every byte of every
 * field name passes here. */
static bool is_tchar(unsigned char c)
{
    static const bool tchar[256] = {
        ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
        ['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true, ['\''] = true,
        ['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true, ['^'] = true, ['_'] = true,
        ['`'] = true, ['|'] = true, ['~'] = true,
    };
    return tchar[c];
}

/* A field value may hold visible bytes, obs-text, spaces and tabs. */
static bool value_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static const char *method_allowed(const char *m, size_t n)
{
    static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS" };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strlen(methods[i]) == n && memcmp(methods[i], m, n) == 0)
            return methods[i];
    return NULL;
}

/* request-line = method SP request-target SP HTTP-version, one space each. */
static int check_request_line(struct hconn *hc, const char *line, size_t n)
{
    const char *sp1 = memchr(line, ' ', n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;

    if (sp1 == NULL || sp2 == NULL || sp1 == line || sp2 == sp1 + 1) {
        hconn_reject(hc, 400, "malformed request line");
        return -1;
    }
    for (const char *p = line; p < sp1; p++)
        if (!is_tchar((unsigned char)*p)) {
            hconn_reject(hc, 400, "malformed request line");
            return -1;
        }
    for (const char *p = sp1 + 1; p < sp2; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            hconn_reject(hc, 400, "bad byte in the request target");
            return -1;
        }
    size_t vlen = (size_t)(line + n - (sp2 + 1));
    const char *v = sp2 + 1;
    if (vlen != 8 || memcmp(v, "HTTP/1.", 7) != 0 || (v[7] != '0' && v[7] != '1')) {
        bool other = vlen == 8 && memcmp(v, "HTTP/", 5) == 0 && v[6] == '.';
        hconn_reject(hc, other ? 505 : 400, other ? "only HTTP/1.0 and HTTP/1.1" : "malformed request line");
        return -1;
    }
    if (method_allowed(line, (size_t)(sp1 - line)) == NULL) {
        hconn_reject(hc, 405, "method not allowed");
        return -1;
    }
    char t = sp1[1];
    bool star = sp2 == sp1 + 2 && t == '*';
    if (t != '/' && !star && strncasecmp(sp1 + 1, "http://", 7) != 0 &&
        strncasecmp(sp1 + 1, "https://", 8) != 0) {
        hconn_reject(hc, 400, "malformed request target");
        return -1;
    }
    /* The parse evhttp will make of it: what it refuses, we answer. */
    char *target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    struct evhttp_uri *u = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
    free(target);
    if (u == NULL) {
        hconn_reject(hc, 400, "malformed request target");
        return -1;
    }
    evhttp_uri_free(u);
    hc->http10 = v[7] == '0';
    hc->head_method = sp1 - line == 4 && memcmp(line, "HEAD", 4) == 0;
    size_t tlen = (size_t)(sp2 - sp1 - 1);
    hc->fast = !hc->http10 && sp1 - line == 3 && memcmp(line, "GET", 3) == 0 &&
               tlen <= HCONN_FAST_TARGET_MAX && tlen > strlen(HCONN_FAST_PREFIX) &&
               memcmp(sp1 + 1, HCONN_FAST_PREFIX, strlen(HCONN_FAST_PREFIX)) == 0;
    if (hc->fast) {
        memcpy(hc->target, sp1 + 1, tlen);
        hc->target[tlen] = '\0';
    }
    evbuffer_add(hc->head, line, n);
    evbuffer_add(hc->head, "\r\n", 2);
    return 0;
}

static bool name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Fields that send a request the long way: who asks, and what they hold
 * already, is evhttp's path to judge. */
static const char *const fast_never[] = {
    "Authorization", "Cookie", "Connection", "If-None-Match", "If-Modified-Since",
    "If-Match", "If-Unmodified-Since", "Range", "If-Range",
};

/* What one header field does to a request that may take the hot path:
 * false when it sends the request the long way. Its Accept-Encoding and
 * Accept-Language are noted as evhttp would find them (the first of each; a
 * second one sends it the long way). */
static bool fast_field(struct hconn *hc, const char *name, size_t nn, const char *v, size_t vn)
{
    for (size_t i = 0; i < sizeof(fast_never) / sizeof(fast_never[0]); i++)
        if (name_is(name, nn, fast_never[i]))
            return false;
    bool ae = name_is(name, nn, "Accept-Encoding");
    if (!ae && !name_is(name, nn, "Accept-Language"))
        return true;
    if (vn > HCONN_FAST_FIELD_MAX || (ae ? hc->fast_ae : hc->fast_lang[0] != '\0') || (!ae && vn == 0))
        return false;
    if (ae) {
        char value[HCONN_FAST_FIELD_MAX + 1];
        memcpy(value, v, vn);
        value[vn] = '\0';
        hc->fast_ae = true;
        hc->fast_gzip = http_gzip_accepts(value);
    } else {
        memcpy(hc->fast_lang, v, vn);
        hc->fast_lang[vn] = '\0';
    }
    return true;
}

/* Splits a header field line, name ":" OWS value OWS, into its name (*nn
 * bytes at line) and its value without the whitespace. Returns NULL, or
 * how the line breaks RFC 9112. */
static const char *field_split(const char *line, size_t n, size_t *nn, const char **value, size_t *vn)
{
    if (n > 0 && (line[0] == ' ' || line[0] == '\t'))
        return "obsolete line folding in a header field";
    const char *colon = memchr(line, ':', n);
    if (colon == NULL || colon == line)
        return "a header field without a name or colon";
    for (const char *p = line; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return *p == ' ' || *p == '\t' ? "whitespace before the colon of a header field"
                                          : "bad byte in a header field name";
    const char *v = colon + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (!value_ok(v, (size_t)(end - v)))
        return "control byte in a header field value";
    *nn = (size_t)(colon - line);
    *value = v;
    *vn = (size_t)(end - v);
    return NULL;
}

/* One header field. The framing fields are checked and dropped (the
 * canonical Content-Length is added at the end); the rest is kept as sent.
 * trailer: a trailer field, checked for form and dropped. */
static int check_field(struct hconn *hc, const char *line, size_t n, bool trailer)
{
    size_t nn, vn;
    const char *v;
    const char *bad = field_split(line, n, &nn, &v, &vn);

    if (bad) {
        hconn_reject(hc, 400, bad);
        return -1;
    }
    if (trailer)
        return 0;
    if (name_is(line, nn, "Content-Length")) {
        if (hc->have_cl) {
            hconn_reject(hc, 400, "more than one Content-Length");
            return -1;
        }
        hc->have_cl = true;
        if (vn == 0) {
            hconn_reject(hc, 400, "Content-Length must be digits");
            return -1;
        }
        size_t len = 0;
        for (size_t i = 0; i < vn; i++) {
            if (v[i] < '0' || v[i] > '9') {
                hconn_reject(hc, 400, "Content-Length must be digits");
                return -1;
            }
            if (len > (size_t)cfg.http_body_max) {
                hconn_reject(hc, 413, "request body too large");
                return -1;
            }
            len = len * 10 + (size_t)(v[i] - '0');
        }
        if (len > (size_t)cfg.http_body_max) {
            hconn_reject(hc, 413, "request body too large");
            return -1;
        }
        hc->body_left = len;
        return 0;
    }
    if (name_is(line, nn, "Transfer-Encoding")) {
        /* Only chunked, once: any other coding, a list or a second field is
         * a framing a proxy before us may read differently. */
        if (hc->have_te || !name_is(v, vn, "chunked")) {
            hconn_reject(hc, 400, "unsupported Transfer-Encoding (only chunked)");
            return -1;
        }
        hc->have_te = true;
        return 0;
    }
    if (name_is(line, nn, "Host")) {
        if (hc->have_host) {
            hconn_reject(hc, 400, "more than one Host");
            return -1;
        }
        hc->have_host = true;
    }
    if (hc->fast && !fast_field(hc, line, nn, v, vn))
        hc->fast = false;
    if (name_is(line, nn, "Expect")) {
        if (!name_is(v, vn, "100-continue")) {
            hconn_reject(hc, 417, "the only expectation understood is 100-continue");
            return -1;
        }
        hc->expect_continue = true;   /* answered here, not passed on */
        return 0;
    }
    evbuffer_add(hc->head, line, n);
    evbuffer_add(hc->head, "\r\n", 2);
    return 0;
}

/* The header section is complete: settle how the body is framed. */
static int head_done(struct hconn *hc)
{
    if (hc->have_te && hc->have_cl) {
        hconn_reject(hc, 400, "both Transfer-Encoding and Content-Length");
        return -1;
    }
    if (hc->have_te && hc->http10) {
        hconn_reject(hc, 400, "Transfer-Encoding in an HTTP/1.0 request");
        return -1;
    }
    if (!hc->have_host && !hc->http10) {
        hconn_reject(hc, 400, "an HTTP/1.1 request needs a Host");
        return -1;
    }
    bool body = hc->have_te || hc->body_left > 0;
    /* The client waits for a go-ahead before its body. evhttp would send
     * it, but we take the Expect field away so that evhttp sees whole
     * requests only; the line goes straight to the socket, which has nothing
     * queued while a request is being read. */
    struct evbuffer *out = bufferevent_get_output(hc->bev);
    if (body && hc->expect_continue && !hc->http10 && evbuffer_get_length(hc->in) == 0 &&
        evbuffer_get_length(out) == 0) {
        static const char go[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (send(bufferevent_getfd(hc->bev), go, sizeof(go) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            log_debug("http: 100 Continue not sent: %s", strerror(errno));
    }
    hc->state = hc->have_te ? HC_CHUNK_SIZE : HC_BODY;
    return 0;
}

/* Once the output of a hot-path answer that did not fit the socket at once
 * has drained: evhttp's write callback back, writing off again, as evhttp
 * left them (it never sees a write finish that was not its own). */
static void hconn_fast_written_cb(struct bufferevent *bev, void *arg)
{
    struct hconn *hc = hconn_find(bev);

    if (hc == NULL || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        return;
    bufferevent_data_cb readcb, writecb;
    bufferevent_event_cb eventcb;
    void *cbarg;
    bufferevent_getcb(bev, &readcb, &writecb, &eventcb, &cbarg);
    bufferevent_setcb(bev, readcb, hc->saved_writecb, eventcb, cbarg);
    bufferevent_disable(bev, EV_WRITE);
    hc->fast_writing = false;
}

/* The lesson and format of a hot-path target: "/api/lessons/C/L", with at
 * most "?format=F". False for anything else (percent-escapes included:
 * evhttp decodes those). */
static bool fast_target(const char *t, char *id, size_t idlen, char *format, size_t flen)
{
    const char *p = t + strlen(HCONN_FAST_PREFIX);
    const char *q = strchr(p, '?');
    size_t n = q ? (size_t)(q - p) : strlen(p);

    if (n == 0 || n >= idlen || memchr(p, '%', n) || memchr(p, '#', n))
        return false;
    memcpy(id, p, n);
    id[n] = '\0';
    const char *f = "html";
    if (q) {
        if (strncmp(q, "?format=", 8) != 0 || strpbrk(q + 8, "&%#;+") != NULL)
            return false;
        f = q + 8;
    }
    size_t fn = strlen(f);
    if (fn == 0 || fn >= flen)
        return false;
    memcpy(format, f, fn + 1);
    return true;
}

/* Answers the whole request from a pre-built READ answer when it may (see
 * the top). own: the bytes of this very request still in the socket's input
 * (none once hconn_parse has taken them). Returns true when it did: evhttp
 * is then never told of it. */
static bool hconn_fast_answer(struct hconn *hc, size_t own)
{
    struct evbuffer *in = bufferevent_get_input(hc->bev), *out = bufferevent_get_output(hc->bev);
    char id[HCONN_FAST_TARGET_MAX + 1], format[8];
    struct read_fast rf;

    if (hc->fast_writing && evbuffer_get_length(out) == 0) {
        /* evhttp answered since and set its own callbacks back. */
        bufferevent_data_cb writecb;
        bufferevent_getcb(hc->bev, NULL, &writecb, NULL, NULL);
        if (writecb != hconn_fast_written_cb)
            hc->fast_writing = false;
    }
    if (!hc->fast || hc->fast_writing || server.draining || cfg.http_rate > 0 ||
        !hconn_evhttp_idle(hc) || evbuffer_get_length(in) > own || evbuffer_get_length(out) > 0 ||
        evbuffer_get_length(hc->body) > 0 || hc->have_cl || hc->have_te ||
        !fast_target(hc->target, id, sizeof(id), format, sizeof(format)) ||
        !read_fast_answer(id, format, hc->fast_lang[0] ? hc->fast_lang : NULL, hc->fast_gzip, &rf))
        return false;

    /* One Date line per second, shared by every answer. */
    static char date[64];
    static time_t date_at;
    time_t now = time(NULL);
    if (now != date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        date_at = now;
    }
    size_t dlen = strlen(date);
    struct iovec iov[3] = {
        { (void *)rf.data, rf.split },
        { date, dlen },
        { (void *)(rf.data + rf.split), rf.len - rf.split },
    };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };
    ssize_t w = sendmsg(bufferevent_getfd(hc->bev), &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    size_t sent = w > 0 ? (size_t)w : 0, total = rf.len + dlen;
    if (sent < total) {
        /* The rest waits in the output buffer, the body by reference.
         * evhttp's write callback would take its draining for the end of an
         * answer of its own, so ours stands in until then. */
        log_debug("http: hot-path answer: %zu of %zu bytes wait for the socket", total - sent, total);
        size_t off = sent;
        if (off < rf.split) {
            evbuffer_add(out, rf.data + off, rf.split - off);
            off = rf.split;
        }
        if (off < rf.split + dlen) {
            evbuffer_add(out, date + (off - rf.split), rf.split + dlen - off);
            off = rf.split + dlen;
        }
        size_t body_off = off - dlen;
        evbuffer_add_reference(out, rf.data + body_off, rf.len - body_off, read_fast_release, rf.arg);
        bufferevent_data_cb readcb, writecb;
        bufferevent_event_cb eventcb;
        void *cbarg;
        bufferevent_getcb(hc->bev, &readcb, &writecb, &eventcb, &cbarg);
        hc->saved_writecb = writecb;
        bufferevent_setcb(hc->bev, readcb, hconn_fast_written_cb, eventcb, cbarg);
        hc->fast_writing = true;
        bufferevent_enable(hc->bev, EV_WRITE);
    } else {
        read_fast_release(rf.data, rf.len, rf.arg);
    }
    stats.http_requests++;
    stats.http_hot++;
    if (rf.gzip)
        stats.http_hot_gzip++;
    static int read_index = -2;  /* the verb table is fixed: looked up once */
    if (read_index == -2)
        read_index = cmd_index(cmd_lookup("READ", 4));
    if (read_index >= 0)
        stats_command(read_index);
    return true;
}

/* A byte of a request target that hconn_fast_whole takes: what a lesson's
 * address and ?format= are made of, and nothing evhttp would decode. */
static bool fast_target_byte(unsigned char c)
{
    static const bool ok[256] = {
        ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
        ['-'] = true, ['/'] = true, ['?'] = true, ['='] = true, ['_'] = true, ['.'] = true, ['~'] = true,
    };
    return ok[c];
}

/* The hot path's shortcut: a whole hot-path request that came in one read,
 * with nothing before it, is checked in one pass over the bytes where they
 * were read and answered, with no line copied, no deadline armed and
 * nothing given to evhttp. It takes only the plainest form of such a
 * request: "GET /api/lessons/... HTTP/1.1", CRLF lines, one Host, no body
 * and no field that sends it the long way (fast_field). Anything else, and
 * a request hconn_fast_answer declines, is left as it came for
 * hconn_parse, which checks it from its first byte; so the two agree on
 * every answer, and what this one takes is a subset of what that one
 * would have answered the same way. Returns true when it answered. */
static bool hconn_fast_whole(struct hconn *hc, const char *p, size_t n)
{
    static const char get[] = "GET " HCONN_FAST_PREFIX, version[] = " HTTP/1.1\r\n";
    const char *end = p + n, *q = p + sizeof(get) - 1;

    if (n > (size_t)cfg.http_header_max || n < sizeof(get) - 1 + sizeof(version) - 1 + 2 ||
        memcmp(p, get, sizeof(get) - 1) != 0 || memcmp(end - 4, "\r\n\r\n", 4) != 0)
        return false;
    while (q < end && fast_target_byte((unsigned char)*q))
        q++;
    size_t tlen = (size_t)(q - (p + 4));
    if (tlen > HCONN_FAST_TARGET_MAX || (size_t)(end - q) < sizeof(version) - 1 + 2 ||
        memcmp(q, version, sizeof(version) - 1) != 0)
        return false;

    bool host = false;
    hc->fast_ae = hc->fast_gzip = false;
    hc->fast_lang[0] = '\0';
    for (const char *line = q + sizeof(version) - 1; line < end - 2;) {
        /* Found: the bytes end with CRLF CRLF. A CR not before LF sends
         * the request the long way, and so does any field that breaks a rule. */
        const char *eol = memchr(line, '\r', (size_t)(end - line));
        size_t nn, vn;
        const char *v;
        if (eol[1] != '\n' || field_split(line, (size_t)(eol - line), &nn, &v, &vn) != NULL)
            return false;
        if (name_is(line, nn, "Host")) {
            if (host)
                return false;
            host = true;
        } else if (name_is(line, nn, "Content-Length") || name_is(line, nn, "Transfer-Encoding") ||
                   name_is(line, nn, "Expect") || !fast_field(hc, line, nn, v, vn)) {
            return false;
        }
        line = eol + 2;
    }
    if (!host)
        return false;
    memcpy(hc->target, p + 4, tlen);
    hc->target[tlen] = '\0';
    hc->fast = true;
    hc->have_cl = hc->have_te = false;
    return hconn_fast_answer(hc, n);
}

/* The request is whole: answer it on the hot path, or give evhttp its
 * canonical form. */
static void request_done(struct hconn *hc)
{
    struct evbuffer *dst = bufferevent_get_input(hc->bev);

    if (hconn_fast_answer(hc, 0)) {
        evbuffer_drain(hc->head, evbuffer_get_length(hc->head));
        evtimer_del(hc->deadline);
        hc->state = HC_IDLE;
        return;
    }

    /* evhttp reads no body after HEAD, so one passed on would be taken for
     * the next request: it is read here and dropped. */
    if (hc->head_method)
        evbuffer_drain(hc->body, evbuffer_get_length(hc->body));
    evbuffer_add_buffer(dst, hc->head);
    if ((hc->have_cl || hc->have_te) && !hc->head_method)
        evbuffer_add_printf(dst, "Content-Length: %zu\r\n", evbuffer_get_length(hc->body));
    evbuffer_add(dst, "\r\n", 2);
    evbuffer_add_buffer(dst, hc->body);
    hc->passed++;
    evtimer_del(hc->deadline);
    hc->state = HC_IDLE;
}

/* Takes one line from hc->in (LF or CRLF), without its end, into a new
 * string *out of *n bytes. Returns 1 with a line, 0 when more input is needed,
 * -1 after rejecting (no end within max bytes, a bare CR, a NUL). */
static int take_line(struct hconn *hc, size_t max, int toolong_code, char **out, size_t *n)
{
    struct evbuffer_ptr eol = evbuffer_search_eol(hc->in, NULL, NULL, EVBUFFER_EOL_LF);

    if (eol.pos < 0) {
        if (evbuffer_get_length(hc->in) > max) {
            hconn_reject(hc, toolong_code, toolong_code == 431 ? "request header fields too large"
                                                               : "line too long");
            return -1;
        }
        return 0;
    }
    size_t len = (size_t)eol.pos;
    if (len > max) {
        hconn_reject(hc, toolong_code, toolong_code == 431 ? "request header fields too large"
                                                           : "line too long");
        return -1;
    }
    char *line = xmalloc(len + 2);
    evbuffer_remove(hc->in, line, len + 1);
    line[len] = '\0';
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    if (memchr(line, '\r', len) || memchr(line, '\0', len)) {
        free(line);
        hconn_reject(hc, 400, "bare CR or NUL in a line");
        return -1;
    }
    *out = line;
    *n = len;
    return 1;
}

/* Header section bytes left before http_header_max. */
static size_t head_room(const struct hconn *hc)
{
    size_t max = (size_t)cfg.http_header_max;
    return hc->head_bytes < max ? max - hc->head_bytes : 0;
}

/* Parses what hc->in holds as far as it goes. */
/* Before the first request: the PROXY v2 header a trusted balancer sends
 * (proxy.c). Returns 1 when the requests may be parsed, 0 when more bytes
 * are due, -1 when the connection was rejected. */
static int hconn_proxy(struct hconn *hc)
{
    if (hc->proxy == 0) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = (int)bufferevent_getfd(hc->bev);
        hc->proxy = proxy_on(PROXY_HTTP) && fd >= 0 &&
                    getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
                    proxy_trusted((struct sockaddr *)&ss) ? 1 : 2;
        if (hc->proxy == 1)
            evtimer_add(hc->deadline, &(struct timeval){ .tv_sec = cfg.http_timeout });
    }
    if (hc->proxy == 2)
        return 1;
    uint8_t buf[PROXY_V2_MAX];
    size_t need;
    ev_ssize_t got = evbuffer_copyout(hc->in, buf, sizeof(buf));
    int rc = proxy_parse_v2(buf, got > 0 ? (size_t)got : 0, hc->client, sizeof(hc->client), &need);
    if (rc < 0) {
        hconn_reject(hc, 400, "a bad PROXY v2 header");
        return -1;
    }
    if (rc == 0)
        return 0;
    evbuffer_drain(hc->in, (size_t)rc);
    evtimer_del(hc->deadline);
    hc->proxy = 2;
    return 1;
}

const char *http_client_addr(struct evhttp_request *r)
{
    struct evhttp_connection *evcon = r ? evhttp_request_get_connection(r) : NULL;
    char *host = NULL;
    ev_uint16_t port = 0;

    if (evcon == NULL)
        return NULL;
    struct hconn *hc = hconn_find(evhttp_connection_get_bufferevent(evcon));
    if (hc && hc->client[0])
        return hc->client;
    evhttp_connection_get_peer(evcon, &host, &port);
    return host;
}

static void hconn_parse(struct hconn *hc)
{
    char *line;
    size_t n;
    int rc;

    if (hc->proxy != 2 && hconn_proxy(hc) <= 0)
        return;

    while (hc->state != HC_REJECTED && evbuffer_get_length(hc->in) > 0) {
        switch (hc->state) {
        case HC_IDLE:
            hc->state = HC_HEAD;
            hc->head_bytes = 0;
            hc->body_left = 0;
            hc->have_line = hc->have_cl = hc->have_te = hc->have_host = false;
            hc->http10 = hc->expect_continue = hc->head_method = hc->fast = false;
            hc->fast_ae = hc->fast_gzip = false;
            hc->fast_lang[0] = '\0';
            evtimer_add(hc->deadline, &(struct timeval){ .tv_sec = cfg.http_timeout });
            break;
        case HC_HEAD:
        case HC_TRAILER:
            if ((rc = take_line(hc, head_room(hc), 431, &line, &n)) <= 0)
                return;
            hc->head_bytes += n + 2;
            if (n == 0) {
                free(line);
                if (hc->state == HC_TRAILER)
                    request_done(hc);
                else if (hc->have_line && head_done(hc) == 0 &&
                         hc->state == HC_BODY && hc->body_left == 0)
                    request_done(hc);
                /* Empty lines before a request line are ignored (RFC 9112 2.2). */
                continue;
            }
            if (hc->state == HC_TRAILER) {
                check_field(hc, line, n, true);
            } else if (!hc->have_line) {
                hc->have_line = true;
                check_request_line(hc, line, n);
            } else {
                check_field(hc, line, n, false);
            }
            free(line);
            break;
        case HC_BODY:
        case HC_CHUNK_DATA: {
            size_t take = evbuffer_get_length(hc->in);
            if (take > hc->body_left)
                take = hc->body_left;
            evbuffer_remove_buffer(hc->in, hc->body, take);
            hc->body_left -= take;
            if (hc->body_left == 0) {
                if (hc->state == HC_BODY)
                    request_done(hc);
                else
                    hc->state = HC_CHUNK_END;
            }
            break;
        }
        case HC_CHUNK_END:
            if ((rc = take_line(hc, 1, 400, &line, &n)) <= 0)
                return;
            free(line);
            if (n != 0) {
                hconn_reject(hc, 400, "chunk data longer than its size");
                return;
            }
            hc->state = HC_CHUNK_SIZE;
            break;
        case HC_CHUNK_SIZE: {
            if ((rc = take_line(hc, HCONN_CHUNK_LINE_MAX, 400, &line, &n)) <= 0)
                return;
            /* chunk-size = 1*HEXDIG, then only chunk extensions (ignored). */
            size_t size = 0, i = 0, total = evbuffer_get_length(hc->body);
            for (; i < n && line[i] && strchr("0123456789abcdefABCDEF", line[i]); i++) {
                char c = line[i];
                if (size <= (size_t)cfg.http_body_max)   /* past it, only the digits are checked */
                    size = size * 16 + (size_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            }
            size_t j = i;
            while (j < n && (line[j] == ' ' || line[j] == '\t'))
                j++;
            bool ok = i > 0 && (j == n ? i == n : line[j] == ';') && value_ok(line, n);
            free(line);
            if (!ok) {
                hconn_reject(hc, 400, "malformed chunk size");
                return;
            }
            if (size > (size_t)cfg.http_body_max || total + size > (size_t)cfg.http_body_max) {
                hconn_reject(hc, 413, "request body too large");
                return;
            }
            hc->body_left = size;
            hc->state = size ? HC_CHUNK_DATA : HC_TRAILER;
            break;
        }
        case HC_REJECTED:
            break;
        }
    }
}

/* Called by the input buffer of the socket each time it changes, before
 * evhttp's read callback sees the bytes: what was just read moves into
 * hc->in, and only whole, checked requests are put back for evhttp. The
 * buffer then holds nothing but canonical requests evhttp has yet to read
 * (a pipeline), followed by the new bytes. */
static void hconn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct hconn *hc = arg;

    if (hc->in_cb || info->n_added == 0)
        return;
    hc->in_cb = true;
    size_t len = evbuffer_get_length(buf), fresh = info->n_added < len ? info->n_added : len;
    struct evbuffer_iovec whole;
    if (hc->state == HC_IDLE && hc->proxy == 2 && fresh == len && evbuffer_get_length(hc->in) == 0 &&
        evbuffer_peek(buf, -1, NULL, &whole, 1) == 1 && whole.iov_len == len &&
        hconn_fast_whole(hc, whole.iov_base, len)) {
        evbuffer_drain(buf, len);
        hc->in_cb = false;
        return;
    }
    struct evbuffer *keep = evbuffer_new();
    evbuffer_remove_buffer(buf, keep, len - fresh);
    if (hc->state == HC_REJECTED) {
        evbuffer_drain(buf, fresh);
    } else {
        evbuffer_add_buffer(hc->in, buf);
        evbuffer_add_buffer(buf, keep);   /* keep is now empty, buf in order */
        hconn_parse(hc);
    }
    if (evbuffer_get_length(keep))
        evbuffer_prepend_buffer(buf, keep);
    evbuffer_free(keep);
    hc->in_cb = false;
}

/* evhttp frees the connection: the end of its count. */
static void hconn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct hconn *hc = arg;

    for (struct hconn **pp = &hconns[hconn_hash(hc->bev)]; *pp; pp = &(*pp)->next)
        if (*pp == hc) {
            *pp = hc->next;
            break;
        }
    evbuffer_remove_cb_entry(bufferevent_get_input(hc->bev), hc->input_cb);
    event_free(hc->deadline);
    event_free(hc->setup);
    evbuffer_free(hc->in);
    evbuffer_free(hc->head);
    evbuffer_free(hc->body);
    free(hc);
    nconns--;
}

/* Right after accept, once evhttp has made the connection its own: the
 * bufferevent's callback argument is the evhttp_connection, and its close
 * callback is where the count ends. */
static void hconn_setup_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hconn *hc = arg;
    void *evcon = NULL;

    bufferevent_getcb(hc->bev, NULL, NULL, NULL, &evcon);
    if (evcon == NULL)
        fatal("http: an accepted connection has no evhttp connection");
    evhttp_connection_set_closecb(evcon, hconn_closed, hc);
}

/* evhttp's bevcb: called once per accepted connection, before evhttp sets
 * the socket. The connection counts from here until evhttp frees it. */
struct bufferevent *http_conn_new(struct event_base *base, void *arg)
{
    struct hconn *hc = xcalloc(1, sizeof(*hc));

    hc->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (hc->bev == NULL)
        fatal("bufferevent_socket_new failed");
    hc->deadline = evtimer_new(base, hconn_deadline_cb, hc);
    hc->setup = evtimer_new(base, hconn_setup_cb, hc);
    hc->in = evbuffer_new();
    hc->head = evbuffer_new();
    hc->body = evbuffer_new();
    hc->input_cb = evbuffer_add_cb(bufferevent_get_input(hc->bev), hconn_input_cb, hc);
    /* The input then holds only whole requests that evhttp has yet to read;
     * a client pipelining without reading its answers is not read further
     * once they reach the size of one largest request. */
    bufferevent_setwatermark(hc->bev, EV_READ, 0,
                             (size_t)(cfg.http_header_max + cfg.http_body_max) + 256);
    size_t h = hconn_hash(hc->bev);
    hc->next = hconns[h];
    hconns[h] = hc;
    if ((long)nconns >= cfg.http_max_conns) {
        stats.conns_rejected++;
        hconn_reject_outside(hc, 503, "too many connections");
    }
    nconns++;
    event_active(hc->setup, EV_TIMEOUT, 1);
    return hc->bev;
}

static void hconn_answered(struct evhttp_request *r, void *arg)
{
    struct hconn *hc = arg;
    hc->answered++;
}

/* Called by http.c's handler for each request. Returns the error to answer
 * with (and close) when r is the one standing for a rejected connection,
 * else 0. msg is set to the reason. */
int http_conn_rejection(struct evhttp_request *r, const char **msg)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(r);
    struct hconn *hc = evcon ? hconn_find(evhttp_connection_get_bufferevent(evcon)) : NULL;

    if (hc == NULL)
        return 0;
    evhttp_request_set_on_complete_cb(r, hconn_answered, hc);
    if (++hc->seen <= hc->passed || hc->reject_code == 0)
        return 0;
    *msg = hc->reject_msg;
    return hc->reject_code;
}

/* ---- the request rate per address ----
 *
 * A token bucket per client address: http_rate tokens a second, at most
 * http_rate_burst. The table is fixed: an address is looked for in
 * RATE_PROBE slots from its hash, and a slot whose bucket is full again is
 * as good as empty, so only addresses sending right now hold places. When
 * every probed slot is held by another busy address the request goes
 * through: the limit is a brake on one noisy address, not a wall that a
 * crowd could turn on everyone. Off by default: behind a proxy every
 * request has the proxy's address. */
#define RATE_SLOTS 4096
#define RATE_PROBE 8

struct rate_slot {
    char addr[48];
    double tokens;
    double at;                   /* now_mono() of the last refill */
};
static struct rate_slot rate_table[RATE_SLOTS];

static size_t rate_hash(const char *s)
{
    size_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

bool http_rate_ok(struct evhttp_request *r, long *retry_after)
{
    if (cfg.http_rate <= 0)
        return true;
    const char *host = http_client_addr(r);
    if (host == NULL)
        return true;
    double now = now_mono(), rate = (double)cfg.http_rate, burst = (double)cfg.http_rate_burst;
    size_t h = rate_hash(host);
    struct rate_slot *slot = NULL;
    for (size_t i = 0; i < RATE_PROBE; i++) {
        struct rate_slot *s = &rate_table[(h + i) % RATE_SLOTS];
        if (strcmp(s->addr, host) == 0) {
            slot = s;
            break;
        }
        bool rested = s->addr[0] == '\0' || s->tokens + (now - s->at) * rate >= burst;
        if (slot == NULL && rested)
            slot = s;
    }
    if (slot == NULL)
        return true;
    if (strcmp(slot->addr, host) != 0) {
        snprintf(slot->addr, sizeof(slot->addr), "%s", host);
        slot->tokens = burst;
        slot->at = now;
    }
    slot->tokens += (now - slot->at) * rate;
    if (slot->tokens > burst)
        slot->tokens = burst;
    slot->at = now;
    if (slot->tokens >= 1.0) {
        slot->tokens -= 1.0;
        return true;
    }
    long wait = (long)((1.0 - slot->tokens) / rate + 0.999);
    *retry_after = wait < 1 ? 1 : wait;
    return false;
}
