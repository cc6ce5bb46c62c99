/* msg.h: the words the course library writes around an author's text (an
 * exercise's view, the frame of a graded answer, why an answer does not
 * read), in French and Spanish. */
#ifndef CAMPUS_MSG_H
#define CAMPUS_MSG_H

#include <stddef.h>

/* The English format en (as written in the code, a printf format) in lang:
 * "fr" or "es", case as given; en itself for any other language, NULL, or a
 * format the table lacks. A translation takes the same conversions in the
 * same order (tests/unit/test_lang.c checks), so it takes en's arguments.
 * The string is static. */
const char *content_msg(const char *lang, const char *en) __attribute__((format_arg(2)));

/* The table's size and one entry, for the unit test of conversions. */
size_t content_msg_size(void);
void content_msg_entry(size_t i, const char **en, const char **fr, const char **es);

#endif
