/* node_arena.c: a catalogue's trees and renderings, in its own pool (node_arena.h). */
#include "node_arena.h"
#include "util.h"

#include <cmark.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A pool's regions: this size (a transparent huge page), or a multiple of
 * it for a block larger than that. A thread's first region in a pool is
 * FIRST_REGION_SIZE, of ordinary pages, so that a small catalogue (one
 * lesson, a test's) costs no huge page. */
#define REGION_SIZE ((size_t)2 * 1024 * 1024)
#define FIRST_REGION_SIZE ((size_t)256 * 1024)
/* Freed blocks up to this size (header included) are kept for reuse, one
 * list per multiple of 16 bytes. */
#define REUSE_MAX 512
#define NCLASSES (REUSE_MAX / 16 + 1)

/* What every block node_mem hands out starts with, 16 bytes before it.
 * The tag's high half says heap or pool (values no size field could
 * hold, so that a pointer node_mem never gave is caught), its low half,
 * for a pool's block, the pool's serial number. */
#define TAG_HEAP 0xC0DEB10C00000000ULL
#define TAG_POOL 0xC0DEB10D00000000ULL
#define TAG_KIND 0xFFFFFFFF00000000ULL

struct hdr {
    size_t size;                /* bytes asked for */
    uint64_t tag;
};

struct region {
    struct region *next;
    size_t size;                /* bytes mapped, this header included */
};

struct node_pool {
    pthread_mutex_t lock;       /* over regions and total */
    struct region *regions;
    size_t total;
    uint32_t serial;            /* in the tags of its blocks */
};

/* A free block kept for reuse (in the bytes after its header). */
struct reuse {
    struct reuse *next;
};

/* This thread's place in the pool it has entered. */
struct place {
    struct node_pool *pool;     /* entered, or NULL */
    uint32_t serial;            /* of the pool cur and the lists belong to */
    char *cur, *end;            /* what is left of this thread's region */
    char *clean;                /* from here to end: never handed out, still zero */
    char *last;                 /* the latest block cut from it (header), or NULL */
    size_t nregions;            /* regions this thread has taken from the pool */
    struct reuse *lists[NCLASSES];
};

static __thread struct place here;
static uint32_t next_serial;

static size_t rounded(size_t n)
{
    if (n > SIZE_MAX / 2) {
        fprintf(stderr, "campus: allocation of %zu bytes is too large\n", n);
        abort();
    }
    return sizeof(struct hdr) + ((n + 15) & ~(size_t)15);
}

struct node_pool *node_pool_new(void)
{
    struct node_pool *p = xcalloc(1, sizeof(*p));

    pthread_mutex_init(&p->lock, NULL);
    /* Never 0, so that a thread's place of no pool matches none. */
    do
        p->serial = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
    while (p->serial == 0);
    return p;
}

void node_pool_free(struct node_pool *p)
{
    if (p == NULL)
        return;
    if (here.serial == p->serial)
        memset(&here, 0, sizeof(here));
    for (struct region *r = p->regions, *next; r; r = next) {
        next = r->next;
        munmap(r, r->size);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

size_t node_pool_size(const struct node_pool *p)
{
    return p ? p->total : 0;
}

void node_pool_enter(struct node_pool *p)
{
    if (here.serial != p->serial) {
        memset(&here, 0, sizeof(here));
        here.serial = p->serial;
    }
    here.pool = p;
}

void node_pool_leave(void)
{
    here.pool = NULL;
}

/* A region of at least need bytes (past its header): small, or 2 MiB
 * aligned so that it can be backed by huge pages. */
static struct region *region_new(struct node_pool *p, size_t need, bool small)
{
    size_t unit = small ? FIRST_REGION_SIZE : REGION_SIZE;
    size_t size = (sizeof(struct region) + need + unit - 1) & ~(unit - 1);
    size_t extra = small ? 0 : REGION_SIZE;
    char *m = mmap(NULL, size + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);

    if (m == MAP_FAILED) {
        fprintf(stderr, "campus: out of memory (%zu bytes)\n", size);
        abort();
    }
    char *a = m;
    if (!small) {
        a = (char *)(((uintptr_t)m + REGION_SIZE - 1) & ~(uintptr_t)(REGION_SIZE - 1));
        if (a > m)
            munmap(m, (size_t)(a - m));
        if (a + size < m + size + extra)
            munmap(a + size, (size_t)(m + size + extra - (a + size)));
#ifdef MADV_HUGEPAGE
        madvise(a, size, MADV_HUGEPAGE);
#endif
    }
    struct region *r = (struct region *)a;
    r->size = size;
    pthread_mutex_lock(&p->lock);
    r->next = p->regions;
    p->regions = r;
    p->total += size;
    pthread_mutex_unlock(&p->lock);
    return r;
}

/* Marks the region's bytes up to end as handed out (no longer zero). */
static void dirty_to(char *end)
{
    if (end > here.clean)
        here.clean = end;
}

/* need bytes (header included, rounded) of the pool entered here; *fresh
 * says whether they are bytes never handed out (zero, as mmap gave them). */
static struct hdr *pool_take(size_t need, bool *fresh)
{
    size_t c = need / 16;

    *fresh = false;
    if (need <= REUSE_MAX && here.lists[c]) {
        struct reuse *r = here.lists[c];
        here.lists[c] = r->next;
        return (struct hdr *)r - 1;
    }
    if ((size_t)(here.end - here.cur) < need) {
        struct region *r = region_new(here.pool, need, here.nregions++ == 0);
        /* 16-byte aligned: the region header is 16 bytes. */
        here.cur = here.clean = (char *)(r + 1);
        here.end = (char *)r + r->size;
    }
    struct hdr *h = (struct hdr *)here.cur;
    *fresh = here.cur >= here.clean;
    here.cur += need;
    dirty_to(here.cur);
    here.last = (char *)h;
    h->tag = TAG_POOL | here.serial;
    return h;
}

/* n bytes from the pool entered on this thread, or from the heap. cmark
 * asks for every node zeroed, and most of a catalogue's nodes come from
 * bytes never handed out, which the kernel has just cleared: they are not
 * cleared again (31 MB of writes saved for the benchmark's 1,000 lessons). */
static void *take(size_t n, bool zero)
{
    struct hdr *h;

    if (here.pool) {
        bool fresh;
        h = pool_take(rounded(n), &fresh);
        if (zero && !fresh)
            memset(h + 1, 0, n);
    } else {
        h = zero ? xcalloc(1, sizeof(*h) + n) : xmalloc(sizeof(*h) + n);
        h->tag = TAG_HEAP;
    }
    h->size = n;
    return h + 1;
}

static struct hdr *hdr_of(void *p)
{
    struct hdr *h = (struct hdr *)p - 1;
    uint64_t kind = h->tag & TAG_KIND;

    if (kind != TAG_HEAP && kind != TAG_POOL) {
        fprintf(stderr, "campus: node_mem was given a block it did not allocate\n");
        abort();
    }
    return h;
}

/* True when h is a block of the pool entered here. */
static bool ours(const struct hdr *h)
{
    return here.pool && h->tag == (TAG_POOL | here.serial);
}

static void *mem_calloc(size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / 2 / size) {
        fprintf(stderr, "campus: allocation of %zu x %zu bytes is too large\n", nmemb, size);
        abort();
    }
    return take(nmemb * size, true);
}

void node_mem_free(void *p)
{
    if (p == NULL)
        return;
    struct hdr *h = hdr_of(p);
    if ((h->tag & TAG_KIND) == TAG_HEAP) {
        free(h);
        return;
    }
    if (!ours(h))
        return;                 /* goes with its pool */
    size_t need = rounded(h->size);
    if ((char *)h == here.last) {
        here.cur = here.last;   /* the latest block: cut again */
        here.last = NULL;
    } else if (need <= REUSE_MAX) {
        struct reuse *r = (struct reuse *)(h + 1);
        r->next = here.lists[need / 16];
        here.lists[need / 16] = r;
    }
}

static void *mem_realloc(void *p, size_t n)
{
    if (p == NULL)
        return take(n, false);
    struct hdr *h = hdr_of(p);
    if ((h->tag & TAG_KIND) == TAG_HEAP) {
        h = xrealloc(h, sizeof(*h) + n);
        h->size = n;
        return h + 1;
    }
    size_t need = rounded(n);
    if (ours(h)) {
        if (rounded(h->size) >= need) {
            h->size = n;        /* fits where it is */
            return p;
        }
        /* The latest block grows in place while the region has room. */
        if ((char *)h == here.last && (size_t)(here.end - (char *)h) >= need) {
            here.cur = (char *)h + need;
            dirty_to(here.cur);
            h->size = n;
            return p;
        }
    }
    void *q = take(n, false);
    memcpy(q, p, h->size < n ? h->size : n);
    node_mem_free(p);
    return q;
}

char *node_mem_copy(const char *s, size_t n)
{
    char *p = take(n + 1, false);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static cmark_mem mem = {mem_calloc, mem_realloc, node_mem_free};

struct cmark_mem *node_mem(void)
{
    return &mem;
}
