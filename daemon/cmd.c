/* cmd.c: the command table, and dispatch: every check (arity, role, store)
 * happens here, so handlers never re-check. */
#include "campusd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The groups of verbs, in the order HELP lists them. */
static const struct cmd *const groups[] = {
    cmd_group_basic,
    cmd_group_content,
    cmd_group_exercise,
    cmd_group_review,
    cmd_group_account,
    cmd_group_progress,
    cmd_group_cohort,
    cmd_group_cert,
    cmd_group_live,
    cmd_group_lang,
};

const struct cmd **cmd_all;
size_t cmd_count;

/* Verbs by name, for the lookup every request makes: open addressing over
 * the upper-cased name, each slot the verb's index in cmd_all plus one
 * (0: empty) and the name upper-cased, so a lookup compares bytes. */
#define CMD_NAME_MAX 16
#define CMD_SLOTS 256           /* a power of two, over twice the verbs */
static struct {
    unsigned char index;
    unsigned char len;
    char up[CMD_NAME_MAX];
} cmd_slots[CMD_SLOTS];

/* The slot hash of a name of len bytes, upper-cased into up (len <
 * CMD_NAME_MAX); 0 when the name cannot be a verb. */
static unsigned cmd_hash(const char *name, size_t len, char up[CMD_NAME_MAX])
{
    unsigned h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        up[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
        h = (h ^ (unsigned char)up[i]) * 16777619u;
    }
    up[len] = '\0';
    return h;
}

void cmd_init(void)
{
    if (cmd_all)
        return;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        for (const struct cmd *c = groups[g]; c->name; c++)
            cmd_count++;
    if (cmd_count > STATS_COMMANDS_MAX)
        fatal("%zu verbs in the command table; STATS counts %d", cmd_count, STATS_COMMANDS_MAX);
    cmd_all = xcalloc(cmd_count, sizeof(*cmd_all));
    size_t n = 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        for (const struct cmd *c = groups[g]; c->name; c++) {
            for (size_t k = 0; k < n; k++)
                if (strcasecmp(cmd_all[k]->name, c->name) == 0)
                    fatal("verb %s is in the command table twice", c->name);
            cmd_all[n++] = c;
        }
    if (cmd_count >= CMD_SLOTS / 2 || cmd_count > 255)
        fatal("%zu verbs: CMD_SLOTS is too small", cmd_count);
    for (size_t i = 0; i < cmd_count; i++) {
        char up[CMD_NAME_MAX];
        size_t len = strlen(cmd_all[i]->name);
        if (len >= CMD_NAME_MAX)
            fatal("verb %s is longer than %d bytes", cmd_all[i]->name, CMD_NAME_MAX - 1);
        unsigned k = cmd_hash(cmd_all[i]->name, len, up) & (CMD_SLOTS - 1);
        while (cmd_slots[k].index)
            k = (k + 1) & (CMD_SLOTS - 1);
        cmd_slots[k].index = (unsigned char)(i + 1);
        cmd_slots[k].len = (unsigned char)len;
        memcpy(cmd_slots[k].up, up, len + 1);
    }
}

/* The index in cmd_all of the verb name (len bytes, any case), or -1. */
static int cmd_find(const char *name, size_t len)
{
    char up[CMD_NAME_MAX];

    if (len == 0 || len >= CMD_NAME_MAX)
        return -1;
    unsigned k = cmd_hash(name, len, up) & (CMD_SLOTS - 1);
    for (; cmd_slots[k].index; k = (k + 1) & (CMD_SLOTS - 1))
        if (cmd_slots[k].len == len && memcmp(cmd_slots[k].up, up, len) == 0)
            return cmd_slots[k].index - 1;   /* (a NUL inside name matches nothing) */
    return -1;
}

int cmd_index(const struct cmd *c)
{
    int i = c ? cmd_find(c->name, strlen(c->name)) : -1;

    return i >= 0 && cmd_all[i] == c ? i : -1;
}

const struct cmd *cmd_lookup(const char *name, size_t len)
{
    int i = cmd_find(name, len);

    return i >= 0 ? cmd_all[i] : NULL;
}

