/* search.c: an inverted index of lesson words, ranked queries and snippets. */
#include "search.h"
#include "render.h"
#include "table.h"
#include "util.h"

#include <cmark.h>
#include <libstemmer.h>
#include <math.h>
#include <strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Characters of context in a snippet. */
#define SNIPPET_CHARS 100
/* Characters shown before the first match. */
#define SNIPPET_LEAD 30
/* Longest word indexed, in bytes after folding; longer words are cut. */
#define WORD_MAX 64

struct posting {
    uint32_t doc;               /* index into idx->docs */
    uint32_t weight;            /* title hits * SEARCH_TITLE_WEIGHT + body hits */
};

struct term {
    char *word;
    uint64_t hash;              /* of word: compared before the bytes */
    struct posting *p;
    size_t n, cap;
};

struct search_doc {
    const struct lesson *lesson;
};

/* The index of one language: every lesson text written in it. */
struct lang_index {
    char lang[LANG_TAG_MAX];    /* "" for courses that name no language */
    struct term *terms;         /* open-addressing hash table */
    size_t cap, used;
    struct search_doc *docs;
    size_t ndocs;
};

struct search_index {
    struct lang_index *v;       /* one per language, in order of appearance */
    size_t n;
};

/* Stemming a stem again: Snowball's Spanish stemmer cuts "-es" from
 * "clústeres" (giving "cluster") but "-er" from "clúster" (giving "clust"),
 * so a word is stemmed until it stops changing, at most this many times. */
#define STEM_PASSES 3

static const char *const stop_words[] = {
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be",
    "been", "but", "by", "can", "did", "do", "does", "for", "from", "had", "has", "have",
    "he", "her", "his", "how", "if", "in", "into", "is", "it", "its", "may", "more", "most",
    "no", "not", "of", "on", "one", "or", "our", "she", "so", "such", "than", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "was",
    "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would",
    "you", "your",
};

/* French and Spanish: folded (no accents), sorted. */
static const char *const stop_words_fr[] = {
    "au", "aux", "avec", "ce", "ces", "cette", "dans", "de", "des", "du", "elle", "en", "est",
    "et", "il", "ils", "la", "le", "les", "leur", "leurs", "lui", "mais", "ne", "nous", "on",
    "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sont", "sur",
    "un", "une", "vous",
};

static const char *const stop_words_es[] = {
    "al", "como", "con", "de", "del", "el", "en", "es", "esta", "este", "la", "las", "le",
    "les", "lo", "los", "mas", "no", "o", "para", "pero", "por", "que", "se", "sin", "su",
    "sus", "un", "una", "uno", "y",
};

/* The longest stop word, in bytes: longer words skip the search below. */
#define STOP_WORD_MAX 6

struct stop_list {
    const char *const *w;
    size_t n;
};

/* The stop words of a language tag (by its primary subtag): English for
 * "en" and for courses that name no language. */
static struct stop_list stop_list_for(const char *lang)
{
    if (strncasecmp(lang, "fr", 2) == 0 && (lang[2] == '\0' || lang[2] == '-'))
        return (struct stop_list){stop_words_fr, sizeof(stop_words_fr) / sizeof(*stop_words_fr)};
    if (strncasecmp(lang, "es", 2) == 0 && (lang[2] == '\0' || lang[2] == '-'))
        return (struct stop_list){stop_words_es, sizeof(stop_words_es) / sizeof(*stop_words_es)};
    return (struct stop_list){stop_words, sizeof(stop_words) / sizeof(*stop_words)};
}

