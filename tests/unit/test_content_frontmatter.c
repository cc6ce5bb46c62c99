/* test_content_frontmatter.c: YAML front matter: types, unknown and missing keys. */
#include <criterion/criterion.h>
#include <string.h>

#include "frontmatter.h"

/* Parses src as kind; leaves the diagnostics in *d (caller clears). */
static int parse(struct front_matter *fm, enum fm_kind kind, const char *src, struct diag_list *d)
{
    return fm_parse(fm, kind, src, strlen(src), "x.md", d);
}

/* Asserts that diagnostic i is "line: sev: msg". */
static void expect(struct diag_list *d, size_t i, int line, enum diag_severity sev, const char *msg)
{
    cr_assert_lt(i, d->count, "missing diagnostic %zu (%s)", i, msg);
    cr_assert_str_eq(d->items[i].msg, msg);
    cr_assert_eq(d->items[i].line, line, "%s: line %d", msg, d->items[i].line);
    cr_assert_eq(d->items[i].severity, sev, "%s", msg);
    cr_assert_str_eq(d->items[i].path, "x.md");
}

Test(frontmatter, lesson_values_and_raw_text)
{
    struct front_matter fm;
    struct diag_list d = {0};
    const char *src = "---\ntitle: Phases\nminutes: 12\nobjectives:\n  - one\n  - two\n"
                      "sources: [a.txt]\nprerequisites: [intro, other/x]\nattempts: 3\npass: 60\n"
                      "policy: best\nweight: 2\nreveal: never\nshuffle: true\n---\nBody\n";

    cr_assert_eq(parse(&fm, FM_LESSON, src, &d), 0);
    cr_assert_eq(d.count, 0, "exercise keys are accepted without a warning");
    cr_assert_str_eq(fm.title, "Phases");
    cr_assert_eq(fm.minutes, 12);
    cr_assert_eq(fm.nobjectives, 2);
    cr_assert_str_eq(fm.objectives[1], "two");
    cr_assert_eq(fm.nsources, 1);
    cr_assert_eq(fm.nprerequisites, 2);
    cr_assert_str_eq(fm.prerequisites[1], "other/x");
    cr_assert_eq(fm.prerequisite_lines[0], 8);
    cr_assert_eq(fm.raw_line, 2);
    cr_assert(strncmp(fm.raw, "title: Phases\n", 14) == 0);
    cr_assert(strstr(fm.raw, "shuffle: true\n") != NULL);
    cr_assert_eq(fm.body_line, 16);
    cr_assert_str_eq(src + fm.body_off, "Body\n");
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, course_values_and_completion)
{
    struct front_matter fm;
    struct diag_list d = {0};
    const char *src = "---\nid: demo\ntitle: T\nsummary: S\nlanguage: en\nversion: 1.0\n"
                      "authors: Ada\ncompletion:\n  lessons: 80%\n  exercises: 2\n---\n";

    cr_assert_eq(parse(&fm, FM_COURSE, src, &d), 0);
    cr_assert_eq(d.count, 0);
    cr_assert_str_eq(fm.id, "demo");
    cr_assert_eq(fm.id_line, 2);
    cr_assert_str_eq(fm.version, "1.0");
    cr_assert_eq(fm.nauthors, 1, "a single author may be a plain string");
    cr_assert_str_eq(fm.authors[0], "Ada");
    cr_assert_eq(fm.completion.lessons_percent, 80);
    cr_assert_eq(fm.completion.exercises, 2);
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, completion_defaults_to_all)
{
    struct front_matter fm;
    struct diag_list d = {0};

    parse(&fm, FM_COURSE, "---\nid: a\ntitle: T\nsummary: S\nlanguage: en\nversion: 1\n---\n", &d);
    cr_assert_eq(d.errors, 0);
    cr_assert_eq(fm.completion.lessons_percent, 100);
    cr_assert_eq(fm.completion.exercises, CATALOG_ALL);
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, wrong_types_are_errors)
{
    struct front_matter fm;
    struct diag_list d = {0};
    const char *src = "---\ntitle: {a: b}\nminutes: -4\nobjectives: [x, [y]]\nsources: 5\n---\nB\n";

    cr_assert_eq(parse(&fm, FM_LESSON, src, &d), -1);
    cr_assert_eq(d.count, 4);
    expect(&d, 0, 2, DIAG_ERROR, "'title' must be a non-empty string");
    expect(&d, 1, 3, DIAG_ERROR, "'minutes' must be a positive integer");
    expect(&d, 2, 4, DIAG_ERROR, "'objectives' must be a list of strings");
    expect(&d, 3, 5, DIAG_ERROR, "'sources' must be a list of strings");
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, unknown_keys_are_warnings)
{
    struct front_matter fm;
    struct diag_list d = {0};

    cr_assert_eq(parse(&fm, FM_MODULE, "---\ntitle: M\nminutes: 3\n---\n", &d), 0,
                 "a warning alone is not an error");
    cr_assert_eq(d.count, 1);
    expect(&d, 0, 3, DIAG_WARNING, "unknown key 'minutes'");
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, missing_required_keys)
{
    struct front_matter fm;
    struct diag_list d = {0};

    cr_assert_eq(parse(&fm, FM_COURSE, "---\ntitle: C\n---\n", &d), -1);
    cr_assert_eq(d.errors, 4);
    expect(&d, 0, 1, DIAG_ERROR, "missing required key 'id'");
    expect(&d, 1, 1, DIAG_ERROR, "missing required key 'summary'");
    expect(&d, 2, 1, DIAG_ERROR, "missing required key 'language'");
    expect(&d, 3, 1, DIAG_ERROR, "missing required key 'version'");
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, empty_front_matter_lacks_required_keys)
{
    struct front_matter fm;
    struct diag_list d = {0};

    cr_assert_eq(parse(&fm, FM_CASE, "---\n---\nText\n", &d), -1);
    cr_assert_eq(d.count, 2);
    expect(&d, 0, 1, DIAG_ERROR, "missing required key 'title'");
    expect(&d, 1, 1, DIAG_ERROR, "missing required key 'minutes'");
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, invalid_course_id)
{
    struct front_matter fm;
    struct diag_list d = {0};

    parse(&fm, FM_COURSE, "---\nid: Not OK\ntitle: T\nsummary: S\nlanguage: en\nversion: 1\n---\n", &d);
    cr_assert_eq(d.count, 1);
    expect(&d, 0, 2, DIAG_ERROR, "'id' must be 1 to 64 of [a-z0-9-], not 'Not OK'");
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, missing_and_unclosed)
{
    struct front_matter fm;
    struct diag_list d = {0};

    cr_assert_eq(parse(&fm, FM_LESSON, "# Just text\n", &d), -1);
    expect(&d, 0, 1, DIAG_ERROR, "missing front matter: the file must open with a '---' line");
    cr_assert_str_eq(fm.raw, "");
    fm_free(&fm);
    cr_assert_eq(parse(&fm, FM_LESSON, "---\ntitle: x\n", &d), -1);
    expect(&d, 1, 1, DIAG_ERROR, "front matter is not closed by a '---' line");
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, crlf_and_dots_close)
{
    struct front_matter fm;
    struct diag_list d = {0};

    cr_assert_eq(parse(&fm, FM_MODULE, "---\r\ntitle: M\r\n...\r\nBody\r\n", &d), 0);
    cr_assert_str_eq(fm.title, "M");
    cr_assert_eq(fm.body_line, 4);
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, yaml_syntax_error_has_a_line)
{
    struct front_matter fm;
    struct diag_list d = {0};

    cr_assert_eq(parse(&fm, FM_MODULE, "---\ntitle: M\nsummary: \"open\n---\n", &d), -1);
    cr_assert_eq(d.count, 1);
    cr_assert(strncmp(d.items[0].msg, "YAML syntax error: ", 19) == 0, "%s", d.items[0].msg);
    cr_assert_geq(d.items[0].line, 3);
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, duplicate_key)
{
    struct front_matter fm;
    struct diag_list d = {0};

    cr_assert_eq(parse(&fm, FM_MODULE, "---\ntitle: A\ntitle: B\n---\n", &d), -1);
    expect(&d, 0, 3, DIAG_ERROR, "duplicate key 'title'");
    cr_assert_str_eq(fm.title, "A", "the first value is kept");
    fm_free(&fm);
    diag_list_clear(&d);
}

Test(frontmatter, completion_errors)
{
    struct front_matter fm;
    struct diag_list d = {0};
    const char *src = "---\nid: a\ntitle: T\nsummary: S\nlanguage: en\nversion: 1\n"
                      "completion:\n  lessons: 120%\n  exercises: many\n  grade: A\n---\n";

    cr_assert_eq(parse(&fm, FM_COURSE, src, &d), -1);
    cr_assert_eq(d.count, 3);
    expect(&d, 0, 8, DIAG_ERROR, "'completion.lessons' must be 'all' or a percentage from 1% to 100%");
    expect(&d, 1, 9, DIAG_ERROR, "'completion.exercises' must be 'all' or a number");
    expect(&d, 2, 10, DIAG_WARNING, "unknown key 'completion.grade'");
    fm_free(&fm);
    parse(&fm, FM_COURSE, "---\nid: a\ntitle: T\nsummary: S\nlanguage: en\nversion: 1\ncompletion: all\n---\n", &d);
    expect(&d, 3, 7, DIAG_ERROR, "'completion' must be a mapping with 'lessons' and 'exercises'");
    fm_free(&fm);
    diag_list_clear(&d);
}
