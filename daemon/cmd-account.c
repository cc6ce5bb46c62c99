/* cmd-account.c: accounts: REGISTER, LOGIN, PASSWD, USER, their HTTP
 * routes, and the helpers session.c shares (see account.h). */
#include "campusd.h"

#include "account.h"
#include "auth.h"
#include "keys.h"
#include "scripts.h"

#include <event2/http.h>
#include <stdarg.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#define USER_LIST_MAX 1000

/* ---- small helpers ---- */

const char *account_role_name(enum role r)
{
    static const char *names[] = { "anonymous", "learner", "trainer", "admin" };
    return names[r];
}

/* The role named s, or ROLE_ANON when s names none. */
enum role account_role_parse(const char *s)
{
    if (strcmp(s, "learner") == 0)
        return ROLE_LEARNER;
    if (strcmp(s, "trainer") == 0)
        return ROLE_TRAINER;
    if (strcmp(s, "admin") == 0)
        return ROLE_ADMIN;
    return ROLE_ANON;
}

/* The client's address: the connection's, or the HTTP peer's. */
static void req_addr(struct req *req, char out[64])
{
    snprintf(out, 64, "?");
    if (req->origin == REQ_CTP && req->conn) {
        snprintf(out, 64, "%s", req->conn->addr);
    } else if (req->origin == REQ_HTTP && req->http) {
        const char *host = http_client_addr(req->http);
        if (host)
            snprintf(out, 64, "%s", host);
    }
}

static long long reply_int(redisReply *r)
{
    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return atoll(r->str);
    return 0;
}

const char *account_reply_str(redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING ? r->str : "";
}

/* Sets who a CTP/1 connection is; NULL user logs it out. */
void account_set_identity(struct conn *c, const char *user, enum role role, const char *hash,
                          long long created, const char *lang)
{
    char *old = c->user;         /* user may be old itself */
    c->user = user ? xstrdup(user) : NULL;
    free(old);
    c->role = user ? role : ROLE_ANON;
    snprintf(c->session, sizeof(c->session), "%s", user && hash ? hash : "");
    c->session_created = user ? created : 0;
    snprintf(c->lang, sizeof(c->lang), "%s", user && lang ? lang : "");
}

void account_set_lang(struct conn *c, const char *user, const char *lang)
{
    if (c && c->user && user && strcmp(c->user, user) == 0)
        snprintf(c->lang, sizeof(c->lang), "%s", lang ? lang : "");
}

void account_hold(struct req *req, bool on)
{
    if (req->origin == REQ_CTP && req->conn)
        conn_hold(req->conn, on);
}

bool account_cookie_secure(void)
{
    return cfg.base_url && strncmp(cfg.base_url, "https:", 6) == 0;
}

const char *account_cookie_name(void)
{
    return account_cookie_secure() ? COOKIE_NAME_HOST : COOKIE_NAME;
}

void account_set_cookie(struct req *req, const char *token, long max_age)
{
    if (req->origin != REQ_HTTP || req->http == NULL)
        return;
    char *v = xasprintf("%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s", account_cookie_name(),
                        token, max_age, account_cookie_secure() ? "; Secure" : "");
    evhttp_add_header(evhttp_request_get_output_headers(req->http), "Set-Cookie", v);
    free(v);
}

/* ---- multi-step operations ---- */

enum op_kind { OP_LOGIN, OP_PASSWD, OP_REGISTER, OP_USER_ADD, OP_REHASH };

/* One LOGIN, PASSWD, REGISTER or USER ADD between its steps. The password
 * copy is wiped when the op ends. req is NULL for a background re-hash. */
struct op {
    enum op_kind kind;
    struct req *req;
    char name[AUTH_NAME_MAX + 1];
    char addr[64];
    char *pw, *pw2;              /* the password; PASSWD: pw old, pw2 new */
    size_t pwlen, pw2len;
    char stored[AUTH_HASH_MAX];  /* the account's hash as read */
    char newhash[AUTH_HASH_MAX];
    enum role role;
    bool disabled, rehash;
    char token[AUTH_TOKEN_MAX], tokhash[AUTH_TOKEN_HASH_MAX];
    long long created;           /* LOGIN, PASSWD: when the new session begins (ms) */
    char lang[LANG_TAG_MAX];     /* LOGIN: the account's LANG as read, "" when unset */
};

static struct op *op_new(enum op_kind kind, struct req *req, const char *name)
{
    struct op *op = xcalloc(1, sizeof(*op));
    op->kind = kind;
    op->req = req;
    snprintf(op->name, sizeof(op->name), "%s", name);
    if (req)
        req_addr(req, op->addr);
    return op;
}

