/* gift_grade.c: GIFT questions in seeded order, and grading one answer. */
#include "gift.h"
#include "msg.h"
#include "rubric.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t gift_seed_mix(uint64_t seed, const char *s)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001B3ULL;
    uint64_t state = seed ^ h;
    return splitmix(&state);
}

void gift_shuffle(size_t *perm, size_t n, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(splitmix(&state) % i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

/* Index in q->answers of the first answer whose right-hand side is the k-th
 * distinct one, or the count of distinct sides when k is past the end. */
static size_t match_distinct(const struct gift_question *q, size_t k, size_t *count)
{
    size_t seen = 0;
    for (size_t i = 0; i < q->nanswers; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(q->answers[j].match, q->answers[i].match) == 0;
        if (dup)
            continue;
        if (seen == k)
            return i;
        seen++;
    }
    if (count)
        *count = seen;
    return q->nanswers;
}

size_t gift_nchoices(const struct gift_question *q)
{
    size_t n = 0;
    switch (q->type) {
    case GIFT_CHOICE:
    case GIFT_MULTI:
        return q->nanswers;
    case GIFT_MATCH:
        match_distinct(q, (size_t)-1, &n);
        return n;
    default:
        return 0;
    }
}

const char *gift_choice_text(const struct gift_question *q, size_t idx)
{
    if (q->type == GIFT_MATCH) {
        size_t i = match_distinct(q, idx, NULL);
        return i < q->nanswers ? q->answers[i].match : "";
    }
    return idx < q->nanswers ? q->answers[idx].text : "";
}

size_t gift_match_count(const struct gift_question *q)
{
    size_t n = 0;
    if (q->type == GIFT_MATCH)
        for (size_t i = 0; i < q->nanswers; i++)
            n += q->answers[i].text[0] != '\0';
    return n;
}

/* The answer index of the k-th subquestion of a matching question. */
static size_t match_sub(const struct gift_question *q, size_t k)
{
    for (size_t i = 0; i < q->nanswers; i++)
        if (q->answers[i].text[0] && k-- == 0)
            return i;
    return q->nanswers;
}

void gift_choice_order(const struct gift_question *q, uint64_t seed, bool shuffle, size_t *order)
{
    size_t n = gift_nchoices(q);
    if (shuffle) {
        gift_shuffle(order, n, seed);
    } else {
        for (size_t i = 0; i < n; i++)
            order[i] = i;
    }
}

/* Position (0-based) of a choice letter, or -1. */
static int letter_pos(const char *s, size_t n, size_t nchoices)
{
    if (n != 1)
        return -1;
    int c = tolower((unsigned char)s[0]);
    if (c < 'a' || (size_t)(c - 'a') >= nchoices)
        return -1;
    return c - 'a';
}

static void set_err(const char *lang, char *err, size_t errlen, const char *fmt, size_t n)
{
    char last = (char)('a' + (n ? n - 1 : 0));
    snprintf(err, errlen, content_msg(lang, fmt), last);
}

/* Shell-style match of folded text against a folded pattern in which *
 * stands for any run of characters (Moodle's short-answer wildcard). */
static bool wild_match(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;

    /* Greedy matching that backtracks only to the last star: linear in
     * practice, never exponential. */
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == *s) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

/* Reads a learner's number: optional sign, digits, a point or a comma for
 * decimals, an exponent. Returns false when s is not exactly one number. */
static bool read_number(const char *s, double *out)
{
    char tmp[64];
    size_t n = 0;
    while (isspace((unsigned char)*s))
        s++;
    for (; *s && n + 1 < sizeof(tmp); s++) {
        if (isspace((unsigned char)*s))
            break;
        tmp[n++] = *s == ',' ? '.' : *s;
    }
    tmp[n] = '\0';
    while (isspace((unsigned char)*s))
        s++;
    if (*s || n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isdigit((unsigned char)tmp[i]) || strchr("+-.eE", tmp[i])))
            return false;
    char *end;
    double v = strtod(tmp, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* True when x is within tol of value, with room for the rounding of decimal input so
 * that an answer exactly on the boundary counts. */
static bool within(double x, double value, double tol)
{
    double slack = 1e-9 * fmax(1.0, fmax(fabs(value), tol));
    return fabs(x - value) <= tol + slack;
}

static int grade_choice(const struct gift_question *q, const size_t *order, const char *ans,
                        struct sbuf *fb, double *score, const char *lang, char *err, size_t errlen)
{
    size_t n = q->nanswers;
    int p = letter_pos(ans, strlen(ans), n);
    if (p < 0) {
        set_err(lang, err, errlen, "expected one letter from a to %c", n);
        return -1;
    }
    const struct gift_answer *a = &q->answers[order[p]];
    *score = a->weight > 0 ? a->weight : 0;
    sbuf_add_line(fb, a->feedback);
    return 0;
}

static int grade_multi(const struct gift_question *q, const size_t *order, const char *ans,
                       struct sbuf *fb, double *score, const char *lang, char *err, size_t errlen)
{
    size_t n = q->nanswers;
    bool chosen[26] = {0};
    const char *s = ans;
    while (*s) {
        while (*s == ',' || *s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t k = strcspn(s, ", \t");
        int p = letter_pos(s, k, n);
        if (p < 0) {
            set_err(lang, err, errlen, "expected letters from a to %c separated by commas", n);
            return -1;
        }
        chosen[p] = true;
        s += k;
    }
    double sum = 0, positive = 0;
    for (size_t i = 0; i < n; i++) {
        const struct gift_answer *a = &q->answers[order[i]];
        if (a->weight > 0)
            positive += a->weight;
        if (chosen[i]) {
            sum += a->weight;
            sbuf_add_line(fb, a->feedback);
        }
    }
    double f = positive > 0 ? sum / positive : 0;
    *score = 100 * (f < 0 ? 0 : f > 1 ? 1 : f);
    return 0;
}

static int grade_truefalse(const struct gift_question *q, const char *ans, struct sbuf *fb,
                           double *score, const char *lang, char *err, size_t errlen)
{
    bool v;
    if (!strcasecmp(ans, "true") || !strcasecmp(ans, "t")) {
        v = true;
    } else if (!strcasecmp(ans, "false") || !strcasecmp(ans, "f")) {
        v = false;
    } else {
        snprintf(err, errlen, "%s", content_msg(lang, "expected true or false"));
        return -1;
    }
    *score = v == q->truth ? 100 : 0;
    sbuf_add_line(fb, v == q->truth ? q->fb_right : q->fb_wrong);
    return 0;
}

/* The answer of highest weight among those the learner's answer matches
 * (short answer and numerical questions), or NULL. */
static const struct gift_answer *best_matching(const struct gift_question *q,
                                               bool (*matches)(const struct gift_answer *, const void *),
                                               const void *learner)
{
    const struct gift_answer *best = NULL;
    for (size_t i = 0; i < q->nanswers; i++) {
        const struct gift_answer *a = &q->answers[i];
        if (matches(a, learner) && (best == NULL || a->weight > best->weight))
            best = a;
    }
    return best;
}

/* learner: the folded answer text. */
static bool short_matches(const struct gift_answer *a, const void *learner)
{
    char *k = rubric_fold(a->text, false);
    bool m = wild_match(k, learner);
    free(k);
    return m;
}

/* learner: the number read from the answer. */
static bool number_matches(const struct gift_answer *a, const void *learner)
{
    return within(*(const double *)learner, a->value, a->tol);
}

static void grade_short(const struct gift_question *q, const char *ans, struct sbuf *fb,
                        double *score)
{
    char *a = rubric_fold(ans, false);
    const struct gift_answer *best = best_matching(q, short_matches, a);
    free(a);
    *score = best && best->weight > 0 ? best->weight : 0;
    if (best)
        sbuf_add_line(fb, best->feedback);
}

static int grade_numerical(const struct gift_question *q, const char *ans, struct sbuf *fb,
                           double *score, const char *lang, char *err, size_t errlen)
{
    double x;
    if (!read_number(ans, &x)) {
        snprintf(err, errlen, "%s", content_msg(lang, "expected a number"));
        return -1;
    }
    const struct gift_answer *best = best_matching(q, number_matches, &x);
    *score = best && best->weight > 0 ? best->weight : 0;
    sbuf_add_line(fb, best ? best->feedback : q->fb_wrong);
    return 0;
}

static int grade_match(const struct gift_question *q, const size_t *order, const char *ans,
                       double *score, const char *lang, char *err, size_t errlen)
{
    size_t subs = gift_match_count(q), nch = gift_nchoices(q);
    int *pick = xmalloc((subs ? subs : 1) * sizeof(*pick));
    for (size_t i = 0; i < subs; i++)
        pick[i] = -1;
    const char *s = ans;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s)
            break;
        char *end;
        long k = strtol(s, &end, 10);
        int p = -1;
        if (end != s && *end == '=' && k >= 1 && (size_t)k <= subs) {
            size_t len = strcspn(end + 1, " \t,");
            p = letter_pos(end + 1, len, nch);
            s = end + 1 + len;
        }
        if (p < 0 || pick[k - 1] >= 0) {
            snprintf(err, errlen, content_msg(lang, "expected pairs like 1=a 2=b (1 to %zu, a to %c, "
                                              "each number once)"), subs, (char)('a' + nch - 1));
            free(pick);
            return -1;
        }
        pick[k - 1] = p;
    }
    size_t right = 0;
    for (size_t k = 0; k < subs; k++) {
        const struct gift_answer *a = &q->answers[match_sub(q, k)];
        if (pick[k] >= 0 && strcmp(gift_choice_text(q, order[pick[k]]), a->match) == 0)
            right++;
    }
    free(pick);
    *score = subs ? 100.0 * (double)right / (double)subs : 0;
    return 0;
}

int gift_grade(const struct gift_question *q, const size_t *order, const char *answer,
               struct gift_grade *out, char *err, size_t errlen)
{
    return gift_grade_lang(q, order, answer, out, NULL, err, errlen);
}

int gift_grade_lang(const struct gift_question *q, const size_t *order, const char *answer,
                    struct gift_grade *out, const char *lang, char *err, size_t errlen)
{
    struct sbuf fb = {0};
    char *ans = rubric_fold(answer, false);
    double score = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    /* rubric_fold trims and lower-cases; graders that care about case
     * (none do) would use answer itself. */
    if (ans[0] == '\0' && q->type != GIFT_ESSAY && q->type != GIFT_DESCRIPTION) {
        free(ans);
        out->feedback = xstrdup("");
        out->score = 0;
        return 0;
    }
    switch (q->type) {
    case GIFT_DESCRIPTION:
        break;
    case GIFT_ESSAY:
        out->pending = true;
        break;
    case GIFT_CHOICE:
        rc = grade_choice(q, order, ans, &fb, &score, lang, err, errlen);
        break;
    case GIFT_MULTI:
        rc = grade_multi(q, order, ans, &fb, &score, lang, err, errlen);
        break;
    case GIFT_TRUEFALSE:
        rc = grade_truefalse(q, ans, &fb, &score, lang, err, errlen);
        break;
    case GIFT_SHORT:
        grade_short(q, answer, &fb, &score);
        break;
    case GIFT_NUMERICAL:
        rc = grade_numerical(q, ans, &fb, &score, lang, err, errlen);
        break;
    case GIFT_MATCH:
        rc = grade_match(q, order, ans, &score, lang, err, errlen);
        break;
    }
    free(ans);
    if (rc < 0) {
        sbuf_free(&fb);
        return -1;
    }
    if (q->type != GIFT_DESCRIPTION && q->type != GIFT_ESSAY)
        sbuf_add_line(&fb, q->general_feedback);
    out->score = score;
    out->feedback = sbuf_take(&fb);
    return 0;
}

/* Position shown for answer index idx in order (n entries). */
static size_t shown_at(const size_t *order, size_t n, size_t idx)
{
    for (size_t p = 0; p < n; p++)
        if (order[p] == idx)
            return p;
    return 0;
}

static const struct gift_answer *best_answer(const struct gift_question *q)
{
    const struct gift_answer *best = NULL;
    for (size_t i = 0; i < q->nanswers; i++)
        if (best == NULL || q->answers[i].weight > best->weight)
            best = &q->answers[i];
    return best;
}


char *gift_key_answer(const struct gift_question *q, const size_t *order)
{
    struct sbuf b = {0};
    size_t n = gift_nchoices(q);

    switch (q->type) {
    case GIFT_DESCRIPTION:
    case GIFT_ESSAY:
        return NULL;
    case GIFT_CHOICE:
        sbuf_addc(&b, (char)('a' + shown_at(order, n, (size_t)(best_answer(q) - q->answers))));
        break;
    case GIFT_MULTI:
        for (size_t p = 0; p < n; p++)
            if (q->answers[order[p]].weight > 0) {
                if (b.len)
                    sbuf_addc(&b, ',');
                sbuf_addc(&b, (char)('a' + p));
            }
        break;
    case GIFT_TRUEFALSE:
        sbuf_adds(&b, q->truth ? "true" : "false");
        break;
    case GIFT_SHORT: {
        /* A wildcard stands for nothing in the key. */
        for (const char *s = best_answer(q)->text; *s; s++)
            if (*s != '*')
                sbuf_addc(&b, *s);
        break;
    }
    case GIFT_NUMERICAL:
        sbuf_add_double(&b, best_answer(q)->value);
        break;
    case GIFT_MATCH:
        for (size_t k = 0; k < gift_match_count(q); k++) {
            const char *m = q->answers[match_sub(q, k)].match;
            size_t p = 0;
            while (p < n && strcmp(gift_choice_text(q, order[p]), m) != 0)
                p++;
            sbuf_printf(&b, "%s%zu=%c", k ? " " : "", k + 1, (char)('a' + p));
        }
        break;
    }
    return sbuf_take(&b);
}

char *gift_key_text(const struct gift_question *q, const size_t *order)
{
    struct sbuf b = {0};
    size_t n = gift_nchoices(q);

    switch (q->type) {
    case GIFT_DESCRIPTION:
    case GIFT_ESSAY:
        return NULL;
    case GIFT_CHOICE:
    case GIFT_MULTI:
        for (size_t p = 0; p < n; p++) {
            const struct gift_answer *a = &q->answers[order[p]];
            bool key = q->type == GIFT_CHOICE ? a->weight == 100 : a->weight > 0;
            if (key)
                sbuf_printf(&b, "%s%c (%s)", b.len ? ", " : "", (char)('a' + p), a->text);
        }
        break;
    case GIFT_TRUEFALSE:
        sbuf_adds(&b, q->truth ? "true" : "false");
        break;
    case GIFT_SHORT:
        for (size_t i = 0; i < q->nanswers; i++)
            if (q->answers[i].weight == 100)
                sbuf_printf(&b, "%s%s", b.len ? " or " : "", q->answers[i].text);
        break;
    case GIFT_NUMERICAL: {
        const struct gift_answer *a = best_answer(q);
        sbuf_add_double(&b, a->value);
        if (a->tol > 0) {
            sbuf_adds(&b, " +- ");
            sbuf_add_double(&b, a->tol);
        }
        break;
    }
    case GIFT_MATCH:
        for (size_t k = 0; k < gift_match_count(q); k++) {
            const struct gift_answer *a = &q->answers[match_sub(q, k)];
            sbuf_printf(&b, "%s%s -> %s", k ? "; " : "", a->text, a->match);
        }
        break;
    }
    return sbuf_take(&b);
}
