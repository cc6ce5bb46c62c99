/* test_grade_gift.c: grading GIFT answers, every type and edge. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "gift.h"

struct grade_case {
    const char *gift;    /* one question */
    const char *answer;  /* as typed, choices in file order (no shuffle) */
    double score;        /* expected, 0..100; -1: the answer is malformed */
    const char *feedback; /* expected inside the feedback, or NULL */
};

#define JESUS "Jesus Christ was from {~Jerusalem#Important, but wrong. ~%25%Bethlehem#Born here. " \
              "~%50%Galilee#More specific. =Nazareth#Yes!}."
#define JESUS_SA "Jesus Christ was from {=Nazareth#Yes! =%75%Nazereth#Misspelled. " \
                 "=%25%Bethlehem#Born here.}"
#define TOMB_MA "Who is in Grant's tomb? {~No one ~%50%Grant ~%50%Grant's wife ~Grant's father}"
#define TOMB_NEG "Who is in Grant's tomb? {~%-50%No one ~%50%Grant ~%50%Grant's wife " \
                 "~%-50%Grant's father}"
#define BORN "When was Grant born? {#=1822:0#Correct! =%50%1822:2#Close. ~#Far off.}"
#define PI_RANGE "Pi to 3 places? {#3.141..3.142}"
#define PI_TOL "Pi? {#3.1415:0.0005}"
#define CAPITALS "Capitals {=Canada -> Ottawa =Italy -> Rome =Japan -> Tokyo}"
#define DECIMAL_MA "Pick {~%33.333%a ~%33.333%b ~%33.334%c ~%-100%d}"

