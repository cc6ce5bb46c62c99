/* proto.c: CTP/1 framing and tokenising. Bytes in, requests out; no sockets.
 *
 * The parser is incremental: it may be fed one byte at a time or a megabyte at
 * once and gives the same requests either way (the unit tests check this).
 * A line that arrives whole is tokenised where it lies; one split across
 * calls is copied into the parser's own buffer until its LF arrives, so the
 * caller can drain its input buffer after every call either way. */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void proto_init(struct proto_parser *p, size_t line_max, size_t literal_max)
{
    memset(p, 0, sizeof(*p));
    p->line_max = line_max;
    p->literal_max = literal_max;
    p->state = PROTO_LINE;
}

void proto_req_free(struct proto_req *req)
{
    free(req->argv);             /* argl and the words are in it */
    free(req->literal);
    memset(req, 0, sizeof(*req));
}

char *proto_req_take(struct proto_req *req, int i)
{
    char *s = req->argv[i];

    if (s != NULL && s == req->literal)
        req->literal = NULL;
    else if (s != NULL)
        s = xstrndup(s, req->argl[i]);
    req->argv[i] = NULL;
    return s;
}

/* Makes req's one allocation, with room for slots arguments and bytes of
 * words, and returns where the words go. The arrays come first: pointers
 * and sizes share their alignment, which malloc's covers. */
static char *req_block(struct proto_req *req, int slots, size_t bytes)
{
    size_t arrays = (size_t)slots * (sizeof(char *) + sizeof(size_t));
    char *b = xmalloc(arrays + bytes);

    memset(req, 0, sizeof(*req));
    req->argv = (char **)(void *)b;
    req->argl = (size_t *)(void *)(b + (size_t)slots * sizeof(char *));
    return b + arrays;
}

void proto_req_set(struct proto_req *req, int argc, char *const *argv, const size_t *argl)
{
    size_t bytes = 0;

    for (int i = 0; i < argc; i++)
        bytes += (argl ? argl[i] : strlen(argv[i])) + 1;
    char *dst = req_block(req, argc, bytes);
    for (int i = 0; i < argc; i++) {
        size_t n = argl ? argl[i] : strlen(argv[i]);
        copy_bytes(dst, argv[i], n);
        dst[n] = '\0';
        req->argv[i] = dst;
        req->argl[i] = n;
        dst += n + 1;
    }
    req->argc = argc;
}

void proto_reset(struct proto_parser *p)
{
    free(p->line);
    free(p->literal);
    free(p->literal_msg);
    free(p->err_msg);
    proto_req_free(&p->pending);
    size_t lm = p->line_max, xm = p->literal_max;
    proto_init(p, lm, xm);
}

void proto_release(struct proto_parser *p)
{
    if (proto_partial(p))
        return;
    free(p->line);
    p->line = NULL;
    p->line_len = p->line_cap = 0;
    free(p->err_msg);
    p->err_msg = NULL;
}

bool proto_partial(const struct proto_parser *p)
{
    return p->state == PROTO_LITERAL || p->line_len > 0;
}

/* Appends the literal, whose buffer the request takes over: the parser
 * left a slot for it behind the words (proto_tokenize). */
