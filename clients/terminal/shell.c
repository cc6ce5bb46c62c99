/* shell.c: campus with no arguments: an interactive shell with line
 * editing and history (libedit) and tab completion of commands and of
 * course and lesson ids; the same commands as on the command line. */
#include "campus.h"

#include <editline/readline.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHELL_HISTORY_MAX 1000

static struct ctx *shell_ctx;
static char **known_ids;          /* course and lesson ids, for completion */
static size_t nknown;
static bool ids_loaded;

int shell_split(const char *line, char ***argv)
{
    struct sbuf word = {0};
    char **out = NULL;
    int argc = 0;
    const char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        bool any = false;
        while (*p && *p != ' ' && *p != '\t') {
            if (*p == '"' || *p == '\'') {
                char q = *p++;
                while (*p && *p != q) {
                    if (q == '"' && *p == '\\' && p[1])
                        p++;
                    sbuf_addc(&word, *p++);
                }
                if (*p != q) {
                    sbuf_free(&word);
                    shell_words_free(argc, out);
                    *argv = NULL;
                    return -1;
                }
                p++;
                any = true;
                continue;
            }
            if (*p == '\\' && p[1])
                p++;
            sbuf_addc(&word, *p++);
            any = true;
        }
        if (any) {
            out = xrealloc(out, (size_t)(argc + 2) * sizeof(*out));
            out[argc++] = sbuf_take(&word);
            out[argc] = NULL;
        }
    }
    *argv = out;
    return argc;
}

void shell_words_free(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
}

static void add_known(const char *id)
{
    for (size_t i = 0; i < nknown; i++)
        if (strcmp(known_ids[i], id) == 0)
            return;
    known_ids = xrealloc(known_ids, (nknown + 1) * sizeof(*known_ids));
    known_ids[nknown++] = xstrdup(id);
}

/* Cohorts: the sub-command names, and the ids of the cohorts this account
 * is in or runs (COHORT LIST), when logged in. */
static void load_cohort_ids(void)
{
    static const char *const subs[] = { "create", "join", "leave", "list", "show", "code",
                                        "close", "trainer", "add", "remove", "enrol", "open",
                                        "extend", "progress", "grades" };
    struct request r;

    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        add_known(subs[i]);
    if (config_token(&shell_ctx->cfg) == NULL)
        return;
    request_init(&r, true);
    request_arg(&r, "COHORT");
    request_arg(&r, "LIST");
    if (session_run(&shell_ctx->sess, &r, 1) == 0 && r.resp.code == 200 && r.resp.body) {
        struct listing t;
        listing_parse(r.resp.body, r.resp.body_len, &t);
        int col = listing_col(&t, "id");
        for (size_t k = 1; col >= 0 && k < t.nrows; k++)
            add_known(listing_cell(&t, k, col));
        listing_free(&t);
    }
    request_free(&r);
}

/* The ids to complete: from the server (COURSES, then every outline in one
 * pipelined batch), else from the courses synced for offline reading. */
static void load_ids(void)
{
    struct request r;

    ids_loaded = true;
    request_init(&r, true);
    request_arg(&r, "COURSES");
    if (session_run(&shell_ctx->sess, &r, 1) == 0 && r.resp.code == 200 && r.resp.body) {
        struct listing t;
        listing_parse(r.resp.body, r.resp.body_len, &t);
        size_t n = t.nrows > 1 ? t.nrows - 1 : 0;
        struct request *outl = xcalloc(n + 1, sizeof(*outl));
        for (size_t i = 0; i < n; i++) {
            add_known(listing_cell(&t, i + 1, 0));
            request_init(&outl[i], true);
            request_arg(&outl[i], "COURSE");
            request_arg(&outl[i], listing_cell(&t, i + 1, 0));
        }
        if (session_run(&shell_ctx->sess, outl, n) == 0) {
            for (size_t i = 0; i < n; i++) {
                struct listing o;
                if (outl[i].resp.code != 200 || outl[i].resp.body == NULL)
                    continue;
                listing_parse(outl[i].resp.body, outl[i].resp.body_len, &o);
                int col = listing_col(&o, "lesson");
                for (size_t k = 1; col >= 0 && k < o.nrows; k++)
                    add_known(listing_cell(&o, k, col));
                listing_free(&o);
            }
        }
        for (size_t i = 0; i < n; i++)
            request_free(&outl[i]);
        free(outl);
        listing_free(&t);
    }
    request_free(&r);
    load_cohort_ids();
    size_t n;
    char **cached = offline_known_ids(&shell_ctx->cfg, &n);
    for (size_t i = 0; i < n; i++) {
        add_known(cached[i]);
        free(cached[i]);
    }
    free(cached);
}

