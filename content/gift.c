/* gift.c: parsing Moodle GIFT questions, following Moodle's own importer. */
#include "gift.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Escaped control characters become these bytes while the question is cut
 * into pieces, and are put back in every text at the end (Moodle does the
 * same with "&&058;" style placeholders). Raw bytes 1..7 are refused. */
enum { PH_COLON = 1, PH_HASH, PH_EQUAL, PH_LBRACE, PH_RBRACE, PH_TILDE, PH_NEWLINE };

#define GIFT_MAX_CHOICES 26
#define GIFT_MAX_ANSWERS 100
#define GIFT_BLANK "_____"

/* A piece of the question buffer. */
struct span {
    const char *p;
    size_t n;
};

/* The question being parsed: its buffer and where it sits in the file. */
struct gift_ctx {
    const char *buf;       /* the question's lines joined by \n, escapes replaced */
    int base_line;         /* file line of buf's first line */
    const char *path;
    struct diag_list *diags;
    int errors;
    const char *open;      /* the { of the answer block: block-level errors */
};

static int ctx_line(const struct gift_ctx *c, const char *at)
{
    int line = c->base_line;
    for (const char *p = c->buf; p < at; p++)
        if (*p == '\n')
            line++;
    return line;
}

static void ctx_error(struct gift_ctx *c, const char *at, const char *msg)
{
    diag_add(c->diags, DIAG_ERROR, c->path, ctx_line(c, at), "%s", msg);
    c->errors++;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static struct span span_trim(struct span s)
{
    while (s.n && is_space(s.p[0]))
        s.p++, s.n--;
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static struct span span_from(struct span s, size_t off)
{
    return (struct span){ s.p + off, s.n - off };
}

static struct span span_to(struct span s, size_t len)
{
    return (struct span){ s.p, len };
}

/* Offset of the first ch in s, or -1. */
static long span_chr(struct span s, char ch)
{
    const char *q = memchr(s.p, ch, s.n);
    return q ? (long)(q - s.p) : -1;
}

/* Offset of the first (or, if last, the last) occurrence of needle, or -1. */
static long span_str(struct span s, const char *needle, bool last)
{
    size_t k = strlen(needle);
    long found = -1;
    for (size_t i = 0; i + k <= s.n; i++)
        if (memcmp(s.p + i, needle, k) == 0) {
            found = (long)i;
            if (!last)
                break;
        }
    return found;
}

static bool span_starts(struct span s, const char *prefix)
{
    size_t k = strlen(prefix);
    return s.n >= k && memcmp(s.p, prefix, k) == 0;
}

/* Copies s into a new string with the placeholders put back and surrounding
 * space trimmed. */
static char *span_text(struct span s)
{
    struct sbuf b = {0};
    s = span_trim(s);
    for (size_t i = 0; i < s.n; i++) {
        static const char back[] = { 0, ':', '#', '=', '{', '}', '~', '\n' };
        unsigned char ch = (unsigned char)s.p[i];
        sbuf_addc(&b, ch >= PH_COLON && ch <= PH_NEWLINE ? back[ch] : (char)ch);
    }
    char *t = sbuf_take(&b);
    /* An escaped \n at either end is space too. */
    size_t n = strlen(t), a = 0;
    while (a < n && is_space(t[a]))
        a++;
    while (n > a && is_space(t[n - 1]))
        n--;
    memmove(t, t + a, n - a);
    t[n - a] = '\0';
    return t;
}

static bool format_from_name(struct span name, enum gift_format *fmt)
{
    static const struct { const char *name; enum gift_format fmt; } names[] = {
        { "moodle", GIFT_FMT_MOODLE }, { "html", GIFT_FMT_HTML },
        { "plain", GIFT_FMT_PLAIN }, { "markdown", GIFT_FMT_MARKDOWN },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i].name) == name.n && memcmp(names[i].name, name.p, name.n) == 0) {
            *fmt = names[i].fmt;
            return true;
        }
    return false;
}

/* Moodle's parse_text_with_format: a leading [moodle] [html] [plain] or
 * [markdown] sets the format and is removed; anything else in brackets is
 * text. Returns the text (owned); *fmt is set only when a tag was found. */
