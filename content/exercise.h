/* exercise.h: a graded exercise (a quiz lesson or a case study) built from
 * its file's gift and task blocks: settings, learner view, grading,
 * self-check. */
#ifndef CAMPUS_EXERCISE_H
#define CAMPUS_EXERCISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "table.h"
#include "task.h"

enum exercise_block_kind { EXERCISE_BLOCK_GIFT, EXERCISE_BLOCK_TASK };

/* A fenced block of the file: its content (without the fences) and the
 * file line of its first content line. */
struct exercise_block {
    enum exercise_block_kind kind;
    const char *text;
    size_t len;
    int first_line;
};

struct exercise_src {
    const char *path;              /* for diagnostics */
    const char *course_id;
    const char *exercise_id;
    const char *title;
    const char *front_matter;      /* the YAML between the --- lines, may be NULL */
    size_t front_matter_len;
    int front_matter_line;         /* file line of the first YAML line */
    const struct exercise_block *blocks;
    size_t nblocks;
    const struct table *const *tables;  /* the file's data tables, borrowed */
    size_t ntables;
};

enum exercise_policy { EXERCISE_POLICY_BEST, EXERCISE_POLICY_LAST, EXERCISE_POLICY_AVERAGE };
enum exercise_reveal {
    EXERCISE_REVEAL_NEVER, EXERCISE_REVEAL_AFTER_PASS, EXERCISE_REVEAL_AFTER_LAST_ATTEMPT,
};

/* What a learner sees of a graded attempt, each level with the ones before:
 * the scores, then each task's feedback, then the keys. */
enum exercise_show { EXERCISE_SHOW_SCORE, EXERCISE_SHOW_FEEDBACK, EXERCISE_SHOW_KEYS };

/* When everything (feedback and keys) is shown, as bits: after every
 * attempt, once passed, after the last attempt, after the due date. Before
 * that, the learner sees what show says. */
#define EXERCISE_WHEN_ATTEMPT 1u
#define EXERCISE_WHEN_PASSED  2u
#define EXERCISE_WHEN_LAST    4u
#define EXERCISE_WHEN_DUE     8u

struct exercise {
    char *path, *course_id, *id, *title;
    int attempts;                  /* 0: unlimited */
    double pass;                   /* pass mark, 0..100 */
    enum exercise_policy policy;
    double weight;                 /* in the course grade */
    enum exercise_reveal reveal;   /* the older setting, folded into show_when */
    enum exercise_show show;       /* after each attempt (default: feedback) */
    unsigned show_when;            /* EXERCISE_WHEN_* bits, 0: never (default: passed, last) */
    long long due;                 /* ms since the epoch, 0: none */
    bool shuffle;
    bool late_counts;              /* late: a SUBMIT past a cohort's due date counts in grades */
    struct task **tasks;           /* in file order; GIFT questions of gift
                                    * blocks are tasks q1, q2, ... */
    size_t ntasks;
};

/* Builds the exercise. Settings come from the front matter (attempts: 0,
 * pass: 60, policy: best, weight: 1, reveal: after-pass, shuffle: true when
 * absent; other keys are left to the loader). Returns NULL when there are
 * errors, all reported in diags at their file line; also NULL (with an
 * error) when no block holds a gradable question or task. Free with
 * exercise_free. The source may be freed after the call. */
struct exercise *exercise_build(const struct exercise_src *src, struct diag_list *diags);
void exercise_free(struct exercise *ex);

int exercise_attempts(const struct exercise *ex);
double exercise_pass(const struct exercise *ex);
enum exercise_policy exercise_policy(const struct exercise *ex);
double exercise_weight(const struct exercise *ex);
enum exercise_reveal exercise_reveal(const struct exercise *ex);
const char *exercise_policy_name(enum exercise_policy p);
const char *exercise_reveal_name(enum exercise_reveal r);

/* The score that counts under policy p for the scores of the attempts made,
 * oldest first: the best, the last, or the mean; 0 when n is 0. */
double exercise_policy_score(enum exercise_policy p, const double *scores, size_t n);

/* The task with this id, or NULL. */
const struct task *exercise_task(const struct exercise *ex, const char *id);

/* Grades the exercise against its own keys for a few seeds: every task must
 * score 100 with its key, and every wrong option of a choice question must
 * score below 100. Failures are errors at the task's line. Returns 0 when
 * all pass, else -1. */
