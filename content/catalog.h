/* catalog.h: the loaded course catalogue: courses, modules, lessons, renderings. */
#ifndef CAMPUS_CATALOG_H
#define CAMPUS_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "lang.h"
#include "util.h"
#include "table.h"

/*
 * A catalogue is built once by catalog_load() and is read-only afterwards, so
 * any number of threads may read it. It is reference counted: the loader
 * returns it with one reference; a reload builds a new catalogue, swaps the
 * pointer, and drops its reference to the old one, which is freed when the
 * last request holding a reference calls catalog_unref().
 *
 * Every structure below is owned by its catalogue and lives exactly as long
 * as it: never free or modify a field. Strings are NUL-terminated UTF-8.
 *
 * Links between lessons: a relative link to a lesson's file
 * (`../02-process/01-phases.md`, `02-next.md`) is resolved at load time. In
 * HTML it becomes href="#/lesson/COURSE/LESSON" (CATALOG_LESSON_HREF followed
 * by the lesson's full id; any #fragment of the original link is dropped); in
 * terminal text the numbered reference list shows the full id
 * ("[2] course/lesson"). Links with a scheme other than http, https, mailto
 * and ftp (javascript:, data:, file:, ...) lose their target in both
 * renderings (HTML href="", no reference number in text).
 *
 * Exercise blocks (```gift and ```task fences) are not rendered: HTML shows
 * <div class="exercise" data-exercise="FULL-ID"><p>Exercise: use EXERCISE
 * FULL-ID</p></div> once per run of consecutive exercise blocks, text shows
 * "[Exercise: use EXERCISE FULL-ID]". ```table NAME blocks render as
 * <table class="data" data-table="NAME"> in HTML and as an aligned table in
 * text.
 *
 * Trainer-only content: a ```trainer fence (or ```trainer TASKID, naming the
 * review task it belongs to) holds Markdown for trainers. Every lesson has a
 * learner rendering (html, text) from which trainer blocks are absent,
 * not hidden: they were never in that tree. When a lesson has trainer blocks
 * its trainer rendering (trainer_html, trainer_text) shows
 * them inside <aside class="trainer" data-task="TASKID">. A lesson whose
 * front matter says `trainer: true` is trainer-only as a whole: it is in
 * no module's or course's lessons (so in no count, outline, search or
 * completion rule) but only in trainer_lessons, and catalog_lesson() does
 * not find it; catalog_lesson_any() does.
 *
 * Course files (courses/C/files/NAME.EXT) are linked from lessons as
 * ../files/NAME.EXT; the link becomes CATALOG_FILE_HREF "C/NAME.EXT" in
 * HTML and "[n] file C/NAME.EXT" in text. A language variant's text says
 * its placeholder and "file" in its language (content/msg.c) and links to
 * the file's variant in it, NAME.LL.EXT, where the file has one.
 *
 * Citations: [@key] or [@k1; @k2] in a lesson's text name entries of the
 * course's references.yaml; they render as "(Author Year)" and the lesson
 * ends with a References section giving each cited entry in full.
 */
#define CATALOG_LESSON_HREF "#/lesson/"
#define CATALOG_FILE_HREF "/api/files/"

/* Largest file of a course's files/ folder, in bytes. */
#define CATALOG_COURSE_FILE_MAX (1024 * 1024)

/* Default terminal width of the pre-rendered lesson text. */
#define CATALOG_TEXT_WIDTH 80
/* Bounds accepted by catalog_lesson_text(); widths outside are clamped. */
#define CATALOG_TEXT_WIDTH_MIN 20
#define CATALOG_TEXT_WIDTH_MAX 1000

/* Largest course file the loader accepts, in bytes. */
#define CATALOG_FILE_MAX (4 * 1024 * 1024)

/* "all" in a completion rule. */
#define CATALOG_ALL (-1)

