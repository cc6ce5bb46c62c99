/* test_load_parallel.c: the loader reads, parses and renders lessons on
 * several threads; what it keeps, and every diagnostic in its order, must be
 * what one thread makes of the same files. */
#include <cmark.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "diag.h"
#include "loader.h"
#include "render.h"
#include "search.h"
#include "util.h"

#define BUNDLED SOURCE_DIR "/courses"

/* The renderings of one lesson (or variant) against those of its tree
 * parsed again: the load freed the tree it rendered them from. */
static void same_as_reparsed(const struct lesson *les)
{
    struct render_text_opts o = {.width = CATALOG_TEXT_WIDTH, .exercise_id = les->full_id,
                                 .title = les->title, .lang = les->lang};

    cr_assert_null(les->doc, "%s: the catalogue keeps no tree", les->full_id);
    cr_assert_null(les->trainer_doc, "%s: nor a trainer tree", les->full_id);
    struct cmark_node *doc = lesson_tree(les, false);
    char *html = render_html(doc), *text = render_text_opts(doc, &o);
    cr_assert_str_eq(les->html, html, "%s (%s): HTML differs", les->full_id, les->lang);
    cr_assert_str_eq(les->text, text, "%s (%s): text differs", les->full_id, les->lang);
    free(html);
    free(text);
    cmark_node_free(doc);
    doc = lesson_tree(les, true);
    cr_assert_eq(doc != NULL, les->trainer_html != NULL, "%s: a trainer tree only with a trainer view",
                 les->full_id);
    if (doc) {
        html = render_html(doc);
        text = render_text_opts(doc, &o);
        cr_assert_str_eq(les->trainer_html, html, "%s: trainer HTML differs", les->full_id);
        cr_assert_str_eq(les->trainer_text, text, "%s: trainer text differs", les->full_id);
        free(html);
        free(text);
        cmark_node_free(doc);
    }
}

/* Every lesson, variant and trainer-only lesson of a tree; returns how many. */
static size_t same_tree_as_reparsed(const char *dir)
{
    struct diag_list d = {0};
    struct catalog *cat = catalog_load(dir, &d);
    size_t n = 0, trainer = 0;

    cr_assert_not_null(cat, "%s loads", dir);
    for (size_t i = 0; i < cat->nlessons; i++) {
        const struct lesson *les = cat->by_id[i];
        for (size_t k = 0; k <= les->nvariants; k++, n++) {
            same_as_reparsed(k ? les->variants[k - 1] : les);
            trainer += (k ? les->variants[k - 1] : les)->trainer_html != NULL;
        }
    }
    catalog_unref(cat);
    diag_list_clear(&d);
    return n + 1000 * trainer;
}

Test(load_parallel, renderings_equal_those_of_the_tree_parsed_again)
{
    struct diag_list d = {0};
    struct catalog *cat = catalog_load(BUNDLED, &d);

    cr_assert_not_null(cat, "the bundled courses load");
    /* Enough lessons that the renderings ran on threads. */
    cr_assert_geq(cat->nlessons, LOADER_PARALLEL_MIN);
    for (size_t i = 0; i < cat->nlessons; i++)
        cr_assert_null(cat->by_id[i]->search_terms,
                       "%s: the index took its terms, or none were made", cat->by_id[i]->full_id);
    /* The index was built from the words made on the threads. */
    struct search_result res[8];
    cr_assert_gt(search_query(cat, "cluster", res, 8), 0);
    catalog_unref(cat);
    diag_list_clear(&d);
    /* Links, citations, tables, exercises, trainer blocks and variants. */
    cr_assert_gt(same_tree_as_reparsed(BUNDLED) % 1000, 50);
    cr_assert_geq(same_tree_as_reparsed(FIXTURES_DIR "/courses-trainer") / 1000, 1,
                  "trainer views were compared");
    cr_assert_gt(same_tree_as_reparsed(FIXTURES_DIR "/courses-i18n") % 1000, 0);
    cr_assert_gt(same_tree_as_reparsed(FIXTURES_DIR "/courses-good") % 1000, 0);
}

