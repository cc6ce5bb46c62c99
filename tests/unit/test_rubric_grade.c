/* test_rubric_grade.c: free-text grading as a learner meets it: sentences,
 * windows, contradictions, negation, and answers refused for their shape. */
#include <criterion/criterion.h>

#include "fixture.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "task.h"

/* A cluster-agent rubric in the course's terms: the firms act together, a
 * local body leads, the agent brokers and never buys for the firms. */
#define PLAN                                                                                \
    "id: plan\ntype: rubric\n"                                                              \
    "prompt: Describe one joint action for the shoe cluster, who leads it, and what the "  \
    "cluster development agent does to help it start.\n"                                    \
    "points: 10\n"                                                                          \
    "concepts:\n"                                                                           \
    "  - name: joint action\n    points: 4\n"                                               \
    "    words: [joint action, buy ... together, shared equipment, achat groupé, "         \
    "compra conjunta]\n"                                                                    \
    "    against: [buy equipment for each firm, each firm ... on its own]\n"               \
    "  - name: local lead\n    points: 3\n"                                                 \
    "    words: [association ... lead, firms ... lead, association ... dirige, "           \
    "asociación ... dirige]\n"                                                              \
    "    against: [agent ... lead]\n"                                                       \
    "  - name: brokering\n    points: 3\n"                                                  \
    "    words: [agent ... broker, agent ... connect, agent ... met en relation, "         \
    "agente ... conecta]\n"                                                                 \
    "against:\n"                                                                            \
    "  - words: [agent ... buy ... equipment, agent ... pays for]\n"                        \
    "    cost: 5\n"                                                                         \
    "    why: The agent facilitates; firms buy their own equipment.\n"

#define MODEL                                                                               \
    "The shoe firms will buy leather together as a joint action, so that each order is "   \
    "larger and cheaper. Their business association will lead the purchase and keep the "   \
    "accounts open to every member. The agent helps to broker the first meeting with "     \
    "suppliers and then steps back, because the activity must belong to the firms."

struct rubric_case {
    const char *what;
    const char *answer;
    double score;
    const char *feedback;   /* a part of the feedback, or NULL */
};

