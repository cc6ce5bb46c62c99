/* main.c: campus, the terminal client: global options, the table of
 * subcommands, dispatch, and the exit statuses. */
#include "campus.h"

#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmd_help(struct ctx *ctx, int argc, char **argv);

/* opts: the options a command takes, "--flag" or "--option=" (takes a
 * value), separated by commas. */
struct command_opts {
    const char *name;
    const char *opts;
};

const struct command cmd_table[] = {
    { "courses", cmd_courses, 0, 0, "courses", "list the courses" },
    { "course", cmd_course, 1, 1, "course ID",
      "a course's outline: lessons with done marks, a bar per module" },
    { "read", cmd_read, 0, 1, "read [COURSE/LESSON] [--width N] [--stats]",
      "a lesson (no argument: the next one to do); --stats prints the bytes exchanged" },
    { "next", cmd_next, 0, 1, "next [COURSE]", "the next lesson to do" },
    { "done", cmd_done, 0, 1, "done [COURSE/LESSON]",
      "marks a lesson complete (no argument: the last one read); queued when offline" },
    { "progress", cmd_progress, 0, 1, "progress [COURSE]", "progress bars per course or module" },
    { "search", cmd_search, 1, -1, "search WORDS...", "full-text search over every lesson" },
    { "sync", cmd_sync, 1, -1, "sync COURSE...",
      "downloads courses, with their files, for reading offline" },
    { "file", cmd_file, 1, 1, "file COURSE[/NAME]",
      "a course's files (templates, worksheets), or one of them on standard output" },
    { "exercise", cmd_exercise, 1, 1, "exercise COURSE/ID",
      "does an exercise: each task in turn, checked as typed and kept as a draft; review, submit" },
    { "submit", cmd_submit, 2, 2, "submit COURSE/ID FILE",
      "submits an answer file (- for stdin): one 'task-id: answer' line per task" },
    { "attempts", cmd_attempts, 1, 1, "attempts COURSE/ID", "your attempts at an exercise" },
    { "attempt", cmd_attempt, 2, 2, "attempt COURSE/ID N",
      "one attempt: each task's score, feedback, and a trainer's comment and rubric levels" },
    { "review", cmd_review, 1, -1,
      "review list [COURSE] | show ID | grade ID POINTS [COMMENT...]",
      "the queue of answers trainers grade by hand (trainers); no comment: typed or $EDITOR" },
    { "cohort", cmd_cohort, 1, -1,
      "cohort create COURSE NAME START [self|every N days] [TZ] | join CODE | leave ID | list | "
      "show ID | code ID [rotate|off] | close ID | trainer ID add|remove NAME | add ID NAME... | "
      "remove ID NAME | enrol ID [accounts] FILE | open ID MODULE | "
      "extend ID LEARNER MODULE DATE | progress ID [COLUMN [asc|desc]] | grades ID",
      "cohorts of a course: pacing, enrolment, roster and grades (enrol reads a CSV file, - for stdin)" },
    { "grades", cmd_grades, 2, 2, "grades ID FILE",
      "saves a cohort's gradebook CSV (Moodle's export shape) to FILE (- for stdout)" },
    { "live", cmd_live, 1, 2, "live COHORT | live --lead COHORT",
      "follows a cohort's live session (lessons, what the trainer says, polls); --lead: the trainer's console" },
    { "cert", cmd_cert, 1, 2, "cert COURSE [FILE] | cert list",
      "saves your certificate of a course (default COURSE.jwt, - for stdout); list: yours" },
    { "verify", cmd_verify, 1, 1, "verify FILE [--online]",
      "checks a certificate offline with the saved issuer keys; --online: the server, revocation too" },
    { "login", cmd_login, 0, 1, "login [SERVER] [--user NAME] [--password-stdin]",
      "logs in and saves the session (and the server)" },
    { "logout", cmd_logout, 0, 0, "logout", "ends the session and forgets it" },
    { "whoami", cmd_whoami, 0, 0, "whoami", "the account logged in, and its role" },
    { "register", cmd_register, 0, 1, "register [NAME] [--password-stdin]",
      "creates a learner account" },
    { "passwd", cmd_passwd, 0, 0, "passwd [--password-stdin]", "changes your password" },
    { "user", cmd_user, 1, 4, "user list | add NAME ROLE | role NAME ROLE | disable NAME | enable NAME",
      "manages accounts (admins); add asks for the password" },
    { "call", cmd_call, 1, -1, "call VERB [ARG...]",
      "sends one CTP/1 request as is and prints the answer (for verbs without a command)" },
    { "help", cmd_help, 0, 1, "help [COMMAND]", "this list, or one command's usage" },
    { NULL, NULL, 0, 0, NULL, NULL },
};

