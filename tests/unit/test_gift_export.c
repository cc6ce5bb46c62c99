/* test_gift_export.c: parse(export(parse(x))) equals parse(x). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "gift.h"

static bool same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b || (a && !a[0]) || (b && !b[0]);
    return strcmp(a, b) == 0;
}

static void expect_same(const struct gift_question *a, const struct gift_question *b, const char *src)
{
    cr_expect_eq(a->type, b->type, "%s", src);
    cr_expect(same_str(a->name, b->name), "name %s / %s", a->name, b->name);
    cr_expect(same_str(a->category, b->category), "%s", src);
    cr_expect_eq(a->format, b->format, "%s", src);
    cr_expect_str_eq(a->text, b->text, "%s", src);
    cr_expect_str_eq(a->general_feedback, b->general_feedback, "%s", src);
    cr_expect_eq(a->truth, b->truth);
    cr_expect(same_str(a->fb_wrong, b->fb_wrong), "%s", src);
    cr_expect(same_str(a->fb_right, b->fb_right), "%s", src);
    cr_assert_eq(a->nanswers, b->nanswers, "%s", src);
    for (size_t i = 0; i < a->nanswers; i++) {
        const struct gift_answer *x = &a->answers[i], *y = &b->answers[i];
        cr_expect(same_str(x->text, y->text), "answer %zu: %s / %s", i, x->text, y->text);
        cr_expect(same_str(x->match, y->match), "%s", src);
        cr_expect_str_eq(x->feedback, y->feedback, "%s", src);
        cr_expect_eq(x->weight, y->weight, "%s", src);
        cr_expect_eq(x->value, y->value, "%s", src);
        cr_expect_eq(x->tol, y->tol, "%s", src);
    }
}

static const char *const sources[] = {
    "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}",
    "Grant is {~buried =entombed ~living} in Grant's tomb.",
    "The American holiday of Thanksgiving is celebrated on the {\n~second\n~third\n=fourth\n} Thursday of November.",
    "Who's buried in Grant's tomb?{=no one =nobody}",
    "Two plus two equals {=four =4}.",
    "Grant is buried in Grant's tomb.{F}",
    "The sun rises in the east.{TRUE#Look again.#Right.}",
    "Sun {T##Only right feedback.}",
    "Match the following countries with their corresponding capitals. {\n=Canada -> Ottawa\n"
    "=Italy  -> Rome\n=Japan  -> Tokyo\n=India  -> New Delhi\n= -> Paris\n}",
    "When was Ulysses S. Grant born? {#1822}",
    "What is the value of pi (to 3 decimal places)? {#3.141..3.142}.",
    "When was Ulysses S. Grant born? {#\n=1822:0 #Correct!\n=%50%1822:2 #Close.\n~#Far off.}",
    "::Kanji Origins::Japanese characters originally\ncame from what country? {=China}",
    "[markdown]Who's buried in **Grant's tomb**?{\n=no one#excellent answer!\n=%33.333%nobody#ok}",
    "::Jesus' hometown::Jesus Christ was from {\n~Jerusalem#Wrong.\n~%25%Bethlehem#Born here.\n"
    "~%50%Galilee#More specific.\n=Nazareth#Yes! That's right!}.",
    "What two people are entombed in Grant's tomb? {\n~%-50%No one\n~%50%Grant\n~%50%Grant's wife\n"
    "~%-50%Grant's father }",
    "::GIFT Control Characters::\nWhich is NOT a control character? {\n~ \\~ # \\~ is one.\n"
    "~ \\= # \\= is one.\n~ \\# # \\# is one.\n~ \\{ # \\{ is one.\n~ \\} # \\} is one.\n"
    "= \\\\ # Correct!\\nIt escapes.\n}",
    "[html]<p>Essay</p> question {####[plain]Graded later.}",
    "Essay in the middle {} of a sentence.",
    "A description with \\{braces\\} and a colon\\: here.",
    "$CATEGORY: tom/dick\n\nIn a category {T}",
    "[moodle]//not a comment {=%100%yes ~no}",
    "Options with percent {~[moodle]%5%x ~%50%half =full}",
    "Numbers {#=%12.5%-0.25:0.001 =1e-05:0 =3.14159265358979:0.1}",
    "Feedback with [html] tag {=a#[plain][html] not a tag ~b}",
    "Unicode ¿Qué? {=sí#¡Bien! ~no#北京}",
    "::name\\: with colon::Text {T####General.}",
};

Test(gift_export, round_trip)
{
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
        struct gift_quiz a = {0}, b = {0};
        struct diag_list d = {0};
        cr_assert_eq(gift_parse(sources[i], strlen(sources[i]), 1, "x", &d, &a), 0, "%s", sources[i]);
        char *out = gift_export(&a);
        int rc = gift_parse(out, strlen(out), 1, "x", &d, &b);
        if (rc)
            diag_print(&d, stderr);
        cr_assert_eq(rc, 0, "export of %s:\n%s", sources[i], out);
        cr_assert_eq(a.n, b.n, "%s\n%s", sources[i], out);
        for (size_t k = 0; k < a.n; k++)
            expect_same(&a.q[k], &b.q[k], out);
        /* Exporting again gives the same text. */
        char *again = gift_export(&b);
        cr_expect_str_eq(again, out);
        free(again);
        free(out);
        gift_quiz_free(&a);
        gift_quiz_free(&b);
        diag_list_clear(&d);
    }
}

Test(gift_export, whole_quiz_keeps_order_and_categories)
{
    const char *src = "One {T}\n\n$CATEGORY: a\n\nTwo {F}\n\nThree {=x ~y}\n\n$CATEGORY: b\n\nFour {#4}";
    struct gift_quiz a = {0}, b = {0};
    struct diag_list d = {0};
    cr_assert_eq(gift_parse(src, strlen(src), 1, "x", &d, &a), 0);
    char *out = gift_export(&a);
    cr_assert_eq(gift_parse(out, strlen(out), 1, "x", &d, &b), 0, "%s", out);
    cr_assert_eq(b.n, 4);
    cr_assert_null(b.q[0].category);
    cr_assert_str_eq(b.q[2].category, "a");
    cr_assert_str_eq(b.q[3].category, "b");
    cr_assert(strstr(out, "$CATEGORY: a") != NULL);
    free(out);
    gift_quiz_free(&a);
    gift_quiz_free(&b);
}
