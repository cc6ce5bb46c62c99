/* live.c: campus live COHORT follows a trainer's live session: each lesson
 * they go to is shown, what they say is printed, polls are asked in place;
 * a dropped link reconnects by itself and lands where the session is.
 * campus live --lead COHORT is the trainer's console. The push lines are
 * defined in docs/PROTOCOL.md ("Live sessions"). */
#include "campus.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIVE_PING_S        60    /* a PING this often keeps the idle timeout away */
#define LIVE_BACKOFF_MAX_S 10    /* the longest wait between reconnection tries */
#define LIVE_INPUT_MAX     8192  /* a typed line, or a poll's GIFT */

struct live {
    struct ctx *ctx;
    const char *cohort;
    bool lead;
    bool poll_open;
    char kind[16];
    size_t noptions;
    bool stdin_open;
    time_t last_sent;
};

static struct session *sess(struct live *lv)
{
    return &lv->ctx->sess;
}

/* Runs one request (args NULL-ended) and fills r; pushes that arrive meanwhile
 * are kept for later. Returns 0 when answered, -1 when the link failed. */
static int ask(struct live *lv, struct resp *r, bool literal_last, const char *verb, ...)
{
    struct request req;
    va_list ap;

    request_init(&req, true);
    request_arg(&req, verb);
    va_start(ap, verb);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        request_arg(&req, a);
    va_end(ap);
    req.literal_last = literal_last;
    if (session_connect(sess(lv)) == 0)
        sess(lv)->net.keep_pushes = true;
    int rc = session_run(sess(lv), &req, 1);
    sess(lv)->net.keep_pushes = true;
    lv->last_sent = time(NULL);
    resp_free(r);
    *r = req.resp;
    memset(&req.resp, 0, sizeof(req.resp));
    request_free(&req);
    return rc;
}

static void show_lesson(struct live *lv, const char *lesson, const char *anchor)
{
    struct resp r = {0};
    char width[16];

    snprintf(width, sizeof(width), "%d", render_width());
    printf("\n%s== %s%s%s ==%s\n", render_sgr("1"), lesson, anchor && anchor[0] ? " #" : "",
           anchor ? anchor : "", render_reset());
    if (ask(lv, &r, false, "READ", lesson, "text", width, NULL) == 0 && r.code == 200 && r.body)
        fwrite(r.body, 1, r.body_len, stdout);
    else if (r.code)
        render_error(&r);
    fflush(stdout);
    resp_free(&r);
}

static void show_poll_json(struct live *lv, const char *json)
{
    json_t *v = json ? json_loads(json, 0, NULL) : NULL;

    lv->poll_open = json_is_object(v);
    if (!lv->poll_open) {
        json_decref(v);
        return;
    }
    const char *q = json_string_value(json_object_get(v, "question"));
    const char *kind = json_string_value(json_object_get(v, "kind"));
    snprintf(lv->kind, sizeof(lv->kind), "%s", kind ? kind : "");
    printf(_("\n%sPoll:%s %s\n"), render_sgr("1"), render_reset(), q ? q : "");
    json_t *opts = json_object_get(v, "options");
    lv->noptions = json_array_size(opts);
    for (size_t i = 0; i < lv->noptions && strcmp(lv->kind, "choice") == 0; i++)
        printf("  %c) %s\n", (int)('a' + i), json_string_value(json_array_get(opts, i)));
    if (!lv->lead)
        printf("%s\n", strcmp(lv->kind, "choice") == 0 ? _("Answer with a letter, then Enter.") :
                       strcmp(lv->kind, "truefalse") == 0 ? _("Answer true or false, then Enter.") :
                       _("Type your answer, then Enter."));
    fflush(stdout);
    json_decref(v);
}

/* The state of the session as LIVE JOIN and LIVE STATE give it. */
static void show_state(struct live *lv, const struct resp *r, bool lesson_too)
{
    char *lesson = resp_kv(r, "lesson"), *anchor = resp_kv(r, "anchor"), *poll = resp_kv(r, "poll");
    char *state = resp_kv(r, "state"), *room = resp_kv(r, "room");

    if (state && strcmp(state, "paused") == 0)
        fputs(_("(paused: the server is waiting for its store)\n"), stdout);
    if (lv->lead && room)
        printf(_("(room: %s)\n"), room);
    if (lesson_too && lesson && lesson[0])
        show_lesson(lv, lesson, anchor);
    show_poll_json(lv, poll);
    free(lesson);
    free(anchor);
    free(poll);
    free(state);
    free(room);
}

