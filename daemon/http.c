/* http.c: the HTTP listener: /healthz, /metrics, the JSON API under /api/
 * (through the same command handlers as CTP/1) and the web client's files. */
#include "campusd.h"

#include <signal.h>
#include "cert.h"

#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct evhttp *http;

/* evhttp_send_reply, except that a HEAD answer has no body: libevent 2.1
 * writes the body of a server's answer even to HEAD (and then no
 * Content-Length), which the client would read as the start of the next
 * answer. Here HEAD gets the Content-Length a GET would, and no body. */
void http_send_reply(struct evhttp_request *r, int code, const char *reason, struct evbuffer *body)
{
    if (evhttp_request_get_command(r) == EVHTTP_REQ_HEAD) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", body ? evbuffer_get_length(body) : (size_t)0);
        evhttp_remove_header(evhttp_request_get_output_headers(r), "Content-Length");
        evhttp_add_header(evhttp_request_get_output_headers(r), "Content-Length", n);
        if (body)
            evbuffer_drain(body, evbuffer_get_length(body));
        evhttp_send_reply(r, code, reason, NULL);
        return;
    }
    evhttp_send_reply(r, code, reason, body);
}

/* ---- health and metrics ---- */

static void handle_healthz(struct evhttp_request *r)
{
    bool up = store_state() == STORE_UP;
    json_t *doc = json_pack("{s:s,s:s,s:b,s:b,s:I,s:s,s:I,s:i}", "status",
                            up && store_writable() ? "ok" : "degraded",
                            "store", store_status(), "store_writable", store_writable(),
                            "live", live_bus_up(),
                            "uptime", (json_int_t)(time(NULL) - stats.started),
                            "catalog_version", courses_version(),
                            "catalog_loaded_ms", (json_int_t)courses_loaded_ms(),
                            "worker", server.worker_id);
    char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    api_send_json(r, up ? 200 : 503, s, strlen(s));
    free(s);
    json_decref(doc);
}

/* The machine's counters: this worker's own, fresh, and the others' as
 * they last published them (every second). */
struct metrics_sum {
    struct stats s;
    uint64_t by_command[STATS_COMMANDS_MAX];
};

static void metrics_add(struct metrics_sum *m, const struct stats_slot *w)
{
    m->s.conns_total += w->s.conns_total;
    m->s.conns_rejected += w->s.conns_rejected;
    m->s.http_requests += w->s.http_requests;
    m->s.http_hot += w->s.http_hot;
    m->s.http_hot_gzip += w->s.http_hot_gzip;
    m->s.bytes_in += w->s.bytes_in;
    m->s.bytes_out += w->s.bytes_out;
    m->s.errors_total += w->s.errors_total;
    for (int i = 0; i < 6; i++)
        m->s.errors_by_code[i] += w->s.errors_by_code[i];
    for (int i = 0; i <= STATS_LATENCY_BUCKETS; i++)
        m->s.latency[i] += w->s.latency[i];
    m->s.latency_sum += w->s.latency_sum;
    m->s.latency_count += w->s.latency_count;
    for (int i = 0; i < STATS_COMMANDS_MAX; i++)
        m->by_command[i] += w->by_command[i];
}

/* A gauge family, one series per worker that ever ran. */
static void metrics_gauge(struct evbuffer *b, const char *name, const char *help,
                          uint64_t (*value)(const struct stats_slot *))
{
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    for (long i = 0; i < stats_slots(); i++) {
        const struct stats_slot *w = stats_slot(i);
        if (w)
            evbuffer_add_printf(b, "%s{worker=\"%ld\"} %llu\n", name, i,
                                (unsigned long long)value(w));
    }
}

static uint64_t g_conns(const struct stats_slot *w) { return w->s.conns_current; }
static uint64_t g_http(const struct stats_slot *w) { return w->http_conns; }
static uint64_t g_store_up(const struct stats_slot *w) { return (uint64_t)w->store_up; }
static uint64_t g_store_writable(const struct stats_slot *w) { return (uint64_t)w->store_writable; }
static uint64_t g_alive(const struct stats_slot *w) { return kill(w->pid, 0) == 0; }

