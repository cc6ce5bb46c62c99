/* api.c: the JSON API under /api/: a table of routes, each turning an HTTP
 * request into a command's arguments, answered by the same handlers as CTP/1. */
#include "campusd.h"
#include "auth.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The groups of routes; each cmd-<group>.c that has routes exports one. */
static const struct api_route *const route_groups[] = {
    api_routes_basic,
    api_routes_content,
    api_routes_exercise,
    api_routes_review,
    api_routes_account,
    api_routes_progress,
    api_routes_cohort,
    api_routes_cert,
    api_routes_live,
    api_routes_lang,
};

/* Headers every API answer carries, errors and 304s included: a browser
 * must never sniff a JSON answer (which may echo user text) into HTML. */
static void api_common_headers(struct evhttp_request *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r);

    if (evhttp_find_header(h, "X-Content-Type-Options") == NULL)
        evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (evhttp_find_header(h, "Vary") == NULL)
        evhttp_add_header(h, "Vary", "Accept-Encoding");
}

void api_send_json(struct evhttp_request *r, int code, const char *json, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r);
    struct evbuffer *b = evbuffer_new();

    api_common_headers(r);
    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    /* A versioned document may be cached if revalidated; the rest not. */
    evhttp_add_header(h, "Cache-Control",
                      evhttp_find_header(h, "ETag") ? "no-cache" : "no-store");
    evbuffer_add(b, json, len);
    http_send_reply(r, code, code < 400 ? "OK" : "Error", b);
    evbuffer_free(b);
}

/* The same, for an answer already in a buffer (sent by reference). */
void api_send_json_buffer(struct evhttp_request *r, int code, struct evbuffer *json)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r);

    api_common_headers(r);
    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", evhttp_find_header(h, "ETag") ? "no-cache" : "no-store");
    http_send_reply(r, code, code < 400 ? "OK" : "Error", json);
}

void api_send_error(struct evhttp_request *r, int code, const char *msg)
{
    json_t *doc = json_pack("{s:i,s:s}", "code", code, "error", msg);
    char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    api_send_json(r, code, s, strlen(s));
    free(s);
    json_decref(doc);
}

json_t *api_body(struct evhttp_request *r)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r);

    return json_loadb((const char *)evbuffer_pullup(in, -1), evbuffer_get_length(in), 0, NULL);
}

json_t *api_body_json(struct evhttp_request *r, const char *want)
{
    json_t *doc = api_body(r);

    if (!json_is_object(doc)) {
        json_decref(doc);
        char msg[200];
        snprintf(msg, sizeof(msg), "body must be %s", want);
        api_send_error(r, 400, msg);
        return NULL;
    }
    return doc;
}

const char *api_query(struct evhttp_request *r, struct evkeyvalq *q, const char *k)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r);
    const char *s = uri ? evhttp_uri_get_query(uri) : NULL;

    if (evhttp_parse_query_str(s ? s : "", q) < 0)
        return NULL;
    return evhttp_find_header(q, k);
}

int api_argv(char **argv, const char *verb, const char *sub, const char *arg)
{
    int c = 0;

    argv[c++] = xstrdup(verb);
    argv[c++] = xstrdup(sub);
    if (arg)
        argv[c++] = xstrdup(arg);
    return c;
}

static void api_req_done(struct req *req)
{
    struct evhttp_request *r = req->http;

    if (r != NULL) {
        evhttp_request_set_error_cb(r, NULL);
        struct evkeyvalq *out = evhttp_request_get_output_headers(r);
        if (req->reply.etag[0]) {
            const char *inm = evhttp_find_header(evhttp_request_get_input_headers(r),
                                                 "If-None-Match");
            /* The gzip form is another representation: another tag. */
            char gz[sizeof(req->reply.etag) + 4];
            http_gzip_etag(req->reply.etag, gz, sizeof(gz));
            const char *etag = req->reply.json_gzip ? gz : req->reply.etag;
            evhttp_add_header(out, "ETag", etag);
            if (inm && strcmp(inm, etag) == 0) {
                api_common_headers(r);
                evhttp_send_reply(r, 304, "Not Modified", NULL);
                req_free(req);
                return;
            }
        }
        if (req->reply.raw && req->reply.code == 200 && req->reply.body) {
            struct evkeyvalq *h = evhttp_request_get_output_headers(r);
            api_common_headers(r);
            evhttp_add_header(h, "Content-Type", req->reply.content_type);
            evhttp_add_header(h, "Cache-Control", "no-cache");
            http_send_reply(r, 200, "OK", req->reply.body);
        } else if (req->reply.json) {
            if (req->reply.json_gzip)
                evhttp_add_header(out, "Content-Encoding", "gzip");
            api_send_json_buffer(r, req->reply.code, req->reply.json);
        } else {
            size_t len;
            char *json = reply_render_json(&req->reply, &len);
            /* Made for this request, so gzipped for it, when it is worth
             * it and carries no secret beside text the caller chose. */
            if (len >= HTTP_GZIP_MIN && !(req->cmd && (req->cmd->flags & CMD_SECRET)) &&
                http_gzip_accepted(r)) {
                size_t gzlen;
                char *gz = http_gzip(json, len, 6, &gzlen);
                struct evbuffer *b = evbuffer_new();
                evbuffer_add(b, gz, gzlen);
                free(gz);
                evhttp_add_header(out, "Content-Encoding", "gzip");
                api_send_json_buffer(r, req->reply.code, b);
                evbuffer_free(b);
            } else {
                api_send_json(r, req->reply.code, json, len);
            }
            free(json);
        }
    }
    req_free(req);
}

