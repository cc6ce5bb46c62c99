/* markdown_view.h: a lesson's Markdown as a learner may see it. */
#ifndef CAMPUS_MARKDOWN_VIEW_H
#define CAMPUS_MARKDOWN_VIEW_H

#include <stdbool.h>
#include <stddef.h>

/* Returns a new string (caller frees): md without its front matter and with
 * every ```gift and ```task fence replaced by the placeholder line (or
 * dropped when placeholder is NULL), since those hold answer keys. */
char *markdown_learner_view(const char *md, size_t len, const char *placeholder);

#endif
