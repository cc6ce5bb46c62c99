/* campus.h: the terminal client's map: its types and, file by file, the
 * functions each file offers the others. */
#ifndef CAMPUS_CLIENT_H
#define CAMPUS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <libintl.h>

#include "answer.h"
#include "util.h"

/* Exit statuses, documented in campus --help and campus(1). */
enum {
    CAMPUS_EXIT_OK = 0,
    CAMPUS_EXIT_REFUSED = 1,      /* the server said no (4xx), or cancelled */
    CAMPUS_EXIT_USAGE = 2,        /* a mistake on the command line */
    CAMPUS_EXIT_UNAVAILABLE = 3,  /* no connection, or the server failed (5xx) */
    CAMPUS_EXIT_LOGIN = 4,        /* not logged in, or the session has ended */
};

#define CAMPUS_DEFAULT_SERVER "localhost:7070"
#define CAMPUS_PORT_PLAIN "7070"
#define CAMPUS_PORT_TLS "7071"
#define CAMPUS_TIMEOUT_MS 30000
#define CAMPUS_WIDTH_MIN 20
#define CAMPUS_WIDTH_MAX 1000

/* ---- resp.c: one response, and the listings and key-value bodies it
 * carries. Pure: no sockets. ---- */

struct resp {
    int code;           /* 0 until answered */
    char *text;         /* status text without the {N} marker */
    char *body;         /* NUL-terminated copy of the body, NULL if none */
    size_t body_len;
};

/* A tab-separated listing: row 0 is the header. */
struct listing {
    size_t nrows;
    size_t *ncells;
    char ***cells;
};

void resp_free(struct resp *r);
/* Parses a status line (no CRLF): "CODE text" or "CODE text {N}". Sets
 * *code, *text (caller frees) and *body_len (-1 when no body). Returns 0, or
 * -1 when the line is not a status line. */
int resp_status_parse(const char *line, size_t len, int *code, char **text,
                      long long *body_len);
/* Splits a listing body into rows and cells (copies; listing_free frees). */
void listing_parse(const char *body, size_t len, struct listing *t);
void listing_free(struct listing *t);
/* The index of the header cell named name, or -1. */
int listing_col(const struct listing *t, const char *name);
/* The cell at row, col, or "" when the row is short. */
const char *listing_cell(const struct listing *t, size_t row, int col);
/* The value of "key=" in a status text such as READ's "ID version=V
 * prev=P next=N", or NULL when absent or "-". Caller frees. */
char *resp_status_field(const char *text, const char *key);
/* The value of key in a key-value body, as a new string, or NULL. */
char *resp_kv(const struct resp *r, const char *key);

/* ---- config.c: where the server is, the saved session, local paths ---- */

struct config {
    char *server;             /* the server to use */
    const char *server_from;  /* which setting gave it */
    bool no_tls;              /* --no-tls: never upgrade */
    bool no_compress;         /* --no-compress: never COMPRESS DEFLATE */
    int timeout_ms;
    char *config_dir;         /* $XDG_CONFIG_HOME/campus */
    char *cache_dir;          /* $XDG_CACHE_HOME/campus */
    char *state_dir;          /* $XDG_STATE_HOME/campus */
    /* The session saved at login (all NULL when logged out). */
    char *saved_server, *user, *token;
};

/* Fills c: server from opt_server (--server), else $CAMPUS_SERVER, else
 * the server saved at login, else localhost:7070; reads the saved session.
 * Returns 0 (a missing or unreadable session file is a logged-out state). */
int config_load(struct config *c, const char *opt_server);
void config_free(struct config *c);
/* The saved token when it belongs to the server in use, else NULL: a token
 * is never sent to another server. */
const char *config_token(const struct config *c);
/* Saves server, user and token (mode 0600, written whole then renamed).
 * Returns 0 or -1 with errno. */
int config_session_save(struct config *c, const char *server, const char *user,
                        const char *token);
/* Forgets the saved session (the server stays saved). Returns 0 or -1. */
int config_session_forget(struct config *c);
/* Creates dir and its parents with mode (0700 for ours). Returns 0 or -1. */
int config_mkdir(const char *dir);
/* Writes len bytes to path through a temporary file and rename, with mode.
 * Returns 0 or -1 with errno. */
