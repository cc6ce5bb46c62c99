/* account.h: what cmd-account.c and session.c share: roles by name, the
 * identity of a connection, the session cookie. */
#ifndef CAMPUS_ACCOUNT_H
#define CAMPUS_ACCOUNT_H

#include "campusd.h"

#define COOKIE_NAME "campus_session"
/* The name when served over TLS (base_url is https): a browser takes a
 * __Host- cookie only if it is Secure, Path=/ and has no Domain, so no
 * sibling host or plain-HTTP page can plant or shadow it. */
#define COOKIE_NAME_HOST "__Host-campus_session"

/* Wall-clock milliseconds since 1970. */
/* "anonymous", "learner", "trainer", "admin" (static). */
const char *account_role_name(enum role r);
/* The role named s, or ROLE_ANON when s names none. */
enum role account_role_parse(const char *s);
/* A string reply's text, or "" for any other reply (borrowed). */
const char *account_reply_str(struct redisReply *r);
/* Sets who a CTP/1 connection is; a NULL user logs it out. hash is the
 * SHA-256 of its session token (or NULL), created when that session began
 * (ms): with it, a later check can say why the session ended. lang is the
 * account's LANG (NULL or "": none), kept on the connection (struct
 * conn's lang, campusd.h). */
void account_set_identity(struct conn *c, const char *user, enum role role, const char *hash,
                          long long created, const char *lang);
/* The account's LANG changed (LANG) or was read afresh (a session check)
 * for user: the connection keeps it, if it still is that user's. */
void account_set_lang(struct conn *c, const char *user, const char *lang);
/* Holds (or releases) the request's connection: see conn_hold. No-op for HTTP. */
void account_hold(struct req *req, bool on);
/* True when cookies get the Secure attribute (base_url is https). */
bool account_cookie_secure(void);
/* COOKIE_NAME_HOST when cookies are Secure, else COOKIE_NAME (static). */
const char *account_cookie_name(void);
/* HTTP: sets the session cookie on the answer. No-op for CTP/1. */
void account_set_cookie(struct req *req, const char *token, long max_age);

/* session.c: the verbs of an existing session. */
void session_cmd_auth(struct req *req);
void session_cmd_logout(struct req *req);
void session_cmd_whoami(struct req *req);

#endif
