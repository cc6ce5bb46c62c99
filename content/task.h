/* task.h: case-study tasks (order, classify, numeric, network, rubric,
 * review, gift, pool): parsing their YAML and grading answers to them. */
#ifndef CAMPUS_TASK_H
#define CAMPUS_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "diag.h"
#include "gift.h"
#include "rubric.h"
#include "table.h"
#include "util.h"

/* The most a task's max_bytes may ask for: the largest answer a server takes. */
#define TASK_MAX_BYTES_MAX 1048576

enum task_type {
    TASK_ORDER, TASK_CLASSIFY, TASK_NUMERIC, TASK_NETWORK, TASK_RUBRIC,
    TASK_REVIEW, TASK_GIFT, TASK_POOL,
};

enum task_net_question {
    TASK_NET_DEGREE, TASK_NET_DENSITY, TASK_NET_MOST_CENTRAL, TASK_NET_BROKER,
    TASK_NET_ISOLATED,
};

/* A level of an analytic rubric's criterion (Moodle's rubric grading
 * method): what an answer at that level does, and what it earns. */
struct task_level {
    double points;            /* distinct within a criterion: the trainer names a level by them */
    char *text;
};

/* A criterion of an analytic rubric: levels in the author's order. */
struct task_criterion {
    char *id;                 /* what the trainer types */
    char *name;
    struct task_level *levels;
    size_t nlevels;
    double max;               /* the points of its best level */
};

/* An item of an order or classify task. */
struct task_item {
    char *text;
    char *category;   /* classify: the key of the right category */
    char *feedback;   /* classify: "" when absent */
};

struct task_category {
    char *key;        /* what the learner types */
    char *name;       /* what the learner reads */
};

struct task {
    char *id;
    enum task_type type;
    int line;                 /* file line of the task's first line */
    char *prompt;             /* "" for gift and pool */
    double weight;
    char *feedback;           /* general feedback, "" when absent */
    bool info;                /* a GIFT description: shown, never graded */
    long max_bytes;           /* longest answer taken, bytes; 0: the server's default */

    /* order, classify */
    struct task_item *items;
    size_t nitems;
    struct task_category *cats;
    size_t ncats;

    /* numeric and network: the expected number and its tolerance */
    double expected;
    double tol;
    bool tol_relative;        /* tol is a percentage of expected */
    char *unit;               /* "" when none */

    /* network */
    enum task_net_question net_question;
    char **names;             /* expected actor names (most-central, broker, isolated) */
    size_t nnames;

    /* rubric, and the answers its self-check grades */
    struct rubric rubric;
    char *model;              /* a model answer, NULL when none; a rubric task's
                               * must score 100 (the self-check) */
    int model_line;
    char **bad;               /* answers that must stay below the pass mark */
    int *bad_lines;
    size_t nbad;

    /* review */
    double points;

    /* marking (review and rubric tasks): for trainers only, never in a
     * learner's view or result */
    char *guide;              /* how to mark; "" when absent (the model answer is
                               * `model` above, for review tasks too) */
    struct task_criterion *criteria;   /* an analytic rubric, or NULL */
    size_t ncriteria;
    bool confirm_trainer;     /* rubric: the machine's score waits for a trainer */

    /* gift: one question; pool: the questions to draw from */
    struct gift_quiz quiz;
    size_t draw;
};

/* Parses one ```task block (YAML, len bytes) whose first line is file line
 * first_line. tables are the data tables of the same file (for compute: and
 * network tasks). Problems go to diags at their line. Returns the task
 * (free with task_free) or NULL when it has errors. */
struct task *task_parse(const char *yaml, size_t len, int first_line, const char *path,
                        const struct table *const *tables, size_t ntables,
                        struct diag_list *diags);

void task_free(struct task *t);

const char *task_type_name(enum task_type t);

/* The points a trainer grades a task on: a review task's points (the sum of
 * its criteria's best levels when it has criteria), a rubric task's points;
 * 100 for anything else a trainer grades (essays), where points are a
 * percentage. */
double task_points(const struct task *t);

/* The criterion with this id, or NULL. */
const struct task_criterion *task_criterion_find(const struct task *t, const char *id);

/* The level of c worth exactly these points, or NULL. */
const struct task_level *task_level_find(const struct task_criterion *c, double points);

/* --- Presentation ------------------------------------------------------- */

/* The per-task seed: the learner's seed mixed with the task id. */
uint64_t task_seed(const struct task *t, uint64_t seed);

/* Order of the items shown (order and classify): perm[k] is the item shown
 * as number k+1. Order tasks are always shuffled (never in the right order
 * when there are two items or more); classify items only when shuffle is
 * true. perm holds nitems entries. */
void task_item_order(const struct task *t, uint64_t seed, bool shuffle, size_t *perm);

/* Pool: the indexes of the draw questions drawn for this seed, in the order
 * shown (drawn[0..t->draw)). */
void task_pool_draw(const struct task *t, uint64_t seed, size_t *drawn);

/* The seed of the k-th drawn question of a pool (its choice order). */
uint64_t task_pool_seed(const struct task *t, uint64_t seed, size_t k);

/* --- Grading ------------------------------------------------------------ */

struct task_result {
    double score;          /* 0 to 100; 0 while pending */
    bool pending;          /* waits for a trainer */
    bool provisional;      /* pending, with the machine's suggestion in suggested */
    double suggested;      /* 0 to 100: what the machine would give (confirm: trainer) */
    bool answered;         /* the document had an answer for it */
    char *feedback;        /* owned, "" when none */
    char *key;             /* owned: the right answer in words, or NULL */
    char *response;        /* owned copy of the learner's answer (all of a
                            * pool's lines), "" when unanswered */
};

/* Grades the task's answer(s) in doc: the entry named after the task (pool:
 * "ID.1" to "ID.K"). A missing entry scores 0 and is not an error. Returns 0
 * and fills out (free with task_result_free), or -1 with a message in err
 * naming the task and what was expected. */
int task_grade(const struct task *t, uint64_t seed, bool shuffle, const struct answer_doc *doc,
               struct task_result *out, char *err, size_t errlen);
/* The same with what was expected said in lang (msg.h). */
int task_grade_lang(const struct task *t, uint64_t seed, bool shuffle,
                    const struct answer_doc *doc, struct task_result *out, const char *lang,
                    char *err, size_t errlen);

void task_result_free(struct task_result *r);

/* Answer-document lines that score 100 for this seed ("id: answer\n", one
 * per line; pool: one per drawn question; free text over several lines is
 * never needed), appended to b. Nothing for review tasks, essays and
 * descriptions. */
void task_key_lines(const struct task *t, uint64_t seed, bool shuffle, struct sbuf *b);

#endif
