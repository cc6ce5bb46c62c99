/* cohort-report.c: what a trainer sees of a cohort: PROGRESS (a row per
 * learner: percent per module, exercises passed, last activity, late items)
 * and GRADES (CSV in the shape of Moodle's gradebook export). Learners are
 * read a page at a time, every command of a page pipelined: one Redis round
 * trip per page, never one per learner. */
#include "campusd.h"

#include <event2/http.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "cohort-time.h"
#include "cohort.h"
#include "exercise.h"
#include "keys.h"
#include "scripts.h"


struct report {
    struct req *req;
    bool grades;
    char id[24];
    struct catalog *cat;
    const struct course *course;
    const struct lesson **ex;    /* the course's graded exercises, in course order */
    size_t nex;
    json_t *names, *roster, *late;
    json_t *late_at;             /* "LEARNER EXERCISE" -> the first late attempt's number */
    json_t *rows;                /* one array of strings per learner */
    size_t next;                 /* first learner of the next page */
    int waiting;
    bool failed;
};

struct probe {
    struct report *rp;
    size_t index;
};

static void report_free(struct report *rp)
{
    catalog_unref(rp->cat);
    free(rp->ex);
    json_decref(rp->names);
    json_decref(rp->roster);
    json_decref(rp->late);
    json_decref(rp->late_at);
    json_decref(rp->rows);
    free(rp);
}

/* An instant, or "" for none (0: never). */
static void iso(long long ms, char out[TIME_ISO_MAX])
{
    if (ms <= 0)
        out[0] = '\0';
    else
        time_iso(ms, false, out);
}

static const char *flat_get(redisReply *flat, const char *key)
{
    for (size_t i = 0; flat && i + 1 < flat->elements; i += 2)
        if (strcmp(flat->element[i]->str, key) == 0)
            return flat->element[i + 1]->str;
    return NULL;
}

static const char *roster_field(struct report *rp, const char *name, const char *field)
{
    const char *v = json_string_value(json_object_get(json_object_get(rp->roster, name), field));
    return v ? v : "";
}

/* One learner's row, from the lessons done, the exercises passed and the
 * id of their newest event (its milliseconds are the last activity). */
static json_t *progress_row(struct report *rp, const char *name, redisReply *r)
{
    redisReply *done = r->element[0], *passed = r->element[1];
    size_t nm = rp->course->nmodules;
    size_t *per = xcalloc(nm + 1, sizeof(*per));
    json_t *row = json_array();
    char buf[64];

    for (size_t i = 0; i < done->elements; i++) {
        const struct lesson *l = catalog_lesson(rp->cat, done->element[i]->str);
        if (l == NULL || l->course != rp->course || !catalog_lesson_counts(l))
            continue;
        for (size_t m = 0; m < nm; m++)
            if (rp->course->modules[m] == l->module)
                per[m]++;
    }
    json_array_append_new(row, json_string(name));
    json_array_append_new(row, json_string(roster_field(rp, name, "display")));
    for (size_t m = 0; m < nm; m++) {
        const struct module *mo = rp->course->modules[m];
        size_t counted = 0;      /* a pre-test is not in the share */
        for (size_t i = 0; i < mo->nlessons; i++)
            counted += catalog_lesson_counts(mo->lessons[i]);
        snprintf(buf, sizeof(buf), "%d", counted ? (int)(100 * per[m] / counted) : 100);
        json_array_append_new(row, json_string(buf));
    }
    free(per);
    size_t npassed = 0;
    for (size_t i = 0; i < passed->elements; i++) {
        const struct lesson *l = catalog_lesson(rp->cat, passed->element[i]->str);
        npassed += l && l->course == rp->course && catalog_lesson_counts(l);
    }
    snprintf(buf, sizeof(buf), "%zu", npassed);
    json_array_append_new(row, json_string(buf));
    iso(r->element[2]->type == REDIS_REPLY_STRING ? atoll(r->element[2]->str) : 0, buf);
    json_array_append_new(row, json_string(buf));
    snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(json_object_get(rp->late, name)));
    json_array_append_new(row, json_string(buf));
    return row;
}