int config_write_file(const char *path, const void *data, size_t len, int mode);
/* Reads a whole file into a new NUL-terminated string, or NULL. */
char *config_read_file(const char *path, size_t *len);
/* A file name safe form of the server ("host_port"); caller frees. */
char *config_server_key(const char *server);

/* ---- net.c: one connection: TCP, greeting, STARTTLS or TLS from the
 * first byte, requests written in batches, responses read in order ---- */

struct net {
    int fd;
    void *ssl_ctx, *ssl;             /* SSL_CTX *, SSL * */
    char *id;                        /* "host:port" as configured: messages, the pin */
    char *in;                        /* bytes read and not yet parsed */
    size_t in_len, in_cap, in_off;
    struct sbuf out;                 /* requests not yet written */
    size_t out_clear;                /* ... of which the first bytes go uncompressed */
    unsigned long long raw_in, raw_out;  /* bytes on the socket before TLS */
    int timeout_ms;
    bool tls;
    bool tls_resumed;                /* the handshake resumed a saved session */
    bool learned_port;               /* connected to the TLS port HELLO named */
    bool learned_failed;             /* ... tried it, and it failed: forget it */
    bool greeting_due;               /* TLS from the first byte: greeting not read yet */
    bool compress_due;               /* COMPRESS sent, its answer not read yet */
    bool compress_refused;           /* ... and it was not 200 */
    bool keep_pushes;                /* keep push lines read between responses (live) */
    struct resp *pushes;             /* ... here, oldest first */
    size_t npushes;
    void *zin, *zout;                /* z_stream *: COMPRESS DEFLATE is on */
    char *session_path;              /* where this server's TLS session is kept, or NULL */
    void *held_session;              /* SSL_SESSION * that came before the pin check */
};

struct net_opts {
    bool no_tls;                     /* never TLS (--no-tls) */
    bool no_compress;                /* never COMPRESS DEFLATE (--no-compress) */
    int timeout_ms;
    const char *known_path;          /* pinned certificates (see below) */
    const char *tls_session_path;    /* a TLS session kept for resumption, or NULL */
    long tls_port;                   /* the TLS port this server's HELLO named, or 0 */
};

/* Connects to server ("host[:port]" or "tls://host[:port]"). With a
 * tls_port learned from the server and TLS allowed, it first tries TLS
 * from the first byte on that port of the same host (falling back to the
 * configured address when that fails, with learned_failed set); else,
 * unless no_tls, it reads the greeting and upgrades with STARTTLS when the
 * server offers TLS. A TLS session saved at tls_session_path is offered
 * for resumption, and the server's new ones are saved there. Then, unless
 * no_compress, COMPRESS DEFLATE is queued, not waited for: the requests
 * queued behind it go deflated in the same write, and its answer (and the
 * greeting, on TLS from the first byte) is read in front of the first
 * response; a refusal fails that read with compress_refused set (open
 * again with no_compress). known_path is the file of pinned certificates
 * used when a certificate does not verify against the system's CAs,
 * keyed by the configured host:port. Returns 0, or -1 with a one-line
 * reason in err. */
int net_open(struct net *n, const char *server, const struct net_opts *o, char *err,
             size_t errlen);
void net_close(struct net *n);
bool net_is_open(const struct net *n);
/* Queues one request. Arguments are sent as words, quoted when they need
 * it, and the last one as a {N} literal when quoting cannot carry it or
 * literal_last is set. Returns 0, or -1 when an argument other than the
 * last holds bytes no quoting can carry. */
int net_add(struct net *n, int argc, char *const *argv, const size_t *argl, bool literal_last);
/* Writes every queued request. Returns 0 or -1 with err. */
int net_flush(struct net *n, char *err, size_t errlen);
/* Reads the next response into r (r is overwritten). Returns 0, or -1 when
 * the connection failed or the server broke the framing (err set). */