static const struct grade_case cases[] = {
    /* multiple choice, one right answer */
    { "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", "c", 100, NULL },
    { "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", "a", 0, NULL },
    { "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", "B", 0, NULL },
    { "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", " C ", 100, NULL },
    { "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", "d", -1, NULL },
    { "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", "ab", -1, NULL },
    { "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", "no one", -1, NULL },
    { "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", "", 0, NULL },
    { "Grant is {~buried =entombed ~living} in Grant's tomb.", "b", 100, NULL },
    { "Grant is {~buried =entombed ~living} in Grant's tomb.", "a", 0, NULL },
    { "Thanksgiving is on the {\n~second\n~third\n=fourth\n} Thursday.", "c", 100, NULL },
    { "Japanese characters came from? {\n~India\n=China\n~Korea\n~Egypt}", "b", 100, NULL },
    { "Japanese characters came from? {\n~India\n=China\n~Korea\n~Egypt}", "d", 0, NULL },
    /* partial credit on a one-answer question */
    { JESUS, "d", 100, "Yes!" },
    { JESUS, "c", 50, "More specific." },
    { JESUS, "b", 25, "Born here." },
    { JESUS, "a", 0, "Important, but wrong." },
    { "Difficult question.{~wrong answer ~%50%half credit answer =full credit answer}", "b", 50, NULL },
    { "Difficult question.{~wrong answer ~%50%half credit answer =full credit answer}", "c", 100, NULL },
    { "Negative {=right ~%-50%bad ~neutral}", "b", 0, NULL },
    { "Decimal {=right ~%12.5%close}", "b", 12.5, NULL },
    { "Explicit full {~%100%right ~wrong ~%0%other =also}", "a", 100, NULL },
    /* multiple answers */
    { TOMB_MA, "b,c", 100, NULL },
    { TOMB_MA, "c,b", 100, NULL },
    { TOMB_MA, "b", 50, NULL },
    { TOMB_MA, "b, c, d", 100, NULL },
    { TOMB_MA, "a", 0, NULL },
    { TOMB_MA, "a b c d", 100, NULL },
    { TOMB_MA, "b,e", -1, NULL },
    { TOMB_MA, "b;c", -1, NULL },
    { TOMB_NEG, "b,c", 100, NULL },
    { TOMB_NEG, "b,c,d", 50, NULL },
    { TOMB_NEG, "a,b", 0, NULL },
    { TOMB_NEG, "a,d", 0, NULL },
    { TOMB_NEG, "a,b,c,d", 0, NULL },
    { TOMB_NEG, "c", 50, NULL },
    { TOMB_NEG, "b,b", 50, NULL },
    { DECIMAL_MA, "a,b,c", 100, NULL },
    { DECIMAL_MA, "a", 33.333, NULL },
    { DECIMAL_MA, "a,b", 66.666, NULL },
    { DECIMAL_MA, "a,b,c,d", 0, NULL },
    { DECIMAL_MA, "c,d", 0, NULL },
    /* true/false */
    { "Grant is buried in Grant's tomb.{F}", "false", 100, NULL },
    { "Grant is buried in Grant's tomb.{F}", "true", 0, NULL },
    { "Grant is buried in Grant's tomb.{F}", "F", 100, NULL },
    { "The sun rises in the east.{T}", "true", 100, NULL },
    { "The sun rises in the east.{T}", "TRUE", 100, NULL },
    { "The sun rises in the east.{T}", "t", 100, NULL },
    { "The sun rises in the east.{T}", "yes", -1, NULL },
    { "The sun rises in the east.{TRUE#Look at a sunrise.#Right.}", "false", 0, "Look at a sunrise." },
    { "The sun rises in the east.{TRUE#Look at a sunrise.#Right.}", "true", 100, "Right." },
    { "Grant is buried in Grant's tomb.{FALSE#No one is buried there.}", "true", 0,
      "No one is buried there." },
    /* short answer */
    { "Who's buried in Grant's tomb?{=no one =nobody}", "no one", 100, NULL },
    { "Who's buried in Grant's tomb?{=no one =nobody}", "Nobody", 100, NULL },
    { "Who's buried in Grant's tomb?{=no one =nobody}", "  NO   ONE ", 100, NULL },
    { "Who's buried in Grant's tomb?{=no one =nobody}", "Grant", 0, NULL },
    { "Two plus two equals {=four =4}.", "4", 100, NULL },
    { "Two plus two equals {=four =4}.", "four.", 0, NULL },
    { JESUS_SA, "Nazareth", 100, "Yes!" },
    { JESUS_SA, "nazereth", 75, "Misspelled." },
    { JESUS_SA, "Bethlehem", 25, NULL },
    { JESUS_SA, "Rome", 0, NULL },
    { "Capital of Québec? {=Québec}", "québec", 100, NULL },
    { "Capital of Québec? {=Québec}", "QUÉBEC", 100, NULL },
    { "Capital of Québec? {=Québec}", "Quebec", 0, NULL },
    { "Moscow in Russian? {=Москва}", "МОСКВА", 100, NULL },
    { "Beijing in Chinese? {=北京}", "北京", 100, NULL },
    { "Beijing in Chinese? {=北京}", "南京", 0, NULL },
    { "Tokyo in Japanese? {=東京 =とうきょう}", "とうきょう", 100, NULL },
    { "Greek letter? {=Ω}", "ω", 100, NULL },
    { "Wildcard {=cluster*}", "clusters", 100, NULL },
    { "Wildcard {=cluster*}", "cluster", 100, NULL },
    { "Wildcard {=cluster*}", "a cluster", 0, NULL },
    { "Wildcard {=*agent*}", "the development agent here", 100, NULL },
    /* numerical */
    { "When was Ulysses S. Grant born? {#1822}", "1822", 100, NULL },
    { "When was Ulysses S. Grant born? {#1822}", "1823", 0, NULL },
    { "When was Ulysses S. Grant born? {#1822}", "1822.0", 100, NULL },
    { "When was Ulysses S. Grant born? {#1822}", "eighteen", -1, NULL },
    { "When was Ulysses S. Grant born? {#1822}", "1822 AD", -1, NULL },
    { "When was Ulysses S. Grant born?{#1822:1}", "1823", 100, NULL },
    { "When was Ulysses S. Grant born?{#1822:1}", "1821", 100, NULL },
    { "When was Ulysses S. Grant born?{#1822:1}", "1823.001", 0, NULL },
    { "When was Ulysses S. Grant born?{#1822:1}", "1820.999", 0, NULL },
    { PI_TOL, "3.1415", 100, NULL },
    { PI_TOL, "3.141", 100, NULL },      /* exactly at the lower boundary */
    { PI_TOL, "3.142", 100, NULL },      /* exactly at the upper boundary */
    { PI_TOL, "3.1409", 0, NULL },
    { PI_TOL, "3.1421", 0, NULL },
    { PI_TOL, "3,1416", 100, NULL },     /* decimal comma */
    { PI_RANGE, "3.141", 100, NULL },    /* range ends are inside */
    { PI_RANGE, "3.142", 100, NULL },
    { PI_RANGE, "3.1405", 0, NULL },
    { PI_RANGE, "3.1425", 0, NULL },
    { BORN, "1822", 100, "Correct!" },
    { BORN, "1824", 50, "Close." },
    { BORN, "1820", 50, NULL },
    { BORN, "1825", 0, "Far off." },
    { "Zero {#0:0.1}", "-0.1", 100, NULL },
    { "Zero {#0:0.1}", "0.1", 100, NULL },
    { "Zero {#0:0.1}", "0.10001", 0, NULL },
    { "Negative {#-5..-3}", "-3", 100, NULL },
    { "Negative {#-5..-3}", "-5", 100, NULL },
    { "Negative {#-5..-3}", "-2.9", 0, NULL },
    { "Large {#1e6:1000}", "1001000", 100, NULL },
    { "Large {#1e6:1000}", "1001000.5", 0, NULL },
    { "Exact tenth {#0.3}", "0.3", 100, NULL },
    { "Sum {#0.3:0.1}", "0.4", 100, NULL },
    { "Sum {#0.3:0.1}", "0.2", 100, NULL },
    /* matching */
    { CAPITALS, "1=a 2=b 3=c", 100, NULL },
    { CAPITALS, "1=a 2=c 3=b", 100.0 / 3, NULL },
    { CAPITALS, "1=b 2=a 3=c", 100.0 / 3, NULL },
    { CAPITALS, "1=c 2=a 3=b", 0, NULL },
    { CAPITALS, "1=a", 100.0 / 3, NULL },
    { CAPITALS, "3=c, 2=b, 1=a", 100, NULL },
    { CAPITALS, "1=a 1=b", -1, NULL },
    { CAPITALS, "4=a", -1, NULL },
    { CAPITALS, "1=d", -1, NULL },
    { CAPITALS, "1a", -1, NULL },
    { "Same capital {=Latium -> Rome =Italy -> Rome =France -> Paris}", "1=a 2=a 3=b", 100, NULL },
    { "With extra {=Canada -> Ottawa =Italy -> Rome = -> Paris =Japan -> Tokyo}", "1=a 2=b 3=d",
      100, NULL },
    { "With extra {=Canada -> Ottawa =Italy -> Rome = -> Paris =Japan -> Tokyo}", "1=a 2=b 3=c",
      200.0 / 3, NULL },
    /* general feedback is given whatever the answer */
    { "Q {=yes ~no ####Think about it.}", "b", 0, "Think about it." },
    { "Q {=yes ~no ####Think about it.}", "a", 100, "Think about it." },
};

