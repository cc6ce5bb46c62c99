/* diag.h: problems found in course files, reported as path:line: message. */
#ifndef CAMPUS_DIAG_H
#define CAMPUS_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum diag_severity { DIAG_WARNING, DIAG_ERROR };

struct diag {
    char *path;                 /* owned; relative to the courses dir when known */
    int line;                   /* 1-based; 0 when the problem is the whole file */
    enum diag_severity severity;
    char *msg;                  /* owned */
};

/* A growable list of diagnostics. Zero-initialise it ({0}) before use. */
struct diag_list {
    struct diag *items;
    size_t count, cap;
    size_t errors, warnings;
};

/* Appends a diagnostic; path is copied, msg is formatted. Never fails (aborts
 * on out-of-memory like every allocation in the content library). */
void diag_add(struct diag_list *l, enum diag_severity sev, const char *path,
              int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Prints each diagnostic as "path:line: error|warning: message\n", sorted by
 * path then line (stable for equal keys). */
void diag_print(struct diag_list *l, FILE *out);

/* Appends every item of from to to, in order, and empties from. */
void diag_list_move(struct diag_list *to, struct diag_list *from);

/* Frees every item; the list may be reused afterwards. */
void diag_list_clear(struct diag_list *l);

#endif