static const struct rubric_case plan_cases[] = {
    { "model answer", MODEL, 100, "Found: joint action, local lead, brokering." },
    { "model, saying what the agent must not do",
      MODEL " The agent never buys equipment for the firms, and it does not pay for it.", 100,
      NULL },
    /* contradictions: a concept's own against, and the task's against with a cost */
    { "buying for each firm",
      "The agent should buy equipment for each firm on its own, which we may call a joint "
      "action. The association will lead the paperwork for the purchases of all members. The "
      "agent helps to broker meetings with suppliers in the region and reports on them.",
      10, "Contradicted: joint action (\"buy equipment for each firm\")" },
    { "the task's contradiction costs its points",
      "The shoe firms will buy leather together as a joint action, so orders are larger. The "
      "association will lead the purchase for its members. The agent helps to broker the "
      "meeting, and later the agent will buy the cutting equipment with project money.",
      50, "Contradiction (-5 points): The agent facilitates; firms buy their own equipment." },
    { "the agent leads, against the rule that activities are led locally",
      "The shoe firms will buy leather together as a joint action, so that orders are larger "
      "and cheaper. The agent will lead the whole purchase and sign for the members. The "
      "association watches and the firms wait for the results of the work.",
      40, "Contradicted: local lead (\"agent ... lead\")" },
    /* negation within the sentence of a concept phrase */
    { "negated joint action",
      "The shoe firms will not buy leather together, and each one keeps its own supplier for "
      "now. Their business association will lead a study of prices for every member. The "
      "agent helps to broker the first meeting with suppliers in the town.",
      60, "Contradicted: joint action (\"negated: buy ... together\")" },
    { "negation inside the gap of a pattern",
      "The shoe firms will buy leather together as a joint action so that orders grow. The "
      "association does not lead anything, because nobody there has time for the work. The "
      "agent helps to broker the first meeting with suppliers in the town.",
      70, "Contradicted: local lead" },
    { "\"not only\" is no negation",
      "The shoe firms will not only buy leather together as a joint action but also share a "
      "stand at the fair. Their business association will lead the purchase for every member. "
      "The agent helps to broker the first meeting with suppliers in the town.",
      100, NULL },
    { "a negation in another sentence does not count",
      "No firm wanted this at first. The shoe firms will buy leather together as a joint "
      "action so that each order grows. Their business association will lead the purchase. "
      "The agent helps to broker the first meeting with suppliers of the region.",
      100, NULL },
    /* proximity: the words of a phrase or pattern split across sentences */
    { "pattern split across sentences",
      "Each shoe firm wants to buy. Together with the mayor they speak about prices and about "
      "the market for a long time. Their business association will lead the talks for every "
      "member. The agent helps to broker the first meeting with suppliers.",
      60, "Missing: joint action." },
    { "phrase split across sentences",
      "The firms plan something joint. Action follows later, when the leather prices are known "
      "to every workshop in the town. Their business association will lead that work. The "
      "agent helps to broker the first meeting with suppliers.",
      60, "Missing: joint action." },
    /* answers refused for their shape */
    { "keywords only",
      "joint action buy together shared equipment association lead firms lead agent broker "
      "agent connect joint action shared equipment association lead agent broker buy together "
      "joint action association agent broker",
      0, "list of keywords" },
    { "keywords with filler but no sentences",
      "joint action leather shoes association lead agent broker market prices supplier "
      "training quality design export leather cutting sewing soles glue fair stand catalogue "
      "brand town workshop members region orders",
      0, "list of keywords" },
    { "repeated words",
      "The firms buy together and the firms buy together and the firms buy together and the "
      "association will lead and the association will lead and the agent will broker and the "
      "agent will broker and the firms buy together and the association will lead it.",
      0, "repeats the same words" },
    { "copied task text",
      "Describe one joint action for the shoe cluster, who leads it, and what the cluster "
      "development agent does to help it start. Joint action, association lead, agent broker.",
      0, "task's own text" },
    { "too few words of its own",
      "The association will lead a joint action and the agent will broker it.", 0,
      "too short" },
    { "empty", "   ", 0, "no answer" },
    /* French and Spanish, accents folded as in English */
    { "French with accents",
      "Les cordonniers de la ville font un achat groupé de cuir pour payer moins cher et "
      "recevoir plus vite. L'association des fabricants dirige les commandes et tient les "
      "comptes pour tous. L'agent met en relation les membres avec les fournisseurs de la "
      "région, puis il se retire.",
      100, NULL },
    { "French without accents",
      "Les cordonniers de la ville font un ACHAT GROUPE de cuir pour payer moins cher et "
      "recevoir plus vite. L'association des fabricants dirige les commandes et tient les "
      "comptes pour tous. L'agent met en relation les membres avec les fournisseurs de la "
      "region, puis il se retire.",
      100, NULL },
    { "French ne ... pas",
      "Les cordonniers de la ville ne font pas d'achat groupé de cuir, chacun garde son "
      "fournisseur. L'association des fabricants dirige les commandes et tient les comptes "
      "pour tous. L'agent met en relation les membres avec les fournisseurs de la région, puis "
      "il se retire.",
      60, "Contradicted: joint action" },
    { "Spanish with accents",
      "Los zapateros de Ambato hacen una compra conjunta de cuero para pagar menos y recibir "
      "antes. La asociación de fabricantes dirige los pedidos y lleva las cuentas para todos. "
      "El agente conecta a los socios con los proveedores de la región y después se retira.",
      100, NULL },
    { "Spanish sin accents, with no",
      "Los zapateros de Ambato no hacen una compra conjunta de cuero, cada uno compra solo. "
      "La asociacion de fabricantes dirige los pedidos y lleva las cuentas para todos. El "
      "agente conecta a los socios con los proveedores de la region y despues se retira.",
      60, "Contradicted: joint action" },
};

static struct task *parse_ok(const char *yaml)
{
    return fixture_task(yaml, 1, NULL, 0);
}

static void run_cases(const char *yaml, const struct rubric_case *cases, size_t n)
{
    struct task *t = parse_ok(yaml);
    for (size_t i = 0; i < n; i++) {
        struct rubric_verdict v;
        double score = rubric_grade(&t->rubric, cases[i].answer, &v);
        char *fb = rubric_feedback(&t->rubric, &v);
        cr_expect_float_eq(score, cases[i].score, 1e-9, "%s: scored %g (%s)", cases[i].what, score,
                           fb);
        if (cases[i].feedback)
            cr_expect(strstr(fb, cases[i].feedback) != NULL, "%s: feedback %s", cases[i].what, fb);
        free(fb);
        rubric_verdict_free(&v);
    }
    task_free(t);
}

Test(rubric_grade, cluster_plan_table)
{
    run_cases(PLAN, plan_cases, sizeof(plan_cases) / sizeof(plan_cases[0]));
}

/* A window of N words replaces the sentence as the reach of a pattern. */
static const struct rubric_case window_cases[] = {
    { "within the window", "Firms buy leather together.", 100, NULL },
    { "beyond the window", "Firms buy leather and thread and soles and glue together.", 0, NULL },
    { "across sentences, within the window", "Firms buy. Together.", 100, NULL },
};

