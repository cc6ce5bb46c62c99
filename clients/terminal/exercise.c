/* exercise.c: doing an exercise: the case narrative, each task in turn with
 * the server's one-line hint for its answer syntax, each answer checked as
 * it is typed and kept in a draft, a review, SUBMIT, and the server's
 * result (score, pass or fail, feedback, attempts left). Also submit (from
 * a file), attempts and review. */
#include "campus.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The line of the text view that says how to answer a task, as the server
 * writes it in each of its languages (content/msg.c): the view comes in
 * the account's language, which need not be the client's. */
static const char *const hint_marks[] = { "  answer: ", "  réponse : ", "  respuesta: " };

/* The length of the hint mark p (ll bytes) starts with, or 0. */
static size_t hint_mark(const char *p, size_t ll)
{
    for (size_t i = 0; i < sizeof(hint_marks) / sizeof(hint_marks[0]); i++) {
        size_t n = strlen(hint_marks[i]);
        if (ll >= n && strncmp(p, hint_marks[i], n) == 0)
            return n;
    }
    return 0;
}

/* One task of the learner view: its id, the lines that show it (the hint
 * line excluded), the hint, and what the learner answered. */
struct ex_task {
    char *id;
    char *shown;       /* the block as the server wrote it, minus the hint */
    char *hint;        /* "a number", "free text ..." */
    char *before;      /* text between the previous task and this one */
    char *answer;      /* NULL until answered; lines joined with "\n" */
    const struct check_rule *rule;   /* what the answer must look like, or NULL */
};

struct ex_view {
    char *header;      /* title, attempts, pass mark */
    struct ex_task *tasks;
    size_t ntasks;
    char *after;       /* anything after the last task */
};

/* What a question to the learner came to. */
enum ex_read {
    EX_LINE,           /* a line was typed */
    EX_EOF,            /* end of input */
    EX_LEAVE,          /* Ctrl-C, and the learner chose to leave */
};

/* One exercise being done: its id, view, rules and the attempt it is for. */
struct ex_run {
    struct ctx *ctx;
    const char *id;
    struct ex_view v;
    struct check_rules rules;
    long attempt;
    bool draft_failed;   /* said once that the draft cannot be saved */
};

/* Set by SIGINT while an exercise asks a question: the read returns EINTR
 * (no SA_RESTART) and the learner is asked whether to leave. */
static volatile sig_atomic_t ex_interrupted;

static void ex_on_sigint(int sig)
{
    (void)sig;
    ex_interrupted = 1;
}

/* True when stdin's buffer already holds bytes that a read would return
 * without touching the descriptor. glibc keeps no public call for it. */
static bool stdin_buffered(void)
{
#ifdef __GLIBC__
    return stdin->_IO_read_ptr < stdin->_IO_read_end;
#else
    return true;                 /* unknown: read as before */
#endif
}

/* True when c is the answer yes: y, or the first letter of "yes" in the
 * reader's language (o for oui, s for sí), in either case. */
static bool ex_yes(int c)
{
    /* TRANSLATORS: the word for yes; its first letter answers [y/N]
     * questions, as y does. */
    const char *yes = _("yes");
    int l = (unsigned char)yes[0];

    if (c == 'y' || c == 'Y')
        return true;
    return l < 0x80 && c < 0x80 && c != '\0' && (c | 0x20) == (l | 0x20);
}

/* prompt_line, without the window in which a Ctrl-C is lost: one that
 * arrives after the prompt is shown but before the read blocks would set
 * the flag and leave the read waiting. SIGINT is blocked while the flag is
 * checked, and let in only inside ppoll, which then returns at once. */
