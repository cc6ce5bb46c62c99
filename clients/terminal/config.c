/* config.c: which server to use, the session saved at login (mode 0600),
 * and the client's directories under the XDG base directories. */
#include "campus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* $VAR/campus, or $HOME/fallback/campus. Caller frees. */
static char *xdg_dir(const char *var, const char *fallback)
{
    const char *v = getenv(var);
    if (v && v[0] == '/')
        return xasprintf("%s/campus", v);
    const char *home = getenv("HOME");
    return xasprintf("%s/%s/campus", home && home[0] ? home : ".", fallback);
}

int config_mkdir(const char *dir)
{
    char *p = xstrdup(dir);

    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

char *config_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct sbuf b = {0};
    char buf[8192];
    size_t n;

    if (f == NULL)
        return NULL;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        sbuf_add(&b, buf, n);
    fclose(f);
    if (len)
        *len = b.len;
    return b.data ? sbuf_take(&b) : xstrdup("");
}

int config_write_file(const char *path, const void *data, size_t len, int mode)
{
    char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    const char *p = data;
    int saved;

    if (fd < 0) {
        saved = errno;
        free(tmp);
        errno = saved;
        return -1;
    }
    fchmod(fd, (mode_t)mode);   /* the umask must not widen or narrow it */
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        len -= (size_t)w;
    }
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        fd = -1;
        goto fail;
    }
    free(tmp);
    return 0;
fail:
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    errno = saved;
    return -1;
}

static char *session_path(const struct config *c)
{
    return xasprintf("%s/session", c->config_dir);
}

/* The session file: "key<TAB>value" lines for server, user and token. */
static void session_read(struct config *c)
{
    char *path = session_path(c);
    char *text = config_read_file(path, NULL);

    free(path);
    if (text == NULL)
        return;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        if (tab == NULL)
            continue;
        *tab = '\0';
        char **slot = strcmp(line, "server") == 0 ? &c->saved_server
                    : strcmp(line, "user") == 0   ? &c->user
                    : strcmp(line, "token") == 0  ? &c->token : NULL;
        if (slot && tab[1]) {
            free(*slot);
            *slot = xstrdup(tab + 1);
        }
    }
    explicit_bzero(text, strlen(text));
    free(text);
}

int config_load(struct config *c, const char *opt_server)
{
    const char *env = getenv("CAMPUS_SERVER");
    const char *t = getenv("CAMPUS_TIMEOUT");

    memset(c, 0, sizeof(*c));
    c->config_dir = xdg_dir("XDG_CONFIG_HOME", ".config");
    c->cache_dir = xdg_dir("XDG_CACHE_HOME", ".cache");
    c->state_dir = xdg_dir("XDG_STATE_HOME", ".local/state");
    c->timeout_ms = CAMPUS_TIMEOUT_MS;
    if (t && atoi(t) > 0)
        c->timeout_ms = atoi(t) * 1000;
    session_read(c);
    if (opt_server && opt_server[0]) {
        c->server = xstrdup(opt_server);
        c->server_from = "--server";
    } else if (env && env[0]) {
        c->server = xstrdup(env);
        c->server_from = "CAMPUS_SERVER";
    } else if (c->saved_server) {
        c->server = xstrdup(c->saved_server);
        c->server_from = N_("the server saved at login");
    } else {
        c->server = xstrdup(CAMPUS_DEFAULT_SERVER);
        c->server_from = N_("the default");
    }
    return 0;
}

void config_free(struct config *c)
{
    free(c->server);
    free(c->config_dir);
    free(c->cache_dir);
    free(c->state_dir);
    free(c->saved_server);
    free(c->user);
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
    memset(c, 0, sizeof(*c));
}

const char *config_token(const struct config *c)
{
    if (c->token == NULL || c->saved_server == NULL || strcmp(c->saved_server, c->server) != 0)
        return NULL;
    return c->token;
}

int config_session_save(struct config *c, const char *server, const char *user,
                        const char *token)
{
    if (config_mkdir(c->config_dir) < 0)
        return -1;
    char *path = session_path(c);
    struct sbuf b = {0};
    sbuf_printf(&b, "server\t%s\n", server);
    if (user && token)
        sbuf_printf(&b, "user\t%s\ntoken\t%s\n", user, token);
    int rc = config_write_file(path, b.data, b.len, 0600);
    explicit_bzero(b.data, b.len);
    sbuf_free(&b);
    free(path);
    if (rc == 0) {
        char *s = xstrdup(server), *u = user ? xstrdup(user) : NULL;
        char *k = token ? xstrdup(token) : NULL;
        free(c->saved_server);
        free(c->user);
        if (c->token) {
            explicit_bzero(c->token, strlen(c->token));
            free(c->token);
        }
        c->saved_server = s;
        c->user = u;
        c->token = k;
    }
    return rc;
}

int config_session_forget(struct config *c)
{
    if (c->token == NULL && c->user == NULL)
        return 0;
    const char *server = c->saved_server ? c->saved_server : c->server;
    char *keep = xstrdup(server);
    int rc = config_session_save(c, keep, NULL, NULL);
    free(keep);
    return rc;
}

char *config_server_key(const char *server)
{
    char *k = xstrdup(server);
    for (char *p = k; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
            *p = '_';
    return k;
}