static char *text_with_format(struct span s, enum gift_format *fmt)
{
    s = span_trim(s);
    if (s.n && s.p[0] == '[') {
        long end = span_chr(s, ']');
        enum gift_format f;
        if (end > 0 && format_from_name((struct span){ s.p + 1, (size_t)end - 1 }, &f)) {
            if (fmt)
                *fmt = f;
            s = span_from(s, (size_t)end + 1);
        }
    }
    return span_text(s);
}

/* Splits "answer#feedback" at the first #. Both are owned, trimmed. */
static void comment_split(struct span s, char **text, char **feedback)
{
    long h = span_chr(s, '#');
    if (h < 0) {
        *text = text_with_format(s, NULL);
        *feedback = xstrdup("");
    } else {
        *text = text_with_format(span_to(s, (size_t)h), NULL);
        *feedback = text_with_format(span_from(s, (size_t)h + 1), NULL);
    }
}

/* Parses a number spanning all of s (after trimming); false otherwise. */
static bool span_number(struct span s, double *out)
{
    char tmp[64];
    s = span_trim(s);
    if (s.n == 0 || s.n >= sizeof(tmp))
        return false;
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = '\0';
    for (size_t i = 0; i < s.n; i++)
        if (!(isdigit((unsigned char)tmp[i]) || strchr("+-.eE", tmp[i])))
            return false;
    char *end;
    double v = strtod(tmp, &end);
    if (*end != '\0' || end == tmp || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* A leading %weight% (percent, -100 to 100, decimals allowed). Returns 1 and
 * advances *s past it when there is one, 0 when there is none, -1 (with an
 * error reported) when the number is out of range. */
static int weight_prefix(struct gift_ctx *c, struct span *s, double *weight)
{
    if (s->n < 3 || s->p[0] != '%')
        return 0;
    long end = span_chr(span_from(*s, 1), '%');
    if (end <= 0)
        return 0;
    double w;
    if (!span_number((struct span){ s->p + 1, (size_t)end }, &w))
        return 0;
    if (w < -100 || w > 100) {
        ctx_error(c, s->p, "an answer weight must be between -100% and 100%");
        return -1;
    }
    *weight = w;
    *s = span_from(*s, (size_t)end + 2);
    return 1;
}

static struct gift_answer *add_answer(struct gift_question *q)
{
    q->answers = xrealloc(q->answers, (q->nanswers + 1) * sizeof(*q->answers));
    struct gift_answer *a = &q->answers[q->nanswers++];
    memset(a, 0, sizeof(*a));
    return a;
}

/* Cuts s before every occurrence of one of the delimiter characters; each
 * piece keeps its delimiter as first byte. The text before the first
 * delimiter is the first piece when it is not blank. Returns the count. */
static size_t split_pieces(struct span s, const char *delims, struct span **out)
{
    size_t n = 0, cap = 8;
    struct span *v = xmalloc(cap * sizeof(*v));
    size_t start = 0;
    for (size_t i = 0; i <= s.n; i++) {
        if (i < s.n && !strchr(delims, s.p[i]))
            continue;
        struct span piece = { s.p + start, i - start };
        if (!(start == 0 && span_trim(piece).n == 0)) {
            if (n == cap)
                v = xrealloc(v, (cap *= 2) * sizeof(*v));
            v[n++] = piece;
        }
        start = i;
    }
    *out = v;
    return n;
}

/* Refuses answer blocks too large to grade quickly. */
static bool too_many(struct gift_ctx *c, size_t n)
{
    if (n <= GIFT_MAX_ANSWERS)
        return false;
    ctx_error(c, c->open, "a question has at most 100 answers");
    return true;
}

static int parse_choice(struct gift_ctx *c, struct gift_question *q, struct span ans)
{
    struct span *pieces;
    size_t n = split_pieces(ans, "~=", &pieces);
    int rc = too_many(c, n) ? -1 : 0;

    q->type = span_chr(ans, '=') >= 0 ? GIFT_CHOICE : GIFT_MULTI;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct span s = span_trim(pieces[i]);
        const char *at = s.p;
        double w = 0;
        if (s.p[0] == '=' || s.p[0] == '~') {
            bool right = s.p[0] == '=';
            s = span_trim(span_from(s, 1));
            w = right ? 100 : 0;
            if (weight_prefix(c, &s, &w) < 0)
                rc = -1;
        } else {
            if (weight_prefix(c, &s, &w) < 0)
                rc = -1;
            diag_add(c->diags, DIAG_WARNING, c->path, ctx_line(c, at),
                     "text before the first ~ or = is taken as a wrong answer");
        }
        if (rc)
            break;
        struct gift_answer *a = add_answer(q);
        a->weight = w;
        comment_split(s, &a->text, &a->feedback);
        if (a->text[0] == '\0') {
            ctx_error(c, at, "an answer of a multiple choice question is empty");
            rc = -1;
        }
    }
    free(pieces);
    if (rc)
        return -1;
    if (q->nanswers < 2) {
        ctx_error(c, c->open, "a multiple choice question needs at least 2 answers");
        return -1;
    }
    if (q->nanswers > GIFT_MAX_CHOICES) {
        ctx_error(c, c->open, "a multiple choice question has at most 26 answers");
        return -1;
    }
    if (q->type == GIFT_CHOICE) {
        bool full = false;
        for (size_t i = 0; i < q->nanswers; i++)
            full |= q->answers[i].weight == 100;
        if (!full) {
            ctx_error(c, c->open, "no answer gives full credit (mark one with = or ~%100%)");
            return -1;
        }
    } else {
        double sum = 0;
        for (size_t i = 0; i < q->nanswers; i++)
            if (q->answers[i].weight > 0)
                sum += q->answers[i].weight;
        if (fabs(sum - 100) > 0.05) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "the positive weights of a multiple-answer question add up to %g%%, not 100%%",
                     sum);
            ctx_error(c, c->open, msg);
            return -1;
        }
    }
    return 0;
}

