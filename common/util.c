/* util.c: allocation wrappers and small string helpers shared by the library. */
#include "util.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
    fputs("campus: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom();
    return p;
}

/* Up to this many bytes, xcalloc is malloc and memset: glibc's calloc
 * goes past the per-thread cache that malloc takes first, which for a
 * struct made and freed with every request (a CTP/1 request's own) cost
 * more than the rest of its allocations. Bigger ones stay calloc, whose
 * fresh pages are zero already and are not touched until used. */
#define XCALLOC_SMALL 1024

void *xcalloc(size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    if (size == 0)
        size = 1;
    if (size <= XCALLOC_SMALL / n) {
        void *p = xmalloc(n * size);
        memset(p, 0, n * size);
        return p;
    }
    void *p = calloc(n, size);
    if (p == NULL)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        oom();
    va_end(ap);
    return s;
}

static void sbuf_grow(struct sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0';    /* NUL-terminated from its first byte (sbuf_reserve) */
}

void sbuf_reserve(struct sbuf *b, size_t n)
{
    sbuf_grow(b, n);
}

void sbuf_add(struct sbuf *b, const void *p, size_t n)
{
    sbuf_grow(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sbuf_adds(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void sbuf_addc(struct sbuf *b, char c)
{
    if (b->len + 2 > b->cap)
        sbuf_grow(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap, ap2;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom();
    sbuf_grow(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

char *sbuf_take(struct sbuf *b)
{
    char *s = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void sbuf_free(struct sbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;

    while (p < end) {
        unsigned c = *p;
        size_t need;
        uint32_t cp, min;

        if (c < 0x80) {
            /* ASCII, most of every text: eight bytes a step while no byte
             * has its high bit set. */
            p++;
            while (end - p >= 8) {
                uint64_t w;
                memcpy(&w, p, 8);
                if (w & 0x8080808080808080ULL)
                    break;
                p += 8;
            }
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= need)
            return false;
        for (size_t i = 1; i <= need; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += need + 1;
    }
    return true;
}

bool id_valid_n(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > ID_MAX)
        return false;
    /* A table, not three ranges: every READ checks two ids this way. */
    static const bool ok[256] = { ['-'] = true, ['0' ... '9'] = true, ['a' ... 'z'] = true };
    for (size_t i = 0; i < len; i++)
        if (!ok[(unsigned char)s[i]])
            return false;
    return true;
}

bool id_valid(const char *s)
{
    return s != NULL && id_valid_n(s, strnlen(s, ID_MAX + 1));
}

bool perm_parse(const char *s, size_t n, size_t *out)
{
    bool *seen = xcalloc(n + 1, sizeof(bool));
    size_t k = 0;
    bool ok = true;
    while (*s && ok) {
        while (*s == ' ' || *s == ',' || *s == '\t')
            s++;
        if (!*s)
            break;
        char *end;
        long v = strtol(s, &end, 10);
        ok = end != s && v >= 1 && (size_t)v <= n && k < n && !seen[v - 1] &&
             (*end == '\0' || *end == ' ' || *end == ',' || *end == '\t');
        if (ok) {
            seen[v - 1] = true;
            if (out)
                out[k] = (size_t)(v - 1);
            k++;
        }
        s = end;
    }
    free(seen);
    return ok && k == n;
}

char *b64url_encode(const void *data, size_t len)
{
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *out = xcalloc(1, cap);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);

    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (int i = 0; i < n; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return out;
}

int b64url_decode(const char *s, size_t len, size_t max, unsigned char **out, size_t *outlen)
{
    if (len % 4 == 1 || len > max)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return -1;
    }
    size_t plen = (len + 3) / 4 * 4;
    char *t = xcalloc(1, plen + 1);
    for (size_t i = 0; i < plen; i++)
        t[i] = i >= len ? '=' : s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    unsigned char *buf = xcalloc(1, plen / 4 * 3 + 1);
    int n = plen ? EVP_DecodeBlock(buf, (unsigned char *)t, (int)plen) : 0;
    free(t);
    if (n < 0) {
        free(buf);
        return -1;
    }
    n -= (int)(plen - len);      /* EVP_DecodeBlock counts the padding as zero bytes */
    char *again = b64url_encode(buf, (size_t)n);
    bool same = strlen(again) == len && memcmp(again, s, len) == 0;
    free(again);
    if (!same) {
        free(buf);
        return -1;
    }
    *out = buf;
    *outlen = (size_t)n;
    return 0;
}

/* The digest, fetched from its provider once: EVP_sha256() makes
 * EVP_Digest fetch it again on every call, which costs more than hashing
 * a short text. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (sha256_md == NULL)
        sha256_md = (EVP_MD *)EVP_sha256();
}

void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_MAX])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    pthread_once(&sha256_once, sha256_fetch);
    EVP_Digest(p, n, md, &mdlen, sha256_md, NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

void sbuf_add_double(struct sbuf *b, double v)
{
    char tmp[40];
    snprintf(tmp, sizeof(tmp), "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof(tmp), "%.17g", v);
    sbuf_adds(b, tmp);
}

void sbuf_add_line(struct sbuf *b, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    if (b->len)
        sbuf_addc(b, '\n');
    sbuf_adds(b, s);
}


uint64_t hash_fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = HASH_FNV_BASIS;

    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * HASH_FNV_PRIME;
    return h;
}

/* Where the destination lies a little past the source modulo the page
 * size (fewer than COPY_NEAR bytes), Debian 12's glibc copies a large
 * block with rep movsb, which on AMD Zen runs some twenty times slower
 * (Ubuntu's report: launchpad bug 2030515); a CTP/1 literal copied out of
 * the input buffer lands at such a distance often enough that perf put a
 * third of an ECHO's CPU in that copy. Measured on the development
 * machine, 16 KiB at a distance of 14 bytes: 6 to 7 us by memcpy, 0.5 us
 * by the loop here, which copies COPY_BLOCK bytes at a time from the end,
 * so that no load waits on a store to the same page offset; at other
 * distances memcpy takes 0.2 to 0.4 us and is used. */
#define COPY_PAGE 4096           /* the offsets that alias, and the size from which it matters */
#define COPY_NEAR 256
#define COPY_BLOCK 256

void copy_bytes(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;

    if (n < COPY_PAGE || (((uintptr_t)d - (uintptr_t)s) & (COPY_PAGE - 1)) >= COPY_NEAR) {
        if (n)
            memcpy(d, s, n);
        return;
    }
    size_t head = n % COPY_BLOCK;
    while (n > head) {
        n -= COPY_BLOCK;
        memcpy(d + n, s + n, COPY_BLOCK);
    }
    if (head)
        memcpy(d, s, head);
}
