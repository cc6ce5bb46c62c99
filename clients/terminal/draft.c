/* draft.c: an exercise's answers kept on disk after every answer, so that
 * a closed terminal, a killed client or a Ctrl-C loses nothing typed. A
 * draft is an answer document (the format SUBMIT takes) with one comment
 * line on top; it lives in the state dir beside the DONE queue, one file
 * per server, account and exercise:
 *   $XDG_STATE_HOME/campus/drafts/HOST_PORT/USER/COURSE/EXERCISE */
#include "campus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DRAFT_HEAD "# campus draft of "
#define DRAFT_ANSWERS_MAX 1000

/* A user name used as one path component: nothing that leaves the dir. */
static bool name_safe(const char *s)
{
    return s && s[0] && s[0] != '.' && strlen(s) <= 64 && strchr(s, '/') == NULL;
}

char *draft_path(const struct config *c, const char *id)
{
    const char *slash = id ? strchr(id, '/') : NULL;
    if (slash == NULL || slash - id > 64 || !name_safe(c->user) || config_token(c) == NULL)
        return NULL;
    char *course = xstrndup(id, (size_t)(slash - id));
    char *path = NULL;
    if (id_valid(course) && id_valid(slash + 1)) {
        char *key = config_server_key(c->server);
        path = xasprintf("%s/drafts/%s/%s/%s/%s", c->state_dir, key, c->user, course, slash + 1);
        free(key);
    }
    free(course);
    return path;
}

int draft_save(const struct config *c, const char *id, long attempt, char *const *ids,
               char *const *answers, size_t n)
{
    char *path = draft_path(c, id);
    char when[32];
    time_t now = time(NULL);
    struct tm tm;

    if (path == NULL) {
        errno = EINVAL;
        return -1;
    }
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime_r(&now, &tm));
    struct sbuf b = {0};
    sbuf_printf(&b, DRAFT_HEAD "%s, attempt %ld, saved %s\n", id, attempt, when);
    for (size_t i = 0; i < n; i++) {
        if (answers[i] == NULL)
            continue;
        sbuf_printf(&b, "%s: ", ids[i]);
        for (const char *p = answers[i]; *p; p++) {
            sbuf_addc(&b, *p);
            if (*p == '\n')
                sbuf_adds(&b, "  ");
        }
        sbuf_addc(&b, '\n');
    }
    char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
    int rc = config_mkdir(dir) == 0 ? config_write_file(path, b.data, b.len, 0600) : -1;
    free(dir);
    free(path);
    sbuf_free(&b);
    return rc;
}

int draft_load(const struct config *c, const char *id, struct draft *d)
{
    char *path = draft_path(c, id);
    size_t len;
    char *text = path ? config_read_file(path, &len) : NULL;

    memset(d, 0, sizeof(*d));
    free(path);
    if (text == NULL)
        return -1;
    char *line = text, *next;
    for (; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, DRAFT_HEAD, strlen(DRAFT_HEAD)) == 0) {
            char *a = strstr(line, ", attempt "), *s = strstr(line, ", saved ");
            if (a)
                d->attempt = strtol(a + strlen(", attempt "), NULL, 10);
            if (s && d->saved == NULL)
                d->saved = xstrdup(s + strlen(", saved "));
        } else if ((line[0] == ' ' && line[1] == ' ') && d->n > 0) {
            /* A continuation of the free text above. */
            struct draft_answer *a = &d->answers[d->n - 1];
            char *joined = xasprintf("%s\n%s", a->answer, line + 2);
            free(a->answer);
            a->answer = joined;
        } else if (line[0] != '#' && line[0] != '\0' && d->n < DRAFT_ANSWERS_MAX) {
            char *colon = strstr(line, ": ");
            if (colon == NULL)
                continue;
            d->answers = xrealloc(d->answers, (d->n + 1) * sizeof(*d->answers));
            d->answers[d->n].id = xstrndup(line, (size_t)(colon - line));
            d->answers[d->n].answer = xstrdup(colon + 2);
            d->n++;
        }
    }
    free(text);
    if (d->saved == NULL)
        d->saved = xstrdup(_("an earlier session"));
    return 0;
}

void draft_free(struct draft *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->answers[i].id);
        free(d->answers[i].answer);
    }
    free(d->answers);
    free(d->saved);
    memset(d, 0, sizeof(*d));
}

void draft_remove(const struct config *c, const char *id)
{
    char *path = draft_path(c, id);
    if (path)
        unlink(path);
    free(path);
}
