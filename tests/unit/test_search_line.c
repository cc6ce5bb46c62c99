/* test_search_line.c: the search line made in one pass over a lesson's
 * tree (what snippets are cut from) must be what flattening the tree's
 * text and then collapsing its white space gives (the two passes it
 * replaced), and the terms the loader cuts straight from the tree must be
 * the terms of that line, word for word and weight for weight: every
 * lesson of the bundled courses and the fixtures. */
#include <criterion/criterion.h>
#include <cmark.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "diag.h"
#include "search.h"
#include "table.h"
#include "util.h"

/* The reference: the tree's text with a space after each block... */
static char *flat_text(cmark_node *doc)
{
    struct sbuf b = {0};
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        const char *lit = cmark_node_get_literal(n);
        switch (cmark_node_get_type(n)) {
        case CMARK_NODE_TEXT:
        case CMARK_NODE_CODE:
            sbuf_adds(&b, lit ? lit : "");
            break;
        case CMARK_NODE_SOFTBREAK:
        case CMARK_NODE_LINEBREAK:
            sbuf_addc(&b, ' ');
            break;
        case CMARK_NODE_CODE_BLOCK:
            sbuf_adds(&b, lit ? lit : "");
            sbuf_addc(&b, ' ');
            break;
        case CMARK_NODE_CUSTOM_BLOCK: {
            const struct table *t = cmark_node_get_user_data(n);
            if (ev != CMARK_EVENT_ENTER || t == NULL)
                break;
            for (size_t c = 0; c < t->ncols; c++) {
                sbuf_adds(&b, t->header[c]);
                sbuf_addc(&b, ' ');
            }
            for (size_t r = 0; r < t->nrows; r++)
                for (size_t c = 0; c < t->ncols; c++) {
                    sbuf_adds(&b, t->cells[r][c]);
                    sbuf_addc(&b, ' ');
                }
            break;
        }
        case CMARK_NODE_PARAGRAPH:
        case CMARK_NODE_HEADING:
        case CMARK_NODE_ITEM:
            if (ev == CMARK_EVENT_EXIT)
                sbuf_addc(&b, ' ');
            break;
        default:
            break;
        }
    }
    cmark_iter_free(it);
    return sbuf_take(&b);
}

static bool is_rule(const char *w, size_t n)
{
    if (n < 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (w[i] != '=' && w[i] != '-')
            return false;
    return true;
}

/* ...then on one line: one space between words, rules dropped. */
static char *one_line(const char *s)
{
    struct sbuf b = {0};

    while (*s) {
        s += strspn(s, " \t\r\n");
        size_t n = strcspn(s, " \t\r\n");
        if (n == 0)
            break;
        if (!is_rule(s, n)) {
            if (b.len)
                sbuf_addc(&b, ' ');
            sbuf_add(&b, s, n);
        }
        s += n;
    }
    return sbuf_take(&b);
}

static size_t check_tree(const char *dir)
{
    struct diag_list d = {0};
    struct catalog *cat = catalog_load(dir, &d);
    struct search_worker *w = search_worker_new();
    size_t n = 0;

    for (size_t i = 0; cat && i < cat->nlessons; i++) {
        const struct lesson *les = cat->by_id[i];
        for (size_t k = 0; k <= les->nvariants; k++) {
            const struct lesson *t = k ? les->variants[k - 1] : les;
            struct cmark_node *doc = lesson_tree(t, false);
            char *flat = flat_text(doc), *want = one_line(flat);
            char *got = search_doc_line(doc);
            cmark_node_free(doc);
            cr_assert_str_eq(got, want, "%s (%s): the search line differs", t->full_id, t->lang);
            char *tree_terms = search_terms_listing(w, t, false);
            char *line_terms = search_terms_listing(w, t, true);
            cr_assert_str_eq(tree_terms, line_terms, "%s (%s): the terms differ", t->full_id,
                             t->lang);
            cr_assert(t->trainer || strlen(tree_terms) > 0, "%s: no terms", t->full_id);
            free(tree_terms);
            free(line_terms);
            free(flat);
            free(want);
            free(got);
            n++;
        }
    }
    search_worker_free(w);
    catalog_unref(cat);
    diag_list_clear(&d);
    return n;
}

Test(search_line, one_pass_equals_flatten_then_collapse)
{
    size_t n = check_tree(SOURCE_DIR "/courses");

    cr_assert_gt(n, 50, "the bundled lessons were compared (%zu)", n);
    n += check_tree(FIXTURES_DIR "/courses-good");
    n += check_tree(FIXTURES_DIR "/courses-i18n");
    n += check_tree(FIXTURES_DIR "/courses-i18n-rubric");
    n += check_tree(FIXTURES_DIR "/courses-trainer");
    cr_assert_gt(n, 60);
}

/* Rules, pieces of one word in several nodes, white space of every kind. */
Test(search_line, words_across_nodes_and_rules)
{
    static const char md[] = "---\ntitle: T\nminutes: 2\n---\n\n"
                             "# Title\n\nfoo*bar* baz\n\n---\n\n- one\n- ---- two\n\n"
                             "```\ncode\t\tline\n===\n```\n\nend `x`y\n";
    struct diag_list d = {0};
    struct catalog *cat = catalog_load_memory(md, strlen(md), &d);

    cr_assert_not_null(cat, "%zu diagnostics, the first: %s", d.count,
                       d.count ? d.items[0].msg : "");
    const struct lesson *les = catalog_lesson(cat, "memory/lesson");
    struct cmark_node *doc = lesson_tree(les, false);
    char *flat = flat_text(doc), *want = one_line(flat), *got = search_doc_line(doc);
    cmark_node_free(doc);
    cr_assert_str_eq(got, want);
    cr_assert_str_eq(got, "Title foobar baz one two code line end xy");
    /* In the order they first come, "one" a stop word; "foobar" is one
     * word though it comes in two text nodes, and "xy" one though its
     * first half is code. (The title, "T", is too short to be a word.) */
    struct search_worker *w = search_worker_new();
    char *terms = search_terms_listing(w, les, false), *from_line = search_terms_listing(w, les, true);
    cr_assert_str_eq(terms, from_line);
    cr_assert_str_eq(terms, "title 1\nfoobar 1\nbaz 1\ntwo 1\ncode 1\nline 1\nend 1\nxy 1\n");
    free(terms);
    free(from_line);
    search_worker_free(w);
    free(flat);
    free(want);
    free(got);
    catalog_unref(cat);
    diag_list_clear(&d);
}
