/* test_course_keys.c: keys of the bundled courses that were once wrong or
 * arguable stay fixed, and every module quiz limits attempts and draws from
 * a pool larger than one attempt. */
#include <criterion/criterion.h>

#include "fixture.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "exercise.h"
#include "task.h"

static struct catalog *cat;
static struct diag_list diags;

static void setup(void)
{
    cat = fixture_catalog(SOURCE_DIR "/courses", &diags, true);
}

static void teardown(void)
{
    catalog_unref(cat);
    diag_list_clear(&diags);
}

TestSuite(keys, .init = setup, .fini = teardown, .timeout = 120);

static const struct exercise *exercise(const char *full_id)
{
    const struct lesson *l = catalog_lesson(cat, full_id);
    cr_assert_not_null(l, "%s", full_id);
    cr_assert_not_null(l->exercise, "%s", full_id);
    return l->exercise;
}

static const struct task *task(const char *full_id, const char *id)
{
    const struct task *t = exercise_task(exercise(full_id), id);
    cr_assert_not_null(t, "%s %s", full_id, id);
    return t;
}

/* The item whose text holds part; fails when none does. */
static const struct task_item *item(const struct task *t, const char *part)
{
    for (size_t i = 0; i < t->nitems; i++)
        if (strstr(t->items[i].text, part))
            return &t->items[i];
    cr_assert_fail("task %s has no item with \"%s\"", t->id, part);
    return NULL;
}

/* A question named name in any gift or pool task of the exercise. */
static const struct gift_question *question(const char *full_id, const char *name)
{
    const struct exercise *ex = exercise(full_id);
    for (size_t i = 0; i < ex->ntasks; i++)
        for (size_t k = 0; k < ex->tasks[i]->quiz.n; k++) {
            const struct gift_question *q = &ex->tasks[i]->quiz.q[k];
            if (q->name && strcmp(q->name, name) == 0)
                return q;
        }
    cr_assert_fail("%s has no question %s", full_id, name);
    return NULL;
}

static double grade_question(const struct gift_question *q, const char *answer)
{
    size_t order[26];
    struct gift_grade g;
    char err[200];
    gift_choice_order(q, 0, false, order);
    cr_assert_eq(gift_grade(q, order, answer, &g, err, sizeof(err)), 0, "%s", err);
    free(g.feedback);
    return g.score;
}

Test(keys, ethiopia_support_institutions_are_inside_the_cluster)
{
    const struct task *t = task("cluster-development/ethiopia-oilseeds", "swot");
    cr_assert_str_eq(item(t, "support institutions")->category, "weakness");
    for (size_t i = 0; i < t->nitems; i++)
        if (strstr(t->items[i].text, "institution"))
            cr_expect_str_neq(t->items[i].category, "opportunity", "%s", t->items[i].text);
}

Test(keys, montenegro_strands_are_not_an_order)
{
    const struct exercise *ex = exercise("cluster-development/montenegro-strategy");
    for (size_t i = 0; i < ex->ntasks; i++)
        cr_expect_neq(ex->tasks[i]->type, TASK_ORDER, "%s", ex->tasks[i]->id);
    const struct task *t = task("cluster-development/montenegro-strategy", "strands");
    cr_assert_eq(t->type, TASK_GIFT);
    cr_assert_eq(t->quiz.q[0].type, GIFT_MULTI);
}

Test(keys, medina_more_than_thirty_consortia)
{
    const struct task *t = task("cluster-development/medina-dakar", "consortia-per-cda");
    cr_assert(strstr(t->prompt, "more than thirty"), "%s", t->prompt);
    cr_assert_float_eq(t->expected, 3.1, 1e-9);
    cr_assert(t->tol < 0.1);
    cr_assert(strstr(t->feedback, "more than 3"), "%s", t->feedback);
}