static char *ex_prompt(const char *prompt)
{
    FILE *out = render_tty() ? stdout : stderr;
    sigset_t block, old;

    fputs(prompt, out);
    fflush(out);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    if (!ex_interrupted && !stdin_buffered()) {
        struct pollfd p = { .fd = fileno(stdin), .events = POLLIN };
        ppoll(&p, 1, NULL, &old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (ex_interrupted)
        return NULL;
    return prompt_read_line(stdin);
}

/* Reads a line after prompt. Ctrl-C asks whether to leave: no goes back to
 * the same question, yes (or Ctrl-C again) leaves. *line is NULL unless
 * EX_LINE. */
static enum ex_read ex_read_line(const char *prompt, char **line)
{
    for (;;) {
        ex_interrupted = 0;
        *line = ex_prompt(prompt);
        if (*line)
            return EX_LINE;
        if (!ex_interrupted)
            return EX_EOF;
        clearerr(stdin);
        ex_interrupted = 0;
        fputc('\n', render_tty() ? stdout : stderr);
        char *yn = ex_prompt(_("leave the exercise? your answers are kept as a draft [y/N] "));
        bool leave = ex_interrupted || (yn && ex_yes(yn[0]));
        bool eof = yn == NULL && !ex_interrupted;
        free(yn);
        clearerr(stdin);
        if (leave)
            return EX_LEAVE;
        if (eof)
            return EX_EOF;
    }
}

/* Saves the answers so far as the draft. A draft that cannot be written is
 * said once; the exercise goes on. */
static void ex_save(struct ex_run *x)
{
    char **ids = xcalloc(x->v.ntasks + 1, sizeof(*ids));
    char **answers = xcalloc(x->v.ntasks + 1, sizeof(*answers));
    for (size_t i = 0; i < x->v.ntasks; i++) {
        ids[i] = x->v.tasks[i].id;
        answers[i] = x->v.tasks[i].answer;
    }
    if (draft_save(&x->ctx->cfg, x->id, x->attempt, ids, answers, x->v.ntasks) < 0 &&
        !x->draft_failed) {
        fprintf(stderr, _("campus: cannot save the draft: %s\n"), strerror(errno));
        x->draft_failed = true;
    }
    free(ids);
    free(answers);
}

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
        } else if (cur && cur->shown == NULL && hint_mark(p, ll)) {
            size_t hm = hint_mark(p, ll);
            cur->hint = xstrndup(p + hm, ll - hm);
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
    /* The rule says it in any language; the hint, in the server's words,
     * when the server sent no rules. */
    if (t->rule)
        return t->rule->kind == CHECK_FREE;
    return t->hint && (strstr(t->hint, "free text") || strstr(t->hint, "texte libre") ||
                       strstr(t->hint, "texto libre"));
}

/* Shows a task and asks for its answer until it has the form the task
 * asks for; a bad entry is explained, in the task's terms, and asked
 * again. Every answer goes into the draft at once, and so does free text
 * typed before a Ctrl-C. Returns EX_LINE when answered. */
static enum ex_read ask_task(struct ex_run *x, size_t k, const char *problem)
{
    struct ex_task *t = &x->v.tasks[k];
    char why[512];

    if (t->before && strspn(t->before, "\n") != strlen(t->before))
        printf("%s", t->before);
    printf("%s(%zu/%zu)%s %s", render_sgr("2"), k + 1, x->v.ntasks, render_reset(), t->shown);
    if (t->hint)
        printf(_("  %sanswer: %s%s\n"), render_sgr("36"), t->hint, render_reset());
    if (multi_line(t))
        printf(_("  %s(end with an empty line)%s\n"), render_sgr("2"), render_reset());
    if (problem)
        printf(_("  %sthe server did not take %s: %s%s\n"), render_sgr("33"),
               t->answer ? t->answer : _("the answer"), problem, render_reset());

    char *prompt = xasprintf("%s> ", t->id);
    enum ex_read rd;
    for (;;) {
        char *line;
        struct sbuf ans = {0};
        if ((rd = ex_read_line(prompt, &line)) != EX_LINE)
            break;
        sbuf_adds(&ans, line);
        while (multi_line(t) && line[0] != '\0') {
            free(line);
            if ((rd = ex_read_line("  ", &line)) != EX_LINE || line[0] == '\0')
                break;
            sbuf_addc(&ans, '\n');
            sbuf_adds(&ans, line);
        }
        free(line);
        char *typed = ans.data ? sbuf_take(&ans) : xstrdup("");
        if (rd == EX_LEAVE && typed[0]) {
            /* Leaving in the middle of free text: what was typed is kept. */
            free(t->answer);
            t->answer = typed;
            ex_save(x);
            break;
        }
        if (rd == EX_LEAVE) {
            free(typed);
            break;
        }
        if (check_answer(t->rule, typed, why, sizeof(why)) < 0) {
            printf(_("  %s%s: %s; try again%s\n"), render_sgr("33"), t->id, why, render_reset());
            free(typed);
            if (rd == EX_EOF)
                break;
            continue;
        }
        free(t->answer);
        t->answer = typed;
        ex_save(x);
        rd = EX_LINE;
        break;
    }
    free(prompt);
    putchar('\n');
    return rd;
}

/* The answer document (common/answer.c writes the format the server
 * parses). Unanswered tasks are left out. */
static char *answer_doc(const struct ex_view *v)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < v->ntasks; i++)
        answer_append(&b, v->tasks[i].id, v->tasks[i].answer);
    return b.data ? sbuf_take(&b) : xstrdup("");
}

