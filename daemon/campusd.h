/* campusd.h: the map of the daemon: shared types, and each file's prototypes
 * grouped under its name. What a few files share among themselves has a
 * header of its own: auth.h (hashing, tokens,
 * names), keys.h (the Redis key schema), scripts.h (the Lua scripts),
 * account.h (cmd-account.c and session.c), cohort.h, cohort-op.h and
 * cohort-time.h (the cohort files), live.h (live sessions: cmd-live.c,
 * live-api.c, live-bus.c, live-sse.c, live-poll.c). The base library
 * common/ (util.h, proto.h for CTP/1 framing, answer.h) is shared with the
 * course library and the terminal client. HACKING.md says where a change
 * goes. */
#ifndef CAMPUSD_H
#define CAMPUSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "auth.h"
#include "lang.h"
#include "proto.h"
#include "util.h"

struct cmd;
struct conn;
struct live_watch;
struct req;
struct redisReply;

/* ---- config.c: one typed table gives parsing, bounds, defaults, --help ---- */

struct config {
    char *bind;
    long text_port, tls_port, http_port;
    char *courses_dir, *data_dir, *web_dir;
    char *redis;                 /* host:port or /path.sock; NULL: embedded */
    char *redis_server;          /* the redis-server binary for the embedded store */
    char *tls_cert, *tls_key;
    long tls_session_lifetime;   /* seconds a session ticket is good for; 0: no tickets */
    long hello_tls_port;         /* the TLS port HELLO names; -1: tls_port; 0: none */
    long workers;
    char *log_level;

    long line_max, literal_max;
    long inflight_max;           /* requests queued per connection before we stop reading */
    long idle_timeout;           /* seconds without a byte from an idle client */
    long request_timeout;        /* seconds to finish a request once begun */
    long max_conns, max_conns_per_addr;
    long output_max;             /* bytes buffered for a slow reader before we close */
    long reqs_per_event;         /* requests handled per wake-up before yielding */
    long store_timeout_ms;       /* bound on every Redis command */
    char *sentinel;              /* "host:port,..." of Redis Sentinels, or NULL */
    char *sentinel_master;       /* the master name they watch */
    long store_wait_replicas;    /* WAIT for this many replicas on grade writes; -1: auto */
    long store_wait_ms;          /* WAIT's timeout */
    char *proxy_protocol;        /* "text,tls,http": listeners taking PROXY v2 */
    char *proxy_from;            /* addresses whose PROXY v2 headers are trusted */
    long store_allow_no_aof;     /* 1: writes go to a Redis without AOF anyway */
    long shutdown_timeout;       /* seconds to drain on SIGTERM */
    long http_header_max, http_body_max, http_timeout, http_max_conns;
    long http_rate, http_rate_burst;  /* requests per second per address (0: off), burst */

    /* accounts and sessions (auth.c, cmd-account.c) */
    long open_registration;      /* 1: anyone may REGISTER; 0: admins add accounts */
    long session_idle;           /* seconds a session lives unused */
    long session_max_age;        /* seconds a session lives at most */
    long login_fail_max;         /* failed logins per account per window */
    long login_fail_addr_max;    /* failed logins per client address per window */
    long login_fail_window;      /* seconds */
    char *password_hash;         /* algorithm of new hashes: "argon2id" or "scrypt" */
    long argon2_m, argon2_t, argon2_p;   /* Argon2id cost of new hashes: KiB, passes, lanes */
    long login_queue_wait_ms;    /* longest wait for a password hash, the hash included (estimated, then enforced) */
    long hash_threads;           /* password hashing threads; 0: one fewer than the cores, at least 1 */
    long hash_threads_idle;      /* 1: the hashing threads run under SCHED_IDLE, 0: at nice 19 only */
    long hash_slice_us;          /* the hashing threads' time slice, µs; 0: the kernel's */
    long scrypt_ln, scrypt_r, scrypt_p;  /* scrypt cost of new password hashes: N = 2^ln */
    char *base_url;              /* public address: the IRIs of exported xAPI statements */

    /* exercises (cmd-exercise.c) */
    long answer_max;             /* bytes of one whole answer document */
    long task_answer_max;        /* bytes of one task's answer, unless the task sets max_bytes */
    long attempts_max;           /* attempts stored per exercise that sets no limit */
    long submit_window;          /* seconds a SUBMIT can be retried without using an attempt */
    long review_repair_interval; /* seconds between passes that queue reviews left unqueued */
    /* cohorts (cmd-cohort.c) */
    long cohort_join_fail_max;   /* wrong enrolment codes per account per window */
    long cohort_join_fail_window; /* seconds */
    long cert_valid_days;        /* days a new credential is valid (0: no expiry) */
    /* live sessions (cmd-live.c, live-bus.c, live-sse.c) */
    long live_output_max;        /* bytes queued for a live reader before pushes are dropped */
    long live_sse_max_age;       /* seconds an SSE stream lives, then the browser resumes it */
    char *test_clock;            /* test builds only: a file holding "now" in ms */
};

extern struct config cfg;

void config_defaults(struct config *c);
/* Parses "key value" lines; returns 0 or -1 after printing file:line: message. */
int config_load_file(struct config *c, const char *path);
/* Sets one key from its text form; returns 0 or -1 with a message in err. */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);
/* Parses argv: flags override the file named by --config. Exits for --help,
 * --version. Returns 0, or -1 after printing the problem. */
int config_parse_args(struct config *c, int argc, char **argv, int *check_config,
                      const char **check_courses);
void config_print(const struct config *c, FILE *out);
void config_free(struct config *c);

/* ---- log.c ---- */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
void log_set_level(const char *name);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
/* ms since 1970 as UTC "YYYY-MM-DDTHH:MM:SSZ", or with millis
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (xAPI, log lines). */
#define TIME_ISO_MAX 32
void time_iso(long long ms, bool millis, char out[TIME_ISO_MAX]);
/* An impossible condition: log it and abort. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- stats.c: counters for STATS (per process) and /metrics (per machine) ---- */