/* The options each command accepts; anything else starting with "--" is a
 * usage error. */
static const struct command_opts command_opts[] = {
    { "read", "--width=,--stats" },
    { "verify", "--online" },
    { "live", "--lead" },
    { "login", "--user=,--password-stdin" },
    { "register", "--password-stdin" },
    { "passwd", "--password-stdin" },
    { "user", "--password-stdin" },
    { NULL, NULL },
};

static const char *exit_help =
    "Exit status:\n"
    "  0  success\n"
    "  1  the server refused the request (a 4xx answer other than 401), or you cancelled\n"
    "  2  usage error\n"
    "  3  cannot connect, the link failed, or the server failed (a 5xx answer)\n"
    "  4  not logged in, or the session has ended (401)\n";

static void usage_all(FILE *f)
{
    fputs("usage: campus [--server HOST:PORT] [--no-tls] COMMAND [ARGS]\n"
          "       campus                     (an interactive shell)\n\n"
          "Commands:\n", f);
    for (const struct command *c = cmd_table; c->name; c++)
        fprintf(f, "  %-40s %s\n", c->usage, c->help);
    fputs("\nServer: --server, else $CAMPUS_SERVER, else the one saved at login, else\n"
          "localhost:7070. tls://HOST:PORT speaks TLS from the first byte; otherwise\n"
          "STARTTLS is used when the server offers it (--no-tls: never).\n"
          "Piped output is tab-separated rows without a header; colour only on a\n"
          "terminal and never with NO_COLOR set; long lessons go through $PAGER.\n\n", f);
    fputs(exit_help, f);
}

const struct command *cmd_find(const char *name)
{
    for (const struct command *c = cmd_table; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int cmd_usage(const struct command *c)
{
    fprintf(stderr, "usage: campus %s\n", c->usage);
    return CAMPUS_EXIT_USAGE;
}

bool cmd_flag(int *argc, char **argv, const char *flag)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], flag) == 0) {
            memmove(argv + i, argv + i + 1, (size_t)(*argc - i) * sizeof(*argv));
            (*argc)--;
            return true;
        }
    }
    return false;
}

char *cmd_option(int *argc, char **argv, const char *flag)
{
    size_t fl = strlen(flag);
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return NULL;
        if (strncmp(argv[i], flag, fl) == 0 && argv[i][fl] == '=') {
            char *v = argv[i] + fl + 1;
            memmove(argv + i, argv + i + 1, (size_t)(*argc - i) * sizeof(*argv));
            (*argc)--;
            return v;
        }
        if (strcmp(argv[i], flag) == 0 && i + 1 < *argc) {
            char *v = argv[i + 1];
            memmove(argv + i, argv + i + 2, (size_t)(*argc - i - 1) * sizeof(*argv));
            (*argc) -= 2;
            return v;
        }
    }
    return NULL;
}

/* Counts positional arguments, checking every option against the
 * command's list. Returns the count, or -1 on an unknown option. */
