/* offline.c: working without a link: the lesson cache that `campus sync`
 * fills, the queue of DONE marks made offline (sent again, idempotently, on
 * the next connection), and the last lesson read. */
#include "campus.h"

#include <dirent.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Splits a lesson id into its two ids, both checked, so a path built from
 * them stays inside the cache. Returns 0 or -1. */
static int split_id(const char *id, char course[ID_MAX + 1], char lesson[ID_MAX + 1])
{
    const char *slash = strchr(id, '/');
    if (slash == NULL || slash - id > 64 || strlen(slash + 1) > 64)
        return -1;
    memcpy(course, id, (size_t)(slash - id));
    course[slash - id] = '\0';
    snprintf(lesson, 65, "%s", slash + 1);
    return id_valid(course) && id_valid(lesson) ? 0 : -1;
}

/* The cache directory of the server in use, or of one of its courses. */
static char *cache_dir(const struct config *c, const char *course)
{
    char *key = config_server_key(c->server);
    char *dir = course ? xasprintf("%s/%s/%s", c->cache_dir, key, course)
                       : xasprintf("%s/%s", c->cache_dir, key);
    free(key);
    return dir;
}

char *offline_lesson(const struct config *c, const char *id, size_t *len)
{
    char course[ID_MAX + 1], lesson[ID_MAX + 1];
    if (split_id(id, course, lesson) < 0)
        return NULL;
    char *dir = cache_dir(c, course);
    char *path = xasprintf("%s/%s.txt", dir, lesson);
    char *text = config_read_file(path, len);
    free(dir);
    free(path);
    return text;
}

void offline_store(const struct config *c, const char *id, const char *text, size_t len,
                   bool force)
{
    char course[ID_MAX + 1], lesson[ID_MAX + 1];
    struct stat st;

    if (split_id(id, course, lesson) < 0)
        return;
    char *dir = cache_dir(c, course);
    if ((force && config_mkdir(dir) == 0) || stat(dir, &st) == 0) {
        char *path = xasprintf("%s/%s.txt", dir, lesson);
        config_write_file(path, text, len, 0600);
        free(path);
    }
    free(dir);
}

void offline_store_outline(const struct config *c, const char *course, const char *body,
                           size_t len)
{
    if (!id_valid(course))
        return;
    char *dir = cache_dir(c, course);
    if (config_mkdir(dir) == 0) {
        char *path = xasprintf("%s/outline.tsv", dir);
        config_write_file(path, body, len, 0600);
        free(path);
    }
    free(dir);
}

/* True when name is NAME.EXT of a course file, or a language variant's
 * NAME.LL.EXT: [a-z0-9-] and one or two dots, each part non-empty, so that
 * a path built from it stays in the cache. */
static bool file_name_ok(const char *name)
{
    const char *dot = strchr(name, '.');
    size_t n = strlen(name);
    if (!dot || dot == name || !dot[1] || n > 129 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != n)
        return false;
    const char *dot2 = strchr(dot + 1, '.');
    return dot2 == NULL || (dot2 > dot + 1 && dot2[1] && !strchr(dot2 + 1, '.'));
}

void offline_store_file(const struct config *c, const char *course, const char *name,
                        const char *data, size_t len)
{
    if (!id_valid(course) || !file_name_ok(name))
        return;
    char *dir = cache_dir(c, course);
    char *fdir = xasprintf("%s/files", dir);
    if (config_mkdir(fdir) == 0) {
        char *path = xasprintf("%s/%s", fdir, name);
        config_write_file(path, data, len, 0600);
        free(path);
    }
    free(fdir);
    free(dir);
}

char *offline_file(const struct config *c, const char *course, const char *name, size_t *len)
{
    if (!id_valid(course) || !file_name_ok(name))
        return NULL;
    char *dir = cache_dir(c, course);
    char *path = xasprintf("%s/files/%s", dir, name);
    char *data = config_read_file(path, len);
    const char *dot = strchr(name, '.'), *dot2 = strchr(dot + 1, '.');
    if (data == NULL && dot2) {
        /* A lesson in French links to NAME.fr.EXT; sync saved NAME.EXT as
         * the server served it, in the account's language. */
        free(path);
        path = xasprintf("%s/files/%.*s%s", dir, (int)(dot - name), name, dot2);
        data = config_read_file(path, len);
    }
    free(dir);
    free(path);
    return data;
}

