/* test_marking.c: the trainer's side of a task (guide, model answer, analytic
 * rubric, confirm: trainer) and what a learner is shown of an attempt. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "diag.h"
#include "exercise.h"
#include "task.h"

static struct task *parse(const char *yaml, struct diag_list *d)
{
    return task_parse(yaml, strlen(yaml), 10, "case.md", NULL, 0, d);
}

static const char REVIEW[] =
    "id: essay\n"
    "type: review\n"
    "prompt: Argue.\n"
    "guide: Look for the diagnosis.\n"
    "model: |\n"
    "  Start with the survey.\n"
    "criteria:\n"
    "  - id: analysis\n"
    "    name: Use of the diagnosis\n"
    "    levels:\n"
    "      - {points: 0, text: None}\n"
    "      - {points: 1.5, text: Some}\n"
    "      - {points: 4, text: All}\n"
    "  - id: action\n"
    "    name: The action\n"
    "    levels:\n"
    "      - {points: 0, text: None}\n"
    "      - {points: 6, text: Concrete}\n";

Test(marking, review_criteria_give_the_points)
{
    struct diag_list d = {0};
    struct task *t = parse(REVIEW, &d);

    cr_assert_not_null(t);
    cr_assert_eq(d.errors, 0);
    cr_assert_eq(d.count, 0, "no warnings for guide, model, criteria");
    cr_expect_float_eq(task_points(t), 10, 1e-9);
    cr_expect_str_eq(t->guide, "Look for the diagnosis.");
    cr_expect_str_eq(t->model, "Start with the survey.\n");
    cr_assert_eq(t->ncriteria, 2);
    const struct task_criterion *c = task_criterion_find(t, "analysis");
    cr_assert_not_null(c);
    cr_expect_float_eq(c->max, 4, 1e-9);
    cr_expect_str_eq(task_level_find(c, 1.5)->text, "Some");
    cr_expect_null(task_level_find(c, 2));
    cr_expect_null(task_criterion_find(t, "nope"));
    task_free(t);
    diag_list_clear(&d);
}

/* Each of these is an error at the given file line (the block starts at 10). */
static const struct {
    const char *yaml;
    int line;
    const char *needle;
} bad[] = {
    { "id: x\ntype: review\nprompt: p\npoints: 12\ncriteria:\n  - id: a\n    name: A\n    levels:\n"
      "      - {points: 0, text: n}\n      - {points: 10, text: y}\n", 13, "add up to 10" },
    { "id: x\ntype: review\nprompt: p\ncriteria:\n  - id: a\n    name: A\n    levels:\n"
      "      - {points: 0, text: n}\n      - {points: 0, text: y}\n", 18, "distinct" },
    { "id: x\ntype: review\nprompt: p\ncriteria:\n  - id: a\n    name: A\n    levels:\n"
      "      - {points: 0, text: n}\n      - {points: 1.25, text: y}\n", 18, "halves" },
    { "id: x\ntype: review\nprompt: p\ncriteria:\n  - id: a\n    name: A\n    levels:\n"
      "      - {points: 3, text: only one}\n", 14, "two or more" },
    { "id: x\ntype: review\nprompt: p\ncriteria:\n  - id: Bad\n    name: A\n    levels:\n"
      "      - {points: 0, text: n}\n      - {points: 1, text: y}\n", 14, "criterion id" },
    { "id: x\ntype: review\nprompt: p\nconfirm: trainer\n", 13, "rubric tasks" },
    { "id: x\ntype: rubric\nprompt: p\nconfirm: nobody\nconcepts:\n  - name: a\n    points: 1\n"
      "    words: [x]\n", 13, "confirm: trainer" },
    { "id: x\ntype: rubric\nprompt: p\nconcepts:\n  - name: a\n    points: 2\n    words: [x]\n"
      "criteria:\n  - id: a\n    name: A\n    levels:\n      - {points: 0, text: n}\n"
      "      - {points: 3, text: y}\n", 18, "task's points are 2" },
};

Test(marking, malformed_marking_reported_at_its_line)
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
        cr_expect(strstr(d.items[k].msg, bad[i].needle) != NULL, "case %zu: %s", i, d.items[k].msg);
        diag_list_clear(&d);
    }
}

Test(marking, marking_keys_warn_on_other_task_types)
{
    struct diag_list d = {0};
    struct task *t = parse("id: x\ntype: order\nprompt: p\nitems: [a, b]\nguide: secret\n", &d);

    cr_assert_not_null(t);
    cr_assert_eq(d.errors, 0);
    cr_assert_eq(d.count, 1);
    cr_expect(strstr(d.items[0].msg, "unknown key \"guide\"") != NULL, "%s", d.items[0].msg);
    task_free(t);
    diag_list_clear(&d);
}