/* Finds "key\tvalue" lines in a push body; value copied (caller frees). */
static char *body_field(const struct resp *p, const char *key)
{
    size_t kl = strlen(key);
    for (const char *s = p->body; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len > kl && strncmp(s, key, kl) == 0 && s[kl] == '\t')
            return xstrndup(s + kl + 1, len - kl - 1);
        s += len + (nl != NULL);
    }
    return NULL;
}

static void show_tally(const struct resp *p)
{
    char *poll = body_field(p, "poll"), *answers = body_field(p, "answers");
    char *right = body_field(p, "right"), *closed = body_field(p, "closed");
    struct sbuf b = {0};

    for (const char *s = p->body; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len > 6 && strncmp(s, "count\t", 6) == 0) {
            char *c = xstrndup(s + 6, len - 6), *tab = strchr(c, '\t');
            if (tab) {
                *tab = '\0';
                sbuf_printf(&b, "%s%s %s", b.len ? ", " : "", c, tab + 1);
            }
            free(c);
        }
        s += len + (nl != NULL);
    }
    printf(closed && strcmp(closed, "yes") == 0 ? _("Results of poll %s: %s answers, %s right%s%s\n")
                                                 : _("Tally of poll %s: %s answers, %s right%s%s\n"),
           poll ? poll : "?", answers ? answers : "0", right ? right : "0", b.len ? ": " : "",
           b.len ? b.data : "");
    fflush(stdout);
    free(poll);
    free(answers);
    free(right);
    free(closed);
    free(b.data);
}

/* Handles one push; returns 1 when the session has ended. */
static int on_push(struct live *lv, const struct resp *p)
{
    const char *t = p->text;

    if (strncmp(t, "LIVE GOTO ", 10) == 0) {
        if (!lv->lead) {
            char *id = xstrdup(t + 10), *sp = strchr(id, ' ');
            if (sp)
                *sp++ = '\0';
            show_lesson(lv, id, sp);
            free(id);
        }
    } else if (strcmp(t, "LIVE SAY") == 0) {
        if (!lv->lead) {
            printf(_("%strainer:%s %.*s\n"), render_sgr("1;36"), render_reset(), (int)p->body_len,
                   p->body ? p->body : "");
            fflush(stdout);
        }
    } else if (strcmp(t, "LIVE POLL") == 0) {
        struct sbuf b = {0};
        char *q = body_field(p, "question"), *kind = body_field(p, "kind");
        json_t *opts = json_array();
        for (const char *s = p->body; s && *s;) {
            const char *nl = strchr(s, '\n');
            size_t len = nl ? (size_t)(nl - s) : strlen(s);
            if (len > 9 && strncmp(s, "option\t", 7) == 0)
                json_array_append_new(opts, json_stringn(s + 9, len - 9));
            s += len + (nl != NULL);
        }
        json_t *v = json_pack("{s:s,s:s,s:o}", "kind", kind ? kind : "", "question", q ? q : "", "options", opts);
        char *js = json_dumps(v, JSON_COMPACT);
        if (!lv->lead)
            show_poll_json(lv, js);
        else
            lv->poll_open = true;
        free(js);
        json_decref(v);
        free(q);
        free(kind);
        free(b.data);
    } else if (strcmp(t, "LIVE TALLY") == 0) {
        char *closed = body_field(p, "closed");
        if (closed && strcmp(closed, "yes") == 0)
            lv->poll_open = false;
        free(closed);
        show_tally(p);
    } else if (strncmp(t, "LIVE ROOM ", 10) == 0) {
        printf(_("(room: %s)\n"), t + 10);
        fflush(stdout);
    } else if (strcmp(t, "LIVE END") == 0) {
        fputs(_("\nThe live session has ended.\n"), stdout);
        fflush(stdout);
        return 1;
    } else if (strcmp(t, "LIVE PAUSED") == 0) {
        fputs(_("(paused: the server is waiting for its store)\n"), stdout);
        fflush(stdout);
    } else if (strcmp(t, "LIVE RESUMED") == 0) {
        fputs(_("(resumed)\n"), stdout);
        fflush(stdout);
    } else if (strcmp(t, "LIVE RESYNC") == 0) {
        struct resp r = {0};
        if (ask(lv, &r, false, "LIVE", "STATE", NULL) == 0 && r.code == 200)
            show_state(lv, &r, !lv->lead);
        resp_free(&r);
    }
    return 0;
}