enum exercise_source_kind {
    EXERCISE_SOURCE_GIFT,       /* ```gift: questions in Moodle's GIFT syntax */
    EXERCISE_SOURCE_TASK,       /* ```task: one YAML mapping (case-study task) */
};

/* The text of one exercise fence, kept for the grading engine. */
struct exercise_source {
    enum exercise_source_kind kind;
    char *text;                 /* content between the fences, NUL-terminated */
    size_t len;                 /* bytes of text */
    int line;                   /* file line of the first content line */
    int fence_line;             /* file line of the opening fence */
};

struct course;
struct module;
struct exercise;

struct lesson {
    char *id;                   /* slug, e.g. "phases" */
    char *full_id;              /* "course/slug": the lesson id everywhere else */
    char *title;
    int minutes;
    char **objectives;          /* nobjectives strings */
    size_t nobjectives;
    char **sources;             /* seed file names, as written */
    size_t nsources;
    char **prerequisites;       /* full ids ("course/lesson"), resolved */
    size_t nprerequisites;
    bool is_case;               /* a .case.md case study */
    int number;                 /* NN of the file name */
    size_t index;               /* 0-based position in its course's order */
    struct course *course;
    struct module *module;
    struct lesson *prev, *next; /* neighbours in course order, or NULL */
    const char *prev_id;        /* prev->full_id or NULL */
    const char *next_id;        /* next->full_id or NULL */
    char *path;                 /* file path relative to the courses folder */
    char *markdown;             /* the whole file as read (front matter too) */
    size_t markdown_len;
    char version[SHA256_HEX_MAX]; /* sha256_hex of the file without its trainer blocks:
                                   * the learner's version / ETag */
    char trainer_version[SHA256_HEX_MAX]; /* sha256_hex of the whole file: the trainer's */
    char *html;                 /* safe HTML fragment of the body */
    char *text;                 /* terminal text at CATALOG_TEXT_WIDTH, no ANSI */
    size_t html_len, text_len;  /* their bytes: READ sends them without a strlen */
    char *front_matter;         /* raw YAML between the --- lines ("" if none) */
    int front_matter_line;      /* file line of the first YAML line */
    struct exercise_source *exercises; /* in file order */
    size_t nexercises;
    struct table **tables;      /* ```table blocks, in file order, unique names */
    size_t ntables;
    struct exercise *exercise;  /* built from the exercise blocks by the grading
                                 * engine (exercise.h), or NULL when none */
    /* private, while loading only (NULL once loaded): the parsed body. A
     * loaded lesson keeps no tree: lesson_tree() parses it again for the
     * renderings made on request. */
    struct cmark_node *doc;
    /* private, while loading: doc's links and images in document order,
     * listed by the parse's own walk so that resolving them needs none */
    struct cmark_node **link_nodes;
    size_t nlink_nodes;
    /* private: what lesson_tree() parses again. cited: the file with its
     * citations written out, or NULL when it cites nothing (then markdown
     * is parsed); body_off: where the body starts in it; urls: the target
     * of every link and image of the learner tree after resolving, in
     * document order, and trainer_urls the trainer tree's. */
    char *cited;
    size_t cited_len, body_off;
    int body_line;              /* file line of the body's start (for diagnostics) */
    char **urls, **trainer_urls;
    size_t nurls, ntrainer_urls;
    struct search_terms *search_terms; /* private: its weighted terms, made with the
                                 * renderings and taken by the index (search.h) */
    int *prerequisite_lines;    /* private: where each prerequisite is written */

