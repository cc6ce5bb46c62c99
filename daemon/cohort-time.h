/* cohort-time.h: calendar dates, IANA time zones and the clock of cohorts.
 *
 * Time zones are read from the compiled tzdata files (TZif, RFC 8536) under
 * /usr/share/zoneinfo by our own small parser, never through setenv("TZ") and
 * localtime_r: changing the process's TZ is not safe while other threads
 * (the password pool) may read the environment, and a server must answer in
 * many zones at once. Parsed zones are cached for the life of the process;
 * the cache is touched only from the event loop thread. */
#ifndef CAMPUS_COHORT_TIME_H
#define CAMPUS_COHORT_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define CTIME_TZ_NAME_MAX 64     /* longest IANA name accepted */
#define CTIME_ZONES_MAX   64     /* zones cached per process */

struct ctz;

/* Parses "YYYY-MM-DD" (years 1970..9999) into y, m, d; rejects dates that do
 * not exist (2026-02-30, 2025-02-29). Returns 0 or -1. */
int ctime_parse_date(const char *s, int *y, int *m, int *d);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t ctime_days(int y, int m, int d);
void ctime_civil(int64_t days, int *y, int *m, int *d);

/* The zone called name ("UTC", "Europe/Paris"), loaded once and cached
 * (owned by the cache: never free it). NULL when the name is malformed or
 * no such zone is installed. Event loop thread only. */
const struct ctz *ctz_get(const char *name);

/* The zone's name as given to ctz_get (borrowed). */
const char *ctz_name(const struct ctz *z);

/* Seconds east of UTC in force at the UTC instant t. */
int32_t ctz_offset(const struct ctz *z, int64_t t);

/* The UTC instant (seconds) of 00:00 local time on the date y-m-d. When a
 * daylight-saving change skips midnight, the first local instant of that day. */
int64_t ctz_midnight(const struct ctz *z, int y, int m, int d);

/* The local date of the UTC instant t, as "YYYY-MM-DD" in out. */
void ctz_date(const struct ctz *z, int64_t t, char out[11]);

/* Now, in milliseconds since 1970: the wall clock, or, in a build made for
 * tests with the test_clock setting, the number held in that file (so tests
 * can move time across a date boundary). */
long long cohort_now_ms(void);

/* Refuses (-1, with a message on stderr) a test_clock setting in a build not
 * made for tests. */
int cohort_time_check_config(void);

/* Frees the zone cache (at exit). */
void ctz_cache_free(void);

#endif