static char *secret_dup(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void secret_free(char *s, size_t n)
{
    if (s) {
        explicit_bzero(s, n);
        free(s);
    }
}

static void op_free(struct op *op)
{
    secret_free(op->pw, op->pwlen);
    secret_free(op->pw2, op->pw2len);
    explicit_bzero(op, sizeof(*op));
    free(op);
}

/* Answers with code and ends the op (releasing the connection's hold). */
static void op_finish(struct op *op, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void op_finish(struct op *op, int code, const char *fmt, ...)
{
    char msg[REPLY_MSG_MAX];
    va_list ap;

    /* In the learner's language, as req_reply would (i18n.c). */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), op->req ? i18n_fmt(i18n_msg_lang(op->req), fmt) : fmt, ap);
    va_end(ap);
    struct req *req = op->req;
    account_hold(req, false);
    op_free(op);
    req_reply(req, code, "%s", msg);
}

static void op_store_failed(struct op *op)
{
    op_finish(op, 503, REQ_STORE_UNAVAILABLE);
}

static bool op_reply_bad(struct op *op, redisReply *reply)
{
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply)
            log_warn("store: %s: %.200s", op->req && op->req->cmd ? op->req->cmd->name : "?",
                     reply->str);
        op_store_failed(op);
        return true;
    }
    return false;
}

static int op_script(struct op *op, enum script_id id, store_cb *cb, int nkeys, int argc,
                     const char *const *argv)
{
    if (script_call(id, cb, op, nkeys, argc, argv) < 0) {
        op_store_failed(op);
        return -1;
    }
    return 0;
}

/* ---- LOGIN: address limit, account limit, verify, session ---- */

static void login_fetch_cb(redisReply *reply, const char *err, void *priv);
static void login_verified(int result, const char *hash, void *priv);
static void login_failed_cb(redisReply *reply, const char *err, void *priv);
static void session_new_cb(redisReply *reply, const char *err, void *priv);
static void rehash_done(int result, const char *hash, void *priv);

/* One whole sentence per limit, so that each is translated as one. */
static void answer_limited(struct op *op, long long pttl, bool account)
{
    long secs = pttl > 0 ? (long)((pttl + 999) / 1000) : 1;
    if (account)
        op_finish(op, 429, "too many failed logins for this account; retry in %ld seconds", secs);
    else
        op_finish(op, 429, "too many failed logins from your address; retry in %ld seconds", secs);
}

static void login_addr_cb(redisReply *reply, const char *err, void *priv)
{
    struct op *op = priv;
    char k1[KEY_MAX], k2[KEY_MAX], max[24];

    if (op_reply_bad(op, reply))
        return;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
        reply_int(reply->element[0]) == 1) {
        answer_limited(op, reply_int(reply->element[1]), false);
        return;
    }
    if (key_fmt(k1, sizeof(k1), KEY_ACCOUNT, op->name) < 0 ||
        key_fmt(k2, sizeof(k2), KEY_FAILS, op->name) < 0) {
        op_store_failed(op);
        return;
    }
    snprintf(max, sizeof(max), "%ld", cfg.login_fail_max);
    const char *argv[] = { k1, k2, max };
    op_script(op, SCRIPT_LOGIN_FETCH, login_fetch_cb, 2, 3, argv);
}

/* Starts a login (or the old-password check of PASSWD): the address's
 * failure count first, as it costs the least. */
static void login_begin(struct op *op)
{
    char k[KEY_MAX], max[24];

    account_hold(op->req, true);
    if (key_fmt(k, sizeof(k), KEY_ADDR_FAILS, op->addr) < 0) {
        op_store_failed(op);
        return;
    }
    snprintf(max, sizeof(max), "%ld", cfg.login_fail_addr_max);
    const char *argv[] = { k, max };
    op_script(op, SCRIPT_RATE_PEEK, login_addr_cb, 1, 2, argv);
}

