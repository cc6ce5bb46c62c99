/* reply.c: what a handler answers, rendered for CTP/1 or as JSON for HTTP. */
#include "campusd.h"

#include <stdio.h>
#include <string.h>

void reply_init(struct reply *r)
{
    memset(r, 0, sizeof(*r));
}

void reply_clear(struct reply *r)
{
    if (r->body)
        evbuffer_free(r->body);
    json_decref(r->rows);
    json_decref(r->kv);
    json_decref(r->kv_keys);
    json_decref(r->meta);
    if (r->json)
        evbuffer_free(r->json);
    if (r->wire && r->wire_release)
        r->wire_release(r->wire, r->wire_len, r->wire_arg);
    reply_init(r);
}

#define STATUS_LINE_MAX 300

/* "CODE text\r\n" into line (STATUS_LINE_MAX bytes), the text cut to fit
 * and, when body_len is not NO_BODY, " {N}" after it: the text is cut
 * short enough that the marker, which frames the body, always fits.
 * Returns its length. Every CTP/1 answer comes through here, so it
 * formats by hand: snprintf was a tenth of the user-space time of an
 * ECHO (perf, 16 KiB at 50 connections). */
#define NO_BODY ((size_t)-1)
#define MARKER_MAX 24            /* " {" and 20 digits and "}" */
static size_t status_format(char line[STATUS_LINE_MAX], int code, const char *text,
                            size_t body_len)
{
    char num[24];
    size_t nd = 0, n = 0;
    size_t text_end = STATUS_LINE_MAX - 3 - (body_len != NO_BODY ? MARKER_MAX : 0);

    if (code < 0 || code > 999)
        code = 500;
    line[n++] = (char)('0' + code / 100);
    line[n++] = (char)('0' + code / 10 % 10);
    line[n++] = (char)('0' + code % 10);
    line[n++] = ' ';
    for (const char *p = text; *p && n < text_end; p++) {
        unsigned char c = (unsigned char)*p;
        line[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    if (body_len != NO_BODY) {
        size_t v = body_len;
        do {
            num[nd++] = (char)('0' + v % 10);
            v /= 10;
        } while (v > 0);
        line[n++] = ' ';
        line[n++] = '{';
        while (nd > 0)
            line[n++] = num[--nd];
        line[n++] = '}';
    }
    line[n++] = '\r';
    line[n++] = '\n';
    return n;
}

void reply_status_line(struct evbuffer *out, int code, const char *text)
{
    char line[STATUS_LINE_MAX];

    evbuffer_add(out, line, status_format(line, code, text, NO_BODY));
}

char *reply_ctp_answer(int code, const char *msg, const char *body, size_t len, size_t *out_len)
{
    char line[STATUS_LINE_MAX];

    size_t n = status_format(line, code, msg, len);
    char *p = xmalloc(n + len + 2);
    memcpy(p, line, n);
    memcpy(p + n, body, len);
    memcpy(p + n + len, "\r\n", 2);
    *out_len = n + len + 2;
    return p;
}

/* A table cell or kv value must stay on its line and in its column. */
static void add_cell(struct evbuffer *out, const char *s)
{
    const char *p = s;
    for (const char *q = s; *q; q++) {
        if (*q == '\t' || *q == '\n' || *q == '\r') {
            evbuffer_add(out, p, (size_t)(q - p));
            evbuffer_add(out, " ", 1);
            p = q + 1;
        }
    }
    evbuffer_add(out, p, strlen(p));
}

static const char *cell_text(json_t *v, char *tmp, size_t n)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(tmp, n, "%lld", (long long)json_integer_value(v));
        return tmp;
    }
    if (json_is_real(v)) {
        snprintf(tmp, n, "%g", json_real_value(v));
        return tmp;
    }
    if (json_is_true(v))
        return "yes";
    if (json_is_false(v))
        return "no";
    return "";
}

void reply_render_ctp(struct reply *r, struct evbuffer *out, bool to_socket)
{
    struct evbuffer *body = NULL;
    char tmp[64];

    if (r->wire) {
        /* The output holds it now, and releases it once written; a file
         * segment holds its own reference, so the memory's goes at once. */
        if (to_socket && r->wire_seg &&
            evbuffer_add_file_segment(out, r->wire_seg, 0, (ev_off_t)r->wire_len) == 0) {
            if (r->wire_release)
                r->wire_release(r->wire, r->wire_len, r->wire_arg);
        } else if (evbuffer_add_reference(out, r->wire, r->wire_len, r->wire_release,
                                          r->wire_arg) < 0 && r->wire_release) {
            r->wire_release(r->wire, r->wire_len, r->wire_arg);
        }
        r->wire = NULL;
        return;
    }
    if (r->kind == REPLY_NONE) {
        reply_status_line(out, r->code, r->msg);
        return;
    }
    if (r->kind == REPLY_TEXT) {
        body = r->body;
    } else {
        body = evbuffer_new();
        if (r->kind == REPLY_TABLE) {
            size_t i, j;
            json_t *row, *cell;
            json_array_foreach(r->rows, i, row) {
                json_array_foreach(row, j, cell) {
                    if (j > 0)
                        evbuffer_add(body, "\t", 1);
                    add_cell(body, cell_text(cell, tmp, sizeof(tmp)));
                }
                evbuffer_add(body, "\n", 1);
            }
        } else {
            size_t i;
            json_t *key;
            json_array_foreach(r->kv_keys, i, key) {
                const char *k = json_string_value(key);
                add_cell(body, k);
                evbuffer_add(body, "\t", 1);
                add_cell(body, cell_text(json_object_get(r->kv, k), tmp, sizeof(tmp)));
                evbuffer_add(body, "\n", 1);
            }
        }
    }

    size_t len = body ? evbuffer_get_length(body) : 0;
    char line[STATUS_LINE_MAX];
    evbuffer_add(out, line, status_format(line, r->code, r->msg, len));
    /* The body's chains move into the output, a referenced literal or
     * document with them, uncopied; the reply is cleared once rendered. */
    if (body)
        evbuffer_add_buffer(out, body);
    evbuffer_add(out, "\r\n", 2);
    if (body && body != r->body)
        evbuffer_free(body);
}

char *reply_render_json(const struct reply *r, size_t *len)
{
    json_t *doc = json_object();

    json_object_set_new(doc, "code", json_integer(r->code));
    json_object_set_new(doc, r->code < 400 ? "message" : "error", json_string(r->msg));
    if (r->meta)
        json_object_set(doc, "data", r->meta);
    if (r->kind == REPLY_TEXT && r->body) {
        size_t n = evbuffer_get_length(r->body);
        const char *p = (const char *)evbuffer_pullup(r->body, -1);
        json_object_set_new(doc, "body", json_stringn(p ? p : "", n));
    } else if (r->kind == REPLY_TABLE && json_array_size(r->rows) > 0) {
        json_t *header = json_array_get(r->rows, 0), *items = json_array();
        for (size_t i = 1; i < json_array_size(r->rows); i++) {
            json_t *row = json_array_get(r->rows, i), *obj = json_object();
            for (size_t j = 0; j < json_array_size(header); j++)
                json_object_set(obj, json_string_value(json_array_get(header, j)),
                                json_array_get(row, j));
            json_array_append_new(items, obj);
        }
        json_object_set_new(doc, "items", items);
    } else if (r->kind == REPLY_KV) {
        json_object_set(doc, "data", r->kv);
    }
    char *s = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(doc);
    if (s == NULL)
        fatal("json_dumps failed");
    *len = strlen(s);
    return s;
}
