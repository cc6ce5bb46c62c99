/* cmd-learn.c: the learner's commands: courses, course, read, next, done,
 * progress, search, sync. */
#include "campus.h"

#include <stdlib.h>
#include <string.h>

#define BAR_WIDTH 20

/* Runs one request; prints the reason and returns non-zero when the link
 * failed, else 0 (look at r->resp). */
static int run1(struct ctx *ctx, struct request *r)
{
    return session_run(&ctx->sess, r, 1) < 0 ? -1 : 0;
}

/* Sends verb and its n arguments as one request in r (initialised here,
 * freed by the caller): the exit status of the answer (cmd_status), or,
 * when the link failed, cmd_unavailable's after printing the reason. */
static int ask(struct ctx *ctx, struct request *r, const char *verb, char **args, int n)
{
    request_init(r, true);
    request_arg(r, verb);
    for (int i = 0; i < n; i++)
        request_arg(r, args[i]);
    if (run1(ctx, r) < 0)
        return cmd_unavailable(ctx);
    return cmd_status(&r->resp);
}

/* Width for text lessons: --width, or the terminal's; 0 (the server's
 * default) when piped. */
static int lesson_width(const char *opt)
{
    int w = opt ? atoi(opt) : render_tty() ? render_width() : 0;
    if (w == 0)
        return 0;
    if (w < CAMPUS_WIDTH_MIN)
        w = CAMPUS_WIDTH_MIN;
    if (w > CAMPUS_WIDTH_MAX)
        w = CAMPUS_WIDTH_MAX;
    return w;
}

static void request_read(struct request *r, const char *id, int width)
{
    char w[16];
    request_init(r, true);
    request_arg(r, "READ");
    request_arg(r, id);
    request_arg(r, "text");
    if (width) {
        snprintf(w, sizeof(w), "%d", width);
        request_arg(r, w);
    }
}

int cmd_courses(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;

    rc = ask(ctx, &r, "COURSES", NULL, 0);
    if (rc == 0) {
        static const char *const cols[] = { "id", "title", "lessons", "minutes" };
        render_table(&r.resp, cols, 4);
    }
    request_free(&r);
    return rc;
}

/* The kinds of item COURSE lists, shown in the reader's language. */
static const char *const item_kinds[] = { N_("lesson"), N_("quiz"), N_("case"), N_("pretest"),
                                          N_("trainer") };

/* The kind as shown: translated when it is one the client knows. */
static const char *kind_label(const char *kind)
{
    for (size_t i = 0; i < sizeof(item_kinds) / sizeof(item_kinds[0]); i++)
        if (strcmp(kind, item_kinds[i]) == 0)
            return _(item_kinds[i]);
    return kind;
}

/* A status text as a reader sees it: without the " lang=TAG [asked=TAG]"
 * that ends the status of an answer naming its language (the words before
 * it are already in that language). A new string. */
static char *status_words(const char *text)
{
    const char *at = strstr(text, " lang=");
    return at ? xstrndup(text, (size_t)(at - text)) : xstrdup(text);
}

/* The outline on a terminal: module headings with a bar (when PROGRESS
 * answered), lessons with a done mark (when the outline has a done column). */