Test(grade_gift, table)
{
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        const struct grade_case *c = &cases[i];
        struct gift_quiz quiz = {0};
        struct diag_list d = {0};
        int rc = gift_parse(c->gift, strlen(c->gift), 1, "g.md", &d, &quiz);
        cr_assert_eq(rc, 0, "case %zu: %s", i, c->gift);
        cr_assert_eq(quiz.n, 1);
        struct gift_question *q = &quiz.q[0];
        size_t order[26];
        gift_choice_order(q, 0, false, order);
        struct gift_grade g;
        char err[200] = "";
        rc = gift_grade(q, order, c->answer, &g, err, sizeof(err));
        if (c->score < 0) {
            cr_expect_eq(rc, -1, "case %zu (%s) should be malformed", i, c->answer);
            cr_expect_neq(err[0], '\0', "case %zu: no message", i);
        } else {
            cr_expect_eq(rc, 0, "case %zu (%s): %s", i, c->answer, err);
            if (rc == 0) {
                cr_expect_float_eq(g.score, c->score, 1e-6, "case %zu (%s): %g != %g", i,
                                   c->answer, g.score, c->score);
                if (c->feedback)
                    cr_expect(strstr(g.feedback, c->feedback) != NULL,
                              "case %zu: feedback \"%s\"", i, g.feedback);
                free(g.feedback);
            }
        }
        gift_quiz_free(&quiz);
        diag_list_clear(&d);
    }
    cr_log_info("%zu GIFT grading cases", n);
}

