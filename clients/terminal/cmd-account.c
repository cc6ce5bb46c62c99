/* cmd-account.c: accounts and sessions: login, logout, whoami, register,
 * passwd; the admin's user command; call, the raw request. */
#include "campus.h"

#include <stdlib.h>
#include <string.h>

static void secret_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* A password from stdin (--password-stdin) or the terminal, without echo.
 * Returns a new string (wipe with secret_free) or NULL. */
static char *ask_password(bool from_stdin, const char *prompt)
{
    if (from_stdin)
        return prompt_read_line(stdin);
    return prompt_password(prompt);
}

/* A new password, asked twice on a terminal. NULL when they differ. */
static char *ask_new_password(bool from_stdin, const char *prompt)
{
    char *pw = ask_password(from_stdin, prompt);
    if (pw == NULL || from_stdin)
        return pw;
    char *again = prompt_password(_("again: "));
    if (again == NULL || strcmp(pw, again) != 0) {
        fputs(_("campus: the two passwords differ\n"), stderr);
        secret_free(pw);
        secret_free(again);
        return NULL;
    }
    secret_free(again);
    return pw;
}

static void request_login(struct request *r, const char *name, const char *pw)
{
    request_init(r, true);
    request_arg(r, "LOGIN");
    request_arg(r, name);
    request_arg(r, pw);
}

/* Saves the session a LOGIN (or PASSWD) answered. Returns an exit status. */
static int save_login(struct ctx *ctx, const struct resp *resp, const char *fallback_user)
{
    char *user = resp_kv(resp, "user"), *token = resp_kv(resp, "token");
    int rc = CAMPUS_EXIT_OK;

    if (token == NULL) {
        fprintf(stderr, _("campus: the server answered no session token\n"));
        rc = CAMPUS_EXIT_UNAVAILABLE;
    } else if (config_session_save(&ctx->cfg, ctx->cfg.server, user ? user : fallback_user,
                                   token) < 0) {
        fprintf(stderr, _("campus: cannot save the session in %s\n"), ctx->cfg.config_dir);
        rc = CAMPUS_EXIT_UNAVAILABLE;
    }
    ctx->sess.session_ended = false;
    free(user);
    secret_free(token);
    return rc;
}

/* On a terminal, says how many answers trainers graded since the learner
 * last looked (LOGIN's and WHOAMI's reviews-new). */
static void print_reviews_new(const struct resp *resp)
{
    char *n = resp_kv(resp, "reviews-new");

    if (n && strcmp(n, "0") != 0 && render_tty())
        printf(ngettext("%s new review of your answers: campus attempts COURSE/ID shows them\n",
                        "%s new reviews of your answers: campus attempts COURSE/ID shows them\n",
                        strtoul(n, NULL, 10)),
               n);
    free(n);
}

int cmd_login(struct ctx *ctx, int argc, char **argv)
{
    char *name_opt = cmd_option(&argc, argv, "--user");
    bool from_stdin = cmd_flag(&argc, argv, "--password-stdin");
    char *name = NULL;
    int rc;

    if (argc > 1) {
        free(ctx->cfg.server);
        ctx->cfg.server = xstrdup(argv[1]);
        session_close(&ctx->sess);
    }
    if (name_opt) {
        name = xstrdup(name_opt);
    } else if (from_stdin) {
        if (ctx->cfg.user == NULL) {
            fputs(_("campus: with --password-stdin, give the name with --user\n"), stderr);
            return CAMPUS_EXIT_USAGE;
        }
        name = xstrdup(ctx->cfg.user);
    } else {
        char *prompt = ctx->cfg.user ? xasprintf(_("name [%s]: "), ctx->cfg.user) : xstrdup(_("name: "));
        name = prompt_line(prompt);
        free(prompt);
        if (name && name[0] == '\0' && ctx->cfg.user) {
            free(name);
            name = xstrdup(ctx->cfg.user);
        }
    }
    if (name == NULL || name[0] == '\0') {
        free(name);
        fputs(_("campus: no name given\n"), stderr);
        return CAMPUS_EXIT_REFUSED;
    }
    char *pw = ask_password(from_stdin, _("password: "));
    if (pw == NULL) {
        free(name);
        fputs(_("campus: no password given\n"), stderr);
        return CAMPUS_EXIT_REFUSED;
    }
    struct request r;
    request_login(&r, name, pw);
    secret_free(pw);
    if (session_run(&ctx->sess, &r, 1) < 0) {
        rc = cmd_unavailable(ctx);
    } else if (r.resp.code == 401) {
        render_error(&r.resp);        /* a wrong password is a refusal, not a lost session */
        rc = CAMPUS_EXIT_REFUSED;
    } else if ((rc = cmd_status(&r.resp)) == 0 && (rc = save_login(ctx, &r.resp, name)) == 0) {
        printf(_("%s at %s\n"), r.resp.text, ctx->cfg.server);
        print_reviews_new(&r.resp);
        cert_trust_hello(ctx);
    }
    request_free(&r);
    free(name);
    return rc;
}

