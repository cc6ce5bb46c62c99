/* test_grade_task.c: grading answers to case-study tasks of every type. */
#include <criterion/criterion.h>

#include "fixture.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "diag.h"
#include "table.h"
#include "task.h"

static struct table *people, *links;
static const struct table *tables[2];

static void setup(void)
{
    const char *p = "group,count\nproducers,46\ntraders,4\n";
    const char *l = "from,to\nSpinner A,Weaver B\nWeaver B,Exporter C\nWeaver B,Dyer D\n"
                    "Dyer D,Exporter C\nLonely E,\nCafé Ñandú,\n";
    people = fixture_table("people", p);
    links = fixture_table("links", l);
    tables[0] = people;
    tables[1] = links;
}

static void teardown(void)
{
    table_free(people);
    table_free(links);
}

TestSuite(grade_task, .init = setup, .fini = teardown);

#define ORDER4 "id: ph\ntype: order\nprompt: p\nitems: [Selection, Agent, Diagnostic, Plan]\n" \
               "feedback: The agent runs the diagnostic.\n"
#define SWOT "id: swot\ntype: classify\nprompt: p\ncategories: {s: Strength, w: Weakness, " \
             "o: Opportunity, t: Threat}\nitems:\n  - text: Many firms\n    answer: s\n" \
             "  - text: No trust\n    answer: w\n    feedback: Distrust is internal.\n" \
             "  - text: Buyers want cotton\n    answer: o\n  - text: Cheap imports\n    answer: t\n"
#define SHARE "id: share\ntype: numeric\nprompt: p\n" \
              "compute: 100 * value(people.count, producers) / sum(people.count)\n" \
              "tolerance: 1\nunit: \"%\"\nfeedback: Divide producers by all.\n"
#define SHARE_REL "id: share\ntype: numeric\nprompt: p\nanswer: 200\ntolerance: 2%\n"
#define EXACT "id: n\ntype: numeric\nprompt: p\nanswer: 0.3\n"
#define BROKER "id: b\ntype: network\ntable: links\nquestion: broker\nprompt: p\n"
#define DEGREE "id: d\ntype: network\ntable: links\nquestion: degree\nactor: Dyer D\nprompt: p\n"
#define DENSITY "id: d\ntype: network\ntable: links\nquestion: density\nprompt: p\ntolerance: 0.01\n"
#define ISOLATED "id: i\ntype: network\ntable: links\nquestion: isolated\nprompt: p\n"
#define CENTRAL "id: c\ntype: network\ntable: links\nquestion: most-central\nprompt: p\n"
#define RUBRIC "id: r\ntype: rubric\nprompt: p\npoints: 10\nmin_words: 0\nconcepts:\n" \
               "  - name: joint action\n    points: 4\n    words: [joint action, collective action, " \
               "common project]\n  - name: lead actor\n    points: 3\n    words: [cluster " \
               "development agent, CDA, business association]\n  - name: trust\n    points: 3\n" \
               "    words: [trust, confiance]\n"
#define RUBRIC_CAP "id: r\ntype: rubric\nprompt: p\npoints: 5\nmin_words: 0\nconcepts:\n" \
                   "  - name: a\n    points: 4\n    words: [alpha]\n  - name: b\n    points: 4\n" \
                   "    words: [beta]\n"
#define CJK_RUBRIC "id: r\ntype: rubric\nprompt: p\nmin_words: 0\nconcepts:\n  - name: cluster\n    points: 1\n" \
                   "    words: [产业集群]\n  - name: trust\n    points: 1\n    words: [信任]\n"
#define GIFT_TASK "id: g\ntype: gift\nquestion: |\n  Trust grows through {=small joint projects " \
                  "~large loans ~%50%regular meetings}.\n"
#define ESSAY_TASK "id: e\ntype: gift\nquestion: Tell us about your cluster. {}\n"
#define REVIEW "id: note\ntype: review\nprompt: Write a note.\npoints: 10\n"

struct task_case {
    const char *yaml;
    const char *doc;     /* answer document; for order tasks "@" + file item numbers */
    double score;        /* -1: malformed */
    const char *feedback;
};