static void outline_print(const char *title, const char *body, size_t len,
                          const struct resp *progress)
{
    struct listing t, p = {0};
    listing_parse(body, len, &t);
    if (progress && progress->code == 200 && progress->body)
        listing_parse(progress->body, progress->body_len, &p);
    int cm = listing_col(&t, "module"), cl = listing_col(&t, "lesson"), ct = listing_col(&t, "title");
    int cmin = listing_col(&t, "minutes"), ck = listing_col(&t, "kind"), cd = listing_col(&t, "done");
    int pt = listing_col(&p, "title"), pd = listing_col(&p, "done"), ptot = listing_col(&p, "total");
    size_t idw = 0;

    for (size_t r = 1; r < t.nrows; r++) {
        size_t w = render_cols(listing_cell(&t, r, cl), strlen(listing_cell(&t, r, cl)));
        idw = w > idw ? w : idw;
    }
    fputs(render_sgr("1"), stdout);
    render_fit(title, (size_t)render_width(), 0);
    printf("%s\n", render_reset());
    const char *module = NULL;
    for (size_t r = 1; r < t.nrows; r++) {
        const char *m = listing_cell(&t, r, cm);
        if (module == NULL || strcmp(m, module) != 0) {
            module = m;
            struct sbuf bar = {0};
            for (size_t k = 1; k < p.nrows; k++) {
                if (strcmp(listing_cell(&p, k, pt), m) != 0)
                    continue;
                size_t d = (size_t)atol(listing_cell(&p, k, pd));
                size_t tot = (size_t)atol(listing_cell(&p, k, ptot));
                sbuf_adds(&bar, "  ");
                render_bar(&bar, d, tot, BAR_WIDTH);
                sbuf_printf(&bar, " %zu/%zu", d, tot);
                break;
            }
            /* The module's name gets what its bar leaves. */
            size_t barw = bar.data ? render_cols(bar.data, bar.len) : 0;
            size_t room = (size_t)render_width() > barw + RENDER_COL_MIN ? (size_t)render_width() - barw
                                                                        : RENDER_COL_MIN;
            printf("\n%s", render_sgr("1"));
            render_fit(m, room, 0);
            printf("%s%s\n", render_reset(), bar.data ? bar.data : "");
            sbuf_free(&bar);
        }
        const char *done = listing_cell(&t, r, cd);
        bool is_done = strcmp(done, "yes") == 0 || strcmp(done, "1") == 0;
        const char *id = listing_cell(&t, r, cl);
        printf("  %s%s%s %s", render_sgr("32"), is_done ? "✓" : " ", render_reset(), id);
        for (size_t w = render_cols(id, strlen(id)); w < idw; w++)
            putchar(' ');
        const char *kind = listing_cell(&t, r, ck);
        /* The title gets what the terminal has left after the mark, the
         * id and "(N min, kind)". */
        char *tail = xasprintf(" (%s min%s%s)", listing_cell(&t, r, cmin),
                               strcmp(kind, "lesson") && kind[0] ? ", " : "",
                               strcmp(kind, "lesson") ? kind_label(kind) : "");
        size_t used = 4 + idw + 2 + render_cols(tail, strlen(tail));
        size_t room = (size_t)render_width() > used + RENDER_COL_MIN ? (size_t)render_width() - used
                                                                      : RENDER_COL_MIN;
        fputs("  ", stdout);
        render_fit(listing_cell(&t, r, ct), room, 0);
        printf("%s\n", tail);
        free(tail);
    }
    listing_free(&t);
    listing_free(&p);
}

int cmd_course(struct ctx *ctx, int argc, char **argv)
{
    struct request r[2];
    size_t n = 1;
    int rc;

    request_init(&r[0], true);
    request_arg(&r[0], "COURSE");
    request_arg(&r[0], argv[1]);
    if (config_token(&ctx->cfg) && render_tty()) {
        request_init(&r[1], true);
        request_arg(&r[1], "PROGRESS");
        request_arg(&r[1], argv[1]);
        n = 2;
    }
    if (session_run(&ctx->sess, r, n) < 0) {
        size_t len;
        char *cached = offline_outline(&ctx->cfg, argv[1], &len);
        if (cached == NULL) {
            rc = cmd_unavailable(ctx);
        } else {
            fprintf(stderr, _("campus: %s; the outline synced earlier:\n"), ctx->sess.err);
            struct resp fake = { .code = 200, .body = cached, .body_len = len };
            if (render_tty())
                outline_print(argv[1], cached, len, NULL);
            else
                render_table(&fake, NULL, 0);
            free(cached);
            rc = CAMPUS_EXIT_OK;
        }
    } else {
        rc = cmd_status(&r[0].resp);
        if (rc == 0 && render_tty()) {
            char *title = status_words(r[0].resp.text);
            outline_print(title, r[0].resp.body, r[0].resp.body_len, n == 2 ? &r[1].resp : NULL);
            free(title);
        }
        else if (rc == 0)
            render_table(&r[0].resp, NULL, 0);
    }
    for (size_t i = 0; i < n; i++)
        request_free(&r[i]);
    return rc;
}

