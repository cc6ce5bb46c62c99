/* rubric.c: text folding (case, accents, stems) and rubric scoring. */
#include "rubric.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* --- Answers as words in sentences -------------------------------------- */

/* The words of a text, each with the number of its sentence. */
struct toks {
    char **w;
    unsigned *sent;
    size_t n, cap;
};

static void toks_push(struct toks *t, struct sbuf *w, unsigned sent)
{
    if (w->len == 0)
        return;
    if (t->n >= RUBRIC_WORDS_MAX) { /* bounds the grading of a 1 MiB answer */
        w->len = 0;
        w->data[0] = '\0';
        return;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->w = xrealloc(t->w, t->cap * sizeof(*t->w));
        t->sent = xrealloc(t->sent, t->cap * sizeof(*t->sent));
    }
    char *word = sbuf_take(w);
    rubric_stem(word);
    t->w[t->n] = word;
    t->sent[t->n++] = sent;
}

static void toks_free(struct toks *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->w[i]);
    free(t->w);
    free(t->sent);
    memset(t, 0, sizeof(*t));
}

/* Sentence ends: . ! ? ; and their CJK forms. A full stop followed directly
 * by a letter or digit ("3.5", "e.g.") ends nothing. */
static bool sentence_end(uint32_t c, const unsigned char *next)
{
    if (c == '.')
        return !((*next >= 'a' && *next <= 'z') || (*next >= '0' && *next <= '9'));
    return c == '!' || c == '?' || c == ';' || c == 0x3002 || c == 0xFF01 || c == 0xFF1F ||
           c == 0xFF1B;
}

/* Folds text (case, accents) and splits it as rubric_words does, numbering
 * sentences. */
static void tokenize(const char *text, struct toks *t)
{
    char *f = rubric_fold(text, true);
    struct sbuf w = {0};
    const unsigned char *p = (const unsigned char *)f;
    unsigned sent = 0;

    memset(t, 0, sizeof(*t));
    while (*p) {
        uint32_t c;
        const unsigned char *start = p;
        p += utf8_dec(p, &c);
        if (separator_cp(c) || sentence_end(c, p)) {
            toks_push(t, &w, sent);
            if (sentence_end(c, p))
                sent++;
        } else if (cjk_cp(c)) {
            toks_push(t, &w, sent);
            sbuf_add(&w, start, (size_t)(p - start));
            toks_push(t, &w, sent);
        } else {
            sbuf_add(&w, start, (size_t)(p - start));
        }
    }
    toks_push(t, &w, sent);
    sbuf_free(&w);
    free(f);
}

bool rubric_negation(const char *word, const char *prev)
{
    static const char *const cues[] = {
        "not", "never", "no", "nor", "neither", "none", "without", "cannot", "nobody", "nothing",
        "ne", "n", "pas", "sans", "jamais", "aucun", "aucune", "personne", "rien",
        "nunca", "sin", "ni", "jamas", "ningun", "ninguna", "nadie", "nada",
    };
    if (strcmp(word, "t") == 0) /* don't, isn't, can't, won't: split at the apostrophe */
        return prev && prev[0] && prev[strlen(prev) - 1] == 'n';
    for (size_t i = 0; i < sizeof(cues) / sizeof(cues[0]); i++) {
        char stemmed[16];
        if (strcmp(word, cues[i]) == 0)
            return true;
        snprintf(stemmed, sizeof(stemmed), "%s", cues[i]);
        rubric_stem(stemmed);
        if (strcmp(word, stemmed) == 0)
            return true;
    }
    return false;
}

/* --- Phrases and patterns ------------------------------------------------- */

#define PATTERN_PARTS_MAX 8

/* A pattern: parts of consecutive words, in order, " ... " between them. */
struct pattern {
    struct toks part[PATTERN_PARTS_MAX];
    size_t nparts;
    bool negative;     /* holds a negation itself ("ne ... pas"): never denied */
};