static void req_take_literal(struct proto_req *req, char *s, size_t n)
{
    req->argv[req->argc] = s;
    req->argl[req->argc] = n;
    req->argc++;
    req->literal = s;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Looks for a trailing " {N}" (or a line that is only "{N}"). Returns true if
 * the last token looks like a literal marker at all, with *n the value or -1
 * and *err 400 (malformed) or 413 (too large). */
static bool literal_marker(const char *line, size_t len, size_t literal_max,
                           long long *n, int *err)
{
    *n = -1;
    *err = 0;
    if (len < 2 || line[len - 1] != '}')
        return false;
    size_t open = len - 1;
    while (open > 0 && line[open - 1] != '{' && !is_space(line[open - 1]))
        open--;
    if (open == 0 || line[open - 1] != '{')
        return false;
    open--;                                   /* index of '{' */
    if (open > 0 && !is_space(line[open - 1]))
        return false;                         /* "x{3}" is a plain word */
    size_t digits = len - 1 - open - 1;
    if (digits == 0) {
        *err = 400;
        return true;
    }
    long long v = 0;
    for (size_t i = open + 1; i < len - 1; i++) {
        if (line[i] < '0' || line[i] > '9') {
            *err = 400;
            return true;
        }
        if (digits > PROTO_LITERAL_DIGITS_MAX) {
            *err = 413;
            return true;
        }
        v = v * 10 + (line[i] - '0');
    }
    if ((unsigned long long)v > literal_max) {
        *err = 413;
        *n = v;
        return true;
    }
    *n = v;
    return true;
}

int proto_tokenize(const char *line, size_t len, size_t literal_max,
                   struct proto_req *req, long long *literal, int *lit_err,
                   char *msg, size_t msglen)
{
    bool has_marker = literal_marker(line, len, literal_max, literal, lit_err);
    size_t end = len;

    memset(req, 0, sizeof(*req));
    if (has_marker) {
        if (*lit_err) {
            snprintf(msg, msglen, *lit_err == 413 ? "literal too large (limit %zu bytes)"
                                                  : "malformed literal marker", literal_max);
            return -1;
        }
        while (end > 0 && line[end - 1] != '{')
            end--;
        end--;                                /* drop "{N}" from the tokens */
    }

    /* One allocation holds it all (proto.h): words are at least a byte and
     * a space each, so there are at most (end + 1) / 2 of them, plus the
     * literal; their bytes and NULs are at most end + 1, as unquoting
     * only shortens a word. */
    int slots = (int)(end / 2 + 2 < PROTO_ARGS_MAX ? end / 2 + 2 : PROTO_ARGS_MAX);
    char *dst = req_block(req, slots, end + 1);
    size_t i = 0;
    while (i < end) {
        while (i < end && is_space(line[i]))
            i++;
        if (i >= end)
            break;
        if (req->argc >= PROTO_ARGS_MAX - 1) {
            snprintf(msg, msglen, "too many arguments (limit %d)", PROTO_ARGS_MAX - 1);
            goto fail;
        }
        char *word = dst;
        if (line[i] == '"') {
            i++;
            for (;;) {
                if (i >= end) {
                    snprintf(msg, msglen, "unterminated quoted argument");
                    goto fail;
                }
                char c = line[i++];
                if (c == '"')
                    break;
                if (c == '\\') {
                    if (i >= end) {
                        snprintf(msg, msglen, "unterminated quoted argument");
                        goto fail;
                    }
                    char e = line[i++];
                    switch (e) {
                    case '\\': c = '\\'; break;
                    case '"':  c = '"';  break;
                    case 'n':  c = '\n'; break;
                    case 'r':  c = '\r'; break;
                    case 't':  c = '\t'; break;
                    default:
                        snprintf(msg, msglen, "unknown escape \\%c in quoted argument", e);
                        goto fail;
                    }
                }
                *dst++ = c;
            }
            if (i < end && !is_space(line[i])) {
                snprintf(msg, msglen, "a closing quote must end the argument");
                goto fail;
            }
        } else {
            size_t start = i;    /* a plain word is copied whole, not byte by byte */
            while (i < end && !is_space(line[i])) {
                if (line[i] == '"') {
                    snprintf(msg, msglen, "quote inside an unquoted argument");
                    goto fail;
                }
                i++;
            }
            copy_bytes(dst, line + start, i - start);
            dst += i - start;
        }
        *dst++ = '\0';
        req->argv[req->argc] = word;
        req->argl[req->argc] = (size_t)(dst - word) - 1;
        req->argc++;
    }
    if (req->argc == 0 && has_marker) {
        snprintf(msg, msglen, "a literal needs a verb before it");
        proto_req_free(req);
        return -1;               /* *literal stays set: the bytes are swallowed */
    }
    return 0;

fail:
    proto_req_free(req);
    return -1;
}

/* "GET / HTTP/1.1" and friends: a browser or a proxy on the wrong port.
 * Any line is checked, not only the first: no CTP/1 verb is an HTTP
 * method, so a line of this shape is never a request this port answers. */
static bool looks_like_http(const char *line, size_t len)
{
    static const char *methods[] = { "GET ", "POST ", "HEAD ", "PUT ", "DELETE ",
                                     "OPTIONS ", "CONNECT ", "PATCH ", "TRACE " };
    bool method = false;

    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        size_t m = strlen(methods[i]);
        if (len > m && memcmp(line, methods[i], m) == 0) {
            method = true;
            break;
        }
    }
    if (!method || len < 9)
        return false;
    const char *tail = line + len - 8;        /* "HTTP/1.x" */
    return memcmp(tail, "HTTP/1.", 7) == 0 && tail[-1] == ' ';
}