/* Display name "First Rest of it" split as Moodle's first name / last name. */
static void split_name(const char *display, const char *name, char *first, char *last, size_t n)
{
    const char *sp = strchr(display, ' ');
    if (display[0] == '\0') {
        snprintf(first, n, "%s", name);
        last[0] = '\0';
    } else if (sp) {
        snprintf(first, n, "%.*s", (int)(sp - display), display);
        snprintf(last, n, "%s", sp + 1);
    } else {
        snprintf(first, n, "%s", display);
        last[0] = '\0';
    }
}

static json_t *grades_row(struct report *rp, const char *name, redisReply *r)
{
    redisReply *passed = r->element[1];
    json_t *row = json_array();
    char first[256], last[256], buf[64];
    double total = 0, wsum = 0;
    bool all = rp->nex > 0;

    split_name(roster_field(rp, name, "display"), name, first, last, sizeof(first));
    json_array_append_new(row, json_string(first));
    json_array_append_new(row, json_string(last));
    json_array_append_new(row, json_string(name));
    json_array_append_new(row, json_string(roster_field(rp, name, "email")));
    for (size_t e = 0; e < rp->nex; e++) {
        const struct exercise *ex = rp->ex[e]->exercise;
        redisReply *list = r->element[2 + e];
        double *scores = xcalloc(list->elements + 1, sizeof(double));
        size_t ns = 0;
        /* late: ignore leaves out attempts from the first late one on. */
        char *lk = xasprintf("%s %s", name, rp->ex[e]->full_id);
        long long late_from = ex->late_counts ? 0 : json_integer_value(json_object_get(rp->late_at, lk));
        free(lk);
        for (size_t a = 0; a < list->elements; a++) {
            json_t *rec = json_loads(list->element[a]->str, 0, NULL);
            if (late_from <= 0 || json_integer_value(json_object_get(rec, "n")) < late_from)
                scores[ns++] = json_number_value(json_object_get(rec, "score"));
            json_decref(rec);
        }
        double w = exercise_weight(ex);
        if (ns) {
            double kept = exercise_policy_score(exercise_policy(ex), scores, ns);
            snprintf(buf, sizeof(buf), "%.2f", kept);
            total += w * kept;
            wsum += w;
            json_array_append_new(row, json_string(buf));
        } else {
            json_array_append_new(row, json_string("-"));   /* Moodle's "no grade" */
        }
        all = all && flat_get(passed, rp->ex[e]->full_id) != NULL;
        free(scores);
    }
    /* As Moodle's default aggregation: the weighted mean of the grades
     * given, empty ones left out; no grade at all is "-". */
    if (wsum > 0)
        snprintf(buf, sizeof(buf), "%.2f", total / wsum);
    else
        snprintf(buf, sizeof(buf), "-");
    json_array_append_new(row, json_string(buf));
    json_array_append_new(row, json_string(all ? "yes" : "no"));
    return row;
}

static void finish(struct report *rp);
static void send_page(struct report *rp);

static void learner_cb(redisReply *reply, const char *err, void *priv)
{
    struct probe *p = priv;
    struct report *rp = p->rp;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
        reply->elements != (rp->grades ? 2 + rp->nex : 3)) {
        rp->failed = true;
    } else if (!rp->failed) {
        const char *name = json_string_value(json_array_get(rp->names, p->index));
        json_array_set_new(rp->rows, p->index, rp->grades ? grades_row(rp, name, reply)
                                                          : progress_row(rp, name, reply));
    }
    free(p);
    if (--rp->waiting > 0)
        return;
    if (rp->failed || rp->next >= json_array_size(rp->names))
        finish(rp);
    else
        send_page(rp);
}

