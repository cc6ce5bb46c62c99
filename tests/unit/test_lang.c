/* test_lang.c: language tags, RFC 4647 lookup, Accept-Language, variant
 * file names, and the resolution and fallback of an item's language. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "campusd.h"
#include "catalog.h"
#include "exercise.h"
#include "lang.h"
#include "loader.h"
#include "msg.h"
#include "search.h"

static const char *const avail[] = {"en", "fr", "es", "pt-BR"};
#define NAVAIL 4

Test(lang, tags)
{
    const char *good[] = {"en", "fr", "FR", "fr-CA", "es-419", "zh-Hant-TW", "pt-BR", "x-y"};
    const char *bad[] = {"", "f", "fr_FR", "fr-", "-fr", "fr--ca", "123", "fr-abcdefghi",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "fr ca", "*"};

    (void)good[7];
    for (size_t i = 0; i < 7; i++)
        cr_assert(lang_tag_valid(good[i], strlen(good[i])), "%s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        cr_assert(!lang_tag_valid(bad[i], strlen(bad[i])), "%s", bad[i]);
}

Test(lang, lookup_truncates_to_what_the_course_has)
{
    struct { const char *range; int want; } t[] = {
        {"en", 0}, {"EN", 0}, {"fr", 1}, {"fr-CA", 1}, {"fr-CA-x-priv", 1}, {"es-419", 2},
        {"pt-BR", 3}, {"pt-br", 3}, {"pt", -1}, {"pt-PT", -1}, {"de", -1}, {"*", -1},
        {"zh-Hant-TW", -1}, {"fr_FR", -1}, {"", -1},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
        cr_assert_eq(lang_lookup(avail, NAVAIL, t[i].range), t[i].want, "%s", t[i].range);
}

Test(lang, accept_language_q_values_regions_star)
{
    struct { const char *h; int want; } t[] = {
        {"fr", 1},
        {"fr-CA, en;q=0.5", 1},
        {"es;q=0.9, fr;q=0.8", 2},
        {"fr;q=0.2, es;q=0.8, en;q=0.1", 2},
        {"en;q=0.5, fr", 1},            /* q=1 by default */
        {"de, fr;q=0.3", 1},
        {"de, nl", -1},                 /* the default */
        {"*", -1},
        {"de, *;q=0.5, fr;q=0.1", -1},  /* "*" before fr: the default */
        {"fr;q=0, es", 2},              /* q=0: not acceptable */
        {"fr;q=0.000, en;q=0.001", 0},
        {"fr;q=1.5, es", 2},            /* a bad q-value drops its range */
        {"fr;q=x, es;q=0.5", 2},
        {"  es-MX ;  q=0.7 , fr ; q=0.6", 2},
        {"", -1},
        {",,,", -1},
        {"fr;;", -1},                   /* malformed: skipped */
        {NULL, -1},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
        cr_assert_eq(lang_accept(t[i].h, avail, NAVAIL, -1), t[i].want, "'%s'",
                     t[i].h ? t[i].h : "(null)");
    /* Too long a header is ignored, not read in part. */
    char big[LANG_ACCEPT_BYTES + 10];
    memset(big, ' ', sizeof(big) - 3);
    memcpy(big + sizeof(big) - 3, "fr", 3);
    cr_assert_eq(lang_accept(big, avail, NAVAIL, 0), 0);
}

Test(lang, variant_file_names)
{
    struct { const char *name, *base, *lang; } ok[] = {
        {"01-what-is-a-cluster.fr.md", "01-what-is-a-cluster.md", "fr"},
        {"03-case.case.es.md", "03-case.case.md", "es"},
        {"module.fr.md", "module.md", "fr"},
        {"course.pt-br.md", "course.md", "pt-br"},
        {"02-x.es-419.md", "02-x.md", "es-419"},
    };
    const char *no[] = {"01-x.md", "01-x.case.md", "module.md", "course.md", "01-x.FR.md",
                        "01-x.f.md", "01-x.fr-c.md", "01-x.fr.txt", ".fr.md", "01-x.fr-12.md"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
        char *base, lang[LANG_TAG_MAX];
        cr_assert(variant_split(ok[i].name, &base, lang), "%s", ok[i].name);
        cr_assert_str_eq(base, ok[i].base);
        cr_assert_str_eq(lang, ok[i].lang);
        free(base);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
        char *base, lang[LANG_TAG_MAX];
        cr_assert(!variant_split(no[i], &base, lang), "%s", no[i]);
    }
    char *p = variant_base_path("c/01-m/02-next.fr.md");
    cr_assert_str_eq(p, "c/01-m/02-next.md");
    free(p);
}