static int not_logged_in(void)
{
    fputs(_("campus: not logged in: campus login\n"), stderr);
    return CAMPUS_EXIT_LOGIN;
}

int cmd_logout(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;

    if (config_token(&ctx->cfg) == NULL)
        return not_logged_in();
    request_init(&r, true);
    request_arg(&r, "LOGOUT");
    if (session_run(&ctx->sess, &r, 1) < 0) {
        rc = cmd_unavailable(ctx);
        fputs(_("campus: the session is forgotten here, but the server could not be told\n"), stderr);
    } else if (r.resp.code == 401 || ctx->sess.session_ended) {
        printf(_("logged out (the session had already ended)\n"));
        rc = CAMPUS_EXIT_OK;
    } else if ((rc = cmd_status(&r.resp)) == 0) {
        printf("%s\n", r.resp.text);
    }
    config_session_forget(&ctx->cfg);
    request_free(&r);
    return rc;
}

int cmd_whoami(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;

    if (config_token(&ctx->cfg) == NULL)
        return not_logged_in();
    request_init(&r, true);
    request_arg(&r, "WHOAMI");
    if (session_run(&ctx->sess, &r, 1) < 0) {
        request_free(&r);
        return cmd_unavailable(ctx);
    }
    rc = cmd_status(&r.resp);
    if (rc == 0) {
        char *user = resp_kv(&r.resp, "user"), *role = resp_kv(&r.resp, "role");
        if (user == NULL || user[0] == '\0') {
            fputs(_("campus: not logged in (the session has ended): campus login\n"), stderr);
            rc = CAMPUS_EXIT_LOGIN;
        } else if (render_tty()) {
            printf(_("%s (%s) at %s\n"), user, role ? role : "?", ctx->cfg.server);
            print_reviews_new(&r.resp);
        } else {
            printf("%s\t%s\n", user, role ? role : "");
        }
        free(user);
        free(role);
    }
    request_free(&r);
    return rc;
}

int cmd_register(struct ctx *ctx, int argc, char **argv)
{
    bool from_stdin = cmd_flag(&argc, argv, "--password-stdin");
    char *name = argc > 1 ? xstrdup(argv[1]) : prompt_line(_("name: "));
    int rc;

    if (name == NULL || name[0] == '\0') {
        free(name);
        fputs(_("campus: no name given\n"), stderr);
        return CAMPUS_EXIT_REFUSED;
    }
    char *pw = ask_new_password(from_stdin, _("password (10 characters or more): "));
    if (pw == NULL) {
        free(name);
        return CAMPUS_EXIT_REFUSED;
    }
    /* REGISTER, then LOGIN: not pipelined, as the server may run the
     * LOGIN before the account is written. */
    struct request r[2];
    request_init(&r[0], false);
    request_arg(&r[0], "REGISTER");
    request_arg(&r[0], name);
    request_arg(&r[0], pw);
    request_login(&r[1], name, pw);
    secret_free(pw);
    if (session_run(&ctx->sess, &r[0], 1) < 0) {
        rc = cmd_unavailable(ctx);
    } else if ((rc = cmd_status(&r[0].resp)) == 0) {
        printf("%s\n", r[0].resp.text);
        if (session_run(&ctx->sess, &r[1], 1) == 0 && r[1].resp.code == 200 &&
            save_login(ctx, &r[1].resp, name) == 0) {
            printf(_("%s at %s\n"), r[1].resp.text, ctx->cfg.server);
            cert_trust_hello(ctx);
        }
    }
    request_free(&r[0]);
    request_free(&r[1]);
    free(name);
    return rc;
}