int net_read(struct net *n, struct resp *r, char *err, size_t errlen);
/* The next push line ("* ..."; its text without the "* ", code 0, body if
 * any): one kept while reading responses, else read from the socket (a
 * response there is an error: nothing was asked). Returns 0 or -1. */
int net_read_push(struct net *n, struct resp *r, char *err, size_t errlen);
/* True when bytes are already read but not parsed (poll() would not say). */
bool net_buffered(const struct net *n);
/* Bytes written and read on the socket, TLS records included. */
unsigned long long net_bytes_out(const struct net *n);
unsigned long long net_bytes_in(const struct net *n);

/* ---- session.c: requests in pipelined batches over a connection that
 * resumes the saved session, replays the offline queue, and reconnects
 * once when the link drops; what it learns of a server (its TLS port,
 * whether it takes COMPRESS) is kept in the state dir ---- */

struct request {
    int argc;
    char **argv;
    size_t *argl;
    bool literal_last;  /* send the last argument as a {N} literal */
    bool retry;         /* safe to send again after the link dropped */
    struct resp resp;   /* the answer (code 0 until answered) */
};

struct session {
    struct config *cfg;
    struct net net;
    bool authed;                   /* AUTH succeeded on this connection */
    bool session_ended;            /* the server refused the saved token */
    int connections;               /* opened so far */
    bool sent;                     /* the last batch began to be written */
    bool learn;                    /* ask HELLO on this connection (session.c) */
    bool learn_lost;               /* ... and the link was lost reading it */
    bool compress_refused;         /* the server refused COMPRESS: send again without */
    long learned_tls_port;         /* from the server's HELLO; 0: none */
    int learned_compress;          /* 1 it takes COMPRESS, 0 it refused it, -1 unknown */
    unsigned long long bytes_in, bytes_out;   /* on closed connections */
    char err[512];
};

void request_init(struct request *r, bool retry);
void request_arg(struct request *r, const char *s);
void request_argn(struct request *r, const char *p, size_t n);
void request_free(struct request *r);

void session_init(struct session *s, struct config *cfg);
void session_close(struct session *s);
/* Sends the n requests pipelined (after AUTH and queued DONE marks on a new
 * connection) and fills each one's resp. Returns 0 when every request was
 * answered; -1 when the link failed and one reconnect did not help, or a
 * request that is not safe to repeat was lost (s->err says which). */
int session_run(struct session *s, struct request *reqs, size_t n);
/* Opens the connection now (for commands that must know). Returns 0/-1. */
int session_connect(struct session *s);
unsigned long long session_bytes_in(const struct session *s);
unsigned long long session_bytes_out(const struct session *s);

/* ---- offline.c: the lesson cache and the queue of DONE marks ---- */

/* The cached text of lesson id, or NULL. Caller frees. */
char *offline_lesson(const struct config *c, const char *id, size_t *len);
/* Stores a lesson's text when its course is synced (or force). */
void offline_store(const struct config *c, const char *id, const char *text, size_t len,
                   bool force);
/* Stores a course's outline listing (COURSE body). */
void offline_store_outline(const struct config *c, const char *course, const char *body,
                           size_t len);
/* The cached outline of a course, or NULL. Caller frees. */
char *offline_outline(const struct config *c, const char *course, size_t *len);
/* A course file saved by sync (COURSE/files/NAME in the cache), and reading
 * it back (NULL when not synced). */
void offline_store_file(const struct config *c, const char *course, const char *name,
                        const char *data, size_t len);
char *offline_file(const struct config *c, const char *course, const char *name, size_t *len);
/* The lesson after id in its course's cached outline, or NULL. */
char *offline_after(const struct config *c, const char *id);
/* Every lesson id in the cached outlines, for completion; caller frees the
 * array and its strings. */
char **offline_known_ids(const struct config *c, size_t *n);
/* Appends a DONE mark made without a link. Returns 0 or -1. */
int offline_queue_add(const struct config *c, const char *user, const char *lesson);
/* The queued marks of user as DONE requests (caller frees each and the
 * array); *n may be 0. */
struct request *offline_queue_requests(const struct config *c, const char *user, size_t *n);
/* Drops from the queue the marks the server has (200) or will never take
 * (404, 400), after a replay of n requests. */
