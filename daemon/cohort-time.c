/* cohort-time.c: calendar dates, time zones read from TZif files, and the
 * clock cohorts are paced by (injectable in test builds). See
 * cohort-time.h for why zones are parsed here and not through TZ. */
#include "cohort-time.h"
#include "campusd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define TZIF_MAX (1 << 20)       /* a real TZif file is a few KiB */

/* A POSIX TZ rule "Mm.w.d/time": month, week (5: last), weekday, seconds. */
struct tz_rule {
    int m, w, d;
    int32_t time;
};

struct ctz {
    char name[CTIME_TZ_NAME_MAX + 1];
    int64_t *trans;              /* transition instants, ascending */
    uint8_t *idx;                /* the type in force from each transition */
    size_t ntrans;
    int32_t *utoff;              /* per type */
    uint8_t *isdst;
    size_t ntypes;
    /* The footer: the rule for instants after the last transition. */
    bool has_footer, footer_dst;
    int32_t std_off, dst_off;    /* seconds east of UTC */
    struct tz_rule start, end;
};

static struct ctz *zones[CTIME_ZONES_MAX];
static size_t nzones;

/* ---- dates ---- */

int64_t ctime_days(int y, int m, int d)
{
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ctime_civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int month_days(int y, int m)
{
    static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : n[m - 1];
}

int ctime_parse_date(const char *s, int *y, int *m, int *d)
{
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return -1;
    if (s[10] != '\0')
        return -1;
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
    if (*y < 1970 || *m < 1 || *m > 12 || *d < 1 || *d > month_days(*y, *m))
        return -1;
    return 0;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* "[+-]hh[:mm[:ss]]" into seconds; advances *s. Returns -1 if malformed. */
static int parse_hms(const char **s, int32_t *out)
{
    const char *p = *s;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (*p < '0' || *p > '9')
        return -1;
    long h = strtol(p, (char **)&p, 10), mi = 0, se = 0;
    if (*p == ':') {
        mi = strtol(p + 1, (char **)&p, 10);
        if (*p == ':')
            se = strtol(p + 1, (char **)&p, 10);
    }
    if (h > 167 || mi > 59 || se > 59)
        return -1;
    *out = (int32_t)(sign * (h * 3600 + mi * 60 + se));
    *s = p;
    return 0;
}

static int parse_abbr(const char **s)
{
    const char *p = *s;
    if (*p == '<') {
        const char *e = strchr(p, '>');
        if (e == NULL)
            return -1;
        *s = e + 1;
        return 0;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    if (p - *s < 3)
        return -1;
    *s = p;
    return 0;
}

static int parse_rule(const char **s, struct tz_rule *r)
{
    const char *p = *s;
    if (*p != 'M')
        return -1;                   /* Jn and n rules: not used by tzdata today */
    r->m = (int)strtol(p + 1, (char **)&p, 10);
    if (*p++ != '.')
        return -1;
    r->w = (int)strtol(p, (char **)&p, 10);
    if (*p++ != '.')
        return -1;
    r->d = (int)strtol(p, (char **)&p, 10);
    if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d < 0 || r->d > 6)
        return -1;
    r->time = 2 * 3600;
    if (*p == '/' && (++p, parse_hms(&p, &r->time) < 0))
        return -1;
    *s = p;
    return 0;
}

/* A POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". Returns 0 or -1. */
static int parse_footer(struct ctz *z, const char *s)
{
    int32_t off;
    if (parse_abbr(&s) < 0 || parse_hms(&s, &off) < 0)
        return -1;
    z->std_off = -off;               /* POSIX counts west of Greenwich */
    z->has_footer = true;
    if (*s == '\0')
        return 0;
    if (parse_abbr(&s) < 0)
        return -1;
    z->dst_off = z->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (parse_hms(&s, &off) < 0)
            return -1;
        z->dst_off = -off;
    }
    if (*s++ != ',' || parse_rule(&s, &z->start) < 0 || *s++ != ',' ||
        parse_rule(&s, &z->end) < 0 || *s != '\0')
        return -1;
    z->footer_dst = true;
    return 0;
}

static void ctz_free(struct ctz *z)
{
    free(z->trans);
    free(z->idx);
    free(z->utoff);
    free(z->isdst);
    free(z);
}

/* Parses the version 2+ part of a TZif file (64-bit times). */
static struct ctz *parse_tzif(const unsigned char *b, size_t n, const char *name)
{
    if (n < 44 || memcmp(b, "TZif", 4) != 0 || b[4] < '2')
        return NULL;
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = be32(b + 20 + 4 * i);
    size_t v1 = (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
    if (44 + v1 + 44 > n)
        return NULL;
    const unsigned char *h = b + 44 + v1;
    if (memcmp(h, "TZif", 4) != 0)
        return NULL;
    for (int i = 0; i < 6; i++)
        c[i] = be32(h + 20 + 4 * i);
    uint32_t isut = c[0], isstd = c[1], leap = c[2], timecnt = c[3], typecnt = c[4], charcnt = c[5];
    if (typecnt == 0 || typecnt > 256 || timecnt > 100000)
        return NULL;
    size_t need = (size_t)timecnt * 9 + (size_t)typecnt * 6 + charcnt + (size_t)leap * 12 + isstd + isut;
    const unsigned char *p = h + 44;
    if ((size_t)(p - b) + need > n)
        return NULL;

    struct ctz *z = xcalloc(1, sizeof(*z));
    snprintf(z->name, sizeof(z->name), "%s", name);
    z->ntrans = timecnt;
    z->trans = xcalloc(timecnt + 1, sizeof(*z->trans));
    z->idx = xcalloc(timecnt + 1, 1);
    for (uint32_t i = 0; i < timecnt; i++)
        z->trans[i] = be64(p + 8 * i);
    p += 8 * (size_t)timecnt;
    for (uint32_t i = 0; i < timecnt; i++) {
        z->idx[i] = p[i];
        if (p[i] >= typecnt) {
            ctz_free(z);
            return NULL;
        }
    }
    p += timecnt;
    z->ntypes = typecnt;
    z->utoff = xcalloc(typecnt, sizeof(*z->utoff));
    z->isdst = xcalloc(typecnt, 1);
    for (uint32_t i = 0; i < typecnt; i++) {
        z->utoff[i] = (int32_t)be32(p + 6 * i);
        z->isdst[i] = p[6 * i + 4];
    }
    p += 6 * (size_t)typecnt + charcnt + (size_t)leap * 12 + isstd + isut;
    /* The footer: "\nTZSTRING\n". */
    if ((size_t)(p - b) < n && *p == '\n') {
        const unsigned char *e = memchr(p + 1, '\n', n - (size_t)(p - b) - 1);
        if (e && e - p - 1 < 80) {
            char tzs[80];
            memcpy(tzs, p + 1, (size_t)(e - p - 1));
            tzs[e - p - 1] = '\0';
            if (tzs[0] && parse_footer(z, tzs) < 0)
                z->has_footer = false;   /* keep the last transition's offset */
        }
    }
    return z;
}

static bool name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > CTIME_TZ_NAME_MAX || s[0] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '+' || ch == '/'))
            return false;
        /* No empty, "." or ".." component: the name stays below the zone folder. */
        if (ch == '/' && (i + 1 == n || s[i + 1] == '/'))
            return false;
    }
    return strstr(s, "..") == NULL;
}

