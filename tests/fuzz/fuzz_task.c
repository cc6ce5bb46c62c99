/* fuzz_task.c: libFuzzer harness for task blocks, graded with their key. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "diag.h"
#include "table.h"
#include "task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct table *const *fuzz_tables(void)
{
    static struct table *t[2];
    static const struct table *ct[2];
    if (t[0] == NULL) {
        char err[100];
        int line;
        const char *p = "group,count\nproducers,46\ntraders,4\n";
        const char *l = "from,to\nA,B\nB,C\nB,D\nE,\n";
        t[0] = table_parse("people", p, strlen(p), 1, err, sizeof(err), &line);
        t[1] = table_parse("links", l, strlen(l), 1, err, sizeof(err), &line);
        ct[0] = t[0];
        ct[1] = t[1];
    }
    return ct;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag_list d = {0};
    struct task *t = task_parse((const char *)data, size, 1, "fuzz", fuzz_tables(), 2, &d);
    if (t) {
        struct sbuf key = {0};
        task_key_lines(t, size, true, &key);
        struct answer_doc ad;
        char err[300];
        if (answer_parse(key.data ? key.data : "", key.len, &ad, err, sizeof(err)) == 0) {
            struct task_result r;
            if (task_grade(t, size, true, &ad, &r, err, sizeof(err)) == 0)
                task_result_free(&r);
            answer_doc_free(&ad);
        }
        sbuf_free(&key);
        task_free(t);
    }
    diag_list_clear(&d);
    return 0;
}