static const struct task_case cases[] = {
    /* order: share of pairs in the right relative order */
    { ORDER4, "@1 2 3 4", 100, NULL },
    { ORDER4, "@2 1 3 4", 500.0 / 6, "agent runs" },
    { ORDER4, "@1 2 4 3", 500.0 / 6, NULL },
    { ORDER4, "@4 3 2 1", 0, NULL },
    { ORDER4, "@2 1 4 3", 400.0 / 6, NULL },
    { ORDER4, "@4 1 2 3", 300.0 / 6, NULL },
    { ORDER4, "ph: 1 2 3", -1, NULL },
    { ORDER4, "ph: 1 2 3 3", -1, NULL },
    { ORDER4, "ph: 1 2 3 5", -1, NULL },
    { ORDER4, "ph: a b c d", -1, NULL },
    { ORDER4, "ph: 1,2,3,4,1", -1, NULL },
    { ORDER4, "", 0, "No answer." },
    /* classify: credit per item (no shuffle in this table) */
    { SWOT, "swot: s=1 w=2 o=3 t=4", 100, NULL },
    { SWOT, "swot: S=1 W=2 O=3 T=4", 100, NULL },
    { SWOT, "swot: s=1 o=3", 50, NULL },
    { SWOT, "swot: s=1,2 o=3 t=4", 75, "Distrust is internal." },
    { SWOT, "swot: t=1 s=2 w=3 o=4", 0, NULL },
    { SWOT, "swot: s=1 s=2", 25, NULL },
    { SWOT, "swot: s=1 w=1", -1, NULL },
    { SWOT, "swot: x=1", -1, NULL },
    { SWOT, "swot: s=5", -1, NULL },
    { SWOT, "swot: s 1", -1, NULL },
    { SWOT, "swot: s=1,", -1, NULL },
    /* numeric: absolute and relative tolerance, units */
    { SHARE, "share: 92", 100, NULL },
    { SHARE, "share: 92 %", 100, NULL },
    { SHARE, "share: 92%", 100, NULL },
    { SHARE, "share: 91", 100, NULL },           /* exactly at the boundary */
    { SHARE, "share: 93", 100, NULL },
    { SHARE, "share: 90.99", 0, "Divide producers" },
    { SHARE, "share: 93.01", 0, NULL },
    { SHARE, "share: 92,5", 100, NULL },
    { SHARE, "share: 92 kg", -1, NULL },
    { SHARE, "share: ninety", -1, NULL },
    { SHARE, "share:", 0, NULL },
    { SHARE_REL, "share: 204", 100, NULL },       /* 2% of 200 */
    { SHARE_REL, "share: 196", 100, NULL },
    { SHARE_REL, "share: 204.1", 0, NULL },
    { SHARE_REL, "share: 195.9", 0, NULL },
    { EXACT, "n: 0.3", 100, NULL },
    { EXACT, "n: 0.30000001", 0, NULL },
    { EXACT, "n: .3", 100, NULL },
    /* network */
    { BROKER, "b: Weaver B", 100, NULL },
    { BROKER, "b: weaver b", 100, NULL },
    { BROKER, "b:   WEAVER   B  ", 100, NULL },
    { BROKER, "b: Dyer D", 0, NULL },
    { BROKER, "b: Weaver B, Dyer D", 0, NULL },
    { BROKER, "b: none", 0, NULL },
    { DEGREE, "d: 2", 100, NULL },
    { DEGREE, "d: 3", 0, NULL },
    { DEGREE, "d: two", -1, NULL },
    { DENSITY, "d: 0.2667", 100, NULL },         /* 4 links of 15 possible */
    { DENSITY, "d: 0.2567", 100, NULL },         /* boundary: 0.26667 - 0.01 */
    { DENSITY, "d: 0.25", 0, NULL },
    { ISOLATED, "i: Lonely E, Cafe Nandu", 100, NULL },
    { ISOLATED, "i: lonely e, café ñandú", 100, NULL },
    { ISOLATED, "i: Lonely E", 50, NULL },
    { ISOLATED, "i: Lonely E, Weaver B", 0, NULL },
    { ISOLATED, "i: Lonely E, Café Ñandú, Weaver B", 50, NULL },
    { ISOLATED, "i: none", 0, NULL },
    { CENTRAL, "c: Weaver B", 100, NULL },
    { CENTRAL, "c: Exporter C", 0, NULL },
    /* rubric: points per concept, cap, accents, case, stems */
    { RUBRIC, "r: A joint action led by the cluster development agent, built on trust.", 100,
      "Found: joint action, lead actor, trust." },
    { RUBRIC, "r: Joint actions", 40, "Missing: lead actor, trust." },
    { RUBRIC, "r: JOINT ACTION by the CDA", 70, NULL },
    { RUBRIC, "r: common projects of the business associations", 70, NULL },
    { RUBRIC, "r: la confiance entre les entreprises", 30, NULL },
    { RUBRIC, "r: la cónfiançe", 30, NULL },
    { RUBRIC, "r: action joint", 0, "Found: none." },
    { RUBRIC, "r: trusted partners", 30, NULL },
    { RUBRIC, "r: nothing relevant", 0, NULL },
    { RUBRIC, "r: a first line\n  continued with collective action", 40, NULL },
    { RUBRIC_CAP, "r: alpha", 80, NULL },
    { RUBRIC_CAP, "r: alpha and beta", 100, NULL },
    { CJK_RUBRIC, "r: 产业集群需要信任", 100, NULL },
    { CJK_RUBRIC, "r: 信任很重要", 50, NULL },
    /* gift task (no shuffle in this table) */
    { GIFT_TASK, "g: a", 100, NULL },
    { GIFT_TASK, "g: c", 50, NULL },
    { GIFT_TASK, "g: b", 0, NULL },
    { GIFT_TASK, "g: z", -1, NULL },
};

