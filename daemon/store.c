/* store.c: the link to Redis: hiredis async on our event loop, a bound on
 * every command, reconnection with backoff, the schema marker that tells
 * a Redis which lost its data from a new one, and the check that Redis
 * keeps an AOF (else an acknowledged write may not survive its restart).
 *
 * Under Sentinel (cfg.sentinel), the address comes from the Sentinels
 * (sentinel.c) and is asked again after every lost link; a +switch-master,
 * a READONLY answer or a ROLE check that finds a replica drops the link
 * and moves it. Commands in flight when the link drops are answered once,
 * with a NULL reply (503 to the learner), never retried on another node:
 * whether they took effect there is not known. */
#include "campusd.h"
#include "keys.h"
#include "scripts.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_SCHEMA_VERSION "1"
#define BACKOFF_MIN_MS       100
#define BACKOFF_MAX_MS       5000
#define HEALTH_INTERVAL_MS   1000
#define AOF_CHECK_TICKS      10      /* health ticks between persistence checks */
#define STORE_ADDR_MAX       300

/* One command in flight. Redis answers in order and every command has the
 * same bound, so the oldest one is always the first to time out: a single
 * timer, armed for the head of this list, bounds them all. */
struct store_op {
    store_cb *cb;                /* NULL once answered (or internal with no cb) */
    void *priv;
    double deadline, sent;
    struct store_op *prev, *next;
};

static struct {
    struct event_base *base;
    const struct config *cfg;
    redisAsyncContext *ac;
    enum store_state state;
    struct event *timer;         /* op deadlines */
    struct event *reconnect_ev;
    struct event *health_ev;
    long backoff_ms;
    struct store_op *head, *tail;
    const char *drop_reason;     /* what pending callbacks are told on a drop */
    bool data_lost;
    char why[1400];              /* why writes are refused (data_lost) */
    bool aof_off;                /* AOF off or unknown, and that is not accepted */
    bool aof_risk_logged;        /* AOF off, accepted: said once */
    char aof_why[512];           /* why writes are refused (aof_off) */
    char fsync_seen[32];         /* the last appendfsync we warned about */
    unsigned health_ticks;
    double last_rtt;
    bool stopping;
    char marker_path[1024];
    char marker_seen[128];       /* the marker as read before this link's handshake */
    /* Sentinel: where the primary is, as last told */
    bool sentinel;
    bool target_known;
    char target_host[256];
    int target_port;
    bool wrong_role;             /* the handshake's ROLE was not master */
    struct event *move_ev;       /* drops the link outside hiredis callbacks */
    const char *move_why;
    char addr[STORE_ADDR_MAX];   /* of the link now */
} st;

static void connect_now(void);
static void move_later(const char *why);

const char *store_address(void)
{
    return st.addr;
}

long store_wait_replicas(void)
{
    if (st.cfg == NULL)
        return 0;
    return st.cfg->store_wait_replicas >= 0 ? st.cfg->store_wait_replicas : st.sentinel ? 1 : 0;
}

enum store_state store_state(void)
{
    return st.state;
}

bool store_writable(void)
{
    return st.state == STORE_UP && !st.data_lost && !st.aof_off;
}

const char *store_status(void)
{
    if (st.state == STORE_UP)
        return st.data_lost ? st.why : st.aof_off ? st.aof_why : "up";
    return st.state == STORE_CONNECTING ? "connecting" : "down";
}

double store_last_rtt(void)
{
    return st.last_rtt;
}

int key_fmt(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= n) {
        log_error("store: a key from pattern %s does not fit in %zu bytes", fmt, n);
        if (n > 0)
            buf[0] = '\0';
        return -1;
    }
    return 0;
}

char *key_new(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *k = NULL;
    int len = vasprintf(&k, fmt, ap);
    va_end(ap);
    if (len < 0)
        fatal("out of memory");
    if ((size_t)len >= KEY_MAX)
        log_error("store: a key from pattern %s is %d bytes, over KEY_MAX", fmt, len);
    return k;
}

