/* loader.h: private interface between the folder walker and the lesson builder. */
#ifndef CAMPUS_LOADER_H
#define CAMPUS_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "diag.h"
#include "lang.h"

struct cmark_node;
struct node_pool;

/* A course.md or module.md body waiting for its links to be resolved. */
struct loader_intro {
    struct cmark_node *doc;
    char *path;                 /* file path relative to the courses folder */
    char **html, **text;        /* where the renderings go */
};

/* Loader threads at most (parsing and rendering), and the fewest lessons
 * worth starting rendering threads for. */
#define LOADER_THREADS_MAX  8
#define LOADER_PARALLEL_MIN 16

struct parse_pool;

/* State of one catalog_load. */
struct loader {
    struct diag_list *diags;
    struct catalog *cat;
    struct lesson **all;        /* every lesson built, sorted by path in phase 2 */
    size_t nall, allcap;
    struct loader_intro *intros;
    size_t nintros, introcap;
    struct lesson **variants;   /* every language variant built (variant.c) */
    size_t nvariants, variantcap;
    unsigned threads;           /* threads to use, the caller's among them; 0: one per core */
    struct parse_pool *pool;    /* lesson files read and parsed ahead (load.c), or NULL */
    struct node_pool *nodes;    /* cat->nodes: where cmark trees are allocated (node_arena.h) */
};

/* catalog_load on at most threads threads (the caller's among them; 0: one
 * per core, as catalog_load). 1 loads everything on the caller's thread:
 * what the tests compare a parallel load with. */
struct catalog *catalog_load_threads(const char *dir, struct diag_list *diags, unsigned threads);

/* How many threads l may use for n pieces of work (1 when n is small). */
size_t loader_nthreads(const struct loader *l, size_t n);

/* Checks that a file's bytes are text: no NUL byte, valid UTF-8. Reports
 * an error under path (with the line of the first bad byte) and returns -1,
 * or returns 0. */
int loader_check_text(struct loader *l, const char *path, const char *src, size_t len);

/* Builds a lesson from its file (src, len bytes, NUL-terminated; the lesson
 * takes ownership of src): front matter, cmark document, exercise and table
 * blocks. Appends it to the module, the course and l->all. Problems go to
 * the diagnostics. */
struct lesson *lesson_build(struct loader *l, struct course *c, struct module *m,
                            const char *path, char *src, size_t len, int number,
                            const char *slug, bool is_case);

/* As lesson_build, without appending the lesson anywhere (for variants).
 * Reads only c's id, language and references, writes only the lesson and
 * l->diags: loader threads run it side by side, each with its own
 * diagnostics list (m may be NULL there; the caller sets les->module). */
struct lesson *lesson_parse(struct loader *l, struct course *c, struct module *m,
                            const char *path, char *src, size_t len, int number,
                            const char *slug, bool is_case);

/* The second half of lesson_build: appends a parsed lesson to the module,
 * the course and l->all. */
void lesson_add(struct loader *l, struct course *c, struct module *m, struct lesson *les);

/* ---- variant.c: language variants of lessons, modules and courses ---- */

/* Splits a file name of a variant: "01-x.fr.md", "03-c.case.es.md",
 * "module.fr.md", "course.pt-br.md" give the default file's name ("01-x.md",
 * "03-c.case.md", ...) in *base (caller frees) and the tag in lang (2 or 3
 * lower-case letters, optionally '-' and 2 letters or 3 digits). Returns
 * false for every other name. */
bool variant_split(const char *name, char **base, char lang[LANG_TAG_MAX]);

/* The same for a course file of any extension: "swot-grid.fr.csv" gives
 * "swot-grid.csv" and "fr". */
bool variant_file_split(const char *name, char **base, char lang[LANG_TAG_MAX]);

/* Once course.md's languages are known: attaches each file variant
 * (NAME.LL.EXT, name_lang set) of c->files to its default file NAME.EXT,
 * reporting a language the course does not declare, the default language
 * and a variant without its default file (errors), and warns of each file
 * missing in a declared language. c->files keeps the default files. */
void variant_files(struct loader *l, struct course *c);
void course_file_free(struct course_file *f);