/* Sends SUBMIT id {N} doc and prints the result. Returns an exit status;
 * *code is the server's answer (0 when there was none) and, for a 400,
 * *refusal its text (caller frees) when refusal is not NULL. */
static int submit(struct ctx *ctx, const char *id, const char *doc, size_t len, int *code,
                  char **refusal)
{
    struct request r;
    int rc;

    request_init(&r, false);      /* an attempt must never count twice */
    request_arg(&r, "SUBMIT");
    request_arg(&r, id);
    request_argn(&r, doc, len);
    r.literal_last = true;
    *code = 0;
    if (session_run(&ctx->sess, &r, 1) < 0) {
        rc = cmd_unavailable(ctx);
        if (ctx->sess.sent)
            fprintf(stderr, _("campus: check with: campus attempts %s\n"), id);
    } else if ((*code = r.resp.code) == 400 && refusal) {
        *refusal = xstrdup(r.resp.text ? r.resp.text : "");
        rc = CAMPUS_EXIT_REFUSED;
    } else if ((rc = cmd_status(&r.resp)) == 0) {
        char *left = resp_status_field(r.resp.text, "left");
        char *attempt = resp_status_field(r.resp.text, "attempt");
        const char *t = r.resp.text;
        const char *verdict = strstr(t, " passed") ? N_("passed")
                            : strstr(t, " failed") ? N_("failed")
                            : strstr(t, " pending-review") ? N_("pending review") : NULL;
        if (verdict)
            printf("%s%s%s", render_sgr(strcmp(verdict, "passed") == 0 ? "1;32" :
                                        strcmp(verdict, "failed") == 0 ? "1;31" : "1;33"),
                   _(verdict), render_reset());
        if (attempt)
            printf(_("%sattempt %s"), verdict ? ", " : "", attempt);
        if (left)
            printf(_(", attempts left: %s"), left);
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
 * 1 to submit, 0 to quit, -1 at end of input, -2 to leave (Ctrl-C). */
static int review(struct ex_run *x)
{
    struct ex_view *v = &x->v;
    for (;;) {
        char *doc = answer_doc(v), *line;
        printf(_("%sYour answers:%s\n%s\n"), render_sgr("1"), render_reset(),
               doc[0] ? doc : _("(none)\n"));
        free(doc);
        enum ex_read rd = ex_read_line(_("submit? [y]es, [e]dit TASK, [q]uit: "), &line);
        if (rd != EX_LINE)
            return rd == EX_EOF ? -1 : -2;
        char *arg = line + strcspn(line, " ");
        arg += strspn(arg, " ");
        int c = line[0];
        if (ex_yes(c)) {
            free(line);
            return 1;
        }
        if (c == 'q' || c == 'Q' || c == 'n' || c == 'N') {
            free(line);
            return 0;
        }
        if (c == 'e' || c == 'E') {
            char *which = NULL;
            if (arg[0])
                which = xstrdup(arg);
            else if ((rd = ex_read_line(_("task: "), &which)) != EX_LINE) {
                free(line);
                return rd == EX_EOF ? -1 : -2;
            }
            bool found = false;
            for (size_t i = 0; i < v->ntasks; i++)
                if (strcmp(v->tasks[i].id, which) == 0) {
                    found = true;
                    if ((rd = ask_task(x, i, NULL)) != EX_LINE) {
                        free(which);
                        free(line);
                        return rd == EX_EOF ? -1 : -2;
                    }
                }
            if (!found)
                printf(_("no task '%s'\n"), which);
            free(which);
        }
        free(line);
    }
}

/* The task a SUBMIT refusal names: its text begins "id: ..." (the grader
 * names the task it could not read), or NULL when it names none. */
static struct ex_task *refused_task(struct ex_view *v, const char *text)
{
    for (size_t i = 0; i < v->ntasks; i++) {
        size_t n = strlen(v->tasks[i].id);
        if (strncmp(text, v->tasks[i].id, n) == 0 && text[n] == ':')
            return &v->tasks[i];
    }
    return NULL;
}

/* Offers the saved draft, if there is one with answers; yes puts its
 * answers in the tasks of the same id. Returns EX_LINE to go on. */
static enum ex_read offer_draft(struct ex_run *x)
{
    struct draft d;
    enum ex_read rd = EX_LINE;

    if (draft_load(&x->ctx->cfg, x->id, &d) < 0)
        return EX_LINE;
    if (d.n > 0) {
        if (d.attempt && x->attempt && d.attempt != x->attempt)
            printf(_("%sthe draft was made for attempt %ld and this is attempt %ld: options and "
                   "items may be in another order%s\n"), render_sgr("33"), d.attempt, x->attempt,
                   render_reset());
        char *q = xasprintf(ngettext("resume the draft of %s with %zu answer? [Y/n] ",
                                     "resume the draft of %s with %zu answers? [Y/n] ", d.n),
                            d.saved, d.n);
        for (;;) {
            char *yn;
            if ((rd = ex_read_line(q, &yn)) != EX_LINE)
                break;
            bool yes = yn[0] == '\0' || ex_yes(yn[0]);
            bool no = !yes && (yn[0] == 'n' || yn[0] == 'N');
            free(yn);
            if (yes) {
                size_t used = 0;
                for (size_t i = 0; i < d.n; i++)
                    for (size_t k = 0; k < x->v.ntasks; k++)
                        if (strcmp(d.answers[i].id, x->v.tasks[k].id) == 0) {
                            free(x->v.tasks[k].answer);
                            x->v.tasks[k].answer = xstrdup(d.answers[i].answer);
                            used++;
                        }
                if (used < d.n)
                    printf(ngettext("%zu answer of the draft is for tasks this exercise no longer "
                                    "has\n",
                                    "%zu answers of the draft are for tasks this exercise no "
                                    "longer has\n", d.n - used),
                           d.n - used);
                break;
            }
            if (no)
                break;
        }
        free(q);
        putchar('\n');
    }
    draft_free(&d);
    return rd;
}

/* The exercise itself, once its views are in: the draft, each task not
 * yet answered (or whose draft answer no longer fits), the review, and
 * SUBMIT until the server takes the document. Returns an exit status. */
static int ex_do(struct ex_run *x)
{
    struct ex_view *v = &x->v;
    struct sigaction sa, old;
    int go = 1, rc = CAMPUS_EXIT_REFUSED;
    char why[512];

    /* No SA_RESTART: Ctrl-C must interrupt the read of an answer. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = ex_on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);

    if (offer_draft(x) != EX_LINE)
        go = -1;
    for (size_t i = 0; i < v->ntasks && go > 0; i++) {
        struct ex_task *t = &v->tasks[i];
        if (t->answer && check_answer(t->rule, t->answer, why, sizeof(why)) == 0)
            continue;
        enum ex_read rd = ask_task(x, i, NULL);
        go = rd == EX_LINE ? 1 : rd == EX_EOF ? -1 : -2;
    }
    if (v->after && go > 0)
        printf("%s", v->after);
    while (go > 0 && (go = review(x)) > 0) {
        char *doc = answer_doc(v), *refusal = NULL;
        int code;
        /* SUBMIT runs with Ctrl-C as usual: the draft is already saved. */
        sigaction(SIGINT, &old, NULL);
        rc = submit(x->ctx, x->id, doc, strlen(doc), &code, &refusal);
        sigaction(SIGINT, &sa, NULL);
        free(doc);
        if (code == 200) {
            draft_remove(&x->ctx->cfg, x->id);
            break;
        }
        if (code != 400) {
            fprintf(stderr, _("campus: your answers are kept as a draft: campus exercise %s\n"),
                    x->id);
            break;
        }
        /* A document the server could not read uses no attempt: back to
         * the task it names, or to the review when it names none. */
        struct ex_task *t = refused_task(v, refusal);
        if (t) {
            enum ex_read rd = ask_task(x, (size_t)(t - v->tasks), refusal);
            go = rd == EX_LINE ? 1 : rd == EX_EOF ? -1 : -2;
        } else {
            printf(_("%sthe server did not take the answers: %s%s\n"), render_sgr("33"), refusal,
                   render_reset());
        }
        free(refusal);
    }
    sigaction(SIGINT, &old, NULL);
    if (go <= 0) {
        size_t n = 0;
        for (size_t i = 0; i < v->ntasks; i++)
            n += v->tasks[i].answer != NULL;
        fprintf(stderr, _("campus: %s; nothing was submitted%s\n"),
                go == -1 ? _("end of input") : go == -2 ? _("left the exercise") : _("cancelled"),
                n ? _("; your answers are kept as a draft") : "");
        rc = CAMPUS_EXIT_REFUSED;
    }
    return rc;
}

int cmd_exercise(struct ctx *ctx, int argc, char **argv)
{
    struct ex_run x = { .ctx = ctx, .id = argv[1] };
    struct request r[3];
    int rc;
    char w[16];

    if (config_token(&ctx->cfg) == NULL) {
        fputs(_("campus: not logged in: campus login\n"), stderr);
        return CAMPUS_EXIT_LOGIN;
    }
    request_init(&r[0], true);
    request_arg(&r[0], "READ");
    request_arg(&r[0], x.id);
    request_arg(&r[0], "exercise");   /* the text above its exercise: no pointer to it */
    if (render_tty()) {
        int width = render_width();
        snprintf(w, sizeof(w), "%d", width < CAMPUS_WIDTH_MIN ? CAMPUS_WIDTH_MIN
                                     : width > CAMPUS_WIDTH_MAX ? CAMPUS_WIDTH_MAX : width);
        request_arg(&r[0], w);
    }
    /* The text view is shown; the JSON view, in the same batch, says what
     * each answer must look like (options, items, keys, units). */
    request_init(&r[1], true);
    request_arg(&r[1], "EXERCISE");
    request_arg(&r[1], x.id);
    request_init(&r[2], true);
    request_arg(&r[2], "EXERCISE");
    request_arg(&r[2], x.id);
    request_arg(&r[2], "json");
    if (session_run(&ctx->sess, r, 3) < 0) {
        rc = cmd_unavailable(ctx);
        goto out;
    }
    if ((rc = cmd_status(&r[1].resp)) != 0)
        goto out;

    view_parse(r[1].resp.body ? r[1].resp.body : "", r[1].resp.body_len, &x.v);
    if (r[2].resp.code == 200 && r[2].resp.body)
        check_rules_parse(r[2].resp.body, r[2].resp.body_len, &x.rules);
    for (size_t i = 0; i < x.v.ntasks; i++)
        x.v.tasks[i].rule = check_rule_find(&x.rules, x.v.tasks[i].id);
    char *attempt = resp_status_field(r[1].resp.text, "attempt");
    x.attempt = attempt ? strtol(attempt, NULL, 10) : 0;
    free(attempt);
    if (r[0].resp.code == 200 && r[0].resp.body) {
        render_page(r[0].resp.body, r[0].resp.body_len);
        putchar('\n');
    }
    if (x.v.header)
        printf("%s%s%s", render_sgr("1"), x.v.header, render_reset());
    rc = ex_do(&x);
    view_free(&x.v);
    check_rules_free(&x.rules);
out:
    request_free(&r[0]);
    request_free(&r[1]);
    request_free(&r[2]);
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
        fprintf(stderr, _("campus: cannot read %s\n"), argv[2]);
        return CAMPUS_EXIT_USAGE;
    }
    if (config_token(&ctx->cfg) == NULL) {
        free(doc);
        fputs(_("campus: not logged in: campus login\n"), stderr);
        return CAMPUS_EXIT_LOGIN;
    }
    int code;
    int rc = submit(ctx, argv[1], doc, len, &code, NULL);
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

/* A grading comment typed at the terminal: $VISUAL or $EDITOR on a
 * temporary file when one is set, else lines ending with an empty line.
 * From a pipe, the whole of standard input. NULL when nothing was given. */
static char *review_comment(void)
{
    struct sbuf b = {0};
    const char *editor = getenv("VISUAL");

    if (editor == NULL || editor[0] == '\0')
        editor = getenv("EDITOR");
    if (!isatty(STDIN_FILENO)) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
            sbuf_add(&b, buf, n);
    } else if (editor && editor[0]) {
        const char *tmpdir = getenv("TMPDIR");
        char *tmpl = xasprintf("%s/campus-comment-XXXXXX", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
        int fd = mkstemp(tmpl);
        if (fd < 0) {
            free(tmpl);
            return NULL;
        }
        close(fd);
        /* The editor is a command line, as git runs $EDITOR: through sh. */
        char *cmd = xasprintf("%s \"$1\"", editor);
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", cmd, "sh", tmpl, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        free(cmd);
        size_t len;
        char *text = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0
                         ? config_read_file(tmpl, &len) : NULL;
        unlink(tmpl);
        free(tmpl);
        if (text == NULL)
            return NULL;
        sbuf_adds(&b, text);
        free(text);
    } else {
        printf(_("comment (end with an empty line):\n"));
        char *line;
        while ((line = prompt_line("  ")) != NULL && line[0] != '\0') {
            if (b.len)
                sbuf_addc(&b, '\n');
            sbuf_adds(&b, line);
            free(line);
        }
        free(line);
    }
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' ||
                     b.data[b.len - 1] == ' '))
        b.data[--b.len] = '\0';
    if (b.len == 0) {
        sbuf_free(&b);
        return NULL;
    }
    return sbuf_take(&b);
}

