/* cmd-content.c: reading the catalogue: COURSES, COURSE, READ, SEARCH and
 * the matching HTTP routes. Everything here is answered from memory. */
#include "campusd.h"
#include "cohort.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <stdint.h>
#include <signal.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "answer-file.h"
#include "catalog.h"
#include "keys.h"
#include "markdown_view.h"
#include "search.h"

#define SEARCH_MAX_RESULTS 20

/* The live catalogue, or an answer saying there is none. */
static struct catalog *need_catalog(struct req *req)
{
    struct catalog *cat = courses_current();
    if (cat == NULL)
        req_reply(req, 503, "no courses loaded");
    return cat;
}

/* The ids of v joined by commas, or "-" when there are none. Caller frees. */
static char *join_ids(char *const *v, size_t n)
{
    struct sbuf b = {0};

    for (size_t i = 0; i < n; i++) {
        if (i)
            sbuf_addc(&b, ',');
        sbuf_adds(&b, v[i]);
    }
    return b.data ? sbuf_take(&b) : xstrdup("-");
}

/* Where course id stands in the programmes: "PROGRAMME:N/M" for each that
 * lists it, comma-separated, or "-". Caller frees. */
static char *course_programmes(const struct catalog *cat, const char *id)
{
    struct sbuf b = {0};

    for (size_t i = 0; i < cat->nprogrammes; i++) {
        const struct programme *p = &cat->programmes[i];
        for (size_t j = 0; j < p->ncourses; j++)
            if (strcmp(p->courses[j], id) == 0)
                sbuf_printf(&b, "%s%s:%zu/%zu", b.len ? "," : "", p->id, j + 1, p->ncourses);
    }
    return b.data ? sbuf_take(&b) : xstrdup("-");
}

static void cmd_courses(struct req *req)
{
    struct catalog *cat = need_catalog(req);
    char modules[16], lessons[16], minutes[16];

    if (cat == NULL)
        return;
    req_table(req, 7, "id", "title", "modules", "lessons", "minutes", "prerequisites",
              "programmes");
    for (size_t i = 0; i < cat->ncourses; i++) {
        const struct course *c = cat->courses[i];
        struct lang_pick lp;
        i18n_pick(req, c, &lp);
        const struct text_variant *tv = catalog_course_text(c, lp.lang);
        snprintf(modules, sizeof(modules), "%zu", c->nmodules);
        snprintf(lessons, sizeof(lessons), "%zu", c->nlessons);
        snprintf(minutes, sizeof(minutes), "%d", c->minutes);
        char *pre = join_ids(c->prerequisites, c->nprerequisites);
        char *prog = course_programmes(cat, c->id);
        req_row(req, 7, c->id, tv ? tv->title : c->title, modules, lessons, minutes, pre, prog);
        free(pre);
        free(prog);
    }
    /* The programmes in full, for JSON readers: id, title, summary, courses. */
    json_t *progs = json_array();
    for (size_t i = 0; i < cat->nprogrammes; i++) {
        const struct programme *p = &cat->programmes[i];
        json_t *ids = json_array();
        for (size_t j = 0; j < p->ncourses; j++)
            json_array_append_new(ids, json_string(p->courses[j]));
        json_array_append_new(progs, json_pack("{s:s,s:s,s:s,s:o}", "id", p->id, "title",
                                               p->title, "summary", p->summary, "courses", ids));
    }
    if (req->reply.meta == NULL)
        req->reply.meta = json_object();
    json_object_set_new(req->reply.meta, "programmes", progs);
    req_reply_data(req, 200, "%zu courses, %zu programmes", cat->ncourses, cat->nprogrammes);
}

/* PROGRAMMES: the suggested routes, one row per course in its place. */
static void cmd_programmes(struct req *req)
{
    struct catalog *cat = need_catalog(req);
    char pos[24];

    if (cat == NULL)
        return;
    req_table(req, 5, "programme", "title", "step", "course", "course_title");
    for (size_t i = 0; i < cat->nprogrammes; i++) {
        const struct programme *p = &cat->programmes[i];
        for (size_t j = 0; j < p->ncourses; j++) {
            const struct course *c = catalog_course(cat, p->courses[j]);
            snprintf(pos, sizeof(pos), "%zu", j + 1);
            /* The course by its title in the reader's language, as COURSES
             * names it; programmes.yaml has one language. */
            const struct text_variant *ctv = NULL;
            if (c) {
                struct lang_pick lp;
                i18n_pick(req, c, &lp);
                ctv = catalog_course_text(c, lp.lang);
            }
            req_row(req, 5, p->id, p->title, pos, p->courses[j],
                    ctv ? ctv->title : c ? c->title : "");
        }
    }
    i18n_vary(req);
    req_reply_data(req, 200, "%zu programmes", cat->nprogrammes);
}

/* True when the HKEYS reply r holds id (or, for passed exercises, "id#N"). */
static bool reply_has(const redisReply *r, const char *id)
{
    size_t n = strlen(id);

    for (size_t k = 0; r && k < r->elements; k++) {
        const char *f = r->element[k]->str;
        if (f && strncmp(f, id, n) == 0 && (f[n] == '\0' || f[n] == '#'))
            return true;
    }
    return false;
}

/* The outline; with done, a learner's completed lessons (a Redis HKEYS
 * reply, or NULL for anyone else) add a "done" column: "passed" for a quiz
 * or case whose exercise the learner passed (passed, the HKEYS of their
 * passed exercises), "yes" for a lesson marked done, else "no". */
