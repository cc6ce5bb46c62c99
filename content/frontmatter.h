/* frontmatter.h: the YAML front matter of course, module and lesson files. */
#ifndef CAMPUS_FRONTMATTER_H
#define CAMPUS_FRONTMATTER_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "diag.h"

enum fm_kind { FM_COURSE, FM_MODULE, FM_LESSON, FM_CASE };

/* Values read from one file's front matter. Strings are owned; absent
 * optional strings are NULL, absent lists have count 0. */
struct front_matter {
    bool present;               /* the file opens with a --- line */
    char *raw;                  /* YAML text between the --- lines ("" if none) */
    int raw_line;               /* file line of the first YAML line */
    size_t body_off;            /* byte offset of the body (after the closing ---) */
    int body_line;              /* file line where the body starts */
    char *id, *title, *summary, *language, *version;
    int id_line;                /* line of the id key, for later checks */
    char **authors;
    size_t nauthors;
    char *criteria;             /* course.md: what a learner does to earn the certificate */
    char **skills;              /* course.md: what the course's certificate attests */
    size_t nskills;
    struct completion_rule completion;
    int minutes;                /* 0 when absent or invalid */
    char **objectives;
    size_t nobjectives;
    char **sources;
    size_t nsources;
    char **prerequisites;       /* as written: "lesson" or "course/lesson"; course.md: course ids */
    int *prerequisite_lines;    /* file line of each */
    size_t nprerequisites;
    bool trainer;               /* trainer: true: a lesson only trainers see */
    bool pretest;               /* pretest: true: a diagnostic quiz, never counted */
};

/* Splits src (len bytes, NUL-terminated) into front matter and body, parses
 * the YAML with libyaml and checks it against the keys of kind: unknown keys
 * are warnings; a missing required key, a wrong type, a YAML syntax error or a
 * missing/unclosed front matter are errors, reported under path. Fills fm as
 * far as possible even on errors (release it with fm_free). Returns 0 when no
 * error was found, -1 otherwise. */
int fm_parse(struct front_matter *fm, enum fm_kind kind, const char *src, size_t len,
             const char *path, struct diag_list *diags);

/* Frees every owned field and zeroes fm. */
void fm_free(struct front_matter *fm);

#endif
