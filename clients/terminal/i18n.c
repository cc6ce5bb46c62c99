/* i18n.c: the client's messages through gettext (catalogues found beside
 * the binary), the language chosen with `campus lang`, and that command. */
#include "campus.h"

#include <errno.h>
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the .mo files are: $CAMPUS_LOCALEDIR, else "locale" beside the
 * binary (the build tree: tests run the client from there), else
 * ../share/locale from the binary (an installed client), else the
 * compiled-in default. */
static char *locale_dir(void)
{
    const char *env = getenv("CAMPUS_LOCALEDIR");
    char exe[PATH_MAX];
    struct stat st;

    if (env && env[0])
        return xstrdup(env);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char *beside = xasprintf("%s/locale", exe);
            if (stat(beside, &st) == 0 && S_ISDIR(st.st_mode))
                return beside;
            free(beside);
            char *share = xasprintf("%s/../share/locale", exe);
            if (stat(share, &st) == 0 && S_ISDIR(st.st_mode))
                return share;
            free(share);
        }
    }
    return xstrdup(CAMPUS_LOCALEDIR_DEFAULT);
}

/* The language a POSIX locale name speaks: "fr_FR.UTF-8" gives "fr_FR",
 * "C" and "POSIX" give "". */
static void locale_lang(const char *name, char *out, size_t n)
{
    out[0] = '\0';
    if (name == NULL || name[0] == '\0' || strcmp(name, "C") == 0 || strcmp(name, "POSIX") == 0 ||
        strncmp(name, "C.", 2) == 0)
        return;
    size_t len = strcspn(name, ".@");
    if (len >= n)
        len = n - 1;
    memcpy(out, name, len);
    out[len] = '\0';
}

static char *lang_path(const struct config *c)
{
    return xasprintf("%s/lang", c->config_dir);
}

/* The language saved with `campus lang`, or NULL. Caller frees. */
static char *saved_lang(const struct config *c)
{
    char *path = lang_path(c);
    size_t len;
    char *s = config_read_file(path, &len);

    free(path);
    if (s == NULL)
        return NULL;
    s[strcspn(s, "\r\n")] = '\0';
    if (s[0] == '\0') {
        free(s);
        return NULL;
    }
    return s;
}

void client_i18n_init(const struct config *c)
{
    char *saved = c ? saved_lang(c) : NULL;

    /* `campus lang` is the learner's own choice: it comes before what the
     * environment says. */
    if (saved)
        setenv("LANGUAGE", saved, 1);
    const char *loc = setlocale(LC_ALL, "");
    const char *msgs = loc ? setlocale(LC_MESSAGES, NULL) : NULL;
    if (saved && msgs && (strcmp(msgs, "C") == 0 || strcmp(msgs, "POSIX") == 0)) {
        /* gettext ignores LANGUAGE under the plain C locale; the saved
         * choice must hold there too. */
        setlocale(LC_ALL, "C.UTF-8");
    } else if (loc == NULL) {
        /* The locale asked for is not installed (a fresh machine has C.UTF-8
         * only): keep UTF-8, and let gettext find the language through
         * LANGUAGE, which it reads whenever the locale is not plain C. */
        setlocale(LC_ALL, "C.UTF-8");
        if (getenv("LANGUAGE") == NULL || getenv("LANGUAGE")[0] == '\0') {
            const char *names[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
            for (size_t i = 0; i < 3; i++) {
                const char *v = getenv(names[i]);
                char lang[64];
                if (v == NULL || v[0] == '\0')
                    continue;
                locale_lang(v, lang, sizeof(lang));
                if (lang[0])
                    setenv("LANGUAGE", lang, 1);
                break;
            }
        }
    }
    char *dir = locale_dir();
    bindtextdomain(CAMPUS_TEXTDOMAIN, dir);
    bind_textdomain_codeset(CAMPUS_TEXTDOMAIN, "UTF-8");
    textdomain(CAMPUS_TEXTDOMAIN);
    free(dir);
    free(saved);
}

/* campus lang [TAG|-]: shows, sets or unsets the language; logged in, the
 * account's LANG on the server follows, so courses come in it too. */
int cmd_lang(struct ctx *ctx, int argc, char **argv)
{
    char *saved = saved_lang(&ctx->cfg);
    int rc = CAMPUS_EXIT_OK;

    if (argc == 1) {
        if (saved)
            printf(_("language: %s (set with campus lang)\n"), saved);
        else {
            char env[64];
            const char *v = getenv("LANGUAGE");
            if (v == NULL || v[0] == '\0')
                v = setlocale(LC_MESSAGES, NULL);
            locale_lang(v, env, sizeof(env));
            printf(_("language: %s (from the environment)\n"), env[0] ? env : "en");
        }
        free(saved);
        return rc;
    }
    free(saved);
    const char *tag = argv[1];
    bool unset = strcmp(tag, "-") == 0;
    size_t n = strlen(tag);
    bool ok = unset || (n >= 2 && n < 36 && strspn(tag, "abcdefghijklmnopqrstuvwxyz"
                                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n);
    if (!ok) {
        fprintf(stderr, _("campus: '%s' is not a language (en, fr, es, fr-CA, ...)\n"), tag);
        return CAMPUS_EXIT_USAGE;
    }
    /* The server first: a tag it refuses is not saved either. */
    if (config_token(&ctx->cfg)) {
        struct request r;
        request_init(&r, true);
        request_arg(&r, "LANG");
        request_arg(&r, unset ? "-" : tag);
        if (session_run(&ctx->sess, &r, 1) < 0) {
            request_free(&r);
            return cmd_unavailable(ctx);
        }
        rc = cmd_status(&r.resp);
        request_free(&r);
        if (rc != CAMPUS_EXIT_OK)
            return rc;
    }
    char *path = lang_path(&ctx->cfg);
    int w = 0;
    if (unset) {
        if (unlink(path) < 0 && errno != ENOENT)
            w = -1;
    } else {
        char *line = xasprintf("%s\n", tag);
        /* gettext wants fr_CA where a tag says fr-CA. */
        for (char *p = line; *p; p++)
            if (*p == '-')
                *p = '_';
        w = config_mkdir(ctx->cfg.config_dir) == 0 &&
                    config_write_file(path, line, strlen(line), 0600) == 0 ? 0 : -1;
        free(line);
    }
    free(path);
    if (w < 0) {
        fprintf(stderr, _("campus: cannot save the language: %s\n"), strerror(errno));
        return CAMPUS_EXIT_REFUSED;
    }
    /* The rest of this run speaks the new language too. */
    if (unset)
        unsetenv("LANGUAGE");
    client_i18n_init(&ctx->cfg);
    if (unset)
        puts(_("language unset: the environment's (LANG, LC_MESSAGES) is used"));
    else
        printf(_("language set to %s\n"), tag);
    return CAMPUS_EXIT_OK;
}
