/* test_grade_exercise.c: exercises: settings, views, grading, self-check. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "diag.h"
#include "exercise.h"
#include "table.h"

/* A fixture exercise: front matter, blocks, tables (CSV). */
struct fixture {
    const char *name;
    const char *front;
    struct exercise_block blocks[12];
    size_t nblocks;
    const char *tables[3][2]; /* name, csv */
};

#define GIFT(text, line) { EXERCISE_BLOCK_GIFT, text, sizeof(text) - 1, line }
#define TASK(text, line) { EXERCISE_BLOCK_TASK, text, sizeof(text) - 1, line }

static const struct fixture quiz = {
    "quiz",
    "title: Phases quiz\nminutes: 10\nattempts: 3\npass: 70\npolicy: last\nreveal: never\n",
    {
        GIFT("You may use your notes.\n\n"
             "::Phases::Which phase comes first in cluster development? {\n"
             "  =Selection of the cluster #Everything starts with choosing where to work.\n"
             "  ~Diagnostic study #The diagnostic comes after the selection.\n"
             "  ~%30%Choice of the agent #Close, the agent comes second.\n"
             "}\n\n"
             "Clusters are geographic concentrations of firms.{TRUE#Look at Porter again.#Quite right.}\n\n"
             "Name the person who runs the programme. {=cluster development agent#Exactly. "
             "=%50%facilitator#Partly.}\n", 12),
        GIFT("How many phases has the intervention? {#6:0 ~#Count them in the handout.}\n\n"
             "Which are sources of collective efficiency? {\n"
             "  ~%50%Joint action #Deliberate cooperation.\n"
             "  ~%50%External economies #Passive gains.\n"
             "  ~%-100%Subsidies #Not a source.\n"
             "####Collective efficiency has a passive and an active part.}\n\n"
             "Match the phases with their products. {\n"
             "  =Diagnostic -> a shared picture\n"
             "  =Strategy -> a vision\n"
             "  =Action -> pilot projects\n"
             "}\n\n"
             "Describe a cluster you know. {}\n", 30),
    },
    2,
    { { NULL, NULL } },
};

static const struct fixture case_study = {
    "case",
    "title: Weavers of Kano\nminutes: 40\nattempts: 0\npass: 60\nshuffle: true\n",
    {
        TASK("id: phases\ntype: order\nprompt: Put the phases in order.\nitems:\n"
             "  - Selection of the cluster\n  - Choice of the agent\n  - Diagnostic study\n"
             "  - Strategy and vision\nfeedback: The agent needs a mandate before the diagnostic.\n", 20),
        TASK("id: swot\ntype: classify\nprompt: Sort these findings.\nweight: 2\n"
             "categories: {s: Strength, w: Weakness, o: Opportunity, t: Threat}\nitems:\n"
             "  - text: Two hundred firms within ten kilometres\n    answer: s\n"
             "    feedback: Proximity is the basis of collective efficiency.\n"
             "  - text: Buyers ask for certified cotton\n    answer: o\n"
             "  - text: Nobody shares orders\n    answer: w\n    feedback: Distrust is internal.\n"
             "  - text: Cheap imported cloth\n    answer: t\n", 30),
        TASK("id: share\ntype: numeric\nprompt: What share of the beneficiaries were producers?\n"
             "compute: 100 * value(people.count, producers) / sum(people.count)\n"
             "tolerance: 1\nunit: \"%\"\nfeedback: Divide producers by all direct beneficiaries.\n", 45),
        TASK("id: broker\ntype: network\ntable: links\nquestion: broker\n"
             "prompt: Which firm brokers between the others?\n"
             "feedback: Look for the firm on most shortest paths.\n", 55),
        TASK("id: density\ntype: network\ntable: links\nquestion: density\n"
             "prompt: How dense is the network?\ntolerance: 0.01\n", 62),
        TASK("id: action\ntype: rubric\nprompt: Name one element of the action plan.\npoints: 10\n"
             "min_words: 0\nmodel: A development agent helps the firms build mutual trust through a "
             "joint action.\nconcepts:\n  - name: joint action\n    points: 4\n"
             "    words: [joint action, collective action, common project]\n"
             "  - name: lead actor\n    points: 3\n    words: [development agent, business association]\n"
             "  - name: trust\n    points: 3\n    words: [mutual trust]\n"
             "feedback: A plan names what is done together and who leads it.\n", 70),
        TASK("id: reflection\ntype: review\nprompt: Write a half-page note to the mayor.\npoints: 10\n", 85),
        TASK("id: q-trust\ntype: gift\nquestion: |\n  Trust among firms grows fastest through "
             "{=small joint projects#Small wins build trust. ~large loans#Loans do not build trust.}.\n", 90),
        TASK("id: draw\ntype: pool\ndraw: 2\nquestions: |\n"
             "  ::a:: Cooperation needs a broker. {TRUE#Think of the agent.#Indeed.}\n\n"
             "  ::b:: How many firms make a cluster at least? {#2..1000000 ~#Any number above one.}\n\n"
             "  ::c:: Porter's diamond has how many corners? {#4:0#Four corners indeed.}\n\n"
             "  ::d:: Name the Italian district model. {=Marshallian district#Yes, after Marshall.}\n", 95),
    },
    9,
    {
        { "people", "group,count\nproducers,46\ntraders,4\n" },
        { "links", "from,to\nSpinner Ade,Weaver Bola\nWeaver Bola,Exporter Chike\n"
                   "Weaver Bola,Dyer Dayo\nDyer Dayo,Exporter Chike\n" },
        { NULL, NULL },
    },
};