char *key_arg(const char *key, const char *fmt)
{
    const char *hole = strstr(fmt, "%s");
    if (hole == NULL)
        fatal("key_arg: pattern %s has no %%s", fmt);
    size_t pre = (size_t)(hole - fmt), post = strlen(hole + 2), len = strlen(key);
    if (len <= pre + post || strncmp(key, fmt, pre) != 0 || strcmp(key + len - post, hole + 2) != 0)
        return NULL;
    return xstrndup(key + pre, len - pre - post);
}

static void arm_timer(void)
{
    if (st.head == NULL) {
        evtimer_del(st.timer);
        return;
    }
    double wait = st.head->deadline - now_mono();
    if (wait < 0)
        wait = 0;
    struct timeval tv = { (time_t)wait, (suseconds_t)((wait - (time_t)wait) * 1e6) };
    evtimer_add(st.timer, &tv);
}

static void op_unlink(struct store_op *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        st.head = op->next;
    if (op->next)
        op->next->prev = op->prev;
    else
        st.tail = op->prev;
}

static void schedule_reconnect(void)
{
    if (st.stopping)
        return;
    struct timeval tv = { st.backoff_ms / 1000, (st.backoff_ms % 1000) * 1000 };
    evtimer_add(st.reconnect_ev, &tv);
    st.backoff_ms = st.backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : st.backoff_ms * 2;
}

/* Drops the link: every pending callback hears err once (hiredis calls them
 * with a NULL reply from redisAsyncFree), then we reconnect. Must not be
 * called from inside a hiredis callback. */
static void drop_link(const char *why)
{
    if (st.ac == NULL)
        return;
    log_warn("store: dropping the link to Redis: %s", why);
    st.drop_reason = why;
    redisAsyncContext *ac = st.ac;
    redisAsyncFree(ac);          /* calls disconnect_cb, which clears st.ac */
    st.ac = NULL;
    st.state = STORE_DOWN;
    st.drop_reason = NULL;
    st.target_known = false;     /* under Sentinel: ask again where the primary is */
    /* hiredis skips disconnect_cb for a link that never finished connecting. */
    if (!evtimer_pending(st.reconnect_ev, NULL))
        schedule_reconnect();
}

static void reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store_op *op = privdata;
    redisReply *reply = r;

    op_unlink(op);
    arm_timer();
    if (reply)
        st.last_rtt = now_mono() - op->sent;
    /* A node that was demoted (or a Sentinel's stale answer) says so on the
     * first write: this command fails, and the link moves. */
    if (reply && reply->type == REDIS_REPLY_ERROR && st.sentinel &&
        (strncmp(reply->str, "READONLY", 8) == 0 || strncmp(reply->str, "MASTERDOWN", 10) == 0))
        move_later("the node is not the primary");
    if (op->cb)
        op->cb(reply, reply ? NULL : (st.drop_reason ? st.drop_reason : "store unavailable"), op->priv);
    free(op);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    if (st.head && st.head->deadline <= now_mono() + 0.0005)
        drop_link("command timed out");
    else
        arm_timer();
}

/* Queues a formatted command (RESP bytes) with its bound. */
static int send_formatted_in(store_cb *cb, void *priv, const char *cmd, size_t len, long extra_ms)
{
    struct store_op *op = xcalloc(1, sizeof(*op));

    op->cb = cb;
    op->priv = priv;
    op->sent = now_mono();
    op->deadline = op->sent + (st.cfg->store_timeout_ms + extra_ms) / 1000.0;
    /* Deadlines stay in sending order (the one timer watches the head): a
     * command behind a WAIT cannot be answered before it anyway. */
    if (st.tail && st.tail->deadline > op->deadline)
        op->deadline = st.tail->deadline;
    op->prev = st.tail;
    if (st.tail)
        st.tail->next = op;
    else
        st.head = op;
    st.tail = op;
    if (redisAsyncFormattedCommand(st.ac, reply_cb, op, cmd, len) != REDIS_OK) {
        op_unlink(op);
        free(op);
        return -1;
    }
    if (st.head == op)
        arm_timer();
    return 0;
}