static void login_fetch_cb(redisReply *reply, const char *err, void *priv)
{
    struct op *op = priv;

    if (op_reply_bad(op, reply))
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        op_store_failed(op);
        return;
    }
    if (reply_int(reply->element[0]) == 1) {
        answer_limited(op, reply_int(reply->element[1]), true);
        return;
    }
    const char *stored = reply->elements >= 5 ? account_reply_str(reply->element[2]) : "";
    snprintf(op->stored, sizeof(op->stored), "%s", stored);
    if (reply->elements >= 5) {
        op->role = account_role_parse(account_reply_str(reply->element[3]));
        op->disabled = strcmp(account_reply_str(reply->element[4]), "1") == 0;
    }
    /* Kept for after the password is verified: a failed login's answer
     * never depends on what the account holds. */
    const char *lang = reply->elements >= 6 ? account_reply_str(reply->element[5]) : "";
    if (lang_tag_valid(lang, strlen(lang)))
        snprintf(op->lang, sizeof(op->lang), "%s", lang);
    /* An unknown name costs the same hash and gets the same answer. */
    if (auth_submit_verify(op->pw, op->pwlen, op->stored[0] ? op->stored : NULL, login_verified,
                           op) < 0)
        op_finish(op, 503, "too many logins at once; retry in a moment");
}

static void passwd_verified(struct op *op);

static void login_verified(int result, const char *hash, void *priv)
{
    struct op *op = priv;
    char k[KEY_MAX], win[24];

    if (result == AUTH_STOPPED) {
        op_finish(op, 503, "server shutting down");
        return;
    }
    if (result == AUTH_LATE) {
        /* No thread took it within the bound: as if the queue were full. */
        op_finish(op, 503, "too many logins at once; retry in a moment");
        return;
    }
    if (result != 1) {
        /* Count the failure for the account and for the address; the answer
         * waits for the second, so a client cannot outrun the count. */
        snprintf(win, sizeof(win), "%ld", cfg.login_fail_window);
        const char *a1[] = { k, win };
        if (key_fmt(k, sizeof(k), KEY_FAILS, op->name) < 0 ||
            script_call(SCRIPT_FAIL, NULL, NULL, 1, 2, a1) < 0 ||
            key_fmt(k, sizeof(k), KEY_ADDR_FAILS, op->addr) < 0) {
            op_store_failed(op);
            return;
        }
        const char *a2[] = { k, win };
        op_script(op, SCRIPT_FAIL, login_failed_cb, 1, 2, a2);
        return;
    }
    if (op->disabled) {
        op_finish(op, 403, "this account is disabled");
        return;
    }
    if (op->kind == OP_PASSWD) {
        passwd_verified(op);
        return;
    }
    struct auth_params want = auth_params_current();
    op->rehash = auth_needs_rehash(op->stored, &want);
    auth_token_new(op->name, op->token, op->tokhash);
    char k1[KEY_MAX], k2[KEY_MAX], k3[KEY_MAX], now[24], idle[24], max[24], keep[16];
    if (key_fmt(k1, sizeof(k1), KEY_ACCOUNT, op->name) < 0 ||
        key_fmt(k2, sizeof(k2), KEY_SESSIONS, op->name) < 0 ||
        key_fmt(k3, sizeof(k3), KEY_FAILS, op->name) < 0) {
        op_store_failed(op);
        return;
    }
    op->created = now_wall_ms();
    snprintf(now, sizeof(now), "%lld", op->created);
    snprintf(idle, sizeof(idle), "%lld", (long long)cfg.session_idle * 1000);
    snprintf(max, sizeof(max), "%lld", (long long)cfg.session_max_age * 1000);
    snprintf(keep, sizeof(keep), "%d", KEYS_SESSIONS_MAX);
    const char *argv[] = { k1, k2, k3, op->tokhash, now, idle, max, keep };
    op_script(op, SCRIPT_SESSION_NEW, session_new_cb, 3, 8, argv);
}

static void login_failed_cb(redisReply *reply, const char *err, void *priv)
{
    struct op *op = priv;

    if (op_reply_bad(op, reply))
        return;
    if (op->kind == OP_PASSWD)
        op_finish(op, 401, "wrong password");
    else
        op_finish(op, 401, "wrong name or password");
}

/* Re-hashes a password stored with weaker parameters than the config's,
 * after a successful login: in the background, answering nobody. */
static void rehash_start(struct op *login)
{
    struct op *op = op_new(OP_REHASH, NULL, login->name);
    op->pw = secret_dup(login->pw, login->pwlen);
    op->pwlen = login->pwlen;
    snprintf(op->stored, sizeof(op->stored), "%s", login->stored);
    if (auth_submit_hash(op->pw, op->pwlen, rehash_done, op) < 0)
        op_free(op);             /* busy: the next login tries again */
}

static void rehash_stored_cb(redisReply *reply, const char *err, void *priv)
{
    struct op *op = priv;
    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
        log_info("account %s: password hash upgraded", op->name);
    op_free(op);
}

