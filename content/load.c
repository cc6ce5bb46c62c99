/* load.c: walking a courses folder into a catalogue; lookups and refcounting. */
#include "catalog.h"
#include "frontmatter.h"
#include "loader.h"
#include "node_arena.h"
#include "render.h"
#include "search.h"
#include "util.h"

#include <cmark.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Where the folder walk is: the resolved root and the user's spelling. */
struct walk {
    struct loader *l;
    char *root;                 /* realpath of the courses folder */
};

/* One numbered entry of a folder ("02-slug" or "02-slug.md"). */
struct entry {
    char *name;
    char *slug;
    int number;
    bool is_case;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Lists the visible names of a folder (dot files are skipped), sorted.
 * Returns NULL (and *n = 0) when it cannot be read. */
static char **list_dir(const char *path, size_t *n)
{
    DIR *d = opendir(path);
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;

    *n = 0;
    if (d == NULL)
        return NULL;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[(*n)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof(*v), cmp_str);
    return v;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

enum kind { KIND_NONE, KIND_FILE, KIND_DIR };

/* Classifies rel (relative to the root), following a symbolic link only when
 * it stays inside the courses folder. Reports bad links; returns KIND_NONE
 * for them and for other file types. */
static enum kind entry_kind(struct walk *w, const char *rel)
{
    char *full = xasprintf("%s/%s", w->root, rel);
    struct stat st;
    enum kind k = KIND_NONE;

    if (lstat(full, &st) != 0) {
        free(full);
        return KIND_NONE;
    }
    if (S_ISLNK(st.st_mode)) {
        char *real = realpath(full, NULL);
        size_t rl = strlen(w->root);
        if (real == NULL) {
            diag_add(w->l->diags, DIAG_ERROR, rel, 0, "broken symbolic link");
        } else if (strncmp(real, w->root, rl) != 0 || (real[rl] != '/' && real[rl] != '\0')) {
            diag_add(w->l->diags, DIAG_ERROR, rel, 0,
                     "symbolic link leads outside the courses folder");
        } else if (stat(real, &st) == 0) {
            k = S_ISDIR(st.st_mode) ? KIND_DIR : S_ISREG(st.st_mode) ? KIND_FILE : KIND_NONE;
        }
        free(real);
    } else {
        k = S_ISDIR(st.st_mode) ? KIND_DIR : S_ISREG(st.st_mode) ? KIND_FILE : KIND_NONE;
    }
    free(full);
    return k;
}

/* Reads a file (rel, under root) into a NUL-terminated buffer the caller
 * frees, reading it once: its size from fstat, then up to one byte more
 * (the file may be growing). Reports unreadable, oversized and non-UTF-8
 * files to l's diagnostics; returns NULL for them. Safe on any thread with
 * its own l. */
static char *read_file(struct loader *l, const char *root, const char *rel, size_t *len)
{
    char *full = xasprintf("%s/%s", root, rel);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char err[128];

    free(full);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        diag_add(l->diags, DIAG_ERROR, rel, 0, "cannot read: %s",
                 strerror_r(e, err, sizeof(err)));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t want = st.st_size > 0 && st.st_size <= CATALOG_FILE_MAX ? (size_t)st.st_size : 65536;
    size_t cap = want + 2, n = 0;
    char *s = xmalloc(cap);
    ssize_t r;
    while ((r = read(fd, s + n, cap - 1 - n)) > 0) {
        n += (size_t)r;
        if (n > CATALOG_FILE_MAX) {
            diag_add(l->diags, DIAG_ERROR, rel, 0, "file is larger than %d bytes",
                     CATALOG_FILE_MAX);
            close(fd);
            free(s);
            return NULL;
        }
        if (n == cap - 1) {
            cap *= 2;
            s = xrealloc(s, cap);
        }
    }
    int e = errno;
    close(fd);
    if (r < 0) {
        diag_add(l->diags, DIAG_ERROR, rel, 0, "cannot read: %s",
                 strerror_r(e, err, sizeof(err)));
        free(s);
        return NULL;
    }
    s[n] = '\0';
    *len = n;
    if (loader_check_text(l, rel, s, n) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

static char *read_text(struct walk *w, const char *rel, size_t *len)
{
    return read_file(w->l, w->root, rel, len);
}

/* Matches "NNsuffix-slug" + ext: two digits, '-', a slug, then ext exactly.
 * Returns true and fills e on a match; the slug is not yet validated. */
static bool match_numbered(const char *name, const char *ext, struct entry *e)
{
    size_t n = strlen(name), el = strlen(ext);

    if (n < 4 + el || name[0] < '0' || name[0] > '9' || name[1] < '0' || name[1] > '9' ||
        name[2] != '-' || strcmp(name + n - el, ext) != 0)
        return false;
    e->name = xstrdup(name);
    e->slug = xstrndup(name + 3, n - 3 - el);
    e->number = (name[0] - '0') * 10 + (name[1] - '0');
    return true;
}

/* Checks numbering of sorted entries: duplicates are errors, gaps warnings.
 * Returns false when an entry must be dropped (duplicate number). */
/* Keeps a numbered entry whose slug is a valid id; reports and drops the
 * others ("invalid WHAT id"). */
static void keep_entry(struct walk *w, const char *rel, const char *what, struct entry *e,
                       struct entry *v, size_t *nv)
{
    if (!id_valid(e->slug)) {
        diag_add(w->l->diags, DIAG_ERROR, rel, 0, "invalid %s id '%s': use 1 to 64 of [a-z0-9-]",
                 what, e->slug);
        free(e->name);
        free(e->slug);
        return;
    }
    v[(*nv)++] = *e;
}

static void check_numbers(struct walk *w, const char *dir, struct entry *v, size_t n)
{
    int expect = 1;

    for (size_t i = 0; i < n; i++) {
        char *rel = xasprintf("%s/%s", dir, v[i].name);
        if (i > 0 && v[i].number == v[i - 1].number)
            diag_add(w->l->diags, DIAG_ERROR, rel, 0, "number %02d is also used by %s",
                     v[i].number, v[i - 1].name);
        else if (v[i].number != expect)
            diag_add(w->l->diags, DIAG_WARNING, rel, 0,
                     "numbering gap: %02d comes where %02d was expected", v[i].number, expect);
        expect = v[i].number + 1;
        free(rel);
    }
}

static void free_entries(struct entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].slug);
    }
    free(v);
}

/* A language variant found in a folder, read once its default is loaded. */
struct pending_variant {
    char *rel;                  /* path relative to the root */
    char *base;                 /* the default file's name */
    char lang[LANG_TAG_MAX];
};

static void pending_push(struct pending_variant **v, size_t *n, char *rel, char *base,
                         const char *lang)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[*n].rel = rel;
    (*v)[*n].base = base;
    snprintf((*v)[*n].lang, sizeof((*v)[*n].lang), "%s", lang);
    (*n)++;
}