char *offline_outline(const struct config *c, const char *course, size_t *len)
{
    if (!id_valid(course))
        return NULL;
    char *dir = cache_dir(c, course);
    char *path = xasprintf("%s/outline.tsv", dir);
    char *text = config_read_file(path, len);
    free(dir);
    free(path);
    return text;
}

char *offline_after(const struct config *c, const char *id)
{
    char course[ID_MAX + 1], lesson[ID_MAX + 1], *out = NULL;
    size_t len;

    if (split_id(id, course, lesson) < 0)
        return NULL;
    char *outline = offline_outline(c, course, &len);
    if (outline == NULL)
        return NULL;
    struct listing t;
    listing_parse(outline, len, &t);
    int col = listing_col(&t, "lesson");
    for (size_t r = 1; col >= 0 && r + 1 < t.nrows; r++)
        if (strcmp(listing_cell(&t, r, col), id) == 0) {
            out = xstrdup(listing_cell(&t, r + 1, col));
            break;
        }
    listing_free(&t);
    free(outline);
    return out;
}

char **offline_known_ids(const struct config *c, size_t *n)
{
    char *dir = cache_dir(c, NULL);
    DIR *d = opendir(dir);
    char **ids = NULL;
    struct dirent *e;

    *n = 0;
    while (d && (e = readdir(d)) != NULL) {
        if (!id_valid(e->d_name))
            continue;
        size_t len;
        char *outline = offline_outline(c, e->d_name, &len);
        if (outline == NULL)
            continue;
        struct listing t;
        listing_parse(outline, len, &t);
        int col = listing_col(&t, "lesson");
        for (size_t r = 1; col >= 0 && r < t.nrows; r++) {
            ids = xrealloc(ids, (*n + 1) * sizeof(*ids));
            ids[(*n)++] = xstrdup(listing_cell(&t, r, col));
        }
        listing_free(&t);
        free(outline);
    }
    if (d)
        closedir(d);
    free(dir);
    return ids;
}

/* ---- the queue: "ms<TAB>server<TAB>user<TAB>lesson<TAB>key" lines ----
 *
 * The key (DONE's idempotency key, made when the mark is queued) lets a
 * replay whose answer was lost be sent again and answered as the first
 * time. Lines written before keys existed have four fields and go without. */

/* Locks the queue for a read-modify-write; returns the lock fd or -1. */
static int queue_lock(const struct config *c)
{
    if (config_mkdir(c->state_dir) < 0)
        return -1;
    char *path = xasprintf("%s/queue.lock", c->state_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd >= 0)
        flock(fd, LOCK_EX);
    return fd;
}

static void queue_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

static char *queue_path(const struct config *c)
{
    return xasprintf("%s/queue", c->state_dir);
}

int offline_queue_add(const struct config *c, const char *user, const char *lesson)
{
    char course[ID_MAX + 1], id[ID_MAX + 1];
    struct timeval tv;

    if (split_id(lesson, course, id) < 0 || user == NULL)
        return -1;
    int lock = queue_lock(c);
    if (lock < 0)
        return -1;
    gettimeofday(&tv, NULL);
    unsigned char rnd[8];
    char key[2 * sizeof(rnd) + 8];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        queue_unlock(lock);
        return -1;
    }
    snprintf(key, sizeof(key), "q-");
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(key + 2 + 2 * i, 3, "%02x", rnd[i]);
    char *path = queue_path(c);
    char *old = config_read_file(path, NULL);
    char *text = xasprintf("%s%lld\t%s\t%s\t%s\t%s\n", old ? old : "",
                           (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000, c->server, user,
                           lesson, key);
    int rc = config_write_file(path, text, strlen(text), 0600);
    free(old);
    free(text);
    free(path);
    queue_unlock(lock);
    return rc;
}

/* Calls fn for each queue line with its fields (the line is split in
 * place; the fifth, the key, is NULL on an old line); fn returns true to
 * keep the line. Rewrites the file when a line was dropped. Returns how
 * many lines were kept. */