static void rehash_done(int result, const char *hash, void *priv)
{
    struct op *op = priv;
    char k1[KEY_MAX], k2[KEY_MAX];

    if (result != 0 || hash == NULL) {
        op_free(op);
        return;
    }
    if (key_fmt(k1, sizeof(k1), KEY_ACCOUNT, op->name) < 0 ||
        key_fmt(k2, sizeof(k2), KEY_SESSIONS, op->name) < 0) {
        op_free(op);
        return;
    }
    /* Only if the hash is still the one we verified against. */
    const char *argv[] = { k1, k2, op->stored, hash, "0" };
    if (script_call(SCRIPT_PASSWORD_SET, rehash_stored_cb, op, 2, 5, argv) < 0)
        op_free(op);
}

static void session_new_cb(redisReply *reply, const char *err, void *priv)
{
    struct op *op = priv;
    struct req *req = op->req;
    char expires[TIME_ISO_MAX];

    if (op_reply_bad(op, reply))
        return;
    if (reply->type != REDIS_REPLY_STRING) {
        op_finish(op, 403, "this account is disabled");
        return;
    }
    enum role role = account_role_parse(reply->str);
    if (role == ROLE_ANON)
        role = ROLE_LEARNER;
    if (req->origin == REQ_CTP)
        account_set_identity(req->conn, op->name, role, op->tokhash, op->created, op->lang);
    /* The answer, and what follows on this connection, in the account's language. */
    snprintf(req->lang_account, sizeof(req->lang_account), "%s", op->lang);
    account_set_cookie(req, op->token, cfg.session_max_age);
    if (op->rehash)
        rehash_start(op);
    time_iso(now_wall_ms() + (long long)cfg.session_max_age * 1000, false, expires);
    req_kv(req, "user", "%s", op->name);
    req_kv(req, "role", "%s", account_role_name(role));
    req_kv(req, "token", "%s", op->token);
    req_kv(req, "expires", "%s", expires);
    req_kv(req, "idle-timeout", "%ld", cfg.session_idle);
    char name[AUTH_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s", op->name);
    account_hold(req, false);
    op_free(op);
    char msg[AUTH_NAME_MAX + 64];
    snprintf(msg, sizeof(msg), i18n_fmt(i18n_msg_lang(req), "logged in as %s (%s)"), name,
             account_role_name(role));
    reviews_new_reply(req, name, msg);
}

static void cmd_login(struct req *req)
{
    const struct proto_req *a = &req->args;

    /* No account has a malformed name, so saying so gives nothing away. */
    if (!auth_name_valid(a->argv[1], a->argl[1])) {
        req_reply(req, 400, "a name is 3 to 32 of a-z, 0-9, '.', '_' and '-'");
        return;
    }
    if (a->argl[2] > AUTH_PASSWORD_MAX) {
        req_reply(req, 401, "wrong name or password");
        return;
    }
    struct op *op = op_new(OP_LOGIN, req, a->argv[1]);
    op->pw = secret_dup(a->argv[2], a->argl[2]);
    op->pwlen = a->argl[2];
    login_begin(op);
}

/* ---- PASSWD old new ---- */

static void passwd_hashed(int result, const char *hash, void *priv);
static void passwd_set_cb(redisReply *reply, const char *err, void *priv);

static void passwd_verified(struct op *op)
{
    if (auth_submit_hash(op->pw2, op->pw2len, passwd_hashed, op) < 0)
        op_finish(op, 503, "too many logins at once; retry in a moment");
}

static void passwd_hashed(int result, const char *hash, void *priv)
{
    struct op *op = priv;
    char k1[KEY_MAX], k2[KEY_MAX], now[24], max[24];

    if (result != 0 || hash == NULL) {
        op_finish(op, result == AUTH_STOPPED || result == AUTH_LATE ? 503 : 500, "%s",
                  result == AUTH_STOPPED ? "server shutting down"
                  : result == AUTH_LATE  ? "too many logins at once; retry in a moment"
                                         : "cannot hash the password");
        return;
    }
    snprintf(op->newhash, sizeof(op->newhash), "%s", hash);
    auth_token_new(op->name, op->token, op->tokhash);
    if (key_fmt(k1, sizeof(k1), KEY_ACCOUNT, op->name) < 0 ||
        key_fmt(k2, sizeof(k2), KEY_SESSIONS, op->name) < 0) {
        op_store_failed(op);
        return;
    }
    op->created = now_wall_ms();
    snprintf(now, sizeof(now), "%lld", op->created);
    snprintf(max, sizeof(max), "%lld", (long long)cfg.session_max_age * 1000);
    const char *argv[] = { k1, k2, op->stored, op->newhash, "1", op->tokhash, now, max };
    op_script(op, SCRIPT_PASSWORD_SET, passwd_set_cb, 2, 8, argv);
}

static void passwd_set_cb(redisReply *reply, const char *err, void *priv)
{
    struct op *op = priv;
    struct req *req = op->req;

    if (op_reply_bad(op, reply))
        return;
    if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
        op_finish(op, 409, "the password was changed meanwhile; try again");
        return;
    }
    if (req->origin == REQ_CTP)
        account_set_identity(req->conn, op->name, req->role, op->tokhash, op->created,
                             req->lang_account);
    account_set_cookie(req, op->token, cfg.session_max_age);
    req_kv(req, "user", "%s", op->name);
    req_kv(req, "token", "%s", op->token);
    account_hold(req, false);
    op_free(op);
    req_reply_data(req, 200, "password changed; every other session is logged out");
}

