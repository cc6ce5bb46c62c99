/* test_gift.c: GIFT parsing as Moodle does it; errors at their exact line. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "gift.h"

static struct gift_quiz parse_ok(const char *src)
{
    struct gift_quiz quiz = {0};
    struct diag_list d = {0};
    int rc = gift_parse(src, strlen(src), 1, "t.md", &d, &quiz);
    if (rc != 0)
        diag_print(&d, stderr);
    cr_assert_eq(rc, 0, "parse failed: %s", src);
    cr_assert_eq(d.errors, 0);
    diag_list_clear(&d);
    return quiz;
}

/* Every example question of Moodle's GIFT documentation, with the type and
 * question text Moodle's importer gives it. */
struct moodle_example {
    const char *gift;
    enum gift_type type;
    const char *text;
    size_t nanswers;
};

static const struct moodle_example examples[] = {
    { "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}", GIFT_CHOICE,
      "Who's buried in Grant's tomb?", 3 },
    { "Grant is {~buried =entombed ~living} in Grant's tomb.", GIFT_CHOICE,
      "Grant is _____ in Grant's tomb.", 3 },
    { "The American holiday of Thanksgiving is celebrated on the {\n    ~second\n    ~third\n"
      "    =fourth\n} Thursday of November.", GIFT_CHOICE,
      "The American holiday of Thanksgiving is celebrated on the _____ Thursday of November.", 3 },
    { "Japanese characters originally came from what country? {\n    ~India\n    =China\n"
      "    ~Korea\n    ~Egypt}", GIFT_CHOICE,
      "Japanese characters originally came from what country?", 4 },
    { "Who's buried in Grant's tomb?{=no one =nobody}", GIFT_SHORT,
      "Who's buried in Grant's tomb?", 2 },
    { "Two plus two equals {=four =4}.", GIFT_SHORT, "Two plus two equals _____.", 2 },
    { "Grant is buried in Grant's tomb.{F}", GIFT_TRUEFALSE, "Grant is buried in Grant's tomb.", 0 },
    { "The sun rises in the east.{T}", GIFT_TRUEFALSE, "The sun rises in the east.", 0 },
    { "Matching Question. {\n    =subquestion1 -> subanswer1\n    =subquestion2 -> subanswer2\n"
      "    =subquestion3 -> subanswer3\n    }", GIFT_MATCH, "Matching Question.", 3 },
    { "Match the following countries with their corresponding capitals. {\n"
      "    =Canada -> Ottawa\n    =Italy  -> Rome\n    =Japan  -> Tokyo\n"
      "    =India  -> New Delhi\n    }", GIFT_MATCH,
      "Match the following countries with their corresponding capitals.", 4 },
    { "When was Ulysses S. Grant born? {#1822}", GIFT_NUMERICAL,
      "When was Ulysses S. Grant born?", 1 },
    { "What is the value of pi (to 3 decimal places)? {#3.1415:0.0005}.", GIFT_NUMERICAL,
      "What is the value of pi (to 3 decimal places)? _____.", 1 },
    { "What is the value of pi (to 3 decimal places)? {#3.141..3.142}.", GIFT_NUMERICAL,
      "What is the value of pi (to 3 decimal places)? _____.", 1 },
    { "When was Ulysses S. Grant born? {#\n    =1822:0\n    =%50%1822:2}", GIFT_NUMERICAL,
      "When was Ulysses S. Grant born?", 2 },
    { "// Subheading: Numerical questions below\nWhat's 2 plus 2? {#4}", GIFT_NUMERICAL,
      "What's 2 plus 2?", 1 },
    { "::Kanji Origins::Japanese characters originally\ncame from what country? {=China}",
      GIFT_SHORT, "Japanese characters originally\ncame from what country?", 1 },
    { "::Thanksgiving Date::The American holiday of Thanksgiving is\ncelebrated on the "
      "{~second ~third =fourth} Thursday of November.", GIFT_CHOICE,
      "The American holiday of Thanksgiving is\ncelebrated on the _____ Thursday of November.", 3 },
    { "What's the answer to this multiple-choice question?{\n~wrong answer#feedback comment on "
      "the wrong answer\n~another wrong answer#feedback comment on this wrong answer\n"
      "=right answer#Very good!}", GIFT_CHOICE,
      "What's the answer to this multiple-choice question?", 3 },
    { "Who's buried in Grant's tomb?{\n=no one#excellent answer!\n=nobody#excellent answer!}",
      GIFT_SHORT, "Who's buried in Grant's tomb?", 2 },
    { "[markdown]Who's buried in **Grant's tomb**?{\n=no one#excellent answer!\n"
      "=nobody#excellent answer!}", GIFT_SHORT, "Who's buried in **Grant's tomb**?", 2 },
    { "Grant is buried in Grant's tomb.{FALSE#No one is buried in Grant's tomb.}",
      GIFT_TRUEFALSE, "Grant is buried in Grant's tomb.", 0 },
    { "Difficult question.{~wrong answer ~%50%half credit answer =full credit answer}",
      GIFT_CHOICE, "Difficult question.", 3 },
    { "::Jesus' hometown::Jesus Christ was from {\n    ~Jerusalem#This was an important city, "
      "but the wrong answer.\n    ~%25%Bethlehem#He was born here, but not raised here.\n"
      "    ~%50%Galilee#You need to be more specific.\n    =Nazareth#Yes! That's right!}.",
      GIFT_CHOICE, "Jesus Christ was from _____.", 4 },
    { "::Jesus' hometown:: Jesus Christ was from {\n    =Nazareth#Yes! That's right!\n"
      "    =%75%Nazereth#Right, but misspelled.\n    =%25%Bethlehem#He was born here, but "
      "not raised here.}", GIFT_SHORT, "Jesus Christ was from", 3 },
    { "What two people are entombed in Grant's tomb? {\n    ~No one\n    ~%50%Grant\n"
      "    ~%50%Grant's wife\n    ~Grant's father }", GIFT_MULTI,
      "What two people are entombed in Grant's tomb?", 4 },
    { "What two people are entombed in Grant's tomb? {\n    ~%-50%No one\n    ~%50%Grant\n"
      "    ~%50%Grant's wife\n    ~%-50%Grant's father }", GIFT_MULTI,
      "What two people are entombed in Grant's tomb?", 4 },
    { "Which answer equals 5? {\n     ~ \\= 2 + 2\n     = \\= 2 + 3\n     ~ \\= 2 + 4  }",
      GIFT_CHOICE, "Which answer equals 5?", 3 },
    { "::GIFT Control Characters::\nWhich of the following is NOT a control character for "
      "the GIFT import format? {\n   ~ \\~     # \\~ is a control character.\n"
      "   ~ \\=     # \\= is a control character.\n   ~ \\#     # \\# is a control character.\n"
      "   ~ \\{     # \\{ is a control character.\n   ~ \\}     # \\} is a control character.\n"
      "   = \\\\     # Correct! \\\\ (backslash) is not a control character. BUT,\n"
      "              it is used to escape the control characters.\n}", GIFT_CHOICE,
      "Which of the following is NOT a control character for the GIFT import format?", 6 },
    { "Match the following countries with their corresponding\ncapitals.{=Canada->Ottawa "
      "=Italy->Rome =Japan->Tokyo}", GIFT_MATCH,
      "Match the following countries with their corresponding\ncapitals.", 3 },
    { "::Grant's Tomb::Grant is {\n      ~buried#No one is buried there.\n      =entombed#Right "
      "answer!\n      ~living#We hope not!\n} in Grant's tomb.", GIFT_CHOICE,
      "Grant is _____ in Grant's tomb.", 3 },
    { "Difficult multiple choice question.{\n     ~wrong answer           #comment on wrong "
      "answer\n     ~%50%half credit answer #comment on answer\n     =full credit answer     "
      "#well done!}", GIFT_CHOICE, "Difficult multiple choice question.", 3 },
    { "//this comment will be ignored by the filter\n::Numerical example::\nWhen was Ulysses S. "
      "Grant born? {#\n     =1822:0      #Correct! 100% credit\n     =%50%1822:2  #He was born "
      "in 1822.\n                  You get 50% credit for being close.\n}", GIFT_NUMERICAL,
      "When was Ulysses S. Grant born?", 2 },
    { "::Q1:: 1+1=2 {T}", GIFT_TRUEFALSE, "1+1=2", 0 },
    { "::Q2:: What's between orange and green in the spectrum?\n{ =yellow # right; good! "
      "~red # wrong, it's yellow ~blue # wrong, it's yellow }", GIFT_CHOICE,
      "What's between orange and green in the spectrum?", 3 },
    { "::Q3:: Two plus {=two =2} equals four.", GIFT_SHORT, "Two plus _____ equals four.", 2 },
    { "::Q4:: Which animal eats which food? { =cat -> cat food =dog -> dog food }", GIFT_MATCH,
      "Which animal eats which food?", 2 },
    { "::Q5:: What is a number from 1 to 5? {#3:2}", GIFT_NUMERICAL,
      "What is a number from 1 to 5?", 1 },
    { "::Q6:: What is a number from 1 to 5? {#1..5}", GIFT_NUMERICAL,
      "What is a number from 1 to 5?", 1 },
    { "::Q7:: How many Grant's tombs? {#1 ####Just one, in New York.}", GIFT_NUMERICAL,
      "How many Grant's tombs?", 1 },
    { "::Q8:: How are you? {}", GIFT_ESSAY, "How are you?", 0 },
    { "You can use your pencil and paper for these next math questions.", GIFT_DESCRIPTION,
      "You can use your pencil and paper for these next math questions.", 0 },
};

