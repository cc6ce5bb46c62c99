/* rubric.c: text folding (case, accents, stems) and rubric scoring. */
#include "rubric.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 code point at s (valid or not); returns its length. */
static size_t utf8_dec(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0 && (s[1] & 0xC0) == 0x80) {
        *cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if ((s[0] & 0xF0) == 0xE0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
        *cp = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if ((s[0] & 0xF8) == 0xF0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
        (s[3] & 0xC0) == 0x80) {
        *cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    *cp = 0xFFFD;
    return 1;
}

static void utf8_enc(struct sbuf *b, uint32_t cp)
{
    char t[4];
    if (cp < 0x80) {
        sbuf_addc(b, (char)cp);
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        sbuf_add(b, t, 2);
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        sbuf_add(b, t, 3);
    } else {
        t[0] = (char)(0xF0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        sbuf_add(b, t, 4);
    }
}

static uint32_t lower_cp(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c < 0x80)
        return c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 0x20;
    if (c >= 0x100 && c <= 0x17F) {
        if (c == 0x130)
            return 'i';
        if (c == 0x178)
            return 0xFF;
        bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        bool even_upper = (c <= 0x137 && c != 0x131) || (c >= 0x14A && c <= 0x177);
        if (c == 0x138 || c == 0x149 || c == 0x17F || c == 0x131)
            return c;
        if (odd_upper && (c & 1))
            return c + 1;
        if (even_upper && !(c & 1))
            return c + 1;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 0x20;
    if (c >= 0x410 && c <= 0x42F)
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    return c;
}

/* Base letters of U+0100..U+017F (lower case), see rubric_fold. */
static const char latin_ext_a[] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllll"  /* 0100-013F */
    "lllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs"; /* 0140-017F */

/* Appends the accent-free form of a lower-case code point; false when it has
 * none (the caller keeps it). */
static bool strip_cp(struct sbuf *b, uint32_t c)
{
    static const char *latin1 =
        "aaaaaaeceeeeiiiidnooooo\0ouuuuyts" /* 00E0-00FF after lowering, ÷=\0 */
        ;
    if (c >= 0x300 && c <= 0x36F)
        return true; /* combining accents vanish */
    if (c >= 0xE0 && c <= 0xFF && c != 0xF7) {
        if (c == 0xE6)
            sbuf_adds(b, "ae");
        else if (c == 0xFE)
            sbuf_adds(b, "th");
        else if (c == 0xDF)
            sbuf_adds(b, "ss");
        else if (c == 0xFF)
            sbuf_addc(b, 'y');
        else
            sbuf_addc(b, latin1[c - 0xE0]);
        return true;
    }
    if (c == 0xDF) {
        sbuf_adds(b, "ss");
        return true;
    }
    if (c == 0x152 || c == 0x153) {
        sbuf_adds(b, "oe");
        return true;
    }
    if (c >= 0x100 && c <= 0x17F) {
        sbuf_addc(b, latin_ext_a[c - 0x100]);
        return true;
    }
    return false;
}

static bool space_cp(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
           c == 0xA0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200A);
}

char *rubric_fold(const char *s, bool strip_accents)
{
    struct sbuf b = {0};
    const unsigned char *p = (const unsigned char *)s;
    bool pending_space = false;

    sbuf_adds(&b, "");
    while (*p) {
        uint32_t c;
        p += utf8_dec(p, &c);
        if (space_cp(c)) {
            pending_space = b.len > 0;
            continue;
        }
        if (pending_space)
            sbuf_addc(&b, ' ');
        pending_space = false;
        c = lower_cp(c);
        if (strip_accents && strip_cp(&b, c))
            continue;
        utf8_enc(&b, c);
    }
    return sbuf_take(&b);
}

static bool cjk_cp(uint32_t c)
{
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0xF900 && c <= 0xFAFF);
}

static bool separator_cp(uint32_t c)
{
    if (c < 0x80)
        return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    return (c >= 0xA0 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x206F) ||
           (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFF0F) || c == 0xFFFD;
}

static void push_word(char ***v, size_t *n, size_t *cap, struct sbuf *w)
{
    if (w->len == 0)
        return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = xrealloc(*v, *cap * sizeof(**v));
    }
    char *word = sbuf_take(w);
    rubric_stem(word);
    (*v)[(*n)++] = word;
}

