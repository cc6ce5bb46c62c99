/* cmd-cohort.c: campus cohort ... (the COHORT sub-commands) and campus
 * grades ID FILE (the gradebook CSV saved to a file). */
#include "campus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sub-commands, how many arguments each takes after its name, and
 * whether the last one names a file sent as a literal. */
static const struct {
    const char *name;
    int min, max;
    bool file;
} subs[] = {
    { "create", 3, 7, false }, { "join", 1, 1, false }, { "leave", 1, 1, false },
    { "list", 0, 0, false }, { "show", 1, 1, false }, { "code", 1, 2, false },
    { "close", 1, 1, false }, { "trainer", 3, 3, false }, { "add", 2, 40, false },
    { "remove", 2, 2, false }, { "enrol", 2, 3, true }, { "open", 2, 2, false },
    { "extend", 4, 4, false }, { "progress", 1, 3, false }, { "grades", 1, 1, false },
};

static char *read_input(const char *path, size_t *len)
{
    if (strcmp(path, "-") == 0) {
        struct sbuf b = {0};
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
            sbuf_add(&b, buf, n);
        *len = b.len;
        return b.data ? sbuf_take(&b) : xstrdup("");
    }
    return config_read_file(path, len);
}

/* Sends COHORT SUB args...; the answer is printed as the server framed it:
 * tables as tables, key-value lists and documents as they are. */
int cmd_cohort(struct ctx *ctx, int argc, char **argv)
{
    size_t k = 0, nsubs = sizeof(subs) / sizeof(subs[0]);
    while (k < nsubs && strcmp(subs[k].name, argv[1]) != 0)
        k++;
    int n = argc - 2;
    if (k == nsubs || n < subs[k].min || n > subs[k].max)
        return cmd_usage(cmd_find("cohort"));
    if (config_token(&ctx->cfg) == NULL) {
        fputs(_("campus: not logged in: campus login\n"), stderr);
        return CAMPUS_EXIT_LOGIN;
    }
    char *doc = NULL;
    size_t len = 0;
    if (subs[k].file && (doc = read_input(argv[argc - 1], &len)) == NULL) {
        fprintf(stderr, _("campus: cannot read %s\n"), argv[argc - 1]);
        return CAMPUS_EXIT_USAGE;
    }
    struct request r;
    bool reads = strcmp(argv[1], "list") == 0 || strcmp(argv[1], "show") == 0 ||
                 strcmp(argv[1], "progress") == 0 || strcmp(argv[1], "grades") == 0;
    request_init(&r, reads);
    request_arg(&r, "COHORT");
    for (int i = 1; i < argc - (doc ? 1 : 0); i++) {
        if (i == 1) {
            char up[16];
            size_t j = 0;
            for (; argv[1][j] && j < sizeof(up) - 1; j++)
                up[j] = (char)(argv[1][j] >= 'a' && argv[1][j] <= 'z' ? argv[1][j] - 32 : argv[1][j]);
            up[j] = '\0';
            request_arg(&r, up);
        } else {
            request_arg(&r, argv[i]);
        }
    }
    if (doc) {
        request_argn(&r, doc, len);
        r.literal_last = true;
        free(doc);
    }
    if (session_run(&ctx->sess, &r, 1) < 0) {
        request_free(&r);
        return cmd_unavailable(ctx);
    }
    int rc = cmd_status(&r.resp);
    if (rc == 0) {
        if (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "progress") == 0) {
            render_table(&r.resp, NULL, 0);
            if (render_tty())
                printf("%s\n", r.resp.text);
        } else if (r.resp.body) {
            if (render_tty())
                printf("%s\n", r.resp.text);
            fwrite(r.resp.body, 1, r.resp.body_len, stdout);
        } else {
            printf("%s\n", r.resp.text);
        }
    }
    request_free(&r);
    return rc;
}

/* campus grades ID FILE: saves the cohort's gradebook CSV, byte for byte. */
int cmd_grades(struct ctx *ctx, int argc, char **argv)
{
    if (config_token(&ctx->cfg) == NULL) {
        fputs(_("campus: not logged in: campus login\n"), stderr);
        return CAMPUS_EXIT_LOGIN;
    }
    struct request r;
    request_init(&r, true);
    request_arg(&r, "COHORT");
    request_arg(&r, "GRADES");
    request_arg(&r, argv[1]);
    if (session_run(&ctx->sess, &r, 1) < 0) {
        request_free(&r);
        return cmd_unavailable(ctx);
    }
    int rc = cmd_status(&r.resp);
    if (rc == 0) {
        const char *body = r.resp.body ? r.resp.body : "";
        if (strcmp(argv[2], "-") == 0) {
            fwrite(body, 1, r.resp.body_len, stdout);
        } else if (config_write_file(argv[2], body, r.resp.body_len, 0600) < 0) {
            fprintf(stderr, _("campus: cannot write %s\n"), argv[2]);
            rc = CAMPUS_EXIT_USAGE;
        } else {
            printf(_("%s: saved to %s\n"), r.resp.text, argv[2]);
        }
    }
    request_free(&r);
    return rc;
}
