/* exercise_view.c: the learner view (text, JSON): never keys or feedback. */
#include "exercise.h"
#include "msg.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How to answer, in one line, for each kind of question or task. */
static const char *gift_howto(const struct gift_question *q)
{
    switch (q->type) {
    case GIFT_CHOICE: return "one letter";
    case GIFT_MULTI: return "letters separated by commas, e.g. a,c";
    case GIFT_TRUEFALSE: return "true or false";
    case GIFT_SHORT: return "a word or a few words";
    case GIFT_NUMERICAL: return "a number";
    case GIFT_MATCH: return "pairs such as 1=a 2=b";
    case GIFT_ESSAY: return "free text, graded by a trainer (more lines start with two spaces)";
    case GIFT_DESCRIPTION: return "";
    }
    return "";
}

static const char *task_howto(const struct task *t)
{
    switch (t->type) {
    case TASK_ORDER: return "the item numbers in the right order, e.g. 3 1 2";
    case TASK_CLASSIFY: return "each category key, =, and its item numbers, e.g. s=1,3 w=2";
    case TASK_NUMERIC: return "a number";
    case TASK_NETWORK:
        return t->net_question == TASK_NET_DEGREE || t->net_question == TASK_NET_DENSITY
                   ? "a number" : "actor names separated by commas (none if there are none)";
    case TASK_RUBRIC: return "free text (more lines start with two spaces)";
    case TASK_REVIEW: return "free text, graded by a trainer (more lines start with two spaces)";
    case TASK_GIFT:
    case TASK_POOL: return "";
    }
    return "";
}

/* One GIFT question as JSON: text, format, options in seeded order. */
static json_t *gift_json(const char *id, const struct gift_question *q, uint64_t seed,
                         bool shuffle, const char *lang)
{
    static const char *const fmts[] = { "moodle", "html", "plain", "markdown" };
    json_t *o = json_object();
    size_t order[26];
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "question", json_string(gift_type_name(q->type)));
    json_object_set_new(o, "text", json_string(q->text));
    json_object_set_new(o, "format", json_string(fmts[q->format]));
    if (q->name)
        json_object_set_new(o, "title", json_string(q->name));
    json_object_set_new(o, "answer", json_string(content_msg(lang, gift_howto(q))));
    size_t n = gift_nchoices(q);
    gift_choice_order(q, seed, shuffle, order);
    if (n) {
        json_t *opts = json_array();
        for (size_t p = 0; p < n; p++) {
            json_t *op = json_object();
            char key[2] = { (char)('a' + p), '\0' };
            json_object_set_new(op, "key", json_string(key));
            json_object_set_new(op, "text", json_string(gift_choice_text(q, order[p])));
            json_array_append_new(opts, op);
        }
        json_object_set_new(o, "options", opts);
    }
    if (q->type == GIFT_MATCH) {
        json_t *subs = json_array();
        for (size_t i = 0; i < q->nanswers; i++)
            if (q->answers[i].text[0])
                json_array_append_new(subs, json_string(q->answers[i].text));
        json_object_set_new(o, "subquestions", subs);
    }
    return o;
}

static void gift_text(struct sbuf *b, const char *id, const struct gift_question *q,
                      uint64_t seed, bool shuffle, const char *lang)
{
    size_t order[26], n = gift_nchoices(q);
    if (q->type == GIFT_DESCRIPTION) {
        sbuf_printf(b, "%s\n\n", q->text);
        return;
    }
    sbuf_printf(b, "[%s]", id);
    if (q->name)
        sbuf_printf(b, " %s:", q->name);
    sbuf_printf(b, " %s\n", q->text);
    gift_choice_order(q, seed, shuffle, order);
    if (q->type == GIFT_MATCH) {
        size_t k = 0;
        for (size_t i = 0; i < q->nanswers; i++)
            if (q->answers[i].text[0])
                sbuf_printf(b, "  %zu. %s\n", ++k, q->answers[i].text);
    }
    for (size_t p = 0; p < n; p++)
        sbuf_printf(b, "  %c) %s\n", (char)('a' + p), gift_choice_text(q, order[p]));
    sbuf_printf(b, content_msg(lang, "  answer: %s\n\n"), content_msg(lang, gift_howto(q)));
}

char *exercise_view_text(const struct exercise *ex, uint64_t seed)
{
    return exercise_view_text_lang(ex, seed, NULL);
}