static void cmd_passwd(struct req *req)
{
    const struct proto_req *a = &req->args;
    const char *problem = auth_password_problem(a->argv[2], a->argl[2]);

    if (problem) {
        req_reply(req, 400, "%s", i18n_fmt(i18n_msg_lang(req), problem));
        return;
    }
    if (a->argl[1] > AUTH_PASSWORD_MAX) {
        req_reply(req, 401, "wrong password");
        return;
    }
    struct op *op = op_new(OP_PASSWD, req, req->user);
    op->pw = secret_dup(a->argv[1], a->argl[1]);
    op->pwlen = a->argl[1];
    op->pw2 = secret_dup(a->argv[2], a->argl[2]);
    op->pw2len = a->argl[2];
    login_begin(op);
}

/* ---- REGISTER and USER ADD ---- */

static void register_hashed(int result, const char *hash, void *priv);
static void register_cb(redisReply *reply, const char *err, void *priv);
static void register_listed_cb(redisReply *reply, const char *err, void *priv);

static void account_create(struct req *req, enum op_kind kind, const char *name, size_t nlen,
                           const char *pw, size_t pwlen, enum role role)
{
    if (!auth_name_valid(name, nlen)) {
        req_reply(req, 400, "a name is 3 to 32 of a-z, 0-9, '.', '_' and '-'");
        return;
    }
    const char *problem = auth_password_problem(pw, pwlen);
    if (problem) {
        req_reply(req, 400, "%s", i18n_fmt(i18n_msg_lang(req), problem));
        return;
    }
    struct op *op = op_new(kind, req, name);
    op->pw = secret_dup(pw, pwlen);
    op->pwlen = pwlen;
    op->role = role;
    if (auth_submit_hash(op->pw, op->pwlen, register_hashed, op) < 0)
        op_finish(op, 503, "too many logins at once; retry in a moment");
}

static void register_hashed(int result, const char *hash, void *priv)
{
    struct op *op = priv;
    char k1[KEY_MAX], k2[KEY_MAX], created[24], maxlen[16];

    if (result != 0 || hash == NULL) {
        op_finish(op, result == AUTH_STOPPED || result == AUTH_LATE ? 503 : 500, "%s",
                  result == AUTH_STOPPED ? "server shutting down"
                  : result == AUTH_LATE  ? "too many logins at once; retry in a moment"
                                         : "cannot hash the password");
        return;
    }
    if (key_fmt(k1, sizeof(k1), KEY_ACCOUNT, op->name) < 0 ||
        key_fmt(k2, sizeof(k2), KEY_EVENTS, op->name) < 0) {
        op_store_failed(op);
        return;
    }
    snprintf(created, sizeof(created), "%lld", now_wall_ms() / 1000);
    snprintf(maxlen, sizeof(maxlen), "%d", KEYS_EVENTS_MAX);
    const char *argv[] = { k1, k2, account_role_name(op->role), hash, created, maxlen };
    op_script(op, SCRIPT_REGISTER, register_cb, 2, 6, argv);
}

static void register_cb(redisReply *reply, const char *err, void *priv)
{
    struct op *op = priv;
    char created[24];

    if (op_reply_bad(op, reply))
        return;
    if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
        op_finish(op, 409, "the name '%s' is taken", op->name);
        return;
    }
    snprintf(created, sizeof(created), "%lld", now_wall_ms() / 1000);
    const char *argv[] = { "ZADD", KEY_USERS, created, op->name };
    if (store_command_argv(register_listed_cb, op, 4, argv, NULL) < 0)
        op_store_failed(op);
}