static void handle_metrics(struct evhttp_request *r)
{
    struct evbuffer *b = evbuffer_new();
    static const char *codes[] = { "400", "401_403", "404", "413", "429", "5xx" };
    struct metrics_sum *m = xcalloc(1, sizeof(*m));

    stats_publish();
    for (long i = 0; i < stats_slots(); i++)
        if (stats_slot(i))
            metrics_add(m, stats_slot(i));
    metrics_gauge(b, "campus_worker_up", "Whether the worker process runs.", g_alive);
    metrics_gauge(b, "campus_connections", "Open CTP/1 connections, per worker.", g_conns);
    metrics_gauge(b, "campus_http_connections", "Open HTTP connections, per worker.", g_http);
    metrics_gauge(b, "campus_store_up", "Whether the worker's link to Redis is up.", g_store_up);
    metrics_gauge(b, "campus_store_writable", "Whether the worker's store accepts writes.",
                  g_store_writable);
    evbuffer_add_printf(b, "# HELP campus_catalog_info The catalogue version each worker serves.\n"
                           "# TYPE campus_catalog_info gauge\n");
    for (long i = 0; i < stats_slots(); i++)
        if (stats_slot(i))
            evbuffer_add_printf(b, "campus_catalog_info{worker=\"%ld\",version=\"%s\"} 1\n", i,
                                stats_slot(i)->catalog_version);
    evbuffer_add_printf(b,
        "# HELP campus_connections_total CTP/1 connections accepted.\n"
        "# TYPE campus_connections_total counter\ncampus_connections_total %llu\n"
        "# HELP campus_connections_rejected_total Connections refused by a limit.\n"
        "# TYPE campus_connections_rejected_total counter\ncampus_connections_rejected_total %llu\n"
        "# HELP campus_bytes_in_total Bytes received on CTP/1.\n"
        "# TYPE campus_bytes_in_total counter\ncampus_bytes_in_total %llu\n"
        "# HELP campus_bytes_out_total Bytes sent on CTP/1.\n"
        "# TYPE campus_bytes_out_total counter\ncampus_bytes_out_total %llu\n",
        (unsigned long long)m->s.conns_total, (unsigned long long)m->s.conns_rejected,
        (unsigned long long)m->s.bytes_in, (unsigned long long)m->s.bytes_out);
    evbuffer_add_printf(b, "# HELP campus_commands_total Commands by verb.\n"
                           "# TYPE campus_commands_total counter\n");
    for (size_t i = 0; i < cmd_count && i < STATS_COMMANDS_MAX; i++)
        evbuffer_add_printf(b, "campus_commands_total{verb=\"%s\"} %llu\n", cmd_all[i]->name,
                            (unsigned long long)m->by_command[i]);
    evbuffer_add_printf(b,
        "# HELP campus_http_hot_path_total Lesson answers sent from a pre-built answer, by encoding.\n"
        "# TYPE campus_http_hot_path_total counter\n"
        "campus_http_hot_path_total{encoding=\"identity\"} %llu\n"
        "campus_http_hot_path_total{encoding=\"gzip\"} %llu\n",
        (unsigned long long)(m->s.http_hot - m->s.http_hot_gzip),
        (unsigned long long)m->s.http_hot_gzip);
    evbuffer_add_printf(b, "# HELP campus_errors_total Error answers by code.\n"
                           "# TYPE campus_errors_total counter\n");
    for (int i = 0; i < 6; i++)
        evbuffer_add_printf(b, "campus_errors_total{code=\"%s\"} %llu\n", codes[i],
                            (unsigned long long)m->s.errors_by_code[i]);
    evbuffer_add_printf(b, "# HELP campus_request_duration_seconds Time from request to answer.\n"
                           "# TYPE campus_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < STATS_LATENCY_BUCKETS; i++) {
        cum += m->s.latency[i];
        evbuffer_add_printf(b, "campus_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                            stats_latency_bounds[i], (unsigned long long)cum);
    }
    cum += m->s.latency[STATS_LATENCY_BUCKETS];
    evbuffer_add_printf(b, "campus_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                           "campus_request_duration_seconds_sum %.6f\n"
                           "campus_request_duration_seconds_count %llu\n",
                        (unsigned long long)cum, m->s.latency_sum,
                        (unsigned long long)m->s.latency_count);
    free(m);
    evhttp_add_header(evhttp_request_get_output_headers(r), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_add_header(evhttp_request_get_output_headers(r), "X-Content-Type-Options", "nosniff");
    http_send_reply(r, 200, "OK", b);
    evbuffer_free(b);
}

/* ---- static files of the web client ---- */

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" }, { ".json", "application/json" },
        { ".svg", "image/svg+xml" }, { ".png", "image/png" }, { ".ico", "image/x-icon" },
        { ".txt", "text/plain; charset=utf-8" },
    };
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Only plain names: no "..", no percent-escapes, no hidden files. */
static bool static_path_ok(const char *p)
{
    if (p[0] != '/')
        return false;
    for (const char *s = p; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '-' || c == '_' || c == '.'))
            return false;
        if (c == '.' && s[-1] == '/')
            return false;
    }
    return strstr(p, "//") == NULL;
}