static int parse_match(struct gift_ctx *c, struct gift_question *q, struct span ans)
{
    struct span *pieces;
    size_t n = split_pieces(ans, "=", &pieces);
    size_t left = 0;
    int rc = too_many(c, n) ? -1 : 0;

    q->type = GIFT_MATCH;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct span s = span_trim(pieces[i]);
        const char *at = s.p;
        if (s.p[0] == '=')
            s = span_from(s, 1);
        long arrow = span_str(s, "->", false);
        if (arrow < 0) {
            ctx_error(c, at, "a matching pair is written =question -> answer");
            rc = -1;
            break;
        }
        struct gift_answer *a = add_answer(q);
        a->text = text_with_format(span_to(s, (size_t)arrow), NULL);
        a->match = span_text(span_from(s, (size_t)arrow + 2));
        a->feedback = xstrdup("");
        a->weight = 100;
        if (a->match[0] == '\0') {
            ctx_error(c, at, "the answer side of a matching pair is empty");
            rc = -1;
            break;
        }
        if (a->text[0])
            left++;
    }
    free(pieces);
    if (rc)
        return -1;
    if (left < 2) {
        ctx_error(c, c->open, "a matching question needs at least 2 pairs");
        return -1;
    }
    size_t choices = gift_nchoices(q);
    if (choices > GIFT_MAX_CHOICES) {
        ctx_error(c, c->open, "a matching question has at most 26 different answers");
        return -1;
    }
    if (choices < 3)
        diag_add(c->diags, DIAG_WARNING, c->path, ctx_line(c, c->open),
                 "Moodle's editor asks for at least 3 answers in a matching question");
    return 0;
}

static int parse_truefalse(struct gift_ctx *c, struct gift_question *q, struct span ans)
{
    long h1 = span_chr(ans, '#');
    struct span word = h1 < 0 ? ans : span_to(ans, (size_t)h1);
    char *w = span_text(word);

    q->type = GIFT_TRUEFALSE;
    q->truth = strcmp(w, "T") == 0 || strcmp(w, "TRUE") == 0;
    free(w);
    if (h1 < 0) {
        q->fb_wrong = xstrdup("");
        q->fb_right = xstrdup("");
        return 0;
    }
    struct span rest = span_from(ans, (size_t)h1 + 1);
    long h2 = span_chr(rest, '#');
    if (h2 < 0) {
        q->fb_wrong = text_with_format(rest, NULL);
        q->fb_right = xstrdup("");
    } else {
        q->fb_wrong = text_with_format(span_to(rest, (size_t)h2), NULL);
        q->fb_right = text_with_format(span_from(rest, (size_t)h2 + 1), NULL);
    }
    return 0;
}

/* One "=answer" piece of a short-answer or numerical question: a new
 * answer of q with the piece's "%weight%" (100 when none), its text in *s
 * without the "=" and the weight, where it starts (for a message) in *at.
 * NULL after a bad weight. */