void offline_queue_settle(const struct config *c, const char *user, struct request *reqs,
                          size_t n);
/* How many marks are waiting. */
size_t offline_queue_count(const struct config *c);
/* Remembers the last lesson read and its successor (for read/done with
 * no argument); reads them back (caller frees; NULL when none). */
void offline_last_set(const struct config *c, const char *lesson, const char *next);
char *offline_last(const struct config *c, bool want_next);

/* ---- answer-check.c: what each task's answer must look like, from the
 * exercise's JSON view. Pure. ---- */

enum check_kind {
    CHECK_TEXT,        /* anything not empty; the server decides the rest */
    CHECK_FREE,        /* free text, not empty */
    CHECK_NUMBER,      /* one number, the task's unit may follow */
    CHECK_CHOICE,      /* one option letter */
    CHECK_LETTERS,     /* option letters separated by commas */
    CHECK_TRUEFALSE,   /* true or false (t, f) */
    CHECK_ORDER,       /* every item number once */
    CHECK_CLASSIFY,    /* key=item,item ... with the task's keys */
};

struct check_rule {
    char *id;                 /* the task's id as the text view shows it */
    enum check_kind kind;
    size_t noptions;          /* CHECK_CHOICE, CHECK_LETTERS */
    size_t nitems;            /* CHECK_ORDER, CHECK_CLASSIFY */
    char **keys;              /* CHECK_CLASSIFY: the category keys */
    size_t nkeys;
    char *unit;               /* CHECK_NUMBER: NULL when none */
};

struct check_rules {
    struct check_rule *rules;
    size_t n;
};

/* Fills rs from the body of EXERCISE id json (no rules when it does not
 * parse: then only emptiness is checked). Free with check_rules_free. */
void check_rules_parse(const char *json, size_t len, struct check_rules *rs);
void check_rules_free(struct check_rules *rs);
/* The rule of task id, or NULL (owned by rs). */
const struct check_rule *check_rule_find(const struct check_rules *rs, const char *id);
/* Returns 0 when answer has the form r asks for (r NULL: not empty), or -1
 * with what is expected, in the task's own terms, in why. */
int check_answer(const struct check_rule *r, const char *answer, char *why, size_t whylen);

/* ---- draft.c: the answers of an exercise not yet submitted, kept in the
 * state dir beside the DONE queue ---- */

struct draft_answer {
    char *id, *answer;
};

struct draft {
    char *saved;              /* "YYYY-MM-DD HH:MM", local time */
    long attempt;             /* the attempt it was made for, 0 if unknown */
    struct draft_answer *answers;
    size_t n;
};

/* Saves the answers (ids[i], answers[i]; NULL answers left out) as the
 * draft of exercise id for the logged-in user: an answer document with a
 * comment line on top, mode 0600, written whole then renamed. Returns 0,
 * or -1 with errno (or when there is no user or the id is bad). */
int draft_save(const struct config *c, const char *id, long attempt, char *const *ids,
               char *const *answers, size_t n);
/* Reads the draft of id into d (free with draft_free). Returns 0, or -1
 * when there is none. */
int draft_load(const struct config *c, const char *id, struct draft *d);
void draft_free(struct draft *d);
/* Removes the draft of id (after a SUBMIT that was answered 200). */
void draft_remove(const struct config *c, const char *id);
/* The draft's path, or NULL when there is no user or the id is bad.
 * Caller frees. */
char *draft_path(const struct config *c, const char *id);

/* ---- jws.c: certificates checked here: strict base64url, the compact
 * JWS verified against saved issuer keys, key sets merged. Pure. ---- */

/* Decodes base64url strictly (URL alphabet, no padding, canonical only).
 * Returns 0 with *out (caller frees) or -1. */
int jws_b64url_decode(const char *s, size_t len, unsigned char **out, size_t *outlen);
/* Checks the form and header of a compact JWS (three base64url parts, alg
 * EdDSA, a kid, no crit) and copies its kid. Returns 0 or -1 with why. */