/* A built fixture with the tables it borrows. */
struct built {
    struct exercise *ex;
    struct table *tables[3];
    const struct table *ctables[3];
    size_t ntables;
};

static struct built build(const struct fixture *f, struct diag_list *d)
{
    struct built b = {0};
    for (size_t i = 0; i < 3 && f->tables[i][0]; i++) {
        char err[200];
        int line;
        b.tables[i] = table_parse(f->tables[i][0], f->tables[i][1], strlen(f->tables[i][1]), 1,
                                  err, sizeof(err), &line);
        cr_assert_not_null(b.tables[i], "%s", err);
        b.ctables[i] = b.tables[i];
        b.ntables++;
    }
    struct exercise_src src = {
        .path = "courses/c/01-m/02-x.case.md", .course_id = "c", .exercise_id = f->name,
        .title = "Fixture", .front_matter = f->front, .front_matter_len = strlen(f->front),
        .front_matter_line = 2, .blocks = f->blocks, .nblocks = f->nblocks,
        .tables = b.ctables, .ntables = b.ntables,
    };
    b.ex = exercise_build(&src, d);
    return b;
}

static void unbuild(struct built *b)
{
    exercise_free(b->ex);
    for (size_t i = 0; i < b->ntables; i++)
        table_free(b->tables[i]);
}

static struct built build_ok(const struct fixture *f)
{
    struct diag_list d = {0};
    struct built b = build(f, &d);
    if (b.ex == NULL)
        diag_print(&d, stderr);
    cr_assert_not_null(b.ex, "fixture %s", f->name);
    diag_list_clear(&d);
    return b;
}

static const struct fixture *const fixtures[] = { &quiz, &case_study };

Test(exercise, settings_from_front_matter_and_defaults)
{
    struct built q = build_ok(&quiz), c = build_ok(&case_study);
    cr_assert_eq(exercise_attempts(q.ex), 3);
    cr_assert_float_eq(exercise_pass(q.ex), 70, 1e-9);
    cr_assert_eq(exercise_policy(q.ex), EXERCISE_POLICY_LAST);
    cr_assert_eq(exercise_reveal(q.ex), EXERCISE_REVEAL_NEVER);
    cr_assert_float_eq(exercise_weight(q.ex), 1, 1e-9);
    cr_assert_eq(exercise_attempts(c.ex), 0);
    cr_assert_eq(exercise_policy(c.ex), EXERCISE_POLICY_BEST);
    cr_assert_eq(exercise_reveal(c.ex), EXERCISE_REVEAL_AFTER_PASS);
    /* Gift questions are numbered; the description is not. */
    cr_assert_not_null(exercise_task(q.ex, "q1"));
    cr_assert_not_null(exercise_task(q.ex, "q7"));
    cr_assert_null(exercise_task(q.ex, "q8"));
    cr_assert_eq(exercise_task(q.ex, "q1")->line, 14);
    cr_assert_eq(exercise_task(q.ex, "q4")->line, 30);
    cr_assert_eq(exercise_task(c.ex, "swot")->line, 30);
    unbuild(&q);
    unbuild(&c);
}

static const char *const bad_settings[][2] = {
    { "title: x\npass: 150\n", "pass" },
    { "title: x\nattempts: -1\n", "attempts" },
    { "title: x\nattempts: many\n", "attempts" },
    { "title: x\npolicy: worst\n", "policy" },
    { "title: x\nreveal: sometimes\n", "reveal" },
    { "title: x\nshuffle: perhaps\n", "shuffle" },
    { "title: x\nweight: -2\n", "weight" },
};

