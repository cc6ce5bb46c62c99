/* session.c: sessions in use: AUTH, LOGOUT, WHOAMI, and the lookup that
 * gives an HTTP request the identity of its bearer token or cookie. */
#include "campusd.h"

#include "account.h"
#include "auth.h"
#include "keys.h"
#include "scripts.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the lookup AUTH, HTTP requests and checked CTP/1 requests share ---- */

struct resolve;
/* state: LIVE (user is the session's account, role its role now), ENDED
 * (why, when it may be told, else ""), or UNKNOWN (the store failed). */
typedef void resolve_cb(struct resolve *rs, enum req_session state, enum role role,
                        const char *why);

struct resolve {
    struct req *req;
    store_cb *fused;             /* session_check_fused: the verb's continuation */
    char name[AUTH_NAME_MAX + 1];
    char hash[AUTH_TOKEN_HASH_MAX];
    long long created;           /* the session's start as reported, 0 if not */
    char lang[LANG_TAG_MAX];     /* the account's LANG, "" when unset */
    resolve_cb *cb;
    void (*then)(struct req *);  /* HTTP: dispatch once the identity is known */
};

/* SCRIPT_SESSION_TOUCH answers {role, hash, created, lang} for a live session, a
 * string saying why it ended (only to a caller that showed when the session
 * began, that is, one that had it), or 0. */
static void touch_parse(redisReply *reply, struct resolve *rs, enum req_session *state_out,
                        enum role *role_out, const char **why_out)
{
    enum req_session state = REQ_SESSION_ENDED;
    enum role role = ROLE_ANON;
    const char *why = "";

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply)
            log_warn("store: session lookup: %.200s", reply->str);
        state = REQ_SESSION_UNKNOWN;
    } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 3 &&
               auth_hash_equal(account_reply_str(reply->element[1]), rs->hash)) {
        role = account_role_parse(account_reply_str(reply->element[0]));
        const char *c = account_reply_str(reply->element[2]);
        long long created;
        if (arg_parse_ll(c, strlen(c), 0, LLONG_MAX, &created) == 0)
            rs->created = created;
        const char *lang = reply->elements >= 4 ? account_reply_str(reply->element[3]) : "";
        if (lang_tag_valid(lang, strlen(lang)))
            snprintf(rs->lang, sizeof(rs->lang), "%s", lang);
        if (role != ROLE_ANON)
            state = REQ_SESSION_LIVE;
    } else if (reply->type == REDIS_REPLY_STRING) {
        why = reply->str;
    }
    *state_out = state;
    *role_out = role;
    *why_out = why;
}

static void resolve_touch_cb(redisReply *reply, const char *err, void *priv)
{
    struct resolve *rs = priv;
    enum req_session state;
    enum role role;
    const char *why;

    touch_parse(reply, rs, &state, &role, &why);
    rs->cb(rs, state, role, why);
    free(rs);
}

/* Looks a session up by its token's name and hash; created is when the
 * caller's session began (0 when the caller only has a token). cb gets the
 * answer on the loop thread (rs is freed after it). Returns -1 at once,
 * without calling cb, when the store is down. */
/* SESSION_TOUCH's keys and arguments for rs, as script_call takes them. */
struct touch_args {
    char k1[KEY_MAX], k2[KEY_MAX], now[24], idle[24], max[24], touch[24], since[24];
    const char *argv[8];
};

static int touch_args(struct resolve *rs, long long created, struct touch_args *t)
{
    if (key_fmt(t->k1, sizeof(t->k1), KEY_SESSIONS, rs->name) < 0 ||
        key_fmt(t->k2, sizeof(t->k2), KEY_ACCOUNT, rs->name) < 0)
        return -1;
    long long idle_ms = (long long)cfg.session_idle * 1000;
    snprintf(t->now, sizeof(t->now), "%lld", now_wall_ms());
    snprintf(t->idle, sizeof(t->idle), "%lld", idle_ms);
    snprintf(t->max, sizeof(t->max), "%lld", (long long)cfg.session_max_age * 1000);
    /* Write the last use at most every minute (or quarter of the idle time). */
    snprintf(t->touch, sizeof(t->touch), "%lld", idle_ms / 4 < 60000 ? idle_ms / 4 : 60000);
    snprintf(t->since, sizeof(t->since), "%lld", created);
    const char *argv[] = { t->k1, t->k2, rs->hash, t->now, t->idle, t->max, t->touch, t->since };
    memcpy(t->argv, argv, sizeof(argv));
    return 0;
}

static int session_lookup(struct req *req, const char *name, const char *hash, long long created,
                          resolve_cb *cb, void (*then)(struct req *))
{
    struct resolve *rs = xcalloc(1, sizeof(*rs));
    struct touch_args t;

    snprintf(rs->name, sizeof(rs->name), "%s", name);
    snprintf(rs->hash, sizeof(rs->hash), "%s", hash);
    rs->req = req;
    rs->cb = cb;
    rs->then = then;
    if (touch_args(rs, created, &t) < 0 ||
        script_call(SCRIPT_SESSION_TOUCH, resolve_touch_cb, rs, 2, 8, t.argv) < 0) {
        free(rs);
        return -1;
    }
    return 0;
}

