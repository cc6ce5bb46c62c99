/* test_answer.c: answer documents: lines, continuations, errors. */
#include <criterion/criterion.h>
#include <string.h>

#include "answer.h"

Test(answer, lines_and_continuations)
{
    const char *doc = "# my answers\nq1: b\r\nphases: 3 1 2\nnote: Dear mayor,\n  the road.\n\n"
                      "  Yours.\nq2:\ndraw.1: true\n";
    struct answer_doc d;
    char err[200];
    cr_assert_eq(answer_parse(doc, strlen(doc), &d, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(d.n, 5);
    cr_assert_str_eq(answer_get(&d, "q1")->value, "b");
    cr_assert_str_eq(answer_get(&d, "phases")->value, "3 1 2");
    cr_assert_str_eq(answer_get(&d, "note")->value, "Dear mayor,\nthe road.\n\nYours.");
    cr_assert_eq(answer_get(&d, "note")->line, 4);
    cr_assert_str_eq(answer_get(&d, "q2")->value, "");
    cr_assert_str_eq(answer_get(&d, "draw.1")->value, "true");
    cr_assert_null(answer_get(&d, "q3"));
    answer_doc_free(&d);
}

Test(answer, empty_document)
{
    struct answer_doc d;
    char err[200];
    cr_assert_eq(answer_parse("", 0, &d, err, sizeof(err)), 0);
    cr_assert_eq(d.n, 0);
    answer_doc_free(&d);
}

static const char *const bad[][2] = {
    { "q1 b", "line 1" },
    { "q1: a\nQ2: b", "line 2" },
    { "  orphan", "line 1" },
    { "q1: a\nq1: b", "second answer for q1" },
    { "q1: \xff", "UTF-8" },
    { ": b", "line 1" },
};

Test(answer, malformed)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct answer_doc d;
        char err[200] = "";
        cr_expect_eq(answer_parse(bad[i][0], strlen(bad[i][0]), &d, err, sizeof(err)), -1, "%zu", i);
        cr_expect(strstr(err, bad[i][1]) != NULL, "%zu: %s", i, err);
    }
    struct answer_doc d;
    char err[200];
    const char nul[] = "q1: a\0b";
    cr_assert_eq(answer_parse(nul, sizeof(nul) - 1, &d, err, sizeof(err)), -1);
}

/* The messages go through the reader's translation, with their arguments. */
static const char *shout(const char *lang, const char *fmt)
{
    if (strcmp(lang, "xx") != 0)
        return fmt;
    if (strcmp(fmt, "line %d: a second answer for %s") == 0)
        return "LINE %d: SECOND %s";
    return "XX";
}

Test(answer, messages_in_the_reader_language)
{
    struct answer_doc d;
    char err[200] = "";
    const char *doc = "q1: a\nq1: b\n";
    cr_assert_eq(answer_parse_lang(doc, strlen(doc), &d, shout, "xx", err, sizeof(err)), -1);
    cr_assert_str_eq(err, "LINE 2: SECOND q1");
    cr_assert_eq(answer_parse_lang("q1 b", 4, &d, shout, "xx", err, sizeof(err)), -1);
    cr_assert_str_eq(err, "XX");
    cr_assert_eq(answer_parse_lang("q1 b", 4, &d, NULL, "xx", err, sizeof(err)), -1);
    cr_assert(strstr(err, "line 1: expected") == err, "%s", err);
    cr_assert_eq(answer_parse_lang("q1 b", 4, &d, shout, "en", err, sizeof(err)), -1);
    cr_assert(strstr(err, "line 1: expected") == err, "%s", err);
}
