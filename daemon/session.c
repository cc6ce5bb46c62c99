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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void key(char *out, size_t n, const char *fmt, const char *who)
{
    snprintf(out, n, fmt, who);
}

/* ---- the lookup AUTH and HTTP requests share ---- */

struct resolve;
/* user: the session's account; NULL when there is no such live session;
 * "" when the store failed. */
typedef void resolve_cb(struct resolve *rs, const char *user, enum role role);

struct resolve {
    struct req *req;
    char name[AUTH_NAME_MAX + 1];
    char hash[65];
    resolve_cb *cb;
    void (*then)(struct req *);  /* HTTP: dispatch once the identity is known */
};

static void resolve_touch_cb(redisReply *reply, const char *err, void *priv)
{
    struct resolve *rs = priv;
    const char *user = NULL;
    enum role role = ROLE_ANON;
    bool failed = reply == NULL || reply->type == REDIS_REPLY_ERROR;

    if (!failed && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
        auth_hash_equal(account_reply_str(reply->element[1]), rs->hash)) {
        role = account_role_parse(account_reply_str(reply->element[0]));
        if (role != ROLE_ANON)
            user = rs->name;
    }
    if (failed && reply)
        log_warn("store: session lookup: %.200s", reply->str);
    rs->cb(rs, failed ? "" : user, role);
    free(rs);
}

/* Looks a token up; cb gets the answer on the loop thread (rs is freed after
 * it). Returns -1 at once, without calling cb, when the token is malformed
 * or the store is down. */
static int session_resolve(struct req *req, const char *token, size_t len, resolve_cb *cb,
                           void (*then)(struct req *))
{
    struct resolve *rs = xcalloc(1, sizeof(*rs));
    char k1[128], k2[128], now[24], idle[24], max[24], touch[24];

    if (auth_token_parse(token, len, rs->name, rs->hash) < 0) {
        free(rs);
        return -1;
    }
    rs->req = req;
    rs->cb = cb;
    rs->then = then;
    key(k1, sizeof(k1), KEY_SESSIONS, rs->name);
    key(k2, sizeof(k2), KEY_ACCOUNT, rs->name);
    long long idle_ms = (long long)cfg.session_idle * 1000;
    snprintf(now, sizeof(now), "%lld", account_now_ms());
    snprintf(idle, sizeof(idle), "%lld", idle_ms);
    snprintf(max, sizeof(max), "%lld", (long long)cfg.session_max_age * 1000);
    /* Write the last use at most every minute (or quarter of the idle time). */
    snprintf(touch, sizeof(touch), "%lld", idle_ms / 4 < 60000 ? idle_ms / 4 : 60000);
    const char *argv[] = { k1, k2, rs->hash, now, idle, max, touch };
    if (script_call(SCRIPT_SESSION_TOUCH, resolve_touch_cb, rs, 2, 7, argv) < 0) {
        free(rs);
        return -1;
    }
    return 0;
}

static void auth_resolved(struct resolve *rs, const char *user, enum role role)
{
    struct req *req = rs->req;

    account_hold(req, false);
    if (user && user[0] == '\0') {
        req_reply(req, 503, "progress store unavailable");
        return;
    }
    if (user == NULL) {
        req_reply(req, 401, "invalid or expired session");
        return;
    }
    if (req->origin == REQ_CTP)
        account_set_identity(req->conn, user, role, rs->hash);
    req_kv(req, "user", "%s", user);
    req_kv(req, "role", "%s", account_role_name(role));
    req_reply_data(req, 200, "resumed session of %s (%s)", user, account_role_name(role));
}

void session_cmd_auth(struct req *req)
{
    account_hold(req, true);
    if (session_resolve(req, req->args.argv[1], req->args.argl[1], auth_resolved, NULL) < 0) {
        account_hold(req, false);
        if (store_state() != STORE_UP)
            req_reply(req, 503, "progress store unavailable");
        else
            req_reply(req, 401, "invalid or expired session");
    }
}

static void http_resolved(struct resolve *rs, const char *user, enum role role)
{
    struct req *req = rs->req;

    if (user && user[0]) {
        free(req->user);
        req->user = xstrdup(user);
        req->role = role;
    }
    rs->then(req);
}

void account_resolve(struct req *req, const char *token, void (*then)(struct req *))
{
    if (token == NULL || token[0] == '\0') {
        then(req);
        return;
    }
    if (session_resolve(req, token, strlen(token), http_resolved, then) < 0)
        then(req);
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
    if (account_store_failed(req, reply))
        return;
    if (req->origin == REQ_CTP && req->args.argc == 1)
        account_set_identity(req->conn, NULL, ROLE_ANON, NULL);
    req_reply(req, 200, "logged out");
}

void session_cmd_logout(struct req *req)
{
    char name[AUTH_NAME_MAX + 1], hash[65], k[128];

    if (req->args.argc == 2) {
        /* A token of one's own (the HTTP route passes the request's). */
        if (auth_token_parse(req->args.argv[1], req->args.argl[1], name, hash) < 0 ||
            strcmp(name, req->user) != 0) {
            req_reply(req, 400, "that is not a session token of yours");
            return;
        }
    } else if (req->origin == REQ_CTP && req->conn->session[0]) {
        snprintf(hash, sizeof(hash), "%s", req->conn->session);
    } else {
        req_reply(req, 400, "usage: %s", req->cmd->usage);
        return;
    }
    key(k, sizeof(k), KEY_SESSIONS, req->user);
    account_hold(req, true);
    const char *argv[] = { "HDEL", k, hash };
    if (store_command_argv(logout_cb, req, 3, argv, NULL) < 0) {
        account_hold(req, false);
        req_reply(req, 503, "progress store unavailable");
    }
}

void session_cmd_whoami(struct req *req)
{
    if (req->user == NULL) {
        req_kv(req, "user", "%s", "");
        req_kv(req, "role", "%s", account_role_name(ROLE_ANON));
        req_reply_data(req, 200, "not logged in");
        return;
    }
    req_kv(req, "user", "%s", req->user);
    req_kv(req, "role", "%s", account_role_name(req->role));
    req_reply_data(req, 200, "%s (%s)", req->user, account_role_name(req->role));
}
