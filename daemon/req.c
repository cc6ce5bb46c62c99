/* req.c: how handlers answer a request, whichever protocol it came by. */
#include "campusd.h"

#include <hiredis/hiredis.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void finish(struct req *req, int code)
{
    if (req->done)
        fatal("request answered twice (%s)", req->cmd ? req->cmd->name : "?");
    req->reply.code = code;
    req->done = true;
    stats_reply_code(code);
    stats_latency(now_mono() - req->started);
    req->on_done(req);
}

static void set_msg(struct req *req, const char *fmt, va_list ap)
{
    vsnprintf(req->reply.msg, sizeof(req->reply.msg), fmt, ap);
}

void req_reply(struct req *req, int code, const char *fmt, ...)
{
    va_list ap;

    /* What a learner reads comes in their language when the catalogue
     * has it (i18n.c); the conversions are the same, so ap fits. */
    const char *shown = i18n_fmt(i18n_msg_lang(req), fmt);
    va_start(ap, fmt);
    set_msg(req, shown, ap);
    va_end(ap);
    finish(req, code);
}

void req_store_unavailable(struct req *req)
{
    req_reply(req, 503, REQ_STORE_UNAVAILABLE);
}

bool req_store_failed(struct req *req, struct redisReply *reply)
{
    if (reply == NULL) {
        req_store_unavailable(req);
        return true;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        log_warn("store: %s: %.200s", req->cmd ? req->cmd->name : "?", reply->str);
        req_store_unavailable(req);
        return true;
    }
    return false;
}

/* The status text, cut to REPLY_MSG_MAX - 1 bytes as snprintf would, but
 * without its cost on the path every text answer takes. */
static void msg_set(char dst[REPLY_MSG_MAX], const char *msg)
{
    size_t n = strnlen(msg, REPLY_MSG_MAX - 1);

    memmove(dst, msg, n);            /* a caller may pass the text back */
    dst[n] = '\0';
}

void req_reply_text(struct req *req, int code, const char *msg, const char *content_type,
                    const void *body, size_t len)
{
    msg_set(req->reply.msg, msg);
    req->reply.kind = REPLY_TEXT;
    req->reply.content_type = content_type;
    req->reply.body = evbuffer_new();
    evbuffer_add(req->reply.body, body, len);
    finish(req, code);
}

static void free_body(const void *data, size_t len, void *arg)
{
    free(arg);
}

void req_reply_owned(struct req *req, int code, const char *msg, const char *content_type,
                     char *body, size_t len)
{
    req_reply_ref(req, code, msg, content_type, body, len, free_body, body);
}

void req_reply_ref(struct req *req, int code, const char *msg, const char *content_type,
                   const char *body, size_t len,
                   void (*release)(const void *body, size_t len, void *arg), void *arg)
{
    msg_set(req->reply.msg, msg);
    req->reply.kind = REPLY_TEXT;
    req->reply.content_type = content_type;
    req->reply.body = evbuffer_new();
    evbuffer_add_reference(req->reply.body, body, len, release, arg);
    finish(req, code);
}

void req_table(struct req *req, int ncols, ...)
{
    va_list ap;
    json_t *header = json_array();

    va_start(ap, ncols);
    for (int i = 0; i < ncols; i++)
        json_array_append_new(header, json_string(va_arg(ap, const char *)));
    va_end(ap);
    req->reply.kind = REPLY_TABLE;
    req->reply.rows = json_array();
    json_array_append_new(req->reply.rows, header);
}

/* Each value is a const char *; NULL becomes "". */
void req_row(struct req *req, int ncols, ...)
{
    va_list ap;
    json_t *row = json_array();

    va_start(ap, ncols);
    for (int i = 0; i < ncols; i++) {
        const char *v = va_arg(ap, const char *);
        json_array_append_new(row, json_string(v ? v : ""));
    }
    va_end(ap);
    json_array_append_new(req->reply.rows, row);
}

void req_kv(struct req *req, const char *key, const char *fmt, ...)
{
    va_list ap;
    char *v;

    if (req->reply.kind != REPLY_KV) {
        req->reply.kind = REPLY_KV;
        req->reply.kv = json_object();
        req->reply.kv_keys = json_array();
    }
    va_start(ap, fmt);
    if (vasprintf(&v, fmt, ap) < 0)
        fatal("out of memory");
    va_end(ap);
    if (json_object_get(req->reply.kv, key) == NULL)
        json_array_append_new(req->reply.kv_keys, json_string(key));
    json_object_set_new(req->reply.kv, key, json_string(v));
    free(v);
}

void req_reply_data(struct req *req, int code, const char *fmt, ...)
{
    va_list ap;

    /* A status a learner reads (progress, attempts, done) in their
     * language too, where the catalogue has it. */
    va_start(ap, fmt);
    set_msg(req, i18n_fmt(i18n_msg_lang(req), fmt), ap);
    va_end(ap);
    finish(req, code);
}

void req_free(struct req *req)
{
    proto_req_free(&req->args);
    reply_clear(&req->reply);
    free(req->user);
    free(req->accept_language);
    free(req->prereq_missing);
    free(req);
}

void req_meta(struct req *req, const char *key, const char *value)
{
    if (req->reply.meta == NULL)
        req->reply.meta = json_object();
    json_object_set_new(req->reply.meta, key, value ? json_string(value) : json_null());
}

void req_meta_int(struct req *req, const char *key, long long value)
{
    if (req->reply.meta == NULL)
        req->reply.meta = json_object();
    json_object_set_new(req->reply.meta, key, json_integer(value));
}

void req_meta_json(struct req *req, const char *key, json_t *value)
{
    if (req->reply.meta == NULL)
        req->reply.meta = json_object();
    json_object_set_new(req->reply.meta, key, value);
}

void req_etag(struct req *req, const char *etag)
{
    snprintf(req->reply.etag, sizeof(req->reply.etag), "\"%s\"", etag);
}

void req_reply_json_ref(struct req *req, int code, const char *json, size_t len,
                        void (*release)(const void *, size_t, void *), void *arg)
{
    req->reply.json = evbuffer_new();
    evbuffer_add_reference(req->reply.json, json, len, release, arg);
    finish(req, code);
}

void req_reply_wire_ref(struct req *req, int code, const char *wire, size_t len,
                        struct evbuffer_file_segment *seg,
                        void (*release)(const void *, size_t, void *), void *arg)
{
    req->reply.wire = wire;
    req->reply.wire_seg = seg;
    req->reply.wire_len = len;
    req->reply.wire_release = release;
    req->reply.wire_arg = arg;
    finish(req, code);
}

void req_reply_json_ref_gzip(struct req *req, int code, const char *gz, size_t len,
                             void (*release)(const void *, size_t, void *), void *arg)
{
    req->reply.json_gzip = true;
    req_reply_json_ref(req, code, gz, len, release, arg);
}
