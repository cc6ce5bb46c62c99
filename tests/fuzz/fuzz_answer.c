/* fuzz_answer.c: libFuzzer harness for answer documents of an exercise. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "diag.h"
#include "exercise.h"
#include "table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const blocks[] = {
    "Pick {=a ~b ~%50%c}\n\nMany {~%50%x ~%50%y ~%-100%z}\n\nSun {T}\n\nWord {=cluster*}\n\n"
    "Year {#1822:2}\n\nMatch {=a -> 1 =b -> 2 =c -> 3}\n\nEssay {}\n",
    "id: ph\ntype: order\nprompt: p\nitems: [a, b, c]\n",
    "id: sw\ntype: classify\nprompt: p\ncategories: {s: S, w: W}\nitems:\n  - text: x\n"
    "    answer: s\n  - text: y\n    answer: w\n",
    "id: nu\ntype: numeric\nprompt: p\ncompute: sum(people.count)\ntolerance: 2%\nunit: kg\n",
    "id: br\ntype: network\ntable: links\nquestion: broker\nprompt: p\n",
    "id: is\ntype: network\ntable: links\nquestion: isolated\nprompt: p\n",
    "id: ru\ntype: rubric\nprompt: p\nconcepts:\n  - name: t\n    points: 1\n    words: [trust]\n",
    "id: re\ntype: review\nprompt: p\n",
    "id: po\ntype: pool\ndraw: 2\nquestions: |\n  A {T}\n\n  B {#2}\n\n  C {=c ~d}\n",
};

static struct exercise *fuzz_exercise(void)
{
    static struct exercise *ex;
    static struct table *t[2];
    if (ex == NULL) {
        char err[100];
        int line;
        const char *p = "group,count\nproducers,46\ntraders,4\n";
        const char *l = "from,to\nA,B\nB,C\nB,D\nE,\n";
        t[0] = table_parse("people", p, strlen(p), 1, err, sizeof(err), &line);
        t[1] = table_parse("links", l, strlen(l), 1, err, sizeof(err), &line);
        static const struct table *ct[2];
        ct[0] = t[0];
        ct[1] = t[1];
        struct exercise_block b[sizeof(blocks) / sizeof(blocks[0])];
        for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
            b[i] = (struct exercise_block){ i ? EXERCISE_BLOCK_TASK : EXERCISE_BLOCK_GIFT,
                                            blocks[i], strlen(blocks[i]), (int)(10 * i + 1) };
        struct exercise_src src = { .path = "fuzz", .course_id = "c", .exercise_id = "e",
                                    .title = "Fuzz", .blocks = b,
                                    .nblocks = sizeof(blocks) / sizeof(blocks[0]),
                                    .tables = ct, .ntables = 2 };
        struct diag_list d = {0};
        ex = exercise_build(&src, &d);
        diag_list_clear(&d);
        if (ex == NULL)
            abort();
    }
    return ex;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct grade_result r;
    char err[300];
    if (exercise_grade(fuzz_exercise(), size, (const char *)data, size, &r, err, sizeof(err)) == 0) {
        if (r.score < 0 || r.score > 100)
            abort();
        char *s = grade_result_text(&r, true);
        free(s);
        s = grade_result_json(&r, true);
        free(s);
        grade_result_free(&r);
    }
    return 0;
}