static int send_formatted(store_cb *cb, void *priv, const char *cmd, size_t len)
{
    return send_formatted_in(cb, priv, cmd, len, 0);
}

/* Internal and public commands both come through here. */
static int send_op(store_cb *cb, void *priv, int argc, const char **argv, const size_t *argl)
{
    char *cmd;
    long long len = redisFormatCommandArgv(&cmd, argc, argv, argl);

    if (len < 0)
        return -1;
    int rc = send_formatted(cb, priv, cmd, (size_t)len);
    free(cmd);
    return rc;
}

int store_command_argv(store_cb *cb, void *priv, int argc, const char **argv, const size_t *argl)
{
    if (st.state != STORE_UP || st.ac == NULL)
        return -1;
    return send_op(cb, priv, argc, argv, argl);
}

/* printf-style like redisAsyncCommand: formatted by hiredis, then sent. */
int store_command(store_cb *cb, void *priv, const char *fmt, ...)
{
    va_list ap;
    char *cmd;

    if (st.state != STORE_UP || st.ac == NULL)
        return -1;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (len < 0)
        return -1;
    int rc = send_formatted(cb, priv, cmd, (size_t)len);
    free(cmd);
    return rc;
}

/* ---- WAIT: a replica has it ---- */

struct confirm {
    store_confirm_cb *cb;
    void *priv;
    long want;
};

static void confirm_cb(redisReply *reply, const char *err, void *priv)
{
    struct confirm *c = priv;
    enum store_confirm res = STORE_CONFIRM_FAILED;

    if (reply && reply->type == REDIS_REPLY_INTEGER)
        res = reply->integer >= c->want ? STORE_CONFIRMED : STORE_UNCONFIRMED;
    else if (reply && reply->type == REDIS_REPLY_ERROR)
        log_warn("store: WAIT: %s", reply->str);
    if (res == STORE_UNCONFIRMED)
        log_warn("store: a write was confirmed by %lld of %ld replicas in %ld ms",
                 (long long)reply->integer, c->want, st.cfg->store_wait_ms);
    c->cb(c->priv, res);
    free(c);
}

void store_confirm(store_confirm_cb *cb, void *priv)
{
    long want = store_wait_replicas();

    if (want == 0) {
        cb(priv, STORE_CONFIRMED);
        return;
    }
    if (st.state != STORE_UP || st.ac == NULL) {
        cb(priv, STORE_CONFIRM_FAILED);
        return;
    }
    struct confirm *c = xcalloc(1, sizeof(*c));
    c->cb = cb;
    c->priv = priv;
    c->want = want;
    char *cmd;
    int len = redisFormatCommand(&cmd, "WAIT %ld %ld", want, st.cfg->store_wait_ms);
    int rc = len < 0 ? -1 : send_formatted_in(confirm_cb, c, cmd, (size_t)len, st.cfg->store_wait_ms);
    if (len >= 0)
        free(cmd);
    if (rc < 0) {
        free(c);
        cb(priv, STORE_CONFIRM_FAILED);
    }
}

static void read_marker(char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen(st.marker_path, "r");
    if (f) {
        if (fgets(out, (int)n, f) == NULL)
            out[0] = '\0';
        out[strcspn(out, "\r\n")] = '\0';
        fclose(f);
    }
}

static void write_marker(const char *id)
{
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", st.marker_path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%s\n", id) < 0 || fclose(f) != 0 ||
        rename(tmp, st.marker_path) != 0)
        log_warn("store: cannot write %s: %s", st.marker_path, strerror(errno));
}

static void script_loaded_cb(redisReply *reply, const char *err, void *priv)
{
    if (reply && reply->type == REDIS_REPLY_ERROR)
        log_error("store: a Lua script does not load: %s", reply->str);
}

/* Every script is loaded before the first command that may use it, so an
 * EVALSHA never meets NOSCRIPT in normal running (the retry on NOSCRIPT
 * would put that call behind later ones on the link). */
