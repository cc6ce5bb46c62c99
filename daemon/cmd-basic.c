/* cmd-basic.c: the verbs every connection has: HELLO, PING, ECHO, STATS,
 * HELP, STARTTLS, COMPRESS, QUIT. */
#include "campusd.h"
#include "answer-file.h"
#include "cert.h"

#include <event2/http.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static void cmd_hello(struct req *req)
{
    /* HELLO push: this connection takes push lines ("* ...") between
     * answers from now on; without it (or LIVE JOIN / LIVE START) it never
     * sees one. */
    if (req->args.argc > 1) {
        if (strcasecmp(req->args.argv[1], "push") != 0) {
            req_reply(req, 400, "usage: HELLO [push]");
            return;
        }
        if (req->conn)
            req->conn->push_ok = true;
    }
    req_kv(req, "server", "campusd %s", CAMPUS_VERSION);
    req_kv(req, "protocol", "CTP/1");
    req_kv(req, "tls", "%s", req->conn && req->conn->tls ? "active"
                             : server.ssl_ctx && cfg.text_port ? "starttls" : "no");
    /* Where a client may go straight to TLS next time (a round trip less
     * than STARTTLS); behind a balancer that maps ports, hello_tls_port. */
    long tls_port = cfg.hello_tls_port < 0 ? cfg.tls_port : cfg.hello_tls_port;
    if (server.tls_listener && tls_port > 0)
        req_kv(req, "tls-port", "%ld", tls_port);
    req_kv(req, "literal", "{N} up to %ld bytes", cfg.literal_max);
    req_kv(req, "line-max", "%ld", cfg.line_max);
    req_kv(req, "inflight-max", "%ld", cfg.inflight_max);
    req_kv(req, "idle-timeout", "%ld", cfg.idle_timeout);
    req_kv(req, "formats", "text md html");
    req_kv(req, "compress", "%s", req->conn && req->conn->z ? "DEFLATE active" : "DEFLATE");
    req_kv(req, "store", "%s", store_status());
    req_kv(req, "push", "%s", req->conn && req->conn->push_ok ? "on" : "off (HELLO push)");
    /* The issuer's signing key, so a client can pin it on first use. */
    json_t *jwks = cert_jwks();
    json_t *cur = json_array_get(json_object_get(jwks, "keys"), 0);
    if (cur) {
        req_kv(req, "issuer-kid", "%s", json_string_value(json_object_get(cur, "kid")));
        req_kv(req, "issuer-key", "%s", json_string_value(json_object_get(cur, "x")));
    }
    json_decref(jwks);
    req_reply_data(req, 200, "campusd CTP/1");
}

static void ping_store_cb(struct redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;

    if (reply == NULL)
        req_reply(req, 503, "progress store unavailable (%s)", err);
    else if (reply->type == REDIS_REPLY_ERROR)
        req_reply(req, 503, "progress store unavailable (%.100s)", reply->str);
    else
        req_reply(req, 200, "PONG store %.1fms", store_last_rtt() * 1000.0);
}

static void cmd_ping(struct req *req)
{
    if (req->args.argc == 1) {
        req_reply(req, 200, "PONG");
        return;
    }
    if (strcasecmp(req->args.argv[1], "store") != 0) {
        req_reply(req, 400, "usage: %s", req->cmd->usage);
        return;
    }
    if (store_command(ping_store_cb, req, "PING") < 0)
        req_store_unavailable(req);
}