/* The lesson NEXT names, or NULL (with *rc set) when there is none. */
static char *next_lesson(struct ctx *ctx, int *rc)
{
    struct request r;
    char *id = NULL;

    request_init(&r, true);
    request_arg(&r, "NEXT");
    if (run1(ctx, &r) < 0) {
        *rc = -1;
    } else if ((*rc = cmd_status(&r.resp)) == 0) {
        id = resp_kv(&r.resp, "lesson");
        if (id && id[0] == '\0') {
            printf("%s\n", r.resp.text);
            free(id);
            id = NULL;
        }
    }
    request_free(&r);
    return id;
}

static void print_stats(struct ctx *ctx, const char *id)
{
    fprintf(stderr, ngettext("campus: read %s: %llu bytes sent, %llu bytes received, %d "
                             "connection%s\n",
                             "campus: read %s: %llu bytes sent, %llu bytes received, %d "
                             "connections%s\n", (unsigned long)ctx->sess.connections),
            id, session_bytes_out(&ctx->sess), session_bytes_in(&ctx->sess),
            ctx->sess.connections, ctx->sess.net.tls ? " (TLS)" : "");
    if (ctx->sess.net.learned_port)
        fprintf(stderr, _("campus: read %s: TLS from the first byte on port %ld, as the server's "
                          "HELLO said\n"), id, ctx->sess.learned_tls_port);
    if (ctx->sess.net.tls_resumed)
        fprintf(stderr, _("campus: read %s: TLS session resumed\n"), id);
}

int cmd_read(struct ctx *ctx, int argc, char **argv)
{
    char *width_opt = cmd_option(&argc, argv, "--width");
    bool stats = cmd_flag(&argc, argv, "--stats");
    int width = lesson_width(width_opt), rc = 0;
    char *id = argc > 1 ? xstrdup(argv[1]) : NULL;
    bool offline = false;

    if (width_opt && atoi(width_opt) <= 0) {
        free(id);
        return cmd_usage(cmd_find("read"));
    }
    if (id == NULL && config_token(&ctx->cfg)) {
        id = next_lesson(ctx, &rc);
        if (id == NULL && rc >= 0)
            return rc;
        offline = rc < 0;
    } else if (id == NULL) {
        /* Not logged in: the lesson after the last one read, if any. */
        id = offline_last(&ctx->cfg, true);
        if (id == NULL) {
            fputs(_("campus: not logged in, so there is no next lesson: name one (campus read "
                  "COURSE/LESSON) or log in\n"), stderr);
            return CAMPUS_EXIT_LOGIN;
        }
    }
    if (offline) {
        id = offline_last(&ctx->cfg, true);
        if (id == NULL)
            return cmd_unavailable(ctx);
    }

    struct request r;
    request_read(&r, id, width);
    if (!offline && run1(ctx, &r) == 0) {
        rc = cmd_status(&r.resp);
        if (rc == 0) {
            char *next = resp_status_field(r.resp.text, "next");
            char *missing = resp_status_field(r.resp.text, "missing");
            offline_last_set(&ctx->cfg, id, next);
            offline_store(&ctx->cfg, id, r.resp.body, r.resp.body_len, false);
            free(next);
            /* A notice, not a lock: the lesson is shown all the same. */
            if (missing)
                fprintf(stderr, _("campus: this lesson builds on %s, not done yet\n"), missing);
            free(missing);
            render_page(r.resp.body, r.resp.body_len);
        }
    } else {
        size_t len;
        char *cached = offline_lesson(&ctx->cfg, id, &len);
        if (cached == NULL) {
            rc = cmd_unavailable(ctx);
        } else {
            fprintf(stderr, _("campus: %s; showing %s as synced earlier\n"),
                    ctx->sess.err[0] ? ctx->sess.err : _("offline"), id);
            char *after = offline_after(&ctx->cfg, id);
            offline_last_set(&ctx->cfg, id, after);
            free(after);
            render_page(cached, len);
            free(cached);
        }
    }
    if (stats)
        print_stats(ctx, id);
    request_free(&r);
    free(id);
    return rc;
}

