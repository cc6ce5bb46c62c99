/* attempt-view.c: a learner's stored attempt as they may see it: each
 * task's score (and points), provisional suggestions, the machine's
 * feedback where the exercise's show policy allows it, and the trainer's
 * comment and rubric levels, always. Keys are never stored with an
 * attempt, so they are never here. */
#include "campusd.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "exercise.h"

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Appends text with every line after the first indented by indent. */
static void add_indented(struct sbuf *b, const char *s, const char *indent)
{
    for (; *s; s++) {
        sbuf_addc(b, *s);
        if (*s == '\n')
            sbuf_adds(b, indent);
    }
}

/* What the learner sees of the attempt now, under the exercise's policy. */
static enum exercise_show shown(const struct exercise *ex, json_t *rec)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return exercise_shown(ex, json_is_true(json_object_get(rec, "passed")),
                          (long)json_integer_value(json_object_get(rec, "n")),
                          (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

char *attempt_view_text(const struct exercise *ex, json_t *rec)
{
    enum exercise_show show = shown(ex, rec);
    struct sbuf b = {0};
    long long pending = json_integer_value(json_object_get(rec, "pending"));
    size_t i;
    json_t *t;

    sbuf_printf(&b, "attempt %lld: score %.1f %s (pass mark %g)\n",
                (long long)json_integer_value(json_object_get(rec, "n")),
                json_real_value(json_object_get(rec, "score")),
                pending ? "pending review" : json_is_true(json_object_get(rec, "passed")) ? "passed"
                                                                                          : "not passed",
                json_number_value(json_object_get(rec, "pass")));
    json_array_foreach(json_object_get(rec, "tasks"), i, t) {
        double max = json_real_value(json_object_get(t, "max"));
        double score = json_real_value(json_object_get(t, "score"));
        if (json_is_true(json_object_get(t, "provisional")))
            sbuf_printf(&b, "%s provisional %.1f (a trainer confirms it)\n", str(t, "id"),
                        json_real_value(json_object_get(t, "suggested")));
        else if (json_is_true(json_object_get(t, "pending")))
            sbuf_printf(&b, "%s pending review\n", str(t, "id"));
        else if (json_object_get(t, "reviewer") && max > 0)
            sbuf_printf(&b, "%s %.1f (%g of %g points, reviewed%s)\n", str(t, "id"), score,
                        json_real_value(json_object_get(t, "points")), max,
                        json_is_true(json_object_get(t, "confirmed")) ? ", confirmed" : "");
        else
            sbuf_printf(&b, "%s %.1f\n", str(t, "id"), score);
        if (show >= EXERCISE_SHOW_FEEDBACK && str(t, "feedback")[0]) {
            sbuf_adds(&b, "  ");
            add_indented(&b, str(t, "feedback"), "  ");
            sbuf_addc(&b, '\n');
        }
        size_t k;
        json_t *lv;
        json_array_foreach(json_object_get(t, "levels"), k, lv) {
            sbuf_printf(&b, "  %s: %g of %g, %s", str(lv, "name"),
                        json_real_value(json_object_get(lv, "points")),
                        json_real_value(json_object_get(lv, "max")), str(lv, "level"));
            if (str(lv, "comment")[0]) {
                sbuf_adds(&b, " (");
                add_indented(&b, str(lv, "comment"), "  ");
                sbuf_adds(&b, ")");
            }
            sbuf_addc(&b, '\n');
        }
        if (str(t, "comment")[0]) {
            sbuf_adds(&b, "  trainer: ");
            add_indented(&b, str(t, "comment"), "  ");
            sbuf_addc(&b, '\n');
        }
    }
    return sbuf_take(&b);
}

char *attempt_view_json(const struct exercise *ex, json_t *rec)
{
    enum exercise_show show = shown(ex, rec);
    json_t *out = json_pack("{s:I,s:I,s:f,s:f,s:b,s:I,s:s}", "attempt",
                            json_integer_value(json_object_get(rec, "n")), "t",
                            json_integer_value(json_object_get(rec, "t")), "score",
                            round(json_real_value(json_object_get(rec, "score")) * 100) / 100, "pass",
                            json_number_value(json_object_get(rec, "pass")), "passed",
                            json_is_true(json_object_get(rec, "passed")), "pending",
                            json_integer_value(json_object_get(rec, "pending")), "show",
                            exercise_show_name(show));
    json_t *tasks = json_array();
    size_t i;
    json_t *t;

    json_array_foreach(json_object_get(rec, "tasks"), i, t) {
        json_t *o = json_object();
        /* Only what the learner may see: never the answer's hash, the
         * reviewer's name or anything a later version stores. */
        static const char *const keep[] = { "id", "score", "pending", "provisional", "suggested",
                                            "points", "max", "comment", "levels", "confirmed", NULL };
        for (size_t k = 0; keep[k]; k++) {
            json_t *v = json_object_get(t, keep[k]);
            if (v)
                json_object_set(o, keep[k], v);
        }
        json_object_set_new(o, "reviewed", json_boolean(json_object_get(t, "reviewer") != NULL));
        if (show >= EXERCISE_SHOW_FEEDBACK)
            json_object_set(o, "feedback", json_object_get(t, "feedback"));
        json_array_append_new(tasks, o);
    }
    json_object_set_new(out, "tasks", tasks);
    char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(out);
    char *r = xstrdup(s ? s : "{}");
    free(s);
    return r;
}