/* "VERB is for a trainer": one whole format per role, so that the
 * message catalogue (i18n.c) translates each as a sentence. */
#define VERB_PAIR_MAX 64         /* "VERB SUB" as an answer names it (both are short words) */

static void reply_for_role(struct req *req, const char *verb, enum role r)
{
    static const char *const fmt[] = { "%s is for anyone", "%s is for a learner",
                                       "%s is for a trainer", "%s is for an admin" };
    req_reply(req, 403, fmt[r], verb);
}

bool cmd_acts_as_user(const struct cmd *c)
{
    return c && (c->role > ROLE_ANON || (c->flags & CMD_SESSION));
}

/* The session a request acts in, as checked (session.c) or looked up
 * (HTTP). Returns false after answering. A store that cannot say is a 503
 * for a verb that needs a login, never a 401: the client is not logged out.
 * A verb open to anyone runs anonymously then, except that a CTP/1
 * connection whose session ended is told so once, whatever it asked. */
static bool session_ok(struct req *req, const struct cmd *c)
{
    if (req->session != REQ_SESSION_UNKNOWN && req->session != REQ_SESSION_ENDED)
        return true;
    if (!cmd_acts_as_user(c))
        return true;
    if (req->session == REQ_SESSION_UNKNOWN && c->role > ROLE_ANON) {
        req_store_unavailable(req);
        return false;
    }
    if (req->session == REQ_SESSION_ENDED && req->session_why[0] &&
        (req->origin == REQ_CTP || c->role > ROLE_ANON)) {
        req_reply(req, 401, "session ended: %s", req->session_why);
        return false;
    }
    free(req->user);
    req->user = NULL;
    req->role = ROLE_ANON;
    return true;
}

/* Takes a lang=TAG argument out of the request (the last one counts) into
 * req->lang_arg, so that the verb's arity is checked without it. Answers
 * 400 and returns false when the tag is malformed. */
static bool take_lang(struct req *req)
{
    struct proto_req *a = &req->args;

    if (req->lang_bad) {
        req_reply(req, 400, "bad language tag (use en, fr, es, fr-CA, ...)");
        return false;
    }
    for (int i = 1; i < a->argc;) {
        if (a->argl[i] < 5 || strncasecmp(a->argv[i], "lang=", 5) != 0) {
            i++;
            continue;
        }
        if (!lang_tag_valid(a->argv[i] + 5, a->argl[i] - 5)) {
            req_reply(req, 400, "bad language tag (use en, fr, es, fr-CA, ...)");
            return false;
        }
        memcpy(req->lang_arg, a->argv[i] + 5, a->argl[i] - 5);
        req->lang_arg[a->argl[i] - 5] = '\0';
        memmove(a->argv + i, a->argv + i + 1, (size_t)(a->argc - i - 1) * sizeof(*a->argv));
        memmove(a->argl + i, a->argl + i + 1, (size_t)(a->argc - i - 1) * sizeof(*a->argl));
        a->argc--;
    }
    return true;
}

/* The sub-verb's checks, once the verb's have passed: the same as the
 * verb's, so that a handler never checks a role or a count again. */
