/* live-api.c: the HTTP routes under /api/live, each turned into the
 * arguments of a LIVE sub-command with the cohort named ("cohort:ID"), and
 * answered by the same handlers as CTP/1 (docs/PROTOCOL.md, "Live
 * sessions over HTTP"). The event stream is LIVE EVENTS (live-sse.c). */
#include "campusd.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LIVE sub cohort:ID */
static int live_argv(char **argv, const char *sub, const char *cohort)
{
    int c = api_argv(argv, "LIVE", sub, NULL);
    argv[c++] = xasprintf("cohort:%s", cohort);
    return c;
}

static int simple(char **p, char **argv, const char *sub)
{
    return live_argv(argv, sub, p[0]);
}

static int api_start(struct evhttp_request *r, char **p, int n, char **argv)
{
    return api_argv(argv, "LIVE", "START", p[0]);
}

static int api_join(struct evhttp_request *r, char **p, int n, char **argv)
{
    return api_argv(argv, "LIVE", "JOIN", p[0]);
}

/* A route whose body holds one string field, given as the argument. */
static int with_field(struct evhttp_request *r, char **p, char **argv, const char *sub,
                      const char *field, const char *want)
{
    json_t *d = api_body_json(r, want);
    if (d == NULL)
        return -1;
    json_t *v = json_object_get(d, field);
    if (!json_is_string(v)) {
        json_decref(d);
        char msg[96];
        snprintf(msg, sizeof(msg), "\"%s\" (a string) is needed", field);
        api_send_error(r, 400, msg);
        return -1;
    }
    int c = live_argv(argv, sub, p[0]);
    argv[c++] = xstrndup(json_string_value(v), json_string_length(v));
    json_decref(d);
    return c;
}

static int api_goto(struct evhttp_request *r, char **p, int n, char **argv)
{
    json_t *d = api_body_json(r, "{\"lesson\": \"course/lesson\", \"anchor\": \"...\"?}");
    if (d == NULL)
        return -1;
    const char *lesson = json_string_value(json_object_get(d, "lesson"));
    const char *anchor = json_string_value(json_object_get(d, "anchor"));
    if (lesson == NULL) {
        json_decref(d);
        api_send_error(r, 400, "\"lesson\" is needed");
        return -1;
    }
    int c = live_argv(argv, "GOTO", p[0]);
    argv[c++] = xstrdup(lesson);
    if (anchor && anchor[0])
        argv[c++] = xstrdup(anchor);
    json_decref(d);
    return c;
}

static int api_say(struct evhttp_request *r, char **p, int n, char **argv)
{
    return with_field(r, p, argv, "SAY", "text", "{\"text\": \"...\"}");
}

static int api_poll(struct evhttp_request *r, char **p, int n, char **argv)
{
    return with_field(r, p, argv, "POLL", "gift", "{\"gift\": \"one GIFT question\"}");
}

static int api_answer(struct evhttp_request *r, char **p, int n, char **argv)
{
    return with_field(r, p, argv, "ANSWER", "text", "{\"text\": \"...\"}");
}

static int api_close(struct evhttp_request *r, char **p, int n, char **argv) { return simple(p, argv, "CLOSE"); }
static int api_end(struct evhttp_request *r, char **p, int n, char **argv) { return simple(p, argv, "END"); }
static int api_leave(struct evhttp_request *r, char **p, int n, char **argv) { return simple(p, argv, "LEAVE"); }
static int api_state(struct evhttp_request *r, char **p, int n, char **argv) { return simple(p, argv, "STATE"); }
static int api_events(struct evhttp_request *r, char **p, int n, char **argv) { return simple(p, argv, "EVENTS"); }

static int api_report(struct evhttp_request *r, char **p, int n, char **argv)
{
    return api_argv(argv, "LIVE", "REPORT", p[0]);
}

const struct api_route api_routes_live[] = {
    { "GET", "/api/live/sessions/{session}/report", api_report },
    { "POST", "/api/live/{cohort}/start", api_start },
    { "POST", "/api/live/{cohort}/goto", api_goto },
    { "POST", "/api/live/{cohort}/say", api_say },
    { "POST", "/api/live/{cohort}/poll", api_poll },
    { "POST", "/api/live/{cohort}/close", api_close },
    { "POST", "/api/live/{cohort}/end", api_end },
    { "POST", "/api/live/{cohort}/join", api_join },
    { "POST", "/api/live/{cohort}/answer", api_answer },
    { "POST", "/api/live/{cohort}/leave", api_leave },
    { "GET", "/api/live/{cohort}", api_state },
    { "GET", "/api/live/{cohort}/events", api_events },
    { NULL, NULL, NULL },
};