static void store_up(void)
{
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        const char *argv[] = { "SCRIPT", "LOAD", script_source((enum script_id)i) };
        send_op(script_loaded_cb, NULL, 3, argv, NULL);
    }
    st.state = STORE_UP;
    st.backoff_ms = BACKOFF_MIN_MS;
    log_info("store: up%s", st.data_lost || st.aof_off ? " (refusing writes)" : "");
}

/* Reads the fields of campus:meta from an HGETALL reply. Anything that is
 * not a field/value pair of strings is skipped: a Redis we do not control
 * may answer anything. The strings belong to the reply. */
void store_parse_meta(const redisReply *reply, const char **instance, const char **version)
{
    *instance = *version = NULL;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const redisReply *k = reply->element[i], *v = reply->element[i + 1];
        if (k == NULL || v == NULL || k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "instance") == 0 && v->str[0] && strlen(v->str) == v->len)
            *instance = v->str;
        else if (strcmp(k->str, "version") == 0)
            *version = v->str;
    }
}

/* The value of name in a CONFIG GET reply ([name, value], in order),
 * copied into out. Returns 0, or -1 if the reply holds no such pair. */
int store_parse_config_get(const redisReply *reply, const char *name, char *out, size_t n)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
        return -1;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const redisReply *k = reply->element[i], *v = reply->element[i + 1];
        if (k && v && k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
            strcasecmp(k->str, name) == 0) {
            snprintf(out, n, "%.*s", (int)(v->len < n ? v->len : n - 1), v->str);
            return 0;
        }
    }
    return -1;
}

/* The value of field in INFO text ("field:value\r\n" lines), copied into
 * out. Returns 0, or -1 if no line starts with that field. */
int store_info_field(const char *info, size_t len, const char *field, char *out, size_t n)
{
    size_t flen = strlen(field);

    for (size_t pos = 0; pos < len;) {
        const char *line = info + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl != NULL);
        if (llen > flen && memcmp(line, field, flen) == 0 && line[flen] == ':') {
            size_t vlen = llen - flen - 1;
            if (vlen && line[flen + 1 + vlen - 1] == '\r')
                vlen--;
            if (vlen >= n)
                vlen = n - 1;
            memcpy(out, line + flen + 1, vlen);
            out[vlen] = '\0';
            return 0;
        }
    }
    return -1;
}

/* ---- persistence: writes are refused unless Redis keeps an AOF ----
 * Three commands, sent together: CONFIG GET appendonly and appendfsync
 * say what is configured; INFO persistence (aof_enabled) answers where
 * CONFIG is renamed away. The verdict is given when the last one answers. */

struct aof_check {
    int pending;                 /* replies still to come */
    bool dropped;                /* one came back NULL: the link went */
    int appendonly;              /* from CONFIG GET: 1, 0, or -1 if unanswered */
    int aof_enabled;             /* from INFO: 1, 0, or -1 */
    char fsync[32];
    char config_err[128];        /* why CONFIG GET failed, for the log */
};

