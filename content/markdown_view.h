/* markdown_view.h: a lesson's Markdown as a learner may see it. */
#ifndef CAMPUS_MARKDOWN_VIEW_H
#define CAMPUS_MARKDOWN_VIEW_H

#include <stdbool.h>
#include <stddef.h>

/* Returns a new string (caller frees): md without its front matter, with
 * every ```gift and ```task fence replaced by the placeholder line (or
 * dropped when placeholder is NULL), since those hold answer keys, and
 * every ```trainer fence dropped. */
char *markdown_learner_view(const char *md, size_t len, const char *placeholder);

/* The same for a trainer: ```trainer fences are kept as written. */
char *markdown_trainer_view(const char *md, size_t len, const char *placeholder);

#endif