static void pattern_compile(const char *src, struct pattern *p)
{
    memset(p, 0, sizeof(*p));
    const char *s = src;
    while (p->nparts < PATTERN_PARTS_MAX) {
        const char *gap = strstr(s, "...");
        if (gap == NULL || p->nparts == PATTERN_PARTS_MAX - 1)
            gap = s + strlen(s);
        char *part = xstrndup(s, (size_t)(gap - s));
        tokenize(part, &p->part[p->nparts]);
        free(part);
        if (p->part[p->nparts].n > 0)
            p->nparts++;
        else
            toks_free(&p->part[p->nparts]);
        if (*gap == '\0')
            break;
        s = gap + 3;
    }
    for (size_t k = 0; k < p->nparts; k++)
        for (size_t i = 0; i < p->part[k].n; i++)
            if (rubric_negation(p->part[k].w[i], i ? p->part[k].w[i - 1] : NULL))
                p->negative = true;
}

static void pattern_free(struct pattern *p)
{
    for (size_t k = 0; k < p->nparts; k++)
        toks_free(&p->part[k]);
}

static bool run_at(const struct toks *t, size_t i, const struct toks *run)
{
    if (i + run->n > t->n)
        return false;
    for (size_t k = 0; k < run->n; k++)
        if (strcmp(t->w[i + k], run->w[k]) != 0 || t->sent[i + k] != t->sent[i])
            return false;
    return true;
}

/* True when the pattern matches with its first part at word i: every later
 * part at the earliest place after the one before, all in the sentence of
 * word i (window 0) or within window words of it. */
static bool pattern_at(const struct toks *t, size_t i, const struct pattern *p, size_t window,
                       size_t *end)
{
    if (p->nparts == 0 || !run_at(t, i, &p->part[0]))
        return false;
    size_t at = i + p->part[0].n;
    size_t limit = i + (window ? window : RUBRIC_SPAN_MAX);
    if (limit > t->n)
        limit = t->n;
    for (size_t k = 1; k < p->nparts; k++) {
        size_t j = at;
        /* The match must stay in the sentence (or window): look no further. */
        while (j < limit && (window || t->sent[j] == t->sent[i]) && !run_at(t, j, &p->part[k]))
            j++;
        if (j >= limit || (!window && t->sent[j] != t->sent[i]))
            return false;
        at = j + p->part[k].n;
    }
    *end = at;
    if (window)
        return at - i <= window;
    return t->sent[at - 1] == t->sent[i];
}

static bool negation_at(const struct toks *t, size_t j)
{
    return rubric_negation(t->w[j], j ? t->w[j - 1] : NULL) &&
           !(j + 1 < t->n && strcmp(t->w[j + 1], "only") == 0); /* "not only" */
}

/* True when a negation stands within RUBRIC_NEGATION_REACH words before
 * the match [i, end) in its sentence, or in a gap of the match ("the
 * association does not lead" for "association ... lead"). */
static bool negated_at(const struct toks *t, size_t i, size_t end)
{
    for (size_t back = 1; back <= RUBRIC_NEGATION_REACH && back <= i; back++) {
        if (t->sent[i - back] != t->sent[i])
            break;
        if (negation_at(t, i - back))
            return true;
    }
    for (size_t j = i; j < end; j++)
        if (negation_at(t, j))
            return true;
    return false;
}

/* Looks for a pattern: returns 0 when absent, 1 when it matches only where
 * it is not negated, 2 when some match of it is negated. */
static int pattern_find(const struct toks *t, const char *src, size_t window)
{
    struct pattern p;
    int found = 0;
    size_t end;
    pattern_compile(src, &p);
    for (size_t i = 0; i < t->n && found < 2; i++)
        if (pattern_at(t, i, &p, window, &end))
            found = !p.negative && negated_at(t, i, end) ? 2 : 1;
    pattern_free(&p);
    return found;
}

/* --- The shape of an answer ----------------------------------------------- */

/* True when w is one of the words of the rubric's concept phrases. */
static bool concept_word(const struct toks *cw, const char *w)
{
    for (size_t i = 0; i < cw->n; i++)
        if (strcmp(cw->w[i], w) == 0)
            return true;
    return false;
}