int exercise_self_check(const struct exercise *ex, struct diag_list *diags);

/* Gives rubric tasks the text around them (a case study's narrative) to
 * compare answers with: an answer copied from it scores 0, as one copied
 * from the task's prompt does. text is copied. */
void exercise_set_case_text(struct exercise *ex, const char *text);

/* --- Learner view ------------------------------------------------------- */

/* What a learner sees for this seed: prompts, items and options in their
 * seeded order, pool draws, how to answer each task. Never keys, feedback
 * or weights of options. Text: lines for a terminal; JSON: a document (see
 * docs/AUTHORING.md). Both return new strings the caller frees. */
char *exercise_view_text(const struct exercise *ex, uint64_t seed);
char *exercise_view_json(const struct exercise *ex, uint64_t seed);
/* The same with the view's own words (attempts, pass mark, how to answer)
 * in lang: "fr" or "es", English otherwise (msg.h). */
char *exercise_view_text_lang(const struct exercise *ex, uint64_t seed, const char *lang);
char *exercise_view_json_lang(const struct exercise *ex, uint64_t seed, const char *lang);

/* --- Grading ------------------------------------------------------------ */

struct grade_task {
    char *id;                      /* task id (gift questions: q1, q2, ...) */
    enum task_type type;
    double weight;
    double score;                  /* 0..100; 0 while pending */
    bool pending;                  /* waits for a trainer (review, essay) */
    bool provisional;              /* pending with a machine suggestion (confirm: trainer) */
    double suggested;              /* 0..100, when provisional */
    double points;                 /* the task's points (task_points) */
    bool answered;
    char *feedback;                /* "" when none */
    char *key;                     /* the right answer in words, or NULL */
    char *response;                /* the learner's answer as given */
};

struct grade_result {
    double score;                  /* weighted mean of task scores, 0..100;
                                    * pending tasks count 0 until reviewed */
    double pass;                   /* the pass mark used */
    bool passed;                   /* score >= pass and nothing pending */
    size_t pending;                /* tasks waiting for a trainer */
    struct grade_task *tasks;
    size_t ntasks;
};

/* Grades an answer document for the learner's seed (the seed their view was
 * made with). Returns 0 and fills out (free with grade_result_free), or -1
 * with a message naming the task and what was expected in err when the
 * document is malformed (an attempt the caller should not count). Answers
 * for unknown tasks are malformed; missing answers score 0. */
int exercise_grade(const struct exercise *ex, uint64_t seed, const char *doc, size_t len,
                   struct grade_result *out, char *err, size_t errlen);
/* The same with what was expected said in lang: "fr" or "es", English
 * otherwise (msg.h). */
int exercise_grade_lang(const struct exercise *ex, uint64_t seed, const char *doc, size_t len,
                        const char *lang, struct grade_result *out, char *err, size_t errlen);

/* A trainer's score (0..100) for a pending task; recomputes the total and
 * passed. Returns 0, or -1 when no pending task has that id. */
int grade_result_review(struct grade_result *r, const char *task_id, double score,
                        const char *feedback);

void grade_result_free(struct grade_result *r);

/* The result as text lines ("score 75.0 passed", then one line per task) and
 * as a JSON document; keys are included only when reveal is true. */
char *grade_result_text(const struct grade_result *r, bool reveal);
char *grade_result_json(const struct grade_result *r, bool reveal);

/* The same, showing only what show allows: scores alone, feedback too, or
 * keys as well. */
char *grade_result_text_shown(const struct grade_result *r, enum exercise_show show);
/* The same with the frame's words (score, passed, pending review, answer)
 * in lang: "fr" or "es", English for anything else (NULL too). */
char *grade_result_text_lang(const struct grade_result *r, enum exercise_show show,
                             const char *lang);

char *grade_result_json_shown(const struct grade_result *r, enum exercise_show show);

/* What the learner sees of an attempt now: ex->show, or everything once a
 * show_when condition holds (passed, the attempt is the last one, now_ms is
 * past the due date). */
enum exercise_show exercise_shown(const struct exercise *ex, bool passed, long attempt,
                                  long long now_ms);
const char *exercise_show_name(enum exercise_show s);

#endif