    bool trainer;               /* front matter trainer: true: only trainers see it */
    bool pretest;               /* front matter pretest: true: diagnostic, never counted */
    size_t ntrainer_blocks;     /* ```trainer fences in the file */
    char **trainer_tasks;       /* the TASKID of each ("" when none), in file order */
    int *trainer_lines;         /* the file line of each fence */
    int *trainer_ends;          /* the file line of each closing fence (cmark's end) */
    char *learner_markdown;     /* the file less the lines of its trainer blocks; NULL
                                 * when it has none (then markdown is the same) */
    size_t learner_markdown_len;
    char *trainer_html;         /* with the trainer blocks; NULL when there are none */
    char *trainer_text;         /* the same as text at CATALOG_TEXT_WIDTH; NULL likewise */
    size_t trainer_html_len, trainer_text_len; /* their bytes (0 when NULL) */
    struct cmark_node *trainer_doc; /* private, while loading: the body with trainer
                                     * blocks, or NULL (see doc) */
    char **citations;           /* reference keys cited, in order of first use, unique */
    size_t ncitations;
    /* Languages (see "Language variants" below). */
    const char *lang;           /* the language of this text: a tag of
                                 * course->languages ("" when the course names none) */
    struct lesson **variants;   /* the default file's other languages, in the
                                 * order of course->languages; none in a variant */
    size_t nvariants;
    struct lesson *base;        /* a variant: the default lesson, whose ids,
                                 * prerequisites and neighbours it shares; else NULL */
};

/* One entry of a course's references.yaml. */
struct reference {
    char *key, *title, *author, *year, *publisher;
    char *url;                  /* "" when the source has none */
    char *trace;                /* seed file name, "" when not given */
    int line;                   /* line of the entry in references.yaml */
    bool cited;                 /* some lesson cites it */
};

/* One file of a course's files/ folder, read into memory. A file may have
 * language variants beside it (swot-grid.fr.md beside swot-grid.md, as
 * lessons do): course->files holds the default files, each its variants. */
struct course_file {
    char *name;                 /* "swot-grid.md": an id, a dot, an extension;
                                 * a variant's "swot-grid.fr.md" */
    char *content_type;         /* from the extension */
    char *data;                 /* the bytes (NUL-terminated for convenience) */
    size_t len;
    char version[SHA256_HEX_MAX]; /* sha256_hex of the bytes: the ETag */
    const char *lang;           /* the language of its text: a tag of course->languages
                                 * (the default's for a default file; "" when the
                                 * course names none) */
    char name_lang[LANG_TAG_MAX]; /* private: the language part of the name, "" */
    struct course_file *variants; /* the default file's other languages, in the
                                   * order of course->languages; none in a variant */
    size_t nvariants;
};

/* One entry of courses/programmes.yaml: a suggested route through courses. */
struct programme {
    char *id, *title, *summary;
    char **courses;             /* course ids in the suggested order, each known */
    size_t ncourses;
};

/* A course.md or module.md in another language (course.fr.md, module.es.md):
 * its title, summary and introduction. */
struct text_variant {
    const char *lang;           /* a tag of the course's languages */
    char *title;
    char *summary;
    char *intro_html;
    char *intro_text;
};

struct module {
    char *id;                   /* slug of the folder */
    char *title;
    char *summary;              /* "" when absent */
    int number;
    char *path;                 /* folder path relative to the courses folder */
    char *intro_html;           /* body of module.md, safe HTML ("" if empty) */
    char *intro_text;           /* body of module.md as text at width 80 */
    struct course *course;
    struct lesson **lessons;    /* in order; no trainer-only lesson */
    size_t nlessons;
    int minutes;                /* sum of its lessons' minutes */
    struct text_variant *variants; /* module.LL.md files, in the course's languages order */
    size_t nvariants;
    struct lesson **trainer_lessons; /* trainer: true lessons, in order */
    size_t ntrainer_lessons;
};

/* Completion rule of a course (front matter `completion:`). */
struct completion_rule {
    int lessons_percent;        /* 100 for "all" (the default) */
    int exercises;              /* exercises to pass; CATALOG_ALL (default) */
};