#define COURSES_VERSION_LEN 16   /* hex digits of a catalogue's version (courses.c) */

#define STATS_LATENCY_BUCKETS 12
extern const double stats_latency_bounds[STATS_LATENCY_BUCKETS]; /* seconds */

struct stats {
    time_t started;
    uint64_t conns_current, conns_total, conns_rejected;
    uint64_t http_requests;
    uint64_t http_hot, http_hot_gzip;   /* of those, answered on the hot path (http-conn.c); in gzip */
    uint64_t bytes_in, bytes_out;
    uint64_t errors_by_code[6];  /* 400, 401/403, 404, 413, 429, 5xx: see stats_code_index */
    uint64_t errors_total;
    uint64_t latency[STATS_LATENCY_BUCKETS + 1];
    double latency_sum;
    uint64_t latency_count;
};
extern struct stats stats;
/* Verbs counted at most; cmd_init refuses a table with more. */
#define STATS_COMMANDS_MAX 256
void stats_command(int cmd_index);
void stats_reply_code(int code);
void stats_latency(double seconds);
uint64_t stats_command_count(int cmd_index);
/* What each worker of this machine shows the others (see stats.c). */
struct stats_slot {
    int used;
    pid_t pid;
    struct stats s;
    uint64_t by_command[STATS_COMMANDS_MAX];
    uint64_t http_conns;
    int store_up, store_writable;
    char catalog_version[COURSES_VERSION_LEN + 1];
};
/* In the master, before forking: a slot for each of workers. */
void stats_share(long workers);
/* In a worker: its slot from now on (a restarted worker goes on from the
 * counts of the one before). */
void stats_attach(int worker_id);
/* Copies this worker's counters into its slot. */
void stats_publish(void);
/* The slots (0 when not shared) and one of them (NULL when never used). */
long stats_slots(void);
const struct stats_slot *stats_slot(long i);

/* ---- reply.c: what a handler answers, rendered for CTP/1 or JSON ---- */

enum reply_kind { REPLY_NONE, REPLY_TEXT, REPLY_TABLE, REPLY_KV };

/* The longest status text, NUL included: longer ones are cut here. */
#define REPLY_MSG_MAX 256

struct reply {
    int code;
    char msg[REPLY_MSG_MAX];
    enum reply_kind kind;
    struct evbuffer *body;       /* REPLY_TEXT: raw document bytes */
    const char *content_type;    /* REPLY_TEXT: for HTTP */
    json_t *rows;                /* REPLY_TABLE: array of arrays, header first */
    json_t *kv;                  /* REPLY_KV: object, insertion order kept */
    json_t *kv_keys;             /* REPLY_KV: keys in order */
    json_t *meta;                /* facts about a document, for JSON ("data") */
    struct evbuffer *json;       /* HTTP: the whole JSON answer, already rendered */
    bool json_gzip;              /* HTTP: json is gzipped (http-gzip.c) */
    char etag[80];               /* HTTP: the version of what is answered */
    bool raw;                    /* HTTP: a 200's body goes as is, with content_type
                                  * (a course file), not inside JSON */
    /* CTP/1: the whole answer, already rendered (reply_ctp_answer), sent
     * by reference as it is; wire_release(wire, wire_len, wire_arg) once
     * it has left, or when the reply is cleared unsent. wire_seg, when
     * not NULL, is the same bytes in a file (answer-file.c), which an
     * output to a socket takes instead, to be sent by sendfile. */
    const char *wire;
    size_t wire_len;
    void (*wire_release)(const void *, size_t, void *);
    void *wire_arg;
    struct evbuffer_file_segment *wire_seg;
};

void reply_init(struct reply *r);
void reply_clear(struct reply *r);
/* Renders a reply as CTP/1: "CODE text\r\n", or "CODE text {N}\r\n" then N
 * bytes then "\r\n" when there is a body. to_socket: out is written to a
 * socket by evbuffer_write (it has EVBUFFER_FLAG_DRAINS_TO_FD), so a
 * pre-built answer may go into it as a file segment. A text body moves
 * into out: the reply is rendered once, then cleared. */
void reply_render_ctp(struct reply *r, struct evbuffer *out, bool to_socket);
/* Renders as a JSON document for the HTTP API. Caller frees the string. */
char *reply_render_json(const struct reply *r, size_t *len);
/* Writes a bare status line; the text is cleaned of CR, LF and control bytes. */
void reply_status_line(struct evbuffer *out, int code, const char *text);
/* The bytes reply_render_ctp writes for a REPLY_TEXT answer with this
 * code, status text and body, in one malloc'ed buffer of *out_len bytes:
 * what a cached answer is made of (cmd-content.c). */
char *reply_ctp_answer(int code, const char *msg, const char *body, size_t len, size_t *out_len);

/* ---- req.c: one request travelling through the command table ---- */

enum req_origin { REQ_CTP, REQ_HTTP };

enum role { ROLE_ANON, ROLE_LEARNER, ROLE_TRAINER, ROLE_ADMIN };

/* What is known of the session a request acts in. A CTP/1 request on a
 * logged-in connection starts UNCHECKED and is checked against Redis before
 * its handler runs (session.c); an HTTP request's token is looked up first. */
enum req_session {
    REQ_SESSION_NONE,      /* anonymous: no session named */
    REQ_SESSION_UNCHECKED, /* CTP: the connection's session, not yet checked */
    REQ_SESSION_LIVE,      /* checked: live, role as Redis has it now */
    REQ_SESSION_ENDED,     /* checked: gone (why says why, when it may be told) */
    REQ_SESSION_UNKNOWN,   /* the store could not say: never taken for "logged out" */
};