static bool is_stop_word(const struct stop_list *sl, const char *w)
{
    size_t lo = 0, hi = sl->n;

    if (strnlen(w, STOP_WORD_MAX + 1) > STOP_WORD_MAX)
        return false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(w, sl->w[mid]);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* Folding of U+00C0..U+00FF to lower-case ASCII ("" for separators). */
static const char *const latin1_fold[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
};

/* Decodes one UTF-8 code point at s (valid UTF-8 is assumed; a bad byte
 * counts as one code point). Sets *len to its byte length. */
static uint32_t decode(const unsigned char *s, size_t n, size_t *len)
{
    uint32_t c = s[0];

    if (c < 0x80 || n < 2) {
        *len = 1;
        return c;
    }
    if ((c & 0xE0) == 0xC0) {
        *len = 2;
        return ((c & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if ((c & 0xF0) == 0xE0 && n >= 3) {
        *len = 3;
        return ((c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    if ((c & 0xF8) == 0xF0 && n >= 4) {
        *len = 4;
        return ((c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
    *len = 1;
    return c;
}

/* Folds the code point into out (lower case, accents removed): returns the
 * bytes written, 0 when the code point separates words. */
static size_t fold(uint32_t c, const unsigned char *raw, size_t rawlen, char *out)
{
    if (c < 0x80) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[0] = (char)c;
            return 1;
        }
        if (c >= 'A' && c <= 'Z') {
            out[0] = (char)(c - 'A' + 'a');
            return 1;
        }
        return 0;
    }
    if (c < 0xC0)
        return 0; /* C1 controls and Latin-1 punctuation */
    if (c <= 0xFF) {
        const char *f = latin1_fold[c - 0xC0];
        size_t n = strlen(f);
        memcpy(out, f, n);
        return n;
    }
    if ((c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F))
        return 0; /* general and CJK punctuation */
    memcpy(out, raw, rawlen); /* other scripts: kept as they are */
    return rawlen;
}

/* Words whose term a loader thread remembers, per language; past this many
 * a word is stemmed each time it comes. */
#define WORD_CACHE_MAX 65536

/* A word seen before and its term. */
struct cached_word {
    char *key;                  /* the word in lower case (its folded form follows from it:
                                 * the same code points, only their case differs) */
    size_t klen;
    uint64_t hash;              /* of key */
    char *term;                 /* NULL: a stop word */
    uint64_t term_hash;         /* hash() of term */
};

/* An open-addressing table of cached words. Stemming is most of what a
 * word costs, and a course repeats its words many times over. */
struct word_cache {
    struct cached_word *slots;
    size_t cap, used;           /* cap: a power of two, more than twice used */
};

/* How the words of one language are made terms. */
struct word_ctx {
    struct stop_list stop;
    struct sb_stemmer *stem;    /* NULL: no stemmer for the language */
    struct word_cache *cache;   /* NULL: none (one thread's, never shared) */
};

/* A word's code point in lower case with its accents (what a Snowball
 * stemmer reads): ASCII and Latin-1 capitals are lowered, other letters are
 * kept. Returns the bytes written. */
static size_t lower(uint32_t c, const unsigned char *raw, size_t rawlen, char *out)
{
    if (c >= 'A' && c <= 'Z') {
        out[0] = (char)(c - 'A' + 'a');
        return 1;
    }
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        c += 0x20;
    else {
        memcpy(out, raw, rawlen);
        return rawlen;
    }
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
}

/* Folds a whole (short) UTF-8 string into out (WORD_MAX + 8 bytes). */
static void fold_str(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n;) {
        size_t len;
        char f[8];
        uint32_t c = decode((const unsigned char *)s + i, n - i, &len);
        size_t k = fold(c, (const unsigned char *)s + i, len, f);
        if (o + k <= WORD_MAX) {
            memcpy(out + o, f, k);
            o += k;
        }
        i += len;
    }
    out[o] = '\0';
}

/* The term of a word: its folded form, or, with a stemmer, the folded stem
 * of its accented lower-case form (stemmed until it stops changing). */
static void make_term(const struct word_ctx *wc, const char *folded, const char *low, size_t ll,
                      char *term)
{
    if (wc->stem == NULL) {
        strcpy(term, folded);
        return;
    }
    char cur[WORD_MAX + 8];
    memcpy(cur, low, ll);
    cur[ll] = '\0';
    for (int pass = 0; pass < STEM_PASSES; pass++) {
        const sb_symbol *r = sb_stemmer_stem(wc->stem, (const sb_symbol *)cur, (int)ll);
        int rl = r ? sb_stemmer_length(wc->stem) : -1;
        if (rl < 0 || (size_t)rl == ll || (size_t)rl > WORD_MAX)
            break;
        memcpy(cur, r, (size_t)rl);
        ll = (size_t)rl;
        cur[ll] = '\0';
    }
    fold_str(cur, ll, term);
    if (term[0] == '\0')
        strcpy(term, folded);
}

/* FNV-1a: the word cutter computes it as it cuts (cut_feed). */
#define FNV_BASIS HASH_FNV_BASIS
#define FNV_PRIME HASH_FNV_PRIME

static struct cached_word *cache_slot(struct word_cache *c, const char *key, size_t klen,
                                      uint64_t h)
{
    size_t i = (size_t)h & (c->cap - 1);

    while (c->slots[i].key && (c->slots[i].hash != h || c->slots[i].klen != klen ||
                               memcmp(c->slots[i].key, key, klen) != 0))
        i = (i + 1) & (c->cap - 1);
    return &c->slots[i];
}

static void cache_grow(struct word_cache *c)
{
    struct word_cache old = *c;

    c->cap = old.cap ? old.cap * 2 : 1024;
    c->slots = xcalloc(c->cap, sizeof(*c->slots));
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            *cache_slot(c, old.slots[i].key, old.slots[i].klen, old.slots[i].hash) = old.slots[i];
    free(old.slots);
}

static void cache_free(struct word_cache *c)
{
    for (size_t i = 0; i < c->cap; i++) {
        free(c->slots[i].key);
        free(c->slots[i].term);
    }
    free(c->slots);
    memset(c, 0, sizeof(*c));
}

static uint64_t hash(const char *s);

/* The term of a word (word: folded, NUL-terminated; low: lower case, ll
 * bytes, lh its hash_fnv1a), or NULL for a stop word, and in *th its
 * hash(). The result is in term or in the cache, valid until the next call. */
static const char *word_term(const struct word_ctx *wc, const char *word, const char *low,
                             size_t ll, uint64_t lh, char *term, uint64_t *th)
{
    struct word_cache *c = wc->cache;

    if (c == NULL) {
        if (is_stop_word(&wc->stop, word))
            return NULL;
        make_term(wc, word, low, ll, term);
        *th = hash(term);
        return term;
    }
    const char *key = low;
    size_t klen = ll;
    uint64_t h = lh;
    if (c->cap == 0)
        cache_grow(c);
    struct cached_word *cw = cache_slot(c, key, klen, h);
    if (cw->key) {
        *th = cw->term_hash;
        return cw->term;
    }
    bool stop = is_stop_word(&wc->stop, word);
    if (!stop) {
        make_term(wc, word, low, ll, term);
        *th = hash(term);
    }
    if (c->used >= WORD_CACHE_MAX)
        return stop ? NULL : term;
    if ((c->used + 1) * 2 > c->cap) {
        cache_grow(c);
        cw = cache_slot(c, key, klen, h);
    }
    cw->key = xmalloc(klen);
    memcpy(cw->key, key, klen);
    cw->klen = klen;
    cw->hash = h;
    cw->term = stop ? NULL : xstrdup(term);
    cw->term_hash = stop ? 0 : *th;
    c->used++;
    return cw->term;
}

/* What a byte is to the word cutter: an ASCII letter or digit its
 * lower-case self, another ASCII byte 0 (it separates words), any other
 * byte WORD_UTF8 (part of a code point that fold decides on). */
#define WORD_UTF8 0xFF
static const unsigned char word_class[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* Words cut out of a text that may come in pieces (a text node, then an
 * emphasis: "**bold**ed" is one word). Each finished word (two bytes or
 * more) goes to on_word with its folded form at w (wl bytes, NUL-ended),
 * its lower-case form in low (ll bytes) and lh, hash_fnv1a of low, and its
 * byte offsets in the whole text. An ASCII word, most words, folds to its
 * lower-case form: it is written once, in low, and w points there. */
struct word_cut {
    const struct word_ctx *wc;
    void (*on_word)(struct word_cut *c, size_t start, size_t end);
    void (*fn)(void *arg, const char *w, uint64_t h, size_t start, size_t end);
    void *arg;
    size_t wl, ll, start;       /* the word being cut: its lengths and where it began */
    uint64_t lh;                /* hash_fnv1a of low so far */
    bool dual;                  /* its folded form is not low: it is in word */
    const char *w;              /* for on_word: word or low */
    size_t base;                /* bytes of the text before the piece being fed */
    char word[WORD_MAX + 8], low[WORD_MAX + 8], term[WORD_MAX + 8];
};

/* Ends the word being cut, if any. */
static void cut_end(struct word_cut *c, size_t at)
{
    if (!c->dual)
        c->wl = c->ll;
    if (c->wl >= 2) {
        char *w = c->dual ? c->word : c->low;
        w[c->wl] = '\0';
        c->low[c->ll] = '\0';
        c->w = w;
        c->on_word(c, c->start, at);
    }
    c->wl = c->ll = 0;
    c->dual = false;
    c->lh = FNV_BASIS;
}

/* Cuts the words of the next piece of the text, s[0..n): a word may go on
 * into the next piece until cut_end. */
static void cut_feed(struct word_cut *c, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t ll = c->ll;
    uint64_t lh = c->lh;

    for (size_t i = 0; i < n;) {
        unsigned char a = word_class[u[i]];
        if (a != WORD_UTF8) {
            if (a == 0) {               /* an ASCII separator */
                c->ll = ll, c->lh = lh;
                cut_end(c, c->base + i);
                ll = 0;
                lh = FNV_BASIS;
                i++;
                continue;
            }
            /* A run of ASCII letters and digits, taken in one go. */
            if (ll == 0)
                c->start = c->base + i;
            if (!c->dual) {
                /* Locals only: a store through a char pointer may alias
                 * *c, which would be read again at every byte. */
                char *low = c->low;
                do {
                    if (ll < WORD_MAX) {
                        low[ll++] = (char)a;
                        lh = (lh ^ a) * FNV_PRIME;
                    }
                    i++;
                } while (i < n && (a = word_class[u[i]]) != 0 && a != WORD_UTF8);
                continue;
            }
            do {
                if (ll < WORD_MAX && c->wl < WORD_MAX) {
                    c->low[ll++] = (char)a;
                    lh = (lh ^ a) * FNV_PRIME;
                    c->word[c->wl++] = (char)a;
                }
                i++;
            } while (i < n && (a = word_class[u[i]]) != 0 && a != WORD_UTF8);
            continue;
        }
        size_t len, k, lk = 0;
        char f[8], lw[8];
        uint32_t cp = decode(u + i, n - i, &len);
        k = fold(cp, u + i, len, f);
        if (k == 0) {
            c->ll = ll, c->lh = lh;
            cut_end(c, c->base + i);
            ll = 0;
            lh = FNV_BASIS;
        } else {
            lk = lower(cp, u + i, len, lw);
            if (!c->dual) {
                /* So far the folded form was low itself. */
                if (ll == 0)
                    c->start = c->base + i;
                memcpy(c->word, c->low, ll);
                c->wl = ll;
                c->dual = true;
            }
            if (c->wl + k <= WORD_MAX && ll + lk <= WORD_MAX) {
                memcpy(c->word + c->wl, f, k);
                c->wl += k;
                memcpy(c->low + ll, lw, lk);
                for (size_t q = 0; q < lk; q++)
                    lh = (lh ^ (unsigned char)lw[q]) * FNV_PRIME;
                ll += lk;
            }
        }
        i += len;
    }
    c->ll = ll;
    c->lh = lh;
    c->base += n;
}

/* on_word for each_word: the word's term, unless it is a stop word. */
static void term_word(struct word_cut *c, size_t start, size_t end)
{
    uint64_t th;
    const char *t = word_term(c->wc, c->w, c->low, c->ll, c->lh, c->term, &th);

    if (t)
        c->fn(c->arg, t, th, start, end);
}

/* Calls fn for each term of s[0..n) (words of two bytes or more that are
 * not stop words, folded and stemmed as wc says): the term, and the byte
 * offsets of its word's start and end in s. */
static void each_word(const struct word_ctx *wc, const char *s, size_t n,
                      void (*fn)(void *arg, const char *w, uint64_t h, size_t start,
                                 size_t end),
                      void *arg)
{
    struct word_cut c = {.wc = wc, .on_word = term_word, .fn = fn, .arg = arg, .lh = FNV_BASIS};

    cut_feed(&c, s, n);
    cut_end(&c, n);
}

/* The word rules of a language; free with word_ctx_done. */
static struct word_ctx word_ctx_for(const char *lang)
{
    struct word_ctx wc = {.stop = stop_list_for(lang)};
    char primary[LANG_TAG_MAX];
    size_t n = strcspn(lang, "-");

    if (n == 0 || n >= sizeof(primary))
        return wc;
    for (size_t i = 0; i < n; i++)
        primary[i] = (char)(lang[i] >= 'A' && lang[i] <= 'Z' ? lang[i] - 'A' + 'a' : lang[i]);
    primary[n] = '\0';
    /* libstemmer knows ISO 639 codes ("fr", "es", "en", ...) as aliases;
     * a language it lacks is folded without a stemmer. */
    wc.stem = sb_stemmer_new(primary, "UTF_8");
    return wc;
}

static void word_ctx_done(struct word_ctx *wc)
{
    if (wc->stem)
        sb_stemmer_delete(wc->stem);
    wc->stem = NULL;
}

/* hash_fnv1a of a NUL-terminated string. */
static uint64_t hash(const char *s)
{
    return hash_fnv1a(s, strlen(s));
}

/* The slot of word in the table (empty slot when absent). */
static struct term *slot_h(struct lang_index *idx, const char *w, uint64_t h)
{
    size_t i = (size_t)h & (idx->cap - 1);

    while (idx->terms[i].word && (idx->terms[i].hash != h || strcmp(idx->terms[i].word, w) != 0))
        i = (i + 1) & (idx->cap - 1);
    return &idx->terms[i];
}

static struct term *slot(struct lang_index *idx, const char *w)
{
    return slot_h(idx, w, hash(w));
}

static void grow(struct lang_index *idx)
{
    struct term *old = idx->terms;
    size_t oldcap = idx->cap;

    idx->cap = oldcap ? oldcap * 2 : 1024;
    idx->terms = xcalloc(idx->cap, sizeof(*idx->terms));
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].word)
            *slot_h(idx, old[i].word, old[i].hash) = old[i];
    free(old);
}

/* Adds weight to the posting of term w (hash h) for doc. */
static void add_posting(struct lang_index *idx, const char *w, uint64_t h, uint32_t doc,
                        uint32_t weight)
{
    if ((idx->used + 1) * 2 > idx->cap)
        grow(idx);
    struct term *t = slot_h(idx, w, h);
    if (t->word == NULL) {
        t->word = xstrdup(w);
        t->hash = h;
        idx->used++;
    }
    if (t->n && t->p[t->n - 1].doc == doc) {
        t->p[t->n - 1].weight += weight;
        return;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4;
        t->p = xrealloc(t->p, t->cap * sizeof(*t->p));
    }
    t->p[t->n++] = (struct posting){doc, weight};
}

/* ---- the terms of one lesson text, made on a loader thread ---- */

/* One distinct term of a text and its weight there. */
struct doc_term {
    size_t off;                 /* of the term in the arena */
    uint64_t hash;              /* hash() of the term */
    uint32_t weight;            /* title hits * SEARCH_TITLE_WEIGHT + body hits */
};

/* A text's distinct terms in the order they first come (title, then body),
 * so that the index is built as if its words were added one by one. */
struct search_terms {
    struct doc_term *v;
    size_t n, cap;
    struct sbuf arena;          /* the terms, each NUL-terminated */
};

/* The word rules of one language on one thread, and their cache. */
struct worker_lang {
    char lang[LANG_TAG_MAX];
    struct word_ctx wc;
    struct word_cache cache;
};

/* search.h's handle on a lesson's terms being cut in another walk. */
struct search_cut {
    struct word_cut c;
};

/* A word seen in the text being made, and its term there: most words of
 * a text come again in it, and this table, small and hot, answers them
 * without the worker's cache of every word (word_cache) or the stemmer. */
struct text_word {
    uint64_t hash;              /* hash_fnv1a of the lower-case word */
    uint32_t gen;               /* the text it was seen in: the slot is empty for any other */
    uint32_t koff, klen;        /* the word, in the worker's keys */
    int32_t term;               /* its index in the text's terms; -1: a stop word */
};

struct search_worker {
    struct worker_lang *langs;
    size_t nlangs;
    uint32_t *slots;            /* the text's terms: index in v + 1; 0 is empty */
    size_t cap;                 /* a power of two, more than twice the text's terms */
    struct search_terms *cur;   /* the text being made */
    uint32_t weight;            /* of the words being added */
    struct text_word *words;    /* the text's words seen so far */
    size_t wcap, wused;         /* wcap: a power of two, more than twice wused */
    uint32_t gen;               /* of the text being made */
    struct sbuf keys;           /* the words of the text being made */
    struct search_cut cut;      /* cutting them */
};

struct search_worker *search_worker_new(void)
{
    return xcalloc(1, sizeof(struct search_worker));
}

void search_worker_free(struct search_worker *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->nlangs; i++) {
        word_ctx_done(&w->langs[i].wc);
        cache_free(&w->langs[i].cache);
    }
    free(w->langs);
    free(w->slots);
    free(w->words);
    sbuf_free(&w->keys);
    free(w);
}

void search_terms_free(struct search_terms *t)
{
    if (t == NULL)
        return;
    free(t->v);
    sbuf_free(&t->arena);
    free(t);
}

/* The worker's word rules for lang (matched as the index matches it). */
static struct word_ctx *worker_ctx(struct search_worker *w, const char *lang)
{
    for (size_t i = 0; i < w->nlangs; i++)
        if (strcasecmp(w->langs[i].lang, lang) == 0)
            return &w->langs[i].wc;
    w->langs = xrealloc(w->langs, (w->nlangs + 1) * sizeof(*w->langs));
    struct worker_lang *wl = &w->langs[w->nlangs++];
    memset(wl, 0, sizeof(*wl));
    snprintf(wl->lang, sizeof(wl->lang), "%s", lang);
    wl->wc = word_ctx_for(lang);
    /* Pointers into langs move when it grows: each ctx finds its cache again. */
    for (size_t i = 0; i < w->nlangs; i++)
        w->langs[i].wc.cache = &w->langs[i].cache;
    return &wl->wc;
}

static void worker_grow(struct search_worker *w)
{
    struct search_terms *t = w->cur;

    free(w->slots);
    w->cap = w->cap ? w->cap * 2 : 512;
    w->slots = xcalloc(w->cap, sizeof(*w->slots));
    for (size_t k = 0; k < t->n; k++) {
        size_t i = (size_t)t->v[k].hash & (w->cap - 1);
        while (w->slots[i])
            i = (i + 1) & (w->cap - 1);
        w->slots[i] = (uint32_t)k + 1;
    }
}

/* The index in the text's terms of term word (hash h), added with weight 0
 * when new. */
static size_t doc_term_of(struct search_worker *w, const char *word, uint64_t h)
{
    struct search_terms *t = w->cur;

    if ((t->n + 1) * 2 > w->cap)
        worker_grow(w);
    size_t i = (size_t)h & (w->cap - 1);
    while (w->slots[i]) {
        struct doc_term *d = &t->v[w->slots[i] - 1];
        if (d->hash == h && strcmp(t->arena.data + d->off, word) == 0)
            return w->slots[i] - 1;
        i = (i + 1) & (w->cap - 1);
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    t->v[t->n] = (struct doc_term){t->arena.len, h, 0};
    sbuf_add(&t->arena, word, strlen(word) + 1);
    w->slots[i] = (uint32_t)++t->n;
    return t->n - 1;
}

static void add_doc_term(void *arg, const char *word, uint64_t h, size_t start, size_t end)
{
    struct search_worker *w = arg;

    (void)start, (void)end;
    size_t k = doc_term_of(w, word, h);       /* may move v */
    w->cur->v[k].weight += w->weight;
}

/* The slot of the lower-case word low (ll bytes, hash h) among the text's
 * words: the word's, or the empty one where it goes. */
static struct text_word *text_word_slot(struct search_worker *w, const char *low, size_t ll,
                                        uint64_t h)
{
    size_t i = (size_t)h & (w->wcap - 1);

    for (;; i = (i + 1) & (w->wcap - 1)) {
        struct text_word *tw = &w->words[i];
        if (tw->gen != w->gen)
            return tw;
        if (tw->hash == h && tw->klen == ll && memcmp(w->keys.data + tw->koff, low, ll) == 0)
            return tw;
    }
}

static void text_words_grow(struct search_worker *w)
{
    struct text_word *old = w->words;
    size_t oldcap = w->wcap;

    w->wcap = oldcap ? oldcap * 2 : 1024;
    w->words = xcalloc(w->wcap, sizeof(*w->words));
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].gen == w->gen)
            *text_word_slot(w, w->keys.data + old[i].koff, old[i].klen, old[i].hash) = old[i];
    free(old);
}

/* on_word for a lesson's text: its weight goes to the word's term, found
 * among the text's words first. */
static void doc_word(struct word_cut *c, size_t start, size_t end)
{
    struct search_worker *w = c->arg;
    uint64_t h = c->lh;
    struct text_word *tw = text_word_slot(w, c->low, c->ll, h);

    (void)start, (void)end;
    if (tw->gen != w->gen) {
        uint64_t th;
        const char *t = word_term(c->wc, c->w, c->low, c->ll, c->lh, c->term, &th);
        int32_t term = t ? (int32_t)doc_term_of(w, t, th) : -1;
        if ((w->wused + 1) * 2 > w->wcap) {
            text_words_grow(w);
            tw = text_word_slot(w, c->low, c->ll, h);
        }
        *tw = (struct text_word){h, w->gen, (uint32_t)w->keys.len, (uint32_t)c->ll, term};
        sbuf_add(&w->keys, c->low, c->ll);
        w->wused++;
    }
    if (tw->term >= 0)
        w->cur->v[tw->term].weight += w->weight;
}

/* Starts the terms of a text in lang with w: returns its word rules. */
static struct word_ctx *terms_begin(struct search_worker *w, const char *lang)
{
    struct word_ctx *wc = worker_ctx(w, lang);

    w->cur = xcalloc(1, sizeof(*w->cur));
    if (w->slots)
        memset(w->slots, 0, w->cap * sizeof(*w->slots));
    /* A new generation empties every word slot at once. */
    if (++w->gen == 0) {
        if (w->words)
            memset(w->words, 0, w->wcap * sizeof(*w->words));
        w->gen = 1;
    }
    w->wused = 0;
    w->keys.len = 0;
    if (w->wcap == 0)
        text_words_grow(w);
    return wc;
}

/* Where the text of a lesson's tree goes, piece by piece: feed gives a
 * piece (a word may go on into the next one), end ends the word. */
struct text_sink {
    void (*feed)(void *arg, const char *s, size_t n);
    void (*end)(void *arg);
};

/* Gives one event of a walk of a lesson's tree to a sink: the words a
 * learner reads, without layout. A word ends at a break and at the end of
 * a paragraph, heading, item, code block or table cell; exercise blocks
 * and raw HTML give nothing. The search line (search_doc_line) and the
 * terms (cut_node) both come from here, so they cannot disagree. */
static inline void text_node(const struct text_sink *k, void *arg, cmark_event_type ev,
                             cmark_node *n)
{
    const char *lit;

    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_TEXT:
    case CMARK_NODE_CODE:
        lit = cmark_node_get_literal(n);
        if (lit)
            k->feed(arg, lit, strlen(lit));
        break;
    case CMARK_NODE_SOFTBREAK:
    case CMARK_NODE_LINEBREAK:
        k->end(arg);
        break;
    case CMARK_NODE_CODE_BLOCK:
        lit = cmark_node_get_literal(n);
        if (lit)
            k->feed(arg, lit, strlen(lit));
        k->end(arg);
        break;
    case CMARK_NODE_CUSTOM_BLOCK: {
        const struct table *t = cmark_node_get_user_data(n);
        if (ev != CMARK_EVENT_ENTER || t == NULL)
            break;                     /* an exercise: never searched */
        for (size_t c = 0; c < t->ncols; c++) {
            k->feed(arg, t->header[c], strlen(t->header[c]));
            k->end(arg);
        }
        for (size_t r = 0; r < t->nrows; r++)
            for (size_t c = 0; c < t->ncols; c++) {
                k->feed(arg, t->cells[r][c], strlen(t->cells[r][c]));
                k->end(arg);
            }
        break;
    }
    case CMARK_NODE_PARAGRAPH:
    case CMARK_NODE_HEADING:
    case CMARK_NODE_ITEM:
        if (ev == CMARK_EVENT_EXIT)
            k->end(arg);
        break;
    default:
        break;                         /* raw HTML and containers add nothing */
    }
}

static void cut_sink_feed(void *arg, const char *s, size_t n)
{
    cut_feed(arg, s, n);
}

static void cut_sink_end(void *arg)
{
    struct word_cut *c = arg;

    cut_end(c, c->base);
}

static const struct text_sink cut_sink = {cut_sink_feed, cut_sink_end};

/* Feeds one event of a walk of a lesson's tree to the word cutter. */
static void cut_node(struct word_cut *c, cmark_event_type ev, cmark_node *n)
{
    text_node(&cut_sink, c, ev, n);
}

/* The terms of a lesson's tree, by a walk of its own. */
static void cut_doc(struct word_cut *c, struct cmark_node *doc)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
        cut_node(c, ev, cmark_iter_get_node(it));
    cmark_iter_free(it);
    cut_end(c, c->base);
}

/* Starts a lesson's terms in w->cut: its title's words, weighing
 * SEARCH_TITLE_WEIGHT; the body's words weigh 1 from here on. */
static struct word_cut *terms_of_lesson(struct search_worker *w, const struct lesson *les)
{
    struct word_cut *c = &w->cut.c;

    *c = (struct word_cut){.wc = terms_begin(w, les->lang ? les->lang : ""), .on_word = doc_word,
                           .arg = w, .lh = FNV_BASIS};
    w->weight = SEARCH_TITLE_WEIGHT;
    cut_feed(c, les->title, strlen(les->title));
    cut_end(c, c->base);
    w->weight = 1;
    c->base = 0;
    return c;
}

struct search_cut *search_cut_begin(struct search_worker *w, const struct lesson *les)
{
    terms_of_lesson(w, les);
    return &w->cut;
}

void search_cut_node(void *cut, int ev, struct cmark_node *n)
{
    struct search_cut *sc = cut;

    cut_node(&sc->c, (cmark_event_type)ev, n);
}

void search_cut_end(struct search_worker *w, struct lesson *les)
{
    cut_end(&w->cut.c, w->cut.c.base);
    search_terms_free(les->search_terms);
    les->search_terms = w->cur;
    w->cur = NULL;
}

/* The terms of a lesson, from its tree by a walk of their own, or (from_line)
 * by cutting its search line, as the index once did: the check that both
 * give the same terms. */
static struct search_terms *make_terms(struct search_worker *w, const struct lesson *les,
                                       bool from_line)
{
    struct word_cut *c = terms_of_lesson(w, les);
    struct search_terms *t = w->cur;

    cmark_node *doc = lesson_tree(les, false);
    if (from_line) {
        char *line = search_doc_line(doc);
        each_word(c->wc, line, strlen(line), add_doc_term, w);
        free(line);
    } else {
        cut_doc(c, doc);
    }
    cmark_node_free(doc);
    w->cur = NULL;
    return t;
}

void search_lesson_prepare(struct search_worker *w, struct lesson *les)
{
    search_terms_free(les->search_terms);
    les->search_terms = make_terms(w, les, false);
}

char *search_terms_listing(struct search_worker *w, const struct lesson *les, bool from_line)
{
    struct search_terms *t = make_terms(w, les, from_line);
    struct sbuf b = {0};

    for (size_t k = 0; k < t->n; k++)
        sbuf_printf(&b, "%s %u\n", t->arena.data + t->v[k].off, t->v[k].weight);
    search_terms_free(t);
    return b.data ? sbuf_take(&b) : xstrdup("");
}

/* True when the word is a rule of the text rendering ("====", "----"). */
static bool is_rule(const char *w, size_t n)
{
    if (n < 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (w[i] != '=' && w[i] != '-')
            return false;
    return true;
}

/* The text on one line, made as it is written: runs of white space
 * become one space, none at either end, and a word of only '=' and '-'
 * (three or more: a heading underline or a rule) is dropped with the space
 * before it. Words may come in pieces (a text node, then an emphasis). */
struct line_words {
    struct sbuf b;
    bool in_word;
    size_t word_start;          /* of the word being written, in b */
    size_t sep;                 /* b's length before the space in front of it */
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Ends the word being written: a rule is taken out with its space. */
static void word_end(struct line_words *lw)
{
    if (lw->in_word && is_rule(lw->b.data + lw->word_start, lw->b.len - lw->word_start)) {
        lw->b.len = lw->sep;
        lw->b.data[lw->b.len] = '\0';
    }
    lw->in_word = false;
}

static void add_words(struct line_words *lw, const char *s, size_t n)
{
    if (n == 0)
        return;
    /* At most one byte more than s: a space before its first word. */
    sbuf_reserve(&lw->b, n + 1);
    char *d = lw->b.data;
    size_t o = lw->b.len;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_space(c)) {
            if (lw->in_word) {
                lw->b.len = o;
                word_end(lw);
                o = lw->b.len;
            }
            continue;
        }
        if (!lw->in_word) {
            lw->sep = o;
            if (o)
                d[o++] = ' ';
            lw->word_start = o;
            lw->in_word = true;
        }
        d[o++] = c;
    }
    lw->b.len = o;
    d[o] = '\0';
}

static void line_sink_feed(void *arg, const char *s, size_t n)
{
    add_words(arg, s, n);
}

static void line_sink_end(void *arg)
{
    word_end(arg);
}

static const struct text_sink line_sink = {line_sink_feed, line_sink_end};

/* The words of a lesson, straight from its parse tree, blocks separated by
 * a space, on one line (as above): what a learner reads, without layout.
 * Rendering it as wrapped text only to flatten it again cost a quarter of
 * a whole load. Exercise blocks are left out; tables give their cells. */
char *search_doc_line(struct cmark_node *doc)
{
    struct line_words lw = {0};
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
        text_node(&line_sink, &lw, ev, cmark_iter_get_node(it));
    cmark_iter_free(it);
    word_end(&lw);
    return sbuf_take(&lw.b);
}

/* The index of lang in idx, made when missing. */
static struct lang_index *lang_index_of(struct search_index *idx, const char *lang)
{
    for (size_t i = 0; i < idx->n; i++)
        if (strcasecmp(idx->v[i].lang, lang) == 0)
            return &idx->v[i];
    idx->v = xrealloc(idx->v, (idx->n + 1) * sizeof(*idx->v));
    struct lang_index *li = &idx->v[idx->n++];
    memset(li, 0, sizeof(*li));
    snprintf(li->lang, sizeof(li->lang), "%s", lang);
    grow(li);
    return li;
}

/* Adds a lesson text to its language's index, from the terms its loader
 * thread made (or, when none did, from terms made here with w). */
static void index_lesson(struct lang_index *li, size_t *cap, struct lesson *les,
                         struct search_worker **w)
{
    if (li->ndocs == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        li->docs = xrealloc(li->docs, *cap * sizeof(*li->docs));
    }
    struct search_doc *d = &li->docs[li->ndocs];
    d->lesson = les;
    if (les->search_terms == NULL) {
        if (*w == NULL)
            *w = search_worker_new();
        search_lesson_prepare(*w, les);
    }
    struct search_terms *t = les->search_terms;
    for (size_t k = 0; k < t->n; k++)
        add_posting(li, t->arena.data + t->v[k].off, t->v[k].hash, (uint32_t)li->ndocs,
                    t->v[k].weight);
    search_terms_free(t);
    les->search_terms = NULL;
    li->ndocs++;
}

struct search_index *search_index_build(struct course *const *courses, size_t ncourses)
{
    struct search_index *idx = xcalloc(1, sizeof(*idx));
    size_t *caps = NULL, ncaps = 0;
    struct search_worker *w = NULL; /* for texts no loader thread made terms of */

    for (size_t i = 0; i < ncourses; i++) {
        for (size_t j = 0; j < courses[i]->nlessons; j++) {
            struct lesson *les = courses[i]->lessons[j];
            for (size_t k = 0; k <= les->nvariants; k++) {
                struct lesson *t = k ? les->variants[k - 1] : les;
                struct lang_index *li = lang_index_of(idx, t->lang);
                size_t at = (size_t)(li - idx->v);
                if (at >= ncaps) {
                    caps = xrealloc(caps, (at + 1) * sizeof(*caps));
                    while (ncaps <= at)
                        caps[ncaps++] = 0;
                }
                index_lesson(li, &caps[at], t, &w);
            }
        }
    }
    search_worker_free(w);
    free(caps);
    return idx;
}

void search_index_free(struct search_index *idx)
{
    if (idx == NULL)
        return;
    for (size_t l = 0; l < idx->n; l++) {
        struct lang_index *li = &idx->v[l];
        for (size_t i = 0; i < li->cap; i++) {
            free(li->terms[i].word);
            free(li->terms[i].p);
        }
        free(li->terms);
        free(li->docs);
    }
    free(idx->v);
    free(idx);
}

/* The folded words of a query, deduplicated. */
struct qwords {
    char **w;
    size_t n;
};

static void add_qword(void *arg, const char *w, uint64_t h, size_t start, size_t end)
{
    struct qwords *q = arg;

    (void)h, (void)start, (void)end;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->w[i], w) == 0)
            return;
    q->w = xrealloc(q->w, (q->n + 1) * sizeof(*q->w));
    q->w[q->n++] = xstrdup(w);
}