Test(rubric_grade, window)
{
    run_cases("id: w\ntype: rubric\nprompt: p\nmin_words: 0\nwindow: 4\nconcepts:\n"
              "  - name: buying\n    points: 1\n    words: [buy ... together]\n",
              window_cases, sizeof(window_cases) / sizeof(window_cases[0]));
}

/* min_words counts words that are not concept words. */
static const struct rubric_case min_cases[] = {
    { "three own words", "Trust grows slowly here.", 100, NULL },
    { "two own words", "Trust grows slowly.", 0, "2 words of your own, 3 needed" },
    { "the concept word repeated does not count", "Trust trust trust trust grows.", 0,
      "too short" },
};

Test(rubric_grade, min_words)
{
    run_cases("id: m\ntype: rubric\nprompt: p\nmin_words: 3\nconcepts:\n"
              "  - name: trust\n    points: 1\n    words: [trust]\n",
              min_cases, sizeof(min_cases) / sizeof(min_cases[0]));
}

static const struct { const char *word, *prev; bool neg; } negations[] = {
    { "not", NULL, true }, { "never", "will", true }, { "no", NULL, true },
    { "without", NULL, true }, { "t", "don", true }, { "t", "isn", true }, { "t", "that", false },
    { "ne", NULL, true }, { "pas", "font", true }, { "sans", NULL, true },
    { "jamais", NULL, true }, { "nunca", NULL, true }, { "sin", NULL, true },
    { "note", NULL, false }, { "know", NULL, false }, { "nothing", NULL, true },
    { "plus", NULL, false }, { "and", NULL, false },
};

Test(rubric_grade, negation_words)
{
    for (size_t i = 0; i < sizeof(negations) / sizeof(negations[0]); i++)
        cr_expect_eq(rubric_negation(negations[i].word, negations[i].prev), negations[i].neg,
                     "%s", negations[i].word);
}

Test(rubric_grade, keys_parse_and_errors)
{
    struct task *t = parse_ok(PLAN "window: 12\nmin_words: 30\nmodel: " MODEL "\n"
                                   "bad:\n  - one\n  - two\n");
    cr_assert_eq(t->rubric.window, 12);
    cr_assert_eq(t->rubric.min_words, 30);
    cr_assert_eq(t->rubric.nagainst, 1);
    cr_assert_float_eq(t->rubric.against[0].cost, 5, 1e-9);
    cr_assert_eq(t->rubric.concepts[0].nagainst, 2);
    cr_assert_eq(t->nbad, 2);
    cr_assert_eq(t->bad_lines[1], t->bad_lines[0] + 1);
    cr_assert_str_eq(t->model, MODEL);
    task_free(t);

    static const char *const wrong[] = {
        "id: x\ntype: rubric\nprompt: p\nwindow: -1\nconcepts:\n  - name: a\n    words: [a]\n",
        "id: x\ntype: rubric\nprompt: p\nmin_words: 2.5\nconcepts:\n  - name: a\n    words: [a]\n",
        "id: x\ntype: rubric\nprompt: p\nagainst: [a]\nconcepts:\n  - name: a\n    words: [a]\n",
        "id: x\ntype: rubric\nprompt: p\nagainst:\n  - words: [b]\n    cost: -1\n"
        "concepts:\n  - name: a\n    words: [a]\n",
        "id: x\ntype: rubric\nprompt: p\nbad: [\"\"]\nconcepts:\n  - name: a\n    words: [a]\n",
        "id: x\ntype: rubric\nprompt: p\nconcepts:\n  - name: a\n    words: [a]\n    against: {}\n",
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        struct diag_list d = {0};
        struct task *bad = task_parse(wrong[i], strlen(wrong[i]), 1, "t.case.md", NULL, 0, &d);
        cr_expect_null(bad, "%s", wrong[i]);
        cr_expect_gt(d.errors, 0, "%s", wrong[i]);
        task_free(bad);
        diag_list_clear(&d);
    }
}

/* A 1 MiB answer of one endless sentence, full of the first words of the
 * patterns, is graded quickly: only RUBRIC_WORDS_MAX words are read and a
 * match spans at most RUBRIC_SPAN_MAX words. */
Test(rubric_grade, pathological_answer_is_bounded, .timeout = 5)
{
    struct task *t = parse_ok(PLAN);
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = "agent each firm buy association "[i % 32];
    big[n] = '\0';
    struct rubric_verdict v;
    double score = rubric_grade(&t->rubric, big, &v);
    cr_expect_float_eq(score, 0, 1e-9);
    cr_expect_not_null(v.rejected);
    rubric_verdict_free(&v);
    task_free(t);
    /* Without the shape checks every pattern is looked for in it. */
    t = parse_ok(PLAN "min_words: 0\n");
    rubric_grade(&t->rubric, big, &v);
    cr_expect_null(v.rejected);
    rubric_verdict_free(&v);
    free(big);
    task_free(t);
}
