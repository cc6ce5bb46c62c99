/* lesson_exercise.c: handing a lesson's exercise blocks to the grading engine. */
#include "exercise.h"
#include "loader.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A ```trainer TASKID block must name a task of its own file. */
static void check_trainer_tasks(struct loader *l, const struct lesson *les)
{
    for (size_t i = 0; i < les->ntrainer_blocks; i++) {
        const char *task = les->trainer_tasks[i];
        bool found = task[0] == '\0';
        for (size_t j = 0; les->exercise && j < les->exercise->ntasks && !found; j++)
            found = strcmp(les->exercise->tasks[j]->id, task) == 0;
        if (!found && (les->exercise || les->nexercises == 0))
            diag_add(l->diags, DIAG_ERROR, les->path, les->trainer_lines[i],
                     "trainer block names task '%s', which this file has not", task);
    }
}

void lesson_build_exercise(struct loader *l, struct lesson *les)
{
    if (les->nexercises == 0) {
        check_trainer_tasks(l, les);
        return;
    }
    struct exercise_block *blocks = xcalloc(les->nexercises, sizeof(*blocks));
    for (size_t i = 0; i < les->nexercises; i++) {
        const struct exercise_source *x = &les->exercises[i];
        blocks[i] = (struct exercise_block){
            .kind = x->kind == EXERCISE_SOURCE_GIFT ? EXERCISE_BLOCK_GIFT : EXERCISE_BLOCK_TASK,
            .text = x->text,
            .len = x->len,
            .first_line = x->line,
        };
    }
    struct exercise_src src = {
        .path = les->path,
        .course_id = les->course->id,
        .exercise_id = les->id,
        .title = les->title,
        .front_matter = les->front_matter,
        .front_matter_len = strlen(les->front_matter),
        .front_matter_line = les->front_matter_line,
        .blocks = blocks,
        .nblocks = les->nexercises,
        .tables = (const struct table *const *)les->tables,
        .ntables = les->ntables,
    };
    les->exercise = exercise_build(&src, l->diags);
    if (les->exercise) {
        exercise_set_case_text(les->exercise, les->text);
        exercise_self_check(les->exercise, l->diags);
    }
    check_trainer_tasks(l, les);
    free(blocks);
}
