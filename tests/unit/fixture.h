/* fixture.h: what the unit suites share to build their fixtures: a course
 * tree loaded from disk, a table from CSV text, a task from YAML text. Each
 * asserts that the fixture is well formed, so a test fails at the fixture
 * that broke, not three calls later. FIXTURES_DIR and SOURCE_DIR come from
 * tests/CMakeLists.txt. */
#ifndef CAMPUS_TEST_FIXTURE_H
#define CAMPUS_TEST_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "diag.h"
#include "table.h"
#include "task.h"

/* Loads a course tree; with clean, it must load without an error. The
 * diagnostics go into *d when d is given (caller clears), else are dropped. */
static inline struct catalog *fixture_catalog(const char *dir, struct diag_list *d, bool clean)
{
    struct diag_list own = {0};
    struct diag_list *dl = d ? d : &own;
    struct catalog *cat = catalog_load(dir, dl);

    if (cat == NULL || (clean && dl->errors))
        diag_print(dl, stderr);
    cr_assert_not_null(cat, "%s does not load", dir);
    if (clean)
        cr_assert_eq(dl->errors, 0, "%s loads with errors", dir);
    if (d == NULL)
        diag_list_clear(&own);
    return cat;
}

/* A table parsed from CSV text, as a ```table NAME block would hold it. */
static inline struct table *fixture_table(const char *name, const char *csv)
{
    char err[200] = "";
    int line = 0;
    struct table *t = table_parse(name, csv, strlen(csv), 1, err, sizeof(err), &line);

    cr_assert_not_null(t, "table %s: line %d: %s", name, line, err);
    return t;
}

/* A task parsed from its YAML (first_line: where the block starts in its
 * file), with no error; warnings are allowed. */
static inline struct task *fixture_task(const char *yaml, int first_line, const struct table *const *tables,
                                        size_t ntables)
{
    struct diag_list d = {0};
    struct task *t = task_parse(yaml, strlen(yaml), first_line, "case.md", tables, ntables, &d);

    if (t == NULL || d.errors)
        diag_print(&d, stderr);
    cr_assert_not_null(t, "%s", yaml);
    cr_assert_eq(d.errors, 0, "%s", yaml);
    diag_list_clear(&d);
    return t;
}

#endif
