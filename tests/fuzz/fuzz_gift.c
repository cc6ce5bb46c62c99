/* fuzz_gift.c: libFuzzer harness for the GIFT parser, grader and exporter. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "gift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gift_quiz quiz = {0}, again = {0};
    struct diag_list d = {0};

    gift_parse((const char *)data, size, 1, "fuzz", &d, &quiz);
    for (size_t i = 0; i < quiz.n; i++) {
        const struct gift_question *q = &quiz.q[i];
        size_t order[26];
        gift_choice_order(q, size, true, order);
        char *key = gift_key_answer(q, order);
        char *text = gift_key_text(q, order);
        struct gift_grade g;
        char err[200];
        if (gift_grade(q, order, key ? key : "a", &g, err, sizeof(err)) == 0)
            free(g.feedback);
        if (gift_grade(q, order, "1=a 2=b,c", &g, err, sizeof(err)) == 0)
            free(g.feedback);
        free(key);
        free(text);
    }
    /* What the exporter writes must parse again. */
    char *out = gift_export(&quiz);
    if (gift_parse(out, strlen(out), 1, "fuzz", &d, &again) == 0 && again.n != quiz.n)
        abort();
    free(out);
    gift_quiz_free(&again);
    gift_quiz_free(&quiz);
    diag_list_clear(&d);
    return 0;
}