/* Decides from what the check gathered; logs only what changes. */
static void aof_verdict(struct aof_check *c)
{
    int on = c->appendonly >= 0 ? c->appendonly : c->aof_enabled;
    char what[256];

    if (on == 1) {
        if (st.aof_off)
            log_info("store: AOF is on in Redis now; accepting writes again");
        st.aof_off = false;
        st.aof_risk_logged = false;
        if (c->fsync[0] && strcmp(c->fsync, "always") != 0 && strcmp(c->fsync, st.fsync_seen) != 0)
            log_warn("store: Redis has appendfsync %s: a write acknowledged in the second "
                     "before a power failure may be lost (appendfsync always closes that)", c->fsync);
        snprintf(st.fsync_seen, sizeof(st.fsync_seen), "%s", c->fsync);
        return;
    }
    if (on == 0 && c->appendonly == 0)
        snprintf(what, sizeof(what), "appendonly no");
    else if (on == 0)
        snprintf(what, sizeof(what), "aof_enabled:0 in INFO persistence; CONFIG GET failed: %s",
                 c->config_err);
    else
        snprintf(what, sizeof(what), "neither CONFIG GET appendonly nor INFO persistence says "
                 "whether it is on; CONFIG GET: %s", c->config_err[0] ? c->config_err : "no answer");
    if (st.cfg->store_allow_no_aof) {
        if (!st.aof_risk_logged)
            log_warn("store: Redis has AOF off (%s); writes are accepted as store_allow_no_aof "
                     "is set, and a restart of Redis may lose them", what);
        st.aof_risk_logged = true;
        st.aof_off = false;
        return;
    }
    char why[sizeof(st.aof_why)];
    snprintf(why, sizeof(why), "refusing writes: Redis has AOF off (%s), so a restart would lose "
             "acknowledged writes (turn it on with CONFIG SET appendonly yes and in redis.conf, "
             "or set store_allow_no_aof yes to accept the risk)", what);
    if (!st.aof_off || strcmp(why, st.aof_why) != 0)
        log_error("store: %s", why);
    snprintf(st.aof_why, sizeof(st.aof_why), "%s", why);
    st.aof_off = true;
}

static void aof_check_done(struct aof_check *c)
{
    if (--c->pending > 0)
        return;
    if (!c->dropped)
        aof_verdict(c);
    free(c);
}

static void aof_appendonly_cb(redisReply *reply, const char *err, void *priv)
{
    struct aof_check *c = priv;
    char v[32];

    if (reply == NULL)
        c->dropped = true;
    else if (reply->type == REDIS_REPLY_ERROR)
        snprintf(c->config_err, sizeof(c->config_err), "%.100s", reply->str);
    else if (store_parse_config_get(reply, "appendonly", v, sizeof(v)) == 0)
        c->appendonly = strcasecmp(v, "yes") == 0;
    else
        snprintf(c->config_err, sizeof(c->config_err), "no appendonly in the answer");
    aof_check_done(c);
}

static void aof_fsync_cb(redisReply *reply, const char *err, void *priv)
{
    struct aof_check *c = priv;

    if (reply == NULL)
        c->dropped = true;
    else if (store_parse_config_get(reply, "appendfsync", c->fsync, sizeof(c->fsync)) < 0)
        c->fsync[0] = '\0';
    aof_check_done(c);
}

static void aof_info_cb(redisReply *reply, const char *err, void *priv)
{
    struct aof_check *c = priv;
    char v[32];

    if (reply == NULL)
        c->dropped = true;
    else if (reply->type == REDIS_REPLY_STRING &&
             store_info_field(reply->str, reply->len, "aof_enabled", v, sizeof(v)) == 0)
        c->aof_enabled = strcmp(v, "1") == 0;
    aof_check_done(c);
}

/* Sends the three commands of a check; each callback runs once, the last
 * one frees the check. */
static void aof_check_send(void)
{
    struct aof_check *c = xcalloc(1, sizeof(*c));
    const char *a1[] = { "CONFIG", "GET", "appendonly" };
    const char *a2[] = { "CONFIG", "GET", "appendfsync" };
    const char *a3[] = { "INFO", "persistence" };

    c->appendonly = c->aof_enabled = -1;
    c->pending = 1;              /* ours, until all are sent */
    if (send_op(aof_appendonly_cb, c, 3, a1, NULL) == 0)
        c->pending++;
    if (send_op(aof_fsync_cb, c, 3, a2, NULL) == 0)
        c->pending++;
    if (send_op(aof_info_cb, c, 2, a3, NULL) == 0)
        c->pending++;
    c->dropped = c->dropped || c->pending < 4;
    aof_check_done(c);
}

/* Makes the schema marker when Redis has none, unless a sibling (another
 * worker, another campusd) made it first: then theirs stands. Answers the
 * marker as HGETALL would, for handshake_cb's second look. */
static const char META_CREATE[] =
    "if redis.call('HSETNX', KEYS[1], 'instance', ARGV[1]) == 1 then\n"
    "  redis.call('HSET', KEYS[1], 'version', ARGV[2], 'created', ARGV[3])\n"
    "end\n"
    "return redis.call('HGETALL', KEYS[1])\n";