int cmd_next(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;

    rc = ask(ctx, &r, "NEXT", argv + 1, argc > 1 ? 1 : 0);
    if (rc == 0 && !render_tty()) {
        fwrite(r.resp.body ? r.resp.body : "", 1, r.resp.body_len, stdout);
    } else if (rc == 0) {
        char *lesson = resp_kv(&r.resp, "lesson"), *title = resp_kv(&r.resp, "title");
        char *min = resp_kv(&r.resp, "minutes"), *done = resp_kv(&r.resp, "done");
        char *total = resp_kv(&r.resp, "total"), *course = resp_kv(&r.resp, "course");
        if (lesson && lesson[0])
            printf(_("%s%s%s  %s (%s min)\n%s of %s lessons done in %s\n"), render_sgr("1"),
                   lesson, render_reset(), title ? title : "", min ? min : "?",
                   done ? done : "?", total ? total : "?", course ? course : "?");
        else
            printf("%s\n", r.resp.text);
        free(lesson);
        free(title);
        free(min);
        free(done);
        free(total);
        free(course);
    }
    request_free(&r);
    return rc;
}

int cmd_done(struct ctx *ctx, int argc, char **argv)
{
    char *id = argc > 1 ? xstrdup(argv[1]) : offline_last(&ctx->cfg, false);
    struct request r;
    int rc;

    if (id == NULL) {
        fputs(_("campus: no lesson read yet: name one (campus done COURSE/LESSON)\n"), stderr);
        return CAMPUS_EXIT_USAGE;
    }
    if (config_token(&ctx->cfg) == NULL) {
        fputs(_("campus: not logged in: campus login\n"), stderr);
        free(id);
        return CAMPUS_EXIT_LOGIN;
    }
    request_init(&r, true);
    request_arg(&r, "DONE");
    request_arg(&r, id);
    bool failed = run1(ctx, &r) < 0;
    if (failed || r.resp.code == 503) {
        /* No link, or no store behind it: the mark waits in the queue. */
        if (offline_queue_add(&ctx->cfg, ctx->cfg.user, id) < 0) {
            fprintf(stderr, _("campus: cannot queue the done mark for %s\n"), id);
            rc = failed ? cmd_unavailable(ctx) : cmd_status(&r.resp);
        } else {
            fprintf(stderr, _("campus: %s; queued: %s is sent as done on the next connection\n"),
                    failed ? ctx->sess.err : r.resp.text, id);
            printf(_("queued %s\n"), id);
            rc = CAMPUS_EXIT_OK;
        }
    } else {
        rc = cmd_status(&r.resp);
        if (rc == 0)
            printf("%s\n", r.resp.text);
    }
    request_free(&r);
    free(id);
    return rc;
}

/* Progress rows on a terminal: name, bar, percent, lessons, exercises,
 * minutes left. */
static void progress_print(const struct resp *resp, const char *namecol)
{
    struct listing t;
    listing_parse(resp->body, resp->body_len, &t);
    int cn = listing_col(&t, "title"), cd = listing_col(&t, "done"), ct = listing_col(&t, "total");
    int cp = listing_col(&t, "percent"), cl = listing_col(&t, "minutes_left");
    int ce = listing_col(&t, "exercises_passed"), cx = listing_col(&t, "exercises");
    int cid = listing_col(&t, namecol);
    size_t namew = 0;
    for (size_t r = 1; r < t.nrows; r++) {
        size_t w = render_cols(listing_cell(&t, r, cn), strlen(listing_cell(&t, r, cn)));
        namew = w > namew ? w : namew;
    }
    if (namew > 40)
        namew = 40;
    /* The rest of each line, made first: the names get the room left by
     * the longest of them, the same for every row so the bars line up. A
     * narrow terminal gets fewer figures and then a shorter bar. */
    static const struct { bool full; int bar; } shapes[] = {
        { true, BAR_WIDTH }, { false, BAR_WIDTH }, { false, BAR_WIDTH / 2 }, { false, BAR_WIDTH / 4 },
    };
    char **tails = xcalloc(t.nrows, sizeof(*tails));
    size_t tailw = 0;
    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        tailw = 0;
        for (size_t r = 1; r < t.nrows; r++) {
            struct sbuf bar = {0};
            size_t d = (size_t)atol(listing_cell(&t, r, cd)), tot = (size_t)atol(listing_cell(&t, r, ct));
            render_bar(&bar, d, tot, shapes[k].bar);
            free(tails[r]);
            if (shapes[k].full)
                tails[r] = xasprintf(_("  %s %3s%%  %zu/%zu lessons  %s/%s exercises  %s min left  (%s)"),
                                     bar.data, listing_cell(&t, r, cp), d, tot, listing_cell(&t, r, ce),
                                     listing_cell(&t, r, cx), listing_cell(&t, r, cl),
                                     listing_cell(&t, r, cid));
            else
                tails[r] = xasprintf("  %s %3s%%  %zu/%zu", bar.data, listing_cell(&t, r, cp), d, tot);
            sbuf_free(&bar);
            size_t w = render_cols(tails[r], strlen(tails[r]));   /* colour codes count 0 */
            tailw = w > tailw ? w : tailw;
        }
        if (tailw + (namew < RENDER_COL_MIN ? namew : RENDER_COL_MIN) <= (size_t)render_width())
            break;
    }
    if ((size_t)render_width() < namew + tailw)
        namew = (size_t)render_width() > tailw + RENDER_COL_MIN ? (size_t)render_width() - tailw
                                                                : RENDER_COL_MIN;
    for (size_t r = 1; r < t.nrows; r++) {
        render_fit(listing_cell(&t, r, cn), namew, namew);
        printf("%s\n", tails[r]);
        free(tails[r]);
    }
    free(tails);
    listing_free(&t);
}