static char *command_gen(const char *text, int state)
{
    static size_t i;
    static const char *const extra[] = { "exit", "quit" };
    size_t len = strlen(text);

    if (state == 0)
        i = 0;
    for (;;) {
        const char *name;
        size_t ncmd = 0;
        while (cmd_table[ncmd].name)
            ncmd++;
        if (i < ncmd)
            name = cmd_table[i].name;
        else if (i < ncmd + 2)
            name = extra[i - ncmd];
        else
            return NULL;
        i++;
        if (strncmp(name, text, len) == 0)
            return strdup(name);
    }
}

static char *id_gen(const char *text, int state)
{
    static size_t i;
    size_t len = strlen(text);

    if (state == 0) {
        i = 0;
        if (!ids_loaded)
            load_ids();
    }
    while (i < nknown) {
        const char *id = known_ids[i++];
        if (strncmp(id, text, len) == 0)
            return strdup(id);
    }
    return NULL;
}

/* Completes the first word as a command, later words as ids. */
static char **complete(const char *text, int start, int end)
{
    bool first = true;
    for (int i = 0; i < start; i++)
        if (rl_line_buffer[i] != ' ' && rl_line_buffer[i] != '\t')
            first = false;
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, first ? command_gen : id_gen);
}

/* One line of input; NULL at EOF. Caller frees. */
static char *next_line(bool tty, const char *prompt)
{
    if (tty)
        return readline(prompt);
    return prompt_read_line(stdin);
}

int shell_run(struct ctx *ctx)
{
    bool tty = isatty(STDIN_FILENO);
    char *history = xasprintf("%s/history", ctx->cfg.state_dir);
    int rc = CAMPUS_EXIT_OK;

    shell_ctx = ctx;
    if (tty) {
        rl_readline_name = "campus";
        rl_attempted_completion_function = complete;
        stifle_history(SHELL_HISTORY_MAX);
        read_history(history);
        printf("campus shell on %s: commands as on the command line, 'help', 'exit'\n",
               ctx->cfg.server);
    }
    for (;;) {
        char *prompt = xasprintf("campus%s%s> ", ctx->cfg.user && config_token(&ctx->cfg) ? " " : "",
                                 ctx->cfg.user && config_token(&ctx->cfg) ? ctx->cfg.user : "");
        char *line = next_line(tty, prompt);
        free(prompt);
        if (line == NULL) {
            if (tty)
                putchar('\n');
            break;
        }
        char **argv;
        int argc = shell_split(line, &argv);
        if (argc < 0) {
            fputs("campus: a quote is not closed\n", stderr);
            rc = CAMPUS_EXIT_USAGE;
        } else if (argc > 0 && (strcmp(argv[0], "exit") == 0 || strcmp(argv[0], "quit") == 0)) {
            shell_words_free(argc, argv);
            free(line);
            break;
        } else if (argc > 0) {
            if (tty)
                add_history(line);
            /* cmd_run takes options out of its argv: give it a copy. */
            char **copy = xcalloc((size_t)argc + 1, sizeof(*copy));
            memcpy(copy, argv, (size_t)argc * sizeof(*copy));
            rc = cmd_run(ctx, argc, copy);
            free(copy);
            fflush(stdout);
        }
        shell_words_free(argc > 0 ? argc : 0, argv);
        free(line);
    }
    if (tty && config_mkdir(ctx->cfg.state_dir) == 0) {
        write_history(history);
        chmod(history, 0600);
    }
    free(history);
    for (size_t i = 0; i < nknown; i++)
        free(known_ids[i]);
    free(known_ids);
    known_ids = NULL;
    nknown = 0;
    return rc;
}