Test(exercise, bad_settings_reported_at_their_line)
{
    for (size_t i = 0; i < sizeof(bad_settings) / sizeof(bad_settings[0]); i++) {
        struct fixture f = quiz;
        f.front = bad_settings[i][0];
        struct diag_list d = {0};
        struct built b = build(&f, &d);
        cr_expect_null(b.ex, "%s", f.front);
        cr_assert_eq(d.errors, 1);
        cr_expect_eq(d.items[0].line, 3, "%s: line %d", f.front, d.items[0].line);
        cr_expect(strstr(d.items[0].msg, bad_settings[i][1]) != NULL, "%s", d.items[0].msg);
        unbuild(&b);
        diag_list_clear(&d);
    }
}

Test(exercise, build_errors_keep_their_lines)
{
    struct fixture f = case_study;
    f.blocks[1] = (struct exercise_block)TASK("id: phases\ntype: review\nprompt: again\n", 30);
    f.blocks[3] = (struct exercise_block)TASK("id: broker\ntype: network\ntable: nodes\n"
                                              "question: broker\nprompt: p\n", 55);
    struct diag_list d = {0};
    struct built b = build(&f, &d);
    cr_assert_null(b.ex);
    cr_assert_eq(d.errors, 2);
    cr_expect_eq(d.items[0].line, 30);
    cr_expect(strstr(d.items[0].msg, "used twice") != NULL, "%s", d.items[0].msg);
    cr_expect_eq(d.items[1].line, 57);
    unbuild(&b);
    diag_list_clear(&d);

    struct fixture empty = { "empty", "title: e\n", { GIFT("Only a description.\n", 5) }, 1,
                             { { NULL, NULL } } };
    b = build(&empty, &d);
    cr_assert_null(b.ex);
    cr_assert_eq(d.errors, 1);
    cr_expect_eq(d.items[0].line, 5);
    diag_list_clear(&d);
}

Test(exercise, fixtures_pass_self_check)
{
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        struct built b = build_ok(fixtures[i]);
        struct diag_list d = {0};
        int rc = exercise_self_check(b.ex, &d);
        if (rc)
            diag_print(&d, stderr);
        cr_expect_eq(rc, 0, "fixture %s", fixtures[i]->name);
        cr_expect_eq(d.errors, 0);
        diag_list_clear(&d);
        unbuild(&b);
    }
}

Test(exercise, self_check_catches_keys_that_cannot_score)
{
    struct fixture f = {
        "broken", "title: b\n",
        {
            TASK("id: fine\ntype: numeric\nprompt: p\nanswer: 3\n", 10),
            TASK("id: punct\ntype: rubric\nmodel: '!!!'\nprompt: p\nconcepts:\n  - name: bang\n"
                 "    points: 1\n    words: ['!!!']\n", 20),
        },
        2, { { NULL, NULL } },
    };
    struct built b = build_ok(&f);
    struct diag_list d = {0};
    cr_assert_eq(exercise_self_check(b.ex, &d), -1);
    cr_assert_eq(d.errors, 1);
    cr_assert_eq(d.items[0].line, 22, "%d", d.items[0].line); /* the line of its model */
    cr_assert(strstr(d.items[0].msg, "punct") != NULL, "%s", d.items[0].msg);
    diag_list_clear(&d);
    unbuild(&b);

    struct fixture g = {
        "comma", "title: c\n",
        { TASK("id: iso\ntype: network\ntable: links\nquestion: isolated\nprompt: p\n", 40) },
        1, { { "links", "from,to\nA,B\n\"Smith, J\",\n" }, { NULL, NULL } },
    };
    b = build_ok(&g);
    cr_assert_eq(exercise_self_check(b.ex, &d), -1);
    cr_assert_eq(d.items[0].line, 40);
    diag_list_clear(&d);
    unbuild(&b);
}

/* Collects the strings a learner must never see before grading. */
static void add_secret(const char ***v, size_t *n, const char *s)
{
    if (s == NULL || strlen(s) < 3)
        return;
    *v = realloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = s;
}

/* feedback_only: only feedback texts (for real courses, whose keys may
 * rightly appear in other questions' texts). */