/* The answer to HGETALL campus:meta. priv is NULL on the first look and
 * non-NULL on the second: the answer to META_CREATE, or a fresh HGETALL
 * taken because this data directory's marker names a store that Redis
 * seemed not to hold. Several processes start against one empty Redis at
 * once (workers share a data directory): a marker is only written once
 * the store it names is in Redis, so a second look settles whether the
 * data is really gone or a sibling had just made it. */
static void handshake_cb(redisReply *reply, const char *err, void *priv)
{
    char marker[128];
    bool second = priv != NULL;

    if (reply == NULL)
        return;                                  /* dropped: reconnect follows */
    if (st.wrong_role) {
        log_warn("store: %s is not the primary (ROLE); asking the Sentinels again", st.addr);
        st.state = STORE_CONNECTING;
        event_active(st.health_ev, EV_TIMEOUT, 1);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        log_warn("store: Redis is not ready: %s", reply->str);
        st.state = STORE_CONNECTING;
        /* Drop from a timer, never from inside a hiredis callback. */
        event_active(st.health_ev, EV_TIMEOUT, 1);
        return;
    }
    /* The marker as it was before the HGETALL was sent: a sibling worker that
     * writes it meanwhile has made campus:meta first, which HGETALL sees. */
    snprintf(marker, sizeof(marker), "%s", st.marker_seen);
    const char *instance, *version;
    store_parse_meta(reply, &instance, &version);
    if (instance == NULL && !second) {
        const char *argv[] = { "HGETALL", KEY_META };
        if (marker[0]) {
            send_op(handshake_cb, (void *)1, 2, argv, NULL);
            return;
        }
    }
    if (instance == NULL && !marker[0] && second) {
        log_warn("store: %s holds no instance after it was made; trying again", KEY_META);
        st.state = STORE_CONNECTING;
        event_active(st.health_ev, EV_TIMEOUT, 1);
        return;
    }
    if (instance == NULL) {
        if (marker[0]) {
            st.data_lost = true;
            snprintf(st.why, sizeof(st.why),
                     "refusing writes: Redis came back empty but held data %s before "
                     "(restore it, or remove %s to start afresh)", marker, st.marker_path);
            log_error("store: %s", st.why);
            store_up();
            return;
        }
        unsigned char rnd[8];
        char *id = xmalloc(17);
        RAND_bytes(rnd, sizeof(rnd));
        for (int i = 0; i < 8; i++)
            sprintf(id + 2 * i, "%02x", rnd[i]);
        char created[32];
        snprintf(created, sizeof(created), "%ld", (long)time(NULL));
        const char *argv[] = { "EVAL", META_CREATE, "1", KEY_META, id, STORE_SCHEMA_VERSION, created };
        send_op(handshake_cb, (void *)1, 7, argv, NULL);
        free(id);
        return;
    }
    if (version && strcmp(version, STORE_SCHEMA_VERSION) != 0)
        log_warn("store: schema version %s, this campusd speaks %s", version, STORE_SCHEMA_VERSION);
    if (marker[0] && strcmp(marker, instance) != 0) {
        st.data_lost = true;
        snprintf(st.why, sizeof(st.why),
                 "refusing writes: this Redis holds store %s, not %s we wrote to", instance, marker);
        log_error("store: %s", st.why);
    } else {
        if (!marker[0])
            write_marker(instance);
        st.data_lost = false;
    }
    store_up();
}

/* True when a ROLE reply says "master". */
static bool role_is_master(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
           reply->element[0]->type == REDIS_REPLY_STRING &&
           strcmp(reply->element[0]->str, "master") == 0;
}

static void role_handshake_cb(redisReply *reply, const char *err, void *priv)
{
    if (reply && !role_is_master(reply))
        st.wrong_role = true;
}

