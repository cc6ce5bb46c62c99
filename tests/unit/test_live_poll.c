/* test_live_poll.c: a live poll as one GIFT question (parse, the learner's
 * view, grading into tally buckets) and the rendering of live events as
 * push lines and Server-Sent Events. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gift.h"
#include "live.h"

static char *text_of(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    evbuffer_free(b);
    return s;
}

Test(live_poll, kinds_accepted_and_refused)
{
    struct gift_question q;
    char err[256];
    const char *ok[] = { "Pick {=a ~b ~c}", "True? {T}", "How many? {#12:1}", "Name it {=Kisumu}" };
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(live_poll_parse(ok[i], strlen(ok[i]), &q, err, sizeof(err)), 0, "%s: %s", ok[i], err);
        gift_question_free(&q);
    }
    const char *bad[] = { "Essay {}", "Match {=a -> 1 =b -> 2 =c -> 3}", "Two {T}\n\nThree {F}", "Just text",
                          "Broken {=a" };
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(live_poll_parse(bad[i], strlen(bad[i]), &q, err, sizeof(err)), -1, "%s", bad[i]);
}

Test(live_poll, view_holds_no_key_and_grades_bucket)
{
    struct gift_question q;
    char err[256], bucket[32];
    bool right;
    double score;
    const char *g = "Where is the market? {~Nakuru =Kisumu ~Eldoret}";

    cr_assert_eq(live_poll_parse(g, strlen(g), &q, err, sizeof(err)), 0);
    json_t *v = live_poll_view(&q);
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    cr_assert_str_eq(s, "{\"kind\":\"choice\",\"question\":\"Where is the market?\","
                        "\"options\":[\"Nakuru\",\"Kisumu\",\"Eldoret\"]}");
    free(s);
    json_decref(v);
    cr_assert_eq(live_poll_grade(&q, "B", NULL, bucket, sizeof(bucket), &right, &score, err, sizeof(err)), 0);
    cr_assert_str_eq(bucket, "b");
    cr_assert(right);
    cr_assert_eq(live_poll_grade(&q, " a", NULL, bucket, sizeof(bucket), &right, &score, err, sizeof(err)), 0);
    cr_assert_str_eq(bucket, "a");
    cr_assert(!right);
    cr_assert_eq(live_poll_grade(&q, "d", NULL, bucket, sizeof(bucket), &right, &score, err, sizeof(err)), -1);
    cr_assert_eq(live_poll_grade(&q, "d", "fr", bucket, sizeof(bucket), &right, &score, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "une lettre de a à c est attendue");
    cr_assert_eq(live_poll_grade(&q, "", NULL, bucket, sizeof(bucket), &right, &score, err, sizeof(err)), -1);
    gift_question_free(&q);

    g = "About 12? {#12:1}";
    cr_assert_eq(live_poll_parse(g, strlen(g), &q, err, sizeof(err)), 0);
    cr_assert_eq(live_poll_grade(&q, "12.5", NULL, bucket, sizeof(bucket), &right, &score, err, sizeof(err)), 0);
    cr_assert_str_eq(bucket, "right");
    cr_assert_eq(live_poll_grade(&q, "20", NULL, bucket, sizeof(bucket), &right, &score, err, sizeof(err)), 0);
    cr_assert_str_eq(bucket, "wrong");
    gift_question_free(&q);
}

Test(live_render, push_lines_and_sse)
{
    json_t *ev = json_loads("{\"id\":7,\"type\":\"say\",\"session\":\"3-1\",\"data\":{\"text\":\"two\\nlines\"}}",
                            0, NULL);
    char *s = text_of(live_render_ctp(ev));
    cr_assert_str_eq(s, "* LIVE SAY {9}\r\ntwo\nlines\r\n");
    free(s);
    s = text_of(live_render_sse(ev));
    cr_assert_str_eq(s, "id: 7\nevent: say\ndata: {\"text\":\"two\\nlines\"}\n\n");
    free(s);
    json_decref(ev);

    ev = json_loads("{\"id\":8,\"type\":\"goto\",\"data\":{\"lesson\":\"demo/lists\",\"anchor\":\"\"}}", 0, NULL);
    s = text_of(live_render_ctp(ev));
    cr_assert_str_eq(s, "* LIVE GOTO demo/lists\r\n");
    free(s);
    json_decref(ev);

    ev = json_loads("{\"id\":9,\"type\":\"poll\",\"data\":{\"id\":2,\"kind\":\"choice\",\"question\":\"Q\\tx\","
                    "\"options\":[\"A\",\"B\"]}}", 0, NULL);
    s = text_of(live_render_ctp(ev));
    cr_assert_str_eq(s, "* LIVE POLL {52}\r\nid\t2\nkind\tchoice\nquestion\tQ x\noption\ta\tA\noption\tb\tB\n\r\n");
    free(s);
    json_decref(ev);

    ev = json_loads("{\"id\":9,\"type\":\"tally\",\"trainer\":true,\"data\":{\"poll\":2,\"answers\":3,\"right\":1,"
                    "\"counts\":{\"a\":1,\"b\":2},\"closed\":false}}", 0, NULL);
    s = text_of(live_render_ctp(ev));
    cr_assert_str_eq(s, "* LIVE TALLY {55}\r\npoll\t2\nanswers\t3\nright\t1\nclosed\tno\ncount\ta\t1\ncount\tb\t2\n\r\n");
    free(s);
    json_decref(ev);

    ev = json_loads("{\"id\":1,\"type\":\"nonsense\",\"data\":{}}", 0, NULL);
    cr_assert_null(live_render_ctp(ev));
    json_decref(ev);
}