/* Turns "@2 1 3" (file item numbers in the learner's order) into the
 * numbers shown for this seed. */
static char *order_doc(const struct task *t, const char *spec, uint64_t seed)
{
    size_t perm[16];
    char buf[200];
    size_t n = 0;
    task_item_order(t, seed, true, perm);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s:", t->id);
    for (const char *s = spec + 1; *s;) {
        char *end;
        long item = strtol(s, &end, 10);
        if (end == s)
            break;
        for (size_t k = 0; k < t->nitems; k++)
            if (perm[k] == (size_t)(item - 1))
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %zu", k + 1);
        s = end;
    }
    return strdup(buf);
}

Test(grade_task, table)
{
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        const struct task_case *c = &cases[i];
        struct diag_list d = {0};
        struct task *t = task_parse(c->yaml, strlen(c->yaml), 1, "c.md", tables, 2, &d);
        if (t == NULL)
            diag_print(&d, stderr);
        cr_assert_not_null(t, "case %zu", i);
        char *doc = c->doc[0] == '@' ? order_doc(t, c->doc, 99) : strdup(c->doc);
        struct answer_doc ad;
        char err[300] = "";
        cr_assert_eq(answer_parse(doc, strlen(doc), &ad, err, sizeof(err)), 0, "case %zu: %s",
                     i, err);
        struct task_result r;
        int rc = task_grade(t, 99, false, &ad, &r, err, sizeof(err));
        if (c->score < 0) {
            cr_expect_eq(rc, -1, "case %zu (%s) should be malformed", i, doc);
            cr_expect(strstr(err, t->id) != NULL, "case %zu: message names the task: %s", i, err);
        } else {
            cr_expect_eq(rc, 0, "case %zu (%s): %s", i, doc, err);
            if (rc == 0) {
                cr_expect_float_eq(r.score, c->score, 1e-6, "case %zu (%s): %g, not %g", i, doc,
                                   r.score, c->score);
                if (c->feedback)
                    cr_expect(strstr(r.feedback, c->feedback) != NULL, "case %zu: %s", i,
                              r.feedback);
                task_result_free(&r);
            }
        }
        answer_doc_free(&ad);
        free(doc);
        task_free(t);
        diag_list_clear(&d);
    }
    cr_log_info("%zu task grading cases", n);
}