Test(gift, moodle_documentation_examples)
{
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        struct gift_quiz quiz = parse_ok(examples[i].gift);
        cr_assert_eq(quiz.n, 1, "example %zu", i);
        cr_expect_eq(quiz.q[0].type, examples[i].type, "example %zu: type %s", i,
                     gift_type_name(quiz.q[0].type));
        cr_expect_str_eq(quiz.q[0].text, examples[i].text, "example %zu", i);
        cr_expect_eq(quiz.q[0].nanswers, examples[i].nanswers, "example %zu", i);
        gift_quiz_free(&quiz);
    }
}

Test(gift, all_examples_in_one_block_are_separate_questions)
{
    struct sbuf_like { char buf[16384]; size_t n; } all = { "", 0 };
    size_t count = sizeof(examples) / sizeof(examples[0]);
    for (size_t i = 0; i < count; i++) {
        size_t k = strlen(examples[i].gift);
        cr_assert_lt(all.n + k + 3, sizeof(all.buf));
        memcpy(all.buf + all.n, examples[i].gift, k);
        all.n += k;
        memcpy(all.buf + all.n, "\n\n", 3);
        all.n += 2;
    }
    struct gift_quiz quiz = parse_ok(all.buf);
    cr_assert_eq(quiz.n, count);
    for (size_t i = 0; i < count; i++)
        cr_expect_eq(quiz.q[i].type, examples[i].type, "question %zu", i);
    gift_quiz_free(&quiz);
}

