/* live-poll.c: a live poll as one GIFT question (parsed and graded by the
 * content library's GIFT code, never a second parser), and the rendering
 * of live events as CTP/1 push lines and as Server-Sent Events. Pure: no
 * sockets, no Redis. */
#include "live.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "gift.h"
#include "msg.h"

static bool poll_kind_ok(enum gift_type t)
{
    return t == GIFT_CHOICE || t == GIFT_TRUEFALSE || t == GIFT_NUMERICAL || t == GIFT_SHORT;
}

static const char *kind_name(enum gift_type t)
{
    switch (t) {
    case GIFT_CHOICE: return "choice";
    case GIFT_TRUEFALSE: return "truefalse";
    case GIFT_NUMERICAL: return "numerical";
    default: return "short";
    }
}

int live_poll_parse(const char *text, size_t len, struct gift_question *q, char *err, size_t n)
{
    struct diag_list diags = { 0 };
    struct gift_quiz quiz = { 0 };

    int rc = gift_parse(text, len, 1, "poll", &diags, &quiz);
    if (rc < 0 || quiz.n != 1) {
        if (rc < 0 && diags.count > 0)
            snprintf(err, n, "poll: line %d: %s", diags.items[0].line, diags.items[0].msg);
        else
            snprintf(err, n, "a poll is exactly one GIFT question (this text holds %zu)", quiz.n);
        diag_list_clear(&diags);
        gift_quiz_free(&quiz);
        return -1;
    }
    diag_list_clear(&diags);
    if (!poll_kind_ok(quiz.q[0].type)) {
        snprintf(err, n, "a poll is multiple choice, true/false, numerical or short answer, not %s",
                 gift_type_name(quiz.q[0].type));
        gift_quiz_free(&quiz);
        return -1;
    }
    *q = quiz.q[0];              /* taken over: the quiz array alone is freed */
    free(quiz.q);
    return 0;
}

json_t *live_poll_view(const struct gift_question *q)
{
    json_t *opts = json_array();

    if (q->type == GIFT_CHOICE) {
        for (size_t i = 0; i < q->nanswers; i++)
            json_array_append_new(opts, json_string(q->answers[i].text));
    } else if (q->type == GIFT_TRUEFALSE) {
        json_array_append_new(opts, json_string("true"));
        json_array_append_new(opts, json_string("false"));
    }
    return json_pack("{s:s,s:s,s:o}", "kind", kind_name(q->type), "question", q->text, "options", opts);
}

int live_poll_grade(const struct gift_question *q, const char *answer, const char *lang,
                    char *bucket, size_t bn, bool *right, double *score, char *err, size_t n)
{
    size_t nc = gift_nchoices(q);
    size_t *order = xcalloc(nc ? nc : 1, sizeof(*order));
    struct gift_grade g = { 0 };

    gift_choice_order(q, 0, false, order);      /* file order: one tally for the room */
    while (*answer == ' ' || *answer == '\t')
        answer++;
    if (*answer == '\0') {
        free(order);
        snprintf(err, n, "%s", content_msg(lang, "an answer is needed"));
        return -1;
    }
    int rc = gift_grade_lang(q, order, answer, &g, lang, err, n);
    free(order);
    if (rc < 0)
        return -1;
    free(g.feedback);
    *score = g.score;
    *right = g.score >= 100.0;
    if (q->type == GIFT_CHOICE)
        snprintf(bucket, bn, "%c", tolower((unsigned char)answer[0]));
    else if (q->type == GIFT_TRUEFALSE)
        snprintf(bucket, bn, "%s", tolower((unsigned char)answer[0]) == 't' ? "true" : "false");
    else
        snprintf(bucket, bn, "%s", *right ? "right" : "wrong");
    return 0;
}

/* ---- rendering ---- */

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* A value on one line of a key-value body: tabs and line ends become spaces. */
static void add_cell(struct evbuffer *b, const char *s)
{
    for (; *s; s++)
        evbuffer_add(b, (*s == '\t' || *s == '\n' || *s == '\r') ? " " : s, 1);
}

