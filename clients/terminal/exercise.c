/* exercise.c: doing an exercise: the case narrative, each task in turn with
 * the server's one-line hint for its answer syntax, a review, SUBMIT, and
 * the server's result (score, pass or fail, feedback, attempts left). Also
 * submit (from a file) and attempts. */
#include "campus.h"

#include <stdlib.h>
#include <string.h>

#define HINT_MARK "  answer: "

/* One task of the learner view: its id, the lines that show it (the hint
 * line excluded), the hint, and what the learner answered. */
struct ex_task {
    char *id;
    char *shown;       /* the block as the server wrote it, minus the hint */
    char *hint;        /* "a number", "free text ..." */
    char *before;      /* text between the previous task and this one */
    char *answer;      /* NULL until answered; lines joined with "\n" */
};

struct ex_view {
    char *header;      /* title, attempts, pass mark */
    struct ex_task *tasks;
    size_t ntasks;
    char *after;       /* anything after the last task */
};

/* A line that opens a task: "[id]" at its start, the id without spaces. */
static bool task_line(const char *line, size_t len, size_t *idlen)
{
    if (len < 3 || line[0] != '[')
        return false;
    const char *close = memchr(line, ']', len);
    if (close == NULL || close == line + 1)
        return false;
    for (const char *p = line + 1; p < close; p++)
        if (*p == ' ' || *p == '\t')
            return false;
    *idlen = (size_t)(close - line - 1);
    return true;
}

/* Splits EXERCISE's text body into header, tasks and the text between
 * them. The caller frees with view_free. */
static void view_parse(const char *body, size_t len, struct ex_view *v)
{
    struct sbuf pending = {0}, block = {0};
    struct ex_task *cur = NULL;
    const char *p = body, *end = body + len;

    memset(v, 0, sizeof(*v));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p), idlen;
        if (task_line(p, ll, &idlen)) {
            if (v->ntasks == 0 && cur == NULL)
                v->header = sbuf_take(&pending);
            if (cur && cur->shown == NULL)
                cur->shown = block.len ? sbuf_take(&block) : xstrdup("");
            v->tasks = xrealloc(v->tasks, (v->ntasks + 1) * sizeof(*v->tasks));
            cur = &v->tasks[v->ntasks++];
            memset(cur, 0, sizeof(*cur));
            cur->id = xstrndup(p + 1, idlen);
            cur->before = pending.len ? sbuf_take(&pending) : NULL;
            sbuf_free(&pending);
            sbuf_add(&block, p, ll);
            sbuf_addc(&block, '\n');
        } else if (cur && cur->shown == NULL && ll >= strlen(HINT_MARK) &&
                   strncmp(p, HINT_MARK, strlen(HINT_MARK)) == 0) {
            cur->hint = xstrndup(p + strlen(HINT_MARK), ll - strlen(HINT_MARK));
            cur->shown = block.len ? sbuf_take(&block) : xstrdup("");
        } else if (cur && cur->shown == NULL) {
            sbuf_add(&block, p, ll);
            sbuf_addc(&block, '\n');
        } else {
            sbuf_add(&pending, p, ll);
            sbuf_addc(&pending, '\n');
        }
        p = nl ? nl + 1 : end;
    }
    if (cur && cur->shown == NULL)
        cur->shown = block.len ? sbuf_take(&block) : xstrdup("");
    sbuf_free(&block);
    if (v->ntasks == 0)
        v->header = pending.len ? sbuf_take(&pending) : NULL;
    else
        v->after = pending.len ? sbuf_take(&pending) : NULL;
    sbuf_free(&pending);
}

static void view_free(struct ex_view *v)
{
    for (size_t i = 0; i < v->ntasks; i++) {
        free(v->tasks[i].id);
        free(v->tasks[i].shown);
        free(v->tasks[i].hint);
        free(v->tasks[i].before);
        free(v->tasks[i].answer);
    }
    free(v->tasks);
    free(v->header);
    free(v->after);
    memset(v, 0, sizeof(*v));
}

/* Free text may run over several lines: the hint says so. */
static bool multi_line(const struct ex_task *t)
{
    return t->hint && strstr(t->hint, "free text") != NULL;
}