static void course_outline(struct req *req, const struct course *c, const redisReply *done,
                           const redisReply *passed)
{
    char minutes[16];
    struct lang_pick lp;

    i18n_pick(req, c, &lp);
    const struct text_variant *ctv = catalog_course_text(c, lp.lang);
    bool trainer = req->role >= ROLE_TRAINER;

    if (done)
        req_table(req, 7, "module", "lesson", "title", "minutes", "kind", "prerequisites", "done");
    else
        req_table(req, 6, "module", "lesson", "title", "minutes", "kind", "prerequisites");
    for (size_t m = 0; m < c->nmodules; m++) {
        const struct module *mod = c->modules[m];
        /* Learner lessons and, for trainers, trainer-only ones, by number. */
        const struct text_variant *mtv = catalog_module_text(mod, lp.lang);
        const char *mtitle = mtv ? mtv->title : mod->title;
        size_t i = 0, t = 0;
        while (i < mod->nlessons || (trainer && t < mod->ntrainer_lessons)) {
            const struct lesson *l;
            if (trainer && t < mod->ntrainer_lessons &&
                (i == mod->nlessons || mod->trainer_lessons[t]->number < mod->lessons[i]->number))
                l = mod->trainer_lessons[t++];
            else
                l = mod->lessons[i++];
            const char *title = catalog_lesson_lang(l, lp.lang)->title;
            const char *kind = l->trainer ? "trainer" : l->pretest ? "pretest"
                             : l->is_case ? "case" : l->nexercises ? "quiz" : "lesson";
            snprintf(minutes, sizeof(minutes), "%d", l->minutes);
            char *pre = join_ids(l->prerequisites, l->nprerequisites);
            if (done == NULL) {
                req_row(req, 6, mtitle, l->full_id, title, minutes, kind, pre);
            } else {
                const char *mark = reply_has(passed, l->full_id) ? "passed"
                                 : reply_has(done, l->full_id) ? "yes" : "no";
                req_row(req, 7, mtitle, l->full_id, title, minutes, kind, pre, mark);
            }
            free(pre);
        }
    }
    char msg[REPLY_MSG_MAX];
    snprintf(msg, sizeof(msg), "%s", ctv ? ctv->title : c->title);
    if (c->nprerequisites) {
        char *pre = join_ids(c->prerequisites, c->nprerequisites);
        req_meta(req, "prerequisites", pre);
        if (req->origin == REQ_CTP)
            snprintf(msg, sizeof(msg), "%s (builds on %s)", ctv ? ctv->title : c->title, pre);
        free(pre);
    }
    i18n_meta(req, &lp, msg, sizeof(msg));
    req_reply_data(req, 200, "%s", msg);
}

struct course_op {
    struct req *req;
    struct catalog *cat;         /* held: a reload may happen meanwhile */
    const struct course *course;
    redisReply *done, *passed;   /* taken from hiredis (see course_keep) */
    int pending;
    bool failed;
};

/* hiredis frees a reply after its callback: keep a copy of the keys. */
static redisReply *course_keep(redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    redisReply *c = xcalloc(1, sizeof(*c));
    c->type = REDIS_REPLY_ARRAY;
    c->elements = r->elements;
    c->element = xcalloc(r->elements + 1, sizeof(*c->element));
    for (size_t i = 0; i < r->elements; i++) {
        c->element[i] = xcalloc(1, sizeof(**c->element));
        c->element[i]->type = REDIS_REPLY_STRING;
        c->element[i]->str = xstrdup(r->element[i]->str ? r->element[i]->str : "");
    }
    return c;
}

static void course_drop(redisReply *c)
{
    for (size_t i = 0; c && i < c->elements; i++) {
        free(c->element[i]->str);
        free(c->element[i]);
    }
    if (c)
        free(c->element);
    free(c);
}

static void course_reply(struct course_op *op, redisReply **slot, redisReply *reply)
{
    if ((*slot = course_keep(reply)) == NULL)
        op->failed = true;
    if (--op->pending > 0)
        return;
    /* Without the store the outline is still worth having, unmarked. */
    course_outline(op->req, op->course, op->failed ? NULL : op->done,
                   op->failed ? NULL : op->passed);
    course_drop(op->done);
    course_drop(op->passed);
    catalog_unref(op->cat);
    free(op);
}

static void course_done_cb(redisReply *reply, const char *err, void *priv)
{
    struct course_op *op = priv;
    course_reply(op, &op->done, reply);
}

static void course_passed_cb(redisReply *reply, const char *err, void *priv)
{
    struct course_op *op = priv;
    course_reply(op, &op->passed, reply);
}

static void cmd_course(struct req *req)
{
    if (cohort_gate_outline(req, cmd_course))
        return;
    struct catalog *cat = need_catalog(req);
    const char *id = req->args.argv[1];

    if (cat == NULL)
        return;
    if (!id_valid_n(id, req->args.argl[1])) {
        req_reply(req, 400, "bad course id (use a-z, 0-9 and -)");
        return;
    }
    const struct course *c = catalog_course(cat, id);
    if (c == NULL) {
        req_reply(req, 404, "no course '%s'", id);
        return;
    }
    if (req->user && req->role >= ROLE_LEARNER && store_state() == STORE_UP) {
        struct course_op *op = xcalloc(1, sizeof(*op));
        op->req = req;
        op->cat = catalog_ref(cat);
        op->course = c;
        op->pending = 2;
        char kd[KEY_MAX], kp[KEY_MAX];
        const char *dargv[] = { "HKEYS", kd }, *pargv[] = { "HKEYS", kp };
        if (key_fmt(kd, sizeof(kd), KEY_DONE, req->user) == 0 &&
            key_fmt(kp, sizeof(kp), KEY_PASSED, req->user) == 0 &&
            store_command_argv(course_done_cb, op, 2, dargv, NULL) == 0) {
            if (store_command_argv(course_passed_cb, op, 2, pargv, NULL) < 0) {
                op->failed = true;           /* the first answers, unmarked */
                op->pending = 1;
            }
            return;
        }
        catalog_unref(op->cat);
        free(op);
    }
    course_outline(req, c, NULL, NULL);
}

/* Checks argument i as "course/lesson" over its full length. Answers 400
 * and returns false when malformed. */
static bool lesson_id_ok(struct req *req, int i)
{
    if (!arg_lesson_id_valid(req->args.argv[i], req->args.argl[i])) {
        req_reply(req, 400, "bad lesson id (use course/lesson, a-z, 0-9 and - on each side of /)");
        return false;
    }
    return true;
}

