/* search.h: full-text search over every lesson of a catalogue. */
#ifndef CAMPUS_SEARCH_H
#define CAMPUS_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "lang.h"

/* Bytes of a result's snippet buffer (about 100 characters of text). */
#define SEARCH_SNIPPET_MAX 512
/* Weight of a query word found in a lesson's title, against 1 in its body. */
#define SEARCH_TITLE_WEIGHT 5

struct search_result {
    const struct lesson *lesson;      /* owned by the catalogue: the item (the
                                       * default lesson, whatever the language) */
    const struct lesson *text;        /* the text that matched: lesson or one of its variants */
    const char *lang;                 /* text->lang */
    const char *full_id;              /* lesson->full_id */
    const char *title;                /* text->title */
    double score;                     /* higher is better */
    char snippet[SEARCH_SNIPPET_MAX]; /* ~100 characters of the lesson text
                                       * around the first match, one line */
};

/* Builds an inverted index per language of the courses' lessons and their
 * language variants (title words weigh SEARCH_TITLE_WEIGHT, body words 1;
 * words are lower-cased, stemmed with the language's Snowball stemmer
 * through libstemmer, Latin accents folded, the language's stop words
 * dropped). Called by the loader. Caller frees with
 * search_index_free. */
struct search_index *search_index_build(struct course *const *courses, size_t ncourses);
void search_index_free(struct search_index *idx);

/* Finds lessons matching the words of query (any word matches; lessons
 * matching more of them rank higher). Fills at most max results, best first
 * (ties by full id), and returns how many were filled. */
size_t search_query(const struct catalog *cat, const char *query, struct search_result *results,
                    size_t max);

/* The same in one language first: the query is stemmed as lang's words are
 * and looked up in lang's index (RFC 4647 lookup: "fr-CA" searches "fr");
 * when that finds nothing, or lang is NULL or "", every language's index is
 * searched, each with its own stemmer. A lesson appears once, in the
 * language of its best match. */
size_t search_query_lang(const struct catalog *cat, const char *query, const char *lang,
                         struct search_result *results, size_t max);

/* The words of a parsed lesson body on one line (a new string the caller
 * frees): what a snippet is cut from, made for each result shown. Pure: it
 * only reads the tree. */
char *search_doc_line(struct cmark_node *doc);

/* What one loader thread needs to make lessons' terms: per language, the
 * stemmer and a cache of the words it has stemmed. Used by one thread at a
 * time; never shared. */
struct search_worker;
struct search_terms;
struct search_worker *search_worker_new(void);
void search_worker_free(struct search_worker *w);

/* Makes les->search_terms (its title and body words as the index weighs
 * them, in les->lang, cut straight from its tree) with w. Touches nothing
 * but les and w: the loader calls it from its rendering threads, and
 * search_index_build takes the terms (making them itself for a lesson
 * that has none). */
void search_lesson_prepare(struct search_worker *w, struct lesson *les);

/* The same terms made alongside a walk of the lesson's tree that is made
 * anyway (the loader's text rendering, render_text_opts' visit): begin,
 * then search_cut_node (its arg the cut) with every event of the walk,
 * then end, which sets les->search_terms. One lesson at a time per worker. */
struct search_cut;
struct search_cut *search_cut_begin(struct search_worker *w, const struct lesson *les);
void search_cut_node(void *cut, int ev, struct cmark_node *n);
void search_cut_end(struct search_worker *w, struct lesson *les);

/* For checks: the lesson's terms as "term weight" lines, in the order they
 * first come, made from its tree as the loader makes them, or (from_line)
 * by cutting search_doc_line's line into words. Both must agree. */
char *search_terms_listing(struct search_worker *w, const struct lesson *les, bool from_line);
void search_terms_free(struct search_terms *t);

#endif