static void register_listed_cb(redisReply *reply, const char *err, void *priv)
{
    struct op *op = priv;

    if (op_reply_bad(op, reply))
        return;
    op_finish(op, 201, "%s %s as %s", op->kind == OP_REGISTER ? "registered" : "added",
              op->name, account_role_name(op->role));
}

static void cmd_register(struct req *req)
{
    if (!cfg.open_registration) {
        req_reply(req, 403, "registration is closed: an admin adds accounts");
        return;
    }
    account_create(req, OP_REGISTER, req->args.argv[1], req->args.argl[1], req->args.argv[2],
                   req->args.argl[2], ROLE_LEARNER);
}

/* ---- USER ADD|ROLE|DISABLE|ENABLE|LIST ---- */

static void user_set_cb(redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;

    if (req_store_failed(req, reply))
        return;
    if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) {
        req_reply(req, 404, "no account '%s'", req->args.argv[2]);
        return;
    }
    req_reply(req, 200, "%s: %s %s", req->args.argv[2], req->args.argv[1],
              req->args.argc > 3 ? req->args.argv[3] : "done");
}

static void user_set(struct req *req, const char *field, const char *value, bool revoke)
{
    char k1[KEY_MAX], k2[KEY_MAX];
    const char *name = req->args.argv[2];

    const char *argv[] = { k1, k2, field, value, revoke ? "1" : "0" };
    if (key_fmt(k1, sizeof(k1), KEY_ACCOUNT, name) < 0 ||
        key_fmt(k2, sizeof(k2), KEY_SESSIONS, name) < 0 ||
        script_call(SCRIPT_USER_SET, user_set_cb, req, 2, 5, argv) < 0)
        req_store_unavailable(req);
}

struct user_list {
    struct req *req;
    json_t *names;
    json_t *rows;
    size_t pending;
    bool failed;
};

static void user_list_finish(struct user_list *ul)
{
    struct req *req = ul->req;

    if (ul->failed) {
        req_store_unavailable(req);
    } else {
        req_table(req, 4, "name", "role", "disabled", "created");
        size_t k;
        json_t *row;
        json_array_foreach(ul->rows, k, row)
            req_row(req, 4, json_string_value(json_array_get(row, 0)),
                    json_string_value(json_array_get(row, 1)),
                    json_string_value(json_array_get(row, 2)),
                    json_string_value(json_array_get(row, 3)));
        req_reply_data(req, 200, "%zu accounts", json_array_size(ul->rows));
    }
    json_decref(ul->names);
    json_decref(ul->rows);
    free(ul);
}

/* One account's fields; they arrive in the order asked. */
static void user_list_row_cb(redisReply *reply, const char *err, void *priv)
{
    struct user_list *ul = priv;
    size_t i = json_array_size(ul->rows);

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) {
        ul->failed = true;
    } else if (!ul->failed) {
        char created[TIME_ISO_MAX] = "";
        long long c = reply_int(reply->element[2]);
        if (c > 0)
            time_iso(c * 1000, false, created);
        json_array_append_new(ul->rows, json_pack("[s,s,s,s]",
            json_string_value(json_array_get(ul->names, i)), account_reply_str(reply->element[0]),
            strcmp(account_reply_str(reply->element[1]), "1") == 0 ? "yes" : "no", created));
    }
    if (--ul->pending == 0)
        user_list_finish(ul);
}

static void user_list_cb(redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;
    char k[KEY_MAX];

    if (req_store_failed(req, reply))
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        req_table(req, 4, "name", "role", "disabled", "created");
        req_reply_data(req, 200, "0 accounts");
        return;
    }
    struct user_list *ul = xcalloc(1, sizeof(*ul));
    ul->req = req;
    ul->names = json_array();
    ul->rows = json_array();
    for (size_t i = 0; i < reply->elements; i++)
        json_array_append_new(ul->names, json_string(account_reply_str(reply->element[i])));
    ul->pending = reply->elements;
    for (size_t i = 0; i < reply->elements; i++) {
        const char *argv[] = { "HMGET", k, "role", "disabled", "created" };
        if (key_fmt(k, sizeof(k), KEY_ACCOUNT, account_reply_str(reply->element[i])) < 0 ||
            store_command_argv(user_list_row_cb, ul, 5, argv, NULL) < 0) {
            /* The link went down (or a stored name makes no key): the
             * ones sent still call back. */
            ul->failed = true;
            ul->pending -= reply->elements - i;
            if (ul->pending == 0)
                user_list_finish(ul);
            return;
        }
    }
}