/* Sends the reads of the next COHORT_PAGE learners all at once. */
static void send_page(struct report *rp)
{
    size_t n = json_array_size(rp->names), end = rp->next + COHORT_PAGE;
    const char **argv = xcalloc(rp->nex + 3, sizeof(*argv));
    char **keys = xcalloc(rp->nex + 3, sizeof(*keys));

    rp->waiting = 1;
    for (; rp->next < n && rp->next < end; rp->next++) {
        const char *name = json_string_value(json_array_get(rp->names, rp->next));
        /* PROGRESS: done, passed, events; GRADES: done, passed, attempts. */
        size_t nk = rp->grades ? rp->nex + 2 : 3;
        keys[0] = key_new(KEY_DONE, name);
        keys[1] = key_new(KEY_PASSED, name);
        if (rp->grades)
            for (size_t e = 0; e < rp->nex; e++)
                keys[2 + e] = key_new(KEY_ATTEMPTS, name, rp->ex[e]->full_id);
        else
            keys[2] = key_new(KEY_EVENTS, name);
        for (size_t k = 0; k < nk; k++)
            argv[k] = keys[k];
        struct probe *p = xcalloc(1, sizeof(*p));
        p->rp = rp;
        p->index = rp->next;
        rp->waiting++;
        if (script_call(rp->grades ? SCRIPT_COHORT_LEARNER : SCRIPT_COHORT_PROGRESS, learner_cb, p,
                        (int)nk, (int)nk, argv) < 0) {
            rp->waiting--;
            rp->failed = true;
            free(p);
        }
        for (size_t k = 0; k < nk; k++)
            free(keys[k]);
        if (rp->failed)
            break;
    }
    free(argv);
    free(keys);
    if (rp->failed)
        rp->next = n;
    /* Drops the hold taken above; the last reply of the page goes on. */
    if (--rp->waiting == 0) {
        if (rp->failed || rp->next >= n)
            finish(rp);
        else
            send_page(rp);
    }
}

/* ---- rendering ---- */

static bool number(const char *s, double *v)
{
    char *end;
    if (*s == '\0')
        return false;
    *v = strtod(s, &end);
    return *end == '\0';
}

static int sort_col;
static bool sort_desc;

static int row_cmp(const void *a, const void *b)
{
    const char *x = json_string_value(json_array_get(*(json_t *const *)a, (size_t)sort_col));
    const char *y = json_string_value(json_array_get(*(json_t *const *)b, (size_t)sort_col));
    double dx, dy;
    int c;
    if (number(x, &dx) && number(y, &dy))
        c = dx < dy ? -1 : dx > dy;
    else
        c = strcmp(x ? x : "", y ? y : "");
    if (sort_desc)
        c = -c;
    if (c == 0)                      /* ties: by name, ascending either way */
        c = strcmp(json_string_value(json_array_get(*(json_t *const *)a, 0)),
                   json_string_value(json_array_get(*(json_t *const *)b, 0)));
    return c;
}

static void progress_answer(struct report *rp)
{
    struct req *req = rp->req;
    size_t ncols = 2 + rp->course->nmodules + 3;
    json_t *header = json_array();

    json_array_append_new(header, json_string("name"));
    json_array_append_new(header, json_string("display"));
    for (size_t m = 0; m < rp->course->nmodules; m++)
        json_array_append_new(header, json_sprintf("%s %%", rp->course->modules[m]->id));
    json_array_append_new(header, json_string("passed"));
    json_array_append_new(header, json_string("last activity"));
    json_array_append_new(header, json_string("late"));

    sort_col = 0;
    sort_desc = false;
    if (req->args.argc > 3) {
        sort_col = -1;
        for (size_t i = 0; i < ncols; i++)
            if (strcasecmp(json_string_value(json_array_get(header, i)), req->args.argv[3]) == 0)
                sort_col = (int)i;
        if (sort_col < 0 || (req->args.argc > 4 && strcasecmp(req->args.argv[4], "desc") != 0 &&
                             strcasecmp(req->args.argv[4], "asc") != 0)) {
            req_reply(req, 400, "sort by one of the columns (name, display, MODULE %%, passed, "
                                "last activity, late), then asc or desc");
            json_decref(header);
            return;
        }
        sort_desc = req->args.argc > 4 && strcasecmp(req->args.argv[4], "desc") == 0;
    }
    size_t n = json_array_size(rp->rows);
    json_t **rows = xcalloc(n + 1, sizeof(*rows));
    for (size_t i = 0; i < n; i++)
        rows[i] = json_array_get(rp->rows, i);
    qsort(rows, n, sizeof(*rows), row_cmp);

    req->reply.kind = REPLY_TABLE;
    req->reply.rows = json_array();
    json_array_append_new(req->reply.rows, header);
    for (size_t i = 0; i < n; i++)
        json_array_append(req->reply.rows, rows[i]);
    free(rows);
    req_reply_data(req, 200, "%zu learners in cohort %s", n, rp->id);
}