/* evhttp frees a request whose connection fails before we answer: forget it,
 * so the answer, when Redis gives it, goes nowhere instead of into freed memory. */
static void api_req_error(enum evhttp_request_error err, void *arg)
{
    struct req *req = arg;
    req->http = NULL;
}

/* True when s is NAME.EXT, or a language variant's NAME.LL.EXT, with every
 * part an id (the extension has no '-' in practice, but an id's alphabet
 * is the bound). */
static bool file_name_valid(const char *s)
{
    const char *dot = strchr(s, '.');
    if (dot == NULL || dot == s || (size_t)(dot - s) > ID_MAX)
        return false;
    char base[ID_MAX + 1];
    memcpy(base, s, (size_t)(dot - s));
    base[dot - s] = '\0';
    const char *rest = dot + 1, *dot2 = strchr(rest, '.');
    if (dot2 && (dot2 == rest || strchr(dot2 + 1, '.') || (size_t)(dot2 - rest) > ID_MAX))
        return false;
    char lang[ID_MAX + 1];
    if (dot2) {
        memcpy(lang, rest, (size_t)(dot2 - rest));
        lang[dot2 - rest] = '\0';
    }
    return id_valid(base) && (dot2 == NULL || id_valid(lang)) && id_valid(dot2 ? dot2 + 1 : rest);
}

/* Matches path against pattern; each "{name}" takes one path segment,
 * percent-decoded into params. A segment must decode to an id (id_valid:
 * 1 to 64 of [a-z0-9-]; "{name}", an account name: auth_name_valid): a NUL or any other byte there would otherwise reach
 * a lookup that reads only the part before it. Returns the number of params;
 * -1 when the path is not this route's; -2 when it is but a segment is not
 * an id, with *bad set to the field's name (pointing into pattern, its
 * length in *badlen). */
static int match(const char *pattern, const char *path, char **params, const char **bad,
                 size_t *badlen)
{
    int n = 0;
    const char *bad_name = NULL;
    size_t bad_len = 0;

    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            const char *end = strchr(path, '/');
            size_t len = end ? (size_t)(end - path) : strlen(path);
            if (close == NULL)
                fatal("api: unclosed field in route %s", pattern);
            if (len == 0 || n >= API_ARGS_MAX)
                goto fail;
            char *raw = xstrndup(path, len);
            size_t dlen = 0;
            char *id = evhttp_uridecode(raw, 0, &dlen);
            free(raw);
            /* An account name ({name}) has its own alphabet; every other
             * field is an id. */
            bool is_name = (size_t)(close - pattern - 1) == 4 && strncmp(pattern + 1, "name", 4) == 0;
            /* A course file ({file}) is an id, a dot and an id-like extension. */
            bool is_file = (size_t)(close - pattern - 1) == 4 && strncmp(pattern + 1, "file", 4) == 0;
            if (id == NULL || dlen != strlen(id) ||
                !(is_name ? auth_name_valid(id, dlen) : is_file ? file_name_valid(id) : id_valid(id))) {
                free(id);
                if (bad_name == NULL) {
                    bad_name = pattern + 1;
                    bad_len = (size_t)(close - pattern - 1);
                }
                id = xstrdup("");
            }
            params[n++] = id;
            path += len;
            pattern = close + 1;
        } else if (*pattern++ != *path++) {
            goto fail;
        }
    }
    if (*pattern == '\0' && *path == '\0') {
        if (bad_name == NULL)
            return n;
        *bad = bad_name;
        *badlen = bad_len;
        for (int i = 0; i < n; i++)
            free(params[i]);
        return -2;
    }
fail:
    for (int i = 0; i < n; i++)
        free(params[i]);
    return -1;
}

static const char *method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_HEAD: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    default: return "?";
    }
}

/* The request's ?lang= (taken by verbs that take lang=; one that is not a
 * language tag is refused by them) and its Accept-Language header. */
static void api_lang(struct req *req, struct evhttp_request *r)
{
    struct evkeyvalq params;
    const char *v = api_query(r, &params, "lang");

    if (v && lang_tag_valid(v, strlen(v)))
        snprintf(req->lang_arg, sizeof(req->lang_arg), "%s", v);
    else if (v)
        req->lang_bad = true;
    evhttp_clear_headers(&params);
    const char *al = evhttp_find_header(evhttp_request_get_input_headers(r), "Accept-Language");
    if (al && strlen(al) <= LANG_ACCEPT_BYTES)
        req->accept_language = xstrdup(al);
}

