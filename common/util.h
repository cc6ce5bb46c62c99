/* util.h: allocation wrappers and small string helpers shared by the library. */
#ifndef CAMPUS_UTIL_H
#define CAMPUS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation wrappers: they abort on out-of-memory, so callers never check. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. Zero-initialise ({0}). */
struct sbuf {
    char *data;
    size_t len, cap;
};
void sbuf_add(struct sbuf *b, const void *p, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
/* Makes room for n more bytes (and the NUL after them) without adding any. */
void sbuf_reserve(struct sbuf *b, size_t n);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (who frees it) and resets the buffer. */
/* Appends v in the shortest of %.15g and %.17g that reads back as the same
 * double, so that a number written out (a GIFT export, a key shown to a
 * learner) is the number the grader holds. */
void sbuf_add_double(struct sbuf *b, double v);
/* Appends s as a line of its own (a newline first unless b is empty);
 * nothing for NULL or "". Feedback is built this way. */
void sbuf_add_line(struct sbuf *b, const char *s);
char *sbuf_take(struct sbuf *b);
void sbuf_free(struct sbuf *b);

/* FNV-1a of n bytes: the hash of the in-memory tables (search words,
 * kept answers). Not for anything an attacker may choose to collide on
 * where a collision costs more than a slot. */
#define HASH_FNV_BASIS 1469598103934665603ULL
#define HASH_FNV_PRIME 1099511628211ULL
uint64_t hash_fnv1a(const void *p, size_t n);

/* memcpy of n bytes, without glibc's slow case on AMD Zen for a block
 * that lands a few bytes past its source's page offset (util.c). */
void copy_bytes(void *dst, const void *src, size_t n);

/* True when the n bytes are well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). NUL bytes count as valid. */
bool utf8_valid(const char *s, size_t n);

/* Course, module, lesson and exercise ids: 1 to ID_MAX of [a-z0-9-]. The
 * one definition, for the course files, the daemon's arguments and the
 * client alike. */
#define ID_MAX 64
/* True when the len bytes at s are an id. Every byte counts, a NUL
 * included, so "intro\0x" (an argument with a length) is not "intro". */
bool id_valid_n(const char *s, size_t len);
/* The same for a NUL-terminated string. */
bool id_valid(const char *s);

/* Parses "3 1 2" (commas or spaces between) as a permutation of 1..n:
 * every number once. With out, stores it 0-based (out[k] is the item put
 * k-th). The grader and the terminal client's answer check read orders with
 * it, so the client refuses exactly what the server would. */
bool perm_parse(const char *s, size_t n, size_t *out);
/* base64url (RFC 4648 section 5) without padding, through OpenSSL. Caller
 * frees. */
char *b64url_encode(const void *data, size_t len);
/* Decodes strictly: only the URL alphabet, no padding, at most max bytes of
 * text, and the text must be the canonical encoding of what it decodes to,
 * so that no two strings decode to the same bytes (a changed unused bit in
 * the last character is refused). Returns 0 with *out (caller frees) or -1. */
int b64url_decode(const char *s, size_t len, size_t max, unsigned char **out, size_t *outlen);
/* Writes the SHA-256 of the n bytes as 64 lower-case hex digits and a NUL. */
#define SHA256_HEX_MAX 65
void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_MAX]);

#endif
