/* fuzz_load.c: libFuzzer entry point: a lesson file loaded, rendered and searched. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is one lesson file (front matter and Markdown). It is loaded
 * from memory as the lesson memory/lesson, which parses the front matter,
 * the body, tables and exercise blocks and renders HTML and text; then the
 * text is rendered again at other widths with ANSI styles, and the search
 * index is queried with the first words of the input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag_list diags = {0};
    struct catalog *cat = catalog_load_memory((const char *)data, size, &diags);

    if (cat) {
        const struct lesson *l = catalog_lesson(cat, "memory/lesson");
        static const int widths[] = {1, 20, 33, 80, 5000};
        for (size_t i = 0; l && i < sizeof(widths) / sizeof(widths[0]); i++) {
            char *t = catalog_lesson_text(l, widths[i], i % 2 == 0);
            free(t);
        }
        char query[64];
        size_t n = size < sizeof(query) - 1 ? size : sizeof(query) - 1;
        memcpy(query, data, n);
        query[n] = '\0';
        struct search_result r[4];
        search_query(cat, query, r, 4);
        catalog_unref(cat);
    }
    diag_list_clear(&diags);
    return 0;
}