/* USER LIST */
static void user_list(struct req *req)
{
    char last[16];
    snprintf(last, sizeof(last), "%d", USER_LIST_MAX - 1);
    const char *argv[] = { "ZRANGE", KEY_USERS, "0", last };
    if (store_command_argv(user_list_cb, req, 4, argv, NULL) < 0)
        req_store_unavailable(req);
}

/* USER ADD name role password: binary-safe for the password only; the name
 * is checked with its length by account_create, the role here. */
static void user_add(struct req *req)
{
    const struct proto_req *a = &req->args;
    enum role role = strlen(a->argv[3]) == a->argl[3] ? account_role_parse(a->argv[3]) : ROLE_ANON;

    if (memchr(a->argv[2], '\0', a->argl[2])) {
        req_reply(req, 400, "argument 2 holds a NUL byte");
        return;
    }
    if (role == ROLE_ANON) {
        req_reply(req, 400, "a role is learner, trainer or admin");
        return;
    }
    account_create(req, OP_USER_ADD, a->argv[2], a->argl[2], a->argv[4], a->argl[4], role);
}

/* A malformed name is a 400; a well-formed one nobody has, a 404. */
static bool user_name_ok(struct req *req)
{
    if (auth_name_valid(req->args.argv[2], req->args.argl[2]))
        return true;
    req_reply(req, 400, "a name is 3 to 32 of a-z, 0-9, '.', '_' and '-'");
    return false;
}

/* USER ROLE name role */
static void user_role(struct req *req)
{
    const struct proto_req *a = &req->args;

    if (!user_name_ok(req))
        return;
    if (account_role_parse(a->argv[3]) == ROLE_ANON) {
        req_reply(req, 400, "a role is learner, trainer or admin");
        return;
    }
    if (strcmp(a->argv[2], req->user) == 0 && account_role_parse(a->argv[3]) != ROLE_ADMIN) {
        req_reply(req, 400, "an admin cannot take their own admin role");
        return;
    }
    user_set(req, "role", a->argv[3], false);
}

/* USER DISABLE name | USER ENABLE name */
static void user_enable(struct req *req)
{
    const struct proto_req *a = &req->args;
    bool off = strcasecmp(req->sub->name, "DISABLE") == 0;

    if (!user_name_ok(req))
        return;
    if (off && strcmp(a->argv[2], req->user) == 0) {
        req_reply(req, 400, "an admin cannot disable their own account");
        return;
    }
    user_set(req, "disabled", off ? "1" : "0", off);
}

static const struct cmd user_subs[] = {
    { .name = "ADD", .run = user_add, .min_args = 3, .max_args = 3, .role = ROLE_ADMIN,
      .flags = CMD_BINARY, .usage = "USER ADD name role password" },
    { .name = "ROLE", .run = user_role, .min_args = 2, .max_args = 2, .role = ROLE_ADMIN,
      .usage = "USER ROLE name role" },
    { .name = "DISABLE", .run = user_enable, .min_args = 1, .max_args = 1, .role = ROLE_ADMIN,
      .usage = "USER DISABLE name" },
    { .name = "ENABLE", .run = user_enable, .min_args = 1, .max_args = 1, .role = ROLE_ADMIN,
      .usage = "USER ENABLE name" },
    { .name = "LIST", .run = user_list, .min_args = 0, .max_args = 0, .role = ROLE_ADMIN,
      .usage = "USER LIST" },
    { .name = NULL },
};