/* RFC 4180, and no cell a spreadsheet would run as a formula: one that
 * starts with = + - @ TAB or CR gets a leading apostrophe (OWASP's advice). */
static void csv_cell(struct sbuf *b, const char *s, bool first)
{
    if (!first)
        sbuf_addc(b, ',');
    /* A lone "-" is Moodle's "no grade", not a formula. */
    bool formula = (s[0] == '-' && s[1] != '\0') || s[0] == '=' || s[0] == '+' || s[0] == '@' || s[0] == '\t' ||
                   s[0] == '\r';
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        sbuf_addc(b, '"');
    if (formula)
        sbuf_addc(b, '\'');
    for (; *s; s++) {
        if (*s == '"')
            sbuf_addc(b, '"');
        sbuf_addc(b, *s);
    }
    if (quote)
        sbuf_addc(b, '"');
}

static void grades_answer(struct report *rp)
{
    struct req *req = rp->req;
    struct sbuf b = {0};
    size_t n = json_array_size(rp->rows);

    /* A BOM, so that a spreadsheet reads the file as UTF-8, as Moodle writes it. */
    sbuf_adds(&b, "\xEF\xBB\xBF");
    const char *ids[] = { "First name", "Last name", "Username", "Email address" };
    for (int i = 0; i < 4; i++)
        csv_cell(&b, ids[i], i == 0);
    for (size_t e = 0; e < rp->nex; e++) {
        char *h = xasprintf("Exercise: %s (Real)", rp->ex[e]->title);
        csv_cell(&b, h, false);
        free(h);
    }
    csv_cell(&b, "Course total (Real)", false);
    csv_cell(&b, "Pass", false);
    sbuf_adds(&b, "\r\n");

    json_t **rows = xcalloc(n + 1, sizeof(*rows));
    for (size_t i = 0; i < n; i++)
        rows[i] = json_array_get(rp->rows, i);
    sort_col = 2;
    sort_desc = false;
    qsort(rows, n, sizeof(*rows), row_cmp);
    for (size_t i = 0; i < n; i++) {
        size_t k;
        json_t *v;
        json_array_foreach(rows[i], k, v)
            csv_cell(&b, json_string_value(v), k == 0);
        sbuf_adds(&b, "\r\n");
    }
    free(rows);

    char msg[96], fname[160];
    snprintf(msg, sizeof(msg), "grades of cohort %s: %zu learners", rp->id, n);
    snprintf(fname, sizeof(fname), "attachment; filename=\"cohort-%s-%s-grades.csv\"", rp->id,
             rp->course->id);
    struct evhttp_request *hr = req->origin == REQ_HTTP ? req->http : NULL;
    if (hr && req->args.argc > 3 && strcmp(req->args.argv[3], "csv") == 0) {
        /* grades.csv: the file itself, not JSON; the request is then
         * finished with no HTTP request left to answer twice. */
        struct evkeyvalq *h = evhttp_request_get_output_headers(hr);
        evhttp_add_header(h, "Content-Type", "text/csv; charset=utf-8");
        evhttp_add_header(h, "Content-Disposition", fname);
        evhttp_add_header(h, "Cache-Control", "no-store");
        struct evbuffer *out = evbuffer_new();
        evbuffer_add(out, b.data, b.len);
        evhttp_request_set_error_cb(hr, NULL);
        evhttp_send_reply(hr, 200, "OK", out);
        evbuffer_free(out);
        req->http = NULL;
        req_reply(req, 200, "%s", msg);
    } else {
        req_reply_text(req, 200, msg, "text/csv; charset=utf-8", b.data, b.len);
    }
    sbuf_free(&b);
}

static void finish(struct report *rp)
{
    if (rp->failed)
        req_store_unavailable(rp->req);
    else if (rp->grades)
        grades_answer(rp);
    else
        progress_answer(rp);
    report_free(rp);
}