/* ---- the answers of READ, rendered once per catalogue ----
 *
 * A lesson's JSON answer changes only when the catalogue does, and escaping
 * a few KiB of HTML into JSON on every request is most of the cost of
 * serving it. So each (lesson, format) answer at the default width is
 * rendered once and kept until the next reload: the JSON (and its HTTP
 * forms) when HTTP first asks, the whole CTP/1 answer, status line, body
 * and CRLF in one buffer, when CTP/1 first asks, so that a CTP/1 READ is
 * one reference added to the output, with no formatting at all. Bytes may
 * still sit in an output buffer after a reload: each entry counts those
 * references and is freed when the last one is released and its
 * generation is over. The cache is a worker's own (workers are processes).
 *
 * The text at another width (a terminal's READ sends its own) and the
 * exercise view are kept too, until READ_CACHE_VIEW_BYTES of them are:
 * the catalogue keeps no parse trees, so each of those renderings parses
 * the lesson again (lesson_tree), and a room reading one lesson at the
 * same few widths should not parse it once a reader. */

#define READ_CACHE_BUCKETS 1024
#define READ_CACHE_VIEW_BYTES ((size_t)16 * 1024 * 1024)

struct read_cached {
    const struct lesson *lesson;
    char format[16];
    int width;                   /* CATALOG_TEXT_WIDTH, or a text's or exercise view's own */
    char *json;                  /* the HTTP answer's JSON (NULL until HTTP asks) */
    size_t len;
    struct answer_bytes ctp;     /* the whole CTP/1 answer (data NULL until CTP/1 asks) */
    char *gz;                    /* json gzipped, made with it (NULL: no smaller) */
    size_t gzlen;
    char *http;                  /* the whole HTTP answer, made at the first fast request */
    size_t http_len, http_split; /* the Date line goes in at http_split */
    char *http_gz;               /* the same with the gzip body (NULL until asked) */
    size_t http_gz_len, http_gz_split;
    int refs;                    /* output buffers holding json, gz or an HTTP answer */
    bool retired;                /* its catalogue was replaced */
    struct read_cached *next;
};

static struct {
    uint64_t generation;         /* the catalogue's the entries belong to (0: none) */
    struct read_cached *buckets[READ_CACHE_BUCKETS];
    size_t view_bytes;           /* held by entries of another width than the default */
} read_cache;

static void read_cached_free(struct read_cached *e)
{
    free(e->json);
    if (e->ctp.data)
        answer_bytes_drop(&e->ctp);
    free(e->gz);
    free(e->http);
    free(e->http_gz);
    free(e);
}

static void read_cached_release(const void *data, size_t len, void *arg)
{
    struct read_cached *e = arg;

    if (--e->refs == 0 && e->retired)
        read_cached_free(e);
}

/* Drops every entry when the live catalogue is not the one they came from
 * (cat NULL: drops them all). */
static void read_cache_check_generation(const struct catalog *cat)
{
    uint64_t g = cat ? cat->generation : 0;

    if (read_cache.generation == g && g != 0)
        return;
    for (size_t i = 0; i < READ_CACHE_BUCKETS; i++) {
        struct read_cached *e = read_cache.buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->retired = true;
            if (e->refs == 0)
                read_cached_free(e);
        }
        read_cache.buckets[i] = NULL;
    }
    read_cache.view_bytes = 0;
    read_cache.generation = g;
    answer_files_rotate();       /* the old answers' files go with them */
}

static struct read_cached **read_cache_slot(const struct lesson *l, const char *format, int width)
{
    size_t h = (((uintptr_t)l >> 4) * 31 + (unsigned char)format[0] + (size_t)width * 7) %
               READ_CACHE_BUCKETS;
    struct read_cached **pp = &read_cache.buckets[h];

    while (*pp && ((*pp)->lesson != l || (*pp)->width != width ||
                   strcmp((*pp)->format, format) != 0))
        pp = &(*pp)->next;
    return pp;
}

/* Counts what an entry of another width than the default now holds. */
static void read_cache_count(const struct read_cached *e, size_t bytes)
{
    if (e->width != CATALOG_TEXT_WIDTH)
        read_cache.view_bytes += bytes;
}

/* Sends a cached answer by reference: its gzip form when the client takes
 * it, so a lesson is compressed once per catalogue, never per request. */
static void read_cached_send(struct req *req, struct read_cached *e)
{
    e->refs++;
    if (e->gz && req->http && http_gzip_accepted(req->http))
        req_reply_json_ref_gzip(req, 200, e->gz, e->gzlen, read_cached_release, e);
    else
        req_reply_json_ref(req, 200, e->json, e->len, read_cached_release, e);
}

static void read_cached_send_ctp(struct req *req, struct read_cached *e)
{
    e->refs++;
    req_reply_wire_ref(req, 200, e->ctp.data, e->ctp.len, answer_bytes_segment(&e->ctp),
                       read_cached_release, e);
}

void read_cache_free(void)
{
    read_cache_check_generation(NULL);
}

/* The bytes evhttp would send for a 200 READ answer, headers in the order
 * the long way adds them (i18n_vary, api_req_done, api_common_headers;
 * evhttp adds Date and Content-Length last), as one buffer: everything
 * before the Date line, then Content-Length, the blank line and the body.
 * The Date line goes in between at send time. gz: the gzip form, under
 * its own tag. tests/integration/test_http_fast.py holds the two ways to
 * the same bytes. */
static void read_cached_make_http(struct read_cached *e, bool gz)
{
    struct sbuf b = {0};
    char tag[96], gztag[100];

    snprintf(tag, sizeof(tag), "\"%s\"", e->lesson->version);
    http_gzip_etag(tag, gztag, sizeof(gztag));
    sbuf_printf(&b, "HTTP/1.1 200 OK\r\n");
    sbuf_printf(&b, "Vary: Accept-Encoding, Accept-Language\r\n");
    sbuf_printf(&b, "ETag: %s\r\n", gz ? gztag : tag);
    if (gz)
        sbuf_printf(&b, "Content-Encoding: gzip\r\n");
    sbuf_printf(&b, "X-Content-Type-Options: nosniff\r\n");
    sbuf_printf(&b, "Content-Type: application/json; charset=utf-8\r\n");
    sbuf_printf(&b, "Cache-Control: no-cache\r\n");
    size_t split = b.len;
    sbuf_printf(&b, "Content-Length: %zu\r\n\r\n", gz ? e->gzlen : e->len);
    sbuf_add(&b, gz ? e->gz : e->json, gz ? e->gzlen : e->len);
    if (gz) {
        e->http_gz_split = split;
        e->http_gz_len = b.len;
        e->http_gz = b.data;
    } else {
        e->http_split = split;
        e->http_len = b.len;
        e->http = b.data;
    }
}