static void handle_static(struct evhttp_request *r, const char *path)
{
    char file[2048];
    enum evhttp_cmd_type method = evhttp_request_get_command(r);

    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        api_send_error(r, 405, "use GET");
        return;
    }
    if (!static_path_ok(path)) {
        api_send_error(r, 400, "bad path");
        return;
    }
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    snprintf(file, sizeof(file), "%s%s", cfg.web_dir, path);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        api_send_error(r, 404, "not found");
        return;
    }
    /* A weak validator from size and modification time: a learner on a slow
     * link fetches the page once, then only revalidates it. */
    struct evkeyvalq *out = evhttp_request_get_output_headers(r);
    char etag[64];
    snprintf(etag, sizeof(etag), "W/\"%llx-%llx\"", (unsigned long long)sb.st_size,
             (unsigned long long)sb.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)sb.st_mtim.tv_nsec);
    evhttp_add_header(out, "Cache-Control", "no-cache");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    /* A policy governs the document or worker it comes with; on a module,
     * a style sheet or a catalogue the browser ignores it, and on a 2G link
     * its 110 bytes a file are a tenth of a second of the cold start. */
    const char *type = content_type(path);
    if (strncmp(type, "text/html", 9) == 0 || strcmp(path, "/sw.js") == 0)
        evhttp_add_header(out, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'");
    /* From memory, gzipped once when the client takes gzip (http-gzip.c). */
    if (http_static_send(r, path, fd, &sb, type, etag))
        return;
    evhttp_add_header(out, "ETag", etag);
    const char *inm = evhttp_find_header(evhttp_request_get_input_headers(r), "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        evhttp_send_reply(r, 304, "Not Modified", NULL);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_file(b, fd, 0, sb.st_size);   /* takes the fd */
    evhttp_add_header(out, "Content-Type", type);
    http_send_reply(r, 200, "OK", b);
    evbuffer_free(b);
}

static void handle(struct evhttp_request *r, void *arg)
{
    const char *why = NULL;
    int code = http_conn_rejection(r, &why);

    stats.http_requests++;
    if (code) {
        /* The connection broke a rule or a limit (http-conn.c): its one
         * answer, then it is closed. */
        evhttp_add_header(evhttp_request_get_output_headers(r), "Connection", "close");
        api_send_error(r, code, why);
        return;
    }
    if (server.draining)
        evhttp_add_header(evhttp_request_get_output_headers(r), "Connection", "close");

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (path == NULL || path[0] == '\0')
        path = "/";
    long retry = 0;
    if (strcmp(path, "/healthz") == 0)
        handle_healthz(r);
    else if (strcmp(path, "/metrics") == 0)
        handle_metrics(r);
    else if (!http_rate_ok(r, &retry)) {
        /* Monitoring above is never limited; everything below is. */
        char v[24];
        snprintf(v, sizeof(v), "%ld", retry);
        evhttp_add_header(evhttp_request_get_output_headers(r), "Retry-After", v);
        api_send_error(r, 429, "too many requests from this address; retry later");
    } else if (strncmp(path, "/api/", 5) == 0)
        api_handle(r, path);
    else if (strncmp(path, "/certificates/", 14) == 0)
        cert_page(r, path);
    else
        handle_static(r, path);
}

int http_start(struct event_base *base, const struct config *c, int fd)
{
    http = evhttp_new(base);
    if (http == NULL)
        return -1;
    /* http-conn.c enforces both limits on the raw bytes first; evhttp's own
     * are a backstop, with room for the canonical Content-Length line. */
    evhttp_set_bevcb(http, http_conn_new, NULL);
    evhttp_set_max_headers_size(http, c->http_header_max + 64);
    evhttp_set_max_body_size(http, c->http_body_max);
    evhttp_set_timeout(http, (int)c->http_timeout);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(http, handle, NULL);
    if (evhttp_accept_socket_with_handle(http, fd) == NULL) {
        evhttp_free(http);
        http = NULL;
        return -1;
    }
    return 0;
}

void http_stop(void)
{
    if (http) {
        evhttp_free(http);
        http = NULL;
    }
}