/* ---- the test course with French and Spanish variants ---- */

static struct catalog *cat;
static struct diag_list diags;

static void load(void)
{
    cat = catalog_load(FIXTURES_DIR "/courses-i18n", &diags);
    cr_assert_not_null(cat);
}

static void unload(void)
{
    catalog_unref(cat);
    diag_list_clear(&diags);
}

TestSuite(variants, .init = load, .fini = unload);

Test(variants, course_languages_and_texts)
{
    const struct course *c = catalog_course(cat, "grappes");
    cr_assert_eq(c->nlanguages, 3);
    cr_assert_str_eq(c->language, "en");
    cr_assert_str_eq(catalog_course_text(c, "fr")->title, "Les grappes en trois langues");
    cr_assert_null(catalog_course_text(c, "en"));
    cr_assert_str_eq(catalog_module_text(c->modules[0], "ES")->title, "Lo básico");
    cr_assert_str_eq(catalog_course_lang(c, "fr-CA"), "fr");
    cr_assert_null(catalog_course_lang(c, "de"));
    /* Only default lessons are items. */
    cr_assert_eq(c->nlessons, 3);
    cr_assert_eq(cat->nlessons, 3);
}

/* The resolution and fallback table: for each item and language asked,
 * the language of the text served. */
Test(variants, resolution_and_fallback_table)
{
    struct { const char *item, *asked, *served; } t[] = {
        {"grappes/what-is-a-cluster", "en", "en"},
        {"grappes/what-is-a-cluster", "fr", "fr"},
        {"grappes/what-is-a-cluster", "es", "es"},
        {"grappes/what-is-a-cluster", "FR", "fr"},
        {"grappes/what-is-a-cluster", "de", "en"},
        {"grappes/what-is-a-cluster", NULL, "en"},
        {"grappes/phases", "es", "es"},
        {"grappes/atuntaqui", "fr", "fr"},
        {"grappes/atuntaqui", "es", "en"},      /* no Spanish file: the default */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
        const struct lesson *l = catalog_lesson(cat, t[i].item);
        const struct lesson *v = catalog_lesson_lang(l, t[i].asked);
        cr_assert_str_eq(v->lang, t[i].served, "%s in %s", t[i].item, t[i].asked);
        /* Same item, whatever the language. */
        cr_assert_str_eq(v->full_id, l->full_id);
        cr_assert(v == l || v->base == l);
        cr_assert_eq(catalog_lesson_lang(v, "en"), v, "a variant resolves to itself");
    }
    const struct lesson *l = catalog_lesson(cat, "grappes/phases");
    const struct lesson *fr = catalog_lesson_lang(l, "fr");
    cr_assert_neq(strcmp(l->version, fr->version), 0);
    cr_assert_not_null(strstr(fr->text, "agent de développement de grappe"));
    cr_assert_eq(fr->minutes, l->minutes);
    cr_assert_eq(fr->exercise->ntasks, l->exercise->ntasks);
}