bool read_fast_answer(const char *id, const char *format, const char *accept_language,
                      bool gzip, struct read_fast *out)
{
    struct catalog *cat = courses_current();
    char f[8];

    if (cat == NULL || strlen(format) >= sizeof(f) || !arg_lesson_id_valid(id, strlen(id)))
        return false;
    const struct lesson *item = catalog_lesson(cat, id);
    if (item == NULL)
        return false;
    /* The language as i18n_pick and i18n_lesson choose it for a caller
     * with neither lang= nor an account; a fallback goes the long way. */
    const struct course *c = item->course;
    const char *lang = c->language;
    if (accept_language && c->nlanguages) {
        int k = lang_accept(accept_language, (const char *const *)c->languages, c->nlanguages, -1);
        if (k >= 0)
            lang = c->languages[k];
    }
    const struct lesson *l = catalog_lesson_lang(item, lang);
    if (lang && strcasecmp(l->lang, lang) != 0)
        return false;
    for (size_t i = 0; i < sizeof(f); i++)
        if ((f[i] = (char)tolower((unsigned char)format[i])) == '\0')
            break;
    read_cache_check_generation(cat);
    struct read_cached *e = *read_cache_slot(l, f, CATALOG_TEXT_WIDTH);
    if (e == NULL || e->json == NULL)
        return false;            /* the first READ goes the long way and renders it */
    bool gz = gzip && e->gz;
    if ((gz ? e->http_gz : e->http) == NULL)
        read_cached_make_http(e, gz);
    e->refs++;
    out->data = gz ? e->http_gz : e->http;
    out->len = gz ? e->http_gz_len : e->http_len;
    out->split = gz ? e->http_gz_split : e->http_split;
    out->gzip = gz;
    out->arg = e;
    return true;
}

void read_fast_release(const void *data, size_t len, void *arg)
{
    read_cached_release(data, len, arg);
}


/* ---- prerequisites: a notice, never a lock ----
 *
 * A logged-in learner's READ of a lesson with prerequisites first asks
 * Redis which of them are done (HMGET on the done hash), then runs READ
 * again with req->prereq_missing set. Without the store the lesson is
 * served without the notice: a notice is not worth a 503. */

struct prereq_op {
    struct req *req;
    struct catalog *cat;         /* held while Redis answers */
    const struct lesson *lesson;
};

static void cmd_read(struct req *req);

/* A CTP/1 READ body sent from the catalogue's memory is written (or its
 * connection gone): the catalogue may go. */
static void read_body_release(const void *data, size_t len, void *arg)
{
    catalog_unref(arg);
}

static void prereq_cb(redisReply *reply, const char *err, void *priv)
{
    struct prereq_op *op = priv;
    struct sbuf b = {0};

    if (reply && reply->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < reply->elements && i < op->lesson->nprerequisites; i++)
            if (reply->element[i]->type == REDIS_REPLY_NIL) {
                if (b.len)
                    sbuf_addc(&b, ',');
                sbuf_adds(&b, op->lesson->prerequisites[i]);
            }
    op->req->prereq_missing = b.data ? sbuf_take(&b) : NULL;
    catalog_unref(op->cat);
    struct req *req = op->req;
    free(op);
    cmd_read(req);
}

/* Starts the look-up for a learner's READ; true when it is under way (the
 * request is then answered from prereq_cb). */
static bool prereq_lookup(struct req *req, struct catalog *cat, const struct lesson *l)
{
    if (req->prereq_checked || l->nprerequisites == 0 || req->user == NULL ||
        req->role != ROLE_LEARNER || store_state() != STORE_UP)
        return false;
    req->prereq_checked = true;
    char k[KEY_MAX];
    if (key_fmt(k, sizeof(k), KEY_DONE, req->user) < 0)
        return false;
    size_t argc = 2 + l->nprerequisites;
    const char **argv = xcalloc(argc, sizeof(*argv));
    argv[0] = "HMGET";
    argv[1] = k;
    for (size_t i = 0; i < l->nprerequisites; i++)
        argv[2 + i] = l->prerequisites[i];
    struct prereq_op *op = xcalloc(1, sizeof(*op));
    op->req = req;
    op->cat = catalog_ref(cat);
    op->lesson = l;
    int rc = store_command_argv(prereq_cb, op, (int)argc, argv, NULL);
    free(argv);
    if (rc < 0) {
        catalog_unref(op->cat);
        free(op);
        return false;
    }
    return true;
}

/* READ course/lesson [text|md|html|exercise] [width]
 *
 * A trainer or an admin reads the trainer rendering (trainer blocks
 * shown, trainer-only lessons found); anyone else the learner rendering,
 * from which they are absent, under an ETag of its own. */
