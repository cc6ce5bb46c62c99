/* courses.c: the live course catalogue of this process, and its reload:
 * a new catalogue is built beside the live one and swapped in only if it
 * has no errors; requests holding the old one finish on it. */
#include "campusd.h"

#include <stdio.h>
#include <string.h>

#include "catalog.h"

static struct catalog *live;
static char live_version[COURSES_VERSION_LEN + 1];
static long long live_loaded_ms;

/* The catalogue's version: the first hex digits of a SHA-256 over every
 * lesson's id and file hash, in course order. Two machines that loaded the
 * same files show the same version; any edit changes it. */
static void version_of(const struct catalog *cat, char out[COURSES_VERSION_LEN + 1])
{
    struct sbuf all = {0};
    char hex[65];

    for (size_t c = 0; c < cat->ncourses; c++) {
        const struct course *co = cat->courses[c];
        for (size_t m = 0; m < co->nmodules; m++)
            for (size_t l = 0; l < co->modules[m]->nlessons; l++) {
                const struct lesson *le = co->modules[m]->lessons[l];
                sbuf_printf(&all, "%s %s\n", le->full_id, le->version);
            }
    }
    sha256_hex(all.data ? all.data : "", all.len, hex);
    memcpy(out, hex, COURSES_VERSION_LEN);
    out[COURSES_VERSION_LEN] = '\0';
    sbuf_free(&all);
}

const char *courses_version(void)
{
    return live_version;
}

long long courses_loaded_ms(void)
{
    return live_loaded_ms;
}

struct catalog *courses_current(void)
{
    return live;
}

/* Loads cfg.courses_dir. Prints every problem to the log. Returns 0 when a
 * catalogue is live afterwards (the new one, or the old one kept), -1 if the
 * new one has errors. */
int courses_reload(void)
{
    return courses_reload_report(NULL);
}

int courses_reload_report(struct sbuf *report)
{
    struct diag_list diags = {0};
    struct catalog *next = catalog_load(cfg.courses_dir, &diags);

    for (size_t i = 0; i < diags.count; i++) {
        const struct diag *d = &diags.items[i];
        const char *sev = d->severity == DIAG_ERROR ? "error" : "warning";
        log_msg(d->severity == DIAG_ERROR ? LOG_ERROR : LOG_WARN, "%s/%s:%d: %s: %s",
                cfg.courses_dir, d->path, d->line, sev, d->msg);
        if (report)
            sbuf_printf(report, "%s:%d: %s: %s\n", d->path, d->line, sev, d->msg);
    }
    diag_list_clear(&diags);
    if (next == NULL) {
        log_error("courses: %s has errors; %s", cfg.courses_dir,
                  live ? "keeping the catalogue in service" : "no catalogue loaded");
        return -1;
    }
    struct catalog *old = live;
    live = next;
    version_of(next, live_version);
    live_loaded_ms = now_wall_ms();
    log_info("courses: %zu courses, %zu lessons loaded from %s (version %s)", next->ncourses,
             next->nlessons, cfg.courses_dir, live_version);
    catalog_unref(old);
    return 0;
}

void courses_free(void)
{
    catalog_unref(live);
    live = NULL;
}
