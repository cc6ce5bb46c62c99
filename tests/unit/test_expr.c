/* test_expr.c: compute: expressions over data tables. */
#include <criterion/criterion.h>

#include "fixture.h"
#include <string.h>

#include "expr.h"
#include "table.h"

static struct table *people, *money;
static const struct table *tables[2];

static void setup(void)
{
    const char *p = "group,count,share\nproducers,46,92%\ntraders,4,8%\n\"big, firms\",0,\n";
    const char *m = "firm,\"sales 2020\",note\nA,\"1,200\",x\nB,800,\n";
    people = fixture_table("people", p);
    money = fixture_table("money", m);
    tables[0] = people;
    tables[1] = money;
}

static void teardown(void)
{
    table_free(people);
    table_free(money);
}

TestSuite(expr, .init = setup, .fini = teardown);

struct expr_case {
    const char *src;
    double value;
};

static const struct expr_case good[] = {
    { "1 + 2 * 3", 7 },
    { "(1 + 2) * 3", 9 },
    { "10 / 4", 2.5 },
    { "-3 + 5", 2 },
    { "2 - -2", 4 },
    { "1.5e2", 150 },
    { "sum(people.count)", 50 },
    { "mean(people.count)", 50.0 / 3 },
    { "min(people.count)", 0 },
    { "max(people.count)", 46 },
    { "count(people)", 3 },
    { "value(people.count, producers)", 46 },
    { "value(people.count, \"big, firms\")", 0 },
    { "100 * value(people.count, producers) / sum(people.count)", 92 },
    { "value(people.share, traders)", 8 },
    { "sum(money.\"sales 2020\")", 2000 },
    { "value(money.\"sales 2020\", A) - value(money.\"sales 2020\", B)", 400 },
    { "sum(people.share)", 100 },
};

Test(expr, evaluates)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        double v = -1;
        char err[200] = "";
        cr_expect_eq(expr_eval(good[i].src, tables, 2, &v, err, sizeof(err)), 0, "%s: %s",
                     good[i].src, err);
        cr_expect_float_eq(v, good[i].value, 1e-9, "%s = %g", good[i].src, v);
    }
}

static const char *const bad[][2] = {
    { "1 +", "expected a number" },
    { "(1 + 2", "expected \")\"" },
    { "1 / 0", "division by zero" },
    { "1 / (count(people) - 3)", "division by zero" },
    { "sum(nobody.count)", "no table named nobody" },
    { "sum(people.heads)", "no column named heads" },
    { "sum(money.note)", "is not a number" },
    { "value(people.count, bankers)", "no row starting with bankers" },
    { "median(people.count)", "unknown function median" },
    { "2 3", "unexpected text" },
    { "sum(people)", "expected \".\"" },
    { "", "expected a number" },
};

Test(expr, reports_errors)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double v;
        char err[200] = "";
        cr_expect_eq(expr_eval(bad[i][0], tables, 2, &v, err, sizeof(err)), -1, "%s", bad[i][0]);
        cr_expect(strstr(err, bad[i][1]) != NULL, "%s: %s", bad[i][0], err);
    }
}

Test(expr, deep_nesting_is_refused_not_crashing)
{
    char src[4000];
    memset(src, '(', 2000);
    src[2000] = '1';
    memset(src + 2001, ')', 1998);
    src[3999] = '\0';
    double v;
    char err[200];
    cr_assert_eq(expr_eval(src, tables, 2, &v, err, sizeof(err)), -1);
    cr_assert(strstr(err, "nested") != NULL, "%s", err);
}