int cmd_passwd(struct ctx *ctx, int argc, char **argv)
{
    bool from_stdin = cmd_flag(&argc, argv, "--password-stdin");
    struct request r;
    int rc;

    if (config_token(&ctx->cfg) == NULL)
        return not_logged_in();
    char *old = ask_password(from_stdin, _("current password: "));
    char *new = old ? ask_new_password(from_stdin, _("new password: ")) : NULL;
    if (new == NULL) {
        secret_free(old);
        return CAMPUS_EXIT_REFUSED;
    }
    request_init(&r, false);
    request_arg(&r, "PASSWD");
    request_arg(&r, old);
    request_arg(&r, new);
    secret_free(old);
    secret_free(new);
    if (session_run(&ctx->sess, &r, 1) < 0) {
        rc = cmd_unavailable(ctx);
    } else if (r.resp.code == 401 && ctx->sess.authed) {
        render_error(&r.resp);        /* the old password was wrong: a refusal */
        rc = CAMPUS_EXIT_REFUSED;
    } else if ((rc = cmd_status(&r.resp)) == 0 &&
               (rc = save_login(ctx, &r.resp, ctx->cfg.user)) == 0) {
        printf("%s\n", r.resp.text);
    }
    request_free(&r);
    return rc;
}

int cmd_user(struct ctx *ctx, int argc, char **argv)
{
    bool from_stdin = cmd_flag(&argc, argv, "--password-stdin");
    static const struct { const char *sub; int nargs; } subs[] = {
        { "list", 0 }, { "add", 2 }, { "role", 2 }, { "disable", 1 }, { "enable", 1 },
    };
    int k = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(argv[1], subs[i].sub) == 0)
            k = i;
    if (k < 0 || argc - 2 != subs[k].nargs)
        return cmd_usage(cmd_find("user"));

    struct request r;
    int rc;
    request_init(&r, k == 0);
    request_arg(&r, "USER");
    char *sub = xstrdup(argv[1]);
    for (char *p = sub; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    request_arg(&r, sub);
    free(sub);
    for (int i = 2; i < argc; i++)
        request_arg(&r, argv[i]);
    if (k == 1) {
        char *pw = ask_new_password(from_stdin, _("password for the new account: "));
        if (pw == NULL) {
            request_free(&r);
            return CAMPUS_EXIT_REFUSED;
        }
        request_arg(&r, pw);
        secret_free(pw);
    }
    if (session_run(&ctx->sess, &r, 1) < 0) {
        request_free(&r);
        return cmd_unavailable(ctx);
    }
    rc = cmd_status(&r.resp);
    if (rc == 0 && k == 0)
        render_table(&r.resp, NULL, 0);
    else if (rc == 0)
        printf("%s\n", r.resp.text);
    request_free(&r);
    return rc;
}

int cmd_call(struct ctx *ctx, int argc, char **argv)
{
    struct request r;
    int rc;

    request_init(&r, false);
    for (int i = 1; i < argc; i++)
        request_arg(&r, argv[i]);
    if (session_run(&ctx->sess, &r, 1) < 0) {
        request_free(&r);
        return cmd_unavailable(ctx);
    }
    if (r.resp.code < 400)
        fprintf(stderr, "%d %s\n", r.resp.code, r.resp.text);
    rc = cmd_status(&r.resp);
    if (r.resp.body)
        fwrite(r.resp.body, 1, r.resp.body_len, stdout);
    request_free(&r);
    return rc;
}
