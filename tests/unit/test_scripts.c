/* test_scripts.c: the shape table of the Lua scripts agrees with their
 * sources, and script_call's check refuses calls that do not fit. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "scripts.h"

/* The highest literal index the source uses in NAME[n] (KEYS or ARGV). */
static int max_index(const char *src, const char *name)
{
    size_t nl = strlen(name);
    int max = 0;
    for (const char *p = strstr(src, name); p; p = strstr(p + 1, name)) {
        if (p[nl] != '[' || p[nl + 1] < '1' || p[nl + 1] > '9')
            continue;
        char *end;
        long v = strtol(p + nl + 1, &end, 10);
        if (*end == ']' && v > max)
            max = (int)v;
    }
    return max;
}

Test(scripts, every_script_has_a_shape)
{
    for (int id = 0; id < SCRIPT_COUNT; id++)
        cr_expect(script_shape_known((enum script_id)id), "script %d has no row in the shape table", id);
}

Test(scripts, shapes_cover_the_indexes_the_sources_use)
{
    for (int id = 0; id < SCRIPT_COUNT; id++) {
        const char *src = script_source((enum script_id)id);
        int k = max_index(src, "KEYS"), a = max_index(src, "ARGV"), kmax, amax;
        script_shape_widest((enum script_id)id, &kmax, &amax);
        cr_expect(k <= kmax, "script %d uses KEYS[%d] but its row allows %d keys", id, k, kmax);
        cr_expect(a <= amax, "script %d uses ARGV[%d] but its row allows %d arguments", id, a, amax);
    }
}

Test(scripts, calls_that_do_not_fit_are_refused)
{
    /* DONE: keys done, events; arguments lesson, now, maxlen. */
    cr_expect(script_shape_fits(SCRIPT_DONE, 2, 3));
    cr_expect_not(script_shape_fits(SCRIPT_DONE, 1, 4));
    cr_expect_not(script_shape_fits(SCRIPT_DONE, 2, 2));
    cr_expect_not(script_shape_fits(SCRIPT_DONE, 3, 3));
    /* ATTEMPT takes any number of task ids after its nine arguments. */
    cr_expect(script_shape_fits(SCRIPT_ATTEMPT, 5, 9));
    cr_expect(script_shape_fits(SCRIPT_ATTEMPT, 5, 14));
    cr_expect_not(script_shape_fits(SCRIPT_ATTEMPT, 5, 8));
    cr_expect_not(script_shape_fits(SCRIPT_COUNT, 1, 1));
}