static void cmd_read(struct req *req)
{
    if (cohort_gate(req, COHORT_GATE_READ, cmd_read))
        return;
    struct catalog *cat = need_catalog(req);
    const char *id = req->args.argv[1];
    const char *format = req->args.argc > 2 ? req->args.argv[2] : "text";
    int width = CATALOG_TEXT_WIDTH;
    bool trainer = req->role >= ROLE_TRAINER;

    if (cat == NULL || !lesson_id_ok(req, 1))
        return;
    if (req->args.argc > 3) {
        long long w;
        if (!req_arg_number(req, 3, "width", CATALOG_TEXT_WIDTH_MIN, CATALOG_TEXT_WIDTH_MAX, &w))
            return;
        width = (int)w;
    }
    const struct lesson *item = trainer ? catalog_lesson_any(cat, id) : catalog_lesson(cat, id);
    if (item == NULL && req->session == REQ_SESSION_UNKNOWN && catalog_lesson_any(cat, id)) {
        /* A trainer-only lesson, for a caller whose session the store could
         * not check: a 404 would tell a trainer something false. */
        req_store_unavailable(req);
        return;
    }
    if (item == NULL) {
        req_reply(req, 404, "no lesson '%s'", id);
        return;
    }
    if (prereq_lookup(req, cat, item))
        return;
    /* item is what progress counts; l is the text in the learner's
     * language, with its own version (ETag) and renderings. */
    struct lang_pick lp;
    i18n_pick(req, item->course, &lp);
    const struct lesson *l = i18n_lesson(item, &lp);
    const struct text_variant *mtv = catalog_module_text(item->module, l->lang);
    i18n_vary(req);
    /* The trainer rendering differs only when the lesson has trainer blocks. */
    bool tview = trainer && catalog_lesson_has_trainer_view(l);
    char etag[80] = "";
    if (req->origin == REQ_HTTP)
        snprintf(etag, sizeof(etag), "%s%s", tview ? "t-" : "", tview ? l->trainer_version : l->version);

    struct read_cached **slot = NULL;
    char f[16];                  /* the format in lower case: the cache's key */
    int kw = CATALOG_TEXT_WIDTH; /* the width in the key: only text and exercise views have one */
    /* A fallback's answer names what was asked, and a prerequisite's
     * notice depends on who asks: neither is one to share. */
    if (strlen(format) < sizeof(f) && !tview && item->nprerequisites == 0 &&
        item->course->nprerequisites == 0 && !lp.fallback) {
        size_t i = 0;
        for (; format[i]; i++)
            f[i] = (char)tolower((unsigned char)format[i]);
        f[i] = '\0';
        if (strcmp(f, "text") == 0 || strcmp(f, "exercise") == 0)
            kw = width;
        read_cache_check_generation(cat);
        slot = read_cache_slot(l, f, kw);
        if (*slot == NULL && kw != CATALOG_TEXT_WIDTH &&
            read_cache.view_bytes >= READ_CACHE_VIEW_BYTES)
            slot = NULL;        /* full: rendered for this request alone */
        struct read_cached *e = slot ? *slot : NULL;
        if (e && req->origin == REQ_CTP && e->ctp.data) {
            progress_viewed(req, item);
            read_cached_send_ctp(req, e);
            return;
        }
        if (e && req->origin == REQ_HTTP && e->json) {
            progress_viewed(req, item);
            req_etag(req, etag);
            read_cached_send(req, e);
            return;
        }
    }

    char *owned = NULL;
    const char *body, *type;
    size_t len = 0;             /* of a rendering the catalogue holds; else strlen */
    bool in_exercise = strcasecmp(format, "exercise") == 0;
    if (strcasecmp(format, "text") == 0 || in_exercise) {
        const char *pre = tview ? l->trainer_text : l->text;
        if (width == CATALOG_TEXT_WIDTH && !in_exercise) {
            body = pre;
            len = tview ? l->trainer_text_len : l->text_len;
        } else {
            struct text_view v = {.width = width, .trainer = tview, .in_exercise = in_exercise};
            body = owned = catalog_lesson_text_view(l, &v);
        }
        type = "text/plain; charset=utf-8";
    } else if (strcasecmp(format, "html") == 0) {
        body = tview ? l->trainer_html : l->html;
        len = tview ? l->trainer_html_len : l->html_len;
        type = "text/html; charset=utf-8";
    } else if (strcasecmp(format, "md") == 0) {
        char placeholder[200];
        snprintf(placeholder, sizeof(placeholder), "*Exercise: use EXERCISE %s*", l->full_id);
        /* A learner's md comes from the file less its trainer blocks' lines
         * (as the parser found them), then loses its exercise blocks. */
        body = owned = trainer ? markdown_trainer_view(l->markdown, l->markdown_len, placeholder)
                     : l->learner_markdown
                         ? markdown_learner_view(l->learner_markdown, l->learner_markdown_len,
                                                 placeholder)
                         : markdown_learner_view(l->markdown, l->markdown_len, placeholder);
        type = "text/markdown; charset=utf-8";
    } else {
        req_reply(req, 400, "format must be text, md, html or exercise");
        return;
    }

    /* The facts go to JSON only: CTP/1 has them in its status text, and
     * building these JSON values per READ was about a quarter of its CPU
     * time there. */
    if (req->origin == REQ_HTTP) {
        req_meta(req, "id", l->full_id);
        req_meta(req, "title", l->title);
        req_meta(req, "course", l->course->id);
        req_meta(req, "module", mtv ? mtv->title : l->module->title);
        req_meta_int(req, "minutes", l->minutes);
        req_meta(req, "version", tview ? l->trainer_version : l->version);
        req_meta(req, "prev", item->prev_id);
        req_meta(req, "next", item->next_id);
        req_meta(req, "format", format);
        if (l->trainer)
            req_meta(req, "kind", "trainer");
        else if (l->pretest)
            req_meta(req, "kind", "pretest");
    }
    char *pre = item->nprerequisites ? join_ids(item->prerequisites, item->nprerequisites) : NULL;
    char *cpre = l->course->nprerequisites
                     ? join_ids(l->course->prerequisites, l->course->nprerequisites) : NULL;
    if (pre)
        req_meta(req, "prerequisites", pre);
    if (cpre)
        req_meta(req, "course_prerequisites", cpre);
    char notice[REPLY_MSG_MAX] = "";
    if (req->prereq_missing)
        snprintf(notice, sizeof(notice), "this lesson builds on %s, not done yet",
                 req->prereq_missing);
    else if (cpre && !req->prereq_checked)
        snprintf(notice, sizeof(notice), "this course builds on %s", cpre);
    if (notice[0])
        req_meta(req, "notice", notice);
    req_etag(req, etag);
    progress_viewed(req, item); /* a learner's view is recorded; never waited for */
    char msg[256];
    snprintf(msg, sizeof(msg), "%s version=%.16s prev=%s next=%s%s%s", l->full_id,
             tview ? l->trainer_version : l->version, item->prev_id ? item->prev_id : "-",
             item->next_id ? item->next_id : "-", req->prereq_missing ? " missing=" : "",
             req->prereq_missing ? req->prereq_missing : "");
    i18n_meta(req, &lp, msg, sizeof(msg));
    free(pre);
    free(cpre);
    if (slot) {
        /* Render the answer once; this and later requests send it. */
        struct read_cached *e = *slot;
        if (e == NULL) {
            e = xcalloc(1, sizeof(*e));
            e->lesson = l;
            snprintf(e->format, sizeof(e->format), "%s", f);
            e->width = kw;
            *slot = e;
        }
        if (req->origin == REQ_CTP) {
            size_t n;
            char *wire = reply_ctp_answer(200, msg, body, len ? len : strlen(body), &n);
            answer_bytes_make(&e->ctp, wire, n);
            read_cache_count(e, n);
            free(wire);
            free(owned);
            read_cached_send_ctp(req, e);
            return;
        }
        snprintf(req->reply.msg, sizeof(req->reply.msg), "%s", msg);
        req->reply.kind = REPLY_TEXT;
        req->reply.body = evbuffer_new();
        evbuffer_add(req->reply.body, body, strlen(body));
        req->reply.code = 200;
        e->json = reply_render_json(&req->reply, &e->len);
        e->gz = http_gzip(e->json, e->len, 9, &e->gzlen);
        if (e->gzlen >= e->len) {
            free(e->gz);
            e->gz = NULL;
        }
        read_cache_count(e, e->len + (e->gz ? e->gzlen : 0));
        free(owned);
        read_cached_send(req, e);
        return;
    }
    if (owned == NULL && req->origin == REQ_CTP) {
        /* The rendering the catalogue holds goes out from there, by
         * reference, with the catalogue held until it is written: a
         * reload in between frees nothing under it. */
        req_reply_ref(req, 200, msg, type, body, len, read_body_release, catalog_ref(cat));
        return;
    }
    req_reply_text(req, 200, msg, type, body, strlen(body));
    free(owned);
}