static void dispatch_sub(struct req *req, const struct cmd *c)
{
    const struct proto_req *a = &req->args;
    const struct cmd *s = c->subs;

    if (a->argc < 2) {
        req_reply(req, 400, "usage: %s", c->usage);
        return;
    }
    while (s->name && (strlen(s->name) != a->argl[1] || strncasecmp(s->name, a->argv[1], a->argl[1]) != 0))
        s++;
    if (s->name == NULL) {
        req_reply(req, 400, "usage: %s", c->usage);
        return;
    }
    req->sub = s;
    int nargs = a->argc - 2;
    if (nargs < s->min_args || (s->max_args >= 0 && nargs > s->max_args)) {
        req_reply(req, 400, "usage: %s", s->usage);
        return;
    }
    /* A binary-safe verb may have sub-verbs that are not (USER ADD takes a
     * password, USER ROLE takes none): they get the NUL check here. */
    if ((c->flags & CMD_BINARY) && !(s->flags & CMD_BINARY))
        for (int i = 2; i < a->argc; i++)
            if (memchr(a->argv[i], '\0', a->argl[i])) {
                req_reply(req, 400, "argument %d holds a NUL byte", i);
                return;
            }
    if (req->role < s->role) {
        if (req->role == ROLE_ANON)
            req_reply(req, 401, "%s %s needs you to log in", c->name, s->name);
        else if (c->deny)
            c->deny(req, s);
        else {
            char both[VERB_PAIR_MAX];
            snprintf(both, sizeof(both), "%s %s", c->name, s->name);
            reply_for_role(req, both, s->role);
        }
        return;
    }
    if ((s->flags & CMD_STORE) && store_state() != STORE_UP) {
        req_store_unavailable(req);
        return;
    }
    if ((s->flags & CMD_WRITE) && !store_writable()) {
        req_reply(req, 503, "progress store refuses writes: %s", store_status());
        return;
    }
    s->run(req);
}

bool cmd_would_pass(struct req *req)
{
    const struct proto_req *a = &req->args;
    const struct cmd *c = req->cmd;

    if (c == NULL || c->subs || (c->flags & CMD_LANG) || req->lang_bad)
        return false;
    int nargs = a->argc - 1;
    if (nargs < c->min_args || (c->max_args >= 0 && nargs > c->max_args))
        return false;
    if ((c->flags & CMD_CTP) && req->origin != REQ_CTP)
        return false;
    if (!(c->flags & CMD_BINARY))
        for (int i = 1; i < a->argc; i++)
            if (memchr(a->argv[i], '\0', a->argl[i]))
                return false;
    if ((c->flags & CMD_STORE) && store_state() != STORE_UP)
        return false;
    if ((c->flags & CMD_WRITE) && !store_writable())
        return false;
    return true;
}

void cmd_dispatch(struct req *req)
{
    const struct proto_req *a = &req->args;
    /* The connection may have looked the verb up already (conn.c). */
    const struct cmd *c = req->cmd ? req->cmd : cmd_lookup(a->argv[0], a->argl[0]);

    if (c == NULL) {
        char verb[40];
        size_t n = a->argl[0] < 32 ? a->argl[0] : 32;
        memcpy(verb, a->argv[0], n);
        verb[n] = '\0';
        req_reply(req, 400, "unknown verb '%s%s' (try HELP)", verb, a->argl[0] > 32 ? "..." : "");
        return;
    }
    req->cmd = c;
    stats_command(cmd_index(c));
    if ((c->flags & CMD_LANG) && !take_lang(req))
        return;
    int nargs = a->argc - 1;
    if (nargs < c->min_args || (c->max_args >= 0 && nargs > c->max_args)) {
        req_reply(req, 400, "usage: %s", c->usage);
        return;
    }
    if ((c->flags & CMD_CTP) && req->origin != REQ_CTP) {
        req_reply(req, 400, "%s is only for the text protocol", c->name);
        return;
    }
    /* Ids, names and numbers are checked against their full length; a NUL
     * inside any other argument would cut it short where C strings are used. */
    if (!(c->flags & CMD_BINARY))
        for (int i = 1; i < a->argc; i++)
            if (memchr(a->argv[i], '\0', a->argl[i])) {
                req_reply(req, 400, "argument %d holds a NUL byte", i);
                return;
            }
    if (!session_ok(req, c))
        return;
    enum role have = req->role;
    if (have < c->role) {
        if (have == ROLE_ANON)
            req_reply(req, 401, "%s needs you to log in", c->name);
        else
            reply_for_role(req, c->name, c->role);
        return;
    }
    if ((c->flags & CMD_STORE) && store_state() != STORE_UP) {
        req_store_unavailable(req);
        return;
    }
    if ((c->flags & CMD_WRITE) && !store_writable()) {
        req_reply(req, 503, "progress store refuses writes: %s", store_status());
        return;
    }
    if (c->subs)
        dispatch_sub(req, c);
    else
        c->run(req);
}
