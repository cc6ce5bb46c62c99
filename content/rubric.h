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

struct rubric_concept {
    char *name;        /* owned; shown in feedback */
    double points;
    char **words;      /* owned synonyms (phrases) as the author wrote them */
    size_t nwords;
};

struct rubric {
    struct rubric_concept *concepts;
    size_t n;
    double cap;        /* points for a full score */
};

/* Scores free text: each concept whose synonym phrase occurs in the text
 * (as consecutive words after folding and stemming) earns its points; the
 * total is capped at r->cap and scaled to 0..100. found[i] tells which
 * concepts were found when found is not NULL (r->n entries). Returns the
 * score. */
double rubric_score(const struct rubric *r, const char *text, bool *found);

/* Feedback naming the concepts found and missing; caller frees. */
char *rubric_feedback(const struct rubric *r, const bool *found);

void rubric_free(struct rubric *r);

#endif