/* ---- reading and parsing lessons ahead, on loader threads ----
 *
 * The walk stays on the caller's thread and decides everything in the
 * order it always has. When it has read a course's course.md, it lists
 * every module folder of the course and hands each lesson file (and each
 * language variant of one) to the pool, then builds the modules one by
 * one; loader threads read and parse the files (lesson_parse) side by
 * side meanwhile, each with its own diagnostics lists. Where the walk used
 * to read and parse a file it takes the job's result instead (doing the
 * job itself when no thread has taken it yet), and adds the job's
 * diagnostics at that point, so that they come in the order a single
 * thread gives; the listing's own diagnostics wait with the module for
 * the same reason. A job the walk does not use (a duplicate, a variant
 * without its default) is dropped with its diagnostics at the course's
 * end. */

enum job_state { JOB_QUEUED, JOB_TAKEN, JOB_DONE };

struct parse_job {
    char *rel;                  /* the file, relative to the root */
    struct course *c;           /* read only: id, language, references */
    int number;                 /* as the walk would pass them to lesson_parse */
    char *slug;
    bool is_case;
    enum job_state state;       /* under the pool's lock */
    struct diag_list read_diags;  /* reading the file */
    struct diag_list parse_diags; /* parsing it */
    struct lesson *les;         /* the parse, or NULL when the file could not be read */
};

struct parse_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;        /* a job is queued, or stop */
    pthread_cond_t done;        /* a job is done */
    const char *root;
    struct node_pool *nodes;    /* the load's, for the trees parsed */
    struct parse_job **jobs;    /* the current course's, in walk order */
    size_t njobs, next;         /* next: the first job no thread has taken */
    size_t jobcap;
    size_t cursor;              /* where the walk looks for its next job */
    bool stop;
    pthread_t threads[LOADER_THREADS_MAX];
    size_t nthreads;
};

static void job_run(struct parse_pool *p, struct parse_job *j)
{
    struct loader jl = {.diags = &j->read_diags, .nodes = p->nodes};
    size_t len;
    char *src = read_file(&jl, p->root, j->rel, &len);

    if (src == NULL)
        return;
    jl.diags = &j->parse_diags;
    j->les = lesson_parse(&jl, j->c, NULL, j->rel, src, len, j->number, j->slug, j->is_case);
}

/* Takes the next queued job and runs it, the lock held on entry and exit. */
static void pool_run_next(struct parse_pool *p)
{
    struct parse_job *j = p->jobs[p->next++];

    j->state = JOB_TAKEN;
    pthread_mutex_unlock(&p->lock);
    job_run(p, j);
    pthread_mutex_lock(&p->lock);
    j->state = JOB_DONE;
    pthread_cond_broadcast(&p->done);
}

static void *pool_thread(void *arg)
{
    struct parse_pool *p = arg;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->next >= p->njobs)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->stop)
            break;
        pool_run_next(p);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* A pool with nthreads - 1 threads of its own (the walk's is the other). */
static struct parse_pool *pool_new(const char *root, struct node_pool *nodes, size_t nthreads)
{
    struct parse_pool *p = xcalloc(1, sizeof(*p));

    p->nodes = nodes;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->root = root;
    for (size_t t = 1; t < nthreads && t < LOADER_THREADS_MAX; t++)
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_thread, p) == 0)
            p->nthreads++;
    return p;
}

static void job_free(struct parse_job *j)
{
    free(j->rel);
    free(j->slug);
    diag_list_clear(&j->read_diags);
    diag_list_clear(&j->parse_diags);
    lesson_free(j->les);
    free(j);
}

/* Queues the jobs of one module after the course's others (the pool takes
 * them over). Only the walk's thread changes the array. */
static void pool_submit(struct parse_pool *p, struct parse_job **jobs, size_t n)
{
    pthread_mutex_lock(&p->lock);
    if (p->njobs + n > p->jobcap) {
        p->jobcap = p->njobs + n > p->jobcap * 2 ? p->njobs + n : p->jobcap * 2;
        p->jobs = xrealloc(p->jobs, p->jobcap * sizeof(*p->jobs));
    }
    memcpy(p->jobs + p->njobs, jobs, n * sizeof(*jobs));
    p->njobs += n;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    free(jobs);
}