/* A message kept by the parser: at most PROTO_MSG_MAX bytes of m. */
#define PROTO_MSG_MAX 127
static char *msg_dup(const char *m)
{
    size_t n = strlen(m);
    return xstrndup(m, n < PROTO_MSG_MAX ? n : PROTO_MSG_MAX);
}

static enum proto_result fail(struct proto_parser *p, int code, bool fatal,
                              const char *msg)
{
    p->err_code = code;
    p->err_fatal = fatal;
    free(p->err_msg);
    p->err_msg = msg_dup(msg);
    return PROTO_ERROR;
}

/* Appends n bytes to a growing buffer, keeping room for a NUL after them. */
static void buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 128;
        while (c < *len + n + 1)
            c *= 2;
        *buf = xrealloc(*buf, c);
        *cap = c;
    }
    copy_bytes(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static void line_append(struct proto_parser *p, const char *s, size_t n)
{
    buf_append(&p->line, &p->line_len, &p->line_cap, s, n);
}

/* A complete line, LF excluded (in p->line, or in the caller's input when
 * it arrived whole). Returns PROTO_MORE to go on reading (blank line, or a
 * literal now expected), or a request, or an error. */
static enum proto_result finish_line(struct proto_parser *p, const char *line, size_t len,
                                     struct proto_req *req)
{
    char msg[128];

    if (len > 0 && line[len - 1] == '\r')
        len--;
    p->line_len = 0;                          /* the buffer is reused */

    if (looks_like_http(line, len)) {
        p->err_http = true;
        return fail(p, 400, true, "this port speaks CTP/1, not HTTP");
    }

    size_t k = 0;
    while (k < len && is_space(line[k]))
        k++;
    if (k == len)
        return PROTO_MORE;                    /* blank line */

    /* A line that is bad in itself may still announce a literal: swallow it
     * so the stream stays in step, then report the first problem. */
    const char *bad = NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == 0) {
            bad = "NUL byte in request line";
            break;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            bad = "control character in request line";
            break;
        }
    }
    if (bad == NULL && !utf8_valid(line, len))
        bad = "request line is not valid UTF-8";

    long long lit;
    int lit_err;
    struct proto_req r;
    int rc = -1;
    if (bad == NULL)
        rc = proto_tokenize(line, len, p->literal_max, &r, &lit, &lit_err, msg, sizeof(msg));
    else
        literal_marker(line, len, p->literal_max, &lit, &lit_err);

    if (rc == 0 && lit < 0) {
        *req = r;
        return PROTO_REQUEST;
    }
    if (lit_err)                              /* cannot know where the request ends */
        return fail(p, lit_err, true, lit_err == 413 ? "literal too large" : "malformed literal marker");
    if (lit >= 0) {
        p->state = PROTO_LITERAL;
        p->literal_want = (size_t)lit;
        p->literal_len = 0;
        if (rc == 0) {
            p->pending = r;
            p->literal_error = 0;
        } else {
            p->literal_error = 400;
            free(p->literal_msg);
            p->literal_msg = msg_dup(bad ? bad : msg);
        }
        return PROTO_MORE;
    }
    return fail(p, 400, false, bad ? bad : msg);
}