/* The default file's path of a variant's path (caller frees), or NULL. */
char *variant_base_path(const char *path);

/* Reads course.md's language keys into c (language: the default;
 * languages: all of them, the default added when missing from it). path and
 * the lines are for diagnostics. */
void variant_course_languages(struct loader *l, struct course *c, const char *path,
                              char **languages, size_t nlanguages, int line, int language_line);

/* A course.LL.md or module.LL.md (src, len bytes; not kept): its title,
 * summary and body become a text variant of the course or module. */
void variant_text_add(struct loader *l, struct course *c, struct module *m, const char *path,
                      const char *lang, const char *src, size_t len);

/* A lesson variant (src taken over) of the lesson whose file is base_name in
 * module m. Reports a language the course does not declare, the default
 * language, and a variant without its default file. With parsed (src NULL),
 * the variant was parsed ahead by a loader thread (as lesson_parse with the
 * number, id and case of base_name) and its diagnostics wait in
 * parsed_diags: they are added where the parse would have added them, or
 * dropped with the lesson when it is not used. */
void variant_lesson_add(struct loader *l, struct course *c, struct module *m, const char *path,
                        const char *base_name, const char *lang, char *src, size_t len,
                        struct lesson *parsed, struct diag_list *parsed_diags);

/* Once every exercise is built: builds each variant's exercise, reports one
 * whose exercises, task ids, weights, option keys or numeric answers differ
 * from the default's (errors), lets its rubric concepts add the default's
 * synonyms, and warns of each lesson missing in a declared language. */
void variant_finish(struct loader *l);

void text_variant_free(struct text_variant *v);

/* Parses the body of a course.md or module.md (from body_off) and queues it
 * for link resolution and rendering into *html and *text. */
void loader_intro_add(struct loader *l, const char *path, const char *src, size_t len,
                      size_t body_off, char **html, char **text);

/* Phase 2, once every lesson is built: resolves links and prerequisites and
 * renders every lesson and intro. Problems go to the diagnostics. */
void loader_finish(struct loader *l);

/* Builds the lesson's exercise from its gift and task blocks (nothing when
 * it has none) with the grading engine, self-checks it, and keeps it in
 * les->exercise. Problems go to the diagnostics. */
void lesson_build_exercise(struct loader *l, struct lesson *les);

/* ---- biblio.c ---- */

/* Reads a course's references.yaml into c->references; problems go to the
 * diagnostics under rel. */
void biblio_load(struct loader *l, struct course *c, const char *rel, const char *src, size_t len);
/* The entry of c with this key (n bytes), or NULL. */
const struct reference *biblio_find(const struct course *c, const char *key, size_t n);
/* Appends the full reference as Markdown: Author (Year). *Title*. Publisher. <url> */
struct sbuf;
void biblio_format(struct sbuf *b, const struct reference *r);
/* Returns a new copy of the lesson's source (the caller frees it, *outlen
 * its length) with each [@key; ...] after body_off replaced by "(Author
 * Year; ...)" and, when it cites any, a References section at its end.
 * Lines keep their numbers. Notes the keys in les->citations; a key with no
 * entry is an error. Returns NULL (*outlen = len) when the body holds no
 * "[@": the source is then the text to parse, as it is. */
char *biblio_cite(struct loader *l, struct lesson *les, struct course *c, const char *src,
                  size_t len, size_t body_off, size_t *outlen);
/* Notes the references of c that les cites (biblio_cite keeps them in the
 * lesson, so that lessons parsed side by side write nothing shared): done
 * on the walk's thread for each lesson and variant kept. */
void biblio_mark_cited(struct course *c, const struct lesson *les);
/* Once every lesson is built: a warning per reference no lesson cites. */
void biblio_check(struct loader *l);
/* Reads courses/programmes.yaml (after every course is loaded). */
void programmes_load(struct loader *l, const char *rel, const char *src, size_t len);
void biblio_free(struct course *c);
void programmes_free(struct catalog *cat);

/* Frees a lesson and everything it owns. */
void lesson_free(struct lesson *les);
/* Frees n lessons (and v's items only), on a thread per core when n is big. */
void lesson_free_all(struct lesson **v, size_t n);

#endif