const struct ctz *ctz_get(const char *name)
{
    if (!name_valid(name))
        return NULL;
    for (size_t i = 0; i < nzones; i++)
        if (strcmp(zones[i]->name, name) == 0)
            return zones[i];
    if (nzones == CTIME_ZONES_MAX)
        return NULL;

    struct ctz *z = NULL;
    if (strcmp(name, "UTC") == 0) {
        z = xcalloc(1, sizeof(*z));
        snprintf(z->name, sizeof(z->name), "UTC");
        z->has_footer = true;
    } else {
        char path[sizeof(ZONEINFO_DIR) + CTIME_TZ_NAME_MAX + 2];
        snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            return NULL;
        unsigned char *buf = xmalloc(TZIF_MAX);
        size_t n = fread(buf, 1, TZIF_MAX, f);
        fclose(f);
        z = parse_tzif(buf, n, name);
        free(buf);
        if (z == NULL)
            return NULL;
    }
    zones[nzones++] = z;
    return z;
}

const char *ctz_name(const struct ctz *z)
{
    return z->name;
}

void ctz_cache_free(void)
{
    for (size_t i = 0; i < nzones; i++)
        ctz_free(zones[i]);
    nzones = 0;
}

/* The UTC instant a rule fires in year y; local is the offset in force
 * just before it. */