int cmd_review(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;
    const char *sub = argv[1];
    bool list = strcmp(sub, "list") == 0, show = strcmp(sub, "show") == 0;
    bool grade = strcmp(sub, "grade") == 0;

    if (!((list && argc <= 3) || (show && argc == 3) || (grade && argc >= 4)))
        return cmd_usage(cmd_find("review"));
    request_init(&r, !grade);
    request_arg(&r, "REVIEW");
    request_arg(&r, list ? "LIST" : show ? "SHOW" : "GRADE");
    if (grade) {
        /* The rest of the line is the comment, so it needs no quotes; with
         * none, it is typed (or piped) now. */
        struct sbuf c = {0};
        char *comment;
        for (int i = 4; i < argc; i++)
            sbuf_printf(&c, "%s%s", i > 4 ? " " : "", argv[i]);
        if (c.len)
            comment = sbuf_take(&c);
        else if (ctx->in_shell && !isatty(STDIN_FILENO))
            comment = NULL;       /* the rest of stdin is the shell's commands */
        else
            comment = review_comment();
        sbuf_free(&c);
        if (comment == NULL) {
            request_free(&r);
            fputs(_("campus: review grade: no comment given; nothing was graded\n"), stderr);
            return CAMPUS_EXIT_USAGE;
        }
        request_arg(&r, argv[2]);
        request_arg(&r, argv[3]);
        request_arg(&r, comment);
        r.literal_last = strchr(comment, '\n') != NULL;
        free(comment);
    } else {
        for (int i = 2; i < argc; i++)
            request_arg(&r, argv[i]);
    }
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
