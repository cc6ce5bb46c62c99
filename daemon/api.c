/* api.c: the JSON API under /api/: a table of routes, each turning an HTTP
 * request into a command's arguments, answered by the same handlers as CTP/1. */
#include "campusd.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>

/* The groups of routes; each cmd-<group>.c that has routes exports one. */
static const struct api_route *const route_groups[] = {
    api_routes_basic,
    api_routes_content,
    api_routes_exercise,
    api_routes_review,
    api_routes_account,
    api_routes_progress,
};

void api_send_json(struct evhttp_request *r, int code, const char *json, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r);
    struct evbuffer *b = evbuffer_new();

    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    /* A versioned document may be cached if revalidated; the rest not. */
    evhttp_add_header(h, "Cache-Control",
                      evhttp_find_header(h, "ETag") ? "no-cache" : "no-store");
    evbuffer_add(b, json, len);
    evhttp_send_reply(r, code, code < 400 ? "OK" : "Error", b);
    evbuffer_free(b);
}

/* The same, for an answer already in a buffer (sent by reference). */
void api_send_json_buffer(struct evhttp_request *r, int code, struct evbuffer *json)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r);

    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", evhttp_find_header(h, "ETag") ? "no-cache" : "no-store");
    evhttp_send_reply(r, code, code < 400 ? "OK" : "Error", json);
}

void api_send_error(struct evhttp_request *r, int code, const char *msg)
{
    json_t *doc = json_pack("{s:i,s:s}", "code", code, "error", msg);
    char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    api_send_json(r, code, s, strlen(s));
    free(s);
    json_decref(doc);
}

static void api_req_done(struct req *req)
{
    struct evhttp_request *r = req->http;

    if (r != NULL) {
        evhttp_request_set_error_cb(r, NULL);
        if (req->reply.etag[0]) {
            const char *inm = evhttp_find_header(evhttp_request_get_input_headers(r),
                                                 "If-None-Match");
            evhttp_add_header(evhttp_request_get_output_headers(r), "ETag", req->reply.etag);
            if (inm && strcmp(inm, req->reply.etag) == 0) {
                evhttp_send_reply(r, 304, "Not Modified", NULL);
                req_free(req);
                return;
            }
        }
        if (req->reply.json) {
            api_send_json_buffer(r, req->reply.code, req->reply.json);
        } else {
            size_t len;
            char *json = reply_render_json(&req->reply, &len);
            api_send_json(r, req->reply.code, json, len);
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

/* Matches path against pattern; each '*' takes one path segment, copied
 * (percent-decoded) into params. Returns the number of params, or -1. */
static int match(const char *pattern, const char *path, char **params)
{
    int n = 0;

    while (*pattern && *path) {
        if (*pattern == '*') {
            const char *end = strchr(path, '/');
            size_t len = end ? (size_t)(end - path) : strlen(path);
            if (len == 0 || n >= API_ARGS_MAX)
                goto fail;
            char *raw = xstrndup(path, len);
            params[n++] = evhttp_uridecode(raw, 0, NULL);
            free(raw);
            if (params[n - 1] == NULL) {
                n--;
                goto fail;
            }
            path += len;
            pattern++;
        } else if (*pattern++ != *path++) {
            goto fail;
        }
    }
    if (*pattern == '\0' && *path == '\0')
        return n;
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

static void dispatch(struct evhttp_request *r, int argc, char **argv)
{
    struct req *req = xcalloc(1, sizeof(*req));

    req->origin = REQ_HTTP;
    req->http = r;
    req->role = ROLE_ANON;
    req->on_done = api_req_done;
    req->started = now_mono();
    reply_init(&req->reply);
    req->args.argc = argc;
    req->args.argv = xcalloc((size_t)argc, sizeof(char *));
    req->args.argl = xcalloc((size_t)argc, sizeof(size_t));
    for (int i = 0; i < argc; i++) {
        req->args.argv[i] = argv[i];           /* taken over */
        req->args.argl[i] = strlen(argv[i]);
    }
    evhttp_request_set_error_cb(r, api_req_error);
    /* The session (bearer token or cookie) gives the request its role and
     * user first; that may wait on Redis. Then the handler may answer at
     * once (api_req_done frees req) or later. */
    char token[128];
    account_resolve(req, account_http_token(r, token, sizeof(token)) ? token : NULL,
                    cmd_dispatch);
}

void api_handle(struct evhttp_request *r, const char *path)
{
    const char *method = method_name(evhttp_request_get_command(r));
    bool path_known = false;

    for (size_t g = 0; g < sizeof(route_groups) / sizeof(route_groups[0]); g++)
        for (const struct api_route *rt = route_groups[g]; rt->method; rt++) {
            char *params[API_ARGS_MAX];
            int np = match(rt->pattern, path, params);
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
    if (path_known)
        api_send_error(r, 405, "method not allowed on this route");
    else
        api_send_error(r, 404, "no such API route");
}
