/* cohort-api.c: the HTTP routes under /api/cohorts, each turned into the
 * arguments of a COHORT sub-command and answered by the same handlers as
 * CTP/1 (docs/PROTOCOL.md, "HTTP API"). */
#include "campusd.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A string member of doc, or NULL. */
static const char *jstr(json_t *doc, const char *k)
{
    return json_string_value(json_object_get(doc, k));
}

/* A string member of doc, or "" (the verb then says what is wrong). */
static char *jdup(json_t *doc, const char *k)
{
    return xstrdup(jstr(doc, k) ? jstr(doc, k) : "");
}

/* COHORT sub [id] */
static int argv2(char **argv, const char *sub)
{
    return api_argv(argv, "COHORT", sub, NULL);
}

static int api_list(struct evhttp_request *r, char **p, int n, char **argv)
{
    return argv2(argv, "LIST");
}

static int api_create(struct evhttp_request *r, char **p, int n, char **argv)
{
    json_t *d = api_body_json(r, "{\"course\", \"name\", \"start\", \"pace\"?, \"tz\"?, \"schedule\"?}");
    if (d == NULL)
        return -1;
    const char *course = jstr(d, "course"), *name = jstr(d, "name"), *start = jstr(d, "start");
    const char *pace = jstr(d, "pace"), *tz = jstr(d, "tz"), *sched = jstr(d, "schedule");
    if (!course || !name || !start) {
        json_decref(d);
        api_send_error(r, 400, "course, name and start are needed");
        return -1;
    }
    int c = argv2(argv, "CREATE");
    argv[c++] = xstrdup(course);
    argv[c++] = xstrdup(name);
    argv[c++] = xstrdup(start);
    if (pace && strncasecmp(pace, "every ", 6) == 0) {
        argv[c++] = xstrdup("every");
        argv[c++] = xasprintf("%ld", strtol(pace + 6, NULL, 10));
    } else if (pace) {
        argv[c++] = xstrdup(pace);
    }
    if (tz)
        argv[c++] = xstrdup(tz);
    if (sched)
        argv[c++] = xasprintf("%s%s", sched, strchr(sched, '\n') ? "" : "\n");
    json_decref(d);
    return c;
}

static int api_id(char **argv, const char *sub, const char *id)
{
    return api_argv(argv, "COHORT", sub, id);
}

/* COHORT sub [id] and the string members named in fields (NULL-ended) of
 * a body that must be want; a member left out is given as "". */
static int body_fields(struct evhttp_request *r, char **argv, const char *sub, const char *id,
                       const char *want, const char *const *fields)
{
    json_t *d = api_body_json(r, want);
    if (d == NULL)
        return -1;
    int c = api_id(argv, sub, id);
    for (; *fields; fields++)
        argv[c++] = jdup(d, *fields);
    json_decref(d);
    return c;
}

static int api_join(struct evhttp_request *r, char **p, int n, char **argv)
{
    static const char *const f[] = { "code", NULL };
    return body_fields(r, argv, "JOIN", NULL, "{\"code\": \"...\"}", f);
}

/* COHORT sub p[0] p[1]: the two path segments of the route. */
static int api_id2(char **argv, const char *sub, char **p)
{
    int c = api_id(argv, sub, p[0]);
    argv[c++] = xstrdup(p[1]);
    return c;
}

static int api_show(struct evhttp_request *r, char **p, int n, char **argv) { return api_id(argv, "SHOW", p[0]); }
static int api_leave(struct evhttp_request *r, char **p, int n, char **argv) { return api_id(argv, "LEAVE", p[0]); }
static int api_close(struct evhttp_request *r, char **p, int n, char **argv) { return api_id(argv, "CLOSE", p[0]); }
static int api_code(struct evhttp_request *r, char **p, int n, char **argv) { return api_id(argv, "CODE", p[0]); }
static int api_grades(struct evhttp_request *r, char **p, int n, char **argv) { return api_id(argv, "GRADES", p[0]); }

static int api_attempts(struct evhttp_request *r, char **p, int n, char **argv) { return api_id2(argv, "ATTEMPTS", p); }

static int api_grades_csv(struct evhttp_request *r, char **p, int n, char **argv)
{
    int c = api_id(argv, "GRADES", p[0]);
    argv[c++] = xstrdup("csv");
    return c;
}

static int api_code_set(struct evhttp_request *r, char **p, int n, char **argv)
{
    static const char *const f[] = { "action", NULL };
    return body_fields(r, argv, "CODE", p[0], "{\"action\": \"rotate\" | \"off\"}", f);
}

static int api_trainers(struct evhttp_request *r, char **p, int n, char **argv)
{
    static const char *const f[] = { "action", "name", NULL };
    return body_fields(r, argv, "TRAINER", p[0],
                       "{\"action\": \"add\" | \"remove\", \"name\": \"...\"}", f);
}

