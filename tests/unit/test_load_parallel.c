/* test_load_parallel.c: the loader renders lessons on several threads; what
 * it keeps must be what one thread renders from the same parse tree. */
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

Test(load_parallel, renderings_equal_a_serial_render)
{
    struct diag_list d = {0};
    struct catalog *cat = catalog_load(BUNDLED, &d);

    cr_assert_not_null(cat, "the bundled courses load");
    /* Enough lessons that the renderings ran on threads. */
    cr_assert_geq(cat->nlessons, LOADER_PARALLEL_MIN);
    for (size_t i = 0; i < cat->nlessons; i++) {
        const struct lesson *les = cat->by_id[i];
        char *html = render_html(les->doc);
        struct render_text_opts o = {.width = CATALOG_TEXT_WIDTH, .exercise_id = les->full_id,
                                     .title = les->title};
        char *text = render_text_opts(les->doc, &o);
        cr_assert_str_eq(les->html, html, "%s: HTML differs", les->full_id);
        cr_assert_str_eq(les->text, text, "%s: text differs", les->full_id);
        cr_assert_null(les->search_line, "%s: the index took its words, or none were made",
                       les->full_id);
        free(html);
        free(text);
        if (les->trainer_doc) {
            html = render_html(les->trainer_doc);
            text = render_text_opts(les->trainer_doc, &o);
            cr_assert_str_eq(les->trainer_html, html, "%s: trainer HTML differs", les->full_id);
            cr_assert_str_eq(les->trainer_text, text, "%s: trainer text differs", les->full_id);
            free(html);
            free(text);
        }
    }
    /* The index was built from the words made on the threads. */
    struct search_result res[8];
    cr_assert_gt(search_query(cat, "cluster", res, 8), 0);
    catalog_unref(cat);
    diag_list_clear(&d);
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
