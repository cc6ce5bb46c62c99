/* courses.c: the live course catalogue of this process, and its reload:
 * a new catalogue is built beside the live one and swapped in only if it
 * has no errors; requests holding the old one finish on it. */
#include "campusd.h"

#include <stdio.h>

#include "catalog.h"

static struct catalog *live;

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
    log_info("courses: %zu courses, %zu lessons loaded from %s", next->ncourses,
             next->nlessons, cfg.courses_dir);
    catalog_unref(old);
    return 0;
}

void courses_free(void)
{
    catalog_unref(live);
    live = NULL;
}