static struct gift_answer *answer_piece(struct gift_ctx *c, struct gift_question *q,
                                        struct span piece, struct span *s, const char **at)
{
    double w = 100;

    *s = span_trim(piece);
    *at = s->p;
    if (s->p[0] == '=')
        *s = span_trim(span_from(*s, 1));
    if (weight_prefix(c, s, &w) < 0)
        return NULL;
    struct gift_answer *a = add_answer(q);
    a->weight = w;
    return a;
}

static int parse_short(struct gift_ctx *c, struct gift_question *q, struct span ans)
{
    struct span *pieces;
    size_t n = split_pieces(ans, "=", &pieces);
    int rc = too_many(c, n) ? -1 : 0;
    bool full = false;

    q->type = GIFT_SHORT;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct span s;
        const char *at;
        struct gift_answer *a = answer_piece(c, q, pieces[i], &s, &at);
        if (a == NULL) {
            rc = -1;
            break;
        }
        comment_split(s, &a->text, &a->feedback);
        full |= a->weight == 100;
        if (a->text[0] == '\0') {
            ctx_error(c, at, "an answer of a short-answer question is empty");
            rc = -1;
            break;
        }
    }
    free(pieces);
    if (rc)
        return -1;
    if (!full) {
        ctx_error(c, c->open, "no answer of the short-answer question gives full credit");
        return -1;
    }
    return 0;
}

static int parse_numerical(struct gift_ctx *c, struct gift_question *q, struct span ans)
{
    ans = span_from(ans, 1); /* the # */
    long tilde = span_chr(ans, '~');
    struct span *pieces;
    int rc = 0;
    bool full = false;

    q->type = GIFT_NUMERICAL;
    if (tilde >= 0) {
        char *unused;
        comment_split(span_from(ans, (size_t)tilde + 1), &unused, &q->fb_wrong);
        free(unused);
        ans = span_to(ans, (size_t)tilde);
    } else {
        q->fb_wrong = xstrdup("");
    }
    size_t n = split_pieces(ans, "=", &pieces);
    if (too_many(c, n))
        rc = -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct span s;
        const char *at;
        struct gift_answer *a = answer_piece(c, q, pieces[i], &s, &at);
        if (a == NULL) {
            rc = -1;
            break;
        }
        char *num;
        comment_split(s, &num, &a->feedback);
        struct span ns = { num, strlen(num) };
        long dots = span_str(ns, "..", false), colon = span_chr(ns, ':');
        double lo = 0, hi = 0;
        bool ok;
        if (dots > 0) {
            ok = span_number(span_to(ns, (size_t)dots), &lo) &&
                 span_number(span_from(ns, (size_t)dots + 2), &hi) && lo <= hi;
            a->value = (lo + hi) / 2;
            a->tol = hi - a->value;
        } else if (colon > 0) {
            ok = span_number(span_to(ns, (size_t)colon), &a->value) &&
                 span_number(span_from(ns, (size_t)colon + 1), &a->tol) && a->tol >= 0;
        } else {
            ok = span_number(ns, &a->value);
            a->tol = 0;
        }
        free(num);
        if (!ok) {
            ctx_error(c, at, "a numerical answer is written N, N:tolerance or min..max "
                             "(numbers, tolerance not negative, min not above max)");
            rc = -1;
            break;
        }
        full |= a->weight == 100;
    }
    free(pieces);
    if (rc)
        return -1;
    if (q->nanswers == 0) {
        ctx_error(c, c->open, "a numerical question needs at least one answer after {#");
        return -1;
    }
    if (!full) {
        ctx_error(c, c->open, "no answer of the numerical question gives full credit");
        return -1;
    }
    return 0;
}

/* Parses one question held in c->buf (escapes already replaced). Returns 1
 * for a question (filled in q), 2 for a $CATEGORY line (the name in
 * *category), 0 for nothing (only comments), -1 for an error (reported). */