static size_t secrets_of(const struct exercise *ex, const char ***out, char numbers[][32],
                         bool feedback_only)
{
    const char **v = NULL;
    size_t n = 0, nn = 0;
    for (size_t i = 0; i < ex->ntasks; i++) {
        const struct task *t = ex->tasks[i];
        add_secret(&v, &n, t->feedback);
        for (size_t k = 0; k < t->nitems; k++)
            add_secret(&v, &n, t->items[k].feedback);
        for (size_t q = 0; q < t->quiz.n; q++) {
            const struct gift_question *g = &t->quiz.q[q];
            add_secret(&v, &n, g->general_feedback);
            add_secret(&v, &n, g->fb_wrong);
            add_secret(&v, &n, g->fb_right);
            for (size_t a = 0; a < g->nanswers; a++) {
                add_secret(&v, &n, g->answers[a].feedback);
                if (g->type == GIFT_SHORT && !feedback_only)
                    add_secret(&v, &n, g->answers[a].text);
            }
        }
        /* Model answers and bad examples are long texts no view may hold. */
        if (t->model)
            add_secret(&v, &n, t->model);
        for (size_t k = 0; k < t->nbad; k++)
            add_secret(&v, &n, t->bad[k]);
        if (feedback_only)
            continue;
        for (size_t k = 0; k < t->nnames; k++)
            add_secret(&v, &n, t->names[k]);
        for (size_t c = 0; c < t->rubric.n; c++) {
            for (size_t k = 0; k < t->rubric.concepts[c].nwords; k++)
                add_secret(&v, &n, t->rubric.concepts[c].words[k]);
            for (size_t k = 0; k < t->rubric.concepts[c].nagainst; k++)
                add_secret(&v, &n, t->rubric.concepts[c].against[k]);
        }
        for (size_t c = 0; c < t->rubric.nagainst; c++)
            add_secret(&v, &n, t->rubric.against[c].why);
        if ((t->type == TASK_NUMERIC || t->type == TASK_NETWORK) && nn < 64) {
            snprintf(numbers[nn], 32, "%g", t->expected);
            add_secret(&v, &n, numbers[nn++]);
        }
    }
    *out = v;
    return n;
}

Test(exercise, learner_view_holds_no_keys_feedback_or_weights)
{
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        struct built b = build_ok(fixtures[i]);
        const char **secrets;
        char numbers[64][32];
        size_t ns = secrets_of(b.ex, &secrets, numbers, false);
        cr_assert_gt(ns, 8, "fixture %s has secrets to hide", fixtures[i]->name);
        for (uint64_t seed = 0; seed < 8; seed++) {
            char *views[2] = { exercise_view_text(b.ex, seed), exercise_view_json(b.ex, seed) };
            for (size_t v = 0; v < 2; v++) {
                for (size_t k = 0; k < ns; k++)
                    cr_expect(strstr(views[v], secrets[k]) == NULL, "fixture %s view %zu shows "
                              "\"%s\"", fixtures[i]->name, v, secrets[k]);
                static const char *const never[] = { "%30%", "%50%", "%-100%", "30%", "-100",
                                                     "\"feedback\"", "\"category\"", "####" };
                for (size_t k = 0; k < sizeof(never) / sizeof(never[0]); k++)
                    cr_expect(strstr(views[v], never[k]) == NULL, "fixture %s view %zu shows %s",
                              fixtures[i]->name, v, never[k]);
            }
            json_error_t jerr;
            json_t *j = json_loads(views[1], 0, &jerr);
            cr_assert_not_null(j, "view JSON: %s", jerr.text);
            cr_assert(json_is_array(json_object_get(j, "tasks")));
            json_decref(j);
            free(views[0]);
            free(views[1]);
        }
        free(secrets);
        unbuild(&b);
    }
}

Test(exercise, view_is_seeded_and_shows_what_is_needed)
{
    struct built b = build_ok(&case_study);
    char *a = exercise_view_text(b.ex, 11), *a2 = exercise_view_text(b.ex, 11);
    cr_assert_str_eq(a, a2);
    bool differ = false;
    for (uint64_t s = 12; s < 20 && !differ; s++) {
        char *o = exercise_view_text(b.ex, s);
        differ = strcmp(a, o) != 0;
        free(o);
    }
    cr_assert(differ);
    cr_assert(strstr(a, "[phases] Put the phases in order.") != NULL, "%s", a);
    cr_assert(strstr(a, "Buyers ask for certified cotton") != NULL);
    cr_assert(strstr(a, "s = Strength") != NULL);
    cr_assert(strstr(a, "[draw.1]") != NULL && strstr(a, "[draw.2]") != NULL);
    cr_assert(strstr(a, "[draw.3]") == NULL);
    cr_assert(strstr(a, "unit: %") != NULL);
    free(a);
    free(a2);
    unbuild(&b);
}

