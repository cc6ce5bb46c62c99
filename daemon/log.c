/* log.c: timestamped log lines on stderr, filtered by level. */
#include "campusd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static const char *names[] = { "debug", "info", "warn", "error" };

void log_set_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, names[i]) == 0)
            min_level = (enum log_level)i;
}

void time_iso(long long ms, bool millis, char out[TIME_ISO_MAX])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    size_t k = strftime(out, TIME_ISO_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    if (millis)
        snprintf(out + k, TIME_ISO_MAX - k, ".%03dZ", (int)(ms % 1000));
    else
        snprintf(out + k, TIME_ISO_MAX - k, "Z");
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
    char buf[1024], ts[TIME_ISO_MAX];

    time_iso(now_wall_ms(), true, ts);
    int n = snprintf(buf, sizeof(buf), "%s [%d] %s: ", ts, (int)getpid(), names[level]);
    vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    fprintf(stderr, "%s\n", buf);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    if (level < min_level)
        return;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

void fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_ERROR, fmt, ap);
    va_end(ap);
    abort();
}
