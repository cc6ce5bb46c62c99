/* check.c: the course checker behind `campusd --check DIR`. */
#include "catalog.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* campusd --check exits right after it prints: the catalogue it loaded
 * (some hundred thousand blocks; freeing them took a tenth of a check's
 * time) is left to the exit, except under AddressSanitizer, whose leak
 * check would take it for a leak and which should see catalog_free run. */
#if defined(__SANITIZE_ADDRESS__)
#define CHECK_FREES_CATALOG 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHECK_FREES_CATALOG 1
#endif
#endif
#ifndef CHECK_FREES_CATALOG
#define CHECK_FREES_CATALOG 0
#endif

static int check(const char *dir, FILE *out, bool keep)
{
    struct diag_list diags = {0};
    struct catalog *cat = catalog_load(dir, &diags);
    size_t dl = strlen(dir);

    /* Paths are printed as the user typed the folder, then the path inside. */
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    for (size_t i = 0; i < diags.count; i++) {
        struct diag *d = &diags.items[i];
        char *p = strcmp(d->path, ".") == 0 ? xstrndup(dir, dl)
                                            : xasprintf("%.*s/%s", (int)dl, dir, d->path);
        free(d->path);
        d->path = p;
    }
    diag_print(&diags, out);
    int rc = diags.errors ? 1 : 0;
    diag_list_clear(&diags);
    catalog_load_span("diagnostics");
    if (!keep || CHECK_FREES_CATALOG) {
        catalog_unref(cat);
        catalog_load_span("free");
    }
    return rc;
}

int content_check(const char *dir, FILE *out)
{
    return check(dir, out, false);
}

int content_check_exit(const char *dir, FILE *out)
{
    return check(dir, out, true);
}