static size_t queue_walk(const struct config *c,
                         bool (*fn)(void *arg, char *fields[5]), void *arg)
{
    int lock = queue_lock(c);
    char *path = queue_path(c);
    char *text = config_read_file(path, NULL);
    struct sbuf keep = {0};
    size_t kept = 0;
    bool dropped = false;

    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char *copy = xstrdup(line), *f[5] = { NULL }, *p = line;
        int k = 0;
        for (; k < 5 && p; k++) {
            f[k] = p;
            p = k < 4 ? strchr(p, '\t') : NULL;
            if (p)
                *p++ = '\0';
        }
        if (k >= 4 && f[3] && fn(arg, f)) {
            sbuf_printf(&keep, "%s\n", copy);
            kept++;
        } else {
            dropped = true;
        }
        free(copy);
    }
    if (dropped)
        config_write_file(path, keep.data ? keep.data : "", keep.len, 0600);
    sbuf_free(&keep);
    free(text);
    free(path);
    queue_unlock(lock);
    return kept;
}

struct queue_pick {
    const struct config *c;
    const char *user;
    struct request *reqs;
    size_t n;
    size_t settle_n;
};

static bool pick_one(void *arg, char *f[5])
{
    struct queue_pick *q = arg;
    if (strcmp(f[1], q->c->server) != 0 || strcmp(f[2], q->user) != 0)
        return true;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->reqs[i].argv[1], f[3]) == 0)
            return true;    /* queued twice: one DONE is enough */
    q->reqs = xrealloc(q->reqs, (q->n + 1) * sizeof(*q->reqs));
    request_init(&q->reqs[q->n], true);
    request_arg(&q->reqs[q->n], "DONE");
    request_arg(&q->reqs[q->n], f[3]);
    request_arg(&q->reqs[q->n], f[0]);      /* when it was marked, offline */
    if (f[4] && f[4][0])
        request_arg(&q->reqs[q->n], f[4]);  /* a replay is answered as the first time */
    q->n++;
    return true;
}

struct request *offline_queue_requests(const struct config *c, const char *user, size_t *n)
{
    struct queue_pick q = { .c = c, .user = user };
    queue_walk(c, pick_one, &q);
    *n = q.n;
    return q.reqs;
}

/* Drops the lines of this server and user whose DONE was settled. */
static bool settle_one(void *arg, char *f[5])
{
    struct queue_pick *q = arg;
    if (strcmp(f[1], q->c->server) != 0 || strcmp(f[2], q->user) != 0)
        return true;
    for (size_t i = 0; i < q->settle_n; i++) {
        struct request *r = &q->reqs[i];
        if (strcmp(r->argv[1], f[3]) != 0)
            continue;
        int code = r->resp.code;
        if (code == 200)
            return false;
        if (code == 400 || code == 404) {
            fprintf(stderr, _("campus: dropped the queued done mark for %s: %d %s\n"), f[3], code,
                    r->resp.text ? r->resp.text : "");
            return false;
        }
    }
    return true;
}

void offline_queue_settle(const struct config *c, const char *user, struct request *reqs,
                          size_t n)
{
    size_t sent = 0;
    for (size_t i = 0; i < n; i++)
        sent += reqs[i].resp.code == 200;
    struct queue_pick q = { .c = c, .user = user, .reqs = reqs, .settle_n = n };
    queue_walk(c, settle_one, &q);
    if (sent)
        fprintf(stderr, ngettext("campus: sent %zu done mark made offline\n",
                                 "campus: sent %zu done marks made offline\n", sent), sent);
}

static bool count_one(void *arg, char *f[5])
{
    return true;
}

size_t offline_queue_count(const struct config *c)
{
    return queue_walk(c, count_one, NULL);
}

/* ---- the last lesson read ---- */

void offline_last_set(const struct config *c, const char *lesson, const char *next)
{
    if (config_mkdir(c->state_dir) < 0)
        return;
    char *path = xasprintf("%s/last", c->state_dir);
    char *text = xasprintf("%s\t%s\n", lesson, next && next[0] ? next : "-");
    config_write_file(path, text, strlen(text), 0600);
    free(text);
    free(path);
}

char *offline_last(const struct config *c, bool want_next)
{
    char *path = xasprintf("%s/last", c->state_dir);
    char *text = config_read_file(path, NULL);
    char *out = NULL;

    free(path);
    if (text == NULL)
        return NULL;
    text[strcspn(text, "\n")] = '\0';
    char *tab = strchr(text, '\t');
    if (tab) {
        *tab = '\0';
        const char *v = want_next ? tab + 1 : text;
        if (v[0] && strcmp(v, "-") != 0)
            out = xstrdup(v);
    }
    free(text);
    return out;
}