Test(grade_gift, essay_is_pending)
{
    struct gift_quiz quiz = {0};
    struct diag_list d = {0};
    const char *src = "Write about your cluster. {}";
    cr_assert_eq(gift_parse(src, strlen(src), 1, "g.md", &d, &quiz), 0);
    cr_assert_eq(quiz.q[0].type, GIFT_ESSAY);
    struct gift_grade g;
    char err[100];
    cr_assert_eq(gift_grade(&quiz.q[0], NULL, "Firms cooperate.", &g, err, sizeof(err)), 0);
    cr_assert(g.pending);
    cr_assert_null(gift_key_answer(&quiz.q[0], NULL));
    free(g.feedback);
    gift_quiz_free(&quiz);
}

/* The key of every question scores 100 in any shuffled order, and every
 * wrong option of a choice question scores below 100. */
Test(grade_gift, keys_score_full_in_shuffled_orders)
{
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        struct gift_quiz quiz = {0};
        struct diag_list d = {0};
        cr_assert_eq(gift_parse(cases[i].gift, strlen(cases[i].gift), 1, "g.md", &d, &quiz), 0);
        struct gift_question *q = &quiz.q[0];
        for (uint64_t seed = 1; seed < 6; seed++) {
            size_t order[26];
            gift_choice_order(q, seed * 7919, true, order);
            char *key = gift_key_answer(q, order);
            struct gift_grade g;
            char err[200];
            cr_assert_eq(gift_grade(q, order, key, &g, err, sizeof(err)), 0, "%s: %s", key, err);
            cr_expect_float_eq(g.score, 100, 1e-9, "case %zu key %s", i, key);
            free(g.feedback);
            free(key);
            if (q->type == GIFT_CHOICE)
                for (size_t p = 0; p < q->nanswers; p++) {
                    char letter[2] = { (char)('a' + p), 0 };
                    if (q->answers[order[p]].weight == 100)
                        continue;
                    cr_assert_eq(gift_grade(q, order, letter, &g, err, sizeof(err)), 0);
                    cr_expect_lt(g.score, 100);
                    free(g.feedback);
                }
        }
        gift_quiz_free(&quiz);
        diag_list_clear(&d);
    }
}

Test(grade_gift, same_seed_same_order_and_seeds_differ)
{
    struct gift_quiz quiz = {0};
    struct diag_list d = {0};
    const char *src = "Pick {=a ~b ~c ~d ~e ~f ~g ~h}";
    cr_assert_eq(gift_parse(src, strlen(src), 1, "g.md", &d, &quiz), 0);
    size_t o1[8], o2[8];
    gift_choice_order(&quiz.q[0], 42, true, o1);
    gift_choice_order(&quiz.q[0], 42, true, o2);
    cr_assert_arr_eq(o1, o2, sizeof(o1));
    bool differ = false;
    for (uint64_t s = 1; s < 10 && !differ; s++) {
        gift_choice_order(&quiz.q[0], s, true, o2);
        differ = memcmp(o1, o2, sizeof(o1)) != 0;
    }
    cr_assert(differ);
    /* Each order is a permutation. */
    bool seen[8] = {0};
    for (size_t i = 0; i < 8; i++)
        seen[o1[i]] = true;
    for (size_t i = 0; i < 8; i++)
        cr_assert(seen[i]);
    gift_quiz_free(&quiz);
}

Test(grade_gift, key_text_names_the_right_answers)
{
    struct gift_quiz quiz = {0};
    struct diag_list d = {0};
    const char *src = JESUS "\n\n" BORN "\n\n" CAPITALS;
    cr_assert_eq(gift_parse(src, strlen(src), 1, "g.md", &d, &quiz), 0);
    size_t order[26];
    gift_choice_order(&quiz.q[0], 0, false, order);
    char *k = gift_key_text(&quiz.q[0], order);
    cr_assert_str_eq(k, "d (Nazareth)");
    free(k);
    k = gift_key_text(&quiz.q[1], NULL);
    cr_assert_str_eq(k, "1822");
    free(k);
    gift_choice_order(&quiz.q[2], 0, false, order);
    k = gift_key_text(&quiz.q[2], order);
    cr_assert_str_eq(k, "Canada -> Ottawa; Italy -> Rome; Japan -> Tokyo");
    free(k);
    gift_quiz_free(&quiz);
}