Test(keys, atuntaqui_networks_were_facilitated_by_the_agent)
{
    const struct task *t = task("cluster-development/atuntaqui-ambato", "joint-action");
    cr_assert_str_eq(item(t, "enterprise networks")->category, "agent");
}

Test(keys, turkey_broker_feedback_is_true_for_firm_i)
{
    const struct task *t = task("cluster-development/turkey-textiles", "broker");
    cr_assert_eq(t->nnames, 1);
    cr_assert_str_eq(t->names[0], "Firm D");
    cr_assert_null(strstr(t->feedback, "also reach each other through other paths"));
    cr_assert(strstr(t->feedback, "Firm I"), "%s", t->feedback);
}

Test(keys, value_chain_orders_have_one_right_order)
{
    static const char *const aci[] = { "co-fund a processor", "advise farmer groups",
                                       "offer nuts of higher quality", "processor buys",
                                       "households earn more" };
    static const char *const green[] = { "demonstration programmes", "piloted on three",
                                         "names priority interventions", "fed back",
                                         "scaled up" };
    const struct task *t = task("value-chains/african-cashew", "chain-order");
    cr_assert_eq(t->nitems, 5);
    for (size_t i = 0; i < 5; i++)
        cr_expect(strstr(t->items[i].text, aci[i]), "%zu: %s", i, t->items[i].text);
    t = task("value-chains/jabalpur-green-dairy", "green-steps");
    cr_assert_eq(t->nitems, 5);
    for (size_t i = 0; i < 5; i++)
        cr_expect(strstr(t->items[i].text, green[i]), "%zu: %s", i, t->items[i].text);
}

Test(keys, led_mou_kinds_agree)
{
    const struct task *t = task("led-foundations/workforce-partnership", "partnership-types");
    cr_assert_eq(t->ncats, 3);
    for (size_t i = 0; i < t->ncats; i++)
        cr_expect_null(strstr(t->cats[i].name, "Informal"), "%s", t->cats[i].name);
    cr_assert_str_eq(item(t, "without a contract")->category, "m");
    cr_assert_str_eq(item(t, "held together by trust")->category, "v");
    const struct gift_question *q = question("led-foundations/quiz-work-partnerships", "MOU");
    cr_assert_null(strstr(q->fb_wrong, "classes an MOU as informal"), "%s", q->fb_wrong);
    cr_assert(strstr(q->fb_wrong, "shared vision"), "%s", q->fb_wrong);
}

Test(keys, led_china_items_are_not_arguable)
{
    const struct task *t = task("led-foundations/piloting-led-in-china", "rural-or-urban");
    for (size_t i = 0; i < t->nitems; i++)
        cr_expect_null(strstr(t->items[i].text, "same economic activity"), "%s", t->items[i].text);
    cr_assert_str_eq(item(t, "one community")->category, "r");
}

/* "Cathedrals in the desert" is taught once, in the LED course; both
 * foundations quizzes ask a decision about an isolated investment instead of
 * the missing word: in file order the right option comes first. */
Test(keys, cathedrals_in_the_desert_is_a_decision_in_both_courses)
{
    const char *const quizzes[] = { "value-chains/quiz-foundations", "led-foundations/quiz-foundations" };
    for (size_t i = 0; i < 2; i++) {
        const struct gift_question *q = question(quizzes[i], "Cathedrals");
        cr_expect_float_eq(grade_question(q, "a"), 100, 1e-9, "%s", quizzes[i]);
        cr_expect_float_eq(grade_question(q, "b"), 0, 1e-9, "%s", quizzes[i]);
    }
}

