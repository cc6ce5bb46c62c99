/* test_node_arena.c: the pool the loader's cmark trees live in. Blocks from
 * a pool and from the heap must behave as malloc's would, on any thread,
 * and a catalogue's trees must render the same wherever and whenever they
 * are rendered: during the load, after it, while another load runs. */
#include <criterion/criterion.h>
#include <cmark.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "diag.h"
#include "node_arena.h"
#include "render.h"

#define BUNDLED SOURCE_DIR "/courses"

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static bool filled(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return false;
    return true;
}

Test(node_arena, blocks_behave_like_mallocs)
{
    struct cmark_mem *m = node_mem();
    struct node_pool *pool = node_pool_new();

    node_pool_enter(pool);
    /* calloc gives zeroes, also where a freed block is used again. */
    unsigned char *a = m->calloc(10, 8);
    for (size_t i = 0; i < 80; i++)
        cr_assert_eq(a[i], 0);
    fill(a, 80, 1);
    unsigned char *b = m->calloc(1, 40);
    m->free(a);                             /* not the latest: kept for reuse */
    unsigned char *c = m->calloc(80, 1);
    for (size_t i = 0; i < 80; i++)
        cr_assert_eq(c[i], 0, "a reused block is zeroed");
    /* realloc keeps the bytes, growing in place or not. */
    fill(b, 40, 2);
    b = m->realloc(b, 4000);
    cr_assert(filled(b, 40, 2));
    fill(b, 4000, 3);
    unsigned char *d = m->realloc(NULL, 100);
    fill(d, 100, 4);
    b = m->realloc(b, 3 * 1024 * 1024);     /* larger than a region */
    cr_assert(filled(b, 4000, 3));
    cr_assert(filled(d, 100, 4));
    b = m->realloc(b, 10);                  /* shrinking keeps the start */
    cr_assert(filled(b, 10, 3));
    cr_assert_geq(node_pool_size(pool), (size_t)3 * 1024 * 1024);
    m->free(b);
    m->free(c);
    m->free(d);
    m->free(NULL);
    node_pool_leave();

    /* Outside the pool: heap blocks, and pool blocks freed do nothing. */
    node_pool_enter(pool);
    unsigned char *kept = m->calloc(1, 64);
    fill(kept, 64, 5);
    node_pool_leave();
    unsigned char *h = m->realloc(NULL, 50);
    fill(h, 50, 6);
    h = m->realloc(h, 5000);
    cr_assert(filled(h, 50, 6));
    node_mem_free(kept);
    cr_assert(filled(kept, 64, 5), "a pool block outlives a free outside its pool");
    unsigned char *moved = m->realloc(kept, 200); /* to the heap, bytes kept */
    cr_assert(filled(moved, 64, 5));
    node_mem_free(moved);
    node_mem_free(h);
    node_pool_free(pool);
    node_pool_free(NULL);
}

/* calloc clears only bytes that were handed out before: a region's fresh
 * bytes are zero from mmap. Every way a block's bytes come back (the latest
 * block cut again, a block grown in place then freed, a reuse list, a new
 * region) must still give zeroes. */
Test(node_arena, calloc_zeroes_bytes_handed_out_before)
{
    struct cmark_mem *m = node_mem();
    struct node_pool *pool = node_pool_new();

    node_pool_enter(pool);
    for (int round = 0; round < 3; round++) {
        unsigned char *a = m->calloc(1, 48);
        fill(a, 48, 7);
        m->free(a);                         /* the latest: cut again */
        unsigned char *b = m->calloc(1, 48);
        for (size_t i = 0; i < 48; i++)
            cr_assert_eq(b[i], 0, "the latest block cut again is zeroed (byte %zu)", i);
        b = m->realloc(b, 900);             /* grows in place past what was handed out */
        fill(b, 900, 8);
        m->free(b);                         /* the latest again: cut again */
        unsigned char *small = m->calloc(1, 48);
        unsigned char *c = m->calloc(1, 800); /* where b grew to */
        for (size_t i = 0; i < 48; i++)
            cr_assert_eq(small[i], 0, "the start of a grown block is zeroed (byte %zu)", i);
        for (size_t i = 0; i < 800; i++)
            cr_assert_eq(c[i], 0, "bytes a block grew into are zeroed (byte %zu)", i);
        m->free(small);
        fill(c, 800, 9);
        unsigned char *d = m->calloc(1, 100); /* keeps c from being the latest */
        m->free(c);
        unsigned char *e = m->calloc(1, 900);
        for (size_t i = 0; i < 900; i++)
            cr_assert_eq(e[i], 0, "a block after a freed one is zeroed (byte %zu)", i);
        fill(e, 900, 10);
        /* Past a region's end: a new region, then the old bytes again. */
        unsigned char *big = m->calloc(1, 3 * 1024 * 1024);
        cr_assert_eq(big[0], 0);
        cr_assert_eq(big[3 * 1024 * 1024 - 1], 0);
        fill(big, 4096, 11);
        m->free(big);
        unsigned char *f = m->calloc(1, 4096);
        for (size_t i = 0; i < 4096; i++)
            cr_assert_eq(f[i], 0, "a new region's block cut again is zeroed (byte %zu)", i);
        fill(f, 4096, 12);
        m->free(d);
        m->free(e);
        m->free(f);
    }
    node_pool_leave();
    node_pool_free(pool);
}

