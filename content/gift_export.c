/* gift_export.c: writing questions back as GIFT that reads back the same. */
#include "gift.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIFT_BLANK "_____"

static bool starts_with_format_tag(const char *s)
{
    static const char *const tags[] = { "[moodle]", "[html]", "[plain]", "[markdown]" };
    for (size_t i = 0; i < 4; i++)
        if (strncmp(s, tags[i], strlen(tags[i])) == 0)
            return true;
    return false;
}

/* Appends n bytes of s with GIFT's control characters escaped (Moodle's
 * repchar): \ # = ~ { } : and newlines. */
static void add_escaped_n(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\\': case '#': case '=': case '~': case '{': case '}': case ':':
            sbuf_addc(b, '\\');
            sbuf_addc(b, s[i]);
            break;
        case '\n':
            sbuf_adds(b, "\\n");
            break;
        case '\r':
            break;
        default:
            sbuf_addc(b, s[i]);
        }
    }
}

/* Appends a text that gift_parse would read back unchanged: a leading
 * format-like tag, "//" or "%" is protected by an explicit [moodle] tag
 * (which the parser removes). */
static void add_text(struct sbuf *b, const char *s)
{
    if (starts_with_format_tag(s) || strncmp(s, "//", 2) == 0 || s[0] == '%')
        sbuf_adds(b, "[moodle]");
    add_escaped_n(b, s, strlen(s));
}


static void add_weight(struct sbuf *b, double w)
{
    sbuf_addc(b, '%');
    sbuf_add_double(b, w);
    sbuf_addc(b, '%');
}

static void add_feedback(struct sbuf *b, const char *fb)
{
    if (fb && fb[0]) {
        sbuf_addc(b, '#');
        add_text(b, fb);
    }
}

static void add_answers(struct sbuf *b, const struct gift_question *q)
{
    switch (q->type) {
    case GIFT_DESCRIPTION:
    case GIFT_ESSAY:
        break;
    case GIFT_TRUEFALSE:
        sbuf_adds(b, q->truth ? "TRUE" : "FALSE");
        if (q->fb_wrong[0] || q->fb_right[0]) {
            sbuf_addc(b, '#');
            add_text(b, q->fb_wrong);
        }
        if (q->fb_right[0]) {
            sbuf_addc(b, '#');
            add_text(b, q->fb_right);
        }
        break;
    case GIFT_CHOICE:
    case GIFT_MULTI:
        for (size_t i = 0; i < q->nanswers; i++) {
            const struct gift_answer *a = &q->answers[i];
            sbuf_adds(b, "\n\t");
            if (q->type == GIFT_CHOICE && a->weight == 100) {
                sbuf_addc(b, '=');
            } else {
                sbuf_addc(b, '~');
                if (a->weight != 0 || a->text[0] == '%')
                    add_weight(b, a->weight);
            }
            add_text(b, a->text);
            add_feedback(b, a->feedback);
        }
        sbuf_addc(b, '\n');
        break;
    case GIFT_SHORT:
        for (size_t i = 0; i < q->nanswers; i++) {
            const struct gift_answer *a = &q->answers[i];
            sbuf_adds(b, "\n\t=");
            if (a->weight != 100 || a->text[0] == '%')
                add_weight(b, a->weight);
            add_text(b, a->text);
            add_feedback(b, a->feedback);
        }
        sbuf_addc(b, '\n');
        break;
    case GIFT_NUMERICAL:
        sbuf_addc(b, '#');
        for (size_t i = 0; i < q->nanswers; i++) {
            const struct gift_answer *a = &q->answers[i];
            sbuf_adds(b, "\n\t=");
            if (a->weight != 100)
                add_weight(b, a->weight);
            sbuf_add_double(b, a->value);
            sbuf_addc(b, ':');
            sbuf_add_double(b, a->tol);
            add_feedback(b, a->feedback);
        }
        if (q->fb_wrong && q->fb_wrong[0]) {
            sbuf_adds(b, "\n\t~#");
            add_text(b, q->fb_wrong);
        }
        sbuf_addc(b, '\n');
        break;
    case GIFT_MATCH:
        for (size_t i = 0; i < q->nanswers; i++) {
            sbuf_adds(b, "\n\t=");
            add_text(b, q->answers[i].text);
            sbuf_adds(b, " -> ");
            add_escaped_n(b, q->answers[i].match, strlen(q->answers[i].match));
        }
        sbuf_addc(b, '\n');
        break;
    }
    if (q->general_feedback && q->general_feedback[0]) {
        sbuf_adds(b, "####");
        add_text(b, q->general_feedback);
        sbuf_addc(b, '\n');
    }
}

static void add_question(struct sbuf *b, const struct gift_question *q)
{
    static const char *const fmts[] = { "", "[html]", "[plain]", "[markdown]" };
    if (q->name) {
        sbuf_adds(b, "::");
        add_escaped_n(b, q->name, strlen(q->name));
        sbuf_adds(b, "::");
    }
    sbuf_adds(b, fmts[q->format]);
    if (q->type == GIFT_DESCRIPTION) {
        add_text(b, q->text);
        sbuf_addc(b, '\n');
        return;
    }
    /* The answer block goes where the blank was; at the end otherwise. */
    const char *blank = strstr(q->text, GIFT_BLANK);
    size_t before = blank && blank[strlen(GIFT_BLANK)] ? (size_t)(blank - q->text) : strlen(q->text);
    if (q->format == GIFT_FMT_MOODLE && (starts_with_format_tag(q->text) ||
                                         strncmp(q->text, "//", 2) == 0))
        sbuf_adds(b, "[moodle]");
    add_escaped_n(b, q->text, before);
    if (before && before == strlen(q->text))
        sbuf_addc(b, ' ');
    sbuf_addc(b, '{');
    add_answers(b, q);
    sbuf_addc(b, '}');
    if (before < strlen(q->text)) {
        const char *after = q->text + before + strlen(GIFT_BLANK);
        add_escaped_n(b, after, strlen(after));
    }
    sbuf_addc(b, '\n');
}

char *gift_export(const struct gift_quiz *quiz)
{
    struct sbuf b = {0};
    const char *category = NULL;
    sbuf_adds(&b, "");
    for (size_t i = 0; i < quiz->n; i++) {
        const struct gift_question *q = &quiz->q[i];
        if (q->category && (category == NULL || strcmp(category, q->category) != 0)) {
            sbuf_adds(&b, "$CATEGORY: ");
            add_escaped_n(&b, q->category, strlen(q->category));
            sbuf_adds(&b, "\n\n");
        }
        category = q->category;
        add_question(&b, q);
        sbuf_addc(&b, '\n');
    }
    return sbuf_take(&b);
}