Test(load_parallel, two_loads_are_identical)
{
    struct diag_list d = {0};
    struct catalog *a = catalog_load(BUNDLED, &d), *b = catalog_load(BUNDLED, &d);

    cr_assert(a && b);
    cr_assert_eq(a->nlessons, b->nlessons);
    for (size_t i = 0; i < a->nlessons; i++) {
        cr_assert_str_eq(a->by_id[i]->full_id, b->by_id[i]->full_id);
        cr_assert_str_eq(a->by_id[i]->html, b->by_id[i]->html);
        cr_assert_str_eq(a->by_id[i]->text, b->by_id[i]->text);
    }
    catalog_unref(a);
    catalog_unref(b);
    diag_list_clear(&d);
}

/* ---- a load on one thread against loads on several ---- */

static void same_str(const char *a, const char *b, const char *what, const char *id)
{
    if (a == NULL || b == NULL)
        cr_assert(a == b, "%s: %s is set in one load only", id, what);
    else
        cr_assert_str_eq(a, b, "%s: %s differs", id, what);
}

static void same_lesson(const struct lesson *a, const struct lesson *b)
{
    const char *id = a->full_id;

    cr_assert_str_eq(a->full_id, b->full_id);
    same_str(a->path, b->path, "path", id);
    same_str(a->title, b->title, "title", id);
    same_str(a->lang, b->lang, "language", id);
    same_str(a->html, b->html, "HTML", id);
    same_str(a->text, b->text, "text", id);
    same_str(a->trainer_html, b->trainer_html, "trainer HTML", id);
    same_str(a->trainer_text, b->trainer_text, "trainer text", id);
    same_str(a->version, b->version, "version", id);
    same_str(a->trainer_version, b->trainer_version, "trainer version", id);
    same_str(a->prev_id, b->prev_id, "previous lesson", id);
    same_str(a->next_id, b->next_id, "next lesson", id);
    cr_assert_eq(a->index, b->index, "%s: index", id);
    cr_assert_eq(a->minutes, b->minutes, "%s: minutes", id);
    cr_assert_eq(a->trainer, b->trainer, "%s: trainer", id);
    cr_assert_eq(a->pretest, b->pretest, "%s: pretest", id);
    cr_assert_eq(a->nexercises, b->nexercises, "%s: exercise blocks", id);
    cr_assert_eq(a->exercise == NULL, b->exercise == NULL, "%s: exercise", id);
    cr_assert_eq(a->ntables, b->ntables, "%s: tables", id);
    cr_assert_eq(a->nprerequisites, b->nprerequisites, "%s: prerequisites", id);
    for (size_t i = 0; i < a->nprerequisites; i++)
        cr_assert_str_eq(a->prerequisites[i], b->prerequisites[i], "%s: prerequisite", id);
    cr_assert_eq(a->module == NULL, b->module == NULL, "%s: module", id);
    if (a->module)
        cr_assert_str_eq(a->module->id, b->module->id, "%s: module", id);
    cr_assert_null(a->search_terms, "%s: the index took its terms", id);
    cr_assert_eq(a->nvariants, b->nvariants, "%s: variants", id);
    for (size_t i = 0; i < a->nvariants; i++) {
        cr_assert_eq(a->variants[i]->base, a, "%s: a variant's default", id);
        cr_assert_eq(b->variants[i]->base, b, "%s: a variant's default", id);
        same_lesson(a->variants[i], b->variants[i]);
    }
}

static void same_diags(const struct diag_list *a, const struct diag_list *b, const char *dir)
{
    cr_assert_eq(a->count, b->count, "%s: %zu diagnostics on one thread, %zu on several", dir,
                 a->count, b->count);
    cr_assert_eq(a->errors, b->errors, "%s: errors", dir);
    for (size_t i = 0; i < a->count; i++) {
        cr_assert_str_eq(a->items[i].path, b->items[i].path, "%s: diagnostic %zu", dir, i);
        cr_assert_eq(a->items[i].line, b->items[i].line, "%s: diagnostic %zu (%s)", dir, i,
                     a->items[i].msg);
        cr_assert_eq(a->items[i].severity, b->items[i].severity, "%s: diagnostic %zu", dir, i);
        cr_assert_str_eq(a->items[i].msg, b->items[i].msg, "%s: diagnostic %zu", dir, i);
    }
}