Test(gift, weights_feedback_and_names)
{
    struct gift_quiz quiz = parse_ok(
        "::Jesus' hometown::Jesus Christ was from {\n"
        "    ~Jerusalem#This was an important city, but the wrong answer.\n"
        "    ~%25%Bethlehem#He was born here, but not raised here.\n"
        "    ~%50%Galilee#You need to be more specific.\n"
        "    =Nazareth#Yes! That's right!}.");
    struct gift_question *q = &quiz.q[0];
    cr_assert_str_eq(q->name, "Jesus' hometown");
    cr_assert_str_eq(q->answers[0].text, "Jerusalem");
    cr_assert_float_eq(q->answers[0].weight, 0, 1e-9);
    cr_assert_str_eq(q->answers[1].text, "Bethlehem");
    cr_assert_float_eq(q->answers[1].weight, 25, 1e-9);
    cr_assert_str_eq(q->answers[1].feedback, "He was born here, but not raised here.");
    cr_assert_float_eq(q->answers[2].weight, 50, 1e-9);
    cr_assert_float_eq(q->answers[3].weight, 100, 1e-9);
    cr_assert_str_eq(q->answers[3].feedback, "Yes! That's right!");
    gift_quiz_free(&quiz);
}

Test(gift, escapes_become_literal_characters)
{
    struct gift_quiz quiz = parse_ok(
        "::GIFT Control Characters::\nWhich is NOT a control character\\: a, b or c? {\n"
        "   ~ \\~     # \\~ is a control character.\n"
        "   ~ \\{\\}  # braces are control characters.\n"
        "   = \\\\     # Correct!\\nOn two lines.\n}");
    struct gift_question *q = &quiz.q[0];
    cr_assert_str_eq(q->text, "Which is NOT a control character: a, b or c?");
    cr_assert_str_eq(q->answers[0].text, "~");
    cr_assert_str_eq(q->answers[0].feedback, "~ is a control character.");
    cr_assert_str_eq(q->answers[1].text, "{}");
    cr_assert_str_eq(q->answers[2].text, "\\");
    cr_assert_str_eq(q->answers[2].feedback, "Correct!\nOn two lines.");
    cr_assert_float_eq(q->answers[2].weight, 100, 1e-9);
    gift_quiz_free(&quiz);
}

Test(gift, escaped_equals_and_hash_in_text)
{
    struct gift_quiz quiz = parse_ok("1 + 2 \\= {3} and \\#tag");
    cr_assert_eq(quiz.q[0].type, GIFT_SHORT);
    cr_assert_str_eq(quiz.q[0].text, "1 + 2 = _____ and #tag");
    cr_assert_str_eq(quiz.q[0].answers[0].text, "3");
    gift_quiz_free(&quiz);
}