/* Many blocks of many sizes on one thread of a shared pool. */
struct churn {
    struct node_pool *pool;
    unsigned seed;
    bool ok;
};

static void *churn_thread(void *arg)
{
    struct churn *w = arg;
    struct cmark_mem *m = node_mem();
    unsigned char *v[64] = {0};
    size_t n[64] = {0};

    node_pool_enter(w->pool);
    w->ok = true;
    for (unsigned i = 0; i < 20000; i++) {
        unsigned k = (i * 2654435761u + w->seed) % 64;
        if (v[k] && !filled(v[k], n[k], w->seed + k))
            w->ok = false;
        if (i % 3 == 0) {
            m->free(v[k]);
            v[k] = NULL;
            continue;
        }
        size_t sz = 1 + (i * 40503u + k) % 700;
        v[k] = v[k] ? m->realloc(v[k], sz) : m->calloc(1, sz);
        n[k] = sz;
        fill(v[k], sz, w->seed + k);
    }
    for (size_t k = 0; k < 64; k++) {
        if (v[k] && !filled(v[k], n[k], w->seed + k))
            w->ok = false;
        m->free(v[k]);
    }
    node_pool_leave();
    return NULL;
}

Test(node_arena, threads_share_a_pool)
{
    struct node_pool *pool = node_pool_new();
    struct churn w[4];
    pthread_t t[4];

    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct churn){pool, 17 * i + 3, false};
        cr_assert_eq(pthread_create(&t[i], NULL, churn_thread, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_assert(w[i].ok, "thread %u found its bytes changed", i);
    }
    node_pool_free(pool);
}

static const char doc_md[] =
    "# Title\n\nSome *text* with `code`, a [link](https://example.org) and\n"
    "a list:\n\n- one\n- two **bold**\n\n> quoted\n\n```\nblock\n```\n";

static cmark_node *parse(const char *s)
{
    cmark_parser *p = cmark_parser_new_with_mem(CMARK_OPT_DEFAULT, node_mem());
    cmark_parser_feed(p, s, strlen(s));
    cmark_node *doc = cmark_parser_finish(p);
    cmark_parser_free(p);
    return doc;
}

Test(node_arena, a_pool_tree_renders_anywhere)
{
    char *want = NULL;
    {
        cmark_node *plain = cmark_parse_document(doc_md, strlen(doc_md), CMARK_OPT_DEFAULT);
        char *h = cmark_render_html(plain, CMARK_OPT_DEFAULT);
        want = strdup(h);
        free(h);
        cmark_node_free(plain);
    }
    struct node_pool *pool = node_pool_new(), *other = node_pool_new();
    node_pool_enter(pool);
    cmark_node *doc = parse(doc_md);
    char *in = render_html(doc);
    node_pool_leave();
    char *out = render_html(doc);           /* from the heap */
    node_pool_enter(other);                 /* another load's pool */
    char *elsewhere = render_html(doc);
    node_pool_leave();
    cr_assert_str_eq(in, want);
    cr_assert_str_eq(out, want);
    cr_assert_str_eq(elsewhere, want);
    free(in);
    free(out);
    free(elsewhere);
    free(want);
    cmark_node_free(doc);                   /* outside its pool: nothing to do per block */
    node_pool_free(pool);
    node_pool_free(other);
}

/* ---- catalogues: renderings after the load and during another ---- */

static void same_renderings(const struct catalog *cat)
{
    for (size_t i = 0; i < cat->nlessons; i++) {
        const struct lesson *les = cat->by_id[i];
        struct text_view v = {.width = CATALOG_TEXT_WIDTH};
        struct cmark_node *doc = lesson_tree(les, false);
        char *html = render_html(doc);
        char *text = catalog_lesson_text_view(les, &v);
        cmark_node_free(doc);
        cr_assert_str_eq(html, les->html, "%s: HTML differs", les->full_id);
        cr_assert_str_eq(text, les->text, "%s: text differs", les->full_id);
        free(html);
        free(text);
    }
}

struct load {
    struct catalog *cat;
};

static void *load_thread(void *arg)
{
    struct load *l = arg;
    struct diag_list d = {0};

    l->cat = catalog_load(BUNDLED, &d);
    diag_list_clear(&d);
    return NULL;
}

Test(node_arena, old_catalogue_renders_while_a_new_one_loads)
{
    struct diag_list d = {0};
    struct catalog *old = catalog_load(BUNDLED, &d);
    struct load next = {0};
    pthread_t t;

    cr_assert_not_null(old);
    cr_assert_gt(node_pool_size(old->nodes), 0, "the renderings are in the catalogue's pool");
    /* A reload builds its catalogue on other threads while this one keeps
     * serving (re-rendering) the old one. */
    cr_assert_eq(pthread_create(&t, NULL, load_thread, &next), 0);
    same_renderings(old);
    pthread_join(t, NULL);
    cr_assert_not_null(next.cat);
    catalog_unref(old);                     /* swapped out: its pool goes */
    same_renderings(next.cat);
    catalog_unref(next.cat);
    diag_list_clear(&d);
}