static int parse_question(struct gift_ctx *c, struct gift_question *q, char **category)
{
    struct span t = span_trim((struct span){ c->buf, strlen(c->buf) });
    memset(q, 0, sizeof(*q));
    if (t.n == 0)
        return 0;
    q->line = ctx_line(c, t.p);
    if (span_starts(t, "$CATEGORY:")) {
        *category = span_text(span_from(t, 10));
        return 2;
    }
    if (span_starts(t, "::")) {
        long end = span_str(span_from(t, 2), "::", false);
        if (end < 0) {
            ctx_error(c, t.p, "the question name opened with :: is not closed with ::");
            return -1;
        }
        q->name = span_text((struct span){ t.p + 2, (size_t)end });
        t = span_trim(span_from(t, (size_t)end + 4));
    }

    long open = span_chr(t, '{'), close = span_chr(t, '}');
    struct span ans = { t.p, 0 };
    bool description = open < 0 && close < 0;
    if (!description) {
        if (open < 0 || close < 0 || close < open) {
            ctx_error(c, open < 0 ? t.p + close : t.p + open,
                      "unbalanced { } (write \\{ and \\} for literal braces)");
            return -1;
        }
        struct span after = span_from(t, (size_t)close + 1);
        long again = span_chr(after, '{'), again2 = span_chr(after, '}');
        if (again >= 0 || again2 >= 0) {
            ctx_error(c, after.p + (again >= 0 ? again : again2),
                      "a question has one answer block (write \\{ and \\} for literal braces)");
            return -1;
        }
        ans = span_trim((struct span){ t.p + open + 1, (size_t)(close - open - 1) });
        c->open = t.p + open;
    }

    /* The question text, with _____ where a missing word goes. */
    struct sbuf text = {0};
    if (description) {
        sbuf_add(&text, t.p, t.n);
    } else {
        sbuf_add(&text, t.p, (size_t)open);
        if ((size_t)close + 1 < t.n) {
            sbuf_adds(&text, GIFT_BLANK);
            sbuf_add(&text, t.p + close + 1, t.n - (size_t)close - 1);
        }
    }
    q->format = GIFT_FMT_MOODLE;
    q->text = text_with_format((struct span){ text.data ? text.data : "", text.len }, &q->format);
    sbuf_free(&text);

    long gf = span_str(ans, "####", true);
    if (gf >= 0) {
        q->general_feedback = text_with_format(span_from(ans, (size_t)gf + 4), NULL);
        ans = span_trim(span_to(ans, (size_t)gf));
    } else {
        q->general_feedback = xstrdup("");
    }

    if (description) {
        q->type = GIFT_DESCRIPTION;
        if (q->text[0] == '\0' && q->name == NULL) {
            diag_add(c->diags, DIAG_WARNING, c->path, q->line, "empty question ignored");
            gift_question_free(q);
            return 0;
        }
        return 1;
    }
    int rc;
    if (ans.n == 0) {
        q->type = GIFT_ESSAY;
        rc = 0;
    } else if (ans.p[0] == '#') {
        rc = parse_numerical(c, q, ans);
    } else if (span_chr(ans, '~') >= 0) {
        rc = parse_choice(c, q, ans);
    } else if (span_chr(ans, '=') >= 0 && span_str(ans, "->", false) >= 0) {
        rc = parse_match(c, q, ans);
    } else {
        long h = span_chr(ans, '#');
        char *w = span_text(h > 0 ? span_to(ans, (size_t)h) : ans);
        bool tf = strcmp(w, "T") == 0 || strcmp(w, "TRUE") == 0 ||
                  strcmp(w, "F") == 0 || strcmp(w, "FALSE") == 0;
        free(w);
        rc = tf ? parse_truefalse(c, q, ans) : parse_short(c, q, ans);
    }
    return rc < 0 ? -1 : 1;
}

/* Replaces GIFT escapes in line (n bytes) and appends it to b. */
static void add_unescaped(struct sbuf *b, const char *line, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\\' && i + 1 < n) {
            const char *specials = ":#={}~n";
            const char *k = strchr(specials, line[i + 1]);
            if (line[i + 1] == '\\') {
                sbuf_addc(b, '\\');
                i++;
                continue;
            }
            if (k && *k) {
                sbuf_addc(b, (char)(PH_COLON + (k - specials)));
                i++;
                continue;
            }
        }
        sbuf_addc(b, line[i]);
    }
}

static bool line_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(s[i]))
            return false;
    return true;
}

static bool line_comment(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i + 1 < n && s[i] == '/' && s[i + 1] == '/';
}

/* Parses the question accumulated in b (starting at file line base) and
 * appends it to quiz. */