static void auth_resolved(struct resolve *rs, enum req_session state, enum role role,
                          const char *why)
{
    struct req *req = rs->req;

    account_hold(req, false);
    if (state == REQ_SESSION_UNKNOWN) {
        req_store_unavailable(req);
        return;
    }
    if (state != REQ_SESSION_LIVE) {
        req_reply(req, 401, "invalid or expired session");
        return;
    }
    if (req->origin == REQ_CTP)
        account_set_identity(req->conn, rs->name, role, rs->hash, rs->created, rs->lang);
    snprintf(req->lang_account, sizeof(req->lang_account), "%s", rs->lang);
    req_kv(req, "user", "%s", rs->name);
    req_kv(req, "role", "%s", account_role_name(role));
    req_reply_data(req, 200, "resumed session of %s (%s)", rs->name, account_role_name(role));
}

void session_cmd_auth(struct req *req)
{
    char name[AUTH_NAME_MAX + 1], hash[AUTH_TOKEN_HASH_MAX];

    if (auth_token_parse(req->args.argv[1], req->args.argl[1], name, hash) < 0) {
        req_reply(req, 401, "invalid or expired session");
        return;
    }
    account_hold(req, true);
    if (session_lookup(req, name, hash, 0, auth_resolved, NULL) < 0) {
        account_hold(req, false);
        req_store_unavailable(req);
    }
}

static void http_resolved(struct resolve *rs, enum req_session state, enum role role,
                          const char *why)
{
    struct req *req = rs->req;

    req->session = state;
    snprintf(req->session_hash, sizeof(req->session_hash), "%s", rs->hash);
    if (state == REQ_SESSION_LIVE) {
        free(req->user);
        req->user = xstrdup(rs->name);
        req->role = role;
        snprintf(req->lang_account, sizeof(req->lang_account), "%s", rs->lang);
    }
    rs->then(req);
}

void account_resolve(struct req *req, const char *token, void (*then)(struct req *))
{
    char name[AUTH_NAME_MAX + 1], hash[AUTH_TOKEN_HASH_MAX];

    if (token == NULL || token[0] == '\0') {
        then(req);
        return;
    }
    /* A malformed token names no session: the request is anonymous. */
    if (auth_token_parse(token, strlen(token), name, hash) < 0) {
        req->session = REQ_SESSION_ENDED;
        then(req);
        return;
    }
    if (session_lookup(req, name, hash, 0, http_resolved, then) < 0) {
        req->session = REQ_SESSION_UNKNOWN;
        then(req);
    }
}

/* ---- every request of a logged-in CTP/1 connection ----
 *
 * A connection logs in once but may live for hours, while an admin on
 * another connection, worker or machine changes the account's role,
 * disables it, or the password changes and every other session ends. So the
 * connection's session is looked up again before each request that acts as
 * the user: one pipelined round trip, and the request runs with the role
 * Redis has now. When the session is gone, the connection is logged out and
 * told why. */

/* What a checked session means for the request and its connection. */
static void check_apply(struct resolve *rs, enum req_session state, enum role role,
                        const char *why)
{
    struct req *req = rs->req;
    struct conn *c = req->conn;
    /* Only if the connection still is who this request was parsed as: a
     * LOGIN behind it may have made it someone else since. */
    bool same = c && strcmp(c->session, req->session_hash) == 0 && c->user &&
                strcmp(c->user, rs->name) == 0;

    req->session = state;
    if (state == REQ_SESSION_LIVE) {
        req->role = role;
        snprintf(req->lang_account, sizeof(req->lang_account), "%s", rs->lang);
        if (same) {
            c->role = role;
            /* A LANG set on another connection reaches this one here. */
            snprintf(c->lang, sizeof(c->lang), "%s", rs->lang);
        }
    } else if (state == REQ_SESSION_ENDED) {
        snprintf(req->session_why, sizeof(req->session_why), "%s",
                 why[0] ? why : "logged out or expired");
        if (same) {
            log_info("conn %llu: session of %s ended: %s", (unsigned long long)c->id, rs->name,
                     req->session_why);
            account_set_identity(c, NULL, ROLE_ANON, NULL, 0, NULL);
        }
    }
}

static void check_resolved(struct resolve *rs, enum req_session state, enum role role,
                           const char *why)
{
    check_apply(rs, state, role, why);
    cmd_dispatch(rs->req);
}

/* SESSION_TOUCH's answer is the first element; the verb's, when the script
 * ran it, the second. A live session without the second cannot happen (the
 * script runs the verb for every live session): it goes the ordinary way. */
static void fused_cb(redisReply *reply, const char *err, void *priv)
{
    struct resolve *rs = priv;
    struct req *req = rs->req;
    redisReply *touch = reply, *rest = NULL;
    enum req_session state;
    enum role role;
    const char *why;

    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        touch = reply->elements >= 1 ? reply->element[0] : NULL;
        rest = reply->elements >= 2 ? reply->element[1] : NULL;
    }
    touch_parse(touch, rs, &state, &role, &why);
    check_apply(rs, state, role, why);
    if (state == REQ_SESSION_LIVE && rest) {
        stats_command(cmd_index(req->cmd));
        rs->fused(rest, err, req);
    } else {
        cmd_dispatch(req);
    }
    free(rs);
}