/* Asks for one task's answer. Returns 0, or -1 at end of input. */
static int ask_task(struct ex_task *t, size_t k, size_t n)
{
    if (t->before && strspn(t->before, "\n") != strlen(t->before))
        printf("%s", t->before);
    printf("%s(%zu/%zu)%s %s", render_sgr("2"), k + 1, n, render_reset(), t->shown);
    if (t->hint)
        printf("  %sanswer: %s%s\n", render_sgr("36"), t->hint, render_reset());
    if (multi_line(t))
        printf("  %s(end with an empty line)%s\n", render_sgr("2"), render_reset());

    char *prompt = xasprintf("%s> ", t->id);
    char *line = prompt_line(prompt);
    if (line == NULL) {
        free(prompt);
        return -1;
    }
    struct sbuf ans = {0};
    sbuf_adds(&ans, line);
    while (multi_line(t) && line[0] != '\0') {
        free(line);
        line = prompt_line("  ");
        if (line == NULL || line[0] == '\0')
            break;
        sbuf_addc(&ans, '\n');
        sbuf_adds(&ans, line);
    }
    free(line);
    free(prompt);
    free(t->answer);
    t->answer = ans.data ? sbuf_take(&ans) : xstrdup("");
    putchar('\n');
    return 0;
}

/* The answer document: "id: answer" lines, more lines of free text
 * indented by two spaces. Unanswered tasks are left out. */
static char *answer_doc(const struct ex_view *v)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < v->ntasks; i++) {
        const struct ex_task *t = &v->tasks[i];
        if (t->answer == NULL || t->answer[0] == '\0')
            continue;
        sbuf_printf(&b, "%s: ", t->id);
        for (const char *p = t->answer; *p; p++) {
            sbuf_addc(&b, *p);
            if (*p == '\n')
                sbuf_adds(&b, "  ");
        }
        sbuf_addc(&b, '\n');
    }
    return b.data ? sbuf_take(&b) : xstrdup("");
}

/* Sends SUBMIT id {N} doc and prints the result. Returns an exit status. */
static int submit(struct ctx *ctx, const char *id, const char *doc, size_t len)
{
    struct request r;
    int rc;

    request_init(&r, false);      /* an attempt must never count twice */
    request_arg(&r, "SUBMIT");
    request_arg(&r, id);
    request_argn(&r, doc, len);
    r.literal_last = true;
    if (session_run(&ctx->sess, &r, 1) < 0) {
        rc = cmd_unavailable(ctx);
        if (ctx->sess.sent)
            fprintf(stderr, "campus: check with: campus attempts %s\n", id);
    } else if ((rc = cmd_status(&r.resp)) == 0) {
        char *left = resp_status_field(r.resp.text, "left");
        char *attempt = resp_status_field(r.resp.text, "attempt");
        const char *t = r.resp.text;
        const char *verdict = strstr(t, " passed") ? "passed" : strstr(t, " failed") ? "failed"
                            : strstr(t, " pending-review") ? "pending review" : NULL;
        if (verdict)
            printf("%s%s%s", render_sgr(strcmp(verdict, "passed") == 0 ? "1;32" :
                                        strcmp(verdict, "failed") == 0 ? "1;31" : "1;33"),
                   verdict, render_reset());
        if (attempt)
            printf("%sattempt %s", verdict ? ", " : "", attempt);
        if (left)
            printf(", attempts left: %s", left);
        if (verdict || attempt || left)
            putchar('\n');
        if (r.resp.body)
            fwrite(r.resp.body, 1, r.resp.body_len, stdout);
        free(left);
        free(attempt);
    }
    request_free(&r);
    return rc;
}

/* The review: the answers, then submit, edit one task, or quit. Returns
 * 1 to submit, 0 to quit, -1 at end of input. */
static int review(struct ex_view *v)
{
    for (;;) {
        char *doc = answer_doc(v);
        printf("%sYour answers:%s\n%s\n", render_sgr("1"), render_reset(),
               doc[0] ? doc : "(none)\n");
        free(doc);
        char *line = prompt_line("submit? [y]es, [e]dit TASK, [q]uit: ");
        if (line == NULL)
            return -1;
        char *arg = line + strcspn(line, " ");
        arg += strspn(arg, " ");
        int c = line[0];
        if (c == 'y' || c == 'Y') {
            free(line);
            return 1;
        }
        if (c == 'q' || c == 'Q' || c == 'n' || c == 'N') {
            free(line);
            return 0;
        }
        if (c == 'e' || c == 'E') {
            char *which = arg[0] ? xstrdup(arg) : prompt_line("task: ");
            bool found = false;
            for (size_t i = 0; which && i < v->ntasks; i++)
                if (strcmp(v->tasks[i].id, which) == 0) {
                    found = true;
                    if (ask_task(&v->tasks[i], i, v->ntasks) < 0) {
                        free(which);
                        free(line);
                        return -1;
                    }
                }
            if (!found)
                printf("no task '%s'\n", which ? which : "");
            free(which);
        }
        free(line);
    }
}