/* The language SEARCH looks in first: lang=, the account's LANG, else the
 * Accept-Language range that names one of the catalogue's languages; ""
 * when none (every language is searched). */
static void search_lang(struct req *req, const struct catalog *cat, char out[LANG_TAG_MAX])
{
    const char *want = req->lang_arg[0] ? req->lang_arg
                     : req->lang_account[0] ? req->lang_account : NULL;

    out[0] = '\0';
    if (want) {
        snprintf(out, LANG_TAG_MAX, "%s", want);
        return;
    }
    if (req->accept_language == NULL)
        return;
    const char **all = NULL;
    size_t n = 0;
    for (size_t i = 0; i < cat->ncourses; i++)
        for (size_t k = 0; k < cat->courses[i]->nlanguages; k++) {
            all = xrealloc(all, (n + 1) * sizeof(*all));
            all[n++] = cat->courses[i]->languages[k];
        }
    int k = lang_accept(req->accept_language, all, n, -1);
    if (k >= 0)
        snprintf(out, LANG_TAG_MAX, "%s", all[k]);
    free(all);
}

/* FILE course: the course's files (name, type, bytes, version, lang), each
 * in the learner's language where the file has it.
 * FILE course/name: one file, as it is, with its content type: NAME.EXT in
 * the learner's language (the order READ picks a lesson's in, falling back
 * to the default's), NAME.LL.EXT that variant itself. */
static void cmd_file(struct req *req)
{
    struct catalog *cat = need_catalog(req);
    const char *arg = req->args.argv[1];
    size_t alen = req->args.argl[1];
    char size[24];

    if (cat == NULL)
        return;
    const char *slash = memchr(arg, '/', alen);
    char course[ID_MAX + 1];
    size_t clen = slash ? (size_t)(slash - arg) : alen;
    if (clen > ID_MAX || !id_valid_n(arg, clen)) {
        req_reply(req, 400, "bad course id (use a-z, 0-9 and -)");
        return;
    }
    memcpy(course, arg, clen);
    course[clen] = '\0';
    const struct course *c = catalog_course(cat, course);
    if (c == NULL) {
        req_reply(req, 404, "no course '%s'", course);
        return;
    }
    struct lang_pick lp;
    char msg[REPLY_MSG_MAX];
    i18n_pick(req, c, &lp);
    i18n_vary(req);
    if (slash == NULL) {
        /* The listing is in the language picked; a file missing in it is
         * listed in the default's, its lang column says so. */
        req_table(req, 5, "file", "type", "bytes", "version", "lang");
        for (size_t i = 0; i < c->nfiles; i++) {
            const struct course_file *f = catalog_file_lang(&c->files[i], lp.lang);
            snprintf(size, sizeof(size), "%zu", f->len);
            req_row(req, 5, c->files[i].name, f->content_type, size, f->version,
                    f->lang[0] ? f->lang : "-");
        }
        snprintf(msg, sizeof(msg), "%zu files", c->nfiles);
        i18n_meta(req, &lp, msg, sizeof(msg));
        req_reply_data(req, 200, "%s", msg);
        return;
    }
    const char *name = slash + 1;
    size_t nlen = alen - clen - 1;
    if (nlen == 0 || nlen > 2 * ID_MAX + 1 || memchr(name, '\0', nlen) ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != nlen) {
        req_reply(req, 400, "bad file name (use name.ext: a-z, 0-9, - and one .)");
        return;
    }
    const struct course_file *f = catalog_file(c, name);
    if (f == NULL) {
        req_reply(req, 404, "no file '%s' in course '%s'", name, c->id);
        return;
    }
    if (f >= c->files && f < c->files + c->nfiles) {
        /* NAME.EXT: the learner's language. A variant asked for by its own
         * name is served as it is, whatever the learner reads in. */
        const struct course_file *v = catalog_file_lang(f, lp.lang);
        if (strcasecmp(v->lang, lp.lang) != 0) {
            /* The course has the language, this file does not (yet). */
            if (lp.asked[0] == '\0')
                snprintf(lp.asked, sizeof(lp.asked), "%s", lp.lang);
            lp.fallback = true;
            lp.lang = v->lang;
        }
        f = v;
    } else {
        lp.lang = f->lang;
        lp.fallback = false;
    }
    snprintf(msg, sizeof(msg), "%s/%s type=%s version=%.16s", c->id, f->name, f->content_type,
             f->version);
    i18n_meta(req, &lp, msg, sizeof(msg));
    req_meta(req, "course", c->id);
    req_meta(req, "file", f->name);
    req_meta(req, "type", f->content_type);
    req_meta(req, "version", f->version);
    req_etag(req, f->version);
    if (req->origin == REQ_HTTP)
        req->reply.raw = true;
    req_reply_text(req, 200, msg, f->content_type, f->data, f->len);
}

