/* rubric.h: matching free text against concepts with synonyms, and the text
 * folding (case, accents, spacing, stems) that matching relies on. */
#ifndef CAMPUS_RUBRIC_H
#define CAMPUS_RUBRIC_H

#include <stdbool.h>
#include <stddef.h>

/* Folds UTF-8 text for comparison: lower case (ASCII, Latin-1, Latin
 * Extended-A, Greek, Cyrillic), accents removed when strip_accents is true
 * (precomposed Latin letters and combining marks), every run of white space
 * made one space, no leading or trailing space. Other characters (CJK, ...)
 * are kept as they are. Returns a new string the caller frees. */
char *rubric_fold(const char *s, bool strip_accents);

/* Splits folded text into words: every character that is not a letter or a
 * digit (ASCII punctuation, spaces) separates words; non-ASCII characters
 * count as letters, and each CJK ideograph is a word of its own. Each word
 * is reduced by rubric_stem. Returns the count; *words gets an array of
 * owned strings (free with rubric_words_free). */
size_t rubric_words(const char *s, char ***words);
void rubric_words_free(char **words, size_t n);

/* Simple English stemming in place: plural and common suffixes
 * (-ies, -es, -s, -ing, -ed, -ly, -ment, -ation) are cut from words longer
 * than four letters, so "clusters", "clustering" and "clustered" meet. */
void rubric_stem(char *word);

/* Limits and defaults of free-text grading. */
#define RUBRIC_MIN_WORDS_DEFAULT 25 /* own words an answer needs (min_words) */
#define RUBRIC_NEGATION_REACH 3     /* a negation this many words before a phrase denies it */
#define RUBRIC_KEYWORD_SHARE 0.5    /* answers with more concept words than this are lists */
#define RUBRIC_FUNCTION_SHARE 0.1   /* ...and answers with fewer small words than this */
#define RUBRIC_LIST_FROM 8          /* the list check starts at this many words */
#define RUBRIC_TTR_MIN 0.4          /* distinct words over words, below it an answer repeats */
#define RUBRIC_TTR_FROM 20          /* the repetition check starts at this many words */
#define RUBRIC_COPY_SHARE 0.5       /* share of 4-word runs taken from the prompt */
#define RUBRIC_COPY_RUN 4
#define RUBRIC_WORDS_MAX 2000       /* words of an answer that are read; the rest is ignored */
#define RUBRIC_SPAN_MAX 60          /* words a pattern's match may span, even in one sentence */

/* A phrase or pattern is text as the author writes it: words that must occur
 * consecutively, and " ... " between parts that may have other words between
 * them ("agent ... buy ... equipment"). All of a match lies in one sentence,
 * or within window words when the rubric sets a window. */

/* A task-level contradiction: any of its phrases in the answer (not negated)
 * costs cost points and shows why. */
struct rubric_against {
    char **words;      /* owned phrases or patterns */
    size_t nwords;
    double cost;
    char *why;         /* owned, "" when none */
};

struct rubric_concept {
    char *name;        /* owned; shown in feedback */
    double points;
    char **words;      /* owned synonyms (phrases or patterns) as the author wrote them */
    size_t nwords;
    char **against;    /* owned phrases that cancel this concept */
    size_t nagainst;
};

struct rubric {
    struct rubric_concept *concepts;
    size_t n;
    double cap;        /* points for a full score */
    size_t window;     /* 0: a match lies within one sentence; else within this many words */
    size_t min_words;  /* own words needed; 0 turns the length and shape checks off */
    struct rubric_against *against;
    size_t nagainst;
    char *prompt;      /* owned: the task's prompt, and in a built exercise the case text
                        * around it; answers copied from it score 0. May be NULL */
    const char *lang;  /* borrowed: the language tag of the feedback's own words
                        * (English, French or Spanish by its primary subtag);
                        * NULL: English */
};

enum rubric_state { RUBRIC_MISSING, RUBRIC_FOUND, RUBRIC_CONTRADICTED };

/* What grading found, for feedback and tests. */
struct rubric_verdict {
    double score;              /* 0 to 100 */
    size_t n;                  /* concepts */
    enum rubric_state *state;  /* owned, one per concept */
    char **why;                /* owned, one per concept: the contradicting phrase or NULL */
    bool *against_hit;         /* owned, one per task-level against entry */
    const char *rejected;      /* static reason when the answer scored 0 before any
                                * concept was looked for, else NULL */
    size_t own_words;          /* words that are neither concept words nor copied */
};

/* Grades free text against the rubric: first the shape of the answer (copied
 * from the prompt, a list of keywords, repeated words, fewer own words than
 * min_words: each scores 0), then each concept: found when one of its
 * phrases matches and no match of it is negated and none of its against
 * phrases matches; then each task-level against entry costs its points. The
 * total is capped at r->cap and scaled to 0..100. Fills v (free with
 * rubric_verdict_free) and returns the score. */
double rubric_grade(const struct rubric *r, const char *text, struct rubric_verdict *v);

void rubric_verdict_free(struct rubric_verdict *v);

/* The score alone; found[i] (r->n entries, when not NULL) tells which
 * concepts were found. */
double rubric_score(const struct rubric *r, const char *text, bool *found);

/* Feedback for a verdict: why the answer was refused, or the concepts found,
 * contradicted and missing and the contradictions' costs; caller frees. */
char *rubric_feedback(const struct rubric *r, const struct rubric_verdict *v);

/* True when word (folded and stemmed) is a negation in English, French or
 * Spanish; prev is the word before it (for "n't"), may be NULL. */
bool rubric_negation(const char *word, const char *prev);

void rubric_free(struct rubric *r);

#endif