Test(gift, truefalse_feedbacks_wrong_then_right)
{
    struct gift_quiz quiz = parse_ok("The sun rises in the west.{FALSE#Look again.#Right, east.}");
    struct gift_question *q = &quiz.q[0];
    cr_assert_eq(q->type, GIFT_TRUEFALSE);
    cr_assert_not(q->truth);
    cr_assert_str_eq(q->fb_wrong, "Look again.");
    cr_assert_str_eq(q->fb_right, "Right, east.");
    gift_quiz_free(&quiz);
}

Test(gift, lower_case_true_is_a_short_answer_like_moodle)
{
    struct gift_quiz quiz = parse_ok("Is it? {true}");
    cr_assert_eq(quiz.q[0].type, GIFT_SHORT);
    gift_quiz_free(&quiz);
}

Test(gift, general_feedback_and_formats)
{
    struct gift_quiz quiz = parse_ok("[html]<b>Bold</b> question {=yes ~no ####[plain]All done.}");
    struct gift_question *q = &quiz.q[0];
    cr_assert_eq(q->format, GIFT_FMT_HTML);
    cr_assert_str_eq(q->text, "<b>Bold</b> question");
    cr_assert_str_eq(q->general_feedback, "All done.");
    cr_assert_str_eq(q->answers[1].text, "no");
    gift_quiz_free(&quiz);
}

Test(gift, unknown_format_tag_stays_in_text)
{
    struct gift_quiz quiz = parse_ok("[note] Keep this {T}");
    cr_assert_eq(quiz.q[0].format, GIFT_FMT_MOODLE);
    cr_assert_str_eq(quiz.q[0].text, "[note] Keep this");
    gift_quiz_free(&quiz);
}

Test(gift, categories_apply_to_following_questions)
{
    struct gift_quiz quiz = parse_ok("Before {T}\n\n$CATEGORY: tom/dick/harry\n\nAfter {F}\n\nAlso {T}");
    cr_assert_eq(quiz.n, 3);
    cr_assert_null(quiz.q[0].category);
    cr_assert_str_eq(quiz.q[1].category, "tom/dick/harry");
    cr_assert_str_eq(quiz.q[2].category, "tom/dick/harry");
    gift_quiz_free(&quiz);
}

Test(gift, numerical_ranges_and_wrong_feedback)
{
    struct gift_quiz quiz = parse_ok("Pi? {#3.141..3.142 ~#Not even close.}\n\nMinus {#-5:0.5}\n\n"
                                     "Decimal weights {#=%33.5%10:1 =20:0.25}");
    cr_assert_float_eq(quiz.q[0].answers[0].value, 3.1415, 1e-12);
    cr_assert_float_eq(quiz.q[0].answers[0].tol, 0.0005, 1e-12);
    cr_assert_str_eq(quiz.q[0].fb_wrong, "Not even close.");
    cr_assert_float_eq(quiz.q[1].answers[0].value, -5, 1e-12);
    cr_assert_float_eq(quiz.q[1].answers[0].tol, 0.5, 1e-12);
    cr_assert_float_eq(quiz.q[2].answers[0].weight, 33.5, 1e-12);
    gift_quiz_free(&quiz);
}

Test(gift, question_lines_are_file_lines)
{
    struct gift_quiz quiz = {0};
    struct diag_list d = {0};
    const char *src = "// intro\n\nFirst {T}\n\n\n// a comment\nSecond {F}";
    cr_assert_eq(gift_parse(src, strlen(src), 40, "x.md", &d, &quiz), 0);
    cr_assert_eq(quiz.n, 2);
    cr_assert_eq(quiz.q[0].line, 42);
    cr_assert_eq(quiz.q[1].line, 46);
    gift_quiz_free(&quiz);
    diag_list_clear(&d);
}

/* Malformed GIFT: the error is reported at the line of the offending part. */
struct bad_case {
    const char *gift;
    int line;           /* expected line, first line of the text being 10 */
    const char *needle; /* expected in the message */
};

