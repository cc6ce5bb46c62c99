/* compress.c: COMPRESS DEFLATE on CTP/1 (modelled on IMAP's RFC 4978): a
 * bufferevent filter over the connection's socket or TLS bufferevent that
 * inflates what the client sends and deflates what we send, each way one
 * raw deflate stream (no zlib or gzip header). Output is flushed (a sync
 * flush, so the client can decode every byte it has) once the answers of
 * one turn of the loop are queued; input that is corrupt or inflates past
 * COMPRESS_RATIO_MAX is reported to the connection, which closes. */
#include "campusd.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Raw deflate (RFC 1951), the largest window, as RFC 4978 asks. */
#define COMPRESS_WBITS (-15)
/* Bytes of deflated output the lower bufferevent may hold before the filter
 * stops feeding it: past this the answers wait in the connection's own
 * output buffer, where its OUT_HIGH and output_max limits see them. */
#define COMPRESS_UNDER_HIGH (64 * 1024)
/* Inflated bytes waiting for the parser at most: the rest stays compressed
 * until the connection reads on. */
#define COMPRESS_IN_HIGH (64 * 1024)
/* One slice of output reserved at a time. */
#define COMPRESS_SLICE 16384

struct compress {
    z_stream in, out;
    bool in_ready, out_ready;
    bool dirty;                  /* deflated since the last flush */
    bool failed;
    int fail_code;
    char why[96];
    uint64_t raw_in, inflated;   /* for the ratio check */
    struct bufferevent *bev, *under;
    struct event *flush_ev, *fail_ev;
    /* the lower bufferevent's callbacks, as the filter set them */
    bufferevent_data_cb under_read, under_write;
    bufferevent_event_cb under_event;
    void *under_arg;
    void (*on_fail)(void *arg, int code, const char *why);
    void (*on_drained)(void *arg);
    void *arg;
};

static void compress_fail(struct compress *z, int code, const char *why)
{
    if (z->failed)
        return;
    z->failed = true;
    z->fail_code = code;
    snprintf(z->why, sizeof(z->why), "%s", why);
    event_active(z->fail_ev, 0, 0);   /* not from inside the filter */
}

/* Inflates src into dst, at most limit bytes when limit >= 0. */
static enum bufferevent_filter_result inflate_cb(struct evbuffer *src, struct evbuffer *dst,
                                                 ev_ssize_t limit,
                                                 enum bufferevent_flush_mode mode, void *ctx)
{
    struct compress *z = ctx;
    ev_ssize_t made = 0;

    if (z->failed) {
        evbuffer_drain(src, evbuffer_get_length(src));
        return BEV_ERROR;
    }
    while (evbuffer_get_length(src) > 0 && (limit < 0 || made < limit)) {
        struct evbuffer_iovec in, out;
        if (evbuffer_peek(src, -1, NULL, &in, 1) < 1)
            break;
        if (evbuffer_reserve_space(dst, COMPRESS_SLICE, &out, 1) < 1)
            return BEV_ERROR;
        z->in.next_in = in.iov_base;
        z->in.avail_in = (uInt)in.iov_len;
        z->in.next_out = out.iov_base;
        z->in.avail_out = (uInt)out.iov_len;
        int rc = inflate(&z->in, Z_SYNC_FLUSH);
        size_t used = in.iov_len - z->in.avail_in;
        out.iov_len -= z->in.avail_out;
        evbuffer_commit_space(dst, &out, 1);
        evbuffer_drain(src, used);
        z->raw_in += used;
        z->inflated += out.iov_len;
        made += (ev_ssize_t)out.iov_len;
        if (rc == Z_STREAM_END) {
            compress_fail(z, 400, "compressed stream ended");
            return BEV_ERROR;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            compress_fail(z, 400, "compressed stream corrupt");
            return BEV_ERROR;
        }
        /* A bomb: a few bytes that inflate to megabytes. */
        if (z->inflated > COMPRESS_RATIO_FLOOR && z->inflated / COMPRESS_RATIO_MAX > z->raw_in) {
            compress_fail(z, 413, "compressed stream inflates past its ratio limit");
            return BEV_ERROR;
        }
        if (used == 0 && out.iov_len == 0)
            break;               /* zlib needs more input than one chunk */
    }
    return BEV_OK;
}

/* Deflates src into dst; a flush or finish mode ends with a sync flush. */
static enum bufferevent_filter_result deflate_cb(struct evbuffer *src, struct evbuffer *dst,
                                                 ev_ssize_t limit,
                                                 enum bufferevent_flush_mode mode, void *ctx)
{
    struct compress *z = ctx;
    size_t start = evbuffer_get_length(dst);
    bool took = false;