static int positional(const struct command *c, int argc, char **argv)
{
    const char *opts = "";
    int n = 0;

    for (const struct command_opts *o = command_opts; o->name; o++)
        if (strcmp(o->name, c->name) == 0)
            opts = o->opts;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            n += argc - i - 1;
            break;
        }
        if (strncmp(argv[i], "--", 2) != 0 || c->fn == cmd_call) {
            n++;
            continue;
        }
        size_t len = strcspn(argv[i], "=");
        const char *p = opts;
        bool found = false, takes = false;
        while (*p) {
            size_t ol = strcspn(p, ",=");
            if (ol == len && strncmp(p, argv[i], len) == 0) {
                found = true;
                takes = p[ol] == '=';
            }
            p += ol;
            p += *p == '=';
            p += *p == ',';
        }
        if (!found) {
            fprintf(stderr, "campus: %s: unknown option %s\n", c->name, argv[i]);
            return -1;
        }
        if (takes && argv[i][len] != '=')
            i++;
    }
    return n;
}

int cmd_run(struct ctx *ctx, int argc, char **argv)
{
    const struct command *c = cmd_find(argv[0]);

    if (c == NULL) {
        fprintf(stderr, "campus: unknown command '%s' (try campus help)\n", argv[0]);
        return CAMPUS_EXIT_USAGE;
    }
    int n = positional(c, argc, argv);
    if (n < 0 || n < c->min_args || (c->max_args >= 0 && n > c->max_args))
        return cmd_usage(c);
    /* A "--" ends the options; the command sees the words after it. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0 && c->fn != cmd_call) {
            memmove(argv + i, argv + i + 1, (size_t)(argc - i) * sizeof(*argv));
            argc--;
            break;
        }
    return c->fn(ctx, argc, argv);
}

int cmd_status(const struct resp *r)
{
    if (r->code < 400)
        return CAMPUS_EXIT_OK;
    render_error(r);
    if (r->code == 401) {
        fputs("campus: log in with: campus login\n", stderr);
        return CAMPUS_EXIT_LOGIN;
    }
    return r->code >= 500 ? CAMPUS_EXIT_UNAVAILABLE : CAMPUS_EXIT_REFUSED;
}

int cmd_unavailable(struct ctx *ctx)
{
    fprintf(stderr, "campus: %s\n", ctx->sess.err[0] ? ctx->sess.err : "cannot reach the server");
    return CAMPUS_EXIT_UNAVAILABLE;
}

static int cmd_help(struct ctx *ctx, int argc, char **argv)
{
    if (argc == 2) {
        const struct command *c = cmd_find(argv[1]);
        if (c == NULL) {
            fprintf(stderr, "campus: unknown command '%s'\n", argv[1]);
            return CAMPUS_EXIT_USAGE;
        }
        printf("usage: campus %s\n  %s\n", c->usage, c->help);
        return CAMPUS_EXIT_OK;
    }
    usage_all(stdout);
    return CAMPUS_EXIT_OK;
}

int main(int argc, char **argv)
{
    const char *server = NULL;
    bool no_tls = false;
    int i = 1;

    setlocale(LC_ALL, "");
    signal(SIGPIPE, SIG_IGN);
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage_all(stdout);
            return CAMPUS_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("campus %s\n", CAMPUS_VERSION);
            return CAMPUS_EXIT_OK;
        } else if (strcmp(a, "--no-tls") == 0) {
            no_tls = true;
        } else if ((strcmp(a, "--server") == 0 || strcmp(a, "-s") == 0) && i + 1 < argc) {
            server = argv[++i];
        } else if (strncmp(a, "--server=", 9) == 0) {
            server = a + 9;
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else {
            fprintf(stderr, "campus: unknown option %s\n\n", a);
            usage_all(stderr);
            return CAMPUS_EXIT_USAGE;
        }
    }

    struct ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    render_init();
    config_load(&ctx.cfg, server);
    ctx.cfg.no_tls = no_tls;
    session_init(&ctx.sess, &ctx.cfg);

    int rc;
    if (i >= argc) {
        ctx.in_shell = true;
        rc = shell_run(&ctx);
    } else {
        rc = cmd_run(&ctx, argc - i, argv + i);
    }
    session_close(&ctx.sess);
    config_free(&ctx.cfg);
    fflush(stdout);
    return rc;
}
