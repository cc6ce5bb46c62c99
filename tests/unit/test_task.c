/* test_task.c: parsing task blocks; malformed ones reported at their line. */
#include <criterion/criterion.h>

#include "fixture.h"
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "table.h"
#include "task.h"

static struct table *people, *links;
static const struct table *tables[2];

static void setup(void)
{
    const char *p = "group,count\nproducers,46\ntraders,4\n";
    const char *l = "from,to\nSpinner A,Weaver B\nWeaver B,Exporter C\nWeaver B,Dyer D\n"
                    "Dyer D,Exporter C\nLonely E,\n";
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

TestSuite(task, .init = setup, .fini = teardown);

static struct task *parse(const char *yaml, struct diag_list *d)
{
    return task_parse(yaml, strlen(yaml), 20, "case.md", tables, 2, d);
}

static struct task *parse_ok(const char *yaml)
{
    return fixture_task(yaml, 20, tables, 2);
}

Test(task, order)
{
    struct task *t = parse_ok("id: phases\ntype: order\nprompt: Put them in order.\nitems:\n"
                              "  - Selection\n  - Agent\n  - Diagnostic\nfeedback: Think.\n");
    cr_assert_eq(t->type, TASK_ORDER);
    cr_assert_str_eq(t->id, "phases");
    cr_assert_eq(t->nitems, 3);
    cr_assert_str_eq(t->items[2].text, "Diagnostic");
    cr_assert_str_eq(t->feedback, "Think.");
    cr_assert_float_eq(t->weight, 1, 1e-9);
    cr_assert_eq(t->line, 20);
    task_free(t);
}

Test(task, classify_with_flow_mapping)
{
    struct task *t = parse_ok("id: swot\ntype: classify\nprompt: Sort.\nweight: 2\n"
                              "categories: {s: Strength, w: Weakness, o: Opportunity, t: Threat}\n"
                              "items:\n  - text: Many firms\n    answer: s\n    feedback: Yes.\n"
                              "  - text: Certified cotton\n    answer: o\n");
    cr_assert_eq(t->ncats, 4);
    cr_assert_str_eq(t->cats[3].name, "Threat");
    cr_assert_eq(t->nitems, 2);
    cr_assert_str_eq(t->items[1].category, "o");
    cr_assert_float_eq(t->weight, 2, 1e-9);
    task_free(t);
}

Test(task, numeric_compute_over_tables)
{
    struct task *t = parse_ok("id: share\ntype: numeric\nprompt: Share?\n"
                              "compute: 100 * value(people.count, producers) / sum(people.count)\n"
                              "tolerance: 2%\nunit: \"%\"\n");
    cr_assert_float_eq(t->expected, 92, 1e-9);
    cr_assert(t->tol_relative);
    cr_assert_float_eq(t->tol, 2, 1e-9);
    cr_assert_str_eq(t->unit, "%");
    task_free(t);
}

Test(task, network_measures)
{
    struct task *t = parse_ok("id: b\ntype: network\ntable: links\nquestion: broker\nprompt: Who?\n");
    cr_assert_eq(t->nnames, 1);
    cr_assert_str_eq(t->names[0], "Weaver B");
    task_free(t);
    t = parse_ok("id: d\ntype: network\ntable: links\nquestion: degree\nactor: weaver b\nprompt: Which?\n");
    cr_assert_float_eq(t->expected, 3, 1e-9);
    task_free(t);
    t = parse_ok("id: d\ntype: network\ntable: links\nquestion: density\nprompt: Which?\n");
    cr_assert_float_eq(t->expected, 4.0 / 10.0, 1e-9);
    cr_assert_float_eq(t->tol, 0.005, 1e-9);
    task_free(t);
    t = parse_ok("id: i\ntype: network\ntable: links\nquestion: isolated\nprompt: Which?\n");
    cr_assert_eq(t->nnames, 1);
    cr_assert_str_eq(t->names[0], "Lonely E");
    task_free(t);
    t = parse_ok("id: m\ntype: network\ntable: links\nquestion: most-central\nprompt: Which?\n");
    cr_assert_eq(t->nnames, 1);
    cr_assert_str_eq(t->names[0], "Weaver B");
    task_free(t);
}

Test(task, rubric_review_gift_pool)
{
    struct task *t = parse_ok("id: action\ntype: rubric\nprompt: Name one.\npoints: 5\nconcepts:\n"
                              "  - name: joint action\n    points: 4\n    words: [joint action, "
                              "collective action]\n  - name: lead actor\n    points: 3\n"
                              "    words: [CDA]\n");
    cr_assert_eq(t->rubric.n, 2);
    cr_assert_float_eq(t->rubric.cap, 5, 1e-9);
    cr_assert_eq(t->rubric.concepts[0].nwords, 2);
    task_free(t);
    t = parse_ok("id: note\ntype: review\nprompt: Write.\npoints: 10\n");
    cr_assert_float_eq(t->points, 10, 1e-9);
    task_free(t);
    t = parse_ok("id: q-trust\ntype: gift\nquestion: |\n  Trust grows through "
                 "{=small joint projects ~large loans}.\n");
    cr_assert_eq(t->quiz.n, 1);
    cr_assert_eq(t->quiz.q[0].type, GIFT_CHOICE);
    cr_assert_eq(t->quiz.q[0].line, 23);
    task_free(t);
    t = parse_ok("id: draw\ntype: pool\ndraw: 2\nquestions: |\n  ::a:: One {T}\n\n  ::b:: Two {F}\n\n"
                 "  ::c:: Three {#3}\n");
    cr_assert_eq(t->quiz.n, 3);
    cr_assert_eq(t->draw, 2);
    cr_assert_eq(t->quiz.q[2].line, 28);
    task_free(t);
}

/* Malformed tasks: the block starts at file line 20. */
struct bad_task {
    const char *yaml;
    int line;
    const char *needle;
};

static const struct bad_task bad[] = {
    { "id: x\ntype: order\nprompt: p\nitems: [a, b\n", 24, "YAML" },
    { "id: x\n  type: order\n", 21, "YAML" },
    { "- just\n- a list\n", 20, "mapping" },
    { "type: order\nprompt: p\nitems: [a, b]\n", 20, "\"id\"" },
    { "id: Bad_Id\ntype: order\nprompt: p\nitems: [a, b]\n", 20, "task id" },
    { "id: x\ntype: sorting\nprompt: p\n", 21, "unknown task type" },
    { "id: x\ntype: order\nitems: [a, b]\n", 20, "\"prompt\"" },
    { "id: x\ntype: order\nprompt: p\nitems: [a]\n", 23, "at least 2" },
    { "id: x\ntype: order\nprompt: p\nitems: oops\n", 23, "list" },
    { "id: x\ntype: order\nprompt: p\nweight: heavy\nitems: [a, b]\n", 23, "number" },
    { "id: x\ntype: classify\nprompt: p\ncategories: {s: S, w: W}\nitems:\n  - text: a\n"
      "    answer: q\n", 26, "not one of the categories" },
    { "id: x\ntype: classify\nprompt: p\ncategories: [s, w]\nitems: []\n", 23, "categories" },
    { "id: x\ntype: classify\nprompt: p\ncategories: {s: S, w: W}\nitems:\n  - text: a\n", 25,
      "\"answer\"" },
    { "id: x\ntype: numeric\nprompt: p\ncompute: sum(people.heads)\n", 23, "no column named heads" },
    { "id: x\ntype: numeric\nprompt: p\ncompute: sum(folks.count)\n", 23, "no table named folks" },
    { "id: x\ntype: numeric\nprompt: p\ncompute: 1 / (count(people) - 2)\n", 23, "division by zero" },
    { "id: x\ntype: numeric\nprompt: p\ncompute: value(people.count, bankers)\n", 23, "bankers" },
    { "id: x\ntype: numeric\nprompt: p\n", 20, "either" },
    { "id: x\ntype: numeric\nprompt: p\nanswer: 3\ncompute: 4\n", 23, "either" },
    { "id: x\ntype: numeric\nprompt: p\nanswer: 3\ntolerance: wide\n", 24, "tolerance" },
    { "id: x\ntype: numeric\nprompt: p\nanswer: three\n", 23, "number" },
    { "id: x\ntype: network\nprompt: p\ntable: links\nquestion: power\n", 24, "question is one of" },
    { "id: x\ntype: network\nprompt: p\ntable: nodes\nquestion: broker\n", 23, "no table named nodes" },
    { "id: x\ntype: network\nprompt: p\ntable: people\nquestion: broker\n", 23, "from and to" },
    { "id: x\ntype: network\nprompt: p\ntable: links\nquestion: degree\nactor: Nobody\n", 25,
      "not in table" },
    { "id: x\ntype: rubric\nprompt: p\npoints: 10\nconcepts:\n  - name: a\n    points: 4\n"
      "    words: [x]\n", 23, "at most 4 points" },
    { "id: x\ntype: rubric\nprompt: p\nconcepts:\n  - name: a\n    points: 4\n", 24, "\"words\"" },
    { "id: x\ntype: review\nprompt: p\npoints: 0\n", 23, "above 0" },
    { "id: x\ntype: gift\nquestion: |\n  One {T}\n\n  Two {F}\n", 22, "exactly one" },
    { "id: x\ntype: gift\nquestion: |\n  Fine text\n  Bad {=a ~%300%b}\n", 24, "between" },
    { "id: x\ntype: gift\nquestion: Just a text\n", 22, "answer block" },
    { "id: x\ntype: pool\ndraw: 3\nquestions: |\n  One {T}\n\n  Two {F}\n", 22, "more than" },
    { "id: x\ntype: pool\ndraw: 1.5\nquestions: |\n  One {T}\n", 22, "whole number" },
    { "id: x\ntype: review\nprompt: p\nmax_bytes: 0\n", 23, "max_bytes" },
    { "id: x\ntype: review\nprompt: p\nmax_bytes: 20.5\n", 23, "whole number" },
    { "id: x\ntype: review\nprompt: p\nmax_bytes: 2000000\n", 23, "1048576" },
    { "id: x\ntype: review\nprompt: p\nmax_bytes: lots\n", 23, "number" },
};

Test(task, malformed_reported_at_exact_line)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct diag_list d = {0};
        struct task *t = parse(bad[i].yaml, &d);
        cr_expect_null(t, "case %zu should fail", i);
        task_free(t);
        cr_assert_geq(d.errors, 1, "case %zu", i);
        size_t k = 0;
        while (d.items[k].severity != DIAG_ERROR)
            k++;
        cr_expect_eq(d.items[k].line, bad[i].line, "case %zu: line %d: %s", i, d.items[k].line,
                     d.items[k].msg);
        cr_expect(strstr(d.items[k].msg, bad[i].needle) != NULL, "case %zu: %s", i,
                  d.items[k].msg);
        diag_list_clear(&d);
    }
}

Test(task, max_bytes_is_a_task_own_answer_limit)
{
    struct task *t = parse_ok("id: essay\ntype: review\nprompt: Write.\nmax_bytes: 20000\n");
    cr_assert_eq(t->max_bytes, 20000);
    task_free(t);
    t = parse_ok("id: essay\ntype: review\nprompt: Write.\n");
    cr_assert_eq(t->max_bytes, 0);          /* the server's default */
    task_free(t);
}

Test(task, unknown_keys_warn_at_their_line)
{
    struct diag_list d = {0};
    struct task *t = parse("id: x\ntype: order\nprompt: p\nitems: [a, b]\ncolour: red\n", &d);
    cr_assert_not_null(t);
    cr_assert_eq(d.warnings, 1);
    cr_assert_eq(d.items[0].line, 24);
    task_free(t);
    diag_list_clear(&d);
}