Test(grade_task, review_and_essay_wait_for_a_trainer)
{
    const char *yamls[] = { REVIEW, ESSAY_TASK };
    const char *docs[] = { "note: Dear mayor,\n  the cluster needs a road.", "e: We weave." };
    for (size_t i = 0; i < 2; i++) {
        struct diag_list d = {0};
        struct task *t = task_parse(yamls[i], strlen(yamls[i]), 1, "c.md", tables, 2, &d);
        cr_assert_not_null(t);
        struct answer_doc ad;
        char err[200];
        cr_assert_eq(answer_parse(docs[i], strlen(docs[i]), &ad, err, sizeof(err)), 0);
        struct task_result r;
        cr_assert_eq(task_grade(t, 1, true, &ad, &r, err, sizeof(err)), 0);
        cr_assert(r.pending);
        cr_assert(r.answered);
        cr_assert_float_eq(r.score, 0, 1e-9);
        cr_assert(strstr(r.response, i == 0 ? "the cluster needs a road." : "We weave.") != NULL);
        task_result_free(&r);
        answer_doc_free(&ad);
        task_free(t);
    }
}

Test(grade_task, order_is_shuffled_and_keys_score_full)
{
    struct diag_list d = {0};
    struct task *t = task_parse(ORDER4, strlen(ORDER4), 1, "c.md", tables, 2, &d);
    cr_assert_not_null(t);
    for (uint64_t seed = 0; seed < 50; seed++) {
        size_t perm[4];
        task_item_order(t, seed, false, perm);
        bool identity = perm[0] == 0 && perm[1] == 1 && perm[2] == 2 && perm[3] == 3;
        cr_assert_not(identity, "seed %lu shows the items in the right order", (unsigned long)seed);
        struct sbuf b = {0};
        task_key_lines(t, seed, false, &b);
        struct answer_doc ad;
        char err[200];
        cr_assert_eq(answer_parse(b.data, b.len, &ad, err, sizeof(err)), 0);
        struct task_result r;
        cr_assert_eq(task_grade(t, seed, false, &ad, &r, err, sizeof(err)), 0, "%s", err);
        cr_assert_float_eq(r.score, 100, 1e-9, "seed %lu: %s", (unsigned long)seed, b.data);
        task_result_free(&r);
        answer_doc_free(&ad);
        sbuf_free(&b);
    }
    task_free(t);
}

Test(grade_task, pool_draws_per_seed_and_grades_drawn_questions)
{
    const char *yaml = "id: draw\ntype: pool\ndraw: 2\nquestions: |\n  ::a:: One is one {T}\n\n"
                       "  ::b:: Two is three {F}\n\n  ::c:: Three {#3}\n\n  ::d:: Four {=four}\n";
    struct diag_list d = {0};
    struct task *t = task_parse(yaml, strlen(yaml), 1, "c.md", tables, 2, &d);
    cr_assert_not_null(t);
    size_t first[2], again[2];
    task_pool_draw(t, 5, first);
    task_pool_draw(t, 5, again);
    cr_assert_eq(first[0], again[0]);
    cr_assert_eq(first[1], again[1]);
    cr_assert_neq(first[0], first[1]);
    bool differ = false;
    for (uint64_t s = 6; s < 30 && !differ; s++) {
        task_pool_draw(t, s, again);
        differ = again[0] != first[0] || again[1] != first[1];
    }
    cr_assert(differ, "retakes draw other questions");

    /* The key of the drawn questions scores 100; one wrong answer 50. */
    struct sbuf b = {0};
    task_key_lines(t, 5, true, &b);
    struct answer_doc ad;
    char err[200];
    cr_assert_eq(answer_parse(b.data, b.len, &ad, err, sizeof(err)), 0);
    struct task_result r;
    cr_assert_eq(task_grade(t, 5, true, &ad, &r, err, sizeof(err)), 0, "%s", err);
    cr_assert_float_eq(r.score, 100, 1e-9, "%s", b.data);
    cr_assert(strstr(r.response, "draw.1: ") != NULL);
    task_result_free(&r);
    answer_doc_free(&ad);
    sbuf_free(&b);

    const char *half = "draw.1: 12345";
    cr_assert_eq(answer_parse(half, strlen(half), &ad, err, sizeof(err)), 0);
    int rc = task_grade(t, 5, true, &ad, &r, err, sizeof(err));
    const struct gift_question *q1 = &t->quiz.q[first[0]];
    if (q1->type == GIFT_TRUEFALSE) {
        cr_assert_eq(rc, -1);
        cr_assert(strstr(err, "draw.1") != NULL, "%s", err);
    } else {
        cr_assert_eq(rc, 0);
        cr_assert_float_eq(r.score, 0, 1e-9);
        task_result_free(&r);
    }
    answer_doc_free(&ad);
    task_free(t);
}