struct course {
    char *id;                   /* folder name */
    char *title;
    char *summary;
    char *language;             /* the default language ("" when unset) */
    char **languages;           /* every language it is written in, as course.md's
                                 * languages: lists them; the default among them */
    size_t nlanguages;
    struct text_variant *variants; /* course.LL.md files */
    size_t nvariants;
    char *version;
    char **authors;
    size_t nauthors;
    char *criteria;             /* what earns the certificate, in the author's words; "" if unset */
    char **skills;              /* what the certificate attests (Open Badges tags) */
    size_t nskills;
    struct completion_rule completion;
    char *path;                 /* folder name relative to the courses folder */
    char *intro_html;           /* body of course.md, safe HTML ("" if empty) */
    char *intro_text;           /* body of course.md as text at width 80 */
    struct module **modules;    /* in order */
    size_t nmodules;
    struct lesson **lessons;    /* every lesson and case, in course order */
    size_t nlessons;
    size_t nexercises;          /* lessons with at least one exercise block, pre-tests not counted */
    int minutes;                /* sum of every lesson's minutes */
    size_t ncounted;            /* lessons that count toward completion: no pre-test */
    struct lesson **trainer_lessons; /* every trainer: true lesson, in course order */
    size_t ntrainer_lessons;
    char **prerequisites;       /* course.md prerequisites: course ids, each known */
    size_t nprerequisites;
    struct reference *references; /* references.yaml, in file order */
    size_t nreferences;
    struct course_file *files;  /* files/, sorted by name */
    size_t nfiles;
};

struct search_index;

struct catalog {
    int refs;                   /* private: use catalog_ref / catalog_unref */
    /* This load's number, never 0 and never given to another load in the
     * process. What is kept for a catalogue is keyed by it, not by the
     * catalogue's address: a load made after another was freed is often
     * given the same memory, its lessons too. */
    uint64_t generation;
    char *dir;                  /* the folder as given to catalog_load */
    struct course **courses;    /* sorted by id */
    size_t ncourses;
    struct lesson **by_id;      /* private: every lesson sorted by full_id */
    size_t nlessons;
    struct search_index *search; /* private: see search.h */
    struct programme *programmes; /* courses/programmes.yaml, in file order */
    size_t nprogrammes;
    struct node_pool *nodes;    /* private: where the renderings live (node_arena.h) */
};

/* Language variants. A lesson, quiz or case may have a file per language
 * beside it (01-intro.fr.md, 03-case.case.es.md), and module.md and course.md
 * too (module.fr.md): the same item in another language, with the same ids,
 * exercises and keys (docs/AUTHORING.md, "Languages"). A variant is a
 * struct lesson of its own (text, renderings, exercise in its language),
 * reached only through its default lesson: catalog_lesson() and the course's
 * lists hold default lessons only, so progress, attempts and certificates are
 * per item whatever the language it was read in. */

/* The text of lesson in the course language lang (a tag of
 * course->languages, any case): its variant, or the lesson itself when lang
 * is the default, NULL, or a language it has no variant in. */
const struct lesson *catalog_lesson_lang(const struct lesson *lesson, const char *lang);

/* The course.LL.md or module.LL.md text in lang, or NULL for the default
 * language and for a language without a file. */
const struct text_variant *catalog_course_text(const struct course *c, const char *lang);
const struct text_variant *catalog_module_text(const struct module *m, const char *lang);

/* The course's language that range names (RFC 4647 lookup: "fr-CA" gives
 * "fr"), as spelled in course->languages, or NULL when it names none. */
const char *catalog_course_lang(const struct course *c, const char *range);

/* Loads every course below dir. Every problem found goes to diags (paths
 * relative to dir). Returns a catalogue holding one reference, even when
 * there are warnings, or NULL when there is at least one error. */
struct catalog *catalog_load(const char *dir, struct diag_list *diags);

/* Builds a catalogue of one course "memory" with one module "01-memory" and
 * one lesson "01-lesson.md" (full id "memory/lesson") whose file content is
 * the len bytes at src (it need not be NUL-terminated). Used by the fuzzer and
 * by tests of single lessons. Same return contract as catalog_load. */