int session_check_fused(struct req *req, int script, int nkeys, int nargs, const char *const *argv,
                        store_cb *then)
{
    enum { EXTRA_MAX = 16 };
    struct resolve *rs;
    struct touch_args t;
    const char *all[8 + EXTRA_MAX];

    if (nkeys + nargs > EXTRA_MAX || req->user == NULL)
        return -1;
    rs = xcalloc(1, sizeof(*rs));
    snprintf(rs->name, sizeof(rs->name), "%s", req->user);
    snprintf(rs->hash, sizeof(rs->hash), "%s", req->session_hash);
    rs->req = req;
    rs->fused = then;
    if (touch_args(rs, req->session_created, &t) < 0) {
        free(rs);
        return -1;
    }
    /* Keys: the session's two, then the verb's; arguments likewise. */
    int n = 0;
    all[n++] = t.argv[0];
    all[n++] = t.argv[1];
    for (int i = 0; i < nkeys; i++)
        all[n++] = argv[i];
    for (int i = 2; i < 8; i++)
        all[n++] = t.argv[i];
    for (int i = 0; i < nargs; i++)
        all[n++] = argv[nkeys + i];
    if (script_call((enum script_id)script, fused_cb, rs, 2 + nkeys, n, all) < 0) {
        free(rs);
        return -1;
    }
    return 0;
}

void session_check(struct req *req)
{
    if (req->cmd && req->cmd->fused && req->cmd->fused(req))
        return;
    if (session_lookup(req, req->user, req->session_hash, req->session_created, check_resolved,
                       NULL) < 0) {
        req->session = REQ_SESSION_UNKNOWN;
        cmd_dispatch(req);
    }
}

bool account_http_token(struct evhttp_request *r, char *out, size_t n)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(r);
    const char *auth = evhttp_find_header(h, "Authorization");

    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        while (*t == ' ')
            t++;
        snprintf(out, n, "%s", t);
        return out[0] != '\0';
    }
    /* Either name: the __Host- one is set over TLS, the plain one before. */
    const char *cookie = evhttp_find_header(h, "Cookie");
    for (const char *p = cookie; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        for (int k = 0; k < 2; k++) {
            const char *name = k ? COOKIE_NAME_HOST : COOKIE_NAME;
            size_t klen = strlen(name);
            if (len > klen && strncmp(p, name, klen) == 0 && p[klen] == '=') {
                size_t vlen = len - klen - 1;
                if (vlen >= n)
                    return false;
                memcpy(out, p + klen + 1, vlen);
                out[vlen] = '\0';
                return vlen > 0;
            }
        }
        p = end;
    }
    return false;
}

/* ---- LOGOUT, WHOAMI ---- */

static void logout_cb(redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;

    account_hold(req, false);
    if (req_store_failed(req, reply))
        return;
    if (req->origin == REQ_CTP && req->args.argc == 1)
        account_set_identity(req->conn, NULL, ROLE_ANON, NULL, 0, NULL);
    req_reply(req, 200, "logged out");
}

void session_cmd_logout(struct req *req)
{
    char name[AUTH_NAME_MAX + 1], hash[AUTH_TOKEN_HASH_MAX], k[KEY_MAX];

    if (req->args.argc == 2) {
        /* A token of one's own (the HTTP route passes the request's). */
        if (auth_token_parse(req->args.argv[1], req->args.argl[1], name, hash) < 0 ||
            strcmp(name, req->user) != 0) {
            req_reply(req, 400, "that is not a session token of yours");
            return;
        }
    } else if (req->origin == REQ_CTP && req->session_hash[0]) {
        snprintf(hash, sizeof(hash), "%s", req->session_hash);
    } else {
        req_reply(req, 400, "usage: %s", req->cmd->usage);
        return;
    }
    if (key_fmt(k, sizeof(k), KEY_SESSIONS, req->user) < 0) {
        req_store_unavailable(req);
        return;
    }
    account_hold(req, true);
    const char *argv[] = { "HDEL", k, hash };
    if (store_command_argv(logout_cb, req, 3, argv, NULL) < 0) {
        account_hold(req, false);
        req_store_unavailable(req);
    }
}

void session_cmd_whoami(struct req *req)
{
    /* Never "not logged in" because the store could not say. */
    if (req->session == REQ_SESSION_UNKNOWN) {
        req_store_unavailable(req);
        return;
    }
    if (req->user == NULL) {
        req_kv(req, "user", "%s", "");
        req_kv(req, "role", "%s", account_role_name(ROLE_ANON));
        req_reply_data(req, 200, "not logged in");
        return;
    }
    req_kv(req, "user", "%s", req->user);
    req_kv(req, "role", "%s", account_role_name(req->role));
    char msg[AUTH_NAME_MAX + 64];
    snprintf(msg, sizeof(msg), "%s (%s)", req->user, account_role_name(req->role));
    reviews_new_reply(req, req->user, msg);
}