    while (evbuffer_get_length(src) > 0 &&
           (limit < 0 || evbuffer_get_length(dst) - start < (size_t)limit)) {
        struct evbuffer_iovec in, out;
        if (evbuffer_peek(src, -1, NULL, &in, 1) < 1)
            break;
        if (evbuffer_reserve_space(dst, COMPRESS_SLICE, &out, 1) < 1)
            return BEV_ERROR;
        z->out.next_in = in.iov_base;
        z->out.avail_in = (uInt)in.iov_len;
        z->out.next_out = out.iov_base;
        z->out.avail_out = (uInt)out.iov_len;
        if (deflate(&z->out, Z_NO_FLUSH) == Z_STREAM_ERROR)
            fatal("compress: deflate state broken");
        size_t used = in.iov_len - z->out.avail_in;
        out.iov_len -= z->out.avail_out;
        evbuffer_commit_space(dst, &out, 1);
        evbuffer_drain(src, used);
        took = took || used > 0;
    }
    if (took)
        z->dirty = true;
    if (mode != BEV_NORMAL && z->dirty && evbuffer_get_length(src) == 0) {
        int rc;
        do {
            struct evbuffer_iovec out;
            if (evbuffer_reserve_space(dst, COMPRESS_SLICE, &out, 1) < 1)
                return BEV_ERROR;
            z->out.next_in = NULL;
            z->out.avail_in = 0;
            z->out.next_out = out.iov_base;
            z->out.avail_out = (uInt)out.iov_len;
            rc = deflate(&z->out, Z_SYNC_FLUSH);
            out.iov_len -= z->out.avail_out;
            evbuffer_commit_space(dst, &out, 1);
        } while (rc == Z_OK && z->out.avail_out == 0);
        z->dirty = false;
    } else if (took) {
        /* Everything queued in this turn of the loop goes in one flush. */
        event_active(z->flush_ev, 0, 0);
    }
    return BEV_OK;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    struct compress *z = arg;

    if (z->dirty || evbuffer_get_length(bufferevent_get_output(z->bev)) > 0)
        bufferevent_flush(z->bev, EV_WRITE, BEV_FLUSH);
}

static void fail_cb(evutil_socket_t fd, short what, void *arg)
{
    struct compress *z = arg;

    if (z->on_fail)
        z->on_fail(z->arg, z->fail_code, z->why);
}

/* The lower bufferevent's callbacks go to the filter's, and a write that
 * empties it tells the connection: the filter itself only reports its own
 * output buffer draining, which happens long before the socket does. */
static void under_read_cb(struct bufferevent *b, void *arg)
{
    struct compress *z = arg;
    z->under_read(b, z->under_arg);
}

static void under_write_cb(struct bufferevent *b, void *arg)
{
    struct compress *z = arg;
    z->under_write(b, z->under_arg);
    if (z->on_drained && compress_idle(z))
        z->on_drained(z->arg);
}

static void under_event_cb(struct bufferevent *b, short what, void *arg)
{
    struct compress *z = arg;
    z->under_event(b, what, z->under_arg);
}

static void compress_free(void *ctx)
{
    struct compress *z = ctx;

    if (z->in_ready)
        inflateEnd(&z->in);
    if (z->out_ready)
        deflateEnd(&z->out);
    event_free(z->flush_ev);
    event_free(z->fail_ev);
    free(z);
}

struct bufferevent *compress_new(struct bufferevent *under, void (*on_fail)(void *, int, const char *),
                                 void (*on_drained)(void *), void *arg, struct compress **out)
{
    struct compress *z = xcalloc(1, sizeof(*z));
    struct event_base *base = bufferevent_get_base(under);

    if (inflateInit2(&z->in, COMPRESS_WBITS) != Z_OK) {
        free(z);
        return NULL;
    }
    z->in_ready = true;
    if (deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, COMPRESS_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        compress_free(z);
        return NULL;
    }
    z->out_ready = true;
    z->flush_ev = event_new(base, -1, 0, flush_cb, z);
    z->fail_ev = event_new(base, -1, 0, fail_cb, z);
    z->on_fail = on_fail;
    z->on_drained = on_drained;
    z->arg = arg;
    z->under = under;
    z->bev = bufferevent_filter_new(under, inflate_cb, deflate_cb,
                                    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS,
                                    compress_free, z);
    if (z->bev == NULL) {
        compress_free(z);
        return NULL;
    }
    bufferevent_getcb(under, &z->under_read, &z->under_write, &z->under_event, &z->under_arg);
    bufferevent_setcb(under, under_read_cb, under_write_cb, under_event_cb, z);
    bufferevent_setwatermark(under, EV_WRITE, 0, COMPRESS_UNDER_HIGH);
    bufferevent_setwatermark(z->bev, EV_READ, 0, COMPRESS_IN_HIGH);
    *out = z;
    return z->bev;
}

void compress_start_input(struct compress *z)
{
    /* What the client sent right behind COMPRESS already sits, compressed,
     * in the lower buffer: nothing would read it before more arrives. */
    if (evbuffer_get_length(bufferevent_get_input(z->under)) > 0)
        bufferevent_flush(z->bev, EV_READ, BEV_NORMAL);
}

bool compress_idle(const struct compress *z)
{
    return !z->dirty && evbuffer_get_length(bufferevent_get_output(z->bev)) == 0 &&
           evbuffer_get_length(bufferevent_get_output(z->under)) == 0;
}

void compress_forget(struct compress *z)
{
    z->on_fail = NULL;
    z->on_drained = NULL;
    event_del(z->flush_ev);
    event_del(z->fail_ev);
}

void compress_totals(const struct compress *z, uint64_t *in_raw, uint64_t *in_inflated,
                     uint64_t *out_raw, uint64_t *out_deflated)
{
    *in_raw = z->raw_in;
    *in_inflated = z->inflated;
    *out_raw = z->out.total_in;
    *out_deflated = z->out.total_out;
}