Test(marking, confirm_trainer_makes_the_score_a_suggestion)
{
    static const char yaml[] = "id: why\ntype: rubric\nprompt: Why?\npoints: 4\nconfirm: trainer\nmin_words: 0\n"
                               "concepts:\n  - name: inputs\n    points: 2\n    words: [shared supplier]\n"
                               "  - name: learning\n    points: 2\n    words: [learn together]\n";
    struct diag_list d = {0};
    struct task *t = parse(yaml, &d);
    struct answer_doc doc;
    struct task_result r;
    char err[200];
    const char *ans = "why: They have a shared supplier.\n";

    cr_assert_not_null(t);
    cr_assert(t->confirm_trainer);
    cr_assert_eq(answer_parse(ans, strlen(ans), &doc, err, sizeof(err)), 0);
    cr_assert_eq(task_grade(t, 1, true, &doc, &r, err, sizeof(err)), 0);
    cr_expect(r.pending && r.provisional);
    cr_expect_float_eq(r.score, 0, 1e-9, "nothing counts before a trainer");
    cr_expect_float_eq(r.suggested, 50, 1e-9);
    cr_expect(strstr(r.feedback, "inputs") != NULL, "the evidence: %s", r.feedback);
    task_result_free(&r);
    answer_doc_free(&doc);
    task_free(t);
    diag_list_clear(&d);
}

Test(marking, shown_follows_show_and_show_when)
{
    struct exercise ex = {0};

    ex.attempts = 3;
    ex.show = EXERCISE_SHOW_FEEDBACK;
    ex.show_when = EXERCISE_WHEN_PASSED | EXERCISE_WHEN_LAST;
    cr_expect_eq(exercise_shown(&ex, false, 1, 0), EXERCISE_SHOW_FEEDBACK);
    cr_expect_eq(exercise_shown(&ex, true, 1, 0), EXERCISE_SHOW_KEYS);
    cr_expect_eq(exercise_shown(&ex, false, 3, 0), EXERCISE_SHOW_KEYS);
    ex.attempts = 0;                       /* unlimited: "last" never comes */
    cr_expect_eq(exercise_shown(&ex, false, 50, 0), EXERCISE_SHOW_FEEDBACK);
    ex.show = EXERCISE_SHOW_SCORE;
    ex.show_when = EXERCISE_WHEN_DUE;
    ex.due = 1000;
    cr_expect_eq(exercise_shown(&ex, true, 1, 999), EXERCISE_SHOW_SCORE);
    cr_expect_eq(exercise_shown(&ex, false, 1, 1000), EXERCISE_SHOW_KEYS);
    ex.show_when = 0;                      /* never */
    cr_expect_eq(exercise_shown(&ex, true, 1, 5000), EXERCISE_SHOW_SCORE);
    ex.show_when = EXERCISE_WHEN_ATTEMPT;
    cr_expect_eq(exercise_shown(&ex, false, 1, 0), EXERCISE_SHOW_KEYS);
}

Test(marking, rendering_hides_what_show_does_not_allow)
{
    struct grade_task t = { .id = "q1", .type = TASK_GIFT, .weight = 1, .score = 0,
                            .feedback = "No, Milan.", .key = "a (Rome)", .response = "b" };
    struct grade_result r = { .score = 0, .pass = 60, .tasks = &t, .ntasks = 1 };
    char *s;

    s = grade_result_text_shown(&r, EXERCISE_SHOW_SCORE);
    cr_expect(strstr(s, "q1 0.0") && !strstr(s, "Milan") && !strstr(s, "Rome"), "%s", s);
    free(s);
    s = grade_result_text_shown(&r, EXERCISE_SHOW_FEEDBACK);
    cr_expect(strstr(s, "Milan") && !strstr(s, "Rome"), "%s", s);
    free(s);
    s = grade_result_json_shown(&r, EXERCISE_SHOW_KEYS);
    cr_expect(strstr(s, "Milan") && strstr(s, "Rome") && strstr(s, "\"show\":\"keys\""), "%s", s);
    free(s);
    s = grade_result_json_shown(&r, EXERCISE_SHOW_SCORE);
    cr_expect(!strstr(s, "feedback") && !strstr(s, "key"), "%s", s);
    free(s);
}