static void roster_cb(redisReply *reply, const char *err, void *priv)
{
    struct report *rp = priv;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        rp->failed = true;
        finish(rp);
        return;
    }
    for (size_t i = 0; i < reply->element[0]->elements; i++)
        json_array_append_new(rp->names, json_string(reply->element[0]->element[i]->str));
    redisReply *ro = reply->element[1], *la = reply->element[2];
    for (size_t i = 0; i + 1 < ro->elements; i += 2) {
        json_t *x = json_loads(ro->element[i + 1]->str, 0, NULL);
        if (x)
            json_object_set_new(rp->roster, ro->element[i]->str, x);
    }
    for (size_t i = 0; i + 1 < la->elements; i += 2) {
        json_object_set_new(rp->late_at, la->element[i]->str,
                            json_integer(atoll(la->element[i + 1]->str)));
        char name[64];
        const char *sp = strchr(la->element[i]->str, ' ');
        if (sp == NULL || (size_t)(sp - la->element[i]->str) >= sizeof(name))
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)(sp - la->element[i]->str), la->element[i]->str);
        json_object_set_new(rp->late, name,
                            json_integer(json_integer_value(json_object_get(rp->late, name)) + 1));
    }
    for (size_t i = 0; i < json_array_size(rp->names); i++)
        json_array_append_new(rp->rows, json_array());
    if (json_array_size(rp->names) == 0)
        finish(rp);
    else
        send_page(rp);
}

/* The course of cohort id (meta its hash) in the current catalogue, *cat;
 * NULL after answering 404 when the catalogue no longer has it. */
static const struct course *report_course(struct req *req, const char *id, json_t *meta,
                                          struct catalog **cat)
{
    const char *course = json_string_value(json_object_get(meta, "course"));
    const struct course *c;

    *cat = courses_current();
    c = *cat && course ? catalog_course(*cat, course) : NULL;
    if (c == NULL)
        req_reply(req, 404, "the course of cohort %s is no longer in the catalogue", id);
    return c;
}

static void report_start(struct req *req, const char *id, json_t *meta, bool grades)
{
    struct catalog *cat;
    const struct course *c = report_course(req, id, meta, &cat);

    if (c == NULL)
        return;
    struct report *rp = xcalloc(1, sizeof(*rp));
    rp->req = req;
    rp->grades = grades;
    snprintf(rp->id, sizeof(rp->id), "%s", id);
    rp->cat = catalog_ref(cat);
    rp->course = c;
    rp->ex = xcalloc(c->nlessons + 1, sizeof(*rp->ex));
    for (size_t i = 0; i < c->nlessons; i++)
        if (c->lessons[i]->exercise && catalog_lesson_counts(c->lessons[i]))
            rp->ex[rp->nex++] = c->lessons[i];
    rp->names = json_array();
    rp->roster = json_object();
    rp->late = json_object();
    rp->late_at = json_object();
    rp->rows = json_array();
    char *k1 = key_new(KEY_COHORT_LEARNERS, id), *k2 = key_new(KEY_COHORT_ROSTER, id),
         *k3 = key_new(KEY_COHORT_LATE, id);
    const char *argv[] = { k1, k2, k3 };
    if (script_call(SCRIPT_COHORT_ROSTER, roster_cb, rp, 3, 3, argv) < 0) {
        req_store_unavailable(req);
        report_free(rp);
    }
    free(k1);
    free(k2);
    free(k3);
}

void cohort_report_progress(struct req *req, const char *id, json_t *meta)
{
    report_start(req, id, meta, false);
}

void cohort_report_grades(struct req *req, const char *id, json_t *meta)
{
    report_start(req, id, meta, true);
}

/* ---- ATTEMPTS: one learner's attempts, for the trainer's heat map ---- */

struct att {
    struct req *req;
    char id[24];
    char *learner;
    struct catalog *cat;
    const struct lesson **ex;
    size_t nex;
    json_t *late;                /* exercise -> the first late attempt's number */
};

static void att_free(struct att *at)
{
    catalog_unref(at->cat);
    free(at->ex);
    free(at->learner);
    json_decref(at->late);
    free(at);
}

