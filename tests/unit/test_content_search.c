/* test_content_search.c: ranked full-text search over the lessons. */
#include <criterion/criterion.h>

#include "fixture.h"
#include <string.h>

#include "catalog.h"
#include "search.h"

static struct catalog *cat;

static void setup(void)
{
    cat = fixture_catalog(FIXTURES_DIR "/courses-good", NULL, false);
}

static void teardown(void)
{
    catalog_unref(cat);
}

TestSuite(search, .init = setup, .fini = teardown);

/* Runs query and asserts the full ids of the results, in order. */
static void expect_ids(const char *query, const char *const *ids, size_t n)
{
    struct search_result r[10];
    size_t got = search_query(cat, query, r, 10);

    cr_assert_eq(got, n, "'%s': %zu results, %zu expected", query, got, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(r[i].full_id, ids[i], "'%s' result %zu", query, i);
        cr_assert_eq(r[i].lesson, catalog_lesson(cat, ids[i]));
        cr_assert_str_eq(r[i].title, r[i].lesson->title);
        if (i)
            cr_assert_geq(r[i - 1].score, r[i].score);
    }
}

Test(search, body_words_rank_by_frequency)
{
    const char *ids[] = {"demo/welcome", "demo/lists"};
    expect_ids("cluster", ids, 2);
}

Test(search, title_words_weigh_more_than_body_words)
{
    /* "welcome" is in the title of one lesson and in the body of another. */
    const char *ids[] = {"demo/welcome", "demo/lists"};
    expect_ids("welcome", ids, 2);
    const char *only[] = {"demo/lists"};
    expect_ids("intervention", only, 1);
}

Test(search, more_query_words_matched_rank_higher)
{
    const char *ids[] = {"demo/welcome", "demo/lists", "demo/market"};
    expect_ids("weavers cluster", ids, 3);
}

Test(search, case_and_accents_are_folded)
{
    const char *ids[] = {"demo/market"};
    expect_ids("CAFE", ids, 1);
    expect_ids("café", ids, 1);
    expect_ids("DÚRCAL", ids, 1);
    expect_ids("durcal", ids, 1);
}

Test(search, stop_words_and_unknown_words_find_nothing)
{
    expect_ids("the of and", NULL, 0);
    expect_ids("zebra", NULL, 0);
    expect_ids("", NULL, 0);
    expect_ids("  ,;!  ", NULL, 0);
}

Test(search, placeholders_and_references_are_not_indexed)
{
    expect_ids("exercise", NULL, 0);
    expect_ids("https", NULL, 0);
}

Test(search, max_limits_the_results)
{
    struct search_result r[1];

    cr_assert_eq(search_query(cat, "cluster", r, 1), 1);
    cr_assert_str_eq(r[0].full_id, "demo/welcome");
    cr_assert_eq(search_query(cat, "cluster", r, 0), 0);
}

Test(search, snippet_shows_text_around_the_first_match)
{
    struct search_result r[3];

    cr_assert_eq(search_query(cat, "collective", r, 3), 1);
    cr_assert_str_eq(r[0].snippet,
                     "...mix is what the course calls collective efficiency. Read on in the next "
                     "lesson or jump to the case...");
    cr_assert_eq(search_query(cat, "durcal", r, 3), 1);
    cr_assert(strncmp(r[0].snippet, "The weavers of Dúrcal sell to a café chain.", 44) == 0,
              "%s", r[0].snippet);
}

Test(search, snippet_is_bounded)
{
    struct search_result r[3];

    cr_assert_eq(search_query(cat, "efficiency", r, 3), 1);
    cr_assert_leq(strlen(r[0].snippet), 110 + 6);
    cr_assert_null(strchr(r[0].snippet, '\n'));
}