/* Joins (learner) or starts/resumes (trainer); 0 or an exit status. */
static int enter(struct live *lv, bool first)
{
    struct resp r = {0};

    if (ask(lv, &r, false, "LIVE", lv->lead ? "START" : "JOIN", lv->cohort, NULL) < 0) {
        resp_free(&r);
        return -1;
    }
    int st = 0;
    if (r.code >= 400) {
        st = cmd_status(&r);
    } else if (lv->lead) {
        printf("%s\n", r.text);
        if (first)
            fputs(_("Commands: goto COURSE/LESSON [ANCHOR], say TEXT, poll FILE (or poll, then GIFT "
                    "lines ending with a line '.'), close, end, room, state, quit.\n"), stdout);
        struct resp s = {0};
        if (ask(lv, &s, false, "LIVE", "STATE", NULL) == 0 && s.code == 200)
            show_state(lv, &s, false);
        resp_free(&s);
    } else {
        printf(first ? _("Following the live session of cohort %s.\n")
                     : _("Following the live session of cohort %s again.\n"), lv->cohort);
        show_state(lv, &r, true);
    }
    fflush(stdout);
    resp_free(&r);
    return st;
}

/* After the link dropped: tries again, waiting longer each time (up to
 * LIVE_BACKOFF_MAX_S), until the server answers; then lands where the
 * session is. Returns 0, or an exit status when the server refuses. */
static int reconnect(struct live *lv)
{
    int wait = 1;

    fputs(_("(link lost: reconnecting)\n"), stdout);
    fflush(stdout);
    for (;;) {
        session_close(sess(lv));
        session_init(sess(lv), &lv->ctx->cfg);
        int st = enter(lv, false);
        if (st >= 0)
            return st;
        sleep((unsigned)wait);
        wait = wait * 2 > LIVE_BACKOFF_MAX_S ? LIVE_BACKOFF_MAX_S : wait * 2;
    }
}

static char *read_line(void)
{
    struct sbuf b = {0};
    int ch;

    while ((ch = getchar()) != EOF && ch != '\n')
        if (b.len < LIVE_INPUT_MAX)
            sbuf_add(&b, (char[]){ (char)ch }, 1);
    if (ch == EOF && b.len == 0) {
        free(b.data);
        return NULL;
    }
    return b.data ? sbuf_take(&b) : xstrdup("");
}

static void print_answer(const struct resp *r)
{
    if (r->code >= 400)
        render_error(r);
    else if (r->code)
        printf("%s\n", r->text);
    fflush(stdout);
}

/* The trainer's commands; returns 1 to quit. */
static int lead_command(struct live *lv, char *line)
{
    struct resp r = {0};
    char *arg = strchr(line, ' ');

    if (arg)
        *arg++ = '\0';
    int rc = 0;
    if (strcmp(line, "goto") == 0 && arg) {
        char *anchor = strchr(arg, ' ');
        if (anchor)
            *anchor++ = '\0';
        rc = anchor ? ask(lv, &r, false, "LIVE", "GOTO", arg, anchor, NULL)
                    : ask(lv, &r, false, "LIVE", "GOTO", arg, NULL);
    } else if (strcmp(line, "say") == 0 && arg) {
        rc = ask(lv, &r, false, "LIVE", "SAY", arg, NULL);
    } else if (strcmp(line, "poll") == 0) {
        char *gift = NULL;
        size_t len = 0;
        if (arg) {
            gift = config_read_file(arg, &len);
            if (gift == NULL) {
                fprintf(stderr, _("campus: cannot read %s\n"), arg);
                return 0;
            }
        } else {
            struct sbuf b = {0};
            char *l;
            while ((l = read_line()) != NULL && strcmp(l, ".") != 0) {
                sbuf_printf(&b, "%s\n", l);
                free(l);
            }
            free(l);
            gift = b.data ? sbuf_take(&b) : xstrdup("");
        }
        rc = ask(lv, &r, true, "LIVE", "POLL", gift, NULL);
        free(gift);
    } else if (strcmp(line, "close") == 0) {
        rc = ask(lv, &r, false, "LIVE", "CLOSE", NULL);
        if (rc == 0 && r.code == 200) {
            char *counts = resp_kv(&r, "counts"), *answers = resp_kv(&r, "answers"), *right = resp_kv(&r, "right");
            printf(_("Results: %s answers, %s right: %s\n"), answers ? answers : "0", right ? right : "0",
                   counts ? counts : "{}");
            free(counts);
            free(answers);
            free(right);
            resp_free(&r);
            return 0;
        }
    } else if (strcmp(line, "end") == 0) {
        rc = ask(lv, &r, false, "LIVE", "END", NULL);
        print_answer(&r);
        resp_free(&r);
        return 1;
    } else if (strcmp(line, "room") == 0) {
        rc = ask(lv, &r, false, "LIVE", "ROOM", NULL);
        if (rc == 0 && r.code == 200) {
            printf("%s\n", r.text);
            render_table(&r, NULL, 0);
            resp_free(&r);
            return 0;
        }
    } else if (strcmp(line, "state") == 0) {
        rc = ask(lv, &r, false, "LIVE", "STATE", NULL);
        if (rc == 0 && r.code == 200 && r.body)
            fwrite(r.body, 1, r.body_len, stdout);
    } else if (strcmp(line, "quit") == 0) {
        return 1;
    } else if (line[0]) {
        fputs(_("goto COURSE/LESSON [ANCHOR] | say TEXT | poll [FILE] | close | end | room | state | "
                "quit\n"), stdout);
    }
    if (rc == 0)
        print_answer(&r);
    resp_free(&r);
    return 0;
}