/* Small words of running text in English, French and Spanish: a list of
 * keywords has almost none. */
static bool function_word(const char *w)
{
    static const char *const small[] = {
        "the", "a", "an", "of", "to", "and", "in", "is", "are", "be", "for", "with", "by", "on",
        "that", "it", "its", "they", "their", "this", "as", "at", "from", "or", "so", "can",
        "will", "would", "should", "who", "which", "was", "were", "has", "have", "them", "each",
        "le", "la", "les", "de", "des", "du", "et", "un", "une", "est", "sont", "pour", "avec",
        "dans", "que", "qui", "au", "aux", "par", "sur", "il", "ils", "elle", "se",
        "el", "los", "las", "del", "y", "en", "es", "son", "para", "con", "por", "una", "lo",
    };
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++)
        if (strcmp(w, small[i]) == 0)
            return true;
    return false;
}

/* Marks the answer's words that belong to a run of RUBRIC_COPY_RUN words
 * also found in the prompt; returns the share of the answer's runs copied. */
static double copied_share(const struct toks *a, const struct toks *prompt, bool *copied)
{
    size_t runs = 0, hits = 0, k = RUBRIC_COPY_RUN;
    if (a->n < k || prompt->n < k)
        return 0;
    for (size_t i = 0; i + k <= a->n; i++) {
        runs++;
        for (size_t j = 0; j + k <= prompt->n; j++) {
            size_t m = 0;
            while (m < k && strcmp(a->w[i + m], prompt->w[j + m]) == 0)
                m++;
            if (m == k) {
                hits++;
                for (m = 0; m < k; m++)
                    copied[i + m] = true;
                break;
            }
        }
    }
    return (double)hits / (double)runs;
}

static size_t distinct_words(const struct toks *a)
{
    size_t d = 0;
    for (size_t i = 0; i < a->n; i++) {
        size_t j = 0;
        while (j < i && strcmp(a->w[j], a->w[i]) != 0)
            j++;
        d += j == i;
    }
    return d;
}

/* Returns why the answer is refused before its concepts are looked for, or
 * NULL; counts its own words in *own. */
/* The words around a rubric's feedback, per language: what a learner reads
 * after an answer (concept names and reasons of contradictions are the
 * author's, in the variant's language). The reasons are shape_check's, in
 * its order. */
#define RUBRIC_REASONS 5
struct rubric_frames {
    const char *found, *contradicted, *missing, *none;
    const char *own_words;      /* %zu own words, %zu needed */
    const char *contradiction;  /* %g points, %s why */
    const char *negated;        /* %s the phrase */
    const char *reasons[RUBRIC_REASONS];
};

static const struct rubric_frames rubric_frames_en = {
    "Found: ", " Contradicted: ", " Missing: ", "none.",
    " (%zu words of your own, %zu needed.)", " Contradiction (-%g points): %s", "negated: %s",
    {"There is no answer.",
     "The answer repeats the task's own text; explain in your own words.",
     "The answer is a list of keywords; write sentences that explain how and why.",
     "The answer repeats the same words; say each thing once, in full sentences.",
     "The answer is too short: it needs more words of your own than the concepts' names."},
};

static const struct rubric_frames rubric_frames_fr = {
    "Trouvé : ", " Contredit : ", " Manquant : ", "aucun.",
    " (%zu mots à vous, %zu demandés.)", " Contradiction (-%g points) : %s", "nié : %s",
    {"Il n'y a pas de réponse.",
     "La réponse reprend le texte de la tâche ; expliquez avec vos propres mots.",
     "La réponse est une liste de mots-clés ; écrivez des phrases qui expliquent comment et "
     "pourquoi.",
     "La réponse répète les mêmes mots ; dites chaque chose une fois, en phrases complètes.",
     "La réponse est trop courte : il lui faut plus de mots à vous que les noms des concepts."},
};