size_t rubric_words(const char *s, char ***words)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct sbuf w = {0};
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        uint32_t c;
        const unsigned char *start = p;
        p += utf8_dec(p, &c);
        if (separator_cp(c)) {
            push_word(&v, &n, &cap, &w);
        } else if (cjk_cp(c)) {
            push_word(&v, &n, &cap, &w);
            sbuf_add(&w, start, (size_t)(p - start));
            push_word(&v, &n, &cap, &w);
        } else {
            sbuf_add(&w, start, (size_t)(p - start));
        }
    }
    push_word(&v, &n, &cap, &w);
    sbuf_free(&w);
    *words = v;
    return n;
}

void rubric_words_free(char **words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(words[i]);
    free(words);
}

static bool ends_with(const char *w, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(w + n - k, suf, k) == 0;
}

void rubric_stem(char *word)
{
    static const struct { const char *suffix, *repl; } rules[] = {
        { "ations", "" }, { "ation", "" }, { "ments", "" }, { "ment", "" },
        { "ings", "" }, { "ing", "" }, { "ies", "y" }, { "sses", "ss" },
        { "shes", "sh" }, { "ches", "ch" }, { "xes", "x" }, { "zes", "z" },
        { "ed", "" }, { "ly", "" },
    };
    size_t n = strlen(word);
    if (n <= 4)
        return;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        size_t k = strlen(rules[i].suffix);
        if (ends_with(word, n, rules[i].suffix) && n - k + strlen(rules[i].repl) >= 3) {
            strcpy(word + n - k, rules[i].repl);
            return;
        }
    }
    if (word[n - 1] == 's' && !ends_with(word, n, "ss") && !ends_with(word, n, "us") &&
        !ends_with(word, n, "is"))
        word[n - 1] = '\0';
}

/* True when the phrase's words occur consecutively in text's words. */
static bool phrase_in(char **text, size_t nt, char **ph, size_t np)
{
    if (np == 0 || np > nt)
        return false;
    for (size_t i = 0; i + np <= nt; i++) {
        size_t k = 0;
        while (k < np && strcmp(text[i + k], ph[k]) == 0)
            k++;
        if (k == np)
            return true;
    }
    return false;
}

static size_t folded_words(const char *s, char ***words)
{
    char *f = rubric_fold(s, true);
    size_t n = rubric_words(f, words);
    free(f);
    return n;
}

double rubric_score(const struct rubric *r, const char *text, bool *found)
{
    char **tw;
    size_t nt = folded_words(text, &tw);
    double points = 0;

    for (size_t i = 0; i < r->n; i++) {
        const struct rubric_concept *c = &r->concepts[i];
        bool hit = false;
        for (size_t k = 0; k < c->nwords && !hit; k++) {
            char **pw;
            size_t np = folded_words(c->words[k], &pw);
            hit = phrase_in(tw, nt, pw, np);
            rubric_words_free(pw, np);
        }
        if (found)
            found[i] = hit;
        if (hit)
            points += c->points;
    }
    rubric_words_free(tw, nt);
    if (r->cap <= 0)
        return 0;
    if (points > r->cap)
        points = r->cap;
    return points < 0 ? 0 : 100 * points / r->cap;
}

char *rubric_feedback(const struct rubric *r, const bool *found)
{
    struct sbuf b = {0};
    for (int pass = 0; pass < 2; pass++) {
        bool want = pass == 0, any = false;
        sbuf_adds(&b, pass == 0 ? "Found: " : " Missing: ");
        for (size_t i = 0; i < r->n; i++) {
            if (found[i] != want)
                continue;
            sbuf_printf(&b, "%s%s", any ? ", " : "", r->concepts[i].name);
            any = true;
        }
        sbuf_adds(&b, any ? "." : "none.");
    }
    return sbuf_take(&b);
}

void rubric_free(struct rubric *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->concepts[i].name);
        for (size_t k = 0; k < r->concepts[i].nwords; k++)
            free(r->concepts[i].words[k]);
        free(r->concepts[i].words);
    }
    free(r->concepts);
    memset(r, 0, sizeof(*r));
}