int cmd_progress(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;

    rc = ask(ctx, &r, "PROGRESS", argv + 1, argc > 1 ? 1 : 0);
    if (rc == 0 && render_tty()) {
        progress_print(&r.resp, argc > 1 ? "module" : "course");
        if (argc > 1) {
            char *words = status_words(r.resp.text);
            printf("%s\n", words);
            free(words);
        }
    } else if (rc == 0) {
        render_table(&r.resp, NULL, 0);
    }
    request_free(&r);
    return rc;
}

/* campus attempt COURSE/ID N: one attempt as the server lets its learner see
 * it: each task's score and points, feedback, and a trainer's comment and
 * rubric levels. */
int cmd_attempt(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;

    rc = ask(ctx, &r, "ATTEMPTS", argv + 1, 2);
    if (rc == 0) {
        if (render_tty())
            printf("%s\n\n", r.resp.text);
        render_page(r.resp.body ? r.resp.body : "", r.resp.body_len);
    }
    request_free(&r);
    return rc;
}

int cmd_search(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;

    rc = ask(ctx, &r, "SEARCH", argv + 1, argc - 1);
    if (rc == 0) {
        static const char *const cols[] = { "lesson", "title", "snippet" };
        render_table(&r.resp, cols, 3);
        if (render_tty())
            printf("%s\n", r.resp.text);
    }
    request_free(&r);
    return rc;
}

/* Syncs one course: its outline, then every lesson in one pipelined
 * batch. Returns an exit status. */
/* Saves every file of a course (FILE course, then FILE course/name for
 * each) in the offline cache; counts them and their bytes. */
static int sync_files(struct ctx *ctx, const char *course, size_t *files, size_t *bytes)
{
    struct request list;
    struct listing t;
    int rc = CAMPUS_EXIT_OK;

    request_init(&list, true);
    request_arg(&list, "FILE");
    request_arg(&list, course);
    if (run1(ctx, &list) < 0) {
        request_free(&list);
        return cmd_unavailable(ctx);
    }
    if (list.resp.code != 200) {            /* a server without course files */
        request_free(&list);
        return CAMPUS_EXIT_OK;
    }
    listing_parse(list.resp.body, list.resp.body_len, &t);
    int fc = listing_col(&t, "file");
    size_t n = t.nrows > 1 && fc >= 0 ? t.nrows - 1 : 0;
    struct request *reqs = xcalloc(n + 1, sizeof(*reqs));
    for (size_t i = 0; i < n; i++) {
        char *id = xasprintf("%s/%s", course, listing_cell(&t, i + 1, fc));
        request_init(&reqs[i], true);
        request_arg(&reqs[i], "FILE");
        request_arg(&reqs[i], id);
        free(id);
    }
    if (n && session_run(&ctx->sess, reqs, n) < 0) {
        rc = cmd_unavailable(ctx);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (reqs[i].resp.code != 200)
                continue;
            offline_store_file(&ctx->cfg, course, listing_cell(&t, i + 1, fc), reqs[i].resp.body,
                               reqs[i].resp.body_len);
            *bytes += reqs[i].resp.body_len;
            (*files)++;
        }
    }
    for (size_t i = 0; i < n; i++)
        request_free(&reqs[i]);
    free(reqs);
    listing_free(&t);
    request_free(&list);
    return rc;
}