/* SEARCH's answers, kept per worker for the live catalogue: a search runs
 * on the event loop (some 4 ms with 20 results on a tree of 1,000
 * lessons), and a room told to look something up sends the same words
 * many times over. What a search finds depends on its words, its
 * language and the catalogue alone, so an answer is kept under the first
 * two, in one of SEARCH_CACHE_SLOTS slots by hash (a newer one takes an
 * older one's slot): at most SEARCH_CACHE_SLOTS x SEARCH_MAX_RESULTS
 * results, some 1.4 MiB. A reload drops them all. */
#define SEARCH_CACHE_SLOTS 128
#define SEARCH_CACHE_QUERY_MAX 512   /* longer queries are not kept */

struct search_cached {
    char *key;                   /* lang, NUL, then the query; NULL: empty slot */
    size_t klen;
    struct search_result *res;   /* SEARCH_MAX_RESULTS, n of them used, pointing
                                  * into the catalogue */
    size_t n;
};

static struct {
    uint64_t generation;         /* the catalogue's the answers belong to */
    struct search_cached slot[SEARCH_CACHE_SLOTS];
} search_cache;

static void search_cached_clear(struct search_cached *e)
{
    free(e->key);
    free(e->res);
    memset(e, 0, sizeof(*e));
}

void search_cache_free(void)
{
    for (size_t i = 0; i < SEARCH_CACHE_SLOTS; i++)
        search_cached_clear(&search_cache.slot[i]);
    search_cache.generation = 0;
}

/* The slot for (lang, query), dropping every answer of an older
 * catalogue first; the key in key/klen (malloc'ed). */
static struct search_cached *search_cache_slot(const struct catalog *cat, const char *lang,
                                               const char *query, char **key, size_t *klen)
{
    if (search_cache.generation != cat->generation) {
        search_cache_free();
        search_cache.generation = cat->generation;
    }
    size_t ll = strlen(lang), ql = strlen(query);
    *klen = ll + 1 + ql;
    *key = xmalloc(*klen);
    memcpy(*key, lang, ll + 1);
    memcpy(*key + ll + 1, query, ql);
    return &search_cache.slot[hash_fnv1a(*key, *klen) % SEARCH_CACHE_SLOTS];
}

static void cmd_search(struct req *req)
{
    struct catalog *cat = need_catalog(req);
    struct search_result *res;
    struct sbuf q = {0};
    char score[32];

    if (cat == NULL)
        return;
    for (int i = 1; i < req->args.argc; i++) {
        if (i > 1)
            sbuf_addc(&q, ' ');
        sbuf_add(&q, req->args.argv[i], req->args.argl[i]);
    }
    char lang[LANG_TAG_MAX];
    search_lang(req, cat, lang);
    const char *query = q.data ? q.data : "";
    size_t n;
    /* A query with a NUL in it is searched as far as the NUL, as before;
     * it is not kept, so that its key stays the words searched. */
    bool keep = q.len <= SEARCH_CACHE_QUERY_MAX && strlen(query) == q.len;
    char *key = NULL;
    size_t klen = 0;
    struct search_cached *e = keep ? search_cache_slot(cat, lang, query, &key, &klen) : NULL;
    /* res is read from the slot, which keeps a new answer's results as
     * they are; only an answer that is not kept is freed here. */
    struct search_result *owned = NULL;
    if (e && e->key && e->klen == klen && memcmp(e->key, key, klen) == 0) {
        free(key);
        n = e->n;
        res = e->res;
    } else {
        res = owned = xcalloc(SEARCH_MAX_RESULTS, sizeof(*res));
        n = search_query_lang(cat, query, lang, res, SEARCH_MAX_RESULTS);
        if (e) {
            search_cached_clear(e);
            e->key = key;
            e->klen = klen;
            e->n = n;
            e->res = owned;
            owned = NULL;
        }
    }
    bool other = false;
    req_table(req, 5, "lesson", "title", "score", "snippet", "lang");
    for (size_t i = 0; i < n; i++) {
        snprintf(score, sizeof(score), "%.2f", res[i].score);
        req_row(req, 5, res[i].full_id, res[i].title, score, res[i].snippet, res[i].lang);
        other = other || (lang[0] && lang_lookup((const char *const[]){res[i].lang}, 1, lang) < 0);
    }
    /* asked=: nothing matched in the learner's language, so every
     * language was searched. */
    char msg[REPLY_MSG_MAX];
    struct lang_pick lp = {.lang = lang};
    snprintf(lp.asked, sizeof(lp.asked), "%s", lang);
    lp.fallback = other;
    snprintf(msg, sizeof(msg), "%zu results", n);
    if (lang[0])
        i18n_meta(req, &lp, msg, sizeof(msg));
    req_reply_data(req, 200, "%s", msg);
    free(owned);
    sbuf_free(&q);
}

/* RELOAD: what SIGHUP does, for an admin at a prompt. With several workers
 * the master passes a SIGHUP to each of them. */
static void reload_published_cb(redisReply *reply, const char *err, void *priv)
{
    struct req *req = priv;

    if (req_store_failed(req, reply))
        return;
    req_reply(req, 202, "reload published to %lld workers (each logs its own result; "
              "STATS and /healthz show catalog-version)",
              reply->type == REDIS_REPLY_INTEGER ? (long long)reply->integer : 0LL);
}

/* RELOAD all: every worker of every machine that shares this Redis
 * reloads, through a message on KEY_CHAN_RELOAD (bus.c). */
static void reload_all(struct req *req)
{
    char who[200], host[64] = "?";

    gethostname(host, sizeof(host) - 1);
    snprintf(who, sizeof(who), "%s@%s pid %d", req->user ? req->user : "?", host, (int)getpid());
    if (store_command(reload_published_cb, req, "PUBLISH %s %s", KEY_CHAN_RELOAD, who) < 0)
        req_store_unavailable(req);
}