int cmd_exercise(struct ctx *ctx, int argc, char **argv)
{
    const char *id = argv[1];
    struct request r[2];
    int rc;
    char w[16];

    if (config_token(&ctx->cfg) == NULL) {
        fputs("campus: not logged in: campus login\n", stderr);
        return CAMPUS_EXIT_LOGIN;
    }
    request_init(&r[0], true);
    request_arg(&r[0], "READ");
    request_arg(&r[0], id);
    request_arg(&r[0], "text");
    if (render_tty()) {
        int width = render_width();
        snprintf(w, sizeof(w), "%d", width < CAMPUS_WIDTH_MIN ? CAMPUS_WIDTH_MIN
                                     : width > CAMPUS_WIDTH_MAX ? CAMPUS_WIDTH_MAX : width);
        request_arg(&r[0], w);
    }
    request_init(&r[1], true);
    request_arg(&r[1], "EXERCISE");
    request_arg(&r[1], id);
    if (session_run(&ctx->sess, r, 2) < 0) {
        rc = cmd_unavailable(ctx);
        goto out;
    }
    if ((rc = cmd_status(&r[1].resp)) != 0)
        goto out;

    struct ex_view v;
    view_parse(r[1].resp.body ? r[1].resp.body : "", r[1].resp.body_len, &v);
    if (r[0].resp.code == 200 && r[0].resp.body) {
        render_page(r[0].resp.body, r[0].resp.body_len);
        putchar('\n');
    }
    if (v.header)
        printf("%s%s%s", render_sgr("1"), v.header, render_reset());
    int go = 1;
    for (size_t i = 0; i < v.ntasks && go > 0; i++)
        if (ask_task(&v.tasks[i], i, v.ntasks) < 0)
            go = -1;
    if (v.after)
        printf("%s", v.after);
    if (go > 0)
        go = review(&v);
    if (go > 0) {
        char *doc = answer_doc(&v);
        rc = submit(ctx, id, doc, strlen(doc));
        free(doc);
    } else {
        fprintf(stderr, "campus: %s; nothing was submitted\n",
                go < 0 ? "end of input" : "cancelled");
        rc = CAMPUS_EXIT_REFUSED;
    }
    view_free(&v);
out:
    request_free(&r[0]);
    request_free(&r[1]);
    return rc;
}

int cmd_submit(struct ctx *ctx, int argc, char **argv)
{
    size_t len = 0;
    char *doc;

    if (strcmp(argv[2], "-") == 0) {
        struct sbuf b = {0};
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
            sbuf_add(&b, buf, n);
        len = b.len;
        doc = b.data ? sbuf_take(&b) : xstrdup("");
    } else if ((doc = config_read_file(argv[2], &len)) == NULL) {
        fprintf(stderr, "campus: cannot read %s\n", argv[2]);
        return CAMPUS_EXIT_USAGE;
    }
    if (config_token(&ctx->cfg) == NULL) {
        free(doc);
        fputs("campus: not logged in: campus login\n", stderr);
        return CAMPUS_EXIT_LOGIN;
    }
    int rc = submit(ctx, argv[1], doc, len);
    free(doc);
    return rc;
}

int cmd_attempts(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;

    request_init(&r, true);
    request_arg(&r, "ATTEMPTS");
    request_arg(&r, argv[1]);
    if (session_run(&ctx->sess, &r, 1) < 0) {
        request_free(&r);
        return cmd_unavailable(ctx);
    }
    rc = cmd_status(&r.resp);
    if (rc == 0) {
        if (r.resp.body)
            render_table(&r.resp, NULL, 0);
        if (render_tty())
            printf("%s\n", r.resp.text);
    }
    request_free(&r);
    return rc;
}

int cmd_review(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;
    const char *sub = argv[1];
    bool list = strcmp(sub, "list") == 0, show = strcmp(sub, "show") == 0;
    bool grade = strcmp(sub, "grade") == 0;

    if (!((list && argc <= 3) || (show && argc == 3) || (grade && argc == 5)))
        return cmd_usage(cmd_find("review"));
    request_init(&r, !grade);
    request_arg(&r, "REVIEW");
    request_arg(&r, list ? "LIST" : show ? "SHOW" : "GRADE");
    for (int i = 2; i < argc; i++)
        request_arg(&r, argv[i]);
    if (session_run(&ctx->sess, &r, 1) < 0) {
        request_free(&r);
        return cmd_unavailable(ctx);
    }
    rc = cmd_status(&r.resp);
    if (rc == 0 && list) {
        render_table(&r.resp, NULL, 0);
        if (render_tty())
            printf("%s\n", r.resp.text);
    } else if (rc == 0 && show) {
        render_page(r.resp.body ? r.resp.body : "", r.resp.body_len);
    } else if (rc == 0) {
        printf("%s\n", r.resp.text);
    }
    request_free(&r);
    return rc;
}