static int api_add(struct evhttp_request *r, char **p, int n, char **argv)
{
    json_t *d = api_body_json(r, "{\"names\": [\"...\"]}");
    if (d == NULL)
        return -1;
    json_t *names = json_object_get(d, "names");
    size_t k;
    json_t *v;
    if (!json_is_array(names) || json_array_size(names) == 0 ||
        json_array_size(names) > API_ARGS_MAX - 3) {
        json_decref(d);
        api_send_error(r, 400, "names: 1 to 13 account names (ENROL takes more)");
        return -1;
    }
    int c = api_id(argv, "ADD", p[0]);
    json_array_foreach(names, k, v)
        argv[c++] = xstrdup(json_is_string(v) ? json_string_value(v) : "");
    json_decref(d);
    return c;
}

static int api_remove(struct evhttp_request *r, char **p, int n, char **argv) { return api_id2(argv, "REMOVE", p); }

/* The body is the CSV itself (?accounts=1 creates missing accounts), or,
 * with Content-Type application/json, {"csv": "...", "accounts": true}: a
 * browser session may only send JSON (the cross-site rule in api.c). */
static int api_enrol(struct evhttp_request *r, char **p, int n, char **argv)
{
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(r), "Content-Type");
    bool is_json = ct && strncasecmp(ct, "application/json", 16) == 0;
    bool make = false;
    char *csv;

    if (is_json) {
        json_t *d = api_body_json(r, "{\"csv\": \"...\", \"accounts\": true|false}");
        if (d == NULL)
            return -1;
        json_t *v = json_object_get(d, "csv");
        if (!json_is_string(v)) {
            json_decref(d);
            api_send_error(r, 400, "csv: the roster as a string");
            return -1;
        }
        make = json_is_true(json_object_get(d, "accounts"));
        csv = xstrndup(json_string_value(v), json_string_length(v));
        json_decref(d);
    } else {
        struct evkeyvalq q;
        const char *acc = api_query(r, &q, "accounts");
        make = acc && strcmp(acc, "1") == 0;
        evhttp_clear_headers(&q);
        struct evbuffer *in = evhttp_request_get_input_buffer(r);
        size_t len = evbuffer_get_length(in);
        csv = xstrndup((const char *)evbuffer_pullup(in, -1), len);
    }
    int c = api_id(argv, "ENROL", p[0]);
    if (make)
        argv[c++] = xstrdup("accounts");
    argv[c++] = csv;
    return c;
}

static int api_open(struct evhttp_request *r, char **p, int n, char **argv) { return api_id2(argv, "OPEN", p); }

static int api_extend(struct evhttp_request *r, char **p, int n, char **argv)
{
    static const char *const f[] = { "learner", "module", "date", NULL };
    return body_fields(r, argv, "EXTEND", p[0], "{\"learner\", \"module\", \"date\"}", f);
}

static int api_progress(struct evhttp_request *r, char **p, int n, char **argv)
{
    struct evkeyvalq q;
    int c = api_id(argv, "PROGRESS", p[0]);
    const char *sort = api_query(r, &q, "sort");
    if (sort) {
        argv[c++] = xstrdup(sort);
        const char *order = evhttp_find_header(&q, "order");
        if (order)
            argv[c++] = xstrdup(order);
    }
    evhttp_clear_headers(&q);
    return c;
}

const struct api_route api_routes_cohort[] = {
    { "GET", "/api/cohorts", api_list },
    { "POST", "/api/cohorts", api_create },
    { "POST", "/api/cohorts/join", api_join },
    { "GET", "/api/cohorts/{cohort}", api_show },
    { "POST", "/api/cohorts/{cohort}/leave", api_leave },
    { "GET", "/api/cohorts/{cohort}/code", api_code },
    { "POST", "/api/cohorts/{cohort}/code", api_code_set },
    { "POST", "/api/cohorts/{cohort}/close", api_close },
    { "POST", "/api/cohorts/{cohort}/trainers", api_trainers },
    { "POST", "/api/cohorts/{cohort}/learners", api_add },
    { "DELETE", "/api/cohorts/{cohort}/learners/{name}", api_remove },
    { "POST", "/api/cohorts/{cohort}/enrol", api_enrol },
    { "POST", "/api/cohorts/{cohort}/open/{module}", api_open },
    { "POST", "/api/cohorts/{cohort}/extend", api_extend },
    { "GET", "/api/cohorts/{cohort}/progress", api_progress },
    { "GET", "/api/cohorts/{cohort}/grades", api_grades },
    { "GET", "/api/cohorts/{cohort}/grades.csv", api_grades_csv },
    { "GET", "/api/cohorts/{cohort}/learners/{name}/attempts", api_attempts },
    { NULL, NULL, NULL },
};