static void cmd_reload(struct req *req)
{
    if (req->args.argc == 2) {
        if (req->args.argl[1] != 3 || strcasecmp(req->args.argv[1], "all") != 0) {
            req_reply(req, 400, "RELOAD takes nothing, or all");
            return;
        }
        reload_all(req);
        return;
    }
    if (cfg.workers > 1) {
        kill(getppid(), SIGHUP);
        req_reply(req, 202, "reload requested from every worker (see the log)");
        return;
    }
    struct sbuf report = {0};
    if (courses_reload_report(&report) < 0) {
        req_reply_text(req, 409, "the new courses have errors; the live catalogue stays",
                       "text/plain; charset=utf-8", report.data ? report.data : "", report.len);
    } else {
        struct catalog *cat = courses_current();
        char msg[128];
        snprintf(msg, sizeof(msg), "reloaded: %zu courses, %zu lessons", cat->ncourses, cat->nlessons);
        req_reply_text(req, 200, msg, "text/plain; charset=utf-8", report.data ? report.data : "",
                       report.len);
    }
    sbuf_free(&report);
}

const struct cmd cmd_group_content[] = {
    { .name = "RELOAD", .run = cmd_reload, .min_args = 0, .max_args = 1, .role = ROLE_ADMIN,
      .usage = "RELOAD [all]",
      .help = "Loads the courses again (as SIGHUP does). If they have errors the live catalogue stays "
              "and the answer lists them as path:line: message. RELOAD all publishes the reload "
              "through Redis to every worker of every machine (202 with how many heard it)." },
    { .name = "COURSES", .run = cmd_courses, .min_args = 0, .max_args = 0, .role = ROLE_ANON,
      .flags = CMD_SESSION | CMD_LANG, .usage = "COURSES [lang=TAG]",
      .help = "Lists the courses: id, title, modules, lessons, minutes, prerequisites (course ids) "
              "and programmes (PROGRAMME:STEP/STEPS)." },
    { .name = "COURSE", .run = cmd_course, .min_args = 1, .max_args = 1, .role = ROLE_ANON,
      .flags = CMD_SESSION | CMD_LANG, .usage = "COURSE id [lang=TAG]",
      .help = "A course's outline: module, lesson id, title, minutes, kind (lesson, quiz, case, "
              "pretest; trainer for trainers), prerequisites; titles in your language where the "
              "course has it, and the status ends in lang=TAG." },
    { .name = "READ", .run = cmd_read, .min_args = 1, .max_args = 3, .role = ROLE_ANON,
      .flags = CMD_SESSION | CMD_LANG,
      .usage = "READ course/lesson [text|md|html|exercise] [width] [lang=TAG]",
      .help = "A lesson in the format asked for (text wraps at width, 80 by default; exercise is "
              "the text shown above its own exercise). The status line gives its version and the "
              "previous and next lesson ids, missing=IDS when prerequisites are not done, and "
              "lang=TAG served (asked=TAG when that is not the one asked for). "
              "Trainers and admins see the trainer notes." },
    { .name = "FILE", .run = cmd_file, .min_args = 1, .max_args = 1, .role = ROLE_ANON,
      .flags = CMD_SESSION | CMD_LANG, .usage = "FILE course[/name.ext] [lang=TAG]",
      .help = "A course's files (templates, worksheets): the list, or one file as it is, with its "
              "content type and version, in your language where the file has it (name.LL.ext: "
              "that language's file); the status ends in lang=TAG." },
    { .name = "PROGRAMMES", .run = cmd_programmes, .min_args = 0, .max_args = 0,
      .role = ROLE_ANON, .flags = CMD_LANG, .usage = "PROGRAMMES [lang=TAG]",
      .help = "The suggested routes through the courses: programme, title, step, course." },
    { .name = "SEARCH", .run = cmd_search, .min_args = 1, .max_args = -1, .role = ROLE_ANON,
      .flags = CMD_SESSION | CMD_LANG, .usage = "SEARCH words... [lang=TAG]",
      .help = "Ranked full-text search, stemmed in your language first, then in every language "
              "when that finds nothing: lesson id, title, score, snippet, lang." },
    { .name = NULL },
};

/* ---- HTTP routes ---- */

static int api_courses(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("COURSES");
    return 1;
}

static int api_course(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("COURSE");
    argv[1] = xstrdup(p[0]);
    return 2;
}

/* The value of one query parameter, or NULL. Caller frees. */
static char *query_param(struct evhttp_request *r, const char *name)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r);
    const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
    struct evkeyvalq params;
    char *v = NULL;

    if (q == NULL || evhttp_parse_query_str(q, &params) < 0)
        return NULL;
    const char *found = evhttp_find_header(&params, name);
    if (found)
        v = xstrdup(found);
    evhttp_clear_headers(&params);
    return v;
}

static int api_lesson(struct evhttp_request *r, char **p, int n, char **argv)
{
    char *format = query_param(r, "format");
    char *width = query_param(r, "width");
    int argc = 0;

    argv[argc++] = xstrdup("READ");
    argv[argc++] = xasprintf("%s/%s", p[0], p[1]);
    argv[argc++] = format ? format : xstrdup("html");
    if (width)
        argv[argc++] = width;
    return argc;
}

static int api_files(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("FILE");
    argv[1] = n > 1 ? xasprintf("%s/%s", p[0], p[1]) : xstrdup(p[0]);
    return 2;
}

static int api_programmes(struct evhttp_request *r, char **p, int n, char **argv)
{
    argv[0] = xstrdup("PROGRAMMES");
    return 1;
}

static int api_search(struct evhttp_request *r, char **p, int n, char **argv)
{
    char *q = query_param(r, "q");

    if (q == NULL || q[0] == '\0') {
        free(q);
        api_send_error(r, 400, "missing q");
        return -1;
    }
    argv[0] = xstrdup("SEARCH");
    argv[1] = q;
    return 2;
}

const struct api_route api_routes_content[] = {
    { "GET", "/api/courses", api_courses },
    { "GET", "/api/courses/{course}", api_course },
    { "GET", "/api/lessons/{course}/{lesson}", api_lesson },
    { "GET", "/api/search", api_search },
    { "GET", "/api/files/{course}", api_files },
    { "GET", "/api/files/{course}/{file}", api_files },
    { "GET", "/api/programmes", api_programmes },
    { NULL, NULL, NULL },
};