static void same_search(const struct catalog *a, const struct catalog *b, const char *query)
{
    struct search_result ra[16], rb[16];
    size_t na = search_query(a, query, ra, 16), nb = search_query(b, query, rb, 16);

    cr_assert_eq(na, nb, "'%s': as many results", query);
    for (size_t i = 0; i < na; i++) {
        cr_assert_str_eq(ra[i].full_id, rb[i].full_id, "'%s': result %zu", query, i);
        cr_assert_str_eq(ra[i].lang, rb[i].lang, "'%s': result %zu", query, i);
        cr_assert_float_eq(ra[i].score, rb[i].score, 1e-9, "'%s': result %zu", query, i);
        cr_assert_str_eq(ra[i].snippet, rb[i].snippet, "'%s': result %zu", query, i);
    }
}

/* Loads dir on one thread and on threads threads: the same diagnostics in
 * the same order, and, when it loads, the same catalogue. */
static void compare_loads(const char *dir, unsigned threads)
{
    struct diag_list da = {0}, db = {0};
    struct catalog *a = catalog_load_threads(dir, &da, 1);
    struct catalog *b = catalog_load_threads(dir, &db, threads);

    same_diags(&da, &db, dir);
    cr_assert_eq(a == NULL, b == NULL, "%s: loads in one and not in the other", dir);
    if (a) {
        cr_assert_eq(a->ncourses, b->ncourses);
        for (size_t i = 0; i < a->ncourses; i++) {
            const struct course *ca = a->courses[i], *cb = b->courses[i];
            cr_assert_str_eq(ca->id, cb->id);
            same_str(ca->intro_html, cb->intro_html, "course intro", ca->id);
            cr_assert_eq(ca->nlessons, cb->nlessons, "%s: lessons", ca->id);
            cr_assert_eq(ca->nmodules, cb->nmodules, "%s: modules", ca->id);
            cr_assert_eq(ca->nexercises, cb->nexercises, "%s: exercises", ca->id);
            cr_assert_eq(ca->minutes, cb->minutes, "%s: minutes", ca->id);
            for (size_t j = 0; j < ca->nmodules; j++) {
                cr_assert_eq(ca->modules[j]->nlessons, cb->modules[j]->nlessons);
                cr_assert_eq(ca->modules[j]->ntrainer_lessons, cb->modules[j]->ntrainer_lessons);
                same_str(ca->modules[j]->intro_text, cb->modules[j]->intro_text, "module intro",
                         ca->modules[j]->path);
                for (size_t k = 0; k < ca->modules[j]->nlessons; k++)
                    cr_assert_str_eq(ca->modules[j]->lessons[k]->full_id,
                                     cb->modules[j]->lessons[k]->full_id);
            }
        }
        cr_assert_eq(a->nlessons, b->nlessons);
        for (size_t i = 0; i < a->nlessons; i++)
            same_lesson(a->by_id[i], b->by_id[i]);
        same_search(a, b, "cluster");
        same_search(a, b, "network trust");
        same_search(a, b, "entreprises");
        same_search(a, b, "empresas");
    }
    catalog_unref(a);
    catalog_unref(b);
    diag_list_clear(&da);
    diag_list_clear(&db);
}

Test(load_parallel, serial_and_parallel_loads_are_identical)
{
    /* More threads than the machine has cores: the jobs interleave more. */
    compare_loads(BUNDLED, 4);
}

Test(load_parallel, serial_and_parallel_diagnostics_are_identical)
{
    static const char *const dirs[] = {
        FIXTURES_DIR "/courses-good",        FIXTURES_DIR "/courses-broken",
        FIXTURES_DIR "/courses-i18n",        FIXTURES_DIR "/courses-i18n-broken",
        FIXTURES_DIR "/courses-i18n-rubric", FIXTURES_DIR "/courses-trainer",
    };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++)
        compare_loads(dirs[i], 4);
}
