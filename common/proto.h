/* proto.h: CTP/1 framing and tokenising. Bytes in, requests out; no sockets. */
#ifndef CAMPUS_PROTO_H
#define CAMPUS_PROTO_H

#include <stdbool.h>
#include <stddef.h>

/* The line and literal limits are settings (line_max, literal_max in
 * config.c's table), passed to proto_parse; only the fixed ones live here. */
#define PROTO_ARGS_MAX            64
#define PROTO_LITERAL_DIGITS_MAX  10

/* One parsed request: argv[0] is the verb as sent. Every argv[i] is
 * NUL-terminated for convenience, but argl[i] is its real length: a literal
 * may hold NUL bytes. The arguments are one allocation (argv's): the argv
 * and argl arrays, then the words' bytes. A literal keeps the buffer it
 * arrived in, owned as literal, and is the last argument. An argument is
 * taken out by moving the ones after it down, never by freeing it. */
struct proto_req {
    int argc;
    char **argv;
    size_t *argl;
    char *literal;
};

enum proto_result {
    PROTO_MORE,      /* all input consumed, no request complete yet */
    PROTO_REQUEST,   /* *req holds a request; feed the rest of the input again */
    PROTO_ERROR,     /* a bad request: code and message set; see fatal */
};

enum proto_state {
    PROTO_LINE,      /* collecting a request line up to LF */
    PROTO_LITERAL,   /* collecting the N bytes announced by {N} */
};

struct proto_parser {
    enum proto_state state;
    size_t line_max;       /* longest request line, CRLF excluded */
    size_t literal_max;    /* largest {N} literal */

    char *line;            /* the line being collected */
    size_t line_len, line_cap;

    /* The request being built while its literal arrives. */
    struct proto_req pending;
    char *literal;
    size_t literal_len, literal_cap, literal_want;
    int literal_error;     /* the line was bad: swallow the literal, then report */
    char *literal_msg;     /* what was wrong with it (owned; NULL when nothing) */

    /* Set when PROTO_ERROR is returned; err_msg (owned by the parser) lasts
     * until the next proto_feed, proto_release or proto_reset. The messages
     * are allocated only when there is one, so that an idle connection's
     * parser holds no text. */
    int err_code;          /* 400 or 413 */
    char *err_msg;
    bool err_fatal;        /* the stream cannot be trusted any more: close */
    bool err_http;         /* the peer speaks HTTP: hang up without a reply */
};

void proto_init(struct proto_parser *p, size_t line_max, size_t literal_max);
void proto_reset(struct proto_parser *p);   /* frees buffers, keeps limits */
/* Between requests (nothing partial): frees the line buffer, which the next
 * line allocates again. An idle connection then holds no buffer. */
void proto_release(struct proto_parser *p);

/* Feeds len bytes. Sets *consumed to how many were used; call again with the
 * rest after PROTO_REQUEST or PROTO_ERROR (unless the error is fatal). On
 * PROTO_REQUEST the caller owns *req and frees it with proto_req_free. Blank
 * lines are skipped silently, so a person at a telnet prompt can press enter. */
enum proto_result proto_feed(struct proto_parser *p, const char *buf, size_t len,
                             size_t *consumed, struct proto_req *req);

/* True while part of a request has arrived but not all of it. */
bool proto_partial(const struct proto_parser *p);

void proto_req_free(struct proto_req *req);
/* Hands argument i over as a buffer of its own, malloc'ed and
 * NUL-terminated (the literal's without a copy), and leaves argv[i] NULL. */
char *proto_req_take(struct proto_req *req, int i);
/* Makes req hold a copy of argc arguments of argl[i] bytes each (argl NULL:
 * strlen), laid out as the parser lays them out. */
void proto_req_set(struct proto_req *req, int argc, char *const *argv, const size_t *argl);

/* Tokenises one request line (no CR/LF) into req. Returns 0, or -1 with a
 * message. *literal is set to N when the line ends in {N}, else -1; *lit_err
 * is set to 413 when N is over literal_max and to 400 when the marker is
 * malformed. Exposed for the unit tests. */
int proto_tokenize(const char *line, size_t len, size_t literal_max,
                   struct proto_req *req, long long *literal, int *lit_err,
                   char *msg, size_t msglen);

/* Writes s quoted so that proto_tokenize gives s back (for clients). */
char *proto_quote(const char *s, size_t len);

#endif
