/* test_content_check.c: the course checker's report, line by line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "util.h"

/* Every problem the checker reports, one instance each, as path:line:
 * severity: message, the path relative to courses-broken. */
static const char *const expected[] = {
    "Bad_Course:0: error: invalid course id 'Bad_Course': use 1 to 64 of [a-z0-9-]",
    "README.txt:0: warning: ignored: not a course folder",
    "broken/01-front/01-nofm.md:1: error: missing front matter: the file must open with a '---' line",
    "broken/01-front/02-unclosed.md:1: error: front matter is not closed by a '---' line",
    "broken/01-front/03-syntax.md:3: error: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence",
    "broken/01-front/04-list.md:2: error: front matter must be a mapping of keys",
    "broken/01-front/05-types.md:2: error: 'title' must be a non-empty string",
    "broken/01-front/05-types.md:3: error: 'minutes' must be a positive integer",
    "broken/01-front/05-types.md:4: error: 'objectives' must be a list of strings",
    "broken/01-front/05-types.md:5: error: duplicate key 'minutes'",
    "broken/01-front/05-types.md:6: warning: unknown key 'difficulty'",
    "broken/01-front/06-missing.md:1: error: missing required key 'minutes'",
    "broken/01-front/07-key.md:4: error: front matter keys must be plain words",
    "broken/01-front/module.md:1: error: missing required key 'title'",
    "broken/02-body/01-empty.md:5: error: lesson is empty: it needs some content after the front matter",
    "broken/02-body/02-tables.md:6: error: table block needs a name: ```table NAME",
    "broken/02-body/02-tables.md:15: error: duplicate table name 't' (first at line 10)",
    "broken/02-body/02-tables.md:21: error: table 'wide': row has 3 fields but the header has 2",
    "broken/02-body/03-Bad_Id.md:0: error: invalid lesson id 'Bad_Id': use 1 to 64 of [a-z0-9-]",
    "broken/02-body/03-links.md:4: error: unknown prerequisite 'nowhere'",
    "broken/02-body/03-links.md:7: error: link to missing lesson '04-missing.md'",
    "broken/02-body/04-latin1.md:6: error: file is not valid UTF-8",
    "broken/02-body/05-nul.md:6: error: file contains a NUL byte",
    "broken/02-body/06-dup.md:0: error: number 06 is also used by 06-again.md",
    "broken/02-body/07-task.case.md:10: error: unknown task type dance (order, classify, numeric, network, rubric, review, gift, pool)",
    "broken/02-body/08-rubric.case.md:27: error: self-check: the model answer of task plan scores 50.0: Found: joint purchase. Contradicted: local lead (\"agent ... lead\"). Missing: none.",
    "broken/02-body/08-rubric.case.md:33: error: self-check: bad example 2 of task plan scores 100.0, not below the pass mark 60",
    "broken/02-body/dangling.md:0: error: broken symbolic link",
    "broken/02-body/draft.txt:0: warning: ignored: not module.md, NN-lesson.md or NN-case.case.md",
    "broken/02-body/outside.md:0: error: symbolic link leads outside the courses folder",
    "broken/03-more/01-empty.md:0: error: lesson id 'empty' is also used by broken/02-body/01-empty.md",
    "broken/04-Bad_Module:0: error: invalid module id 'Bad_Module': use 1 to 64 of [a-z0-9-]",
    "broken/06-nomodule:0: warning: numbering gap: 06 comes where 04 was expected",
    "broken/06-nomodule:0: error: module.md is missing",
    "broken/course.md:2: error: course id 'wrong' must equal its folder name 'broken'",
    "broken/course.md:7: warning: unknown key 'colour'",
    "broken/course.md:9: error: 'completion.lessons' must be 'all' or a percentage from 1% to 100%",
    "broken/course.md:10: error: 'completion.exercises' must be 'all' or a number",
    "broken/course.md:11: warning: unknown key 'completion.certificates'",
    "broken/notes.txt:0: warning: ignored: not course.md or an NN-module folder",
    "nocourse:0: error: course.md is missing",
};

/* Runs content_check on dir; returns its output (caller frees), *rc its
 * return value. */
static char *run_check(const char *dir, int *rc)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    cr_assert_not_null(f);
    *rc = content_check(dir, f);
    fclose(f);
    return out;
}

Test(check, every_problem_at_its_file_and_line)
{
    int rc;
    char *out = run_check(FIXTURES_DIR "/courses-broken", &rc);
    size_t n = sizeof(expected) / sizeof(expected[0]);
    char *line = out, *save = NULL;
    size_t i = 0;

    cr_assert_eq(rc, 1);
    for (char *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save), i++) {
        char *want = xasprintf("%s/%s", FIXTURES_DIR "/courses-broken", expected[i < n ? i : 0]);
        cr_assert_lt(i, n, "unexpected extra line: %s", l);
        cr_assert_str_eq(l, want, "line %zu", i + 1);
        free(want);
    }
    cr_assert_eq(i, n, "%zu lines printed, %zu expected", i, n);
    free(out);
}

Test(check, path_is_the_folder_as_typed)
{
    int rc;
    char *out = run_check(FIXTURES_DIR "/courses-broken///", &rc);
    char *want = xasprintf("%s/Bad_Course:0: error: ", FIXTURES_DIR "/courses-broken");

    cr_assert_eq(rc, 1);
    cr_assert(strncmp(out, want, strlen(want)) == 0, "%s", out);
    free(want);
    free(out);
}

Test(check, good_courses_pass_silently)
{
    int rc;
    char *out = run_check(FIXTURES_DIR "/courses-good", &rc);

    cr_assert_eq(rc, 0);
    cr_assert_str_eq(out, "");
    free(out);
}

Test(check, warnings_alone_pass)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *dir = xasprintf("%s/campus-check-XXXXXX", tmp);
    cr_assert_not_null(mkdtemp(dir));
    char *cmd = xasprintf("cp -r '%s/courses-good/demo' '%s/' && echo x > '%s/demo/notes.txt'",
                          FIXTURES_DIR, dir, dir);
    cr_assert_eq(system(cmd), 0);
    free(cmd);

    int rc;
    char *out = run_check(dir, &rc);
    char *want = xasprintf("%s/demo/notes.txt:0: warning: ignored: not course.md or an NN-module folder\n", dir);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(out, want);
    free(want);
    free(out);
    cmd = xasprintf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    free(dir);
}

Test(check, missing_folder)
{
    int rc;
    char *out = run_check("no/such/dir", &rc);

    cr_assert_eq(rc, 1);
    cr_assert_str_eq(out, "no/such/dir:0: error: cannot open the courses folder\n");
    free(out);
}