static const struct rubric_frames rubric_frames_es = {
    "Encontrado: ", " Contradicho: ", " Falta: ", "nada.",
    " (%zu palabras propias, se piden %zu.)", " Contradicción (-%g puntos): %s", "negado: %s",
    {"No hay respuesta.",
     "La respuesta repite el texto de la tarea; explíquelo con sus propias palabras.",
     "La respuesta es una lista de palabras clave; escriba frases que expliquen cómo y por qué.",
     "La respuesta repite las mismas palabras; diga cada cosa una vez, en frases completas.",
     "La respuesta es demasiado corta: necesita más palabras propias que los nombres de los "
     "conceptos."},
};

static const struct rubric_frames *rubric_frames_for(const struct rubric *r)
{
    const char *l = r->lang;

    if (l && strncasecmp(l, "fr", 2) == 0 && (l[2] == '\0' || l[2] == '-'))
        return &rubric_frames_fr;
    if (l && strncasecmp(l, "es", 2) == 0 && (l[2] == '\0' || l[2] == '-'))
        return &rubric_frames_es;
    return &rubric_frames_en;
}

static const char *shape_check(const struct rubric *r, const struct toks *a, size_t *own)
{
    struct toks cw = {0}, pr = {0};
    const char *why = NULL;
    bool *copied = xcalloc(a->n + 1, sizeof(bool));
    size_t keywords = 0, small = 0;

    for (size_t i = 0; i < r->n; i++)
        for (size_t k = 0; k < r->concepts[i].nwords; k++) {
            struct toks one;
            tokenize(r->concepts[i].words[k], &one);
            for (size_t j = 0; j < one.n; j++) {
                struct sbuf w = {0};
                sbuf_adds(&w, one.w[j]);
                toks_push(&cw, &w, 0);
            }
            toks_free(&one);
        }
    if (r->prompt)
        tokenize(r->prompt, &pr);
    double share = copied_share(a, &pr, copied);
    *own = 0;
    for (size_t i = 0; i < a->n; i++) {
        bool kw = concept_word(&cw, a->w[i]);
        keywords += kw;
        small += function_word(a->w[i]);
        *own += !kw && !copied[i];
    }
    if (a->n == 0)
        why = rubric_frames_en.reasons[0];
    else if (share >= RUBRIC_COPY_SHARE)
        why = rubric_frames_en.reasons[1];
    else if (r->min_words > 0 && a->n >= RUBRIC_LIST_FROM &&
             ((double)keywords > RUBRIC_KEYWORD_SHARE * (double)a->n ||
              (double)small < RUBRIC_FUNCTION_SHARE * (double)a->n))
        why = rubric_frames_en.reasons[2];
    else if (r->min_words > 0 && a->n >= RUBRIC_TTR_FROM &&
             (double)distinct_words(a) < RUBRIC_TTR_MIN * (double)a->n)
        why = rubric_frames_en.reasons[3];
    else if (*own < r->min_words)
        why = rubric_frames_en.reasons[4];
    free(copied);
    toks_free(&cw);
    toks_free(&pr);
    return why;
}

/* --- Grading ------------------------------------------------------------- */

double rubric_grade(const struct rubric *r, const char *text, struct rubric_verdict *v)
{
    struct toks a;
    double points = 0;

    memset(v, 0, sizeof(*v));
    v->n = r->n;
    v->state = xcalloc(r->n + 1, sizeof(*v->state));
    v->why = xcalloc(r->n + 1, sizeof(*v->why));
    v->against_hit = xcalloc(r->nagainst + 1, sizeof(*v->against_hit));
    tokenize(text, &a);
    v->rejected = shape_check(r, &a, &v->own_words);
    if (v->rejected || r->cap <= 0) {
        toks_free(&a);
        return v->score = 0;
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct rubric_concept *c = &r->concepts[i];
        for (size_t k = 0; k < c->nwords && v->state[i] != RUBRIC_CONTRADICTED; k++) {
            int f = pattern_find(&a, c->words[k], r->window);
            if (f == 2) {
                v->state[i] = RUBRIC_CONTRADICTED;
                v->why[i] = xasprintf(rubric_frames_for(r)->negated, c->words[k]);
            } else if (f == 1) {
                v->state[i] = RUBRIC_FOUND;
            }
        }
        for (size_t k = 0; k < c->nagainst && v->state[i] != RUBRIC_CONTRADICTED; k++)
            if (pattern_find(&a, c->against[k], r->window) == 1) {
                v->state[i] = RUBRIC_CONTRADICTED;
                v->why[i] = xstrdup(c->against[k]);
            }
        if (v->state[i] == RUBRIC_FOUND)
            points += c->points;
    }
    for (size_t i = 0; i < r->nagainst; i++)
        for (size_t k = 0; k < r->against[i].nwords && !v->against_hit[i]; k++)
            if (pattern_find(&a, r->against[i].words[k], r->window) == 1) {
                v->against_hit[i] = true;
                points -= r->against[i].cost;
            }
    toks_free(&a);
    if (points > r->cap)
        points = r->cap;
    return v->score = points < 0 ? 0 : 100 * points / r->cap;
}