/* campus file COURSE: the list; campus file COURSE/NAME: the bytes on
 * standard output, or the copy sync saved when the server cannot be had. */
int cmd_file(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;
    char course[65];
    const char *slash = strchr(argv[1], '/');
    size_t cl = slash ? (size_t)(slash - argv[1]) : strlen(argv[1]);

    request_init(&r, true);
    request_arg(&r, "FILE");
    request_arg(&r, argv[1]);
    if (run1(ctx, &r) < 0) {
        size_t len;
        char *data = NULL;
        if (slash && cl < sizeof(course)) {
            memcpy(course, argv[1], cl);
            course[cl] = '\0';
            data = offline_file(&ctx->cfg, course, slash + 1, &len);
        }
        if (data == NULL) {
            rc = cmd_unavailable(ctx);
        } else {
            fprintf(stderr, _("campus: %s; the copy synced earlier:\n"), ctx->sess.err);
            fwrite(data, 1, len, stdout);
            free(data);
            rc = CAMPUS_EXIT_OK;
        }
        request_free(&r);
        return rc;
    }
    rc = cmd_status(&r.resp);
    if (rc == 0 && slash)
        fwrite(r.resp.body ? r.resp.body : "", 1, r.resp.body_len, stdout);
    else if (rc == 0)
        render_table(&r.resp, NULL, 0);
    request_free(&r);
    return rc;
}

static int sync_course(struct ctx *ctx, const struct resp *outline, const char *course,
                       int width)
{
    struct listing t;
    listing_parse(outline->body, outline->body_len, &t);
    int cl = listing_col(&t, "lesson");
    size_t n = t.nrows > 1 ? t.nrows - 1 : 0, bytes = 0;
    struct request *reqs = xcalloc(n + 1, sizeof(*reqs));
    int rc = CAMPUS_EXIT_OK;

    for (size_t i = 0; i < n; i++)
        request_read(&reqs[i], listing_cell(&t, i + 1, cl), width);
    offline_store_outline(&ctx->cfg, course, outline->body, outline->body_len);
    if (session_run(&ctx->sess, reqs, n) < 0) {
        rc = cmd_unavailable(ctx);
    } else {
        size_t got = 0;
        for (size_t i = 0; i < n; i++) {
            if (reqs[i].resp.code != 200) {
                fprintf(stderr, _("campus: %s: "), reqs[i].argv[1]);
                int s = cmd_status(&reqs[i].resp);
                rc = rc ? rc : s;
                continue;
            }
            offline_store(&ctx->cfg, reqs[i].argv[1], reqs[i].resp.body, reqs[i].resp.body_len,
                          true);
            bytes += reqs[i].resp.body_len;
            got++;
        }
        size_t files = 0;
        if (rc == CAMPUS_EXIT_OK)
            rc = sync_files(ctx, course, &files, &bytes);
        if (files)
            printf(_("synced %s: %zu of %zu lessons, %zu files, %zu bytes\n"), course, got, n, files,
                   bytes);
        else
            printf(_("synced %s: %zu of %zu lessons, %zu bytes\n"), course, got, n, bytes);
    }
    for (size_t i = 0; i < n; i++)
        request_free(&reqs[i]);
    free(reqs);
    listing_free(&t);
    return rc;
}

int cmd_sync(struct ctx *ctx, int argc, char **argv)
{
    size_t n = (size_t)argc - 1;
    struct request *outlines = xcalloc(n, sizeof(*outlines));
    int rc = CAMPUS_EXIT_OK;
    int width = lesson_width(NULL);

    for (size_t i = 0; i < n; i++) {
        request_init(&outlines[i], true);
        request_arg(&outlines[i], "COURSE");
        request_arg(&outlines[i], argv[i + 1]);
    }
    if (session_run(&ctx->sess, outlines, n) < 0) {
        rc = cmd_unavailable(ctx);
    } else {
        for (size_t i = 0; i < n; i++) {
            int s = cmd_status(&outlines[i].resp);
            if (s == 0)
                s = sync_course(ctx, &outlines[i].resp, argv[i + 1], width);
            rc = rc ? rc : s;
        }
    }
    for (size_t i = 0; i < n; i++)
        request_free(&outlines[i]);
    free(outlines);
    return rc;
}