static void flush_question(struct sbuf *b, int base, const char *path, struct diag_list *diags,
                           struct gift_quiz *quiz, char **category, int *errors)
{
    if (b->len == 0)
        return;
    struct gift_ctx c = { b->data, base, path, diags, 0, b->data };
    struct gift_question q;
    char *cat = NULL;
    int rc = parse_question(&c, &q, &cat);
    if (rc == 2) {
        free(*category);
        *category = cat;
    } else if (rc == 1) {
        q.category = *category ? xstrdup(*category) : NULL;
        quiz->q = xrealloc(quiz->q, (quiz->n + 1) * sizeof(*quiz->q));
        quiz->q[quiz->n++] = q;
    } else if (rc < 0) {
        gift_question_free(&q);
    }
    *errors += c.errors;
    b->len = 0;
    b->data[0] = '\0';
}

int gift_parse(const char *src, size_t len, int first_line, const char *path,
               struct diag_list *diags, struct gift_quiz *quiz)
{
    struct sbuf b = {0}, clean = {0};
    char *category = NULL;
    int errors = 0, line = first_line, base = first_line;
    size_t pos = 0;

    while (pos < len) {
        const char *s = src + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        bool bad = !utf8_valid(s, n);
        for (size_t i = 0; i < n && !bad; i++)
            bad = (unsigned char)s[i] < 8;
        if (bad) {
            diag_add(diags, DIAG_ERROR, path, line,
                     "invalid UTF-8 or control character in GIFT text");
            errors++;
            n = 0;
        }
        /* Carriage returns carry no meaning anywhere in a line. */
        clean.len = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] != '\r')
                sbuf_addc(&clean, s[i]);
        sbuf_adds(&clean, "");
        if (line_blank(clean.data, clean.len)) {
            flush_question(&b, base, path, diags, quiz, &category, &errors);
        } else {
            if (b.len == 0)
                base = line;
            else
                sbuf_addc(&b, '\n');
            if (!line_comment(clean.data, clean.len))
                add_unescaped(&b, clean.data, clean.len);
        }
        line++;
    }
    flush_question(&b, base, path, diags, quiz, &category, &errors);
    sbuf_free(&b);
    sbuf_free(&clean);
    free(category);
    return errors ? -1 : 0;
}

void gift_question_free(struct gift_question *q)
{
    for (size_t i = 0; i < q->nanswers; i++) {
        free(q->answers[i].text);
        free(q->answers[i].match);
        free(q->answers[i].feedback);
    }
    free(q->answers);
    free(q->category);
    free(q->name);
    free(q->text);
    free(q->general_feedback);
    free(q->fb_wrong);
    free(q->fb_right);
    memset(q, 0, sizeof(*q));
}

void gift_quiz_free(struct gift_quiz *quiz)
{
    for (size_t i = 0; i < quiz->n; i++)
        gift_question_free(&quiz->q[i]);
    free(quiz->q);
    quiz->q = NULL;
    quiz->n = 0;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void gift_question_copy(struct gift_question *dst, const struct gift_question *src)
{
    *dst = *src;
    dst->category = dup_or_null(src->category);
    dst->name = dup_or_null(src->name);
    dst->text = dup_or_null(src->text);
    dst->general_feedback = dup_or_null(src->general_feedback);
    dst->fb_wrong = dup_or_null(src->fb_wrong);
    dst->fb_right = dup_or_null(src->fb_right);
    dst->answers = src->nanswers ? xmalloc(src->nanswers * sizeof(*dst->answers)) : NULL;
    for (size_t i = 0; i < src->nanswers; i++) {
        dst->answers[i] = src->answers[i];
        dst->answers[i].text = dup_or_null(src->answers[i].text);
        dst->answers[i].match = dup_or_null(src->answers[i].match);
        dst->answers[i].feedback = dup_or_null(src->answers[i].feedback);
    }
}

const char *gift_type_name(enum gift_type t)
{
    switch (t) {
    case GIFT_DESCRIPTION: return "description";
    case GIFT_ESSAY: return "essay";
    case GIFT_CHOICE: return "multiple choice";
    case GIFT_MULTI: return "multiple answers";
    case GIFT_TRUEFALSE: return "true/false";
    case GIFT_SHORT: return "short answer";
    case GIFT_NUMERICAL: return "numerical";
    case GIFT_MATCH: return "matching";
    }
    return "unknown";
}