struct req {
    struct req *next;            /* in its connection's queue */
    enum req_origin origin;
    enum role role;              /* who asks: from the connection's login or the HTTP session */
    char *user;                  /* owned; NULL when anonymous */
    enum req_session session;
    char session_hash[AUTH_TOKEN_HASH_MAX];      /* SHA-256 (hex) of the session's token, or "" */
    long long session_created;   /* CTP: when the session began (ms), 0 when not known */
    char session_why[48];        /* REQ_SESSION_ENDED: "account disabled", ... or "" */
    struct conn *conn;           /* REQ_CTP: holds a reference */
    void *http;                  /* REQ_HTTP: the evhttp_request */
    struct proto_req args;
    const struct cmd *cmd;
    const struct cmd *sub;       /* the sub-verb, for a verb with .subs */
    struct reply reply;
    bool done;
    bool holds;                  /* CTP: a write the connection waits for (see conn.c) */
    bool confirm_fresh;          /* DONE: the mark is new (kept while WAIT runs) */
    double started;              /* monotonic seconds, for the latency histogram */
    void (*on_done)(struct req *);
    bool cohort_checked;         /* paced release already allowed it (cohort-gate.c) */
    bool prereq_checked;         /* READ: the learner's prerequisites were looked up */
    char *prereq_missing;        /* READ: those not done yet, comma-separated (owned), or NULL */
    void *cohort_gate;           /* cohort-gate.c: its state while the answer is made */
    /* The learner's language, by precedence (i18n.c): the request's own
     * lang=, the account's LANG, the HTTP Accept-Language header. */
    char lang_arg[LANG_TAG_MAX];     /* lang=TAG argument or ?lang=, "" when none */
    bool lang_bad;                   /* ?lang= was not a language tag */
    char lang_account[LANG_TAG_MAX]; /* LANG of the account, from the session lookup */
    char *accept_language;           /* HTTP header, owned; NULL when none */
};

/* Handlers answer through these; each marks the request done exactly once and
 * lets its origin send the answer (in request order for CTP/1). */