static void connect_cb(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        log_warn("store: cannot connect to Redis: %s", ac->errstr);
        st.ac = NULL;                            /* hiredis frees it */
        st.state = STORE_DOWN;
        schedule_reconnect();
        return;
    }
    /* Under Sentinel, the node must say it is the primary: a Sentinel's
     * answer may be a moment old, and a replica would serve stale reads. */
    st.wrong_role = false;
    if (st.sentinel) {
        const char *argv[] = { "ROLE" };
        send_op(role_handshake_cb, NULL, 1, argv, NULL);
    }
    /* The persistence check goes first: its verdict is in before the
     * handshake's reply makes the store up. */
    aof_check_send();
    read_marker(st.marker_seen, sizeof(st.marker_seen));
    const char *argv[] = { "HGETALL", KEY_META };
    send_op(handshake_cb, NULL, 2, argv, NULL);
}

static void disconnect_cb(const redisAsyncContext *ac, int status)
{
    if (st.state == STORE_UP)
        log_warn("store: lost the link to Redis%s%s", status == REDIS_OK ? "" : ": ",
                 status == REDIS_OK ? "" : ac->errstr);
    st.ac = NULL;                                /* hiredis frees it */
    st.state = STORE_DOWN;
    st.target_known = false;
    schedule_reconnect();
}

/* ---- Sentinel: where the primary is ---- */

static void sentinel_found(const char *host, int port)
{
    if (st.stopping || st.ac)
        return;
    if (host == NULL) {
        log_warn("store: no Sentinel names a primary for %s", st.cfg->sentinel_master);
        schedule_reconnect();
        return;
    }
    snprintf(st.target_host, sizeof(st.target_host), "%s", host);
    st.target_port = port;
    st.target_known = true;
    connect_now();
}

static void sentinel_switched(const char *host, int port)
{
    bool same = st.target_known && st.target_port == port && strcmp(st.target_host, host) == 0;

    snprintf(st.target_host, sizeof(st.target_host), "%s", host);
    st.target_port = port;
    if (same && st.ac)
        return;
    st.backoff_ms = BACKOFF_MIN_MS;
    if (st.ac) {
        move_later("the primary moved (+switch-master)");
    } else {
        /* Between links: go there now rather than at the next backoff. */
        evtimer_del(st.reconnect_ev);
        st.target_known = true;
        connect_now();
    }
}

static void move_cb(evutil_socket_t fd, short what, void *arg)
{
    if (st.ac == NULL)
        return;
    /* A move told by a Sentinel keeps its address; any other asks again. */
    bool told = st.move_why && strstr(st.move_why, "switch-master") != NULL;
    char host[256];
    int port = st.target_port;
    snprintf(host, sizeof(host), "%s", st.target_host);
    drop_link(st.move_why ? st.move_why : "moving");
    if (told) {
        snprintf(st.target_host, sizeof(st.target_host), "%s", host);
        st.target_port = port;
        st.target_known = true;
        evtimer_del(st.reconnect_ev);
        st.backoff_ms = BACKOFF_MIN_MS;
        connect_now();
    }
}

/* Drops the link from the loop, not from inside a hiredis callback. */
static void move_later(const char *why)
{
    st.move_why = why;
    event_active(st.move_ev, EV_TIMEOUT, 1);
}

/* A new async context to the address the store uses (host:port or a unix
 * socket; under Sentinel, the primary chosen last), not yet attached to a
 * loop. NULL after logging why. The live bus (live-bus.c) connects its
 * subscriber through here too, so whatever moves the store to another
 * address moves both. */
