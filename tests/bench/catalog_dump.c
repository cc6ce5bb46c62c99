/* catalog_dump: everything a load of a courses folder keeps and answers, as
 * text: each diagnostic in the order the load added it, each course and
 * module introduction, and for every lesson and language variant its
 * fields, its HTML, text, Markdown and trainer renderings, its text view
 * at five widths with and without ANSI, trainer blocks and the exercise
 * placeholder, its exercise's views, then the answers (ids, titles,
 * languages, scores, snippets) to a set of searches in every language.
 *
 *   catalog_dump COURSES_DIR > dump
 *
 * same_catalogue.sh compares two builds' dumps: a change to the loader
 * must leave them byte-identical. Not a benchmark; it lives here beside
 * the tree it is run on. */
#include <stdio.h>
#include <stdlib.h>

#include "catalog.h"
#include "diag.h"
#include "exercise.h"
#include "search.h"

static void field(const char *k, const char *v)
{
    printf("%s: %s\n", k, v ? v : "(null)");
}

static void lesson(const struct lesson *l)
{
    static const int widths[] = {20, 40, 72, 100, 200};

    printf("== lesson %s %s\n", l->full_id, l->path);
    field("title", l->title);
    field("lang", l->lang);
    field("version", l->version);
    field("trainer_version", l->trainer_version);
    field("html", l->html);
    field("text", l->text);
    field("trainer_html", l->trainer_html);
    field("trainer_text", l->trainer_text);
    field("markdown", l->markdown);
    field("learner_markdown", l->learner_markdown);
    field("front_matter", l->front_matter);
    field("prev", l->prev_id);
    field("next", l->next_id);
    printf("minutes %d index %zu exercises %zu tables %zu pretest %d trainer %d\n", l->minutes,
           (size_t)l->index, l->nexercises, l->ntables, l->pretest, l->trainer);
    for (size_t w = 0; w < sizeof(widths) / sizeof(*widths); w++)
        for (int f = 0; f < 8; f++) {
            struct text_view v = {.width = widths[w], .ansi = f & 1, .trainer = f & 2,
                                  .in_exercise = f & 4};
            char *t = catalog_lesson_text_view(l, &v);
            printf("view %d %d: %s\n", widths[w], f, t);
            free(t);
        }
    if (l->exercise) {
        char *t = exercise_view_text(l->exercise, 7), *j = exercise_view_json(l->exercise, 7);
        field("exercise_text", t);
        field("exercise_json", j);
        free(t);
        free(j);
    }
    for (size_t i = 0; i < l->nvariants; i++)
        lesson(l->variants[i]);
}

int main(int argc, char **argv)
{
    static const char *const queries[] = {
        "cluster", "network trust", "entreprises", "empresas", "the", "lesson", "données",
        "análisis", "code", "markdown table", "bench", "value chain", "x", "consensus",
        "SWOT", "zz",
    };
    static const char *const langs[] = {NULL, "en", "fr", "es"};
    struct diag_list d = {0};

    if (argc != 2) {
        fprintf(stderr, "usage: catalog_dump COURSES_DIR\n");
        return 2;
    }
    struct catalog *cat = catalog_load(argv[1], &d);
    for (size_t i = 0; i < d.count; i++)
        printf("diag %s:%d %d %s\n", d.items[i].path, d.items[i].line, d.items[i].severity,
               d.items[i].msg);
    if (cat) {
        for (size_t i = 0; i < cat->ncourses; i++) {
            const struct course *c = cat->courses[i];
            printf("== course %s\n", c->id);
            field("intro_html", c->intro_html);
            field("intro_text", c->intro_text);
            for (size_t j = 0; j < c->nmodules; j++) {
                field("module_html", c->modules[j]->intro_html);
                field("module_text", c->modules[j]->intro_text);
            }
        }
        for (size_t i = 0; i < cat->nlessons; i++)
            lesson(cat->by_id[i]);
        for (size_t q = 0; q < sizeof(queries) / sizeof(*queries); q++)
            for (size_t k = 0; k < sizeof(langs) / sizeof(*langs); k++) {
                struct search_result r[50];
                size_t n = search_query_lang(cat, queries[q], langs[k], r, 50);
                for (size_t i = 0; i < n; i++)
                    printf("search %s %s: %s %s %s %.12g %s\n", queries[q],
                           langs[k] ? langs[k] : "-", r[i].full_id, r[i].title, r[i].lang,
                           r[i].score, r[i].snippet);
            }
    }
    catalog_unref(cat);
    diag_list_clear(&d);
    return 0;
}