static void att_rows_cb(redisReply *reply, const char *err, void *priv)
{
    struct att *at = priv;
    struct req *req = at->req;
    size_t n = 0;

    (void)err;
    if (req_store_failed(req, reply)) {
        att_free(at);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 + at->nex) {
        req_store_unavailable(req);
        att_free(at);
        return;
    }
    req_table(req, 8, "exercise", "title", "attempt", "time", "score", "result", "late", "comment");
    for (size_t e = 0; e < at->nex; e++) {
        redisReply *list = reply->element[2 + e];
        long long late_from = json_integer_value(json_object_get(at->late, at->ex[e]->full_id));
        for (size_t a = 0; list->type == REDIS_REPLY_ARRAY && a < list->elements; a++) {
            json_t *rec = json_loads(list->element[a]->str, 0, NULL);
            if (rec == NULL)
                continue;
            long long num = json_integer_value(json_object_get(rec, "n"));
            char nbuf[24], when[TIME_ISO_MAX], score[32];
            struct sbuf comments = {0};
            snprintf(nbuf, sizeof(nbuf), "%lld", num);
            iso(json_integer_value(json_object_get(rec, "t")), when);
            snprintf(score, sizeof(score), "%.1f", json_number_value(json_object_get(rec, "score")));
            attempt_comments_line(rec, &comments);
            req_row(req, 8, at->ex[e]->full_id, at->ex[e]->title, nbuf, when, score, attempt_result(rec),
                    late_from > 0 && num >= late_from ? "yes" : "no", comments.data ? comments.data : "");
            sbuf_free(&comments);
            json_decref(rec);
            n++;
        }
    }
    req_reply_data(req, 200, "%zu attempt%s of %s in cohort %s", n, n == 1 ? "" : "s", at->learner, at->id);
    att_free(at);
}

static void att_late_cb(redisReply *reply, const char *err, void *priv)
{
    struct att *at = priv;
    size_t prefix = strlen(at->learner);

    (void)err;
    if (req_store_failed(at->req, reply)) {
        att_free(at);
        return;
    }
    /* "LEARNER EXERCISE" -> number: keep this learner's. */
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
        const char *k = reply->element[i]->str;
        if (strncmp(k, at->learner, prefix) == 0 && k[prefix] == ' ')
            json_object_set_new(at->late, k + prefix + 1, json_integer(strtoll(reply->element[i + 1]->str, NULL, 10)));
    }
    size_t nk = at->nex + 2;
    char **keys = xcalloc(nk, sizeof(*keys));
    keys[0] = key_new(KEY_DONE, at->learner);
    keys[1] = key_new(KEY_PASSED, at->learner);
    for (size_t e = 0; e < at->nex; e++)
        keys[2 + e] = key_new(KEY_ATTEMPTS, at->learner, at->ex[e]->full_id);
    int rc = script_call(SCRIPT_COHORT_LEARNER, att_rows_cb, at, (int)nk, (int)nk, (const char *const *)keys);
    for (size_t k = 0; k < nk; k++)
        free(keys[k]);
    free(keys);
    if (rc < 0) {
        req_store_unavailable(at->req);
        att_free(at);
    }
}

static void att_member_cb(redisReply *reply, const char *err, void *priv)
{
    struct att *at = priv;

    (void)err;
    if (req_store_failed(at->req, reply)) {
        att_free(at);
        return;
    }
    if (reply->type == REDIS_REPLY_NIL) {
        req_reply(at->req, 404, "no learner '%s' in cohort %s", at->learner, at->id);
        att_free(at);
        return;
    }
    char *k = key_new(KEY_COHORT_LATE, at->id);
    if (store_command(att_late_cb, at, "HGETALL %s", k) < 0) {
        req_store_unavailable(at->req);
        att_free(at);
    }
    free(k);
}

void cohort_report_attempts(struct req *req, const char *id, json_t *meta, const char *learner)
{
    struct catalog *cat;
    const struct course *c = report_course(req, id, meta, &cat);

    if (c == NULL)
        return;
    struct att *at = xcalloc(1, sizeof(*at));
    at->req = req;
    snprintf(at->id, sizeof(at->id), "%s", id);
    at->learner = xstrdup(learner);
    at->cat = catalog_ref(cat);
    at->late = json_object();
    at->ex = xcalloc(c->nlessons + 1, sizeof(*at->ex));
    for (size_t i = 0; i < c->nlessons; i++)
        if (c->lessons[i]->exercise)
            at->ex[at->nex++] = c->lessons[i];
    char *k = key_new(KEY_COHORT_LEARNERS, id);
    if (store_command(att_member_cb, at, "ZSCORE %s %s", k, learner) < 0) {
        req_store_unavailable(req);
        att_free(at);
    }
    free(k);
}