/* Appends literal bytes, growing the buffer as they arrive rather than
 * reserving the announced size: a client that announces a megabyte and sends
 * nothing costs nothing. */
static void literal_append(struct proto_parser *p, const char *s, size_t n)
{
    buf_append(&p->literal, &p->literal_len, &p->literal_cap, s, n);
}

enum proto_result proto_feed(struct proto_parser *p, const char *buf, size_t len,
                             size_t *consumed, struct proto_req *req)
{
    size_t off = 0;

    memset(req, 0, sizeof(*req));
    p->err_code = 0;
    p->err_fatal = false;
    p->err_http = false;
    free(p->err_msg);
    p->err_msg = NULL;

    /* A literal ends when its bytes are in, which for {0} is at once: the
     * loop goes round once more with nothing left to read for that. */
    while (off < len || (p->state == PROTO_LITERAL && p->literal_len == p->literal_want)) {
        if (p->state == PROTO_LITERAL) {
            size_t want = p->literal_want - p->literal_len;
            size_t n = len - off < want ? len - off : want;
            if (p->literal_error) {
                p->literal_len += n;          /* swallowed, not kept */
            } else {
                /* All of it here at once (the usual case): a buffer of
                 * its size, NUL included, not the next power of two. */
                if (p->literal == NULL && n == want) {
                    p->literal_cap = want + 1;
                    p->literal = xmalloc(p->literal_cap);
                }
                literal_append(p, buf + off, n);
            }
            off += n;
            if (p->literal_len < p->literal_want)
                break;
            p->state = PROTO_LINE;
            *consumed = off;
            if (p->literal_error) {
                p->literal_error = 0;
                p->literal_len = 0;
                enum proto_result r = fail(p, 400, false, p->literal_msg);
                free(p->literal_msg);
                p->literal_msg = NULL;
                return r;
            }
            *req = p->pending;
            memset(&p->pending, 0, sizeof(p->pending));
            /* The buffer itself becomes the argument: no copy. */
            literal_append(p, "", 0);        /* makes sure there is one, NUL-terminated */
            req_take_literal(req, p->literal, p->literal_len);
            p->literal = NULL;
            p->literal_len = p->literal_cap = 0;
            return PROTO_REQUEST;
        }

        const char *lf = memchr(buf + off, '\n', len - off);
        size_t n = lf ? (size_t)(lf - (buf + off)) : len - off;
        /* The limit counts the line without its CRLF; allow one byte for CR. */
        if (p->line_len + n > p->line_max + 1) {
            *consumed = off + n;
            p->line_len = 0;
            return fail(p, 413, true, "request line too long");
        }
        /* A line that arrived whole is read where it lies; only one split
         * across reads is gathered in p->line. */
        const char *line = buf + off;
        size_t line_len = n;
        if (p->line_len > 0 || lf == NULL) {
            line_append(p, buf + off, n);
            line = p->line;
            line_len = p->line_len;
        }
        off += n;
        if (lf == NULL)
            break;
        off++;                                /* the LF */
        if (line_len > 0 && line[line_len - 1] != '\r' && line_len > p->line_max) {
            *consumed = off;
            p->line_len = 0;
            return fail(p, 413, true, "request line too long");
        }
        enum proto_result r = finish_line(p, line, line_len, req);
        if (r != PROTO_MORE) {
            *consumed = off;
            return r;
        }
    }
    *consumed = off;
    return PROTO_MORE;
}

char *proto_quote(const char *s, size_t len)
{
    struct sbuf b = {0};

    sbuf_addc(&b, '"');
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '"':  sbuf_adds(&b, "\\\""); break;
        case '\\': sbuf_adds(&b, "\\\\"); break;
        case '\n': sbuf_adds(&b, "\\n"); break;
        case '\r': sbuf_adds(&b, "\\r"); break;
        case '\t': sbuf_adds(&b, "\\t"); break;
        default:   sbuf_addc(&b, s[i]);
        }
    }
    sbuf_addc(&b, '"');
    return sbuf_take(&b);
}
