/* test_rubric.c: text folding (case, accents, Unicode) and stemming. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rubric.h"

static const char *const folds[][3] = {
    /* input, folded keeping accents, folded without accents */
    { "  Hello   World ", "hello world", "hello world" },
    { "ÉCOLE Élève", "école élève", "ecole eleve" },
    { "Straße", "straße", "strasse" },
    { "ĀČĘĞĪŁŃŌŘŠŤŪŽ", "āčęğīłńōřšťūž", "acegilnorstuz" },
    { "Cœur", "cœur", "coeur" },
    { "ΑΘΗΝΑ", "αθηνα", "αθηνα" },
    { "МОСКВА", "москва", "москва" },
    { "北京\u3000東京", "北京 東京", "北京 東京" },
    { "e\u0301te\u0301", "e\u0301te\u0301", "ete" },
    { "Ÿ", "ÿ", "y" },
    { "İstanbul", "istanbul", "istanbul" },
};

Test(rubric, fold)
{
    for (size_t i = 0; i < sizeof(folds) / sizeof(folds[0]); i++) {
        char *a = rubric_fold(folds[i][0], false), *b = rubric_fold(folds[i][0], true);
        cr_expect_str_eq(a, folds[i][1], "%s", folds[i][0]);
        cr_expect_str_eq(b, folds[i][2], "%s", folds[i][0]);
        free(a);
        free(b);
    }
}

static const char *const stems[][2] = {
    { "clusters", "cluster" }, { "clustering", "cluster" }, { "clustered", "cluster" },
    { "associations", "associ" }, { "association", "associ" }, { "companies", "company" },
    { "boxes", "box" }, { "business", "business" }, { "businesses", "business" },
    { "agents", "agent" }, { "bus", "bus" }, { "quickly", "quick" }, { "analysis", "analysis" },
    { "agreements", "agree" },
};

Test(rubric, stem)
{
    for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
        char w[64];
        strcpy(w, stems[i][0]);
        rubric_stem(w);
        cr_expect_str_eq(w, stems[i][1], "%s", stems[i][0]);
    }
}

Test(rubric, words_split_punctuation_and_cjk)
{
    char **w;
    size_t n = rubric_words("joint-action, “trust”; 产业集群!", &w);
    cr_assert_eq(n, 7);
    cr_assert_str_eq(w[0], "joint");
    cr_assert_str_eq(w[1], "action");
    cr_assert_str_eq(w[2], "trust");
    cr_assert_str_eq(w[3], "产");
    rubric_words_free(w, n);
}

Test(rubric, feedback_names_found_and_missing)
{
    char *words_a[] = { "joint action" }, *words_b[] = { "trust" };
    struct rubric_concept c[2] = {
        { .name = "joint action", .points = 2, .words = words_a, .nwords = 1 },
        { .name = "trust", .points = 2, .words = words_b, .nwords = 1 },
    };
    struct rubric r = { .concepts = c, .n = 2, .cap = 4 };
    bool found[2];
    cr_assert_float_eq(rubric_score(&r, "Joint Actions matter", found), 50, 1e-9);
    cr_assert(found[0] && !found[1]);
    struct rubric_verdict v;
    rubric_grade(&r, "Joint Actions matter", &v);
    char *fb = rubric_feedback(&r, &v);
    cr_assert_str_eq(fb, "Found: joint action. Missing: trust.");
    free(fb);
    rubric_verdict_free(&v);
}