/* Course files: for each file and language asked, the file served. */
Test(variants, file_resolution_and_fallback_table)
{
    const struct course *c = catalog_course(cat, "grappes");
    struct { const char *name, *asked, *served, *lang; } t[] = {
        {"grid.md", "en", "grid.md", "en"},
        {"grid.md", "fr", "grid.fr.md", "fr"},
        {"grid.md", "ES", "grid.es.md", "es"},
        {"grid.md", "de", "grid.md", "en"},
        {"grid.md", NULL, "grid.md", "en"},
        {"plan.csv", "fr", "plan.fr.csv", "fr"},
        {"plan.csv", "es", "plan.csv", "en"},     /* no Spanish file: the default */
    };
    cr_assert_eq(c->nfiles, 2, "the listing holds default files only");
    for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
        const struct course_file *f = catalog_file(c, t[i].name);
        cr_assert_not_null(f);
        const struct course_file *v = catalog_file_lang(f, t[i].asked);
        cr_assert_str_eq(v->name, t[i].served, "%s in %s", t[i].name, t[i].asked);
        cr_assert_str_eq(v->lang, t[i].lang);
    }
    /* A variant by its own name; no file for a language it lacks. */
    cr_assert_str_eq(catalog_file(c, "grid.es.md")->lang, "es");
    cr_assert_null(catalog_file(c, "plan.es.csv"));
    cr_assert_null(catalog_file(c, "grid.de.md"));
    /* A variant lesson links to its language's file where there is one. */
    const struct lesson *fr = catalog_lesson_lang(catalog_lesson(cat, "grappes/what-is-a-cluster"), "es");
    cr_assert_not_null(strstr(fr->html, "href=\"/api/files/grappes/grid.es.md\""));
    cr_assert_not_null(strstr(fr->html, "href=\"/api/files/grappes/plan.csv\""));
}

/* An exercise's view: its own words in the language asked for, the
 * author's in the variant's. */
Test(variants, exercise_view_frame_per_language)
{
    const struct lesson *l = catalog_lesson(cat, "grappes/phases");
    const struct lesson *fr = catalog_lesson_lang(l, "fr");
    char *en = exercise_view_text_lang(l->exercise, 1, NULL);
    char *f = exercise_view_text_lang(fr->exercise, 1, "fr");
    char *e = exercise_view_json_lang(l->exercise, 1, "es");
    cr_assert_not_null(strstr(en, "pass mark: 60\n"), "%s", en);
    cr_assert_not_null(strstr(en, "  answer: one letter\n"), "%s", en);
    cr_assert_not_null(strstr(f, "seuil de réussite : 60\n"), "%s", f);
    cr_assert_not_null(strstr(f, "  réponse : une lettre\n"), "%s", f);
    cr_assert_not_null(strstr(f, "Quelle phase vient en premier"), "%s", f);
    cr_assert_not_null(strstr(e, "\"answer\": \"una letra\""), "%s", e);
    free(en);
    free(f);
    free(e);
}

Test(variants, a_missing_language_is_a_warning)
{
    bool found = false;
    for (size_t i = 0; i < diags.count; i++) {
        cr_assert_eq(diags.items[i].severity, DIAG_WARNING, "%s", diags.items[i].msg);
        if (strstr(diags.items[i].path, "03-atuntaqui.case.md") &&
            strstr(diags.items[i].msg, "no 'es' variant"))
            found = true;
    }
    cr_assert(found);
}

/* Searches in lang and asserts the first result. */
static void expect_first(const char *query, const char *lang, const char *id, const char *in)
{
    struct search_result r[5];
    size_t n = search_query_lang(cat, query, lang, r, 5);

    cr_assert_geq(n, 1, "'%s' in %s found nothing", query, lang);
    cr_assert_str_eq(r[0].full_id, id, "'%s' in %s", query, lang);
    cr_assert_str_eq(r[0].lang, in, "'%s' in %s", query, lang);
    cr_assert_eq(r[0].lesson, catalog_lesson(cat, id));
}

Test(variants, stemming_search_in_three_languages)
{
    expect_first("grappes", "fr", "grappes/what-is-a-cluster", "fr");
    expect_first("grappe", "fr", "grappes/what-is-a-cluster", "fr");
    expect_first("clústeres", "es", "grappes/what-is-a-cluster", "es");
    expect_first("clusteres", "es", "grappes/what-is-a-cluster", "es");
    expect_first("clusters", "en", "grappes/what-is-a-cluster", "en");
    expect_first("gathering", "en", "grappes/what-is-a-cluster", "en");
    /* Stop words of each language find nothing in it. */
    struct search_result r[5];
    cr_assert_eq(search_query_lang(cat, "les des une", "fr", r, 5), 0);
    cr_assert_eq(search_query_lang(cat, "los del una", "es", r, 5), 0);
    /* Nothing in Spanish: every language. */
    expect_first("grappes", "es", "grappes/what-is-a-cluster", "fr");
    expect_first("grappes", "fr-CA", "grappes/what-is-a-cluster", "fr");
}

