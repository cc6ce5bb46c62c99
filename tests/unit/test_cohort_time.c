/* test_cohort_time.c: dates, TZif zones, local midnights across
 * daylight-saving changes, and the POSIX rule past the last transition. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "campusd.h"
#include "cohort-time.h"

struct config cfg;

static int64_t utc(int y, int m, int d, int hh, int mi)
{
    return ctime_days(y, m, d) * 86400 + hh * 3600 + mi * 60;
}

Test(cohort_time, dates_that_exist)
{
    int y, m, d;
    cr_assert_eq(ctime_parse_date("2026-02-28", &y, &m, &d), 0);
    cr_assert_eq(ctime_parse_date("2028-02-29", &y, &m, &d), 0);
    cr_assert_eq(y * 10000 + m * 100 + d, 20280229);
    const char *bad[] = { "2026-02-30", "2025-02-29", "1900-02-29", "2026-04-31", "2026-00-10",
                          "2026-13-01", "2026-1-01", "2026-01-01x", "1969-12-31", "", "2026/01/01" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(ctime_parse_date(bad[i], &y, &m, &d), -1, "%s", bad[i]);
    cr_assert_eq(ctime_days(1970, 1, 1), 0);
    ctime_civil(ctime_days(2000, 3, 1), &y, &m, &d);
    cr_assert_eq(y * 10000 + m * 100 + d, 20000301);
}

Test(cohort_time, names_stay_below_the_zone_folder)
{
    cr_assert_null(ctz_get("../../etc/passwd"));
    cr_assert_null(ctz_get("/etc/localtime"));
    cr_assert_null(ctz_get("Europe//Paris"));
    cr_assert_null(ctz_get("Europe/"));
    cr_assert_null(ctz_get("Europe/Nowhere"));
    cr_assert_null(ctz_get("Europe"));          /* a folder, not a zone */
    cr_assert_not_null(ctz_get("UTC"));
}

Test(cohort_time, midnights_around_dst)
{
    const struct ctz *paris = ctz_get("Europe/Paris"), *ny = ctz_get("America/New_York");
    cr_assert_not_null(paris);
    cr_assert_not_null(ny);
    /* Paris goes to UTC+2 at 01:00Z on 2026-03-29: that midnight is still +1. */
    cr_assert_eq(ctz_midnight(paris, 2026, 3, 29), utc(2026, 3, 28, 23, 0));
    cr_assert_eq(ctz_midnight(paris, 2026, 3, 30), utc(2026, 3, 29, 22, 0));
    cr_assert_eq(ctz_midnight(paris, 2026, 10, 26), utc(2026, 10, 25, 23, 0));
    cr_assert_eq(ctz_midnight(ny, 2026, 3, 8), utc(2026, 3, 8, 5, 0));
    cr_assert_eq(ctz_midnight(ny, 2026, 3, 9), utc(2026, 3, 9, 4, 0));
    char d[11];
    ctz_date(paris, utc(2026, 3, 28, 22, 59), d);
    cr_assert_str_eq(d, "2026-03-28");
    ctz_date(paris, utc(2026, 3, 28, 23, 0), d);
    cr_assert_str_eq(d, "2026-03-29");
}

Test(cohort_time, skipped_midnight_and_far_future)
{
    /* Santiago moves clocks forward at 24:00 in September: 00:00 never
     * happens, the day starts at 01:00 local (04:00Z). */
    const struct ctz *scl = ctz_get("America/Santiago");
    cr_assert_not_null(scl);
    cr_assert_eq(ctz_midnight(scl, 2026, 9, 6), utc(2026, 9, 6, 4, 0));
    /* Past the last transition of the file, the POSIX rule of its footer. */
    const struct ctz *paris = ctz_get("Europe/Paris");
    cr_assert_eq(ctz_offset(paris, utc(2100, 7, 1, 12, 0)), 7200);
    cr_assert_eq(ctz_offset(paris, utc(2100, 1, 1, 12, 0)), 3600);
    const struct ctz *syd = ctz_get("Australia/Sydney");
    cr_assert_eq(ctz_offset(syd, utc(2100, 1, 1, 12, 0)), 11 * 3600);
    cr_assert_eq(ctz_offset(syd, utc(2100, 7, 1, 12, 0)), 10 * 3600);
    ctz_cache_free();
}