static void cmd_echo(struct req *req)
{
    /* A literal of a megabyte goes back without being copied. */
    char *body = proto_req_take(&req->args, 1);
    req_reply_owned(req, 200, "echo", "application/octet-stream", body, req->args.argl[1]);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;

    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void cmd_stats(struct req *req)
{
    req_kv(req, "pid", "%d", (int)getpid());
    req_kv(req, "worker", "%d", server.worker_id);
    req_kv(req, "uptime", "%ld", (long)(time(NULL) - stats.started));
    req_kv(req, "connections", "%llu", (unsigned long long)stats.conns_current);
    req_kv(req, "connections-total", "%llu", (unsigned long long)stats.conns_total);
    req_kv(req, "connections-rejected", "%llu", (unsigned long long)stats.conns_rejected);
    req_kv(req, "http-connections", "%llu", (unsigned long long)http_conn_count());
    req_kv(req, "http-requests", "%llu", (unsigned long long)stats.http_requests);
    req_kv(req, "bytes-in", "%llu", (unsigned long long)stats.bytes_in);
    req_kv(req, "bytes-out", "%llu", (unsigned long long)stats.bytes_out);
    req_kv(req, "errors", "%llu", (unsigned long long)stats.errors_total);
    static const char *codes[] = { "400", "401-403", "404", "413", "429", "5xx" };
    for (int i = 0; i < 6; i++) {
        char key[32];
        snprintf(key, sizeof(key), "errors-%s", codes[i]);
        req_kv(req, key, "%llu", (unsigned long long)stats.errors_by_code[i]);
    }
    for (size_t i = 0; i < cmd_count; i++) {
        char key[64];
        snprintf(key, sizeof(key), "cmd-%s", cmd_all[i]->name);
        for (char *p = key; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        req_kv(req, key, "%llu", (unsigned long long)stats_command_count((int)i));
    }
    req_kv(req, "store", "%s", store_status());
    req_kv(req, "catalog-version", "%s", courses_version());
    req_kv(req, "catalog-loaded", "%lld", courses_loaded_ms());
    req_kv(req, "memory-rss-kib", "%ld", rss_kib());
    req_kv(req, "answer-copy-bytes", "%zu", answer_copy_bytes());
    req_reply_data(req, 200, "stats");
}

static void cmd_help(struct req *req)
{
    if (req->args.argc == 2) {
        const struct cmd *c = cmd_lookup(req->args.argv[1], req->args.argl[1]);
        if (c == NULL) {
            req_reply(req, 404, "no verb '%.32s'", req->args.argv[1]);
            return;
        }
        char *text = xasprintf("%s\n%s\n", c->usage, c->help);
        req_reply_text(req, 200, c->name, "text/plain; charset=utf-8", text, strlen(text));
        free(text);
        return;
    }
    req_table(req, 2, "verb", "usage");
    for (size_t i = 0; i < cmd_count; i++)
        req_row(req, 2, cmd_all[i]->name, cmd_all[i]->usage);
    req_reply_data(req, 200, "%zu verbs", cmd_count);
}

static void cmd_quit(struct req *req)
{
    struct conn *c = req->conn;

    req_reply(req, 200, "bye");
    conn_close_after_reply(c);
}

static void cmd_starttls(struct req *req)
{
    struct conn *c = req->conn;

    if (server.ssl_ctx == NULL) {
        req_reply(req, 503, "TLS is not configured");
        return;
    }
    if (c->tls) {
        req_reply(req, 400, "TLS is already active");
        return;
    }
    if (c->z || c->compress_pending) {
        /* Compression outside the encryption would hide nothing from it. */
        req_reply(req, 400, "STARTTLS must come before COMPRESS");
        return;
    }
    if (c->head != req) {
        req_reply(req, 400, "STARTTLS must not follow unanswered requests");
        return;
    }
    conn_begin_starttls(c);
    req_reply(req, 200, "begin TLS");
}

/* COMPRESS DEFLATE: after the 200, both directions are one raw deflate
 * stream each (RFC 4978's model). The answer itself goes in the clear. */
static void cmd_compress(struct req *req)
{
    struct conn *c = req->conn;

    if (strcasecmp(req->args.argv[1], "DEFLATE") != 0) {
        req_reply(req, 400, "unknown compression '%.32s' (use COMPRESS DEFLATE)", req->args.argv[1]);
        return;
    }
    if (c->z || c->compress_pending) {
        req_reply(req, 400, "compression is already active");
        return;
    }
    if (c->head != req) {
        req_reply(req, 400, "COMPRESS must not follow unanswered requests");
        return;
    }
    conn_begin_compress(c);
    req_reply(req, 200, "DEFLATE active");
}

const struct cmd cmd_group_basic[] = {
    { .name = "HELLO", .run = cmd_hello, .min_args = 0, .max_args = 1, .role = ROLE_ANON,
      .usage = "HELLO [push]",
      .help = "Names the server and lists its capabilities and limits. 'push': take push lines (* ...) between answers." },
    { .name = "PING", .run = cmd_ping, .min_args = 0, .max_args = 1, .role = ROLE_ANON,
      .usage = "PING [store]",
      .help = "Answers PONG. With 'store', checks the round trip to Redis too." },
    { .name = "ECHO", .run = cmd_echo, .min_args = 1, .max_args = 1, .role = ROLE_ANON,
      .flags = CMD_BINARY, .usage = "ECHO text | ECHO {N}",
      .help = "Sends the argument back as a body: a way to test framing and literals." },
    { .name = "STATS", .run = cmd_stats, .min_args = 0, .max_args = 0, .role = ROLE_ANON,
      .usage = "STATS",
      .help = "Counters of this process: connections, commands, errors, bytes, store, uptime, memory." },
    { .name = "HELP", .run = cmd_help, .min_args = 0, .max_args = 1, .role = ROLE_ANON,
      .usage = "HELP [verb]",
      .help = "Lists the verbs, or explains one." },
    { .name = "STARTTLS", .run = cmd_starttls, .min_args = 0, .max_args = 0, .role = ROLE_ANON,
      .flags = CMD_CTP, .usage = "STARTTLS",
      .help = "Upgrades this connection to TLS. Anything sent after it before the handshake is dropped." },
    { .name = "COMPRESS", .run = cmd_compress, .min_args = 1, .max_args = 1, .role = ROLE_ANON,
      .flags = CMD_CTP, .usage = "COMPRESS DEFLATE",
      .help = "After the 200, both directions are a raw deflate stream (RFC 1951), flushed at the "
              "end of each answer. Use STARTTLS first: compression goes inside the encryption." },
    { .name = "QUIT", .run = cmd_quit, .min_args = 0, .max_args = 0, .role = ROLE_ANON,
      .flags = CMD_CTP, .usage = "QUIT",
      .help = "Answers, then closes the connection." },
    { .name = NULL },
};

static int api_ping(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("PING");
    return 1;
}

static int api_hello(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("HELLO");
    return 1;
}

static int api_stats(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("STATS");
    return 1;
}

static int api_help(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("HELP");
    return 1;
}

/* The body is the argument; a text body only, as argv strings end at NUL. */
static int api_echo(struct evhttp_request *r, char **p, int n, char **argv)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r);
    size_t len = evbuffer_get_length(in);

    argv[0] = xstrdup("ECHO");
    argv[1] = xmalloc(len + 1);
    evbuffer_copyout(in, argv[1], len);
    argv[1][len] = '\0';
    return 2;
}

const struct api_route api_routes_basic[] = {
    { "GET", "/api/ping", api_ping },
    { "GET", "/api/hello", api_hello },
    { "GET", "/api/stats", api_stats },
    { "GET", "/api/help", api_help },
    { "POST", "/api/echo", api_echo },
    { NULL, NULL, NULL },
};