int jws_kid(const char *jws, size_t len, char *kid, size_t kidlen, char *why, size_t whylen);
/* Parses a compact JWS without checking its signature: the header must say
 * alg EdDSA and carry a kid (copied to kid). Returns 0 with *payload (the
 * caller's reference), or -1 with the reason in why. */
int jws_payload(const char *jws, size_t len, json_t **payload, char *kid, size_t kidlen,
                char *why, size_t whylen);
/* Verifies a compact JWS against keys (a JWK Set): known kid, Ed25519
 * signature, nbf and exp against now (seconds). Returns 0, or -1 with the
 * reason in why. The payload is parsed only after the signature holds;
 * *payload is then set (caller's reference), even when nbf or exp fail. */
int jws_verify(const char *jws, size_t len, json_t *keys, long long now, json_t **payload,
               char *why, size_t whylen);
/* Adds to saved (a JWK Set) the keys of offered whose kid is new. A kid
 * already saved with another key refuses the whole set. Returns 0 with
 * *added, or -1 with the reason (saved unchanged). */
int jws_keys_merge(json_t *saved, json_t *offered, size_t *added, char *why, size_t whylen);

/* ---- i18n.c: messages through gettext, and campus lang ---- */

/* The client's messages: _("...") is looked up in the catalogue of the
 * language chosen (campus lang, else LANGUAGE, LC_ALL, LC_MESSAGES, LANG);
 * N_("...") marks a string translated where it is printed. The
 * catalogues are po/fr.po and po/es.po, compiled by the build. */
#define CAMPUS_TEXTDOMAIN "campus"
#define _(s) gettext(s)
#define N_(s) (s)

/* Sets the locale, the language (saved with campus lang, else the
 * environment's; a locale that is not installed falls back to C.UTF-8
 * with LANGUAGE from LANG) and the catalogue's folder. Call again after
 * the saved language changes. c may be NULL (before the config is read). */
struct ctx;
void client_i18n_init(const struct config *c);
int cmd_lang(struct ctx *ctx, int argc, char **argv);

/* ---- render.c: output for a terminal or a pipe ---- */

void render_init(void);
bool render_tty(void);          /* stdout is a terminal */
bool render_colour(void);       /* a terminal, and NO_COLOR is not set */
int render_width(void);         /* terminal columns, 80 when piped */
/* An SGR sequence ("1" bold, "32" green...) or "" without colour. */
const char *render_sgr(const char *code);
const char *render_reset(void);
/* Prints a listing: on a terminal, aligned columns under a bold header
 * (only the columns in cols, or all when ncols is 0); piped, the rows as
 * the server sent them, tab-separated, without the header. */
void render_table(const struct resp *r, const char *const *cols, size_t ncols);
/* Appends a bar of width cells for done of total. */
void render_bar(struct sbuf *b, size_t done, size_t total, int width);
/* Writes text to stdout, through $PAGER (default "less -R") when stdout is
 * a terminal and the text is taller than it. */
void render_page(const char *text, size_t len);
/* The one-line error on stderr: "campus: CODE text". */
void render_error(const struct resp *r);
/* Columns UTF-8 text takes on a terminal, by wcwidth: a wide character
 * counts 2, a combining mark 0. */
size_t render_cols(const char *s, size_t len);
/* Bytes of the longest start of s (len bytes) that fits in cols columns,
 * never ending inside a UTF-8 sequence or before a combining mark; *used
 * (when not NULL) gets the columns it takes. */
size_t render_cut(const char *s, size_t len, size_t cols, size_t *used);
/* Writes s to stdout cut to at most cols columns (ending in "…" when cut),
 * then spaces up to pad columns. */
void render_fit(const char *s, size_t cols, size_t pad);
/* The narrowest a listing's column is cut to when the terminal is narrow. */
#define RENDER_COL_MIN 8

/* ---- prompt.c: questions to the person at the terminal ---- */

/* Reads a line after printing prompt (to stderr when stdout is piped).
 * Returns a new string without the newline, or NULL at end of input. */
char *prompt_line(const char *prompt);
/* One line of f without its line end, or NULL at EOF. Caller frees. */
char *prompt_read_line(FILE *f);
/* Reads a password without echo from the terminal (or a line of stdin
 * when there is no terminal). Caller wipes and frees. NULL at EOF. */
