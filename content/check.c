/* check.c: the course checker behind `campusd --check DIR`. */
#include "catalog.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int content_check(const char *dir, FILE *out)
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
    catalog_unref(cat);
    return rc;
}