struct catalog *catalog_load_memory(const char *src, size_t len, struct diag_list *diags);

/* Takes one more reference; returns cat. Safe from any thread. */
struct catalog *catalog_ref(struct catalog *cat);

/* Drops one reference; frees the catalogue when it was the last. NULL is a
 * no-op. Safe from any thread. */
void catalog_unref(struct catalog *cat);

/* The course with this id, or NULL. */
const struct course *catalog_course(const struct catalog *cat, const char *id);

/* The lesson with this full id ("course/lesson"), or NULL; a trainer-only
 * lesson is not found. */
const struct lesson *catalog_lesson(const struct catalog *cat, const char *full_id);

/* The same, finding trainer-only lessons too: only for callers that have
 * checked the reader is a trainer or an admin. */
const struct lesson *catalog_lesson_any(const struct catalog *cat, const char *full_id);

/* The file NAME of course c (a default file, or a variant by its own name
 * "swot-grid.fr.md"), or NULL. */
const struct course_file *catalog_file(const struct course *c, const char *name);

/* The text of file f in the course language lang (any case): its variant, or
 * f itself when lang is the default, NULL, or a language it has no variant
 * in (compare the answer's lang to see). */
const struct course_file *catalog_file_lang(const struct course_file *f, const char *lang);

/* True when the lesson counts toward completion, grades and certificates:
 * not a pre-test (trainer-only lessons are never in a course's lessons). */
bool catalog_lesson_counts(const struct lesson *l);

/* Renders the lesson as terminal text wrapped at width code points (clamped
 * to CATALOG_TEXT_WIDTH_MIN..MAX), with ANSI bold/italic/underline when ansi
 * is true. Returns a new string the caller frees. */
char *catalog_lesson_text(const struct lesson *lesson, int width, bool ansi);

/* How a lesson's text is rendered for one reader. */
struct text_view {
    int width;                  /* clamped as above */
    bool ansi;                  /* ANSI styles; without them bold is *word* */
    bool trainer;               /* with the trainer blocks */
    bool in_exercise;           /* read above its own exercise: no placeholder */
};

/* The lesson's text for that view. Returns a new string the caller frees.
 * Another width than CATALOG_TEXT_WIDTH, ANSI, or the exercise view parse
 * the lesson again (lesson_tree): some 20 to 60 us for a lesson of 5 KB. */
char *catalog_lesson_text_view(const struct lesson *lesson, const struct text_view *v);

/* True when the lesson has a trainer rendering (trainer blocks, or
 * trainer: true). */
bool catalog_lesson_has_trainer_view(const struct lesson *lesson);

/* The lesson's body as the load left it: parsed again from its source,
 * with its exercise, table and trainer fences replaced and its links
 * resolved as they were then; with trainer, the trainer's tree (NULL when
 * it has none). Allocated on the heap (no catalogue pool entered): free
 * with cmark_node_free. The load renders each lesson from its tree and
 * then frees it, so that a catalogue keeps no trees (for 1,000 lessons of
 * 5 KB they were some 43 MB). */
struct cmark_node;
struct cmark_node *lesson_tree(const struct lesson *lesson, bool trainer);

/* Loads every course below dir and prints each problem to out as
 * "path:line: error|warning: message" (the path starts with dir as given),
 * sorted by path and line. Returns 1 when there is an error, else 0. */
int content_check(const char *dir, FILE *out);

/* As content_check, for a process that exits next: the catalogue is not
 * freed (it is, under AddressSanitizer). */
int content_check_exit(const char *dir, FILE *out);

/* With CAMPUS_LOAD_TIMES set in the environment, prints to stderr the wall
 * and process CPU time since the previous span ("load: STAGE wall_ms cpu_ms"),
 * at each stage of a load; otherwise does nothing. For profiling. */
void catalog_load_span(const char *stage);

#endif