void req_reply(struct req *req, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void req_reply_text(struct req *req, int code, const char *msg, const char *content_type,
                    const void *body, size_t len);
/* The answer when Redis cannot be asked or did not answer: 503, this text. */
#define REQ_STORE_UNAVAILABLE "progress store unavailable"
void req_store_unavailable(struct req *req);
struct redisReply;
/* Answers 503 when reply is NULL (the link failed or timed out) or an error
 * (logged), and says so (true); false: the reply is there to read. */
bool req_store_failed(struct req *req, struct redisReply *reply);
/* As req_reply_text, taking body (malloc'd) instead of copying it. */
void req_reply_owned(struct req *req, int code, const char *msg, const char *content_type,
                     char *body, size_t len);
/* As req_reply_text, sending body from where it is, without a copy: it
 * must stay until release(body, len, arg) is called, when the last byte of
 * it has been written or dropped (so hold a reference, e.g. to the
 * catalogue, and let go in release). */
void req_reply_ref(struct req *req, int code, const char *msg, const char *content_type,
                   const char *body, size_t len,
                   void (*release)(const void *body, size_t len, void *arg), void *arg);
/* Tables and key-value lists: set up with req_table/req_kv, fill, then
 * req_reply_data sends them. */
void req_table(struct req *req, int ncols, ...);
void req_row(struct req *req, int ncols, ...);
void req_kv(struct req *req, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void req_reply_data(struct req *req, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Facts about a document answered with req_reply_text: CTP/1 callers put
 * them in the status text too; JSON gets them as "data". */
void req_meta(struct req *req, const char *key, const char *value);
void req_meta_int(struct req *req, const char *key, long long value);
/* Takes the reference to value (any JSON). */
void req_meta_json(struct req *req, const char *key, json_t *value);
void req_etag(struct req *req, const char *etag);
/* Answers an HTTP request with a JSON document rendered earlier, sent by
 * reference, not copied: release(json, len, arg) is called once the last
 * byte has left (or the connection is gone). */
void req_reply_json_ref(struct req *req, int code, const char *json, size_t len,
                        void (*release)(const void *, size_t, void *), void *arg);
/* The same with the JSON already gzipped (sent with Content-Encoding: gzip). */
void req_reply_json_ref_gzip(struct req *req, int code, const char *gz, size_t len,
                             void (*release)(const void *, size_t, void *), void *arg);
/* Answers a CTP/1 request with the bytes of a whole answer rendered earlier
 * (reply_ctp_answer), by reference, released as above; seg (or NULL): the
 * same bytes as a file segment, for a plain socket's sendfile. */
void req_reply_wire_ref(struct req *req, int code, const char *wire, size_t len,
                        struct evbuffer_file_segment *seg,
                        void (*release)(const void *, size_t, void *), void *arg);
void req_free(struct req *req);

/* ---- args.c: checks on arguments, shared by every verb and HTTP route ---- */

#define ARG_NUMBER_MAX 20        /* bytes in a number: "-" and 19 digits */

/* Ids are checked with id_valid_n (common/util.h). True when the len bytes
 * are "course/lesson", each side an id. */
bool arg_lesson_id_valid(const char *s, size_t len);
/* Parses the len bytes at s as a decimal integer from min to max: digits
 * only, no sign but a "-" when min is negative, no spaces, no leading
 * zeros, no "-0". Returns 0 with *out set, or -1 (out untouched). */
int arg_parse_ll(const char *s, size_t len, long long min, long long max, long long *out);
/* The same for argument i of req; on failure answers 400 naming field and
 * returns false (the request is then done). */
bool req_arg_number(struct req *req, int i, const char *field, long long min, long long max,
                    long long *out);
/* An idempotency key (SUBMIT's submission key, DONE's key): 1 to
 * ARG_KEY_MAX of ARG_KEY_CHARS, chosen by the client. */
#define ARG_KEY_MAX 64
#define ARG_KEY_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
bool arg_key_valid(const char *s, size_t len);
/* The port of "host:port" (1 to 65535, strictly), dflt when there is no
 * colon, or -1 when the port is malformed. */
int arg_addr_port(const char *addr, int dflt);

/* ---- cmd.c: the command table and dispatch ---- */

#define CMD_STORE   0x01         /* needs the Redis store up */
#define CMD_WRITE   0x02         /* writes to the store: refused if its data was lost */
#define CMD_CTP     0x04         /* only on the text protocol (STARTTLS, QUIT) */
#define CMD_SESSION 0x08         /* open to anyone, but acts as the caller when logged in:
                                  * the session is checked first, as for learner verbs */
#define CMD_BINARY  0x10         /* arguments may hold NUL bytes (passwords, literals):
                                  * the handler checks lengths; other verbs refuse them */
#define CMD_LANG    0x20         /* takes a lang=TAG argument anywhere after the verb:
                                  * the dispatcher takes it out into req->lang_arg */
#define CMD_SECRET  0x40         /* answers may carry a secret (token, code, password):
                                  * never gzipped over HTTP, where the rest of the answer
                                  * may be text an attacker chose (BREACH) */

struct cmd {
    const char *name;
    void (*run)(struct req *);   /* the handler; it answers, now or from a callback */
    int min_args, max_args;      /* not counting the verb; -1: no limit */
    enum role role;
    int flags;
    const char *usage;
    const char *help;
    /* A verb with sub-verbs (COHORT CREATE, REVIEW GRADE...): argv[1] picks
     * one from this table, ended by a NULL name. cmd_dispatch checks the
     * verb's entry, then the sub-verb's: its arity (counted after the
     * sub-verb), role and flags, and runs its .run; req->sub is set. The
     * verb's own .run is not called then. */
    const struct cmd *subs;
    /* Optional: answers a logged-in caller whose role is below a sub-verb's
     * (instead of the 403), e.g. to answer as if the thing named did not
     * exist for them. */
    void (*deny)(struct req *, const struct cmd *sub);
    /* Optional, for a verb any live session may run: a CTP/1 request's
     * session check and the verb's script in one round trip
     * (session_check_fused). Returns true when it sent them; false sends
     * the request the ordinary way (check, then dispatch). */
    bool (*fused)(struct req *);
};

/* Each cmd-<group>.c file exports one table ending in an entry with a NULL
 * name; cmd.c lists the groups. */
extern const struct cmd cmd_group_basic[];
extern const struct cmd cmd_group_content[];
extern const struct cmd cmd_group_exercise[];
extern const struct cmd cmd_group_review[];
extern const struct cmd cmd_group_account[];
extern const struct cmd cmd_group_progress[];
extern const struct cmd cmd_group_cohort[];
extern const struct cmd cmd_group_cert[];
extern const struct cmd cmd_group_live[];
extern const struct cmd cmd_group_lang[];

/* Every verb, in group order, and how many: built by cmd_init. */
extern const struct cmd **cmd_all;
extern size_t cmd_count;
void cmd_init(void);
/* The verb's index in cmd_all (for counters), or -1. */
int cmd_index(const struct cmd *c);
const struct cmd *cmd_lookup(const char *name, size_t len);
/* True when c acts as the caller (a role above anyone, or CMD_SESSION): a
 * logged-in request for it has its session checked before dispatch. */
bool cmd_acts_as_user(const struct cmd *c);
/* Checks arity, arguments, session, role and store state, then calls the
 * handler. */
void cmd_dispatch(struct req *req);
/* True when cmd_dispatch's checks other than the session's and the role's
 * pass for req (arity, NUL bytes, store up and writable as its flags
 * ask): what a .fused hook must know before it runs the verb's script. */
bool cmd_would_pass(struct req *req);


/* ---- conn.c: one CTP/1 connection ---- */

/* A connection's states; conn.c draws the machine and changes them only in
 * conn_set_state(). During a shutdown drain (server.draining) a connection
 * reads nothing more from its socket, in whatever state. */
enum conn_state {
    CONN_READING,     /* parsing and dispatching requests */
    CONN_HELD,        /* a request that writes or changes who the connection is
                       * (LOGIN, AUTH, LOGOUT, PASSWD, DONE, ...) is in flight:
                       * nothing more is parsed or read until it is answered */
    CONN_PAUSED,      /* too much in flight or buffered out: not reading */
    CONN_STARTTLS,    /* STARTTLS answered: waiting for the output to drain */
    CONN_CLOSING,     /* send what is queued, then close */
    CONN_CLOSED,      /* socket gone; freed when the last request lets go */
};

struct conn {
    uint64_t id;
    int fd;
    /* A plain connection (raw) is read and written straight on its socket:
     * rd_ev (kept in the same allocation as the struct, always added while
     * reading), in (unparsed input, NULL between batches), out (answers not
     * yet written, NULL when empty), wr_ev (made only while a write would
     * block). TLS, and COMPRESS, run on bev instead (conn.c). */
    bool raw;
    bool rd_on;                  /* rd_ev is added */
    bool write_failed;           /* a write failed: close on the next turn */
    struct event *rd_ev, *wr_ev;
    char *in;
    size_t in_off, in_len;
    struct evbuffer *out;
    struct bufferevent *bev;
    enum conn_state state;
    struct proto_parser parser;
    struct req *head, *tail;
    long inflight;
    int refs;
    bool tls;
    /* Facts beside the state, not states: */
    bool upgraded;               /* STARTTLS happened (once per connection) */
    int processing;              /* nesting depth of conn_process: answers wait for its end */
    char addr[64];
    /* Made when first needed, so that an idle connection costs neither: */
    struct event *resume_ev;     /* continue parsing after yielding or a hold */
    struct event *deadline_ev;   /* a begun request must finish in time */
    bool deadline_armed;
    struct conn *prev, *next;    /* all connections, for shutdown */
    enum role role;
    char *user;
    char session[AUTH_TOKEN_HASH_MAX];       /* SHA-256 (hex) of this connection's session token, or "" */
    long long session_created;   /* when that session began (ms since 1970) */
    /* The account's LANG as last learned: from LOGIN or AUTH, refreshed by
     * every request whose session is checked and by LANG; "" when unset or
     * logged out. Each request starts with it (req->lang_account), so that
     * what is answered before any session lookup (an unknown verb, a usage
     * error, HELP) is in the learner's language without a Redis round trip. */
    char lang[LANG_TAG_MAX];
    bool push_ok;                /* asked for push: HELLO push, LIVE JOIN or LIVE START */
    bool push_dropped;           /* pushes dropped over live_output_max, until it drains */
    struct evbuffer *push_wait;  /* pushes held until the answers due are written */
    struct live_watch *live;     /* the live session it follows (live-bus.c), or NULL */
    struct compress *z;          /* COMPRESS DEFLATE is on: c->bev is its filter (compress.c) */
    bool compress_pending;       /* COMPRESS answered: the filter goes on once it is queued */
};

struct conn *conn_new(struct event_base *base, int fd, const char *addr, SSL *ssl);
/* Marks the connection to close once what is queued is sent. */
void conn_close_after_reply(struct conn *c);
/* Closes at once. The struct stays until in-flight requests finish. */
void conn_close(struct conn *c, const char *why);
void conn_req_done(struct req *req);
/* Stops (true: CONN_HELD) or resumes (false: back to CONN_READING) parsing
 * this connection's input: a request that changes who the connection is
 * holds it, so that the requests pipelined behind it are parsed with the new
 * identity. */
void conn_hold(struct conn *c, bool hold);
/* STARTTLS answered: drop pipelined input, upgrade once the answer is out. */
void conn_begin_starttls(struct conn *c);
/* Writes a push line (or lines: data is whole "* ..." lines with their
 * bodies) between answers, after any answer still due. Returns 0, or -1
 * when it was dropped: the connection is closing, or more than
 * live_output_max bytes wait for it (then live_conn_drained is called
 * once it has drained). */
int conn_push(struct conn *c, const void *data, size_t len);
/* COMPRESS answered: the connection holds its input, and once the answer
 * is queued (in the clear) everything after it goes through compress.c. */
void conn_begin_compress(struct conn *c);
/* Begins a drain for shutdown: stop reading, close when idle. */
void conn_drain_all(void);
/* Closes every connection at once (end of shutdown). */
void conn_close_all(void);
size_t conn_count(void);

/* ---- live-bus.c: what conn.c tells the live code (live.h has the rest) ---- */

/* The connection drained below its output mark after pushes were dropped. */
void live_conn_drained(struct conn *c);
/* The connection is closing: it leaves the live room it was in. */
void live_conn_closed(struct conn *c);
void live_bus_start(struct event_base *base);
void live_bus_stop(void);
void live_bus_tick(void);
/* True when this process receives live events (its subscriber is up). */
bool live_bus_up(void);

/* ---- live-sse.c: Server-Sent Events (live.h has the rest) ---- */

/* Ends every event stream (shutdown). */
void live_sse_stop(void);

/* ---- compress.c: COMPRESS DEFLATE, a bufferevent filter (RFC 4978's model) ---- */

/* A client's stream that inflates to more than COMPRESS_RATIO_MAX times its
 * compressed size, once past COMPRESS_RATIO_FLOOR inflated bytes, is a
 * decompression bomb: the connection is closed. */
#define COMPRESS_RATIO_MAX   100
#define COMPRESS_RATIO_FLOOR (256 * 1024)

struct compress;
/* A filter over under (which it owns: freeing the filter frees it) that
 * inflates input and deflates output. on_fail(arg, code, why) is called
 * from the loop, once, when the input is corrupt or a bomb; on_drained(arg)
 * whenever a write empties the lower buffer with nothing left in zlib. *z
 * is borrowed for as long as the filter lives. NULL on failure. */
struct bufferevent *compress_new(struct bufferevent *under, void (*on_fail)(void *, int, const char *),
                                 void (*on_drained)(void *), void *arg, struct compress **z);
/* Inflates what already waits in the lower input buffer. */
void compress_start_input(struct compress *z);
/* True when every byte given to the filter has reached the lower buffer
 * and been written from it. */
bool compress_idle(const struct compress *z);
/* The connection is going: no more callbacks. */
void compress_forget(struct compress *z);
/* Bytes received compressed and inflated, sent before and after deflate. */
void compress_totals(const struct compress *z, uint64_t *in_raw, uint64_t *in_inflated,
                     uint64_t *out_raw, uint64_t *out_deflated);

/* ---- server.c: listeners, accept, limits, signals ---- */

struct server {
    struct event_base *base;
    struct evconnlistener *text_listener, *tls_listener;
    SSL_CTX *ssl_ctx;
    bool draining;
    int worker_id;
};
extern struct server server;

/* Runs a worker's event loop until shutdown. Returns the exit status. */
int server_run(int worker_id, SSL_CTX *ssl_ctx);
void server_release_addr(const char *addr);
/* Seconds on the monotonic clock: for intervals and deadlines. */
double now_mono(void);
/* Milliseconds since 1970 (the wall clock): what the store records. */
long long now_wall_ms(void);

/* ---- courses.c: the live catalogue ---- */

struct catalog;
/* The live catalogue (borrowed: a request that waits on Redis and then reads
 * it again must hold a reference with catalog_ref). NULL before a load. */
struct catalog *courses_current(void);
int courses_reload(void);
/* The same, with every problem also written to report as path:line: message. */
int courses_reload_report(struct sbuf *report);
/* The live catalogue's version (hex, "" before a load) and when it was
 * loaded (ms since 1970): the same files give the same version on every
 * machine. */
const char *courses_version(void);
long long courses_loaded_ms(void);
void courses_free(void);

/* ---- i18n.c: the learner's language, and the server's messages in it ---- */

/* The language a course is served in for req, and whether it is the one
 * asked for: asked is the tag the request, the account or Accept-Language
 * named ("" when none did); lang is a tag of course->languages. */
struct lang_pick {
    const char *lang;            /* the course's language served ("" when it names none) */
    char asked[LANG_TAG_MAX];    /* what the learner asked for, "" when nothing */
    bool fallback;               /* asked for something the answer is not in */
};
struct course;
struct lesson;
/* Picks the course's language for req: lang= (or ?lang=), then the
 * account's LANG, then Accept-Language (RFC 4647 lookup against the
 * course's languages), then the course's default. */
void i18n_pick(struct req *req, const struct course *c, struct lang_pick *p);
/* The text of lesson l in p's language (a variant or l), updating p when the
 * item is missing in it (fallback). */
const struct lesson *i18n_lesson(const struct lesson *l, struct lang_pick *p);
/* Adds "lang" (and "asked" on a fallback) to the answer's data, and
 * " lang=TAG" (" asked=TAG") to the CTP/1 status text in msg (n bytes). */
void i18n_meta(struct req *req, const struct lang_pick *p, char *msg, size_t n);
/* HTTP: says the answer varies with Accept-Language (Vary). */
void i18n_vary(struct req *req);
/* The language of the server's messages to req: "en", "fr" or "es". */
const char *i18n_msg_lang(const struct req *req);
/* The message format fmt (an English printf format, as written in the
 * code) in lang, or fmt itself when the catalogue has no translation. The
 * translation takes the same conversions in the same order. */
const char *i18n_fmt(const char *lang, const char *fmt) __attribute__((format_arg(2)));
/* The catalogue's size and one entry, for the unit test of conversions. */
size_t i18n_catalogue_size(void);
void i18n_catalogue_entry(size_t i, const char **en, const char **fr, const char **es);

/* ---- cmd-lang.c: LANG and /api/lang (cmd_group_lang, api_routes_lang above) ---- */

/* ---- cmd-content.c: RELOAD, COURSES, COURSE, READ, SEARCH, FILE, PROGRAMMES ---- */

/* Frees the rendered READ answers (at exit). */
void read_cache_free(void);
/* Frees the kept SEARCH answers (at exit). */
void search_cache_free(void);
/* A pre-built HTTP answer to an anonymous GET of a lesson: status line,
 * headers and body in one buffer of len bytes, the Date line to be sent
 * at split. The buffer is held by one reference: give it back with
 * read_fast_release(data, len, arg) once its bytes have left. */
struct read_fast {
    const char *data;
    size_t len, split;
    bool gzip;                   /* the body is the gzip form */
    void *arg;
};
/* Fills out with the answer to READ id format (HTTP, default width) from
 * the live catalogue and returns true; false when there is none ready (a
 * bad id, no such lesson, or not rendered yet: the first READ of a lesson
 * after a load goes through the command table and renders it).
 * accept_language (NULL: none) picks the lesson's language as READ does,
 * and an answer that would fall back is left to READ; gzip asks for the
 * gzip form where the lesson has one. */
bool read_fast_answer(const char *id, const char *format, const char *accept_language,
                      bool gzip, struct read_fast *out);
void read_fast_release(const void *data, size_t len, void *arg);

/* ---- tls.c ---- */

/* Loads or makes (self-signed P-256, in the data dir) the certificate; the
 * context issues session tickets good for tls_session_lifetime seconds.
 * NULL on error. */
SSL_CTX *tls_context(const struct config *c);

/* ---- store.c: the Redis link ---- */

enum store_state { STORE_DOWN, STORE_CONNECTING, STORE_UP };

/* A callback gets the reply (owned by hiredis: copy what you keep) or NULL
 * with err set ("store unavailable", "store timeout"); it is called once. */
typedef void store_cb(struct redisReply *reply, const char *err, void *priv);

void store_start(struct event_base *base, const struct config *c);
void store_stop(void);
enum store_state store_state(void);
bool store_writable(void);
const char *store_status(void);   /* "up", "down", or why writes are refused */
/* Sends a command (printf-style, as redisAsyncCommand). Returns 0, or -1 at
 * once if the store is not up (cb is not called then). */
int store_command(store_cb *cb, void *priv, const char *fmt, ...);
int store_command_argv(store_cb *cb, void *priv, int argc, const char **argv, const size_t *argl);
double store_last_rtt(void);
/* A new hiredis async context to the store's address, not attached to any
 * loop (the caller attaches it and owns it), or NULL after logging why;
 * who names the caller in the log. */
struct redisAsyncContext;
struct redisAsyncContext *store_connect_async(const char *who);
/* The readers of what Redis answers, pure (the reply fuzz harness calls
 * them): the fields of campus:meta from HGETALL (strings owned by the
 * reply, NULL if absent); a setting from CONFIG GET; a field of INFO text.
 * The last two copy into out and return 0, or -1 if it is not there. */
void store_parse_meta(const struct redisReply *reply, const char **instance, const char **version);
int store_parse_config_get(const struct redisReply *reply, const char *name, char *out, size_t n);
int store_info_field(const char *info, size_t len, const char *field, char *out, size_t n);

/* After a write that carries a grade or a completion: asks Redis to WAIT
 * until store_wait_replicas() replicas have it, for store_wait_ms at most.
 * cb(priv, result) is called once: at once with STORE_CONFIRMED when no
 * replica is asked for, else from the WAIT's answer. UNCONFIRMED: Redis
 * has the write, fewer replicas said so in time; FAILED: no answer at all.
 * Either way the write must not be reported as done. */
enum store_confirm { STORE_CONFIRMED, STORE_UNCONFIRMED, STORE_CONFIRM_FAILED };
typedef void store_confirm_cb(void *priv, enum store_confirm result);
void store_confirm(store_confirm_cb *cb, void *priv);
/* The replicas a grade or completion waits for (store_wait_replicas, with
 * -1 read as 1 under Sentinel and 0 without). */
long store_wait_replicas(void);
/* The status text of an unconfirmed write (503). */
#define STORE_NOT_CONFIRMED "not confirmed: the write reached the primary but no replica " \
                            "confirmed it in time; it may or may not survive a failover, retry"
/* Where the link points now: "host:port", "/path.sock" or "" (static). */
const char *store_address(void);

/* ---- notify.c: readiness for systemd (Type=notify) ---- */

/* Sends state ("READY=1\nMAINPID=N", "STOPPING=1") to $NOTIFY_SOCKET, if set. */
void notify_systemd(const char *state);

/* ---- bus.c: this worker's pub/sub subscription (RELOAD all) ---- */

/* Subscribes on a second connection to wherever the store's link is. */
void bus_start(struct event_base *base);
bool bus_subscribed(void);
void bus_stop(void);

/* ---- sentinel.c: asking Redis Sentinels where the primary is ---- */

#define SENTINEL_MAX 16
struct sentinel_addr {
    char host[256];
    int port;
};
/* Parses "host:port,host:port,..." into out (up to n entries; out may be
 * NULL to only check). Returns the count, or -1 when malformed. */
int sentinel_parse_list(const char *s, struct sentinel_addr *out, int n);
/* found: the answer to a sentinel_ask (host NULL when no Sentinel gave
 * one); switched: a +switch-master for our master name. host is borrowed. */
typedef void sentinel_found_cb(const char *host, int port);
void sentinel_start(struct event_base *base, const struct config *c, sentinel_found_cb *found,
                    sentinel_found_cb *switched);
/* Asks the Sentinels in turn; found is called once. While a question is
 * running, a second ask joins it. */
void sentinel_ask(void);
void sentinel_stop(void);

/* ---- proxy.c: PROXY protocol v2 from trusted balancers ---- */

#define PROXY_TEXT 1
#define PROXY_TLS  2
#define PROXY_HTTP 4
#define PROXY_V2_HEAD 16          /* signature, version and command, family, length */
#define PROXY_V2_MAX  536         /* the longest header taken (addresses and TLVs) */
struct proxy_net {
    int family;                  /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int bits;
};
/* "text,tls,http" as a mask of PROXY_*, 0 for NULL, or -1 when malformed. */
int proxy_listeners_parse(const char *s);
/* "a.b.c.d[/n],v6[/n],..." into out (up to n; out may be NULL). Returns
 * the count or -1. */
int proxy_from_parse(const char *s, struct proxy_net *out, int n);
/* True when the listener (PROXY_TEXT, ...) takes a header from trusted peers. */
bool proxy_on(int listener);
/* True when sa is one of proxy_from. */
bool proxy_trusted(const struct sockaddr *sa);
/* Parses a PROXY v2 header at the start of buf. Returns its length once
 * whole (addr: the client's address, or "" for LOCAL and UNSPEC, when the
 * peer's own stands), 0 when more bytes are needed (*need: how many in
 * all), -1 when the bytes are no valid header. Pure. */
int proxy_parse_v2(const uint8_t *buf, size_t len, char *addr, size_t n, size_t *need);
/* Reads the header from a new socket, then calls ready(fd, addr, tls) with
 * the client's address; closes the socket on a bad or late header. */
typedef void proxy_ready_cb(int fd, const char *addr, bool tls);
void proxy_wait(struct event_base *base, int fd, const char *peer, bool tls, proxy_ready_cb *ready);
/* At exit: closes the sockets still waiting for their header. */
void proxy_wait_free_all(void);

/* ---- embed.c: the embedded redis-server ---- */

/* Starts redis-server on a unix socket in the data dir and waits until it
 * answers. Returns the socket path (owned by embed) or NULL. */
const char *embed_start(const struct config *c);
/* Called with each reaped child; returns true if it was redis (restarted). */
bool embed_child_exited(pid_t pid, int status);
void embed_restart_if_needed(void);
void embed_stop(void);
pid_t embed_pid(void);
/* In a forked worker: the child is the master's to supervise, not ours. */
void embed_forget(void);

/* ---- api.c: HTTP API routes onto the command table ---- */

struct evhttp_request;

/* A route turns an HTTP request into a command's arguments. build fills
 * argv (up to API_ARGS_MAX, strings it allocates with xstrdup) and returns
 * argc, or -1 after answering the request itself (bad input). */
#define API_ARGS_MAX 16
struct api_route {
    const char *method;          /* "GET", "POST", ... */
    const char *pattern;         /* "/api/ping"; "{name}" stands for one path segment, an id */
    int (*build)(struct evhttp_request *r, char **params, int nparams, char **argv);
};
/* The route tables api.c lists: each in the cmd-<group>.c of its verbs,
 * but COHORT's in cohort-api.c and LIVE's in live-api.c. */
extern const struct api_route api_routes_basic[];
extern const struct api_route api_routes_content[];
extern const struct api_route api_routes_exercise[];
extern const struct api_route api_routes_review[];
extern const struct api_route api_routes_account[];
extern const struct api_route api_routes_progress[];
extern const struct api_route api_routes_cohort[];
extern const struct api_route api_routes_cert[];
extern const struct api_route api_routes_live[];
extern const struct api_route api_routes_lang[];
/* Answers r if its path starts with /api/. */
void api_handle(struct evhttp_request *r, const char *path);
void api_send_error(struct evhttp_request *r, int code, const char *msg);
void api_send_json(struct evhttp_request *r, int code, const char *json, size_t len);
void api_send_json_buffer(struct evhttp_request *r, int code, struct evbuffer *json);
/* What the routes' builders share. The body parsed as JSON (a new
 * reference), or NULL when it is not JSON. */
json_t *api_body(struct evhttp_request *r);
/* The body as a JSON object (a new reference), or NULL after answering
 * 400 "body must be WANT". */
json_t *api_body_json(struct evhttp_request *r, const char *want);
/* The query parameter k, or NULL. q is always filled: the caller clears it
 * with evhttp_clear_headers once done with the value. */
struct evkeyvalq;
const char *api_query(struct evhttp_request *r, struct evkeyvalq *q, const char *k);
/* argv[0..]: verb, sub and, unless NULL, arg (copies); returns the count. */
int api_argv(char **argv, const char *verb, const char *sub, const char *arg);

/* ---- session.c: sessions: AUTH, LOGOUT, WHOAMI and every checked request ---- */

/* The session token an HTTP request carries (Authorization: Bearer, else
 * the campus_session or __Host-campus_session cookie), copied into out;
 * false if none. */
bool account_http_token(struct evhttp_request *r, char *out, size_t n);
/* Gives req the role and user of the session token (none when the token is
 * NULL, unknown or expired; req->session says which, and UNKNOWN when the
 * store could not answer, so that dispatch answers 503 rather than 401),
 * then calls then(req): at once, or from a Redis callback. */
void account_resolve(struct req *req, const char *token, void (*then)(struct req *));
/* Checks a CTP/1 request's session against Redis (one round trip), gives
 * it the account's current role, or ends the connection's login when the
 * session is gone, then calls cmd_dispatch. A verb with a .fused hook may
 * take it instead (session_check_fused). */
void session_check(struct req *req);
/* The session check and the verb's script in one call: script (an enum
 * script_id) takes SESSION_TOUCH's two keys and six arguments first, then
 * the nkeys keys and nargs arguments of argv (keys first), and answers
 * {touch} or {touch, the verb's answer}. The session's state is applied
 * to req and its connection as session_check does; then, with the verb's
 * answer, then(answer, NULL, req) runs (the verb counted in the stats),
 * else cmd_dispatch(req) answers as after session_check. Returns -1 when
 * nothing was sent: go the ordinary way. */
int session_check_fused(struct req *req, int script, int nkeys, int nargs, const char *const *argv,
                        store_cb *then);

/* ---- cmd-progress.c: DONE, NEXT, PROGRESS, EXPORT xapi ---- */

/* Records that a logged-in learner read lesson l (first and last view;
 * fire and forget: READ never waits for it). */
struct lesson;
void progress_viewed(struct req *req, const struct lesson *l);
/* A passed quiz or case counts as done: adds each lesson of passed (a
 * passed hash as a JSON object) to done, as PROGRESS counts it, so that
 * what PROGRESS shows complete CERT takes as complete too. */
void progress_merge_passed(json_t *done, json_t *passed);

/* ---- attempt-view.c and reviews-new.c ---- */

/* A stored attempt record as its learner may see it now
 * (the exercise's show policy applies; keys are never in a record), as
 * text or JSON; new strings the caller frees. */
struct exercise;
char *attempt_view_text(const struct exercise *ex, json_t *rec);
char *attempt_view_json(const struct exercise *ex, json_t *rec);

/* Answers 200 with msg after adding a "reviews-new: N" line
 * (the reviews graded since the learner last read them; left out when the
 * store cannot say). Takes the request like req_reply_data. */
void reviews_new_reply(struct req *req, const char *user, const char *msg);
/* Marks the exercise's reviews as read (fire and forget). */
void reviews_new_clear(const char *user, const char *exercise);


/* ---- cmd-exercise.c: EXERCISE, SUBMIT, ATTEMPTS, the handler of EXPORT gift (REVIEW: cmd-review.c) ---- */

/* EXPORT gift COURSE (trainers). */
void exercise_export_gift(struct req *req);
/* An attempt record's result: passed, failed, pending or provisional (all
 * that waits is a machine score a trainer must confirm). */
const char *attempt_result(json_t *rec);
/* The trainers' comments of an attempt record on one line: "task: comment; ...". */
void attempt_comments_line(json_t *rec, struct sbuf *b);
/* Called every second; once the store is up, and then every
 * review_repair_interval seconds, queues the review entries that attempts
 * left pending (their queue write failed or its reply was lost). */
void exercise_review_repair_tick(void);

/* ---- adduser.c ---- */

/* campusd --add-user NAME --role ROLE (password on stdin). Returns the exit
 * status. */
int adduser_main(const char *name, const char *role);

/* ---- http.c ---- */

int http_start(struct event_base *base, const struct config *c, int fd);
/* evhttp_send_reply, with no body after HEAD (see http.c). */
void http_send_reply(struct evhttp_request *r, int code, const char *reason, struct evbuffer *body);
void http_stop(void);

/* ---- http-gzip.c: gzip content coding, the web client's files from memory ---- */

struct stat;
/* Answers at least this long are worth gzipping when made per request. */
#define HTTP_GZIP_MIN 512
/* True when r's Accept-Encoding takes gzip (q above 0, by name or "*"). */
bool http_gzip_accepted(struct evhttp_request *r);
/* The same for an Accept-Encoding value (NULL: no field). */
bool http_gzip_accepts(const char *accept_encoding);
/* The gzip (RFC 1952) form of len bytes; *outlen its size. Caller frees. */
char *http_gzip(const void *data, size_t len, int level, size_t *outlen);
/* The entity tag of the gzip form: "V" becomes "V-gz". */
void http_gzip_etag(const char *etag, char *out, size_t n);
/* Text, JSON, JavaScript and SVG: the types gzip is used for. */
bool http_type_compressible(const char *type);
/* Answers r with the file at path (open as fd, stat'ed as sb, of this type
 * and weak etag) from memory, gzipped when accepted, and closes fd; false
 * (fd untouched) when the file is not one to hold in memory. */
bool http_static_send(struct evhttp_request *r, const char *path, int fd, const struct stat *sb,
                      const char *type, const char *etag);
/* Lets go of the files held (at exit). */
void http_static_free(void);

/* ---- http-conn.c: counting, deadline and framing in front of evhttp ---- */

struct bufferevent;
struct bufferevent *http_conn_new(struct event_base *base, void *arg);
int http_conn_rejection(struct evhttp_request *r, const char **msg);
/* False when r's address is over http_rate; *retry_after is then the
 * seconds until it may send again. */
bool http_rate_ok(struct evhttp_request *r, long *retry_after);
uint64_t http_conn_count(void);
/* The client's address of r: what a trusted balancer's PROXY v2 header
 * said, else the peer's (borrowed; NULL when unknown). */
const char *http_client_addr(struct evhttp_request *r);

#endif