void rubric_verdict_free(struct rubric_verdict *v)
{
    free(v->state);
    free(v->against_hit);
    for (size_t i = 0; v->why && i < v->n; i++)
        free(v->why[i]);
    free(v->why);
    memset(v, 0, sizeof(*v));
}

double rubric_score(const struct rubric *r, const char *text, bool *found)
{
    struct rubric_verdict v;
    double score = rubric_grade(r, text, &v);
    for (size_t i = 0; found && i < r->n; i++)
        found[i] = v.state[i] == RUBRIC_FOUND;
    rubric_verdict_free(&v);
    return score;
}

char *rubric_feedback(const struct rubric *r, const struct rubric_verdict *v)
{
    struct sbuf b = {0};
    const struct rubric_frames *fr = rubric_frames_for(r);
    if (v->rejected) {
        const char *why = v->rejected;
        for (size_t i = 0; i < RUBRIC_REASONS; i++)
            if (strcmp(why, rubric_frames_en.reasons[i]) == 0)
                why = fr->reasons[i];
        sbuf_adds(&b, why);
        if (r->min_words > 0)
            sbuf_printf(&b, fr->own_words, v->own_words, r->min_words);
        return sbuf_take(&b);
    }
    const struct { enum rubric_state st; const char *label; } parts[] = {
        { RUBRIC_FOUND, fr->found }, { RUBRIC_CONTRADICTED, fr->contradicted },
        { RUBRIC_MISSING, fr->missing },
    };
    for (size_t p = 0; p < 3; p++) {
        bool any = false;
        for (size_t i = 0; i < r->n; i++) {
            if (v->state[i] != parts[p].st)
                continue;
            sbuf_printf(&b, "%s%s", any ? ", " : parts[p].label, r->concepts[i].name);
            if (v->why[i])
                sbuf_printf(&b, " (\"%s\")", v->why[i]);
            any = true;
        }
        if (any)
            sbuf_adds(&b, ".");
        else if (parts[p].st != RUBRIC_CONTRADICTED)
            sbuf_printf(&b, "%s%s", parts[p].label, fr->none);
    }
    for (size_t i = 0; i < r->nagainst; i++)
        if (v->against_hit[i])
            sbuf_printf(&b, fr->contradiction, r->against[i].cost,
                        r->against[i].why[0] ? r->against[i].why : r->against[i].words[0]);
    return sbuf_take(&b);
}

void rubric_free(struct rubric *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->concepts[i].name);
        for (size_t k = 0; k < r->concepts[i].nwords; k++)
            free(r->concepts[i].words[k]);
        free(r->concepts[i].words);
        for (size_t k = 0; k < r->concepts[i].nagainst; k++)
            free(r->concepts[i].against[k]);
        free(r->concepts[i].against);
    }
    free(r->concepts);
    for (size_t i = 0; i < r->nagainst; i++) {
        for (size_t k = 0; k < r->against[i].nwords; k++)
            free(r->against[i].words[k]);
        free(r->against[i].words);
        free(r->against[i].why);
    }
    free(r->against);
    free(r->prompt);
    memset(r, 0, sizeof(*r));
}