Test(keys, ambato_plan_gives_no_lead_points_to_the_agent)
{
    const struct exercise *ex = exercise("cluster-development/atuntaqui-ambato");
    const struct task *t = task("cluster-development/atuntaqui-ambato", "ambato-plan");
    size_t lead = t->rubric.n;
    for (size_t i = 0; i < t->rubric.n; i++)
        if (strstr(t->rubric.concepts[i].name, "lead"))
            lead = i;
    cr_assert_lt(lead, t->rubric.n);
    struct rubric_verdict v;
    double model = rubric_grade(&t->rubric, t->model, &v);
    rubric_verdict_free(&v);
    cr_assert_float_eq(model, 100, 1e-9);
    const char *agent_leads =
        "Shoe firms in Ambato form an enterprise network to buy leather together and to share a "
        "stand at the national fair. The CDA will lead the work and choose what each member "
        "does, because the agent knows the market best. The local vocational school adapts a "
        "course on cutting so that workers of every firm can attend. Every six months the "
        "network will measure the price paid for leather and report it to the members.";
    double score = rubric_grade(&t->rubric, agent_leads, &v);
    cr_expect_neq(v.state[lead], RUBRIC_FOUND);
    cr_expect_lt(score, ex->pass, "%g", score);
    rubric_verdict_free(&v);
}

/* Every module ends with a quiz of at most 5 attempts whose graded questions
 * all sit in pools larger than one draw, and two attempts draw different
 * sets; the cluster course's capstone module ends with its capstone. */
Test(keys, module_quizzes_limit_attempts_and_draw_from_pools)
{
    size_t quizzes = 0;
    for (size_t c = 0; c < cat->ncourses; c++)
        for (size_t m = 0; m < cat->courses[c]->nmodules; m++) {
            const struct module *mod = cat->courses[c]->modules[m];
            if (strstr(mod->path, "-capstone"))
                continue;
            const struct exercise *ex = mod->lessons[mod->nlessons - 1]->exercise;
            cr_assert_not_null(ex, "%s", mod->path);
            quizzes++;
            cr_expect(ex->attempts >= 1 && ex->attempts <= 5, "%s: %d", ex->path, ex->attempts);
            size_t pools = 0;
            for (size_t i = 0; i < ex->ntasks; i++) {
                const struct task *t = ex->tasks[i];
                if (t->info)
                    continue;
                cr_expect_eq(t->type, TASK_POOL, "%s: %s", ex->path, t->id);
                if (t->type != TASK_POOL)
                    continue;
                pools++;
                cr_expect_leq(t->draw + 2, t->quiz.n, "%s", ex->path);
                size_t a[32], b[32];
                bool differ = false;
                cr_assert_leq(t->draw, 32);
                task_pool_draw(t, 1, a);
                for (uint64_t seed = 2; seed < 6 && !differ; seed++) {
                    task_pool_draw(t, seed, b);
                    for (size_t k = 0; k < t->draw && !differ; k++) {
                        bool in = false;
                        for (size_t j = 0; j < t->draw; j++)
                            in = in || a[j] == b[k];
                        differ = !in;
                    }
                }
                cr_expect(differ, "%s: every seed draws the same questions", ex->path);
            }
            cr_expect_eq(pools, 1, "%s", ex->path);
        }
    cr_assert_eq(quizzes, 16);
}

/* An answer pasted from the case study's own narrative scores 0. */
Test(keys, rubric_refuses_an_answer_copied_from_the_case)
{
    const struct task *t = task("cluster-development/ethiopia-oilseeds", "purchase-plan");
    const char *pasted =
        "Following the cluster method, the Cluster Development Agent (CDA) facilitated "
        "horizontal networking: links among producers who do the same work. The purpose was to "
        "encourage joint actions such as buying raw material together, producing oil together, "
        "testing oil together. Each of these lets small firms do what none of them can afford "
        "alone: bargain for better seed prices, use larger equipment, pay for quality tests.";
    struct rubric_verdict v;
    double score = rubric_grade(&t->rubric, pasted, &v);
    cr_expect_float_eq(score, 0, 1e-9);
    cr_expect(v.rejected && strstr(v.rejected, "task's own text"), "%s",
              v.rejected ? v.rejected : "(not rejected)");
    rubric_verdict_free(&v);
}