redisAsyncContext *store_connect_async(const char *who)
{
    const char *addr = st.sentinel ? st.addr : st.cfg->redis;
    redisAsyncContext *ac;

    if (addr == NULL || addr[0] == '\0') {
        log_warn("%s: no primary known yet", who);
        return NULL;
    }
    if (addr[0] == '/') {
        ac = redisAsyncConnectUnix(addr);
    } else {
        char host[256];
        const char *colon = strrchr(addr, ':');
        int port = arg_addr_port(addr, 6379);   /* checked by config_set */
        size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
        snprintf(host, sizeof(host), "%.*s", (int)(n < 255 ? n : 255), addr);
        ac = redisAsyncConnect(host, port);
    }
    if (ac == NULL || ac->err) {
        log_warn("%s: cannot connect to %s: %s", who, addr, ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        return NULL;
    }
    return ac;
}

static void connect_now(void)
{
    redisAsyncContext *ac;

    if (st.ac || st.stopping)
        return;
    if (st.sentinel) {
        if (!st.target_known) {
            st.state = STORE_CONNECTING;
            sentinel_ask();          /* sentinel_found comes back here */
            return;
        }
        snprintf(st.addr, sizeof(st.addr), "%s:%d", st.target_host, st.target_port);
    } else {
        snprintf(st.addr, sizeof(st.addr), "%s", st.cfg->redis);
    }
    ac = store_connect_async("store");
    if (ac == NULL) {
        schedule_reconnect();
        return;
    }
    st.ac = ac;
    st.state = STORE_CONNECTING;
    redisLibeventAttach(ac, st.base);
    redisAsyncSetConnectCallback(ac, connect_cb);
    redisAsyncSetDisconnectCallback(ac, disconnect_cb);
}

static void reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
    connect_now();
}

static void health_reply_cb(redisReply *reply, const char *err, void *priv)
{
    (void)reply;
}

/* Under Sentinel the health check asks ROLE: a primary that was demoted
 * while partitioned, then healed, is left at once. */
static void health_role_cb(redisReply *reply, const char *err, void *priv)
{
    if (reply && !role_is_master(reply))
        move_later("the node is a replica now (ROLE)");
}

/* Every second: a PING keeps the state honest even without traffic (a
 * SIGSTOPped Redis accepts connections but never answers), and a link stuck
 * half-way gets dropped. Every AOF_CHECK_TICKS, the persistence check runs
 * again, so a CONFIG SET appendonly at runtime is noticed. */
static void health_cb(evutil_socket_t fd, short what, void *arg)
{
    if (st.state == STORE_UP && ++st.health_ticks % AOF_CHECK_TICKS == 0)
        aof_check_send();
    if (st.state == STORE_UP && st.head == NULL) {
        const char *argv[] = { st.sentinel ? "ROLE" : "PING" };
        send_op(st.sentinel ? health_role_cb : health_reply_cb, NULL, 1, argv, NULL);
    } else if (st.state == STORE_CONNECTING && st.ac && st.head == NULL) {
        drop_link("Redis not ready");
    }
}

void store_start(struct event_base *base, const struct config *c)
{
    memset(&st, 0, sizeof(st));
    st.base = base;
    st.cfg = c;
    st.backoff_ms = BACKOFF_MIN_MS;
    snprintf(st.marker_path, sizeof(st.marker_path), "%s/store-instance", c->data_dir);
    st.timer = evtimer_new(base, timer_cb, NULL);
    st.reconnect_ev = evtimer_new(base, reconnect_cb, NULL);
    st.health_ev = event_new(base, -1, EV_PERSIST, health_cb, NULL);
    st.move_ev = event_new(base, -1, 0, move_cb, NULL);
    st.sentinel = c->sentinel != NULL;
    if (st.sentinel)
        sentinel_start(base, c, sentinel_found, sentinel_switched);
    struct timeval tv = { HEALTH_INTERVAL_MS / 1000, (HEALTH_INTERVAL_MS % 1000) * 1000 };
    event_add(st.health_ev, &tv);
    connect_now();
}

void store_stop(void)
{
    st.stopping = true;
    if (st.ac) {
        st.drop_reason = "shutting down";
        redisAsyncFree(st.ac);
        st.ac = NULL;
    }
    st.state = STORE_DOWN;
    if (st.sentinel)
        sentinel_stop();
    if (st.timer) {
        event_free(st.move_ev);
        event_free(st.timer);
        event_free(st.reconnect_ev);
        event_free(st.health_ev);
        st.timer = st.reconnect_ev = st.health_ev = NULL;
    }
}