static int64_t rule_instant(const struct tz_rule *r, int y, int32_t local)
{
    int64_t first = ctime_days(y, r->m, 1);
    int wd1 = (int)((first + 4) % 7);                /* 1970-01-01 was a Thursday */
    int day = 1 + (r->d - wd1 + 7) % 7 + (r->w - 1) * 7;
    while (day > month_days(y, r->m))
        day -= 7;
    return (first + day - 1) * 86400 + r->time - local;
}

static int32_t footer_offset(const struct ctz *z, int64_t t)
{
    if (!z->footer_dst)
        return z->std_off;
    int y, m, d;
    ctime_civil((t + z->std_off) / 86400 - ((t + z->std_off) % 86400 < 0), &y, &m, &d);
    int64_t start = rule_instant(&z->start, y, z->std_off);
    int64_t end = rule_instant(&z->end, y, z->dst_off);
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? z->dst_off : z->std_off;
}

int32_t ctz_offset(const struct ctz *z, int64_t t)
{
    if (z->ntrans == 0 || t < z->trans[0]) {
        if (z->ntrans == 0 && z->has_footer)
            return footer_offset(z, t);
        for (size_t i = 0; i < z->ntypes; i++)
            if (!z->isdst[i])
                return z->utoff[i];
        return z->ntypes ? z->utoff[0] : 0;
    }
    if (t >= z->trans[z->ntrans - 1] && z->has_footer)
        return footer_offset(z, t);
    size_t lo = 0, hi = z->ntrans;               /* last transition <= t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->utoff[z->idx[lo]];
}

int64_t ctz_midnight(const struct ctz *z, int y, int m, int d)
{
    int64_t local = ctime_days(y, m, d) * 86400;
    int64_t best = INT64_MAX;
    int64_t probes[] = { local - 86400, local, local + 86400 };

    /* A local time maps back to the instants t with t + offset(t) = local:
     * one, or two in the hour repeated in autumn (take the first). */
    for (int i = 0; i < 3; i++) {
        int64_t t = local - ctz_offset(z, probes[i]);
        if (t + ctz_offset(z, t) == local && t < best)
            best = t;
    }
    if (best != INT64_MAX)
        return best;
    /* Midnight was skipped (clocks went forward at 00:00): the first instant
     * whose local time is past it. */
    int64_t lo = local - 2 * 86400, hi = local + 2 * 86400;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (mid + ctz_offset(z, mid) >= local)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

void ctz_date(const struct ctz *z, int64_t t, char out[11])
{
    int64_t local = t + ctz_offset(z, t);
    int64_t days = local / 86400 - (local % 86400 < 0);
    int y, m, d;

    ctime_civil(days, &y, &m, &d);
    y = y < 0 ? 0 : y % 10000;
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y, (unsigned)m % 13u, (unsigned)d % 32u);
}

/* ---- the clock ---- */

long long cohort_now_ms(void)
{
#ifdef CAMPUS_TEST_HOOKS
    if (cfg.test_clock && cfg.test_clock[0]) {
        FILE *f = fopen(cfg.test_clock, "r");
        long long v = -1;
        if (f) {
            if (fscanf(f, "%lld", &v) != 1)
                v = -1;
            fclose(f);
        }
        if (v >= 0)
            return v;
    }
#endif
    return now_wall_ms();
}

int cohort_time_check_config(void)
{
#ifndef CAMPUS_TEST_HOOKS
    if (cfg.test_clock && cfg.test_clock[0]) {
        fprintf(stderr, "campusd: test_clock is only accepted by a build made for tests "
                        "(cmake -DCAMPUS_TEST_HOOKS=ON)\n");
        return -1;
    }
#endif
    return 0;
}