/* ---- the check of variants ---- */

Test(variant_check, differences_are_errors_at_the_variant)
{
    struct diag_list d = {0};
    struct catalog *bad = catalog_load(FIXTURES_DIR "/courses-i18n-broken", &d);
    struct { const char *path, *msg; } want[] = {
        {"mixed/01-m/01-weights.fr.md", "option 1 weighs 0%, the default's 100%"},
        {"mixed/01-m/02-number.fr.md", "accepts 7 +- 0, the default 6 +- 0"},
        {"mixed/01-m/03-taskid.case.fr.md", "task trier (classify) where the default has task sort"},
        {"mixed/01-m/04-keys.case.fr.md", "category key 'x' where the default has 'a'"},
        {"mixed/01-m/05-plain.de.md", "not in course.md's languages"},
        {"mixed/01-m/09-orphan.fr.md", "variant of '09-orphan.md', which is missing"},
    };

    cr_assert_null(bad);
    for (size_t k = 0; k < sizeof(want) / sizeof(*want); k++) {
        bool found = false;
        for (size_t i = 0; i < d.count && !found; i++)
            found = d.items[i].severity == DIAG_ERROR &&
                    strcmp(d.items[i].path, want[k].path) == 0 &&
                    strstr(d.items[i].msg, want[k].msg) != NULL;
        cr_assert(found, "no error '%s' at %s", want[k].msg, want[k].path);
    }
    diag_list_clear(&d);
}

/* ---- the server's message catalogue ---- */

/* The conversions of a printf format, in order ("%s%ld..."). */
static void conversions(const char *f, char *out, size_t n)
{
    size_t o = 0;

    for (; *f && o + 4 < n; f++) {
        if (*f != '%')
            continue;
        f++;
        if (*f == '%')
            continue;
        out[o++] = '%';
        while (*f && strchr("sdiufgzlc", *f) && o + 2 < n) {
            out[o++] = *f;
            if (strchr("sdiufgc", *f))
                break;
            f++;
        }
    }
    out[o] = '\0';
}

Test(messages, translations_take_the_same_conversions)
{
    for (size_t i = 0; i < i18n_catalogue_size(); i++) {
        const char *en, *fr, *es;
        char a[64], b[64], c[64];
        i18n_catalogue_entry(i, &en, &fr, &es);
        conversions(en, a, sizeof(a));
        conversions(fr, b, sizeof(b));
        conversions(es, c, sizeof(c));
        cr_assert_str_eq(a, b, "fr of '%s'", en);
        cr_assert_str_eq(a, c, "es of '%s'", en);
        cr_assert_eq(i18n_fmt("fr", en), fr);
        cr_assert_eq(i18n_fmt("es", en), es);
        cr_assert_eq(i18n_fmt("en", en), en);
    }
    cr_assert_str_eq(i18n_fmt("fr", "not in the catalogue"), "not in the catalogue");
}

/* The course library's words (the feedback frame of a graded answer, the
 * view of an exercise): the same conversions in every language, and the
 * frame in each. */