/* "* LIVE WORD {N}\r\n" + body + "\r\n", as a response body is framed. */
static struct evbuffer *with_body(const char *word, struct evbuffer *body)
{
    struct evbuffer *out = evbuffer_new();
    evbuffer_add_printf(out, "* LIVE %s {%zu}\r\n", word, evbuffer_get_length(body));
    evbuffer_add_buffer(out, body);
    evbuffer_add(out, "\r\n", 2);
    evbuffer_free(body);
    return out;
}

struct evbuffer *live_render_ctp(json_t *ev)
{
    const char *type = jstr(ev, "type");
    json_t *d = json_object_get(ev, "data");
    struct evbuffer *b;

    if (strcmp(type, "goto") == 0) {
        b = evbuffer_new();
        const char *anchor = jstr(d, "anchor");
        evbuffer_add_printf(b, "* LIVE GOTO %s%s%s\r\n", jstr(d, "lesson"), anchor[0] ? " " : "", anchor);
        return b;
    }
    if (strcmp(type, "say") == 0) {
        b = evbuffer_new();
        const char *t = jstr(d, "text");
        evbuffer_add(b, t, strlen(t));
        return with_body("SAY", b);
    }
    if (strcmp(type, "poll") == 0) {
        b = evbuffer_new();
        evbuffer_add_printf(b, "id\t%lld\nkind\t%s\nquestion\t", (long long)json_integer_value(json_object_get(d, "id")),
                            jstr(d, "kind"));
        add_cell(b, jstr(d, "question"));
        evbuffer_add(b, "\n", 1);
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(d, "options"), i, o) {
            evbuffer_add_printf(b, "option\t%c\t", (int)('a' + (i < 26 ? i : 25)));
            add_cell(b, json_string_value(o) ? json_string_value(o) : "");
            evbuffer_add(b, "\n", 1);
        }
        return with_body("POLL", b);
    }
    if (strcmp(type, "tally") == 0) {
        b = evbuffer_new();
        evbuffer_add_printf(b, "poll\t%lld\nanswers\t%lld\nright\t%lld\nclosed\t%s\n",
                            (long long)json_integer_value(json_object_get(d, "poll")),
                            (long long)json_integer_value(json_object_get(d, "answers")),
                            (long long)json_integer_value(json_object_get(d, "right")),
                            json_is_true(json_object_get(d, "closed")) ? "yes" : "no");
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(d, "counts"), k, v) {
            evbuffer_add(b, "count\t", 6);
            add_cell(b, k);
            evbuffer_add_printf(b, "\t%lld\n", (long long)json_integer_value(v));
        }
        return with_body("TALLY", b);
    }
    b = evbuffer_new();
    if (strcmp(type, "room") == 0)
        evbuffer_add_printf(b, "* LIVE ROOM %lld\r\n", (long long)json_integer_value(json_object_get(d, "room")));
    else if (strcmp(type, "end") == 0)
        evbuffer_add_printf(b, "* LIVE END\r\n");
    else if (strcmp(type, "paused") == 0)
        evbuffer_add_printf(b, "* LIVE PAUSED\r\n");
    else if (strcmp(type, "resumed") == 0)
        evbuffer_add_printf(b, "* LIVE RESUMED\r\n");
    else if (strcmp(type, "resync") == 0)
        evbuffer_add_printf(b, "* LIVE RESYNC\r\n");
    else {
        evbuffer_free(b);
        return NULL;
    }
    return b;
}

struct evbuffer *live_render_sse(json_t *ev)
{
    struct evbuffer *b = evbuffer_new();
    json_t *d = json_object_get(ev, "data");
    char *data = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

    /* Compact JSON has no line ends (they are escaped in strings), so the
     * data is one "data:" line. */
    evbuffer_add_printf(b, "id: %lld\nevent: %s\ndata: %s\n\n",
                        (long long)json_integer_value(json_object_get(ev, "id")), jstr(ev, "type"),
                        data ? data : "{}");
    free(data);
    return b;
}