static const struct bad_case bad[] = {
    { "Unbalanced {=a ~b", 10, "unbalanced" },
    { "ok {T}\n\nUnbalanced =a ~b}", 12, "unbalanced" },
    { "Two blocks {T} and {F}", 10, "one answer block" },
    { "::Unclosed name {T}", 10, "not closed" },
    { "Q {\n  =a\n  ~%200%b\n}", 12, "between -100% and 100%" },
    { "Q {\n  ~a\n  ~b\n}", 10, "add up to 0%" },
    { "Q {\n  ~%50%a\n  ~%40%b\n}", 10, "add up to 90%" },
    { "Q {~only}", 10, "at least 2" },
    { "Q {\n  =a\n  ~\n}", 12, "empty" },
    { "Match {\n  =a -> 1\n  =b  2\n}", 12, "->" },
    { "Match {=a -> 1}", 10, "at least 2 pairs" },
    { "Num {#\n  =1822:0\n  =abc\n}", 12, "numerical answer" },
    { "Num {#5..1}", 10, "numerical answer" },
    { "Num {#5:-1}", 10, "numerical answer" },
    { "Num {#}", 10, "at least one answer" },
    { "Short {=%50%half}", 10, "full credit" },
    { "first {T}\n\nsecond line one\nline two {=a ~b ~%150%c}", 13, "between" },
    { "bad \xff byte {T}", 10, "UTF-8" },
};

Test(gift, malformed_questions_reported_at_their_line)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gift_quiz quiz = {0};
        struct diag_list d = {0};
        int rc = gift_parse(bad[i].gift, strlen(bad[i].gift), 10, "c.md", &d, &quiz);
        cr_expect_eq(rc, -1, "case %zu should fail", i);
        cr_assert_geq(d.errors, 1, "case %zu", i);
        size_t k = 0;
        while (k < d.count && d.items[k].severity != DIAG_ERROR)
            k++;
        cr_expect_eq(d.items[k].line, bad[i].line, "case %zu: line %d, message %s", i,
                     d.items[k].line, d.items[k].msg);
        cr_expect(strstr(d.items[k].msg, bad[i].needle) != NULL, "case %zu: %s", i,
                  d.items[k].msg);
        cr_expect_str_eq(d.items[k].path, "c.md");
        gift_quiz_free(&quiz);
        diag_list_clear(&d);
    }
}

Test(gift, good_questions_survive_a_bad_neighbour)
{
    struct gift_quiz quiz = {0};
    struct diag_list d = {0};
    const char *src = "Good {T}\n\nBad {=a\n\nAlso good {F}";
    cr_assert_eq(gift_parse(src, strlen(src), 1, "c.md", &d, &quiz), -1);
    cr_assert_eq(quiz.n, 2);
    cr_assert_eq(d.errors, 1);
    cr_assert_eq(d.items[0].line, 3);
    gift_quiz_free(&quiz);
    diag_list_clear(&d);
}

Test(gift, two_pair_matching_warns_but_parses)
{
    struct gift_quiz quiz = {0};
    struct diag_list d = {0};
    const char *src = "Which animal eats which food? { =cat -> cat food =dog -> dog food }";
    cr_assert_eq(gift_parse(src, strlen(src), 5, "w.md", &d, &quiz), 0);
    cr_assert_eq(d.warnings, 1);
    cr_assert_eq(d.items[0].line, 5);
    gift_quiz_free(&quiz);
    diag_list_clear(&d);
}

Test(gift, matching_extra_answers_and_distinct_choices)
{
    struct gift_quiz quiz = parse_ok("Capitals {=Canada -> Ottawa =Italy -> Rome = -> Paris "
                                     "=Lazio -> Rome}");
    struct gift_question *q = &quiz.q[0];
    cr_assert_eq(q->nanswers, 4);
    cr_assert_eq(gift_match_count(q), 3);
    cr_assert_eq(gift_nchoices(q), 3);
    cr_assert_str_eq(gift_choice_text(q, 2), "Paris");
    gift_quiz_free(&quiz);
}

Test(gift, crlf_line_ends)
{
    struct gift_quiz quiz = parse_ok("One {T}\r\n\r\nTwo {\r\n=a\r\n~b\r\n}\r\n");
    cr_assert_eq(quiz.n, 2);
    cr_assert_str_eq(quiz.q[1].answers[0].text, "a");
    gift_quiz_free(&quiz);
}

Test(gift, answer_blocks_are_bounded)
{
    char src[2000] = "Too many {\n";
    for (int i = 0; i < 101; i++)
        strcat(src, "=x ");
    strcat(src, "}");
    struct gift_quiz quiz = {0};
    struct diag_list d = {0};
    cr_assert_eq(gift_parse(src, strlen(src), 1, "c.md", &d, &quiz), -1);
    cr_assert(strstr(d.items[0].msg, "at most 100 answers") != NULL, "%s", d.items[0].msg);
    cr_assert_eq(d.items[0].line, 1);
    gift_quiz_free(&quiz);
    diag_list_clear(&d);
}