/* The done job for rel, or NULL when none was queued. While it is not done,
 * the walk's thread runs queued jobs itself, or waits. */
static struct parse_job *pool_take(struct parse_pool *p, const char *rel)
{
    struct parse_job *j = NULL;

    if (p == NULL)
        return NULL;
    for (size_t k = 0; k < p->njobs && j == NULL; k++) {
        size_t i = (p->cursor + k) % p->njobs;
        if (strcmp(p->jobs[i]->rel, rel) == 0) {
            j = p->jobs[i];
            p->cursor = i + 1;
        }
    }
    if (j == NULL)
        return NULL;
    pthread_mutex_lock(&p->lock);
    while (j->state != JOB_DONE) {
        if (p->next < p->njobs)
            pool_run_next(p);
        else
            pthread_cond_wait(&p->done, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return j;
}

/* Ends the course: jobs no thread took are not run; the others are waited
 * for; all are freed with what the walk did not take from them. */
static void pool_end_course(struct parse_pool *p)
{
    if (p == NULL || p->jobs == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    for (size_t i = p->next; i < p->njobs; i++)
        p->jobs[i]->state = JOB_DONE;
    p->next = p->njobs;
    for (size_t i = 0; i < p->njobs; i++)
        while (p->jobs[i]->state != JOB_DONE)
            pthread_cond_wait(&p->done, &p->lock);
    struct parse_job **jobs = p->jobs;
    size_t n = p->njobs;
    p->jobs = NULL;
    p->njobs = p->next = p->cursor = p->jobcap = 0;
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < n; i++)
        job_free(jobs[i]);
    free(jobs);
}

static void pool_free(struct parse_pool *p)
{
    if (p == NULL)
        return;
    pool_end_course(p);
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (size_t t = 0; t < p->nthreads; t++)
        pthread_join(p->threads[t], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static struct parse_job *job_new(struct course *c, char *rel, const struct entry *e)
{
    struct parse_job *j = xcalloc(1, sizeof(*j));

    j->rel = rel;
    j->c = c;
    j->number = e->number;
    j->slug = xstrdup(e->slug);
    j->is_case = e->is_case;
    return j;
}

/* Queues a module's lessons (v, sorted) and the variants of lessons among
 * pv, as the walk below will read them, when there are loader threads. */
static void queue_module(struct walk *w, struct course *c, struct module *m,
                         const struct entry *v, size_t nv, const struct pending_variant *pv,
                         size_t npv)
{
    struct loader *l = w->l;

    if (nv + npv < 2)
        return;
    if (l->pool == NULL && loader_nthreads(l, LOADER_PARALLEL_MIN) > 1)
        l->pool = pool_new(w->root, l->nodes, loader_nthreads(l, LOADER_PARALLEL_MIN));
    if (l->pool == NULL || l->pool->nthreads == 0)
        return;
    struct parse_job **jobs = xcalloc(nv + npv, sizeof(*jobs));
    size_t n = 0;
    for (size_t i = 0; i < nv; i++) {
        if (i > 0 && v[i].number == v[i - 1].number)
            continue;
        jobs[n++] = job_new(c, xasprintf("%s/%s", m->path, v[i].name), &v[i]);
    }
    for (size_t i = 0; i < npv; i++) {
        struct entry e = {0};
        /* A variant is parsed with its default file's number, id and kind. */
        if (match_numbered(pv[i].base, ".case.md", &e) || match_numbered(pv[i].base, ".md", &e)) {
            e.is_case = strstr(pv[i].base, ".case.md") == pv[i].base + strlen(pv[i].base) - 8;
            if (id_valid(e.slug))
                jobs[n++] = job_new(c, xstrdup(pv[i].rel), &e);
            free(e.name);
            free(e.slug);
        }
    }
    pool_submit(l->pool, jobs, n);
}

/* A module folder listed (and its files queued) before it is built. */
struct module_scan {
    struct module *m;
    struct entry *v;            /* its lessons, sorted */
    size_t nv;
    struct pending_variant *pv; /* its language variants */
    size_t npv;
    bool have_module_md;
    struct diag_list diags;     /* the listing's, added when the module is built */
};

/* Lists one module folder: its lessons and variants, queued for the loader
 * threads; what it finds wrong waits in s->diags. */
static void scan_module(struct walk *w, struct course *c, struct module *m, struct module_scan *s)
{
    size_t n;
    char *full = xasprintf("%s/%s", w->root, m->path);
    char **names = list_dir(full, &n);
    struct entry *v = xcalloc(n ? n : 1, sizeof(*v));
    size_t nv = 0;
    bool have_module_md = false;
    struct pending_variant *pv = NULL;
    size_t npv = 0;
    char *vbase, vlang[LANG_TAG_MAX];
    struct diag_list *diags = w->l->diags;

    w->l->diags = &s->diags;
    free(full);
    for (size_t i = 0; i < n; i++) {
        char *rel = xasprintf("%s/%s", m->path, names[i]);
        enum kind k = entry_kind(w, rel);
        struct entry e = {0};
        if (k == KIND_FILE && variant_split(names[i], &vbase, vlang)) {
            pending_push(&pv, &npv, rel, vbase, vlang);
            continue;
        }
        if (k == KIND_FILE && strcmp(names[i], "module.md") == 0) {
            have_module_md = true;
        } else if (k == KIND_FILE && (match_numbered(names[i], ".case.md", &e) ||
                                      match_numbered(names[i], ".md", &e))) {
            e.is_case = strstr(names[i], ".case.md") == names[i] + strlen(names[i]) - 8;
            keep_entry(w, rel, "lesson", &e, v, &nv);
        } else if (k != KIND_NONE) {
            diag_add(w->l->diags, DIAG_WARNING, rel, 0,
                     "ignored: not module.md, NN-lesson.md or NN-case.case.md");
        }
        free(rel);
    }
    free_names(names, n);
    qsort(v, nv, sizeof(*v), cmp_entry);
    check_numbers(w, m->path, v, nv);
    queue_module(w, c, m, v, nv, pv, npv);
    w->l->diags = diags;
    s->m = m;
    s->v = v;
    s->nv = nv;
    s->pv = pv;
    s->npv = npv;
    s->have_module_md = have_module_md;
}

/* Builds a listed module: module.md, then each lesson and variant, taken
 * from the loader threads (or read and parsed here). */
static void build_module(struct walk *w, struct course *c, struct module_scan *s)
{
    struct module *m = s->m;
    struct entry *v = s->v;
    size_t nv = s->nv;
    struct pending_variant *pv = s->pv;
    size_t npv = s->npv;
    bool have_module_md = s->have_module_md;

    diag_list_move(w->l->diags, &s->diags);
    char *mrel = xasprintf("%s/module.md", m->path);
    if (!have_module_md) {
        diag_add(w->l->diags, DIAG_ERROR, m->path, 0, "module.md is missing");
    } else {
        size_t len;
        char *src = read_text(w, mrel, &len);
        if (src) {
            struct front_matter fm;
            fm_parse(&fm, FM_MODULE, src, len, mrel, w->l->diags);
            if (fm.title) {
                free(m->title);
                m->title = xstrdup(fm.title);
            }
            m->summary = xstrdup(fm.summary ? fm.summary : "");
            loader_intro_add(w->l, mrel, src, len, fm.present ? fm.body_off : 0, &m->intro_html,
                             &m->intro_text);
            fm_free(&fm);
            free(src);
        }
    }
    free(mrel);
    if (m->summary == NULL)
        m->summary = xstrdup("");

    for (size_t i = 0; i < nv; i++) {
        if (i > 0 && v[i].number == v[i - 1].number)
            continue; /* reported by check_numbers */
        bool dup = false;
        for (size_t j = 0; j < c->nlessons && !dup; j++) {
            if (strcmp(c->lessons[j]->id, v[i].slug) == 0) {
                char *rel = xasprintf("%s/%s", m->path, v[i].name);
                diag_add(w->l->diags, DIAG_ERROR, rel, 0,
                         "lesson id '%s' is also used by %s", v[i].slug, c->lessons[j]->path);
                free(rel);
                dup = true;
            }
        }
        if (dup)
            continue;
        char *rel = xasprintf("%s/%s", m->path, v[i].name);
        struct parse_job *j = pool_take(w->l->pool, rel);
        if (j) {
            diag_list_move(w->l->diags, &j->read_diags);
            if (j->les) {
                diag_list_move(w->l->diags, &j->parse_diags);
                lesson_add(w->l, c, m, j->les);
                j->les = NULL;
            }
        } else {
            size_t len;
            char *src = read_text(w, rel, &len);
            if (src)
                lesson_build(w->l, c, m, rel, src, len, v[i].number, v[i].slug, v[i].is_case);
        }
        free(rel);
    }
    free_entries(v, nv);
    for (size_t i = 0; i < npv; i++) {
        struct parse_job *j = pool_take(w->l->pool, pv[i].rel);
        if (j) {
            diag_list_move(w->l->diags, &j->read_diags);
            if (j->les)
                variant_lesson_add(w->l, c, m, pv[i].rel, pv[i].base, pv[i].lang, NULL, 0,
                                   j->les, &j->parse_diags);
            j->les = NULL;
        } else {
            size_t len;
            char *src = read_text(w, pv[i].rel, &len);
            if (src && strcmp(pv[i].base, "module.md") == 0) {
                variant_text_add(w->l, c, m, pv[i].rel, pv[i].lang, src, len);
                free(src);
            } else if (src) {
                variant_lesson_add(w->l, c, m, pv[i].rel, pv[i].base, pv[i].lang, src, len,
                                   NULL, NULL);
            }
        }
        free(pv[i].rel);
        free(pv[i].base);
    }
    free(pv);
}

static struct module *module_new(struct course *c, const char *path, const char *slug, int number)
{
    struct module *m = xcalloc(1, sizeof(*m));

    m->id = xstrdup(slug);
    m->title = xstrdup(slug);
    m->number = number;
    m->path = xstrdup(path);
    m->course = c;
    c->modules = xrealloc(c->modules, (c->nmodules + 1) * sizeof(*c->modules));
    c->modules[c->nmodules++] = m;
    return m;
}

static struct course *course_new(struct catalog *cat, const char *id)
{
    struct course *c = xcalloc(1, sizeof(*c));

    c->id = xstrdup(id);
    c->path = xstrdup(id);
    c->completion.lessons_percent = 100;
    c->completion.exercises = CATALOG_ALL;
    cat->courses = xrealloc(cat->courses, (cat->ncourses + 1) * sizeof(*cat->courses));
    cat->courses[cat->ncourses++] = c;
    return c;
}

/* Takes the course.md values into the course; fills defaults for missing. */
static void course_front_matter(struct course *c, struct front_matter *fm)
{
    c->title = xstrdup(fm->title ? fm->title : c->id);
    c->summary = xstrdup(fm->summary ? fm->summary : "");
    c->language = xstrdup(fm->language ? fm->language : "");
    c->version = xstrdup(fm->version ? fm->version : "");
    c->authors = fm->authors;
    c->nauthors = fm->nauthors;
    fm->authors = NULL;
    fm->nauthors = 0;
    c->criteria = xstrdup(fm->criteria ? fm->criteria : "");
    c->skills = fm->skills;
    c->nskills = fm->nskills;
    fm->skills = NULL;
    fm->nskills = 0;
    /* Course ids; checked once every course is loaded (check_course_prereqs). */
    c->prerequisites = fm->prerequisites;
    c->nprerequisites = fm->nprerequisites;
    fm->prerequisites = NULL;
    fm->nprerequisites = 0;
    if (fm->present)
        c->completion = fm->completion;
}

/* The content type of a course file by its extension, or NULL when the
 * extension is not one a course may ship. */
static const char *file_type(const char *ext)
{
    static const char *const types[][2] = {
        {"md", "text/markdown; charset=utf-8"}, {"csv", "text/csv; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"},   {"pdf", "application/pdf"},
        {"json", "application/json"},           {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"odt", "application/vnd.oasis.opendocument.text"},
        {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(ext, types[i][0]) == 0)
            return types[i][1];
    return NULL;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct course_file *)a)->name, ((const struct course_file *)b)->name);
}

/* Reads a course's files/ folder: each NAME.EXT (NAME an id, EXT a known
 * type) up to CATALOG_COURSE_FILE_MAX bytes; text types must be UTF-8. A
 * NAME.LL.EXT is a language variant: it is kept with its language part in
 * name_lang, and variant_files() attaches it to NAME.EXT once course.md's
 * languages are known. */
static void load_files(struct walk *w, struct course *c, const char *dir)
{
    size_t n;
    char *full = xasprintf("%s/%s", w->root, dir);
    char **names = list_dir(full, &n);

    free(full);
    for (size_t i = 0; i < n; i++) {
        char *rel = xasprintf("%s/%s", dir, names[i]);
        char vlang[LANG_TAG_MAX] = "", *vname = NULL;
        bool variant = variant_file_split(names[i], &vname, vlang);
        const char *fname = variant ? vname : names[i];
        const char *dot = strrchr(fname, '.');
        char *base = dot ? xstrndup(fname, (size_t)(dot - fname)) : NULL;
        const char *type = dot ? file_type(dot + 1) : NULL;
        if (entry_kind(w, rel) != KIND_FILE) {
            diag_add(w->l->diags, DIAG_WARNING, rel, 0, "ignored: not a file");
        } else if (base == NULL || !id_valid(base) || type == NULL) {
            diag_add(w->l->diags, DIAG_ERROR, rel, 0,
                     "course file names are NAME.EXT (or NAME.LL.EXT in language LL): NAME of "
                     "[a-z0-9-], EXT one of md, csv, txt, pdf, json, png, jpg, odt, ods, docx, "
                     "xlsx");
        } else {
            char *path = xasprintf("%s/%s", w->root, rel);
            struct stat st;
            FILE *f = fopen(path, "rb");
            free(path);
            if (f == NULL || fstat(fileno(f), &st) != 0) {
                diag_add(w->l->diags, DIAG_ERROR, rel, 0, "cannot read: %s", strerror(errno));
            } else if (st.st_size > CATALOG_COURSE_FILE_MAX) {
                diag_add(w->l->diags, DIAG_ERROR, rel, 0,
                         "file is too large: %lld bytes, at most %d for a course file",
                         (long long)st.st_size, CATALOG_COURSE_FILE_MAX);
            } else {
                struct course_file cf = {.name = xstrdup(names[i]),
                                         .content_type = xstrdup(type), .lang = ""};
                snprintf(cf.name_lang, sizeof(cf.name_lang), "%s", vlang);
                cf.data = xmalloc((size_t)st.st_size + 1);
                cf.len = fread(cf.data, 1, (size_t)st.st_size, f);
                cf.data[cf.len] = '\0';
                sha256_hex(cf.data, cf.len, cf.version);
                if (strncmp(type, "text/", 5) == 0 &&
                    loader_check_text(w->l, rel, cf.data, cf.len) < 0) {
                    free(cf.name);
                    free(cf.content_type);
                    free(cf.data);
                } else {
                    c->files = xrealloc(c->files, (c->nfiles + 1) * sizeof(*c->files));
                    c->files[c->nfiles++] = cf;
                }
            }
            if (f)
                fclose(f);
        }
        free(base);
        free(vname);
        free(rel);
    }
    free_names(names, n);
    if (c->nfiles)
        qsort(c->files, c->nfiles, sizeof(*c->files), cmp_file);
}

/* Loads one course folder (its name is the course id). */
static void load_course(struct walk *w, const char *id)
{
    struct course *c = course_new(w->l->cat, id);
    char *full = xasprintf("%s/%s", w->root, id);
    size_t n;
    char **names = list_dir(full, &n);
    struct entry *v = xcalloc(n ? n : 1, sizeof(*v));
    size_t nv = 0;
    bool have_course_md = false;
    struct pending_variant *pv = NULL;
    size_t npv = 0;
    char *vbase, vlang[LANG_TAG_MAX];

    free(full);
    for (size_t i = 0; i < n; i++) {
        char *rel = xasprintf("%s/%s", id, names[i]);
        enum kind k = entry_kind(w, rel);
        struct entry e = {0};
        if (k == KIND_FILE && variant_split(names[i], &vbase, vlang)) {
            if (strcmp(vbase, "course.md") == 0) {
                pending_push(&pv, &npv, rel, vbase, vlang);
                continue;
            }
            free(vbase);
        }
        if (k == KIND_FILE && strcmp(names[i], "course.md") == 0) {
            have_course_md = true;
        } else if (k == KIND_DIR && strcmp(names[i], "files") == 0) {
            load_files(w, c, rel);
        } else if (k == KIND_FILE && strcmp(names[i], "references.yaml") == 0) {
            /* Read before the lessons, which cite its entries. */
            size_t len;
            char *src = read_text(w, rel, &len);
            if (src)
                biblio_load(w->l, c, rel, src, len);
            free(src);
        } else if (k == KIND_DIR && match_numbered(names[i], "", &e)) {
            keep_entry(w, rel, "module", &e, v, &nv);
        } else if (k != KIND_NONE) {
            diag_add(w->l->diags, DIAG_WARNING, rel, 0,
                     "ignored: not course.md or an NN-module folder");
        }
        free(rel);
    }
    free_names(names, n);

    char *crel = xasprintf("%s/course.md", id);
    struct front_matter fm = {0};
    if (!have_course_md) {
        diag_add(w->l->diags, DIAG_ERROR, id, 0, "course.md is missing");
        course_front_matter(c, &fm);
        variant_course_languages(w->l, c, crel, NULL, 0, 0, 0);
    } else {
        size_t len;
        char *src = read_text(w, crel, &len);
        if (src) {
            fm_parse(&fm, FM_COURSE, src, len, crel, w->l->diags);
            if (fm.id && strcmp(fm.id, id) != 0)
                diag_add(w->l->diags, DIAG_ERROR, crel, fm.id_line,
                         "course id '%s' must equal its folder name '%s'", fm.id, id);
            loader_intro_add(w->l, crel, src, len, fm.present ? fm.body_off : 0, &c->intro_html,
                             &c->intro_text);
            free(src);
        }
        course_front_matter(c, &fm);
        variant_course_languages(w->l, c, crel, fm.languages, fm.nlanguages, fm.languages_line,
                                 fm.language_line);
        fm_free(&fm);
    }
    free(crel);
    variant_files(w->l, c);
    for (size_t i = 0; i < npv; i++) {
        size_t len;
        char *src = read_text(w, pv[i].rel, &len);
        if (src)
            variant_text_add(w->l, c, NULL, pv[i].rel, pv[i].lang, src, len);
        free(src);
        free(pv[i].rel);
        free(pv[i].base);
    }
    free(pv);

    qsort(v, nv, sizeof(*v), cmp_entry);
    check_numbers(w, id, v, nv);
    /* Every module listed and queued first, so that the loader threads
     * have the whole course to parse while the modules are built. */
    struct module_scan *scans = xcalloc(nv ? nv : 1, sizeof(*scans));
    size_t nscans = 0;
    for (size_t i = 0; i < nv; i++) {
        if (i > 0 && v[i].number == v[i - 1].number)
            continue;
        char *mpath = xasprintf("%s/%s", id, v[i].name);
        struct module *m = module_new(c, mpath, v[i].slug, v[i].number);
        free(mpath);
        scan_module(w, c, m, &scans[nscans++]);
    }
    for (size_t i = 0; i < nscans; i++)
        build_module(w, c, &scans[i]);
    free(scans);
    pool_end_course(w->l->pool);
    free_entries(v, nv);
}

static void module_free(struct module *m)
{
    free(m->id);
    free(m->title);
    free(m->summary);
    free(m->path);
    free(m->intro_html);
    free(m->intro_text);
    free(m->lessons);
    for (size_t i = 0; i < m->nvariants; i++)
        text_variant_free(&m->variants[i]);
    free(m->variants);
    free(m->trainer_lessons);
    free(m);
}

static void course_free(struct course *c)
{
    for (size_t i = 0; i < c->nlessons; i++)
        lesson_free(c->lessons[i]);
    free(c->lessons);
    for (size_t i = 0; i < c->ntrainer_lessons; i++)
        lesson_free(c->trainer_lessons[i]);
    free(c->trainer_lessons);
    for (size_t i = 0; i < c->nprerequisites; i++)
        free(c->prerequisites[i]);
    free(c->prerequisites);
    biblio_free(c);
    for (size_t i = 0; i < c->nfiles; i++)
        course_file_free(&c->files[i]);
    free(c->files);
    for (size_t i = 0; i < c->nmodules; i++)
        module_free(c->modules[i]);
    free(c->modules);
    for (size_t i = 0; i < c->nauthors; i++)
        free(c->authors[i]);
    free(c->authors);
    for (size_t i = 0; i < c->nskills; i++)
        free(c->skills[i]);
    free(c->skills);
    free(c->criteria);
    free(c->id);
    free(c->title);
    free(c->summary);
    free(c->language);
    for (size_t i = 0; i < c->nlanguages; i++)
        free(c->languages[i]);
    free(c->languages);
    for (size_t i = 0; i < c->nvariants; i++)
        text_variant_free(&c->variants[i]);
    free(c->variants);
    free(c->version);
    free(c->path);
    free(c->intro_html);
    free(c->intro_text);
    free(c);
}

static void catalog_free(struct catalog *cat)
{
    size_t total = 0, k = 0;

    for (size_t i = 0; i < cat->ncourses; i++)
        total += cat->courses[i]->nlessons + cat->courses[i]->ntrainer_lessons;
    struct lesson **all = xcalloc(total ? total : 1, sizeof(*all));
    for (size_t i = 0; i < cat->ncourses; i++) {
        struct course *c = cat->courses[i];
        for (size_t j = 0; j < c->nlessons; j++)
            all[k++] = c->lessons[j];
        for (size_t j = 0; j < c->ntrainer_lessons; j++)
            all[k++] = c->trainer_lessons[j];
        c->nlessons = c->ntrainer_lessons = 0;
    }
    lesson_free_all(all, k);
    free(all);
    for (size_t i = 0; i < cat->ncourses; i++)
        course_free(cat->courses[i]);
    free(cat->courses);
    free(cat->by_id);
    programmes_free(cat);
    search_index_free(cat->search);
    node_pool_free(cat->nodes);  /* after every tree in it */
    free(cat->dir);
    free(cat);
}

/* Each course prerequisite must be another known course. */
static void check_course_prereqs(struct loader *l)
{
    for (size_t i = 0; i < l->cat->ncourses; i++) {
        struct course *c = l->cat->courses[i];
        char *rel = xasprintf("%s/course.md", c->id);
        for (size_t j = 0; j < c->nprerequisites; j++)
            if (strcmp(c->prerequisites[j], c->id) == 0 ||
                catalog_course(l->cat, c->prerequisites[j]) == NULL)
                diag_add(l->diags, DIAG_ERROR, rel, 0, "unknown prerequisite course '%s'",
                         c->prerequisites[j]);
        free(rel);
    }
}

static int cmp_full_id(const void *a, const void *b)
{
    return strcmp((*(struct lesson *const *)a)->full_id, (*(struct lesson *const *)b)->full_id);
}

/* Links lessons in course order, indexes them by id, resolves links and
 * renders (phase 2), builds the search index. Returns the catalogue, or
 * frees it and returns NULL when any error was reported. */
static struct catalog *finish(struct loader *l)
{
    struct catalog *cat = l->cat;
    size_t total = 0;

    for (size_t i = 0; i < cat->ncourses; i++) {
        struct course *c = cat->courses[i];
        for (size_t j = 0; j < c->nlessons; j++) {
            struct lesson *les = c->lessons[j];
            les->prev = j ? c->lessons[j - 1] : NULL;
            les->next = j + 1 < c->nlessons ? c->lessons[j + 1] : NULL;
            les->prev_id = les->prev ? les->prev->full_id : NULL;
            les->next_id = les->next ? les->next->full_id : NULL;
        }
        total += c->nlessons + c->ntrainer_lessons;
    }
    cat->by_id = xcalloc(total ? total : 1, sizeof(*cat->by_id));
    for (size_t i = 0; i < cat->ncourses; i++) {
        for (size_t j = 0; j < cat->courses[i]->nlessons; j++)
            cat->by_id[cat->nlessons++] = cat->courses[i]->lessons[j];
        for (size_t j = 0; j < cat->courses[i]->ntrainer_lessons; j++)
            cat->by_id[cat->nlessons++] = cat->courses[i]->trainer_lessons[j];
    }
    qsort(cat->by_id, cat->nlessons, sizeof(*cat->by_id), cmp_full_id);
    catalog_load_span("order");
    loader_finish(l);
    free(l->all);
    catalog_load_span("render");
    biblio_check(l);
    check_course_prereqs(l);
    /* Exercises are built (and self-checked) by the grading engine; their
     * errors are the catalogue's errors. */
    for (size_t i = 0; i < cat->nlessons; i++)
        lesson_build_exercise(l, cat->by_id[i]);
    variant_finish(l);
    catalog_load_span("exercises");
    if (l->diags->errors) {
        catalog_free(cat);
        return NULL;
    }
    cat->search = search_index_build(cat->courses, cat->ncourses);
    catalog_load_span("index");
    cat->refs = 1;
    static uint64_t generations;
    cat->generation = __atomic_add_fetch(&generations, 1, __ATOMIC_RELAXED);
    return cat;
}

/* Runs finish() with a private diagnostics list, so that only this load's
 * errors decide, then appends its diagnostics to the caller's list. */
static struct catalog *finish_into(struct loader *l, struct diag_list *local,
                                   struct diag_list *diags)
{
    struct catalog *cat = finish(l);

    for (size_t i = 0; i < local->count; i++)
        diag_add(diags, local->items[i].severity, local->items[i].path, local->items[i].line,
                 "%s", local->items[i].msg);
    diag_list_clear(local);
    return cat;
}

static double clock_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void catalog_load_span(const char *stage)
{
    static int on = -1;
    static double wall0, cpu0;

    if (on < 0)
        on = getenv("CAMPUS_LOAD_TIMES") != NULL;
    if (!on)
        return;
    double wall = clock_ms(CLOCK_MONOTONIC), cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    if (stage)
        fprintf(stderr, "load: %-12s %8.1f ms wall %8.1f ms cpu\n", stage, wall - wall0,
                cpu - cpu0);
    wall0 = wall;
    cpu0 = cpu;
}

struct catalog *catalog_load(const char *dir, struct diag_list *diags)
{
    return catalog_load_threads(dir, diags, 0);
}

struct catalog *catalog_load_threads(const char *dir, struct diag_list *diags, unsigned threads)
{
    struct diag_list local = {0};
    struct loader l = {.diags = &local, .threads = threads};
    struct walk w = {.l = &l};
    struct stat st;
    char **names = NULL;
    size_t n = 0;
    bool have_programmes = false;

    catalog_load_span(NULL);
    l.cat = xcalloc(1, sizeof(*l.cat));
    l.cat->dir = xstrdup(dir);
    l.cat->nodes = l.nodes = node_pool_new();
    w.root = realpath(dir, NULL);
    if (w.root == NULL || stat(w.root, &st) != 0 || !S_ISDIR(st.st_mode))
        diag_add(&local, DIAG_ERROR, ".", 0, "cannot open the courses folder");
    else
        names = list_dir(w.root, &n);
    for (size_t i = 0; i < n; i++) {
        enum kind k = entry_kind(&w, names[i]);
        if (k == KIND_DIR) {
            if (!id_valid(names[i]))
                diag_add(&local, DIAG_ERROR, names[i], 0,
                         "invalid course id '%s': use 1 to 64 of [a-z0-9-]", names[i]);
            else
                load_course(&w, names[i]);
        } else if (k == KIND_FILE && strcmp(names[i], "programmes.yaml") == 0) {
            have_programmes = true;
        } else if (k == KIND_FILE) {
            diag_add(&local, DIAG_WARNING, names[i], 0, "ignored: not a course folder");
        }
    }
    if (have_programmes) {
        /* After the courses, whose ids it names. */
        size_t len;
        char *src = read_text(&w, "programmes.yaml", &len);
        if (src)
            programmes_load(&l, "programmes.yaml", src, len);
        free(src);
    }
    free_names(names, n);
    pool_free(l.pool);
    l.pool = NULL;
    free(w.root);
    catalog_load_span("walk+parse");
    return finish_into(&l, &local, diags);
}

struct catalog *catalog_load_memory(const char *src, size_t len, struct diag_list *diags)
{
    struct diag_list local = {0};
    struct loader l = {.diags = &local};
    struct front_matter none = {0};
    const char *path = "memory/01-memory/01-lesson.md";

    l.cat = xcalloc(1, sizeof(*l.cat));
    l.cat->dir = xstrdup("");
    l.cat->nodes = l.nodes = node_pool_new();
    struct course *c = course_new(l.cat, "memory");
    course_front_matter(c, &none);
    c->intro_html = xstrdup("");
    c->intro_text = xstrdup("");
    struct module *m = module_new(c, "memory/01-memory", "memory", 1);
    m->summary = xstrdup("");
    m->intro_html = xstrdup("");
    m->intro_text = xstrdup("");
    if (loader_check_text(&l, path, src, len) == 0)
        lesson_build(&l, c, m, path, xstrndup(src, len), len, 1, "lesson", false);
    return finish_into(&l, &local, diags);
}

struct catalog *catalog_ref(struct catalog *cat)
{
    __atomic_add_fetch(&cat->refs, 1, __ATOMIC_RELAXED);
    return cat;
}

void catalog_unref(struct catalog *cat)
{
    if (cat && __atomic_sub_fetch(&cat->refs, 1, __ATOMIC_ACQ_REL) == 0)
        catalog_free(cat);
}

const struct course *catalog_course(const struct catalog *cat, const char *id)
{
    for (size_t i = 0; i < cat->ncourses; i++)
        if (strcmp(cat->courses[i]->id, id) == 0)
            return cat->courses[i];
    return NULL;
}

const struct lesson *catalog_lesson_any(const struct catalog *cat, const char *full_id)
{
    struct lesson key = {.full_id = (char *)full_id}, *kp = &key;
    struct lesson **r =
        cat->nlessons ? bsearch(&kp, cat->by_id, cat->nlessons, sizeof(*cat->by_id), cmp_full_id)
                      : NULL;

    return r ? *r : NULL;
}

const struct lesson *catalog_lesson(const struct catalog *cat, const char *full_id)
{
    const struct lesson *l = catalog_lesson_any(cat, full_id);

    return l && !l->trainer ? l : NULL;
}

const struct course_file *catalog_file(const struct course *c, const char *name)
{
    struct course_file key = {.name = (char *)name};
    const struct course_file *f =
        c->nfiles ? bsearch(&key, c->files, c->nfiles, sizeof(*c->files), cmp_file) : NULL;
    char lang[LANG_TAG_MAX], *base;

    /* Not a default file: a variant's own name (NAME.LL.EXT) is its own. */
    if (f == NULL && c->nfiles && variant_file_split(name, &base, lang)) {
        key.name = base;
        f = bsearch(&key, c->files, c->nfiles, sizeof(*c->files), cmp_file);
        free(base);
        const struct course_file *v = f ? catalog_file_lang(f, lang) : NULL;
        f = v && v != f && strcmp(v->name, name) == 0 ? v : NULL;
    }
    return f;
}

bool catalog_lesson_counts(const struct lesson *l)
{
    return !l->pretest && !l->trainer;
}

char *catalog_lesson_text(const struct lesson *lesson, int width, bool ansi)
{
    struct text_view v = {.width = width, .ansi = ansi};

    return catalog_lesson_text_view(lesson, &v);
}

char *catalog_lesson_text_view(const struct lesson *lesson, const struct text_view *v)
{
    int width = v->width;

    if (width < CATALOG_TEXT_WIDTH_MIN)
        width = CATALOG_TEXT_WIDTH_MIN;
    if (width > CATALOG_TEXT_WIDTH_MAX)
        width = CATALOG_TEXT_WIDTH_MAX;
    struct render_text_opts o = {.width = width, .ansi = v->ansi, .exercise_id = lesson->full_id,
                                 .in_exercise = v->in_exercise, .title = lesson->title,
                                 .lang = lesson->lang};
    struct cmark_node *doc = lesson_tree(lesson, v->trainer && catalog_lesson_has_trainer_view(lesson));
    char *text = render_text_opts(doc, &o);
    cmark_node_free(doc);
    return text;
}
