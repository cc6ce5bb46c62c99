/* gift.h: Moodle GIFT quiz questions: parsing, grading and writing back. */
#ifndef CAMPUS_GIFT_H
#define CAMPUS_GIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* The question types of Moodle's GIFT import, decided the way Moodle decides
 * them (see docs/AUTHORING.md, "Quizzes in GIFT"). */
enum gift_type {
    GIFT_DESCRIPTION,   /* no answer block: text only, not graded */
    GIFT_ESSAY,         /* {}: free text, graded by a trainer */
    GIFT_CHOICE,        /* one answer chosen; "=" marks the right one */
    GIFT_MULTI,         /* several answers chosen, weights add up */
    GIFT_TRUEFALSE,     /* {T} {F} {TRUE} {FALSE} */
    GIFT_SHORT,         /* typed text compared with the "=" answers */
    GIFT_NUMERICAL,     /* {#...}: a number within a tolerance */
    GIFT_MATCH,         /* {=a -> b ...}: pairs */
};

enum gift_format { GIFT_FMT_MOODLE, GIFT_FMT_HTML, GIFT_FMT_PLAIN, GIFT_FMT_MARKDOWN };

/* One answer of a question. Strings are owned; feedback is "" when absent. */
struct gift_answer {
    char *text;         /* option or accepted text; matching: the left side
                         * ("" for an extra wrong right-hand side) */
    char *match;        /* matching only: the right-hand side; else NULL */
    char *feedback;
    double weight;      /* percent of the mark, -100 to 100 */
    double value, tol;  /* numerical only: accepted is value +- tol */
};

struct gift_question {
    enum gift_type type;
    int line;                  /* file line where the question starts */
    char *category;            /* the $CATEGORY in effect, or NULL */
    char *name;                /* ::name::, or NULL */
    enum gift_format format;   /* of the question text */
    char *text;                /* question text; "_____" marks the place of
                                * the answer block in a missing-word question */
    char *general_feedback;    /* after ####, "" when absent */
    struct gift_answer *answers;
    size_t nanswers;
    bool truth;                /* true/false: the right answer */
    char *fb_wrong, *fb_right; /* true/false: feedback for a wrong and a right
                                * answer; numerical: fb_wrong is the ~ feedback
                                * for any answer outside every range */
};

struct gift_quiz {
    struct gift_question *q;
    size_t n;
};

/* Parses GIFT text (len bytes, need not be NUL-terminated). first_line is the
 * file line of its first line; path names the file in diagnostics. Questions
 * are appended to quiz (zero-initialise it first). Every problem is added to
 * diags at its exact line. Returns 0 when no error was found, else -1 (the
 * questions without errors are still appended). Free with gift_quiz_free. */
int gift_parse(const char *src, size_t len, int first_line, const char *path,
               struct diag_list *diags, struct gift_quiz *quiz);

void gift_quiz_free(struct gift_quiz *quiz);
void gift_question_free(struct gift_question *q);
/* Deep copy into dst (caller frees with gift_question_free). */
void gift_question_copy(struct gift_question *dst, const struct gift_question *src);

/* Human name of a type ("multiple choice", ...). */
const char *gift_type_name(enum gift_type t);

/* Writes the questions back as GIFT text the caller frees. Parsing the
 * result gives the same questions (same types, texts, weights, feedback). */
char *gift_export(const struct gift_quiz *quiz);

/* --- Presentation order ------------------------------------------------- */

/* Number of choices the learner sees: options of a choice question, the
 * distinct right-hand sides of a matching question, 0 otherwise. */
size_t gift_nchoices(const struct gift_question *q);

/* Fills order[0..gift_nchoices) with the answer (or, for matching, distinct
 * right-hand side) index shown at each position: shuffled with seed when
 * shuffle is true, else in file order. order must hold gift_nchoices
 * entries. The same seed always gives the same order. */
void gift_choice_order(const struct gift_question *q, uint64_t seed, bool shuffle,
                       size_t *order);

/* Text of the choice at index idx of gift_nchoices (option text, or matching
 * right-hand side). Borrowed from q. */
const char *gift_choice_text(const struct gift_question *q, size_t idx);

/* Number of subquestions (left sides) of a matching question. */
size_t gift_match_count(const struct gift_question *q);

/* --- Grading ------------------------------------------------------------ */

struct gift_grade {
    double score;        /* 0 to 100 */
    bool pending;        /* essay: a trainer grades it */
    char *feedback;      /* owned, "" when there is none */
};

/* Grades the learner's answer text (see "Answer documents" in
 * docs/AUTHORING.md) to q, shown in the order gift_choice_order gave.
 * An empty answer scores 0. Returns 0 and fills out (caller frees
 * out->feedback), or -1 with a message saying what was expected in err when
 * the answer has the wrong form. */
int gift_grade(const struct gift_question *q, const size_t *order, const char *answer,
               struct gift_grade *out, char *err, size_t errlen);
/* The same with what was expected said in lang ("fr", "es"; English
 * otherwise: msg.h). */
int gift_grade_lang(const struct gift_question *q, const size_t *order, const char *answer,
                    struct gift_grade *out, const char *lang, char *err, size_t errlen);

/* The answer that scores 100 in the given order, as a learner would type it
 * (caller frees), or NULL for descriptions and essays. */
char *gift_key_answer(const struct gift_question *q, const size_t *order);

/* A short human statement of the right answer(s), e.g. "b (Nazareth)",
 * caller frees; NULL for descriptions and essays. */
char *gift_key_text(const struct gift_question *q, const size_t *order);

/* Shared helpers: a 64-bit mix of seed and a string, and a seeded shuffle
 * of perm[0..n) (perm is filled with 0..n-1 first). */
uint64_t gift_seed_mix(uint64_t seed, const char *s);
void gift_shuffle(size_t *perm, size_t n, uint64_t seed);

#endif