/* Finds the letter shown for an option text in the learner's JSON view. */
static char letter_of(const char *view_json, const char *task_id, const char *text)
{
    json_error_t e;
    json_t *j = json_loads(view_json, 0, &e);
    json_t *tasks = json_object_get(j, "tasks"), *t;
    size_t i;
    char found = '?';
    json_array_foreach(tasks, i, t) {
        if (!json_is_string(json_object_get(t, "id")) ||
            strcmp(json_string_value(json_object_get(t, "id")), task_id) != 0)
            continue;
        json_t *opt;
        size_t k;
        json_array_foreach(json_object_get(t, "options"), k, opt)
            if (strcmp(json_string_value(json_object_get(opt, "text")), text) == 0)
                found = json_string_value(json_object_get(opt, "key"))[0];
    }
    json_decref(j);
    return found;
}

Test(exercise, grading_a_quiz_through_the_learner_view)
{
    struct built b = build_ok(&quiz);
    uint64_t seed = 0xABCDEF;
    char *view = exercise_view_json(b.ex, seed);
    char doc[600];
    snprintf(doc, sizeof(doc),
             "q1: %c\nq2: true\nq3: Cluster Development Agent\nq4: 6\nq5: %c,%c\n"
             "q6: 1=%c 2=%c 3=%c\nq7: The weavers of Kano.\n",
             letter_of(view, "q1", "Selection of the cluster"),
             letter_of(view, "q5", "Joint action"), letter_of(view, "q5", "External economies"),
             letter_of(view, "q6", "a shared picture"), letter_of(view, "q6", "a vision"),
             letter_of(view, "q6", "pilot projects"));
    free(view);
    struct grade_result r;
    char err[300];
    cr_assert_eq(exercise_grade(b.ex, seed, doc, strlen(doc), &r, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(r.ntasks, 7);
    for (size_t i = 0; i < 6; i++)
        cr_expect_float_eq(r.tasks[i].score, 100, 1e-9, "%s: %s", r.tasks[i].id, doc);
    cr_assert(r.tasks[6].pending);
    cr_assert_eq(r.pending, 1);
    cr_assert_float_eq(r.score, 600.0 / 7, 1e-9);
    cr_assert_not(r.passed, "an essay is still pending");
    cr_assert_eq(grade_result_review(&r, "q7", 50, "Good start."), 0);
    cr_assert_eq(grade_result_review(&r, "q7", 50, NULL), -1, "already reviewed");
    cr_assert_float_eq(r.score, 650.0 / 7, 1e-9);
    cr_assert(r.passed);
    char *text = grade_result_text(&r, false);
    cr_assert(strstr(text, "passed") != NULL, "%s", text);
    cr_assert(strstr(text, "q7 50.0\n  Good start.") != NULL, "%s", text);
    cr_assert(strstr(text, "answer:") == NULL);
    free(text);
    grade_result_free(&r);
    unbuild(&b);
}

Test(exercise, weighted_mean_partial_credit_and_feedback)
{
    struct built b = build_ok(&case_study);
    uint64_t seed = 77;
    struct sbuf key = {0};
    for (size_t i = 0; i < b.ex->ntasks; i++)
        task_key_lines(b.ex->tasks[i], seed, b.ex->shuffle, &key);
    struct grade_result r;
    char err[300];
    cr_assert_eq(exercise_grade(b.ex, seed, key.data, key.len, &r, err, sizeof(err)), 0, "%s", err);
    /* Everything right but the pending review (weight 1 of 10). */
    cr_assert_float_eq(r.score, 90, 1e-9);
    cr_assert_eq(r.pending, 1);
    grade_result_free(&r);
    sbuf_free(&key);

    const char *doc = "share: 80 %\nbroker: weaver bola\naction: mutual trust and joint action\n"
                      "reflection: Dear mayor,\n  we need a road.\n";
    cr_assert_eq(exercise_grade(b.ex, seed, doc, strlen(doc), &r, err, sizeof(err)), 0, "%s", err);
    /* broker 100 + action 70 out of weights 1+2+1+1+1+1+1+1+1 = 10 */
    cr_assert_float_eq(r.score, 17, 1e-9);
    const struct grade_task *share = &r.tasks[2];
    cr_assert_str_eq(share->id, "share");
    cr_assert_str_eq(share->feedback, "Divide producers by all direct beneficiaries.");
    cr_assert_str_eq(share->key, "92 %");
    cr_assert_str_eq(r.tasks[5].feedback, "Found: joint action, trust. Missing: lead actor.\n"
                                          "A plan names what is done together and who leads it.");
    cr_assert_str_eq(r.tasks[6].response, "Dear mayor,\nwe need a road.");
    cr_assert_not(r.tasks[0].answered);
    char *json = grade_result_json(&r, true);
    json_error_t e;
    json_t *j = json_loads(json, 0, &e);
    cr_assert_not_null(j, "%s", e.text);
    cr_assert_float_eq(json_real_value(json_object_get(j, "score")), 17, 1e-9);
    json_t *t2 = json_array_get(json_object_get(j, "tasks"), 2);
    cr_assert_str_eq(json_string_value(json_object_get(t2, "key")), "92 %");
    json_decref(j);
    free(json);
    json = grade_result_json(&r, false);
    cr_assert(strstr(json, "\"key\"") == NULL);
    free(json);
    grade_result_free(&r);
    unbuild(&b);
}

static const char *const malformed_docs[][2] = {
    { "phases 1 2 3 4", "line 1" },
    { "nosuch: 3", "nosuch is not a task" },
    { "draw.3: true", "draw.3 is not a task" },
    { "share: lots", "share: expected a number" },
    { "phases: 1 1 2 3", "phases: expected the item numbers 1 to 4" },
    { "swot: x=1", "swot: expected a category key" },
    { "q-trust: 7", "q-trust: expected one letter from a to b" },
    { "density: dense", "density: expected a number" },
};

Test(exercise, malformed_documents_name_the_task_and_the_form)
{
    struct built b = build_ok(&case_study);
    for (size_t i = 0; i < sizeof(malformed_docs) / sizeof(malformed_docs[0]); i++) {
        struct grade_result r;
        char err[300] = "";
        const char *doc = malformed_docs[i][0];
        cr_expect_eq(exercise_grade(b.ex, 1, doc, strlen(doc), &r, err, sizeof(err)), -1, "%s", doc);
        cr_expect(strstr(err, malformed_docs[i][1]) != NULL, "%s: %s", doc, err);
    }
    unbuild(&b);
}

Test(exercise, policy_picks_the_attempt_that_counts)
{
    const double scores[] = { 40, 90, 65 };
    cr_assert_float_eq(exercise_policy_score(EXERCISE_POLICY_BEST, scores, 3), 90, 1e-9);
    cr_assert_float_eq(exercise_policy_score(EXERCISE_POLICY_LAST, scores, 3), 65, 1e-9);
    cr_assert_float_eq(exercise_policy_score(EXERCISE_POLICY_AVERAGE, scores, 3), 65, 1e-9);
    cr_assert_float_eq(exercise_policy_score(EXERCISE_POLICY_BEST, scores, 0), 0, 1e-9);
}

/* Every exercise of the bundled courses: its key scores full marks, and its
 * learner views hold none of its keys or feedback. */
Test(exercise, bundled_courses_self_check_and_hide_their_keys, .timeout = 120)
{
    struct diag_list d = {0};
    struct catalog *cat = catalog_load(SOURCE_DIR "/courses", &d);
    cr_assert_not_null(cat);
    size_t exercises = 0;
    for (size_t c = 0; c < cat->ncourses; c++) {
        const struct course *course = cat->courses[c];
        for (size_t l = 0; l < course->nlessons; l++) {
            const struct exercise *ex = course->lessons[l]->exercise;
            if (ex == NULL)
                continue;
            exercises++;
            struct diag_list sd = {0};
            cr_expect_eq(exercise_self_check(ex, &sd), 0, "%s", ex->path);
            diag_list_clear(&sd);
            const char **secrets;
            char numbers[64][32];
            size_t ns = secrets_of(ex, &secrets, numbers, true);
            for (uint64_t seed = 0; seed < 3; seed++) {
                char *views[2] = { exercise_view_text(ex, seed), exercise_view_json(ex, seed) };
                for (size_t v = 0; v < 2; v++)
                    for (size_t k = 0; k < ns; k++)
                        cr_expect(strstr(views[v], secrets[k]) == NULL, "%s shows \"%s\"",
                                  ex->path, secrets[k]);
                free(views[0]);
                free(views[1]);
            }
            free(secrets);
        }
    }
    cr_assert_gt(exercises, 10, "the bundled courses have exercises");
    catalog_unref(cat);
    diag_list_clear(&d);
}
