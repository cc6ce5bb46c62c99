/* render.h: HTML and terminal-text renderings of a parsed lesson body. */
#ifndef CAMPUS_RENDER_H
#define CAMPUS_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h"

struct cmark_node;

/*
 * Special blocks. Before rendering, the loader replaces each ```table and each
 * run of ```gift / ```task fences by a cmark CUSTOM_BLOCK node whose on_enter
 * holds its HTML (render_table_html / render_exercise_html) and whose user
 * data is the struct table (owned by the lesson) or NULL for an exercise
 * placeholder. Both renderers then treat them alike.
 */

/* Safe HTML of the document: raw HTML is omitted and links whose scheme is
 * not allowed have been emptied by the loader. The document is one the
 * loader parsed (with node_mem, node_arena.h). Caller frees the result. */
char *render_html(struct cmark_node *doc);
/* The same, in blocks of node_mem (node_arena.h), as cmark renders it into
 * them for a tree parsed with node_mem: free with node_mem_free. */
char *render_html_node_mem(struct cmark_node *doc);

/* Terminal text of the document wrapped at width code points, with ANSI
 * styles when ansi is true; exercise_id names the exercise placeholders.
 * Links become [n] references listed at the end; a link whose URL starts
 * with the lesson prefix (see catalog.h) is listed by lesson id. Caller frees
 * the result. */
char *render_text(struct cmark_node *doc, const char *exercise_id, int width, bool ansi);

/* What render_text_opts is asked for. Without ansi, strong emphasis is
 * marked *so*. */
struct render_text_opts {
    int width;
    bool ansi;
    const char *exercise_id;    /* names the exercise placeholders */
    bool in_exercise;           /* read above its own exercise: no placeholder */
    const char *title;          /* a first level-1 heading saying this (the lesson's
                                 * title, shown by the reader) is left out; NULL: kept */
    const char *lang;           /* the text's language: the placeholder's and the
                                 * reference list's own words in it (msg.h); NULL: English */
    /* Called with every event of the rendering's walk of the tree (an int
     * cmark_event_type), before the renderer sees it, so that a pass that
     * needs the same walk rides along (the loader's search terms); NULL:
     * none. It must not change the tree. */
    void (*visit)(void *arg, int ev, struct cmark_node *n);
    void *visit_arg;
};
char *render_text_opts(struct cmark_node *doc, const struct render_text_opts *o);

/* A trainer block is a CUSTOM_BLOCK whose on_exit is this string and whose
 * user data is its task id (owned by the lesson; "" when it names none);
 * its children are the block's Markdown. */
#define RENDER_TRAINER_CLOSE "</aside>\n"

/* The opening tag of a trainer block. Caller frees. */
char *render_trainer_open(const char *task);


/* <table class="data" data-table="NAME"> with escaped cells. Caller frees. */
char *render_table_html(const struct table *t);

/* The placeholder shown instead of exercise blocks. Caller frees. */
char *render_exercise_html(const char *exercise_id);

/* Appends s (n bytes) to b with &, <, >, " escaped. */
struct sbuf;
void render_html_escape(struct sbuf *b, const char *s, size_t n);

/* True when a link target may be shown to learners: no scheme (relative or
 * #fragment) or one of http, https, mailto, ftp. */
bool render_url_allowed(const char *url);

/* Display width of n bytes of UTF-8: code points, ANSI escape sequences
 * (ESC [ ... letter) excluded. */
size_t render_width(const char *s, size_t n);

#endif