/* Finds the first word of text that is one of the query words. */
struct first_match {
    const struct qwords *q;
    bool found;
    size_t start;
};

static void find_first(void *arg, const char *w, uint64_t h, size_t start, size_t end)
{
    struct first_match *m = arg;

    (void)h, (void)end;
    if (m->found)
        return;
    for (size_t i = 0; i < m->q->n; i++) {
        if (strcmp(m->q->w[i], w) == 0) {
            m->found = true;
            m->start = start;
            return;
        }
    }
}

/* Moves back to the start of a UTF-8 code point. */
static size_t cp_start(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

/* on_word for snippet: once the first match is found, the words after it
 * are cut but not stemmed (stemming was three quarters of a search). */
static void first_word(struct word_cut *c, size_t start, size_t end)
{
    struct first_match *m = c->arg;

    if (!m->found)
        term_word(c, start, end);
}

/* Writes about SNIPPET_CHARS characters of text around the first match. */
static void snippet(const struct word_ctx *wc, const char *text, const struct qwords *q,
                    char *out, size_t outlen)
{
    struct first_match m = {q, false, 0};
    size_t n = strlen(text), from = 0, to, chars = 0;
    struct word_cut c = {.wc = wc, .on_word = first_word, .fn = find_first, .arg = &m,
                         .lh = FNV_BASIS};

    cut_feed(&c, text, n);
    cut_end(&c, n);
    if (m.found && m.start > 0) {
        size_t back = 0;
        from = m.start;
        while (from > 0 && back < SNIPPET_LEAD) {
            from = cp_start(text, from - 1);
            back++;
        }
        /* Start at a word boundary when there is one nearby. */
        size_t sp = from;
        while (sp < m.start && text[sp] != ' ')
            sp++;
        if (from > 0 && sp < m.start)
            from = sp + 1;
    }
    to = from;
    while (to < n && chars < SNIPPET_CHARS) {
        size_t len;
        decode((const unsigned char *)text + to, n - to, &len);
        to += len;
        chars++;
    }
    if (to < n) { /* end at a word boundary */
        size_t sp = to;
        while (sp > from && text[sp] != ' ')
            sp--;
        if (sp > m.start)
            to = sp;
    }
    struct sbuf b = {0};
    if (from > 0)
        sbuf_adds(&b, "...");
    sbuf_add(&b, text + from, to - from);
    if (to < n)
        sbuf_adds(&b, "...");
    size_t len = b.len < outlen - 1 ? b.len : cp_start(b.data, outlen - 1);
    memcpy(out, b.data ? b.data : "", len);
    out[len] = '\0';
    sbuf_free(&b);
}

/* A matching lesson before it becomes a result. */
struct ranked {
    double score;
    const struct lang_index *li;
    size_t doc;
    const char *full_id;
    size_t order;               /* where it was found: the last tie-break */
};

/* Best first: score, then id, then the order the languages were searched
 * in (a lesson's variants share its id), so that no two compare equal and
 * the first k of any selection are those of a full sort. */
static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    int c = strcmp(x->full_id, y->full_id);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Moves the k best of v[0..n) to its front, best first: a heap of the k
 * best so far, the worst of them on top, then a sort of those k. A search
 * matches up to every lesson and shows 20: sorting them all was a seventh
 * of its time. */
static void sift_down(struct ranked *h, size_t n, size_t i)
{
    for (;;) {
        size_t w = i, l = 2 * i + 1, r = l + 1;
        if (l < n && cmp_ranked(&h[l], &h[w]) > 0)
            w = l;
        if (r < n && cmp_ranked(&h[r], &h[w]) > 0)
            w = r;
        if (w == i)
            return;
        struct ranked t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void best_first(struct ranked *v, size_t n, size_t k)
{
    if (k < n) {
        for (size_t i = k / 2; i-- > 0;)
            sift_down(v, k, i);
        for (size_t i = k; i < n; i++)
            if (cmp_ranked(&v[i], &v[0]) < 0) {
                v[0] = v[i];
                sift_down(v, k, 0);
            }
        n = k;
    }
    qsort(v, n, sizeof(*v), cmp_ranked);
}

static void qwords_free(struct qwords *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->w[i]);
    free(q->w);
    q->w = NULL;
    q->n = 0;
}

/* Scores the query against one language's index, appending its matches
 * to *all (grown as needed). */
static void query_one(const struct lang_index *idx, const char *query, struct ranked **all,
                      size_t *nall)
{
    struct word_ctx wc = word_ctx_for(idx->lang);
    struct qwords q = {0};

    each_word(&wc, query, strlen(query), add_qword, &q);
    word_ctx_done(&wc);
    if (idx->ndocs == 0 || q.n == 0) {
        qwords_free(&q);
        return;
    }
    double *score = xcalloc(idx->ndocs, sizeof(double));
    unsigned *hits = xcalloc(idx->ndocs, sizeof(unsigned));
    for (size_t i = 0; i < q.n; i++) {
        struct term *t = slot((struct lang_index *)idx, q.w[i]);
        if (t->word == NULL)
            continue;
        double idf = log(1.0 + (double)idx->ndocs / (double)t->n);
        for (size_t k = 0; k < t->n; k++) {
            score[t->p[k].doc] += (1.0 + log((double)t->p[k].weight)) * idf;
            hits[t->p[k].doc]++;
        }
    }
    *all = xrealloc(*all, (*nall + idx->ndocs) * sizeof(**all));
    for (size_t d = 0; d < idx->ndocs; d++) {
        /* Lessons holding more of the query's words come first. */
        if (hits[d])
            (*all)[(*nall)++] =
                (struct ranked){score[d] * hits[d], idx, d, idx->docs[d].lesson->full_id, 0};
    }
    free(score);
    free(hits);
    qwords_free(&q);
}

size_t search_query_lang(const struct catalog *cat, const char *query, const char *lang,
                         struct search_result *results, size_t max)
{
    const struct search_index *idx = cat->search;
    struct ranked *all = NULL;
    size_t nres = 0;

    if (idx == NULL || max == 0)
        return 0;
    if (lang && lang[0]) {
        const char **tags = xcalloc(idx->n + 1, sizeof(*tags));
        for (size_t i = 0; i < idx->n; i++)
            tags[i] = idx->v[i].lang;
        int k = lang_lookup(tags, idx->n, lang);
        free(tags);
        if (k >= 0)
            query_one(&idx->v[k], query, &all, &nres);
    }
    /* Nothing in the asked language (or none asked): every language. */
    if (nres == 0)
        for (size_t i = 0; i < idx->n; i++)
            query_one(&idx->v[i], query, &all, &nres);
    /* A lesson is in all at most once per language, so the best max
     * times the languages hold the max best lessons. */
    size_t best = max * (idx->n ? idx->n : 1);
    for (size_t i = 0; i < nres; i++)
        all[i].order = i;
    if (nres)
        best_first(all, nres, best);
    if (nres > best)
        nres = best;             /* past them, all is not in order */
    /* The snippets' words, stemmed once a query for each language: the
     * results share most of their words. Made on first use. */
    struct word_ctx *ctx = xcalloc(idx->n, sizeof(*ctx));
    struct word_cache *caches = xcalloc(idx->n, sizeof(*caches));
    bool *made = xcalloc(idx->n, sizeof(*made));
    /* A lesson found in several languages is shown once, at its best. */
    size_t out = 0;
    for (size_t i = 0; i < nres && out < max; i++) {
        const struct search_doc *d = &all[i].li->docs[all[i].doc];
        const struct lesson *item = d->lesson->base ? d->lesson->base : d->lesson;
        bool seen = false;
        for (size_t k = 0; k < out && !seen; k++)
            seen = results[k].lesson == item;
        if (seen)
            continue;
        size_t li = (size_t)(all[i].li - idx->v);
        if (!made[li]) {
            ctx[li] = word_ctx_for(all[i].li->lang);
            ctx[li].cache = &caches[li];
            made[li] = true;
        }
        const struct word_ctx *wc = &ctx[li];
        struct qwords q = {0};
        each_word(wc, query, strlen(query), add_qword, &q);
        results[out].lesson = item;
        results[out].text = d->lesson;
        results[out].full_id = item->full_id;
        results[out].title = d->lesson->title;
        results[out].lang = d->lesson->lang;
        results[out].score = all[i].score;
        /* The line is made again for each result shown, from the tree
         * parsed again: keeping every lesson's line for this held
         * megabytes, and its tree ten times more. */
        cmark_node *doc = lesson_tree(d->lesson, false);
        char *line = search_doc_line(doc);
        cmark_node_free(doc);
        snippet(wc, line, &q, results[out].snippet, sizeof(results[out].snippet));
        free(line);
        qwords_free(&q);
        out++;
    }
    for (size_t i = 0; i < idx->n; i++) {
        if (made[i])
            word_ctx_done(&ctx[i]);
        cache_free(&caches[i]);
    }
    free(made);
    free(caches);
    free(ctx);
    free(all);
    return out;
}

size_t search_query(const struct catalog *cat, const char *query, struct search_result *results,
                    size_t max)
{
    return search_query_lang(cat, query, NULL, results, max);
}