char *exercise_view_text_lang(const struct exercise *ex, uint64_t seed, const char *lang)
{
    struct sbuf b = {0};
    sbuf_printf(&b, "%s\n", ex->title);
    if (ex->attempts)
        sbuf_printf(&b, content_msg(lang, "attempts: %d, "), ex->attempts);
    sbuf_printf(&b, content_msg(lang, "pass mark: %g\n\n"), ex->pass);
    sbuf_adds(&b, content_msg(lang, "Answer with one line per task: id: answer\n\n"));
    for (size_t i = 0; i < ex->ntasks; i++) {
        const struct task *t = ex->tasks[i];
        if (t->type == TASK_GIFT) {
            gift_text(&b, t->id, &t->quiz.q[0], task_seed(t, seed), ex->shuffle, lang);
            continue;
        }
        if (t->type == TASK_POOL) {
            size_t *drawn = xcalloc(t->draw + 1, sizeof(size_t));
            task_pool_draw(t, seed, drawn);
            for (size_t k = 0; k < t->draw; k++) {
                char *label = xasprintf("%s.%zu", t->id, k + 1);
                gift_text(&b, label, &t->quiz.q[drawn[k]], task_pool_seed(t, seed, k), ex->shuffle,
                          lang);
                free(label);
            }
            free(drawn);
            continue;
        }
        sbuf_printf(&b, "[%s] %s\n", t->id, t->prompt);
        if (t->type == TASK_CLASSIFY)
            for (size_t c = 0; c < t->ncats; c++)
                sbuf_printf(&b, "  %s = %s\n", t->cats[c].key, t->cats[c].name);
        if (t->nitems) {
            size_t *perm = xmalloc(t->nitems * sizeof(size_t));
            task_item_order(t, seed, ex->shuffle, perm);
            for (size_t k = 0; k < t->nitems; k++)
                sbuf_printf(&b, "  %zu. %s\n", k + 1, t->items[perm[k]].text);
            free(perm);
        }
        if (t->unit && t->unit[0])
            sbuf_printf(&b, content_msg(lang, "  unit: %s\n"), t->unit);
        if (t->type == TASK_REVIEW || t->type == TASK_RUBRIC)
            sbuf_printf(&b, content_msg(lang, "  points: %g\n"), t->type == TASK_REVIEW ? t->points : t->rubric.cap);
        sbuf_printf(&b, content_msg(lang, "  answer: %s\n\n"), content_msg(lang, task_howto(t)));
    }
    return sbuf_take(&b);
}

char *exercise_view_json(const struct exercise *ex, uint64_t seed)
{
    return exercise_view_json_lang(ex, seed, NULL);
}

char *exercise_view_json_lang(const struct exercise *ex, uint64_t seed, const char *lang)
{
    json_t *root = json_object(), *tasks = json_array();
    json_object_set_new(root, "course", json_string(ex->course_id));
    json_object_set_new(root, "id", json_string(ex->id));
    json_object_set_new(root, "title", json_string(ex->title));
    json_object_set_new(root, "attempts", json_integer(ex->attempts));
    json_object_set_new(root, "pass", json_real(ex->pass));
    json_object_set_new(root, "policy", json_string(exercise_policy_name(ex->policy)));
    for (size_t i = 0; i < ex->ntasks; i++) {
        const struct task *t = ex->tasks[i];
        json_t *o;
        if (t->type == TASK_GIFT) {
            o = gift_json(t->id, &t->quiz.q[0], task_seed(t, seed), ex->shuffle, lang);
            json_object_set_new(o, "type", json_string(t->info ? "text" : "gift"));
            if (t->info) {
                json_object_del(o, "id");
                json_object_del(o, "answer");
            }
        } else {
            o = json_object();
            json_object_set_new(o, "id", json_string(t->id));
            json_object_set_new(o, "type", json_string(task_type_name(t->type)));
            json_object_set_new(o, "prompt", json_string(t->prompt));
            if (t->type != TASK_POOL)
                json_object_set_new(o, "answer", json_string(content_msg(lang, task_howto(t))));
        }
        if (!t->info)
            json_object_set_new(o, "weight", json_real(t->weight));
        if (t->type == TASK_CLASSIFY) {
            json_t *cats = json_array();
            for (size_t c = 0; c < t->ncats; c++) {
                json_t *co = json_object();
                json_object_set_new(co, "key", json_string(t->cats[c].key));
                json_object_set_new(co, "name", json_string(t->cats[c].name));
                json_array_append_new(cats, co);
            }
            json_object_set_new(o, "categories", cats);
        }
        if (t->nitems) {
            json_t *items = json_array();
            size_t *perm = xmalloc(t->nitems * sizeof(size_t));
            task_item_order(t, seed, ex->shuffle, perm);
            for (size_t k = 0; k < t->nitems; k++)
                json_array_append_new(items, json_string(t->items[perm[k]].text));
            free(perm);
            json_object_set_new(o, "items", items);
        }
        if (t->unit && t->unit[0])
            json_object_set_new(o, "unit", json_string(t->unit));
        if (t->type == TASK_REVIEW)
            json_object_set_new(o, "points", json_real(t->points));
        if (t->type == TASK_RUBRIC)
            json_object_set_new(o, "points", json_real(t->rubric.cap));
        if (t->type == TASK_POOL) {
            json_t *qs = json_array();
            size_t *drawn = xcalloc(t->draw + 1, sizeof(size_t));
            task_pool_draw(t, seed, drawn);
            for (size_t k = 0; k < t->draw; k++) {
                char *label = xasprintf("%s.%zu", t->id, k + 1);
                json_array_append_new(qs, gift_json(label, &t->quiz.q[drawn[k]],
                                                    task_pool_seed(t, seed, k), ex->shuffle,
                                                    lang));
                free(label);
            }
            free(drawn);
            json_object_set_new(o, "questions", qs);
        }
        json_array_append_new(tasks, o);
    }
    json_object_set_new(root, "tasks", tasks);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    char *out = xstrdup(s ? s : "{}");
    free(s);
    return out;
}