char *prompt_password(const char *prompt);

/* ---- main.c, cmd-*.c: the subcommands ---- */

struct ctx {
    struct config cfg;
    struct session sess;
    bool in_shell;
};

struct command {
    const char *name;
    int (*fn)(struct ctx *ctx, int argc, char **argv);  /* argv[0]: the name */
    int min_args, max_args;   /* after the name; -1: no limit */
    const char *usage;
    const char *help;
};

extern const struct command cmd_table[];
/* Runs one subcommand line (argv[0] is its name). Returns an exit status. */
int cmd_run(struct ctx *ctx, int argc, char **argv);
/* The exit status for a response code, printing the error line for codes
 * of 400 and more. */
int cmd_status(const struct resp *r);
/* The exit status after session_run failed, with the message printed. */
int cmd_unavailable(struct ctx *ctx);
/* Prints the usage of one command to stderr and returns CAMPUS_EXIT_USAGE. */
int cmd_usage(const struct command *c);
const struct command *cmd_find(const char *name);
/* True when argv holds the flag (and removes it). */
bool cmd_flag(int *argc, char **argv, const char *flag);
/* The value after a flag such as "--width" (removed with it), or NULL. */
char *cmd_option(int *argc, char **argv, const char *flag);

/* cmd-learn.c */
int cmd_courses(struct ctx *ctx, int argc, char **argv);
int cmd_course(struct ctx *ctx, int argc, char **argv);
int cmd_read(struct ctx *ctx, int argc, char **argv);
int cmd_next(struct ctx *ctx, int argc, char **argv);
int cmd_done(struct ctx *ctx, int argc, char **argv);
int cmd_progress(struct ctx *ctx, int argc, char **argv);
int cmd_attempt(struct ctx *ctx, int argc, char **argv);
int cmd_search(struct ctx *ctx, int argc, char **argv);
int cmd_sync(struct ctx *ctx, int argc, char **argv);
int cmd_file(struct ctx *ctx, int argc, char **argv);

/* cmd-account.c */
int cmd_login(struct ctx *ctx, int argc, char **argv);
int cmd_logout(struct ctx *ctx, int argc, char **argv);
int cmd_whoami(struct ctx *ctx, int argc, char **argv);
int cmd_register(struct ctx *ctx, int argc, char **argv);
int cmd_passwd(struct ctx *ctx, int argc, char **argv);
int cmd_user(struct ctx *ctx, int argc, char **argv);
int cmd_call(struct ctx *ctx, int argc, char **argv);

/* exercise.c */
int cmd_exercise(struct ctx *ctx, int argc, char **argv);
int cmd_submit(struct ctx *ctx, int argc, char **argv);
int cmd_attempts(struct ctx *ctx, int argc, char **argv);
int cmd_review(struct ctx *ctx, int argc, char **argv);
/* cmd-cohort.c */
int cmd_cohort(struct ctx *ctx, int argc, char **argv);
int cmd_grades(struct ctx *ctx, int argc, char **argv);
/* live.c: campus live COHORT (follow the trainer) and campus live --lead
 * COHORT (the trainer's console). */
int cmd_live(struct ctx *ctx, int argc, char **argv);

/* cmd-cert.c */
int cmd_cert(struct ctx *ctx, int argc, char **argv);
int cmd_verify(struct ctx *ctx, int argc, char **argv);
/* After a login: asks HELLO and, when the server's issuer-kid is not saved
 * with that key, its ISSUER key set, trusted on first use. Returns 0, or -1
 * when a saved kid came back with another key (printed, nothing saved). */
int cert_trust_hello(struct ctx *ctx);

/* shell.c */
/* The interactive shell: reads command lines until EOF or "exit". */
int shell_run(struct ctx *ctx);
/* Splits a command line into words (double and single quotes, backslash).
 * Returns argc and a new argv (free with shell_words_free), or -1 when a
 * quote is not closed. */
int shell_split(const char *line, char ***argv);
void shell_words_free(int argc, char **argv);

#endif