Test(messages, the_feedback_frame_takes_the_same_conversions)
{
    cr_assert_geq(content_msg_size(), 20);
    for (size_t i = 0; i < content_msg_size(); i++) {
        const char *en, *fr, *es;
        char a[64], b[64], c[64];
        content_msg_entry(i, &en, &fr, &es);
        conversions(en, a, sizeof(a));
        conversions(fr, b, sizeof(b));
        conversions(es, c, sizeof(c));
        cr_assert_str_eq(a, b, "fr of '%s'", en);
        cr_assert_str_eq(a, c, "es of '%s'", en);
        cr_assert_str_neq(en, fr);
        cr_assert_eq(content_msg("FR", en), fr);
        cr_assert_eq(content_msg("es", en), es);
        cr_assert_eq(content_msg("de", en), en);
    }
    struct grade_task t = {.id = (char *)"q1", .score = 50, .feedback = (char *)"Bien."};
    struct grade_result r = {.score = 50, .pass = 60, .tasks = &t, .ntasks = 1};
    struct { const char *lang, *head; } rows[] = {
        {NULL, "score 50.0 not passed (pass mark 60)\nq1 50.0\n  Bien.\n"},
        {"en", "score 50.0 not passed (pass mark 60)\n"},
        {"fr", "note 50.0 non réussi (seuil de réussite 60)\nq1 50.0\n"},
        {"es", "puntuación 50.0 no aprobado (nota para aprobar 60)\n"},
        {"de", "score 50.0 not passed (pass mark 60)\n"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *s = grade_result_text_lang(&r, EXERCISE_SHOW_FEEDBACK, rows[i].lang);
        cr_assert(strncmp(s, rows[i].head, strlen(rows[i].head)) == 0, "%s: %s", rows[i].lang, s);
        free(s);
    }
}

Test(messages, language_of_a_request)
{
    struct req r = {0};

    cr_assert_str_eq(i18n_msg_lang(&r), "en");
    r.accept_language = "es-MX, fr;q=0.5";
    cr_assert_str_eq(i18n_msg_lang(&r), "es");
    strcpy(r.lang_account, "fr-CA");
    cr_assert_str_eq(i18n_msg_lang(&r), "fr");
    strcpy(r.lang_arg, "es");
    cr_assert_str_eq(i18n_msg_lang(&r), "es");
    strcpy(r.lang_arg, "de");
    cr_assert_str_eq(i18n_msg_lang(&r), "en");
    r.accept_language = NULL;
}

/* ---- rubric synonyms per language ---- */

/* Grades answer against the exercise of plan/action in lang; returns the
 * score and copies the rubric task's feedback into fb. */
static double grade_in(const struct catalog *c, const char *lang, const char *answer, char *fb,
                       size_t n)
{
    const struct lesson *l = catalog_lesson_lang(catalog_lesson(c, "plan/action"), lang);
    struct grade_result r;
    char err[200], *doc = NULL;

    cr_assert(asprintf(&doc, "action: %s\n", answer) > 0);
    cr_assert_eq(exercise_grade(l->exercise, 1, doc, strlen(doc), &r, err, sizeof(err)), 0, "%s",
                 err);
    double s = r.score;
    snprintf(fb, n, "%s", r.tasks[0].feedback);
    grade_result_free(&r);
    free(doc);
    return s;
}

Test(variant_rubric, a_variants_concepts_know_both_languages)
{
    struct diag_list d = {0};
    struct catalog *c = catalog_load(FIXTURES_DIR "/courses-i18n-rubric", &d);
    char fb[512];

    cr_assert_not_null(c);
    /* The French variant finds French words, and the default's English ones. */
    cr_assert_float_eq(grade_in(c, "fr", "Une commercialisation commune, menée par l'association.",
                                fb, sizeof(fb)), 100, 0.01);
    cr_assert_float_eq(grade_in(c, "fr", "The firms run joint marketing, led by the association.",
                                fb, sizeof(fb)), 100, 0.01);
    /* Its feedback frames are French. */
    grade_in(c, "fr", "Les entreprises font une commercialisation commune.", fb, sizeof(fb));
    cr_assert(strstr(fb, "Trouvé : commercialisation commune") != NULL, "%s", fb);
    cr_assert(strstr(fb, "Manquant : l'association mène") != NULL, "%s", fb);
    /* The default does not learn the variant's words. */
    cr_assert_float_eq(grade_in(c, "en", "Une commercialisation commune, menée par l'association.",
                                fb, sizeof(fb)), 0, 0.01);
    cr_assert(strstr(fb, "Found: none.") != NULL, "%s", fb);
    catalog_unref(c);
    diag_list_clear(&d);
}