int cmd_live(struct ctx *ctx, int argc, char **argv)
{
    struct live lv = { .ctx = ctx, .stdin_open = true };

    lv.lead = cmd_flag(&argc, argv, "--lead");
    if (argc != 2)
        return cmd_usage(cmd_find("live"));
    lv.cohort = argv[1];
    if (config_token(&ctx->cfg) == NULL) {
        fputs(_("campus: not logged in: campus login\n"), stderr);
        return CAMPUS_EXIT_LOGIN;
    }
    int st = enter(&lv, true);
    if (st < 0) {
        st = reconnect(&lv);
        if (st)
            return st;
    } else if (st) {
        return st;
    }
    for (;;) {
        struct resp p = {0};
        char err[256];
        while (net_buffered(&sess(&lv)->net)) {
            if (net_read_push(&sess(&lv)->net, &p, err, sizeof(err)) < 0)
                break;
            if (on_push(&lv, &p)) {
                resp_free(&p);
                return CAMPUS_EXIT_OK;
            }
            resp_free(&p);
        }
        struct pollfd fds[2] = { { .fd = sess(&lv)->net.fd, .events = POLLIN },
                                 { .fd = 0, .events = POLLIN } };
        int n = poll(fds, lv.stdin_open ? 2 : 1, 1000);
        if (n < 0 && errno != EINTR)
            return CAMPUS_EXIT_UNAVAILABLE;
        if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (net_read_push(&sess(&lv)->net, &p, err, sizeof(err)) < 0) {
                resp_free(&p);
                if ((st = reconnect(&lv)) != 0)
                    return st;
                continue;
            }
            int ended = on_push(&lv, &p);
            resp_free(&p);
            if (ended)
                return CAMPUS_EXIT_OK;
        }
        if (n > 0 && lv.stdin_open && (fds[1].revents & (POLLIN | POLLHUP))) {
            char *line = read_line();
            if (line == NULL) {
                /* No more input: a learner goes on following; a trainer
                 * leaves the console (the session goes on). */
                lv.stdin_open = false;
                if (lv.lead)
                    return CAMPUS_EXIT_OK;
                continue;
            }
            if (lv.lead) {
                int quit = lead_command(&lv, line);
                free(line);
                if (quit)
                    return CAMPUS_EXIT_OK;
            } else if (line[0]) {
                struct resp r = {0};
                if (!lv.poll_open)
                    fputs(_("(no poll is open)\n"), stdout);
                else if (ask(&lv, &r, false, "LIVE", "ANSWER", line, NULL) == 0)
                    print_answer(&r);
                resp_free(&r);
                free(line);
            } else {
                free(line);
            }
        }
        if (time(NULL) - lv.last_sent >= LIVE_PING_S) {
            struct resp r = {0};
            if (ask(&lv, &r, false, "PING", NULL) < 0 && (st = reconnect(&lv)) != 0)
                return st;
            resp_free(&r);
        }
    }
}