static void dispatch(struct evhttp_request *r, int argc, char **argv)
{
    struct req *req = xcalloc(1, sizeof(*req));

    req->origin = REQ_HTTP;
    req->http = r;
    req->role = ROLE_ANON;
    req->on_done = api_req_done;
    req->started = now_mono();
    reply_init(&req->reply);
    proto_req_set(&req->args, argc, argv, NULL);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    evhttp_request_set_error_cb(r, api_req_error);
    api_lang(req, r);
    /* The session (bearer token or cookie) gives the request its role and
     * user first; that may wait on Redis. Then the handler may answer at
     * once (api_req_done frees req) or later. */
    char token[128];
    account_resolve(req, account_http_token(r, token, sizeof(token)) ? token : NULL,
                    cmd_dispatch);
}

/* The origin ("scheme://host[:port]") of base_url, in out. */
static void base_origin(char *out, size_t n)
{
    const char *u = cfg.base_url ? cfg.base_url : "";
    const char *host = strstr(u, "://");
    size_t len = host ? (size_t)(strcspn(host + 3, "/?#") + (size_t)(host + 3 - u)) : 0;

    snprintf(out, n, "%.*s", (int)len, u);
}

static bool origin_is_ours(struct evhttp_request *r, const char *origin)
{
    const char *host = evhttp_find_header(evhttp_request_get_input_headers(r), "Host");
    char ours[512];

    base_origin(ours, sizeof(ours));
    if (ours[0] && strcasecmp(origin, ours) == 0)
        return true;
    if (host == NULL || host[0] == '\0')
        return false;
    for (int tls = 0; tls < 2; tls++) {
        snprintf(ours, sizeof(ours), "%s://%s", tls ? "https" : "http", host);
        if (strcasecmp(origin, ours) == 0)
            return true;
    }
    return false;
}

/* True for "application/json", with or without parameters. */
static bool is_json_type(const char *ct)
{
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
        return false;
    ct += 16;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* The defence against cross-site request forgery, beyond the SameSite
 * cookie (which old browsers and same-site subdomains get round): a
 * request that changes state and may carry the session cookie must come
 * from our own pages. A present Origin must be ours, Sec-Fetch-Site must not
 * be cross-site, and a body must be JSON, which no plain HTML form or
 * "simple" cross-origin fetch can send. A request with a bearer token
 * carries no ambient credential, so it is not checked. Returns NULL when r
 * may go on, else the reason to refuse it. */
static const char *csrf_refusal(struct evhttp_request *r)
{
    enum evhttp_cmd_type m = evhttp_request_get_command(r);
    struct evkeyvalq *h = evhttp_request_get_input_headers(r);

    if (m != EVHTTP_REQ_POST && m != EVHTTP_REQ_PUT && m != EVHTTP_REQ_DELETE &&
        m != EVHTTP_REQ_PATCH)
        return NULL;
    const char *auth = evhttp_find_header(h, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        return NULL;
    const char *site = evhttp_find_header(h, "Sec-Fetch-Site");
    if (site && strcasecmp(site, "cross-site") == 0)
        return "cross-site request refused (Sec-Fetch-Site: cross-site)";
    const char *origin = evhttp_find_header(h, "Origin");
    if (origin && !origin_is_ours(r, origin))
        return "cross-origin request refused: Origin is not this server's";
    if (evbuffer_get_length(evhttp_request_get_input_buffer(r)) > 0 &&
        !is_json_type(evhttp_find_header(h, "Content-Type")))
        return "a request body must be sent as Content-Type: application/json";
    return NULL;
}

void api_handle(struct evhttp_request *r, const char *path)
{
    const char *refused = csrf_refusal(r);
    if (refused) {
        api_send_error(r, 403, refused);
        return;
    }

    const char *method = method_name(evhttp_request_get_command(r));
    bool path_known = false;
    const char *bad = NULL;
    size_t badlen = 0;

    for (size_t g = 0; g < sizeof(route_groups) / sizeof(route_groups[0]); g++)
        for (const struct api_route *rt = route_groups[g]; rt->method; rt++) {
            char *params[API_ARGS_MAX];
            int np = match(rt->pattern, path, params, &bad, &badlen);
            if (np == -2)
                path_known = true;
            if (np < 0)
                continue;
            if (strcmp(rt->method, method) != 0) {
                path_known = true;
                for (int i = 0; i < np; i++)
                    free(params[i]);
                continue;
            }
            char *argv[API_ARGS_MAX] = { 0 };
            int argc = rt->build(r, params, np, argv);
            for (int i = 0; i < np; i++)
                free(params[i]);
            if (argc > 0)
                dispatch(r, argc, argv);
            return;
        }
    if (bad) {
        /* Before any lookup: the route exists, one of its ids is not one. */
        char *msg = xasprintf("'%.*s' is not a valid id (1 to 64 of a-z, 0-9, -)", (int)badlen, bad);
        api_send_error(r, 400, msg);
        free(msg);
    } else if (path_known)
        api_send_error(r, 405, "method not allowed on this route");
    else
        api_send_error(r, 404, "no such API route");
}
