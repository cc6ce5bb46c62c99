/* cmd.c: the command table, and dispatch: every check (arity, role, store)
 * happens here, so handlers never re-check. */
#include "campusd.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct cmd cmd_table[] = {
    { "HELLO", cmd_hello, 0, 0, ROLE_ANON, 0, "HELLO",
      "Names the server and lists its capabilities and limits." },
    { "PING", cmd_ping, 0, 1, ROLE_ANON, 0, "PING [store]",
      "Answers PONG. With 'store', checks the round trip to Redis too." },
    { "ECHO", cmd_echo, 1, 1, ROLE_ANON, 0, "ECHO text | ECHO {N}",
      "Sends the argument back as a body: a way to test framing and literals." },
    { "STATS", cmd_stats, 0, 0, ROLE_ANON, 0, "STATS",
      "Counters of this process: connections, commands, errors, bytes, store, uptime, memory." },
    { "HELP", cmd_help, 0, 1, ROLE_ANON, 0, "HELP [verb]",
      "Lists the verbs, or explains one." },
    { "STARTTLS", cmd_starttls, 0, 0, ROLE_ANON, CMD_CTP, "STARTTLS",
      "Upgrades this connection to TLS. Anything sent after it before the handshake is dropped." },
    { "QUIT", cmd_quit, 0, 0, ROLE_ANON, CMD_CTP, "QUIT",
      "Answers, then closes the connection." },
};
const size_t cmd_count = sizeof(cmd_table) / sizeof(cmd_table[0]);

const struct cmd *cmd_lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < cmd_count; i++)
        if (strlen(cmd_table[i].name) == len && strncasecmp(cmd_table[i].name, name, len) == 0)
            return &cmd_table[i];
    return NULL;
}

static const char *role_name(enum role r)
{
    static const char *names[] = { "anyone", "a learner", "a trainer", "an admin" };
    return names[r];
}

static enum role req_role(const struct req *req)
{
    return req->origin == REQ_CTP && req->conn ? req->conn->role : ROLE_ANON;
}

void cmd_dispatch(struct req *req)
{
    const struct proto_req *a = &req->args;
    const struct cmd *c = cmd_lookup(a->argv[0], a->argl[0]);

    if (c == NULL) {
        char verb[40];
        size_t n = a->argl[0] < 32 ? a->argl[0] : 32;
        memcpy(verb, a->argv[0], n);
        verb[n] = '\0';
        req_reply(req, 400, "unknown verb '%s%s' (try HELP)", verb, a->argl[0] > 32 ? "..." : "");
        return;
    }
    req->cmd = c;
    stats_command((int)(c - cmd_table));
    int nargs = a->argc - 1;
    if (nargs < c->min_args || (c->max_args >= 0 && nargs > c->max_args)) {
        req_reply(req, 400, "usage: %s", c->usage);
        return;
    }
    if ((c->flags & CMD_CTP) && req->origin != REQ_CTP) {
        req_reply(req, 400, "%s is only for the text protocol", c->name);
        return;
    }
    enum role have = req_role(req);
    if (have < c->role) {
        if (have == ROLE_ANON)
            req_reply(req, 401, "%s needs you to log in", c->name);
        else
            req_reply(req, 403, "%s is for %s", c->name, role_name(c->role));
        return;
    }
    if ((c->flags & CMD_STORE) && store_state() != STORE_UP) {
        req_reply(req, 503, "progress store unavailable");
        return;
    }
    if ((c->flags & CMD_WRITE) && !store_writable()) {
        req_reply(req, 503, "progress store refuses writes: %s", store_status());
        return;
    }
    c->fn(req);
}