const struct cmd cmd_group_account[] = {
    { .name = "REGISTER", .run = cmd_register, .min_args = 2, .max_args = 2, .role = ROLE_ANON,
      .flags = CMD_STORE | CMD_WRITE | CMD_BINARY | CMD_SECRET, .usage = "REGISTER name password",
      .help = "Creates a learner account (when registration is open). Names: 3 to 32 of a-z 0-9 . _ -;"
              " passwords: 10 to 1024 bytes of UTF-8." },
    { .name = "LOGIN", .run = cmd_login, .min_args = 2, .max_args = 2, .role = ROLE_ANON,
      .flags = CMD_STORE | CMD_WRITE | CMD_BINARY | CMD_SECRET, .usage = "LOGIN name password",
      .help = "Logs this connection in and answers a session token for AUTH or the HTTP API."
              " Failed logins are limited per account and per address (429)." },
    { .name = "AUTH", .run = session_cmd_auth, .min_args = 1, .max_args = 1, .role = ROLE_ANON,
      .flags = CMD_STORE | CMD_SECRET, .usage = "AUTH token",
      .help = "Resumes a session on this connection with a token from LOGIN." },
    { .name = "LOGOUT", .run = session_cmd_logout, .min_args = 0, .max_args = 1, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_WRITE, .usage = "LOGOUT [token]",
      .help = "Ends this connection's session (or the session of one of your tokens)." },
    { .name = "WHOAMI", .run = session_cmd_whoami, .min_args = 0, .max_args = 0, .role = ROLE_ANON,
      .flags = CMD_SESSION, .usage = "WHOAMI",
      .help = "Names the account this connection is logged in as, and its role." },
    { .name = "PASSWD", .run = cmd_passwd, .min_args = 2, .max_args = 2, .role = ROLE_LEARNER,
      .flags = CMD_STORE | CMD_WRITE | CMD_BINARY | CMD_SECRET, .usage = "PASSWD old new",
      .help = "Changes your password; every session is logged out and this one gets a new token." },
    { .name = "USER", .min_args = 1, .max_args = 4, .role = ROLE_ADMIN,
      .flags = CMD_STORE | CMD_WRITE | CMD_BINARY | CMD_SECRET, .subs = user_subs,
      .usage = "USER ADD name role password | USER ROLE name role | USER DISABLE name | USER ENABLE name | USER LIST",
      .help = "Manages accounts (admins). Roles: learner, trainer, admin. DISABLE logs the account out." },
    { .name = NULL },
};

/* ---- HTTP routes ---- */

/* Reads {"name": ..., "password": ...} (plus extra string fields) from a JSON
 * body into argv after the verb. Returns argc or -1 after answering 400. */
static int json_args(struct evhttp_request *r, const char *verb, const char *const *fields,
                     int nfields, char **argv)
{
    json_t *doc = api_body(r);

    if (!json_is_object(doc)) {
        json_decref(doc);
        api_send_error(r, 400, "the body must be a JSON object");
        return -1;
    }
    for (int i = 0; i < nfields; i++) {
        json_t *v = json_object_get(doc, fields[i]);
        if (!json_is_string(v)) {
            char *msg = xasprintf("'%s' is missing (a string)", fields[i]);
            api_send_error(r, 400, msg);
            free(msg);
            for (int k = 1; k <= i; k++)
                free(argv[k]);
            json_decref(doc);
            return -1;
        }
        argv[1 + i] = xstrndup(json_string_value(v), json_string_length(v));
    }
    json_decref(doc);
    argv[0] = xstrdup(verb);
    return 1 + nfields;
}

static int api_register(struct evhttp_request *r, char **p, int n, char **argv)
{
    static const char *const f[] = { "name", "password" };
    return json_args(r, "REGISTER", f, 2, argv);
}

static int api_login(struct evhttp_request *r, char **p, int n, char **argv)
{
    static const char *const f[] = { "name", "password" };
    return json_args(r, "LOGIN", f, 2, argv);
}

static int api_passwd(struct evhttp_request *r, char **p, int n, char **argv)
{
    static const char *const f[] = { "old", "new" };
    return json_args(r, "PASSWD", f, 2, argv);
}

/* The browser forgets the cookie whatever happens; the session named by the
 * request's token is ended. */
static int api_logout(struct evhttp_request *r, char **p, int n, char **argv)
{
    char token[AUTH_TOKEN_MAX + 8];
    char *v = xasprintf("%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s", account_cookie_name(),
                        account_cookie_secure() ? "; Secure" : "");

    evhttp_add_header(evhttp_request_get_output_headers(r), "Set-Cookie", v);
    free(v);
    argv[0] = xstrdup("LOGOUT");
    if (!account_http_token(r, token, sizeof(token)))
        return 1;
    argv[1] = xstrdup(token);
    return 2;
}

static int api_me(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("WHOAMI");
    return 1;
}

static int api_users(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("USER");
    argv[1] = xstrdup("LIST");
    return 2;
}

const struct api_route api_routes_account[] = {
    { "POST", "/api/register", api_register },
    { "POST", "/api/login", api_login },
    { "POST", "/api/logout", api_logout },
    { "POST", "/api/passwd", api_passwd },
    { "GET", "/api/me", api_me },
    { "GET", "/api/users", api_users },
    { NULL, NULL, NULL },
};
