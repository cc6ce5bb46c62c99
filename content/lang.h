/* lang.h: language tags, RFC 4647 lookup, and HTTP Accept-Language. */
#ifndef CAMPUS_LANG_H
#define CAMPUS_LANG_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of a language tag Campus takes, with its NUL: a primary subtag of
 * 2 to 8 letters and subtags of 1 to 8 letters or digits after '-', 35
 * bytes at most (longer ranges name nothing a course offers). */
#define LANG_TAG_MAX 36
/* Ranges read from one Accept-Language header; the rest are ignored. */
#define LANG_ACCEPT_MAX 16
/* Bytes of an Accept-Language header read; a longer header is ignored. */
#define LANG_ACCEPT_BYTES 512

/* True when the n bytes at s are a language tag as above ("fr", "fr-CA",
 * "es-419", "zh-Hant-TW"); case does not matter. */
bool lang_tag_valid(const char *s, size_t n);

/* RFC 4647, section 3.4 (lookup): the tag of avail (n tags) that range
 * names, trying range itself, then range with its last subtag cut off (and
 * a single-letter subtag left at the end cut with it), down to the primary
 * subtag. Case-insensitive. Returns the index in avail, or -1 when none
 * matches, for "*" and for a malformed range. */
int lang_lookup(const char *const *avail, size_t n, const char *range);

/* The tag of avail an HTTP Accept-Language header picks: ranges by falling
 * q-value (equal q in header order), q=0 ranges left out, each looked up
 * as lang_lookup does; "*" and the end of the list give def. A malformed
 * entry is skipped. Returns an index in avail, or def. */
int lang_accept(const char *header, const char *const *avail, size_t n, int def);

#endif
